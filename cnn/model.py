"""The Keras "simple MNIST convnet" in PyTorch, and the dense networks it is compared with: the networks, their
summaries, loading and inference."""

from __future__ import annotations

import json
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnn.augment import change_stroke_width
from cnn.data import IMAGE_SIZE
from cnn.paths import DEFAULT_WEIGHTS, metadata_path, shown

NUM_CLASSES = 10
# The layers whose outputs the page shows as feature maps, in forward order.
FEATURE_LAYERS = ("conv1", "pool1", "conv2", "pool2")
TRAIN_HINT = "train with: python cnn/train.py"


class Conv2dReLU(nn.Conv2d):
    """A Conv2d followed by ReLU, like Keras' Conv2D(activation="relu"): its output is the activation."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(super().forward(x))


class Dropout(nn.Dropout):
    """nn.Dropout's inverted dropout, its mask drawn with torch.rand: the same distribution, cheaper on a CPU.

    Each feature is kept with probability 1 - p and scaled by 1 / (1 - p). On a CPU, nn.Dropout's bernoulli_ takes
    about 2.4 ms for a batch of 128 x 1,600 features here, a tenth of a training step; uniform numbers compared
    with 1 - p take 0.6 ms. The explain tab's Monte Carlo masks are drawn the same way.

    `generator`, when set, draws the masks instead of torch's global generator (a live run on a server that others
    share keeps its random numbers to itself).
    """

    generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = 1 - self.p
        if keep == 0:
            return x * 0
        # float32 uniforms even under bfloat16 autocast, so the keep rate is exact; the scale carries no gradient
        scale = (torch.rand(x.shape, device=x.device, generator=self.generator) < keep).to(x.dtype).div_(keep)
        return x * scale


class ConvNet(nn.Sequential):
    """Conv 32 -> pool -> Conv 64 -> pool -> dropout -> dense 10, returning logits (34,826 parameters)."""

    def __init__(self, dropout: float = 0.5):
        super().__init__(
            OrderedDict(
                conv1=Conv2dReLU(1, 32, kernel_size=3),  # (N, 32, 26, 26)
                pool1=nn.MaxPool2d(2),  # (N, 32, 13, 13)
                conv2=Conv2dReLU(32, 64, kernel_size=3),  # (N, 64, 11, 11)
                pool2=nn.MaxPool2d(2),  # (N, 64, 5, 5)
                flatten=nn.Flatten(),  # (N, 1600)
                dropout=Dropout(dropout),
                fc=nn.Linear(64 * 5 * 5, NUM_CLASSES),  # (N, 10)
            )
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Keras' defaults (Glorot-uniform weights, zero biases), not PyTorch's: the seed's recipe was tuned with them.
        for m in (self.conv1, self.conv2, self.fc):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return self._forward_pool_first(x)
        return super().forward(x)  # layer by layer, so hooks on conv1 ... pool2 see what the page shows

    def _forward_pool_first(self, x: torch.Tensor) -> torch.Tensor:
        """The same logits and gradients as the layer-by-layer forward, about 1.3x faster to train on a CPU.

        ReLU and max-pooling commute (ReLU never reverses an order), so ReLU runs after each pool on a quarter of
        the values; the gradient reaches the same positions. Used in training only: conv1's and conv2's modules
        (and any hooks on them) are bypassed.
        """
        x = F.relu(F.max_pool2d(F.conv2d(x, self.conv1.weight, self.conv1.bias), 2))  # (N, 32, 13, 13)
        x = F.relu(F.max_pool2d(F.conv2d(x, self.conv2.weight, self.conv2.bias), 2))  # (N, 64, 5, 5)
        return self.fc(self.dropout(x.flatten(1)))  # (N, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Everything before dropout: (N, 1, 28, 28) -> (N, 1600)."""
        for name in ("conv1", "pool1", "conv2", "pool2", "flatten"):
            x = getattr(self, name)(x)
        return x


