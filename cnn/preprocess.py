"""From a canvas drawing to the 28x28 image the network sees, prepared the way MNIST's own digits were. Pure numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn.data import IMAGE_SIZE

BOX = 20  # MNIST fitted each digit into a BOX x BOX square, keeping its aspect ratio
# Where the centre of mass goes, in pixel-index coordinates (row, column). MNIST's own digits have theirs at (14.0,
# 14.0) on average, not at the frame's middle (13.5): measured over the 60,000 training digits, (13.996, 14.007);
# tests/test_preprocess.py measures it again. A drawing centred where MNIST's digits are looks like them to the network.
CENTRE = (14.0, 14.0)
INK_THRESHOLD = 0.1  # a pixel with less ink than this (0..1) is background for the bounding box
MAX_SIDE = 8192  # larger canvases are refused rather than ground through
LUMA = np.array([0.299, 0.587, 0.114], np.float32) / 255.0  # RGB 0..255 -> luminance 0..1 (ITU-R BT.601)
# A drawing is too small to read as a digit when the longest side of its ink is below either of these: a tenth of
# the canvas's side, or two pen widths (a dot is one pen width across).
MIN_EXTENT = 0.1
MIN_PEN_WIDTHS = 2
# A pen at least this share of the drawing's longest side is bold for the digit's size: fitted into 20x20, its
# strokes are 5 or more pixels wide (MNIST's are about 2 to 3) and loops begin to close. Chosen where the shipped
# network's accuracy on the project's drawn digits begins to fall (bench/drawn_digits.py --by-pen: 99.5% of 200 at a
# median share of 0.23, 98% at 0.26, 85.5% at 0.32; 92.6% of the drawings it advises on are read, 99.3% of the rest).
BOLD_PEN = 0.25


def ink(image: np.ndarray) -> np.ndarray:
    """How much white ink each pixel holds, in [0, 1]: luminance times opacity.

    Takes (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA values in 0..255, as the canvas sends them. White strokes on a
    black or transparent background are ink; the background is not.
    """
    a = np.asarray(image)
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"expected an image of numbers 0..255, got dtype {a.dtype}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"expected an (H, W, 4) RGBA image (or RGB, or grey), got shape {a.shape}")
    if min(a.shape[:2]) < 1 or max(a.shape[:2]) > MAX_SIDE:
        raise ValueError(f"canvas of {a.shape[0]}x{a.shape[1]} pixels: each side must be 1 to {MAX_SIDE}")
    if a.dtype != np.uint8:
        a = np.clip(np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0), 0, 255)
    if a.ndim == 2:
        return a.astype(np.float32) / 255.0
    h, w, c = a.shape
    flat = a.reshape(-1, c).astype(np.float32)  # (H*W, C)
    grey = flat[:, :3] @ LUMA  # (H*W,) in [0, 1]
    if c == 4:
        grey *= flat[:, 3] * (1 / 255.0)
    return grey.reshape(h, w)


def _resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights of an anti-aliased linear resize, as PIL's BILINEAR filter computes them.

    Shrinking widens the triangle filter by the scale, so every input pixel contributes (no aliasing); growing
    interpolates linearly.
    """
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale  # (n_out,) in input pixel units
    offsets = (np.arange(n_in) + 0.5)[None, :] - centres[:, None]  # (n_out, n_in)
    w = np.clip(1.0 - np.abs(offsets) / support, 0.0, None)
    w /= w.sum(axis=1, keepdims=True)
    return w.astype(np.float32)


def resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Anti-aliased linear resize of a 2D float image."""
    return _resample_matrix(img.shape[0], height) @ img @ _resample_matrix(img.shape[1], width).T


def bounding_box(amount: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), bottom and right exclusive, of the pixels holding ink; None if there are none."""
    rows, cols = np.flatnonzero((amount > threshold).any(1)), np.flatnonzero((amount > threshold).any(0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel-index coordinates."""
    total = img.sum()
    rows, cols = np.arange(img.shape[0]), np.arange(img.shape[1])
    return float(img.sum(1) @ rows / total), float(img.sum(0) @ cols / total)


def _place(img: np.ndarray, top: int, left: int) -> np.ndarray:
    """`img` pasted into a blank IMAGE_SIZE x IMAGE_SIZE frame with its top-left pixel at (top, left)."""
    out = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    out[top : top + img.shape[0], left : left + img.shape[1]] = img
    return out


@dataclass
class Steps:
    """Each stage from canvas to network input, for showing; `final` is what the network sees."""

    ink: np.ndarray  # (H, W) the canvas as ink in [0, 1]
    box: tuple[int, int, int, int]  # the ink's bounding box on the canvas: top, bottom, left, right
    crop: np.ndarray  # the ink's bounding box, cut out
    fitted: np.ndarray  # scaled to fit BOX x BOX, aspect kept (or the whole canvas at the input size, unfitted)
    placed: np.ndarray  # (28, 28) the fitted box in the middle of the frame, by its geometric centre
    final: np.ndarray  # (28, 28) float32 in [0, 1]: the network's input
    shift: tuple[int, int]  # rows and columns moved to bring the centre of mass to the centre


def preprocess_steps(
    image: np.ndarray, fit: bool = True, centre: bool = True, target: tuple[float, float] = CENTRE
) -> Steps | None:
    """Every stage of `canvas_to_mnist`, with the fitting and the centring each able to be switched off.

    fit=False skips the crop and the 20x20 fit: the whole canvas is shrunk to 28x28, as naive demos do.
    centre=False leaves the digit where the fit put it instead of moving its centre of mass to `target`.
    """
    return ink_steps(ink(image), fit, centre, target)


def ink_steps(
    amount: np.ndarray, fit: bool = True, centre: bool = True, target: tuple[float, float] = CENTRE
) -> Steps | None:
    """`preprocess_steps` for a canvas already read as ink (cnn.preprocess.ink): (H, W) float in [0, 1]."""
    box = bounding_box(amount)
    if box is None:
        return None
    top, bottom, left, right = box
    crop = amount[top:bottom, left:right]
    if fit:
        h, w = crop.shape
        scale = BOX / max(h, w)
        fitted = resize(crop, max(1, round(h * scale)), max(1, round(w * scale)))
        placed = _place(fitted, (IMAGE_SIZE - fitted.shape[0]) // 2, (IMAGE_SIZE - fitted.shape[1]) // 2)
    else:
        fitted = resize(amount, IMAGE_SIZE, IMAGE_SIZE)
        placed = fitted
    peak = placed.max()
    if peak <= 0:
        return None
    placed = np.clip(placed / peak, 0.0, 1.0).astype(np.float32)  # the strongest stroke is full white, as in MNIST
    shift = (0, 0)
    final = placed
    if centre:
        shift = _centring_shift(placed, target)
        final = np.roll(placed, shift, axis=(0, 1))
    return Steps(amount, box, crop, fitted, placed, final.astype(np.float32), shift)


def _centring_shift(img: np.ndarray, target: tuple[float, float]) -> tuple[int, int]:
    """Whole-pixel (rows, columns) that move the centre of mass to `target` without pushing ink out of the frame."""
    cy, cx = centre_of_mass(img)
    rows, cols = np.flatnonzero(img.any(1)), np.flatnonzero(img.any(0))
    dy = int(np.clip(round(target[0] - cy), -rows[0], IMAGE_SIZE - 1 - rows[-1]))
    dx = int(np.clip(round(target[1] - cx), -cols[0], IMAGE_SIZE - 1 - cols[-1]))
    return dy, dx


def canvas_to_mnist(image: np.ndarray, target: tuple[float, float] = CENTRE) -> np.ndarray | None:
    """The float32 28x28 image in [0, 1] the network sees for an (H, W, 4) uint8 canvas; None if it holds no ink.

    As MNIST's digits were made: crop to the ink, scale to fit 20x20 keeping the aspect ratio (anti-aliased), and
    place in 28x28 with the centre of mass where MNIST's digits have theirs.
    """
    steps = preprocess_steps(image, target=target)
    return None if steps is None else steps.final


def bold_for_its_size(box: tuple[int, int, int, int], pen: float) -> bool:
    """Whether a pen `pen` pixels wide is bold for ink filling `box` (top, bottom, left, right): at least BOLD_PEN of
    the ink's longest side."""
    top, bottom, left, right = box
    return pen >= BOLD_PEN * max(bottom - top, right - left, 1)


def too_small(box: tuple[int, int, int, int], canvas_side: int, pen: float) -> bool:
    """Whether ink filling `box` (top, bottom, left, right) is too small to be a digit: a dot, a speck.

    Fitting any ink into 20x20 blows a dot up into a filled disc, which the network reads as a confident 0
    (tests/test_hostile.py shows it for the shipped weights); so the page asks for a larger drawing instead. The
    longest side must reach both MIN_EXTENT of the canvas's side and MIN_PEN_WIDTHS pen widths.
    """
    top, bottom, left, right = box
    return max(bottom - top, right - left) < max(MIN_EXTENT * canvas_side, MIN_PEN_WIDTHS * pen)
