"""The page: draw a digit, see what the convnet sees, what it predicts and what each layer computes."""

from __future__ import annotations

import html
import logging
import time
import traceback
from contextlib import contextmanager

import numpy as np
import streamlit as st
import torch
import torch.nn as nn
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit_drawable_canvas import st_canvas

from classroom.drawings import DrawingsStore, store_url
from cnn.canvas import MAX_STROKES, CanvasError, read_drawing, strokes_in_state
from cnn.checkpoint import MetadataError, load_metadata
from cnn.data import IMAGE_SIZE, file_sha256
from cnn.explain import UNSURE_BELOW
from cnn.features import kernels, read_with_maps, tile
from cnn import robustness
from cnn.model import (
    FEATURE_LAYERS, ONE_PASS, READING, TRAIN_HINT, ConvNet, WeightsError, count_parameters, load, page_reading,
)
from cnn.paths import DEFAULT_WEIGHTS, ROBUSTNESS, metadata_path, shipped_networks, shown
from cnn.preprocess import BOX, bold_for_its_size, preprocess_steps, too_small
from cnn.live import live_data, live_steps
from cnn.replay import replay, snapshot_models
from cnn.snapshots import SnapshotError, Snapshots, load_snapshots, snapshots_path
from ui.alt import chart, image_alt, kernel_alt, map_alt, maps_alt, probabilities_alt
from ui.analysis import steps_ui, sure_ui, unsure_figures, why_ui
from ui.canvas_tools import clear_button
from ui.drawings import class_ui, gallery_ui, label_ui, personal_reading_ui, personal_ui
from ui.explorer1d import explorer_ui
from ui.explorer2d import explorer2d_ui
from ui.dense import dense_ui
from ui.figures import (
    COMPARED, NETWORK_NAMES, SIGNED_COLOURS, bars_html, image_figure, kernel_figure, mosaic_figure, percent,
    probability_figure, signed,
)
from ui.markdown import literal
from ui.model_panel import model_ui
from ui.move import move_ui
from ui.parts import ANALYSIS_TABS, LESSON_TABS
from ui.replay import live_queue, live_ui, replay_ui
from ui.serving import rerun_on_reconnect
from ui.training import training_ui

