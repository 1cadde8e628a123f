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


def result_text(result: AskResult, language: str = "en") -> str:
    """The whole result as plain text: the answer, or the disagreeing rows, or the closest rows, each cited."""
    blocks: list[str] = []
    if result.status == "answered" and result.answer is not None:
        blocks.append(match_text(result.answer, language))
        for old in result.outdated:
            outdated = label("outdated", language, answer=old.answer_text())
            blocks.append(f"{outdated}\n{citation_line(old.citation, language)}")
        if result.answer.citation.superseded_by and not result.outdated:
            blocks.append(label("newer_exists", language, documents=", ".join(result.answer.citation.superseded_by)))
    elif result.status == "conflict":
        blocks.append(label("conflict", language))
        blocks.extend(match_text(match, language) for match in result.conflicting)
    else:
        blocks.append(label("no_answer", language, reason=result.reason or ""))
        if result.alternatives:
            blocks.append(label("closest", language))
            blocks.extend(match_text(match, language) for match in result.alternatives)
    return "\n\n".join(blocks)
