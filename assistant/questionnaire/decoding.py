"""Text from a CSV file's bytes: a byte-order mark, UTF-8, or the legacy encoding Japanese or Korean Excel wrote."""

from __future__ import annotations

import codecs

from assistant.errors import QuestionnaireError

#: Encodings a CSV that is not UTF-8 is tried in: what Japanese, Korean and Western Excel write.
LEGACY_ENCODINGS = ("cp932", "cp949", "euc_jp", "cp1252")


def decode_csv(data: bytes, name: str) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read in.

    A byte-order mark decides (UTF-8, UTF-16); else UTF-8 if the bytes are valid UTF-8; else the most likely of
    the legacy encodings Excel writes (Shift_JIS/CP932, CP949, EUC-JP, Windows-1252), by charset-normalizer.

    >>> decode_csv("質問,回答\\n".encode("cp932"), "q.csv")
    ('質問,回答\\n', 'cp932')
    """
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8", name), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16", name), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guessed = _legacy_decode(data)
    if guessed is not None:
        return guessed
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=[*LEGACY_ENCODINGS, "utf_16_le", "utf_16_be"]).best()
    if best is None:
        raise QuestionnaireError(
            f"{name}: cannot tell the text encoding of this CSV; save it from Excel as 'CSV UTF-8' and fill that file"
        )
    return str(best), best.encoding


def _share(text: str, low: int, high: int) -> float:
    wide = [c for c in text if ord(c) > 0x7F]
    return sum(low <= ord(c) <= high for c in wide) / len(wide) if wide else 0.0


def _legacy_decode(data: bytes) -> tuple[str, str] | None:
    """Japanese or Korean Excel's encoding, told apart by what each decoding yields.

    Korean CP949 bytes decode as CP932 too, but into half-width katakana (its lead bytes are CP932's one-byte
    kana), which Japanese text rarely uses; Japanese EUC-JP bytes decode as CP949 into rare Hangul, but as EUC-JP
    into kana. A short text is too little for a statistical detector (charset-normalizer reads "質問,回答" in
    CP932 as CP949): these rules decide first.
    """
    decoded: dict[str, str] = {}
    for encoding in ("cp932", "euc_jp", "cp949"):
        try:
            decoded[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            continue
    kana = (0x3040, 0x30FF)
    if "cp932" in decoded and _share(decoded["cp932"], 0xFF61, 0xFF9F) < 0.2:
        return decoded["cp932"], "cp932"
    if "euc_jp" in decoded and _share(decoded["euc_jp"], *kana) > 0.1:
        return decoded["euc_jp"], "euc_jp"
    if "cp949" in decoded and _share(decoded["cp949"], 0xAC00, 0xD7A3) > 0.5:
        return decoded["cp949"], "cp949"
    return None


def _decode(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise QuestionnaireError(
            f"{name}: the file starts as {encoding} but byte {exc.start} is not valid {encoding}; "
            "save it again from Excel as 'CSV UTF-8'"
        ) from None
