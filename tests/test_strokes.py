"""The stroke rasteriser and the synthetic drawings used by tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pytest

from cnn.strokes import (
    DIGIT_STROKES, bold_on_canvas, draw_digit, image_on_canvas, jittered_digit, random_scribble, render,
)


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


def test_a_digit_written_again_bold_and_small_has_the_pen_and_size_asked_for():
    bar = np.zeros((28, 28), np.float32)
    bar[6:22, 13:15] = 1.0  # a 1: 16 pixels tall, 2 wide, as thin as MNIST's strokes
    canvas = bold_on_canvas(bar, np.random.default_rng(0), extent=(0.3, 0.3), pen=(0.3, 0.3))
    assert canvas.shape == (280, 280, 4) and (canvas[..., 3] == 255).all()
    ys, xs = np.nonzero(canvas[..., 0] > 127)
    side = 0.3 * 280  # the bar's length as enlarged; each end then grows as each side does
    assert xs.max() - xs.min() + 1 == pytest.approx(0.3 * side, abs=2)  # the pen: 0.3 of the digit's size
    assert ys.max() - ys.min() + 1 == pytest.approx(side + 0.3 * side - 2 / 16 * side, abs=3)  # less the 2 it had
    thin = bold_on_canvas(bar, np.random.default_rng(0), extent=(0.3, 0.3), pen=(0.0, 0.0))  # no wider than it was
    assert (thin[..., 0] > 127).any(1).sum() == pytest.approx(side, abs=2)
    a, b = (bold_on_canvas(bar, np.random.default_rng(4)) for _ in range(2))
    np.testing.assert_array_equal(a, b)  # seeded: reproducible
    with pytest.raises(ValueError, match="no ink"):
        bold_on_canvas(np.zeros((28, 28)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="does not fit"):
        bold_on_canvas(bar, np.random.default_rng(0), size=100, extent=(0.9, 0.9))


def test_the_hard_kinds_of_writing_are_what_they_say():
    from cnn.strokes import HARD_KINDS, hard_digit

    def box(rgba):
        ys, xs = np.nonzero(rgba[..., 0] > 127)
        return ys.max() - ys.min() + 1, xs.max() - xs.min() + 1

    rng = np.random.default_rng(0)
    for d in range(10):
        h, w = box(hard_digit(d, rng, "thick and small"))
        assert max(h, w) < 0.55 * 280  # small on the canvas, even with the pen's width added
    plain = jittered_digit(3, np.random.default_rng(5))
    thick = hard_digit(3, np.random.default_rng(5), "thick and small")
    # ink per pixel of the digit's box: the thick pen fills far more of its box than a plain hand does
    fill = lambda rgba: (rgba[..., 0] > 127).sum() / np.prod(box(rgba))  # noqa: E731
    assert fill(thick) > 1.5 * fill(plain)
    one = hard_digit(1, np.random.default_rng(1), "flagged 1")
    assert one[..., 0].max() == 255
    with pytest.raises(ValueError, match="a flagged 1 is a 1"):
        hard_digit(7, rng, "flagged 1")
    with pytest.raises(ValueError, match="unknown kind"):
        hard_digit(7, rng, "upside down")
    with pytest.raises(ValueError, match="a short-barred 7 is a 7"):
        hard_digit(1, rng, "short-barred 7")
    assert set(HARD_KINDS) == {"thick and small", "flagged 1", "short-barred 7", "strongly slanted"}
    a, b = hard_digit(4, np.random.default_rng(9), "strongly slanted"), hard_digit(4, np.random.default_rng(9), "strongly slanted")
    np.testing.assert_array_equal(a, b)


def test_a_short_barred_7_has_a_shorter_bar_than_a_plain_7_and_more_than_a_1_has():
    """The width of the top tenth of the ink, as a share of the ink's height, over many hands of each kind."""
    from cnn.strokes import hard_digit

    def top_width(rgba):
        ys, xs = np.nonzero(rgba[..., 0] > 127)
        top = xs[ys < ys.min() + 0.1 * (ys.max() - ys.min())]
        return (top.max() - top.min() + 1) / (ys.max() - ys.min() + 1)

    rng = np.random.default_rng(4)
    short = np.median([top_width(hard_digit(7, rng, "short-barred 7")) for _ in range(40)])
    plain = np.median([top_width(jittered_digit(7, rng)) for _ in range(40)])
    one = np.median([top_width(jittered_digit(1, rng)) for _ in range(40)])
    assert one < short < 0.75 * plain
