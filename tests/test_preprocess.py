"""canvas_to_mnist: from any canvas to MNIST's 20x20-in-28x28, centre-of-mass-centred format."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnn.data import IMAGE_SIZE, to_float
from cnn.preprocess import BOX, CENTRE, canvas_to_mnist, centre_of_mass, ink, preprocess_steps, resize, too_small
from cnn.strokes import draw_digit, render

MID = (IMAGE_SIZE - 1) / 2


def near_centre(cy: float, cx: float) -> bool:
    """Within a pixel of where the centring puts the centre of mass (it moves the image by whole pixels)."""
    return abs(cy - CENTRE[0]) <= 1 and abs(cx - CENTRE[1]) <= 1


def ink_box(img: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(img.any(1)), np.flatnonzero(img.any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def assert_mnist_like(img: np.ndarray) -> None:
    assert img.shape == (IMAGE_SIZE, IMAGE_SIZE) and img.dtype == np.float32
    assert img.min() >= 0 and img.max() == pytest.approx(1.0)
    h, w = ink_box(img)
    assert max(h, w) <= BOX
    cy, cx = centre_of_mass(img)
    assert near_centre(cy, cx), (cy, cx)


def blank(h=280, w=280, alpha=255):
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 3] = alpha
    return rgba


def test_empty_canvas_is_none():
    assert canvas_to_mnist(blank()) is None
    assert canvas_to_mnist(blank(alpha=0)) is None  # transparent, as before the first stroke
    faint = blank()
    faint[100:110, 100:110, :3] = 10  # a smudge far below ink level
    assert canvas_to_mnist(faint) is None


def test_small_digit_in_a_corner_is_fitted_and_centred():
    corner = draw_digit(7, pen=5, scale=0.2, offset=(-35, -35))
    rows = np.flatnonzero(corner[..., 0].any(1))
    assert rows.max() < 80  # the drawing really is small and in the top-left corner
    img = canvas_to_mnist(corner)
    assert_mnist_like(img)
    assert max(ink_box(img)) == BOX  # scaled up to fill the 20x20 box


@pytest.mark.parametrize("pen", [3, 8, 20, 40])
def test_thin_and_thick_strokes(pen):
    assert_mnist_like(canvas_to_mnist(draw_digit(2, pen=pen)))


def test_thicker_pen_gives_thicker_strokes():
    thin, thick = canvas_to_mnist(draw_digit(3, pen=8)), canvas_to_mnist(draw_digit(3, pen=36))
    assert (thick > 0.5).sum() > 1.5 * (thin > 0.5).sum()


@pytest.mark.parametrize("size", [100, 280, 560, 1000])
def test_any_canvas_size_gives_the_same_input(size):
    """The same digit drawn on a larger or smaller canvas, pen scaled alike, reaches the network almost unchanged."""
    reference = canvas_to_mnist(draw_digit(5, size=280, pen=20))
    img = canvas_to_mnist(draw_digit(5, size=size, pen=20 * size / 280))
    assert_mnist_like(img)
    assert np.abs(img - reference).mean() < 0.03


def test_non_square_canvas():
    rgba = render([np.array([[50, 30], [60, 170]])], 200, 600, pen=10)
    img = canvas_to_mnist(rgba)
    assert_mnist_like(img)


def test_lone_dot():
    img = canvas_to_mnist(render([np.array([[140.0, 140.0]])], 280, 280, pen=20))
    assert_mnist_like(img)
    assert ink_box(img) == (BOX, BOX)


def test_long_thin_one_keeps_its_aspect():
    img = canvas_to_mnist(render([np.array([[140, 20], [140, 260]])], 280, 280, pen=12))
    assert_mnist_like(img)
    h, w = ink_box(img)
    assert h == BOX and w <= 3


def test_ink_from_rgba_rgb_and_grey():
    rgba = blank()
    rgba[10:20, 10:20, :3] = 255
    expected = np.zeros((280, 280), np.float32)
    expected[10:20, 10:20] = 1
    np.testing.assert_allclose(ink(rgba), expected, atol=1e-6)
    np.testing.assert_allclose(ink(rgba[..., :3]), expected, atol=1e-6)
    np.testing.assert_allclose(ink(rgba[..., 0]), expected, atol=1e-6)
    transparent = np.zeros((280, 280, 4), np.uint8)
    transparent[10:20, 10:20] = 255  # white and opaque strokes on a transparent canvas
    np.testing.assert_allclose(ink(transparent), expected, atol=1e-6)


@pytest.mark.parametrize("shape", [(280, 280, 2), (280, 280, 5), (280,), (2, 2, 2, 4)])
def test_wrong_shapes_are_clear_errors(shape):
    with pytest.raises(ValueError, match="expected an"):
        canvas_to_mnist(np.zeros(shape, np.uint8))


def test_tiny_and_all_ink_canvases():
    one = np.full((1, 1, 4), 255, np.uint8)
    assert_mnist_like(canvas_to_mnist(one))
    full = np.full((50, 80, 4), 255, np.uint8)
    img = canvas_to_mnist(full)
    assert img.shape == (28, 28) and ink_box(img) == (round(50 * BOX / 80), BOX)


@pytest.mark.parametrize("shape", [(200, 37, 20, 4), (7, 9, 20, 26), (280, 280, 28, 28), (3, 3, 20, 20)])
def test_resize_matches_pillow_bilinear(shape):
    h, w, out_h, out_w = shape
    a = np.random.default_rng(h * w).random((h, w)).astype(np.float32)
    reference = np.asarray(Image.fromarray(a, mode="F").resize((out_w, out_h), Image.BILINEAR))
    np.testing.assert_allclose(resize(a, out_h, out_w), reference, atol=1e-5)


def test_steps_can_switch_fitting_and_centring_off():
    canvas = draw_digit(4, pen=6, scale=0.3, offset=(100, -30))
    full = preprocess_steps(canvas)
    np.testing.assert_array_equal(full.final, canvas_to_mnist(canvas))
    assert max(full.fitted.shape) == BOX and full.placed.shape == (IMAGE_SIZE, IMAGE_SIZE)
    top, bottom, left, right = full.box
    np.testing.assert_array_equal(full.crop, full.ink[top:bottom, left:right])
    naive = preprocess_steps(canvas, fit=False, centre=False)
    assert naive.fitted.shape == (IMAGE_SIZE, IMAGE_SIZE) and naive.shift == (0, 0)
    assert max(ink_box(naive.final)) < 10  # small and off-centre: what the network would get without the fit
    cy, cx = centre_of_mass(naive.final)
    assert abs(cx - MID) > 3
    centred_only = preprocess_steps(canvas, fit=False, centre=True)
    cy, cx = centre_of_mass(centred_only.final)
    assert near_centre(cy, cx)


def test_the_centre_is_where_mnists_digits_have_theirs(mnist_dir):
    from cnn.data import load_split

    images, _ = load_split("train", mnist_dir, fetch=False)
    com = np.array([centre_of_mass(img) for img in to_float(images[::10])])  # (6000, 2)
    np.testing.assert_allclose(com.mean(0), CENTRE, atol=0.05)
    assert abs(com.mean(0)[0] - MID) > 0.4  # half a pixel below and right of the frame's middle, not at it


def test_centring_moves_the_centre_of_mass_to_the_target():
    canvas = draw_digit(7, offset=(30, 20))
    for target in [(MID, MID), CENTRE, (12.0, 15.0)]:
        cy, cx = centre_of_mass(canvas_to_mnist(canvas, target))
        assert abs(cy - target[0]) <= 0.5 + 1e-6 and abs(cx - target[1]) <= 0.5 + 1e-6, (target, cy, cx)


@pytest.mark.parametrize(
    "strokes, pen, small",
    [
        ([[(140, 140)]], 20, True),  # a dot
        ([[(140, 140)]], 40, True),  # a dot with the widest pen
        ([[(140, 140), (150, 145)]], 6, True),  # a speck
        ([[(140, 100), (140, 200)]], 40, False),  # a thick 1, a hundred pixels tall
        ([[(100, 100), (140, 100), (110, 150)]], 6, False),  # a small 7 with a thin pen
    ],
)
def test_too_small_to_be_a_digit(strokes, pen, small):
    steps = preprocess_steps(render([np.array(s, float) for s in strokes], 280, 280, pen))
    assert too_small(steps.box, 280, pen) is small


def test_the_smallest_digits_of_the_tests_and_benchmarks_are_not_too_small():
    from cnn.strokes import jittered_digit

    rng = np.random.default_rng(5)
    canvases = [draw_digit(4, pen=6, scale=0.3, offset=(100, -30))] + [jittered_digit(d % 10, rng) for d in range(100)]
    for canvas in canvases:
        assert not too_small(preprocess_steps(canvas).box, 280, 20)
