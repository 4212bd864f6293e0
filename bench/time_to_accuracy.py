"""Time to 99.2% and to 99.0% MNIST test accuracy: the seed's Keras recipe against the fast recipe, in one process.

Each recipe trains from the same seed on the same 54,000 images; after every epoch the kept model is scored on the
10,000 test images, one pass each (that scoring is not counted as training time). Printed: each epoch's accuracy and
cumulative training time, the time at which each recipe first reaches each target, and the ratios.

    python bench/time_to_accuracy.py [--targets 0.992 0.99] [--recipes keras fast]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from cnn import train
from cnn.data import load_split, to_float
from cnn.model import ConvNet, predict_proba


def time_to_targets(name: str, targets: list[float], seed: int, data) -> dict[float, float | None]:
    (train_split, val_split), (test_x, test_y) = data
    recipe = train.RECIPES[name]
    torch.manual_seed(seed)
    model = ConvNet(dropout=recipe.dropout)
    reached: dict[float, float | None] = dict.fromkeys(targets)
    elapsed = 0.0

    def on_epoch(record, kept):
        nonlocal elapsed
        elapsed += record["seconds"]  # the epoch's training and validation time, as fit measured it
        acc = float((predict_proba(kept, test_x).argmax(1) == test_y).mean())
        for target in targets:
            if acc >= target and reached[target] is None:
                reached[target] = elapsed
        print(f"  {name} epoch {record['epoch']:>2}: test {acc:.4f} after {elapsed:6.1f} s of training")

    train.fit(model, train_split, val_split, recipe, seed, progress=False, log=lambda line: None, on_epoch=on_epoch)
    return reached


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--targets", type=float, nargs="+", default=[0.992, 0.99], help="test accuracies to time")
    p.add_argument("--recipes", nargs=2, default=["keras", "fast"], metavar=("REFERENCE", "CANDIDATE"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    images, labels = load_split("train")
    test_images, test_labels = load_split("test", fetch=False)
    data = (train.split_train_val(images, labels, torch.device("cpu")), (to_float(test_images), test_labels))
    if not all(0 < t <= 1 for t in args.targets):
        p.error("--targets are accuracies in (0, 1], such as 0.992")
    shown_targets = ", ".join(f"{t:.2%}" for t in args.targets)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, targets {shown_targets} test accuracy")
    times = {}
    for name in args.recipes:
        print(f"{name}: {train.RECIPES[name]}")
        times[name] = time_to_targets(name, args.targets, args.seed, data)
    reference, candidate = args.recipes
    for target in args.targets:
        ref, cand = times[reference][target], times[candidate][target]
        shown = {n: "never" if t is None else f"{t:.1f} s" for n, t in ((reference, ref), (candidate, cand))}
        line = f"to {target:.2%}: {reference} {shown[reference]}, {candidate} {shown[candidate]}"
        if ref and cand:
            line += f": {candidate} needs {cand / ref:.2f} of the time ({ref / cand:.1f}x faster)"
        print(line)


if __name__ == "__main__":
    main()
