"""The drawings that are not digits: letter and symbol templates, their generators and the sets made from them."""

from __future__ import annotations

import numpy as np
import pytest

from cnn import non_digits
from cnn.non_digits import (
    LETTER_STROKES, LETTERS, SET_NAMES, SYMBOLS, blankish, handwritten_letter, handwritten_symbol, non_digit_sets,
    printed_letter,
)


def _ink_box(rgba):
    """(height, width) of the pixels more than half inked."""
    ys, xs = np.nonzero(rgba[..., 0] > 127)
    return ys.max() - ys.min() + 1, xs.max() - xs.min() + 1


def test_every_template_lies_in_the_unit_box():
    assert sorted(LETTER_STROKES) == sorted(LETTERS) and len(LETTERS) == 20
    required = {"plus", "times", "equals", "hash", "arrow right", "arrow up", "star", "smiley face", "house", "heart",
                "spiral", "check mark", "triangle", "square", "asterisk"}
    assert required <= set(SYMBOLS)
    for name, strokes in {**LETTER_STROKES, **SYMBOLS}.items():
        points = np.concatenate([np.asarray(s, dtype=float).reshape(-1, 2) for s in strokes])  # (P, 2)
        assert ((points >= 0) & (points <= 1)).all(), name
        assert np.ptp(points, axis=0).max() > 0.3, name  # a template, not a dot
    assert len(SYMBOLS["star"]) == 1 and len(SYMBOLS["smiley face"]) == 4
    for letter in "aemnrwx":  # lowercase without ascenders sit below the x-height
        assert min(y for s in LETTER_STROKES[letter] for _, y in s) >= 0.4, letter
    for letter in "fhk":
        assert min(y for s in LETTER_STROKES[letter] for _, y in s) <= 0.15, letter


@pytest.mark.parametrize("make", [
    lambda rng: handwritten_letter("K", rng), lambda rng: handwritten_letter("f", rng),
    lambda rng: handwritten_symbol("smiley face", rng), lambda rng: printed_letter("M", rng),
    lambda rng: printed_letter("x", rng), blankish,
])
def test_each_generator_draws_an_rgba_canvas_with_ink(make):
    rgba = make(np.random.default_rng(0))
    assert rgba.shape == (280, 280, 4) and rgba.dtype == np.uint8
    assert (rgba[..., 3] == 255).all() and rgba[..., 0].max() > 200
    np.testing.assert_array_equal(rgba, make(np.random.default_rng(0)))


def test_letters_span_what_they_should_and_blankish_canvases_hold_almost_nothing():
    rng = np.random.default_rng(2)
    for letter in "AHx":
        for _ in range(5):
            assert 0.3 * 280 < max(_ink_box(printed_letter(letter, rng))) <= 0.85 * 280 + 1
    for _ in range(30):
        rgba = blankish(rng)
        assert max(_ink_box(rgba)) <= 16
        assert (rgba[..., 0] > 127).sum() < 100


def test_printed_letters_need_no_installed_font(monkeypatch, tmp_path):
    assert non_digits.font_files(tmp_path) == ()
    monkeypatch.setattr(non_digits, "FONT_DIR", tmp_path / "no fonts here")
    rgba = printed_letter("R", np.random.default_rng(4))
    assert rgba.shape == (280, 280, 4) and rgba.dtype == np.uint8
    assert 0.35 * 280 - 1 <= max(_ink_box(rgba)) <= 0.85 * 280 + 1


def test_the_sets_are_28x28_images_and_reproducible():
    sets = non_digit_sets(5, seed=0)
    assert tuple(sets) == SET_NAMES == ("handwritten letters", "printed letters", "symbols", "scribbles", "blank-ish")
    for name, images in sets.items():
        assert images.dtype == np.float32 and images.shape[1:] == (28, 28) and 1 <= len(images) <= 5, name
        assert images.min() >= 0 and images.max() == pytest.approx(1.0), name
    again, other = non_digit_sets(5, seed=0), non_digit_sets(5, seed=1)
    for name in SET_NAMES:
        np.testing.assert_array_equal(sets[name], again[name])
        assert not np.array_equal(sets[name], other[name]), name
