"""Saving weights with their metadata atomically, and reading the metadata back."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import torch

from cnn.paths import DEFAULT_WEIGHTS, metadata_path


class MetadataError(Exception):
    """The JSON metadata next to a weights file is missing or malformed."""


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def save_checkpoint(state_dict: dict, metadata: dict, out: str | Path) -> None:
    """Write `out` (the state_dict) and its JSON next to it, so that no interruption leaves either half-written.

    Both go to temporary files first; only when both are complete are they renamed over the old ones, with
    Ctrl-C and SIGTERM held back between the two renames so the pair stays consistent.
    """
    out = Path(out)
    meta = metadata_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_pt = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp_json = meta.with_name(f".{meta.name}.{os.getpid()}.tmp")
    try:
        torch.save({k: v.detach().cpu().contiguous() for k, v in state_dict.items()}, tmp_pt)
        _fsync(tmp_pt)
        tmp_json.write_text(json.dumps(metadata, indent=1) + "\n")
        _fsync(tmp_json)
        blocked = {signal.SIGINT, signal.SIGTERM}
        old = signal.pthread_sigmask(signal.SIG_BLOCK, blocked) if hasattr(signal, "pthread_sigmask") else None
        try:
            os.replace(tmp_pt, out)
            os.replace(tmp_json, meta)
        finally:
            if old is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
    finally:
        tmp_pt.unlink(missing_ok=True)
        tmp_json.unlink(missing_ok=True)


def write_metadata(metadata: dict, weights: str | Path) -> None:
    """Replace the JSON next to `weights` atomically, leaving the weights themselves alone."""
    meta = metadata_path(Path(weights))
    tmp = meta.with_name(f".{meta.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(metadata, indent=1) + "\n")
        _fsync(tmp)
        os.replace(tmp, meta)
    finally:
        tmp.unlink(missing_ok=True)


def load_metadata(weights: str | Path = DEFAULT_WEIGHTS) -> dict:
    """The metadata dict saved next to `weights`; MetadataError if it is missing or not a JSON object."""
    path = metadata_path(Path(weights))
    if not path.is_file():
        raise MetadataError(f"{path} not found: the metadata is written by python cnn/train.py next to the weights")
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MetadataError(f"{path} is not valid JSON ({e}); train again with python cnn/train.py") from None
    if not isinstance(meta, dict):
        raise MetadataError(f"{path} does not hold a JSON object; train again with python cnn/train.py")
    return meta
