"""Every figure's text alternative: what it shows, in words a screen reader reads in its place.

`chart(fig, alt)` draws a plotly figure with its alternative as the figure's accessible name, which a screen reader
reads in its place (Streamlit's role="figure" and aria-label). The alternatives say what the figure is and, where a
figure has a few numbers worth reading, those numbers: the reading and every probability, a kernel's nine weights, a
curve's last value, a confusion matrix's largest confusions.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn.data import IMAGE_SIZE
from ui.figures import NETWORK_NAMES, PLOT_CONFIG, percent, signed


def chart(fig, alt: str, where=None, **kwargs) -> None:
    """A plotly figure, with `alt` as its accessible name: Streamlit gives the chart role="figure" and aria-label=alt
    (one element; a screen-reader-only paragraph before each chart was another element for the browser to redraw on
    every stroke)."""
    where = st if where is None else where
    where.plotly_chart(fig, config=PLOT_CONFIG, alt=alt, **kwargs)


def _name(arch: str) -> str:
    return NETWORK_NAMES.get(arch, arch)


def probabilities_alt(probs: np.ndarray, spread: np.ndarray | None = None, who: str = "The network") -> str:
    """The probability chart: the reading first, then every digit's probability (and its spread, when given)."""
    top = int(np.argmax(probs))
    each = ", ".join(f"{d}: {percent(p)}" + ("" if spread is None else f" ± {percent(spread[d])}")
                     for d, p in enumerate(probs))
    return f"Chart of the ten probabilities. {who} reads {top}, with probability {percent(probs[top])}. {each}."


def _where(a: np.ndarray) -> tuple[int, int]:
    r, c = np.unravel_index(int(np.argmax(a)), a.shape)
    return int(r), int(c)


def image_alt(image: np.ndarray, what: str) -> str:
    """A grey image: what it is, and where its ink lies."""
    h, w = image.shape
    ink = image > 0.1
    if not ink.any():
        return f"{what}: {h}×{w} pixels, all black."
    rows, cols = np.nonzero(ink)
    return (f"{what}: {h}×{w} grey pixels, the ink white on black, spanning rows {rows.min()} to {rows.max()} and "
            f"columns {cols.min()} to {cols.max()}, {ink.mean():.0%} of the pixels.")


def maps_alt(maps: np.ndarray, layer: str) -> str:
    """A mosaic of feature maps: how many, how large, and which channels respond most."""
    c, h, w = maps.shape
    peaks = maps.reshape(c, -1).max(axis=1)
    strongest = np.argsort(-peaks)[:3]
    silent = int((peaks <= 0).sum())
    return (f"Grid of {c} feature maps of {layer}, {h}×{w} each, one colour scale for all. Strongest responses: "
            + ", ".join(f"channel {k} ({peaks[k]:.2f})" for k in strongest)
            + (f"; {silent} channels are zero everywhere." if silent else "."))


def map_alt(z: np.ndarray, layer: str, channel: int) -> str:
    r, c = _where(z)
    return (f"{layer} channel {channel} enlarged: a {z.shape[0]}×{z.shape[1]} map, strongest at row {r}, column {c} "
            f"({z[r, c]:.2f}); {float((z <= 0).mean()):.0%} of it is zero.")


def kernel_alt(weights: np.ndarray, what: str) -> str:
    """A kernel: a small one weight by weight, row by row; a stack of them by its extremes."""
    w = np.asarray(weights, dtype=float)
    if w.ndim == 2 and w.size <= 25:
        rows = "; ".join(", ".join(signed(v, 2) for v in row) for row in w)
        return f"{what}: {w.shape[0]}×{w.shape[1]} weights, row by row: {rows}."
    n = len(w) if w.ndim == 3 else 1
    return (f"{what}: {n} weight images of {w.shape[-2]}×{w.shape[-1]}, in a grid; weights from {signed(w.min(), 2)} "
            f"(red, penalising ink) to {signed(w.max(), 2)} (blue, rewarding it).")


