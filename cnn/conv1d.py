"""1D convolution, step by step: numpy's full / same / valid, and the cross-correlation a CNN layer computes."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

MODES = ("full", "same", "valid")
MAX_INPUT = 64  # values in the input sequence
MAX_KERNEL = 16  # values in the kernel
MAX_ABS = 1e6  # larger magnitudes are refused: sums of their products lose all precision in a table
MAX_NUMBER_CHARS = 32  # characters in one typed number
# A typed number: ASCII digits with an optional sign, point and exponent. Python's float() also takes "1_000", "nan",
# "inf" and digits of other scripts ("١٢", "１２"); the explorers take only what they show back, refusing the rest.
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# A fraction of two such numbers, such as 1/3: a mean's weights typed exactly rather than as 0.333333
FRACTION = re.compile(rf"({NUMBER.pattern})/({NUMBER.pattern})")


class TypedTextError(ValueError):
    """Typed text that cannot be used; the message says what to type instead, quoting the offending part in “…”.

    `typed` is that part as typed (None when the message quotes nothing), so a page can show it exactly as typed.
    """

    def __init__(self, message: str, typed: str | None = None):
        super().__init__(message)
        self.typed = typed


class SequenceError(TypedTextError):
    """Text that is not a usable sequence of numbers."""


def max_text_length(numbers: int) -> int:
    """The longest text that can hold `numbers` typed numbers with room for separators; longer text is refused unread."""
    return numbers * (MAX_NUMBER_CHARS + 8) + 16


def parse_sequence(text: str, what: str = "input", max_len: int = MAX_INPUT) -> np.ndarray:
    """Numbers separated by spaces, commas or semicolons (brackets allowed) -> float64 array.

    Each number is written with ASCII digits, an optional sign, point and exponent (NUMBER), or as a fraction of two
    of them (FRACTION, such as 1/3), in at most MAX_NUMBER_CHARS characters.
    """
    if not isinstance(text, str):
        raise SequenceError(f"the {what} must be text, such as 1 2 3")
    if len(text) > max_text_length(max_len):
        raise SequenceError(
            f"the {what} is {len(text):,} characters long: type at most {max_len} numbers of up to "
            f"{MAX_NUMBER_CHARS} characters each"
        )
    tokens = [t for t in re.split(r"[\s,;]+", text.strip().strip("[]()").strip()) if t]
    if not tokens:
        raise SequenceError(f"the {what} is empty: type numbers separated by spaces, such as 1 2 3")
    if len(tokens) > max_len:
        raise SequenceError(f"the {what} has {len(tokens)} values: at most {max_len} are allowed")
    values = []
    for t in tokens:
        if len(t) > MAX_NUMBER_CHARS:
            raise SequenceError(f"“{t[:20]}…” in the {what} is longer than {MAX_NUMBER_CHARS} characters", t[:20])
        fraction = FRACTION.fullmatch(t)
        if not (NUMBER.fullmatch(t) or fraction):
            raise SequenceError(
                f"“{t[:20]}” in the {what} is not a number: use the digits 0 to 9 with an optional sign, point and "
                "exponent, or a fraction, such as 1 2.5 -3 1e-3 1/3",
                t[:20],
            )
        if fraction and float(fraction[2]) == 0:
            raise SequenceError(f"“{t[:20]}” in the {what} divides by zero", t[:20])
        v = float(fraction[1]) / float(fraction[2]) if fraction else float(t)
        if not np.isfinite(v):
            raise SequenceError(f"“{t[:20]}” in the {what} is not a finite number", t[:20])
        if abs(v) > MAX_ABS:
            raise SequenceError(f"“{t[:20]}” in the {what} is too large: keep values within ±{MAX_ABS:g}", t[:20])
        values.append(v)
    return np.array(values, dtype=np.float64)


@dataclass
class Sliding:
    """One 1D convolution or cross-correlation, laid out as the kernel sliding over a zero-padded signal."""

    operation: str  # "convolution" (numpy.convolve) or "cross-correlation" (a CNN layer, F.conv1d)
    mode: str  # full, same or valid
    signal: np.ndarray  # the sequence the kernel slides over
    kernel: np.ndarray  # the sliding sequence, as typed
    applied: np.ndarray  # the weights as multiplied: the kernel reversed for a convolution, as is for correlation
    swapped: bool  # numpy slid the input over the kernel because the kernel was the longer one
    pad_left: int  # zeros added before the signal
    pad_right: int  # zeros added after it
    padded: np.ndarray  # (pad_left + len(signal) + pad_right,)
    output: np.ndarray  # one value per kernel position

    def window(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The padded values under the kernel at output position k, and their products with the weights."""
        values = self.padded[k : k + len(self.applied)]
        return values, values * self.applied

    @property
    def length_rule(self) -> str:
        n, m = len(self.signal), len(self.kernel)
        if self.operation == "convolution":
            return {
                "full": f"n + m − 1 = {n} + {m} − 1 = {n + m - 1}",
                "same": f"max(n, m) = {max(n, m)}",
                "valid": f"max(n, m) − min(n, m) + 1 = {max(n, m)} − {min(n, m)} + 1 = {max(n, m) - min(n, m) + 1}",
            }[self.mode]
        return {
            "full": f"n + m − 1 = {n} + {m} − 1 = {n + m - 1}",
            "same": f"n = {n}",
            "valid": f"n − m + 1 = {n} − {m} + 1 = {max(n - m + 1, 0)}",
        }[self.mode]


