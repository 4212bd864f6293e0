"""Training that is interrupted or cannot save never damages the weights already there."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from cnn import checkpoint, train
from cnn.model import load
from cnn.paths import DEFAULT_WEIGHTS, ROOT, metadata_path


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def ctrl_c_arrives():
    """Ctrl-C reaches this process and the runs it starts, as from a terminal. A shell without job control starts a
    background command (`make test-all &`) with SIGINT ignored, which Python then leaves ignored and every process it
    starts inherits: each test here would then wait on a run that never hears its Ctrl-C."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def good(tmp_path):
    """A folder holding good weights and metadata (copies of the shipped ones), and their checksums."""
    out = tmp_path / "mnist_cnn.pt"
    shutil.copy(DEFAULT_WEIGHTS, out)
    shutil.copy(metadata_path(DEFAULT_WEIGHTS), metadata_path(out))
    return out, digest(out), digest(metadata_path(out))


def assert_intact(out, pt_digest, json_digest, leftovers_allowed=False):
    assert digest(out) == pt_digest and digest(metadata_path(out)) == json_digest
    load(out)
    if not leftovers_allowed:
        assert sorted(p.name for p in out.parent.iterdir()) == sorted([out.name, metadata_path(out).name])


@pytest.mark.parametrize(
    "sig, after",
    [(signal.SIGINT, 1.0), (signal.SIGTERM, 3.0), (signal.SIGINT, 6.0), (signal.SIGTERM, 9.0), (signal.SIGKILL, 6.0)],
)
@pytest.mark.full  # minutes of training or measuring: the full tier
def test_killing_a_real_training_run(good, mnist_dir, sig, after):
    out, pt, js = good
    run = subprocess.Popen(
        [sys.executable, "cnn/train.py", "--limit", "20000", "--epochs", "20", "--out", str(out),
         "--data-dir", str(mnist_dir), "--no-progress"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(after)
    assert run.poll() is None, "the run ended before it could be interrupted"
    run.send_signal(sig)
    _, err = run.communicate(timeout=120)
    # While torch loads, the script holds Ctrl-C and then exits with 130 (SIGTERM kills it then: -15); at the
    # interpreter's very start Python dies of the signal itself (-2); once training, it unwinds, says so, exits 130.
    print(f"signal {sig.name} after {after}s: exit code {run.returncode}")
    assert run.returncode in (130, -sig)
    if run.returncode == 130:
        assert "nothing written" in err
    # SIGKILL cannot be caught: a temporary file may be left behind, but never under the final names.
    assert_intact(out, pt, js, leftovers_allowed=sig == signal.SIGKILL)


def _quick(out, mnist_dir):
    return ["--limit", "300", "--epochs", "1", "--test-limit", "500", "--out", str(out), "--data-dir", str(mnist_dir),
            "--no-progress"]


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_full_disk_while_saving_the_weights(good, mnist_dir, monkeypatch, capsys):
    out, pt, js = good
    real_save = torch.save

    def save_then_full(obj, f, *a, **k):
        real_save(obj, f, *a, **k)
        with open(f, "r+b") as fh:
            fh.truncate(100)  # half a file, as a disk that filled up would leave it
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint.torch, "save", save_then_full)
    assert train.main(_quick(out, mnist_dir)) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert_intact(out, pt, js)


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_full_disk_while_saving_the_metadata(good, mnist_dir, monkeypatch):
    out, pt, js = good

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint.Path, "write_text", full)
    assert train.main(_quick(out, mnist_dir)) == 1
    assert_intact(out, pt, js)


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_interrupt_during_the_save(good, mnist_dir, monkeypatch):
    out, pt, js = good

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint.os, "fsync", interrupted)
    assert train.main(_quick(out, mnist_dir)) == 130
    assert_intact(out, pt, js)


@pytest.mark.parametrize("to_thread", ["main", "other"])
def test_signals_are_held_between_the_two_renames(tmp_path, monkeypatch, to_thread):
    """A SIGINT arriving between renaming the weights and the metadata is delivered only after both, whichever
    thread of the process the system hands it to (torch and tqdm run threads of their own)."""
    import threading

    out = tmp_path / "w.pt"
    seen = []
    real_replace = os.replace
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()

    def replace_and_signal(src, dst):
        real_replace(src, dst)
        if str(dst).endswith(".pt"):  # the signal arrives now, between the two renames
            if to_thread == "main":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                signal.pthread_kill(other.ident, signal.SIGINT)
            time.sleep(0.05)
            seen.append(metadata_path(out).exists())

    monkeypatch.setattr(checkpoint.os, "replace", replace_and_signal)
    try:
        with pytest.raises(KeyboardInterrupt):
            checkpoint.save_checkpoint({"w": torch.zeros(2)}, {"ok": True}, out)
    finally:
        stop.set()
    assert seen == [False]  # the signal did not interrupt the save before the metadata...
    assert out.exists() and metadata_path(out).exists()  # ...which completed: the pair is consistent
