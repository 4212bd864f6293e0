"""Pen strokes drawn as the canvas would draw them: digit templates and a rasteriser, for tests and benchmarks."""

from __future__ import annotations

import numpy as np

# Each digit as pen strokes, each stroke a list of (x, y) points in a unit box (y downwards), written as a person
# would write them.
_t = np.linspace(0, 2 * np.pi, 33)
DIGIT_STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [[(0.5 + 0.3 * np.sin(a), 0.5 - 0.42 * np.cos(a)) for a in _t]],
    1: [[(0.38, 0.22), (0.55, 0.08), (0.55, 0.92)]],
    2: [[(0.2, 0.3), (0.3, 0.12), (0.5, 0.06), (0.7, 0.12), (0.78, 0.3), (0.7, 0.48), (0.45, 0.68), (0.2, 0.9),
         (0.82, 0.9)]],
    3: [[(0.22, 0.15), (0.45, 0.06), (0.7, 0.12), (0.75, 0.28), (0.62, 0.42), (0.42, 0.47), (0.65, 0.52),
         (0.78, 0.68), (0.72, 0.86), (0.48, 0.94), (0.2, 0.86)]],
    4: [[(0.62, 0.92), (0.62, 0.06), (0.18, 0.64), (0.85, 0.64)]],
    5: [[(0.78, 0.08), (0.3, 0.08), (0.25, 0.45), (0.5, 0.4), (0.72, 0.5), (0.78, 0.7), (0.68, 0.88), (0.45, 0.94),
         (0.2, 0.85)]],
    6: [[(0.7, 0.08), (0.45, 0.25), (0.28, 0.5), (0.25, 0.75), (0.38, 0.92), (0.6, 0.92), (0.72, 0.75), (0.65, 0.57),
         (0.45, 0.52), (0.28, 0.65)]],
    7: [[(0.18, 0.1), (0.82, 0.1), (0.5, 0.55), (0.38, 0.92)]],
    8: [[(0.68, 0.2), (0.5, 0.07), (0.3, 0.18), (0.35, 0.38), (0.65, 0.58), (0.7, 0.8), (0.5, 0.94), (0.3, 0.8),
         (0.35, 0.58), (0.65, 0.38), (0.7, 0.2)]],
    9: [[(0.72, 0.3), (0.6, 0.1), (0.38, 0.1), (0.28, 0.3), (0.4, 0.48), (0.62, 0.45), (0.72, 0.3), (0.7, 0.6),
         (0.62, 0.92)]],
}


def to_canvas_points(stroke, size: int, margin: float = 0.15, offset=(0.0, 0.0), scale: float = 1.0) -> np.ndarray:
    """A unit-box stroke in canvas pixels: scaled into the canvas less a margin, then moved by `offset` (pixels)."""
    span = size * (1 - 2 * margin) * scale
    pts = np.asarray(stroke, dtype=np.float64)
    return pts * span + size * margin + np.asarray(offset, dtype=np.float64)


def _densify(points: np.ndarray, step: float = 1.0) -> np.ndarray:
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:]):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out.append(a + (b - a) * (np.arange(1, n + 1) / n)[:, None])
    return np.concatenate(out)


