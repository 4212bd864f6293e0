"""Move it: the drawing's 28x28 input shifted, turned, zoomed, thickened or made noisy, read by every network."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn.data import IMAGE_SIZE
from cnn.model import page_reading
from cnn.perturb import MAX_NOISE, MAX_ROTATE, MAX_SHIFT, MAX_STROKE, SCALES, Move, apply, validate
from cnn.robustness import CONTROLS, LOSING, at_value, readings_along
from ui.alt import chart, image_alt, robustness_alt, sweep_alt
from ui.figures import COMPARED, NETWORK_NAMES, image_figure, percent, robustness_figure, sweep_figure, unchanging
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
        st.caption(f"The moved {IMAGE_SIZE}×{IMAGE_SIZE} input, as all the networks receive it.")
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
    chart(unchanging(robustness_figure, shown), robustness_alt(shown), key="mv_robustness")
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
    return " ".join(text) + "\n\n" + why_text(robustness)


def _listed(items: list[str]) -> str:
    """Items joined as a sentence lists them: a; a and b; a, b and c."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def why_text(robustness: dict) -> str:
    """Why the convnet is not immune to a shift, in words, from the measurement's own figures: how much a small
    shift changes its pool2 features, what training on moved digits did, and how much ink leaves the frame."""
    text = ["Why not more? Convolution itself moves with the digit: a shifted input gives shifted feature maps."]
    change, grid = robustness.get("shift_change"), None
    if isinstance(change, dict):
        grid, cell = change["grid"], change["cell"]
        small = [i for i, s in enumerate(change["shifts"]) if s < cell]
        shifts = _listed([str(change["shifts"][i]) for i in small])
        pool2 = _listed([f"{change['pool2'][i]:.0%}" for i in small])
        pixels = _listed([f"{change['pixels'][i]:.0%}" for i in small])
        little = all(change["pool2"][i] > 0.5 * change["pixels"][i] for i in small)
        text.append(
            ("But max pooling absorbs little of a small shift: " if little else "Max pooling absorbs part of a small "
             "shift: ")
            + f"shifted {shifts} pixels right, a test digit's pool2 features, what the convnet's dense layer reads, "
            f"change by {pool2} of their size on average (relative L2), "
            + (f"not much less than its pixels do ({pixels})." if little else f"against {pixels} for its pixels.")
        )
        if change["one_cell"] < 0.01:
            text.append(f"A {cell}-pixel shift, one step of pool2's {grid}×{grid} grid, lines up: the features move "
                        "exactly one cell along, the same features in a new place.")
    where = f"which of the {grid}×{grid} positions" if grid else "which position"
    text.append(f"And the dense layer that ends the convnet still sees at {where} each feature fired.")
    return " ".join(text + _training_text(robustness, change) + _frame_text(robustness))


def _training_text(robustness: dict, change: dict | None) -> list[str]:
    """What the convnet was trained on, and what that did: the same convnet trained on unmoved digits beside it."""
    moves = robustness.get("moves")
    moves = moves if isinstance(moves, dict) else {}
    convnet, text = moves.get("convnet"), []
    if convnet:
        everyone = all(moves.get(a) == convnet for a in robustness["weights"])
        how = [f"shifted by up to ±{convnet['shift_px']:g} pixels each way"]
        how += [f"turned by up to ±{convnet['rotate_deg']:g}°"] if convnet["rotate_deg"] else []
        how += ["zoomed"] if convnet["scale"] else []
        how += ["slanted"] if convnet["shear"] else []
        text.append(f"{'All these networks were' if everyone else 'The convnet was'} trained on digits moved at "
                    f"random: {_listed(how)}.")
    plain, sx = robustness.get("unaugmented"), robustness["sweeps"]["shift_x"]
    if not (convnet and isinstance(plain, dict) and isinstance(change, dict)):
        return text
    shifts = [s for s in change["shifts"] if s in plain["values"] and s in sx["values"]]

    def lost(values: list, accuracy: list) -> list[float]:
        """Points of accuracy lost at each of `shifts`, from the unmoved digits'."""
        return [(accuracy[values.index(0)] - accuracy[values.index(s)]) * 100 for s in shifts]

    theirs, ours = lost(plain["values"], plain["accuracy"]), lost(sx["values"], sx["accuracy"]["convnet"])
    text.append(
        f"The same convnet trained on digits never moved (the {plain['recipe']} recipe) loses "
        f"{_listed([f'{p:.1f}' for p in theirs])} points of accuracy at {_listed([str(s) for s in shifts])} pixels "
        f"right, where this one loses {_listed([f'{p:.1f}' for p in ours])}: training on moved digits spares it "
        + ("most" if sum(ours) <= 0.5 * sum(theirs) else "only part") + " of what a small shift costs."
    )
    return text


def _frame_text(robustness: dict) -> list[str]:
    """How much of the drop at the largest shift is ink leaving the frame: the digits cut the same way, unmoved."""
    frame = robustness.get("frame")
    if not isinstance(frame, dict):
        return []
    far, text = MAX_SHIFT, []
    for name, where in (("shift_x", "right"), ("shift_y", "down")):
        f, sweep = frame[name], robustness["sweeps"][name]
        i = f["values"].index(far)
        unmoved = sweep["accuracy"]["convnet"][sweep["values"].index(0)]
        moved, cut = sweep["accuracy"]["convnet"][sweep["values"].index(far)], f["cut"]["convnet"][i]
        losing, lost = f"{f['losing'][i]:.0%}", f"{f['ink_lost'][i]:.0%}"
        if name == "shift_x":
            share = (unmoved - cut) / (unmoved - moved) if unmoved > moved else 0.0
            how = "Little" if share < 1 / 3 else "Part" if share < 2 / 3 else "Most"
            text.append(
                f"{how} of the drop at {far} pixels is ink leaving the {IMAGE_SIZE}×{IMAGE_SIZE} frame. Shifted {far} "
                f"pixels {where}, {losing} of the test digits lose more than {LOSING:.0%} of their ink over the edge "
                f"({lost} of a digit's ink on average), and with that same ink cut off where they stand the convnet "
                f"reads {cut:.1%} of them: losing the ink costs it {(unmoved - cut) * 100:.0f} of the "
                f"{(unmoved - moved) * 100:.0f} points it drops, the move itself the rest."
            )
        else:
            text.append(
                f"Shifted {far} pixels {where}, {losing} lose more than {LOSING:.0%} ({lost} on average), and with "
                f"that ink cut off where they stand the convnet reads {cut:.1%} of them, against {moved:.1%} moved."
            )
    return text
