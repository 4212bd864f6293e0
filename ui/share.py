"""A drawing and a few page settings as short, URL-safe texts for a shareable link, and back, checked at every step.

A drawing's token is base64url (no padding) of one version byte and a zlib stream of unsigned LEB128 varints:

    pen            the pen-width slider's value when the drawing was shared
    S              how many strokes
    same           1: one width follows, every stroke's; 0: S widths follow, one per stroke
    width(s)
    per stroke: N  how many points, then the N points as zigzag-coded (dx, dy) from the point before (the first
                   stroke's first point from (0, 0), a later stroke's first point from the last stroke's last point)

The points are the pen's samples in whole canvas pixels. The canvas's pencil brush draws a stroke through its samples
as quadratic curves from midpoint to midpoint; `to_fabric` gives the canvas that same path and `rasterize` draws it.
A token or a link comes from anyone: each is checked, and the work it can cause is bounded before it is done.
No Streamlit here: the page reads the query string and calls these.
"""

from __future__ import annotations

import base64
import binascii
import math
import numbers
import re
import zlib
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

import numpy as np
from PIL import Image, ImageDraw

from cnn.canvas import CANVAS_SIZE, MAX_STROKES, PEN_WIDTHS

VERSION = 1  # the token format's version, its first byte: a later format takes the next, and old links still read
# A link must fit nginx's request line (8 kB by default, large_client_header_buffers) with the address and the
# settings: a drawn digit's token is a few hundred characters, and each point of a real drawing costs about one.
MAX_TOKEN_CHARS = 6_000
# Every point costs decoding and drawing work, and a token made to compress well can name many points in few
# characters. A real drawing's points cost up to about a character each (a drawn 8: 203 points in 200 characters; a
# canvas of many small digits: 0.7 a point), so MAX_TOKEN_CHARS holds real drawings of some 6,000 to 9,000 points:
# this bounds the rest.
MAX_POINTS = 10_000
# The pen's path in all, in canvas pixels: drawing costs its length times the pen's width. A digit's strokes are about
# 1,000 pixels long; this is 100 such drawings, and keeps the longest drawing a token can hold quick to draw.
MAX_LENGTH = 100_000
# The most bytes a valid token's zlib stream can hold: the header (pen, S, same, a width per stroke) and each stroke's
# N, at most 3 bytes each, and at most 2 bytes a coordinate (a step of at most 279 either way). Decompressing stops
# there, so a token that inflates to more (a zip bomb) is refused after that many bytes of work.
MAX_PAYLOAD = 3 * (3 + 2 * MAX_STROKES) + 4 * MAX_POINTS
MAX_SETTINGS_CHARS = 1_000  # a link's settings text: a few names and short values, beside the drawing's token
FABRIC_VERSION = "7.4.0"  # the Fabric.js inside streamlit-drawable-canvas 0.13, whose JSON to_fabric writes
SUPERSAMPLE = 4  # rasterize draws at 4x and averages each 4x4 block: 17 levels of cover, as a browser anti-aliases

# No number in a canvas's JSON comes near this (coordinates, scales, angles); bounding them keeps every product made
# from them finite.
LARGEST = 1e6
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]*")
_COMMAND_ARGS = {"M": 2, "L": 2, "Q": 4, "C": 6, "Z": 0}  # all Fabric keeps once it has normalised a path
_ORIGINS = {"left": -0.5, "top": -0.5, "center": 0.0, "right": 0.5, "bottom": 0.5}


class ShareError(ValueError):
    """A drawing, token or setting that cannot be shared or read; the message says what is wrong, in one line."""


@dataclass
class SharedDrawing:
    """A drawing as a link carries it."""

    strokes: list[list[tuple[int, int]]]  # each stroke's pen samples (x right, y down), 0..CANVAS_SIZE-1 each
    widths: list[int]  # each stroke's pen width in canvas pixels, within PEN_WIDTHS
    pen: int  # the pen-width slider's value when it was shared


# --- the drawing: from the canvas's Fabric.js JSON ----------------------------------------------------------------


def encode_drawing(fabric_json: dict, pen: int) -> str:
    """The token for the canvas's drawing (its Fabric.js JSON) and the pen-width slider's value; ShareError if the
    drawing cannot be shared (not pen strokes, too many, or too large for a link)."""
    return pack(from_fabric(fabric_json, pen))


