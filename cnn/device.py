"""Picks the torch device: CUDA, then Apple MPS, then CPU. Nothing is probed at import time."""

from __future__ import annotations

import torch

CHOICES = ("auto", "cuda", "mps", "cpu")


class DeviceError(Exception):
    """A device was asked for that this machine does not have."""


def _available(name: str) -> bool:
    if name == "cuda":
        return torch.cuda.is_available()
    if name == "mps":
        return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    return name == "cpu"


def pick_device(name: str = "auto") -> torch.device:
    """The device for `name` (auto, cuda, mps or cpu); an unknown or absent one is a DeviceError."""
    if name not in CHOICES:
        raise DeviceError(f"unknown device {name!r}: choose one of {', '.join(CHOICES)}")
    if name == "auto":
        return torch.device(next(d for d in ("cuda", "mps", "cpu") if _available(d)))
    if not _available(name):
        raise DeviceError(f"--device {name} was asked for, but this machine has no {name.upper()} device; use --device cpu or auto")
    return torch.device(name)
