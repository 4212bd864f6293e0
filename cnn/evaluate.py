"""Test accuracy, per-class accuracy and confusion matrix of trained weights: python -m cnn.evaluate [--weights PATH]"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from cnn.data import MnistError, load_split, to_float
from cnn.model import NUM_CLASSES, WeightsError, load, predict_proba
from cnn.paths import DEFAULT_WEIGHTS


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(10, 10) counts: row = true digit, column = predicted digit."""
    return np.bincount(
        np.asarray(labels, np.int64) * NUM_CLASSES + np.asarray(predicted, np.int64), minlength=NUM_CLASSES**2
    ).reshape(NUM_CLASSES, NUM_CLASSES)


def report(probs: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, per-class accuracy, confusion matrix and mean cross-entropy of predicted probabilities."""
    labels = np.asarray(labels, np.int64)
    predicted = probs.argmax(1)
    cm = confusion_matrix(labels, predicted)
    per_class = np.diag(cm) / np.maximum(cm.sum(1), 1)
    loss = float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean()) if len(labels) else 0.0
    return {
        "accuracy": float((predicted == labels).mean()) if len(labels) else 0.0,
        "loss": loss,
        "per_class_accuracy": [round(float(a), 6) for a in per_class],
        "confusion": cm.tolist(),
        "errors": int((predicted != labels).sum()),
        "count": int(len(labels)),
    }


def format_report(r: dict) -> str:
    lines = [f"test accuracy: {r['accuracy']:.4%} ({r['count'] - r['errors']}/{r['count']}), loss {r['loss']:.4f}", ""]
    lines.append("per-class accuracy:")
    lines += [f"  {d}: {a:.2%}" for d, a in enumerate(r["per_class_accuracy"])]
    lines += ["", "confusion matrix (rows: true digit, columns: predicted):"]
    lines.append("      " + "".join(f"{d:>6}" for d in range(NUM_CLASSES)))
    lines += [f"  {d:>2}  " + "".join(f"{c:>6}" for c in row) for d, row in enumerate(r["confusion"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate trained weights on the 10,000 MNIST test images.")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="weights file (default: %(default)s)")
    parser.add_argument("--data-dir", help="MNIST cache folder (default: $MNIST_DIR or data/mnist)")
    args = parser.parse_args(argv)
    try:
        model = load(args.weights)
        images, labels = load_split("test", args.data_dir)
    except (WeightsError, MnistError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    probs = predict_proba(model, to_float(images))
    print(format_report(report(probs, labels)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
