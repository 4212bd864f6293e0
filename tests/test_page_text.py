"""Every sentence on the page is true: its claims checked against numpy, torch, the weights and their metadata.

Each test here would have caught one of the corrections of a line-by-line check of the page's text.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnn import paths
from cnn.checkpoint import load_metadata
from cnn.conv1d import agree_either_way, correlate, parse_sequence
from cnn.explain import MC_SAMPLES, mc_dropout
from cnn.model import load
from cnn.strokes import draw_digit
from cnn.recipe import optimizer_name
from tests.helpers.page import run_app, shown
from ui.analysis import a_digit, flag_figures, training_inputs, unsure_figures
from ui.chapters import SLUGS
from ui.figures import percent, probability_figure

KERAS_WEIGHTS = paths.WEIGHTS_DIR / "mnist_cnn_keras.pt"
TEXT_ELEMENTS = ("markdown", "caption", "error", "warning", "info", "success")


def texts(at) -> list[str]:
    return [e.value for kind in TEXT_ELEMENTS for e in getattr(at, kind)]


# --- 1. computed strings never start a Markdown construct ------------------------------------------------------------


def test_a_certain_reading_is_not_a_block_quote():
    at = run_app(draw_digit(3), part="Step by step")  # read as a 3 with probability 1.0 in float32
    caption = next(c.value for c in at.caption if "with probability" in c.value)
    assert caption.startswith("with probability \\>") and shown(caption) == "with probability > 99.9%"


@pytest.mark.parametrize("chapter", SLUGS)
def test_no_line_of_the_page_starts_a_quote_or_a_formula(chapter):
    at = run_app(draw_digit(8), chapter=chapter)
    assert not at.exception
    for text in texts(at):
        for line in text.splitlines():
            assert not re.match(r"\s*>", line), line  # a block quote
        assert not re.search(r"(?<!\\)\$", text), text  # LaTeX


# --- 2. the passes agree only when they do --------------------------------------------------------------------------


def test_passes_that_split_are_not_called_agreeing(mnist_test, monkeypatch):
    """MNIST test digit 5937: not flagged, yet its 30 passes split between two digits."""
    import ui.analysis

    images, _ = mnist_test
    digit = images[5937].astype(np.float32) / 255
    model = load()
    mc = mc_dropout(model, digit)
    votes = np.bincount(mc.samples.argmax(1), minlength=10)
    top = int(mc.mean.argmax())
    assert not mc.not_a_digit and votes[top] < MC_SAMPLES  # the case the check found
    monkeypatch.setattr(ui.analysis, "mc_dropout", lambda m, image: mc)  # the page reads digit 5937
    at = run_app(draw_digit(3), part="How sure is it?")
    assert not [s for s in at.success if "passes" in s.value]
    (info,) = [i.value for i in at.info if "passes" in i.value]
    assert info.startswith(f"{votes[top]} of the {MC_SAMPLES} passes read {a_digit(top)}; the others read")
    for d, v in enumerate(votes):
        if v and d != top:
            assert f"{d} ({v}×)" in info


def test_passes_that_all_agree_say_so():
    at = run_app(draw_digit(8), part="How sure is it?")
    assert [s.value for s in at.success if "passes" in s.value] == [f"The passes agree: all {MC_SAMPLES} read an 8."]


# --- 3. what the network saw in training ----------------------------------------------------------------------------


def test_step_by_step_says_the_training_digits_were_moved_at_random(monkeypatch):
    from cnn.augment import Affine

    at = run_app(draw_digit(5), part="Step by step")
    intro = at.markdown[[i for i, m in enumerate(at.markdown) if "MNIST's digits were scanned" in m.value][0]].value
    a = Affine()
    assert f"rotated by up to ±{a.rotate_deg:g}°" in intro and f"±{a.shift_px:g} pixels" in intro
    assert "only ever saw" not in intro
    hp = load_metadata(paths.DEFAULT_WEIGHTS)["hyperparameters"]  # the shipped recipe's stroke widths, as trained
    unit = "pixel" if hp["thicken"] == 1 else "pixels"
    assert f"thicker by up to {hp['thicken']:g} {unit} on each side or thinner by up to {hp['thin']:g}" in intro
    monkeypatch.setattr(paths, "DEFAULT_WEIGHTS", KERAS_WEIGHTS)  # the Keras recipe does not augment
    at = run_app(draw_digit(5), part="Step by step")
    assert any("trained on MNIST's digits exactly as they were prepared" in m.value for m in at.markdown)


# --- 4 and 7. the 1D explorer's text for each operation -------------------------------------------------------------

CORRELATION = "Cross-correlation (CNN layer, F.conv1d)"


def test_step_by_step_names_each_change_of_writing_the_recipe_trained_with():
    """From the recipe's hyperparameters as the weights' metadata records them: flags only when the run gave them."""
    plain = {"augment": True, "thicken": 1.0, "thin": 0.5}
    assert "flag" not in training_inputs(plain) and "7s" not in training_inputs(plain)
    text = training_inputs(plain | {"flag": 0.3, "blur": 0.2, "bars": 0.25})
    assert "30% of the 1s given a flag from the top down to the left" in text
    assert "25% of the 7s with their bar cut short" in text
    assert "20% of them blurred" in text and text.endswith("none prepared very differently.")
    assert training_inputs({"augment": False, "flag": 0.3}) == (
        " The network was trained on MNIST's digits exactly as they were prepared.")


@pytest.mark.parametrize("operation, side", [("Convolution (np.convolve)", "left"), (CORRELATION, "right")])
def test_same_padding_text_matches_each_operation(operation, side):
    at = run_app(None, part="1D convolution padding", c1d_x="1 2 3 4 5", c1d_h="1 1", c1d_mode="same",
                 c1d_op=operation)
    text = "\n".join(m.value for m in at.markdown)
    zeros = next(m.value for m in at.markdown if m.value.startswith("Zeros added"))
    if side == "left":
        assert "numpy putting the extra zero of an even-length kernel on the left" in text
        assert zeros.startswith("Zeros added: 1 on the left, 0 on the right")
    else:
        assert "keeps the input's length n" in text and "on the **right**" in text
        assert zeros.startswith("Zeros added: 0 on the left, 1 on the right")
        assert "numpy putting" not in text


def test_the_two_operations_are_said_to_agree_only_when_they_do():
    at = run_app(None, part="1D convolution padding", c1d_x="1 2 3 4 5", c1d_h="0.5 0.5", c1d_mode="same")
    assert any("the two give different numbers" in c.value for c in at.caption)
    np.testing.assert_allclose(np.convolve([1, 2, 3, 4, 5], [0.5, 0.5], "same"), [0.5, 1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(correlate([1, 2, 3, 4, 5], [0.5, 0.5], "same").output, [1.5, 2.5, 3.5, 4.5, 2.5])
    at = run_app(None, part="1D convolution padding", c1d_x="1 2 3 4 5", c1d_h="0.5 0.5 0.5", c1d_mode="same")
    assert any("the two give the same numbers" in c.value for c in at.caption)


def test_each_preset_says_what_its_kernel_computes():
    """The lesson's three weights of 0.5 are named for what they are, 1.5 times the mean of three, beside the true
    mean; each preset's sentence is checked against numpy on its own numbers."""
    from ui.explorer1d import DEFAULT_PRESET, PRESET_TEXT, PRESETS

    assert set(PRESET_TEXT) == set(PRESETS) and "average" not in " ".join(PRESETS).lower()
    x = parse_sequence(PRESETS["Mean of three neighbours"][0])
    mean3 = parse_sequence(PRESETS["Mean of three neighbours"][1])
    lessons = parse_sequence(PRESETS["The lesson's code: three weights of 0.5"][1])
    mean2 = parse_sequence(PRESETS["Mean of two neighbours (the lesson's figure)"][1])
    windows = np.lib.stride_tricks.sliding_window_view(x, 3)
    np.testing.assert_allclose(np.convolve(x, mean3, "valid"), windows.mean(axis=1))
    np.testing.assert_allclose(np.convolve(x, lessons, "valid"), 1.5 * windows.mean(axis=1))
    np.testing.assert_allclose(np.convolve(x, mean2, "valid"), np.lib.stride_tricks.sliding_window_view(x, 2).mean(1))
    assert "1.5 times the mean of three" in PRESET_TEXT["The lesson's code: three weights of 0.5"]
    assert np.convolve(x, mean3, "same")[0] < windows.mean(axis=1).min()  # the padding's zero pulls the end down
    at = run_app(None, part="1D convolution padding")
    assert (at.session_state["c1d_x"], at.session_state["c1d_h"]) == PRESETS[DEFAULT_PRESET]
    assert PRESET_TEXT[DEFAULT_PRESET] in [c.value for c in at.caption]
    at.selectbox[0].select("The lesson's code: three weights of 0.5").run()
    assert PRESET_TEXT["The lesson's code: three weights of 0.5"] in [c.value for c in at.caption]
    assert "np.convolve(x, h, 'same') = [1.5  3  4.5  6  7.5  9  10.5  12  8.5]" in "\n".join(c.value for c in at.code)
    at.session_state["c1d_h"] = "1 1 1"
    at.run()
    assert not any(text in [c.value for c in at.caption] for text in PRESET_TEXT.values())


