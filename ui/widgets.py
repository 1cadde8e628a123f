"""What Streamlit lacks: a Copy button that writes to the clipboard, scrolling a new answer into view, the page style.

The components' HTML, CSS and JavaScript below are fixed; the text to copy reaches the browser only as the
component's JSON data and is only ever assigned to the clipboard, never to HTML.
"""

from __future__ import annotations

import streamlit as st

from texts import t

#: Material Symbols "content_copy" (Apache-2.0), drawn inline so the button needs no font or network.
_COPY_ICON = (
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16 1H4c-1.1 0-2 .9-2 2v14h2V3h12V1zm3 4H8c-1.1 0-2 '
    '.9-2 2v14c0 1.1.9 2 2 2h11c1.1 0 2-.9 2-2V7c0-1.1-.9-2-2-2zm0 16H8V7h11v14z"/></svg>'
)

_COPY_CSS = """
button {
  display: inline-flex; align-items: center; gap: 0.4rem; min-height: 2.25rem; padding: 0.25rem 0.75rem;
  border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; background: transparent; color: inherit;
  font: inherit; line-height: 1.6; cursor: pointer;
}
button:hover { border-color: #ff4b4b; color: #ff4b4b; }
button:focus-visible { outline: 2px solid #ff4b4b; outline-offset: 1px; }
button[data-copied="yes"] { border-color: #21c354; color: #177233; }
svg { width: 1.05rem; height: 1.05rem; fill: currentColor; }
"""

_COPY_JS = """
export default function (component) {
  const { data, parentElement } = component;
  const button = parentElement.querySelector("button");
  const label = parentElement.querySelector(".label");
  label.textContent = data.label;
  button.title = data.label;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(data.text);
      return true;
    } catch (error) {
      // No clipboard API (plain http away from localhost): copy a selected, hidden textarea instead.
      const area = document.createElement("textarea");
      area.value = data.text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      let copied = false;
      try { copied = document.execCommand("copy"); } catch (ignored) { copied = false; }
      area.remove();
      return copied;
    }
  };
  button.onclick = async () => {
    const copied = await copy();
    button.dataset.copied = copied ? "yes" : "no";
    label.textContent = copied ? data.done : data.failed;
    setTimeout(() => { label.textContent = data.label; delete button.dataset.copied; }, 2500);
  };
}
"""

_copy = st.components.v2.component(
    "checksheet_copy_button",
    html=f'<button type="button">{_COPY_ICON}<span class="label"></span></button>',
    css=_COPY_CSS,
    js=_COPY_JS,
)


def copy_button(text: str, key: str, language: str, label_key: str = "copy") -> None:
    """A visible button that puts ``text`` on the clipboard (the label in the UI language)."""
    data = {"text": text, "label": t(label_key, language), "done": t("copied", language)}
    data["failed"] = t("copy_failed", language)
    _copy(data=data, key=key, width="content")


_SCROLL_JS = """
export default function (component) {
  const { parentElement } = component;
  const card = parentElement.closest('[data-testid="stChatMessage"]');
  if (!card) { return; }
  card.style.scrollMarginTop = "4.5rem";  // below Streamlit's header bar
  // Streamlit's chat keeps to the bottom: while the card is drawn it animates the page down, and a scroll made
  // during that animation does not release it. So look every 100 ms for a few seconds and move the card up only
  // once the page has stopped moving; stop as soon as the reader scrolls, taps or types.
  const box = card.closest('[data-testid="stAppScrollToBottomContainer"]') || document.scrollingElement;
  let last = null;
  const show = () => {
    const position = box.scrollTop;
    const still = position === last;
    last = position;
    const top = card.getBoundingClientRect().top;
    if (still && (top < 0 || top > window.innerHeight * 0.5)) { card.scrollIntoView({ block: "start" }); }
  };
  const reader = ["wheel", "touchstart", "pointerdown", "keydown"];
  const timer = setInterval(show, 100);
  const stop = () => {
    clearInterval(timer);
    for (const name of reader) { window.removeEventListener(name, stop, true); }
  };
  for (const name of reader) { window.addEventListener(name, stop, { capture: true, passive: true }); }
  const end = setTimeout(stop, 4000);
  return () => { clearTimeout(end); stop(); };
}
"""

_scroll = st.components.v2.component("checksheet_scroll_into_view", js=_SCROLL_JS, isolate_styles=False)


def scroll_into_view(key: str) -> None:
    """Scroll the chat message this is drawn in to the top of the screen (a new answer, on a phone)."""
    _scroll(key=key, width="content", height=0)


#: The look of the cards by state, the highlighted source lines and wrapping of long text. Fixed CSS only.
_STYLE = """
<style>
[class*="st-key-card-"] { border-left-width: 6px !important; }
[class*="st-key-card-answered-"] { border-left-color: #21c354 !important; }
[class*="st-key-card-conflict-"] { border-left-color: #ffa421 !important; background: #fffaf0; }
[class*="st-key-card-no_answer-"] { border-left-color: #ff4b4b !important; }
[class*="st-key-card-no_documents-"] { border-left-color: #803df5 !important; background: #faf7ff; }
[class*="st-key-card-no_rows-"] { border-left-color: #a3a8b8 !important; }
[class*="st-key-outdated-"] { border-left: 6px solid #a3a8b8 !important; background: #f6f6f8; }
[class*="st-key-headline-"] [data-testid="stText"] { font-weight: 600; font-size: 1.05rem; }
[class*="st-key-line-cited-"] { background: #fff3b0; font-weight: 600; }
[class*="st-key-line-"] [data-testid="stText"] { overflow-wrap: anywhere; white-space: pre-wrap; }
[class*="st-key-lineno-"] { min-width: 4.5rem; }
</style>
"""


def page_style() -> None:
    st.html(_STYLE)
