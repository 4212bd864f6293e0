"""The page under Streamlit's AppTest, with the canvas patched to send a drawing, and how to read what it shows."""

from __future__ import annotations

import base64
import io
import re
import sys

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnn import paths

APP = str(paths.ROOT / "app.py")


def png_data_url(rgba: np.ndarray) -> str:
    """A drawing as the canvas sends it: a PNG data URL."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(rgba, np.uint8)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _canvas_module():
    if "streamlit_drawable_canvas" not in sys.modules:
        # the component can only be imported inside a run: a throwaway run imports it, leaving the caller's untouched
        AppTest.from_file(APP, default_timeout=60).run()
    return sys.modules["streamlit_drawable_canvas"]


CANVAS_CALLS: list[dict] = []  # the arguments the page gave the (patched) canvas, latest last


def run_app(
    drawing: np.ndarray | str | None = None, at: AppTest | None = None, strokes: int = 1, part: str | None = None,
    chapter: str | None = None, canvas_key: str = "canvas", raw: dict | None = None, **state
) -> AppTest:
    """Run the page, the canvas sending `drawing`: an RGBA array, or the data URL itself (a crafted value); None: the
    canvas as before any stroke. `strokes` is how many objects its Fabric.js JSON holds. `part` (a title in
    ui/parts.py) opens the chapter that shows it; `chapter` opens a chapter by its name in the address. `canvas_key`:
    the canvas's key (the number canvas's, "number_canvas"); `raw`: its Fabric.js JSON, instead of `strokes` bare
    path objects."""
    from ui.chapters import CHAPTER, chapter_of

    at = at or AppTest.from_file(APP, default_timeout=60)
    if part is not None or chapter is not None:
        at.query_params[CHAPTER] = chapter if chapter is not None else chapter_of(part).slug
    for k, v in state.items():
        at.session_state[k] = v
    if drawing is None:
        return at.run()
    canvas = _canvas_module()
    url = drawing if isinstance(drawing, str) else png_data_url(drawing)
    raw = raw if raw is not None else {"objects": [{"type": "path"}] * strokes}
    at.session_state[canvas_key] = {"drawing": {"raw": raw, "data": url}}  # the browser's value, as a run sees it first
    value = canvas.CanvasResult(raw, url, return_image_data=True)
    original = canvas.st_canvas
    canvas.st_canvas = lambda *a, **k: CANVAS_CALLS.append(k) or value
    try:
        at.run()
    finally:
        canvas.st_canvas = original
    return at


def shown(markdown: str) -> str:
    """Markdown source as the page shows it, for text escaped by ui.markdown.literal."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def errors(at: AppTest) -> list[str]:
    return [shown(e.value) for e in at.error]


def metric(at: AppTest, label: str) -> str | None:
    return next((m.value for m in at.metric if m.label == label), None)


def codes(at: AppTest) -> str:
    return "\n".join(c.value for c in at.code)
