"""The explanation tabs for the current drawing: preprocessing step by step, how sure, and why this digit."""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import streamlit as st
from PIL import Image

from cnn.augment import BLUR_SIZES, affine_of
from cnn.data import IMAGE_SIZE
from cnn import atlas as atlas_module
from cnn.explain import (
    MC_SAMPLES, NOT_A_DIGIT_ABOVE, NOT_A_DIGIT_SCORE, UNSURE_BELOW, grad_cam, input_gradient, mc_dropout, occlusion,
)
from cnn.model import PAGE_READING, ConvNet, page_reading
from cnn.preprocess import BOX, CENTRE, preprocess_steps
from ui.alt import chart, heat_alt, probabilities_alt
from ui.figures import overlay_figure, percent, probability_figure
from ui.markdown import literal
from ui.resources import atlas


def png_data_url(pixels: np.ndarray) -> str:
    """A uint8 image, grey (H, W) or colour (H, W, 3), as a PNG inside a data URL, for pictures carried in the page's
    HTML."""
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def inline_image(img: np.ndarray, caption: str) -> str:
    """A grey image in [0, 1] with its caption, as HTML carrying the PNG itself. Not st.image, whose picture the
    browser fetches from the server afterwards: a Clear or a stroke that arrives first drops it there, and the fetch
    fails (404) while the page is still drawing the old run."""
    src = png_data_url((np.clip(img, 0, 1) * 255).round().astype(np.uint8))
    text = html.escape(caption)
    return (f'<figure style="margin:0"><img src="{src}" alt="Your drawing, {text}" '
            'style="width:100%;image-rendering:pixelated;display:block">'
            '<figcaption style="font-size:0.875rem;text-align:center;padding-top:0.25rem;'
            f'color:color-mix(in srgb, currentColor 75%, transparent)">{text}</figcaption></figure>')


