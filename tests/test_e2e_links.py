"""Shared links in a real browser: the page's Share link, opened in a fresh browser context (another visitor), shows
the same drawing read the same, in the same chapter with the same settings; Clear then empties that canvas; malformed
links get a line and a page that works."""

from __future__ import annotations

import re

import pytest

from tests.conftest import require_browser
from tools import pagedriver
from ui.chapters import SLUGS, heading
from ui.share import MAX_TOKEN_CHARS

pytestmark = [pytest.mark.e2e, pytest.mark.full]
require_browser()

# The canvas's white pixels: its drawing layer, inside the component (Fabric.js draws finished strokes on a lower-canvas)
INK_JS = """() => { const roots = [document, ...[...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
                                        .map((h) => h.shadowRoot).filter(Boolean)];
                    let most = 0;
                    for (const c of roots.flatMap((r) => [...r.querySelectorAll('canvas')])) {
                      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                      let ink = 0; for (let i = 0; i < d.length; i += 4) ink += d[i] > 127 && d[i + 3] > 127;
                      most = Math.max(most, ink);
                    }
                    return most; }"""


@pytest.fixture(scope="module")
def served():
    with pagedriver.streamlit_server() as (url, _), pagedriver.browser() as b:
        yield url, b


def metric_value(page, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return m.locator('[data-testid="stMetricValue"]').inner_text().strip()


def visitor(b, url: str):
    page, _ = pagedriver.open_page(b.new_context(viewport={"width": 1280, "height": 900}), url)
    return page


def test_a_shared_link_opens_the_same_drawing_reading_chapter_and_settings(served):
    url, b = served
    first = visitor(b, url)
    pagedriver.draw_digit(first, 4)
    assert pagedriver.wait_for_prediction(first, "4")[0] == "4"
    pagedriver.open_part(first, "1D convolution padding")
    first.get_by_role("radio", name="valid", exact=True).click()
    first.locator('[data-testid="stCode"]').filter(has_text="np.convolve(x, h, 'valid')").first.wait_for(timeout=30_000)
    pagedriver.wait_for_still(first)
    probability = metric_value(first, "Probability")
    first.get_by_role("button", name=re.compile("Share this drawing and chapter")).click()
    code = first.locator('[data-testid="stCode"]').filter(has_text="chapter=convolution").first
    code.wait_for(timeout=30_000)
    link = code.inner_text().strip()
    assert link.startswith(url.rstrip("/")) and "d=" in link and "c1d_mode=valid" in link, link

    second = visitor(b, link)  # another browser's visitor opens it
    second.wait_for_function("() => window.__watch.last === '4'", timeout=60_000)  # read with no stroke drawn
    second.locator("h2.chapter", has_text=heading(SLUGS.index("convolution"))).wait_for(timeout=30_000)
    second.locator('[data-testid="stCode"]').filter(has_text="np.convolve(x, h, 'valid')").first.wait_for()
    pagedriver.wait_for_still(second)
    assert metric_value(second, "Probability") == probability
    assert second.evaluate(INK_JS) > 500  # the strokes are on its canvas
    assert "d=" not in second.url and "chapter=convolution" in second.url  # the address names the chapter only
    assert pagedriver.error_elements(second) == []

    pagedriver.clear(second)  # Clear empties a canvas a link filled
    pagedriver.wait_for_still(second)
    assert pagedriver.prediction(second) is None and second.evaluate(INK_JS) == 0
    pagedriver.draw_digit(second, 7)
    assert pagedriver.wait_for_prediction(second, "7")[0] == "7"
    for page in (first, second):
        page.context.close()


@pytest.mark.parametrize("query", ["d=%25%25%25", f"d={'A' * (MAX_TOKEN_CHARS + 10)}", "chapter=<b>x</b>&pen=1e999",
                                   "d=AXja&mv_dx=abc&chapter=dense"])
def test_a_malformed_link_gets_a_line_and_a_page_that_works(served, query):
    url, b = served
    page = visitor(b, f"{url.rstrip('/')}/?{query}")
    notes = page.locator('[data-testid="stCaptionContainer"]').filter(
        has_text=re.compile(r"^(The link|From the link|This link names)"))
    notes.first.wait_for(timeout=30_000)
    assert all(len(t) < 200 for t in notes.all_inner_texts())
    assert page.locator("b", has_text="x").count() == 0
    pagedriver.draw_digit(page, 3)
    assert pagedriver.wait_for_prediction(page, "3")[0] == "3"
    assert pagedriver.error_elements(page) == []
    page.context.close()
