"""The network's shape and size, its summary, loading (and refusing) weights, and inference."""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn.model import ConvNet, Dropout, WeightsError, count_parameters, load, predict_proba, summary, summary_rows


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return ConvNet().eval()


def test_parameter_count(net):
    assert count_parameters(net) == 34_826
    per_layer = {r["layer"]: r["parameters"] for r in summary_rows(net)}
    assert per_layer == {"conv1": 320, "pool1": 0, "conv2": 18_496, "pool2": 0, "flatten": 0, "dropout": 0, "fc": 16_010}


def test_output_shapes_match_a_forward_pass(net):
    x = torch.rand(3, 1, 28, 28)
    assert net(x).shape == (3, 10)
    shapes = {r["layer"]: r["output shape"] for r in summary_rows(net)}
    assert shapes["conv1"] == (32, 26, 26) and shapes["pool1"] == (32, 13, 13)
    assert shapes["conv2"] == (64, 11, 11) and shapes["pool2"] == (64, 5, 5)
    assert shapes["flatten"] == (1600,) and shapes["fc"] == (10,)
    # The layers compose to the model's own forward pass.
    manual = F.linear(net.features(x), net.fc.weight, net.fc.bias)
    torch.testing.assert_close(manual, net(x))


@pytest.mark.parametrize("fmt", [torch.contiguous_format, torch.channels_last])
def test_training_forward_pools_first_with_the_same_logits_and_gradients(fmt):
    """Training's pool-before-ReLU forward against the layers run one by one (conv, ReLU, pool), same dropout mask."""
    torch.manual_seed(0)
    model = ConvNet().train().to(memory_format=fmt)
    x = torch.randn(16, 1, 28, 28).contiguous(memory_format=fmt)  # negative values too: ReLU has work to do
    results = []
    for forward in (model.forward, lambda t: torch.nn.Sequential.forward(model, t)):
        torch.manual_seed(1)  # the same dropout mask for both
        logits = forward(x)
        model.zero_grad()
        F.cross_entropy(logits, torch.arange(16) % 10).backward()
        results.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    (ours, our_grads), (plain, plain_grads) = results
    torch.testing.assert_close(ours, plain, rtol=0, atol=1e-6)
    for a, b in zip(our_grads, plain_grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert not torch.equal(ours, model.eval()(x))  # dropout really was on in training


@pytest.mark.parametrize("p", [0.25, 0.5])
def test_dropout_is_inverted_dropout_like_nn_dropout(p):
    """Each value kept with probability 1 - p and scaled by 1 / (1 - p), the gradient through the same mask."""
    torch.manual_seed(0)
    x = torch.rand(400, 1600) + 0.5  # never zero, so a zero output means dropped
    x.requires_grad_(True)
    y = Dropout(p).train()(x)
    kept = y != 0
    # 640,000 independent draws: the kept fraction's standard deviation is under 0.0007
    assert abs(kept.float().mean().item() - (1 - p)) < 0.004
    torch.testing.assert_close(y[kept], x[kept] / (1 - p))
    y.sum().backward()
    torch.testing.assert_close(x.grad, kept.float() / (1 - p))
    # the same rate and scale as nn.Dropout's: their means over many values agree
    reference = torch.nn.Dropout(p).train()(x.detach())
    assert abs(y.mean().item() - reference.mean().item()) < 0.01
    assert Dropout(p).eval()(x) is x and Dropout(0.0).train()(x) is x
    assert not Dropout(1.0).train()(x).any()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert Dropout(p).train()(x.detach().bfloat16()).dtype == torch.bfloat16


def test_summary_table(net):
    text = summary(net)
    for needle in ["conv1", "(None, 32, 26, 26)", "320", "(None, 64, 11, 11)", "18,496", "16,010", "Total params: 34,826"]:
        assert needle in text


def test_the_pages_reading_sentence_names_each_width_it_averages():
    from cnn.model import READING, WIDTH_VARIANTS, reading_text

    assert READING == reading_text(WIDTH_VARIANTS)
    assert reading_text((0.0, -0.5, 0.5)) == (
        "These probabilities are the page's reading: the mean of 3 readings of this 28×28 image, as drawn, with strokes "
        "0.5 pixel thinner on each side, and with strokes 0.5 pixel thicker on each side."
    )
    assert "mean of 2 readings" in reading_text((0.0, 1.0)) and "1 pixel thicker" in reading_text((0.0, 1.0))


def test_predict_proba_is_softmax_of_logits(net):
    images = np.random.default_rng(1).random((5, 28, 28), dtype=np.float32)
    probs = predict_proba(net, images)
    assert probs.shape == (5, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    with torch.no_grad():
        reference = F.softmax(net(torch.from_numpy(images)[:, None]), 1).numpy()
    np.testing.assert_allclose(probs, reference, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(predict_proba(net, images[0]), reference[:1], rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="28, 28"):
        predict_proba(net, np.zeros((2, 27, 28), np.float32))


# --- loading ----------------------------------------------------------------------------------------------------


def test_load_round_trip(net, tmp_path):
    p = tmp_path / "w.pt"
    torch.save(net.state_dict(), p)
    loaded = load(p)
    assert not loaded.training
    for k, v in net.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[k], v)


def test_missing_file_says_how_to_train(tmp_path):
    with pytest.raises(WeightsError, match=r"not found: train with: python cnn/train.py"):
        load(tmp_path / "nope.pt")


def test_empty_file(tmp_path):
    (tmp_path / "w.pt").write_bytes(b"")
    with pytest.raises(WeightsError, match="empty"):
        load(tmp_path / "w.pt")


def test_random_bytes(tmp_path):
    (tmp_path / "w.pt").write_bytes(os.urandom(4096))
    with pytest.raises(WeightsError, match="not a readable PyTorch weights file"):
        load(tmp_path / "w.pt")


def test_truncated_file(net, tmp_path):
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    (tmp_path / "w.pt").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(WeightsError, match="not a readable PyTorch weights file"):
        load(tmp_path / "w.pt")


def test_weights_of_another_shape(tmp_path):
    other = {k: v for k, v in ConvNet().state_dict().items()}
    other["fc.weight"] = torch.zeros(10, 800)
    torch.save(other, tmp_path / "w.pt")
    with pytest.raises(WeightsError, match=r"another network: wrong shape fc.weight \(10, 800\)"):
        load(tmp_path / "w.pt")
    torch.save({"layer.weight": torch.zeros(3)}, tmp_path / "w2.pt")
    with pytest.raises(WeightsError, match="missing conv1.bias"):
        load(tmp_path / "w2.pt")


def test_non_finite_weights(net, tmp_path):
    state = {k: v.clone() for k, v in net.state_dict().items()}
    state["conv1.bias"][0] = float("nan")
    torch.save(state, tmp_path / "w.pt")
    with pytest.raises(WeightsError, match="non-finite"):
        load(tmp_path / "w.pt")


class _Exploit:
    """Unpickling this would run a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    state = dict(ConvNet().state_dict())
    state["extra"] = _Exploit(marker)
    torch.save(state, tmp_path / "w.pt")  # a real torch checkpoint whose pickle calls os.system when loaded
    with zipfile.ZipFile(tmp_path / "w.pt") as z:
        assert any(b"system" in z.read(n) for n in z.namelist() if n.endswith("data.pkl"))
    with pytest.raises(WeightsError, match="refused"):
        load(tmp_path / "w.pt")
    assert not marker.exists()
    # The same file loaded without weights_only runs the command: the exploit in this test is real.
    torch.load(tmp_path / "w.pt", weights_only=False)
    assert marker.exists()


def test_parameter_counts_of_the_lesson():
    from cnn.model import conv_parameters, dense_parameters

    assert dense_parameters(28, 1, 30) == 28 * 28 * 30 + 30 == 23_550
    assert dense_parameters(56, 3, 30) == 56 * 56 * 3 * 30 + 30
    assert conv_parameters(3, 1, 32) == 320 and conv_parameters(3, 32, 64) == 18_496


def test_dropout_rate_comes_from_the_metadata(net, tmp_path):
    """Monte Carlo dropout needs the rate the weights were trained with; a missing or odd record means 0.5."""
    import json

    p = tmp_path / "w.pt"
    torch.save(net.state_dict(), p)
    assert load(p).dropout.p == 0.5
    p.with_suffix(".json").write_text(json.dumps({"hyperparameters": {"dropout": 0.25}}))
    assert load(p).dropout.p == 0.25
    for odd in ["{not json", json.dumps({"hyperparameters": {"dropout": "lots"}}), json.dumps([1])]:
        p.with_suffix(".json").write_text(odd)
        assert load(p).dropout.p == 0.5


# --- the dense networks the page compares with the convnet -----------------------------------------------------------


@pytest.mark.parametrize("arch, hidden, parameters", [("dense30", 30, 23_860), ("dense44", 44, 34_990)])
def test_dense_networks_and_their_parameter_counts(arch, hidden, parameters):
    from cnn.model import DenseNet, arch_of, build

    model = build(arch).eval()
    assert isinstance(model, DenseNet) and arch_of(model) == arch
    assert count_parameters(model) == parameters == 784 * hidden + hidden + hidden * 10 + 10
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        reference = F.relu(x.flatten(1) @ model.hidden.weight.T + model.hidden.bias) @ model.fc.weight.T + model.fc.bias
        np.testing.assert_allclose(model(x).numpy(), reference.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(model.features(x).numpy(), F.relu(model.hidden(x.flatten(1))).numpy(), atol=1e-6)
    assert f"Total params: {parameters:,}" in summary(model)


def _save(model, path, arch=None):
    torch.save(model.state_dict(), path)
    if arch is not None:
        path.with_suffix(".json").write_text(json.dumps({"arch": arch}))
    return path


@pytest.mark.parametrize("arch", ["dense30", "dense44", "convnet"])
def test_each_architecture_loads_with_or_without_its_metadata(arch, tmp_path):
    from cnn.model import arch_of, build

    torch.manual_seed(1)
    model = build(arch).eval()
    for with_meta in (True, False):
        path = _save(model, tmp_path / f"{arch}{with_meta}.pt", arch if with_meta else None)
        loaded = load(path)
        assert arch_of(loaded) == arch and not loaded.training
        for k, v in model.state_dict().items():
            assert torch.equal(loaded.state_dict()[k], v)
        assert arch_of(load(path, arch=arch)) == arch


@pytest.mark.parametrize("held, asked", [("dense30", "convnet"), ("convnet", "dense44"), ("dense44", "dense30")])
def test_loading_into_the_wrong_architecture_is_refused(held, asked, tmp_path):
    from cnn.model import ARCH_TITLES, build

    for with_meta in (True, False):
        path = _save(build(held), tmp_path / f"w{with_meta}.pt", held if with_meta else None)
        with pytest.raises(WeightsError, match=f"holds {ARCH_TITLES[held]}, not {ARCH_TITLES[asked]}") as e:
            load(path, arch=asked)
        assert ("--arch " + asked in str(e.value)) == (asked != "convnet")


def test_metadata_that_names_another_architecture_than_the_file_holds(tmp_path):
    from cnn.model import build

    path = _save(build("dense30"), tmp_path / "w.pt", "convnet")  # a JSON that lies
    with pytest.raises(WeightsError, match="holds weights for another network"):
        load(path)


def test_head_parameters_follow_the_layers_shapes():
    """The dense last layer's size for other images, from the layers themselves, against a hand count."""
    from cnn.model import head_parameters

    assert head_parameters(28) == sum(p.numel() for p in ConvNet().fc.parameters()) == 16_010
    for side in (10, 29, 64, 4096):
        pooled = ((side - 2) // 2 - 2) // 2  # conv 3x3, pool 2, conv 3x3, pool 2
        assert head_parameters(side) == 64 * pooled * pooled * 10 + 10
    assert head_parameters(9) is None and head_parameters(4) is None