class DenseNet(nn.Sequential):
    """A fully connected network, 784 -> hidden (ReLU) -> dropout -> 10, returning logits.

    The lesson's network has 30 hidden units (23,860 parameters); with 44 it has 34,990, the convnet's budget. Its
    dropout sits before the output layer, as the convnet's does, so that the same recipe trains both and Monte
    Carlo dropout reads both the same way; `features` and `fc` are named as in ConvNet for that reason.
    """

    def __init__(self, hidden: int = 30, dropout: float = 0.5):
        super().__init__(
            OrderedDict(
                flatten=nn.Flatten(),  # (N, 784)
                hidden=nn.Linear(IMAGE_SIZE * IMAGE_SIZE, hidden),  # (N, hidden)
                relu=nn.ReLU(),
                dropout=Dropout(dropout),
                fc=nn.Linear(hidden, NUM_CLASSES),  # (N, 10)
            )
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in (self.hidden, self.fc):  # Keras' Dense defaults, as for the convnet
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Everything before dropout: (N, 1, 28, 28) -> (N, hidden)."""
        return self.relu(self.hidden(self.flatten(x)))


# The networks train.py can train and load() can read, by the name their metadata records.
ARCHITECTURES = {
    "convnet": ConvNet,
    "dense30": lambda dropout=0.5: DenseNet(30, dropout),
    "dense44": lambda dropout=0.5: DenseNet(44, dropout),
}
DEFAULT_ARCH = "convnet"
ARCH_TITLES = {"convnet": "the convnet", "dense30": "a dense 784 → 30 → 10 network", "dense44": "a dense 784 → 44 → 10 network"}


def build(arch: str = DEFAULT_ARCH, dropout: float = 0.5) -> nn.Module:
    """A new network of the named architecture, with Keras' initial weights."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}: choose one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch](dropout=dropout)


def arch_of(model: nn.Module) -> str:
    """The name of a network's architecture."""
    if isinstance(model, ConvNet):
        return "convnet"
    return f"dense{model.hidden.out_features}"


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def summary_rows(model: nn.Module) -> list[dict]:
    """Each layer's name, type, output shape for one 1x28x28 input, and parameter count."""
    rows, x = [], torch.zeros(1, 1, IMAGE_SIZE, IMAGE_SIZE, device=next(model.parameters()).device)
    with torch.inference_mode():
        for name, layer in model.named_children():
            x = x if isinstance(layer, nn.Dropout) else layer(x)
            rows.append(
                {
                    "layer": name,
                    "type": "Conv2D + ReLU" if isinstance(layer, Conv2dReLU) else type(layer).__name__,
                    "output shape": tuple(x.shape[1:]),
                    "parameters": sum(p.numel() for p in layer.parameters()),
                }
            )
    return rows


def summary(model: nn.Module) -> str:
    """A Keras-style table: layer, output shape for one 1x28x28 input, parameters, and the total."""
    header = ("Layer (type)", "Output Shape", "Param #")
    rows = [
        (f"{r['layer']} ({r['type']})", "(None, " + ", ".join(map(str, r["output shape"])) + ")", f"{r['parameters']:,}")
        for r in summary_rows(model)
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) + 3 for i in range(3)]

    def line(cells: tuple[str, ...]) -> str:
        return "".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    rule = "_" * sum(widths)
    out = [rule, line(header), "=" * sum(widths)]
    for r in rows:
        out += [line(r), rule]
    total = count_parameters(model)
    out += [f"Total params: {total:,}", f"Trainable params: {total:,}", "Non-trainable params: 0"]
    return "\n".join(out)


class WeightsError(Exception):
    """Weights that cannot be used: missing, unreadable, or for another network."""


