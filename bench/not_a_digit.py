"""Choose, on data, when the page flags a drawing as "not like a digit", and report how often it flags.

Monte Carlo dropout gives, per image, three uncertainty scores (cnn/explain.uncertainty_scores): doubt (1 - the mean
top probability), the entropy of the mean prediction, and the mutual information between prediction and dropout mask. The score that best
separates digits from non-digits is chosen on a *choosing* set: MNIST's validation split (the last 6,000 training
images, never the test set) against random scribbles drawn with one seed. Its threshold is set so that FALSE_FLAGS
of those validation digits are flagged. The rates are then reported on sets not used for choosing: MNIST's test
digits, scribbles drawn with another seed, Fashion-MNIST's test images (when Debian's dataset-fashion-mnist is
installed), and the drawn-digit benchmark's two sets.

    python bench/not_a_digit.py [--weights weights/mnist_cnn.pt] [--write]

--write stores the page rule's flag rates in the weights' metadata (key "not_a_digit"), where the page quotes them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from cnn import explain
from cnn.checkpoint import load_metadata, write_metadata
from cnn.data import load_split, read_idx, to_float
from cnn.model import load
from cnn.paths import DEFAULT_WEIGHTS, FASHION_MNIST_TEST as FASHION, shown
from cnn.preprocess import canvas_to_mnist
from cnn.strokes import random_scribble

FALSE_FLAGS = 0.01  # the share of real (validation) digits the flag may wrongly catch


def scribbles(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = [canvas_to_mnist(random_scribble(rng)) for _ in range(n)]
    return np.stack([o for o in out if o is not None])


def scores_of(model, images: np.ndarray) -> dict[str, np.ndarray]:
    return explain.uncertainty_scores(explain.mc_dropout_batch(model, images))


def auroc(negatives: np.ndarray, positives: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    both = np.concatenate([negatives, positives])
    ranks = both.argsort().argsort() + 1.0
    for v in np.unique(both):  # average ranks over ties
        tie = both == v
        ranks[tie] = ranks[tie].mean()
    r_pos = ranks[len(negatives) :].sum()
    return float((r_pos - len(positives) * (len(positives) + 1) / 2) / (len(positives) * len(negatives)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    p.add_argument("--scribbles", type=int, default=2000)
    p.add_argument("--write", action="store_true", help="store the page rule's flag rates in the weights' metadata")
    args = p.parse_args()
    model = load(args.weights)
    train_images, _ = load_split("train")
    val_digits = to_float(train_images[-6000:])
    choose_digits, choose_scribbles = scores_of(model, val_digits), scores_of(model, scribbles(args.scribbles, 100))
    print("choosing set: 6,000 MNIST validation digits against", args.scribbles, "scribbles (seed 100)")
    aucs = {k: auroc(choose_digits[k], choose_scribbles[k]) for k in choose_digits}
    for k, v in aucs.items():
        print(f"  AUROC of {k:<20} {v:.4f}")
    best = max(aucs, key=aucs.get)
    threshold = float(np.quantile(choose_digits[best], 1 - FALSE_FLAGS))
    print(f"chosen: flag when {best} > {threshold:.4f} ({FALSE_FLAGS:.0%} of validation digits are above it)")

    from bench.drawn_digits import sklearn_set, stroke_set

    test_images, _ = load_split("test", fetch=False)
    # key in the metadata: (what it is, the images)
    report = {
        "validation": ("MNIST validation digits (6,000; the choosing set)", val_digits),
        "test": ("MNIST test digits (10,000)", to_float(test_images)),
        "scikit-learn": ("drawn: scikit-learn digits (1,797)", sklearn_set()[0]),
        "pen strokes": ("drawn: synthetic pen strokes (1,000)", stroke_set()[0]),
        "scribbles": (f"scribbles, seed 200 ({args.scribbles:,})", scribbles(args.scribbles, 200)),
    }
    if FASHION.exists():
        report["fashion"] = ("Fashion-MNIST test images (10,000)", to_float(read_idx(FASHION)))
    else:
        print(f"(Fashion-MNIST not found at {FASHION}: apt-get install dataset-fashion-mnist to include it)")
    page_rule = f"{explain.NOT_A_DIGIT_SCORE} > {explain.NOT_A_DIGIT_ABOVE}"
    print(f"flag rates (chosen rule; the page's rule in cnn/explain.py: {page_rule}):")
    rates = {}
    for key, (name, images) in report.items():
        s = choose_digits if key == "validation" else scores_of(model, images)
        chosen = float((s[best] > threshold).mean())
        rates[key] = page = float((s[explain.NOT_A_DIGIT_SCORE] > explain.NOT_A_DIGIT_ABOVE).mean())
        print(f"  {name:<50} {chosen:7.2%}   page: {page:7.2%}")
    if args.write:
        meta = load_metadata(args.weights)
        meta["not_a_digit"] = {
            "score": explain.NOT_A_DIGIT_SCORE,
            "above": explain.NOT_A_DIGIT_ABOVE,
            "auroc": round(aucs[explain.NOT_A_DIGIT_SCORE], 4),
            "flag_rates": {key: round(r, 4) for key, r in rates.items()},
        }
        write_metadata(meta, args.weights)
        print(f"wrote the page rule's flag rates into the metadata of {shown(args.weights)}")


if __name__ == "__main__":
    main()