def render(strokes_px: list[np.ndarray], height: int, width: int, pen: float) -> np.ndarray:
    """White round-capped strokes of diameter `pen` on black, anti-aliased: an (H, W, 4) uint8 RGBA canvas."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    dist = np.full((height, width), np.inf, np.float32)
    for stroke in strokes_px:
        for x, y in _densify(np.asarray(stroke, dtype=np.float64), step=max(pen / 4, 0.5)):
            r = pen / 2 + 1
            y0, y1 = max(int(y - r), 0), min(int(y + r) + 1, height)
            x0, x1 = max(int(x - r), 0), min(int(x + r) + 1, width)
            if y0 >= y1 or x0 >= x1:
                continue
            d = np.hypot(xx[y0:y1, x0:x1] - x, yy[y0:y1, x0:x1] - y)
            np.minimum(dist[y0:y1, x0:x1], d, out=dist[y0:y1, x0:x1])
    coverage = np.clip(pen / 2 + 0.5 - dist, 0, 1)  # one pixel of anti-aliased edge
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[..., :3] = np.round(coverage * 255).astype(np.uint8)[..., None]
    rgba[..., 3] = 255
    return rgba


def draw_digit(digit: int, size: int = 280, pen: float = 20, margin: float = 0.15, offset=(0.0, 0.0), scale=1.0):
    """The canvas a person drawing `digit` from its template would send."""
    strokes = [to_canvas_points(s, size, margin, offset, scale) for s in DIGIT_STROKES[digit]]
    return render(strokes, size, size, pen)


def jittered_digit(digit: int, rng: np.random.Generator, size: int = 280, tilt: float = 0.0) -> np.ndarray:
    """A template digit as a different hand might draw it: wobbly points, slant, stretch, size, place and pen.
    `tilt` (radians, clockwise as seen) turns every digit of this hand the same way, as a writer with a turned page."""
    angle, shear = tilt + rng.uniform(-0.2, 0.2), rng.uniform(-0.25, 0.25)
    stretch = rng.uniform(0.8, 1.2)
    extent = rng.uniform(0.35, 0.85) * size  # how much of the canvas the digit spans
    return drawn_by_hand(DIGIT_STROKES[digit], rng, size, angle, shear, stretch, extent, pen=(0.05, 0.14))


def drawn_by_hand(
    strokes, rng, size: int, angle: float, shear: float, stretch: float, extent: float, pen
) -> np.ndarray:
    """Unit-box strokes turned, sheared and stretched, `extent` pixels across at a random place, with wobbly points
    and a pen of a random share `pen` (low, high) of the extent; drawn on a size x size canvas."""
    m = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.array([[stretch, shear], [0, 1]])
    centre = rng.uniform(0.5 * extent, size - 0.5 * extent, size=2)
    drawn = []
    for stroke in strokes:
        pts = np.asarray(stroke) + rng.normal(0, 0.02, size=(len(stroke), 2)) - 0.5
        drawn.append(pts @ m.T * extent + centre)
    return render(drawn, size, size, rng.uniform(*pen) * extent)


# A 1 as many people write it: a long flag from low on the left, and sometimes a base.
FLAGGED_ONE = [[(0.22, 0.38), (0.55, 0.06), (0.55, 0.94)]]
ONE_BASE = [(0.3, 0.94), (0.8, 0.94)]
# A 7 written quickly: a short level bar, so that it is a flagged 1's near neighbour; its left end is drawn at random.
SHORT_SEVEN = [[(0.78, 0.1), (0.42, 0.92)]]
SHORT_BAR = (0.38, 0.55)  # where the bar's left end lies: the bar spans 0.23 to 0.4 of the box
HARD_KINDS = ("thick and small", "flagged 1", "short-barred 7", "strongly slanted")
ONLY_DIGIT = {"flagged 1": 1, "short-barred 7": 7}  # the kinds that are one digit's


def hard_digit(digit: int, rng: np.random.Generator, kind: str, size: int = 280) -> np.ndarray:
    """A template digit in one of the kinds of writing MNIST-trained networks misread most:
    - "thick and small": a fifth to a third of the canvas, with a pen 0.28 to 0.4 as wide as the digit (bold, still
      plain to a person), so loops nearly close once the digit is fitted into 20x20;
    - "flagged 1": (digit 1 only) a long flag, half the time a base, turned up to 20 degrees either way;
    - "short-barred 7": (digit 7 only) a level bar a quarter to two fifths as wide as the box, turned up to 20
      degrees either way: the 7 that a flag on the 1s could make a network read as 1;
    - "strongly slanted": sheared by 0.35 to 0.55 and turned 10 to 20 degrees, either way."""
    sign = lambda: rng.choice([-1.0, 1.0])  # noqa: E731
    strokes = DIGIT_STROKES[digit]
    if kind in ONLY_DIGIT and digit != ONLY_DIGIT[kind]:
        raise ValueError(f"a {kind} is a {ONLY_DIGIT[kind]}")
    if kind == "thick and small":
        angle, shear, stretch = rng.uniform(-0.2, 0.2), rng.uniform(-0.25, 0.25), rng.uniform(0.8, 1.2)
        extent, pen = rng.uniform(0.2, 0.35) * size, (0.28, 0.4)
    elif kind == "flagged 1":
        strokes = FLAGGED_ONE + ([ONE_BASE] if rng.random() < 0.5 else [])
        angle, shear, stretch = rng.uniform(-0.35, 0.35), rng.uniform(-0.25, 0.25), rng.uniform(0.8, 1.2)
        extent, pen = rng.uniform(0.35, 0.85) * size, (0.05, 0.14)
    elif kind == "short-barred 7":
        strokes = [[(rng.uniform(*SHORT_BAR), 0.1)] + SHORT_SEVEN[0]]
        angle, shear, stretch = rng.uniform(-0.35, 0.35), rng.uniform(-0.25, 0.25), rng.uniform(0.8, 1.2)
        extent, pen = rng.uniform(0.35, 0.85) * size, (0.05, 0.14)
    elif kind == "strongly slanted":
        angle, shear = sign() * rng.uniform(0.17, 0.35), sign() * rng.uniform(0.35, 0.55)
        stretch, extent, pen = rng.uniform(0.8, 1.2), rng.uniform(0.35, 0.85) * size, (0.05, 0.14)
    else:
        raise ValueError(f"unknown kind of writing {kind!r}: one of {', '.join(HARD_KINDS)}")
    return drawn_by_hand(strokes, rng, size, angle, shear, stretch, extent, pen)


def random_scribble(rng: np.random.Generator, size: int = 280) -> np.ndarray:
    """Something that is not a digit: one to three strokes through random points."""
    strokes = [rng.uniform(0.1, 0.9, size=(int(rng.integers(3, 9)), 2)) * size for _ in range(int(rng.integers(1, 4)))]
    return render(strokes, size, size, rng.uniform(10, 30))


def image_on_canvas(ink: np.ndarray, rng: np.random.Generator, size: int = 280) -> np.ndarray:
    """A small grey image of ink in [0, 1] (like scikit-learn's 8x8 digits), enlarged and placed on a canvas."""
    from cnn.preprocess import resize

    side = int(rng.uniform(0.4, 0.9) * size)
    big = np.clip(resize(ink.astype(np.float32), side, side), 0, 1)
    top, left = (int(v) for v in rng.integers(0, size - side + 1, size=2))
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[top : top + side, left : left + side, :3] = np.round(big * 255).astype(np.uint8)[..., None]
    rgba[..., 3] = 255
    return rgba


def bold_on_canvas(
    ink: np.ndarray, rng: np.random.Generator, size: int = 280, extent=(0.2, 0.35), pen=(0.28, 0.4)
) -> np.ndarray:
    """A handwritten grey digit (one of MNIST's: ink in [0, 1]) written again small and in a bold pen, as its writer
    would with a marker: enlarged so that its ink's longest side is a random share `extent` (low, high) of the
    canvas, its strokes widened to a random share `pen` of that side, and placed at random on a size x size canvas.

    The strokes' width before is taken as twice the ink's area over its outline (a stroke w wide and L long has an
    area of wL and an outline of about 2L); each side grows by half of what is missing, with one pixel of
    anti-aliased edge, as render draws a pen.
    """
    from scipy import ndimage

    from cnn.preprocess import bounding_box, resize

    found = bounding_box(ink, threshold=0.3)
    if found is None:
        raise ValueError("the image holds no ink to write again")
    top, bottom, left, right = found
    crop = np.asarray(ink, np.float32)[top:bottom, left:right]
    side = rng.uniform(*extent) * size
    scale = side / max(crop.shape)
    big = np.clip(resize(crop, max(round(crop.shape[0] * scale), 1), max(round(crop.shape[1] * scale), 1)), 0, 1)
    strokes = big > 0.5
    outline = strokes & ~ndimage.binary_erosion(strokes)
    width = 2 * strokes.sum() / max(outline.sum(), 1)
    grow = max(rng.uniform(*pen) * side - width, 0) / 2
    margin = int(np.ceil(grow)) + 2
    away = ndimage.distance_transform_edt(~np.pad(strokes, margin))  # 0 on the strokes, else the distance to them
    bold = np.maximum(np.clip(grow + 0.5 - away, 0, 1), np.pad(big, margin))
    h, w = bold.shape
    if h > size or w > size:
        raise ValueError(f"a digit {max(h, w)} pixels wide does not fit a {size}x{size} canvas")
    top, left = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[top : top + h, left : left + w, :3] = np.round(bold * 255).astype(np.uint8)[..., None]
    rgba[..., 3] = 255
    return rgba


# Digits as some people write them, in pieces that do not touch: a 5's bar lifted off its body, a 7 with a crossbar,
# a 4 in two strokes that do not meet, a 0 whose loop is not closed.
DIGIT_PIECES: dict[int, list[list[tuple[float, float]]]] = {
    5: [[(0.3, 0.14), (0.25, 0.45), (0.5, 0.4), (0.72, 0.5), (0.78, 0.7), (0.68, 0.88), (0.45, 0.94), (0.2, 0.85)],
        [(0.4, 0.04), (0.82, 0.02)]],
    7: [[(0.18, 0.1), (0.82, 0.1), (0.5, 0.55), (0.38, 0.92)], [(0.4, 0.5), (0.68, 0.5)]],
    4: [[(0.5, 0.06), (0.18, 0.64), (0.85, 0.64)], [(0.7, 0.3), (0.7, 0.52)], [(0.66, 0.75), (0.64, 0.95)]],
    0: [[(0.5 + 0.3 * np.sin(a), 0.5 - 0.42 * np.cos(a)) for a in np.linspace(0.5, 2 * np.pi - 0.3, 30)]],
}


def written_number(
    digits, rng: np.random.Generator, height: int = 200, width: int = 600, touching: bool = False,
    pieces: float = 0.0,
) -> tuple[np.ndarray, list[bool], list[tuple[np.ndarray, float]]]:
    """A number as one hand writes it on a height x width canvas; for each two neighbouring digits, whether their ink
    touches; and the pen's strokes, each its (K, 2) points (x, y) on the canvas and its width, as the canvas's
    Fabric.js JSON holds them.

    One slant and turn for the whole hand, with small changes from digit to digit; digits of one height (a half to
    four fifths of the canvas's, less where the number would not fit), each stretched at random; one pen, 6% to 12%
    of the digits' height. Without `touching`, the gaps between digits are wider than the pen, so no two touch; with
    it, half the pairs of neighbours (one at least) are moved together until their strokes' boxes overlap by up to 15%
    of the narrower digit's width (their ink by a pen's width more), so that most of those pairs touch. `pieces`: the chance that a digit DIGIT_PIECES has is written in its pieces.
    """
    slant, turn = rng.uniform(-0.25, 0.25), rng.uniform(-0.1, 0.1)
    shapes = []  # each digit's strokes, centred, for a height of 1
    for d in digits:
        strokes = DIGIT_PIECES[d] if d in DIGIT_PIECES and rng.random() < pieces else DIGIT_STROKES[d]
        angle, shear = turn + rng.normal(0, 0.04), slant + rng.normal(0, 0.05)
        m = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.array([[rng.uniform(0.8, 1.2), shear], [0, 1]])
        shapes.append([(np.asarray(s) + rng.normal(0, 0.015, size=(len(s), 2)) - 0.5) @ m.T for s in strokes])
    n = len(shapes)
    widths = np.array([np.ptp(np.concatenate(s)[:, 0]) for s in shapes])
    close = np.zeros(max(n - 1, 0), bool)
    if touching and n > 1:
        close = rng.random(n - 1) < 0.5
        close[rng.integers(n - 1)] = True
    size = rng.uniform(0.5, 0.8) * height
    pen_share = rng.uniform(0.06, 0.12)
    narrower = np.minimum(widths[:-1], widths[1:])
    gaps = np.where(close, -rng.uniform(0.0, 0.15, n - 1) * narrower, rng.uniform(0.1, 0.35, n - 1) + pen_share)
    room = width - 0.06 * width  # a margin of 3% each side
    size = min(size, room / (widths.sum() + gaps.sum() + pen_share))
    pen = float(np.clip(pen_share * size, 2, 40))
    x = (width - size * (widths.sum() + gaps.sum())) / 2
    drawn = []
    for i, s in enumerate(shapes):
        pts = np.concatenate(s)
        dx = x - pts[:, 0].min() * size
        dy = height / 2 - (pts[:, 1].min() + pts[:, 1].max()) / 2 * size + rng.normal(0, 0.03) * size
        drawn.append([p * size + (dx, dy) for p in s])
        x += widths[i] * size + (gaps[i] * size if i < n - 1 else 0)
    strokes = [p for d in drawn for p in d]
    canvas = render(strokes, height, width, pen)
    masks = [render(d, height, width, pen)[..., 0] > 25 for d in drawn]
    touches = [bool((a & b).any()) for a, b in zip(masks, masks[1:])]
    return canvas, touches, [(np.asarray(p), pen) for p in strokes]
