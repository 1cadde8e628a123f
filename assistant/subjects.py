"""Whose question is it: a company or product the question is about that the corpus holds no documents for.

"Does Slack support SAML SSO?" asks about Slack; answering it from a row of another vendor that happens to
mention Slack (an integration list) would send a customer a false statement. A name from the list below
counts as the question's subject when it stands where a subject stands - after an auxiliary at the start
of an English question ("Does Slack ...", "Is Zoom ..."), at the start before a verb ("Slack supports
..."), or before a topic or subject particle in Japanese (Slackは, Zoomが) and Korean (Slack은, Zoom이) -
and not when it is an object ("integrate with Slack", "Slackと連携", "Slack과 연동").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

#: Companies and products a customer may ask about that sell or run software (names as written, with the
#: usual Japanese and Korean spellings). A name that is also one of the corpus's vendors is never a
#: foreign subject: the corpus's own names win.
KNOWN_NAMES: tuple[str, ...] = (
    "Slack",
    "スラック",
    "슬랙",
    "Zoom",
    "ズーム",
    "줌",
    "Microsoft Teams",
    "Teams",
    "マイクロソフト",
    "Microsoft",
    "팀즈",
    "마이크로소프트",
    "Google Workspace",
    "Google",
    "Gmail",
    "グーグル",
    "구글",
    "Box",
    "ボックス",
    "박스",
    "Dropbox",
    "ドロップボックス",
    "드롭박스",
    "Salesforce",
    "セールスフォース",
    "세일즈포스",
    "Okta",
    "OneLogin",
    "HENNGE",
    "Azure",
    "Entra ID",
    "LINE WORKS",
    "LINE",
    "ライン",
    "라인",
    "Chatwork",
    "チャットワーク",
    "Notion",
    "Atlassian",
    "Jira",
    "Confluence",
    "Trello",
    "Asana",
    "Miro",
    "Figma",
    "Canva",
    "GitHub",
    "GitLab",
    "Bitbucket",
    "ServiceNow",
    "Workday",
    "SAP",
    "Oracle",
    "Adobe",
    "DocuSign",
    "HubSpot",
    "Zendesk",
    "Intercom",
    "Webex",
    "Cisco",
    "Kintone",
    "キントーン",
    "Cybozu",
    "サイボウズ",
    "Sansan",
    "freee",
    "SmartHR",
    "Backlog",
    "Shopify",
    "Stripe",
    "Twilio",
    "Cloudflare",
    "Datadog",
    "Snowflake",
    "Workplace",
    "Kakao",
    "카카오",
    "Naver",
    "네이버",
    "Dooray",
    "두레이",
)

_AUXILIARY = r"(?i:does|do|did|is|are|was|were|can|could|will|would|has|have|should|may)"
_VERB = (
    r"(?i:is|are|has|have|does|do|supports?|offers?|provides?|uses?|encrypts?|stores?|keeps?|holds?|"
    r"complies|comply|allows?|enables?|retains?|backs?|meets?)"
)
#: Words after a name that make it the thing integrated with, not the thing asked about ("Slack notifications").
_INTEGRATION = (
    r"(?i:integrations?|notifications?|alerts?|connectors?|apps?|bots?|channels?|連携|統合|通知|アプリ|ボット|"
    r"チャンネル|연동|연계|통합|알림|앱|봇|채널)"
)
_JA_TOPIC = r"(?:は|が|では|って|でも)"
_KO_SUBJECT = r"(?:은|는|이|가|의|에서는)"
#: Korean particles that make the phrase before them an object or an adverbial (with, to, in, from).
_KO_OBJECT = r"(?:을|를|과|와|에|에서|로|으로|랑|하고|한테)"
_LATIN = r"A-Za-z0-9"
_CJK = r"\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@functools.cache
def _patterns(name: str) -> list[re.Pattern[str]]:
    """Where ``name`` stands as the subject; names are matched as written (LINE, not "line")."""
    escaped = re.escape(_fold(name))
    # A name must not be part of a longer word: Latin names among letters, CJK names among CJK characters
    # ("ライン" in "オンライン", "라인" in "온라인").
    letters = _LATIN if name[0].isascii() else _CJK
    before, after = rf"(?<![{letters}])", rf"(?![{letters}])"
    noun = rf"(?!\s*{_INTEGRATION})"
    return [
        # English: after an auxiliary ("Does Slack ...", "Where does Box store ..."), or first before a verb.
        re.compile(rf"\b{_AUXILIARY}\s+(?:(?i:the)\s+)?{escaped}{after}(?:'s)?{noun}"),
        re.compile(rf"^\W*{escaped}{after}(?:'s)?\s+{_VERB}\b"),
        # Japanese: the topic or subject, or what owns it ("Boxのバックアップは").
        re.compile(rf"{before}{escaped}\s*{_JA_TOPIC}"),
        re.compile(rf"{before}{escaped}\s*の{noun}[^、。はがにとへをで]{{1,20}}{_JA_TOPIC}"),
        # Korean: with a subject, topic or possessive particle, also after the rest of a product name
        # ("Google Cloud SQL은"); or followed by nouns that carry no object particle ("Box 파일 버전 ...").
        re.compile(rf"{before}{escaped}(?:\s+[A-Za-z][\w.-]*)*\s*{_KO_SUBJECT}(?![가-힣])"),
    ]


_KO_OBJECT_END = re.compile(rf"{_KO_OBJECT}$")
_INTEGRATION_WORD = re.compile(rf"^{_INTEGRATION}")
_LATIN_WORD = re.compile(r"^[A-Za-z0-9][\w.-]*$", flags=re.ASCII)


def _korean_noun_phrase(text: str, start: int) -> bool:
    """Whether the Korean words after a name (at ``start``) extend it as a noun phrase ("Box 파일 버전 ...",
    also after Latin words of the rest of the phrase: "Slack SAML SSO 설정 방법"), rather than make it an
    object ("Slack 알림을 ...", "Slack 연동이 ...", "Slack API 연동은")."""
    words = text[start:].split()
    while words and _LATIN_WORD.match(words[0]):
        words = words[1:]
    words = words[:2]
    if not words or not re.search(r"[가-힣]", " ".join(words)) or _INTEGRATION_WORD.match(words[0]):
        return False
    return not any(_KO_OBJECT_END.search(word.rstrip("?？.!")) for word in words)


class Subjects:
    """Finds a foreign company or product a question is about.

    >>> subjects = Subjects(own_names=["Wevox", "VoicePing"])
    >>> [subjects.unknown_subject(q) for q in ("Does Slack support SAML SSO?", "Zoomは暗号化していますか")]
    ['Slack', 'Zoom']
    >>> [subjects.unknown_subject(q) for q in ("Can it send notifications to Slack?", "Slackと連携できますか")]
    [None, None]
    """

    def __init__(self, own_names: Iterable[str], names: Iterable[str] = KNOWN_NAMES) -> None:
        own = {_fold(name) for name in own_names}
        # Longest first, so that "Microsoft Teams" is found before "Teams" and "LINE WORKS" before "LINE".
        kept = sorted((n for n in names if _fold(n) not in own), key=len, reverse=True)
        # A name's patterns are compiled the first time a question contains it (compiling all took a second).
        self._entries = [(name, _fold(name)) for name in kept]

    def unknown_subject(self, question: str) -> str | None:
        """The first listed name the question is about, as listed; None when there is none."""
        text = _fold(question)
        for name, folded in self._entries:
            if folded not in text:
                continue
            if any(pattern.search(text) for pattern in _patterns(name)):
                return name
            at = text.find(folded)
            if (
                re.search(r"[가-힣]", text)
                and at == len(text[:at].rstrip()) == 0
                and _korean_noun_phrase(text, at + len(folded))
            ):
                return name
        return None
