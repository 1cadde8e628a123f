"""Answer statuses: a checksheet's answer cell read as one value, so rows in different languages compare.

"有", "Yes", "○対応済", "예" all say yes; "無", "No", "○ 未対応", "아니오" say no. The cell itself is kept
verbatim in the row; the status is what facts are compared by (a JA row saying 無 and its EN twin saying
Yes disagree).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

#: "yes", "no", "partial", "not_applicable" (N/A, -, 該当なし), "not_disclosed" (非公開), "see_detail"
#: (右記参照, "Refer to the right": the answer is in the detail cell).
AnswerStatus = Literal["yes", "no", "partial", "not_applicable", "not_disclosed", "see_detail"]

_WORDS: dict[AnswerStatus, tuple[str, ...]] = {
    "yes": (
        "yes",
        "y",
        "有",
        "あり",
        "有り",
        "はい",
        "対応",
        "対応済",
        "対応済み",
        "実施",
        "実施済",
        "実施済み",
        "可",
        "可能",
        "○",
        "◯",
        "〇",
        "✓",
        "✔",
        "예",
        "네",
        "있음",
        "지원",
        "가능",
        "true",
    ),
    "no": (
        "no",
        "n",
        "無",
        "なし",
        "無し",
        "いいえ",
        "未対応",
        "未対策",
        "未実施",
        "不可",
        "非対応",
        "×",
        "✕",
        "✗",
        "아니오",
        "아니요",
        "없음",
        "미지원",
        "불가",
        "false",
    ),
    "partial": (
        "partial",
        "partially",
        "partly",
        "conditional yes",
        "一部有",
        "一部あり",
        "一部対応",
        "一部",
        "条件付き",
        "부분",
        "일부",
        "부분 지원",
        "일부 지원",
    ),
    "not_applicable": (
        "n/a",
        "na",
        "not applicable",
        "-",
        "―",
        "ー",
        "–",
        "該当なし",
        "対象外",
        "해당 없음",
        "해당없음",
    ),
    "not_disclosed": ("not disclosed", "非公開", "비공개", "undisclosed", "confidential"),
    "see_detail": (
        "refer to the right",
        "see right",
        "see details",
        "see detail",
        "see the details",
        "右記参照",
        "右記",
        "別紙参照",
        "詳細参照",
        "備考参照",
        "오른쪽 참조",
        "상세 참조",
    ),
}
_LOOKUP: dict[str, AnswerStatus] = {word: status for status, words in _WORDS.items() for word in words}
#: A status word followed by more text: "Yes, with the Security Option", "有（オプション）".
_LEADING = re.compile(r"^(yes|no|有|無|はい|いいえ|예|아니오|아니요)(?=[\s,.:;、。:(（/]|$)")
#: Markers around a status in IPA-style checklists: "※ ○ 対応済", "○ 未対応".
_MARKS = re.compile(r"^[※*\s]+")


def _fold(cell: str) -> str:
    text = unicodedata.normalize("NFKC", cell).casefold().strip()
    text = _MARKS.sub("", text)
    return re.sub(r"\s+", " ", text).strip(" .。")


def answer_status(cell: str) -> AnswerStatus | None:
    """The status an answer cell states, or None when it states a value or text instead.

    >>> [answer_status(c) for c in ["有", "Yes", "※ ○対応済", "○ 未対応", "一部有", "Conditional Yes", "非公開"]]
    ['yes', 'yes', 'yes', 'no', 'partial', 'partial', 'not_disclosed']
    >>> [answer_status(c) for c in ["右記参照", "Refer to the right", "上限無", "7世代", "", "Yes, on request"]]
    ['see_detail', 'see_detail', None, None, None, 'yes']
    """
    text = _fold(cell)
    if not text:
        return None
    if text in _LOOKUP:
        return _LOOKUP[text]
    # "○ 対応済" / "○ 未対策": the circle is the checklist's bullet, the words after it the status.
    for bullet in ("○", "◯", "〇"):
        if text.startswith(bullet):
            rest = text[len(bullet) :].strip()
            if rest in _LOOKUP:
                return _LOOKUP[rest]
    leading = _LEADING.match(text)
    return _LOOKUP[leading.group(1)] if leading else None


def contradict(a: AnswerStatus | None, b: AnswerStatus | None) -> bool:
    """Whether two statuses say opposite things: one "no" and the other "yes" or "partial".

    >>> contradict("no", "yes"), contradict("yes", "partial"), contradict("no", None)
    (True, False, False)
    """
    return {a, b} in ({"no", "yes"}, {"no", "partial"})
