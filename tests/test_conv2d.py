"""The 2D explorer's maths against torch.nn.functional.conv2d, for every control."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn.conv2d import CLASSIC_KERNELS, KernelError, conv2d, output_size, padding_amounts, parse_kernel

rng = np.random.default_rng(7)


def reference(image, kernel, pads, stride, dilation):
    top, bottom, left, right = pads
    x = F.pad(torch.tensor(image)[None, None], (left, right, top, bottom))
    return F.conv2d(x, torch.tensor(kernel)[None, None], stride=stride, dilation=dilation)[0, 0].numpy()


@pytest.mark.parametrize("kernel_shape", [(1, 1), (2, 2), (3, 3), (3, 2), (4, 4), (5, 5)])
def test_every_control_matches_torch(kernel_shape):
    for padding, stride, dilation in itertools.product(["valid", "same", "full", 0, 1, 3], [1, 2, 3], [1, 2]):
        image = rng.normal(size=(int(rng.integers(7, 15)), int(rng.integers(7, 15))))
        kernel = rng.normal(size=kernel_shape)
        layout = conv2d(image, kernel, padding, stride, dilation)
        if 0 in layout.output.shape:  # the dilated kernel is larger than the padded input: torch refuses it too
            assert dilation * (max(kernel_shape) - 1) + 1 > min(layout.padded.shape)
            continue
        expected = reference(image, kernel, layout.pads, stride, dilation)
        np.testing.assert_allclose(layout.output, expected, atol=1e-10, err_msg=f"{padding} {stride} {dilation}")
        if isinstance(padding, int):  # symmetric zeros: torch's own padding argument gives the same
            own = F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None], padding=padding,
                           stride=stride, dilation=dilation)[0, 0].numpy()
            np.testing.assert_allclose(layout.output, own, atol=1e-10)


@pytest.mark.parametrize("k, d", [(3, 1), (2, 1), (4, 2), (5, 1)])
def test_same_keeps_the_size_like_torch(k, d):
    image, kernel = rng.normal(size=(12, 9)), rng.normal(size=(k, k))
    layout = conv2d(image, kernel, "same", 1, d)
    assert layout.output.shape == image.shape
    own = F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None], padding="same", dilation=d)
    np.testing.assert_allclose(layout.output, own[0, 0].numpy(), atol=1e-10)


def test_output_size_formula():
    for n, k, p, s, d in itertools.product([5, 28], [1, 3, 4], [0, 1, 2], [1, 2, 3], [1, 2]):
        expected = (n + 2 * p - d * (k - 1) - 1) // s + 1
        if expected < 1:
            continue
        assert output_size(n, k, 2 * p, s, d) == expected
        assert conv2d(np.zeros((n, n)), np.ones((k, k)), p, s, d).output.shape == (expected, expected)


def test_windows_hold_the_products_of_each_step():
    image, kernel = rng.normal(size=(9, 9)), rng.normal(size=(3, 3))
    layout = conv2d(image, kernel, 1, 2, 2)
    for i in range(layout.output.shape[0]):
        for j in range(layout.output.shape[1]):
            rows, cols, values, products = layout.window(i, j)
            assert list(rows) == [2 * i, 2 * i + 2, 2 * i + 4]
            np.testing.assert_allclose(products, values * kernel)
            assert products.sum() == pytest.approx(layout.output[i, j])


def test_classic_kernels_and_the_network_convention():
    image = np.zeros((7, 7))
    image[:, 3:] = 1.0  # dark left half, bright right half: a vertical edge
    out = conv2d(image, np.array(CLASSIC_KERNELS["Vertical edges (Sobel)"]), "valid").output
    assert (out[:, 1] < 0).all() and (out[:, 0] == 0).all()  # not flipped: left-positive weights see dark
    np.testing.assert_allclose(conv2d(image, np.array(CLASSIC_KERNELS["Identity"]), "same").output, image)


def test_padding_amounts():
    assert padding_amounts("same", (4, 3), 1) == (1, 2, 1, 1)
    assert padding_amounts("full", (3, 3), 2) == (4, 4, 4, 4)
    assert padding_amounts(2, (3, 3), 1) == (2, 2, 2, 2)
    with pytest.raises(ValueError):
        padding_amounts("half", (3, 3), 1)
    with pytest.raises(ValueError):
        padding_amounts(-1, (3, 3), 1)


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), ("1 2\n3", "same number"), ("1 x", "not a number"), ("nan", "not a number"), ("1e999", "finite"), ("1e9", "too large"),
     ("\n".join(["1 " * 8] * 8), "at most 7")],
)
def test_bad_kernels(text, message):
    with pytest.raises(KernelError, match=message):
        parse_kernel(text)


def test_kernel_formats():
    np.testing.assert_array_equal(parse_kernel("1 0 -1; 2 0 -2\n1,0,-1"), [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    np.testing.assert_array_equal(parse_kernel("[[1, 2], [3, 4]]"), [[1, 2], [3, 4]])
