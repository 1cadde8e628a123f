"""The five seed documents: row counts, rows checked field by field, and invariants over every row.

Expected values come from reading the files in ``corpus/`` (copies of /work/shared/seeds); the line
numbers in comments are the files' own, 1-based, as an editor shows them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.corpus import Corpus, Document, Row, load_corpus

EN_PAGE = "voiceping/security-page-en"
JA_PAGE = "voiceping/security-page-ja"
KO_PAGE = "voiceping/security-page-ko"
VP_SHEET = "voiceping/security-checksheet-ja"
WEVOX = "wevox/meti-checksheet"
ALL_KEYS = [EN_PAGE, JA_PAGE, KO_PAGE, VP_SHEET, WEVOX]

#: Row counts, counted from the files (see the test_*_counted_from_the_file tests below).
EXPECTED_ROWS = {EN_PAGE: 67, JA_PAGE: 56, KO_PAGE: 56, VP_SHEET: 66, WEVOX: 98}

MARKERS = ("VP対応:", "VP説明:")
REALIGNED = "realigned"


def file_lines(path: Path) -> list[str]:
    """The file's lines as an editor numbers them: split on "\\n", no empty line after a final newline."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


def lines_of(doc: Document) -> list[str]:
    return file_lines(doc.path)


def row_at(doc: Document, line: int) -> Row:
    """The one row that starts at ``line``."""
    found = [row for row in doc.rows if row.line_start == line]
    assert len(found) == 1, f"{doc.key}: expected one row at line {line}, found {len(found)}"
    return found[0]


def no_row_at(doc: Document, line: int) -> None:
    assert all(not (row.line_start <= line <= row.line_end) for row in doc.rows), f"line {line} is part of a row"


def check_row(doc: Document, line: int, number: int, **expected: object) -> Row:
    """Check a one-line row at ``line``: its id, position, exact source text, and the given fields."""
    row = row_at(doc, line)
    assert row.id == f"{doc.key}#{number}"
    assert row.number == number
    assert (row.line_start, row.line_end) == (line, line)
    assert row.source_text == lines_of(doc)[line - 1]
    assert row.document_id == doc.key
    for name, value in expected.items():
        assert getattr(row, name) == value, f"{row.id} {name}: {getattr(row, name)!r} != {value!r}"
    return row


def cells(doc: Document, line: int) -> list[str]:
    return [cell.strip() for cell in lines_of(doc)[line - 1].split("\t")]


# --- row counts, counted from the files -------------------------------------------------------------------


def test_en_page_rows_counted_from_the_file(seed_dir: Path) -> None:
    lines = file_lines(seed_dir / "voiceping/security-page.en.md")
    table = [ln for ln in lines if ln.startswith("|") and not ln.startswith("|---")]  # header is glued to line 2
    bullets = [ln for ln in lines if ln.startswith("- ")]
    assert (len(table), len(bullets)) == (7, 60)
    assert len(table) + len(bullets) == EXPECTED_ROWS[EN_PAGE]


@pytest.mark.parametrize(("name", "header"), [("ja", "種別評価項目内容対応状況"), ("ko", "종별평가 항목내용대응 상황")])
def test_ja_ko_page_rows_counted_from_the_file(seed_dir: Path, name: str, header: str) -> None:
    lines = file_lines(seed_dir / f"voiceping/security-page.{name}.txt")
    start = lines.index(header) + 1
    end = lines.index("", start)  # the glued table runs to the first blank line
    bullets = [ln for ln in lines if ln.startswith("  • ")]
    assert (end - start, len(bullets)) == (7, 49)
    assert (end - start) + len(bullets) == EXPECTED_ROWS[JA_PAGE] == EXPECTED_ROWS[KO_PAGE]


def test_voiceping_sheet_rows_counted_from_the_file(seed_dir: Path) -> None:
    lines = file_lines(seed_dir / "voiceping/security-checksheet.ja.tsv")
    # First sheet: header on line 3, table to the blank line 30; group lines fill only the first two cells.
    first = [ln for ln in lines[3:29] if any(c.strip() for c in ln.split("\t")[2:])]
    # Web-application tables: every line between a "No" header and the next blank line is a row.
    web, inside = 0, False
    for ln in lines:
        if ln.startswith("No\t"):
            inside = True
        elif inside and not ln.strip():
            inside = False
        elif inside:
            web += 1
    assert (len(first), web) == (21, 45)
    assert len(first) + web == EXPECTED_ROWS[VP_SHEET]


def test_wevox_rows_counted_from_the_file(seed_dir: Path) -> None:
    lines = file_lines(seed_dir / "wevox/meti-checksheet.ja-en.tsv")
    english_header = next(i for i, ln in enumerate(lines) if ln.startswith("No.\tMain Category"))
    numbered = [(i, ln.split("\t")[0]) for i, ln in enumerate(lines) if re.match(r"^\d+\t", ln)]
    ja = [no for i, no in numbered if i < english_header]
    en = [no for i, no in numbered if i > english_header]
    assert ja == en == [str(n) for n in range(1, 50)]
    assert len(ja) + len(en) == EXPECTED_ROWS[WEVOX]


@pytest.mark.parametrize("key", ALL_KEYS)
def test_row_count(seed_corpus: Corpus, key: str) -> None:
    assert len(seed_corpus.document(key).rows) == EXPECTED_ROWS[key]


def test_all_documents_load_and_total(seed_corpus: Corpus) -> None:
    assert seed_corpus.errors == {}
    assert [doc.key for doc in seed_corpus.documents] == ALL_KEYS
    assert len(seed_corpus.rows) == sum(EXPECTED_ROWS.values()) == 343


