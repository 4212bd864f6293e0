"""How each network reads MNIST's test digits moved and turned: accuracy against shift and against rotation.

    python -m cnn.robustness [--write]

Reads every shipped network (cnn.paths.shipped_networks), moves all 10,000 test digits by each amount with
cnn.perturb (the same code as the page's "Move it" part) and prints the accuracy of each network. --write stores the
figures in weights/robustness.json, with each weights file's SHA-256, so the page shows them offline and can tell
when they belong to other weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from cnn.checkpoint import MetadataError, load_metadata
from cnn.data import MnistError, load_split, to_float
from cnn.model import WeightsError, load, page_reading
from cnn.paths import ROBUSTNESS, shipped_networks, shown
from cnn.perturb import MAX_NOISE, MAX_ROTATE, MAX_SHIFT, MAX_STROKE, SCALES, Move, apply, apply_each

SWEEPS = {
    "shift_x": ("pixels to the right", list(range(-MAX_SHIFT, MAX_SHIFT + 1)), lambda v: Move(dx=v)),
    "shift_y": ("pixels down", list(range(-MAX_SHIFT, MAX_SHIFT + 1)), lambda v: Move(dy=v)),
    "rotation": ("degrees, counter-clockwise", list(range(-int(MAX_ROTATE), int(MAX_ROTATE) + 1, 5)), lambda v: Move(rotate=v)),
}


# Each control of the page's "Move it" part: the values a sweep of it takes.
CONTROLS = {
    "dx": list(range(-MAX_SHIFT, MAX_SHIFT + 1)),
    "dy": list(range(-MAX_SHIFT, MAX_SHIFT + 1)),
    "rotate": [float(v) for v in range(-int(MAX_ROTATE), int(MAX_ROTATE) + 1, 5)],
    "scale": [round(float(v), 2) for v in np.arange(SCALES[0], SCALES[1] + 1e-9, 0.05)],
    "stroke": list(range(-MAX_STROKE, MAX_STROKE + 1)),
    "noise": [round(float(v), 2) for v in np.arange(0, MAX_NOISE + 1e-9, 0.05)],
}


def readings_along(models: dict, image: np.ndarray, move: Move, control: str) -> tuple[np.ndarray, dict]:
    """`image` under `move` with one control swept over its values: the (V, 28, 28) moved images, and each network's
    (V, 10) probabilities for them, computed in one batch per network."""
    moved = apply_each(image, [replace(move, **{control: v}) for v in CONTROLS[control]]).numpy()  # (V, 28, 28)
    return moved, {name: page_reading(model, moved) for name, model in models.items()}


def at_value(control: str, value) -> int | None:
    """The index of `value` among the control's sweep values, if it is one of them."""
    values = CONTROLS[control]
    matches = [i for i, v in enumerate(values) if abs(v - value) < 1e-9]
    return matches[0] if matches else None


def probability_along(models: dict, image: np.ndarray, move: Move, control: str, digit: int) -> dict[str, list[float]]:
    """Each network's probability of `digit` for `image` moved by `move` with one control swept over its values."""
    _, probs = readings_along(models, image, move, control)
    return {name: [float(p) for p in probs[name][:, digit]] for name in models}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sweep(models: dict, images: np.ndarray, labels: np.ndarray) -> dict:
    """{sweep: {"what", "values", "accuracy": {arch: [per value]}}} for float images (N, 28, 28)."""
    out = {}
    for name, (what, values, make) in SWEEPS.items():
        accuracy = {arch: [] for arch in models}
        for v in values:
            moved = apply(images, make(v)).numpy()
            for arch, model in models.items():
                accuracy[arch].append(round(float((page_reading(model, moved).argmax(1) == labels).mean()), 6))
        out[name] = {"what": what, "values": values, "accuracy": accuracy}
    return out


def _hyperparameters(weights: Path) -> dict:
    try:
        hp = load_metadata(weights).get("hyperparameters")
    except MetadataError:
        return {}
    return hp if isinstance(hp, dict) else {}


def read(path: Path = ROBUSTNESS) -> dict:
    """The stored figures, or {} when they are missing or unreadable."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def current(data: dict) -> bool:
    """Whether stored figures were measured on the weights that are in weights/ now."""
    weights, shipped = data.get("weights"), shipped_networks()
    if not isinstance(weights, dict) or set(weights) != set(shipped):
        return False
    try:
        return all(sha256(shipped[name]) == digest for name, digest in weights.items())
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cnn.robustness", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", help="MNIST cache folder (default: $MNIST_DIR or data/mnist)")
    p.add_argument("--write", action="store_true", help=f"store the figures in {shown(ROBUSTNESS)}")
    args = p.parse_args(argv)
    shipped = shipped_networks()
    try:
        models = {name: load(path) for name, path in shipped.items()}
        images, labels = load_split("test", args.data_dir)
    except (WeightsError, MnistError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    data = {
        "test_digits": int(len(labels)),
        "weights": {name: sha256(path) for name, path in shipped.items()},
        # whether each was trained on randomly moved digits (its recipe's augment), as its metadata records
        "augmented": {name: bool(_hyperparameters(path).get("augment")) for name, path in shipped.items()},
        "sweeps": sweep(models, to_float(images), labels),
    }
    width = max(map(len, models)) + 2
    for name, s in data["sweeps"].items():
        print(f"{name} ({s['what']}):")
        print(f"{'':>{width}}" + "".join(f"{v:>7}" for v in s["values"]))
        for net, acc in s["accuracy"].items():
            print(f"{net:>{width}}" + "".join(f"{a:>7.1%}" for a in acc))
    if args.write:
        ROBUSTNESS.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {shown(ROBUSTNESS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
