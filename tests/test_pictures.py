"""Every picture on the page true to what it shows: colour scales the theme leaves alone, one signed convention,
scales that start where the data does, legends for every line style, units a learner can read."""

from __future__ import annotations

import json
import re

import numpy as np
import plotly.colors
import pytest

from cnn.explain import occlusion
from cnn.model import load
from cnn.preprocess import canvas_to_mnist
from cnn.strokes import draw_digit
from tests.helpers.page import run_app, shown
from ui.chapters import SLUGS
from ui.figures import (
    ERROR_SCALE, HEAT_SCALE, SIGNED_COLOURS, THEME_PLACEHOLDERS, WEIGHT_SCALE, colour_scale, confusion_figure,
    robustness_figure,
)


def figures(at) -> list[dict]:
    """The plotly figures a run of the page sent, without the theme's own template (whose placeholders are meant)."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    for spec in specs:
        spec["layout"].pop("template", None)
    return specs


def array(value) -> np.ndarray:
    """A figure's array as JSON holds it: a list, or plotly's base64 typed array."""
    if isinstance(value, dict):
        import base64

        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return data.reshape([int(n) for n in str(value.get("shape", len(data))).split(",")]).astype(float)
    return np.array(value, dtype=float)


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(v) for v in re.findall(r"\d+", plotly.colors.hex_to_rgb(colour).__str__()
                                            if colour.startswith("#") else colour)[:3])


def test_no_scale_holds_a_colour_the_theme_swaps():
    """Inferno's black was the theme's placeholder #000004, drawn pink over Grad-CAM's zero."""
    assert "#000004" in plotly.colors.sequential.Inferno  # why the page's scales go through colour_scale
    for name in ("Inferno", "Viridis", "RdBu", "Greys_r", "Reds", "Magma", "Plasma"):
        scale = colour_scale(name)
        assert not {c.lower() for _, c in scale} & THEME_PLACEHOLDERS
        assert [rgb(c) for _, c in scale] == [rgb(c) for _, c in plotly.colors.get_colorscale(name)]  # same colours
    assert rgb(HEAT_SCALE[0][1]) == (0, 0, 4)


@pytest.mark.parametrize("chapter", SLUGS)
def test_no_figure_on_the_page_holds_a_placeholder_colour(chapter):
    at = run_app(draw_digit(5), chapter=chapter, why_method="Grad-CAM on conv2")
    assert not at.exception
    for spec in figures(at):
        text = json.dumps(spec).lower()
        assert not [p for p in THEME_PLACEHOLDERS if p in text], spec["layout"].get("title")


def test_every_signed_picture_is_blue_where_positive():
    """Kernels, dense units, occlusion and the input gradient: one convention, said once where it is first met."""
    top, bottom = rgb(WEIGHT_SCALE[-1][1]), rgb(WEIGHT_SCALE[0][1])
    assert top[2] > top[0] and bottom[0] > bottom[2]  # positive end blue, negative end red
    for method in ("Occlusion", "Input gradient"):
        at = run_app(draw_digit(1), part="Why this digit?", why_method=method)
        (heat,) = [t for spec in figures(at) for t in spec["data"] if t.get("zmid") == 0]
        assert heat["colorscale"] == WEIGHT_SCALE
        text = next(m.value for m in at.markdown if "**Blue**" in m.value)
        assert ("**Blue**: covering it lowers the probability" if method == "Occlusion"
                else "**Blue**: more ink there would raise") in text
    at = run_app(draw_digit(1), part="Feature maps")
    assert any(SIGNED_COLOURS in c.value for c in at.caption)
    signed = [t for spec in figures(at) for t in spec["data"] if t.get("zmid") == 0 or (
        t.get("zmin") is not None and t.get("zmin") == -(t.get("zmax") or 0) and t.get("zmin") != 0)]
    assert signed and all(t["colorscale"] == WEIGHT_SCALE for t in signed)


def test_a_confusion_matrix_with_no_errors_is_white_with_whole_counts():
    fig = confusion_figure(np.diag(np.arange(1, 11)))
    heat = fig.data[0]
    assert heat.zmin == 0 and heat.zmax == 1 and heat.colorbar.dtick == 1
    assert rgb(ERROR_SCALE[0][1]) == (255, 245, 240)  # zero errors: the scale's near-white
    cm = np.diag(np.full(10, 90))
    cm[3, 5] = 12
    fig = confusion_figure(cm)
    assert fig.data[0].zmax == 12 and fig.data[0].colorbar.dtick == 3