def from_fabric(fabric_json: dict, pen: int) -> SharedDrawing:
    """The pen strokes of the canvas's Fabric.js JSON, placed as the canvas draws them, in whole pixels.

    Each path's points are its commands' end points and each quadratic's control point (the pen's samples: the brush
    puts a sample at each control point and a midpoint at each end, which is dropped). A stroke moved, scaled or
    turned with the canvas's edit tool is placed where it shows. A point off the canvas is moved to its edge; a path
    with several subpaths gives a stroke for each. Widths are rounded and kept within PEN_WIDTHS.
    """
    pen = _pen_width(pen)
    if not isinstance(fabric_json, dict):
        raise ShareError("there is no drawing to share")
    objects = fabric_json.get("objects", [])
    if not isinstance(objects, list):
        raise ShareError("the drawing has no list of strokes")
    if len(objects) > MAX_STROKES:
        raise ShareError(f"the drawing has {len(objects)} strokes; a link holds at most {MAX_STROKES}")
    strokes, widths, total = [], [], 0
    for number, obj in enumerate(objects, 1):
        width, pieces = _object_strokes(obj, number, pen)
        for piece in pieces:
            samples = _whole_pixels(piece)
            total += len(samples)
            if total > MAX_POINTS:
                raise ShareError(f"the drawing has more points than the {MAX_POINTS:,} a link holds")
            strokes.append(samples)
            widths.append(width)
    if len(strokes) > MAX_STROKES:
        raise ShareError(f"the drawing has {len(strokes)} strokes; a link holds at most {MAX_STROKES}")
    return SharedDrawing(strokes, widths, pen)


def fabric_strokes(fabric_json, pen: int) -> list[tuple[np.ndarray, float]]:
    """Each pen stroke of the canvas's Fabric.js JSON where it shows on the canvas, unrounded and of any canvas size:
    its (K, 2) points (x, y) and its width, as cnn.number.read_number takes them. ShareError for JSON that is not
    the canvas's pen strokes, or holds more than MAX_STROKES."""
    if not isinstance(fabric_json, dict):
        return []
    objects = fabric_json.get("objects", [])
    if not isinstance(objects, list):
        raise ShareError("the drawing has no list of strokes")
    if len(objects) > MAX_STROKES:
        raise ShareError(f"the drawing has {len(objects)} strokes, more than {MAX_STROKES}")
    # counted before any is parsed: a stroke costs its points, and a message may hold 2 MB of them
    commands = sum(len(o["path"]) for o in objects if isinstance(o, dict) and isinstance(o.get("path"), list))
    if commands > 2 * MAX_POINTS:
        raise ShareError(f"the drawing has more points than the {MAX_POINTS:,} the page follows stroke by stroke")
    strokes = []
    for number, obj in enumerate(objects, 1):
        width, pieces = _object_strokes(obj, number, pen)
        strokes += [(piece, float(width)) for piece in pieces if len(piece)]
    return strokes


