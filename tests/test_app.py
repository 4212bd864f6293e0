"""The page under Streamlit's AppTest, with the canvas patched to send a drawing."""

from __future__ import annotations

import base64
import os
import re

import numpy as np
import pytest

from cnn import paths
from cnn.strokes import draw_digit
from tests.helpers.page import APP, CANVAS_CALLS, codes, errors, metric, png_data_url, run_app, shown
from ui.parts import DRAWING_PARTS

def test_empty_canvas_invites_to_draw():
    at = run_app(part="1D convolution padding")
    assert not at.exception
    assert metric(at, "Prediction") is None
    assert any("Draw a digit" in i.value for i in at.info)
    same = np.convolve(np.arange(1, 10), np.full(3, 1 / 3), "same")  # the default preset: the mean of three
    assert "np.convolve(x, h, 'same') = [" + "  ".join(f"{v:.6g}" for v in same) + "]" in codes(at)
    assert "  ".join(f"{v:.6g}" for v in same) == "1  2  3  4  5  6  7  8  5.66667"


@pytest.mark.parametrize("digit", [2, 5, 8])
def test_drawn_digit_is_predicted(digit):
    at = run_app(draw_digit(digit))
    assert not at.exception
    assert metric(at, "Prediction") == str(digit)
    assert float(re.sub(r"[<> %]", "", metric(at, "Probability"))) > 50


def test_the_prediction_is_the_mean_over_three_stroke_widths():
    """The page reads the image as drawn, thinner and thicker, and says so; one plain pass would read otherwise."""
    import json

    from cnn.model import READING, load, page_reading, predict_proba
    from cnn.preprocess import canvas_to_mnist

    drawing = draw_digit(9)
    image = canvas_to_mnist(drawing)
    model = load()
    expected, one_pass = page_reading(model, image)[0], predict_proba(model, image)[0]
    assert np.abs(expected - one_pass).max() > 1e-4  # the two readings differ on this drawing
    at = run_app(drawing)
    assert not at.exception
    bars = [t for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]
            if t.get("type") == "bar" and t.get("x") == [str(d) for d in range(10)]]
    shown = np.frombuffer(base64.b64decode(bars[0]["y"]["bdata"]), dtype=bars[0]["y"]["dtype"])
    np.testing.assert_allclose(shown, expected, atol=1e-6)
    assert any(READING in c.value for c in at.caption)


@pytest.mark.parametrize(
    "p, decimals, shown",
    [(1.0, 1, "> 99.9%"), (0.99996, 1, "> 99.9%"), (0.9994, 1, "99.9%"), (0.5, 1, "50.0%"), (0.00004, 1, "< 0.1%"),
     (0.0, 1, "0.0%"), (0.996, 0, "> 99%"), (0.994, 0, "99%"), (0.004, 0, "< 1%")],
)
def test_percentages_never_round_to_certainty(p, decimals, shown):
    from ui.figures import percent

    assert percent(p, decimals) == shown


@pytest.mark.parametrize("x, shown", [(-0.0001, "+0.000"), (-0.0004999, "+0.000"), (-0.0006, "-0.001"), (0.0, "+0.000"),
                                      (-0.0, "+0.000"), (0.1234, "+0.123"), (-1.5, "-1.500")])
def test_signed_numbers_never_show_minus_zero(x, shown):
    from ui.figures import signed

    assert signed(x) == shown


def test_blank_drawing_after_clear_is_not_a_prediction():
    blank = np.zeros((280, 280, 4), np.uint8)
    blank[..., 3] = 255
    at = run_app(blank)
    assert not at.exception and metric(at, "Prediction") is None


def test_unreadable_drawing_gets_a_message_not_a_traceback():
    at = run_app(np.zeros((280, 280, 2), np.uint8))  # a PNG of grey and alpha: read as RGBA, all black
    assert not at.exception and not at.error
    assert metric(at, "Prediction") is None


def test_explorer_modes_and_presets():
    """The lesson's np.convolve(h, x) with h = 1 2 5 4 slid over and x = 6 2 the kernel: its printed numbers, and a
    CNN layer's cross-correlation of the same input and kernel, against numpy and torch."""
    import torch
    import torch.nn.functional as F

    at = run_app(part="1D convolution padding")
    at.selectbox(key="c1d_preset").select("Lesson: input 1 2 5 4, kernel 6 2").run()
    assert (at.session_state["c1d_x"], at.session_state["c1d_h"]) == ("1 2 5 4", "6 2")
    at.session_state["c1d_mode"] = "full"
    at.run()
    assert "np.convolve(x, h, 'full') = [6  14  34  34  8]" in codes(at)  # the lesson's printed output
    at.session_state["c1d_mode"] = "valid"
    at.run()
    assert "np.convolve(x, h, 'valid') = [14  34  34]" in codes(at)
    at.session_state["c1d_op"] = "Cross-correlation (CNN layer, F.conv1d)"
    at.run()
    layer = F.conv1d(torch.tensor([[[1.0, 2, 5, 4]]]), torch.tensor([[[6.0, 2]]]))[0, 0].tolist()
    assert layer == [10, 22, 38]
    assert "F.conv1d(x, h, padding for 'valid') = [10  22  38]" in codes(at)
    assert not any("no position" in w.value for w in at.warning)
    assert not at.exception


@pytest.mark.parametrize("text", ["1 2 x", "", "nan", "1 " * 5000])
def test_explorer_bad_input_is_a_message(text):
    at = run_app(part="1D convolution padding")
    at.session_state["c1d_x"] = text
    at.run()
    assert not at.exception
    assert len(at.error) == 1


