"""Whose question is it: a company or product the question is about that the corpus holds no documents for.

"Does Slack support SAML SSO?" asks about Slack; answering it from a row of another vendor that happens to
mention Slack (an integration list) would send a customer a false statement. A name from the list below
counts as the question's subject when it stands where a subject stands - after an auxiliary at the start
of an English question ("Does Slack ...", "Is Zoom ..."), at the start before a verb ("Slack supports
..."), or before a topic or subject particle in Japanese (Slackは, Zoomが) and Korean (Slack은, Zoom이) -
and not when it is an object ("integrate with Slack", "Slackと連携", "Slack과 연동").
"""

from __future__ import annotations

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
_JA_PARTICLE = r"(?:は|が|では|って|でも)"
_KO_PARTICLE = r"(?:은|는|이|가|에서는|에서)"


_LATIN = r"A-Za-z0-9"
_CJK = r"\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _patterns(name: str) -> list[re.Pattern[str]]:
    """Where ``name`` stands as a subject; names are matched as written (LINE, not "line")."""
    escaped = re.escape(_fold(name))
    # A name must not be part of a longer word: Latin names among letters, CJK names among CJK characters
    # ("ライン" in "オンライン", "라인" in "온라인").
    letters = _LATIN if name[0].isascii() else _CJK
    before, after = rf"(?<![{letters}])", rf"(?![{letters}])"
    return [
        re.compile(rf"^\W*{_AUXILIARY}\s+(?:(?i:the)\s+)?{escaped}{after}"),
        re.compile(rf"^\W*{escaped}{after}(?:'s)?\s+{_VERB}\b"),
        re.compile(rf"{before}{escaped}\s*{_JA_PARTICLE}"),
        re.compile(rf"{before}{escaped}\s*{_KO_PARTICLE}(?![가-힣])"),
    ]


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
        self._entries = [(name, _fold(name), _patterns(name)) for name in kept]

    def unknown_subject(self, question: str) -> str | None:
        """The first listed name the question is about, as listed; None when there is none."""
        text = _fold(question)
        for name, folded, patterns in self._entries:
            if folded in text and any(pattern.search(text) for pattern in patterns):
                return name
        return None
