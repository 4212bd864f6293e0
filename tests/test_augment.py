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


# --- stroke width and blur (issue 15) -------------------------------------------------------------------------------


def numpy_grey_dilation(img: np.ndarray) -> np.ndarray:
    """The 3x3 maximum of each pixel's neighbourhood, the border padded with the lowest value: a plain reference."""
    padded = np.pad(img, 1, constant_values=-np.inf)
    h, w = img.shape
    return np.max([padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)], axis=0)


def test_whole_passes_are_grey_dilations_and_erosions():
    x = digits(1)
    img = x[0, 0].numpy()
    width = lambda s: augment.change_stroke_width(x, torch.tensor([s]))[0, 0].numpy()  # noqa: E731
    np.testing.assert_allclose(width(1.0), numpy_grey_dilation(img), rtol=0, atol=1e-7)
    np.testing.assert_allclose(width(2.0), numpy_grey_dilation(numpy_grey_dilation(img)), rtol=0, atol=1e-7)
    np.testing.assert_allclose(width(-1.0), -numpy_grey_dilation(-img), rtol=0, atol=1e-7)
    np.testing.assert_allclose(width(0.5), (img + numpy_grey_dilation(img)) / 2, rtol=0, atol=1e-6)  # half a pass
    np.testing.assert_allclose(width(0.0), img, rtol=0, atol=0)


def test_each_image_gets_its_own_amount():
    x = digits(1).expand(3, 1, 28, 28)
    out = augment.change_stroke_width(x, torch.tensor([1.0, 0.0, -1.0]))
    assert out[0].sum() > x[0].sum() and torch.equal(out[1], x[1]) and out[2].sum() < x[2].sum()


def test_stroke_width_amounts_are_drawn_over_the_whole_range_and_each_image_its_own():
    x = digits(1).expand(400, 1, 28, 28).contiguous()
    out = augment.random_thickness(x, thicken=1.5, thin=0.5, gen=torch.Generator().manual_seed(0))
    ink = out.sum(dim=(1, 2, 3)) / x[0].sum()
    assert ink.min() < 0.8 and ink.max() > 1.8  # thinner and much thicker ones both drawn
    assert len(set(ink.round(decimals=5).tolist())) > 300
    assert (ink[1:] >= 0).all() and out.max() <= x.max() + 1e-6  # dilation and erosion never leave the pixel range


def test_a_bold_pen_grows_its_share_of_the_images_by_its_range_of_dilations():
    x = digits(1).expand(1000, 1, 28, 28).contiguous()
    same = augment.random_thickness(x, thicken=1.0, thin=0.5, gen=torch.Generator().manual_seed(5))
    out = augment.random_thickness(x, thicken=1.0, thin=0.5, gen=torch.Generator().manual_seed(5), bold=0.3)
    low, high = augment.BOLD_WIDTH
    ink = out.sum(dim=(1, 2, 3))
    lightest = augment.change_stroke_width(x[:1], torch.tensor([low])).sum()
    heaviest = augment.change_stroke_width(x[:1], torch.tensor([high])).sum()
    widest = augment.change_stroke_width(x[:1], torch.tensor([1.0])).sum()  # the most the plain range grows one
    bold = ink > widest + 1e-3
    assert 0.25 < bold.float().mean() < 0.35  # about its share
    assert (ink[bold] >= lightest - 1e-3).all() and (ink[bold] <= heaviest + 1e-3).all()
    assert ink[bold].max() > 0.95 * heaviest and ink[bold].min() < lightest + 0.1 * (heaviest - lightest)
    none = augment.random_thickness(x, thicken=1.0, thin=0.5, gen=torch.Generator().manual_seed(5), bold=0.0)
    torch.testing.assert_close(none, same, rtol=0, atol=0)  # no bold pens: the stream and images of before


def test_no_stroke_change_and_no_blur_draw_nothing_from_the_generator():
    """The recipes trained before these fields existed keep their random stream, so their runs reproduce."""
    x = digits()
    g = torch.Generator().manual_seed(3)
    assert augment.random_thickness(x, 0.0, 0.0, g) is x and augment.random_blur(x, 0.0, g) is x
    assert torch.equal(torch.rand(4, generator=g), torch.rand(4, generator=torch.Generator().manual_seed(3)))


def test_blur_operators_match_torch_interpolate_down_then_up():
    x = digits(6)
    ops = augment.blur_operators(28)
    lo, hi = augment.BLUR_SIZES
    assert ops.shape == (hi - lo + 1, 28, 28)
    for i, m in enumerate(range(lo, hi + 1)):
        small = torch.nn.functional.interpolate(x, size=(m, m), mode="area")
        ref = torch.nn.functional.interpolate(small, size=(28, 28), mode="bilinear", align_corners=False)
        torch.testing.assert_close((ops[i] @ x[:, 0] @ ops[i].T).unsqueeze(1), ref, rtol=0, atol=1e-5)
    torch.testing.assert_close(ops.sum(dim=2), torch.ones(hi - lo + 1, 28))  # each keeps a flat image flat


