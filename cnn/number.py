"""Reading a whole number: the digits on a wide canvas found, each prepared as MNIST's digits were, and read.

MNIST's networks read one digit, cropped, fitted into 20x20 and centred (cnn.preprocess). A number is read the way
readers of postcodes and cheques begin: cut it into digits first, then read each.

1. Pieces of ink: with the canvas's strokes, each stroke's ink (so digits written with separate strokes stay apart
   where they touch); without them, the 8-connected pieces of ink (pixels above cnn.preprocess.INK_THRESHOLD). At
   most MAX_PIECES, the largest.
2. Pieces of one digit put back together: two pieces whose columns overlap, along the pen's path, by at least OVERLAP
   of the narrower one's width belong to one digit (a 5's separate bar above its body, a 7's crossbar, a 4 drawn in
   two strokes, a broken loop). Specks (SPECK of the tallest piece's height across, or less) are set aside.
3. Touching digits cut by recognition: a piece too wide for one digit (WIDE times its height, or BROAD times the
   number's typical digit; from pixels alone, also a narrower piece read unsurely or looking like no digit) is tried
   cut along lines at the low points of its ink's profile, at each of SLANTS. Of the paths through those lines from
   its left edge to its right, the one whose parts the network reads surest wins (a dynamic programme over the
   parts' log-probabilities, less a cost for each part); a path with a part that looks like no digit is not taken.
4. Each digit is prepared as a drawing of one digit is, read with the page's reading (cnn.model.page_reading) and put
   through the not-a-digit check (cnn.atlas): a piece that looks like no digit the network knows is shown as "?",
   not forced into a digit.

    read_number(canvas) -> Number: .text ("4?7"), .digits (each one's box, image, probabilities, check)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from cnn.data import IMAGE_SIZE
from cnn.preprocess import INK_THRESHOLD, ink, ink_steps

NUMBER_HEIGHT = 200  # the number canvas's height, in pixels
NUMBER_WIDTH = 3 * NUMBER_HEIGHT  # its width: a number of up to MAX_DIGITS digits fits, each about as wide as tall
MAX_DIGITS = 8  # the most digits read in one number; ink beyond them is reported, not read
MAX_PIECES = 48  # the most pieces of ink looked at: six for each digit
OVERLAP = 0.5  # pieces whose columns overlap by this share of the narrower one's width are one digit
SPECK = 0.12  # a piece at most this share of the tallest piece's height, each way, is a speck
WIDE = 1.15  # a piece of ink this many times as wide as tall holds more than one digit
MAYBE_WIDE = 0.6  # a narrower piece is tried cut only when at least this wide and read unsurely
SURE = 0.9  # a reading below this probability is unsure
CUT_RANGE = (0.2, 0.8)  # where cuts are tried, as shares of the piece's width from its left
CUTS_TRIED = 4  # the lowest points of the ink's profile tried as cuts, at most, for each slant
SLANTS = (-0.3, 0.0, 0.3)  # the slopes of the lines cuts are tried along: columns per row down (0: upright)
UNLIKE_PENALTY = 0.1  # a part that looks like no digit counts as read this much less surely
WIDE_PENALTY = 2.0  # and a part wide enough to hold two digits, as e**-2 less surely
PART_COST = 0.1  # each part costs this much: a cut must earn its keep
BROAD = 1.3  # a piece this many times as wide as the number's typical digit may hold two
BROAD_PENALTY = 4.0  # a part broader than that costs this much times the square of the excess
TYPICAL_WIDTH = 0.6  # a digit's width as a share of its height, when no digit of the number says better
MAX_PART = 2.5  # no part tried is wider than this many times the piece's height
CRUMB = 20  # ink no stroke covers, in pieces of fewer pixels than this, is an anti-aliased edge, not a piece
MAX_PARTS = 4  # the most digits one piece of touching ink is cut into


@dataclass(frozen=True)
class Digit:
    """One digit of a number as the page reads it."""

    box: tuple[int, int, int, int]  # its ink's bounding box on the canvas: top, bottom, left, right (exclusive)
    image: np.ndarray  # (28, 28) float32 in [0, 1]: what the network sees
    probs: np.ndarray  # (10,) the page's reading
    unlike: bool | None  # looks like none of the digits the network knows (cnn.atlas); None: not checked
    touching: bool  # cut from ink it shared with a neighbouring digit
    ink: np.ndarray  # (bottom - top, right - left) float32 in [0, 1]: its ink within its box, the others' removed
    canvas_shape: tuple[int, int]  # (H, W) of the canvas it was read from

    @property
    def digit(self) -> int:
        return int(self.probs.argmax())

    @property
    def probability(self) -> float:
        return float(self.probs.max())

    @property
    def text(self) -> str:
        return "?" if self.unlike else str(self.digit)

    @cached_property
    def rgba(self) -> np.ndarray:
        """(H, W, 4) uint8: this digit alone on the canvas, as the canvas would send it (white ink on black)."""
        top, bottom, left, right = self.box
        rgba = np.zeros((*self.canvas_shape, 4), np.uint8)
        rgba[top:bottom, left:right, :3] = np.round(np.clip(self.ink, 0, 1) * 255).astype(np.uint8)[..., None]
        rgba[..., 3] = 255
        return rgba


@dataclass(frozen=True)
class Number:
    digits: tuple[Digit, ...]  # from left to right
    left_out: int = 0  # pieces of ink not read: specks, and digits beyond MAX_DIGITS

    @property
    def text(self) -> str:
        return "".join(d.text for d in self.digits)

    def least_sure(self) -> int | None:
        """The index of the digit the network is least sure of (None when there are none)."""
        if not self.digits:
            return None
        return min(range(len(self.digits)), key=lambda i: (not self.digits[i].unlike, self.digits[i].probability))


@dataclass
class _Piece:
    """Ink of one or more connected pieces: the canvas's labels it holds, its box, and the cuts that bound it."""

    labels: list[int]
    top: int
    bottom: int
    left: int
    right: int
    # cuts that bound it, when it was cut from a wider piece: (column at the canvas's middle row, columns per row
    # down, +1 keeps the ink right of the line or -1 the ink left of it)
    cuts: tuple[tuple[float, float, int], ...] = ()

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def touching(self) -> bool:
        return bool(self.cuts)

    def joined(self, other: "_Piece") -> "_Piece":
        return _Piece(self.labels + other.labels, min(self.top, other.top), max(self.bottom, other.bottom),
                      min(self.left, other.left), max(self.right, other.right))