def _slide(padded: np.ndarray, applied: np.ndarray) -> np.ndarray:
    m = len(applied)
    if len(padded) < m:
        return np.zeros(0)
    windows = np.lib.stride_tricks.sliding_window_view(padded, m)  # (positions, m)
    return windows @ applied


def convolve(x, h, mode: str = "full") -> Sliding:
    """numpy.convolve(x, h, mode), step by step.

    Like numpy, the longer sequence is the one slid over (convolution is commutative, so `full` is unchanged), the
    kernel is reversed, and `same` is the centre of the `full` result with the length of the longer input: for a
    kernel of even length it has one more zero on the left than on the right.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
    x, h = np.asarray(x, dtype=np.float64), np.asarray(h, dtype=np.float64)
    if len(x) == 0 or len(h) == 0:
        raise ValueError("both sequences need at least one value")
    swapped = len(h) > len(x)
    signal, kernel = (h, x) if swapped else (x, h)
    n, m = len(signal), len(kernel)
    start, length = {"full": (0, n + m - 1), "same": ((m - 1) // 2, n), "valid": (m - 1, n - m + 1)}[mode]
    left, right = m - 1 - start, start + length - n
    padded = np.concatenate([np.zeros(left), signal, np.zeros(right)])
    applied = kernel[::-1]
    return Sliding("convolution", mode, signal, kernel, applied, swapped, left, right, padded, _slide(padded, applied))


def correlate(x, h, mode: str = "full") -> Sliding:
    """What a CNN layer computes: torch.nn.functional.conv1d(x, h, padding=...), the kernel not reversed.

    full pads m − 1 zeros on each side, valid none, and same pads m − 1 in all with the extra zero of an even
    kernel on the right, as PyTorch's padding="same" does. valid gives nothing when the kernel is the longer.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
    x, h = np.asarray(x, dtype=np.float64), np.asarray(h, dtype=np.float64)
    if len(x) == 0 or len(h) == 0:
        raise ValueError("both sequences need at least one value")
    m = len(h)
    left, right = {"full": (m - 1, m - 1), "same": ((m - 1) // 2, m - 1 - (m - 1) // 2), "valid": (0, 0)}[mode]
    padded = np.concatenate([np.zeros(left), x, np.zeros(right)])
    return Sliding("cross-correlation", mode, x, h, h.copy(), False, left, right, padded, _slide(padded, h))


def agree_either_way(x, h, mode: str) -> bool:
    """Whether np.convolve(x, h, mode) and a CNN layer's cross-correlation give the same numbers."""
    a, b = np.convolve(np.asarray(x, np.float64), np.asarray(h, np.float64), mode), correlate(x, h, mode).output
    return a.shape == b.shape and bool(np.allclose(a, b))
