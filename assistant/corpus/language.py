"""The language of a piece of text, told by its script (enough for EN, JA and KO documents)."""

from __future__ import annotations

from collections.abc import Sequence


def script_counts(text: str) -> dict[str, int]:
    """Counts of kana, hangul, CJK ideographs and Latin letters in ``text``."""
    counts = {"kana": 0, "hangul": 0, "han": 0, "latin": 0}
    for ch in text:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF or 0xFF66 <= code <= 0xFF9F or 0x31F0 <= code <= 0x31FF:
            counts["kana"] += 1
        elif 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            counts["hangul"] += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
            counts["han"] += 1
        elif ch.isascii() and ch.isalpha():
            counts["latin"] += 1
    return counts


def detect_language(text: str, allowed: Sequence[str] = ("en", "ja", "ko")) -> str | None:
    """``"ja"``, ``"ko"`` or ``"en"`` (the first Latin-script language allowed), or None.

    Kana means Japanese and hangul means Korean; ideographs alone count as Japanese. Only languages
    in ``allowed`` are returned, so a document's declared languages bound the answer.

    >>> detect_language("バックアップは何世代?"), detect_language("SSO를 지원합니까?"), detect_language("SSO?")
    ('ja', 'ko', 'en')
    """
    counts = script_counts(text)
    if counts["hangul"] and counts["hangul"] >= counts["kana"]:
        guess = "ko"
    elif counts["kana"] or counts["han"]:
        guess = "ja"
    elif counts["latin"]:
        guess = next((code for code in allowed if code not in ("ja", "ko", "zh")), "en")
    else:
        return None
    return guess if guess in allowed else None
