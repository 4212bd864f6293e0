"""The shipped networks measured on a class's collected drawings: accuracy, per digit, confusions, misreadings."""

from __future__ import annotations

import threading

import numpy as np
import torch.nn as nn

from cnn.evaluate import confused_pairs, drawings_report, report
from cnn.model import NUM_CLASSES, page_reading


def class_report(networks: dict[str, nn.Module], images: np.ndarray, labels: np.ndarray) -> dict[str, dict]:
    """Each network's report on the class's drawings (cnn.evaluate.drawings_report): accuracy, per digit, confusions,
    the most confused pairs. images: (N, 28, 28) in [0, 1]; labels: (N,) what the visitors said they drew."""
    return {name: drawings_report(model, images, labels) for name, model in networks.items()}


def predictions_report(predicted: np.ndarray, labels: np.ndarray) -> dict:
    """What class_report gives, from predictions alone: accuracy, per digit, confusions, the most confused pairs."""
    labels, predicted = np.asarray(labels, np.int64), np.asarray(predicted, np.int64)
    r = report(np.eye(NUM_CLASSES, dtype=np.float32)[predicted].reshape(-1, NUM_CLASSES), labels)
    r.pop("loss")  # one-hot "probabilities" make no loss worth reading
    r["per_digit_count"] = np.bincount(labels, minlength=NUM_CLASSES).tolist()
    r["confused_pairs"] = confused_pairs(np.array(r["confusion"]))
    r["predicted"] = predicted.tolist()
    return r


class ClassReadings:
    """Each network's reading of each saved drawing, kept as the store grows, so that a class view reads only the
    drawings it has not read before, a few at a time, however many the store holds.

    `reuse` names the network whose reading the store already holds (the page saves the convnet's reading with the
    weights' SHA-256): drawings read by those same weights are taken as read, the others read again. Memory: two
    integers per drawing and network, in sorted arrays.
    """

    def __init__(self, chunk: int = 500):
        self.chunk = chunk  # drawings read at once: (chunk * 3, 1, 28, 28) floats, about 5 MB at 500
        self._lock = threading.Lock()
        self._read: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # network -> (sorted ids, the digit read for each)

    def update(self, store, networks: dict[str, nn.Module], reuse: tuple[str, str] | None = None):
        """(ids, labels, {network: predictions}) for every drawing in the store, by id."""
        ids, labels = store.labels()  # (N,) each, sorted by id
        with self._lock:
            for name, model in networks.items():
                known, read = self._read.get(name, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
                still = np.isin(known, ids)
                known, read = known[still], read[still]
                missing = ids[~np.isin(ids, known)]
                new_ids, new_read = [], []
                if reuse is not None and reuse[0] == name and len(missing):
                    saved = store.saved_readings(missing, reuse[1])  # {id: digit} read by these very weights
                    new_ids.append(np.fromiter(saved, np.int64, len(saved)))
                    new_read.append(np.fromiter(saved.values(), np.int64, len(saved)))
                    missing = missing[~np.isin(missing, new_ids[-1])]
                for k in range(0, len(missing), self.chunk):
                    images = store.images(missing[k : k + self.chunk])
                    if images:
                        new_ids.append(np.fromiter(images, np.int64, len(images)))
                        new_read.append(page_reading(model, np.stack(list(images.values()))).argmax(1).astype(np.int64))
                known, read = np.concatenate([known, *new_ids]), np.concatenate([read, *new_read])
                order = np.argsort(known)
                self._read[name] = known[order], read[order]
            keep = np.ones(len(ids), bool)  # drawings deleted between the two queries are left out
            for name in networks:
                keep &= np.isin(ids, self._read[name][0])
            ids, labels = ids[keep], labels[keep]
            return ids, labels, {n: self._read[n][1][np.searchsorted(self._read[n][0], ids)] for n in networks}
