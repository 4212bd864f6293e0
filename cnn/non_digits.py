"""Drawings that are not digits (letters, symbols, scribbles, near-blank canvases), for measuring a not-a-digit
detector."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from cnn.data import IMAGE_SIZE
from cnn.preprocess import canvas_to_mnist
from cnn.strokes import drawn_by_hand, random_scribble, render

# Letters that no digit resembles: O, I, l, S, Z, B, G, q, g, b... are left out because people write digits like them.
LETTERS = "AEFHKMNRWX" + "aefhkmnrwx"

# Each letter as pen strokes in a unit box (y downwards), a new stroke where people lift the pen. Capitals fill the
# box; lowercase letters sit between the x-height (0.45) and the baseline (0.92), ascenders reaching the top.
LETTER_STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "A": [[(0.15, 0.92), (0.5, 0.08)], [(0.5, 0.08), (0.85, 0.92)], [(0.3, 0.6), (0.7, 0.6)]],
    "E": [[(0.25, 0.08), (0.25, 0.92)], [(0.25, 0.08), (0.78, 0.08)], [(0.25, 0.5), (0.68, 0.5)],
          [(0.25, 0.92), (0.78, 0.92)]],
    "F": [[(0.25, 0.08), (0.25, 0.92)], [(0.25, 0.08), (0.78, 0.08)], [(0.25, 0.5), (0.68, 0.5)]],
    "H": [[(0.22, 0.08), (0.22, 0.92)], [(0.78, 0.08), (0.78, 0.92)], [(0.22, 0.5), (0.78, 0.5)]],
    "K": [[(0.25, 0.08), (0.25, 0.92)], [(0.78, 0.08), (0.25, 0.56), (0.8, 0.92)]],
    "M": [[(0.12, 0.92), (0.17, 0.08), (0.5, 0.62), (0.83, 0.08), (0.88, 0.92)]],
    "N": [[(0.22, 0.92), (0.22, 0.08), (0.78, 0.92), (0.78, 0.08)]],
    "R": [[(0.25, 0.92), (0.25, 0.08)],
          [(0.25, 0.08), (0.55, 0.08), (0.72, 0.17), (0.74, 0.33), (0.6, 0.47), (0.25, 0.5), (0.78, 0.92)]],
    "W": [[(0.08, 0.08), (0.28, 0.92), (0.5, 0.35), (0.72, 0.92), (0.92, 0.08)]],
    "X": [[(0.2, 0.08), (0.8, 0.92)], [(0.8, 0.08), (0.2, 0.92)]],
    "a": [[(0.7, 0.56), (0.55, 0.46), (0.38, 0.48), (0.27, 0.62), (0.28, 0.8), (0.42, 0.92), (0.6, 0.88), (0.7, 0.72),
           (0.7, 0.46), (0.7, 0.85), (0.78, 0.93)]],
    "e": [[(0.28, 0.68), (0.72, 0.68), (0.7, 0.55), (0.55, 0.46), (0.38, 0.48), (0.27, 0.62), (0.28, 0.8), (0.42, 0.92),
           (0.6, 0.92), (0.73, 0.84)]],
    "f": [[(0.72, 0.14), (0.6, 0.07), (0.48, 0.1), (0.42, 0.22), (0.42, 0.92)], [(0.25, 0.45), (0.65, 0.45)]],
    "h": [[(0.28, 0.08), (0.28, 0.92), (0.28, 0.62), (0.4, 0.49), (0.55, 0.45), (0.68, 0.5), (0.72, 0.62),
           (0.72, 0.92)]],
    "k": [[(0.28, 0.08), (0.28, 0.92)], [(0.7, 0.45), (0.28, 0.72), (0.74, 0.92)]],
    "m": [[(0.14, 0.45), (0.14, 0.92), (0.14, 0.58), (0.24, 0.47), (0.35, 0.46), (0.45, 0.55), (0.47, 0.92),
           (0.47, 0.58), (0.57, 0.47), (0.7, 0.46), (0.8, 0.55), (0.83, 0.92)]],
    "n": [[(0.28, 0.45), (0.28, 0.92), (0.28, 0.6), (0.42, 0.47), (0.58, 0.45), (0.7, 0.52), (0.72, 0.65),
           (0.72, 0.92)]],
    "r": [[(0.35, 0.45), (0.35, 0.92), (0.35, 0.62), (0.45, 0.5), (0.58, 0.45), (0.7, 0.48)]],
    "w": [[(0.12, 0.45), (0.3, 0.92), (0.5, 0.55), (0.7, 0.92), (0.88, 0.45)]],
    "x": [[(0.25, 0.45), (0.75, 0.92)], [(0.75, 0.45), (0.25, 0.92)]],
}


def _arc(cx, cy, rx, ry, start, stop, n):
    """Points on an ellipse from angle `start` to `stop` (radians; y downwards, so positive angles turn clockwise)."""
    return [(float(cx + rx * np.cos(a)), float(cy + ry * np.sin(a))) for a in np.linspace(start, stop, n)]


def _star():
    tips = [(0.5 + 0.45 * np.cos(a), 0.53 + 0.45 * np.sin(a)) for a in -np.pi / 2 + np.arange(5) * 2 * np.pi / 5]
    return [[(float(x), float(y)) for x, y in (tips[k % 5] for k in (0, 2, 4, 1, 3, 0))]]


def _heart():
    """Two halves from the dip at the top to the point at the bottom, as people draw one (the classic heart curve)."""
    def half(sign):
        t = np.linspace(0, np.pi, 17)
        x = sign * 16 * np.sin(t) ** 3
        y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)  # y upwards, -17 to about 12
        return [(float(0.5 + u / 36), float(0.5 - (v + 2.5) / 36)) for u, v in zip(x, y)]
    return [half(-1), half(1)]


def _spiral(turns=2.5, per_turn=14):
    a = np.linspace(0, turns * 2 * np.pi, int(turns * per_turn) + 1)
    r = 0.45 * a / a[-1]
    return [[(float(0.5 + ri * np.cos(ai)), float(0.5 + ri * np.sin(ai))) for ri, ai in zip(r, a)]]


# Symbols as pen strokes in a unit box, like LETTER_STROKES.
SYMBOLS: dict[str, list[list[tuple[float, float]]]] = {
    "plus": [[(0.5, 0.12), (0.5, 0.88)], [(0.12, 0.5), (0.88, 0.5)]],
    "times": [[(0.2, 0.2), (0.8, 0.8)], [(0.8, 0.2), (0.2, 0.8)]],
    "equals": [[(0.12, 0.36), (0.88, 0.36)], [(0.12, 0.64), (0.88, 0.64)]],
    "hash": [[(0.42, 0.1), (0.32, 0.9)], [(0.7, 0.1), (0.6, 0.9)], [(0.12, 0.35), (0.9, 0.35)],
             [(0.1, 0.65), (0.88, 0.65)]],
    "arrow right": [[(0.08, 0.5), (0.92, 0.5)], [(0.66, 0.26), (0.92, 0.5), (0.66, 0.74)]],
    "arrow up": [[(0.5, 0.92), (0.5, 0.08)], [(0.26, 0.34), (0.5, 0.08), (0.74, 0.34)]],
    "star": _star(),
    "smiley face": [_arc(0.5, 0.5, 0.42, 0.42, 0, 2 * np.pi, 33), [(0.36, 0.33), (0.36, 0.4)],
                    [(0.64, 0.33), (0.64, 0.4)], _arc(0.5, 0.55, 0.24, 0.2, 0.15 * np.pi, 0.85 * np.pi, 9)],
    "house": [[(0.2, 0.45), (0.2, 0.92), (0.8, 0.92), (0.8, 0.45), (0.2, 0.45)],
              [(0.2, 0.45), (0.5, 0.08), (0.8, 0.45)]],
    "heart": _heart(),
    "spiral": _spiral(),
    "check mark": [[(0.12, 0.55), (0.38, 0.86), (0.9, 0.12)]],
    "triangle": [[(0.5, 0.1), (0.9, 0.88), (0.1, 0.88), (0.5, 0.1)]],
    "square": [[(0.15, 0.15), (0.85, 0.15), (0.85, 0.85), (0.15, 0.85), (0.15, 0.15)]],
    "asterisk": [[(0.5, 0.1), (0.5, 0.9)], [(0.15, 0.3), (0.85, 0.7)], [(0.85, 0.3), (0.15, 0.7)]],
}

SET_NAMES = ("handwritten letters", "printed letters", "symbols", "scribbles", "blank-ish")

FONT_DIR = Path("/usr/share/fonts")  # where printed_letter looks for DejaVu and Liberation fonts
EXTENT = (0.35, 0.85)  # how much of the canvas a drawn or printed letter spans, as for cnn.strokes.jittered_digit


def _by_hand(strokes, rng: np.random.Generator, size: int) -> np.ndarray:
    angle, shear = rng.uniform(-0.2, 0.2), rng.uniform(-0.25, 0.25)
    stretch = rng.uniform(0.8, 1.2)
    extent = rng.uniform(*EXTENT) * size
    return drawn_by_hand(strokes, rng, size, angle, shear, stretch, extent, pen=(0.05, 0.14))


def handwritten_letter(letter: str, rng: np.random.Generator, size: int = 280) -> np.ndarray:
    """A letter from LETTER_STROKES as a hand might draw it, the way cnn.strokes.jittered_digit draws digits."""
    return _by_hand(LETTER_STROKES[letter], rng, size)


def handwritten_symbol(name: str, rng: np.random.Generator, size: int = 280) -> np.ndarray:
    """A symbol from SYMBOLS as a hand might draw it."""
    return _by_hand(SYMBOLS[name], rng, size)


@functools.cache
def font_files(root: Path) -> tuple[Path, ...]:
    """The regular and bold DejaVu and Liberation TrueType fonts under `root` (none where fonts are not installed)."""
    if not root.is_dir():
        return ()
    skip = ("italic", "oblique", "light", "math")
    return tuple(
        p for p in sorted(root.rglob("*.ttf"))
        if p.name.startswith(("DejaVu", "Liberation")) and not any(s in p.name.lower() for s in skip)
    )


def printed_letter(letter: str, rng: np.random.Generator, size: int = 280) -> np.ndarray:
    """`letter` typed in a random installed font (PIL's own where none is found), white on black, spanning 0.35 to
    0.85 of the canvas at a random place: an RGBA uint8 canvas."""
    from PIL import Image, ImageDraw, ImageFont

    extent = int(round(rng.uniform(*EXTENT) * size))
    fonts = font_files(FONT_DIR)
    if fonts:
        font = ImageFont.truetype(str(fonts[int(rng.integers(len(fonts)))]), size=extent)
    else:
        font = ImageFont.load_default(size=extent)  # a bitmap font's fixed size is made up for by the resize below
    # drawn on a generous sheet, then cut to the glyph's ink and scaled so that its longer side is `extent`
    sheet = Image.new("L", (3 * extent + 20, 3 * extent + 20))
    ImageDraw.Draw(sheet).text((extent, extent), letter, fill=255, font=font)
    glyph = np.asarray(sheet)
    rows, cols = np.flatnonzero(glyph.any(1)), np.flatnonzero(glyph.any(0))
    glyph = Image.fromarray(glyph[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    scale = extent / max(glyph.size)
    glyph = glyph.resize((max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))), Image.LANCZOS)
    ink = np.asarray(glyph)  # (h, w) uint8
    top = int(rng.integers(0, size - ink.shape[0] + 1))
    left = int(rng.integers(0, size - ink.shape[1] + 1))
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[top : top + ink.shape[0], left : left + ink.shape[1], :3] = ink[..., None]
    rgba[..., 3] = 255
    return rgba


def blankish(rng: np.random.Generator, size: int = 280) -> np.ndarray:
    """A canvas with almost nothing on it, as people leave by accident: one small dot, or a short tick (a few pixels
    to about 15 across)."""
    pen = rng.uniform(2, 5)
    start = rng.uniform(0.05, 0.95, size=2) * size
    if rng.random() < 0.5:
        stroke = start[None]  # (1, 2) a dot
    else:
        length, angle = rng.uniform(3, 15 - pen), rng.uniform(0, 2 * np.pi)
        stroke = np.stack([start, start + length * np.array([np.cos(angle), np.sin(angle)])])  # (2, 2)
    return render([stroke], size, size, pen)


_SYMBOL_NAMES = tuple(SYMBOLS)
# Each set's i-th canvas: letters and symbols taken in turn, so that each appears about equally often.
_MAKERS = {
    "handwritten letters": lambda i, rng, size: handwritten_letter(LETTERS[i % len(LETTERS)], rng, size),
    "printed letters": lambda i, rng, size: printed_letter(LETTERS[i % len(LETTERS)], rng, size),
    "symbols": lambda i, rng, size: handwritten_symbol(_SYMBOL_NAMES[i % len(_SYMBOL_NAMES)], rng, size),
    "scribbles": lambda i, rng, size: random_scribble(rng, size),
    "blank-ish": lambda i, rng, size: blankish(rng, size),
}


def non_digit_sets(n: int, seed: int, size: int = 280) -> dict[str, np.ndarray]:
    """`n` drawings of each kind in SET_NAMES, as the network would see them: float32 (N, 28, 28) images in [0, 1]
    (N is n less any canvas that came out empty). Each set has a random stream of its own, so the same seed gives the
    same sets whatever else is asked for."""
    streams = np.random.SeedSequence(seed).spawn(len(SET_NAMES))
    sets = {}
    for name, stream in zip(SET_NAMES, streams):
        rng = np.random.default_rng(stream)
        images = [canvas_to_mnist(_MAKERS[name](i, rng, size)) for i in range(n)]
        images = [im for im in images if im is not None]
        empty = np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32)
        sets[name] = np.stack(images).astype(np.float32) if images else empty
    return sets
