"""Links that share the page's state, as TensorFlow Playground's do: the address holds the chapter, the drawing's
strokes (ui/share.py's token, `d`) and the open chapter's settings, and "Share" gives it. Opening such a link shows the
same drawing, read the same, in the same chapter with the same settings.

A link comes from anyone: read once, on a session's first run, before any widget is drawn. What cannot be read gets
one line on the page and its default; the rest of the page goes on. The token's size is capped before it is decoded
(ui/share.py), and so is the settings text.
"""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import streamlit as st

from cnn.canvas import DEFAULT_PEN, PEN_WIDTHS
from cnn.conv1d import MODES
from cnn.conv2d import MAX_DILATION, MAX_STRIDE
from cnn.perturb import MAX_NOISE, MAX_ROTATE, MAX_SHIFT, MAX_STROKE, SCALES
from ui.chapters import CHAPTER, CHAPTERS, SLUGS
from ui.explorer1d import CONVOLUTION, CORRELATION, PRESETS
from ui.markdown import literal
from ui.share import SharedDrawing, Setting, ShareError, decode_drawing, decode_settings, encode_drawing, encode_settings
from ui.share import rasterize, to_fabric
from ui.state import C1D_H, C1D_PRESET, C1D_X, CANVAS, PEN

DRAWING = "d"  # the query parameter holding the drawing's token
LINK_READ = "link_read"  # the session read its link (once, on its first run)
SHARED = "shared"  # the drawing the link brought: (SharedDrawing, its RGBA), until the visitor clears it
LINK_NOTES = "link_notes"  # one line for each thing in the link the page could not use

# What a link may set, by part: the open chapter's parts' settings go into its link, with the pen's width.
PEN_SETTING = {PEN: Setting("int", *PEN_WIDTHS)}
PART_SETTINGS = {
    "Move it": {
        "mv_dx": Setting("int", -MAX_SHIFT, MAX_SHIFT), "mv_dy": Setting("int", -MAX_SHIFT, MAX_SHIFT),
        "mv_rotate": Setting("float", -MAX_ROTATE, MAX_ROTATE), "mv_scale": Setting("float", *SCALES),
        "mv_stroke": Setting("int", -MAX_STROKE, MAX_STROKE), "mv_noise": Setting("float", 0.0, MAX_NOISE),
    },
    "1D convolution padding": {
        C1D_PRESET: Setting("choice", choices=tuple(PRESETS)),
        C1D_X: Setting("numbers", -1e6, 1e6, most=64, whole=False),
        C1D_H: Setting("numbers", -1e6, 1e6, most=16, whole=False),
        "c1d_mode": Setting("choice", choices=MODES), "c1d_op": Setting("choice", choices=(CONVOLUTION, CORRELATION)),
    },
    "2D convolution": {
        "c2d_channel": Setting("int", 0, 31), "c2d_stride": Setting("int", 1, MAX_STRIDE),
        "c2d_dilation": Setting("int", 1, MAX_DILATION),
    },
}
ALLOWED = PEN_SETTING | {k: v for settings in PART_SETTINGS.values() for k, v in settings.items()}
TEXTS = {C1D_X, C1D_H}  # text inputs: a link gives their numbers, the page shows them as typed numbers


def read_once() -> None:
    """On a session's first run: the link's drawing and settings into the session, and a line for what is refused."""
    if st.session_state.get(LINK_READ):
        return
    st.session_state[LINK_READ] = True
    params = st.query_params.to_dict()
    notes = []
    token = params.pop(DRAWING, None)
    if token is not None:
        try:
            shared = decode_drawing(token)
            st.session_state[SHARED] = (shared, rasterize(shared))
            st.session_state[PEN] = shared.pen
        except ShareError as e:
            notes.append(f"The link's drawing could not be read ({e}): the canvas starts empty.")
    params.pop(CHAPTER, None)
    if params:
        values, refused = decode_settings(urlencode(params), ALLOWED)
        for key, value in values.items():
            st.session_state[key] = " ".join(f"{v:.10g}" for v in value) if key in TEXTS else value
        notes += [f"From the link: {m}." for m in refused[:3]]
        if len(refused) > 3:
            notes.append(f"And {len(refused) - 3} more of the link's settings were left out.")
    for name in [DRAWING, *params]:
        if name in st.query_params:
            del st.query_params[name]  # the address now names the chapter only; Share makes a new link
    st.session_state[LINK_NOTES] = notes


def notes_ui() -> None:
    for note in st.session_state.get(LINK_NOTES) or []:
        st.caption(literal(note))


def shared() -> tuple[SharedDrawing, np.ndarray] | None:
    return st.session_state.get(SHARED)


def initial_drawing() -> dict | None:
    """The Fabric.js JSON the canvas starts from: the link's drawing, while the visitor has not cleared it."""
    s = shared()
    return to_fabric(s[0]) if s else None


def forget_shared() -> None:
    """Clear pressed on a drawing a link brought: the canvas starts empty from now on."""
    st.session_state.pop(SHARED, None)


def link(index: int) -> str:
    """The address that opens chapter `index` with this drawing and the chapter's settings."""
    params = {CHAPTER: SLUGS[index]}
    canvas = st.session_state.get(CANVAS)
    raw = canvas.get("drawing", {}).get("raw") if isinstance(canvas, dict) else None
    try:
        if raw and raw.get("objects"):
            params[DRAWING] = encode_drawing(raw, int(st.session_state.get(PEN, DEFAULT_PEN)))
        elif shared():
            params[DRAWING] = encode_drawing(to_fabric(shared()[0]), shared()[0].pen)
    except (ShareError, AttributeError, TypeError):
        pass  # a drawing the link cannot hold: the link shares the chapter and the settings
    allowed = PEN_SETTING | {k: v for p in CHAPTERS[index].parts for k, v in PART_SETTINGS.get(p, {}).items()}
    values = {}
    for key in allowed:
        value = st.session_state.get(key)
        if key in TEXTS and isinstance(value, str):
            try:
                value = [float(v) for v in value.split()]
            except ValueError:
                continue
        if value is not None:
            values[key] = value
    settings = ""
    for key, value in values.items():  # one at a time: a value the link cannot carry is left out, not the rest
        try:
            settings = "&".join(filter(None, [settings, encode_settings({key: value}, allowed)]))
        except ShareError:
            pass
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{urlencode(params)}" + (f"&{settings}" if settings else "")


def share_ui(index: int) -> None:
    with st.popover("Share this drawing and chapter", icon=":material/link:"):
        st.caption("This link opens the page at this chapter with this drawing and the chapter's settings, in any "
                   "browser: copy it with the button at its right.")
        st.code(link(index), language=None, wrap_lines=True)
