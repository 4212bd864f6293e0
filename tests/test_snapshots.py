"""Snapshots of a training run: they never change the run, they load safely, and a broken file is refused clearly."""

from __future__ import annotations

import os

import pytest
import torch

from cnn import train
from cnn.snapshots import SnapshotError, load_snapshots, snapshot_steps, snapshots_path


@pytest.mark.full  # minutes of training or measuring: the full tier
@pytest.mark.parametrize("recipe", ["best", "keras"])  # with a weight average kept, and with the trained network kept
def test_snapshots_do_not_change_the_run(recipe, mnist_dir, tmp_path):
    args = ["--recipe", recipe, "--limit", "600", "--epochs", "2", "--test-limit", "500", "--data-dir", str(mnist_dir),
            "--no-progress"]
    assert train.main([*args, "--out", str(tmp_path / "plain.pt")]) == 0
    assert train.main([*args, "--out", str(tmp_path / "snap.pt"), "--snapshots", "6"]) == 0
    a, b = torch.load(tmp_path / "plain.pt"), torch.load(tmp_path / "snap.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not snapshots_path(tmp_path / "plain.pt").exists()
    snaps = load_snapshots(snapshots_path(tmp_path / "snap.pt"))
    assert snaps.steps == snapshot_steps(2 * 5, 6) and snaps.steps[0] == 0 and snaps.epochs[-1] == 2.0
    final = snaps.model_at(len(snaps) - 1).state_dict()
    for k, v in a.items():  # the last snapshot is the saved network, to float16's precision
        torch.testing.assert_close(final[k], v, atol=2e-3, rtol=2e-3)
    assert snaps.val_accuracy[-1] > snaps.val_accuracy[0]


def test_snapshot_steps_are_log_spaced_from_the_start_to_the_end():
    steps = snapshot_steps(25_320, 30)
    assert steps[0] == 0 and steps[-1] == 25_320 and steps == sorted(set(steps))
    assert 25 <= len(steps) <= 30
    assert sum(s < 422 for s in steps) >= 10  # many inside the first epoch, where the network changes fastest
    with pytest.raises(ValueError):
        snapshot_steps(100, 1)


def test_one_snapshot_is_refused_before_any_work(capsys):
    with pytest.raises(SystemExit) as e:
        train.parse_args(["--snapshots", "1"])
    assert e.value.code == 2 and "--snapshots" in capsys.readouterr().err


@pytest.fixture(scope="module")
def good(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("snapshots") / "w.pt"
    assert train.main(["--limit", "300", "--epochs", "1", "--test-limit", "500", "--snapshots", "3", "--out", str(out),
                       "--data-dir", str(mnist_dir), "--no-progress"]) == 0
    return snapshots_path(out).read_bytes()


@pytest.mark.full  # minutes of training or measuring: the full tier
@pytest.mark.parametrize("damage", ["missing", "random bytes", "truncated", "another file", "wrong shapes", "nan"])
def test_a_broken_snapshot_file_is_refused_clearly(damage, tmp_path, good):
    path = tmp_path / "w.snapshots.pt"
    path.write_bytes(good)
    assert len(load_snapshots(path)) == 3
    if damage == "missing":
        path.unlink()
    elif damage == "random bytes":
        path.write_bytes(os.urandom(3000))
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:4000])
    else:
        data = torch.load(path, weights_only=True)
        if damage == "another file":
            data = {"conv1.weight": torch.zeros(3)}
        elif damage == "wrong shapes":
            data["state"]["fc.weight"] = torch.zeros(len(data["steps"]), 10, 3200, dtype=torch.float16)
        else:
            data["state"]["fc.bias"][1, 0] = float("nan")
        torch.save(data, path)
    with pytest.raises(SnapshotError, match=r"snapshots\.pt .*(not found|readable|snapshot file|snapshots of|non-finite)"):
        load_snapshots(path)
