"""Train a fresh convnet live, a few steps at a time, on a small balanced sample of MNIST; one run per server.

    python -m cnn.live --make-sample   # rebuild samples/ from the full MNIST training set (checksums below)

The run: the Keras recipe's Adam at 1e-3 from Keras' random initial weights, one pass over 3,000 training digits
(300 of each) in batches of 32: 94 steps, a few seconds on one CPU thread, long enough to watch the kernels form and
short enough that nobody waits long. Every few steps it yields what the page shows: conv1's kernels, the drawing's
feature maps and probabilities, and the accuracy on 500 held-out digits. Which visitor runs, and who waits, is
classroom/queue.py's.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cnn.data import MnistError, idx_bytes, load_split, parse_idx, sha256, to_float, validation_cut
from cnn.features import forward_with_maps
from cnn.model import ConvNet, as_batch
from cnn.recipe import ADAM_EPS

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "samples"
SAMPLE_FILES = {
    "images": "mnist-sample-images-idx3-ubyte.gz",
    "labels": "mnist-sample-labels-idx1-ubyte.gz",
}
SAMPLE_SHA256 = {  # of the uncompressed IDX bytes
    "images": "bc3e131e05595e0a2333922737ebedb4487c2292ff2b777139dea05aa1a72cca",
    "labels": "c353289168736cdfd5f41fd122edd22e2c5583d94bf9d1eb4fb6713aa9804f63",
}
PER_DIGIT_TRAIN, PER_DIGIT_VAL = 300, 50  # the sample: 3,000 digits to train on and 500 to check, balanced


@dataclass(frozen=True)
class LiveRecipe:
    batch_size: int = 32  # small batches: more steps to watch in one pass
    lr: float = 1e-3  # the Keras recipe's Adam
    epochs: int = 1  # one pass over the sample
    every: int = 4  # steps between two updates of the page
    seed: int = 0


def live_steps(recipe: LiveRecipe = LiveRecipe()) -> int:
    """Optimiser steps in a live run."""
    return recipe.epochs * -(-10 * PER_DIGIT_TRAIN // recipe.batch_size)


class SampleError(Exception):
    """The shipped sample is missing or not what its checksum says."""


def load_sample(folder: Path = SAMPLE_DIR) -> tuple[np.ndarray, np.ndarray]:
    """The shipped sample's (N, 28, 28) uint8 images and (N,) labels, checked against their checksums."""
    arrays = {}
    for kind, name in SAMPLE_FILES.items():
        path = Path(folder) / name
        try:
            raw = gzip.decompress(path.read_bytes())
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise SampleError(f"{path.name} could not be read ({type(e).__name__}): it ships in samples/") from None
        if sha256(raw) != SAMPLE_SHA256[kind]:
            raise SampleError(f"{path.name} is not the sample it should be (checksum): restore it from the repository")
        arrays[kind] = parse_idx(raw, path.name)
    return arrays["images"], arrays["labels"]


def balanced(labels: np.ndarray, per_digit: int, skip: int = 0) -> np.ndarray:
    """Indices of the first `per_digit` images of each digit after the first `skip` of each, in their order."""
    picked = []
    for d in range(10):
        picked.extend(np.flatnonzero(labels == d)[skip : skip + per_digit].tolist())
    return np.array(sorted(picked))


