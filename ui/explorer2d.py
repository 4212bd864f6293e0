"""The 2D convolution explorer: a kernel sliding over the drawing or a small grid, with padding, stride, dilation."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn.conv2d import (
    CLASSIC_KERNELS, EXAMPLE_GRID, MAX_DILATION, MAX_PAD, MAX_STRIDE, KernelError, bias_relu, busiest, conv2d,
    parse_kernel,
)
from cnn.data import IMAGE_SIZE
from cnn.model import ConvNet
from ui.alt import chart, grid_alt
from ui.figures import ACCENT, MAP_SCALE, WEIGHT_SCALE, grid_figure, signed
from ui.markdown import error_text, literal

LEARNED, CLASSIC, TYPED = "Learned by conv1", "Classic", "Type my own"
PADDINGS = ["valid", "same", "full", "number"]
AFTER, SUMS = "After bias and ReLU, as conv1", "The sums alone"


def explorer2d_ui(model: ConvNet | None, image: np.ndarray | None, maps: dict | None) -> None:
    st.markdown(
        "What one channel of a convolution layer computes: the kernel slides over the (zero-padded) input, and at each "
        "position the products of its weights and the pixels under it are summed. A CNN layer does not flip the "
        "kernel (this is cross-correlation); with several input channels it adds up one such sum per channel, plus "
        "a bias."
    )
    c1, c2, c3 = st.columns(3)
    sources = ([f"My drawing ({IMAGE_SIZE}×{IMAGE_SIZE})"] if image is not None else []) + ["Small example (7×7)"]
    source = c1.radio("Input", sources, key="c2d_input")
    x = image.astype(np.float64) if source.startswith("My drawing") else EXAMPLE_GRID
    kinds = ([LEARNED] if model is not None else []) + [CLASSIC, TYPED]
    kind = c2.radio("Kernel", kinds, key="c2d_kind")
    bias, channel = 0.0, None
    if kind == LEARNED:
        channel = c3.slider("conv1 channel", 0, 31, 0, key="c2d_channel")
        kernel = model.conv1.weight[channel, 0].detach().cpu().numpy().astype(np.float64)
        bias = float(model.conv1.bias[channel].detach())
    elif kind == CLASSIC:
        name = c3.selectbox("Classic kernel", list(CLASSIC_KERNELS), key="c2d_classic")
        kernel = np.array(CLASSIC_KERNELS[name], dtype=np.float64)
    else:
        text = c3.text_area("Rows of weights", "1 0 -1\n1 0 -1\n1 0 -1", key="c2d_typed", height=110)
        try:
            kernel = parse_kernel(text)
        except KernelError as e:
            st.error(error_text(e))
            return
    d1, d2, d3, d4 = st.columns(4)
    pad_mode = d1.selectbox("Padding", PADDINGS, key="c2d_pad")
    padding = d2.number_input("Zeros on each side", 0, MAX_PAD, 1, key="c2d_padn") if pad_mode == "number" else pad_mode
    stride = d3.number_input("Stride", 1, MAX_STRIDE, 1, key="c2d_stride")
    dilation = d4.number_input("Dilation", 1, MAX_DILATION, 1, key="c2d_dilation")
    layout = conv2d(x, kernel, padding, int(stride), int(dilation))
    top, bottom, left, right = layout.pads
    (n, m), (kh, kw) = x.shape, kernel.shape
    oh, ow = layout.output.shape
    st.markdown(
        f"Output size: ⌊(n + p_before + p_after − d(k − 1) − 1) / s⌋ + 1 = "
        f"⌊({n} + {top} + {bottom} − {dilation}·({kh} − 1) − 1) / {stride}⌋ + 1 = **{oh}** rows, "
        f"⌊({m} + {left} + {right} − {dilation}·({kw} − 1) − 1) / {stride}⌋ + 1 = **{ow}** columns."
        + ("  (With p on both sides this is the familiar ⌊(n + 2p − d(k−1) − 1)/s⌋ + 1.)" if top == bottom else "")
    )
    if oh == 0 or ow == 0:
        st.warning("The dilated kernel is larger than the padded input: there is no position for it. Add padding.")
        return
    after = kind == LEARNED and st.segmented_control(
        "Output shows", [AFTER, SUMS], default=AFTER, key="c2d_show",
        help="A layer's channel adds its bias to each sum and keeps only what is positive (ReLU): that is what "
             "Feature maps shows.") != SUMS
    shown = bias_relu(layout.output, bias) if after else layout.output
    if oh * ow > 1:
        # starts where the kernel meets the most: the top-left corner of a drawing is blank, and its sum plain 0
        position = st.slider("Step: output position (row by row)", 0, oh * ow - 1, busiest(layout.output),
                             key=f"c2d_step_{oh}x{ow}")
    else:
        position = 0
        st.caption("The kernel fits in one position only, so the output is a single number.")
    i, j = divmod(position, ow)
    rows, cols, values, products = layout.window(i, j)
    span_box = (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1, ACCENT)
    in_box = (top, top + n, left, left + m, "#1f77b4")
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    a, b, c = st.columns([5, 3, 5])
    with a:
        st.markdown(f"**Padded input** {layout.padded.shape[0]}×{layout.padded.shape[1]} (blue: the input)")
        chart(grid_figure(layout.padded, 340, zmin=min(0, x.min()), zmax=max(1, x.max()), boxes=[in_box, span_box],
                          dots=(rr.ravel(), cc.ravel()), annotate=max(layout.padded.shape) <= 12),
              grid_alt(layout.padded, f"The padded input (the input at rows {top} to {top + n - 1}, columns {left} to "
                                      f"{left + m - 1}); the kernel now covers rows {rows[0]} to {rows[-1]}, columns "
                                      f"{cols[0]} to {cols[-1]}"), key="c2d_in")
    with b:
        bound = float(np.abs(kernel).max()) or 1.0
        st.markdown(f"**Kernel** {kh}×{kw}" + (f" · bias {signed(bias)}" if kind == LEARNED else ""))
        chart(grid_figure(kernel, 200, colorscale=WEIGHT_SCALE, zmin=-bound, zmax=bound, zmid=0, annotate=True),
              grid_alt(kernel, "The kernel"), key="c2d_kernel")
    with c:
        st.markdown(f"**Output** {oh}×{ow}: " + ("max(0, sum + bias)" if after else
                                                ("the sums, before bias and ReLU" if kind == LEARNED else "the sums")))
        chart(grid_figure(shown, 340, colorscale=MAP_SCALE, boxes=[(i, i + 1, j, j + 1, ACCENT)],
                          annotate=max(oh, ow) <= 12),
              grid_alt(shown, "The output" + (", after bias and ReLU" if after else ", the sums"), mark=(i, j)),
              key="c2d_out")
    total = float(products.sum())
    terms = " + ".join(f"{v:.2g}×{w:.2g}" for v, w in zip(values.ravel(), kernel.ravel()) if v != 0)
    if terms:
        st.markdown(f"Sum at ({i}, {j}) = Σ pixel × weight = {literal(terms)} = **{literal(f'{total:.4g}')}**")
    else:
        st.markdown(f"Sum at ({i}, {j}): every pixel under the kernel is 0 here, so the sum is **0**.")
    if kind == LEARNED:
        ours = float(bias_relu(total, bias))
        line = f"Add the bias and keep it if positive (ReLU): max(0, {total:.4f} {bias:+.4f}) = **{ours:.4f}**."
        if source.startswith("My drawing") and maps is not None:
            if layout.pads == (0, 0, 0, 0) and stride == 1 and dilation == 1:
                net = float(maps["conv1"][channel, i, j])
                verdict = "the same number" if abs(net - ours) < 1e-4 else "a different number"
                line += f" The network's own conv1 channel {channel} has **{net:.4f}** at this position: {verdict}."
            else:
                st.caption("conv1 itself uses valid padding, stride 1 and dilation 1: choose those to compare with it.")
        st.markdown(line)
