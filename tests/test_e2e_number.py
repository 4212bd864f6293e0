"""Number mode in a real browser: a three-digit number written with the mouse, and with a finger on a phone (where
the wide canvas is shown smaller), is read; picking its middle digit makes the first screen and the feature maps
explain that digit."""

from __future__ import annotations

import time

import pytest

from cnn.strokes import DIGIT_STROKES
from tests.conftest import require_browser
from tools import pagedriver

pytestmark = [pytest.mark.e2e, pytest.mark.full]
require_browser()

DIGITS = (3, 0, 5)


def number_strokes(digits=DIGITS, step: float = 150, size: float = 130, left: float = 40, top: float = 35):
    """The digits' template strokes side by side, in the number canvas's pixels."""
    return [[(x * size * 0.8 + left + i * step, y * size + top) for x, y in s]
            for i, d in enumerate(digits) for s in DIGIT_STROKES[d]]


def metric(page, label: str) -> str | None:
    return page.evaluate("""(label) => {
      for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
        const name = m.querySelector('[data-testid="stMetricLabel"]');
        if (name && name.innerText.trim() === label) return m.querySelector('[data-testid="stMetricValue"]').innerText;
      }
      return null; }""", label)


def wait_for_metric(page, label: str, expected: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metric(page, label) == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"{label} showed {metric(page, label)!r}, not {expected!r}, within {timeout:.0f}s")


# The number canvas: the drawable canvas wider than tall, inside its component's shadow root.
NUMBER_CANVAS_JS = """() => {
  for (const h of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const c = h.shadowRoot && h.shadowRoot.querySelector('canvas.upper-canvas');
    if (c && c.width > c.height) return c;
  }
  return null;
}"""


def number_mode(page) -> None:
    page.get_by_text("A number", exact=True).click()
    page.wait_for_function(f"() => ({NUMBER_CANVAS_JS})() !== null", timeout=60_000)


@pytest.fixture(scope="module")
def server():
    with pagedriver.streamlit_server() as (url, _), pagedriver.browser() as b:
        yield url, b


def test_a_number_written_with_the_mouse_is_read_and_its_middle_digit_explained(server):
    url, b = server
    page, _ = pagedriver.open_page(b, url)
    number_mode(page)
    pagedriver.draw_strokes(page, number_strokes())
    wait_for_metric(page, "Number", "305")
    pagedriver.wait_for_still(page)
    assert pagedriver.axe_violations(page, pagedriver.axe_source()) == []  # serious or critical, none
    page.get_by_role("radiogroup", name="Explain which digit?").get_by_text("2nd: 0", exact=True).click()
    wait_for_metric(page, "Prediction", "0")
    assert page.get_by_text("2 · What the network sees: digit 2").count() == 1
    pagedriver.open_part(page, "Feature maps")
    maps = page.locator('[data-testid="stPlotlyChart"]')
    assert maps.count() >= 5  # what it sees, the reading's bars, and the four layers' maps
    assert page.get_by_text("What it reads: digit 2 of 3").count() == 1
    img = page.locator('img[alt^="Your writing with a box around each of the 3 digits found"]')
    assert img.count() == 1 and "0 (" in img.get_attribute("alt")
    page.close()


def test_a_number_written_with_a_finger_on_a_phone_is_read(server):
    url, b = server
    context = b.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                            device_scale_factor=2)
    page = context.new_page()
    page.goto(url)
    page.locator("canvas.upper-canvas").first.wait_for(timeout=90_000)
    number_mode(page)
    # the 600-pixel canvas is shown within the phone's width, whole
    page.wait_for_function(f"() => ({NUMBER_CANVAS_JS})().getBoundingClientRect().right <= window.innerWidth",
                           timeout=30_000)
    page.evaluate(pagedriver.WATCH_JS)
    pagedriver.touch_strokes(page, number_strokes())
    wait_for_metric(page, "Number", "305")
    context.close()
