"""Feature maps: every channel of each layer on the visitor's drawing, one channel up close, and its kernel."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn.data import IMAGE_SIZE
from cnn.features import kernels, tile
from cnn.model import FEATURE_LAYERS, ConvNet
from ui.alt import chart, kernel_alt, map_alt, maps_alt
from ui.figures import SIGNED_COLOURS, kernel_figure, mosaic_figure, signed

MAP_COLUMNS = 8  # each layer's maps are tiled this many to a row


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
