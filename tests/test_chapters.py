"""The lesson's chapters under AppTest: each renders with and without a drawing, every part sits in one chapter, the
address names the chapter, and each chapter's question reveals the answer its parts compute, once answered right and
once wrong."""

from __future__ import annotations

import html

import pytest

from cnn.preprocess import canvas_to_mnist
from cnn.strokes import draw_digit
from tests.helpers.lesson import as_shown, expected_answers
from tests.helpers.page import errors, run_app, shown
from ui.chapters import CHAPTER, CHAPTERS, SLUGS, heading
from ui.parts import PART_TITLES


def htmls(at) -> str:
    return html.unescape("\n".join(h.proto.body for h in at.get("html")))


def test_every_part_sits_in_one_chapter_in_teaching_order():
    placed = [p for c in CHAPTERS for p in c.parts]
    assert sorted(placed) == sorted(PART_TITLES)  # each part once
    assert len(set(SLUGS)) == len(SLUGS)
    order = {p: (i, k) for i, c in enumerate(CHAPTERS) for k, p in enumerate(c.parts)}
    # the lesson's order: a dense layer's cost, then 1D convolution and padding, then the convnet on the drawing
    assert order["The model and its parameters"] < order["1D convolution padding"] < order["2D convolution"]
    assert order["2D convolution"] < order["Feature maps"] < order["How sure is it?"]


@pytest.mark.parametrize("drawn", [True, False])
@pytest.mark.parametrize("slug", SLUGS)
def test_each_chapter_opens_with_its_takeaway_then_its_question_and_parts(slug, drawn):
    at = run_app(draw_digit(3) if drawn else None, chapter=slug)
    assert not at.exception and errors(at) == []
    index = SLUGS.index(slug)
    assert heading(index) in htmls(at)
    texts = [shown(m.value) for m in at.markdown]
    takeaway = next(i for i, t in enumerate(texts) if t == f"**In one sentence:** {CHAPTERS[index].takeaway}")
    asked = [i for i, t in enumerate(texts) if t.startswith("**Before you look:**")]
    parts = [texts.index(f"### {p}") for p in CHAPTERS[index].parts]
    assert asked or (slug == "sure" and not drawn)  # that question is about the drawing
    assert [takeaway, *asked, *parts] == sorted([takeaway, *asked, *parts])
    charts = at.get("plotly_chart")
    assert charts or not drawn  # a drawing's reading is charted on the first screen
    assert all(len(c.proto.alt) > 30 for c in charts), [c.proto.alt for c in charts]  # each figure, in words
    buttons = {b.key: b.label for b in at.button}
    assert ("chapter_back" in buttons) == (index > 0) and ("chapter_next" in buttons) == (index < len(SLUGS) - 1)
    if index < len(SLUGS) - 1:
        assert buttons["chapter_next"].startswith(f"Next: chapter {index + 2} · {CHAPTERS[index + 1].title}")


def test_next_and_back_move_the_address_between_chapters():
    at = run_app(draw_digit(5))
    assert CHAPTER not in at.query_params and heading(0) in htmls(at)
    for k in range(1, len(SLUGS)):
        at.button(key="chapter_next").click()
        at = run_app(draw_digit(5), at=at)
        assert at.query_params[CHAPTER] == [SLUGS[k]] or at.query_params[CHAPTER] == SLUGS[k]
        assert heading(k) in htmls(at)
    at.button(key="chapter_back").click()
    at = run_app(draw_digit(5), at=at)
    assert heading(len(SLUGS) - 2) in htmls(at)


@pytest.mark.parametrize("slug", ["nowhere", "<b>x</b>", "a" * 5000, ""])
def test_an_address_naming_no_chapter_gets_a_line_and_the_first_chapter(slug):
    at = run_app(draw_digit(2), chapter=slug)
    assert not at.exception and errors(at) == []
    assert heading(0) in htmls(at)
    (note,) = [c.value for c in at.caption if "names no chapter" in c.value]
    assert len(note) < 120 and "<b>" not in note


def _ask(at, slug: str, guess):
    (form,) = [k for k in (b.key for b in at.button) if k and k.startswith("FormSubmitter:question_")]
    key = form.split(":")[1].split("-")[0].removeprefix("question_")
    if isinstance(guess, str):
        at.radio(key=f"guess_{key}").set_value(guess)
    else:
        at.number_input(key=f"guess_{key}").set_value(guess)
    at.button(key=form).click()
    return run_app(draw_digit(4), at=at), key





@pytest.mark.parametrize("slug", SLUGS)
def test_each_question_reveals_the_computed_answer_to_a_wrong_guess_and_a_right_one(slug):
    answer = expected_answers(canvas_to_mnist(draw_digit(4)))[slug]
    at = run_app(draw_digit(4), chapter=slug)
    wrong = "To train faster" if isinstance(answer, str) else (answer + 1) * 3
    at, key = _ask(at, slug, wrong)
    assert not at.exception and not [s for s in at.success if "**Yes**" in s.value]
    (told,) = [shown(i.value) for i in at.info if "You said" in i.value]
    assert f"You said {as_shown(wrong, slug)}; it is {as_shown(answer, slug)}" in told
    at.button(key=f"again_{key}").click()
    at = run_app(draw_digit(4), at=at)
    at, _ = _ask(at, slug, answer)
    (right,) = [shown(s.value) for s in at.success if "**Yes**" in s.value]
    assert right.startswith(f"**Yes**: {as_shown(answer, slug)}")
    assert not any("You said" in i.value for i in at.info)


def test_a_question_asked_with_no_answer_asks_again_and_keeps_nothing():
    at = run_app(draw_digit(4), chapter="convolution")
    at.button(key="FormSubmitter:question_valid-Check my answer").click()
    at = run_app(draw_digit(4), at=at)
    assert any("Give an answer first" in c.value for c in at.caption)
    assert at.session_state["guesses"] == {}
