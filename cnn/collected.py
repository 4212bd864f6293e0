"""The shipped networks measured on a class's collected drawings: accuracy, per digit, confusions, misreadings."""

from __future__ import annotations

import numpy as np
import torch.nn as nn

from cnn.evaluate import report
from cnn.model import NUM_CLASSES, page_reading


def confused_pairs(confusion: np.ndarray, top: int = 5) -> list[tuple[int, int, int]]:
    """The most frequent misreadings as (drawn, read, count), most first; ties in digit order."""
    cm = np.asarray(confusion).copy()
    np.fill_diagonal(cm, 0)
    order = np.argsort(-cm, axis=None, kind="stable")[:top]
    return [(int(i // NUM_CLASSES), int(i % NUM_CLASSES), int(cm.flat[i])) for i in order if cm.flat[i] > 0]


def class_report(networks: dict[str, nn.Module], images: np.ndarray, labels: np.ndarray) -> dict[str, dict]:
    """Each network's report (cnn.evaluate.report) on the drawings, plus how many of each digit there are and the
    most confused pairs. images: (N, 28, 28) in [0, 1]; labels: (N,) what the visitors said they drew."""
    labels = np.asarray(labels, np.int64)
    counts = np.bincount(labels, minlength=NUM_CLASSES).tolist()
    out = {}
    for name, model in networks.items():
        probs = page_reading(model, images) if len(images) else np.zeros((0, NUM_CLASSES), np.float32)
        r = report(probs, labels)
        r["per_digit_count"] = counts
        r["confused_pairs"] = confused_pairs(np.array(r["confusion"]))
        r["predicted"] = probs.argmax(1).tolist() if len(images) else []
        out[name] = r
    return out
