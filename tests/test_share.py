"""Links that share a drawing and page settings: round trips, limits, hostile tokens and links, and the drawing as the
canvas and the network see it."""

from __future__ import annotations

import base64
import math
import time
import zlib

import numpy as np
import pytest

from cnn.canvas import CANVAS_SIZE, MAX_STROKES
from cnn.strokes import DIGIT_STROKES, draw_digit, render, to_canvas_points
from ui import share
from ui.share import (
    MAX_LENGTH, MAX_POINTS, MAX_SETTINGS_CHARS, MAX_TOKEN_CHARS, Setting, ShareError, SharedDrawing, decode_drawing,
    decode_settings, encode_drawing, encode_settings, from_fabric, pack, rasterize, to_fabric,
)

# --- test data: strokes as the canvas's pencil brush records them -----------------------------------------------------


def pen_samples(digit: int, rng: np.random.Generator, spacing: float = 2.5) -> list[np.ndarray]:
    """A template digit as the pointer's samples: a point every `spacing` pixels or so along each stroke, off by a
    little (floats, as the canvas records them)."""
    strokes = []
    for stroke in DIGIT_STROKES[digit]:
        corners = to_canvas_points(stroke, CANVAS_SIZE)
        steps = [np.linspace(a, b, max(2, int(np.ceil(np.linalg.norm(b - a) / spacing))) + 1)[1:]
                 for a, b in zip(corners[:-1], corners[1:])]
        points = np.vstack([corners[:1], *steps])
        strokes.append(points + rng.normal(0, 0.2, points.shape))
    return strokes


def reference_brush_path(points, width: float) -> list[list]:
    """Fabric.js 7's PencilBrush.convertPointsToSVGPath, as its source reads: M at the first sample (nudged back by
    width / 1000), a quadratic to each midpoint with the sample before it as control, L at the last sample."""
    e = [(float(x), float(y)) for x, y in points]
    if len(e) == 1:
        e = e * 2  # a click: the brush records its point twice
    nudge, many = width / 1000, len(e) > 2
    sign = lambda v: (v > 0) - (v < 0)  # noqa: E731
    s, o = (sign(e[2][0] - e[1][0]), sign(e[2][1] - e[1][1])) if many else (1, 0)
    path = [["M", e[0][0] - s * nudge, e[0][1] - o * nudge]]
    for k in range(len(e) - 1):
        (ax, ay), (bx, by) = e[k], e[k + 1]
        path.append(["Q", ax, ay, ax + (bx - ax) * 0.5, ay + (by - ay) * 0.5])
    if many:
        s, o = sign(e[-1][0] - e[-2][0]), sign(e[-1][1] - e[-2][1])
    path.append(["L", e[-1][0] + s * nudge, e[-1][1] + o * nudge])
    return path


def canvas_json(strokes, width: float = 20) -> dict:
    """The canvas's Fabric.js JSON for strokes drawn with its brush (no left/top: Fabric places a path by its own
    coordinates then, as it placed it when drawn)."""
    objects = [{"type": "Path", "version": "7.4.0", "originX": "center", "originY": "center", "fill": None,
                "stroke": "#FFFFFF", "strokeWidth": width, "strokeLineCap": "round", "strokeLineJoin": "round",
                "path": reference_brush_path(points, width)} for points in strokes]
    return {"version": "7.4.0", "objects": objects, "background": "#000000"}


def whole_pixels(points) -> list[tuple[int, int]]:
    """Samples rounded to whole pixels (halves up), repeats in a row dropped: what a token keeps."""
    out = []
    for x, y in points:
        p = (math.floor(x + 0.5), math.floor(y + 0.5))
        if not out or out[-1] != p:
            out.append(p)
    return out


