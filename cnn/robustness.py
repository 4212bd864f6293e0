"""How each network reads MNIST's test digits moved and turned: accuracy against shift and against rotation, and why.

    python -m cnn.robustness [--write]
    python -m cnn.robustness --errors

Reads every shipped network (cnn.paths.shipped_networks), moves all 10,000 test digits by each amount with
cnn.perturb (the same code as the page's "Move it" part) and prints the accuracy of each network. Then what lies
behind the convnet's figures: how much a shift of 1 to 4 pixels changes its pool2 features (what its dense layer
reads), how the same convnet trained on unmoved digits holds up, and how much ink each shift takes out of the 28x28
frame, with each network's accuracy on the unmoved digits with that same ink cut off. --write stores the figures in
weights/robustness.json, with each weights file's SHA-256, so the page shows them offline and can tell when they
belong to other weights.

--errors prints each shipped network's errors on the unmoved test digits as its metadata records them, and how many
times the convnet's they are; it reads no MNIST.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from cnn.augment import affine_of
from cnn.checkpoint import MetadataError, load_metadata
from cnn.data import MnistError, file_sha256, load_split, to_float
from cnn.model import FEATURE_LAYERS, ConvNet, WeightsError, as_batch, load, page_reading
from cnn.paths import ROBUSTNESS, WEIGHTS_DIR, shipped_networks, shown
from cnn.perturb import MAX_NOISE, MAX_ROTATE, MAX_SHIFT, MAX_STROKE, SCALES, Move, apply, apply_each

# The convnet trained on digits that were never moved (the keras recipe: no augmentation), to set beside the shipped
# convnet that was trained on randomly moved ones.
UNAUGMENTED = WEIGHTS_DIR / "mnist_cnn_keras.pt"
LOSING = 0.05  # a digit counts as losing ink to the frame when more than this share of its ink leaves it

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


def sweep(models: dict, images: np.ndarray, labels: np.ndarray) -> dict:
    """{sweep: {"what", "values", "accuracy": {arch: [per value]}}} for float images (N, 28, 28)."""
    out = {}
    for name, (what, values, make) in SWEEPS.items():
        each = {arch: [] for arch in models}
        for v in values:
            moved = apply(images, make(v)).numpy()
            for arch, model in models.items():
                each[arch].append(accuracy(model, moved, labels))
        out[name] = {"what": what, "values": values, "accuracy": each}
    return out


def accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    """The share of float images (N, 28, 28) the page's reading gets right, rounded as the stored figures are."""
    return round(float((page_reading(model, images).argmax(1) == labels).mean()), 6)


def pool2_features(model: ConvNet, images: np.ndarray) -> np.ndarray:
    """The convnet's pool2 features of float images (N, 28, 28), as drawn: (N, 64, 5, 5), what its dense layer reads
    (flattened, through dropout, which is off when reading)."""
    x = as_batch(images, device=next(model.parameters()).device)  # (N, 1, 28, 28)
    with torch.inference_mode():
        for name in FEATURE_LAYERS:  # conv1, pool1, conv2, pool2
            x = getattr(model, name)(x)
    return x.float().cpu().numpy()  # (N, 64, 5, 5)


def pooling_cell(model: ConvNet) -> int:
    """How many input pixels one step of pool2's grid spans: the product of the layers' strides (1 x 2 x 1 x 2)."""
    cell = 1
    for name in ("conv1", "pool1", "conv2", "pool2"):
        stride = getattr(model, name).stride
        cell *= stride if isinstance(stride, int) else stride[-1]
    return cell


def _norms(a: np.ndarray) -> np.ndarray:
    """Each item's L2 norm over all its values: (N,) for an array (N, ...)."""
    return np.linalg.norm(a.reshape(len(a), -1).astype(np.float64), axis=1)


