"""Entry point of the web UI (`streamlit run ui/app.py`): the pages, and the UI language every page speaks."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistant.citations import UI_LANGUAGES, language_name

from cards import CHAT_PAGE, SOURCE_PAGE
from texts import LANGUAGE_KEY, browser_language, t, ui_language
from widgets import page_style

# Material "verified_user" drawn from a local file: a :material/ page icon would make the browser fetch the
# favicon from fonts.gstatic.com, and an emoji needs an emoji font.
ICON = Path(__file__).resolve().parent / "icon.svg"

if LANGUAGE_KEY not in st.session_state:
    st.session_state[LANGUAGE_KEY] = browser_language()
language = ui_language()
st.set_page_config(page_title=t("page_title", language), page_icon=str(ICON))
pages = [
    st.Page(CHAT_PAGE, title=t("nav_ask", language), icon=":material/chat:", default=True),
    st.Page(SOURCE_PAGE, title=t("nav_source", language), icon=":material/description:", url_path="source"),
    st.Page(
        "questionnaire.py",
        title=t("nav_questionnaire", language),
        icon=":material/checklist:",
        url_path="questionnaire",
    ),
]
page = st.navigation(pages)
with st.sidebar:
    st.selectbox(t("ui_language", language), UI_LANGUAGES, format_func=language_name, key=LANGUAGE_KEY)
page_style()
page.run()
