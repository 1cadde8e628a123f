"""Entry point of the web UI (`streamlit run ui/app.py`): the chat, and the source view at `/source?row=<row id>`."""

from __future__ import annotations

import streamlit as st

from cards import CHAT_PAGE, SOURCE_PAGE

# Emoji, not :material/ icons: a material page icon makes the browser fetch the favicon from fonts.gstatic.com.
st.set_page_config(page_title="Checksheet assistant", page_icon="🛡️")
page = st.navigation(
    [
        st.Page(CHAT_PAGE, title="Ask", icon="💬", default=True),
        st.Page("questionnaire.py", title="Questionnaire", icon="📋", url_path="questionnaire"),
        st.Page(SOURCE_PAGE, title="Source view", icon="📄", url_path="source"),
    ]
)
page.run()
