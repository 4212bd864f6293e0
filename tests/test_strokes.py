"""The stroke rasteriser and the synthetic drawings used by tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pytest

from cnn.strokes import DIGIT_STROKES, draw_digit, image_on_canvas, jittered_digit, random_scribble, render


def test_a_dot_is_a_disc_of_the_pen_width():
    rgba = render([np.array([[50.0, 40.0]])], 100, 100, pen=20)
    ink = rgba[..., 0] / 255
    assert rgba.shape == (100, 100, 4) and (rgba[..., 3] == 255).all()
    assert ink.sum() == pytest.approx(np.pi * 10**2, rel=0.03)  # area of a disc of diameter 20
    ys, xs = np.nonzero(ink > 0.5)
    assert abs(xs.mean() + 0.5 - 50) < 0.5 and abs(ys.mean() + 0.5 - 40) < 0.5


def test_a_line_covers_its_length_times_the_pen():
    ink = render([np.array([[20.0, 50.0], [80.0, 50.0]])], 100, 100, pen=10)[..., 0] / 255
    assert ink.sum() == pytest.approx(60 * 10 + np.pi * 5**2, rel=0.03)  # a capsule: rectangle plus round caps


def test_templates_and_variations():
    assert sorted(DIGIT_STROKES) == list(range(10))
    for d in range(10):
        assert draw_digit(d)[..., 0].max() == 255
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    np.testing.assert_array_equal(jittered_digit(8, rng_a), jittered_digit(8, rng_b))  # seeded: reproducible
    assert not np.array_equal(jittered_digit(8, rng_a), jittered_digit(8, rng_a))  # and varied
    assert random_scribble(np.random.default_rng(0))[..., 0].any()


def test_image_on_canvas_keeps_the_ink():
    small = np.zeros((8, 8))
    small[2:6, 3] = 1.0
    canvas = image_on_canvas(small, np.random.default_rng(1))
    assert canvas.shape == (280, 280, 4)
    ys, xs = np.nonzero(canvas[..., 0] > 128)
    assert (ys.max() - ys.min()) > 2 * (xs.max() - xs.min())  # still a vertical bar