def test_rows_by_kind(seed_corpus: Corpus) -> None:
    def kinds(key: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in seed_corpus.document(key).rows:
            counts[row.kind] = counts.get(row.kind, 0) + 1
        return counts

    assert kinds(EN_PAGE) == {"table_row": 7, "bullet": 60}
    assert kinds(JA_PAGE) == kinds(KO_PAGE) == {"table_row": 7, "bullet": 49}
    assert kinds(VP_SHEET) == {"sheet_row": 66}
    assert kinds(WEVOX) == {"sheet_row": 98}
    first_sheet = [r for r in seed_corpus.document(VP_SHEET).rows if r.line_start < 30]
    assert len(first_sheet) == 21


def test_wevox_rows_per_language(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(WEVOX)
    ja = [r for r in doc.rows if r.language == "ja"]
    en = [r for r in doc.rows if r.language == "en"]
    assert (len(ja), len(en)) == (49, 49)
    assert [r.item_no for r in ja] == [r.item_no for r in en] == [str(n) for n in range(1, 50)]
    # The English sheet starts at its header on line 72.
    assert all(r.line_start < 72 for r in ja)
    assert all(r.line_start > 72 for r in en)
    report = next(r for r in seed_corpus.reports() if r.key == WEVOX)
    assert report.rows_by_language == {"ja": 49, "en": 49}


# --- VoicePing checksheet (tsv) ---------------------------------------------------------------------------


def test_vp_sheet_carried_category_and_item(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(VP_SHEET)
    # Line 21 names the item 稼働率; line 22 leaves both leading cells empty.  Rows above line 22:
    # lines 5-11 (7), 13-16 (4), 18-19 (2), 21 (1) -> it is row 15.
    check_row(
        doc,
        22,
        15,
        language="ja",
        kind="sheet_row",
        section=["可用性", "クラウド提供者"],
        item_no="",
        item="稼働率",
        question="SLAの基準が設けられている",
        answer="有",
        detail="詳細：現状99.9%以上で、ユーザーがサービスを利用できない(音声疎通できる状態でない)状態と定義",
        notes="",
        carried={"種別": "可用性", "評価項目": "稼働率"},
        parse_note="",
        sheet=None,
    )
    check_row(
        doc,
        21,
        14,
        item="稼働率",
        question="サービス利用時間※計画停止を除く",
        answer="/",
        detail="原則24時間365日で、毎週金曜日 21:00頃に数秒程度接続が切れる場合あり",
        carried={"種別": "可用性"},  # from the group line 20 "可用性 | クラウド提供者"
        section=["可用性", "クラウド提供者"],
    )


def test_vp_sheet_first_row(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(VP_SHEET)
    check_row(
        doc,
        5,
        1,
        language="ja",
        kind="sheet_row",
        section=["セキュリティ", "クラウド提供者"],
        item_no="",
        item="公的認証取得状況",
        question="JIPDECやJQA等で認定している情報処理管理に関する公的認証 (ISMS、Pマーク等) を取得",
        answer="無",
        detail="現状取得なしだが、1.5年以内にISMS所得予定(現在準備中)",
        notes="",
        parse_note="",
    )


def test_vp_sheet_group_lines_are_sections_not_rows(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(VP_SHEET)
    groups = {4: "セキュリティ", 17: "サポート体制", 20: "可用性", 27: "データ保護"}
    for line, category in groups.items():
        assert cells(doc, line)[:2] == [category, "クラウド提供者"]
        assert doc.line_kinds[(None, line)] == "section"
        no_row_at(doc, line)
        assert row_at(doc, line + 1).section == [category, "クラウド提供者"]
    # Line 12 fills only the second cell: a sub-group under the category above it.
    assert doc.line_kinds[(None, 12)] == "section"
    no_row_at(doc, 12)
    assert row_at(doc, 13).section == ["セキュリティ", "当社利用部門 (課)"]


def test_vp_sheet_well_formed_first_sheet_rows_read_cell_by_cell(seed_corpus: Corpus) -> None:
    """Lines 5-29 (except the ragged 25 and 26) have the header's cells: 種別, 評価項目, 内容, 回答, detail."""
    doc = seed_corpus.document(VP_SHEET)
    rows = [r for r in doc.rows if r.line_start < 30 and r.line_start not in (25, 26)]
    assert len(rows) == 19
    for row in rows:
        category, item, question, answer, detail = cells(doc, row.line_start)
        assert category == ""
        assert row.item == (item or row.carried["評価項目"])
        assert (row.question, row.answer, row.detail, row.notes) == (question, answer, detail, "")
        assert row.parse_note == ""


def test_vp_sheet_realigned_rows_in_first_sheet(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(VP_SHEET)
    # Line 25 lost its empty 評価項目 cell: its cells sit one column left of where they belong.
    assert cells(doc, 25) == ["", "過去3年間で重大障害の発生", "無", "ありません。", ""]
    row = check_row(
        doc,
        25,
        18,
        section=["可用性", "クラウド提供者"],
        item="稼働率",
        question="過去3年間で重大障害の発生",
        answer="無",
        detail="ありません。",
        notes="",
    )
    assert REALIGNED in row.parse_note
    # Line 26 lost its empty 種別 cell: 計画停止 is the item, then question, answer and detail.
    item, question, answer, detail, _ = cells(doc, 26)
    assert (item, question, answer) == ("計画停止", "事前通知の日程", "無")
    row = check_row(
        doc,
        26,
        19,
        section=["可用性", "クラウド提供者"],
        item=item,
        question=question,
        answer=answer,
        detail=detail,
    )
    assert detail.startswith("毎週金曜日 21:00頃をアップデート時間と定めており")
    assert REALIGNED in row.parse_note


def test_vp_sheet_answer_marker_split(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(VP_SHEET)
    row = check_row(
        doc,
        34,
        22,  # 21 rows in the first sheet, then line 34 opens the web-application tables
        section=["ウェブアプリケーションのセキュリティ実装 チェック項目"],  # line 31 without "■" and "(1/3)"
        item_no="1",
        item="SQLインジェクション",
        answer="※ ○対応済",
        question="○ SQL文の組み立ては全てプレースホルダで実装する。 ※対応不要の場合の理由()",
        detail="VP対応: バックエンドでミドルウェアのORMでDBの操作を実施。",
        notes="",
        carried={},
        parse_note="",
    )
    assert row.fields["対策の性質"] == "根本的解決"
    assert row.fields["実施項目"] == cells(doc, 34)[4]  # the cell as written, marker and all
    # The other marker, "VP説明:", splits the same way (line 83, clickjacking).
    check_row(
        doc,
        83,
        59,
        item_no="9",
        item="クリックジャッキング",
        answer="※ ○ 対応済み",
        question='<input type="radio"/> HTTPSレスポンスヘッダに、X-Frame-Optionsヘッダフィールドを出力し、'
        "他ドメインのサイトからのframe要素やiframe要素による読み込みを制限する。",
        detail="VP説明: Iframe等が将来的にVP機能として追加搭載される可能性はあり",
    )


def test_vp_sheet_marker_split_on_every_web_table_row(seed_corpus: Corpus) -> None:
    """The 実施項目 cell is the last filled cell of every web-table line; it splits at the first marker."""
    doc = seed_corpus.document(VP_SHEET)
    rows = [r for r in doc.rows if r.line_start > 30]
    assert len(rows) == 45
    for row in rows:
        cell = [c for c in cells(doc, row.line_start) if c][-1]
        hits = [cell.find(m) for m in MARKERS if m in cell]
        if hits:
            at = min(hits)
            assert (row.question, row.detail) == (cell[:at].strip(), cell[at:].strip()), row.id
        else:
            assert (row.question, row.detail) == (cell, ""), row.id


def test_vp_sheet_carry_within_numbered_item(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(VP_SHEET)
    # Line 35 fills only the check and the measure: No, 脆弱性の種類 and 対策の性質 come from line 34.
    check_row(
        doc,
        35,
        23,
        item_no="1",
        item="SQLインジェクション",
        answer="○",
        carried={"No": "1", "脆弱性の種類": "SQLインジェクション", "対策の性質": "根本的解決"},
    )
    # Line 39 starts item 2: nothing is carried from item 1.
    check_row(doc, 39, 27, item_no="2", item="OSコマンド・インジェクション", carried={})


def test_vp_sheet_realigned_rows_in_web_tables(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(VP_SHEET)
    # Line 51 starts two cells left: 保険的対策 belongs under 対策の性質, ○対応済 under チェック.
    assert cells(doc, 51)[:2] == ["保険的対策", "○対応済"]
    row = check_row(
        doc,
        51,
        39,
        item_no="4",
        item="セッション管理の不備",
        answer="○対応済",
        question="○ セッションIDをCookieにセットする場合、有効期限の設定に注意する。",
        detail="VP対応: ランダム文字列で1年期限",
    )
    assert row.fields["対策の性質"] == "保険的対策"
    assert REALIGNED in row.parse_note
    # Line 71 starts one cell left: ○ 対応済 sits under 対策の性質, the measure under チェック.
    assert cells(doc, 71)[2] == "○ 対応済"
    row = check_row(
        doc,
        71,
        53,
        answer="○ 対応済",
        question='<ul style="list-style-type: none"> ○ 改行コードを適切に処理するヘッダ出力用APIを利用できない場合は、'
        "改行を許可しないよう、開発者自身で適切な処理を実装する。",
        detail="VP対応: バックエンドミドルウェアで指定",
    )
    assert REALIGNED in row.parse_note


def test_vp_sheet_xss_sub_categories(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(VP_SHEET)
    xss = "クロスサイト・スクリプティング"
    expected_items = {
        **{line: f"{xss} / HTMLテキストの入力を許可しない場合の対策" for line in range(58, 63)},
        **{line: f"{xss} / HTMLテキストの入力を許可する場合の対策" for line in range(63, 66)},
        **{line: f"{xss} / 全てのウェブアプリケーションに共通の対策" for line in range(66, 68)},
    }
    for number, (line, item) in enumerate(sorted(expected_items.items()), start=40):  # rows 40..49
        row = check_row(doc, line, number, item_no="5", item=item, answer="○ 対応済")
        assert row.question.startswith('<ul style="list-style-type: none"> ○ ')
        assert row.detail.startswith("VP対応: ")
    # Line 58 has one cell more than the header: the sub-category stays with 脆弱性の種類.
    assert cells(doc, 58)[:4] == ["5", xss, "HTMLテキストの入力を許可しない場合の対策", "根本的解決"]
    row = check_row(
        doc,
        58,
        40,
        question='<ul style="list-style-type: none"> ○ '
        "ウェブページに出力する全ての要素に対して、エスケープ処理を施す。",
        detail="VP対応: 対応するフロントエンドライブラリを使用",
    )
    assert row.fields["脆弱性の種類"] == f"{xss} / HTMLテキストの入力を許可しない場合の対策"
    assert row.fields["対策の性質"] == "根本的解決"
    # Line 68 starts item 6 (CSRF): the XSS sub-category does not leak into it.
    assert row_at(doc, 68).item == "CSRF (クロスサイト・リクエスト・フォージェリ)"


def test_vp_sheet_multi_measure_cell_is_one_row(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(VP_SHEET)
    cell = cells(doc, 68)[4]
    measures = (
        "処理を実行するページを POST メソッドでアクセスするようにし",
        "処理を実行する直前のページで再度パスワードの入力を求め",
        "Refererが正しいリンク元かを確認し、正しい場合のみ処理を実行する。",
    )
    assert cell.count("○") == 3
    assert all(m in cell for m in measures)
    row = check_row(
        doc,
        68,
        50,
        item_no="6",
        item="CSRF (クロスサイト・リクエスト・フォージェリ)",
        answer="※ ○ 対応済",
        section=["ウェブアプリケーションのセキュリティ実装 チェック項目"],
    )
    assert [r.line_start for r in doc.rows].count(68) == 1
    # Split at the first marker: the first measure is the question, the rest (two more measures) the detail.
    assert f"{row.question} {row.detail}" == cell
    assert row.question.count("○") == 1
    assert row.detail.count("○") == 2
    assert all(m in f"{row.question} {row.detail}" for m in measures)
    assert row.detail.startswith("VP対応: バックエンド側で指定 ○ 処理を実行する直前のページ")


def test_vp_sheet_line_kinds(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(VP_SHEET)
    kinds = doc.line_kinds
    for line in (53, 74, 92):  # "※ このチェック項目の「対応済」のチェックは、..."
        assert lines_of(doc)[line - 1].startswith("※ このチェック項目")
        assert kinds[(None, line)] == "footnote"
        no_row_at(doc, line)
    for line in (31, 55, 76):  # "■ ウェブアプリケーションのセキュリティ実装 チェック項目 (n/3)"
        assert kinds[(None, line)] == "section"
    assert kinds[(None, 3)] == kinds[(None, 33)] == "table_header"
    assert kinds[(None, 57)] == kinds[(None, 78)] == "repeated_header"
    for line in (1, 2, 30, 32, 52, 54, 56, 73, 75, 77, 91):
        assert kinds[(None, line)] == "blank"


# --- Wevox checksheet (tsv, Japanese then English) ---------------------------------------------------------


def test_wevox_well_formed_rows_read_cell_by_cell(seed_corpus: Corpus) -> None:
    """Every line except item 49 (lines 66, 131) has the eight header cells in place."""
    doc = seed_corpus.document(WEVOX)
    for row in doc.rows:
        if row.line_start in (66, 131):
            continue
        no, category, item, question, _unit, answer, detail, notes = cells(doc, row.line_start)
        assert (row.item_no, row.item, row.question, row.answer, row.detail, row.notes) == (
            no,
            item,
            question,
            answer,
            detail,
            notes,
        ), row.id
        if category:
            assert row.section[-1] == category
        assert row.parse_note == "", row.id


def test_wevox_first_row(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(WEVOX)
    row = check_row(
        doc,
        9,
        1,
        language="ja",
        kind="sheet_row",
        section=["アプリケーション運用", "可用性"],
        item_no="1",
        item="サービス時間",
        question="サービスを提供する時間帯 (設備 やネットワーク等の点検/保守のための計画停止時間の記述を含む)",
        answer="右記参照",
        detail="24時間365日（計画停止を除く）",
        notes="",
        parse_note="",
    )
    assert row.fields["測定単位"] == "時間帯"


def test_wevox_empty_category_row_and_english_twin(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(WEVOX)
    assert cells(doc, 10)[1] == ""
    assert cells(doc, 75)[1] == ""
    ja = check_row(
        doc,
        10,
        2,
        language="ja",
        section=["アプリケーション運用", "可用性"],
        item_no="2",
        item="計画停止予定通知",
        question="定期的な保守停止に関する事前連絡確認 (事前通知のタイミング/方法の記述を含む)",
        answer="有",
        detail=cells(doc, 10)[6],
        notes="",
    )
    assert ja.detail.startswith("原則として1ヶ月前（利用規約1.4 第10条）")
    assert "種別" not in ja.fields  # fields are the cells as written
    en = check_row(
        doc,
        75,
        51,  # the 49 Japanese rows, then Availability item 1 (row 50), then this
        language="en",
        section=["Regarding Applications", "Availability"],
        item_no="2",
        item="Scheduled Outage Notice",
        question="Is advance notice provided for regular maintenance downtime?",
        answer="Yes",
        detail=cells(doc, 75)[6],
        notes="",
    )
    assert en.detail.startswith("In accordance with Article 10 of Terms of Service Version 1.4")


def test_wevox_empty_category_is_recorded_as_carried(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(WEVOX)
    assert row_at(doc, 10).carried == {"種別": "可用性"}
    assert row_at(doc, 75).carried == {"Main Category": "Availability"}
    assert row_at(doc, 66).carried == {"種別": "セキュリティ"}  # item 49, realigned, category cell lost


def test_wevox_notes_column(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(WEVOX)
    ja = check_row(doc, 31, 23, item_no="23", item="外部接続性", notes=cells(doc, 31)[7])
    assert ja.notes.startswith("SSO連携の適用については、オプションの「セキュリティオプション」")
    en = check_row(doc, 96, 72, item_no="23", item="External Connectivity", notes=cells(doc, 96)[7])
    assert en.notes.startswith("To use SSO integration, you need to subscribe to the Wevox Security Option.")


def test_wevox_realigned_item_49(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(WEVOX)
    # Both lines lost the empty category cell: seven cells shifted one column left, two empty after them.
    assert cells(doc, 66)[:6] == [
        "49",
        "データの外部保存方針",
        "データ保存地の各種法制度の下におけるデータ取扱い及び利用に関する制約条件を把握しているか",
        "把握状況",
        "右記参照",
        "弁護士や専門家との連携を強化することで、最新情報の取得漏れがないよう対策済。",
    ]
    ja = check_row(
        doc,
        66,
        49,
        language="ja",
        section=["セキュリティ"],
        item_no="49",
        item="データの外部保存方針",
        question="データ保存地の各種法制度の下におけるデータ取扱い及び利用に関する制約条件を把握しているか",
        answer="右記参照",
        detail="弁護士や専門家との連携を強化することで、最新情報の取得漏れがないよう対策済。",
        notes="",
    )
    assert ja.fields["測定単位"] == "把握状況"
    assert REALIGNED in ja.parse_note
    en = check_row(
        doc,
        131,
        98,
        language="en",
        section=["Regarding Information Security", "Information Security"],
        item_no="49",
        item="External Data Storage Policy",
        question="What handling precautions are necessary in the region where the data is stored?",
        answer="Refer to the right",
        detail="We ensure continuous access to the latest information through collaboration with lawyers and experts.",
        notes="",
    )
    assert en.fields["Measurement Unit"] == "Yes/No"
    assert REALIGNED in en.parse_note
    # The row above is well formed and says nothing about realignment.
    check_row(doc, 65, 48, item_no="48", item="二次記憶媒体の安全性対策", answer="有", parse_note="")


def test_wevox_group_lines_are_sections_not_rows(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(WEVOX)
    groups = {
        8: "アプリケーション運用",
        34: "サポート",
        37: "データ管理",
        55: "セキュリティ",
        73: "Regarding Applications",
        99: "Regarding Customer Support",
        102: "Regarding Data Management",
        120: "Regarding Information Security",
    }
    for line, group in groups.items():
        assert [c for c in cells(doc, line) if c] == [group]
        assert doc.line_kinds[(None, line)] == "section"
        no_row_at(doc, line)
        assert row_at(doc, line + 1).section[0] == group
    assert row_at(doc, 74).section == ["Regarding Applications", "Availability"]
    assert row_at(doc, 100).section == ["Regarding Customer Support", "Support System"]
    assert row_at(doc, 121).section == ["Regarding Information Security", "Information Security"]
    assert row_at(doc, 35).section == ["サポート"]  # the group and the category say the same, once


def test_wevox_page_headers_and_titles_are_not_rows(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(WEVOX)
    lines = lines_of(doc)
    for line in (3, 40, 68, 105):  # "[Wevox] Security\_Checksheet\_METI", bold on the English pages
        assert "[Wevox] Security" in lines[line - 1]
        assert doc.line_kinds[(None, line)] == "title"
        no_row_at(doc, line)
    for line in (5, 42, 70, 107):  # "(最終更新日：2025/01/09 Ver.1.4)" and "(最終更新日： 01/09/2025 Ver.1.4)"
        assert "Ver.1.4" in lines[line - 1]
        assert doc.line_kinds[(None, line)] == "title"
        no_row_at(doc, line)
    assert doc.line_kinds[(None, 7)] == doc.line_kinds[(None, 72)] == "table_header"
    assert doc.line_kinds[(None, 44)] == doc.line_kinds[(None, 109)] == "repeated_header"  # page breaks
    # The page break does not interrupt the section: item 29 continues データ管理 / Data Management.
    assert row_at(doc, 45).section == ["データ管理"]
    assert row_at(doc, 110).section == ["Regarding Data Management", "Data Management"]


# --- web pages ---------------------------------------------------------------------------------------------


def test_en_markdown_table_row(seed_corpus: Corpus) -> None:
    doc = seed_corpus.document(EN_PAGE)
    status = (
        "ISO/IEC 27001:2022 / JIS Q 27001:2023 certified (Certificate: IS 820960, issued by BSI, "
        "valid 2025-04-25 to 2028-04-24)"
    )
    row = check_row(
        doc,
        4,
        1,
        language="en",
        kind="table_row",
        section=["Security Checklist", "Security"],
        item_no="",
        item="Public Certification",
        question="ISMS, Privacy Mark, etc.",
        answer=status,
        detail="",
        notes="",
        parse_note="",
    )
    assert row.fields == {
        "Category": "Security",
        "Evaluation Item": "Public Certification",
        "Description": "ISMS, Privacy Mark, etc.",
        "Status": status,
    }
    check_row(doc, 9, 6, section=["Security Checklist", "Data Protection"], item="Backup Data")
    # Line 2 is prose glued to the table header; line 3 the separator: neither is a row.
    assert doc.line_kinds[(None, 2)] == doc.line_kinds[(None, 3)] == "table_header"
    no_row_at(doc, 2)
    no_row_at(doc, 3)


def test_page_bullets_heading_paths(seed_corpus: Corpus) -> None:
    en, ja, ko = (seed_corpus.document(k) for k in (EN_PAGE, JA_PAGE, KO_PAGE))
    # EN: 7 table rows and bullets on lines 13, 14 come first -> "Backup Cycle" (line 16) is row 10.
    check_row(
        en,
        16,
        10,
        kind="bullet",
        language="en",
        section=["Data Protection", "Backup"],
        item_no="",
        item="Backup Cycle",
        question="",
        answer="Backup Cycle: Monthly backups via AWS Database",
        detail="",
        notes="",
        parse_note="",
    )
    # "21:00" is a time, not a label: the bullet has no item.
    check_row(
        en,
        32,
        21,
        kind="bullet",
        section=["Availability", "Planned Maintenance"],
        item="",
        answer="Updates scheduled around 21:00 every Friday, with possible connection interruptions of a few seconds",
    )
    check_row(
        ja,
        50,
        21,
        kind="bullet",
        language="ja",
        section=["可用性", "計画停止"],
        item="",
        answer="毎週金曜日 21:00頃をアップデート時間と定めており、数秒程度接続が切れる場合あり",
    )
    check_row(
        ko,
        50,
        21,
        kind="bullet",
        language="ko",
        section=["가용성", "계획 정지"],
        item="",
        answer="매주 금요일 21:00경을 업데이트 시간으로 정하고 있으며, 몇 초 정도 접속이 끊길 수 있음",
    )
    check_row(ja, 25, 10, section=["データ保護", "バックアップ"], item="実施サイクル")
    check_row(ko, 25, 10, section=["데이터 보호", "백업"], item="실시 주기")
    check_row(en, 87, 57, section=["System Architecture"], item="", answer="Desktop App (Windows / Mac / Linux)")


@pytest.mark.parametrize("key", [EN_PAGE, JA_PAGE, KO_PAGE])
def test_page_bullets_text_and_sub_heading(seed_corpus: Corpus, key: str) -> None:
    """A bullet's answer is its text without the marker; its last section is the sub-heading above it."""
    doc = seed_corpus.document(key)
    lines = lines_of(doc)
    bullets = [r for r in doc.rows if r.kind == "bullet"]
    for row in bullets:
        text = lines[row.line_start - 1].strip()
        assert text[:1] in "-•"
        assert row.answer == text[1:].strip()
        heading = next(
            ln.strip()
            for ln in reversed(lines[: row.line_start - 1])
            if ln.strip() and ln.strip()[0] not in "-•" and not ln.strip().endswith((".", "。"))
        )
        assert heading.endswith(row.section[-1]), row.id  # endswith: EN line 48 is prose glued to a heading


@pytest.mark.parametrize(
    ("key", "line", "number", "category"),
    [
        (JA_PAGE, 8, 1, "セキュリティ"),
        (JA_PAGE, 12, 5, "セキュリティ"),
        (JA_PAGE, 13, 6, "データ保護"),
        (JA_PAGE, 14, 7, "データ保護"),
        (KO_PAGE, 8, 1, "보안"),
        (KO_PAGE, 12, 5, "보안"),
        (KO_PAGE, 13, 6, "데이터 보호"),
        (KO_PAGE, 14, 7, "데이터 보호"),
    ],
)
def test_glued_table_rows(seed_corpus: Corpus, key: str, line: int, number: int, category: str) -> None:
    doc = seed_corpus.document(key)
    text = lines_of(doc)[line - 1]
    assert text.startswith(category)
    heading = "セキュリティチェックシート" if key == JA_PAGE else "보안 체크리스트"
    row = check_row(
        doc,
        line,
        number,
        kind="table_row",
        section=[heading, category],
        item_no="",
        item="",
        question="",
        answer=text[len(category) :].strip(),  # the rest is kept whole
        detail="",
        notes="",
    )
    assert category in row.parse_note
    assert "separators" in row.parse_note


def test_glued_table_answers_spelled_out(seed_corpus: Corpus) -> None:
    assert (
        row_at(seed_corpus.document(JA_PAGE), 8).answer == "公的認証取得状況ISMS、Pマーク等の取得ISMS取得予定(準備中)"
    )
    assert row_at(seed_corpus.document(KO_PAGE), 14).answer == (
        "기업 간 데이터 분리기업 간 정보 격리데이터베이스를 통한 논리적 격리"
    )


def test_page_line_kinds(seed_corpus: Corpus) -> None:
    en, ja = seed_corpus.document(EN_PAGE), seed_corpus.document(JA_PAGE)
    assert en.line_kinds[(None, 1)] == "heading"  # "Security Checklist"
    assert en.line_kinds[(None, 86)] == "paragraph"  # "Overview of VoicePing’s system architecture. ..."
    assert ja.line_kinds[(None, 1)] == "boilerplate"  # "Skip to main content"
    assert ja.line_kinds[(None, 7)] == "table_header"  # "種別評価項目内容対応状況"
    assert ja.line_kinds[(None, 78)] == "paragraph"  # "VoicePingは以下のセキュリティ対策を実施しています。"
    no_row_at(ja, 78)


# --- invariants over every row of every document ---------------------------------------------------------


def _parts(value: str) -> list[str]:
    return [part for part in value.split(" / ") if part.strip()]


@pytest.mark.parametrize("key", ALL_KEYS)
def test_source_text_is_the_cited_lines(seed_corpus: Corpus, key: str) -> None:
    doc = seed_corpus.document(key)
    lines = lines_of(doc)
    for row in doc.rows:
        assert 1 <= row.line_start <= row.line_end <= len(lines)
        assert row.source_text == "\n".join(lines[row.line_start - 1 : row.line_end]), row.id


@pytest.mark.parametrize("key", ALL_KEYS)
def test_text_fields_are_verbatim_in_source_text(seed_corpus: Corpus, key: str) -> None:
    doc = seed_corpus.document(key)
    lines = lines_of(doc)
    text = "\n".join(lines)
    for row in doc.rows:
        above = "\n".join(lines[: row.line_start - 1])  # where carried values come from
        # question, answer, detail and notes are never carried or joined: they are verbatim (markers kept).
        for name in ("question", "answer", "detail", "notes"):
            value = getattr(row, name).strip()
            if value:
                assert value in row.source_text, f"{row.id} {name}"
        # item_no and item may be carried down from a row above, and a sub-category is joined to its parent
        # with " / " ("クロスサイト・スクリプティング / HTMLテキストの入力を許可しない場合の対策"): each part is
        # in this row's text or, when it was carried, in the text above it.
        for name in ("item_no", "item"):
            for part in _parts(getattr(row, name)):
                assert part in row.source_text or part in above, f"{row.id} {name} {part!r}"
        for column, value in row.carried.items():
            assert all(part in above for part in _parts(value)), f"{row.id} carried {column}"
        # fields are the cells as written (a surplus cell joined with " / ").
        for column, value in row.fields.items():
            assert all(part in row.source_text for part in _parts(value)), f"{row.id} field {column}"
        # Section names come from headings, titles and group lines of the same file.
        assert all(name in text for name in row.section), row.id


@pytest.mark.parametrize("key", ALL_KEYS)
def test_row_shape(seed_corpus: Corpus, key: str) -> None:
    doc = seed_corpus.document(key)
    page = doc.meta.layout in ("markdown_page", "web_page")
    for row in doc.rows:
        assert row.language in doc.meta.languages
        assert row.kind in (("table_row", "bullet", "paragraph") if page else ("sheet_row",))
        assert row.vendor == doc.meta.vendor
        assert row.vendor_id == doc.meta.vendor_id
        assert row.sheet is None
        assert row.section, f"{row.id} has no section"
        assert row.question or row.answer or row.detail, f"{row.id} has no content"


@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_line_is_accounted_for(seed_corpus: Corpus, key: str) -> None:
    doc = seed_corpus.document(key)
    n = len(lines_of(doc))
    assert set(doc.line_kinds) == {(None, line) for line in range(1, n + 1)}
    row_lines = [line for row in doc.rows for line in range(row.line_start, row.line_end + 1)]
    assert len(row_lines) == len(set(row_lines)), "two rows share a line"
    assert {line for (_, line), kind in doc.line_kinds.items() if kind == "row"} == set(row_lines)
    report = next(r for r in seed_corpus.reports() if r.key == key)
    assert sum(report.lines.values()) == n
    assert report.lines["row"] == len(row_lines)


def test_blank_lines_are_blank(seed_corpus: Corpus) -> None:
    for doc in seed_corpus.documents:
        lines = lines_of(doc)
        for (_, line), kind in doc.line_kinds.items():
            if kind == "blank":
                assert not lines[line - 1].replace("\t", "").strip(), f"{doc.key}:{line}"
            if not lines[line - 1].strip():
                assert kind == "blank", f"{doc.key}:{line} is {kind}"


# --- ids ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ALL_KEYS)
def test_row_ids(seed_corpus: Corpus, key: str) -> None:
    doc = seed_corpus.document(key)
    vendor_id, document_id = key.split("/")
    pattern = re.compile(rf"^{re.escape(vendor_id)}/{re.escape(document_id)}#(\d+)$")
    numbers = []
    for row in doc.rows:
        match = pattern.match(row.id)
        assert match, row.id
        numbers.append(int(match[1]))
    assert numbers == list(range(1, len(doc.rows) + 1))
    starts = [row.line_start for row in doc.rows]
    assert starts == sorted(starts), "rows are numbered in file order"


def test_ids_are_unique_and_stable_across_loads(seed_corpus: Corpus, seed_dir: Path) -> None:
    ids = [row.id for row in seed_corpus.rows]
    assert len(ids) == len(set(ids))
    again = load_corpus(seed_dir)
    assert [row.model_dump() for row in again.rows] == [row.model_dump() for row in seed_corpus.rows]


def _dumps(doc: Document) -> list[dict[str, object]]:
    return [row.model_dump() for row in doc.rows]


def _shifted(before: Sequence[Row], after: Sequence[Row], by_rows: int, by_lines: int) -> None:
    """``after`` is ``before`` renumbered by ``by_rows`` and moved down by ``by_lines``; content unchanged."""
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        assert new.number == old.number + by_rows
        assert (new.line_start, new.line_end) == (old.line_start + by_lines, old.line_end + by_lines)
        assert new.model_dump(exclude={"id", "line_start", "line_end"}) == old.model_dump(
            exclude={"id", "line_start", "line_end"}
        )


def test_inserting_a_bullet_changes_only_its_document(seed_corpus: Corpus, seed_copy: Path) -> None:
    path = seed_copy / "voiceping/security-page.en.md"
    lines = file_lines(path)
    assert lines[32].startswith("- Real-time notification")  # line 33, the last Planned Maintenance bullet
    lines.insert(33, "- Maintenance windows are announced one week ahead")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    edited = load_corpus(seed_copy)
    assert edited.errors == {}
    for key in ALL_KEYS:
        if key != EN_PAGE:
            assert _dumps(edited.document(key)) == _dumps(seed_corpus.document(key)), key
    before, after = seed_corpus.document(EN_PAGE).rows, edited.document(EN_PAGE).rows
    assert len(after) == len(before) + 1
    assert [r.model_dump() for r in after[:22]] == [r.model_dump() for r in before[:22]]  # rows above the edit
    new = after[22]
    assert (new.id, new.line_start) == (f"{EN_PAGE}#23", 34)
    assert new.section == ["Availability", "Planned Maintenance"]
    assert new.answer == "Maintenance windows are announced one week ahead"
    _shifted(before[22:], after[23:], by_rows=1, by_lines=1)


def test_removing_a_sheet_row_changes_only_its_document(seed_corpus: Corpus, seed_copy: Path) -> None:
    path = seed_copy / "wevox/meti-checksheet.ja-en.tsv"
    lines = file_lines(path)
    assert lines[19].startswith("12\t")  # line 20, JA item 12
    del lines[19]
    path.write_text("\n".join(lines), encoding="utf-8")  # the file has no final newline

    edited = load_corpus(seed_copy)
    assert edited.errors == {}
    for key in ALL_KEYS:
        if key != WEVOX:
            assert _dumps(edited.document(key)) == _dumps(seed_corpus.document(key)), key
    before, after = seed_corpus.document(WEVOX).rows, edited.document(WEVOX).rows
    assert len(after) == 97
    assert [r.model_dump() for r in after[:11]] == [r.model_dump() for r in before[:11]]
    assert after[11].item_no == "13"
    _shifted(before[12:], after[11:], by_rows=-1, by_lines=-1)


def test_unlisting_a_document_keeps_the_others(seed_corpus: Corpus, seed_copy: Path) -> None:
    toml = (seed_copy / "corpus.toml").read_text(encoding="utf-8")
    start = toml.index('[[documents]]\nid = "meti-checksheet"')  # the last entry; nothing refers to it
    (seed_copy / "corpus.toml").write_text(toml[:start], encoding="utf-8")
    edited = load_corpus(seed_copy)
    assert edited.errors == {}
    assert [doc.key for doc in edited.documents] == [EN_PAGE, JA_PAGE, KO_PAGE, VP_SHEET]
    assert edited.vendors == ["VoicePing"]
    for key in (EN_PAGE, JA_PAGE, KO_PAGE, VP_SHEET):
        assert _dumps(edited.document(key)) == _dumps(seed_corpus.document(key))


# --- metadata -----------------------------------------------------------------------------------------------


def test_metadata_is_what_corpus_toml_states(seed_corpus: Corpus, seed_dir: Path) -> None:
    raw = tomllib.loads((seed_dir / "corpus.toml").read_text(encoding="utf-8"))["documents"]
    assert [entry["id"] for entry in raw] == [meta.id for meta in seed_corpus.metas]
    for entry, meta in zip(raw, seed_corpus.metas, strict=True):
        for name in ("as_of", "version", "dated_by", "newer_than", "twins", "languages", "file", "layout"):
            default: object = [] if name in ("newer_than", "twins") else None
            if name == "dated_by":
                default = "unknown"
            assert getattr(meta, name) == entry.get(name, default), f"{meta.id} {name}"


def test_seed_metadata_values(seed_corpus: Corpus) -> None:
    metas = {meta.key: meta for meta in seed_corpus.metas}
    en = metas[EN_PAGE]
    assert en.as_of == dt.date(2025, 4, 25)
    assert en.newer_than == ["security-page-ja", "security-page-ko", "security-checksheet-ja"]
    assert en.twins == ["security-page-ja", "security-page-ko"]
    assert metas[JA_PAGE].twins == ["security-page-ko", "security-page-en"]
    assert metas[KO_PAGE].twins == ["security-page-ja", "security-page-en"]
    for key in (JA_PAGE, KO_PAGE, VP_SHEET):
        assert metas[key].as_of is None
        assert metas[key].newer_than == []
        assert metas[key].dated_by.startswith("Unknown date; older than security-page-en")
    assert metas[VP_SHEET].answer_markers == list(MARKERS)
    wevox = metas[WEVOX]
    assert (wevox.as_of, wevox.version, wevox.languages) == (dt.date(2025, 1, 9), "1.4", ["ja", "en"])
    assert wevox.dated_by.startswith("Stated in the file")
    assert [m.vendor_id for m in seed_corpus.metas] == ["voiceping"] * 4 + ["wevox"]
    assert seed_corpus.vendors == ["VoicePing", "Wevox"]


def test_stated_dates_are_in_the_files(seed_corpus: Corpus) -> None:
    en = "\n".join(lines_of(seed_corpus.document(EN_PAGE)))
    assert "valid 2025-04-25 to 2028-04-24" in en
    assert "April 2026" in en
    wevox = lines_of(seed_corpus.document(WEVOX))
    assert wevox[4] == "(最終更新日：2025/01/09 Ver.1.4)"
    assert wevox[69] == "(最終更新日： 01/09/2025 Ver.1.4)"


def test_reports_hash_the_files(seed_corpus: Corpus) -> None:
    for report, doc in zip(seed_corpus.reports(), seed_corpus.documents, strict=True):
        assert report.key == doc.key
        assert report.error is None
        assert report.sha256 == hashlib.sha256(doc.path.read_bytes()).hexdigest()
        assert report.rows == EXPECTED_ROWS[doc.key]


def test_document_lookup_names_known_keys(seed_corpus: Corpus) -> None:
    with pytest.raises(KeyError, match="wevox/meti-checksheet"):
        seed_corpus.document("wevox/meti")