def token_bytes(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def as_token(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def varints(*values: int) -> bytes:
    out = bytearray()
    for v in values:
        share._varint(v, out)
    return bytes(out)


def payload_token(payload: bytes, version: int = share.VERSION) -> str:
    return as_token(bytes([version]) + zlib.compress(payload))


def zz(v: int) -> int:
    return share._zigzag(v)


# Two strokes as streamlit-drawable-canvas 0.13 sent them from headless Chromium: a curve drawn with the mouse, then a
# click. Fabric.js computed `left`, `top`, `width` and `height` from each path; the lock* fields are left out.
CANVAS_SENT = [
    {"type": "Path", "version": "7.4.0", "originX": "center", "originY": "center", "left": 97.5, "top": 168.0243,
     "width": 75.04, "height": 63.9914, "fill": None, "stroke": "#FFFFFF", "strokeWidth": 20, "strokeDashArray": None,
     "strokeLineCap": "round", "strokeDashOffset": 0, "strokeLineJoin": "round", "strokeUniform": False,
     "strokeMiterLimit": 10, "scaleX": 1, "scaleY": 1, "angle": 0, "flipX": False, "flipY": False, "opacity": 1,
     "shadow": None, "visible": True, "backgroundColor": "", "fillRule": "nonzero", "paintFirst": "fill",
     "globalCompositeOperation": "source-over", "skewX": 0, "skewY": 0,
     "path": [["M", 59.98, 200.02], ["Q", 60, 200, 62.5, 191.5], ["Q", 65, 183, 67.5, 174.5], ["Q", 70, 166, 72.5, 158],
              ["Q", 75, 150, 82.5, 147.5], ["Q", 90, 145, 97.5, 142.5], ["Q", 105, 140, 112.5, 137.5],
              ["Q", 120, 135, 122.5, 143], ["Q", 125, 151, 130, 168], ["L", 135.02, 185.02]]},
    {"type": "Path", "version": "7.4.0", "originX": "center", "originY": "center", "left": 200, "top": 60,
     "width": 0.04, "height": 0, "fill": None, "stroke": "#FFFFFF", "strokeWidth": 20, "strokeDashArray": None,
     "strokeLineCap": "round", "strokeDashOffset": 0, "strokeLineJoin": "round", "strokeUniform": False,
     "strokeMiterLimit": 10, "scaleX": 1, "scaleY": 1, "angle": 0, "flipX": False, "flipY": False, "opacity": 1,
     "shadow": None, "visible": True, "backgroundColor": "", "fillRule": "nonzero", "paintFirst": "fill",
     "globalCompositeOperation": "source-over", "skewX": 0, "skewY": 0, "path": [["M", 199.98, 60], ["L", 200.02, 60]]},
]


def test_what_the_canvas_sent_is_read_as_its_samples_and_written_back_as_fabric_wrote_it():
    sent = {"version": "7.4.0", "objects": CANVAS_SENT, "background": "#000000"}
    drawing = from_fabric(sent, 20)
    assert drawing.strokes == [[(60, 200), (65, 183), (70, 166), (75, 150), (90, 145), (105, 140), (120, 135),
                                (125, 151), (135, 185)], [(200, 60)]]
    assert drawing.widths == [20, 20]
    for ours, theirs in zip(to_fabric(drawing)["objects"], CANVAS_SENT):
        assert ours["path"] == theirs["path"]
        for key in ("left", "top", "width", "height"):  # Fabric's box of the path, and its quirks, reproduced
            assert ours[key] == pytest.approx(theirs[key], abs=1e-3), key
        assert {k: v for k, v in ours.items() if k not in ("left", "top", "width", "height")} == \
            {k: v for k, v in theirs.items() if k not in ("left", "top", "width", "height")}
    assert decode_drawing(encode_drawing(sent, 20)) == drawing


# --- round trips ------------------------------------------------------------------------------------------------------


def test_a_drawn_8_costs_a_couple_of_hundred_characters_and_comes_back_in_whole_pixels():
    strokes = pen_samples(8, np.random.default_rng(8))
    token = encode_drawing(canvas_json(strokes, width=20), pen=24)
    drawing = decode_drawing(token)
    assert drawing.strokes == [whole_pixels(s) for s in strokes] and drawing.widths == [20] and drawing.pen == 24
    points = sum(map(len, drawing.strokes))
    assert 150 <= points <= 250  # as the pointer records a stroke: a sample every 2.5 pixels or so
    # measured: 203 points in 200 characters (and a sample every 1.5 pixels, 328 points: 270 characters)
    assert len(token) <= 250, f"a drawn 8 of {points} points took {len(token)} characters"
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("digit", range(10))
def test_the_canvas_json_to_fabric_writes_gives_back_the_same_token(digit):
    drawing = from_fabric(canvas_json(pen_samples(digit, np.random.default_rng(digit)), width=6 + 3 * digit), 20)
    token = pack(drawing)
    fabric = to_fabric(decode_drawing(token))
    assert encode_drawing(fabric, 20) == token
    for obj, stroke in zip(fabric["objects"], drawing.strokes):
        assert obj["path"] == reference_brush_path(stroke, 6 + 3 * digit)  # the brush's own path from these samples
        assert (obj["type"], obj["stroke"], obj["strokeWidth"], obj["fill"]) == ("Path", "#FFFFFF", 6 + 3 * digit, None)
        assert (obj["strokeLineCap"], obj["strokeLineJoin"]) == ("round", "round")
        assert (obj["originX"], obj["originY"], obj["scaleX"], obj["angle"]) == ("center", "center", 1, 0)


def test_to_fabric_places_a_path_at_its_box_centre_as_fabric_does():
    fabric = to_fabric(SharedDrawing([[(100, 100), (200, 100)], [(50, 60)]], [20, 10], 20))
    line, dot = fabric["objects"]
    # M 99.98 100, Q 100 100 150 100, L 200.02 100: Fabric's box runs from the M to the L
    assert (line["left"], line["top"], line["width"], line["height"]) == (150, 100, 100.04, 0)
    assert dot["path"] == [["M", 49.99, 60.0], ["L", 50.01, 60.0]]  # a click: nudged apart so its caps are drawn
    assert from_fabric(fabric, 20).strokes == [[(100, 100), (200, 100)], [(50, 60)]]


def test_strokes_of_different_widths_and_no_strokes_round_trip():
    drawing = SharedDrawing([[(0, 0), (279, 279)], [(140, 3)], [(5, 270), (6, 270), (6, 271)]], [6, 40, 17], 33)
    assert decode_drawing(pack(drawing)) == drawing
    same = SharedDrawing([[(10, 10), (20, 20)], [(30, 30)]], [12, 12], 12)
    assert decode_drawing(pack(same)) == same and len(pack(same)) < len(pack(SharedDrawing(same.strokes, [12, 13], 12)))
    empty = SharedDrawing([], [], 20)
    assert decode_drawing(pack(empty)) == empty
    assert from_fabric({"version": "7.4.0", "objects": []}, 20) == empty


@pytest.mark.parametrize(("drawing", "message"), [
    (SharedDrawing([[(280, 0)]], [20], 20), "whole pixel on the 280×280 canvas"),
    (SharedDrawing([[(-1, 0)]], [20], 20), "whole pixel"),
    (SharedDrawing([[(1.5, 0)]], [20], 20), "whole pixel"),
    (SharedDrawing([[]], [20], 20), "empty stroke"),
    (SharedDrawing([[(1, 1)]], [], 20), "a width for each stroke"),
    (SharedDrawing([[(1, 1)]], [5], 20), "5 pixels wide"),
    (SharedDrawing([[(1, 1)]], [20], 41), "pen width 41"),
])
def test_a_drawing_a_token_could_not_hold_is_not_packed(drawing, message):
    with pytest.raises(ShareError, match=message):
        pack(drawing)


# --- what the canvas's JSON may hold ----------------------------------------------------------------------------------


def line_object(**fields) -> dict:
    return {"type": "Path", "path": [["M", 100, 100], ["L", 200, 100]], "strokeWidth": 20, **fields}


@pytest.mark.parametrize(("fields", "points", "width"), [
    ({}, [(100, 100), (200, 100)], 20),  # no left/top: where its path says
    ({"left": 150, "top": 100}, [(100, 100), (200, 100)], 20),  # Fabric 7's default origin is the centre
    ({"left": 180, "top": 90}, [(130, 90), (230, 90)], 20),  # moved with the edit tool
    # Fabric 4's JSON (the canvas before 0.10): origin at the top left of the box with the stroke's width around it
    ({"type": "path", "originX": "left", "originY": "top", "left": 90, "top": 90}, [(100, 100), (200, 100)], 20),
    ({"left": 150, "top": 100, "scaleX": 2}, [(50, 100), (250, 100)], 28),  # the width scales with the path
    ({"left": 150, "top": 100, "scaleX": 2, "strokeUniform": True}, [(50, 100), (250, 100)], 20),
    ({"left": 150, "top": 100, "angle": 90}, [(150, 50), (150, 150)], 20),
    ({"left": 150, "top": 100, "flipX": True}, [(200, 100), (100, 100)], 20),
    # turned about its top-left corner: the box (120 x 20 with the stroke) stands on that corner, left of it
    ({"originX": "left", "originY": "top", "left": 160, "top": 40, "angle": 90}, [(150, 50), (150, 150)], 20),
    ({"left": 150, "top": 100, "skewY": 45}, [(100, 50), (200, 150)], 20),
    ({"left": 400, "top": -30, "strokeWidth": 99}, [(279, 0)], 40),  # dragged off the canvas: kept at its edge
    ({"strokeWidth": 2.4}, [(100, 100), (200, 100)], 6),
    ({"strokeWidth": 22.5}, [(100, 100), (200, 100)], 23),
])
def test_a_stroke_is_read_where_and_as_wide_as_the_canvas_shows_it(fields, points, width):
    drawing = from_fabric({"objects": [line_object(**fields)]}, 20)
    assert drawing.strokes == [points] and drawing.widths == [width]


def test_path_commands_give_their_end_points_and_each_quadratic_its_control_point():
    path = [["M", 10, 10], ["Q", 20, 30, 40, 10], ["C", 50, 0, 60, 0, 70, 10], ["L", 80, 80], ["Z"],
            ["M", 200, 200], ["L", 210, 200], ["M", 250, 250]]  # a second subpath, then a lone M, which draws nothing
    drawing = from_fabric({"objects": [{"type": "Path", "path": path, "strokeWidth": 10}]}, 20)
    # the quadratic's end (40, 10) is not midway between its control and the next point, so it stays
    assert drawing.strokes == [[(10, 10), (20, 30), (40, 10), (70, 10), (80, 80), (10, 10)], [(200, 200), (210, 200)]]
    assert drawing.widths == [10, 10]


@pytest.mark.parametrize(("fabric", "message"), [
    (None, "no drawing"),
    ([], "no drawing"),
    ({"objects": "x"}, "no list of strokes"),
    ({"objects": [line_object()] * (MAX_STROKES + 1)}, f"at most {MAX_STROKES}"),
    ({"objects": [line_object(type="Rect")]}, "pen strokes only"),
    ({"objects": [{"path": [["M", 1, 1]]}]}, "not a drawing object"),
    ({"objects": [line_object(path=[["A", 1, 1, 0, 0, 1, 5, 5]])]}, "does not make"),
    ({"objects": [line_object(path=[["M", 1]])]}, "wrong number of values"),
    ({"objects": [line_object(path=[["M", float("nan"), 1]])]}, "not a number"),
    ({"objects": [line_object(path=[["M", True, 1]])]}, "not a number"),
    ({"objects": [line_object(scaleX="2")]}, "not a number"),
    ({"objects": [line_object(originX="middle")]}, "origin"),
    ({"objects": [line_object(path=[["L", 1, 1], ["L", 5, 5]])]}, "where the pen went down"),
    ({"objects": [line_object(path=[["M", 0, 0], ["L", 279, 279]] * (MAX_POINTS // 2 + 1))]}, "more points than"),
])
def test_what_cannot_be_shared_is_refused_in_a_line(fabric, message):
    with pytest.raises(ShareError, match=message) as refused:
        encode_drawing(fabric, 20)
    assert "\n" not in str(refused.value)


def test_the_pen_width_given_is_checked():
    for pen in (5, 41, 20.0, True, "20"):
        with pytest.raises(ShareError, match="pen width"):
            encode_drawing({"objects": []}, pen)


def test_a_drawing_too_large_for_a_link_is_refused_when_shared():
    rng = np.random.default_rng(0)  # random steps: nothing for zlib to find
    strokes = [np.clip(np.cumsum(rng.integers(-8, 9, size=(50, 2)), axis=0) + 140, 0, 279) for _ in range(MAX_STROKES)]
    with pytest.raises(ShareError, match=f"more than the {MAX_TOKEN_CHARS:,} a link holds"):
        pack(SharedDrawing([[tuple(map(int, p)) for p in s] for s in strokes], [20] * MAX_STROKES, 20))


# --- hostile and damaged tokens ---------------------------------------------------------------------------------------


def good_token() -> str:
    return encode_drawing(canvas_json(pen_samples(3, np.random.default_rng(3))), 20)


@pytest.mark.parametrize(("token", "message"), [
    ("", "alphabet"),
    ("ab+/", "alphabet"),
    ("abc=", "alphabet"),
    ("a", "alphabet"),
    ("AbC d", "alphabet"),
    ("Ä" * 8, "alphabet"),
    (as_token(b"\x02" + zlib.compress(b"\x14\x00\x01")), "format 2"),
    (as_token(b"\x01not zlib at all"), "damaged"),
    (as_token(b"\x01" + zlib.compress(varints(20, 1, 1, 20, 1, 10, 10))[:-3]), "cut short"),
    (as_token(b"\x01" + zlib.compress(varints(20, 1, 1, 20, 1, 10, 10)) + b"x"), "after its end"),
    (payload_token(varints(20, 1, 1, 20, 2, 10, 10)), "cut short"),
    (payload_token(varints(20, 1, 1, 20, 1, 10, 10, 0)), "after its last stroke"),
    (payload_token(varints(20, 1, 1, 20, 1, zz(280), 10)), "off the 280×280 canvas"),
    (payload_token(varints(20, 1, 1, 20, 2, 10, 10, zz(-11), 0)), "off the 280×280 canvas"),
    (payload_token(varints(20, 1, 1, 41, 1, 10, 10)), "not 6 to 40"),
    (payload_token(varints(20, 2, 0, 20, 5, 1, 10, 10, 1, 10, 10)), "not 6 to 40"),
    (payload_token(varints(5, 0, 1)), "pen width 5"),
    (payload_token(varints(20, 1, 2, 20)), "malformed"),
    (payload_token(varints(20, 1, 1, 20, 0)), "empty stroke"),
    (payload_token(varints(20, MAX_STROKES + 1, 1, 20)), f"more than the {MAX_STROKES}"),
    (payload_token(varints(20, 10**6, 1, 20)), "strokes"),  # a huge count is refused before anything is made of it
    (payload_token(varints(20, 1, 1, 20, MAX_POINTS + 1)), f"more than {MAX_POINTS:,} points"),
    (payload_token(varints(2**40)), "larger than any drawing has"),
    (payload_token(varints(20, 1, 1, 20) + b"\xff" * 50), "larger than any drawing has"),
])
def test_a_bad_token_is_refused_with_a_plain_one_line_reason(token, message):
    with pytest.raises(ShareError, match=message) as refused:
        decode_drawing(token)
    assert "\n" not in str(refused.value) and str(refused.value)[0].islower()


def test_the_limits_on_points_and_length_are_checked_in_a_token():
    # 100 strokes of 100 points, each a step of 7 pixels: the most points allowed, in a few hundred characters
    most = SharedDrawing([[(130 + 7 * (i % 2), 10 + i // 2) for i in range(100)]] * 100, [40] * 100, 40)
    assert sum(map(len, most.strokes)) == MAX_POINTS and decode_drawing(pack(most)) == most
    one_more = SharedDrawing(most.strokes[:-1] + [most.strokes[-1] + [(0, 0)]], most.widths, 40)
    with pytest.raises(ShareError, match="points"):
        pack(one_more)
    zigzag = [(0, 0), (279, 279)] * (MAX_LENGTH // 394 // 2 + 2)  # each step 394.6 pixels
    assert MAX_LENGTH < (len(zigzag) - 1) * math.hypot(279, 279) < MAX_LENGTH + 1000
    with pytest.raises(ShareError, match="pixels long in all"):
        pack(SharedDrawing([zigzag], [20], 20))
    payload = varints(20, 1, 1, 20, len(zigzag)) + b"".join(
        varints(zz(x - px), zz(y - py)) for (px, py), (x, y) in zip([(0, 0)] + zigzag, zigzag))
    with pytest.raises(ShareError, match="pixels long in all"):
        decode_drawing(payload_token(payload))


def test_a_token_over_the_length_limit_is_refused_unread(monkeypatch):
    monkeypatch.setattr(share.base64, "urlsafe_b64decode", lambda *a: pytest.fail("decoded a token over the limit"))
    with pytest.raises(ShareError, match=f"at most {MAX_TOKEN_CHARS:,}"):
        decode_drawing("A" * (MAX_TOKEN_CHARS + 1))


def test_a_zip_bomb_costs_no_more_than_the_largest_drawing(monkeypatch):
    bomb = zlib.compress(varints(20, 1, 1, 20, 1) + bytes(50_000_000), 9)  # 50 MB of zeros in ~50 kB...
    token = as_token(b"\x01" + bomb[: MAX_TOKEN_CHARS * 3 // 4 - 1])  # ...cut to what a token may hold: ~4.5 MB
    assert len(token) <= MAX_TOKEN_CHARS
    inflated = []
    real = zlib.decompressobj

    class Spy:
        def __init__(self):
            self.inner = real()

        def decompress(self, data, max_length=0):
            out = self.inner.decompress(data, max_length)
            inflated.append(len(out))
            return out

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(share.zlib, "decompressobj", Spy)
    with pytest.raises(ShareError, match="unpacks to more"):
        decode_drawing(token)
    assert inflated == [share.MAX_PAYLOAD + 1]


def assert_refused_or_valid(token) -> None:
    """A token either decodes to a drawing within every limit, or is refused with ShareError: nothing else."""
    try:
        drawing = decode_drawing(token)
    except ShareError as e:
        assert "\n" not in str(e)
        return
    assert decode_drawing(pack(drawing)) == drawing


def test_fuzzed_tokens_raise_nothing_but_share_error():
    rng = np.random.default_rng(2024)
    token = good_token()
    data = token_bytes(token)
    alphabet = list("ABCxyz019-_+/=. %\n\x00") + ["é", "😀", "\ud800"]
    for _ in range(300):
        assert_refused_or_valid(as_token(rng.bytes(int(rng.integers(1, 300)))))  # random bytes
        assert_refused_or_valid(as_token(b"\x01" + rng.bytes(int(rng.integers(0, 300)))))  # with the right version
        assert_refused_or_valid("".join(rng.choice(alphabet, size=int(rng.integers(0, 60)))))  # random text
        # random numbers packed as a token is: valid zlib of varints, small and huge
        numbers = rng.integers(0, 2 ** rng.integers(1, 40, size=12), dtype=np.int64)
        assert_refused_or_valid(payload_token(varints(*map(int, numbers))))
    for cut in range(len(token)):  # every truncation
        assert_refused_or_valid(token[:cut])
    for bit in range(8 * len(data)):  # every single bit flipped
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << bit % 8
        assert_refused_or_valid(as_token(bytes(flipped)))
    for i in range(len(token)):  # every character changed to another of the alphabet
        assert_refused_or_valid(token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:])
    for bad in (None, 12, b"abc", ["x"]):
        with pytest.raises(ShareError):
            decode_drawing(bad)


def test_fuzzed_canvas_json_raises_nothing_but_share_error():
    rng = np.random.default_rng(7)
    junk = [None, True, -1, 0, 1e308, float("inf"), float("nan"), "", "M", "path", [], {}, [["M"]], [[1, 2, 3]],
            [["M", 1, 2], ["Z", 3]], {"a": 1}, 10**400, -(10**30)]
    good = canvas_json(pen_samples(5, rng))
    obj = good["objects"][0]
    for _ in range(500):
        fabric = {"objects": [dict(obj)]}
        for _ in range(int(rng.integers(1, 4))):
            key = rng.choice(list(obj) + ["left", "top", "scaleX", "angle", "skewX", "originY", "strokeUniform"])
            fabric["objects"][0][key] = junk[int(rng.integers(len(junk)))]
        if rng.random() < 0.3:
            path = [list(c) for c in obj["path"]]
            k = int(rng.integers(len(path)))
            path[k][int(rng.integers(len(path[k])))] = junk[int(rng.integers(len(junk)))]
            fabric["objects"][0]["path"] = path
        try:
            token = encode_drawing(fabric, 20)
        except ShareError as e:
            assert "\n" not in str(e)
        else:
            assert_refused_or_valid(token)


# --- the drawing as pixels --------------------------------------------------------------------------------------------


def test_a_dot_and_a_line_have_the_area_of_the_pen():
    dot = rasterize(SharedDrawing([[(50, 40)]], [20], 20))
    assert dot.shape == (CANVAS_SIZE, CANVAS_SIZE, 4) and dot.dtype == np.uint8 and (dot[..., 3] == 255).all()
    ink = dot[..., 0] / 255
    assert ink.sum() == pytest.approx(math.pi * 10**2, rel=0.03)
    assert centre(ink) == pytest.approx((50, 40), abs=0.02)  # on the point, as the canvas draws it
    for width in (6, 7, 20, 40):
        line = rasterize(SharedDrawing([[(40, 30), (230, 250)]], [width], 20))[..., 0] / 255
        capsule = math.hypot(190, 220) * width + math.pi * width**2 / 4
        assert line.sum() == pytest.approx(capsule, rel=0.03)
        assert centre(line) == pytest.approx((135, 140), abs=0.1)


def centre(ink: np.ndarray) -> tuple[float, float]:
    """(x, y) of the ink's centre of mass in canvas coordinates, where pixel (0, 0) spans 0..1 each way."""
    ys, xs = np.mgrid[0 : ink.shape[0], 0 : ink.shape[1]] + 0.5
    return float((ink * xs).sum() / ink.sum()), float((ink * ys).sum() / ink.sum())


def test_rasterize_draws_what_the_project_s_reference_rasteriser_draws():
    """cnn.strokes.render draws round-capped polylines as the canvas would; with samples close together the brush's
    curves are that polyline within a fraction of a pixel."""
    rng = np.random.default_rng(1)
    for digit in (0, 4, 8):
        strokes = [np.asarray(whole_pixels(s)) for s in pen_samples(digit, rng)]
        ours = rasterize(SharedDrawing([list(map(tuple, s)) for s in strokes], [20] * len(strokes), 20))
        reference = render(strokes, CANVAS_SIZE, CANVAS_SIZE, 20)
        diff = np.abs(ours[..., 0].astype(int) - reference[..., 0])
        assert diff.mean() < 1.5 and (diff > 96).mean() < 0.002, digit


def test_the_decoded_token_draws_the_same_image_as_the_strokes_drawn():
    rng = np.random.default_rng(5)
    for digit in range(10):
        strokes = pen_samples(digit, rng)
        drawn = rasterize(SharedDrawing([list(map(tuple, s)) for s in strokes], [20] * len(strokes), 20))
        shared = rasterize(decode_drawing(encode_drawing(canvas_json(strokes), 20)))
        diff = np.abs(shared[..., 0].astype(int) - drawn[..., 0])
        # the samples move by at most half a pixel each way: the edges shade a little differently, nothing else
        assert diff.mean() < 1.0 and (diff > 128).mean() < 0.002, digit
        assert abs(int(shared[..., 0].sum()) - int(drawn[..., 0].sum())) < 0.01 * drawn[..., 0].sum()


def test_rasterize_scales_to_a_size():
    drawing = decode_drawing(encode_drawing(canvas_json(pen_samples(2, np.random.default_rng(2))), 20))
    full = rasterize(drawing)
    small = rasterize(drawing, size=28)
    assert small.shape == (28, 28, 4)
    shrunk = full[..., 0].reshape(28, 10, 28, 10).mean(axis=(1, 3)) / 255  # each pixel its 10x10 block's mean
    assert np.abs(small[..., 0] / 255 - shrunk).mean() < 0.03
    assert small[..., 0].sum() / 255 == pytest.approx(shrunk.sum(), rel=0.08)


def test_the_largest_drawing_the_limits_allow_is_quick_to_read_and_draw():
    zigzag = SharedDrawing([[(130 + 10 * (i % 2), 10 + i // 2) for i in range(100)]] * 100, [40] * 100, 40)
    started = time.perf_counter()
    image = rasterize(decode_drawing(pack(zigzag)))
    assert time.perf_counter() - started < 3  # about 0.4 s measured on a busy machine
    assert image[10:60, 125:145, 0].min() == 255


def test_every_template_digit_is_read_as_itself_before_and_after_a_link():
    from cnn.model import load, page_reading
    from cnn.paths import DEFAULT_WEIGHTS
    from cnn.preprocess import preprocess_steps

    model = load(DEFAULT_WEIGHTS)
    rng = np.random.default_rng(10)
    before, after = [], []
    for digit in range(10):
        strokes = pen_samples(digit, rng)
        before.append(rasterize(SharedDrawing([list(map(tuple, s)) for s in strokes], [20] * len(strokes), 20)))
        after.append(rasterize(decode_drawing(encode_drawing(canvas_json(strokes), 20))))
    images = [draw_digit(d) for d in range(10)] + before + after  # the reference rendering, then ours
    probs = page_reading(model, np.stack([preprocess_steps(img).final for img in images]))  # (30, 10)
    assert list(probs.argmax(axis=1)) == list(range(10)) * 3
    # the link changes the reading by little
    assert np.abs(probs[10:20] - probs[20:30]).max() < 0.05


# --- page settings ----------------------------------------------------------------------------------------------------


ALLOWED = {
    "pen": Setting("int", 6, 40),
    "blur": Setting("float", 0.0, 2.5),
    "method": Setting("choice", choices=("Input gradient", "Occlusion", "Grad-CAM")),
    "kernel": Setting("numbers", -9, 9, most=9),
    "scales": Setting("numbers", 0.5, 2, most=3, whole=False),
}


def test_settings_round_trip_through_a_query_string():
    values = {"pen": 33, "blur": 1.25, "method": "Input gradient", "kernel": [1, -2, 3], "scales": [0.5, 2.0]}
    text = encode_settings(values, ALLOWED)
    assert text == "pen=33&blur=1.25&method=Input+gradient&kernel=1+-2+3&scales=0.5+2.0"
    assert decode_settings(text, ALLOWED) == (values, [])
    assert decode_settings("blur=1e-05&kernel=0", ALLOWED) == ({"blur": 1e-05, "kernel": [0]}, [])
    assert decode_settings("", ALLOWED) == ({}, [])
    assert encode_settings({"pen": np.int64(7), "scales": (1, np.float64(1.5))}, ALLOWED) == "pen=7&scales=1.0+1.5"


@pytest.mark.parametrize(("values", "message"), [
    ({"size": 3}, "not a setting"),
    ({"pen": 41}, "whole number from 6 to 40"),
    ({"pen": 20.0}, "whole number"),
    ({"pen": True}, "whole number"),
    ({"blur": float("nan")}, "from 0 to 2.5"),
    ({"method": "Saliency"}, "one of Input gradient"),
    ({"kernel": [1] * 10}, "1 to 9 whole numbers"),
    ({"kernel": []}, "1 to 9"),
    ({"kernel": [1.5]}, "whole numbers"),
    ({"scales": "0.5"}, "1 to 3 numbers"),
])
def test_settings_the_page_cannot_share_are_refused(values, message):
    with pytest.raises(ShareError, match=message):
        encode_settings(values, ALLOWED)


@pytest.mark.parametrize(("text", "kept", "message"), [
    ("pne=20", {}, "'pne' is not one this page has"),
    ("pen=abc", {}, "must be a whole number from 6 to 40, not 'abc'"),
    ("pen=41", {}, "not '41'"),
    ("pen=20.0", {}, "not '20.0'"),
    ("pen=1_0", {}, "not '1_0'"),
    ("pen=+20", {}, "not ' 20'"),  # a + in a query string is a space
    ("pen=%2B20", {}, "not '+20'"),
    ("pen=0x10", {}, "not '0x10'"),
    ("pen=9" * 2000, {}, "too long"),
    ("blur=nan", {}, "must be a number from 0 to 2.5"),
    ("blur=inf", {}, "not 'inf'"),
    ("blur=1e999", {}, "not '1e999'"),
    ("blur=2.5000001", {}, "not '2.5000001'"),
    ("method=occlusion", {}, "one of Input gradient, Occlusion, Grad-CAM"),
    ("kernel=1++2", {}, "not '1  2'"),
    ("kernel=" + "+".join(["1"] * 10), {}, "1 to 9 whole numbers"),
    ("kernel=1+10", {}, "each from -9 to 9"),
    ("pen=20&pen=30", {"pen": 20}, "more than once: the first was used"),
    ("pen=20&blur=9&method=Occlusion", {"pen": 20, "method": "Occlusion"}, "'blur' must be"),
    ("pen=%0A%1B[31m", {}, r"not '\n\x1b[31m'"),  # control characters are shown escaped, never as they are
    ("[x](http://e.x)=1", {}, "is not one this page has"),
])
def test_decoding_keeps_the_valid_settings_and_says_why_each_other_was_left_out(text, kept, message):
    values, messages = decode_settings(text, ALLOWED)
    assert values == kept and len(messages) == 1
    assert message in messages[0], messages
    assert "\n" not in messages[0] and len(messages[0]) < 200


def test_fuzzed_settings_text_never_raises():
    rng = np.random.default_rng(11)
    pieces = ["pen", "blur", "method", "kernel", "scales", "=", "&", "+", "%", "%2", "%FF", "%00", "1", "-", ".", "e",
              "9" * 30, "Occlusion", "é", "\ud800", ";", "==", "&&"]
    for _ in range(2000):
        text = "".join(rng.choice(pieces, size=int(rng.integers(0, 30))))
        values, messages = decode_settings(text, ALLOWED)
        assert set(values) <= set(ALLOWED) and all(isinstance(m, str) and "\n" not in m for m in messages)
        if values:
            assert decode_settings(encode_settings(values, ALLOWED), ALLOWED) == (values, [])
    for bad in (None, 5, b"pen=20"):
        assert decode_settings(bad, ALLOWED)[0] == {}
    assert decode_settings("x" * (MAX_SETTINGS_CHARS + 1), ALLOWED)[0] == {}


def test_a_setting_is_defined_with_what_it_needs():
    for bad in (dict(kind="text"), dict(kind="int"), dict(kind="float", low=2, high=1), dict(kind="choice"),
                dict(kind="numbers", low=0, high=1, most=0)):
        with pytest.raises(ValueError):
            Setting(**bad)
