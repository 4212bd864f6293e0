"""The weights that ship in weights/ work on a fresh clone and score what their metadata says on real MNIST."""

from __future__ import annotations

import numpy as np

from cnn.checkpoint import load_metadata
from cnn.data import to_float
from cnn.evaluate import report
from cnn.model import count_parameters, load, predict_proba
from cnn.paths import DEFAULT_WEIGHTS


def test_shipped_weights_score_at_least_99_2_percent(mnist_test):
    images, labels = mnist_test
    model = load(DEFAULT_WEIGHTS)
    r = report(predict_proba(model, to_float(images)), labels)
    print(f"shipped weights: {r['accuracy']:.4%} on the {r['count']} MNIST test images")
    assert r["count"] == 10_000
    assert r["accuracy"] >= 0.992
    meta = load_metadata(DEFAULT_WEIGHTS)
    # The metadata was measured, not typed in: it agrees with this run to the image.
    assert abs(meta["test_accuracy"] - r["accuracy"]) < 1e-9
    assert np.array_equal(np.array(meta["test"]["confusion"]), np.array(r["confusion"]))


def test_shipped_metadata_describes_the_network():
    meta = load_metadata(DEFAULT_WEIGHTS)
    assert meta["parameters"] == count_parameters(load(DEFAULT_WEIGHTS)) == 34_826
    assert meta["train_samples"] == 54_000 and meta["val_samples"] == 6_000
    assert len(meta["history"]) == meta["hyperparameters"]["epochs"]