def test_model_panel():
    at = run_app(part="The model and its parameters")
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Dense layer parameters"] == "23,550"
    assert values["Conv layer parameters"] == "320"


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _broken_weights(kind: str, path, marker) -> None:
    import torch

    from cnn.model import ConvNet

    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "random bytes":
        path.write_bytes(os.urandom(2000))
    elif kind == "truncated":
        path.write_bytes(paths.DEFAULT_WEIGHTS.read_bytes()[:5000])
    elif kind == "another network":
        state = ConvNet().state_dict()
        state["fc.weight"] = torch.zeros(10, 3200)
        torch.save(state, path)
    elif kind == "hostile pickle":
        torch.save({**ConvNet().state_dict(), "x": _Exploit(marker)}, path)


@pytest.mark.parametrize("kind", ["missing", "empty", "random bytes", "truncated", "another network", "hostile pickle"])
def test_missing_or_broken_weights_keep_the_rest_working(tmp_path, monkeypatch, kind):
    weights, marker = tmp_path / "mnist_cnn.pt", tmp_path / "ran"
    _broken_weights(kind, weights, marker)
    monkeypatch.setattr(paths, "DEFAULT_WEIGHTS", weights)
    at = run_app(draw_digit(4), part="1D convolution padding")
    assert not at.exception
    assert metric(at, "Prediction") is None
    assert any("python cnn/train.py" in e for e in errors(at))
    assert "np.convolve(x, h, 'same')" in codes(at)  # the explorer does not need weights
    at = run_app(draw_digit(4), part="2D convolution")
    assert not at.exception and any("Output size" in m.value for m in at.markdown)
    at = run_app(None, part="The model and its parameters")
    assert not at.exception and metric(at, "Conv layer parameters") == "320"
    assert not marker.exists()


@pytest.mark.parametrize("content", [None, "{broken", "[1, 2]", '{"history": "oops", "test": 5}'])
def test_missing_or_malformed_metadata(tmp_path, monkeypatch, content):
    import shutil

    weights = tmp_path / "mnist_cnn.pt"
    shutil.copy(paths.DEFAULT_WEIGHTS, weights)
    if content is not None:
        weights.with_suffix(".json").write_text(content)
    monkeypatch.setattr(paths, "DEFAULT_WEIGHTS", weights)
    at = run_app(draw_digit(7), part="How it was trained")
    assert not at.exception
    assert metric(at, "Prediction") == "7"  # the weights themselves are fine
    assert at.error  # and the training record says what is wrong with its file


ANALYSIS = DRAWING_PARTS


@pytest.mark.parametrize("tab", ANALYSIS)
@pytest.mark.parametrize("drawn", [True, False])
def test_each_explanation_renders_with_and_without_a_drawing(tab, drawn):
    at = run_app(draw_digit(6) if drawn else None, part=tab)
    assert not at.exception
    assert not at.error
    if drawn:
        assert metric(at, "Prediction") == "6"
    elif tab != "2D convolution":
        assert any("Draw a digit on the canvas" in i.value for i in at.info)


def test_preprocessing_toggles_change_what_the_network_reads():
    small = draw_digit(4, pen=6, scale=0.3, offset=(100, -30))
    at = run_app(small, part="Step by step")
    assert metric(at, "Read with these steps") == "4"
    at = run_app(small, part="Step by step", pp_fit=False, pp_centre=False)
    assert not at.exception
    assert metric(at, "Read with these steps") != "4"  # a small off-centre digit, shrunk as a whole, is misread
    assert metric(at, "Prediction") == "4"  # the page's own reading still prepares the drawing properly


def test_why_not_another_digit():
    at = run_app(draw_digit(3), part="Why this digit?", why_target=8, why_method="Grad-CAM on conv2")
    assert not at.exception and not at.error
    assert any("The network gives 8" in c.value for c in at.caption)


def test_2d_explorer_matches_the_networks_conv1():
    from cnn.features import feature_maps
    from cnn.model import load
    from cnn.preprocess import canvas_to_mnist

    drawing = draw_digit(2)
    # the channel that responds most to this drawing, at the step where it does: a position on the stroke
    maps = feature_maps(load(), canvas_to_mnist(drawing))["conv1"]
    channel = int(maps.max(axis=(1, 2)).argmax())
    step = int(maps[channel].argmax())
    at = run_app(drawing, part="2D convolution", c2d_channel=channel, c2d_step_26x26=step)
    assert not at.exception
    line = next(m.value for m in at.markdown if f"The network's own conv1 channel {channel}" in m.value)
    ours, network = [float(v) for v in re.findall(r"\*\*(-?[\d.]+)\*\*", line)]
    assert ours == network and ours > 0
    assert "the same number" in line


def test_2d_explorer_bad_kernel_is_a_message():
    at = run_app(None, part="2D convolution", c2d_kind="Type my own", c2d_typed="1 2\n3")
    assert not at.exception
    assert any("same number of values" in e for e in errors(at))


def test_training_record():
    at = run_app(None, part="How it was trained")
    assert not at.exception and not at.error
    assert metric(at, "Test accuracy").endswith("%")
    from cnn.checkpoint import load_metadata

    reading = load_metadata(paths.DEFAULT_WEIGHTS)["test"]["reading"]
    (help_text,) = [m.proto.help for m in at.metric if m.label == "Test accuracy"]
    assert f"the mean over {len(reading['widths'])} stroke widths; {reading['one_pass_accuracy']:.2%} on one" in help_text
