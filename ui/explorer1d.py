"""The 1D convolution padding explorer: widgets and a table of the kernel sliding over the padded input."""

from __future__ import annotations

import html

import numpy as np
import streamlit as st

from cnn.conv1d import (
    MAX_INPUT, MAX_KERNEL, MODES, SequenceError, agree_either_way, convolve, correlate, parse_sequence,
)
from ui.figures import ACCENT
from ui.markdown import error_text, literal
from ui.state import C1D_H, C1D_PRESET, C1D_X

PRESETS = {
    "Mean of three neighbours": ("1 2 3 4 5 6 7 8 9", "1/3 1/3 1/3"),
    "Mean of two neighbours (the lesson's figure)": ("1 2 3 4 5 6 7 8 9", "1/2 1/2"),
    # the lesson's code: its text speaks of two weights of 0.5, but its kernel has three
    "The lesson's code: three weights of 0.5": ("1 2 3 4 5 6 7 8 9", "0.5 0.5 0.5"),
    # the lesson's np.convolve(h, x, ...): h = 1 2 5 4 is the sequence slid over, x = 6 2 the kernel
    "Lesson: input 1 2 5 4, kernel 6 2": ("1 2 5 4", "6 2"),
    "Edge detector": ("0 0 0 1 1 1 1 0 0", "1 -1"),
}
DEFAULT_PRESET = "Mean of three neighbours"
# What each preset's kernel computes, shown while its numbers are in the boxes
PRESET_TEXT = {
    "Mean of three neighbours": "Three weights of 1/3: inside the input each output is the mean of a value and its "
    "two neighbours. Where the padding's zeros fall under the kernel (full and same), they count as values and pull "
    "the ends down.",
    "Mean of two neighbours (the lesson's figure)": "Two weights of 1/2: each output is the mean of two neighbouring "
    "values, the neuron the lesson's figure shows.",
    "The lesson's code: three weights of 0.5": "Three weights of 0.5 add up to 1.5, so each output is 1.5 times the "
    "mean of three neighbours, not their mean. The lesson's text describes two weights of 0.5, the mean of two; its "
    "code uses three. Switch to Mean of three neighbours to compare.",
    "Lesson: input 1 2 5 4, kernel 6 2": "The lesson's second example: np.convolve slides the reversed kernel 2 6 "
    "along 1 2 5 4.",
    "Edge detector": "Weights 1 and −1 give the difference of two neighbours: zero where the input is flat, large "
    "where it steps up or down.",
}
CONVOLUTION, CORRELATION = "Convolution (np.convolve)", "Cross-correlation (CNN layer, F.conv1d)"

FULL = (
    "**full** pads m − 1 zeros at both ends, so the kernel visits every position where it overlaps the input at all: "
    "n + m − 1 outputs."
)
MODE_TEXT = {
    "convolution": {
        "full": FULL,
        "same": "**same** returns the centre of the `full` result, as long as the longer input. That is m − 1 zeros "
        "in all, split between the two ends, numpy putting the extra zero of an even-length kernel on the left; it "
        "does not pad only on the left.",
        "valid": "**valid** adds no zeros: only positions where the shorter sequence lies wholly inside the longer, "
        "max(n, m) − min(n, m) + 1 outputs.",
    },
    "cross-correlation": {
        "full": FULL,
        "same": "**same**, as PyTorch's `padding=\"same\"`, keeps the input's length n, whatever the kernel's: m − 1 "
        "zeros in all, split between the two ends, with the extra zero of an even-length kernel on the **right** "
        "(numpy's convolution puts it on the left).",
        "valid": "**valid** adds no zeros: only positions where the kernel lies wholly inside the input, n − m + 1 "
        "outputs, and none when the kernel is longer than the input.",
    },
}

CSS = f"""
<style>
.c1d-wrap {{overflow-x: auto; padding-bottom: .25rem}}
.c1d {{border-collapse: separate; border-spacing: 3px; font-family: ui-monospace, monospace; font-size: .9rem}}
.c1d th {{text-align: right; font-weight: 500; padding-right: .6rem; white-space: nowrap; opacity: .75}}
.c1d td {{min-width: 2.6rem; height: 2rem; text-align: center; border-radius: .35rem; padding: 0 .3rem}}
.c1d td.in {{background: rgba(140, 155, 181, .22)}}
.c1d td.pad {{background: rgba(140, 155, 181, .08); opacity: .55; font-style: italic}}
.c1d td.win {{outline: 2px solid {ACCENT}}}
.c1d td.w {{background: rgba(31, 119, 180, .22)}}
.c1d td.p {{background: {ACCENT}24}}
.c1d td.out {{background: rgba(140, 155, 181, .16)}}
.c1d td.now {{background: {ACCENT}; color: white; font-weight: 600}}
</style>
"""


def fmt(v: float) -> str:
    return f"{v:.6g}" if v != 0 else "0"


def _cells(values, classes) -> str:
    return "".join(f'<td class="{c}">{html.escape(v)}</td>' for v, c in zip(values, classes))


