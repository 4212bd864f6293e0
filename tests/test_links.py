"""Links that share the page's state, under AppTest: a link opens the chapter with the drawing read as drawn and the
chapter's settings; the page's own Share link round-trips; a malformed, foreign or oversized link gets a line and the
defaults, and the rest of the page works."""

from __future__ import annotations

import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn.model import load, page_reading
from cnn.preprocess import canvas_to_mnist
from cnn.strokes import DIGIT_STROKES, draw_digit, to_canvas_points
from tests.helpers.page import APP, errors, metric, run_app, shown
from ui.chapters import heading
from ui.share import MAX_TOKEN_CHARS, SharedDrawing, pack, rasterize


def shared_digit(digit: int, pen: int = 20) -> SharedDrawing:
    strokes = [[(int(round(x)), int(round(y))) for x, y in to_canvas_points(s, 280)] for s in DIGIT_STROKES[digit]]
    return SharedDrawing(strokes, [pen] * len(strokes), pen)


def open_link(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({k: str(v) for k, v in params.items()})
    return at.run()


def notes(at) -> list[str]:
    return [shown(c.value) for c in at.caption if c.value.startswith(("The link", "From the link", "This link names"))]


def probabilities(at) -> np.ndarray:
    import base64
    import json

    (bars,) = [t for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]
               if t.get("type") == "bar" and t.get("x") == [str(d) for d in range(10)]][:1]
    return np.frombuffer(base64.b64decode(bars["y"]["bdata"]), dtype=bars["y"]["dtype"])


def test_a_link_opens_its_chapter_with_its_drawing_read_and_its_settings():
    drawing = shared_digit(4, pen=24)
    at = open_link(chapter="dense", d=pack(drawing), mv_dx=5, mv_rotate=-15.0, pen=24)
    assert not at.exception and errors(at) == [] and notes(at) == []
    assert heading(1) in "\n".join(h.proto.body for h in at.get("html"))
    assert metric(at, "Prediction") == "4"
    expected = page_reading(load(), canvas_to_mnist(rasterize(drawing)))[0]
    np.testing.assert_allclose(probabilities(at), expected, atol=1e-6)  # read from the link's strokes, drawn
    assert (at.session_state["mv_dx"], at.session_state["mv_rotate"], at.session_state["pen"]) == (5, -15.0, 24)
    assert at.slider(key="mv_dx").value == 5
    assert dict(at.query_params) == {"chapter": ["dense"]} or dict(at.query_params) == {"chapter": "dense"}


def test_the_pages_share_link_opens_the_same_state_elsewhere():
    at = run_app(draw_digit(7), part="1D convolution padding", c1d_mode="valid")
    at = run_app(draw_digit(7), at=at)  # the chapter's widgets now hold their values
    (link,) = [c.value for c in at.code if "chapter=" in c.value]
    query = link.split("?", 1)[1]
    assert "chapter=convolution" in query and "c1d_mode=valid" in query
    # the patched canvas sends a PNG and no strokes: the link holds the chapter and the settings
    from urllib.parse import parse_qsl

    other = open_link(**dict(parse_qsl(query)))
    assert not other.exception and notes(other) == []
    assert other.session_state["c1d_mode"] == "valid" and other.session_state["c1d_x"] == at.session_state["c1d_x"]
    assert "np.convolve(x, h, 'valid')" in "\n".join(c.value for c in other.code)


def test_a_drawing_with_strokes_goes_into_the_link_and_comes_back_the_same():
    from ui.share import decode_drawing, encode_drawing, to_fabric

    drawing = shared_digit(2)
    at = open_link(chapter="layers", d=pack(drawing))
    at.session_state["canvas"] = {"drawing": {"raw": to_fabric(drawing)}}  # as the canvas holds it after loading
    at.run()
    (link,) = [c.value for c in at.code if "chapter=" in c.value]
    token = re.search(r"[?&]d=([A-Za-z0-9_-]+)", link)[1]
    assert decode_drawing(token) == decode_drawing(encode_drawing(to_fabric(drawing), drawing.pen)) == drawing


@pytest.mark.parametrize(
    "params, says",
    [
        ({"d": "!!not a token"}, "The link's drawing could not be read"),
        ({"d": "A" * (MAX_TOKEN_CHARS + 1)}, "The link's drawing could not be read"),
        ({"d": pack(shared_digit(3))[:-6]}, "The link's drawing could not be read"),
        ({"mv_dx": "99", "chapter": "dense"}, "must be a whole number from -8 to 8"),
        ({"pen": "1e400"}, "must be a whole number from 6 to 40"),
        ({"c1d_mode": "<script>", "chapter": "convolution"}, "must be one of full, same, valid"),
        ({"utm_source": "mail"}, "is not one this page has"),
        ({"x" * 2000: "1"}, "too long"),
        ({"chapter": "nowhere"}, "names no chapter"),
    ],
)
def test_a_malformed_or_foreign_link_gets_a_line_and_the_defaults(params, says):
    at = open_link(**params)
    assert not at.exception and errors(at) == []
    (note,) = [n for n in notes(at) if says in n]
    assert len(note) < 200
    assert metric(at, "Prediction") is None and at.session_state["pen"] == 20
    at = run_app(draw_digit(6), at=at)  # and the page goes on: a drawing is read
    assert metric(at, "Prediction") == "6"