def load(path: str | Path = DEFAULT_WEIGHTS, device: str | torch.device = "cpu", arch: str | None = None) -> nn.Module:
    """The trained network from a state_dict file, in eval mode. Never unpickles arbitrary objects.

    The architecture is the one the weights' metadata records (or, without metadata, the one whose layers the file
    fits). Given `arch`, a file holding another architecture is refused, saying which it holds.
    """
    path, name = Path(path), shown(path)
    if arch is not None and arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}: choose one of {', '.join(ARCHITECTURES)}")
    if not path.is_file():
        raise WeightsError(f"{name} not found: {TRAIN_HINT}{_arch_flag(arch)}")
    if path.stat().st_size == 0:
        raise WeightsError(f"{name} is empty: {TRAIN_HINT}{_arch_flag(arch)}")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as e:
        # weights_only refuses anything but tensors and plain containers, before running any of it.
        detail = next((line.strip() for line in str(e).splitlines() if "global" in line.lower()), None)
        if detail:
            raise WeightsError(
                f"{name} was refused unread: it holds Python objects, not only tensors ({detail}). "
                f"Use weights you trained yourself ({TRAIN_HINT})"
            ) from None
        raise WeightsError(f"{name} is not a readable PyTorch weights file (corrupt or truncated); {TRAIN_HINT}") from None
    except Exception as e:  # noqa: BLE001: corrupt bytes surface as many kinds of error inside torch.load
        raise WeightsError(f"{name} is not a readable PyTorch weights file ({type(e).__name__}); {TRAIN_HINT}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{name} does not hold a state_dict of tensors; {TRAIN_HINT}")
    meta = _metadata(path)
    recorded = meta.get("arch") if meta.get("arch") in ARCHITECTURES else None
    held = recorded or _fitting_arch(state)
    if arch is not None and held is not None and held != arch:
        raise WeightsError(
            f"{name} holds {ARCH_TITLES[held]}, not {ARCH_TITLES[arch]}: give the weights of {ARCH_TITLES[arch]} "
            f"({TRAIN_HINT}{_arch_flag(arch)})"
        )
    with torch.device("meta"):  # shapes only: no memory, and no draw on the global random generator
        model = build(arch or held or DEFAULT_ARCH)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unexpected:
            parts.append("unexpected " + ", ".join(unexpected[:5]))
        if wrong:
            parts.append(
                "wrong shape "
                + ", ".join(f"{k} {tuple(state[k].shape)} (expected {tuple(expected[k].shape)})" for k in wrong)
            )
        raise WeightsError(f"{name} holds weights for another network: {'; '.join(parts)}. {TRAIN_HINT}")
    if not all(torch.isfinite(v).all() for v in state.values()):
        raise WeightsError(f"{name} holds non-finite weights (nan or inf); {TRAIN_HINT}")
    model.load_state_dict(state, assign=True)
    model.dropout.p = _trained_dropout(meta, model.dropout.p)
    return model.to(device).eval()


def _arch_flag(arch: str | None) -> str:
    return "" if arch in (None, DEFAULT_ARCH) else f" --arch {arch}"


def _fitting_arch(state: dict) -> str | None:
    """The architecture whose parameters have exactly the names and shapes of `state`, if one has."""
    for name in ARCHITECTURES:
        with torch.device("meta"):
            expected = build(name).state_dict()
        if expected.keys() == state.keys() and all(state[k].shape == v.shape for k, v in expected.items()):
            return name
    return None


