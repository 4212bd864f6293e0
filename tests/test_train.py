"""Command-line training: a smoke run on a small subset, reproducibility, metadata, and flag errors."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import subprocess
import sys

import pytest
import torch

from cnn import train
from cnn.model import ConvNet, load
from cnn.paths import ROOT


def test_smoke_run_writes_weights_load_accepts(mnist_dir, tmp_path, capsys):
    out = tmp_path / "w" / "small.pt"
    code = train.main(["--limit", "600", "--epochs", "2", "--out", str(out), "--data-dir", str(mnist_dir), "--no-progress"])
    assert code == 0
    model = load(out)
    assert not model.training
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["parameters"] == 34_826
    assert meta["train_samples"] == 540 and meta["val_samples"] == 60
    assert [h["epoch"] for h in meta["history"]] == [1, 2]
    assert meta["hyperparameters"]["epochs"] == 2 and meta["hyperparameters"]["batch_size"] == 128
    assert meta["seed"] == 0 and meta["device"] == "cpu" and meta["torch"] == torch.__version__
    assert 0.3 < meta["test_accuracy"] <= 1 and meta["test"]["count"] == 10_000  # far above chance after 2 short epochs
    assert sum(map(sum, meta["test"]["confusion"])) == 10_000
    printed = capsys.readouterr().out
    assert "device: cpu" in printed and "test accuracy" in printed and "val_accuracy" in printed


@pytest.mark.parametrize("arch, parameters", [("dense30", 23_860), ("dense44", 34_990)])
def test_smoke_run_of_each_dense_network(arch, parameters, mnist_dir, tmp_path, capsys):
    from cnn.model import arch_of

    out = tmp_path / f"{arch}.pt"
    args = ["--arch", arch, "--limit", "600", "--epochs", "2", "--test-limit", "1000", "--out", str(out),
            "--data-dir", str(mnist_dir)]
    assert train.main([*args, "--no-progress"]) == 0
    model = load(out)
    assert arch_of(model) == arch and not model.training
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["arch"] == arch and meta["parameters"] == parameters and meta["recipe"] == "best"
    assert [h["epoch"] for h in meta["history"]] == [1, 2] and 0.3 < meta["test_accuracy"] <= 1
    assert meta["test"]["count"] == 1000 and sum(map(sum, meta["test"]["confusion"])) == 1000  # --test-limit
    assert {"unsure", "not_a_digit"} <= meta["test"].keys()
    assert f"network: {arch}" in capsys.readouterr().out


def test_dense_weights_go_to_their_own_file_by_default():
    from cnn.paths import DEFAULT_WEIGHTS, default_weights

    assert train.parse_args(["--arch", "dense44"]).out == str(default_weights("dense44"))
    assert train.parse_args([]).out == str(DEFAULT_WEIGHTS)
    assert default_weights("dense30").name == "mnist_dense30.pt"


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_same_seed_same_weights_on_cpu(mnist_dir, tmp_path):
    for name in ("a", "b"):
        args = ["--limit", "300", "--epochs", "1", "--seed", "7", "--device", "cpu", "--no-progress", "--test-limit",
                "500"]
        assert train.main([*args, "--out", str(tmp_path / f"{name}.pt"), "--data-dir", str(mnist_dir)]) == 0
    a, b = torch.load(tmp_path / "a.pt"), torch.load(tmp_path / "b.pt")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_weight_average_ramps_its_decay_then_holds_it():
    from cnn.model import ConvNet

    torch.manual_seed(0)
    model = ConvNet()
    ema = train.WeightAverage(model, decay=0.999)
    expected = [p.detach().clone() for p in model.parameters()]
    for n in range(1, 2001):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        ema.update(model)
        decay = min(0.999, (1 + n) / (10 + n))
        expected = [decay * e + (1 - decay) * p.detach() for e, p in zip(expected, model.parameters())]
        if n == 1:  # the first step already moves the average by 1 - 2/11, not by 1 - 0.999
            assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(ema.model.parameters(), expected))
    assert all(torch.allclose(a, b, atol=1e-3) for a, b in zip(ema.model.parameters(), expected))
    assert not any(p.requires_grad for p in ema.model.parameters())


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_fused_optimizer_steps_as_the_per_parameter_one(optimizer):
    """make_optimizer's fused kernel against PyTorch's reference loop, over a few steps on the same gradients."""
    recipe = train.Recipe(lr=3e-3, weight_decay=1e-4, optimizer=optimizer)
    torch.manual_seed(0)
    fused = ConvNet()
    plain, initial = copy.deepcopy(fused), copy.deepcopy(fused)
    opt = train.make_optimizer(fused, recipe)
    assert opt.defaults["fused"]  # on a CPU
    if optimizer == "sgd":
        ref = torch.optim.SGD(plain.parameters(), lr=3e-3, momentum=0.9, nesterov=True, weight_decay=1e-4, foreach=False)
    else:
        ref = torch.optim.AdamW(plain.parameters(), lr=3e-3, eps=1e-7, weight_decay=1e-4, foreach=False)
    for step in range(5):
        grads = [torch.randn_like(p) for p in fused.parameters()]
        for model, o in ((fused, opt), (plain, ref)):
            for p, g in zip(model.parameters(), grads):
                p.grad = g.clone()
            o.step()
    for a, b in zip(fused.parameters(), plain.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert not torch.equal(fused.fc.weight, initial.fc.weight)  # the steps did move the weights


@pytest.mark.parametrize("batches", [1, 2, 3, 4, 5, 9])
def test_onecycle_runs_of_a_few_steps_train(batches):
    """--limit 600 --epochs 1 made 5 steps, too few for OneCycleLR's phases as the recipe sets them."""
    torch.manual_seed(0)
    data = train.Split(torch.rand(4 * batches, 1, 28, 28), torch.arange(4 * batches) % 10)
    recipe = train.Recipe(epochs=1, batch_size=4, lr=3e-3, schedule="onecycle", ema=0.999)
    history, kept = train.fit(ConvNet(), data, data, recipe, seed=0, progress=False, log=lambda line: None)
    assert len(history) == 1 and 0 <= history[0]["val_accuracy"] <= 1 and not kept.training


