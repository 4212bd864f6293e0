"""Small IDX files made inside the tests, in MNIST's format."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from cnn import data


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """The IDX encoding of a uint8 array: images (N, H, W) get magic 2051, labels (N,) 2049."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = data.IMAGES_MAGIC if array.ndim == 3 else data.LABELS_MAGIC
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = False, **kw) -> Path:
    raw = idx_bytes(array, **kw)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path