def test_the_symmetric_kernel_rule_the_caption_states():
    """Odd symmetric kernels no longer than the input agree in every mode; even ones differ in same."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        half = rng.normal(size=int(rng.integers(1, 5)))
        odd = np.concatenate([half, half[-2::-1]])  # length 2k - 1
        even = np.concatenate([half, half[::-1]])  # length 2k
        if len(odd) <= n:
            x = rng.normal(size=n)
            assert all(agree_either_way(x, odd, mode) for mode in ("full", "same", "valid"))
        if len(even) <= n:
            x = rng.normal(size=n)
            assert agree_either_way(x, even, "full") and agree_either_way(x, even, "valid")
            assert not agree_either_way(x, even, "same")
    assert not agree_either_way([1, 2], [1, 1, 1], "same")  # longer than the input: the lengths differ


# --- 5 and 6. figures quoted from the weights' metadata -------------------------------------------------------------


def test_the_unsure_and_flag_figures_come_from_the_metadata():
    meta = load_metadata(paths.DEFAULT_WEIGHTS)
    u, f = meta["test"]["unsure"], meta["test"]["not_a_digit"]
    text = unsure_figures(meta)
    assert f"happens for {u['count']}," in text and f"misreads {1 - u['accuracy']:.0%} of those" in text
    assert f"against {1 - u['rest_accuracy']:.2%} of the rest" in text
    reliability, rates = flag_figures(meta)
    assert f"falls on {f['count']}:" in reliability and f"right for {f['accuracy']:.0%} of those" in reliability
    r = meta["not_a_digit"]["flag_rates"]
    assert f"{r['validation']:.0%} of MNIST's validation digits" in rates and f"{r['scribbles']:.0%} of random" in rates
    assert unsure_figures({}) == "" and flag_figures({}) == ("", "")  # no measurement, no figure
    stale = {"test": {**meta["test"], "unsure": {**u, "below": 0.5}}}
    assert unsure_figures(stale) == ""  # measured for another threshold than the page's


def test_no_figure_is_typed_into_the_code():
    """The figures of older weights once quoted in a comment: the page's code quotes none of the current ones either."""
    meta = load_metadata(paths.DEFAULT_WEIGHTS)
    u = meta["test"]["unsure"]
    code = "\n".join(p.read_text() for p in [paths.ROOT / "app.py", *sorted((paths.ROOT / "ui").glob("*.py"))])
    for figure in (f"{1 - u['accuracy']:.0%}", f"{1 - u['rest_accuracy']:.2%}", "46%", "0.40%"):
        assert figure not in code, figure


