"""Where to put the drawing's centre of mass: the frame's middle (13.5, 13.5) or where MNIST's digits have theirs.

Each set is prepared by canvas_to_mnist twice, once per target, and read by the same weights:
  - MNIST's 6,000 validation digits (the last tenth of the training set, held out from training; never the test
    set, as for every choice here), each enlarged onto a 280x280 canvas at a random size and place, then prepared
    again as a drawing is (so their own centring is undone and redone); and MNIST's 10,000 test digits the same way,
    reported only;
  - the drawn-digit benchmark's two sets (bench/drawn_digits.py).
It also prints where MNIST's training digits have their centre of mass.

    python bench/centring.py [--weights weights/mnist_cnn.pt]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.drawn_digits import sklearn_canvases, stroke_canvases
from cnn.data import IMAGE_SIZE, load_split, to_float, validation_cut
from cnn.model import load, predict_proba
from cnn.paths import DEFAULT_WEIGHTS
from cnn.preprocess import CENTRE, canvas_to_mnist, centre_of_mass
from cnn.strokes import image_on_canvas

TARGETS = {"frame's middle": ((IMAGE_SIZE - 1) / 2, (IMAGE_SIZE - 1) / 2), "MNIST's mean": CENTRE}


def mnist_canvases(images: np.ndarray, seed: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [image_on_canvas(img, rng) for img in to_float(images)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    args = p.parse_args()
    train, train_labels = load_split("train")
    com = np.array([centre_of_mass(img) for img in to_float(train)])
    print(f"MNIST training digits' centre of mass: mean ({com[:, 0].mean():.3f}, {com[:, 1].mean():.3f}), "
          f"standard deviation ({com[:, 0].std():.3f}, {com[:, 1].std():.3f})")
    model = load(args.weights)
    cut = validation_cut(len(train))
    test, test_labels = load_split("test", fetch=False)
    sets = {
        "MNIST validation, re-prepared (6,000)": (mnist_canvases(train[cut:]), train_labels[cut:]),
        "MNIST test, re-prepared (10,000)": (mnist_canvases(test), test_labels),
        "drawn: scikit-learn digits (1,797)": sklearn_canvases(),
        "drawn: synthetic pen strokes (1,000)": stroke_canvases(),
    }
    print(f"{'set':<38}" + "".join(f"{f'{name} {t[0]:g}, {t[1]:g}':>26}" for name, t in TARGETS.items()))
    for name, (canvases, labels) in sets.items():
        scores = []
        for target in TARGETS.values():
            images = np.stack([canvas_to_mnist(c, target) for c in canvases])
            scores.append(float((predict_proba(model, images).argmax(1) == labels).mean()))
        print(f"{name:<38}" + "".join(f"{s:>26.2%}" for s in scores))


if __name__ == "__main__":
    main()
