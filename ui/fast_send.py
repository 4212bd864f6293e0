"""Sends the drawing the moment the pen lifts, instead of after the canvas component's 200 ms debounce.

streamlit-drawable-canvas 0.13 waits 200 ms after each mouse-up before sending the drawing (a trailing debounce),
which was the largest single part of the time from mouse-up to prediction. Its toolbar's upload button sends at
once and cancels the pending send; this page-level script presses it right after the pen lifts from the canvas.
If the button is ever missing, nothing happens and the debounced send still arrives.
"""

from __future__ import annotations

import streamlit as st

JS = """
export default function () {
  if (window.__digitFastSend) return;
  window.__digitFastSend = true;
  let root = null;  // the canvas the pen went down on
  const down = (event) => {
    const path = event.composedPath();
    const onCanvas = path.some((el) => el.classList && el.classList.contains('upper-canvas'));
    root = onCanvas ? path.find((el) => el.classList && el.classList.contains('dc-root')) : null;
  };
  const up = () => {
    if (!root) return;
    const button = root.querySelector('button[title="Update the app with this drawing"]');
    root = null;
    // After the canvas's own mouse-up work (it saves the stroke in a microtask), send at once.
    if (button) setTimeout(() => button.click(), 0);
  };
  window.addEventListener('pointerdown', down, true);
  window.addEventListener('pointerup', up, true);
  window.addEventListener('pointercancel', up, true);
}
"""

_component = st.components.v2.component("digit-page.fast-send", js=JS)


def fast_send() -> None:
    """Mount the script once on the page (it installs its listeners a single time)."""
    _component(key="fast-send")
