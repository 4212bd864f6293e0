"""Why the network reads a drawing as it does: Monte Carlo dropout, occlusion and gradient maps. Pure torch/numpy.

Nothing here changes the model it is given (the page shares one model between all its users): dropout is applied
with a private random mask, and gradients are taken with torch.autograd.grad, which leaves the weights' .grad alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnn.data import IMAGE_SIZE
from cnn.model import ConvNet, as_batch

MC_SAMPLES = 30  # forward passes with dropout on
# Below this top probability the page calls the network unsure: no digit then holds a clear majority of its belief.
# How often that happens on MNIST's test digits, and how often the network is wrong then, is measured by
# cnn.evaluate.warnings_report and stored in the weights' metadata; the page quotes it from there.
UNSURE_BELOW = 0.6
# How sure is it? warns that the passes disagree strongly when this score (one of uncertainty_scores'; higher means
# less sure) is above the threshold. Chosen on data for the shipped weights: of the three scores, mutual information
# separated MNIST's validation digits from random scribbles best (AUROC 0.957), and 1% of those digits score above
# 0.2498. Whether a drawing looks like a digit at all is cnn.atlas's check, which catches far more non-digits;
# bench/not_a_digit.py measures both.
NOT_A_DIGIT_SCORE = "mutual_information"
NOT_A_DIGIT_ABOVE = 0.2498


@dataclass
class McDropout:
    mean: np.ndarray  # (10,) mean probability of each digit over the passes
    std: np.ndarray  # (10,) its standard deviation
    samples: np.ndarray  # (S, 10) each pass's probabilities
    scores: dict[str, float]  # uncertainty_scores of this drawing

    @property
    def not_a_digit(self) -> bool:
        return self.scores[NOT_A_DIGIT_SCORE] > NOT_A_DIGIT_ABOVE


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * torch.log(p.clamp_min(1e-12))).sum(-1)


def mc_dropout_batch(model: ConvNet, images: np.ndarray, samples: int = MC_SAMPLES, seed: int = 0) -> torch.Tensor:
    """(N, S, 10) probabilities of N images over S passes, each pass with its own dropout mask."""
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    keep = 1 - model.dropout.p
    out = []
    with torch.inference_mode():
        x = as_batch(images, device)
        for i in range(0, len(x), 256):
            feats = model.features(x[i : i + 256])  # (B, 1600): everything before the dropout layer
            mask = (torch.rand(len(feats), samples, feats.shape[1], generator=gen) < keep).to(device) / keep
            logits = (feats[:, None, :] * mask) @ model.fc.weight.T + model.fc.bias  # (B, S, 10)
            out.append(F.softmax(logits.float(), dim=-1).cpu())
    return torch.cat(out)


def uncertainty_scores(probs: torch.Tensor) -> dict[str, np.ndarray]:
    """Per image, from its (N, S, 10) passes, three scores that grow as the image looks less like a digit.

    doubt: 1 - the mean top probability; entropy: of the mean prediction, in nats (0 certain, 2.30 all ten equal);
    mutual_information: that entropy minus the passes' mean entropy, how much the passes disagree with each other.
    """
    mean = probs.mean(1)  # (N, 10)
    entropy = _entropy(mean)
    return {
        "doubt": (1 - mean.max(1).values).numpy(),
        "entropy": entropy.numpy(),
        "mutual_information": (entropy - _entropy(probs).mean(1)).clamp_min(0).numpy(),
    }


def mc_dropout(model: ConvNet, image: np.ndarray, samples: int = MC_SAMPLES, seed: int = 0) -> McDropout:
    probs = mc_dropout_batch(model, image[None], samples, seed)  # (1, S, 10)
    p = probs[0].numpy()
    return McDropout(p.mean(0), p.std(0), p, {k: float(v[0]) for k, v in uncertainty_scores(probs).items()})


def flag_not_a_digit(probs: torch.Tensor) -> np.ndarray:
    """(N,) bool: which of the images, given their (N, S, 10) passes, the page would flag."""
    return uncertainty_scores(probs)[NOT_A_DIGIT_SCORE] > NOT_A_DIGIT_ABOVE


# --- occlusion ----------------------------------------------------------------------------------------------------


def occlusion(
    model: ConvNet, image: np.ndarray, patch: int = 4, stride: int = 2, fill: float = 0.5, log: bool = False
) -> np.ndarray:
    """(10, 28, 28): for each digit, how much its probability drops when a patch around each pixel is covered.

    With log=True the drop is in log-probability, which still shows structure when the network is very sure (a
    probability of 0.9999 hardly moves).

    Every patch x patch square at the given stride is set to `fill` in turn; a pixel's value is the mean drop over
    the squares that cover it. Positive: covering it hurts that digit (evidence for it); negative: it helps.
    """
    size = image.shape[0]
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    positions = [(r, c) for r in starts for c in starts]
    batch = np.repeat(image[None], len(positions), axis=0)  # (P, 28, 28)
    for k, (r, c) in enumerate(positions):
        batch[k, r : r + patch, c : c + patch] = fill
    device = next(model.parameters()).device
    with torch.inference_mode():
        base = F.softmax(model(as_batch(image, device)).float(), 1)[0].cpu().numpy()  # (10,)
        probs = F.softmax(model(as_batch(batch, device)).float(), 1).cpu().numpy()  # (P, 10)
    if log:
        base, probs = np.log(np.maximum(base, 1e-12)), np.log(np.maximum(probs, 1e-12))
    drop = base[None] - probs  # (P, 10)
    total = np.zeros((10, size, size), np.float64)
    count = np.zeros((size, size), np.float64)
    for k, (r, c) in enumerate(positions):
        total[:, r : r + patch, c : c + patch] += drop[k][:, None, None]
        count[r : r + patch, c : c + patch] += 1
    return (total / count).astype(np.float32)


# --- gradients ----------------------------------------------------------------------------------------------------


def _forward_from(model: ConvNet, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """conv2's activations (1, 64, 11, 11) and the logits (1, 10); dropout skipped, as in evaluation."""
    conv2 = model.conv2(model.pool1(model.conv1(x)))
    logits = model.fc(model.flatten(model.pool2(conv2)))
    return conv2, logits