CANVAS_SIZE = 280
DEFAULT_PEN = 20  # on a 280-pixel canvas this becomes MNIST's 2-3 pixel strokes once the digit is fitted to 20x20
MAP_COLUMNS = 8  # each layer's maps are tiled this many to a row
STORE_RETRY_S = 30  # a store that failed is opened afresh after this long, so a fixed problem mends itself
log = logging.getLogger("digit-page")
# Less empty space above the title, so the canvas, the network's input and the prediction fit one laptop screen.
PAGE_CSS = """<style>
[data-testid="stMainBlockContainer"] {padding-top: 2.5rem}
h1 {font-size: 2.1rem !important; padding-bottom: 0.2rem !important}
/* The page's section headings are h2 under the h1, for screen readers' outline, at the size of a small heading */
[data-testid="stMarkdownContainer"] h2 {font-size: 1.25rem !important; font-weight: 600 !important; padding: 0.75rem 0 0.5rem !important}
/* Colours follow the theme, light or dark (.streamlit/config.toml): none is written here. Captions take the theme's
   text colour, faded less than Streamlit's opacity 0.6 (3.9:1 on white): at 75% they keep WCAG AA's 4.5:1 in the
   light theme (6:1) and the dark (9:1). */
[data-testid="stCaptionContainer"] {opacity: 1 !important}
[data-testid="stCaptionContainer"], .canvas-hint {color: color-mix(in srgb, currentColor 75%, transparent) !important}
/* Small words Streamlit writes in the theme's red (a slider's value, the chosen segment, the open tab) take the text
   colour: the dark theme's red cannot be 4.5:1 on the dark page and under a primary button's white words at once.
   The red still marks them: the slider's thumb, the segment's tint and border, the tab's underline. */
[data-testid="stSliderThumbValue"], [data-testid="stButtonGroup"] button[aria-checked="true"],
[role="tab"][aria-selected="true"] {color: inherit !important}
/* Segmented controls wrap onto more lines, and so do their labels, where a phone has no room for them in one row
   (Streamlit's own scroll sideways, with their ends faded out, and cut a long label with an ellipsis). Their segments
   stand apart, each with its whole border and corners, which joined segments lose at the start of a line. */
[data-testid="stButtonGroup"] [role="radiogroup"] {flex-wrap: wrap; gap: .25rem; overflow: visible; mask-image: none}
[data-testid="stButtonGroup"] button {margin: 0 !important; border-radius: .5rem !important}
[data-testid="stButtonGroup"] button[aria-checked="false"]:not(:hover, :focus-visible) {border-color: color-mix(in srgb, currentColor 20%, transparent) !important}
[data-testid="stButtonGroup"] button, [data-testid="stButtonGroup"] button * {max-width: 100%; white-space: normal !important; overflow: visible !important}
/* The 1D explorer's table scrolls sideways on a narrow screen: there its row names wrap, leaving more room for the
   numbers, and a shade marks the side that has more to see (in the text colour, so it shows in either theme; where
   scroll-driven animations are missing, no shade) */
@media (max-width: 640px) {.c1d-wrap .c1d th {white-space: normal; width: 6rem}}
@supports (animation-timeline: scroll()) {
  .c1d-wrap {--shade: color-mix(in srgb, currentColor 45%, transparent); animation: c1d-more linear both;
             animation-timeline: scroll(self inline)}
  @keyframes c1d-more {
    from {box-shadow: inset 1.5rem 0 1rem -1rem transparent, inset -1.5rem 0 1rem -1rem var(--shade)}
    10%, 90% {box-shadow: inset 1.5rem 0 1rem -1rem var(--shade), inset -1.5rem 0 1rem -1rem var(--shade)}
    to {box-shadow: inset 1.5rem 0 1rem -1rem var(--shade), inset -1.5rem 0 1rem -1rem transparent}
  }
}
.sr-only {position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap}
/* a figure's words for screen readers (ui/alt.py) take no room in the layout either */
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > .sr-only:only-child) {position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0)}
.canvas-hint {font-size: 0.875rem}
/* A touch screen cannot hover: the canvas's toolbar stays shown there (ui/canvas_tools.py), and the hint says so */
@media (hover: none) {.canvas-hint .on-hover {display: none}}
@media (hover: hover) {.canvas-hint .on-touch {display: none}}
/* Below 640 px Streamlit stacks the columns: the short answer under the canvas keeps the prediction in view */
.short-answer {display: none}
@media (max-width: 640px) {.short-answer {display: block; font-size: 1.15rem; padding: 0.25rem 0}}
</style>"""
CANVAS_HINT = (
    '<div class="canvas-hint"><span class="on-hover">Undo, redo and reset: hover over the canvas.</span>'
    '<span class="on-touch">Undo, redo and reset: the buttons above the canvas. Draw with a finger or a stylus.</span>'
    "</div>"
)


@contextmanager
def guarded(what: str):
    """Show a failure in one part of the page as a short message, never as a traceback, and keep the rest going."""
    try:
        yield
    except Exception as e:  # noqa: BLE001: the page must survive any one part failing
        log.error("%s failed:\n%s", what, traceback.format_exc())
        st.error(f"{what} could not be shown ({type(e).__name__}: {literal(e)}). The rest of the page still works.")


@st.cache_resource(show_spinner="Loading the network…", max_entries=10)
def _load_model(path: str, mtime: float) -> nn.Module:
    """A network, loaded once per process and per weights file version; shared by every session: never mutate."""
    torch.set_num_threads(1)  # one drawing at a time is tiny work: threads only add overhead and contention
    return load(path)


@st.cache_resource(show_spinner=False, max_entries=10)
def _load_metadata(path: str, mtime: float) -> dict:
    """A network's metadata, read once per file version and shared by every session without copying: never mutate."""
    try:
        return load_metadata(path)
    except MetadataError:
        return {}


@st.cache_data(show_spinner=False, max_entries=2)
def _load_robustness(mtimes: tuple[float, ...]) -> dict | None:
    data = robustness.read()
    return data if robustness.current(data) else None


@st.cache_resource(show_spinner="Loading the training snapshots…", max_entries=2)
def _load_snapshot_models(path: str, mtime: float) -> tuple[Snapshots, list[nn.Module]]:
    """The shipped weights' training snapshots, each as a network: loaded once, shared read-only by every session."""
    snaps = load_snapshots(path)
    return snaps, snapshot_models(snaps)


@st.cache_resource(show_spinner="Loading the digits to train on…")
def _live_data():
    """The live runs' training and held-out digits: loaded once, shared read-only."""
    return live_data()


@st.cache_resource(show_spinner=False, max_entries=4)
def _drawings_store(url: str) -> DrawingsStore:
    """The drawings store, shared by every session."""
    return DrawingsStore(url)


