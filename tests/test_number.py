"""Reading a whole number (cnn.number): the digits found, put together from their pieces, split where they touch, and
read as a drawing of one digit is; with the shipped network and its atlas."""

from __future__ import annotations

import numpy as np
import pytest

from cnn import atlas as atlas_module
from cnn.number import MAX_DIGITS, MAX_PIECES, NUMBER_HEIGHT, NUMBER_WIDTH, _overlap, _Piece, pen_width, read_number
from cnn.non_digits import LETTER_STROKES
from cnn.preprocess import INK_THRESHOLD, canvas_to_mnist, ink
from cnn.strokes import DIGIT_PIECES, DIGIT_STROKES, render, written_number

PEN = 12


@pytest.fixture(scope="module")
def shipped():
    return atlas_module.shipped()


def placed(shapes, step: float = 110, size: float = 120, left: float = 20, top: float = 40):
    """Strokes (unit box, y down) of each shape in turn, each `size` pixels tall, `step` apart: (points, PEN) each."""
    strokes = []
    for i, shape in enumerate(shapes):
        for s in shape:
            pts = np.asarray(s, np.float64) * size * np.array([0.8, 1.0]) + (left + i * step, top)
            strokes.append((pts, PEN))
    return strokes


def canvas_of(strokes, height=NUMBER_HEIGHT, width=NUMBER_WIDTH):
    return render([p for p, _ in strokes], height, width, PEN)


def test_separate_digits_read_left_to_right_each_as_the_page_prepares_one_digit(shipped):
    strokes = placed([DIGIT_STROKES[d] for d in (3, 0, 5)])
    canvas = canvas_of(strokes)
    number = read_number(canvas, *shipped)
    assert number.text == "305"
    assert [d.box[2] for d in number.digits] == sorted(d.box[2] for d in number.digits)
    for i, digit in enumerate(number.digits):
        alone = canvas_of(placed([DIGIT_STROKES[(3, 0, 5)[i]]], left=20 + i * 110))
        expected = canvas_to_mnist(alone)
        # the same steps; only the faint anti-aliased edge (ink at most INK_THRESHOLD) is left out of a digit's ink
        assert np.abs(digit.image - expected).max() < 0.15
        assert np.abs(digit.image - expected).mean() < 0.01
        assert digit.probability > 0.9 and digit.unlike is False and not digit.touching
        top, bottom, left, right = digit.box
        assert ink(alone)[top:bottom, left:right].sum() == pytest.approx(ink(alone).sum(), rel=1e-3)
        # the digit alone, as the canvas would send it, is what the page's one-digit parts are given
        assert np.array_equal(canvas_to_mnist(digit.rgba) > 0.5, digit.image > 0.5)


@pytest.mark.parametrize("digit", sorted(DIGIT_PIECES))
def test_a_digit_in_pieces_is_one_digit(shipped, digit):
    strokes = placed([DIGIT_STROKES[1], DIGIT_PIECES[digit], DIGIT_STROKES[8]], step=140)
    canvas = canvas_of(strokes)
    mask = ink(canvas) > INK_THRESHOLD
    from scipy import ndimage

    assert ndimage.label(mask, structure=np.ones((3, 3)))[1] >= 3  # the pieces really are apart
    assert read_number(canvas, *shipped).text == f"1{digit}8"
    assert read_number(canvas, *shipped, strokes=strokes).text == f"1{digit}8"


def test_touching_digits_are_told_apart_by_their_strokes(shipped):
    strokes = placed([DIGIT_STROKES[d] for d in (3, 8, 6)], step=50)  # written close: one piece of ink
    canvas = canvas_of(strokes)
    from scipy import ndimage

    assert ndimage.label(ink(canvas) > INK_THRESHOLD, structure=np.ones((3, 3)))[1] == 1
    number = read_number(canvas, *shipped, strokes=strokes)
    assert number.text == "386"
    assert all(d.touching is False for d in number.digits)  # apart by their strokes, not cut


