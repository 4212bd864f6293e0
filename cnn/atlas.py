"""The digits the network knows: a sample of MNIST's training digits as the network sees them, to say when a drawing
looks like none of them (`not_a_digit`) and which of them a drawing lies nearest to.

An atlas holds 20,000 training digits drawn at random from the first 54,000 (never the 6,000 validation digits, nor
the test set): their images, their labels, and their features. A digit's features are the 1,600 numbers the network's
dense layer reads (pool2, flattened), scaled to length 1, then projected onto the 128 directions in which the
training digits' features vary most and scaled to length 1 again: the projection keeps the atlas small (5 MB) and
a stroke's search fast.

It also holds two maps of the digits, where a drawing can be placed as it is drawn: a linear discriminant (the two
directions along which the ten digits' means lie farthest apart for their spread) fitted on 10,000 of the atlas's
digits and their labels, once in the features and once in raw pixels. 5,000 other atlas digits are shown on them.

A drawing's score is its cosine distance to its 5th nearest digit in the atlas: how far it lies from the digits the
network knows. It is flagged "not a digit" when the score is above a threshold chosen on the validation digits, so
that 0.75% of them are flagged. bench/not_a_digit.py chose this recipe among others (Monte Carlo dropout's mutual
information, the energy of the logits, class-conditional Gaussians, nearest neighbours in other layers and in pixels)
and measures it on digits and non-digits the atlas never saw.

The shipped atlas sits beside the weights it was built for (weights/mnist_cnn.atlas.npz) and records their SHA-256:
after a retraining, rebuild it with

    python cnn/atlas.py [--weights weights/mnist_cnn.pt]
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python cnn/atlas.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

from cnn.data import IMAGE_SIZE, file_sha256, load_split, to_float
from cnn.model import as_batch, load
from cnn.paths import DEFAULT_WEIGHTS, shown

ATLAS_SIZE = 20_000  # training digits kept
FIT_DIGITS = 54_000  # the training digits they are drawn from: the last 6,000 are the validation digits
DIMS = 128  # directions the features are projected onto
NEIGHBOUR = 5  # the score is the distance to this nearest atlas digit
FALSE_FLAGS = 0.0075  # the share of validation digits above the threshold
SEED = 0
MAP_FIT = 10_000  # atlas digits (the first) the maps' axes are fitted on
MAP_SHOWN = 5_000  # atlas digits (the next) placed on the maps
MAP_NEIGHBOURS = 10  # how a map's separation is measured: the share of each digit's nearest on the map sharing its label


def discriminant_axes(x: np.ndarray, labels: np.ndarray, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Linear discriminant analysis in numpy: the mean (D,) and the `dims` axes (D, dims) along which the ten labels'
    means lie farthest apart for the spread within each label (Fisher's criterion), a little regularised."""
    x = np.asarray(x, np.float64)
    mean = x.mean(0)
    within = np.zeros((x.shape[1], x.shape[1]))
    between = np.zeros_like(within)
    for c in np.unique(labels):
        xc = x[labels == c]
        d = xc - xc.mean(0)
        within += d.T @ d
        m = (xc.mean(0) - mean)[:, None]
        between += len(xc) * (m @ m.T)
    within = within / len(x) + 1e-3 * np.trace(within / len(x)) / x.shape[1] * np.eye(x.shape[1])
    values, vectors = np.linalg.eigh(within)
    whiten = vectors / np.sqrt(values)  # within-class spread made 1 in every direction
    _, axes = np.linalg.eigh(whiten.T @ (between / len(x)) @ whiten)
    return mean.astype(np.float32), (whiten @ axes[:, ::-1][:, :dims]).astype(np.float32)