def test_validation_is_the_last_tenth():
    import numpy as np

    images = np.arange(20 * 28 * 28, dtype=np.uint8).reshape(20, 28, 28)
    labels = np.arange(20) % 10
    tr, va = train.split_train_val(images, labels, torch.device("cpu"))
    assert len(tr.x) == 18 and len(va.x) == 2
    assert va.y.tolist() == [8, 9]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--epochs", "0"], "--epochs: must be at least 1"),
        (["--epochs", "-3"], "--epochs: must be at least 1"),
        (["--epochs", "two"], "is not a whole number"),
        (["--batch-size", "0"], "--batch-size: must be at least 1"),
        (["--lr", "nan"], "--lr: must be a finite number"),
        (["--lr", "-0.1"], "--lr: must be a finite number"),
        (["--device", "tpu"], "invalid choice: 'tpu'"),
        (["--limit", "5"], "--limit: must be at least 10"),
        (["--test-limit", "0"], "--test-limit: must be at least 1"),
        (["--recipe", "magic"], "invalid choice: 'magic'"),
        (["--set", "elastic"], "is not FIELD=VALUE"),
        (["--set", "colour=red"], "is not FIELD=VALUE"),
        (["--set", "dropout=1"], "dropout: must be in [0, 1)"),
        (["--set", "elastic=-2"], "elastic: must be a finite number >= 0"),
        (["--set", "augment=maybe"], "augment: must be true or false"),
        (["--set", "schedule=cosine"], "schedule: must be one of constant, onecycle"),
        (["--set", "epochs=0"], "epochs: must be at least 1"),
        (["--recipe", "keras", "--set", "elastic=34"], "add --set augment=true"),
        (["--recipe", "keras", "--set", "flag=0.3"], "--set flag: the keras recipe does not augment"),
        (["--set", "flag=1.5"], "flag: must be in [0, 1)"),
        (["--recipe", "fast", "--set", "bars=0.3"], "--set bars: the fast recipe does not augment"),
        (["--set", "bars=-0.1"], "bars: must be in [0, 1)"),
        (["--set", "flag_turn=45"], "flag_turn: must be A:B with 0 <= A <= B <= 90"),
        (["--set", "flag_turn=50:20"], "flag_turn: must be A:B with 0 <= A <= B <= 90"),
        (["--set", "flag_length=0.2:1.5"], "flag_length: must be A:B with 0 <= A <= B <= 1"),
        (["--set", "flag_steepest=0"], "flag_steepest: must be in (0, 90] degrees"),
        (["--recipe", "keras", "--set", "flag_turn=20:45"], "--set flag_turn: the keras recipe does not augment"),
    ],
)
def test_bad_flags_fail_fast_with_one_clear_line(flags, message, capsys):
    with pytest.raises(SystemExit) as e:
        train.main(flags)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_set_changes_the_recipe_and_the_metadata_says_so(mnist_dir, tmp_path):
    assert set(train.RECIPE_FIELDS) == {f.name for f in dataclasses.fields(train.Recipe)}  # every field settable
    out = tmp_path / "set.pt"
    flags = ["--recipe", "best", "--set", "elastic=20", "--set", "dropout=0.25", "--set", "augment=yes",
             "--set", "flag=0.3", "--set", "flag_turn=20:45"]
    code = train.main([*flags, "--epochs", "1", "--limit", "600", "--out", str(out), "--data-dir", str(mnist_dir),
                       "--no-progress", "--test-limit", "500"])
    assert code == 0
    hp = json.loads(out.with_suffix(".json").read_text())["hyperparameters"]
    recipe = dataclasses.replace(train.RECIPES["best"], epochs=1, elastic=20.0, dropout=0.25, flag=0.3,
                                 flag_turn=(20.0, 45.0))
    assert hp == json.loads(json.dumps(dataclasses.asdict(recipe)))  # spans are JSON lists
    assert load(out).dropout.p == 0.25


def test_absent_device_is_refused_before_any_work(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    run = subprocess.run(
        [sys.executable, "cnn/train.py", "--device", "cuda", "--out", str(tmp_path / "w.pt")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith("error: --device cuda was asked for")
    assert not (tmp_path / "w.pt").exists()


def test_runs_as_a_module_and_as_a_script():
    for cmd in (["-m", "cnn.train", "--help"], ["cnn/train.py", "--help"]):
        run = subprocess.run([sys.executable, *cmd], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and "--recipe" in run.stdout and "(default: auto)" in " ".join(run.stdout.split())


def test_unwritable_out_is_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert train.main(["--out", str(blocker / "w.pt")]) == 2
    assert "cannot create the folder" in capsys.readouterr().err
    assert train.main(["--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_no_progress_bar_frames_when_the_output_is_not_a_terminal(mnist_dir, tmp_path, capfd):
    """Into a log file (here a pipe), a run prints its epoch lines and no bar frames, which would fill the log."""
    out = tmp_path / "w.pt"
    assert train.main(["--limit", "300", "--epochs", "1", "--test-limit", "500", "--out", str(out),
                       "--data-dir", str(mnist_dir)]) == 0
    captured = capfd.readouterr()
    assert "\r" not in captured.err and "img/s" not in captured.err
    assert re.search(r"^epoch +1/1 ", captured.out, re.M)