def test_touching_ink_is_cut_where_the_network_reads_both_parts(shipped):
    # two digits of one piece of ink, read from the pixels alone: the group is wide, so it is cut
    strokes = placed([DIGIT_STROKES[d] for d in (0, 7)], step=55)
    canvas = canvas_of(strokes)
    from scipy import ndimage

    assert ndimage.label(ink(canvas) > INK_THRESHOLD, structure=np.ones((3, 3)))[1] == 1
    number = read_number(canvas, *shipped)
    assert number.text == "07"
    assert all(d.touching for d in number.digits)
    left, right = number.digits
    assert left.box[3] <= right.box[3] and left.box[2] < right.box[2]


@pytest.mark.parametrize("letter", ["W", "X", "K"])
def test_a_piece_that_is_no_digit_is_shown_as_such_not_cut_into_digits(shipped, letter):
    strokes = placed([DIGIT_STROKES[3], LETTER_STROKES[letter], DIGIT_STROKES[5]], step=140)
    number = read_number(canvas_of(strokes), *shipped, strokes=strokes)
    assert number.text == "3?5"
    assert number.digits[1].unlike is True
    assert number.least_sure() == 1  # the page explains the doubtful one first


def test_an_empty_canvas_reads_as_no_number(shipped):
    number = read_number(np.zeros((NUMBER_HEIGHT, NUMBER_WIDTH, 4), np.uint8), *shipped)
    assert number.text == "" and number.digits == () and number.least_sure() is None


def test_at_most_max_digits_are_read_and_the_rest_is_counted(shipped):
    digits = [1, 2, 3, 4, 5, 6, 7, 0, 9, 8]
    strokes = placed([DIGIT_STROKES[d] for d in digits], step=58, size=60, left=8, top=60)
    number = read_number(canvas_of(strokes), *shipped, strokes=strokes)
    assert len(number.digits) == MAX_DIGITS
    assert number.left_out == len(digits) - MAX_DIGITS
    assert number.text == "".join(map(str, digits[:MAX_DIGITS]))


def test_without_an_atlas_no_check_is_made(shipped):
    model, _ = shipped
    number = read_number(canvas_of(placed([DIGIT_STROKES[2]])), model)
    assert number.text == "2" and number.digits[0].unlike is None
    with pytest.raises(ValueError, match="model"):
        read_number(np.zeros((10, 10, 4), np.uint8), None, shipped[1])


def test_a_canvas_that_is_not_an_image_is_refused(shipped):
    with pytest.raises(ValueError, match="image"):
        read_number(np.zeros((10, 10, 5), np.uint8), *shipped)


def test_pen_width_is_measured_from_the_ink():
    for pen in (6, 12, 24):
        canvas = render([np.array([[40.0, 20], [60, 150], [150, 160], [200, 40]])], 200, 300, pen)
        assert pen_width(ink(canvas) > INK_THRESHOLD) == pytest.approx(pen, abs=2)


def test_overlap_is_measured_along_the_pen():
    bar, stem = _Piece([1], 0, 10, 0, 100), _Piece([2], 0, 100, 60, 72)  # a 4's stem within its bar
    assert _overlap(bar, stem, 12) == 1.0
    one, nine = _Piece([1], 0, 100, 0, 20), _Piece([2], 0, 100, 14, 80)  # a 1 whose ink touches a 9's
    assert _overlap(one, nine, 12) == 0.0


@pytest.mark.parametrize("touching", [False, True])
def test_written_numbers_touch_only_when_asked(touching):
    rng = np.random.default_rng(3)
    for _ in range(5):
        digits = [int(d) for d in rng.integers(0, 10, 5)]
        canvas, touches, strokes = written_number(digits, rng, touching=touching)
        assert canvas.shape == (NUMBER_HEIGHT, NUMBER_WIDTH, 4)
        assert len(touches) == 4 and len(strokes) >= 5
        if not touching:
            assert not any(touches)
        mask = ink(canvas) > INK_THRESHOLD
        assert not mask[:, 0].any() and not mask[:, -1].any()  # the number fits on the canvas


def test_a_canvas_of_thousands_of_dots_costs_no_more_than_a_few_pieces(shipped):
    canvas = np.zeros((NUMBER_HEIGHT, NUMBER_WIDTH, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[::4, ::4, :3] = 255  # 7,500 separate dots: a crafted drawing
    number = read_number(canvas, *shipped)
    assert len(number.digits) <= MAX_DIGITS
    assert number.left_out >= 7_500 - MAX_PIECES  # only the MAX_PIECES largest were looked at
