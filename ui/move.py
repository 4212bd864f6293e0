"""Move it: the drawing's 28x28 input shifted, turned, zoomed, thickened or made noisy, read by every network."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn.augment import Affine
from cnn.model import page_reading
from cnn.perturb import MAX_NOISE, MAX_ROTATE, MAX_SHIFT, MAX_STROKE, SCALES, Move, apply, validate
from cnn.robustness import CONTROLS, at_value, readings_along
from ui.alt import chart, image_alt, robustness_alt, sweep_alt
from ui.figures import COMPARED, NETWORK_NAMES, image_figure, percent, robustness_figure, sweep_figure
from ui.markdown import literal

LABELS = {
    "dx": "Shift right (pixels)",
    "dy": "Shift down (pixels)",
    "rotate": "Turn (degrees, counter-clockwise)",
    "scale": "Zoom",
    "stroke": "Strokes thicker (+) or thinner (−), pixels",
    "noise": "Noise (standard deviation)",
}
SHORT = {"dx": "shift right", "dy": "shift down", "rotate": "turn", "scale": "zoom", "stroke": "stroke", "noise": "noise"}
DEFAULTS = {"dx": 0, "dy": 0, "rotate": 0.0, "scale": 1.0, "stroke": 0, "noise": 0.0}


def _reset() -> None:
    for name, value in DEFAULTS.items():
        st.session_state[f"mv_{name}"] = value


def controls_ui() -> Move:
    a, b, c = st.columns(3)
    dx = a.slider(LABELS["dx"], -MAX_SHIFT, MAX_SHIFT, 0, key="mv_dx")
    dy = a.slider(LABELS["dy"], -MAX_SHIFT, MAX_SHIFT, 0, key="mv_dy")
    rotate = b.slider(LABELS["rotate"], -MAX_ROTATE, MAX_ROTATE, 0.0, 5.0, key="mv_rotate")
    scale = b.slider(LABELS["scale"], SCALES[0], SCALES[1], 1.0, 0.05, key="mv_scale")
    stroke = c.slider(LABELS["stroke"], -MAX_STROKE, MAX_STROKE, 0, key="mv_stroke")
    noise = c.slider(LABELS["noise"], 0.0, MAX_NOISE, 0.0, 0.05, key="mv_noise")
    c.button("Put it back", on_click=_reset, key="mv_reset")
    return validate(Move(dx=dx, dy=dy, rotate=rotate, scale=scale, stroke=stroke, noise=noise))


def move_ui(models: dict, image: np.ndarray, digit: int, robustness: dict | None) -> None:
    """`models`: {arch: network}, the convnet first; `digit`: what the convnet reads in the unmoved drawing."""
    st.markdown(
        f"Move your digit and see whether each network still reads it as a **{digit}**. A dense network links every "
        "pixel to every hidden unit with its own weight, so a stroke in a new place meets new weights; a convolution "
        "layer slides the same small filters everywhere, so a moved stroke meets the same filter, moved."
    )
    move = controls_ui()
    left, right = st.columns([1, 2])
    with right:
        control = st.segmented_control(
            "Sweep one control", list(CONTROLS), default="dx", format_func=SHORT.get, key="mv_sweep"
        ) or "dx"
    # The sweep's images include the one the controls set now: one batch per network reads both.
    sweep_images, sweep_probs = readings_along(models, image, move, control)
    now = at_value(control, getattr(move, control))
    if now is None:
        moved = apply(image, move).numpy()
        probs_now = {name: page_reading(model, moved)[0] for name, model in models.items()}
    else:
        moved, probs_now = sweep_images[now], {name: p[now] for name, p in sweep_probs.items()}
    with left:
        chart(image_figure(moved, height=230), image_alt(moved, "The moved input"), key="mv_image")
        st.caption("The moved 28×28 input, as all the networks receive it.")
    with right:
        cols = st.columns(len(models))
        for col, (name, probs) in zip(cols, probs_now.items()):
            top = int(probs.argmax())
            col.metric(f"{NETWORK_NAMES[name]} reads", str(top), help=f"its probability of {top}: {percent(probs[top])}")
            col.caption(literal(f"p({digit}): {percent(probs[digit])}"))
        along = {name: [float(v) for v in p[:, digit]] for name, p in sweep_probs.items()}
        chart(sweep_figure(CONTROLS[control], along, getattr(move, control), LABELS[control], digit),
              sweep_alt(CONTROLS[control], along, LABELS[control], digit, getattr(move, control)), key="mv_sweep_fig")
        st.caption(f"Each network's probability of {digit} as the {SHORT[control]} control runs over its range, the "
                   "others as they are set now; the dotted line is where it is now.")
    robustness_ui(robustness)


def robustness_ui(robustness: dict | None) -> None:
    st.markdown("**On all of MNIST's test digits**")
    if not robustness:
        st.info("No measurement of MNIST's test digits moved is at hand for these weights: python -m cnn.robustness "
                "--write measures it.")
        return
    shown = {name: {**s, "accuracy": {a: s["accuracy"][a] for a in COMPARED if a in s["accuracy"]}}
             for name, s in robustness["sweeps"].items()}
    chart(robustness_figure(shown), robustness_alt(shown), key="mv_robustness")
    st.markdown(robustness_text(robustness))


def _accuracy(sweep: dict, arch: str, value) -> float:
    return sweep["accuracy"][arch][sweep["values"].index(value)]


def robustness_text(robustness: dict) -> str:
    """What the measurement shows, in words, from its own figures."""
    sweeps, n = robustness["sweeps"], robustness.get("test_digits", 0)
    sx, rot = sweeps["shift_x"], sweeps["rotation"]
    compared = [a for a in COMPARED if a in sx["accuracy"]]
    near, far, turn = MAX_SHIFT // 2, MAX_SHIFT, int(MAX_ROTATE)

    def row(sweep: dict, value, archs=compared) -> str:
        return ", ".join(f"{NETWORK_NAMES[a]} {_accuracy(sweep, a, value):.1%}" for a in archs)

    text = [
        f"Of MNIST's {n:,} test digits, unmoved: {row(sx, 0)}. Shifted {near} pixels right: {row(sx, near)}; "
        f"{far} pixels: {row(sx, far)}. Turned {turn}°: {row(rot, turn)}."
    ]
    dense = [a for a in compared if a != "convnet"]
    if "convnet" in compared and dense:
        lead = min(_accuracy(sx, "convnet", near) - _accuracy(sx, a, near) for a in dense)
        if lead > 0.05:
            text.append(f"The convnet holds up far better: at {near} pixels it reads at least {lead * 100:.0f} more of "
                        "every 100 digits than either dense network.")
        else:
            text.append(f"At {near} pixels the convnet holds up little better than the dense networks ({lead * 100:+.0f} "
                        "of every 100 digits at most).")
        if _accuracy(sx, "convnet", far) < 0.6:
            text.append(f"But it is not immune: {far} pixels leave it {_accuracy(sx, 'convnet', far):.0%}.")
    tuned = [a for a in sx["accuracy"] if a not in COMPARED]
    if tuned and "convnet" in compared:
        behind = _accuracy(sx, "convnet", near) - max(_accuracy(sx, a, near) for a in tuned)
        text.append(f"The dense networks trained without dropout read more unmoved digits ({row(sx, 0, tuned)}); at "
                    f"{near} pixels they read {row(sx, near, tuned)}, "
                    + ("still well behind the convnet." if behind > 0.05 else "close to the convnet."))
    text.append(
        "Why not more? Convolution itself moves with the digit: a shifted input gives shifted feature maps. Max "
        "pooling only forgives a shift within each 2×2 block (4×4 after both poolings), and the convnet ends in a "
        "dense layer that still sees at which of the 5×5 positions each feature fired."
    )
    augmented = robustness.get("augmented")
    if isinstance(augmented, dict) and augmented and all(augmented.values()):
        a = Affine()
        text.append(f"All these networks were trained on digits shifted by up to ±{a.shift_px:g} pixels and turned "
                    f"by up to ±{a.rotate_deg:g}° at random, so small moves are what they all learned to take.")
    return " ".join(text)