def enlarge(img: np.ndarray, side: int = 140) -> np.ndarray:
    """A small grey image centred in a black square and blown up with square pixels (no smoothing), for showing."""
    h, w = img.shape
    n = max(h, w)
    square = np.zeros((n, n), np.float32)
    square[(n - h) // 2 : (n - h) // 2 + h, (n - w) // 2 : (n - w) // 2 + w] = img
    f = max(1, side // n)
    return np.clip(np.kron(square, np.ones((f, f))), 0, 1)


def shrink_for_display(img: np.ndarray, side: int = 140) -> np.ndarray:
    step = max(1, max(img.shape) // side)
    return img[::step, ::step]


def a_digit(d: int) -> str:
    """'a 3', 'an 8'."""
    return f"{'an' if d == 8 else 'a'} {d}"


def training_inputs(hyperparameters: dict) -> str:
    """What the network saw in training, beyond MNIST's preparation: from the recipe its weights were trained with."""
    if not hyperparameters:
        return ""
    if not hyperparameters.get("augment"):
        return " The network was trained on MNIST's digits exactly as they were prepared."
    a = affine_of(hyperparameters)  # the ranges cnn/train.py augmented with, as its recipe recorded them
    thicken, thin = float(hyperparameters.get("thicken", 0)), float(hyperparameters.get("thin", 0))
    widths = ""
    if thicken or thin:
        widths = (f", its strokes made thicker by up to {thicken:g} pixel{'' if thicken == 1 else 's'} on each side "
                  f"or thinner by up to {thin:g} at random, as a bolder or finer pen would draw them")
    blur = float(hyperparameters.get("blur", 0))
    if blur:
        widths += (f", and {blur:.0%} of them blurred (shrunk to {BLUR_SIZES[0]}–{BLUR_SIZES[1]} pixels a side "
                   "and enlarged back)")
    flag = float(hyperparameters.get("flag", 0))
    if flag:
        widths += (f", and {flag:.0%} of the 1s given a flag from the top down to the left, as many people write "
                   "a 1 and few of MNIST's writers did")
    bars = float(hyperparameters.get("bars", 0))
    if bars:
        widths += f", and {bars:.0%} of the 7s with their bar cut short, as a 7 written quickly"
    return (
        " The network was trained on these digits, each also moved a little every time it saw it: rotated by up to "
        f"±{a.rotate_deg:g}°, scaled by up to ±{a.scale:.0%}, sheared by up to ±{a.shear:g} and shifted by up to "
        f"±{a.shift_px:g} pixels at random"
        + (", and distorted elastically" if hyperparameters.get("elastic") else "")
        + widths
        + ". So it has seen digits a little off this preparation, but none prepared very differently."
    )


def steps_ui(model: ConvNet | None, rgba: np.ndarray, meta: dict) -> None:
    hp = meta.get("hyperparameters")
    st.markdown(
        f"MNIST's digits were scanned, **cropped**, **fitted into a {BOX}×{BOX} box** (aspect kept, anti-aliased) and "
        f"**centred by their centre of mass** in {IMAGE_SIZE}×{IMAGE_SIZE}: their centres of mass sit at "
        f"({CENTRE[0]:g}, "
        f"{CENTRE[1]:g}) on average, counting rows and columns from 0, and the page puts yours there too."
        + training_inputs(hp if isinstance(hp, dict) else {})
        + " Switch the steps off to see what it would get from a raw canvas, and how it reads that."
    )
    a, b = st.columns(2)
    fit = a.toggle("Crop and fit into 20×20", value=True, key="pp_fit")
    centre = b.toggle("Centre by centre of mass", value=True, key="pp_centre")
    steps = preprocess_steps(rgba, fit=fit, centre=centre)
    if steps is None:
        st.info("Draw something first.")
        return
    top, bottom, left, right = steps.box
    panels = [(shrink_for_display(steps.ink), f"the canvas ({steps.ink.shape[0]}×{steps.ink.shape[1]})")]
    if fit:
        panels += [
            (enlarge(steps.crop), f"1 · ink cropped ({bottom - top}×{right - left})"),
            (enlarge(steps.fitted), f"2 · fitted in {BOX}×{BOX} ({steps.fitted.shape[0]}×{steps.fitted.shape[1]})"),
            (enlarge(steps.placed), f"3 · placed in {IMAGE_SIZE}×{IMAGE_SIZE}"),
        ]
    else:
        panels += [(enlarge(steps.placed), f"whole canvas shrunk to {IMAGE_SIZE}×{IMAGE_SIZE}")]
    panels.append(
        (enlarge(steps.final), f"4 · centred (moved {steps.shift[0]:+d} rows, {steps.shift[1]:+d} columns)")
        if centre
        else (enlarge(steps.final), "not centred")
    )
    for col, (img, caption) in zip(st.columns(len(panels)), panels):
        col.html(inline_image(img, caption))
    if model is None:
        return
    probs = page_reading(model, steps.final)[0]
    top_digit = int(probs.argmax())
    left_col, right_col = st.columns([1, 2])
    left_col.metric("Read with these steps", str(top_digit))
    left_col.caption(f"with probability {literal(percent(probs[top_digit]))}")
    if not (fit and centre):
        left_col.caption("Switch both steps back on to compare with the page's reading above.")
    chart(probability_figure(probs, height=220), probabilities_alt(probs, who="With these steps, the network"),
          where=right_col, key="pp_probs")


def unsure_figures(meta: dict) -> str:
    """What the weights' metadata measured about unsure readings on MNIST's test digits, as a sentence."""
    test = meta.get("test") if isinstance(meta.get("test"), dict) else {}
    u = test.get("unsure")
    if not isinstance(u, dict) or u.get("below") != UNSURE_BELOW or not u.get("count") or u.get("accuracy") is None:
        return ""
    return (
        f" On MNIST's {test.get('count', 0):,} test digits this happens for {u['count']}, and the network misreads "
        f"{1 - u['accuracy']:.0%} of those, against {1 - u['rest_accuracy']:.2%} of the rest."
    )


def flag_figures(meta: dict) -> tuple[str, str]:
    """From the weights' metadata: how reliable a flagged reading is on MNIST's test digits, and how often the flag
    falls on validation digits and on scribbles. Empty where the metadata did not measure the page's rule."""
    test = meta.get("test") if isinstance(meta.get("test"), dict) else {}
    t, reliability = test.get("not_a_digit"), ""
    if isinstance(t, dict) and t.get("above") == NOT_A_DIGIT_ABOVE and t.get("count") and t.get("accuracy") is not None:
        reliability = (
            f" On MNIST's {test.get('count', 0):,} test digits the flag falls on {t['count']}: {PAGE_READING} is "
            f"right for {t['accuracy']:.0%} of those, against {t['rest_accuracy']:.2%} of the others."
        )
    b, rates = meta.get("not_a_digit"), ""
    if isinstance(b, dict) and b.get("above") == NOT_A_DIGIT_ABOVE and isinstance(b.get("flag_rates"), dict):
        r = b["flag_rates"]
        if {"validation", "scribbles"} <= r.keys():
            rates = (
                f": {r['validation']:.0%} of MNIST's validation digits score higher, and {r['scribbles']:.0%} of "
                "random scribbles"
            )
    return reliability, rates


def atlas_figures(meta: dict, threshold: float | None) -> str:
    """From the weights' metadata: how often the not-a-digit check (cnn.atlas) flags each set bench/not_a_digit.py
    measured it on. Empty where it measured another threshold than the atlas's."""
    a = meta.get("atlas")
    if threshold is None or not isinstance(a, dict) or a.get("threshold") != round(threshold, 4):
        return ""
    r = a.get("flag_rates") if isinstance(a.get("flag_rates"), dict) else {}
    named = [("validation", "MNIST's validation digits"), ("test", "its test digits"),
             ("pen strokes", "the project's drawn digits"), ("scikit-learn", "scikit-learn's scanned digits"),
             ("fashion", "Fashion-MNIST's clothes"), ("handwritten letters", "letters no digit resembles, drawn"),
             ("printed letters", "the same letters, printed"), ("symbols", "symbols such as + # ☆ ⌂"),
             ("scribbles", "scribbles")]
    found = [f"{r[k]:.1%} of {name}" for k, name in named if isinstance(r.get(k), float)]
    return f" Measured by bench/not_a_digit.py, it flags {', '.join(found)}." if found else ""


def not_a_digit_ui(unlike: bool | None, meta: dict) -> None:
    """How the first screen's not-a-digit check works, with its measured rates and its verdict on this drawing."""
    found, why = atlas()
    if found is None:
        st.caption(f"The first screen's not-a-digit check is off: {literal(why)}")
        return
    verdict = "is not checked" if unlike is None else "looks like none of them" if unlike else "lies near some of them"
    st.markdown(
        f"**Not a digit?** The first screen compares your drawing with {len(found):,} of MNIST's training digits in "
        f"the features the network's last layer reads: the {found.projection.shape[0]:,} numbers of pool2, scaled to "
        f"length 1 and projected onto the {found.projection.shape[1]} directions in which the training digits vary "
        f"most. If even the {atlas_module.NEIGHBOUR}th nearest training digit is far from it (a cosine distance above "
        f"{found.threshold:.3f}, which {atlas_module.FALSE_FLAGS:.2%} of the validation digits exceed), the page says "
        f"the drawing looks like no digit the network knows. Yours {verdict}."
        + literal(atlas_figures(meta, found.threshold))
        + " Dropout's disagreement above is a different signal: it measures doubt between digits, and misses many "
        "shapes the network is sure of, such as a letter it confidently reads as a 4."
    )


def sure_ui(model: ConvNet, image: np.ndarray, meta: dict, unlike: bool | None = None) -> None:
    mc = mc_dropout(model, image)
    top = int(mc.mean.argmax())
    votes = np.bincount(mc.samples.argmax(1), minlength=10)
    p, features = model.dropout.p, model.fc.in_features
    spread = np.sqrt(features * p * (1 - p))
    st.markdown(
        f"While the network was trained, dropout silenced each of the {features:,} features before the last layer "
        f"independently, with probability {p:g}, at every step: about {p * features:,.0f} of them (± {spread:.0f}) "
        f"each time. Here it is switched back on and the drawing, as drawn, is read **{MC_SAMPLES} times**, each "
        "with a new random mask (Monte Carlo dropout). A digit the network knows well keeps its answer under every "
        "mask tried; a doubtful one changes answers."
    )
    a, b, c = st.columns(3)
    # a spread, not a change: no arrow
    a.metric("Mean probability of " + str(top), percent(mc.mean[top]), f"± {mc.std[top]:.1%}", delta_color="off",
             delta_arrow="off")
    b.metric(f"Passes reading {top}", f"{votes[top]} of {MC_SAMPLES}")
    c.metric(
        "Disagreement between passes", f"{mc.scores['mutual_information']:.3f}",
        help="Mutual information: the entropy of the mean prediction minus the passes' mean entropy, in nats.",
    )
    reliability, rates = flag_figures(meta)
    others = ", ".join(f"{d} ({v}×)" for d, v in enumerate(votes) if v and d != top)
    if mc.not_a_digit:
        st.warning(
            "The passes disagree strongly: which features dropout silences changes the answer, so this reading is "
            f"much less reliable than usual.{reliability}"
        )
    elif votes[top] == MC_SAMPLES:
        st.success(f"The passes agree: all {MC_SAMPLES} read {a_digit(top)}.")
    else:
        st.info(f"{votes[top]} of the {MC_SAMPLES} passes read {a_digit(top)}; the others read {others}.")
    chart(probability_figure(mc.mean, height=240, errors=mc.std),
          probabilities_alt(mc.mean, mc.std, who=f"Averaged over {MC_SAMPLES} passes, the network"), key="mc_probs")
    if others and mc.not_a_digit:
        st.caption(f"Other answers among the passes: {others}.")
    st.caption(
        f"Bars: mean probability over the passes; whiskers: one standard deviation. The passes are said to disagree "
        f"strongly when their {NOT_A_DIGIT_SCORE.replace('_', ' ')} is above {NOT_A_DIGIT_ABOVE:.3f}{rates} (a "
        f"threshold chosen on MNIST's validation digits and scribbles). Entropy of the mean prediction: "
        f"{mc.scores['entropy']:.2f} nats."
    )
    not_a_digit_ui(unlike, meta)


METHODS = ("Occlusion", "Grad-CAM on conv2", "Input gradient")
SMALL_DROP_POINTS = 0.1  # below this most drop, in points of probability, the page suggests log-probability


def why_ui(model: ConvNet, image: np.ndarray, probs: np.ndarray) -> None:
    predicted = int(probs.argmax())
    a, b = st.columns([1, 2])
    target = a.selectbox(
        "Evidence for the digit",
        list(range(10)),
        index=predicted,
        key="why_target",
        format_func=lambda d: f"{d} ({percent(probs[d])})" + ("  ← prediction" if d == predicted else ""),
        help="Pick another digit to ask: why not this one?",
    )
    method = b.segmented_control("Method", METHODS, default=METHODS[0], key="why_method") or METHODS[0]
    if method == "Occlusion":
        f, m = st.columns(2)
        fill = f.radio("Cover each patch with", ["grey", "black (erase)"], horizontal=True, key="why_fill")
        measure = m.radio(
            "Measure the drop in", ["probability", "log-probability"], horizontal=True, key="why_measure",
            help="A network that is 99.99% sure hardly moves in probability; its log-probability still does.",
        )
        log = measure == "log-probability"
        drop = occlusion(model, image, fill=0.5 if fill == "grey" else 0.0, log=log)[target]
        # in points of probability (a drop from 80% to 75% is 5 points), or in nats of log-probability
        heat, unit = (drop, "nats") if log else (100 * drop, "points")
        fig = overlay_figure(image, heat, diverging=True,
                             label=f"drop in {'log p' if log else 'p'}({target}), {unit}")
        text = (
            f"Each 4×4 patch of the input is covered in turn and the network reads it again; the colour is how much "
            f"the {'log-probability' if log else 'probability'} of {target} drops, in {unit}"
            + ("" if log else " (from 80% to 75% is 5 points)") + f". **Blue**: covering it lowers the probability of "
            f"{target}, so what is there is evidence *for* {target}. **Red**: covering it raises the probability, so "
            f"it counts *against* {target}. "
            + ("Empty space can be evidence too: a grey patch puts something like ink where there was none, and a "
               "digit is also the shape of where its ink is not (the hole of a 0, the space beside a 1), so covering "
               "empty space can cost as much as covering ink. Covered in black instead, empty space stays empty and "
               "only the ink counts."
               if fill == "grey" else
               "Covered in black, empty space stays as it was: only patches that hold ink can change the reading.")
            + (f" No patch moves it by even {SMALL_DROP_POINTS:g} points here ({heat.max():.2g} at most): the network "
               "is so sure that its probability hardly moves. Measure the drop in log-probability to see where its "
               "evidence lies." if not log and np.abs(heat).max() < SMALL_DROP_POINTS else "")
        )
    elif method == "Grad-CAM on conv2":
        heat = grad_cam(model, image, target)
        fig = overlay_figure(image, heat, diverging=False, label=f"Grad-CAM {target}")
        text = (
            f"conv2's 64 maps are weighted by how much each raises the score of {target}, summed, and kept where "
            f"positive. **Bright** areas are where the features that vote for {target} fire; dark areas add nothing "
            "for it. conv2 sees 11×11 positions, so the map is coarse."
        )
    else:
        heat = input_gradient(model, image, target)
        fig = overlay_figure(image, heat, diverging=True, label=f"∂score({target})/∂pixel")
        text = (
            f"The gradient of the score of {target} with respect to each pixel. **Blue**: more ink there would raise "
            f"the score of {target}; **red**: more ink there would lower it. It shows sensitivity, pixel by pixel."
        )
    left, right = st.columns([3, 2])
    chart(fig, heat_alt(heat, f"{method} for {target}"), where=left, key="why_map")
    right.markdown(text)
    if target != predicted:
        right.caption(
            f"The network gives {target} a probability of {literal(percent(probs[target]))}, against "
            f"{literal(percent(probs[predicted]))} for {predicted}."
        )