def _metadata(weights: Path) -> dict:
    """The JSON next to the weights, or {} when it is missing or unreadable (loading never depends on it)."""
    try:
        meta = json.loads(metadata_path(weights).read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _trained_dropout(meta: dict, default: float) -> float:
    """The dropout rate the weights were trained with, from their metadata (Monte Carlo dropout must use it)."""
    try:
        rate = meta["hyperparameters"]["dropout"]
    except (KeyError, TypeError):
        return default
    return float(rate) if isinstance(rate, (int, float)) and 0 <= rate < 1 else default


def as_batch(images: np.ndarray | torch.Tensor, device: str | torch.device = "cpu") -> torch.Tensor:
    """(N, 28, 28) or (28, 28) images in [0, 1], white on black -> the (N, 1, 28, 28) float tensor the network takes.

    The network's input is the [0, 1] image itself, as in the seed's Keras run: this is the one place that says so.
    """
    x = torch.as_tensor(np.asarray(images, dtype=np.float32) if not torch.is_tensor(images) else images)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected images of shape (N, 28, 28), got {tuple(np.shape(images))}")
    return x.to(device=device, dtype=torch.float32)


def predict_proba(model: ConvNet, images: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Class probabilities (N, 10) for float32 images (N, 28, 28) in [0, 1], white digit on black."""
    device = next(model.parameters()).device
    x = as_batch(images)
    out = []
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            logits = model(x[i : i + batch_size].to(device))  # (B, 10)
            out.append(F.softmax(logits.float(), dim=1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, NUM_CLASSES), np.float32)


# What the page calls its two ways of reading, the same words in every part: page_reading, and one forward pass
PAGE_READING = "the page's reading"
ONE_PASS = "one pass of the image as drawn"
WIDTH_VARIANTS = (0.0, -0.5, 0.5)  # as drawn, strokes half a pixel thinner each side, half a pixel thicker


def width_variants(images: np.ndarray, amounts=WIDTH_VARIANTS) -> torch.Tensor:
    """(len(amounts) * N, 1, 28, 28): the N images with their strokes changed by each amount in turn
    (cnn.augment.change_stroke_width; 0 leaves an image as it is), all of the first amount first."""
    x = as_batch(images)
    return torch.cat([change_stroke_width(x, torch.full((len(x),), a)) for a in amounts])


def predict_proba_widths(model: ConvNet, images: np.ndarray, amounts=WIDTH_VARIANTS) -> np.ndarray:
    """Test-time averaging over stroke widths: the mean of the (N, 10) probabilities of each image as drawn and with
    its strokes made thinner and thicker (width_variants), three forward passes in one batch."""
    n = len(as_batch(images))
    return predict_proba(model, width_variants(images, amounts)).reshape(len(amounts), n, NUM_CLASSES).mean(axis=0)


def reading_text(amounts=WIDTH_VARIANTS) -> str:
    """The page's sentence on what its probabilities are, from the stroke-width changes they average over."""
    parts = [
        "as drawn" if a == 0 else f"with strokes {abs(a):g} pixel {'thinner' if a < 0 else 'thicker'} on each side"
        for a in amounts
    ]
    listed = ", ".join(parts[:-1]) + ", and " + parts[-1] if len(parts) > 1 else parts[0]
    return (f"These probabilities are {PAGE_READING}: the mean of {len(parts)} readings of this {IMAGE_SIZE}×{IMAGE_SIZE} "
            f"image, {listed}.")


READING = reading_text()


def page_reading(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """The page's reading of images (N, 28, 28): predict_proba_widths over WIDTH_VARIANTS, for every network it shows.

    The figures quoted about readings (cnn.evaluate's test accuracy and unsure figures, cnn.robustness) are measured
    on this same reading. Feature maps, Monte Carlo dropout and the saliency maps explain the image as drawn.
    """
    return predict_proba_widths(model, images)


def dense_parameters(side: int, channels: int, hidden: int) -> int:
    """Weights and biases of a fully connected layer from a side x side x channels image to `hidden` units."""
    return side * side * channels * hidden + hidden


def head_parameters(side: int) -> int | None:
    """Weights and biases the convnet's last layer (fc, dense) would need for a side x side grey image: it reads every
    pool2 value, so unlike its convolutions it grows with the image. None when the image is too small for the layers.
    Shapes only, on the meta device: no memory is used however large the image."""
    with torch.device("meta"):
        net = ConvNet()
        x = torch.empty(1, 1, side, side)
        try:
            for layer in (net.conv1, net.pool1, net.conv2, net.pool2):
                x = layer(x)
        except RuntimeError:  # a kernel or a pool larger than what is left of the image
            return None
    return x[0].numel() * net.fc.out_features + net.fc.out_features


def conv_parameters(kernel: int, channels: int, filters: int) -> int:
    """Weights and biases of a conv layer of `filters` kernel x kernel filters over `channels` input channels.

    The image's size does not appear: the same small kernels slide over every position.
    """
    return kernel * kernel * channels * filters + filters
