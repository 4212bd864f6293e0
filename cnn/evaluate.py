"""Test accuracy, per-class accuracy and confusion matrix of trained weights: python -m cnn.evaluate [--weights PATH]"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

import numpy as np
import torch.nn as nn

from cnn.checkpoint import MetadataError, load_metadata, write_metadata
from cnn.data import IMAGE_SIZE, MnistError, load_split, read_export, to_float, validation_cut
from cnn.explain import NOT_A_DIGIT_ABOVE, NOT_A_DIGIT_SCORE, UNSURE_BELOW, flag_not_a_digit, mc_dropout_batch
from cnn.model import NUM_CLASSES, WIDTH_VARIANTS, WeightsError, load, page_reading, predict_proba
from cnn.paths import DEFAULT_WEIGHTS, metadata_path


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(10, 10) counts: row = true digit, column = predicted digit."""
    return np.bincount(
        np.asarray(labels, np.int64) * NUM_CLASSES + np.asarray(predicted, np.int64), minlength=NUM_CLASSES**2
    ).reshape(NUM_CLASSES, NUM_CLASSES)


def encode_image(img: np.ndarray) -> str:
    """A (28, 28) uint8 image as base64 text, for JSON."""
    return base64.b64encode(np.ascontiguousarray(img, dtype=np.uint8).tobytes()).decode("ascii")


def decode_image(text: str) -> np.ndarray:
    """The inverse of encode_image: (28, 28) uint8."""
    return np.frombuffer(base64.b64decode(text), dtype=np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE)


def report(probs: np.ndarray, labels: np.ndarray, images: np.ndarray | None = None) -> dict:
    """Accuracy, per-class accuracy, confusion matrix and mean cross-entropy of predicted probabilities.

    Given the uint8 images, it also lists every misclassified one, image included: they are few and small, and the
    page shows them with no dataset at hand.
    """
    labels = np.asarray(labels, np.int64)
    predicted = probs.argmax(1)
    cm = confusion_matrix(labels, predicted)
    per_class = np.diag(cm) / np.maximum(cm.sum(1), 1)
    loss = float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean()) if len(labels) else 0.0
    return {
        "accuracy": float((predicted == labels).mean()) if len(labels) else 0.0,
        "loss": loss,
        "per_class_accuracy": [round(float(a), 6) for a in per_class],
        "confusion": cm.tolist(),
        "errors": int((predicted != labels).sum()),
        "count": int(len(labels)),
        **({} if images is None else {"misclassified": misclassified(probs, labels, images)}),
    }


def misclassified(probs: np.ndarray, labels: np.ndarray, images: np.ndarray) -> list[dict]:
    """Each wrongly read image: its index in the set, true and predicted digit, the probability given, the image."""
    predicted = probs.argmax(1)
    wrong = np.flatnonzero(predicted != labels)
    return [
        {
            "index": int(i),
            "label": int(labels[i]),
            "predicted": int(predicted[i]),
            "probability": round(float(probs[i, predicted[i]]), 4),
            "image": encode_image(images[i]),
        }
        for i in wrong
    ]


def warnings_report(model: nn.Module, images: np.ndarray, probs: np.ndarray, labels: np.ndarray) -> dict:
    """How the page's two warnings fare on labelled digits, so that what the page says of them is measured.

    unsure: the top probability is below UNSURE_BELOW. not_a_digit: Monte Carlo dropout's score is above the page's
    threshold (masks drawn for the whole set with seed 0). For each: how many images it catches, and the accuracy of
    the plain prediction on those and on the rest.
    """
    labels = np.asarray(labels, np.int64)
    right = probs.argmax(1) == labels

    def split(caught: np.ndarray) -> dict:
        return {
            "count": int(caught.sum()),
            "accuracy": round(float(right[caught].mean()), 6) if caught.any() else None,
            "rest_accuracy": round(float(right[~caught].mean()), 6) if (~caught).any() else None,
        }

    flagged = flag_not_a_digit(mc_dropout_batch(model, images))
    return {
        "unsure": {"below": UNSURE_BELOW, **split(probs.max(1) < UNSURE_BELOW)},
        "not_a_digit": {"score": NOT_A_DIGIT_SCORE, "above": NOT_A_DIGIT_ABOVE, **split(flagged)},
    }