def make_sample(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sample from MNIST's training split: for each digit its first 300 images among the 54,000 the shipped
    networks trained on, then its first 50 among the 6,000 validation images, which no shipped network trained on (a
    personal copy and the shipped network are both measured on these)."""
    cut = validation_cut(len(labels))
    train = balanced(labels[:cut], PER_DIGIT_TRAIN)
    val = balanced(labels[cut:], PER_DIGIT_VAL) + cut
    order = np.concatenate([train, val])
    return images[order], labels[order]


def live_data(data_dir: str | Path | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, labels, validation images, labels) for a live run, float images in [0, 1].

    From the full MNIST training set when it is on disk (a fresh balanced draw for each seed), else from the sample.
    """
    try:
        images, labels = load_split("train", data_dir, fetch=False)
    except (MnistError, OSError):  # not on disk, or not whole: the sample serves
        images = None
    if images is not None:
        cut = validation_cut(len(labels))
        rng = np.random.default_rng(seed)

        def pick(start: int, stop: int, per_digit: int) -> np.ndarray:
            pool = labels[start:stop]
            return np.concatenate([rng.choice(np.flatnonzero(pool == d), per_digit, replace=False) + start
                                   for d in range(10)])

        train, val = pick(0, cut, PER_DIGIT_TRAIN), pick(cut, len(labels), PER_DIGIT_VAL)
        return to_float(images[train]), labels[train], to_float(images[val]), labels[val]
    images, labels = load_sample()
    n = 10 * PER_DIGIT_TRAIN
    return to_float(images[:n]), labels[:n], to_float(images[n:]), labels[n:]


@dataclass
class LiveUpdate:
    step: int  # optimiser steps done
    total: int  # steps in the run
    val_accuracy: float  # on the held-out digits
    kernels: np.ndarray  # (32, 3, 3)
    conv1: np.ndarray  # (C1, 26, 26) the drawing's maps, the channels shown
    conv2: np.ndarray  # (C2, 11, 11)
    probs: np.ndarray  # (10,) for the drawing
    history: list[tuple[int, float]] = field(default_factory=list)  # (step, validation accuracy) so far


def live_run(image: np.ndarray, data, recipe: LiveRecipe = LiveRecipe(), channels1=(0, 1, 2, 3),
             channels2=tuple(range(8))):
    """Train a fresh convnet on `data` (from live_data), yielding a LiveUpdate at the start and every few steps.

    A private network and a private random generator: nothing shared is touched. Stop by closing the generator.
    """
    x_train, y_train, x_val, y_val = data
    with torch.random.fork_rng(devices=[]):  # the initial weights, without a draw on the shared global generator
        torch.manual_seed(recipe.seed)
        model = ConvNet()
    gen = torch.Generator().manual_seed(recipe.seed)
    model.dropout.generator = gen  # the dropout masks and the order of the digits come from a private generator
    x, y = as_batch(x_train), torch.from_numpy(np.asarray(y_train, np.int64))
    xv, yv = as_batch(x_val), torch.from_numpy(np.asarray(y_val, np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr, eps=ADAM_EPS)
    per_epoch = -(-len(x) // recipe.batch_size)
    total, step, history = recipe.epochs * per_epoch, 0, []

    def update() -> LiveUpdate:
        model.eval()
        with torch.inference_mode():
            acc = float((model(xv).argmax(1) == yv).float().mean())
        probs, maps = forward_with_maps(model, image)
        model.train()
        history.append((step, acc))
        return LiveUpdate(step, total, acc, model.conv1.weight.detach().numpy()[:, 0].copy(),
                          maps["conv1"][list(channels1)], maps["conv2"][list(channels2)], probs, list(history))

    yield update()
    for _ in range(recipe.epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), recipe.batch_size):
            idx = order[i : i + recipe.batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step % recipe.every == 0 or step == total:
                yield update()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cnn.live", description=__doc__.splitlines()[0])
    p.add_argument("--make-sample", action="store_true", help="rebuild samples/ from the full MNIST training set")
    p.add_argument("--data-dir", help="MNIST cache folder (default: $MNIST_DIR or data/mnist)")
    args = p.parse_args(argv)
    if not args.make_sample:
        p.print_help()
        return 0
    try:
        images, labels = load_split("train", args.data_dir)
    except MnistError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    sample_images, sample_labels = make_sample(images, labels)
    SAMPLE_DIR.mkdir(exist_ok=True)
    for kind, array in (("images", sample_images), ("labels", sample_labels)):
        raw = idx_bytes(array)
        (SAMPLE_DIR / SAMPLE_FILES[kind]).write_bytes(gzip.compress(raw, mtime=0))
        print(f"{SAMPLE_FILES[kind]}: {len(array)} items, sha256 of the IDX bytes {sha256(raw)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
