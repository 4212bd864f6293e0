"""Batched augmentation: affine maps that never flip, and elastic fields checked against a numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnn import augment
from cnn.augment import Affine, Elastic, affine_matrices, elastic_field, gaussian_kernel, random_affine

STILL = Affine(rotate_deg=0, scale=0, shear=0, shift_px=0)


def digits(n: int = 8, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g) * (torch.rand(n, 1, 28, 28, generator=g) > 0.7)  # (n, 1, 28, 28)


def test_no_movement_leaves_the_images_as_they_are():
    x = digits()
    out = random_affine(x, STILL, torch.Generator().manual_seed(0), Elastic(alpha=0))
    torch.testing.assert_close(out, x)


def test_affine_maps_keep_the_orientation_and_stay_in_their_ranges():
    spec = Affine()
    theta = affine_matrices(10_000, spec, torch.Generator().manual_seed(0))  # (n, 2, 3)
    det = torch.linalg.det(theta[:, :, :2])
    assert (det > 0).all()  # never a mirror image: a flipped 2 or 5 is not a digit
    # rotation and shear keep areas, so the determinant is 1 / zoom**2 with zoom in [1 - scale, 1 + scale]
    zoom = det.rsqrt()
    assert zoom.min() >= 1 - spec.scale - 1e-6 and zoom.max() <= 1 + spec.scale + 1e-6
    assert zoom.min() < 1 - 0.9 * spec.scale and zoom.max() > 1 + 0.9 * spec.scale  # the whole range is drawn
    shift_px = theta[:, :, 2] * 28 / 2
    assert shift_px.abs().max() <= spec.shift_px + 1e-5


def test_gaussian_kernel_is_normalised_and_symmetric():
    k = gaussian_kernel(4.0)
    assert len(k) == 25 and abs(k.sum().item() - 1) < 1e-6
    torch.testing.assert_close(k, k.flip(0))
    assert k.argmax().item() == 12


def test_elastic_field_is_smoothed_uniform_noise_times_alpha():
    """The same noise smoothed by numpy's convolution (zeros beyond the border), row by row then column by column."""
    spec = Elastic(alpha=34, sigma=4)
    field = elastic_field(3, 28, 28, spec, torch.Generator().manual_seed(5))  # (3, 28, 28, 2)
    noise = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(5)).numpy()[:, 0] * 2 - 1
    k = gaussian_kernel(spec.sigma).numpy().astype(np.float64)
    smooth = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 2, noise.astype(np.float64))
    smooth = np.apply_along_axis(lambda c: np.convolve(c, k, mode="same"), 1, smooth)
    expected = (smooth.reshape(3, 2, 28, 28) * spec.alpha).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(field.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_elastic_field_is_smooth_and_scales_with_alpha():
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    small = elastic_field(500, 28, 28, Elastic(alpha=10), g())
    large = elastic_field(500, 28, 28, Elastic(alpha=40), g())
    torch.testing.assert_close(large, small * 4)
    assert abs(small.mean().item()) < 0.02
    # Neighbouring pixels move nearly together: that is what makes the distortion elastic rather than noise. For
    # noise smoothed by a Gaussian of sigma 4, the difference of neighbours has about 0.18 of the field's spread
    # (sqrt(2 * (1 - exp(-1 / (4 * sigma**2))))); for unsmoothed noise it would have 1.4 times it.
    step = (small[:, :, 1:] - small[:, :, :-1]).pow(2).mean().sqrt()
    assert step < 0.25 * small.pow(2).mean().sqrt()


def test_a_field_of_one_pixel_moves_the_image_by_one_pixel(monkeypatch):
    """Units and axis order: a displacement of (1, 0) pixels samples each output pixel from its right neighbour."""

    def right_by_one(n, height, width, spec, gen):
        field = torch.zeros(n, height, width, 2)
        field[..., 0] = 1.0
        return field

    monkeypatch.setattr(augment, "elastic_field", right_by_one)
    x = digits()
    out = random_affine(x, STILL, torch.Generator().manual_seed(0), Elastic(alpha=1))
    torch.testing.assert_close(out[..., :-1], x[..., 1:])
    assert out[..., -1].abs().max() < 1e-5  # sampled from beyond the border: zeros


@pytest.mark.parametrize("elastic", [None, Elastic(alpha=34)])
def test_each_image_moves_its_own_way_reproducibly(elastic):
    x = digits(1).expand(16, 1, 28, 28)
    a = random_affine(x, Affine(), torch.Generator().manual_seed(1), elastic)
    b = random_affine(x, Affine(), torch.Generator().manual_seed(1), elastic)
    torch.testing.assert_close(a, b)
    assert len({tuple(img.flatten().tolist()) for img in a.round(decimals=4)}) == 16
    assert a.min() >= 0 and a.max() <= 1  # bilinear sampling never leaves the pixel range
