"""Questionnaires built in code for the fill tests, and a fake asker that returns constructed ``AskResult``s."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from assistant.answers import AskResult, Citation, Match, Status
from assistant.corpus.statuses import AnswerStatus
from assistant.errors import QuestionError

BUILT_AT = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
HEADER_FILL = "DDEBF7"

# --- the security questionnaire workbook ------------------------------------------------------------------

#: The questions of the workbook, by (sheet, row), as the filler must read them.
JA_QUESTIONS = {
    5: "情報セキュリティ基本方針を策定していますか？",
    6: "ISMS(ISO/IEC 27001)認証を取得していますか？",
    7: "従業員にセキュリティ教育を実施していますか？",
    9: "バックアップは何世代保持していますか？",
    10: "通信は暗号化されていますか？",
    11: "二要素認証に対応していますか？",
}
EN_QUESTIONS = {
    4: "Do you support single sign-on (SAML)?",
    5: "Is multi-factor authentication enforced for administrators?",
    7: "Do you encrypt backups?",  # a formula whose saved value is this text
    8: "",  # a formula with no saved value
    9: "How many backup generations do you keep?",
    10: "Do you delete customer data at contract end?",
    11: "Do you support SSO for every user?",  # merged over rows 11-12, and so is its answer cell
}
SHEETS = ["表紙", "記入方法", "基本事項", "Technical", "空白", "Lists"]


def security_workbook(path: Path, *, macro: bytes | None = None) -> Path:
    """A customer's security questionnaire as Japanese companies send them.

    A cover and an instructions sheet; "基本事項" with a title, the header in row 4 (No. / 分類 / 質問事項 /
    回答（はい/いいえ） / 補足説明), merged category cells, a section row merged across the table, one answer
    already given and a drop-down list read from the hidden "Lists" sheet; "Technical" with the header in row 2
    starting in column B, section rows in the question column, a formula question with and one without a saved
    value, a pre-filled answer, and a question merged over two rows; an empty sheet.
    """
    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "表紙"
    cover["A1"] = "情報セキュリティに関するチェックシート"
    cover["A1"].font = Font(b=True, size=16)
    cover.merge_cells("A1:F1")
    cover["A3"], cover["A4"] = "御社名:", "回答日:"
    cover["A6"] = "ご回答は各シートの回答欄にご記入ください。"

    guide = book.create_sheet("記入方法")
    guide["A1"] = "記入方法"
    guide["A2"] = "1. 回答欄のプルダウンから「はい」「いいえ」「該当なし」を選択してください。"
    guide["A3"] = "2. ご不明な点はありますか？ 担当者までお問い合わせください。"

    ja = book.create_sheet("基本事項")
    ja["A1"] = "基本事項"
    ja.merge_cells("A1:E1")
    ja["A2"] = "回答者:"
    for col, header in zip("ABCDE", ["No.", "分類", "質問事項", "回答（はい/いいえ）", "補足説明"], strict=True):
        cell = ja[f"{col}4"]
        cell.value = header
        cell.font = Font(b=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    for row, number in zip((5, 6, 7, 9, 10, 11), "123456", strict=True):
        ja[f"A{row}"] = number
        ja[f"C{row}"] = JA_QUESTIONS[row]
    ja["B5"] = "組織"
    ja.merge_cells("B5:B7")
    ja["D6"], ja["E6"] = "はい", "2024年取得"
    ja["A8"] = "2. 技術的対策"
    ja.merge_cells("A8:E8")
    ja["B9"] = "技術"
    ja.merge_cells("B9:B11")
    ja.column_dimensions["C"].width = 50
    ja.column_dimensions["E"].width = 30
    lists = DataValidation(type="list", formula1="Lists!$A$1:$A$3", allow_blank=True)
    ja.add_data_validation(lists)
    lists.add("D5:D11")

    en = book.create_sheet("Technical")
    en["A1"] = "Vendor security assessment: technical controls"
    for col, header in zip("BCDEF", ["Ref", "Domain", "Question", "Vendor Response", "Comments"], strict=True):
        en[f"{col}2"] = header
        en[f"{col}2"].font = Font(b=True)
    en["D3"] = "Access control"
    en["D6"] = "Data protection"
    rows = {4: ("AC-1", "Access"), 5: ("AC-2", "Access"), 7: ("DP-1", "Data"), 8: ("DP-2", "Data")}
    rows |= {9: ("DP-3", "Data"), 10: ("DP-4", "Data"), 11: ("AC-3", "Access")}
    for row, (ref, domain) in rows.items():
        en[f"B{row}"], en[f"C{row}"] = ref, domain
        if EN_QUESTIONS[row]:
            en[f"D{row}"] = EN_QUESTIONS[row]
    en["D7"] = '="Do you encrypt "&"backups?"'
    en["D8"] = '=CONCAT("How long ","are logs kept?")'
    en["E10"] = "Yes (see contract §12)"
    en.merge_cells("D11:D12")
    en.merge_cells("E11:E12")
    en.column_dimensions["D"].width = 70

    book.create_sheet("空白")
    hidden = book.create_sheet("Lists")
    for row, value in enumerate(["はい", "いいえ", "該当なし"], start=1):
        hidden[f"A{row}"] = value
    hidden.sheet_state = "hidden"
    book.save(path)
    # Excel saves each formula's value next to it; openpyxl does not: add the value of D7 only.
    set_cached_values(path, "xl/worksheets/sheet4.xml", {"D7": EN_QUESTIONS[7]})
    if macro is not None:
        add_macro(path, macro)
    return path


def set_cached_values(path: Path, part: str, values: Mapping[str, str]) -> None:
    """Store a saved (cached) text value for formula cells, as Excel does when it saves a workbook."""
    parts = _read_zip(path)
    xml = parts[part].decode()
    for ref, value in values.items():
        pattern = re.compile(rf'<c r="{ref}"([^>]*)><f>(.*?)</f>(?:<v\s*/>|<v></v>)')
        replacement = f'<c r="{ref}" t="str"><f>\\2</f><v>{value}</v>'
        xml, count = pattern.subn(replacement, xml)
        assert count == 1, (ref, xml[:400])
    parts[part] = xml.encode()
    _write_zip(path, parts)


def add_macro(path: Path, macro: bytes) -> None:
    """Make the workbook an .xlsm with a (fake) VBA project, the way Excel stores one."""
    parts = _read_zip(path)
    parts["xl/vbaProject.bin"] = macro
    types = parts["[Content_Types].xml"].decode()
    types = types.replace(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    ).replace("</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    parts["[Content_Types].xml"] = types.encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rels = rels.replace(
        "</Relationships>",
        '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
        'Target="vbaProject.bin"/></Relationships>',
    )
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    _write_zip(path, parts)


def _read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_zip(path: Path, parts: Mapping[str, bytes]) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    path.write_bytes(out.getvalue())


def simple_workbook(path: Path, rows: Sequence[Sequence[Any]], title: str = "Questions") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


# --- constructed ask results ---------------------------------------------------------------------------


def citation(
    row_id: str, *, vendor: str = "Acme", as_of: dt.date | None = dt.date(2025, 6, 1), **extra: Any
) -> Citation:
    vendor_id, rest = row_id.split("/", 1)
    document, number = rest.split("#")
    return Citation(
        vendor=vendor,
        vendor_id=vendor_id,
        document_id=f"{vendor_id}/{document}",
        document_title=f"{vendor} {document}",
        file=f"{vendor_id}/{document}.csv",
        row_id=row_id,
        section=["Security"],
        line_start=int(number) + 1,
        line_end=int(number) + 1,
        language="ja",
        as_of=as_of,
        **extra,
    )


def match(
    row_id: str,
    answer: str,
    *,
    detail: str = "",
    answer_status: AnswerStatus | None = None,
    rank: int = 1,
    vendor: str = "Acme",
    **extra: Any,
) -> Match:
    cite_extra = {k: extra.pop(k) for k in ("superseded_by", "as_of") if k in extra}
    return Match(
        rank=rank,
        row_id=row_id,
        score=0.8,
        signals={"dense": 0.78, "lexical": 0.4},
        answer_status=answer_status,
        kind="checksheet_row",
        item="",
        question="",
        answer=answer,
        detail=detail,
        notes="",
        source_text=f"{answer}\t{detail}",
        citation=citation(row_id, vendor=vendor, **cite_extra),
        **extra,
    )


def result(
    question: str,
    status: Status,
    *,
    answer: Match | None = None,
    conflicting: Sequence[Match] = (),
    outdated: Sequence[Match] = (),
    alternatives: Sequence[Match] = (),
    confidence: float = 0.8,
    reason: str | None = None,
    vendor: str | None = "Acme",
    **extra: Any,
) -> AskResult:
    return AskResult(
        question=question,
        status=status,
        reason=reason,
        answer=answer,
        conflicting=list(conflicting),
        outdated=list(outdated),
        alternatives=list(alternatives),
        confidence=confidence,
        threshold=0.65,
        vendor=vendor,
        vendor_source="given",
        k=5,
        model="fake",
        index_built_at=BUILT_AT,
        **extra,
    )


class FakeAsker:
    """Answers from a table of constructed results (or raises the exception given for a question).

    Records every call; a question missing from the table gets "no_answer".
    """

    def __init__(self, answers: Mapping[str, AskResult | Exception]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str | None, str | None, int | None]] = []

    def ask(
        self, question: str, *, vendor: str | None = None, language: str | None = None, k: int | None = None
    ) -> AskResult:
        self.calls.append((question, vendor, language, k))
        found = self.answers.get(question)
        if isinstance(found, Exception):
            raise found
        if found is None:
            return result(question, "no_answer", confidence=0.3, reason="nothing close")
        return found


# --- what the fake asker answers for the security workbook ------------------------------------------

Q = JA_QUESTIONS | {100 + r: q for r, q in EN_QUESTIONS.items()}

POLICY = match("acme/sheet#1", "有", detail="基本方針を策定し公開", answer_status="yes")
ISMS = match("acme/sheet#2", "有", detail="ISO/IEC 27001 取得", answer_status="yes")
ISMS_OLD = match("acme/old-sheet#2", "無", detail="取得予定(準備中)", answer_status="no", as_of=None)
BACKUP = match("acme/sheet#9", "7世代", detail="日次取得")
TLS_A = match("acme/sheet#10", "有", detail="TLS1.2以上", answer_status="yes")
TLS_B = match("acme/page#4", "一部", detail="管理画面のみ暗号化", answer_status="partial", rank=2)
MFA = match("acme/sheet#11", "無", detail="今後対応予定", answer_status="no")
SSO = match("acme/sheet#20", '=HYPERLINK("http://example.invalid","Yes")', detail="SAML 2.0")
ENCRYPT = match("acme/sheet#21", "Yes", detail="AES-256", answer_status="yes")
GENERATIONS = match("acme/sheet#22", "+7 generations")
DELETE = match("acme/sheet#23", "Yes", detail="within 30 days", answer_status="yes")
SSO_ALL = match("acme/sheet#24", "Yes", answer_status="yes", superseded_by=["acme/newer-sheet"])
CLOSEST = match("acme/sheet#5", "年1回実施", rank=1)


def security_answers() -> dict[str, AskResult | Exception]:
    """What the fake asker returns for each question of `security_workbook`: every status and a question error."""
    return {
        Q[5]: result(Q[5], "answered", answer=POLICY, confidence=0.91),
        Q[6]: result(Q[6], "answered", answer=ISMS, outdated=[ISMS_OLD]),
        Q[7]: result(Q[7], "no_answer", confidence=0.42, reason="the closest row scores 0.42", alternatives=[CLOSEST]),
        Q[9]: result(Q[9], "answered", answer=BACKUP, confidence=0.7),
        Q[10]: result(Q[10], "conflict", conflicting=[TLS_A, TLS_B], reason="rows disagree", reason_code="conflict"),
        Q[11]: result(Q[11], "answered", answer=MFA),
        Q[104]: result(Q[104], "answered", answer=SSO),
        Q[105]: QuestionError("the question is 1200 characters; the limit is 1000"),
        Q[107]: result(Q[107], "answered", answer=ENCRYPT),
        Q[109]: result(Q[109], "answered", answer=GENERATIONS),
        Q[110]: result(Q[110], "answered", answer=DELETE),
        Q[111]: result(Q[111], "answered", answer=SSO_ALL),
    }


def add_extension(path: Path, part: str = "xl/worksheets/sheet4.xml") -> None:
    """Add an Excel 2010 data-validation extension to a sheet (openpyxl drops these, and says so)."""
    parts = _read_zip(path)
    ext = '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"/></extLst></worksheet>'
    parts[part] = parts[part].decode().replace("</worksheet>", ext).encode()
    _write_zip(path, parts)
