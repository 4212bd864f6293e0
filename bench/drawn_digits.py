"""Drawn-digit benchmark: accuracy on digits as the page receives them, through canvas_to_mnist.

Sets drawn on a 280x280 canvas and prepared by canvas_to_mnist exactly as the page does:
  - scikit-learn's load_digits: 1,797 real handwritten digits by other writers (8x8, 17 grey levels), enlarged and
    placed at random sizes and positions;
  - synthetic pen strokes: the digit templates of cnn/strokes.py drawn by varied hands (slant, stretch, wobble,
    size, place, pen width), 100 of each digit;
  - the kinds of writing MNIST-trained networks misread most (cnn.strokes.hard_digit): small digits drawn with a
    thick pen (100 of each digit), 1s with a long flag (200), 7s with a short bar (200, the flagged 1's near
    neighbour: what a flag taught to the 1s could cost), strongly slanted digits (100 of each digit);
  - MNIST's 6,000 validation digits written again small and in a bold pen (cnn.strokes.bold_on_canvas: a fifth to a
    third of the canvas, the pen 0.28 to 0.4 of the digit's size): real writers' shapes, where the template digits
    above are one hand's, so that a bold pen's cost is measured on handwriting the network was not trained on.

    python bench/drawn_digits.py [--weights weights/mnist_cnn.pt weights/mnist_cnn_keras.pt] [--widths] [--by-pen]

--by-pen measures the first network's accuracy by how wide the pen is for the digit's size, against the share
cnn.preprocess.BOLD_PEN at which the page advises a thinner pen.

Each network reads as the page does: the mean over three stroke widths (cnn.model.page_reading). --widths also
measures one plain pass of each, and both on MNIST's validation split, on which such choices are made.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from cnn.checkpoint import MetadataError, load_metadata
from cnn.model import load, page_reading, predict_proba
from cnn.paths import WEIGHTS_DIR, shown
from cnn.preprocess import canvas_to_mnist
from cnn.preprocess import BOLD_PEN, preprocess_steps
from cnn.strokes import (
    DIGIT_STROKES, HARD_KINDS, ONLY_DIGIT, bold_on_canvas, drawn_by_hand, hard_digit, image_on_canvas, jittered_digit,
)


SKLEARN_SEED, STROKES_SEED, HARD_SEED, BOLD_SEED = 0, 1, 2, 4


def sklearn_canvases(seed: int = SKLEARN_SEED) -> tuple[list[np.ndarray], np.ndarray]:
    """scikit-learn's digits, each enlarged onto a 280x280 canvas at a random size and place; and their labels."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    return [image_on_canvas(row.reshape(8, 8) / 16.0, rng) for row in x], y


def stroke_canvases(per_digit: int = 100, seed: int = STROKES_SEED) -> tuple[list[np.ndarray], np.ndarray]:
    """The digit templates drawn by varied hands on 280x280 canvases; and their labels."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), per_digit)
    return [jittered_digit(int(d), rng) for d in labels], labels


def hard_canvases(kind: str, per_digit: int = 100, seed: int = HARD_SEED) -> tuple[list[np.ndarray], np.ndarray]:
    """One kind of hard writing (cnn.strokes.HARD_KINDS) on 280x280 canvases, and the labels: every digit, or twice
    as many of the one digit a kind is (cnn.strokes.ONLY_DIGIT: the flagged 1, the short-barred 7)."""
    rng = np.random.default_rng(seed)
    if kind in ONLY_DIGIT:
        labels = np.full(2 * per_digit, ONLY_DIGIT[kind])
    else:
        labels = np.repeat(np.arange(10), per_digit)
    return [hard_digit(int(d), rng, kind) for d in labels], labels


def prepared(canvases: tuple[list[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The canvases as the network sees them, through canvas_to_mnist as the page prepares a drawing."""
    drawings, labels = canvases
    return np.stack([canvas_to_mnist(c) for c in drawings]), labels


def sklearn_set(seed: int = SKLEARN_SEED) -> tuple[np.ndarray, np.ndarray]:
    return prepared(sklearn_canvases(seed))


