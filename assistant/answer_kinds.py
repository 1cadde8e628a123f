"""What kind of fact a question asks for, and whether an answer states one: a feature of the confidence.

"How often does the vendor run penetration tests?" asks for a frequency; a row that only says "有" (there are
scans) is on the topic without answering it. The kinds are few and written the same way in every sheet: a
frequency, a duration, a count, an email address. Each is recognised in English, Japanese and Korean by the
phrases below; an answer states a frequency with words like "monthly", "毎日" or "매월", a duration or a count
with a number (digits or number words), an email address as one. An answer that says the fact is not
disclosed ("Not disclosed", "非公開", "비공개") answers any kind: it is the vendor's answer.

`kind_missing` is 1 when the question asks for a kind of fact the answer does not state. On the dev questions
it is 1 for 14 of 454 questions, 10 of them without a right first row; as a feature of the calibration it
lowers the wrong answers given at the operating point (evals/README.md, "What the question asks for").
"""

from __future__ import annotations

import re
import unicodedata

#: A number: digits (not those of a name such as "S3" or "AES-256"), or a number word in English, Japanese or
#: Korean.
_NUMBER = (
    r"(?<![a-z-])\d|[一二三四五六七八九十百千]"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|once|twice)\b"
    r"|하나|둘|셋|넷|다섯|여섯|일곱|여덟|아홉|열"
)

#: What a question asks for, by the phrases that ask it.
ASKS = {
    "frequency": re.compile(
        r"how often|how frequently|how many times|at what interval|frequency"
        r"|頻度|何回|周期|間隔"
        r"|몇 ?번|주기|빈도|얼마나 자주"
    ),
    "duration": re.compile(
        r"how long|how many (?:days|weeks|months|years)"
        r"|何日|何週|何年|何か月|何ヶ月|何カ月|期間"
        r"|기간|얼마나 오래|며칠|몇 ?(?:일|주|개월|달|년)"
    ),
    "count": re.compile(
        r"how many"
        r"|何世代|何個|何件|何台|何名|何人|いくつ"
        r"|몇 ?(?:세대|개|곳|명|건|대)"
    ),
    "email address": re.compile(r"e-?mail address|mail address|メールアドレス|(?:이)?메일 ?주소"),
}

#: How an answer states each kind.
STATES = {
    "frequency": re.compile(
        _NUMBER + r"|daily|weekly|monthly|quarterly|annual|yearly|hourly|every|per (?:day|week|month|year)"
        r"|real[- ]?time|continuous|regular|periodic"
        r"|毎|定期|随時|常時|都度|たびに|度に|単位|リアルタイム"
        r"|매일|매주|매월|매년|정기|주기적|수시|상시|실시간|단위|마다"
    ),
    "duration": re.compile(_NUMBER + r"|indefinite|permanent|forever|until|永続|永久|無期限|まで|영구|무기한|까지"),
    "count": re.compile(_NUMBER),
    "email address": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
}

#: An answer that says the fact is not disclosed: the vendor's answer to any kind of question.
_NOT_DISCLOSED = re.compile(r"not disclosed|undisclosed|not publicly|非公開|非開示|開示していません|비공개|공개하지")


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def asked_kinds(question: str) -> set[str]:
    """The kinds of fact ``question`` asks for.

    >>> sorted(asked_kinds("How often are backups taken, and how many generations are kept?"))
    ['count', 'frequency']
    >>> sorted(asked_kinds("ログの保存期間は？")), sorted(asked_kinds("지원팀 메일 주소가 뭐예요?"))
    (['duration'], ['email address'])
    >>> asked_kinds("Is VoicePing ISO 27001 certified?")
    set()
    """
    text = _normal(question)
    return {kind for kind, pattern in ASKS.items() if pattern.search(text)}


def stated_kinds(answer: str) -> set[str]:
    """The kinds of fact ``answer`` states (every kind when it says the fact is not disclosed).

    >>> sorted(stated_kinds("実施周期:AWS Databaseにより1ヶ月単位のバックアップ"))
    ['count', 'duration', 'frequency']
    >>> sorted(stated_kinds("Contact: support@example.com")), stated_kinds("有")
    (['email address'], set())
    >>> sorted(stated_kinds("Not disclosed")) == sorted(ASKS)
    True
    """
    text = _normal(answer)
    if _NOT_DISCLOSED.search(text):
        return set(ASKS)
    return {kind for kind, pattern in STATES.items() if pattern.search(text)}


def kind_missing(question: str, answer: str) -> float:
    """1.0 when ``question`` asks for a kind of fact that ``answer`` does not state, else 0.0.

    >>> kind_missing("How often does the vendor run penetration tests?", "有")
    1.0
    >>> kind_missing("バックアップは何世代保持していますか？", "7世代"), kind_missing("SSOに対応していますか？", "有")
    (0.0, 0.0)
    """
    return float(bool(asked_kinds(question) - stated_kinds(answer)))