def test_every_line_style_of_the_robustness_chart_has_a_legend_entry():
    values = [0, 2, 4]
    sweep = {"values": values, "what": "x", "accuracy": {"convnet": [1, 0.9, 0.5], "dense44": [1, 0.8, 0.3]}}
    fig = robustness_figure({"shift_x": sweep, "shift_y": sweep, "rotation": sweep})
    shown_in_legend = [t for t in fig.data if t.showlegend is not False]
    styles = {(t.line.dash or "solid") for t in fig.data if t.x[0] is not None}
    assert styles == {"solid", "dot"}
    assert {(t.line.dash or "solid") for t in shown_in_legend} >= styles
    assert {"shifted down"} <= {t.name for t in shown_in_legend if t.line.dash == "dot"}
    assert {"convnet", "dense 784→44→10"} <= {t.name for t in shown_in_legend}


def test_occlusion_is_in_points_of_probability_without_si_prefixes():
    digit = draw_digit(1)
    at = run_app(digit, part="Why this digit?", why_method="Occlusion")
    (heat,) = [t for spec in figures(at) for t in spec["data"] if t.get("zmid") == 0]
    expected = 100 * occlusion(load(), canvas_to_mnist(digit), fill=0.5)[1]
    np.testing.assert_allclose(array(heat["z"]), expected, atol=1e-4)
    assert heat["colorbar"]["exponentformat"] == "none" and "points" in heat["colorbar"]["title"]["text"]
    text = next(shown(m.value) for m in at.markdown if "Each 4×4 patch" in m.value)
    assert "in points" in text and "Empty space can be evidence too" in text


def test_black_patches_over_empty_space_change_nothing():
    """What the page says of covering in black: a patch with no ink leaves the image, and so the reading, as it was."""
    image = canvas_to_mnist(draw_digit(7))
    drop = occlusion(load(), image, fill=0.0)  # (10, 28, 28)
    assert image[:6, :4].max() == 0  # a corner no patch with ink reaches
    assert np.abs(drop[:, :4, :4]).max() < 1e-6  # zero but for the rounding of a batch of 169 against a batch of 1
    assert np.abs(drop).max() > 1e-3


def test_a_very_sure_reading_points_to_log_probability():
    at = run_app(draw_digit(0), part="Why this digit?", why_method="Occlusion")
    text = next(shown(m.value) for m in at.markdown if "Each 4×4 patch" in m.value)
    (heat,) = [t for spec in figures(at) for t in spec["data"] if t.get("zmid") == 0]
    small = np.abs(array(heat["z"])).max() < 0.1
    assert ("Measure the drop in log-probability" in text) == small


def test_the_2d_explorers_output_is_labelled_and_after_bias_and_relu_is_conv1s_map():
    """The output was the raw sums, unlabelled, and looked unlike the channel in Feature maps; its first step read
    "= 0 = 0" on the drawing's blank corner."""
    import torch
    import torch.nn.functional as F

    from cnn.conv2d import bias_relu, busiest, conv2d
    from cnn.features import feature_maps

    drawing = draw_digit(2)
    net, image = load(), canvas_to_mnist(drawing)
    maps = feature_maps(net, image)["conv1"]
    channel = int(maps.max(axis=(1, 2)).argmax())
    at = run_app(drawing, part="2D convolution", c2d_channel=channel)
    assert any(m.value.startswith("**Output** 26×26: max(0, sum + bias)") for m in at.markdown)
    out = [t for spec in figures(at) for t in spec["data"] if t.get("type") == "heatmap"][-1]
    np.testing.assert_allclose(array(out["z"]), maps[channel], atol=1e-5)  # Feature maps' channel, as shown there
    sums = conv2d(image, net.conv1.weight[channel, 0].detach().numpy()).output
    line = next(shown(m.value) for m in at.markdown if m.value.startswith("Sum at ("))
    assert line.startswith(f"Sum at {divmod(busiest(sums), 26)}") and "= 0 = 0" not in line
    at.session_state["c2d_show"] = "The sums alone"
    at.run()
    assert any(m.value.startswith("**Output** 26×26: the sums, before bias and ReLU") for m in at.markdown)
    out = [t for spec in figures(at) for t in spec["data"] if t.get("type") == "heatmap"][-1]
    np.testing.assert_allclose(array(out["z"]), sums, atol=1e-9)
    x, w = torch.tensor(image, dtype=torch.float64)[None, None], net.conv1.weight[channel:channel + 1].detach().double()
    b = net.conv1.bias[channel:channel + 1].detach().double()
    np.testing.assert_allclose(bias_relu(sums, float(b)), F.relu(F.conv2d(x, w, b))[0, 0].detach().numpy(), atol=1e-9)


