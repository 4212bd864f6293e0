"""The dense networks on the page: their reading beside the convnet's, the Move it part, and the comparison tab."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnn import paths
from cnn.model import load, page_reading
from cnn.paths import shipped_networks
from cnn.perturb import Move, apply
from cnn.preprocess import canvas_to_mnist
from cnn.robustness import CONTROLS, read
from cnn.strokes import draw_digit
from tests.helpers.page import metric, run_app, shown
from ui.figures import COMPARED, NETWORK_NAMES


@pytest.fixture(scope="module")
def nets():
    return {name: load(path) for name, path in shipped_networks().items()}


def test_the_dense_reading_sits_beside_the_prediction(nets):
    drawing = draw_digit(5)
    at = run_app(drawing)
    probs = page_reading(nets["dense44"], canvas_to_mnist(drawing))[0]
    (reading,) = [h.proto.body for h in at.get("html") if "A dense network reads it as" in h.proto.body]
    assert f"<b>A dense network reads it as {probs.argmax()}</b>" in reading
    from ui.figures import percent

    bars = re.search(r'aria-label="probabilities, ([^"]*)"', reading).group(1)
    assert bars == ", ".join(f"{d}: {percent(p).replace('<', '&lt;').replace('>', '&gt;')}" for d, p in enumerate(probs))
    caption = shown(next(c.value for c in at.caption if c.value.startswith("On MNIST")))
    for name in COMPARED:
        assert f"{NETWORK_NAMES[name]}: " in caption
    assert "34,990 parameters" in caption and "23,860 parameters" in caption and "34,826 parameters" in caption


def test_a_missing_dense_network_leaves_the_page_working(tmp_path, monkeypatch):
    monkeypatch.setitem(paths.DENSE_WEIGHTS, "dense44", tmp_path / "missing.pt")
    at = run_app(draw_digit(5), part="Move it")
    assert not at.exception and metric(at, "Prediction") == "5"
    assert any("No dense network to compare" in shown(c.value) for c in at.caption)


def test_dense_weights_in_the_convnets_place_are_refused(tmp_path, monkeypatch):
    import shutil

    weights = tmp_path / "mnist_cnn.pt"
    shutil.copy(paths.DENSE_WEIGHTS["dense44"], weights)
    shutil.copy(paths.DENSE_WEIGHTS["dense44"].with_suffix(".json"), weights.with_suffix(".json"))
    monkeypatch.setattr(paths, "DEFAULT_WEIGHTS", weights)
    at = run_app(draw_digit(5))
    assert not at.exception and metric(at, "Prediction") is None
    assert any("does not hold the convnet" in shown(e.value) for e in at.error)


@pytest.mark.parametrize("move", [Move(), Move(dx=6), Move(dy=-5, rotate=30), Move(scale=0.6, stroke=2, noise=0.2)])
def test_move_it_reads_the_moved_image_with_every_network(nets, move):
    drawing = draw_digit(7)
    state = {f"mv_{k}": getattr(move, k) for k in ("dx", "dy", "rotate", "scale", "stroke", "noise")}
    at = run_app(drawing, part="Move it", **state)
    assert not at.exception and not at.error
    moved = apply(canvas_to_mnist(drawing), move).numpy()
    for name in COMPARED:
        probs = page_reading(nets[name], moved)[0]
        assert metric(at, f"{NETWORK_NAMES[name]} reads") == str(probs.argmax())
    captions = [shown(c.value) for c in at.caption if shown(c.value).startswith("p(")]
    expected = [page_reading(nets[n], moved)[0][7] for n in COMPARED]
    assert len(captions) == 3 and all(c.startswith("p(7): ") for c in captions)
    from ui.figures import percent

    assert [c.split(": ", 1)[1] for c in captions] == [percent(p) for p in expected]


def test_the_sweep_matches_each_moved_image_read_alone(nets):
    from cnn.robustness import probability_along

    image = canvas_to_mnist(draw_digit(4))
    models = {n: nets[n] for n in COMPARED}
    move = Move(dy=2, rotate=10)
    along = probability_along(models, image, move, "dx", 4)
    for i, dx in enumerate(CONTROLS["dx"]):
        one = apply(image, Move(dx=dx, dy=2, rotate=10)).numpy()
        for name, model in models.items():
            assert along[name][i] == pytest.approx(float(page_reading(model, one)[0][4]), abs=1e-6)


def test_move_it_without_a_drawing_asks_for_one():
    at = run_app(None, part="Move it")
    assert not at.exception
    assert any("Draw a digit on the canvas" in i.value for i in at.info)


def test_move_it_quotes_the_measurement_it_plots():
    at = run_app(draw_digit(3), part="Move it")
    text = shown(next(m.value for m in at.markdown if m.value.startswith("Of MNIST")))
    sx = read()["sweeps"]["shift_x"]
    i = sx["values"].index(4)
    for name in COMPARED:
        assert f"{NETWORK_NAMES[name]} {sx['accuracy'][name][i]:.1%}" in text
    assert "holds up far better" in text  # what the shipped figures show; the text is computed from them


def test_the_comparison_tab_lists_every_shipped_network(nets):
    at = run_app(None, part="Dense against convolution")
    assert not at.exception and not at.error
    (table,) = [d.value for d in at.dataframe if "network" in d.value.columns]
    assert list(table["network"]) == [NETWORK_NAMES[n] for n in shipped_networks()]
    assert list(table["parameters"]) == [34_826, 34_990, 23_860, 34_990, 23_860]
    gap = shown(next(m.value for m in at.markdown if m.value.startswith("Accuracy on the")))
    assert re.search(r"convnet \d+\.\d\d% against \d+\.\d\d%", gap)