def separation(points: np.ndarray, labels: np.ndarray, k: int = MAP_NEIGHBOURS) -> float:
    """The share of each point's k nearest others on a 2D map that carry its label (1: the labels never mix)."""
    p, same = torch.as_tensor(points, dtype=torch.float32), 0
    for i in range(0, len(p), 1000):  # a block of rows at a time: all the distances at once would be N^2 floats
        d = torch.cdist(p[i : i + 1000], p)
        d[torch.arange(len(d)), torch.arange(i, i + len(d))] = float("inf")  # not itself
        same += int((labels[d.topk(k, largest=False).indices.numpy()] == labels[i : i + 1000, None]).sum())
    return same / (len(p) * k)


class AtlasError(Exception):
    """An atlas that is missing, unreadable, or built for other weights; the message says what to do."""


@dataclass(frozen=True)
class Atlas:
    projection: np.ndarray  # (1600, DIMS) float32: features (scaled to length 1) -> the atlas's directions
    features: np.ndarray  # (N, DIMS) float32, each of length 1
    images: np.ndarray  # (N, 28, 28) uint8, as MNIST stores them
    labels: np.ndarray  # (N,) uint8
    indices: np.ndarray  # (N,) int32: each digit's row in MNIST's training set
    threshold: float  # scores above it are "not a digit"
    weights_sha256: str  # of the weights whose features these are
    # two maps of the digits, each a linear discriminant fitted on the first MAP_FIT atlas digits: a mean and 2 axes
    map_features: tuple[np.ndarray, np.ndarray]  # in the atlas's features: (DIMS,), (DIMS, 2)
    map_pixels: tuple[np.ndarray, np.ndarray]  # in raw pixels: (784,), (784, 2)

    @cached_property
    def pixels(self) -> np.ndarray:
        """(N, 784) float32 in [0, 1]: the images, for searching (63 MB, made when first asked for)."""
        return self.images.reshape(len(self.images), -1).astype(np.float32) / 255

    @cached_property
    def pixel_norms(self) -> np.ndarray:
        """(N,) the squared lengths of `pixels`."""
        return (self.pixels**2).sum(1)

    def __len__(self) -> int:
        return len(self.labels)

    def shown_on_map(self) -> slice:
        """The atlas digits placed on the maps: ones the maps' axes were not fitted on."""
        return slice(MAP_FIT, MAP_FIT + MAP_SHOWN)

    def place(self, embedded: np.ndarray, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 2) places on the features' map of embedded images (N, DIMS), and on the pixels' map of the images."""
        (fm, fa), (pm, pa) = self.map_features, self.map_pixels
        flat = np.asarray(images, np.float32).reshape(len(images), -1)
        return (np.asarray(embedded, np.float32) - fm) @ fa, (flat - pm) @ pa


def atlas_path(weights: str | Path = DEFAULT_WEIGHTS) -> Path:
    """weights/mnist_cnn.pt -> weights/mnist_cnn.atlas.npz"""
    return Path(weights).with_suffix(".atlas.npz")


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-8)


def project(features: np.ndarray | torch.Tensor, projection: np.ndarray) -> np.ndarray:
    """(N, 1600) pool2 features (flattened, as the dense layer reads them) -> (N, DIMS) float32: scaled to length 1,
    projected, and scaled to length 1 again."""
    f = torch.as_tensor(features, dtype=torch.float32).reshape(len(features), -1)
    return _unit(_unit(f) @ torch.as_tensor(projection, dtype=torch.float32)).numpy()


def embed(model, images: np.ndarray, projection: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """(N, 28, 28) images in [0, 1] -> (N, DIMS) float32: their features, projected (see `project`)."""
    device = next(model.parameters()).device
    x, out = as_batch(images), []
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            out.append(project(model.features(x[i : i + batch_size].to(device)).float().cpu(), projection))
    return np.concatenate(out) if out else np.zeros((0, projection.shape[1]), np.float32)


def neighbours(atlas: Atlas, embedded: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n nearest atlas digits to each embedded image, nearest first: (N, n) rows of the atlas and (N, n) cosine
    distances (0 for the same direction, 2 for the opposite one)."""
    sims = torch.as_tensor(embedded, dtype=torch.float32) @ torch.as_tensor(atlas.features).T  # (N, len(atlas))
    top = sims.topk(n, dim=1)
    return top.indices.numpy(), (1 - top.values).numpy()


