"""The page: draw a digit, see what the convnet sees, what it predicts and what each layer computes.

A layout only: each part lives in ui/ (the list of parts in ui/parts.py), its computation in cnn/ or classroom/."""

from __future__ import annotations

import streamlit as st
from streamlit_drawable_canvas import st_canvas  # importable only inside a run of the page: ui/ is handed it

from cnn.features import read_with_maps
from cnn.model import count_parameters
from ui.drawings import label_ui, personal_reading_ui
from ui.first_screen import canvas_ui, dense_reading_ui, prediction_ui, read_canvas, seen_ui, short_answer_html
from ui.parts import DRAWING, LESSONS, PARTS, Drawing
from ui.resources import drawings_store, guarded, model_or_error, weights_sha256
from ui.serving import rerun_on_reconnect
from ui.state import init as init_state
from ui.style import PAGE_CSS


@st.fragment
def drawing_ui(model, model_error: str | None) -> None:
    """Everything a stroke changes: reruns alone when the drawing changes."""
    draw, seen, predicted = st.columns([1.05, 0.95, 1.3], gap="medium")
    with draw:
        st.markdown("## 1 · Draw")
        result, answer = canvas_ui(st_canvas)
    rgba, image, problem, not_read, advice = None, None, None, None, None
    with guarded("Reading the drawing"):
        rgba, image, problem, not_read, advice = read_canvas(result)
    probs, maps = (None, None)
    if image is not None and model is not None and not_read is None:
        with guarded("The prediction"):
            probs, maps = read_with_maps(model, image)
    if probs is not None:
        answer.html(short_answer_html(probs))
    with predicted:  # written first, though shown third: the answer reaches the screen before the figures
        st.markdown("## 3 · What it reads")
        prediction_ui(probs, model_error, not_read, advice)
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
    drawing = Drawing(model, rgba, None if not_read else image, probs, maps, not_read)
    parts = [p for p in PARTS if p.row == DRAWING]
    tabs = st.tabs([p.title for p in parts], key="analysis", on_change="rerun")
    for tab, part in zip(tabs, parts):
        if not tab.open:  # only the open tab is computed: a stroke costs what the learner is looking at
            continue
        with tab, guarded(part.title):
            if not part.needs_drawing:
                part.render(drawing)
            elif model is None:
                st.info("This part needs the trained network, which could not be loaded (see above).")
            elif drawing.image is None:
                st.info("Draw a digit on the canvas to see this for your own handwriting." if not_read is None else
                        "This part explains the network's reading of a digit: draw one larger on the canvas.")
            else:
                part.render(drawing)


@st.fragment
def lessons_ui() -> None:
    parts = [p for p in PARTS if p.row == LESSONS]
    tabs = st.tabs([p.title for p in parts], key="lessons", on_change="rerun")
    for tab, part in zip(tabs, parts):
        if tab.open:
            with tab, guarded(part.title):
                part.render()


def main() -> None:
    st.set_page_config(page_title="How a convnet reads your handwriting", page_icon="✍️", layout="wide")
    init_state()
    st.html(PAGE_CSS)
    st.title("How a convnet reads your handwriting")
    model, model_error = model_or_error()
    size = f"A {count_parameters(model):,}-parameter" if model is not None else "A small"
    st.caption(
        f"{size} convolutional network, trained on MNIST, reads your digit live. Below it: what each convolution "
        "layer computes, and how convolution padding works."
    )
    drawing_ui(model, model_error)
    st.divider()
    lessons_ui()
    rerun_on_reconnect()


main()