def sliding_table(s, step: int) -> str:
    """HTML rows: the padded input with the window at `step`, the weights under it, their products, the outputs."""
    width = len(s.padded)
    m = len(s.applied)
    in_window = [step <= i < step + m for i in range(width)]
    is_pad = [i < s.pad_left or i >= width - s.pad_right for i in range(width)]
    values, products = s.window(step)
    row_in = _cells(
        [fmt(v) for v in s.padded],
        [("pad" if p else "in") + (" win" if w else "") for p, w in zip(is_pad, in_window)],
    )
    blank = [""] * width
    weights, prods = list(blank), list(blank)
    for j in range(m):
        weights[step + j], prods[step + j] = fmt(s.applied[j]), fmt(products[j])
    row_w = _cells(weights, ["w" if w else "" for w in in_window])
    row_p = _cells(prods, ["p" if w else "" for w in in_window])
    outputs = [fmt(v) for v in s.output] + [""] * (width - len(s.output))
    row_out = _cells(outputs, ["now" if i == step else ("out" if i < len(s.output) else "") for i in range(width)])
    weight_label = "kernel, reversed" if s.operation == "convolution" else "kernel"
    return (
        CSS
        + '<div class="c1d-wrap"><table class="c1d">'
        + f"<tr><th>padded input</th>{row_in}</tr>"
        + f"<tr><th>{weight_label} at step {step}</th>{row_w}</tr>"
        + f"<tr><th>products</th>{row_p}</tr>"
        + f"<tr><th>output</th>{row_out}</tr>"
        + "</table></div>"
    )


def _apply_preset():
    x, h = PRESETS[st.session_state[C1D_PRESET]]
    st.session_state[C1D_X], st.session_state[C1D_H] = x, h


def explorer_ui() -> None:
    st.markdown(
        "A convolution neuron slides the same few weights along its input. How the ends are handled (the "
        "*padding*) decides how many outputs there are. Type your own numbers or start from the lesson's."
    )
    st.session_state.setdefault(C1D_X, PRESETS[DEFAULT_PRESET][0])
    st.session_state.setdefault(C1D_H, PRESETS[DEFAULT_PRESET][1])
    st.selectbox("Start from", list(PRESETS), key=C1D_PRESET, on_change=_apply_preset)
    preset = next((name for name, xh in PRESETS.items() if xh == (st.session_state[C1D_X], st.session_state[C1D_H])),
                  None)
    if preset:
        st.caption(PRESET_TEXT[preset])
    a, b = st.columns(2)
    a.text_input(f"Input x (up to {MAX_INPUT} numbers)", key=C1D_X)
    b.text_input(f"Kernel h (up to {MAX_KERNEL} numbers)", key=C1D_H)
    c, d = st.columns([1, 2])
    mode = c.segmented_control("Mode", MODES, default="same", key="c1d_mode") or "same"
    operation = d.segmented_control(
        "Operation", [CONVOLUTION, CORRELATION], default=CONVOLUTION, key="c1d_op"
    ) or CONVOLUTION
    try:
        x = parse_sequence(st.session_state[C1D_X], "input", MAX_INPUT)
        h = parse_sequence(st.session_state[C1D_H], "kernel", MAX_KERNEL)
    except SequenceError as e:
        st.error(error_text(e))
        return
    s = convolve(x, h, mode) if operation == CONVOLUTION else correlate(x, h, mode)
    st.markdown(MODE_TEXT[s.operation][mode])
    if s.operation == "convolution" and s.swapped:
        st.info(
            "The kernel is longer than the input, so numpy slides the input over the kernel instead. "
            "Convolution is symmetric in its two arguments (np.convolve(x, h) equals np.convolve(h, x)), "
            "so the result is the same."
        )
    if len(s.output) == 0:
        st.warning("The kernel is longer than the input: a CNN layer with no padding has no position for it.")
        return
    step = st.slider("Step: the kernel's position", 0, len(s.output) - 1, 0, key="c1d_step") if len(s.output) > 1 else 0
    st.html(sliding_table(s, step))
    values, products = s.window(step)
    terms = " + ".join(f"{fmt(v)}×{fmt(w)}" for v, w in zip(values, s.applied))
    st.markdown(f"Step {step}: {literal(terms)} = **{literal(fmt(products.sum()))}**")
    n, m = len(s.signal), len(s.kernel)
    st.markdown(
        f"Zeros added: {s.pad_left} on the left, {s.pad_right} on the right. "
        f"Output length for **{mode}**: {s.length_rule}."
    )
    reference = np.convolve(x, h, mode) if s.operation == "convolution" else None
    out = "  ".join(fmt(v) for v in s.output)
    if reference is not None:
        same = np.allclose(reference, s.output)
        st.code(f"np.convolve(x, h, {mode!r}) = [{out}]" + ("" if same else "   (differs from numpy!)"), language=None,
                wrap_lines=True)
    else:
        flipped = convolve(x, h[::-1], mode) if len(h) <= len(x) else None
        st.code(f"F.conv1d(x, h, padding for {mode!r}) = [{out}]", language=None, wrap_lines=True)
        if flipped is not None and (mode != "same" or len(h) % 2 == 1):
            st.caption(
                "A CNN layer does not reverse its kernel: this equals np.convolve(x, h[::-1], "
                f"{mode!r}) = [{'  '.join(fmt(v) for v in flipped.output)}]."
            )
    verdict = (
        "give the same numbers" if agree_either_way(x, h, mode)
        else "give different numbers (switch the operation to compare)"
    )
    st.caption(
        f"n = {n} values slid over, m = {m} kernel weights. np.convolve reverses the kernel before sliding it "
        "(true convolution); a CNN layer such as torch.nn.functional.conv1d slides it as it is (cross-correlation). "
        f"With these numbers in **{mode}** mode the two {verdict}. A symmetric kernel of odd length, no longer than "
        "the input, gives the same numbers either way in every mode; an even-length one differs in **same**, where "
        "the two put the extra zero on opposite ends."
    )