def scores(atlas: Atlas, embedded: np.ndarray) -> np.ndarray:
    """(N,) cosine distance of each embedded image to its NEIGHBOUR-th nearest atlas digit."""
    if len(embedded) == 0:
        return np.zeros(0, np.float32)
    return neighbours(atlas, embedded, NEIGHBOUR)[1][:, -1]


def nearest_in_pixels(atlas: Atlas, image: np.ndarray, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The n atlas digits nearest to one (28, 28) image in raw pixels: rows of the atlas and Euclidean distances,
    pixels in [0, 1], nearest first."""
    x = np.asarray(image, np.float32).reshape(-1)
    squared = atlas.pixel_norms + float(x @ x) - 2 * (atlas.pixels @ x)  # |a - x|^2 = |a|^2 + |x|^2 - 2 a.x
    rows = np.argpartition(squared, n)[:n]
    rows = rows[np.argsort(squared[rows], kind="stable")]
    return rows, np.sqrt(np.maximum(squared[rows], 0))


def build(model, images: np.ndarray, labels: np.ndarray, validation: np.ndarray, weights_sha256: str,
          size: int = ATLAS_SIZE, seed: int = SEED) -> Atlas:
    """An atlas of `size` of the uint8 training `images` (N, 28, 28), drawn at random with `seed`; the projection
    is fitted on all of them, the threshold on the float `validation` digits."""
    fit = to_float(images)
    with torch.inference_mode():
        f = torch.cat([_unit(model.features(as_batch(fit[i : i + 4096])).float()) for i in range(0, len(fit), 4096)])
    # the directions in which the (unit) features vary most, about the origin: no centring, as cosines are taken
    _, _, vt = torch.linalg.svd(f[::3], full_matrices=False)
    projection = vt[:DIMS].T.contiguous().numpy()
    rows = np.sort(np.random.default_rng(seed).choice(len(images), size, replace=False))
    features = _unit(f[torch.as_tensor(rows)] @ torch.as_tensor(projection)).numpy()
    kept, kept_labels = np.asarray(images[rows], np.uint8), np.asarray(labels[rows], np.uint8)
    fit_map = slice(0, min(MAP_FIT, size))
    map_features = discriminant_axes(features[fit_map], kept_labels[fit_map])
    map_pixels = discriminant_axes(kept[fit_map].reshape(-1, IMAGE_SIZE * IMAGE_SIZE) / 255, kept_labels[fit_map])
    atlas = Atlas(projection, features, kept, kept_labels, rows.astype(np.int32), threshold=0.0,
                  weights_sha256=weights_sha256, map_features=map_features, map_pixels=map_pixels)
    threshold = float(np.quantile(scores(atlas, embed(model, validation, projection)), 1 - FALSE_FLAGS))
    return replace(atlas, threshold=threshold)


def save(atlas: Atlas, path: str | Path) -> None:
    """Write the atlas (features as float16) beside a temporary name, then move it into place."""
    path = Path(path)
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as f:
        np.savez_compressed(
            f, projection=atlas.projection.astype(np.float32), features=atlas.features.astype(np.float16),
            images=atlas.images, labels=atlas.labels, indices=atlas.indices,
            threshold=np.float64(atlas.threshold), weights_sha256=np.str_(atlas.weights_sha256),
            map_features_mean=atlas.map_features[0], map_features_axes=atlas.map_features[1],
            map_pixels_mean=atlas.map_pixels[0], map_pixels_axes=atlas.map_pixels[1],
        )
        f.flush()
        os.fsync(f.fileno())
    part.replace(path)


def load_atlas(path: str | Path, weights_sha256: str | None = None) -> Atlas:
    """The atlas at `path`; AtlasError, saying how to rebuild it, when it is missing, unreadable, or (given the
    weights' SHA-256) built for other weights."""
    path = Path(path)
    rebuild = f"rebuild it with: python cnn/atlas.py --weights {shown(path.with_suffix('').with_suffix('.pt'))}"
    if not path.exists():
        raise AtlasError(f"no atlas of training digits at {shown(path)}: {rebuild}")
    try:
        with np.load(path, allow_pickle=False) as z:
            atlas = Atlas(
                projection=z["projection"].astype(np.float32), features=z["features"].astype(np.float32),
                images=z["images"], labels=z["labels"], indices=z["indices"],
                threshold=float(z["threshold"]), weights_sha256=str(z["weights_sha256"]),
                map_features=(z["map_features_mean"], z["map_features_axes"]),
                map_pixels=(z["map_pixels_mean"], z["map_pixels_axes"]),
            )
    except Exception as e:  # noqa: BLE001: a damaged file fails in many ways (zip, npy header, missing key)
        raise AtlasError(f"the atlas at {shown(path)} cannot be read ({type(e).__name__}): {rebuild}") from None
    n, dims = atlas.features.shape
    if (atlas.projection.shape != (atlas.projection.shape[0], dims) or atlas.images.shape != (n, IMAGE_SIZE, IMAGE_SIZE)
            or atlas.labels.shape != (n,) or atlas.indices.shape != (n,) or not np.isfinite(atlas.threshold)
            or atlas.map_features[1].shape != (dims, 2) or atlas.map_pixels[1].shape != (IMAGE_SIZE * IMAGE_SIZE, 2)):
        raise AtlasError(f"the atlas at {shown(path)} is inconsistent: {rebuild}")
    if weights_sha256 is not None and atlas.weights_sha256 != weights_sha256:
        raise AtlasError(f"the atlas at {shown(path)} was built for other weights: {rebuild}")
    return atlas


@lru_cache(maxsize=4)
def _shipped(weights: str, mtime: float):
    return load(weights), load_atlas(atlas_path(weights), file_sha256(Path(weights)))


def shipped():
    """The shipped network and its atlas, loaded once (again when the weights file changes)."""
    return _shipped(str(DEFAULT_WEIGHTS), DEFAULT_WEIGHTS.stat().st_mtime)


def not_a_digit(images: np.ndarray, model=None, atlas: Atlas | None = None) -> np.ndarray:
    """(N,) bool: which of the float32 (N, 28, 28) images in [0, 1] (as the page prepares them) look like none of
    the digits the network knows. Without `model` and `atlas`, the shipped network and its atlas."""
    if (model is None) != (atlas is None):
        raise ValueError("give both the model and its atlas, or neither")
    if model is None:
        model, atlas = shipped()
    images = np.asarray(images, np.float32)
    return scores(atlas, embed(model, images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE), atlas.projection)) > atlas.threshold


def main() -> None:
    p = argparse.ArgumentParser(description="Build the atlas of training digits for a network's weights.")
    p.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    p.add_argument("--size", type=int, default=ATLAS_SIZE, help=f"training digits kept (default {ATLAS_SIZE:,})")
    args = p.parse_args()
    if not 1_000 <= args.size <= FIT_DIGITS:
        p.error(f"--size must be between 1,000 and {FIT_DIGITS:,}")
    weights = Path(args.weights)
    model = load(weights)
    images, labels = load_split("train")
    atlas = build(model, images[:FIT_DIGITS], labels[:FIT_DIGITS], to_float(images[FIT_DIGITS:]),
                  file_sha256(weights), size=args.size)
    save(atlas, atlas_path(weights))
    print(f"wrote {shown(atlas_path(weights))}: {len(atlas):,} training digits, {DIMS} directions, threshold "
          f"{atlas.threshold:.4f} ({FALSE_FLAGS:.2%} of the {len(images) - FIT_DIGITS:,} validation digits above it)")


if __name__ == "__main__":
    main()
