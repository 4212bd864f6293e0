"""Among the digits it knows: the MNIST training digits nearest to the drawing in the features the network reads
with, beside the nearest in raw pixels (cnn/atlas.py computes both)."""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import streamlit as st
from PIL import Image

from cnn import atlas as atlas_module
from ui.markdown import literal
from ui.resources import atlas

SHOWN = 8  # neighbours shown in each row


def thumbnail(image: np.ndarray, label: int, distance: float, unit: str) -> str:
    """One training digit as HTML carrying its PNG, with its label and distance under it."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buf, format="PNG")
    src = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    caption = f"{label} · {distance:.{3 if unit == 'cosine' else 1}f}"
    return (f'<figure style="margin:0"><img src="{src}" alt="A training {label}, {unit} distance {distance:.3f}" '
            'style="width:100%;image-rendering:pixelated;display:block">'
            f'<figcaption style="font-size:0.875rem;text-align:center">{html.escape(caption)}</figcaption></figure>')


def row_html(images: np.ndarray, labels: np.ndarray, distances: np.ndarray, unit: str) -> str:
    cells = "".join(thumbnail(i, int(l), float(d), unit) for i, l, d in zip(images, labels, distances))
    return (f'<div style="display:grid;grid-template-columns:repeat({len(images)},minmax(0,1fr));gap:0.5rem;'
            f'max-width:44rem">{cells}</div>')


def majority(labels: np.ndarray) -> tuple[int, int]:
    """The most common label among neighbours (the nearer wins a tie) and how many carry it."""
    counts = np.bincount(labels, minlength=10)
    tied = set(np.flatnonzero(counts == counts.max()).tolist())
    best = next(int(label) for label in labels if int(label) in tied)
    return best, int(counts[best])


def nearest_ui(maps: dict, image: np.ndarray, probs: np.ndarray) -> None:
    found, why = atlas()
    if found is None:
        st.info(f"No training digits to compare with: {literal(why)}")
        return
    top = int(probs.argmax())
    embedded = atlas_module.project(maps["pool2"].reshape(1, -1), found.projection)
    rows, dist = atlas_module.neighbours(found, embedded, SHOWN)
    rows, dist = rows[0], dist[0]
    prows, pdist = atlas_module.nearest_in_pixels(found, image, SHOWN)
    st.markdown(
        f"The network has never seen your drawing, but it has seen digits like it. Here are the {SHOWN} of "
        f"{len(found):,} MNIST training digits nearest to yours, measured two ways."
    )
    st.markdown("#### Nearest in the network's features")
    st.html(row_html(found.images[rows], found.labels[rows], dist, "cosine"))
    st.caption(
        f"Distance: 1 minus the cosine between the drawing's features and each digit's: pool2's "
        f"{found.projection.shape[0]:,} numbers (what the last layer reads), scaled to length 1 and projected onto "
        f"their {found.projection.shape[1]} main directions. 0 is the same direction."
    )
    st.markdown("#### Nearest in raw pixels")
    st.html(row_html(found.images[prows], found.labels[prows], pdist, "pixel"))
    st.caption("Distance: the Euclidean distance between the two 28×28 images, pixels in [0, 1].")
    f_label, f_count = majority(found.labels[rows])
    p_label, p_count = majority(found.labels[prows])
    said = (f"{f_count} of the {SHOWN} nearest in features are {f_label}s; in raw pixels, {p_count} of {SHOWN} are "
            f"{p_label}s.")
    if f_label != top:
        st.warning(f"{said} The network reads your drawing as {top}, yet its nearest training digits are mostly "
                   f"{f_label}s: it sits between digits, and the reading may be wrong.")
    elif p_label != f_label:
        st.success(f"{said} In pixels your drawing is closest to {p_label}s, but in the features the network reads "
                   f"with it is among the {f_label}s: the network compares shapes (strokes, loops, "
                   "corners), not pixels in place.")
    else:
        st.info(f"{said} The features group digits by shape, pixels by where the ink lies; here both agree.")
