"""Not a digit: every candidate detector, measured on digits and on non-digits the project makes itself.

Each candidate gives a score per image (higher: less like a digit) and is fitted on MNIST's training digits only
(the first 54,000); its threshold is set on the validation digits (the last 6,000 training digits), so that
cnn.atlas.FALSE_FLAGS of them are flagged. No non-digit is used to fit or to set a threshold. Candidates:
  - atlas: the page's detector (cnn.atlas): cosine distance to the 5th nearest of 20,000 training digits, in the
    network's pool2 features scaled to length 1 and projected onto 128 directions;
  - pool2 5-NN, all 54,000: the same without the projection, against every fitting digit;
  - pixels 5-NN: the same in raw pixels, against every fitting digit;
  - Mahalanobis: the distance to the nearest class mean of pool2 features (projected onto their 256 main
    directions) under a covariance shared by the classes;
  - energy: minus the log-sum-exp of the logits;
  - mutual information: Monte Carlo dropout's (cnn.explain), the rule the page used before.
Reported, for each set: the share flagged, and the AUROC against the validation digits (the chance that a random
image of the set scores above a random validation digit). Sets: MNIST's test digits, the project's pen strokes and
scikit-learn's digits (bench/drawn_digits.py); Fashion-MNIST's test images (Debian's dataset-fashion-mnist);
cnn.non_digits' letters that no digit resembles (drawn and printed), symbols, scribbles and blank-ish canvases.

    python bench/not_a_digit.py [--weights weights/mnist_cnn.pt] [--per-set 500] [--seed 2026] [--write]

--write stores, in the weights' metadata, the Monte Carlo rule's flag rates (key "not_a_digit", quoted by How sure
is it?) and the atlas's (key "atlas", quoted by the first screen and How sure is it?).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from cnn import atlas as atlas_module
from cnn import explain
from cnn.checkpoint import load_metadata, write_metadata
from cnn.data import file_sha256, load_split, read_idx, to_float
from cnn.model import as_batch, load
from cnn.paths import DEFAULT_WEIGHTS, FASHION_MNIST_TEST as FASHION, shown
from cnn.non_digits import non_digit_sets

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


def knn_scores(reference: np.ndarray, queries: np.ndarray, k: int = 5) -> np.ndarray:
    """Cosine distance of each (unit) query to its k-th nearest (unit) reference."""
    import torch

    ref, out = torch.as_tensor(reference), []
    for i in range(0, len(queries), 2048):
        out.append((1 - (torch.as_tensor(queries[i : i + 2048]) @ ref.T).topk(k, dim=1).values[:, -1]).numpy())
    return np.concatenate(out)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)).astype(np.float32)


def candidates(model, atlas, fit: np.ndarray, fit_labels: np.ndarray):
    """{name: score function of float images (N, 28, 28)}, each fitted on the float training digits `fit`."""
    import torch
    from scipy.special import logsumexp

    def features(images):
        with torch.inference_mode():
            batches = [model.features(as_batch(images[i : i + 4096])).numpy() for i in range(0, len(images), 4096)]
            return np.concatenate(batches)

    def logits(images):
        with torch.inference_mode():
            return model.fc(torch.as_tensor(features(images))).numpy()

    f = features(fit)
    ref, pixels = unit(f), unit(fit.reshape(len(fit), -1))
    mean = f.mean(0)
    _, _, vt = np.linalg.svd(f[::3] - mean, full_matrices=False)
    proj = vt[:256].T
    z = (f - mean) @ proj
    means = np.stack([z[fit_labels == c].mean(0) for c in range(10)])
    r = z - means[fit_labels]
    precision = np.linalg.inv(r.T @ r / len(r) + 1e-6 * np.eye(proj.shape[1]))

    def mahalanobis(images):
        q = (features(images) - mean) @ proj
        return np.min([np.einsum("ij,jk,ik->i", q - m, precision, q - m) for m in means], axis=0)

    return {
        "atlas (the page's)": lambda x: atlas_module.scores(atlas, atlas_module.embed(model, x, atlas.projection)),
        "pool2 5-NN, all 54,000": lambda x: knn_scores(ref, unit(features(x))),
        "pixels 5-NN, all 54,000": lambda x: knn_scores(pixels, unit(x.reshape(len(x), -1))),
        "Mahalanobis, pool2": mahalanobis,
        "energy": lambda x: -logsumexp(logits(x), axis=1),
        "mutual information": lambda x: scores_of(model, x)["mutual_information"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    p.add_argument("--per-set", type=int, default=500, help="images in each of the project's non-digit sets")
    p.add_argument("--seed", type=int, default=2026, help="of the project's non-digit sets")
    p.add_argument("--write", action="store_true", help="store the flag rates in the weights' metadata")
    args = p.parse_args()
    from bench.drawn_digits import sklearn_set, stroke_set

    model = load(args.weights)
    atlas = atlas_module.load_atlas(atlas_module.atlas_path(args.weights), file_sha256(args.weights))
    train_images, train_labels = load_split("train")
    fit = to_float(train_images[: atlas_module.FIT_DIGITS])
    sets = {"validation": ("MNIST validation digits", to_float(train_images[atlas_module.FIT_DIGITS :]))}
    sets["test"] = ("MNIST test digits", to_float(load_split("test", fetch=False)[0]))
    sets["pen strokes"] = ("the project's pen strokes", stroke_set()[0])
    sets["scikit-learn"] = ("scikit-learn's digits", sklearn_set()[0])
    digits = list(sets)
    if FASHION.exists():
        sets["fashion"] = ("Fashion-MNIST test images", to_float(read_idx(FASHION)))
    else:
        print(f"(Fashion-MNIST not found at {FASHION}: apt-get install dataset-fashion-mnist to include it)")
    for name, images in non_digit_sets(args.per_set, args.seed).items():
        sets[name] = (name, images)
    print(f"{'set':<28}{'images':>8}   digits?")
    for key, (name, images) in sets.items():
        print(f"{name:<28}{len(images):>8,}   {'yes' if key in digits else 'no'}")
    rates: dict[str, dict[str, float]] = {}
    aucs: dict[str, dict[str, float]] = {}
    for cand, score in candidates(model, atlas, fit, train_labels[: atlas_module.FIT_DIGITS]).items():
        s = {key: score(images) for key, (_, images) in sets.items()}
        threshold = (atlas.threshold if cand.startswith("atlas")
                     else float(np.quantile(s["validation"], 1 - atlas_module.FALSE_FLAGS)))
        rates[cand] = {key: float((v > threshold).mean()) for key, v in s.items()}
        aucs[cand] = {key: auroc(s["validation"], v) for key, v in s.items() if key not in digits}
        print(f"\n{cand}: flagged (AUROC against validation digits)")
        for key, (name, _) in sets.items():
            auc = f"  ({aucs[cand][key]:.3f})" if key in aucs[cand] else ""
            print(f"  {name:<28}{rates[cand][key]:8.2%}{auc}")
    mc_rule = {key: float((scores_of(model, images)[explain.NOT_A_DIGIT_SCORE] > explain.NOT_A_DIGIT_ABOVE).mean())
               for key, (_, images) in sets.items()} if args.write else None
    if args.write:
        meta = load_metadata(args.weights)
        meta["not_a_digit"] = {
            "score": explain.NOT_A_DIGIT_SCORE,
            "above": explain.NOT_A_DIGIT_ABOVE,
            "auroc": round(aucs["mutual information"]["scribbles"], 4),
            "flag_rates": {k: round(v, 4) for k, v in mc_rule.items()},
        }
        meta["atlas"] = {
            "size": len(atlas), "dims": atlas_module.DIMS, "neighbour": atlas_module.NEIGHBOUR,
            "threshold": round(atlas.threshold, 4), "false_flags": atlas_module.FALSE_FLAGS,
            "flag_rates": {k: round(v, 4) for k, v in rates["atlas (the page's)"].items()},
            "sizes": {k: len(images) for k, (_, images) in sets.items()},
        }
        write_metadata(meta, args.weights)
        print(f"wrote the flag rates into the metadata of {shown(args.weights)}")


if __name__ == "__main__":
    main()
