"""Why the convnet holds up as it does when the digit moves: pool2's change under a shift, training on moved digits,
ink leaving the frame, and the errors on unmoved digits; each figure against a numpy reference or a fresh measurement,
and the sentences of the page's Move it part and of docs/network.md that quote them."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from cnn import robustness
from cnn.augment import affine_of
from cnn.checkpoint import load_metadata
from cnn.data import file_sha256, to_float
from cnn.model import load, page_reading
from cnn.paths import ROOT, shipped_networks
from cnn.perturb import MAX_SHIFT, Move, apply
from cnn.robustness import (LOSING, UNAUGMENTED, cut_off, frame, ink_kept, pool2_features, pooling_cell, read,
                            shift_change, unmoved_errors)
from cnn.strokes import draw_digit
from tests.helpers.page import run_app, shown
from ui.move import why_text


@pytest.fixture(scope="module")
def convnet():
    return load(shipped_networks()["convnet"])


@pytest.fixture(scope="module")
def digits(mnist_test):
    images, labels = mnist_test
    return to_float(images), labels


def numpy_pool2(model, images: np.ndarray) -> np.ndarray:
    """conv1, ReLU, 2x2 max, conv2, ReLU, 2x2 max in numpy: (N, 28, 28) -> (N, 64, 5, 5)."""

    def conv_relu(x, layer):
        w, b = layer.weight.detach().numpy().astype(np.float64), layer.bias.detach().numpy().astype(np.float64)
        windows = sliding_window_view(x, (3, 3), axis=(2, 3))  # (N, C, H - 2, W - 2, 3, 3)
        return np.maximum(np.einsum("nchwij,ocij->nohw", windows, w) + b[None, :, None, None], 0)

    def pool(x):
        n, c, h, w = x.shape
        return x[:, :, : h // 2 * 2, : w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))

    return pool(conv_relu(pool(conv_relu(images[:, None].astype(np.float64), model.conv1)), model.conv2))


def numpy_shift(images: np.ndarray, dx: int = 0, dy: int = 0) -> np.ndarray:
    """Whole-pixel shift right and down, zeros coming in."""
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[:, max(-dy, 0) : h - max(dy, 0),
                                                                              max(-dx, 0) : w - max(dx, 0)]
    return out


def numpy_cut(images: np.ndarray, dx: int = 0, dy: int = 0) -> np.ndarray:
    """The images where they stand, the columns and rows that a shift (dx, dy) takes out of the frame blanked."""
    out = images.copy()
    h, w = images.shape[1:]
    if dx > 0:
        out[:, :, w - dx :] = 0
    if dx < 0:
        out[:, :, :-dx] = 0
    if dy > 0:
        out[:, h - dy :, :] = 0
    if dy < 0:
        out[:, :-dy, :] = 0
    return out


def rel(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    n = len(before)
    return np.sqrt(((after - before) ** 2).reshape(n, -1).sum(1) / (before**2).reshape(n, -1).sum(1))


# --- the computations against numpy ----------------------------------------------------------------------------------


def test_pool2_features_are_a_numpy_convnets(convnet, digits):
    x = digits[0][:20]
    np.testing.assert_allclose(pool2_features(convnet, x), numpy_pool2(convnet, x), atol=1e-4)


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_a_shift_changes_pool2_as_numpy_measures_it(convnet, digits):
    x = digits[0][:200]
    change = shift_change(convnet, x)
    before = numpy_pool2(convnet, x)
    assert change["cell"] == pooling_cell(convnet) == 4 and change["grid"] == before.shape[-1] == 5
    assert change["shifts"] == [1, 2, 3, 4]
    for s, pixels, pool2 in zip(change["shifts"], change["pixels"], change["pool2"]):
        moved = numpy_shift(x, dx=s)
        assert pixels == pytest.approx(rel(x, moved).mean(), abs=1e-5)
        assert pool2 == pytest.approx(rel(before, numpy_pool2(convnet, moved)).mean(), abs=1e-5)
    after = numpy_pool2(convnet, numpy_shift(x, dx=4))
    along = np.sqrt(((after[..., 1:] - before[..., :-1]) ** 2).reshape(len(x), -1).sum(1))
    assert change["one_cell"] == pytest.approx((along / np.sqrt((before**2).reshape(len(x), -1).sum(1))).mean(), abs=1e-6)


@pytest.mark.parametrize("dx, dy", [(8, 0), (-8, 0), (3, 0), (0, 8), (0, -6), (5, -4)])
def test_ink_kept_and_cut_off_are_numpys(digits, dx, dy):
    x = digits[0][:100]
    cut = numpy_cut(x, dx, dy)
    np.testing.assert_array_equal(cut_off(x, Move(dx=dx, dy=dy)), cut)
    kept = ink_kept(x, apply(x, Move(dx=dx, dy=dy)).numpy())
    np.testing.assert_allclose(kept, cut.reshape(100, -1).sum(1) / x.reshape(100, -1).sum(1), rtol=1e-6)


def test_a_blank_image_keeps_all_of_its_no_ink_and_cut_off_takes_only_a_shift():
    blank = np.zeros((1, 28, 28), np.float32)
    assert ink_kept(blank, blank)[0] == 1.0
    with pytest.raises(ValueError, match="shift alone"):
        cut_off(blank, Move(dx=2, rotate=10))


def test_the_frame_figures_against_numpy(convnet, digits):
    x, labels = digits[0][:150], digits[1][:150]
    f = frame({"convnet": convnet}, x, labels)
    for name, move in (("shift_x", {"dx": MAX_SHIFT}), ("shift_y", {"dy": -5})):
        s = f[name]
        i = s["values"].index(next(iter(move.values())))
        cut = numpy_cut(x, **move)
        kept = cut.reshape(len(x), -1).sum(1) / x.reshape(len(x), -1).sum(1)
        assert s["ink_lost"][i] == pytest.approx(1 - kept.mean(), abs=1e-6)
        assert s["losing"][i] == pytest.approx((kept < 1 - LOSING).mean(), abs=1e-6)
        assert s["cut"]["convnet"][i] == pytest.approx((page_reading(convnet, cut).argmax(1) == labels).mean(), abs=1e-6)
        assert s["ink_lost"][s["values"].index(0)] == 0 and s["losing"][s["values"].index(0)] == 0


def test_unmoved_errors_are_what_each_metadata_records():
    errors = unmoved_errors()
    assert list(errors) == list(shipped_networks())
    for name, path in shipped_networks().items():
        meta = load_metadata(path)
        confusion = np.array(meta["test"]["confusion"])
        assert errors[name]["errors"] == confusion.sum() - np.trace(confusion)  # what the confusion matrix misses
        assert errors[name]["rate"] == pytest.approx(1 - meta["test_accuracy"], abs=1e-9)
        assert errors[name]["parameters"] == meta["parameters"]


def test_errors_prints_each_network_and_its_ratio_to_the_convnet(capsys):
    assert robustness.main(["--errors"]) == 0
    out = capsys.readouterr().out
    errors = unmoved_errors()
    for name, e in errors.items():
        line = next(line for line in out.splitlines() if line.strip().startswith(name + " "))
        assert f"{e['rate']:.2%}" in line and f"{e['parameters']:,} parameters" in line
        if name != "convnet":
            assert f"{e['rate'] / errors['convnet']['rate']:.1f}x the convnet's" in line


# --- the shipped figures measured again ------------------------------------------------------------------------------


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_the_shipped_pool2_change_is_measured_again(convnet, digits):
    stored = read()["shift_change"]
    fresh = shift_change(convnet, digits[0])
    for key in ("pixels", "pool2"):
        np.testing.assert_allclose(stored[key], fresh[key], atol=1e-4)
    assert stored["one_cell"] == pytest.approx(fresh["one_cell"], abs=1e-4)


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_the_shipped_frame_figures_are_measured_again(convnet, digits):
    x, labels = digits
    stored = read()["frame"]
    for name, move in (("shift_x", {"dx": MAX_SHIFT}), ("shift_y", {"dy": MAX_SHIFT})):
        s, cut = stored[name], numpy_cut(x, **move)
        i = s["values"].index(MAX_SHIFT)
        kept = cut.reshape(len(x), -1).sum(1) / x.reshape(len(x), -1).sum(1)
        assert s["ink_lost"][i] == pytest.approx(1 - kept.mean(), abs=1e-5)
        assert s["losing"][i] == pytest.approx((kept < 1 - LOSING).mean(), abs=1e-6)
        assert s["cut"]["convnet"][i] == pytest.approx((page_reading(convnet, cut).argmax(1) == labels).mean(), abs=1e-6)


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_the_shipped_unaugmented_figures_are_measured_again(digits):
    x, labels = digits
    stored = read()["unaugmented"]
    meta = load_metadata(UNAUGMENTED)
    assert stored["sha256"] == file_sha256(UNAUGMENTED) and stored["recipe"] == meta["recipe"]
    assert meta["hyperparameters"]["augment"] is False
    model = load(UNAUGMENTED)
    for dx in (3, 4):
        moved = numpy_shift(x, dx=dx)
        assert stored["accuracy"][stored["values"].index(dx)] == pytest.approx(
            (page_reading(model, moved).argmax(1) == labels).mean(), abs=1e-6)


# --- the page's sentences --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def why():
    """The Move it part's paragraph on why the convnet is not immune, as the page shows it."""
    at = run_app(draw_digit(3), part="Move it")
    assert not at.exception
    text = shown(next(m.value for m in at.markdown if "Why not more?" in m.value))
    return text[text.index("Why not more?"):]


