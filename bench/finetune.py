"""How fast, and how well, a personal copy learns one writer's style (classroom/finetune.py), on one CPU thread.

A synthetic writer who turns every digit by about 63 degrees (the project's stroke generator, cnn/strokes.py) labels
N drawings; the copy is fine-tuned on them as the page does; both networks are then measured on 200 more drawings
by the same writer, which neither saw, and on the live sample's 500 held-out MNIST digits.

    python bench/finetune.py [--drawings 10 20 40] [--seeds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

from classroom.finetune import accuracy, fine_tune
from cnn.live import live_data
from cnn.model import load
from cnn.preprocess import canvas_to_mnist
from cnn.strokes import jittered_digit

TILT = 1.1  # radians


def writer(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    return np.stack([canvas_to_mnist(jittered_digit(int(d), rng, tilt=TILT)) for d in labels]), labels


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--drawings", type=int, nargs="+", default=[10, 20, 40], help="labelled drawings per run")
    p.add_argument("--seeds", type=int, default=3, help="writers' drawings drawn with this many seeds")
    args = p.parse_args()
    torch.set_num_threads(1)  # as on the page: one thread, so drawing stays quick for everyone else
    shipped, mnist = load(), live_data()
    fresh, fresh_labels = writer(200, seed=1000)
    before = accuracy(shipped, fresh, fresh_labels)
    print(f"torch {torch.__version__}, 1 thread; the writer's 200 unseen drawings: shipped network {before:.1%}")
    print(f"{'drawings':>9} {'seconds':>8} {'unseen: personal':>17} {'MNIST 500: shipped':>19} {'personal':>9}")
    for n in args.drawings:
        runs = []
        for seed in range(args.seeds):
            images, labels = writer(n, seed)
            r = fine_tune(shipped, images, labels, mnist)
            runs.append((r.seconds, accuracy(r.model, fresh, fresh_labels), r.shipped_mnist, r.personal_mnist))
        sec, after, mn_before, mn_after = (statistics.median(v) for v in zip(*runs))
        print(f"{n:>9} {sec:>8.2f} {after:>17.1%} {mn_before:>19.1%} {mn_after:>9.1%}   (medians of {args.seeds})")


if __name__ == "__main__":
    main()