def _pen_width(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ShareError(f"the pen width must be a whole number, not {type(value).__name__}")
    if not PEN_WIDTHS[0] <= value <= PEN_WIDTHS[1]:
        raise ShareError(f"the pen width must be {PEN_WIDTHS[0]} to {PEN_WIDTHS[1]} pixels, not {value}")
    return int(value)


def _number(value, what: str) -> float:
    """A JSON number within LARGEST either way; ShareError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ShareError(f"{what} is not a number")
    if not -LARGEST <= value <= LARGEST:  # NaN fails too
        raise ShareError(f"{what} is not a number the canvas would hold")
    return float(value)


def _object_strokes(obj, number: int, pen: int) -> tuple[int, list[np.ndarray]]:
    """A path object's width and its subpaths' points (K, 2) on the canvas."""
    where = f"stroke {number}"
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise ShareError(f"{where} is not a drawing object")
    if obj["type"].lower() != "path":
        raise ShareError(f"{where} is a {obj['type'][:20]!r}, not a pen stroke: a link holds pen strokes only")
    path = obj.get("path")
    if not isinstance(path, list) or len(path) > 2 * MAX_POINTS:
        raise ShareError(f"{where} has no path, or one longer than a link holds")
    commands = []
    for command in path:
        name = command[0] if isinstance(command, list) and command else None
        if not isinstance(name, str) or name not in _COMMAND_ARGS:
            raise ShareError(f"{where} has a path command the canvas does not make")
        if len(command) != 1 + _COMMAND_ARGS[name]:
            raise ShareError(f"{where} has a path command with the wrong number of values")
        commands.append((name, [_number(v, f"a value in {where}'s path") for v in command[1:]]))
    if commands and commands[0][0] != "M":
        raise ShareError(f"{where} has a path that does not start where the pen went down")
    pieces = _subpaths(commands)
    matrix, shift = _placement(obj, commands, where)
    width = _number(obj.get("strokeWidth", pen), f"{where}'s width")
    if not obj.get("strokeUniform"):  # the stroke is scaled with the path
        width *= math.sqrt(abs(matrix[0, 0] * matrix[1, 1] - matrix[0, 1] * matrix[1, 0]))
    width = int(np.clip(math.floor(width + 0.5), *PEN_WIDTHS))
    return width, [piece @ matrix.T + shift for piece in pieces]


def _subpaths(commands) -> list[np.ndarray]:
    """Each subpath's samples: every command's end point and each quadratic's control point, less the quadratic end
    points that lie midway between their neighbours (the brush's midpoints, which the drawing implies)."""
    pieces, points, implied = [], [], []
    start = current = (0.0, 0.0)
    for name, args in commands:
        if name == "M":
            if len(points) > 1:  # a lone M draws nothing
                pieces.append(_drop_midpoints(points, implied))
            start = current = (args[0], args[1])
            points, implied = [current], [False]
            continue
        if name == "Q":
            points += [(args[0], args[1]), (args[2], args[3])]
            implied += [False, True]
        end = start if name == "Z" else (args[-2], args[-1])
        if name != "Q":
            points.append(end)
            implied.append(False)
        current = end
    if len(points) > 1:
        pieces.append(_drop_midpoints(points, implied))
    return pieces


def _drop_midpoints(points, implied) -> np.ndarray:
    pts = np.asarray(points, np.float64)  # (K, 2)
    between = np.flatnonzero(implied[:-1])  # a quadratic's end, with a point on each side (its control first)
    midway = np.abs(pts[between] - (pts[between - 1] + pts[between + 1]) / 2).max(axis=1) <= 0.5
    keep = np.ones(len(pts), bool)
    keep[between[midway]] = False
    return pts[keep]


def _whole_pixels(points: np.ndarray) -> list[tuple[int, int]]:
    """Points rounded to whole pixels (halves up) and kept on the canvas, without repeats in a row."""
    pts = np.clip(np.floor(points + 0.5), 0, CANVAS_SIZE - 1).astype(np.int64)
    keep = np.ones(len(pts), bool)
    keep[1:] = (pts[1:] != pts[:-1]).any(axis=1)
    return [(int(x), int(y)) for x, y in pts[keep]]


def _placement(obj: dict, commands, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(A (2, 2), b (2,)) with A @ p + b the canvas position of path point p, as Fabric.js 7 places the object: its
    own matrix (turn, scale, flip, skew) about its centre, applied to the path less its bounding box's centre."""
    get = lambda key, default: _number(obj.get(key, default), f"{where}'s {key}")  # noqa: E731
    sx, sy, angle = get("scaleX", 1), get("scaleY", 1), get("angle", 0)
    skew_x, skew_y = get("skewX", 0), get("skewY", 0)
    flips = np.diag([-1.0 if obj.get("flipX") else 1.0, -1.0 if obj.get("flipY") else 1.0])
    scale_skew = np.diag([sx, sy]) @ flips @ _skew(skew_x, 0) @ _skew(0, skew_y)
    turn = math.radians(angle)
    rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    left, top, width, height = _fabric_bounds(commands)
    offset = np.array([left + width / 2, top + height / 2])
    origin = np.array([_origin(obj.get("originX", "center"), where), _origin(obj.get("originY", "center"), where)])
    # the size Fabric moves by from an origin to the centre: the box with the stroke, scaled and skewed
    stroke = 0.0 if obj.get("strokeUniform") else get("strokeWidth", 1)
    box = np.array([width + stroke, height + stroke])
    if skew_x == 0 and skew_y == 0:
        size = box * [sx, sy]
    else:
        corners = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]]) * box / 2 @ scale_skew.T
        size = corners.max(axis=0) - corners.min(axis=0)
    if obj.get("strokeUniform"):
        size = size + get("strokeWidth", 1)
    # Fabric's constructor puts the box's centre at `offset`, then takes `left` and `top` where the JSON has them
    corner = offset + rotation @ (origin * size)
    for axis, key in enumerate(("left", "top")):
        if obj.get(key) is not None:
            corner[axis] = get(key, 0)
    centre = corner + rotation @ (-origin * size)
    matrix = rotation @ scale_skew
    return matrix, centre - matrix @ offset