def test_the_page_says_pooling_absorbs_little_of_a_small_shift(why):
    c = read()["shift_change"]
    assert all(p > 0.5 * q for p, q in zip(c["pool2"][:3], c["pixels"][:3]))  # what makes the sentence true
    assert ("shifted 1, 2 and 3 pixels right, a test digit's pool2 features, what the convnet's dense layer reads, "
            f"change by {c['pool2'][0]:.0%}, {c['pool2'][1]:.0%} and {c['pool2'][2]:.0%} of their size") in why
    assert "absorbs little of a small shift" in why and "forgives" not in why
    assert "A 4-pixel shift, one step of pool2's 5×5 grid, lines up: the features move exactly one cell along" in why


def test_the_page_says_what_training_on_moved_digits_did(why):
    data = read()
    shift = affine_of(load_metadata(shipped_networks()["convnet"])["hyperparameters"]).shift_px
    assert f"shifted by up to ±{shift:g} pixels each way" in why
    plain, sx = data["unaugmented"], data["sweeps"]["shift_x"]["accuracy"]["convnet"]
    values = data["sweeps"]["shift_x"]["values"]
    theirs = [(plain["accuracy"][values.index(0)] - plain["accuracy"][values.index(s)]) * 100 for s in (1, 2, 3, 4)]
    ours = [(sx[values.index(0)] - sx[values.index(s)]) * 100 for s in (1, 2, 3, 4)]
    assert sum(ours) < 0.5 * sum(theirs)
    assert (f"The same convnet trained on digits never moved (the keras recipe) loses {theirs[0]:.1f}, {theirs[1]:.1f}, "
            f"{theirs[2]:.1f} and {theirs[3]:.1f} points of accuracy at 1, 2, 3 and 4 pixels right, where this one "
            f"loses {ours[0]:.1f}, {ours[1]:.1f}, {ours[2]:.1f} and {ours[3]:.1f}: training on moved digits spares it most of "
            "what a small shift costs") in why


