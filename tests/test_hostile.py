"""What a hostile client or a hasty hand sends the page: crafted canvas values, markup typed into inputs, a dot.

Each test here failed on the page before these cases were handled. The browser-only ones (the clear race, clearing
and drawing at once, the crafted message's memory on a real server) are in tests/test_e2e_hostile.py.
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from cnn.canvas import MAX_STROKES, CanvasError, decode_png, png_size, read_drawing, strokes_in_state
from cnn.conv2d import EXAMPLE_GRID
from cnn.strokes import draw_digit, render
from tests.helpers.page import CANVAS_CALLS, errors, metric, png_data_url, run_app, shown


def png(width: int, height: int, mode: str = "RGBA") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (width, height)).save(buf, format="PNG")
    return buf.getvalue()


def data_url(raw: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(raw).decode("ascii")


# --- the canvas's PNG -------------------------------------------------------------------------------------------------


def test_a_png_larger_than_the_canvas_is_refused_from_its_header():
    bomb = png(8192, 8192)  # black: compresses to a few hundred kB, 256 MB once decoded
    assert png_size(bomb) == (8192, 8192) and len(bomb) < 400_000
    with pytest.raises(CanvasError, match="8192×8192 image, larger than the 280×280 canvas"):
        decode_png(bomb, 280, 280)


def test_a_canvas_png_decodes_to_rgba():
    drawing = draw_digit(3)
    buf = io.BytesIO()
    Image.fromarray(drawing).save(buf, format="PNG")
    np.testing.assert_array_equal(decode_png(buf.getvalue(), 280, 280), drawing)
    grey = decode_png(png(20, 10, "L"), 280, 280)
    assert grey.shape == (10, 20, 4) and grey.dtype == np.uint8


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "not send a PNG"),
        (b"GIF89a" + bytes(100), "not send a PNG"),
        (png(280, 280)[:40], "unreadable PNG"),  # truncated inside its pixels
        (png(280, 280)[:20], "without its header"),
        (png(16384, 16384, "L"), "larger than the 280×280 canvas"),
        (png(0, 0) if False else png(280, 281), "larger than the 280×280 canvas"),
    ],
)
def test_bad_pngs_are_refused_with_a_reason(raw, message):
    with pytest.raises(CanvasError, match=message):
        decode_png(raw, 280, 280)


class _Result:
    """Stands in for the canvas's result object: what read_drawing reads."""

    def __init__(self, url, objects=1):
        self.url, self.json_data = url, {"objects": [{}] * objects}

    @property
    def image_bytes(self):
        if self.url is None:
            return None
        _, encoded = self.url.split(";base64,", 1)
        return base64.b64decode(encoded)


def test_read_drawing_counts_strokes_and_refuses_too_many():
    rgba, strokes = read_drawing(_Result(png_data_url(draw_digit(1)), 3), 280, 280)
    assert rgba.shape == (280, 280, 4) and strokes == 3
    assert read_drawing(_Result(None, 0), 280, 280) == (None, 0)
    with pytest.raises(CanvasError, match=f"{MAX_STROKES + 1} strokes"):
        read_drawing(_Result(png_data_url(draw_digit(1)), MAX_STROKES + 1), 280, 280)


@pytest.mark.parametrize(
    "state, strokes",
    [(None, 0), ({}, 0), ({"drawing": None}, 0), ({"drawing": {"raw": {"objects": "x"}}}, 0),
     ({"drawing": {"raw": {"objects": [{}, {}]}}}, 2), ("text", 0)],
)
def test_strokes_in_any_state(state, strokes):
    assert strokes_in_state(state) == strokes


