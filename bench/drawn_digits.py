"""Drawn-digit benchmark: accuracy on digits as the page receives them, through canvas_to_mnist.

Two sets, both drawn on a 280x280 canvas and prepared by canvas_to_mnist exactly as the page does:
  - scikit-learn's load_digits: 1,797 real handwritten digits by other writers (8x8, 17 grey levels), enlarged and
    placed at random sizes and positions;
  - synthetic pen strokes: the digit templates of cnn/strokes.py drawn by varied hands (slant, stretch, wobble,
    size, place, pen width), 100 of each digit.

    python bench/drawn_digits.py [--weights weights/mnist_cnn.pt weights/mnist_cnn_keras.pt]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from cnn.checkpoint import MetadataError, load_metadata
from cnn.model import load, predict_proba
from cnn.paths import WEIGHTS_DIR, shown
from cnn.preprocess import canvas_to_mnist
from cnn.strokes import image_on_canvas, jittered_digit


def sklearn_set(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    images = np.stack([canvas_to_mnist(image_on_canvas(row.reshape(8, 8) / 16.0, rng)) for row in x])
    return images, y


def stroke_set(per_digit: int = 100, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), per_digit)
    images = np.stack([canvas_to_mnist(jittered_digit(int(d), rng)) for d in labels])
    return images, labels


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", nargs="+", default=[str(p) for p in sorted(WEIGHTS_DIR.glob("*.pt"))])
    args = p.parse_args()
    sets = {"scikit-learn digits (1,797)": sklearn_set(), "synthetic pen strokes (1,000)": stroke_set()}
    print(f"{'weights':<32}{'recipe':<10}" + "".join(f"{name:>32}" for name in sets))
    for path in args.weights:
        model = load(path)
        try:
            recipe = str(load_metadata(path).get("recipe", "?"))
        except MetadataError:
            recipe = "?"
        scores = []
        for images, labels in sets.values():
            scores.append(float((predict_proba(model, images).argmax(1) == labels).mean()))
        print(f"{shown(path):<32}{recipe:<10}" + "".join(f"{s:>32.2%}" for s in scores))


if __name__ == "__main__":
    main()
