"""Each chapter's question's answer, computed from numpy, torch and the shipped files, not from the page's code: what
the page must reveal. Used by the AppTest and the browser tests of the chapters."""

from __future__ import annotations

import json

import numpy as np
import torch
import torch.nn.functional as F

from cnn import paths
from cnn.explain import mc_dropout
from cnn.model import load, page_reading
from cnn.snapshots import load_snapshots, snapshots_path

UNITS = {"layers": " pixels", "learning": "%"}


def expected_answers(image: np.ndarray | None) -> dict[str, object]:
    """By chapter slug. `image`: the (28, 28) image the network reads; None when the page has no drawing (the sure
    chapter then asks nothing)."""
    model = load()
    conv1 = F.conv2d(torch.zeros(1, 1, 28, 28), model.conv1.weight)  # no padding, as the network's
    meta = json.loads(paths.DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    answers = {
        "read": 28 * 28,
        "dense": 224 * 224 * 3 * 30 + 30,
        "convolution": len(np.convolve(np.arange(1, 10), np.full(3, 0.5), "valid")),
        "layers": conv1.shape[-1],
        "learning": round(100 * load_snapshots(snapshots_path(paths.DEFAULT_WEIGHTS)).val_accuracy[0], 1),
        "class": "To keep reading everyone else's handwriting",
        "trained": meta["test"]["errors"],
    }
    if image is not None:
        top = int(page_reading(model, image)[0].argmax())
        answers["sure"] = int((mc_dropout(model, image).samples.argmax(1) == top).sum())
    return answers


def as_shown(value, slug: str) -> str:
    """An answer as the page writes it."""
    if isinstance(value, str):
        return f"“{value}”"
    return (f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}") + UNITS.get(slug, "")