def _skew(x_degrees: float, y_degrees: float) -> np.ndarray:
    return np.array([[1.0, math.tan(math.radians(x_degrees))], [math.tan(math.radians(y_degrees)), 1.0]])


def _origin(value, where: str) -> float:
    """An originX or originY as Fabric resolves it: a name, or a share of the box from its left or top."""
    if isinstance(value, str):
        if value not in _ORIGINS:
            raise ShareError(f"{where} has an origin the canvas does not use")
        return _ORIGINS[value]
    return _number(value, f"{where}'s origin") - 0.5


def _fabric_bounds(commands) -> tuple[float, float, float, float]:
    """(left, top, width, height) of a path as Fabric.js 7 measures it (Path._calcBoundsFromPath), for it decides
    where Fabric puts the path: a quadratic is measured as the cubic with both control points at its one, which
    bulges further than the quadratic, and a line adds its subpath's start (a point already in the box)."""
    xs, ys = [], []
    start = current = (0.0, 0.0)
    for name, args in commands:
        if name == "M":
            start = current = (args[0], args[1])
            continue
        if name == "Z":
            current = start
            continue
        end = (args[-2], args[-1])
        if name == "L":
            points = [start, end]
        elif name == "Q":
            points = _cubic_extremes(current, args[0:2], args[0:2], end)
        else:
            points = _cubic_extremes(current, args[0:2], args[2:4], end)
        xs += [p[0] for p in points]
        ys += [p[1] for p in points]
        current = end
    if not xs:
        return 0.0, 0.0, 0.0, 0.0
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def _cubic_extremes(p0, p1, p2, p3) -> list[tuple[float, float]]:
    """The ends of a cubic Bezier curve and its points where x or y turns: its bounding box's corners lie among them."""
    ts = []
    for axis in (0, 1):
        a0, a1, a2, a3 = p0[axis], p1[axis], p2[axis], p3[axis]
        b, a, c = 6 * a0 - 12 * a1 + 6 * a2, -3 * a0 + 9 * a1 - 9 * a2 + 3 * a3, 3 * a1 - 3 * a0
        if abs(a) < 1e-12:
            if abs(b) >= 1e-12:
                ts.append(-c / b)
            continue
        disc = b * b - 4 * c * a
        if disc >= 0:
            ts += [(-b + math.sqrt(disc)) / (2 * a), (-b - math.sqrt(disc)) / (2 * a)]
    points = [tuple(p0), tuple(p3)]
    for t in ts:
        if 0 < t < 1:
            u = 1 - t
            points.append(tuple(u**3 * p0[k] + 3 * u * u * t * p1[k] + 3 * u * t * t * p2[k] + t**3 * p3[k]
                                for k in (0, 1)))
    return points


# --- the drawing: the token ---------------------------------------------------------------------------------------


def pack(drawing: SharedDrawing) -> str:
    """The token for a drawing; ShareError if it breaks a limit that decoding checks."""
    _check(drawing)
    out = bytearray()
    same = len(set(drawing.widths)) <= 1
    for value in (drawing.pen, len(drawing.strokes), int(same)):
        _varint(value, out)
    for width in drawing.widths[:1] if same else drawing.widths:
        _varint(width, out)
    last = (0, 0)
    for stroke in drawing.strokes:
        _varint(len(stroke), out)
        for x, y in stroke:
            _varint(_zigzag(x - last[0]), out)
            _varint(_zigzag(y - last[1]), out)
            last = (x, y)
    token = base64.urlsafe_b64encode(bytes([VERSION]) + zlib.compress(bytes(out), 9)).rstrip(b"=").decode("ascii")
    if len(token) > MAX_TOKEN_CHARS:
        raise ShareError(f"the drawing needs {len(token):,} characters, more than the {MAX_TOKEN_CHARS:,} a link "
                         "holds: draw it with fewer or shorter strokes")
    return token


