"""Small IDX files made inside the tests, in MNIST's format, by the project's own writer (cnn.data.idx_bytes)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from cnn import data


def write_idx(path: Path, array: np.ndarray, gz: bool = False, **kw) -> Path:
    raw = data.idx_bytes(array, **kw)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path