def test_blur_changes_about_its_share_of_the_images():
    x = digits(1).expand(1000, 1, 28, 28).contiguous()
    out = augment.random_blur(x, 0.3, torch.Generator().manual_seed(0))
    changed = (out - x).abs().flatten(1).amax(1) > 1e-4
    assert 0.25 < changed.float().mean() < 0.35
    assert torch.equal(out[~changed], x[~changed])


def test_a_recipe_s_affine_ranges_come_from_its_metadata():
    assert augment.affine_of({}) == Affine()  # recipes from before rotate and shear were settable
    a = augment.affine_of({"rotate": 15.0, "shear": 0.4})
    assert (a.rotate_deg, a.shear, a.scale, a.shift_px) == (15.0, 0.4, Affine().scale, Affine().shift_px)


def test_width_averaging_is_the_mean_of_the_three_readings():
    from cnn.model import WIDTH_VARIANTS, as_batch, build, predict_proba, predict_proba_widths

    torch.manual_seed(0)
    model = build("convnet").eval()
    images = digits(5)[:, 0].numpy()
    each = [predict_proba(model, augment.change_stroke_width(as_batch(images), torch.full((5,), a)))
            for a in WIDTH_VARIANTS]
    got = predict_proba_widths(model, images)
    np.testing.assert_allclose(got, np.mean(each, axis=0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got.sum(1), 1, rtol=1e-5)
    assert WIDTH_VARIANTS[0] == 0 and not np.allclose(each[1], each[2])  # as drawn, thinner, thicker: three readings


def bar(lean_deg: float = 0.0, width: float = 2.0) -> torch.Tensor:
    """A (1, 1, 28, 28) straight stroke from row 4 to row 23 whose top leans `lean_deg` to the right: a plain 1."""
    ys, xs = torch.meshgrid(torch.arange(28) + 0.5, torch.arange(28) + 0.5, indexing="ij")
    t = (ys - 4).clamp(0, 20)
    centre = 14 - (t - 10) * np.tan(np.radians(lean_deg))  # rows further down sit further left
    ink = ((width / 2 + 0.5 - (xs - centre).abs() * np.cos(np.radians(lean_deg))).clamp(0, 1))
    return (ink * ((ys >= 4) & (ys < 24))).view(1, 1, 28, 28).float()


@pytest.mark.parametrize("lean", [0.0, 15.0])
def test_a_flag_falls_from_the_top_to_the_left_at_its_angle_from_the_stem(lean):
    x = bar(lean)
    turn, length = np.radians(45.0), 0.4
    out = augment.add_flags(x, torch.tensor([True]), torch.tensor([length]), torch.tensor([turn]))
    added = (out - x)[0, 0]
    assert (added >= 0).all() and added.sum() > 4  # ink only added, and a visible flag
    ys, xs = torch.nonzero(added > 0.5, as_tuple=True)
    assert ys.min() >= 3 and ys.max() <= 4 + 0.5 * 20  # from the top, at most about its length down
    top_x = (x[0, 0, 4] * torch.arange(28)).sum() / x[0, 0, 4].sum()
    assert (xs <= top_x + 1).all()  # all of it on the stem's left
    # The flag's far end: the added pixel furthest from the start, found at the heading lean + turn from straight down.
    far = int(torch.argmax((xs - top_x) ** 2 + (ys - 4.0) ** 2))
    heading = np.degrees(np.arctan2(float(top_x - xs[far]), float(ys[far] - 4.0)))
    assert abs(heading - (lean + 45.0)) < 12  # a pixel grid: the end is within a pixel or so
    assert abs(np.hypot(float(top_x - xs[far]), float(ys[far] - 4.0)) - length * 20) < 2.0


@pytest.mark.parametrize("steepest", [augment.FLAG_STEEPEST_DEG, 40.0])
def test_a_flag_never_points_up_or_along_the_level(steepest):
    x = bar(30.0)
    turn = torch.tensor([np.radians(65.0)])
    out = augment.add_flags(x, torch.tensor([True]), torch.tensor([0.5]), turn, steepest)
    ys, xs = torch.nonzero((out - x)[0, 0] > 0.5, as_tuple=True)
    top_x = (x[0, 0, 4] * torch.arange(28)).sum() / x[0, 0, 4].sum()
    far = int(torch.argmax((xs - top_x) ** 2 + (ys - 4.0) ** 2))
    heading = np.degrees(np.arctan2(float(top_x - xs[far]), float(ys[far] - 4.0)))
    assert steepest - 8 < heading < steepest + 8  # 30 + 65 would be 95 degrees: turned back to the steepest


def test_flags_go_only_to_the_chosen_1s_with_ink():
    x = torch.cat([bar(), bar(), bar(), torch.zeros(1, 1, 28, 28)])
    labels = torch.tensor([1, 7, 1, 1])
    out = augment.random_flags(x, labels, share=1.0, gen=torch.Generator().manual_seed(0))
    assert not torch.equal(out[0], x[0]) and not torch.equal(out[2], x[2])  # every 1 with ink has its flag
    assert torch.equal(out[1], x[1]) and torch.equal(out[3], x[3])  # a 7 and an empty image are left as they are
    assert out.max() <= 1.0


def changes_its_share_and_draws_nothing_when_off(change, image: torch.Tensor, digit: int) -> None:
    """`change(x, labels, share, gen)` alters about 30% of 1,000 copies of `image` labelled `digit` at share 0.3;
    at share 0 it returns its input and leaves the generator as it was."""
    x = image.expand(1000, 1, 28, 28).contiguous()
    labels = torch.full((1000,), digit)
    out = change(x, labels, 0.3, torch.Generator().manual_seed(0))
    changed = (out - x).abs().flatten(1).amax(1) > 1e-4
    assert 0.25 < changed.float().mean() < 0.35
    g = torch.Generator().manual_seed(3)
    assert change(x, labels, 0.0, g) is x
    assert torch.equal(torch.rand(4, generator=g), torch.rand(4, generator=torch.Generator().manual_seed(3)))


def test_flags_go_to_about_their_share_of_the_1s_and_draw_nothing_when_off():
    changes_its_share_and_draws_nothing_when_off(augment.random_flags, bar(), 1)


def strokes(*segments, width: float = 2.0) -> torch.Tensor:
    """A (1, 1, 28, 28) image of straight strokes, each ((x0, y0), (x1, y1)) in pixel units, anti-aliased."""
    ys, xs = torch.meshgrid(torch.arange(28) + 0.5, torch.arange(28) + 0.5, indexing="ij")
    ink = torch.zeros(28, 28)
    for (x0, y0), (x1, y1) in segments:
        dx, dy = x1 - x0, y1 - y0
        t = (((xs - x0) * dx + (ys - y0) * dy) / (dx * dx + dy * dy)).clamp(0, 1)
        ink = torch.maximum(ink, (width / 2 + 0.5 - torch.hypot(xs - x0 - t * dx, ys - y0 - t * dy)).clamp(0, 1))
    return ink.view(1, 1, 28, 28)


def seven(droop: float = 0.0, foot: float = 12.0) -> torch.Tensor:
    """A 7: a bar from x=6 to x=20 at row 4.5 (its left end `droop` pixels lower), and a stem down to (foot, 23.5).
    The top quarter of the ink's rows holds all of a level bar, and only the top of a drooping one."""
    return strokes(((6.0, 4.5 + droop), (20.0, 4.5)), ((20.0, 4.5), (foot, 23.5)))


@pytest.mark.parametrize("droop, foot, keep", [(0.0, 12.0, 0.5), (6.0, 12.0, 0.5), (0.0, 4.0, 0.4)])
def test_a_shortened_bar_loses_its_left_part_and_keeps_its_stem(droop, foot, keep):
    """The last 7 leans far: its stem runs left of where the bar is cut, still within the rows that are cleared."""
    x = seven(droop, foot)
    out = augment.shorten_bars(x, torch.tensor([True]), torch.tensor([keep]))
    assert (out <= x + 1e-6).all()  # ink only taken away
    stem = strokes(((20.0, 4.5), (foot, 23.5)))
    assert torch.allclose(out * (stem > 0), x * (stem > 0), atol=1e-6)  # not a pixel of the stem touched
    gone = x - out
    ys, xs = torch.nonzero(gone[0, 0] > 0.5, as_tuple=True)
    assert xs.min() <= 6 and xs.max() <= 14  # the bar's left part, to its very end, even when it droops
    assert torch.allclose(out[0, 0, :6, 17:], x[0, 0, :6, 17:])  # its right end stays as it was
    assert out[0, 0, :10, :10].max() < 0.05  # nothing is left of the cut bar's left end: no stray dots


def test_short_bars_go_only_to_the_chosen_7s_about_their_share_and_draw_nothing_when_off():
    x = torch.cat([seven(), seven(), torch.zeros(1, 1, 28, 28)])
    out = augment.random_short_bars(x, torch.tensor([7, 1, 7]), 1.0, torch.Generator().manual_seed(0))
    assert not torch.equal(out[0], x[0])  # the 7 is cut
    assert torch.equal(out[1], x[1]) and torch.equal(out[2], x[2])  # a 1 and an empty image are left as they are
    changes_its_share_and_draws_nothing_when_off(augment.random_short_bars, seven(), 7)
