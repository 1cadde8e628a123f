"""Citations and answers as plain text: the one formatter behind the CLI, the UI and the text a rep copies.

Labels come in English, Japanese and Korean; the quoted text, titles and ids are never translated.
"""

from __future__ import annotations

from typing import Literal

from assistant.answers import AskResult, Citation, Match

UiLanguage = Literal["en", "ja", "ko"]
UI_LANGUAGES: tuple[UiLanguage, ...] = ("en", "ja", "ko")

LANGUAGE_NAMES = {"en": "English", "ja": "日本語", "ko": "한국어"}

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "vendor": "Vendor",
        "document": "Document",
        "language": "Language",
        "section": "Section",
        "row": "Row",
        "row_id": "row {row_id}",
        "source": "Source",
        "item": "Item",
        "answer": "Answer",
        "no_section": "(no section)",
        "version": "version {version}",
        "as_of": "as of {date}",
        "undated": "undated",
        "item_no": "No. {number}",
        "line": "line {start}",
        "lines": "lines {start}-{end}",
        "sheet": "sheet {sheet}",
        "newer_exists": "Note: a newer document of this vendor exists: {documents}",
        "outdated": "Outdated (a newer document says otherwise): {answer}",
        "no_answer": "No reliable answer: {reason}",
        "closest": "Closest rows (check before you use them):",
        "conflict": "The documents disagree; both rows are quoted:",
        "from_vendor": "Answer from {vendor}",
        "current_row": "Current row: {row_id}",
        "reason_low_confidence": (
            "none of the rows found is a reliable answer (confidence {confidence}; an answer needs {threshold}). "
            "The closest rows are shown: check them before you use them"
        ),
        "reason_no_documents": "no documents for {subject}: the question is about {subject}, and none of its "
        "documents are in the corpus",
        "reason_no_rows": "no rows match the filters ({filters})",
        "reason_conflict": "the documents disagree on this item: the rows are quoted and neither is chosen",
        "question": "Question",
        "asked_at": "Asked at",
        "status": "Status",
        "status_answered": "Answered",
        "status_conflict": "The documents disagree",
        "status_no_answer": "No reliable answer",
        "status_error": "Not asked",
        "shown_as": "Shown as",
        "role_answer": "answer",
        "role_conflicting": "disagreeing row",
        "role_outdated": "outdated row",
        "role_closest": "closest row",
        "role_other_vendor": "other vendor's row",
        "role_alternative": "alternative",
        "citation": "Citation",
        "note": "Note",
        "transcript_title": "Checksheet assistant: conversation exported {date}",
    },
    "ja": {
        "vendor": "ベンダー",
        "document": "文書",
        "language": "言語",
        "section": "セクション",
        "row": "行",
        "row_id": "行ID {row_id}",
        "source": "出典",
        "item": "項目",
        "answer": "回答",
        "no_section": "(セクションなし)",
        "version": "版 {version}",
        "as_of": "{date} 時点",
        "undated": "日付不明",
        "item_no": "No. {number}",
        "line": "{start}行目",
        "lines": "{start}〜{end}行目",
        "sheet": "シート {sheet}",
        "newer_exists": "注: このベンダーの新しい文書があります: {documents}",
        "outdated": "旧情報 (新しい文書では異なります): {answer}",
        "no_answer": "確かな回答はありません: {reason}",
        "closest": "近い行 (使う前に確認してください):",
        "conflict": "文書間で回答が食い違っています。両方の行を引用します:",
        "from_vendor": "{vendor} の回答",
        "current_row": "現行の行: {row_id}",
        "reason_low_confidence": (
            "確かな回答と言える行は見つかりませんでした (確信度 {confidence}、回答に必要な値 {threshold})。"
            "近い行を示します。使う前に確認してください"
        ),
        "reason_no_documents": "{subject} の文書はありません: この質問は {subject} についてのもので、"
        "コーパスには {subject} の文書が含まれていません",
        "reason_no_rows": "条件に合う行がありません ({filters})",
        "reason_conflict": "この項目について文書間で回答が食い違っています。各行を引用し、どちらも選んでいません",
        "question": "質問",
        "asked_at": "質問日時",
        "status": "状態",
        "status_answered": "回答あり",
        "status_conflict": "文書間で回答が食い違い",
        "status_no_answer": "確かな回答なし",
        "status_error": "質問できませんでした",
        "shown_as": "表示",
        "role_answer": "回答",
        "role_conflicting": "食い違う行",
        "role_outdated": "旧情報の行",
        "role_closest": "近い行",
        "role_other_vendor": "他ベンダーの行",
        "role_alternative": "その他の候補",
        "citation": "出典",
        "note": "備考",
        "transcript_title": "チェックシートアシスタント: 会話の記録 ({date} 出力)",
    },
    "ko": {
        "vendor": "벤더",
        "document": "문서",
        "language": "언어",
        "section": "섹션",
        "row": "행",
        "row_id": "행 ID {row_id}",
        "source": "출처",
        "item": "항목",
        "answer": "답변",
        "no_section": "(섹션 없음)",
        "version": "버전 {version}",
        "as_of": "{date} 기준",
        "undated": "날짜 미상",
        "item_no": "No. {number}",
        "line": "{start}행",
        "lines": "{start}-{end}행",
        "sheet": "시트 {sheet}",
        "newer_exists": "참고: 이 벤더의 더 새로운 문서가 있습니다: {documents}",
        "outdated": "이전 정보 (새 문서에서는 다르게 기재됨): {answer}",
        "no_answer": "신뢰할 수 있는 답변이 없습니다: {reason}",
        "closest": "가장 가까운 행 (사용하기 전에 확인하세요):",
        "conflict": "문서 간 답변이 서로 다릅니다. 두 행을 모두 인용합니다:",
        "from_vendor": "{vendor}의 답변",
        "current_row": "현행 행: {row_id}",
        "reason_low_confidence": (
            "신뢰할 수 있는 답변이라고 할 만한 행을 찾지 못했습니다 "
            "(신뢰도 {confidence}, 답변에 필요한 값 {threshold}). "
            "가장 가까운 행을 보여 드립니다. 사용하기 전에 확인하세요"
        ),
        "reason_no_documents": "{subject}에 대한 문서가 없습니다: 이 질문은 {subject}에 관한 것이며, "
        "코퍼스에는 {subject}의 문서가 없습니다",
        "reason_no_rows": "조건에 맞는 행이 없습니다 ({filters})",
        "reason_conflict": "이 항목에 대해 문서 간 답변이 서로 다릅니다. "
        "각 행을 인용하며 어느 쪽도 선택하지 않았습니다",
        "question": "질문",
        "asked_at": "질문 시각",
        "status": "상태",
        "status_answered": "답변 있음",
        "status_conflict": "문서 간 답변 불일치",
        "status_no_answer": "신뢰할 수 있는 답변 없음",
        "status_error": "질문할 수 없음",
        "shown_as": "표시",
        "role_answer": "답변",
        "role_conflicting": "서로 다른 행",
        "role_outdated": "이전 정보 행",
        "role_closest": "가장 가까운 행",
        "role_other_vendor": "다른 벤더의 행",
        "role_alternative": "기타 후보",
        "citation": "출처",
        "note": "비고",
        "transcript_title": "체크시트 어시스턴트: 대화 기록 ({date} 내보냄)",
    },
}


