"""Among the digits it knows: the MNIST training digits nearest to the drawing in the features the network reads
with, beside the nearest in raw pixels; and two maps of the digits with the drawing placed on them (cnn/atlas.py
computes all of it)."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnn import atlas as atlas_module
from ui.alt import chart
from ui.analysis import a_digit, png_data_url
from ui.markdown import literal
from ui.resources import atlas

SHOWN = 8  # neighbours shown in each row
MAP_TOGGLE = "digit_map"  # the toggle that shows the maps: off at first, as they cost the most of the part
# ten colours told apart on a light and on a dark page (the Tableau 10 palette), one per digit
DIGIT_COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                 "#9c755f", "#bab0ac")


def thumbnail(image: np.ndarray, label: int, distance: float, unit: str) -> str:
    """One training digit as HTML carrying its PNG, with its label and distance under it."""
    src = png_data_url(np.asarray(image, np.uint8))
    caption = f"{label} · {distance:.{3 if unit == 'cosine' else 1}f}"
    return (f'<figure style="margin:0"><img src="{src}" alt="A training {label}, {unit} distance {distance:.3f}" '
            'style="width:100%;image-rendering:pixelated;display:block">'
            f'<figcaption style="font-size:0.875rem;text-align:center">{html.escape(caption)}</figcaption></figure>')


def row_html(images: np.ndarray, labels: np.ndarray, distances: np.ndarray, unit: str) -> str:
    cells = "".join(thumbnail(i, int(l), float(d), unit) for i, l, d in zip(images, labels, distances))
    # as many in a row as fit with room for their captions: all eight on a laptop, two rows on a phone
    return ('<div class="neighbours" style="display:grid;grid-template-columns:repeat(auto-fit,minmax(3.75rem,1fr));'
            f'gap:0.5rem;max-width:44rem">{cells}</div>')


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
    st.markdown("**Nearest in the network's features**")
    st.html(row_html(found.images[rows], found.labels[rows], dist, "cosine"))
    st.caption(
        f"Distance: 1 minus the cosine between the drawing's features and each digit's: pool2's "
        f"{found.projection.shape[0]:,} numbers (what the last layer reads), scaled to length 1 and projected onto "
        f"their {found.projection.shape[1]} main directions. 0 is the same direction."
    )
    st.markdown("**Nearest in raw pixels**")
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
    st.markdown("**A map of the digits**")
    shown = atlas_module.MAP_SHOWN
    if st.toggle(f"Show {shown:,} training digits on two maps, with yours among them", key=MAP_TOGGLE,
                 help=f"Two charts of {shown:,} dots each, drawn again at each stroke while they are shown."):
        map_ui(found, embedded, image)


@st.cache_resource(show_spinner=False, max_entries=2)
def _maps(path: str, mtime: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, dict, dict]:
    """The digits shown on both maps, their labels, each map's separation and figure without the star: computed once
    per atlas file, shared read-only."""
    found, _ = atlas()
    s = found.shown_on_map()
    on_features, on_pixels = (np.round(p, 3) for p in found.place(found.features[s], found.images[s]))
    labels = found.labels[s]
    return (on_features, on_pixels, labels, atlas_module.separation(on_features, labels),
            atlas_module.separation(on_pixels, labels), base_map(on_features, labels), base_map(on_pixels, labels))


def map_figure(points: np.ndarray, labels: np.ndarray, you: np.ndarray, height: int = 380) -> go.Figure:
    """The shown digits as dots coloured by label (one legend entry per digit), and the drawing as a large star."""
    return placed(base_map(points, labels, height), you)


def placed(base: dict, you: np.ndarray) -> go.Figure:
    """A map made by base_map, with the drawing's star moved to `you`."""
    star = {**base["data"][-1], "x": [float(you[0])], "y": [float(you[1])]}
    return go.Figure({**base, "data": [*base["data"][:-1], star]})


def base_map(points: np.ndarray, labels: np.ndarray, height: int = 380) -> dict:
    """The map's figure as a dict, the star anywhere: what does not change from one stroke to the next."""
    fig = go.Figure()
    for d in range(10):
        p = points[labels == d]
        fig.add_trace(go.Scattergl(x=p[:, 0], y=p[:, 1], mode="markers", name=str(d),
                                   marker=dict(size=4, color=DIGIT_COLOURS[d], opacity=0.6), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", name="yours",
                             marker=dict(symbol="star", size=20, color="#ffffff", line=dict(width=2, color="#d62728")),
                             hovertemplate="your drawing<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=8, r=8, t=8, b=8), legend=dict(itemsizing="constant"))
    fig.update_xaxes(showticklabels=False, title=None, zeroline=False)
    fig.update_yaxes(showticklabels=False, title=None, zeroline=False)
    return fig.to_dict()


def among(points: np.ndarray, labels: np.ndarray, you: np.ndarray, k: int = atlas_module.MAP_NEIGHBOURS) -> str:
    """What the drawing's k nearest digits on a map are, in words: "8 are 7s, 1 is a 1 and 1 is a 9"."""
    near = labels[np.argsort(((points - you) ** 2).sum(1))[:k]]
    counts = np.bincount(near, minlength=10)
    said = [f"{c} is {a_digit(d)}" if c == 1 else f"{c} are {d}s"
            for d, c in sorted(enumerate(counts), key=lambda x: -x[1]) if c]
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]


def map_ui(found, embedded: np.ndarray, image: np.ndarray) -> None:
    path = atlas_module.atlas_path()
    on_features, on_pixels, labels, sep_features, sep_pixels, base_f, base_p = _maps(str(path), path.stat().st_mtime)
    you_f, you_p = (p[0] for p in found.place(embedded, image[None]))
    k = atlas_module.MAP_NEIGHBOURS
    st.markdown(
        f"{len(labels):,} training digits placed on a plane, coloured by digit, and your drawing as a star. Each map "
        "is the view that pulls the ten digits farthest apart (a linear discriminant, fitted on "
        f"{atlas_module.MAP_FIT:,} other training digits and their labels): first from the network's features, then "
        f"from raw pixels. On the features' map, {sep_features:.0%} of each digit's {k} nearest dots "
        f"are the same digit; on the pixels' map, {sep_pixels:.0%}: the network's features pull the digits apart "
        "where pixels leave them mixed."
    )
    left, right = st.columns(2)
    chart(placed(base_f, you_f),
          f"Map of {len(labels):,} training digits from the network's features, {sep_features:.0%} of each digit's "
          f"{k} nearest being the same digit. Your drawing's {k} nearest: {among(on_features, labels, you_f)}.",
          where=left, key="map_features")
    left.caption(f"From the network's features. Your drawing's {k} nearest dots: {among(on_features, labels, you_f)}.")
    chart(placed(base_p, you_p),
          f"Map of the same digits from raw pixels, {sep_pixels:.0%} of each digit's {k} nearest being the same "
          f"digit. Your drawing's {k} nearest: {among(on_pixels, labels, you_p)}.", where=right, key="map_pixels")
    right.caption(f"From raw pixels. Your drawing's {k} nearest dots: {among(on_pixels, labels, you_p)}.")
