"""What each layer computes on one drawing: feature maps, probabilities and the kernels behind them."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cnn.model import FEATURE_LAYERS, NUM_CLASSES, WIDTH_VARIANTS, ConvNet, as_batch, width_variants


def forward_with_maps(model: ConvNet, image: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Class probabilities (10,) and the feature maps {layer: (C, H, W)} of one (28, 28) image, in one pass.

    The layers are run one by one rather than through hooks: a hook would be registered on the model that every
    browser session shares, and one session's forward pass could land in another's maps.
    """
    x = as_batch(image, device=next(model.parameters()).device)  # (1, 1, 28, 28)
    maps = {}
    with torch.inference_mode():
        for name, layer in model.named_children():
            x = layer(x)
            if name in FEATURE_LAYERS:
                maps[name] = x[0].float().cpu().numpy()  # (C, H, W)
        probs = F.softmax(x.float(), dim=1)[0].cpu().numpy()  # (10,)
    return probs, maps


def read_with_maps(model: ConvNet, image: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """What a stroke needs, in one batched pass: the page's reading of one (28, 28) image (cnn.model.page_reading,
    the mean over WIDTH_VARIANTS) and the feature maps {layer: (C, H, W)} of the image as drawn."""
    drawn = WIDTH_VARIANTS.index(0.0)
    x = width_variants(image).to(next(model.parameters()).device)  # (len(WIDTH_VARIANTS), 1, 28, 28)
    maps = {}
    with torch.inference_mode():
        for name, layer in model.named_children():  # layer by layer, as forward_with_maps, for the same reason
            x = layer(x)
            if name in FEATURE_LAYERS:
                maps[name] = x[drawn].float().cpu().numpy()  # (C, H, W)
        probs = F.softmax(x.float(), dim=1).reshape(len(WIDTH_VARIANTS), NUM_CLASSES).mean(0).cpu().numpy()  # (10,)
    return probs, maps


def feature_maps(model: ConvNet, image: np.ndarray) -> dict[str, np.ndarray]:
    """{"conv1": (32, 26, 26), "pool1": (32, 13, 13), "conv2": (64, 11, 11), "pool2": (64, 5, 5)} for one image."""
    return forward_with_maps(model, image)[1]


def kernels(model: ConvNet, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """The weights (out, in, 3, 3) and biases (out,) of conv1 or conv2."""
    conv = getattr(model, layer)
    return conv.weight.detach().cpu().numpy(), conv.bias.detach().cpu().numpy()


def tile(maps: np.ndarray, cols: int, gap: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Lay (C, H, W) maps out in a grid `cols` wide, NaN between them; also each pixel's channel (-1 in gaps).

    One image per layer lets one heatmap, with one colour scale, show every channel of the layer at once.
    """
    c, h, w = maps.shape
    rows = -(-c // cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    channel = np.full(out.shape, -1, dtype=np.int16)
    for i in range(c):
        r, q = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, q * (w + gap) : q * (w + gap) + w] = maps[i]
        channel[r * (h + gap) : r * (h + gap) + h, q * (w + gap) : q * (w + gap) + w] = i
    return out, channel
