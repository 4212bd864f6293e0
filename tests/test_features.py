"""Feature maps against a forward pass written out by hand with torch.nn.functional."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn.features import feature_maps, forward_with_maps, kernels, read_with_maps, tile
from cnn.model import ConvNet, page_reading, predict_proba


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(3)
    return ConvNet().eval()


def test_shapes(net):
    maps = feature_maps(net, np.random.default_rng(0).random((28, 28), dtype=np.float32))
    assert {k: v.shape for k, v in maps.items()} == {
        "conv1": (32, 26, 26), "pool1": (32, 13, 13), "conv2": (64, 11, 11), "pool2": (64, 5, 5)
    }
    assert all(v.dtype == np.float32 for v in maps.values())


def test_against_a_manual_forward_pass(net):
    image = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    probs, maps = forward_with_maps(net, image)
    x = torch.from_numpy(image)[None, None]
    w1, b1 = net.conv1.weight, net.conv1.bias
    w2, b2 = net.conv2.weight, net.conv2.bias
    with torch.no_grad():
        c1 = F.relu(F.conv2d(x, w1, b1))
        p1 = F.max_pool2d(c1, 2)
        c2 = F.relu(F.conv2d(p1, w2, b2))
        p2 = F.max_pool2d(c2, 2)
        logits = p2.flatten(1) @ net.fc.weight.T + net.fc.bias
    for name, ref in [("conv1", c1), ("pool1", p1), ("conv2", c2), ("pool2", p2)]:
        np.testing.assert_allclose(maps[name], ref[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs, F.softmax(logits, 1)[0].numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(probs, predict_proba(net, image)[0], rtol=1e-5, atol=1e-7)


def test_a_strokes_one_pass_gives_the_pages_reading_and_the_maps_of_the_drawing_as_drawn(net):
    from cnn.strokes import draw_digit
    from cnn.preprocess import canvas_to_mnist

    image = canvas_to_mnist(draw_digit(4))
    probs, maps = read_with_maps(net, image)
    np.testing.assert_allclose(probs, page_reading(net, image)[0], rtol=1e-5, atol=1e-7)
    assert np.abs(probs - predict_proba(net, image)[0]).max() > 1e-4  # not one plain pass
    for name, ref in feature_maps(net, image).items():
        np.testing.assert_allclose(maps[name], ref, rtol=1e-5, atol=1e-6)


def test_one_conv1_map_by_hand(net):
    """conv1 channel 5 at one position: the 9 pixels under the kernel times its weights, plus the bias, ReLU'd."""
    image = np.random.default_rng(2).random((28, 28), dtype=np.float32)
    maps = feature_maps(net, image)
    weights, bias = kernels(net, "conv1")
    assert weights.shape == (32, 1, 3, 3) and bias.shape == (32,)
    r, c = 10, 17
    expected = max(0.0, float((image[r : r + 3, c : c + 3] * weights[5, 0]).sum() + bias[5]))
    assert maps["conv1"][5, r, c] == pytest.approx(expected, abs=1e-5)


def test_tile_lays_maps_out_in_a_grid():
    maps = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    mosaic, channel = tile(maps, cols=2, gap=1)
    assert mosaic.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(mosaic[0:2, 4:7], maps[1])
    np.testing.assert_array_equal(mosaic[6:8, 0:3], maps[4])
    assert np.isnan(mosaic[2]).all() and np.isnan(mosaic[:, 3]).all() and np.isnan(mosaic[6:8, 4:7]).all()
    assert channel[6, 0] == 4 and channel[0, 5] == 1 and channel[2, 0] == -1


def test_a_shifted_input_gives_shifted_conv1_maps(net):
    """What the Move it part says: convolution moves with the digit (away from the borders, where zeros come in)."""
    from cnn.perturb import Move, apply

    image = np.zeros((28, 28), np.float32)
    image[8:20, 9:17] = np.random.default_rng(4).random((12, 8))
    moved = apply(image, Move(dx=3, dy=2)).numpy()
    a, b = feature_maps(net, image)["conv1"], feature_maps(net, moved)["conv1"]  # (32, 26, 26)
    np.testing.assert_allclose(b[:, 2:, 3:], a[:, :-2, :-3], atol=1e-6)