# --- 8 and 9. the training record -----------------------------------------------------------------------------------


def test_the_curves_caption_says_what_each_curve_measures():
    at = run_app(None, part="How it was trained")
    caption = next(c.value for c in at.caption if c.value.startswith("Training figures"))
    hp = load_metadata(paths.DEFAULT_WEIGHTS)["hyperparameters"]
    assert "running mean over each epoch on augmented images" in caption
    assert f"weight average (EMA, decay {hp['ema']:g})" in caption
    assert "That is why validation accuracy sits above training's" in caption


def test_the_optimizer_is_named_as_it_was_built():
    assert optimizer_name({"optimizer": "adam", "weight_decay": 0.05}) == "AdamW (decoupled weight decay 0.05)"
    assert optimizer_name({"optimizer": "adam", "weight_decay": 0}) == "Adam"
    assert optimizer_name({"optimizer": "sgd", "weight_decay": 0}).startswith("SGD, Nesterov")
    at = run_app(None, part="How it was trained")
    caption = shown(next(c.value for c in at.caption if "Hyperparameters" in c.value))
    assert "optimizer AdamW (decoupled weight decay 0.05)" in caption and "optimizer adam" not in caption


# --- 10. honest percentages everywhere ------------------------------------------------------------------------------


def test_hover_and_gallery_never_show_a_certainty():
    probs = np.zeros(10, np.float32)
    probs[3] = 1.0  # a float32 softmax saturated at 1
    hover = probability_figure(probs).to_dict()["data"][0]["customdata"]
    assert hover[3] == "&gt; 99.99%" and "100" not in "".join(hover)
    assert percent(0.9956, 0) == "> 99%"  # a confidently wrong test digit once shown as 100%
    at = run_app(None, part="How it was trained")
    captions = [c for img in at.get("image") for c in img.captions]
    wrong = load_metadata(paths.DEFAULT_WEIGHTS)["test"]["misclassified"]
    assert captions and set(captions) <= {f"{w['label']} → {w['predicted']} ({percent(w['probability'], 0)})" for w in wrong}
    assert not any("100%" in c for c in captions)


