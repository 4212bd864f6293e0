"""The lesson walked in a real browser: a digit drawn, then every chapter in order through its Next button, each
question answered once wrong and once right, the answer checked against the computation; the browser's back and
forward buttons move between chapters."""

from __future__ import annotations

import re

import pytest

from tests.conftest import require_browser
from tests.helpers.lesson import as_shown, expected_answers
from tools import pagedriver
from ui.chapters import CHAPTERS, heading

pytestmark = [pytest.mark.e2e, pytest.mark.full]
require_browser()


@pytest.fixture(scope="module")
def page():
    with pagedriver.streamlit_server() as (url, _), pagedriver.browser() as b:
        page, _ = pagedriver.open_page(b, url)
        yield page


def answer(page, value) -> None:
    if isinstance(value, str):
        page.get_by_role("radiogroup", name="Your answer").get_by_text(value, exact=True).click()
    else:
        box = page.get_by_label("Your answer")
        box.fill(str(value))
    page.get_by_role("button", name="Check my answer").click()


def revealed(page, kind: str) -> str:
    """The text of the reveal: kind "stAlertContentSuccess" (right) or "stAlertContentInfo" (not quite)."""
    words = "Yes" if kind.endswith("Success") else "You said"
    alert = page.locator(f'[data-testid="{kind}"]').filter(has_text=words).first
    alert.wait_for(timeout=30_000)
    return alert.locator('[data-testid="stMarkdownContainer"]').first.inner_text()  # not the icon's name


def test_walk_every_chapter_answering_each_question_wrong_then_right(page):
    pagedriver.draw_digit(page, 4)
    assert pagedriver.wait_for_prediction(page, "4")[0] == "4"
    fixed = expected_answers(None)
    for index, chapter in enumerate(CHAPTERS):
        title = page.locator("h2.chapter", has_text=heading(index))
        title.wait_for(timeout=60_000)
        pagedriver.wait_for_still(page)
        if index:  # arrived by Next from the foot of the last chapter: the new chapter's title is in view
            box = title.bounding_box()
            assert box is not None and 0 <= box["y"] < 800, box
            assert f"chapter={chapter.slug}" in page.url
        if chapter.slug == "sure":  # about this drawing: the part below shows the passes the answer counts
            votes = page.locator('[data-testid="stMetric"]').filter(has_text="Passes reading 4").first
            right = int(re.match(r"(\d+) of", votes.locator('[data-testid="stMetricValue"]').inner_text())[1])
        else:
            right = fixed[chapter.slug]
        wrong = "To train faster" if isinstance(right, str) else (right + 1) * 3
        answer(page, wrong)
        told = revealed(page, "stAlertContentInfo")
        assert f"You said {as_shown(wrong, chapter.slug)}; it is {as_shown(right, chapter.slug)}" in told, told
        page.get_by_role("button", name="Ask me again").click()
        page.get_by_role("button", name="Check my answer").wait_for(timeout=30_000)
        answer(page, right)
        assert revealed(page, "stAlertContentSuccess").startswith(f"Yes: {as_shown(right, chapter.slug)}")
        assert pagedriver.error_elements(page) == [], chapter.slug
        if index + 1 < len(CHAPTERS):
            # the answer's run over: while it runs, the last run's Next can still stand beside the new one
            pagedriver.wait_for_still(page)
            page.get_by_role("button", name=re.compile(r"^Next: chapter")).click()
    assert pagedriver.prediction(page) == "4"  # the drawing followed the learner to the end
    page.go_back()
    page.locator("h2.chapter", has_text=heading(len(CHAPTERS) - 2)).wait_for(timeout=30_000)
    page.go_forward()
    page.locator("h2.chapter", has_text=heading(len(CHAPTERS) - 1)).wait_for(timeout=30_000)
    assert pagedriver.prediction(page) == "4"


def test_redrawing_inside_a_chapter_updates_that_chapter(page):
    pagedriver.open_chapter(page, "layers")
    pagedriver.clear(page)
    pagedriver.draw_digit(page, 7)
    assert pagedriver.wait_for_prediction(page, "7")[0] == "7"
    page.get_by_text("Read with these steps").first.wait_for(timeout=30_000)
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Read with these steps").first
    assert metric.locator('[data-testid="stMetricValue"]').inner_text().strip() == "7"
    assert page.locator("h2.chapter", has_text=heading(3)).count() == 1
