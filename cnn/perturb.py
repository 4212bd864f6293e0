"""Moving a 28x28 input: shift, rotate, scale, thicker or thinner strokes, noise; one image or a batch, in torch.

What the page's "Move it" part and the robustness measurement (cnn/robustness.py) apply, so that both do exactly the
same thing. Images are white ink on black in [0, 1]; whatever is moved out of the frame is lost, and what comes in
is background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

MAX_SHIFT = 8  # pixels, each direction
MAX_ROTATE = 45.0  # degrees, either way
SCALES = (0.5, 1.5)  # the smallest and largest zoom
MAX_STROKE = 2  # pixels of dilation (thicker) or erosion (thinner)
MAX_NOISE = 0.5  # standard deviation of the added Gaussian noise


@dataclass(frozen=True)
class Move:
    dx: int = 0  # pixels to the right (negative: left)
    dy: int = 0  # pixels down (negative: up)
    rotate: float = 0.0  # degrees, counter-clockwise as seen
    scale: float = 1.0  # zoom about the frame's centre
    stroke: int = 0  # > 0: strokes that many pixels thicker (3x3 dilation, repeated); < 0: thinner (erosion)
    noise: float = 0.0  # standard deviation of Gaussian noise added, then clipped to [0, 1]
    seed: int = 0  # the noise's random seed: the same move gives the same image

    def is_identity(self) -> bool:
        return self == Move(seed=self.seed)


def shift(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """(N, 28, 28) images moved dx pixels right and dy down, by whole pixels, background filling in."""
    n, h, w = x.shape
    out = torch.zeros_like(x)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[:, max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)]
    return out


def rotate_scale(x: torch.Tensor, degrees, scale) -> torch.Tensor:
    """(N, 28, 28) images turned by `degrees` (counter-clockwise as seen) and zoomed by `scale` about the centre,
    bilinear, background outside. Each may be one number for all images or a sequence of N, one per image."""
    degrees = torch.as_tensor(degrees, dtype=torch.float64).expand(len(x))
    scale = torch.as_tensor(scale, dtype=torch.float64).expand(len(x))
    if bool((degrees == 0).all() and (scale == 1).all()):
        return x
    a = torch.deg2rad(degrees)
    # affine_grid maps each output pixel to the input pixel it samples: the inverse of the wanted move. Rows grow
    # downwards, so a counter-clockwise turn as seen is a clockwise one in (x, y) coordinates.
    cos, sin = torch.cos(a) / scale, torch.sin(a) / scale  # (N,)
    theta = torch.zeros(len(x), 2, 3, dtype=torch.float64)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = cos, -sin, sin, cos
    grid = F.affine_grid(theta.to(x.dtype), (len(x), 1, *x.shape[1:]), align_corners=False)  # (N, 28, 28, 2)
    return F.grid_sample(x[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, 0]


def stroke_width(x: torch.Tensor, pixels: int) -> torch.Tensor:
    """(N, 28, 28) images with strokes `pixels` thicker (3x3 grey-level dilation, repeated) or thinner (erosion)."""
    y = x[:, None]
    for _ in range(abs(pixels)):
        y = F.max_pool2d(y, 3, stride=1, padding=1) if pixels > 0 else -F.max_pool2d(-y, 3, stride=1, padding=1)
    return y[:, 0]


def add_noise(x: torch.Tensor, std: float, seed: int) -> torch.Tensor:
    if std == 0:
        return x
    gen = torch.Generator().manual_seed(seed)
    return (x + std * torch.randn(x.shape, generator=gen, dtype=x.dtype)).clamp(0, 1)


def apply(images: np.ndarray | torch.Tensor, move: Move) -> torch.Tensor:
    """(N, 28, 28) or (28, 28) images in [0, 1] after `move`: strokes first, then the turn and zoom, the shift, the
    noise. Returns float32 of the same shape."""
    x = torch.as_tensor(np.asarray(images, np.float32) if not torch.is_tensor(images) else images, dtype=torch.float32)
    single = x.ndim == 2
    x = x[None] if single else x
    x = stroke_width(x, move.stroke)
    x = rotate_scale(x, move.rotate, move.scale)
    x = shift(x, move.dx, move.dy)
    x = add_noise(x, move.noise, move.seed)
    return x[0] if single else x


def apply_each(image: np.ndarray | torch.Tensor, moves: list[Move]) -> torch.Tensor:
    """(len(moves), 28, 28): one (28, 28) image under each move, as apply() gives it, in a few batched steps.

    The turn and zoom of all of them is one grid_sample call; strokes are grouped by width; the noise of moves with
    the same strength and seed is the same, as in apply().
    """
    x = torch.as_tensor(np.asarray(image, np.float32) if not torch.is_tensor(image) else image, dtype=torch.float32)
    x = x[None].expand(len(moves), *x.shape).clone()  # (V, 28, 28)
    for width in {m.stroke for m in moves}:
        rows = [i for i, m in enumerate(moves) if m.stroke == width]
        x[rows] = stroke_width(x[rows], width)
    x = rotate_scale(x, [m.rotate for m in moves], [m.scale for m in moves])
    x = torch.stack([shift(x[i : i + 1], m.dx, m.dy)[0] for i, m in enumerate(moves)])
    for std, seed in {(m.noise, m.seed) for m in moves if m.noise}:
        rows = [i for i, m in enumerate(moves) if (m.noise, m.seed) == (std, seed)]
        gen = torch.Generator().manual_seed(seed)
        noise = std * torch.randn((1, *x.shape[1:]), generator=gen, dtype=x.dtype)  # what apply() draws for one image
        x[rows] = (x[rows] + noise).clamp(0, 1)
    return x


def validate(move: Move) -> Move:
    """The move, or ValueError naming the field outside what the page offers."""
    checks = {
        "dx": abs(move.dx) <= MAX_SHIFT,
        "dy": abs(move.dy) <= MAX_SHIFT,
        "rotate": abs(move.rotate) <= MAX_ROTATE,
        "scale": SCALES[0] <= move.scale <= SCALES[1],
        "stroke": abs(move.stroke) <= MAX_STROKE,
        "noise": 0 <= move.noise <= MAX_NOISE,
    }
    bad = [k for k, ok in checks.items() if not ok]
    if bad:
        raise ValueError(f"move out of range: {', '.join(f'{k}={getattr(move, k)}' for k in bad)}")
    return move
