"""The assistant, loaded once per server process and shared by every session and page."""

from __future__ import annotations

import threading

import streamlit as st

from assistant.errors import AssistantError, SettingsError
from assistant.retrieval import Assistant
from assistant.settings import Settings
from assistant.validation import checked_settings


@st.cache_resource(show_spinner=False)
def _shared() -> tuple[threading.Lock, dict[str, Assistant]]:
    """One lock and one assistant per settings, for the whole server process.

    The assistant is not returned by a cached function itself because the progress bar of a first build
    is drawn while it loads, and Streamlit would record those calls and replay them on every later run.
    """
    return threading.Lock(), {}


def get_assistant() -> Assistant:
    """The shared assistant; a first run that must build the index shows a progress bar, not a blank page."""
    try:
        settings = checked_settings(Settings.from_env)
    except SettingsError as error:
        st.error("The ASSISTANT_* settings are not valid:")
        st.code(str(error), language=None)
        st.stop()
    lock, assistants = _shared()
    key = settings.model_dump_json()  # other ASSISTANT_* values, another assistant
    if key in assistants:
        return assistants[key]
    bar = st.empty()

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"Building the index: {done} of {total} rows embedded")

    try:
        # A second session arriving during the first load waits here instead of loading the model again.
        with st.spinner("Loading the model and the index (the first start can take a minute)…"), lock:
            if key not in assistants:
                assistants[key] = Assistant.load(settings, rebuild=True, progress=progress)
    except AssistantError as error:
        st.error("The assistant cannot start:")
        st.code(str(error), language=None)
        st.stop()
    finally:
        bar.empty()
    return assistants[key]
