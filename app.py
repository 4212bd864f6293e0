"""The page: draw a digit, see what the convnet sees, what it predicts and what each layer computes.

A layout only: each part lives in ui/ (the list of parts in ui/parts.py), its computation in cnn/ or classroom/."""

from __future__ import annotations

import html

import streamlit as st
from streamlit_drawable_canvas import st_canvas  # importable only inside a run of the page: ui/ is handed it

from cnn.features import read_with_maps
from cnn.model import count_parameters
from ui.drawings import label_ui, personal_reading_ui
from ui import chapters, links
from ui.markdown import literal
from ui.first_screen import (
    canvas_ui, dense_reading_ui, prediction_ui, read_canvas, seen_ui, short_answer_html, unlike_digits,
)
from ui.number import ORDINALS, digit_words, number_canvas_ui, number_mode, number_ui, read_number_canvas
from ui.parts import Drawing
from ui.resources import drawings_store, guarded, model_or_error, weights_sha256
from ui.serving import rerun_on_reconnect
from ui.state import init as init_state
from ui.style import PAGE_CSS


def drawing_ui(model, model_error: str | None) -> Drawing:
    """The first screen: the canvas, what the network sees and what it reads. A stroke runs the page again: this and
    the open chapter, nothing else."""
    draw, seen, predicted = st.columns([1.05, 0.95, 1.3], gap="medium")
    with draw:
        st.markdown("## 1 · Draw")
        result, answer = canvas_ui(st_canvas, links.initial_drawing(), links.forget_shared)
    rgba, image, problem, not_read, advice = None, None, None, None, None
    with guarded("Reading the drawing"):
        shared = links.shared()
        rgba, image, problem, not_read, advice = read_canvas(result, shared[1] if shared else None)
    probs, maps = (None, None)
    if image is not None and model is not None and not_read is None:
        with guarded("The prediction"):
            probs, maps = read_with_maps(model, image)
    unlike = None
    if probs is not None:
        answer.html(short_answer_html(probs))
        with guarded("The not-a-digit check"):
            unlike = unlike_digits(maps)
    with predicted:  # written first, though shown third: the answer reaches the screen before the figures
        st.markdown("## 3 · What it reads")
        prediction_ui(probs, model_error, not_read, advice, unlike)
        if probs is not None:
            with guarded("The dense network's reading"):
                dense_reading_ui(image)
            with guarded("Your personal copy's reading"):
                personal_reading_ui(image)
            with guarded("Saying whether it was right"):
                label_ui(drawings_store(), image, rgba, probs, weights_sha256())
    with seen:
        st.markdown("## 2 · What the network sees")
        seen_ui(image, problem)
    # a drawing not read as a digit is not explained: the parts would explain a reading the page does not make
    return Drawing(model, rgba, None if not_read else image, probs, maps, not_read, unlike)


def number_drawing_ui(model, model_error: str | None) -> Drawing:
    """The first screen for a whole number: the wide canvas and the number read, then what the network sees of the
    digit picked and what it reads there. The parts below explain that digit."""
    draw, found = st.columns([1.5, 1], gap="medium")
    with draw:
        st.markdown("## 1 · Write a number")
        result, answer = number_canvas_ui(st_canvas)
    number, problem = None, None
    if model is not None:
        with guarded("Reading the number"):
            number, problem = read_number_canvas(result, model)
    with found:
        st.markdown("## The number it reads")
        if model_error:
            st.error(f"No reading: {literal(model_error)}")
        picked = number_ui(number, problem)
    if picked is None:
        return Drawing(model, None, None, None, None, None)
    digit = number.digits[picked]
    answer.html(f'<div class="short-answer" role="status">Reads <b>{html.escape(number.text)}</b> · the '
                f"{ORDINALS[picked]} digit: {html.escape(digit_words(digit))}</div>")
    maps = None
    with guarded("The digit's feature maps"):
        _, maps = read_with_maps(model, digit.image)
    seen, predicted = st.columns([0.95, 1.3], gap="medium")
    with predicted:
        st.markdown(f"## 3 · What it reads: digit {picked + 1} of {len(number.digits)}")
        prediction_ui(digit.probs, None, None, None, digit.unlike)
        with guarded("The dense network's reading"):
            dense_reading_ui(digit.image)
    with seen:
        st.markdown(f"## 2 · What the network sees: digit {picked + 1}")
        seen_ui(digit.image, None)
    return Drawing(model, digit.rgba, digit.image, digit.probs, maps, None, digit.unlike)


def main() -> None:
    st.set_page_config(page_title="How a convnet reads your handwriting", page_icon="✍️", layout="wide")
    init_state()
    links.read_once()  # before any widget: a shared link sets the drawing and the settings
    st.html(PAGE_CSS)
    st.title("How a convnet reads your handwriting")
    model, model_error = model_or_error()
    size = f"A {count_parameters(model):,}-parameter" if model is not None else "A small"
    st.caption(
        f"{size} convolutional network, trained on MNIST, reads your digit live. Below it, a lesson in "
        f"{len(chapters.CHAPTERS)} chapters on how it does, each with your drawing."
    )
    links.notes_ui()
    drawing = number_drawing_ui(model, model_error) if number_mode() else drawing_ui(model, model_error)
    st.divider()
    index, note = chapters.current()
    if note:
        st.caption(note)
    chapters.nav_ui(index)
    links.share_ui(index)
    chapters.chapter_ui(index, drawing)
    rerun_on_reconnect()


main()
