"""The first screen: the canvas, what the network sees, and what it reads (with the dense network beside it)."""

from __future__ import annotations

import html

import numpy as np
import streamlit as st

from cnn import atlas as atlas_module
from cnn.canvas import CANVAS_SIZE, DEFAULT_PEN, MAX_STROKES, PEN_WIDTHS, CanvasError, read_drawing, strokes_in_state
from cnn.data import IMAGE_SIZE
from cnn.explain import UNSURE_BELOW
from cnn.model import ONE_PASS, READING, page_reading
from cnn.preprocess import BOX, bold_for_its_size, preprocess_steps, too_small
from ui.alt import chart, image_alt, probabilities_alt
from ui.analysis import unsure_figures
from ui.canvas_tools import clear_button
from ui.figures import COMPARED, NETWORK_NAMES, bars_html, image_figure, percent, probability_figure
from ui.markdown import literal
from ui.resources import atlas, metadata, network
from ui.style import CANVAS_HINT
from ui.state import CANVAS, PEN


def drawing_canvas(st_canvas, key: str, width: int, height: int, pen: int, full: bool, initial_drawing=None):
    """The drawable canvas: white pen strokes on black, sending its image and strokes under `key`. A `full` canvas
    takes no more strokes until cleared: each stroke makes the canvas's message larger."""
    return st_canvas(
        stroke_width=pen, stroke_color="#FFFFFF", background_color="#000000", height=height, width=width,
        drawing_mode="freedraw", return_image_data=True, key=key, disabled=full, initial_drawing=initial_drawing,
    )


def canvas_ui(st_canvas, initial_drawing: dict | None = None, on_clear_shared=None):
    """The canvas with its pen and Clear controls; returns what the canvas sent, to be read by cnn.canvas, and a place
    right under the canvas for the short answer a phone shows there. `st_canvas` is the component, which app.py
    imports: it can only be imported inside a run of the page. `initial_drawing`: the Fabric.js JSON of a drawing a
    link brought, which the canvas starts from; Clear then calls `on_clear_shared`."""
    full = strokes_in_state(st.session_state.get(CANVAS)) >= MAX_STROKES
    result = drawing_canvas(st_canvas, CANVAS, CANVAS_SIZE, CANVAS_SIZE, st.session_state.get(PEN, DEFAULT_PEN), full,
                            initial_drawing)
    answer = st.empty()
    pen, clear = st.columns([2, 1], vertical_alignment="bottom")  # Clear keeps its label whole on a tablet too
    pen.slider("Pen width", *PEN_WIDTHS, DEFAULT_PEN, key=PEN, help="About 20 gives strokes like MNIST's once scaled down.")
    with clear:
        clear_button(initial_drawing is not None, on_clear_shared)
    if full:
        st.info(f"The canvas holds {MAX_STROKES} strokes, the most it takes: press Clear to draw again.")
    else:
        st.html(CANVAS_HINT)
    return result, answer


def short_answer_html(probs: np.ndarray) -> str:
    """The prediction in one line, shown under the canvas on narrow screens only, where the columns stack and the
    full answer sits below what the network sees."""
    top = int(np.argmax(probs))
    return (f'<div class="short-answer" role="status">Reads it as <b>{top}</b> ({html.escape(percent(probs[top]))}) '
            "· more under <i>What it reads</i></div>")


# Said wherever the page flags a drawing as not a digit: why the network gives a digit anyway.
ALWAYS_A_DIGIT = (
    "The network must always choose one of the ten digits, whatever it is shown: it was only ever trained to pick "
    "among them, never to answer \"none of these\", so a letter or a doodle still gets a digit, often with a high "
    "probability."
)


def unlike_digits(maps: dict | None) -> bool | None:
    """Whether the drawing looks like none of the digits the network knows (cnn.atlas), from its pool2 features as
    drawn; None when there are no maps or no atlas to compare with."""
    found, _ = atlas()
    if found is None or maps is None or "pool2" not in maps:
        return None
    embedded = atlas_module.project(maps["pool2"].reshape(1, -1), found.projection)
    return bool(atlas_module.scores(found, embedded)[0] > found.threshold)


def unlike_text(top: int, prob: float) -> str:
    """The first screen's words for a drawing that looks like no digit the network knows, with its answer anyway."""
    from ui.chapters import CHAPTERS, SLUGS  # here: ui.chapters imports the parts, which import this module

    found, _ = atlas()
    compared = f"the {len(found):,} training digits" if found is not None else "the training digits"
    sure = SLUGS.index("sure")
    return (
        f"**This does not look like any digit the network knows.** In the features the network reads with, even "
        f"the nearest of {compared} the page compares it with are far from your drawing. Otherwise it would "
        f"answer **{top}** ({percent(prob)}), as below. {ALWAYS_A_DIGIT} Chapter {sure + 1}, *{CHAPTERS[sure].title}*, says how this "
        "check works."
    )