def validation_split() -> tuple[np.ndarray, np.ndarray]:
    """MNIST's validation digits (the last tenth of its training set, which training leaves out) as floats, and
    their labels."""
    from cnn.data import load_split, to_float, validation_cut

    images, labels = load_split("train")
    cut = validation_cut(len(images))
    return to_float(images[cut:]), labels[cut:].astype(np.int64)


def bold_validation_set(validation=None, seed: int = BOLD_SEED) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's validation digits (validation_split's, read again unless given) written again small and in a bold pen
    (bold_on_canvas), prepared as the page does."""
    images, labels = validation if validation is not None else validation_split()
    rng = np.random.default_rng(seed)
    return prepared(([bold_on_canvas(image, rng) for image in images], labels))


def stroke_set(per_digit: int = 100, seed: int = STROKES_SEED) -> tuple[np.ndarray, np.ndarray]:
    return prepared(stroke_canvases(per_digit, seed))


PEN_SHARES = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)  # the pen's width as a share of the digit's extent


def by_pen(model, per_digit: int = 20, seed: int = 3) -> None:
    """Accuracy on template digits drawn by varied hands at sizes from a fifth of the canvas to most of it, for each
    pen width as a share of the digit's extent; and the share of the ink's longest side the page measures."""
    rng = np.random.default_rng(seed)
    print(f"pen / extent   pen / ink's longest side (median)   accuracy   (the page advises at pen >= {BOLD_PEN:g} "
          "of the longest side)")
    advised, plain = [], []
    for share in PEN_SHARES:
        hits, ratios = [], []
        for d in np.repeat(np.arange(10), per_digit):
            extent = rng.uniform(0.2, 0.85) * 280
            canvas = drawn_by_hand(DIGIT_STROKES[int(d)], rng, 280, rng.uniform(-0.2, 0.2), rng.uniform(-0.25, 0.25),
                                   rng.uniform(0.8, 1.2), extent, pen=(share, share))
            steps = preprocess_steps(canvas)
            top, bottom, left, right = steps.box
            ratio = share * extent / max(bottom - top, right - left)
            hit = bool(page_reading(model, steps.final).argmax() == d)
            hits.append(hit)
            ratios.append(ratio)
            (advised if ratio >= BOLD_PEN else plain).append(hit)
        print(f"{share:>12.2f}   {np.median(ratios):>34.2f}   {np.mean(hits):>8.1%}")
    print(f"advised: {np.mean(advised):.1%} of {len(advised)} read; not advised: {np.mean(plain):.1%} of {len(plain)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shipped = [p for p in sorted(WEIGHTS_DIR.glob("*.pt")) if not p.name.endswith(".snapshots.pt")]  # weights only
    p.add_argument("--weights", nargs="+", default=[str(p) for p in shipped])
    p.add_argument("--widths", action="store_true", help="also one plain pass of each network, and on validation")
    p.add_argument("--by-pen", action="store_true", help="the first network's accuracy by the pen's width")
    args = p.parse_args()
    if args.by_pen:
        by_pen(load(args.weights[0]))
        return
    validation = validation_split()
    sets = {"MNIST validation (6,000)": validation} if args.widths else {}
    sets |= {"scikit-learn (1,797)": sklearn_set(), "pen strokes (1,000)": stroke_set()}
    for kind in HARD_KINDS:
        images, labels = prepared(hard_canvases(kind))
        sets[f"{kind} ({len(labels):,})"] = (images, labels)
    sets["validation, bold and small (6,000)"] = bold_validation_set(validation)
    width = max(len(str(p)) for p in args.weights) + 2
    columns = [max(26, len(name) + 2) for name in sets]
    print(f"{'weights':<{width}}{'recipe':<{17}}" + "".join(f"{name:>{c}}" for name, c in zip(sets, columns)))
    for path in args.weights:
        model = load(path)
        try:
            recipe = str(load_metadata(path).get("recipe", "?"))
        except MetadataError:
            recipe = "?"
        readings = {" 3 widths": page_reading} | ({" one pass": predict_proba} if args.widths else {})
        for suffix, predict in readings.items():
            scores = [float((predict(model, images).argmax(1) == labels).mean()) for images, labels in sets.values()]
            print(f"{shown(path):<{width}}{(recipe + suffix):<17}"
                  + "".join(f"{s:>{c}.2%}" for s, c in zip(scores, columns)))


if __name__ == "__main__":
    main()
