"""Saving weights with their metadata atomically, and reading the metadata back."""

from __future__ import annotations

import json
import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

import torch

from cnn.paths import DEFAULT_WEIGHTS, metadata_path


_HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class MetadataError(Exception):
    """The JSON metadata next to a weights file is missing or malformed."""


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


@contextmanager
def _signals_deferred():
    """Hold Ctrl-C and SIGTERM until the block ends, then deliver them to the handlers that were in place.

    Python handlers, not a thread's signal mask: a process-wide signal may land on any thread (torch's, tqdm's), and
    Python always runs its handlers in the main thread, so recording them there holds them whichever thread got them.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be set in the main thread, which is where the signals' effects would land anyway
        return
    pending: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in _HELD_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(pending):
            signal.raise_signal(s)


def save_checkpoint(state_dict: dict, metadata: dict, out: str | Path, extra: dict | None = None) -> None:
    """Write `out` (the state_dict), its JSON next to it, and any `extra` {path: object saved with torch.save}, so
    that no interruption leaves any of them half-written or out of step with the others.

    All go to temporary files first; only when all are complete are they renamed over the old ones, with Ctrl-C and
    SIGTERM held back between the renames so the set stays consistent.
    """
    out = Path(out)
    meta = metadata_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_pt = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp_json = meta.with_name(f".{meta.name}.{os.getpid()}.tmp")
    tmp_extra = {Path(p): Path(p).with_name(f".{Path(p).name}.{os.getpid()}.tmp") for p in (extra or {})}
    try:
        torch.save({k: v.detach().cpu().contiguous() for k, v in state_dict.items()}, tmp_pt)
        _fsync(tmp_pt)
        tmp_json.write_text(json.dumps(metadata, indent=1) + "\n")
        _fsync(tmp_json)
        for path, tmp in tmp_extra.items():
            torch.save(extra[path], tmp)
            _fsync(tmp)
        with _signals_deferred():
            os.replace(tmp_pt, out)
            os.replace(tmp_json, meta)
            for path, tmp in tmp_extra.items():
                os.replace(tmp, path)
    finally:
        for tmp in (tmp_pt, tmp_json, *tmp_extra.values()):
            tmp.unlink(missing_ok=True)


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