def label(key: str, language: str = "en", **values: str) -> str:
    """A label in ``language`` (English when the language has none), with ``values`` filled in.

    >>> label("lines", "ja", start="3", end="5"), label("as_of", "fr", date="2025-01-09")
    ('3〜5行目', 'as of 2025-01-09')
    """
    text = _LABELS.get(language, _LABELS["en"]).get(key) or _LABELS["en"][key]
    return text.format(**values)


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def line_span(line_start: int, line_end: int, sheet: str | None = None, language: str = "en") -> str:
    """Where the cited text is in its file: "line 4", "lines 4-6", with the sheet of a workbook first.

    >>> line_span(4, 4), line_span(4, 6, sheet="Sheet1"), line_span(4, 6, language="ko")
    ('line 4', 'sheet Sheet1, lines 4-6', '4-6행')
    """
    start, end = str(line_start), str(line_end)
    if line_start == line_end:
        span = label("line", language, start=start)
    else:
        span = label("lines", language, start=start, end=end)
    return f"{label('sheet', language, sheet=sheet)}, {span}" if sheet else span


def document_text(citation: Citation, language: str = "en") -> str:
    """The document's title, with its version when the title does not say it, and its date (or "undated")."""
    parts = [citation.document_title]
    if citation.version and citation.version not in citation.document_title:
        parts.append(label("version", language, version=citation.version))
    date = citation.as_of.isoformat() if citation.as_of else None
    parts.append(label("as_of", language, date=date) if date else label("undated", language))
    return ", ".join(parts)


def citation_line(citation: Citation, language: str = "en") -> str:
    """The whole citation on one line: vendor, document, version/date, item number, row id, file and lines.

    >>> import datetime as dt
    >>> c = Citation(vendor="Wevox", vendor_id="wevox", document_id="wevox/meti", document_title="Sheet Ver.1.4",
    ...     file="wevox/meti.tsv", row_id="wevox/meti#92", item_no="43", section=[], line_start=120,
    ...     line_end=120, language="en", as_of=dt.date(2025, 1, 9), version="1.4")
    >>> citation_line(c)
    'Wevox, Sheet Ver.1.4, as of 2025-01-09, No. 43, row wevox/meti#92, wevox/meti.tsv line 120'
    """
    parts = [citation.vendor, document_text(citation, language)]
    if citation.item_no:
        parts.append(label("item_no", language, number=citation.item_no))
    parts.append(label("row_id", language, row_id=citation.row_id))
    parts.append(f"{citation.file} {line_span(citation.line_start, citation.line_end, citation.sheet, language)}")
    return ", ".join(parts)