def decode_drawing(token: str) -> SharedDrawing:
    """The drawing a token holds; ShareError, with a one-line reason, for anything that is not a valid token."""
    if not isinstance(token, str):
        raise ShareError("the drawing in the link is not text")
    if len(token) > MAX_TOKEN_CHARS:
        raise ShareError(f"the drawing in the link is too long ({len(token):,} characters, at most "
                         f"{MAX_TOKEN_CHARS:,})")
    not_base64 = "the drawing in the link is not in the link's alphabet: it may have been cut or changed"
    if not token or not _TOKEN_CHARS.fullmatch(token) or len(token) % 4 == 1:
        raise ShareError(not_base64)
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise ShareError(not_base64) from None
    if data[0] != VERSION:
        raise ShareError(f"the drawing in the link is of format {data[0]}, which this page does not read")
    inflate = zlib.decompressobj()
    try:
        payload = inflate.decompress(data[1:], MAX_PAYLOAD + 1)
    except zlib.error:
        raise ShareError("the drawing in the link is damaged: it may have been cut or changed") from None
    if len(payload) > MAX_PAYLOAD:
        raise ShareError("the drawing in the link unpacks to more than any drawing the page shares")
    if not inflate.eof:
        raise ShareError("the drawing in the link is cut short")
    if inflate.unused_data:
        raise ShareError("the drawing in the link has bytes after its end")
    drawing = _unpack(payload)
    _check(drawing)
    return drawing


def _unpack(payload: bytes) -> SharedDrawing:
    read = _Reader(payload)
    pen, count, same = read.varint(), read.varint(), read.varint()
    if count > MAX_STROKES:
        raise ShareError(f"the drawing in the link has {count:,} strokes, more than the {MAX_STROKES} it may have")
    if same not in (0, 1):
        raise ShareError("the drawing in the link is malformed")
    if same:
        widths = [read.varint()] * count if count else []  # an empty drawing has no width to give
    else:
        widths = [read.varint() for _ in range(count)]
    strokes, total, x, y = [], 0, 0, 0
    for _ in range(count):
        n = read.varint()
        total += n
        if n == 0:
            raise ShareError("the drawing in the link has an empty stroke")
        if total > MAX_POINTS:
            raise ShareError(f"the drawing in the link has more than {MAX_POINTS:,} points, more than it may have")
        stroke = []
        for _ in range(n):
            x, y = x + _unzigzag(read.varint()), y + _unzigzag(read.varint())
            if not (0 <= x < CANVAS_SIZE and 0 <= y < CANVAS_SIZE):
                raise ShareError(f"the drawing in the link has a point off the {CANVAS_SIZE}×{CANVAS_SIZE} canvas")
            stroke.append((x, y))
        strokes.append(stroke)
    if not read.done():
        raise ShareError("the drawing in the link has bytes after its last stroke")
    return SharedDrawing(strokes, widths, pen)


def _check(drawing: SharedDrawing) -> None:
    """ShareError for a drawing outside the limits a token may hold."""
    low, high = PEN_WIDTHS
    if not low <= drawing.pen <= high:
        raise ShareError(f"the drawing's pen width {drawing.pen} is not {low} to {high} pixels")
    if len(drawing.strokes) > MAX_STROKES:
        raise ShareError(f"the drawing has {len(drawing.strokes)} strokes, more than the {MAX_STROKES} a link holds")
    if len(drawing.widths) != len(drawing.strokes):
        raise ShareError("the drawing must have a width for each stroke")
    for width in drawing.widths:
        if not low <= width <= high:
            raise ShareError(f"the drawing has a stroke {width} pixels wide, not {low} to {high}")
    points = sum(len(s) for s in drawing.strokes)
    if points > MAX_POINTS:
        raise ShareError(f"the drawing has {points:,} points, more than the {MAX_POINTS:,} a link holds")
    for stroke in drawing.strokes:
        if not stroke:
            raise ShareError("the drawing has an empty stroke")
        if not all(type(x) is int and type(y) is int and 0 <= x < CANVAS_SIZE and 0 <= y < CANVAS_SIZE
                   for x, y in stroke):
            raise ShareError(f"the drawing has a point that is not a whole pixel on the {CANVAS_SIZE}×{CANVAS_SIZE} "
                             "canvas")
    length = sum(float(np.hypot(*np.diff(np.asarray(s, np.float64), axis=0).T).sum()) for s in drawing.strokes)
    if length > MAX_LENGTH:
        raise ShareError(f"the drawing's strokes are {length:,.0f} pixels long in all, more than the "
                         f"{MAX_LENGTH:,} a link holds")