def test_a_blank_window_says_its_sum_is_zero_in_words():
    at = run_app(draw_digit(2), part="2D convolution", c2d_step_26x26=0)
    line = next(shown(m.value) for m in at.markdown if m.value.startswith("Sum at (0, 0)"))
    assert line == "Sum at (0, 0): every pixel under the kernel is 0 here, so the sum is **0**."


def contrast(a: str, b: str) -> float:
    """WCAG's contrast ratio of two colours."""
    def luminance(colour):
        channels = [c / 255 for c in rgb(colour)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("background", ["#ffffff", "#0e1117"])  # Streamlit's light and dark pages
def test_the_figures_own_colours_show_on_either_theme(background):
    """Bars and curves drawn in the page's own colours keep WCAG's 3:1 for graphics in light and in dark."""
    from ui.figures import ACCENT, MUTED, NETWORK_COLOURS

    for colour in (ACCENT, MUTED, *NETWORK_COLOURS.values()):
        assert contrast(colour, background) >= 3, (colour, background)


def test_the_replay_sent_without_validating_its_frames_is_what_plotly_would_validate():
    """The replay's frames are built as plotly's own dicts and not validated on a stroke (ui.figures.PrebuiltFigure):
    validating the whole figure again changes nothing in what the browser is sent."""
    import plotly.graph_objects as go
    import plotly.io

    from cnn.replay import replay
    from ui.figures import PrebuiltFigure, replay_figure
    from ui.resources import snapshot_models_shipped

    snaps, models = snapshot_models_shipped()
    fig = replay_figure(replay(snaps, models, canvas_to_mnist(draw_digit(6))), 6)
    assert isinstance(fig, PrebuiltFigure) and len(fig.to_dict()["frames"]) == len(snaps)
    sent = json.loads(plotly.io.to_json(fig, validate=False))
    validated = json.loads(plotly.io.to_json(go.Figure(fig.to_dict()), validate=False))
    assert sent == validated
    assert all("bdata" in t["z"] for f in sent["frames"] for t in f["data"] if t["type"] == "heatmap")


@pytest.mark.parametrize("scale, low, high", [("MAP_SCALE", 0, 100), ("WEIGHT_SCALE", -100, 100)])
def test_a_gapped_scale_gives_every_value_its_colour_and_the_gap_none(scale, low, high):
    """The replay's whole-number heatmaps (ui.figures.gapped): each value low..high gets the colour it had on the
    original scale over low..high, and GAP none."""
    import ui.figures as figures

    original, gapped = getattr(figures, scale), figures.gapped(getattr(figures, scale), low, high)
    values = np.linspace(low, high, 41)
    before = plotly.colors.sample_colorscale(original, list((values - low) / (high - low)))
    after = plotly.colors.sample_colorscale(gapped, list((values - figures.GAP) / (high - figures.GAP)))
    channels = lambda colours: np.array([plotly.colors.unlabel_rgb(c) for c in colours])  # noqa: E731
    assert np.abs(channels(before) - channels(after)).max() <= 1  # the same colour, to plotly's rounding
    assert gapped[0] == [0.0, "rgba(0,0,0,0)"] and gapped[-1][0] == pytest.approx(1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_first_screens_charts_sent_unvalidated_are_what_plotly_would_validate(dtype):
    """The probabilities' bars and the 28x28 image are validated once per shape and then sent with their data
    replaced (ui.figures.probability_figure, image_figure): the browser is sent exactly what plotly's own figure,
    built and validated afresh, would send, for any reading, spread, image, height and title."""
    import plotly.io

    from ui.figures import image_figure, plotted_image_figure, plotted_probability_figure, probability_figure

    rng = np.random.default_rng(5)
    for height, errors in [(250, None), (220, None), (240, rng.random(10).astype(dtype) / 10)]:
        for probs in (rng.dirichlet(np.ones(10) * 0.3).astype(dtype), np.eye(10, dtype=dtype)[7],
                      np.full(10, 0.1, dtype)):
            sent = plotly.io.to_json(probability_figure(probs, height, errors), validate=False)
            assert sent == plotly.io.to_json(plotted_probability_figure(probs, height, errors), validate=False)
    for height, title in [(250, None), (230, None), (150, "conv1, channel 3")]:
        image = rng.random((28, 28)).astype(dtype)
        image[:5] = 0
        sent = plotly.io.to_json(image_figure(image, height, title), validate=False)
        assert sent == plotly.io.to_json(plotted_image_figure(image, height, title), validate=False)
        assert json.loads(sent)["data"][0]["z"]["dtype"] == np.dtype(dtype).str.lstrip("<|")


def test_the_feature_maps_sent_unvalidated_are_what_plotly_would_validate():
    """The feature maps part's five heatmaps a stroke (ui.figures.mosaic_figure) are validated once per shape and then
    sent with their data, colour range and highlight replaced: exactly what plotly's own figure would send."""
    import plotly.io

    from cnn.features import tile
    from ui.figures import mosaic_figure, plotted_mosaic_figure

    rng = np.random.default_rng(8)
    for channels, size, height in [(32, 26, 230), (64, 5, 300)]:
        maps = np.maximum(rng.normal(size=(channels, size, size)), 0).astype(np.float32)
        mosaic, channel_of = tile(maps, 8)
        for highlight in (None, (0, size, size + 1, 2 * size + 1), (size + 1, 2 * size + 1, 0, size)):
            args = (mosaic, channel_of, float(maps.max()), height, highlight)
            sent = plotly.io.to_json(mosaic_figure(*args), validate=False)
            assert sent == plotly.io.to_json(plotted_mosaic_figure(*args), validate=False)
        one = maps[3]
        args = (one, np.full(one.shape, 3, np.int16), float(maps.max()), 300, None)
        assert (plotly.io.to_json(mosaic_figure(*args), validate=False)
                == plotly.io.to_json(plotted_mosaic_figure(*args), validate=False))
    blank = np.zeros((4, 4), np.float32)  # a drawing whose maps are all zero: the colour range stays positive
    assert json.loads(plotly.io.to_json(mosaic_figure(blank, np.zeros((4, 4), np.int8), 0.0, 230, None)))["data"][0]["zmax"] > 0


def test_figures_a_stroke_does_not_change_are_built_once_and_sent_as_plotly_would():
    """ui.figures.unchanging: the training curves, the robustness sweeps and the parameter counter's chart are built
    once for each value of what they show and sent the same way again; a new value (or the same dicts in another
    order) builds a new one; and no more than UNCHANGING_KEPT are kept."""
    import plotly.io

    import ui.figures as figures

    built = []

    def bars(values: dict, scale) -> "figures.go.Figure":
        built.append(1)
        return figures.go.Figure(figures.go.Bar(x=list(values), y=np.asarray(list(values.values())) * scale))

    first = figures.unchanging(bars, {"a": 1.0, "b": 2.0}, np.int64(3))
    assert plotly.io.to_json(first, validate=False) == plotly.io.to_json(bars({"a": 1.0, "b": 2.0}, 3), validate=False)
    built.clear()
    again = figures.unchanging(bars, {"a": 1.0, "b": 2.0}, np.int64(3))
    assert not built and again.to_dict() is first.to_dict()
    assert json.loads(plotly.io.to_json(figures.unchanging(bars, {"b": 2.0, "a": 1.0}, 3)))["data"][0]["x"] == ["b", "a"]
    assert json.loads(plotly.io.to_json(figures.unchanging(bars, {"a": 1.0, "b": 2.0}, np.array([1, 2]))))
    assert len(built) == 2
    for k in range(figures.UNCHANGING_KEPT + 5):
        figures.unchanging(bars, {"a": float(k)}, 1)
    assert len(figures._unchanging) <= figures.UNCHANGING_KEPT
    with pytest.raises(TypeError):
        figures.unchanging(bars, {"a": object()}, 1)