def heat_alt(heat: np.ndarray, what: str) -> str:
    """A heat map laid over the input: its size and where it is strongest, in its own rows and columns."""
    heat = np.asarray(heat, dtype=float)
    r, c = _where(np.abs(heat))
    return (f"{what}: a {heat.shape[0]}×{heat.shape[1]} map laid over the {IMAGE_SIZE}×{IMAGE_SIZE} input, "
            f"strongest at its row {r}, "
            f"column {c} ({heat[r, c]:.3g}); {float((heat > 0).mean()):.0%} of it above zero.")


def _last(history: list[dict], key: str):
    values = [h.get(key) for h in history if h.get(key) is not None]
    return values[-1] if values else None


def _value(v, metric: str) -> str:
    return "?" if v is None else percent(v, 2) if metric == "accuracy" else f"{v:.4f}"


def history_alt(history: list[dict], metric: str) -> str:
    return (f"Line chart of {metric} over {len(history)} epochs, training and validation. After the last epoch: "
            f"training {_value(_last(history, 'train_' + metric), metric)}, validation "
            f"{_value(_last(history, 'val_' + metric), metric)}.")


def curves_alt(histories: dict[str, list[dict]], metric: str) -> str:
    each = "; ".join(f"{_name(a)}: validation {_value(_last(h, 'val_' + metric), metric)} after {len(h)} epochs"
                     for a, h in histories.items())
    return f"Line chart of {metric} per epoch for {len(histories)} networks, training dashed, validation solid. {each}."


def confusion_alt(cm: np.ndarray, what: str) -> str:
    cm = np.asarray(cm)
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None)[:3]
    worst = [(int(i // 10), int(i % 10), int(off.flat[i])) for i in order if off.flat[i] > 0]
    right = int(np.trace(cm))
    text = f"Confusion matrix of {what}: rows the true digit, columns the reading; {right} of {int(cm.sum())} read right."
    if worst:
        text += " Most frequent confusions: " + ", ".join(f"{t} read as {p} ({n})" for t, p, n in worst) + "."
    return text


def grid_alt(a: np.ndarray, what: str, mark: tuple[int, int] | None = None) -> str:
    """A small grid of numbers: every value, row by row, when it is small enough to read out; else its extremes."""
    a = np.asarray(a, dtype=float)
    text = f"{what}: {a.shape[0]}×{a.shape[1]} values"
    if a.size <= 49:
        text += ", row by row: " + "; ".join(", ".join(f"{v:.2g}" for v in row) for row in a)
    else:
        text += f" from {a.min():.2g} to {a.max():.2g}"
    if mark is not None:
        text += f". Marked: row {mark[0]}, column {mark[1]}, {a[mark]:.3g}"
    return text + "."


def sweep_alt(values: list, along: dict[str, list[float]], label: str, digit: int, current) -> str:
    each = "; ".join(f"{_name(a)} from {percent(min(p))} to {percent(max(p))}" for a, p in along.items())
    return (f"Line chart of each network's probability of {digit} as {label} runs from {values[0]} to {values[-1]} "
            f"(now {current}): {each}.")


def robustness_alt(sweeps: dict) -> str:
    parts = []
    for s in sweeps.values():
        ends = ", ".join(f"{_name(a)} {percent(acc[0])} to {percent(acc[-1])}" for a, acc in s["accuracy"].items())
        parts.append(f"{s['what']} from {s['values'][0]} to {s['values'][-1]}: {ends}")
    return "Line charts of accuracy on MNIST's test digits as they are moved. " + "; ".join(parts) + "."


def parameters_alt(sides: np.ndarray, dense: np.ndarray, conv: int) -> str:
    return (f"Chart of parameter counts against the image's side: a dense layer grows from {int(dense[0]):,} at "
            f"{int(sides[0])} pixels to {int(dense[-1]):,} at {int(sides[-1])} pixels; the convolution layer stays at "
            f"{conv:,} at every size.")


def training_alt(steps: int, accuracy: float, probs: np.ndarray, digit: int, what: str) -> str:
    top = int(np.argmax(probs))
    return (f"{what}: conv1's kernels, the drawing's feature maps and its probabilities as the network trains. At "
            f"step {steps} it reads {accuracy:.0%} of the held-out digits right, and reads your {digit} as {top} "
            f"({percent(probs[top])}).")