def _varint(value: int, out: bytearray) -> None:
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def _unzigzag(value: int) -> int:
    return value >> 1 if not value & 1 else -(value >> 1) - 1


class _Reader:
    """Varints from a payload, refusing any that would run past its end or hold more than 21 bits."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def varint(self) -> int:
        value = 0
        for shift in (0, 7, 14):
            if self.at >= len(self.data):
                raise ShareError("the drawing in the link is cut short")
            byte = self.data[self.at]
            self.at += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
        raise ShareError("the drawing in the link holds a number larger than any drawing has")

    def done(self) -> bool:
        return self.at == len(self.data)


# --- the drawing: back onto the canvas, and as pixels -------------------------------------------------------------


def to_fabric(drawing: SharedDrawing) -> dict:
    """The Fabric.js JSON for `st_canvas(initial_drawing=...)`: each stroke the path the canvas's own pencil brush
    makes from those samples, white, with round caps and joins, at its width, with every field the canvas writes for
    its own strokes. Fabric needs only `type` and `path` to load a path (it places it by its points when `left` and
    `top` are missing), but shows it as the pen's stroke only with `stroke`, `strokeWidth`, `fill: None` and round
    caps and joins: its defaults are no stroke, a black fill, butt caps and mitred joins.

    The canvas (streamlit-drawable-canvas 0.13) behaves so with it, as its frontend's source reads and a browser
    showed: on its first run it draws this JSON and sends nothing back, so until the visitor draws, the canvas's
    value holds this JSON and no image (the page reads the drawing with `rasterize`). It loads the JSON again, and
    sends the result, whenever the JSON passed changes: pass the same one on every run (None empties the canvas).
    And its history starts from it: its Reset button (the page's Clear) goes back to this drawing, not to a blank.
    """
    objects = []
    for stroke, width in zip(drawing.strokes, drawing.widths):
        path = _brush_path(stroke, width)
        left, top, w, h = _fabric_bounds([(c[0], c[1:]) for c in path])
        objects.append({
            "type": "Path", "version": FABRIC_VERSION, "originX": "center", "originY": "center",
            "left": round(left + w / 2, 4), "top": round(top + h / 2, 4), "width": round(w, 4), "height": round(h, 4),
            "fill": None, "stroke": "#FFFFFF", "strokeWidth": width, "strokeDashArray": None,
            "strokeLineCap": "round", "strokeDashOffset": 0, "strokeLineJoin": "round", "strokeUniform": False,
            "strokeMiterLimit": 10, "scaleX": 1, "scaleY": 1, "angle": 0, "flipX": False, "flipY": False,
            "opacity": 1, "shadow": None, "visible": True, "backgroundColor": "", "fillRule": "nonzero",
            "paintFirst": "fill", "globalCompositeOperation": "source-over", "skewX": 0, "skewY": 0, "path": path,
        })
    return {"version": FABRIC_VERSION, "objects": objects}


def _brush_path(points, width: float) -> list[list]:
    """The path Fabric.js 7's pencil brush makes from its samples (convertPointsToSVGPath): a quadratic curve from
    midpoint to midpoint with each sample its control point, and both ends pushed out by width / 1000 along the
    stroke, so that a dot (one sample, doubled as the brush doubles a click) is drawn with its round caps."""
    e = [tuple(p) for p in points]
    if len(e) == 1:
        e = e * 2
    n, nudge = len(e), width / 1000
    sign = lambda v: int(v > 0) - int(v < 0)  # noqa: E731
    dx, dy = (sign(e[2][0] - e[1][0]), sign(e[2][1] - e[1][1])) if n > 2 else (1, 0)
    path = [["M", e[0][0] - dx * nudge, e[0][1] - dy * nudge]]
    r, i = e[0], e[1]
    for h in range(1, n):
        if r != i:
            path.append(["Q", r[0], r[1], (r[0] + i[0]) / 2, (r[1] + i[1]) / 2])
        r = e[h]
        if h + 1 < n:
            i = e[h + 1]
    if n > 2:
        dx, dy = sign(r[0] - e[n - 2][0]), sign(r[1] - e[n - 2][1])
    path.append(["L", r[0] + dx * nudge, r[1] + dy * nudge])
    return path


def rasterize(drawing: SharedDrawing, size: int = CANVAS_SIZE) -> np.ndarray:
    """The (size, size, 4) uint8 RGBA image of the strokes, white on opaque black with round caps and joins, drawn
    along the brush's curves as the canvas draws them (scaled by size / CANVAS_SIZE), anti-aliased.

    Each stroke is a row of pen discs close together along its path, drawn at SUPERSAMPLE times the size and averaged
    down. PIL's own wide lines are not used: they land up to half a canvas pixel off their points at some slopes.
    """
    scale = size / CANVAS_SIZE * SUPERSAMPLE
    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    for stroke, width in zip(drawing.strokes, drawing.widths):
        w = max(1, round(width * scale))  # the disc's diameter in pixels
        # discs w / 8 apart: the edge between two dips in by under 1% of the radius (0.16 pixels at the widest pen)
        centres = _along(_flatten(_brush_path(stroke, width)) * scale - 0.5, step=max(1.0, w / 8))  # (K, 2)
        # PIL's pixel k has its centre at k, and PIL truncates a box to whole pixels: each box is rounded here, so
        # that every disc, w pixels across with both ends in, lands centred on its point within half a pixel
        for x, y in np.unique(np.floor(centres - (w - 1) / 2 + 0.5).astype(np.int64), axis=0):
            draw.ellipse((x, y, x + w - 1, y + w - 1), fill=255)
    ink = np.asarray(big.reduce(SUPERSAMPLE))  # (size, size): each pixel its block's mean
    rgba = np.empty((size, size, 4), np.uint8)
    rgba[..., :3] = ink[..., None]
    rgba[..., 3] = 255
    return rgba


def _along(line: np.ndarray, step: float) -> np.ndarray:
    """Points along a polyline (K, 2), its vertices and at most `step` apart between them."""
    gaps = np.ceil(np.hypot(*np.diff(line, axis=0).T) / step).clip(1).astype(np.int64)  # (K-1,) pieces per segment
    segment = np.repeat(np.arange(len(gaps)), gaps)  # (P,)
    t = ((np.arange(len(segment)) - np.repeat(np.cumsum(gaps) - gaps, gaps)) / gaps[segment])[:, None]
    return np.vstack([line[segment] + (line[segment + 1] - line[segment]) * t, line[-1:]])


def _flatten(path) -> np.ndarray:
    """A brush path (M, quadratics, L) as a polyline (K, 2), each quadratic cut into pieces that stray from it by
    under a quarter pixel."""
    start, end = np.array(path[0][1:3], np.float64), np.array(path[-1][1:3], np.float64)
    quads = np.array([c[1:] for c in path[1:-1]], np.float64).reshape(-1, 4)  # (Q, 4): control x, y, end x, y
    p0, c, p1 = np.vstack([start, quads[:-1, 2:]]), quads[:, :2], quads[:, 2:]  # (Q, 2) each
    bend = np.abs(p0 - 2 * c + p1).max(axis=1)  # (Q,): a quadratic strays from its chord by at most bend / 4
    pieces = np.clip(np.ceil(np.sqrt(bend)), 1, 16).astype(np.int64)  # bend / 4 / pieces² < 1/4
    curve = np.repeat(np.arange(len(quads)), pieces)  # (P,) which quadratic each piece is of
    t = ((np.arange(len(curve)) - np.repeat(np.cumsum(pieces) - pieces, pieces) + 1) / pieces[curve])[:, None]
    points = (1 - t) ** 2 * p0[curve] + 2 * (1 - t) * t * c[curve] + t**2 * p1[curve]  # (P, 2)
    return np.vstack([start, points, end])


# --- page settings in a link's query string -----------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """What one page setting in a link may be."""

    kind: str  # "int", "float", "choice", or "numbers": a short list of numbers, written "1 2 3"
    low: float | None = None  # the smallest value ("numbers": of each number)
    high: float | None = None  # the largest value
    choices: tuple[str, ...] = ()  # "choice": the strings it may be
    most: int = 8  # "numbers": how many numbers at most
    whole: bool = True  # "numbers": whole numbers only

    def __post_init__(self):
        if self.kind not in ("int", "float", "choice", "numbers"):
            raise ValueError(f"unknown kind of setting {self.kind!r}: int, float, choice or numbers")
        if self.kind == "choice" and not (self.choices and all(isinstance(c, str) for c in self.choices)):
            raise ValueError("a choice setting needs its choices, as strings")
        if self.kind != "choice" and (self.low is None or self.high is None or self.low > self.high):
            raise ValueError(f"a {self.kind} setting needs its bounds, low <= high")
        if self.kind == "numbers" and self.most < 1:
            raise ValueError("a numbers setting holds at least one number")

    def describe(self) -> str:
        """What it must be, for a message: "a whole number from 6 to 40"."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        span = f"from {_plain(self.low)} to {_plain(self.high)}"
        if self.kind == "int":
            return f"a whole number {span}"
        if self.kind == "float":
            return f"a number {span}"
        return f"1 to {self.most} {'whole ' if self.whole else ''}numbers, each {span}"


_INT = re.compile(r"-?[0-9]{1,15}")
_FLOAT = re.compile(r"-?(?:[0-9]{1,15}(?:\.[0-9]{0,17})?|\.[0-9]{1,17})(?:[eE][-+]?[0-9]{1,3})?")


def encode_settings(values: dict[str, object], allowed: dict[str, Setting]) -> str:
    """The query-string text (name=value&...) for page settings; ShareError for a name or value `allowed` refuses."""
    pairs = []
    for name, value in values.items():
        if name not in allowed:
            raise ShareError(f"{_shown(name)} is not a setting a link may carry")
        text = _format(allowed[name], value)
        if text is None or _parse(allowed[name], text) != (list(value) if isinstance(value, tuple) else value):
            raise ShareError(f"the setting {_shown(name)} must be {allowed[name].describe()}, not {_shown(value)}")
        pairs.append((name, text))
    text = urlencode(pairs)
    if len(text) > MAX_SETTINGS_CHARS:
        raise ShareError(f"the settings need {len(text):,} characters, more than the {MAX_SETTINGS_CHARS:,} a link "
                         "holds")
    return text


def decode_settings(text: str, allowed: dict[str, Setting]) -> tuple[dict, list[str]]:
    """The valid settings in a link's query-string text, and a one-line message for each one left out. Never raises.

    The messages quote (shortened) what the link says, which anyone may write: show them as plain text.
    """
    if not isinstance(text, str):
        return {}, ["the link's settings are not text: none were used"]
    if len(text) > MAX_SETTINGS_CHARS:
        return {}, [f"the link's settings are too long ({len(text):,} characters, at most {MAX_SETTINGS_CHARS:,}): "
                    "none were used"]
    values, messages = {}, []
    for name, raw in parse_qsl(text, keep_blank_values=True):
        if name not in allowed:
            messages.append(f"the link's setting {_shown(name)} is not one this page has: it was left out")
        elif name in values:
            messages.append(f"the link gives {_shown(name)} more than once: the first was used")
        else:
            value = _parse(allowed[name], raw)
            if value is None:
                messages.append(f"the link's {_shown(name)} must be {allowed[name].describe()}, not {_shown(raw)}: "
                                "it was left out")
            else:
                values[name] = value
    return values, messages


def _format(setting: Setting, value) -> str | None:
    """The link's text for a value of this setting, or None for a value of the wrong type."""
    number = lambda v: not isinstance(v, bool) and isinstance(v, numbers.Real)  # noqa: E731
    if setting.kind == "choice":
        return value if isinstance(value, str) else None
    if setting.kind == "int":
        return str(value) if number(value) and float(value).is_integer() else None
    if setting.kind == "float":
        return repr(float(value)) if number(value) else None
    if not isinstance(value, (list, tuple)) or not all(number(v) for v in value):
        return None
    return " ".join(str(int(v)) if setting.whole else repr(float(v)) for v in value)


def _parse(setting: Setting, text: str):
    """The value a link's text gives this setting, or None if it is not one of its values."""
    if setting.kind == "choice":
        return text if text in setting.choices else None
    if setting.kind == "numbers":
        parts = text.split(" ")
        if not 1 <= len(parts) <= setting.most:
            return None
        numbers = [_parse_number(part, setting, setting.whole) for part in parts]
        return None if any(n is None for n in numbers) else numbers
    return _parse_number(text, setting, setting.kind == "int")


def _parse_number(text: str, setting: Setting, whole: bool):
    if not (_INT if whole else _FLOAT).fullmatch(text):
        return None
    value = int(text) if whole else float(text)
    return value if setting.low <= value <= setting.high else None  # an overflow to inf is out of range too


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)


def _shown(value, most: int = 24) -> str:
    """A value from a link, quoted and shortened for a message: control characters escaped, never a line break."""
    text = repr(value)
    return text if len(text) <= most else text[: most - 1] + "…"
