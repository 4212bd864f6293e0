"""How the network read one drawing at each snapshot of its training: kernels, feature maps and probabilities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch.nn as nn

from cnn.features import forward_with_maps, tile
from cnn.snapshots import Snapshots


@dataclass
class Replay:
    steps: list[int]  # the optimiser step of each snapshot
    epochs: list[float]
    val_accuracy: list[float]
    kernels: np.ndarray  # (S, 32, 3, 3) conv1's kernels
    conv1: np.ndarray  # (S, C1, 26, 26) conv1's maps of the drawing, for the channels shown
    conv2: np.ndarray  # (S, C2, 11, 11) conv2's maps
    probs: np.ndarray  # (S, 10)
    channels1: list[int]  # which conv1 channels are shown
    channels2: list[int]


def snapshot_models(snaps: Snapshots) -> list[nn.Module]:
    """Every snapshot as a network, in eval mode (build once, share read-only)."""
    return [snaps.model_at(i) for i in range(len(snaps))]


def replay(snaps: Snapshots, models: list[nn.Module], image: np.ndarray, shown1: int = 4, shown2: int = 8) -> Replay:
    """The drawing read by every snapshot. The channels shown are those the finished network fires most on for this
    drawing, so the replay shows the detectors that end up mattering for it."""
    passes = [forward_with_maps(m, image) for m in models]
    final = passes[-1][1]
    channels1 = sorted(np.argsort(final["conv1"].max(axis=(1, 2)))[::-1][:shown1].tolist())
    channels2 = sorted(np.argsort(final["conv2"].max(axis=(1, 2)))[::-1][:shown2].tolist())
    return Replay(
        steps=snaps.steps,
        epochs=snaps.epochs,
        val_accuracy=snaps.val_accuracy,
        kernels=np.stack([m.conv1.weight.detach().cpu().numpy()[:, 0] for m in models]),
        conv1=np.stack([maps["conv1"][channels1] for _, maps in passes]),
        conv2=np.stack([maps["conv2"][channels2] for _, maps in passes]),
        probs=np.stack([probs for probs, _ in passes]),
        channels1=channels1,
        channels2=channels2,
    )


def kernel_travel(kernels: np.ndarray) -> np.ndarray:
    """(S,) how far the kernels are from their start at each snapshot, as a share of the distance from the first
    snapshot to the last (0 at the start, 1 at the end; it can pass 1 on the way)."""
    whole = np.linalg.norm(kernels[-1] - kernels[0])
    moved = np.linalg.norm((kernels - kernels[0]).reshape(len(kernels), -1), axis=1)  # (S,)
    return moved / whole if whole else np.ones(len(kernels))


def kernel_closeness(kernels: np.ndarray) -> np.ndarray:
    """(S,) how much of the gap between the start and the final kernels each snapshot has closed (0 at the start, 1 at
    the end; below 0 when the kernels are further from their final values than they started)."""
    gap = np.linalg.norm(kernels[0] - kernels[-1])
    left = np.linalg.norm((kernels - kernels[-1]).reshape(len(kernels), -1), axis=1)  # (S,)
    return 1 - left / gap if gap else np.ones(len(kernels))


def first_crossing(values: np.ndarray, level: float) -> tuple[int, int] | None:
    """The snapshots either side of where `values` first reaches `level`: (i - 1, i) with values[i - 1] < level <=
    values[i]; None if it never does after the start."""
    i = next((i for i in range(1, len(values)) if values[i] >= level > values[i - 1]), None)
    return None if i is None else (i - 1, i)


def mosaic(maps: np.ndarray, cols: int) -> np.ndarray:
    """(C, H, W) maps tiled `cols` wide with NaN between them, as the feature-map figures lay them out."""
    return tile(maps, cols)[0]
