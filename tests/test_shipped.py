"""The weights that ship in weights/ work on a fresh clone and score what their metadata says on real MNIST."""

from __future__ import annotations

import numpy as np
import pytest

from cnn.checkpoint import load_metadata
from cnn.evaluate import decode_image, evaluate_model
from cnn.model import WIDTH_VARIANTS, count_parameters, load, page_reading
from cnn.paths import DEFAULT_WEIGHTS, WEIGHTS_DIR

KERAS_WEIGHTS = WEIGHTS_DIR / "mnist_cnn_keras.pt"


@pytest.mark.parametrize(
    "weights, recipe, reading, at_least",
    # best, on the page's reading (three stroke widths): issues 5 and 15 ask 99.5%. keras, never read by the page,
    # reproduces the lesson's run and is held to it as that run was measured, one plain pass: the seed's Keras run
    # reached 99.22%, this one 99.16%.
    [(DEFAULT_WEIGHTS, "best", "the page's", 0.995), (KERAS_WEIGHTS, "keras", "one pass", 0.991)],
)
def test_shipped_weights_score_what_they_claim(mnist_test, weights, recipe, reading, at_least):
    images, labels = mnist_test
    r = evaluate_model(load(weights), images, labels)
    one_pass = r["reading"]["one_pass_accuracy"]
    print(f"\n{weights.name}: {r['accuracy']:.4%} on the {r['count']} MNIST test images, {one_pass:.4%} on one pass")
    assert r["count"] == 10_000
    assert (r["accuracy"] if reading == "the page's" else one_pass) >= at_least
    meta = load_metadata(weights)
    assert meta["recipe"] == recipe
    # The metadata was measured, not typed in: it agrees with this run to the image.
    assert abs(meta["test_accuracy"] - r["accuracy"]) < 1e-9
    assert np.array_equal(np.array(meta["test"]["confusion"]), np.array(r["confusion"]))
    stored = meta["test"]["misclassified"]
    assert [m["index"] for m in stored] == [m["index"] for m in r["misclassified"]]
    assert all(np.array_equal(decode_image(m["image"]), images[m["index"]]) for m in stored)
    # what the page quotes of its unsure and not-a-digit warnings was measured on these weights too
    assert meta["test"]["unsure"] == r["unsure"] and meta["test"]["not_a_digit"] == r["not_a_digit"]
    assert meta["test"]["reading"] == r["reading"] and r["reading"]["widths"] == list(WIDTH_VARIANTS)


def test_shipped_metadata_describes_the_network():
    meta = load_metadata(DEFAULT_WEIGHTS)
    assert meta["parameters"] == count_parameters(load(DEFAULT_WEIGHTS)) == 34_826
    assert meta["train_samples"] == 54_000 and meta["val_samples"] == 6_000
    assert len(meta["history"]) == meta["hyperparameters"]["epochs"]


@pytest.mark.parametrize(
    "name, arch, parameters, at_least",
    # the dense networks' accuracy on the page's reading as measured when they were trained (docs/network.md), less
    # half a point
    [("dense44", "dense44", 34_990, 0.960), ("dense30", "dense30", 23_860, 0.946),
     ("dense44, no dropout", "dense44", 34_990, 0.975), ("dense30, no dropout", "dense30", 23_860, 0.970)],
)
def test_shipped_dense_networks_score_what_they_claim(mnist_test, name, arch, parameters, at_least):
    from cnn.model import arch_of
    from cnn.paths import shipped_networks

    images, labels = mnist_test
    path = shipped_networks()[name]
    model = load(path, arch=arch)
    r = evaluate_model(model, images, labels)
    meta = load_metadata(path)
    assert arch_of(model) == meta["arch"] == arch and meta["parameters"] == count_parameters(model) == parameters
    assert r["accuracy"] >= at_least and abs(meta["test_accuracy"] - r["accuracy"]) < 1e-9
    assert meta["recipe"] == "best" and meta["hyperparameters"]["dropout"] == (0.0 if "no dropout" in name else 0.5)


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_the_shipped_robustness_figures_are_those_of_the_shipped_weights(mnist_test):
    """weights/robustness.json: measured on these very files, and a few of its figures measured again here."""
    from cnn.data import to_float
    from cnn.paths import shipped_networks
    from cnn.perturb import Move, apply
    from cnn.robustness import current, read

    data = read()
    assert current(data) and data["test_digits"] == 10_000
    images, labels = mnist_test
    x = to_float(images)
    for sweep, value, move in [("shift_x", 4, Move(dx=4)), ("shift_y", -6, Move(dy=-6)), ("rotation", 30, Move(rotate=30))]:
        moved = apply(x, move).numpy()
        s = data["sweeps"][sweep]
        for name, path in shipped_networks().items():
            accuracy = float((page_reading(load(path), moved).argmax(1) == labels).mean())
            assert s["accuracy"][name][s["values"].index(value)] == pytest.approx(accuracy, abs=1e-6), (sweep, name)
