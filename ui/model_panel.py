"""The model panel: the layer table and the parameter-count comparison that motivates convolution."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from cnn.data import IMAGE_SIZE
from cnn.model import (
    NUM_CLASSES, ConvNet, conv_parameters, count_parameters, dense_parameters, head_parameters, summary_rows,
)
from ui.alt import chart, parameters_alt
from ui.figures import parameter_figure, unchanging


@st.cache_data(show_spinner=False)
def _summary() -> tuple[list[dict], int]:
    with torch.random.fork_rng(devices=[]):  # its random initial weights must not draw on the shared generator
        net = ConvNet()  # shapes and counts only: no trained weights needed
    rows = [{**r, "output shape": " × ".join(map(str, r["output shape"]))} for r in summary_rows(net)]
    return rows, count_parameters(net)


def head_text(rows: list[dict], total: int, side: int) -> str:
    """That a convolution's count is fixed, but this convnet's own last layer, a dense one, grows with the image."""
    fc = next(r for r in rows if r["layer"] == "fc")
    inputs = fc["parameters"] // NUM_CLASSES - 1
    text = (f"That is true of each convolution layer, not of the whole network: this convnet ends in one dense layer, "
            f"fc, which links every one of pool2's {inputs:,} values to each of the {NUM_CLASSES} digits. Its "
            f"{fc['parameters']:,} parameters, {fc['parameters'] / total:.0%} of the network's {total:,}, grow with "
            "the image")
    at = head_parameters(side) if side != IMAGE_SIZE else None
    if at is None:
        return text + "."
    return text + f": for a grey {side}×{side} image fc would need {at:,}."


def model_ui() -> None:
    rows, total = _summary()
    st.markdown(f"**The network**: the Keras *simple MNIST convnet*, {total:,} parameters.")
    st.dataframe(
        rows,
        hide_index=True,
        column_config={"parameters": st.column_config.NumberColumn("parameters", format="localized")},
    )
    st.markdown(
        "**Why convolution?** A fully connected layer links every pixel to every hidden unit, so its parameters grow "
        "with the image. A convolution layer's filters are a few weights each, slid over every position: its count "
        "does not depend on the image's size at all."
    )
    a, b, c, d = st.columns(4)
    side = a.number_input("Image side (pixels)", 4, 4096, IMAGE_SIZE, step=4, key="pc_side")
    st.markdown(head_text(rows, total, side))
    channels = b.selectbox("Colour channels", [1, 3, 4], key="pc_channels", format_func=lambda c: {1: "1 (grey)", 3: "3 (RGB)", 4: "4 (RGBA)"}[c])
    hidden = c.number_input("Hidden units (dense)", 1, 4096, 30, key="pc_hidden")
    filters = d.number_input("Filters (conv, 3×3)", 1, 1024, 32, key="pc_filters")
    dense = dense_parameters(side, channels, hidden)
    conv = conv_parameters(3, channels, filters)
    m1, m2, m3 = st.columns(3)
    m1.metric("Dense layer parameters", f"{dense:,}", help=f"{side}×{side}×{channels}×{hidden} weights + {hidden} biases")
    m2.metric("Conv layer parameters", f"{conv:,}", help=f"3×3×{channels}×{filters} weights + {filters} biases")
    m3.metric("Ratio", f"{dense / conv:,.0f}×" if dense >= conv else f"1 : {conv / dense:,.1f}")
    sides = np.unique(np.geomspace(8, max(64, side * 2), 60).astype(int))
    dense_curve = np.array([dense_parameters(int(s), channels, hidden) for s in sides])
    chart(unchanging(parameter_figure, sides, dense_curve, conv, hidden, filters), parameters_alt(sides, dense_curve, conv))
    st.caption(
        f"The lesson's example: {IMAGE_SIZE} × {IMAGE_SIZE} × 30 weights + 30 biases = "
        f"{dense_parameters(IMAGE_SIZE, 1, 30):,} parameters for 30 hidden units on "
        f"MNIST's grey {IMAGE_SIZE}×{IMAGE_SIZE} images. A colour 224×224 photo would need "
        f"{dense_parameters(224, 3, 30):,} for the same 30 units; 32 3×3 filters need {conv_parameters(3, 3, 32):,}."
    )