def _stroke_labels(shape: tuple[int, int], strokes) -> np.ndarray:
    """(H, W) int32: the number of the stroke (from 1) drawn last over each pixel, 0 where none is: each stroke drawn
    as a line two pixels wider each side than its pen, round at its joints and ends."""
    from PIL import Image, ImageDraw

    sheet = Image.new("I", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(sheet)
    for number, (points, width) in enumerate(strokes, 1):
        pts = [(float(x), float(y)) for x, y in np.asarray(points, np.float64).reshape(-1, 2)]
        r = float(width) / 2 + 2
        if len(pts) > 1:
            draw.line(pts, fill=number, width=max(1, int(round(2 * r))), joint="curve")
        for x, y in (pts[0], pts[-1]) if pts else ():
            draw.ellipse((x - r, y - r, x + r, y + r), fill=number)
    return np.asarray(sheet, np.int32)


def _pieces(mask: np.ndarray, strokes=None) -> tuple[np.ndarray, list[_Piece]]:
    """The pieces of ink: the canvas's label of each pixel (0: no ink) and each piece, by its left. Without
    `strokes`, the 8-connected pieces; with them, each stroke's ink is a piece of its own, so that digits that touch
    but were drawn with separate strokes stay apart (and ink no stroke covers makes pieces by connection)."""
    from scipy import ndimage

    if strokes:
        drawn = np.where(mask, _stroke_labels(mask.shape, strokes), 0)
        # ink no stroke covers (a stroke the JSON does not describe) makes pieces by connection, less its crumbs
        rest, _ = ndimage.label(mask & (drawn == 0), structure=np.ones((3, 3), bool))
        sizes = np.bincount(rest.ravel())
        rest = np.where((rest > 0) & (sizes[rest] >= CRUMB), rest + len(strokes), 0)
        labels = np.where(drawn > 0, drawn, rest).astype(np.int32)
    else:
        labels, _ = ndimage.label(mask, structure=np.ones((3, 3), bool))
    pieces = [_Piece([i + 1], s[0].start, s[0].stop, s[1].start, s[1].stop)
              for i, s in enumerate(ndimage.find_objects(labels)) if s is not None]
    return labels, sorted(pieces, key=lambda p: p.left)


def _largest(pieces: list[_Piece]) -> tuple[list[_Piece], int]:
    """At most MAX_PIECES pieces, the largest boxes, by their left; and how many were left out. A canvas of
    thousands of dots costs no more to read than one of MAX_PIECES."""
    if len(pieces) <= MAX_PIECES:
        return pieces, 0
    kept = sorted(pieces, key=lambda p: -p.height * p.width)[:MAX_PIECES]
    return sorted(kept, key=lambda p: p.left), len(pieces) - MAX_PIECES


def pen_width(mask: np.ndarray) -> float:
    """The pen's width, estimated from the ink: the median length of the runs of ink along rows and down columns
    (a stroke across a row or a column is crossed in about a pen's width; along it, in more, but those runs are
    fewer)."""
    runs = []
    for m in (mask, mask.T):
        edges = np.diff(np.pad(m, ((0, 0), (1, 1))).astype(np.int8), axis=1)
        starts, stops = np.nonzero(edges == 1), np.nonzero(edges == -1)
        runs.append(stops[1] - starts[1])
    runs = np.concatenate(runs)
    return float(np.median(runs)) if runs.size else 1.0


def _overlap(a: _Piece, b: _Piece, pen: float) -> float:
    """How much of the narrower piece's columns the other's take too, measured along the pen's path: each box
    narrowed by half a pen each side (to its middle column where it is narrower than the pen), so that two digits
    whose strokes touch overlap little, while a 4's stem within its bar overlaps wholly."""
    def path(p: _Piece) -> tuple[float, float]:
        if p.width <= pen:
            return (p.left + p.right) / 2, (p.left + p.right) / 2
        return p.left + pen / 2, p.right - pen / 2

    (al, ar), (bl, br) = path(a), path(b)
    if ar - al > br - bl:
        (al, ar), (bl, br) = (bl, br), (al, ar)  # a: the narrower
    if ar - al < 1:  # a stroke straight up and down: its place within the other's columns, or not
        return float(bl - 1 <= al <= br + 1)
    return max(0.0, min(ar, br) - max(al, bl)) / (ar - al)


def _grouped(pieces: list[_Piece], pen: float) -> tuple[list[_Piece], int]:
    """Pieces of one digit put together, specks overlapping no digit set aside; and how many were set aside."""
    if not pieces:
        return [], 0
    tallest = max(p.height for p in pieces)
    groups: list[_Piece] = []
    for p in sorted(pieces, key=lambda p: -p.height * p.width):  # the large pieces first, the small join them
        best = max(groups, key=lambda g: _overlap(g, p, pen), default=None)
        if best is not None and _overlap(best, p, pen) >= OVERLAP:
            groups[groups.index(best)] = best.joined(p)
        else:
            groups.append(p)
    merged = True
    while merged:  # a join can widen a group until it overlaps another
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _overlap(groups[i], groups[j], pen) >= OVERLAP:
                    groups[i] = groups[i].joined(groups.pop(j))
                    merged = True
                    break
            if merged:
                break
    specks = [g for g in groups if max(g.height, g.width) <= SPECK * tallest]
    return sorted((g for g in groups if g not in specks), key=lambda g: g.left), len(specks)


class _Reader:
    """Reads pieces of the canvas's ink with the network, each prepared as a drawing of one digit is."""

    def __init__(self, amount: np.ndarray, labels: np.ndarray, model, atlas=None):
        self.amount, self.labels, self.model, self.atlas = amount, labels, model, atlas
        self.middle = amount.shape[0] / 2

    def mask(self, piece: _Piece) -> np.ndarray:
        """(height, width) bool over the piece's box: its ink, within its cuts."""
        window = np.isin(self.labels[piece.top : piece.bottom, piece.left : piece.right], piece.labels)
        if piece.cuts:
            rows = np.arange(piece.top, piece.bottom)[:, None] - self.middle
            cols = np.arange(piece.left, piece.right)[None, :]
            for at, slope, side in piece.cuts:
                window &= side * (cols - at - slope * rows) >= 0
        return window

    def part(self, piece: _Piece, cut: tuple[float, float, int]) -> _Piece | None:
        """The part of `piece` on one side of a cut, its box fitted to its ink; None if it holds none."""
        cut_piece = _Piece(piece.labels, piece.top, piece.bottom, piece.left, piece.right, piece.cuts + (cut,))
        window = self.mask(cut_piece)
        rows, cols = np.flatnonzero(window.any(1)), np.flatnonzero(window.any(0))
        if rows.size == 0:
            return None
        return _Piece(piece.labels, piece.top + int(rows[0]), piece.top + int(rows[-1]) + 1,
                      piece.left + int(cols[0]), piece.left + int(cols[-1]) + 1, cut_piece.cuts)

    def cuts(self, piece: _Piece) -> list[tuple[float, float]]:
        """Lines to try cutting `piece` along, (column at the middle row, slope): for each slope in SLANTS, the
        lowest points of the ink's profile across lines of that slope, within CUT_RANGE of its span; lowest first."""
        window = self.mask(piece)
        ys, xs = np.nonzero(window)
        if xs.size == 0:
            return []
        options = []
        for slope in SLANTS:
            at = xs + piece.left - slope * (ys + piece.top - self.middle)  # where each pixel's line crosses the middle
            low = np.floor(at.min())
            profile = np.bincount((at - low).astype(np.int64))
            span = len(profile)
            lo, hi = (int(round(s * span)) for s in CUT_RANGE)
            if hi - lo < 2:
                continue
            smooth = np.convolve(profile, np.ones(3) / 3, mode="same")[lo:hi]
            chosen: list[int] = []
            for i in np.argsort(smooth, kind="stable"):
                if all(abs(int(i) - c) >= max(2, span // 10) for c in chosen):
                    chosen.append(int(i))
                if len(chosen) == CUTS_TRIED:
                    break
            options += [(float(low + lo + c), slope) for c in chosen]
        return options

    def ink_of(self, piece: _Piece) -> np.ndarray:
        """The canvas's ink of this piece alone, within its box."""
        box = (slice(piece.top, piece.bottom), slice(piece.left, piece.right))
        return np.where(self.mask(piece), self.amount[box], 0).astype(np.float32)

    def prepare(self, inks: list[np.ndarray]) -> np.ndarray:
        """(N, 28, 28): each piece of ink prepared as a drawing of one digit is (blank where it holds none)."""
        images = []
        for amount in inks:
            steps = ink_steps(amount)
            images.append(np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32) if steps is None else steps.final)
        return np.stack(images) if images else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32)

    def probabilities(self, images: np.ndarray, quick: bool = False) -> np.ndarray:
        """(N, 10): the page's reading, or with `quick` one pass of each image as drawn."""
        import torch

        from cnn.model import as_batch, page_reading

        if not len(images):
            return np.zeros((0, 10), np.float32)
        if quick:
            with torch.inference_mode():
                return torch.softmax(self.model(as_batch(images)), 1).numpy()
        return page_reading(self.model, images)

    def read(self, pieces: list[_Piece], quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(N, 28, 28) images and (N, 10) probabilities of whole pieces."""
        images = self.prepare([self.ink_of(p) for p in pieces])
        return images, self.probabilities(images, quick)

    def unlike(self, images: np.ndarray) -> np.ndarray:
        """(N,) bool: the not-a-digit check of each image (all False without an atlas)."""
        return np.array([bool(f) for f in _unlike(self.model, self.atlas, images)], bool)


def _typical_width(groups: list[_Piece], probs: np.ndarray, flags: np.ndarray) -> float:
    """How wide one digit of this number is: the median width of the pieces read surely as one digit (a 1 counted
    as twice as wide, as it is the narrowest digit); without any, TYPICAL_WIDTH of the tallest piece's height."""
    widths = [g.width * (2 if p.argmax() == 1 else 1) for g, p, f in zip(groups, probs, flags)
              if p.max() >= SURE and not f and g.width < WIDE * g.height]
    if widths:
        return float(np.median(widths))
    return TYPICAL_WIDTH * max((g.height for g in groups), default=1)


def _segments(group: _Piece, reader: _Reader, room: int, typical: float) -> list[_Piece]:
    """`group` as the digits it holds, at most `room`: the path through its candidate cuts, from its left edge to its
    right, whose parts the network reads surest (segmentation by recognition, as readers of cheques do).

    Each part scores the log of its reading's probability, less log UNLIKE_PENALTY when it looks like no digit the
    network knows, less WIDE_PENALTY when it is wide enough to hold two digits, less PART_COST: a cut must earn its
    keep, so a digit that reads surely whole is not cut in two."""
    base = reader.mask(group)  # (h, w) the group's ink, over its box
    amount = reader.amount[group.top : group.bottom, group.left : group.right]
    rows = np.arange(group.top, group.bottom)[:, None] - reader.middle
    cols = np.arange(group.left, group.right)[None, :]
    middle = (group.top + group.bottom) / 2 - reader.middle
    lines = sorted(reader.cuts(group), key=lambda c: c[0] + c[1] * middle)
    right_of = [cols - at - slope * rows >= 0 for at, slope in lines]  # (h, w) each: the ink each line leaves right
    ends = np.array([group.top, group.bottom - 1]) - reader.middle
    n = len(lines) + 2  # nodes: the group's left edge, each line in turn, its right edge
    spans, masks = [], []
    for i in range(n - 1):
        for j in range(i + 1, n):
            if 0 < i and j < n - 1:
                (a, sa), (b, sb) = lines[i - 1], lines[j - 1]
                if np.any(a + sa * ends >= b + sb * ends):
                    continue  # the two lines cross within the group
            mask = base
            if i > 0:
                mask = mask & right_of[i - 1]
            if j < n - 1:
                mask = mask & ~right_of[j - 1]
            cols_in = np.flatnonzero(mask.any(0))
            rows_in = np.flatnonzero(mask.any(1))
            if cols_in.size == 0 or cols_in[-1] - cols_in[0] + 1 > MAX_PART * (rows_in[-1] - rows_in[0] + 1):
                continue
            spans.append((i, j, rows_in[-1] - rows_in[0] + 1, cols_in[-1] - cols_in[0] + 1, len(spans)))
            masks.append(mask)
    if not spans:
        return [group]
    images = reader.prepare([np.where(m, amount, 0) for m in masks])
    probs = reader.probabilities(images, quick=True)
    flags = reader.unlike(images)
    wide = np.array([w >= WIDE * h for _, _, h, w, _ in spans])
    broad = np.array([max(0.0, w / typical - BROAD) for _, _, _, w, _ in spans])
    score = (np.log(np.maximum(probs.max(1), 1e-9)) + np.where(flags, np.log(UNLIKE_PENALTY), 0.0)
             - np.where(wide, WIDE_PENALTY, 0.0) - BROAD_PENALTY * broad**2 - PART_COST)
    # best[k][j]: the best score reaching node j in k parts, and the span that ends there
    best = np.full((room + 1, n), -np.inf)
    came = np.full((room + 1, n), -1)
    best[0, 0] = 0.0
    for k in range(1, room + 1):
        for s, (i, j, _, _, _) in enumerate(spans):
            if best[k - 1, i] + score[s] > best[k, j]:
                best[k, j], came[k, j] = best[k - 1, i] + score[s], s
    k = int(np.argmax(best[1:, n - 1])) + 1
    if best[k, n - 1] == -np.inf:
        return [group]
    chosen, j = [], n - 1
    while k > 0:
        s = came[k, j]
        chosen.append(spans[s])
        j, k = spans[s][0], k - 1
    if len(chosen) == 1 or flags[[c[4] for c in chosen]].any():
        return [group]  # whole; or cut into parts of which one looks like no digit: not a number's digits either
    parts = []
    for i, j, _, _, _ in chosen[::-1]:
        part = group
        if i > 0:
            part = reader.part(part, (*lines[i - 1], 1))
        if j < n - 1 and part is not None:
            part = reader.part(part, (*lines[j - 1], -1))
        if part is not None:
            parts.append(part)
    return parts


def read_number(canvas: np.ndarray, model=None, atlas=None, strokes=None) -> Number:
    """The number written on `canvas`: an (H, W, 4) uint8 RGBA array as the number canvas sends it (or RGB, or
    grey), of any width. Without `model` and `atlas`, the shipped network and its atlas (cnn.atlas); with a model
    and no atlas, the not-a-digit check is not made (each digit's `unlike` is None). `strokes`, where known (the
    canvas's Fabric.js JSON holds them): each pen stroke's (K, 2) points (x, y) on the canvas and its width; digits
    that touch are then told apart by the strokes they were drawn with."""
    from cnn import atlas as atlas_module

    if model is None:
        if atlas is not None:
            raise ValueError("give the atlas's model too")
        model, atlas = atlas_module.shipped()
    amount = ink(canvas)
    mask = amount > INK_THRESHOLD
    labels, pieces = _pieces(mask, strokes)
    pieces, crowded = _largest(pieces)
    pen = float(np.median([w for _, w in strokes])) if strokes else pen_width(mask)
    groups, specks = _grouped(pieces, pen)
    specks += crowded
    reader = _Reader(amount, labels, model, atlas)
    images, probs = reader.read(groups)
    flags = _unlike(model, atlas, images)  # None each without an atlas: not checked
    typical = _typical_width(groups, probs, np.array([bool(f) for f in flags]))
    read: list[tuple[_Piece, np.ndarray, np.ndarray, bool | None]] = []  # each digit, its image, reading, check
    cut: list[_Piece] = []  # digits cut from touching ink, read below
    for group, image, p, flag in zip(groups, images, probs, flags):
        # with the strokes known, digits that touch are apart already: only a piece too wide for one digit (a
        # stroke running on into the next digit) is cut; from the pixels alone, a piece read unsurely is tried too
        wide = group.width >= WIDE * group.height
        if strokes:  # a single stroke holds two digits only when it is too wide for one (written joined up)
            maybe_more = wide or (len(group.labels) > 1 and group.width >= BROAD * typical)
        else:
            maybe_more = wide or group.width >= BROAD * typical or (
                group.width >= MAYBE_WIDE * group.height and (p.max() < SURE or bool(flag)))
        room = MAX_DIGITS - len(read) - len(cut)
        parts = _segments(group, reader, min(room, MAX_PARTS), typical) if maybe_more and room >= 2 else [group]
        if parts == [group]:
            read.append((group, image, p, flag))
        else:
            cut += parts
    if cut:
        images, probs = reader.read(cut)
        read += list(zip(cut, images, probs, _unlike(model, atlas, images)))
    read.sort(key=lambda r: r[0].left)
    return Number(
        tuple(Digit((d.top, d.bottom, d.left, d.right), image, p, None if f is None else bool(f), d.touching,
                    reader.ink_of(d), amount.shape)
              for d, image, p, f in read[:MAX_DIGITS]),
        specks + max(0, len(read) - MAX_DIGITS),
    )


def _unlike(model, atlas, images: np.ndarray) -> list[bool | None]:
    """The not-a-digit check of each image, or None for each when there is no atlas."""
    if atlas is None or len(images) == 0:
        return [None] * len(images)
    from cnn import atlas as atlas_module

    return list(atlas_module.not_a_digit(images, model, atlas))