def relative_change(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Each item's ||after - before|| / ||before|| over all its values: (N,) for arrays (N, ...)."""
    return _norms(after - before) / _norms(before)


def shift_change(model: ConvNet, images: np.ndarray) -> dict:
    """How much a shift right of 1 pixel up to one step of pool2's grid changes the digits, the mean over the float
    images (N, 28, 28) of each digit's relative change (L2): its pixels, and the convnet's pool2 features.

    "one_cell": the relative change of the pool2 features after a shift of exactly one step, compared with the
    unshifted features moved one cell along: 0 where the step lines up with the grid and no ink crosses its edge.
    """
    cell = pooling_cell(model)
    before = pool2_features(model, images)  # (N, 64, 5, 5)
    shifts = list(range(1, cell + 1))
    out = {"what": "pixels to the right", "shifts": shifts, "cell": cell, "grid": int(before.shape[-1]),
           "pixels": [], "pool2": []}
    for s in shifts:
        moved = apply(images, Move(dx=s)).numpy()
        after = pool2_features(model, moved)
        out["pixels"].append(round(float(relative_change(images, moved).mean()), 6))
        out["pool2"].append(round(float(relative_change(before, after).mean()), 6))
    # `after` is now the shift of one whole step: each cell against its left neighbour before
    out["one_cell"] = round(float((_norms(after[..., 1:] - before[..., :-1]) / _norms(before)).mean()), 6)
    return out


def ink_kept(images: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """The share of each image's ink (the sum of its pixels) still in the frame after a move that adds none: (N,)."""
    n = len(images)
    ink = images.reshape(n, -1).sum(1, dtype=np.float64)
    return np.divide(moved.reshape(n, -1).sum(1, dtype=np.float64), ink, out=np.ones(n), where=ink > 0)


def cut_off(images: np.ndarray, move: Move) -> np.ndarray:
    """The float images (N, 28, 28) where they stand, less the ink that `move`, a shift, would take out of the frame:
    shifted there and back."""
    if replace(move, dx=0, dy=0) != Move(seed=move.seed):
        raise ValueError(f"cut_off takes a shift alone, not {move}")
    return apply(apply(images, move), Move(dx=-move.dx, dy=-move.dy)).numpy()


def frame(models: dict, images: np.ndarray, labels: np.ndarray) -> dict:
    """For each shift sweep, at each value: the mean share of a digit's ink that leaves the 28x28 frame ("ink_lost"),
    the share of digits that lose more than LOSING of theirs ("losing"), and each network's accuracy on the unmoved
    digits with that same ink cut off ("cut"): what losing the ink costs, without the move."""
    out = {}
    for name in ("shift_x", "shift_y"):
        what, values, make = SWEEPS[name]
        s = {"what": what, "values": values, "ink_lost": [], "losing": [], "cut": {arch: [] for arch in models}}
        for v in values:
            kept = ink_kept(images, apply(images, make(v)).numpy())
            s["ink_lost"].append(round(float(1 - kept.mean()), 6))
            s["losing"].append(round(float((kept < 1 - LOSING).mean()), 6))
            cut = cut_off(images, make(v))
            for arch, model in models.items():
                s["cut"][arch].append(accuracy(model, cut, labels))
        out[name] = s
    return out


def unaugmented(path: Path, images: np.ndarray, labels: np.ndarray) -> dict:
    """The convnet at `path`, trained on unmoved digits, on the test digits shifted right: {"weights", "sha256",
    "recipe", "values", "accuracy"}. ValueError when its metadata says it was trained on moved digits."""
    hp = _hyperparameters(path)
    if hp.get("augment", True):
        raise ValueError(f"{shown(path)}: its metadata does not say it was trained without augmentation")
    model = load(path, arch="convnet")
    values = SWEEPS["shift_x"][1]
    return {
        "weights": shown(path),
        "sha256": file_sha256(path),
        "recipe": _recipe(path),
        "values": values,
        "accuracy": [accuracy(model, apply(images, Move(dx=v)).numpy(), labels) for v in values],
    }


def unmoved_errors(shipped: dict[str, Path] | None = None) -> dict[str, dict]:
    """Each network's errors on MNIST's unmoved test digits, as its metadata records them (measured on the page's
    reading): {name: {"errors", "count", "rate", "parameters"}}; a network without them is left out."""
    out = {}
    for name, path in (shipped or shipped_networks()).items():
        try:
            meta = load_metadata(path)
        except MetadataError:
            continue
        test = meta.get("test")
        if isinstance(test, dict) and isinstance(test.get("errors"), int) and test.get("count"):
            out[name] = {"errors": test["errors"], "count": int(test["count"]), "rate": test["errors"] / test["count"],
                         "parameters": meta.get("parameters")}
    return out


def _moves(weights: Path) -> dict | None:
    """The ranges of the random moves a network was trained with (cnn.augment.affine_of its recipe), or None."""
    hp = _hyperparameters(weights)
    return asdict(affine_of(hp)) if hp.get("augment") else None


def _recipe(weights: Path) -> str | None:
    try:
        return load_metadata(weights).get("recipe")
    except MetadataError:
        return None


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
    """Whether stored figures were measured on the weights that are in weights/ now (the unaugmented convnet's too,
    when they hold its figures)."""
    weights, shipped = data.get("weights"), shipped_networks()
    if not isinstance(weights, dict) or set(weights) != set(shipped):
        return False
    other = data.get("unaugmented")
    try:
        if isinstance(other, dict) and file_sha256(UNAUGMENTED) != other.get("sha256"):
            return False
        return all(file_sha256(shipped[name]) == digest for name, digest in weights.items())
    except OSError:
        return False


def _print_errors(errors: dict[str, dict]) -> None:
    convnet = errors.get("convnet")
    width = max(map(len, errors)) + 2
    for name, e in errors.items():
        times = f"  {e['rate'] / convnet['rate']:.1f}x the convnet's" if convnet and convnet["errors"] and name != "convnet" else ""
        print(f"{name:>{width}}  {e['parameters']:>6,} parameters  {e['errors']:>4} errors in {e['count']:,}  "
              f"{e['rate']:.2%}{times}")


def _row(values, fmt: str = ">7.1%") -> str:
    return "".join(f"{v:{fmt}}" for v in values)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cnn.robustness", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", help="MNIST cache folder (default: $MNIST_DIR or data/mnist)")
    p.add_argument("--write", action="store_true", help=f"store the figures in {shown(ROBUSTNESS)}")
    p.add_argument("--errors", action="store_true",
                   help="print each shipped network's errors on the unmoved test digits, from its metadata, and stop")
    args = p.parse_args(argv)
    shipped = shipped_networks()
    if args.errors:
        errors = unmoved_errors(shipped)
        if not errors:
            print("error: no shipped network's metadata records its test errors: python -m cnn.evaluate --write "
                  "measures them", file=sys.stderr)
            return 1
        _print_errors(errors)
        return 0
    try:
        models = {name: load(path) for name, path in shipped.items()}
        images, labels = load_split("test", args.data_dir)
    except (WeightsError, MnistError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    x = to_float(images)
    data = {
        "test_digits": int(len(labels)),
        "weights": {name: file_sha256(path) for name, path in shipped.items()},
        # whether each was trained on randomly moved digits (its recipe's augment), as its metadata records
        "augmented": {name: bool(_hyperparameters(path).get("augment")) for name, path in shipped.items()},
        # the random moves each was trained with (cnn.augment.affine_of its recipe), or null when it had none
        "moves": {name: _moves(path) for name, path in shipped.items()},
        "sweeps": sweep(models, x, labels),
        "shift_change": shift_change(models["convnet"], x),
        "frame": frame(models, x, labels),
    }
    try:
        data["unaugmented"] = unaugmented(UNAUGMENTED, x, labels)
    except (WeightsError, ValueError) as e:
        print(f"no unaugmented convnet to compare: {e}", file=sys.stderr)
    width = max(map(len, models)) + len(", cut") + 2
    for name, s in data["sweeps"].items():
        print(f"{name} ({s['what']}):")
        print(f"{'':>{width}}" + _row(s["values"], ">7"))
        for net, acc in s["accuracy"].items():
            print(f"{net:>{width}}" + _row(acc))
        if name in data["frame"]:
            f = data["frame"][name]
            print(f"{'ink lost':>{width}}" + _row(f["ink_lost"]))
            print(f"{f'losing >{LOSING:.0%}':>{width}}" + _row(f["losing"]))
            for net, acc in f["cut"].items():
                print(f"{net + ', cut':>{width}}" + _row(acc))
        if name == "shift_x" and "unaugmented" in data:
            print(f"{'unaugmented':>{width}}" + _row(data["unaugmented"]["accuracy"]))
    c = data["shift_change"]
    print(f"relative change (L2) of a digit shifted 1 to {c['cell']} {c['what']}, mean over the test digits:")
    print(f"{'':>{width}}" + _row(c["shifts"], ">7"))
    print(f"{'pixels':>{width}}" + _row(c["pixels"]))
    print(f"{'pool2':>{width}}" + _row(c["pool2"]))
    print(f"pool2 after {c['cell']} pixels against the unshifted pool2 one cell along: {c['one_cell']:.1%}")
    print("errors on the unmoved test digits, from each network's metadata:")
    _print_errors(unmoved_errors(shipped))
    if args.write:
        ROBUSTNESS.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {shown(ROBUSTNESS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
