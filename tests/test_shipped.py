"""The weights that ship in weights/ work on a fresh clone and score what their metadata says on real MNIST."""

from __future__ import annotations

import numpy as np
import pytest

from cnn.checkpoint import load_metadata
from cnn.evaluate import decode_image, evaluate_model
from cnn.model import count_parameters, load
from cnn.paths import DEFAULT_WEIGHTS, WEIGHTS_DIR

KERAS_WEIGHTS = WEIGHTS_DIR / "mnist_cnn_keras.pt"


@pytest.mark.parametrize(
    "weights, recipe, at_least",
    # best: issue 5 asks 99.5% (measured 99.57%); keras: the seed's Keras run reached 99.22%, this one 99.16%.
    [(DEFAULT_WEIGHTS, "best", 0.995), (KERAS_WEIGHTS, "keras", 0.991)],
)
def test_shipped_weights_score_what_they_claim(mnist_test, weights, recipe, at_least):
    images, labels = mnist_test
    r = evaluate_model(load(weights), images, labels)
    print(f"\n{weights.name}: {r['accuracy']:.4%} on the {r['count']} MNIST test images")
    assert r["count"] == 10_000
    assert r["accuracy"] >= at_least
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


def test_shipped_metadata_describes_the_network():
    meta = load_metadata(DEFAULT_WEIGHTS)
    assert meta["parameters"] == count_parameters(load(DEFAULT_WEIGHTS)) == 34_826
    assert meta["train_samples"] == 54_000 and meta["val_samples"] == 6_000
    assert len(meta["history"]) == meta["hyperparameters"]["epochs"]
