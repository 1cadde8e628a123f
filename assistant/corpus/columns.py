"""Column roles of a checksheet header: which column is the category, the item, the answer, ..."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Role = Literal["item_no", "category", "item", "question", "unit", "answer", "detail", "notes", "other"]

#: Header words for each role, compared after NFKC, lowercasing and removing spaces.
HEADER_WORDS: dict[Role, tuple[str, ...]] = {
    "item_no": ("no", "no.", "#", "番号", "項番", "通番", "번호", "id", "ref"),
    "category": (
        "種別",
        "分類",
        "区分",
        "カテゴリ",
        "カテゴリー",
        "大分類",
        "category",
        "maincategory",
        "domain",
        "section",
        "종별",
        "분류",
        "구분",
        "대분류",
        "카테고리",
    ),
    "item": (
        "評価項目",
        "サービスレベル項目",
        "項目",
        "中分類",
        "脆弱性の種類",
        "subcategory",
        "evaluationitem",
        "item",
        "control",
        "topic",
        "평가항목",
        "항목",
        "중분류",
    ),
    "question": (
        "内容",
        "規定内容",
        "質問",
        "質問内容",
        "確認内容",
        "チェック項目",
        "実施項目",
        "checkdetails",
        "question",
        "description",
        "requirement",
        "checkitem",
        "질문",
        "내용",
        "확인내용",
        "점검항목",
    ),
    "unit": ("測定単位", "単位", "measurementunit", "unit", "단위"),
    "answer": (
        "回答",
        "ouranswer",
        "answer",
        "status",
        "対応状況",
        "チェック",
        "response",
        "対応",
        "답변",
        "응답",
        "대응상황",
        "회신",
    ),
    "detail": (
        "詳細",
        "answerdetails",
        "details",
        "detail",
        "補足説明",
        "説明",
        "comment",
        "comments",
        "explanation",
        "상세",
        "설명",
    ),
    "notes": ("その他補足", "additionalnotes", "notes", "note", "備考", "remarks", "補足", "비고", "참고"),
}

_LOOKUP: dict[str, Role] = {word: role for role, words in HEADER_WORDS.items() for word in words}

#: Roles whose empty cells are filled from the row above (a category cell left empty carries down).
CARRY_ROLES: frozenset[Role] = frozenset({"item_no", "category", "item"})
#: Roles that hold the row's content; a row with none of them filled is a section/group line.
CONTENT_ROLES: frozenset[Role] = frozenset({"question", "unit", "answer", "detail", "notes"})


def normalize_header(cell: str) -> str:
    """The form header words are compared in: NFKC, lowercase, no spaces or escapes."""
    text = unicodedata.normalize("NFKC", cell).lower().replace("\\", "")
    return re.sub(r"\s+", "", text).strip("*:：")


def role_of(cell: str) -> Role | None:
    """The role a header cell names, or None when the word is unknown."""
    return _LOOKUP.get(normalize_header(cell))


def header_score(cells: list[str]) -> int:
    """How many cells of a line are known header words (a line with two or more is a header)."""
    return sum(1 for cell in cells if cell.strip() and role_of(cell) is not None)


def assign_roles(header: list[str]) -> list[Role]:
    """Roles for each column of a header, by name first and then by position.

    Unknown or unnamed columns become ``other``, except an unnamed column right after the answer,
    which holds the answer's detail in many sheets (the VoicePing sheet's fifth column). Only the
    first column of each role keeps it; a second "answer" column becomes ``other``.

    >>> assign_roles(["No.", "種別", "サービスレベル項目", "規定内容", "測定単位", "回答", "詳細", "その他補足"])
    ['item_no', 'category', 'item', 'question', 'unit', 'answer', 'detail', 'notes']
    >>> assign_roles(["種別", "評価項目", "内容", "回答", ""])
    ['category', 'item', 'question', 'answer', 'detail']
    """
    roles: list[Role] = []
    seen: set[Role] = set()
    for cell in header:
        role = role_of(cell) if cell.strip() else None
        if role is None or role in seen:
            roles.append("other")
            continue
        roles.append(role)
        seen.add(role)
    for index, cell in enumerate(header):
        if not cell.strip() and index > 0 and roles[index - 1] == "answer" and "detail" not in seen:
            roles[index] = "detail"
            seen.add("detail")
    _promote_question(roles, header)
    return roles


def _promote_question(roles: list[Role], header: list[str]) -> None:
    """A sheet with a question-like column but no item column asks its question in that column."""
    if "item" not in roles and "question" not in roles:
        for index, role in enumerate(roles):
            if role == "other" and header[index].strip():
                roles[index] = "question"
                return


def column_names(header: list[str]) -> list[str]:
    """Display names for columns: the header cell, or "column N" (1-based) when it is empty.

    >>> column_names(["種別", "", "回答"])
    ['種別', 'column 2', '回答']
    """
    names: list[str] = []
    for index, cell in enumerate(header):
        name = cell.strip() or f"column {index + 1}"
        while name in names:
            name = f"{name} ({index + 1})"
        names.append(name)
    return names