MALFORMED = {
    "no base64 marker": "data:image/png,abc",
    "bad base64": "data:image/png;base64,@@@@",
    "not an image": "data:image/png;base64," + base64.b64encode(b"hello, world").decode(),
    "truncated PNG": data_url(png(280, 280)[:60]),
    "a 16384² PNG": data_url(png(16384, 16384, "L")),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_canvas_values_get_a_short_message_and_the_page_goes_on(name):
    at = run_app(MALFORMED[name], part="2D convolution")
    assert not at.exception
    assert metric(at, "Prediction") is None
    (message,) = [e for e in errors(at) if "could not be read" in e]
    assert len(message) < 200
    assert "np.convolve" in "\n".join(c.value for c in at.code)  # the rest of the page still works


def test_a_full_canvas_takes_no_more_strokes_until_cleared():
    at = run_app(draw_digit(2), strokes=MAX_STROKES - 1)
    assert not any("strokes" in i.value for i in at.info) and CANVAS_CALLS[-1]["disabled"] is False
    at = run_app(draw_digit(2), at=at, strokes=MAX_STROKES)
    assert metric(at, "Prediction") == "2"  # the most it takes is still read
    assert any(f"holds {MAX_STROKES} strokes" in i.value for i in at.info)  # and the canvas says it is full
    assert CANVAS_CALLS[-1]["disabled"] is True  # read-only: its message grows no more
    at = run_app(draw_digit(2), at=at, strokes=MAX_STROKES + 3)  # strokes drawn before the canvas locked
    assert metric(at, "Prediction") is None
    assert any(f"{MAX_STROKES + 3} strokes, more than the {MAX_STROKES}" in e for e in errors(at))
    at = run_app(np.zeros((280, 280, 4), np.uint8), at=at, strokes=0)  # Clear
    assert not any("strokes" in i.value for i in at.info) and CANVAS_CALLS[-1]["disabled"] is False


# --- a drawing too small to be a digit ------------------------------------------------------------------------------


def test_a_dot_is_not_read_as_a_digit():
    from cnn.model import load, page_reading
    from cnn.preprocess import canvas_to_mnist

    dot = render([np.array([[140.0, 140.0]])], 280, 280, pen=20)
    probs = page_reading(load(), canvas_to_mnist(dot))[0]
    assert probs.argmax() == 0 and probs.max() > 0.9  # why: blown up to 20x20, a dot is a disc, a confident 0
    at = run_app(dot, part="How sure is it?")
    assert not at.exception
    assert metric(at, "Prediction") is None
    assert any("too small to be a digit" in w.value for w in at.warning)
    assert not any("passes agree" in s.value for s in at.success)


def test_a_small_real_digit_is_still_read():
    at = run_app(draw_digit(4, pen=6, scale=0.3, offset=(100, -30)))
    assert metric(at, "Prediction") == "4"


def test_a_bold_pen_on_a_small_digit_gets_advice_and_still_a_reading():
    from cnn.preprocess import BOLD_PEN, bold_for_its_size

    assert bold_for_its_size((0, 100, 0, 60), pen=BOLD_PEN * 100) and not bold_for_its_size((0, 100, 0, 60), pen=19)
    at = run_app(draw_digit(8, pen=30, scale=0.4), pen=30)
    assert metric(at, "Prediction") is not None  # advice, not a refusal
    advice = [i.value for i in at.info if "bold pen" in i.value]
    assert len(advice) == 1 and "try a thinner pen or a larger digit" in advice[0]
    across = int(re.search(r"on a digit (\d+) pixels across", advice[0]).group(1))
    assert 30 >= BOLD_PEN * across and re.search(rf"become {round(30 * 20 / across)} pixels wide", advice[0])
    at = run_app(draw_digit(8), pen=20)  # the default pen on a digit filling the canvas
    assert metric(at, "Prediction") == "8" and not any("bold pen" in i.value for i in at.info)


# --- markup typed into the inputs -----------------------------------------------------------------------------------

# (typed, the token the message quotes)
MARKUP = [("**x**", "**x**"), ("1 [a](https://ev.il) 2", "[a](https://ev.il)"), (r"$\huge{BIG}$", r"$\huge{BIG}$"),
          ("> quoted", ">"), (":red[red] 1", ":red[red]"), ("`code`", "`code`")]


def unescaped_markup(markdown: str) -> list[str]:
    """ASCII punctuation in Markdown source that is not backslash-escaped: what could start a construct."""
    return re.findall(r"[!-/:-@\[-`{-~]", re.sub(r"\\[!-/:-@\[-`{-~]", "", markdown))


def split_code(markdown: str) -> tuple[str, str]:
    """The one inline code span in Markdown source (its content) and the source around it."""
    m = re.search(r"(`+) (.*?) \1", markdown)
    assert m, markdown
    return m.group(2), markdown[: m.start()] + markdown[m.end() :]


@pytest.mark.parametrize("typed, token", MARKUP)
def test_typed_markup_is_quoted_as_typed_in_the_1d_explorer(typed, token):
    at = run_app(None, part="1D convolution padding", c1d_x=typed)
    (message,) = [e.value for e in at.error]
    quoted, rest = split_code(message)
    assert quoted == token  # shown as typed, as code: no Markdown, link or LaTeX is read inside a code span
    assert shown(rest).startswith(" in the input is not a number")
    assert unescaped_markup(rest) == []


def test_typed_markup_is_quoted_as_typed_in_the_2d_explorer():
    at = run_app(None, part="2D convolution", c2d_kind="Type my own", c2d_typed="**x** 1")
    (message,) = [e.value for e in at.error]
    quoted, rest = split_code(message)
    assert quoted == "**x**" and shown(rest).startswith(" in the kernel") and unescaped_markup(rest) == []


@pytest.mark.parametrize("text", ["plain", "a`b", "``x``", "`", "$x$ *y*"])
def test_code_spans_hold_any_text(text):
    from ui.markdown import code

    span = code(text)
    fence = re.match(r"`+", span).group(0)
    assert span == f"{fence} {text} {fence}" and fence not in text


# --- every output size of the 2D explorer ---------------------------------------------------------------------------


def test_every_2d_output_size_from_1x1_up():
    at = run_app(None, part="2D convolution", c2d_input="Small example (7×7)", c2d_kind="Type my own",
                 c2d_pad="valid")
    rng = np.random.default_rng(0)
    seen = set()
    for kh in range(1, 8):
        for kw in range(1, 8):
            kernel = rng.integers(-3, 4, size=(kh, kw))
            at.session_state["c2d_typed"] = "\n".join(" ".join(str(v) for v in row) for row in kernel)
            at.run()
            assert not at.exception, (kh, kw)
            oh, ow = 8 - kh, 8 - kw
            assert any(f"**{oh}** rows" in m.value and f"**{ow}** columns" in m.value for m in at.markdown)
            reference = F.conv2d(torch.tensor(EXAMPLE_GRID)[None, None], torch.tensor(kernel, dtype=torch.float64)[None, None])
            line = next(m.value for m in at.markdown if m.value.startswith("Sum at ("))
            i, j = (int(v) for v in re.match(r"Sum at \((\d+), (\d+)\)", line).groups())
            assert float(shown(line).split("**")[-2]) == pytest.approx(float(reference[0, 0, i, j]), abs=5e-4)
            seen.add((oh, ow))
    assert len(seen) == 49 and (1, 1) in seen


@pytest.mark.parametrize(
    "state",
    [
        {"c2d_kind": "Classic", "c2d_dilation": 3},  # a 3x3 kernel dilated to 7x7
        {"c2d_kind": "Classic", "c2d_stride": 5},  # (7 - 3) // 5 + 1 = 1
        {"c2d_kind": "Type my own", "c2d_typed": "\n".join(["1 1 1 1 1 1 1"] * 7)},  # 7x7 on 7x7
    ],
)
def test_the_one_position_cases_that_crashed(state):
    at = run_app(None, part="2D convolution", c2d_input="Small example (7×7)", c2d_pad="valid", **state)
    assert not at.exception and not at.error
    assert any("**1** rows" in m.value and "**1** columns" in m.value for m in at.markdown)
    assert any("one position only" in c.value for c in at.caption)
