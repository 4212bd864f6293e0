"""The "Move it" perturbations against references written independently: numpy shifts, rotations and filters."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnn.perturb import MAX_SHIFT, Move, apply, validate

rng = np.random.default_rng(0)
IMAGES = rng.random((3, 28, 28)).astype(np.float32)


def numpy_shift(img: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """torch.roll, then the rows and columns that wrapped around set to background."""
    out = torch.roll(torch.from_numpy(img), shifts=(dy, dx), dims=(0, 1)).numpy().copy()
    if dy > 0:
        out[:dy] = 0
    elif dy < 0:
        out[dy:] = 0
    if dx > 0:
        out[:, :dx] = 0
    elif dx < 0:
        out[:, dx:] = 0
    return out


@pytest.mark.parametrize("dx, dy", [(0, 0), (3, 0), (-8, 2), (5, -7), (MAX_SHIFT, MAX_SHIFT), (-1, -1)])
def test_shift_is_a_roll_without_wrapping(dx, dy):
    moved = apply(IMAGES, Move(dx=dx, dy=dy)).numpy()
    for img, out in zip(IMAGES, moved):
        np.testing.assert_array_equal(out, numpy_shift(img, dx, dy))


def numpy_rotate_scale(img: np.ndarray, degrees: float, scale: float) -> np.ndarray:
    """Bilinear sampling of the inverse move, pixel by pixel: output pixel centre -> input position about the
    frame's centre (13.5, 13.5), zero outside."""
    h, w = img.shape
    a = math.radians(degrees)
    out = np.zeros_like(img)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    for i in range(h):
        for j in range(w):
            y, x = i - cy, j - cx
            # a counter-clockwise turn as seen (rows grow downwards) is undone by turning back
            sx = (math.cos(a) * x - math.sin(a) * y) / scale + cx
            sy = (math.sin(a) * x + math.cos(a) * y) / scale + cy
            y0, x0 = math.floor(sy), math.floor(sx)
            total = 0.0
            for yy, wy in ((y0, 1 - (sy - y0)), (y0 + 1, sy - y0)):
                for xx, wx in ((x0, 1 - (sx - x0)), (x0 + 1, sx - x0)):
                    if 0 <= yy < h and 0 <= xx < w:
                        total += wy * wx * img[yy, xx]
            out[i, j] = total
    return out


@pytest.mark.parametrize("degrees, scale", [(30, 1.0), (-45, 1.0), (0, 0.5), (0, 1.5), (17, 0.8)])
def test_rotate_and_scale_against_bilinear_sampling_by_hand(degrees, scale):
    moved = apply(IMAGES[0], Move(rotate=degrees, scale=scale)).numpy()
    np.testing.assert_allclose(moved, numpy_rotate_scale(IMAGES[0], degrees, scale), atol=1e-5)


def test_a_quarter_turn_is_counter_clockwise_as_seen():
    np.testing.assert_allclose(apply(IMAGES[1], Move(rotate=90)).numpy(), np.rot90(IMAGES[1]), atol=1e-5)


def numpy_filter(img: np.ndarray, reduce) -> np.ndarray:
    padded = np.pad(img, 1, constant_values=-np.inf if reduce is np.max else np.inf)
    return reduce(np.lib.stride_tricks.sliding_window_view(padded, (3, 3)), axis=(2, 3))


@pytest.mark.parametrize("pixels", [-2, -1, 1, 2])
def test_stroke_width_is_repeated_3x3_dilation_or_erosion(pixels):
    expected = IMAGES[2]
    for _ in range(abs(pixels)):
        expected = numpy_filter(expected, np.max if pixels > 0 else np.min)
    np.testing.assert_allclose(apply(IMAGES[2], Move(stroke=pixels)).numpy(), expected, atol=1e-6)


def test_noise_is_seeded_bounded_and_of_the_asked_size():
    blank = np.full((28, 28), 0.5, np.float32)
    a, b = apply(blank, Move(noise=0.1, seed=3)), apply(blank, Move(noise=0.1, seed=3))
    assert torch.equal(a, b) and not torch.equal(a, apply(blank, Move(noise=0.1, seed=4)))
    assert 0 <= float(a.min()) and float(a.max()) <= 1
    assert abs(float((a - 0.5).std()) - 0.1) < 0.01


def test_no_move_changes_nothing_and_batches_match_single_images():
    np.testing.assert_array_equal(apply(IMAGES, Move()).numpy(), IMAGES)
    move = Move(dx=2, dy=-3, rotate=12, scale=0.9, stroke=1)
    batch = apply(IMAGES, move).numpy()
    for img, out in zip(IMAGES, batch):
        np.testing.assert_allclose(apply(img, move).numpy(), out, atol=1e-6)


def test_many_moves_at_once_match_each_one_alone():
    from cnn.perturb import apply_each

    moves = [Move(dx=d, rotate=r, scale=z, stroke=k, noise=n, seed=3)
             for d, r, z, k, n in [(0, 0, 1, 0, 0), (-5, 20, 0.8, 1, 0.1), (7, -45, 1.5, -2, 0.3), (2, 5, 1, 2, 0.1)]]
    together = apply_each(IMAGES[0], moves).numpy()
    for move, out in zip(moves, together):
        np.testing.assert_allclose(out, apply(IMAGES[0], move).numpy(), atol=1e-5)  # float rounding only


@pytest.mark.parametrize("move", [Move(dx=9), Move(rotate=50), Move(scale=0.4), Move(stroke=3), Move(noise=0.6)])
def test_moves_outside_the_controls_are_refused(move):
    with pytest.raises(ValueError, match="out of range"):
        validate(move)