# --- 11 and 12. what the feature maps and Monte Carlo dropout are ---------------------------------------------------


def test_the_feature_maps_text_describes_each_layer():
    at = run_app(draw_digit(2), part="Feature maps")
    intro = next(m.value for m in at.markdown if m.value.startswith("Each small square"))
    assert "conv1's 32 filters are 1×3×3" in intro and "conv2's 64 filters are 32×3×3" in intro
    assert "A **pool** channel is its conv channel shrunk" in intro


def test_the_dropout_text_gives_the_rate_and_the_masks_tried():
    at = run_app(draw_digit(2), part="How sure is it?")
    intro = next(m.value for m in at.markdown if "dropout silenced" in m.value)
    p = load().dropout.p
    assert f"independently, with probability {p:g}" in intro
    assert f"about {p * 1600:,.0f} of them (± {np.sqrt(1600 * p * (1 - p)):.0f})" in intro
    assert "any half" not in intro and f"**{MC_SAMPLES} times**" in intro


# --- issue 26, 10. the convnet's own dense layer grows with the image --------------------------------------------------


@pytest.mark.parametrize("side", [28, 56])
def test_the_convnets_dense_layer_is_said_to_grow_with_the_image(side):
    import torch

    from cnn.model import ConvNet, count_parameters

    net = ConvNet()
    fc = sum(p.numel() for p in net.fc.parameters())
    at = run_app(None, part="The model and its parameters", pc_side=side)
    text = next(shown(m.value) for m in at.markdown if "this convnet ends in one dense layer" in m.value)
    assert f"Its {fc:,} parameters, {fc / count_parameters(net):.0%} of the network's {count_parameters(net):,}, grow with " \
           "the image" in text
    if side != 28:
        with torch.inference_mode():  # the real layers on a real image of that side
            x = torch.zeros(1, 1, side, side)
            flat = net.pool2(net.conv2(net.pool1(net.conv1(x)))).numel()
        assert f"for a grey {side}×{side} image fc would need {flat * 10 + 10:,}." in text
    caption = next(c.value for c in at.caption if "The lesson's example" in c.value)
    assert "28 × 28 × 30 weights + 30 biases = 23,550 parameters" in caption and 28 * 28 * 30 + 30 == 23_550


# --- issue 26, 11. one name for each way of reading ----------------------------------------------------------------


def test_each_way_of_reading_has_one_name_across_the_page():
    from cnn.model import ONE_PASS, PAGE_READING, READING

    meta = load_metadata(paths.DEFAULT_WEIGHTS)
    reliability, _ = flag_figures(meta)
    assert f": {PAGE_READING} is right for" in reliability
    assert READING.startswith(f"These probabilities are {PAGE_READING}:")
    runs = [run_app(draw_digit(4), part="How sure is it?"), run_app(draw_digit(4), part="How it was trained")]
    words = [w for at in runs for w in texts(at) + [m.help or "" for m in at.metric]]
    at = runs[1]
    assert not any(re.search(r"\bplain (prediction|pass|reading)", w) for w in words)
    help_text = next(m.help for m in at.metric if m.label == "Test accuracy")
    one_pass = meta["test"]["reading"]["one_pass_accuracy"]
    assert f"read with {PAGE_READING}" in help_text and f"{one_pass:.2%} on one pass of each image as drawn" in help_text
    assert ONE_PASS == "one pass of the image as drawn"
