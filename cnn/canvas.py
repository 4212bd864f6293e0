"""What the drawing canvas sends, read with bounded cost: its PNG checked before it is decoded, its strokes counted.

The canvas component sends a PNG of the drawing (as a data URL) and the Fabric.js JSON of its strokes. Both come from
the browser, so a hostile client can send anything in their place, up to the server's message limit. The PNG's
header states its size; an image larger than the canvas the page asked for is refused from that header alone, so a
small, highly compressed PNG of 8192 x 8192 pixels (256 MB once decoded) costs nothing but its bytes.
"""

from __future__ import annotations

import io
import struct
import warnings

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_STROKES = 100  # the most strokes the page reads on one canvas: no digit needs as many, and each adds ~5 kB
CANVAS_SIZE = 280  # the canvas's side, in pixels
PEN_WIDTHS = (6, 40)  # the narrowest and widest pen the page's slider offers, in canvas pixels
DEFAULT_PEN = 20  # on a 280-pixel canvas this becomes MNIST's 2-3 pixel strokes once the digit is fitted to 20x20


class CanvasError(ValueError):
    """A canvas value that is not a drawing the page can read; the message says what is wrong, briefly."""


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, without decoding any pixels."""
    if not isinstance(data, (bytes, bytearray)) or not data.startswith(PNG_SIGNATURE):
        raise CanvasError("the canvas did not send a PNG image")
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise CanvasError("the canvas sent a PNG without its header")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def decode_png(data: bytes, width: int, height: int) -> np.ndarray:
    """The (H, W, 4) uint8 RGBA pixels of a canvas PNG no larger than width x height; CanvasError otherwise.

    The size is checked from the header first, then PIL decodes only within that size (and refuses any other
    format), so the cost is bounded by the canvas, not by what the sender claims.
    """
    w, h = png_size(data)
    if not (1 <= w <= width and 1 <= h <= height):
        raise CanvasError(f"the canvas sent a {w}×{h} image, larger than the {width}×{height} canvas")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as img:
                if img.size != (w, h):
                    raise CanvasError("the canvas sent an inconsistent PNG")
                img.load()
                rgba = np.asarray(img.convert("RGBA"))
    except CanvasError:
        raise
    except Exception as e:  # noqa: BLE001: truncated or corrupt bytes surface as many kinds of error inside PIL
        raise CanvasError(f"the canvas sent an unreadable PNG ({type(e).__name__})") from None
    return rgba


def read_drawing(result, width: int, height: int) -> tuple[np.ndarray | None, int]:
    """The RGBA drawing in a canvas component's result (None before the first stroke) and its stroke count.

    `result` is what the canvas returns: `.json_data` (its strokes) and `.image_bytes` (its PNG). CanvasError for
    anything the page cannot read: a value that is not a PNG data URL, a PNG that is too large or corrupt, or more
    than MAX_STROKES strokes.
    """
    strokes = stroke_count(getattr(result, "json_data", None))
    if strokes > MAX_STROKES:
        raise CanvasError(f"the drawing has {strokes} strokes, more than the {MAX_STROKES} the page reads")
    try:
        data = result.image_bytes
    except ValueError:  # no ";base64," in the data URL, or bad base64 (binascii.Error is a ValueError)
        raise CanvasError("the canvas sent something that is not an image") from None
    if data is None:
        return None, strokes
    return decode_png(data, width, height), strokes


def stroke_count(json_data) -> int:
    """How many objects (pen strokes) the canvas's Fabric.js JSON holds; 0 for anything that is not such JSON."""
    if not isinstance(json_data, dict):
        return 0
    objects = json_data.get("objects")
    return len(objects) if isinstance(objects, list) else 0


def strokes_in_state(state) -> int:
    """Strokes in the canvas component's session state ({"drawing": {"raw": <Fabric.js JSON>, ...}}), which holds
    the browser's latest value before the component is drawn again in a run."""
    try:
        return stroke_count(state["drawing"]["raw"])
    except (KeyError, TypeError, IndexError):
        return 0
