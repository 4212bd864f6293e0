"""The lesson's chapters, in teaching order: each one's name (what the learner will understand), its takeaway in one
sentence, its question, and the parts it shows with the visitor's drawing.

The order follows the lesson the page grew from: what the network reads; why a dense layer is the wrong tool for
images; what a convolution computes, in 1D then 2D; the convnet's layers on the drawing; how it learned; how sure it
is and why; the visitor's own handwriting; and the training record. The address holds the chapter (?chapter=...), so
the browser's back button moves between chapters and a link opens one.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import streamlit as st

from ui.resources import guarded
from ui.markdown import literal
from ui.parts import Drawing, part
from ui.questions import (
    QuestionMaker, ask, conv1_question, dense_question, errors_question, mixed_question, passes_question,
    pixels_question, start_question, valid_question,
)

CHAPTER = "chapter"  # the query parameter that names the chapter


@dataclass(frozen=True)
class Chapter:
    slug: str  # in the address: ?chapter=slug
    title: str
    takeaway: str
    question: QuestionMaker
    parts: tuple[str, ...]  # titles in ui/parts.py, in the order shown


CHAPTERS = (
    Chapter("read", "Your digit, read",
            "The network never sees your strokes: it reads a 28×28 grey image, 784 numbers, and gives each of the ten "
            "digits a probability.", pixels_question, ()),
    Chapter("dense", "Why not a dense layer",
            "A dense layer gives every pixel its own weights, so it grows with the image and ties what it learns to "
            "where it saw it; a convolution slides one small set of weights over every place.",
            dense_question, ("The model and its parameters", "Dense against convolution", "Move it")),
    Chapter("convolution", "What a convolution computes",
            "A convolution slides a small kernel along its input and takes a weighted sum at each place; the padding "
            "decides how many places there are, and so how long the output is.",
            valid_question, ("1D convolution padding", "2D convolution")),
    Chapter("layers", "The layers on your drawing",
            "Your drawing is cropped, scaled and centred like MNIST's digits, then each convolution layer turns it "
            "into maps of where its kernels find their patterns.",
            conv1_question, ("Step by step", "Feature maps")),
    Chapter("learning", "How it learned",
            "The network started from random weights and read about one digit in ten; training nudged every weight a "
            "little after each batch of digits.", start_question, ("How it learned",)),
    Chapter("sure", "How sure it is, and why",
            "A probability is not a certainty: reading your digit many times with dropout on shows how much the "
            "network wavers, covering parts of the drawing shows which strokes it relied on, and the training digits "
            "nearest to it show which digits it resembles.",
            passes_question, ("How sure is it?", "Why this digit?", "Among the digits it knows")),
    Chapter("class", "Your handwriting and the class's",
            "Your handwriting is not MNIST's: labelled drawings show where the network misreads you and the class, "
            "and a personal copy trained on yours learns your style.", mixed_question,
            ("Your drawings and the class's",)),
    Chapter("trained", "How it was trained",
            "The shipped network's record, read from the metadata saved with its weights: its recipe, its curves and "
            "its score on 10,000 digits it never trained on.", errors_question, ("How it was trained",)),
)
SLUGS = [c.slug for c in CHAPTERS]

# Brings the chapter's title into view when the learner moves to another chapter (the page keeps its scroll position,
# which would land them at the foot of the new chapter after a Next at the foot of the last), not on the first load,
# where the canvas comes first.
SCROLL_JS = """
export default function ({ data }) {
  const last = window.__digitChapter;
  window.__digitChapter = data.slug;
  if (last === undefined || last === data.slug) return;
  const bring = (tries) => {
    const title = document.getElementById('chapter');
    if (title && title.textContent.includes(data.title)) title.scrollIntoView({ block: 'start' });
    else if (tries > 0) setTimeout(() => bring(tries - 1), 50);
  };
  bring(40);
}
"""
_scroll = st.components.v2.component("digit-page.chapter-scroll", html="<span></span>", js=SCROLL_JS)


def chapter_of(title: str) -> Chapter:
    """The chapter that shows the part `title`."""
    return next(c for c in CHAPTERS if title in c.parts)


def current() -> tuple[int, str | None]:
    """The open chapter's index from the address, and a one-line message when the address names no chapter."""
    slug = st.query_params.get(CHAPTER)
    if slug is None:
        return 0, None
    if slug in SLUGS:
        return SLUGS.index(slug), None
    return 0, f"This link names no chapter (“{literal(slug[:40])}”): here is the first."


def go(index: int) -> None:
    st.query_params[CHAPTER] = SLUGS[index]  # the browser keeps each chapter in its history


def label(index: int) -> str:
    return f"{index + 1} · {CHAPTERS[index].title}"


def heading(index: int) -> str:
    return f"Chapter {index + 1} of {len(CHAPTERS)} · {CHAPTERS[index].title}"


def nav_ui(index: int) -> None:
    """Every chapter one click away, the open one marked."""
    st.markdown("## The lesson, chapter by chapter")
    st.segmented_control(
        "Chapters", range(len(CHAPTERS)), format_func=label, default=index, key=f"nav_{index}",
        on_change=_picked, args=(f"nav_{index}", index), label_visibility="collapsed", width="stretch",
    )


def _picked(key: str, index: int) -> None:
    picked = st.session_state.get(key)
    if picked is None:  # the open chapter clicked again: it stays open, and marked
        st.session_state[key] = index
    else:
        go(picked)


def chapter_ui(index: int, drawing: Drawing) -> None:
    """The chapter: its title and takeaway, its question, its parts, and the way on (and back)."""
    chapter = CHAPTERS[index]
    _scroll(data={"slug": chapter.slug, "title": chapter.title}, key="chapter-scroll", width="stretch")
    st.html(f'<h2 class="chapter" id="chapter">{html.escape(heading(index))}</h2>')
    st.markdown(f"**In one sentence:** {chapter.takeaway}")
    with guarded("The question"):
        question = chapter.question(drawing)
        if question is None:
            st.caption("This chapter's question needs a digit read on the canvas: draw one above.")
        else:
            ask(question)
    for title in chapter.parts:
        p = part(title)
        st.markdown(f"### {title}")
        with guarded(title):
            if not p.about_drawing:
                p.render()
            elif not p.needs_drawing:
                p.render(drawing)
            elif drawing.model is None:
                st.info("This part needs the trained network, which could not be loaded (see above).")
            elif drawing.image is None:
                st.info("Draw a digit on the canvas to see this for your own handwriting." if drawing.not_read is None
                        else "This part explains the network's reading of a digit: draw one larger on the canvas.")
            else:
                p.render(drawing)
    back, on = st.columns(2)
    if index > 0:
        back.button(f"← Back to chapter {label(index - 1)}", key="chapter_back", on_click=go, args=(index - 1,))
    if index + 1 < len(CHAPTERS):
        on.button(f"Next: chapter {label(index + 1)} →", key="chapter_next", on_click=go, args=(index + 1,), type="primary")
    else:
        on.markdown("That is the whole lesson. Draw another digit and walk it again, or share what you found.")
