"""The first screen in a real browser says plainly when a drawing looks like no digit the network knows (a letter, a
symbol, a scribble), with the digit it would otherwise answer, and says nothing of the kind for plain digits."""

from __future__ import annotations

import pytest

from cnn.atlas import not_a_digit
from cnn.non_digits import LETTER_STROKES, SYMBOLS
from cnn.preprocess import canvas_to_mnist
from cnn.strokes import render, to_canvas_points
from tests.conftest import require_browser
from tools import pagedriver

pytestmark = [pytest.mark.e2e, pytest.mark.full]
require_browser()

WARNING = "This does not look like any digit the network knows."
SCRIBBLE = [[(0.1, 0.2), (0.9, 0.35), (0.2, 0.6), (0.85, 0.9), (0.4, 0.05), (0.6, 0.95)]]
SHAPES = {"the letter E": LETTER_STROKES["E"], "a star": SYMBOLS["star"], "a scribble": SCRIBBLE}


@pytest.fixture(scope="module")
def page():
    with pagedriver.streamlit_server() as (url, _), pagedriver.browser() as b:
        page, _ = pagedriver.open_page(b, url)
        yield page


def draw(page, strokes) -> None:
    pagedriver.draw_strokes(page, [to_canvas_points(s, 280) for s in strokes])


def warned(page) -> str | None:
    """The not-a-digit warning's text once the page has settled, or None."""
    pagedriver.wait_for_still(page)
    box = page.locator('[data-testid="stAlert"]').filter(has_text=WARNING)
    return box.first.inner_text() if box.count() else None


@pytest.mark.parametrize("shape", SHAPES)
def test_a_drawing_that_is_no_digit_gets_a_plain_warning_with_the_answer_it_would_give(page, shape):
    strokes = SHAPES[shape]
    # the page's own reading of the same strokes, drawn offline as the canvas draws them, says it is flagged
    assert not_a_digit(canvas_to_mnist(render([to_canvas_points(s, 280) for s in strokes], 280, 280, 20))[None])[0]
    if pagedriver.prediction(page) is not None:
        pagedriver.clear(page)
    draw(page, strokes)
    shown, _ = pagedriver.wait_for_prediction(page)
    text = warned(page)
    assert text is not None, f"no warning for {shape}"
    assert f"Otherwise it would answer {shown}" in text and "must always choose one of the ten digits" in text


@pytest.mark.parametrize("digit", [0, 1, 4, 7, 8])
def test_plain_digits_get_no_warning(page, digit):
    if pagedriver.prediction(page) is not None:
        pagedriver.clear(page)
    pagedriver.draw_digit(page, digit)
    shown, _ = pagedriver.wait_for_prediction(page)
    assert shown == str(digit)
    assert warned(page) is None