def evaluate_model(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> dict:
    """report() of the page's reading (cnn.model.page_reading) on (N, 28, 28) uint8 images, with warnings_report() added,
    the stroke widths it averages over, and the accuracy of one plain pass for comparison."""
    x = to_float(images)
    probs = page_reading(model, x)
    one_pass = float((predict_proba(model, x).argmax(1) == np.asarray(labels)).mean()) if len(labels) else 0.0
    return {**report(probs, labels, images), **warnings_report(model, x, probs, labels),
            "reading": {"widths": list(WIDTH_VARIANTS), "one_pass_accuracy": round(one_pass, 6)}}


def fit_report(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy and loss on the images trained on and on the held-out validation ones, both plain, dropout off.

    The training curves of a run are a running mean on augmented images with dropout on, so they cannot show
    overfitting; these two figures, measured the same way on both splits, can: their gap is how much better the
    network does on what it learned from than on what it has not seen.
    """
    cut = validation_cut(len(labels))
    out = {}
    for name, part in (("train", slice(0, cut)), ("val", slice(cut, None))):
        r = report(predict_proba(model, to_float(images[part])), labels[part])
        out[f"{name}_accuracy"], out[f"{name}_loss"] = round(r["accuracy"], 6), round(r["loss"], 6)
    out["train_samples"], out["val_samples"] = cut, int(len(labels) - cut)
    return out


def _share(a: float | None) -> str:
    return "-" if a is None else f"{a:.2%}"


def format_report(r: dict, title: str = "test accuracy") -> str:
    lines = [f"{title}: {r['accuracy']:.4%} ({r['count'] - r['errors']}/{r['count']}), loss {r['loss']:.4f}"]
    if isinstance(r.get("reading"), dict):
        lines.append(f"  the page's reading, averaged over stroke widths {r['reading']['widths']}; one plain pass: "
                     f"{r['reading']['one_pass_accuracy']:.4%}")
    lines.append("")
    lines.append("per-class accuracy:")
    lines += [f"  {d}: {a:.2%}" for d, a in enumerate(r["per_class_accuracy"])]
    lines += ["", "confusion matrix (rows: true digit, columns: predicted):"]
    lines.append("      " + "".join(f"{d:>6}" for d in range(NUM_CLASSES)))
    lines += [f"  {d:>2}  " + "".join(f"{c:>6}" for c in row) for d, row in enumerate(r["confusion"])]
    for key, what in (("unsure", "unsure (top probability below {below:.0%})"),
                      ("not_a_digit", "flagged as not like a digit ({score} above {above})")):
        if r.get(key):
            w = r[key]
            lines += ["", f"{what.format(**w)}: {w['count']} of {r['count']}; accuracy on those "
                          f"{_share(w['accuracy'])}, on the rest {_share(w['rest_accuracy'])}"]
    return "\n".join(lines)


def confused_pairs(confusion: np.ndarray, top: int = 5) -> list[tuple[int, int, int]]:
    """The most frequent misreadings as (drawn, read, count), most first; ties in digit order."""
    cm = np.asarray(confusion).copy()
    np.fill_diagonal(cm, 0)
    order = np.argsort(-cm, axis=None, kind="stable")[:top]
    return [(int(i // NUM_CLASSES), int(i % NUM_CLASSES), int(cm.flat[i])) for i in order if cm.flat[i] > 0]


def drawings_report(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> dict:
    """report() of the page's reading of collected drawings, plus how many of each digit there are, the most confused
    pairs and each drawing's reading. images: (N, 28, 28) in [0, 1]; labels: (N,) what the visitors said they drew."""
    labels = np.asarray(labels, np.int64)
    probs = page_reading(model, images) if len(images) else np.zeros((0, NUM_CLASSES), np.float32)
    r = report(probs, labels)
    r["per_digit_count"] = np.bincount(labels, minlength=NUM_CLASSES).tolist()
    r["confused_pairs"] = confused_pairs(np.array(r["confusion"]))
    r["predicted"] = probs.argmax(1).tolist() if len(images) else []
    return r


def print_drawings(model: nn.Module, images: np.ndarray, labels: np.ndarray, source: str) -> None:
    """Print how `model` reads a collected set of drawings (from `source`, named in the text)."""
    if not len(labels):
        print(f"no drawings in {source}")
        return
    r = drawings_report(model, images, labels)
    print(format_report(r, f"accuracy on {len(labels)} collected drawings"))
    pairs = "; ".join(f"{a} read as {b} ({n})" for a, b, n in r["confused_pairs"]) or "none"
    print(f"most confused: {pairs}")


def score_drawings(weights: str, folder: str) -> int:
    """Print how `weights` read the collected drawings exported into `folder` (python -m classroom.drawings export)."""
    if "://" in folder:
        print(f"error: {folder} is a drawings store's URL: score its drawings with python -m classroom.drawings "
              f"--db {folder} evaluate --weights {weights}, or export them and pass the folder", file=sys.stderr)
        return 1
    try:
        model = load(weights)
        images, labels = read_export(folder)
    except (WeightsError, MnistError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print_drawings(model, images, labels, folder)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnn.evaluate", description="Evaluate trained weights on the 10,000 MNIST test images.")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="weights file (default: %(default)s)")
    parser.add_argument("--data-dir", help="MNIST cache folder (default: $MNIST_DIR or data/mnist)")
    parser.add_argument(
        "--write", action="store_true", help="store the results (confusion matrix, misclassified images) in the JSON"
    )
    parser.add_argument(
        "--drawings", metavar="DIR",
        help="score on collected drawings instead: a folder from python -m classroom.drawings export "
        "(python -m classroom.drawings evaluate scores a store's drawings directly)",
    )
    args = parser.parse_args(argv)
    if args.drawings:
        return score_drawings(args.weights, args.drawings)
    try:
        model = load(args.weights)
        images, labels = load_split("test", args.data_dir)
        train_images, train_labels = load_split("train", args.data_dir, fetch=False)
    except (WeightsError, MnistError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    r = evaluate_model(model, images, labels)
    fit = fit_report(model, train_images, train_labels)
    print(format_report(r))
    print(f"\nplain, dropout off: {fit['train_accuracy']:.2%} on the {fit['train_samples']:,} training images, "
          f"{fit['val_accuracy']:.2%} on the {fit['val_samples']:,} validation images")
    if args.write:
        try:
            meta = load_metadata(args.weights)
        except MetadataError as e:
            print(f"note: {e}; writing a new metadata file with the test results only", file=sys.stderr)
            meta = {}
        meta.update(test=r, test_accuracy=r["accuracy"], fit=fit)
        write_metadata(meta, args.weights)
        print(f"wrote the test results into {metadata_path(Path(args.weights))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