def test_the_page_says_how_much_of_the_drop_is_ink_leaving_the_frame(why):
    data = read()
    f, sweep = data["frame"]["shift_x"], data["sweeps"]["shift_x"]
    i = f["values"].index(MAX_SHIFT)
    unmoved, moved = sweep["accuracy"]["convnet"][sweep["values"].index(0)], sweep["accuracy"]["convnet"][i]
    cut = f["cut"]["convnet"][i]
    assert (unmoved - cut) < (unmoved - moved) / 3  # what makes "Little" true
    assert (f"Little of the drop at {MAX_SHIFT} pixels is ink leaving the 28×28 frame. Shifted {MAX_SHIFT} pixels "
            f"right, {f['losing'][i]:.0%} of the test digits lose more than {LOSING:.0%} of their ink") in why
    assert (f"the convnet reads {cut:.1%} of them: losing the ink costs it {(unmoved - cut) * 100:.0f} of the "
            f"{(unmoved - moved) * 100:.0f} points it drops") in why


def test_the_sentences_follow_the_figures_not_the_words():
    """Other figures, other words: where pooling did absorb a shift, where training did not help, and where the ink
    was the whole drop, the paragraph says so."""
    data = copy.deepcopy(read())
    c = data["shift_change"]
    c["pool2"] = [p * 0.2 for p in c["pixels"]]
    plain = data["unaugmented"]
    plain["accuracy"] = list(data["sweeps"]["shift_x"]["accuracy"]["convnet"])
    f = data["frame"]["shift_x"]
    f["cut"]["convnet"][f["values"].index(MAX_SHIFT)] = data["sweeps"]["shift_x"]["accuracy"]["convnet"][
        f["values"].index(MAX_SHIFT)]
    text = why_text(data)
    assert "Max pooling absorbs part of a small shift" in text and "absorbs little" not in text
    assert "spares it only part of what a small shift costs" in text and "spares it most" not in text
    assert f"Most of the drop at {MAX_SHIFT} pixels is ink leaving" in text


def test_without_the_new_figures_the_page_claims_nothing_it_did_not_measure():
    data = {k: v for k, v in read().items() if k not in ("shift_change", "unaugmented", "frame", "moves")}
    text = why_text(data)
    assert text == ("Why not more? Convolution itself moves with the digit: a shifted input gives shifted feature maps. "
                    "And the dense layer that ends the convnet still sees at which position each feature fired.")


# --- docs/network.md --------------------------------------------------------------------------------------------------


def test_the_docs_quote_the_unmoved_errors_and_the_command():
    """The convnet stands apart unmoved too: docs/network.md says by how much, as the metadata records it."""
    doc = re.sub(r"\s+", " ", (ROOT / "docs" / "network.md").read_text())
    e = unmoved_errors()
    few, many = sorted((e["dense44, no dropout"]["rate"], e["dense44"]["rate"]))
    convnet = e["convnet"]["rate"]
    assert e["dense44"]["parameters"] - e["convnet"]["parameters"] < 0.01 * e["convnet"]["parameters"]  # one budget
    sentence = (f"Unmoved, it makes {few / convnet:.1f} to {many / convnet:.1f} times fewer errors than the dense "
                f"networks of its parameter budget: {convnet:.2%} of the test digits against {few:.2%}")
    assert sentence in doc and f"and {many:.2%}" in doc
    assert "(`python -m cnn.robustness --errors`" in doc
