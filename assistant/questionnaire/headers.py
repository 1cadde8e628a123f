"""Header words and question forms: which column a header cell names, and whether a cell reads as a question."""

from __future__ import annotations

import re
import unicodedata

from assistant.corpus.columns import normalize_header

#: Header words, compared after NFKC, lowercasing and removing spaces (`normalize_header`), whole or as a part
#: of a header such as "質問事項 (Question)". A "strong" question word names the question column outright; a
#: "weak" one (項目, 内容, Item) may also name a short label column, so the longer text wins between two of them.
QUESTION_STRONG = frozenset(
    {
        "question", "questions", "questiontext", "controlquestion", "assessmentquestion", "質問", "質問事項",
        "質問内容", "質問項目", "確認事項", "確認内容", "確認項目", "チェック項目", "設問", "질문", "질문내용",
        "질문사항", "확인사항", "확인내용", "점검항목", "점검내용",
    }
)  # fmt: skip
QUESTION_WEAK = frozenset(
    {
        "項目", "内容", "항목", "내용", "item", "items", "description", "requirement", "requirements", "control",
        "要求事項", "評価項目", "要件", "チェックポイント", "checkpoint", "checkitem", "평가항목", "요구사항",
    }
)  # fmt: skip
ANSWER_WORDS = frozenset(
    {
        "answer", "answers", "response", "responses", "vendorresponse", "vendoranswer", "reply", "回答", "回答欄",
        "ご回答", "回答内容", "貴社回答", "回答結果", "ベンダー回答", "답변", "응답", "회신", "답변내용",
        "yes/no", "y/n", "はい/いいえ", "対応状況", "対応有無", "実施状況", "実施有無", "준수여부", "적용여부",
        "이행여부", "○/×", "〇/×", "有/無", "예/아니오", "예/아니요",
    }
)  # fmt: skip
NUMBER_WORDS = frozenset(
    {"no", "no.", "#", "番号", "項番", "通番", "번호", "id", "ref", "ref.", "itemno", "questionno", "質問番号",
     "管理番号", "순번", "項目番号"}
)  # fmt: skip
CATEGORY_WORDS = frozenset(
    {"category", "section", "domain", "分類", "区分", "大分類", "中分類", "カテゴリ", "カテゴリー", "分野",
     "領域", "분류", "구분", "영역", "대분류", "중분류", "카테고리"}
)  # fmt: skip
#: Sheets whose name starts with one of these hold no questions to fill (unless the user picks them).
NON_QUESTION_SHEETS = (
    "表紙", "cover", "instruction", "記入要領", "記入方法", "記入例", "回答例", "説明", "注意事項", "はじめに",
    "readme", "目次", "改訂履歴", "変更履歴", "revision", "history", "changelog", "example", "sample", "안내",
    "작성방법", "작성요령", "작성예시", "표지", "개정이력", "guide", "ガイド", "使い方", "list", "リスト", "master",
)  # fmt: skip

_PARTS = re.compile(r"[()\[\]【】（）「」/・|,、\n:：]+")
_QUESTION_END = re.compile(r"([?？]|か[。.]?|까요?[?.]?|니까[?.]?|ますか|ですか)\s*$")
_QUESTION_START = re.compile(
    r"^(do|does|did|is|are|was|were|can|could|will|would|have|has|how|what|when|where|which|who|why|please|"
    r"describe|explain|provide|list)\b",
    re.IGNORECASE,
)


def header_parts(cell: str) -> list[str]:
    """A header cell normalised, then its parts.

    >>> header_parts("質問事項（Question）")
    ['質問事項(question)', '質問事項', 'question']
    """
    whole = normalize_header(cell)
    return [whole, *(p for p in _PARTS.split(whole) if p and p != whole)]


def header_role(cell: str) -> str | None:
    """The role a header cell names: "question" (strong), "item" (weak question), "answer", "number", "category"."""
    for part in header_parts(cell):
        for role, words in _ROLE_WORDS:
            if part in words:
                return role
    return None


_ROLE_WORDS = (
    ("question", QUESTION_STRONG),
    ("answer", ANSWER_WORDS),
    ("item", QUESTION_WEAK),
    ("number", NUMBER_WORDS),
    ("category", CATEGORY_WORDS),
)


def looks_like_question(text: str) -> bool:
    """Whether a cell reads as a question: ends in ?/か/까, or starts with Do/Is/How/Please...

    >>> looks_like_question("バックアップを取得していますか"), looks_like_question("1. 組織的対策")
    (True, False)
    """
    text = unicodedata.normalize("NFKC", text).strip()
    return bool(_QUESTION_END.search(text) or _QUESTION_START.search(text))