def citation_fields(citation: Citation, language: str = "en") -> list[tuple[str, str]]:
    """The citation as labelled fields, one per line in the UI and the CLI."""
    item = f" · {label('item_no', language, number=citation.item_no)}" if citation.item_no else ""
    where = line_span(citation.line_start, citation.line_end, citation.sheet, language)
    return [
        (label("vendor", language), citation.vendor),
        (label("document", language), document_text(citation, language)),
        (label("language", language), f"{language_name(citation.language)} ({citation.language})"),
        (label("section", language), " > ".join(citation.section) or label("no_section", language)),
        (label("row", language), f"{citation.row_id}{item} ({citation.file}, {where})"),
    ]


def citation_block(citation: Citation, language: str = "en") -> str:
    """`citation_fields` as "Label: value" lines."""
    return "\n".join(f"{name}: {value}" for name, value in citation_fields(citation, language))


def item_text(match: Match) -> str:
    """What the row answers: its item and the check it states, as written."""
    return " / ".join(part for part in (match.item, match.question) if part.strip())


def match_text(match: Match, language: str = "en") -> str:
    """One row ready to paste: the item it answers, the verbatim answer (with its detail), and the citation."""
    lines = []
    item = item_text(match)
    if item:
        lines.append(f"{label('item', language)}: {item}")
    lines.append(match.answer_text())
    lines.append(f"{label('source', language)}: {citation_line(match.citation, language)}")
    return "\n".join(lines)


def reason_text(result: AskResult, language: str = "en") -> str:
    """Why a result has no single answer, in ``language`` ("" when it has one).

    Built from the reason code and the result's fields, so that it can be said in the asker's language;
    the library's own ``result.reason`` (English) is the fallback for a code this function does not know.
    """
    code = result.reason_code
    if code == "low_confidence":
        return label(
            "reason_low_confidence",
            language,
            confidence=f"{result.confidence:.2f}",
            threshold=f"{result.threshold:.2f}",
        )
    if code == "no_documents_for_subject" and result.unknown_subject:
        return label("reason_no_documents", language, subject=result.unknown_subject)
    if code == "no_rows":
        filters = [f"{label('vendor', language)} {result.vendor}" if result.vendor else ""]
        filters.append(f"{label('language', language)} {result.language}" if result.language else "")
        return label("reason_no_rows", language, filters=", ".join(f for f in filters if f) or "-")
    if code == "conflict":
        return label("reason_conflict", language)
    return result.reason or ""


def headline(citation: Citation, language: str = "en") -> str:
    """Whose answer and from which document, for the top of a card: vendor · document, version, date · No.

    >>> import datetime as dt
    >>> c = Citation(vendor="Wevox", vendor_id="wevox", document_id="wevox/meti", document_title="Sheet",
    ...     file="wevox/meti.tsv", row_id="wevox/meti#92", item_no="43", section=[], line_start=120,
    ...     line_end=120, language="en", as_of=dt.date(2025, 1, 9), version="1.4")
    >>> headline(c, "ja")
    'Wevox · Sheet, 版 1.4, 2025-01-09 時点 · No. 43 · English'
    """
    parts = [citation.vendor, document_text(citation, language)]
    if citation.item_no:
        parts.append(label("item_no", language, number=citation.item_no))
    parts.append(language_name(citation.language))
    return " · ".join(parts)


def outdated_text(old: Match, language: str = "en") -> str:
    """An outdated row: what it says, its citation, and the row that replaces it."""
    lines = [label("outdated", language, answer=old.answer_text())]
    lines.append(f"{label('source', language)}: {citation_line(old.citation, language)}")
    if old.outdated_by:
        lines.append(label("current_row", language, row_id=old.outdated_by))
    return "\n".join(lines)


def result_text(result: AskResult, language: str = "en") -> str:
    """The whole result as plain text: the answer, or the disagreeing rows, or the closest rows, each cited."""
    blocks: list[str] = []
    if result.status == "answered" and result.answer is not None:
        blocks.append(match_text(result.answer, language))
        blocks.extend(outdated_text(old, language) for old in result.outdated)
        if result.answer.citation.superseded_by and not result.outdated:
            blocks.append(label("newer_exists", language, documents=", ".join(result.answer.citation.superseded_by)))
    elif result.status == "conflict":
        blocks.append(label("conflict", language))
        blocks.extend(match_text(match, language) for match in result.conflicting)
    else:
        blocks.append(label("no_answer", language, reason=reason_text(result, language)))
        if result.alternatives:
            blocks.append(label("closest", language))
            blocks.extend(match_text(match, language) for match in result.alternatives)
    return "\n\n".join(blocks)
