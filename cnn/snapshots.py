"""Snapshots of a network during its training: its weights at about 30 points of a run, to replay how it learned.

The file sits beside the weights (weights/mnist_cnn.snapshots.pt) and holds plain tensors and numbers, so it loads
with torch.load(..., weights_only=True). Weights are stored as float16: a replay shows kernels, feature maps and
probabilities, which float16's three significant digits draw the same; the final weights themselves are in the
float32 weights file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from cnn.model import ARCHITECTURES, build
from cnn.paths import shown

FORMAT = 1


class SnapshotError(Exception):
    """A snapshot file that cannot be used: missing, unreadable, or not what it should hold."""


def snapshots_path(weights: str | Path) -> Path:
    """The snapshot file that sits beside a weights file."""
    return Path(weights).with_suffix(".snapshots.pt")


def snapshot_steps(total: int, count: int) -> list[int]:
    """About `count` optimiser steps out of `total`, log-spaced: the random start (0), many points early in the run,
    where the network changes fastest, fewer later, and always the last step."""
    if count < 2 or total < 1:
        raise ValueError(f"need at least 2 snapshots of at least 1 step, got {count} of {total}")
    spaced = np.round(np.geomspace(1, total, count - 1)).astype(int)
    return sorted({0, total, *spaced.tolist()})


@dataclass
class Snapshots:
    arch: str
    steps: list[int]  # the optimiser step of each snapshot (0: before any)
    epochs: list[float]  # the same as fractions of epochs
    val_loss: list[float]  # the kept network's validation loss at that point
    val_accuracy: list[float]
    state: dict[str, torch.Tensor]  # parameter name -> (S, *shape) float16

    def __len__(self) -> int:
        return len(self.steps)

    def model_at(self, i: int) -> nn.Module:
        """A new float32 network holding snapshot i's weights, in eval mode."""
        with torch.random.fork_rng(devices=[]):  # its throwaway initial weights must not draw on the global generator
            model = build(self.arch)
        model.load_state_dict({k: v[i].float() for k, v in self.state.items()})
        return model.eval()

    def to_file(self) -> dict:
        return {
            "format": FORMAT, "arch": self.arch, "steps": self.steps, "epochs": self.epochs,
            "val_loss": self.val_loss, "val_accuracy": self.val_accuracy, "state": self.state,
        }


def load_snapshots(path: str | Path) -> Snapshots:
    """The snapshots in `path`, checked: SnapshotError saying what is wrong otherwise. Never unpickles objects."""
    path, name = Path(path), shown(path)
    hint = "train with python cnn/train.py --snapshots 30"
    if not path.is_file():
        raise SnapshotError(f"{name} not found: {hint}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001: corrupt bytes surface as many kinds of error inside torch.load
        raise SnapshotError(f"{name} is not a readable snapshot file ({type(e).__name__}); {hint}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("arch") not in ARCHITECTURES:
        raise SnapshotError(f"{name} is not a snapshot file of this project (format {FORMAT}); {hint}")
    try:
        snaps = Snapshots(
            data["arch"], [int(s) for s in data["steps"]], [float(e) for e in data["epochs"]],
            [float(v) for v in data["val_loss"]], [float(v) for v in data["val_accuracy"]], dict(data["state"]),
        )
    except (KeyError, TypeError, ValueError):
        raise SnapshotError(f"{name} lacks some of what a snapshot file holds; {hint}") from None
    n = len(snaps.steps)
    with torch.device("meta"):
        expected = build(snaps.arch).state_dict()
    ok = (
        n >= 2
        and len(snaps.epochs) == len(snaps.val_loss) == len(snaps.val_accuracy) == n
        and snaps.state.keys() == expected.keys()
        and all(isinstance(v, torch.Tensor) and tuple(v.shape) == (n, *expected[k].shape) for k, v in snaps.state.items())
    )
    if not ok:
        raise SnapshotError(f"{name} does not hold {n} snapshots of a {snaps.arch}; {hint}")
    if not all(torch.isfinite(v).all() for v in snaps.state.values()):
        raise SnapshotError(f"{name} holds non-finite weights; {hint}")
    return snaps
