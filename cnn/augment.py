"""Batched random augmentation of MNIST digits: an affine map (rotation, scale, shear, shift), never flips, and an
optional elastic distortion (Simard, Steinkraus and Platt, 2003), all in one grid_sample; and four changes of how the
digit was written: its strokes made thicker or thinner (grey-level dilation and erosion), the whole image blurred by
sampling it down to a few pixels and back up, as low-resolution and thick-pen digits reach the network, a flag
drawn onto a 1, as many people write it, and a 7's bar cut short, as a 7 written quickly."""

from __future__ import annotations

import functools
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


def affine_of(hyperparameters: dict) -> Affine:
    """The affine ranges a recipe (as its metadata records it) trained with: its rotation and shear, when it names
    them (recipes from before they were settable used the defaults), and the default scale and shift."""
    default = Affine()
    return Affine(
        rotate_deg=float(hyperparameters.get("rotate", default.rotate_deg)),
        scale=default.scale,
        shear=float(hyperparameters.get("shear", default.shear)),
        shift_px=default.shift_px,
    )


def change_stroke_width(x: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    """Each (N, 1, H, W) image's strokes grown or shrunk by its `amount` (N,): s > 0 applies s grey-level dilations
    (each pixel the 3x3 maximum around it), s < 0 applies |s| erosions (the 3x3 minimum), the fractional last pass
    as a blend between the image before and after it."""
    n = len(x)
    s = amount.to(device=x.device, dtype=x.dtype).view(n, 1, 1, 1)
    grow = s > 0
    out = x
    passes = math.ceil(float(s.abs().max())) if n else 0
    for k in range(passes):
        weight = (s.abs() - k).clamp(0, 1)  # (N, 1, 1, 1): 1 for a whole pass, a fraction for the last, 0 when done
        dilated = F.max_pool2d(out, 3, stride=1, padding=1)
        eroded = -F.max_pool2d(-out, 3, stride=1, padding=1)
        out = out + weight * (torch.where(grow, dilated, eroded) - out)
    return out


BOLD_WIDTH = (1.5, 3.0)  # a bold pen's dilations: MNIST's 2-3 pixel strokes become 5 to 9 pixels wide


def random_thickness(
    x: torch.Tensor, thicken: float, thin: float, gen: torch.Generator, bold: float = 0.0, bold_width=BOLD_WIDTH
) -> torch.Tensor:
    """Each image's strokes changed by its own random amount, uniform in [-thin, thicken] (change_stroke_width); and
    a share `bold` of the images instead written in a bold pen, grown by a uniform `bold_width` (low, high) dilations,
    as a small digit in a marker reaches the network. Draws nothing from `gen` when all are 0; with `bold` at 0 it
    draws what it drew before bold pens existed, so earlier runs reproduce."""
    if thicken <= 0 and thin <= 0 and bold <= 0:
        return x
    amount = torch.rand(len(x), generator=gen) * (thicken + thin) - thin
    if bold > 0:
        chosen = torch.rand(len(x), generator=gen) < bold
        low, high = bold_width
        amount = torch.where(chosen, low + torch.rand(len(x), generator=gen) * (high - low), amount)
    return change_stroke_width(x, amount)


BLUR_SIZES = (10, 24)  # down-sampled sides, inclusive: a 20-pixel digit then spans about 7 to 17 pixels


@functools.lru_cache(maxsize=8)
def blur_operators(length: int, sizes: tuple[int, int] = BLUR_SIZES) -> torch.Tensor:
    """(S, length, length): for each side m in `sizes`, the linear map that samples a signal of `length` down to m
    (area averaging) and back up (linear, align_corners=False), as one matrix. Both steps are linear and act on rows
    and columns separately, so an image's down-and-up is A @ image @ A.T."""
    eye = torch.eye(length).view(length, 1, length)  # (L, 1, L): the unit signals
    ops = []
    for m in range(sizes[0], sizes[1] + 1):
        down = F.interpolate(eye, size=m, mode="area")  # (L, 1, m)
        up = F.interpolate(down, size=length, mode="linear", align_corners=False)  # (L, 1, L): row i is A @ e_i
        ops.append(up[:, 0].T)
    return torch.stack(ops)


def random_blur(x: torch.Tensor, share: float, gen: torch.Generator, sizes: tuple[int, int] = BLUR_SIZES) -> torch.Tensor:
    """A random `share` of the (N, 1, H, W) images sampled down to a random side in `sizes` (area averaging) and back
    up (bilinear): the blur of a small or low-resolution digit enlarged. One batched matrix product per axis, no
    per-image work. Draws nothing from `gen` when share is 0."""
    if share <= 0:
        return x
    n, _, height, width = x.shape
    chosen = (torch.rand(n, generator=gen) < share).to(x.device)
    side = torch.randint(0, sizes[1] - sizes[0] + 1, (n,), generator=gen).to(x.device)  # index into the operators
    rows = blur_operators(height, sizes).to(device=x.device, dtype=x.dtype)[side]  # (N, H, H)
    cols = rows if width == height else blur_operators(width, sizes).to(device=x.device, dtype=x.dtype)[side]
    blurred = (rows @ x[:, 0] @ cols.transpose(1, 2)).unsqueeze(1)  # (N, 1, H, W)
    return torch.where(chosen.view(n, 1, 1, 1), blurred, x)


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


FLAG_LENGTH = (0.2, 0.55)  # a flag's length, as a share of the digit's height
FLAG_TURN_DEG = (30.0, 65.0)  # the angle between the flag and the digit's stem, the flag to the stem's left
FLAG_STEEPEST_DEG = 65.0  # a flag never turns further than this from straight down: a 7's bar is nearer level


def _ink_rows(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """For (N, H, W) images: which rows hold ink (N, H), the first and the last of them (N,), and how many rows they
    span, inclusive (N,)."""
    rows = (img > 0.3).any(2)
    top = rows.float().argmax(1)  # argmax gives the first of equal maxima
    bottom = img.shape[1] - 1 - rows.flip(1).float().argmax(1)
    return rows, top, bottom, (bottom - top + 1).to(img.dtype)


def _ink_centre(img: torch.Tensor, row: torch.Tensor) -> torch.Tensor:
    """(N,) the column of the centre of ink of each (H, W) image's given row (N,)."""
    line = img[torch.arange(len(img), device=img.device), row]  # (N, W)
    cols = torch.arange(img.shape[2], device=img.device, dtype=img.dtype)
    return (line * cols).sum(1) / line.sum(1).clamp_min(1e-6)


def add_flags(
    x: torch.Tensor, chosen: torch.Tensor, length: torch.Tensor, turn: torch.Tensor, steepest: float = FLAG_STEEPEST_DEG
) -> torch.Tensor:
    """The (N, 1, H, W) images, the `chosen` ones (N,) with a straight flag from the top of their ink down to the left,
    as many people write a 1: `length` (N,) a share of the ink's height, `turn` (N,) the angle in radians between the
    flag and the stem (the line from the top inked row's centre of ink to the bottom one's), so a slanted 1 gets a
    flag slanted with it, though never further than `steepest` degrees from straight down. The flag starts half a
    stroke below the top, is drawn as wide as the digit's strokes (its ink over its height) with a one-pixel
    anti-aliased edge, and never darkens the image."""
    n, _, height, width = x.shape
    img = x[:, 0]  # (N, H, W)
    rows, top, bottom, tall = _ink_rows(img)
    chosen = chosen.to(x.device) & rows.any(1)
    top_x, bottom_x = _ink_centre(img, top), _ink_centre(img, bottom)
    lean = torch.atan2(top_x - bottom_x, tall)  # (N,) the stem's angle from upright, > 0 when its top leans right
    heading = (lean + turn.to(device=x.device, dtype=x.dtype)).clamp(max=math.radians(steepest))
    stroke = (img.sum((1, 2)) / tall).clamp(1.0, 4.0)  # (N,) a stroke's width, in pixels
    x0, y0 = top_x + 0.5, top.to(x.dtype) + 0.5 * stroke  # pixel i spans [i, i + 1)
    span = length.to(device=x.device, dtype=x.dtype) * tall
    dx, dy = -span * torch.sin(heading), span * torch.cos(heading)  # (N,) from the start to the flag's end
    py = (torch.arange(height, device=x.device, dtype=x.dtype) + 0.5).view(1, height, 1)
    px = (torch.arange(width, device=x.device, dtype=x.dtype) + 0.5).view(1, 1, width)
    vx, vy = px - x0.view(n, 1, 1), py - y0.view(n, 1, 1)  # (N, H, W) from the start to each pixel centre
    along = ((vx * dx.view(n, 1, 1) + vy * dy.view(n, 1, 1)) / (dx * dx + dy * dy).view(n, 1, 1)).clamp(0, 1)
    dist = torch.hypot(vx - along * dx.view(n, 1, 1), vy - along * dy.view(n, 1, 1))
    ink = (stroke.view(n, 1, 1) / 2 + 0.5 - dist).clamp(0, 1)
    return torch.where(chosen.view(n, 1, 1, 1), torch.maximum(x, ink.unsqueeze(1)), x)


def random_flags(
    x: torch.Tensor,
    labels: torch.Tensor,
    share: float,
    gen: torch.Generator,
    digit: int = 1,
    lengths: tuple[float, float] = FLAG_LENGTH,
    turns: tuple[float, float] = FLAG_TURN_DEG,
    steepest: float = FLAG_STEEPEST_DEG,
) -> torch.Tensor:
    """A random `share` of the images of `digit` given a flag (add_flags) of random length and turn, uniform in
    `lengths` (shares of the digit's height) and `turns` (degrees from its stem), never steeper than `steepest`: the 1
    with a long flag that MNIST has few of. Draws nothing from `gen` when share is 0."""
    if share <= 0:
        return x
    u = torch.rand(len(x), 3, generator=gen)
    chosen = (u[:, 0] < share).to(labels.device) & (labels == digit)  # on the labels' device: no copy back
    length = lengths[0] + u[:, 1] * (lengths[1] - lengths[0])
    turn = torch.deg2rad(turns[0] + u[:, 2] * (turns[1] - turns[0]))
    return add_flags(x, chosen, length, turn, steepest)


BAR_BAND = 0.25  # a 7's bar: the top quarter of its ink's rows
BAR_REACH = 0.4  # how far down, as a share of the ink's height, a cut bar's leftover is cleared
BAR_KEEP = (0.4, 0.8)  # how much of the bar, from its right end, a shortened bar keeps


def shorten_bars(x: torch.Tensor, chosen: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """The (N, 1, H, W) images, the `chosen` ones (N,) with the bar at the top of their ink cut from the left, as a 7
    written quickly with a short bar: the other side of a flag on the 1s (add_flags).

    The bar is the ink in the top BAR_BAND of the ink's rows; its right end is the stem's top. `keep` (N,) of the
    bar's width is kept from its right end: ink left of the line through the cut parallel to the stem (from the
    bar's right end to the bottom row's centre of ink), in the top BAR_REACH of the rows, fades out over a pixel. So
    a bar that droops to the left is cut whole, and the stem, right of that line, is untouched. Never adds ink."""
    n, _, height, width = x.shape
    img = x[:, 0]
    inked = img > 0.3  # (N, H, W)
    rows, top, bottom, tall = _ink_rows(img)
    chosen = chosen.to(x.device) & rows.any(1)
    py = torch.arange(height, device=x.device, dtype=x.dtype).view(1, height, 1)
    px = torch.arange(width, device=x.device, dtype=x.dtype).view(1, 1, width)
    rel = py - top.to(x.dtype).view(n, 1, 1)  # (N, H, 1) rows below the top
    bar = inked & (rel < BAR_BAND * tall.view(n, 1, 1))  # (N, H, W)
    right = torch.where(bar, px, torch.full_like(px, -1.0)).amax((1, 2))  # (N,) the bar's rightmost column
    left = torch.where(bar, px, torch.full_like(px, float(width))).amin((1, 2))
    bottom_x = _ink_centre(img, bottom)
    dx, dy = bottom_x - right, tall  # (N,) the stem's direction, downwards
    cut = right - keep.to(device=x.device, dtype=x.dtype) * (right - left)  # (N,) where the kept bar begins
    # how far each pixel lies left of the line through (cut, top) along the stem, in pixels
    beyond = (dx.view(n, 1, 1) * rel - dy.view(n, 1, 1) * (px - cut.view(n, 1, 1))) / torch.hypot(dx, dy).view(n, 1, 1)
    fade = torch.where(rel < BAR_REACH * tall.view(n, 1, 1), (0.5 - beyond).clamp(0, 1), torch.ones_like(beyond))
    return torch.where(chosen.view(n, 1, 1, 1), x * fade.unsqueeze(1), x)


def random_short_bars(
    x: torch.Tensor, labels: torch.Tensor, share: float, gen: torch.Generator, digit: int = 7
) -> torch.Tensor:
    """A random `share` of the images of `digit` with their bar shortened (shorten_bars) to a random share of it,
    uniform in BAR_KEEP. Draws nothing from `gen` when share is 0."""
    if share <= 0:
        return x
    u = torch.rand(len(x), 2, generator=gen)
    chosen = (u[:, 0] < share).to(labels.device) & (labels == digit)
    keep = BAR_KEEP[0] + u[:, 1] * (BAR_KEEP[1] - BAR_KEEP[0])
    return shorten_bars(x, chosen, keep)
