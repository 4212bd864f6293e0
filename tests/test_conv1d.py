"""The 1D explorer's maths against numpy.convolve and torch.nn.functional.conv1d."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn.conv1d import MAX_INPUT, MAX_KERNEL, MODES, SequenceError, convolve, correlate, parse_sequence

rng = np.random.default_rng(42)
PAIRS = [(rng.normal(size=n), rng.normal(size=m)) for n in range(1, 13) for m in range(1, 9) for _ in range(3)]


def test_the_lessons_numbers():
    x = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    np.testing.assert_allclose(convolve(x, [0.5, 0.5, 0.5], "same").output, [1.5, 3, 4.5, 6, 7.5, 9, 10.5, 12, 8.5])
    np.testing.assert_allclose(convolve([6, 2], [1, 2, 5, 4], "full").output, [6, 14, 34, 34, 8])
    np.testing.assert_allclose(convolve([6, 2], [1, 2, 5, 4], "valid").output, [14, 34, 34])
    np.testing.assert_allclose(convolve([1, 2, 5, 4], [6, 2], "valid").output, [14, 34, 34])


@pytest.mark.parametrize("mode", MODES)
def test_convolve_equals_numpy_both_orders(mode):
    for x, h in PAIRS:
        for a, b in ((x, h), (h, x)):
            s = convolve(a, b, mode)
            np.testing.assert_allclose(s.output, np.convolve(a, b, mode), atol=1e-12)
            assert len(s.output) == {"full": len(a) + len(b) - 1, "same": max(len(a), len(b)),
                                     "valid": max(len(a), len(b)) - min(len(a), len(b)) + 1}[mode]


def _torch_conv1d(x, h, mode):
    pad = {"full": len(h) - 1, "same": "same", "valid": 0}[mode]
    out = F.conv1d(torch.tensor(x)[None, None], torch.tensor(h)[None, None], padding=pad)
    return out[0, 0].numpy()


@pytest.mark.parametrize("mode", MODES)
def test_correlate_equals_torch_conv1d(mode):
    for x, h in PAIRS:
        s = correlate(x, h, mode)
        if mode == "valid" and len(h) > len(x):
            assert len(s.output) == 0  # torch refuses a kernel longer than the unpadded input
            continue
        np.testing.assert_allclose(s.output, _torch_conv1d(x, h, mode), atol=1e-12)


def test_convolution_flips_the_kernel_and_a_cnn_layer_does_not():
    x, h = np.arange(1.0, 10.0), np.array([1.0, 2.0, 5.0, 4.0])
    for mode in ("full", "valid"):
        np.testing.assert_allclose(convolve(x, h, mode).output, _torch_conv1d(x, h[::-1].copy(), mode))
    assert not np.allclose(convolve(x, h, "full").output, correlate(x, h, "full").output)


def test_same_is_the_centre_of_full_not_left_padding():
    x = np.arange(1.0, 10.0)
    for m in (2, 3, 4, 5):
        h = rng.normal(size=m)
        s = convolve(x, h, "same")
        full = np.convolve(x, h, "full")
        start = (m - 1) // 2
        np.testing.assert_allclose(s.output, full[start : start + len(x)])
        assert s.pad_left + s.pad_right == m - 1 and s.pad_left - s.pad_right in (0, 1)


def test_each_step_is_the_sum_of_its_products():
    for x, h in PAIRS[::7]:
        for op in (convolve, correlate):
            for mode in MODES:
                s = op(x, h, mode)
                assert len(s.padded) == s.pad_left + len(s.signal) + s.pad_right
                for k in range(len(s.output)):
                    values, products = s.window(k)
                    np.testing.assert_allclose(products, values * s.applied)
                    assert products.sum() == pytest.approx(s.output[k], abs=1e-9)


def test_swap_when_the_kernel_is_longer():
    s = convolve([6, 2], [1, 2, 5, 4], "full")
    assert s.swapped and list(s.signal) == [1, 2, 5, 4] and list(s.kernel) == [6, 2]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1 2 x", "“x” in the input is not a number"),
        ("1 nan", "“nan” in the input is not a number"),
        ("1 inf", "“inf” in the input is not a number"),
        ("1e400", "not a finite number"),
        ("1_000", "“1_000” in the input is not a number"),  # float() takes it; the page shows 1000 back, so refuses
        ("\u0661\u0662 3", "is not a number"),  # Arabic-Indic digits: float() reads 12
        ("\uff11\uff12", "is not a number"),  # full-width digits: float() reads 12
        ("1 " + "1" * 33, "longer than 32 characters"),
        ("1 2e7", "too large"),
        ("1/0", "divides by zero"),
        ("1/3/3", "is not a number"),
        ("/3", "is not a number"),
        ("2e7/2", "too large"),
        (" ".join(["1"] * (MAX_INPUT + 1)), f"{MAX_INPUT + 1} values: at most {MAX_INPUT}"),
        ("1 " * 100_000, "characters long"),
    ],
)
def test_bad_text_gets_a_clear_message(text, message):
    with pytest.raises(SequenceError, match=message):
        parse_sequence(text, "input", MAX_INPUT)


def test_the_longest_valid_input_is_read():
    """64 numbers of 22 characters each: the length check is generous enough for every input the parser accepts."""
    number = "-1.2345678901234567e-05"[:22]
    text = " ".join([number] * MAX_INPUT)
    assert len(text) > 20 * MAX_INPUT + 100  # what the old check refused
    np.testing.assert_allclose(parse_sequence(text), np.full(MAX_INPUT, float(number)))
    widest = ", ".join(["-0." + "1" * 29] * MAX_INPUT)  # 32 characters each, and a comma and space between
    assert len(parse_sequence(f"[{widest}]")) == MAX_INPUT


def test_kernel_limit_and_friendly_formats():
    with pytest.raises(SequenceError, match=f"kernel has {MAX_KERNEL + 1} values"):
        parse_sequence(" ".join(["1"] * (MAX_KERNEL + 1)), "kernel", MAX_KERNEL)
    np.testing.assert_array_equal(parse_sequence("[1, 2.5; -3]"), [1, 2.5, -3])
    np.testing.assert_array_equal(parse_sequence("1e3 -0"), [1000, 0])


def test_a_fraction_is_read_as_its_quotient():
    np.testing.assert_array_equal(parse_sequence("1/3 -2/4 +1.5/0.5 1e1/4"), [1 / 3, -0.5, 3, 2.5])
