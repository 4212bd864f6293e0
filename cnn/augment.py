"""Batched random affine augmentation of MNIST digits: rotation, scale, shear and shift, never flips."""

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


def random_affine(x: torch.Tensor, spec: Affine, gen: torch.Generator) -> torch.Tensor:
    """Each image of the (N, 1, 28, 28) batch moved by its own random affine map, bilinear, zeros outside."""
    theta = affine_matrices(len(x), spec, gen).to(device=x.device, dtype=x.dtype)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (N, 28, 28, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