def drawings_store() -> DrawingsStore:
    """The store at $DRAWINGS_DB (or SQLite under data/); one that failed is opened afresh after a while."""
    store = _drawings_store(store_url())
    if store.problem and time.monotonic() - store.opened > STORE_RETRY_S:
        _drawings_store.clear()
        store = _drawings_store(store_url())
    return store


@st.cache_data(show_spinner=False, max_entries=10)
def _weights_sha256(path: str, mtime: float) -> str:
    return file_sha256(path)


def _mtime(path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def network(name: str = "convnet") -> tuple[nn.Module | None, str | None]:
    """A shipped network (cnn.paths.shipped_networks), or why it cannot be loaded."""
    path = shipped_networks()[name]
    try:
        return _load_model(str(path), _mtime(path)), None
    except WeightsError as e:
        return None, str(e)


def model_or_error() -> tuple[ConvNet | None, str | None]:
    model, error = network("convnet")
    if model is not None and not isinstance(model, ConvNet):
        return None, f"{shown(DEFAULT_WEIGHTS)} does not hold the convnet: {TRAIN_HINT}"
    return model, error


def networks(names=COMPARED) -> dict[str, nn.Module]:
    """The named shipped networks whose weights load, in order."""
    loaded = {name: network(name)[0] for name in names}
    return {name: model for name, model in loaded.items() if model is not None}


def metadata(name: str = "convnet") -> dict:
    """A network's metadata (what training and the benchmarks measured), or {} if it cannot be read."""
    path = shipped_networks()[name]
    return _load_metadata(str(path), _mtime(metadata_path(path)))


def how_it_learned_ui(image: np.ndarray, digit: int) -> None:
    meta = metadata()
    hp = meta.get("hyperparameters") if isinstance(meta.get("hyperparameters"), dict) else {}
    path = snapshots_path(DEFAULT_WEIGHTS)
    try:
        snaps, models = _load_snapshot_models(str(path), _mtime(path))
    except SnapshotError as e:
        st.info(f"No replay of the training to show: {literal(e)}")
    else:
        samples, batch = meta.get("train_samples"), hp.get("batch_size")
        per_epoch = -(-samples // batch) if isinstance(samples, int) and isinstance(batch, int) and batch > 0 else None
        replay_ui(replay(snaps, models, image), digit, per_epoch, hp.get("ema"))
    st.divider()
    epochs, samples = hp.get("epochs"), meta.get("train_samples")
    shipped = (f"The shipped network trained for {epochs} passes over {samples:,} digits."
               if isinstance(epochs, int) and isinstance(samples, int) else "")
    live_ui(live_queue(), get_script_run_ctx().session_id, image, digit, _live_data, live_steps(), shipped)


def your_drawings_ui() -> None:
    gallery_ui(drawings_store())
    st.divider()
    model, error = model_or_error()
    if model is None:
        st.info(f"No personal copy without the shipped network: {literal(error)}")
    else:
        personal_ui(model, live_queue(), get_script_run_ctx().session_id, _live_data)
    st.divider()
    class_ui(drawings_store(), networks(("convnet", "dense44")),
             _weights_sha256(str(DEFAULT_WEIGHTS), _mtime(DEFAULT_WEIGHTS)))


def robustness_figures() -> dict | None:
    """The measured accuracy of every network on MNIST's test digits moved, if it was measured on these weights."""
    return _load_robustness(tuple(_mtime(p) for p in shipped_networks().values()) + (_mtime(ROBUSTNESS),))


# --- the drawing and everything that depends on it -------------------------------------------------------------------


def canvas_ui():
    """The canvas with its pen and Clear controls; returns what the canvas sent, to be read by cnn.canvas, and a place
    right under the canvas for the short answer a phone shows there."""
    full = strokes_in_state(st.session_state.get("canvas")) >= MAX_STROKES
    result = st_canvas(
        stroke_width=st.session_state.get("pen", DEFAULT_PEN),
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=CANVAS_SIZE,
        width=CANVAS_SIZE,
        drawing_mode="freedraw",
        return_image_data=True,
        key="canvas",
        disabled=full,  # each stroke makes the canvas's message larger: a full canvas takes no more until cleared
    )
    answer = st.empty()
    pen, clear = st.columns([2, 1], vertical_alignment="bottom")  # Clear keeps its label whole on a tablet too
    pen.slider("Pen width", 6, 40, DEFAULT_PEN, key="pen", help="About 20 gives strokes like MNIST's once scaled down.")
    with clear:
        clear_button()
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


def prediction_ui(
    probs: np.ndarray | None, model_error: str | None, problem: str | None = None, advice: str | None = None
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
    a, b = st.columns(2)
    a.metric("Prediction", str(top))
    b.metric("Probability", percent(probs[top]), help=f"Below {UNSURE_BELOW:.0%} the page calls the network unsure.")
    if probs[top] < UNSURE_BELOW:
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


def layer_info(model: ConvNet) -> dict[str, str]:
    """What each layer whose maps are shown is, from the network's own shapes."""
    _, in1, k1, _ = model.conv1.weight.shape
    _, in2, k2, _ = model.conv2.weight.shape
    p1, p2 = model.pool1.kernel_size, model.pool2.kernel_size
    return {
        "conv1": f"Conv2D {k1}×{k1} + ReLU on the {IMAGE_SIZE}×{IMAGE_SIZE} input" + ("" if in1 == 1 else f" ({in1} channels)"),
        "pool1": f"MaxPool {p1}×{p1} of conv1",
        "conv2": f"Conv2D {k2}×{k2} + ReLU over all {in2} pool1 maps",
        "pool2": f"MaxPool {p2}×{p2} of conv2",
    }


def feature_maps_ui(model: ConvNet, maps: dict[str, np.ndarray]) -> None:
    out1, in1, k1, _ = model.conv1.weight.shape
    out2, in2, k2, _ = model.conv2.weight.shape
    pool = model.pool1.kernel_size
    st.markdown(
        f"Each small square is one channel, bright where it responds; all channels of a layer share one colour "
        f"scale, so brightness compares across them. A **conv** channel is one learned filter slid over the whole of "
        f"the layer's input, plus a bias, then ReLU: conv1's {out1} filters are {in1}×{k1}×{k1}, reading the grey "
        f"input image, and conv2's {out2} filters are {in2}×{k2}×{k2}, reading all {in2} pool1 maps at once. A "
        f"**pool** channel is its conv channel shrunk, keeping the largest value of each {pool}×{pool} block."
    )
    pick_layer, pick_channel = st.columns([2, 3])
    layer = pick_layer.segmented_control("Look closer at", FEATURE_LAYERS, default="conv1", key="fm_layer") or "conv1"
    channels = maps[layer].shape[0]
    channel = pick_channel.slider("Channel", 0, channels - 1, 0, key=f"fm_channel_{layer}")
    info = layer_info(model)
    # one row of two columns per pair (conv1 and pool1, then conv2 and pool2): a phone stacks the columns row by
    # row, so the layers still come in the network's order
    places = [place for _ in range(0, len(FEATURE_LAYERS), 2) for place in st.columns(2)]
    for place, name in zip(places, FEATURE_LAYERS):
        cols, what = MAP_COLUMNS, info[name]
        c, h, w = maps[name].shape
        mosaic, channel_of = tile(maps[name], cols)
        highlight = None
        if name == layer:
            r, q = divmod(channel, cols)
            highlight = (r * (h + 1), r * (h + 1) + h, q * (w + 1), q * (w + 1) + w)
        with place:
            st.markdown(f"**{name}** · {c} maps of {h}×{w} · {what}")
            height = 230 if c == 32 else 300
            chart(mosaic_figure(mosaic, channel_of, float(maps[name].max()), height, highlight),
                  maps_alt(maps[name], name), key=f"mosaic_{name}")
    source = "conv1" if layer in ("conv1", "pool1") else "conv2"
    weights, bias = kernels(model, source)
    big, kernel = st.columns([1, 1])
    with big:
        st.markdown(f"**{layer}, channel {channel}**")
        z = maps[layer][channel]
        chart(mosaic_figure(z, np.full(z.shape, channel, np.int16), float(maps[layer].max()), 300, None),
              map_alt(z, layer, channel), key="fm_big")
    with kernel:
        if source == "conv1":
            st.markdown(f"**The 3×3 kernel of conv1 channel {channel}** (bias {signed(bias[channel])})")
            chart(kernel_figure(weights[channel, 0], 300, annotate=True),
                  kernel_alt(weights[channel, 0], f"The kernel of conv1 channel {channel}"), key="fm_kernel")
            st.caption(
                "Each output pixel is the sum of the 9 input pixels under the kernel, times these weights, plus the "
                "bias; negatives become 0 (ReLU). Blue weights reward ink, red ones penalise it. " + SIGNED_COLOURS
                + (" pool1 then keeps the largest value of each 2×2 block." if layer == "pool1" else "")
            )
        else:
            st.markdown(f"**conv2 channel {channel}: its 32 kernel slices** (bias {signed(bias[channel])})")
            chart(kernel_figure(weights[channel], 300, annotate=False, cols=8),
                  kernel_alt(weights[channel], f"The kernel of conv2 channel {channel}, one slice per pool1 map"),
                  key="fm_kernel")
            st.caption(
                "conv2 reads all 32 pool1 maps at once: its kernel is 32 × 3 × 3. Shown here per input channel, one "
                "3×3 slice for each pool1 map, in channel order. The output is the sum of the 32 slices' responses "
                "plus the bias, then ReLU." + (" pool2 keeps the largest of each 2×2 block." if layer == "pool2" else "")
            )


def read_canvas(result) -> tuple[np.ndarray | None, np.ndarray | None, str | None, str | None, str | None]:
    """The RGBA drawing, the image the network sees, why it cannot be read, why it is not read as a digit, and advice
    when the pen is bold for the digit's size."""
    try:
        rgba, _ = read_drawing(result, CANVAS_SIZE, CANVAS_SIZE)
    except CanvasError as e:
        return None, None, str(e), None, None
    if rgba is None:
        return None, None, None, None, None
    try:
        steps = preprocess_steps(rgba)
    except ValueError as e:
        return None, None, str(e), None, None
    if steps is None:
        return rgba, None, None, None, None
    pen = st.session_state.get("pen", DEFAULT_PEN)
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


@st.fragment
def drawing_ui(model: ConvNet | None, model_error: str | None) -> None:
    """Everything a stroke changes: reruns alone when the drawing changes."""
    draw, seen, predicted = st.columns([1.05, 0.95, 1.3], gap="medium")
    with draw:
        st.markdown("## 1 · Draw")
        result, answer = canvas_ui()
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
                label_ui(drawings_store(), image, rgba, probs, _weights_sha256(str(DEFAULT_WEIGHTS), _mtime(DEFAULT_WEIGHTS)))
    with seen:
        st.markdown("## 2 · What the network sees")
        if problem:
            st.error(f"This drawing could not be read: {literal(problem)}.")
        elif image is None:
            st.caption(f"Your drawing, cropped, fitted into {BOX}×{BOX} and centred by its centre of mass in {IMAGE_SIZE}×{IMAGE_SIZE}, as MNIST's digits were.")
        else:
            chart(image_figure(image, height=250), image_alt(image, "What the network sees"), key="seen")
            st.caption(f"{IMAGE_SIZE}×{IMAGE_SIZE} pixels in [0, 1]: cropped to the ink, fitted into {BOX}×{BOX}, centred by centre of mass.")
    if not_read:
        image = None  # the explanations would explain a reading the page does not make
    tabs = st.tabs(ANALYSIS_TABS, key="analysis", on_change="rerun")
    parts = {
        "Feature maps": lambda: feature_maps_ui(model, maps),
        "Step by step": lambda: steps_ui(model, rgba, metadata()),
        "How sure is it?": lambda: sure_ui(model, image, metadata()),
        "Why this digit?": lambda: why_ui(model, image, probs),
        "2D convolution": lambda: explorer2d_ui(model, image, maps),
        "Move it": lambda: move_ui(networks(), image, int(probs.argmax()), robustness_figures()),
        "How it learned": lambda: how_it_learned_ui(image, int(probs.argmax())),
    }
    for tab, name in zip(tabs, ANALYSIS_TABS):
        if not tab.open:  # only the open tab is computed: a stroke costs what the learner is looking at
            continue
        with tab, guarded(name):
            if name == "2D convolution":
                parts[name]()
            elif model is None:
                st.info("This part needs the trained network, which could not be loaded (see above).")
            elif image is None:
                st.info("Draw a digit on the canvas to see this for your own handwriting." if not_read is None else
                        "This part explains the network's reading of a digit: draw one larger on the canvas.")
            else:
                parts[name]()


# --- the rest of the page ---------------------------------------------------------------------------------------------


@st.fragment
def lessons_ui() -> None:
    tabs = st.tabs(LESSON_TABS, key="lessons", on_change="rerun")
    parts = {
        "1D convolution padding": explorer_ui,
        "The model and its parameters": model_ui,
        "Dense against convolution": lambda: dense_ui(
            networks(shipped_networks()), {name: metadata(name) for name in shipped_networks()}
        ),
        "How it was trained": lambda: training_ui(DEFAULT_WEIGHTS),
        "Your drawings and the class's": your_drawings_ui,
    }
    for tab, name in zip(tabs, LESSON_TABS):
        if tab.open:
            with tab, guarded(name):
                parts[name]()


def main() -> None:
    st.set_page_config(page_title="How a convnet reads your handwriting", page_icon="✍️", layout="wide")
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
