"""What the page loads once and shares: the shipped networks and their metadata, the robustness figures, the
training snapshots, the live runs' digits and the drawings store; and the guard that keeps one failing part from
taking the page down.

Paths are read from cnn.paths at each call, and networks loaded through cnn.model.load as it is at that moment, so a
test that points either elsewhere is followed."""

from __future__ import annotations

import logging
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

import streamlit as st
import torch
import torch.nn as nn

from classroom.drawings import DrawingsStore, store_url
from cnn import model as model_module
from cnn import atlas as atlas_module
from cnn import paths, robustness
from cnn.checkpoint import MetadataError, load_metadata
from cnn.data import file_sha256
from cnn.live import live_data
from cnn.model import TRAIN_HINT, ConvNet, WeightsError
from cnn.replay import snapshot_models
from cnn.snapshots import Snapshots, load_snapshots, snapshots_path
from ui.figures import COMPARED
from ui.markdown import literal

STORE_RETRY_S = 30  # a store that failed is opened afresh after this long, so a fixed problem mends itself
log = logging.getLogger("digit-page")


@contextmanager
def guarded(what: str):
    """Show a failure in one part of the page as a short message, never as a traceback, and keep the rest going."""
    try:
        yield
    except Exception as e:  # noqa: BLE001: the page must survive any one part failing
        log.error("%s failed:\n%s", what, traceback.format_exc())
        st.error(f"{what} could not be shown ({type(e).__name__}: {literal(e)}). The rest of the page still works.")


def mtime(path: Path) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(show_spinner="Loading the network…", max_entries=10)
def _load_model(path: str, mtime: float) -> nn.Module:
    """A network, loaded once per process and per weights file version; shared by every session: never mutate."""
    torch.set_num_threads(1)  # one drawing at a time is tiny work: threads only add overhead and contention
    return model_module.load(path)


@st.cache_resource(show_spinner=False, max_entries=10)
def _load_metadata(path: str, mtime: float) -> dict:
    """A network's metadata, read once per file version and shared by every session without copying: never mutate."""
    try:
        return load_metadata(path)
    except MetadataError:
        return {}


@st.cache_data(show_spinner=False, max_entries=2)
def _load_robustness(mtimes: tuple[float, ...]) -> dict | None:
    data = robustness.read()
    return data if robustness.current(data) else None


@st.cache_resource(show_spinner="Loading the training snapshots…", max_entries=2)
def _load_snapshot_models(path: str, mtime: float) -> tuple[Snapshots, list[nn.Module]]:
    """The shipped weights' training snapshots, each as a network: loaded once, shared read-only by every session."""
    snaps = load_snapshots(path)
    return snaps, snapshot_models(snaps)


def snapshot_models_shipped() -> tuple[Snapshots, list[nn.Module]]:
    """The default weights' snapshots (SnapshotError when there are none to show)."""
    path = snapshots_path(paths.DEFAULT_WEIGHTS)
    return _load_snapshot_models(str(path), mtime(path))


@st.cache_resource(show_spinner="Loading the digits to train on…")
def live_digits():
    """The live runs' training and held-out digits: loaded once, shared read-only."""
    return live_data()


@st.cache_resource(show_spinner=False, max_entries=4)
def _drawings_store(url: str) -> DrawingsStore:
    """The drawings store, shared by every session."""
    return DrawingsStore(url)


def drawings_store() -> DrawingsStore:
    """The store at $DRAWINGS_DB (or SQLite under data/); one that failed is opened afresh after a while."""
    store = _drawings_store(store_url())
    if store.problem and time.monotonic() - store.opened > STORE_RETRY_S:
        _drawings_store.clear()
        store = _drawings_store(store_url())
    return store


@st.cache_data(show_spinner=False, max_entries=10)
def _weights_sha256(path: str, mtime: float) -> str:
    return file_sha256(path)


def weights_sha256() -> str:
    """The SHA-256 of the default weights file: saved with each drawing, to say which weights read it."""
    return _weights_sha256(str(paths.DEFAULT_WEIGHTS), mtime(paths.DEFAULT_WEIGHTS))


def network(name: str = "convnet") -> tuple[nn.Module | None, str | None]:
    """A shipped network (cnn.paths.shipped_networks), or why it cannot be loaded."""
    path = paths.shipped_networks()[name]
    try:
        return _load_model(str(path), mtime(path)), None
    except WeightsError as e:
        return None, str(e)


def model_or_error() -> tuple[ConvNet | None, str | None]:
    model, error = network("convnet")
    if model is not None and not isinstance(model, ConvNet):
        return None, f"{paths.shown(paths.DEFAULT_WEIGHTS)} does not hold the convnet: {TRAIN_HINT}"
    return model, error


def networks(names=COMPARED) -> dict[str, nn.Module]:
    """The named shipped networks whose weights load, in order."""
    loaded = {name: network(name)[0] for name in names}
    return {name: model for name, model in loaded.items() if model is not None}


def metadata(name: str = "convnet") -> dict:
    """A network's metadata (what training and the benchmarks measured), or {} if it cannot be read."""
    path = paths.shipped_networks()[name]
    return _load_metadata(str(path), mtime(paths.metadata_path(path)))


def robustness_figures() -> dict | None:
    """The measured accuracy of every network on MNIST's test digits moved, if it was measured on these weights."""
    return _load_robustness(tuple(mtime(p) for p in paths.shipped_networks().values()) + (mtime(paths.ROBUSTNESS),))


@st.cache_resource(show_spinner=False, max_entries=2)
def _load_atlas(path: str, mtime: float, weights_mtime: float) -> atlas_module.Atlas:
    """The default weights' atlas of training digits, read once per version of either file; shared: never mutate."""
    return atlas_module.load_atlas(path, file_sha256(paths.DEFAULT_WEIGHTS))


def atlas() -> tuple[atlas_module.Atlas | None, str | None]:
    """The default weights' atlas of training digits (cnn.atlas), or why there is none."""
    path = atlas_module.atlas_path(paths.DEFAULT_WEIGHTS)
    try:
        return _load_atlas(str(path), mtime(path), mtime(paths.DEFAULT_WEIGHTS)), None
    except atlas_module.AtlasError as e:
        return None, str(e)