def prediction_ui(
    probs: np.ndarray | None, model_error: str | None, problem: str | None = None, advice: str | None = None,
    unlike: bool | None = None,
) -> None:
    if model_error:
        st.error(f"No prediction: {literal(model_error)}")
        return
    if problem:
        st.warning(problem)
        return
    if probs is None:
        st.info("Draw a digit from 0 to 9 on the black square, as large as you like. The prediction appears when you lift the pen.")
        return
    top = int(np.argmax(probs))
    if unlike:
        st.warning(unlike_text(top, float(probs[top])), icon="❓")
    a, b = st.columns(2)
    a.metric("Prediction", str(top))
    b.metric("Probability", percent(probs[top]), help=f"Below {UNSURE_BELOW:.0%} the page calls the network unsure.")
    if probs[top] < UNSURE_BELOW and not unlike:
        runner_up = int(np.argsort(probs)[-2])
        st.warning(
            f"The network is unsure: no digit reaches {UNSURE_BELOW:.0%}, so its belief is split (best guesses: "
            f"{top}, then {runner_up}).{unsure_figures(metadata())} Try writing the digit larger or more plainly."
        )
    if advice:
        st.info(advice, icon="✏️")
    chart(probability_figure(probs), probabilities_alt(probs), key="probs")
    st.caption(READING + f" The parts below explain {ONE_PASS}, unless they say otherwise.")


def dense_reading_ui(image: np.ndarray) -> None:
    """The dense network with the convnet's parameter budget, reading the same 28x28 input; and all three's sizes."""
    model, error = network("dense44")
    if model is None:
        st.caption(f"No dense network to compare: {literal(error)}")
        return
    probs = page_reading(model, image)[0]
    top = int(probs.argmax())
    st.html(f"<div><b>A dense network reads it as {top}</b> ({html.escape(percent(probs[top]))})</div>"
            + bars_html(probs))
    sizes = []
    for name in COMPARED:
        meta = metadata(name)
        if isinstance(meta.get("parameters"), int) and isinstance(meta.get("test_accuracy"), float):
            sizes.append(f"{NETWORK_NAMES[name]}: {meta['parameters']:,} parameters, {meta['test_accuracy']:.2%}")
    if sizes:
        st.caption(literal("On MNIST's test digits: " + "; ".join(sizes) + ".") + " Move your digit in **Move it** "
                   "below and see which one still reads it.")


def read_canvas(
    result, shared: np.ndarray | None = None
) -> tuple[np.ndarray | None, np.ndarray | None, str | None, str | None, str | None]:
    """The RGBA drawing, the image the network sees, why it cannot be read, why it is not read as a digit, and advice
    when the pen is bold for the digit's size. `shared`: the RGBA of a drawing a link brought, read until the canvas
    sends an image of its own (it draws a link's drawing without sending one)."""
    try:
        rgba, _ = read_drawing(result, CANVAS_SIZE, CANVAS_SIZE)
    except CanvasError as e:
        return None, None, str(e), None, None
    if rgba is None and shared is not None:
        rgba = shared
    if rgba is None:
        return None, None, None, None, None
    try:
        steps = preprocess_steps(rgba)
    except ValueError as e:
        return None, None, str(e), None, None
    if steps is None:
        return rgba, None, None, None, None
    pen = st.session_state.get(PEN, DEFAULT_PEN)
    if too_small(steps.box, CANVAS_SIZE, pen):
        top, bottom, left, right = steps.box
        return rgba, steps.final, None, (
            f"That is too small to be a digit ({max(bottom - top, right - left)} pixels across): fitted into "
            f"{BOX}×{BOX}, a dot becomes a blob the network would read as something. Draw the digit larger."
        ), None
    if bold_for_its_size(steps.box, pen):
        top, bottom, left, right = steps.box
        longest = max(bottom - top, right - left)
        return rgba, steps.final, None, None, (
            f"A bold pen for a digit this size: strokes {pen} pixels wide on a digit {longest} pixels across. Fitted "
            f"into {BOX}×{BOX}, they become {pen * BOX / longest:.0f} pixels wide, and loops can close up. If the "
            "reading is wrong, try a thinner pen or a larger digit."
        )
    return rgba, steps.final, None, None, None


def seen_ui(image: np.ndarray | None, problem: str | None) -> None:
    """What the network sees: the 28x28 image, or why there is none."""
    if problem:
        st.error(f"This drawing could not be read: {literal(problem)}.")
    elif image is None:
        st.caption(f"Your drawing, cropped, fitted into {BOX}×{BOX} and centred by its centre of mass in "
                   f"{IMAGE_SIZE}×{IMAGE_SIZE}, as MNIST's digits were.")
    else:
        chart(image_figure(image, height=250), image_alt(image, "What the network sees"), key="seen")
        st.caption(f"{IMAGE_SIZE}×{IMAGE_SIZE} pixels in [0, 1]: cropped to the ink, fitted into {BOX}×{BOX}, centred by "
                   "centre of mass.")
