"""A personal copy of the network, fine-tuned for a few seconds on one visitor's labelled drawings.

The copy starts from the shipped weights and never touches them. Each step's batch is half the visitor's drawings
(each moved a little at random, so a dozen drawings do not become a dozen memorised pictures) and half MNIST digits
from the live run's sample, so the copy learns the visitor's style without forgetting everyone else's. A quarter of
the drawings are held back to measure both networks on drawings the copy never trained on.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnn.augment import Affine, random_affine
from cnn.model import NUM_CLASSES, as_batch, page_reading
from cnn.recipe import ADAM_EPS

GENTLE = Affine(rotate_deg=8.0, scale=0.08, shear=0.1, shift_px=1.5)  # the visitor's drawings, moved a little


@dataclass(frozen=True)
class FineTuneRecipe:
    steps: int = 80  # about two seconds on one CPU thread
    own_per_batch: int = 32  # the visitor's drawings in each batch (drawn with replacement)
    mnist_per_batch: int = 32  # MNIST digits in each batch, so the copy keeps reading everyone else's
    lr: float = 5e-4  # Adam; small enough not to undo the shipped training in 80 steps
    held_out: float = 0.25  # share of the drawings kept back to measure on
    seed: int = 0


MIN_DRAWINGS = 8  # fewer and the held-back quarter says nothing


class FineTuneError(ValueError):
    """Not enough drawings to fine-tune on; the message says how many more."""


def held_out_split(labels: np.ndarray, share: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train, held out) indices: a random `share` (at least 2) held back, the rest (at least 2) to train on."""
    n = len(labels)
    if n < MIN_DRAWINGS:
        raise FineTuneError(f"label at least {MIN_DRAWINGS} drawings to fine-tune on ({n} so far): a quarter is "
                            "held back to measure the copy on drawings it did not train on")
    order = np.random.default_rng(seed).permutation(n)
    k = max(2, int(round(share * n)))
    return np.sort(order[k:]), np.sort(order[:k])


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """The share of images the page's reading (cnn.model.page_reading) gets right."""
    if not len(labels):
        return float("nan")
    return float((page_reading(model, images).argmax(1) == np.asarray(labels)).mean())


@dataclass
class FineTuneResult:
    model: nn.Module  # the personal copy, in eval mode
    seconds: float
    steps: int
    held_out: int  # drawings held back
    shipped_held_out: float  # accuracy on them
    personal_held_out: float
    mnist_held_out: int  # MNIST digits neither network trained on
    shipped_mnist: float  # accuracy on them
    personal_mnist: float


def fine_tune(shipped: nn.Module, images: np.ndarray, labels: np.ndarray, mnist, recipe: FineTuneRecipe = FineTuneRecipe(),
              on_step=None) -> FineTuneResult:
    """Fine-tune a private copy of `shipped` on (N, 28, 28) drawings and their labels, mixed with `mnist` (train
    images, labels, held-out images, labels: cnn.live.live_data). `on_step(step, steps)` is called after each step;
    anything it raises stops the run (the copy is then dropped)."""
    images, labels = np.asarray(images, np.float32), np.asarray(labels, np.int64)
    if labels.min(initial=0) < 0 or labels.max(initial=0) >= NUM_CLASSES:
        raise ValueError("labels must be digits")
    train, held = held_out_split(labels, recipe.held_out, recipe.seed)
    x_mnist, y_mnist, xv_mnist, yv_mnist = mnist
    model = copy.deepcopy(shipped)  # the shared network is only read
    gen = torch.Generator().manual_seed(recipe.seed)
    if hasattr(model, "dropout"):
        model.dropout.generator = gen  # its dropout masks, too, from the private generator
    own_x, own_y = as_batch(images[train]), torch.from_numpy(labels[train])
    mn_x, mn_y = as_batch(x_mnist), torch.from_numpy(np.asarray(y_mnist, np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr, eps=ADAM_EPS)
    t0 = time.perf_counter()
    model.train()
    for step in range(1, recipe.steps + 1):
        i = torch.randint(len(own_x), (recipe.own_per_batch,), generator=gen)
        j = torch.randint(len(mn_x), (recipe.mnist_per_batch,), generator=gen)
        xb = torch.cat([random_affine(own_x[i], GENTLE, gen), mn_x[j]])  # (B, 1, 28, 28)
        yb = torch.cat([own_y[i], mn_y[j]])
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if on_step is not None:
            on_step(step, recipe.steps)
    seconds = time.perf_counter() - t0
    model.eval()
    if hasattr(model, "dropout"):
        model.dropout.generator = None
    return FineTuneResult(
        model=model, seconds=seconds, steps=recipe.steps, held_out=len(held),
        shipped_held_out=accuracy(shipped, images[held], labels[held]),
        personal_held_out=accuracy(model, images[held], labels[held]),
        mnist_held_out=len(yv_mnist),
        shipped_mnist=accuracy(shipped, xv_mnist, yv_mnist),
        personal_mnist=accuracy(model, xv_mnist, yv_mnist),
    )
