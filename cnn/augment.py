"""Batched random augmentation of MNIST digits: an affine map (rotation, scale, shear, shift), never flips, and an
optional elastic distortion (Simard, Steinkraus and Platt, 2003), all in one grid_sample."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Affine:
    rotate_deg: float = 10.0  # uniform in [-rotate, rotate]
    scale: float = 0.1  # zoom factor uniform in [1 - scale, 1 + scale]
    shear: float = 0.15  # horizontal shear factor uniform in [-shear, shear]
    shift_px: float = 2.0  # translation uniform in [-shift, shift] pixels, each axis


@dataclass(frozen=True)
class Elastic:
    alpha: float = 0.0  # strength: uniform noise in [-1, 1] per pixel, smoothed, times alpha pixels (0: none)
    sigma: float = 4.0  # the smoothing Gaussian's standard deviation in pixels: how far the stretch reaches


def affine_matrices(n: int, spec: Affine, gen: torch.Generator) -> torch.Tensor:
    """(n, 2, 3) random matrices for affine_grid, which map output coordinates to input ones in [-1, 1] units."""
    u = torch.rand(n, 5, generator=gen) * 2 - 1  # (n, 5) uniform in [-1, 1]
    angle = u[:, 0] * math.radians(spec.rotate_deg)
    zoom = 1 + u[:, 1] * spec.scale
    shear = u[:, 2] * spec.shear
    shift = u[:, 3:5] * spec.shift_px * 2 / 28  # pixels -> normalised units (28 pixels span 2)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom  # sampling the input at 1/zoom enlarges the digit
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos, -sin + shear * cos
    theta[:, 1, 0], theta[:, 1, 1] = sin, cos + shear * sin
    theta[:, :, 2] = shift
    return theta


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """A normalised 1D Gaussian out to three standard deviations: (2 * ceil(3 sigma) + 1,)."""
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def elastic_field(n: int, height: int, width: int, spec: Elastic, gen: torch.Generator) -> torch.Tensor:
    """(n, height, width, 2) random smooth displacements in pixels, (dx, dy) as grid_sample orders them.

    Simard et al.'s recipe: independent uniform noise in [-1, 1] for each pixel and axis, smoothed by a Gaussian of
    `sigma` pixels (zeros beyond the border), times `alpha`.
    """
    noise = torch.rand(n * 2, 1, height, width, generator=gen) * 2 - 1  # (2n, 1, H, W), dx and dy of each image
    k = gaussian_kernel(spec.sigma)
    r = len(k) // 2
    field = F.conv2d(noise, k.view(1, 1, 1, -1), padding=(0, r))  # along x
    field = F.conv2d(field, k.view(1, 1, -1, 1), padding=(r, 0))  # along y: (2n, 1, H, W)
    return (field.view(n, 2, height, width) * spec.alpha).permute(0, 2, 3, 1)  # (n, H, W, 2)


def random_affine(x: torch.Tensor, spec: Affine, gen: torch.Generator, elastic: Elastic | None = None) -> torch.Tensor:
    """Each image of the (N, 1, H, W) batch moved by its own random affine map, and by its own elastic distortion
    when `elastic` has a strength; bilinear, zeros outside. The random numbers come from `gen`, on the CPU."""
    n, _, height, width = x.shape
    theta = affine_matrices(n, spec, gen).to(device=x.device, dtype=x.dtype)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (N, H, W, 2), input coordinates in [-1, 1]
    if elastic is not None and elastic.alpha > 0:
        px = torch.tensor([2 / width, 2 / height])  # pixels -> normalised units, x then y
        grid = grid + (elastic_field(n, height, width, elastic, gen) * px).to(device=x.device, dtype=x.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
