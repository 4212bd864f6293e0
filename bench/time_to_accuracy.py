"""Time to 99.2% MNIST test accuracy: the seed's Keras recipe against the fast recipe, in one process.

Each recipe trains from the same seed on the same 54,000 images; after every epoch the kept model is scored on the
10,000 test images (that scoring is not counted as training time). Printed: each epoch's accuracy and cumulative
training time, the time at which each recipe first reaches the target, and the ratio.

    python bench/time_to_accuracy.py [--target 0.992] [--recipes keras fast]
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


def time_to_target(name: str, target: float, seed: int, data) -> float | None:
    (train_split, val_split), (test_x, test_y) = data
    recipe = train.RECIPES[name]
    torch.manual_seed(seed)
    model = ConvNet(dropout=recipe.dropout)
    reached: list[float] = []
    elapsed = 0.0

    def on_epoch(record, kept):
        nonlocal elapsed
        elapsed += record["seconds"]  # the epoch's training and validation time, as fit measured it
        acc = float((predict_proba(kept, test_x).argmax(1) == test_y).mean())
        if acc >= target and not reached:
            reached.append(elapsed)
        print(f"  {name} epoch {record['epoch']:>2}: test {acc:.4f} after {elapsed:6.1f} s of training")

    train.fit(model, train_split, val_split, recipe, seed, progress=False, log=lambda line: None, on_epoch=on_epoch)
    return reached[0] if reached else None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", type=float, default=0.992)
    p.add_argument("--recipes", nargs=2, default=["keras", "fast"], metavar=("REFERENCE", "CANDIDATE"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    images, labels = load_split("train")
    test_images, test_labels = load_split("test", fetch=False)
    data = (train.split_train_val(images, labels, torch.device("cpu")), (to_float(test_images), test_labels))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, target {args.target:.2%} test accuracy")
    times = {}
    for name in args.recipes:
        print(f"{name}: {train.RECIPES[name]}")
        times[name] = time_to_target(name, args.target, args.seed, data)
        shown = "never" if times[name] is None else f"{times[name]:.1f} s"
        print(f"{name} reaches {args.target:.2%} after {shown} of training")
    ref, cand = (times[n] for n in args.recipes)
    if ref and cand:
        print(f"{args.recipes[1]} needs {cand / ref:.2f} of the time {args.recipes[0]} needs ({ref / cand:.1f}x faster)")


if __name__ == "__main__":
    main()
