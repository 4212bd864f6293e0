"""2D convolution as a CNN layer computes it (cross-correlation), with padding, stride and dilation, step by step."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cnn.conv1d import MAX_NUMBER_CHARS, SequenceError, TypedTextError, max_text_length, parse_sequence

MAX_KERNEL = 7  # the largest kernel side the explorer takes
MAX_PAD = 10
MAX_STRIDE = 5
MAX_DILATION = 4

CLASSIC_KERNELS = {
    "Vertical edges (Sobel)": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "Horizontal edges (Sobel)": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "All edges (Laplacian)": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "Blur (box)": [[1 / 9] * 3] * 3,
    "Blur (Gaussian)": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "Sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "Identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}
# A small input to follow every step by hand: a diagonal stroke and a vertical bar.
EXAMPLE_GRID = np.array(
    [
        [1, 0, 0, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 1, 0],
        [0, 0, 1, 0, 0, 1, 0],
        [0, 0, 0, 1, 0, 1, 0],
        [0, 0, 0, 0, 1, 1, 0],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    dtype=np.float64,
)


class KernelError(TypedTextError):
    """Text that is not a usable kernel."""


def parse_kernel(text: str) -> np.ndarray:
    """Rows separated by new lines or semicolons, numbers by spaces or commas -> a (k, k) or (kh, kw) array."""
    if not isinstance(text, str) or not text.strip():
        raise KernelError("the kernel is empty: type rows of numbers, one row per line, such as 1 0 -1")
    if len(text) > max_text_length(MAX_KERNEL * MAX_KERNEL):
        raise KernelError(
            f"the kernel is {len(text):,} characters long: at most {MAX_KERNEL}×{MAX_KERNEL} numbers of up to "
            f"{MAX_NUMBER_CHARS} characters each"
        )
    rows = [r for r in re.split(r"[;\n]+|\]\s*,?\s*\[", text.strip().strip("[]")) if r.strip(" []\t,")]
    try:
        values = [list(parse_sequence(r, "kernel", MAX_KERNEL)) for r in rows[: MAX_KERNEL + 1]]
    except SequenceError as e:
        raise KernelError(str(e).replace("the kernel has", "a row of the kernel has"), e.typed) from None
    if len(rows) > MAX_KERNEL:
        raise KernelError(f"the kernel has {len(rows)} rows: at most {MAX_KERNEL}×{MAX_KERNEL} is allowed")
    if len({len(r) for r in values}) != 1:
        raise KernelError("every row of the kernel needs the same number of values")
    k = np.array(values, dtype=np.float64)
    if max(k.shape) > MAX_KERNEL:
        raise KernelError(f"the kernel is {k.shape[0]}×{k.shape[1]}: at most {MAX_KERNEL}×{MAX_KERNEL} is allowed")
    return k


def padding_amounts(padding: str | int, kernel: tuple[int, int], dilation: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) zeros for "valid", "same", "full" or a number of zeros on every side.

    same pads d(k - 1) in all, the odd one out at the bottom and right as PyTorch's padding="same" does; with
    stride 1 it keeps the input's size. full pads d(k - 1) on every side: every position with any overlap.
    """
    (kh, kw), d = kernel, dilation
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding == "same":
            th, tw = d * (kh - 1), d * (kw - 1)
            return th // 2, th - th // 2, tw // 2, tw - tw // 2
        if padding == "full":
            return d * (kh - 1), d * (kh - 1), d * (kw - 1), d * (kw - 1)
        raise ValueError(f"unknown padding {padding!r}: valid, same, full or a number")
    p = int(padding)
    if not 0 <= p <= MAX_PAD:
        raise ValueError(f"padding must be 0 to {MAX_PAD}, got {p}")
    return p, p, p, p


def output_size(n: int, k: int, pad_total: int, stride: int, dilation: int) -> int:
    """⌊(n + p_before + p_after − d(k − 1) − 1) / s⌋ + 1, the formula with 2p split between the two ends."""
    return max((n + pad_total - dilation * (k - 1) - 1) // stride + 1, 0)


@dataclass
class Conv2dLayout:
    image: np.ndarray  # (H, W) the input
    kernel: np.ndarray  # (kh, kw) as applied, never flipped
    pads: tuple[int, int, int, int]  # top, bottom, left, right
    stride: int
    dilation: int
    padded: np.ndarray  # (H + top + bottom, W + left + right)
    output: np.ndarray  # (oh, ow)

    def window(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For output (i, j): the padded rows and columns the kernel's taps touch, their values, their products."""
        kh, kw = self.kernel.shape
        rows = i * self.stride + self.dilation * np.arange(kh)
        cols = j * self.stride + self.dilation * np.arange(kw)
        values = self.padded[np.ix_(rows, cols)]
        return rows, cols, values, values * self.kernel


def conv2d(image: np.ndarray, kernel: np.ndarray, padding: str | int = "valid", stride: int = 1, dilation: int = 1):
    """What torch.nn.functional.conv2d computes for one input and one output channel, laid out step by step."""
    image, kernel = np.asarray(image, np.float64), np.asarray(kernel, np.float64)
    if image.ndim != 2 or kernel.ndim != 2 or 0 in image.shape or 0 in kernel.shape:
        raise ValueError("conv2d takes a 2D image and a 2D kernel")
    if not 1 <= stride <= MAX_STRIDE:
        raise ValueError(f"stride must be 1 to {MAX_STRIDE}, got {stride}")
    if not 1 <= dilation <= MAX_DILATION:
        raise ValueError(f"dilation must be 1 to {MAX_DILATION}, got {dilation}")
    pads = padding_amounts(padding, kernel.shape, dilation)
    top, bottom, left, right = pads
    padded = np.pad(image, ((top, bottom), (left, right)))
    kh, kw = kernel.shape
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    oh = output_size(image.shape[0], kh, top + bottom, stride, dilation)
    ow = output_size(image.shape[1], kw, left + right, stride, dilation)
    if oh == 0 or ow == 0:
        output = np.zeros((oh, ow))
    else:
        windows = np.lib.stride_tricks.sliding_window_view(padded, (span_h, span_w))  # (H', W', span_h, span_w)
        windows = windows[::stride, ::stride, ::dilation, ::dilation][:oh, :ow]  # (oh, ow, kh, kw)
        output = np.einsum("ijkl,kl->ij", windows, kernel)
    return Conv2dLayout(image, kernel, pads, stride, dilation, padded, output)


def bias_relu(sums: np.ndarray, bias: float) -> np.ndarray:
    """What a conv layer's channel outputs from its sums: the bias added, then negatives set to 0 (ReLU)."""
    return np.maximum(np.asarray(sums, np.float64) + bias, 0.0)


def busiest(output: np.ndarray) -> int:
    """The row-major position of the output's largest magnitude: where the kernel meets something worth a look."""
    return int(np.abs(np.asarray(output)).argmax()) if np.size(output) else 0
