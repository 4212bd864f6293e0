"""The real page on a 390x844 touch phone, where Streamlit stacks the columns: controls' words whole, the feature maps
in the network's order, and a sign where a table scrolls sideways."""

from __future__ import annotations

import re
import time

import pytest

from tests.conftest import require_browser
from tools import pagedriver
from ui import chapters
from ui.chapters import SLUGS

pytestmark = [pytest.mark.e2e, pytest.mark.full]
require_browser()

PHONE = {"width": 390, "height": 844}

# Every shown button, segmented control, radio label and widget label that does not show its words whole: wider than
# the screen, or with something inside narrower than its content (cut with an ellipsis, or scrolled). The rows of tabs
# are left out: they scroll sideways by Streamlit's design, each tab whole.
CUT_JS = """() => {
  const width = document.documentElement.clientWidth;
  const controls = [...document.querySelectorAll(
      'button, [role="radiogroup"], [data-testid="stRadio"] label, [data-testid="stWidgetLabel"]')]
    .filter((e) => e.getClientRects().length && !e.closest('[role="tablist"]'));
  const cut = [];
  for (const e of controls) {
    const box = e.getBoundingClientRect();
    if (box.width <= 1) continue;  // words for screen readers only
    const narrow = [e, ...e.querySelectorAll('*')].filter((x) => x.clientWidth > 1 && x.scrollWidth > x.clientWidth + 1);
    if (narrow.length || box.left < -0.5 || box.right > width + 0.5)
      cut.push(`${e.tagName.toLowerCase()} "${e.innerText.trim().slice(0, 60)}": ${Math.round(box.left)}..${Math.round(box.right)}`
        + ` of ${width}` + (narrow.length ? `, content ${narrow[0].scrollWidth} in ${narrow[0].clientWidth}` : ''));
  }
  return cut;
}"""

# Which sides of an element show a shade (a box-shadow that is not transparent, by the sign of its x offset).
SHADES_JS = """(e) => {
  const shades = getComputedStyle(e).boxShadow.split(/,(?![^(]*\\))/).filter((s) => s.includes('inset'));
  const shown = shades.filter((s) => !/rgba\\(0, 0, 0, 0\\)|transparent|\\/ 0\\)/.test(s));
  const offset = (s) => parseFloat(s.replace(/^\\s*(rgba?|color)\\([^)]*\\)/, '').trim());
  return {left: shown.some((s) => offset(s) > 0), right: shown.some((s) => offset(s) < 0)};
}"""


@pytest.fixture(scope="module")
def phone():
    """The page on a phone, a 3 drawn with a finger and read."""
    from cnn.strokes import DIGIT_STROKES, to_canvas_points

    with pagedriver.streamlit_server() as (url, _), pagedriver.browser() as b:
        context = b.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
        page, _ = pagedriver.open_page(context, url)
        pagedriver.touch_strokes(page, [to_canvas_points(s, 280) for s in DIGIT_STROKES[3]])
        page.locator(".short-answer").first.wait_for(timeout=30_000)
        yield page
        context.close()


def test_the_feature_maps_stack_in_the_network_order(phone):
    from cnn.model import FEATURE_LAYERS

    pagedriver.open_part(phone, "Feature maps")
    boxes = {name: phone.get_by_text(re.compile(rf"^{name} · \d+ maps of")).first.bounding_box()
             for name in FEATURE_LAYERS}
    assert len({round(box["x"]) for box in boxes.values()}) == 1, boxes  # one column: the columns stacked
    assert sorted(FEATURE_LAYERS, key=lambda name: boxes[name]["y"]) == list(FEATURE_LAYERS), boxes


@pytest.mark.parametrize("chapter", SLUGS)
def test_no_control_is_cut_on_a_phone(phone, chapter):
    for part in chapters.CHAPTERS[SLUGS.index(chapter)].parts:
        pagedriver.open_part(phone, part)
    assert phone.evaluate(CUT_JS) == []
    assert pagedriver.error_elements(phone) == []


def test_the_1d_table_shades_the_side_it_scrolls_to(phone):
    """The default example's table is wider than a phone: a shade on its right at first, on its left at the end."""
    pagedriver.open_part(phone, "1D convolution padding")
    table = phone.locator(".c1d-wrap").first
    assert table.evaluate("e => e.scrollWidth > e.clientWidth + 1")

    def wait_for_shades(left: bool, right: bool) -> None:
        deadline = time.monotonic() + 5
        while (shades := table.evaluate(SHADES_JS)) != {"left": left, "right": right}:
            assert time.monotonic() < deadline, shades
            time.sleep(0.05)

    wait_for_shades(left=False, right=True)
    table.evaluate("e => { e.scrollLeft = (e.scrollWidth - e.clientWidth) / 2; }")
    wait_for_shades(left=True, right=True)
    table.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    wait_for_shades(left=True, right=False)
