"""The real page in headless Chromium: draw digits with the mouse, read the prediction, use the explorer."""

from __future__ import annotations

import pytest

from tests.conftest import require_browser
from tools import pagedriver

pytestmark = pytest.mark.e2e
require_browser()


@pytest.fixture(scope="module")
def page():
    with pagedriver.streamlit_server() as (url, _), pagedriver.browser() as b:
        page, ready = pagedriver.open_page(b, url)
        print(f"\nopening the page to a usable canvas: {ready:.2f}s")
        yield page


@pytest.mark.parametrize("digit", [7, 3, 0])
def test_drawn_digit_is_read(page, digit):
    if pagedriver.prediction(page) is not None:
        pagedriver.clear(page)
    pagedriver.draw_digit(page, digit)
    shown, seconds = pagedriver.wait_for_prediction(page)
    print(f"drew {digit}: Prediction {shown} on screen {seconds * 1000:.0f} ms after mouse-up")
    assert shown == str(digit)
    assert pagedriver.error_elements(page) == []


def test_padding_explorer_renders_and_reacts(page):
    page.get_by_role("tab", name="1D convolution padding").click()
    code = page.locator('[data-testid="stCode"]').filter(has_text="np.convolve")
    code.first.wait_for(timeout=30_000)
    assert "np.convolve(x, h, 'same') = [1.5  3  4.5  6  7.5  9  10.5  12  8.5]" in code.first.inner_text()
    page.get_by_role("radio", name="full", exact=True).click()
    page.locator('[data-testid="stCode"]').filter(has_text="'full'").first.wait_for(timeout=30_000)
    text = page.locator('[data-testid="stCode"]').filter(has_text="np.convolve").first.inner_text()
    assert "np.convolve(x, h, 'full') = [0.5  1.5  3  4.5  6  7.5  9  10.5  12  8.5  4.5]" in text
    assert pagedriver.error_elements(page) == []


def test_every_part_opens_without_an_error(page):
    if pagedriver.prediction(page) is None:
        pagedriver.draw_digit(page, 2)
        pagedriver.wait_for_prediction(page)
    expected = {
        "Feature maps": "conv1",
        "Step by step": "Read with these steps",
        "How sure is it?": "Monte Carlo dropout",
        "Why this digit?": "Evidence for the digit",
        "2D convolution": "Output size",
        "1D convolution padding": "padded input",
        "The model and its parameters": "Dense layer parameters",
        "How it was trained": "Test accuracy",
    }
    for tab, text in expected.items():
        page.get_by_role("tab", name=tab).click()
        page.get_by_text(text).first.wait_for(timeout=30_000)
        assert pagedriver.error_elements(page) == [], tab