def input_gradient(model: ConvNet, image: np.ndarray, target: int) -> np.ndarray:
    """(28, 28) d logit[target] / d pixel: positive where more ink would raise the digit's score."""
    x = as_batch(image, next(model.parameters()).device).requires_grad_(True)
    with torch.enable_grad():
        _, logits = _forward_from(model, x)
        (grad,) = torch.autograd.grad(logits[0, target], x)
    return grad[0, 0].cpu().numpy()


# conv2's output pixel i sees input rows 2i .. 2i + 7 (3x3 conv, 2x2 pool, 3x3 conv): its centre is row 2i + 3.5.
CONV2_CENTRES = 2 * np.arange(11) + 3.5


def grad_cam_grid(model: ConvNet, image: np.ndarray, target: int) -> np.ndarray:
    """(11, 11) Grad-CAM on conv2: its 64 maps weighted by the mean gradient of the digit's logit over each, summed,
    kept where positive."""
    x = as_batch(image, next(model.parameters()).device)
    with torch.enable_grad():
        conv2, logits = _forward_from(model, x)
        (grad,) = torch.autograd.grad(logits[0, target], conv2)
    weights = grad[0].mean(dim=(1, 2))  # (64,)
    return F.relu((weights[:, None, None] * conv2[0]).sum(0)).detach().cpu().numpy()  # (11, 11)


def conv2_to_input(grid: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """An (11, 11) conv2 map on the (28, 28) input, each value placed at its receptive field's centre, interpolated."""
    pixels = np.arange(size)
    rows = np.array([np.interp(pixels, CONV2_CENTRES, grid[:, j]) for j in range(grid.shape[1])]).T  # (28, 11)
    return np.array([np.interp(pixels, CONV2_CENTRES, rows[i]) for i in range(size)])  # (28, 28)


def grad_cam(model: ConvNet, image: np.ndarray, target: int) -> np.ndarray:
    """(28, 28) Grad-CAM on conv2 scaled to [0, 1]: where the conv2 features that raise the digit's score fire."""
    full = conv2_to_input(grad_cam_grid(model, image, target), image.shape[0])
    peak = full.max()
    return (full / peak if peak > 0 else full).astype(np.float32)
