"""How it learned: the shipped training snapshots replayed on a drawing, and the part of the page that plays them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnn.features import forward_with_maps
from cnn.model import load
from cnn.paths import DEFAULT_WEIGHTS
from cnn.preprocess import canvas_to_mnist
from cnn.checkpoint import load_metadata
from cnn.replay import first_crossing, kernel_closeness, kernel_travel, replay, snapshot_models
from cnn.snapshots import load_snapshots, snapshots_path
from cnn.strokes import draw_digit
from tests.helpers.page import run_app, shown
from ui.replay import snapshots_text


@pytest.fixture(scope="module")
def shipped():
    snaps = load_snapshots(snapshots_path(DEFAULT_WEIGHTS))
    return snaps, snapshot_models(snaps)


def test_the_shipped_snapshots_end_at_the_shipped_weights(shipped):
    snaps, models = shipped
    assert snapshots_path(DEFAULT_WEIGHTS).stat().st_size < 5 * 2**20
    assert snaps.steps[0] == 0 and 25 <= len(snaps) <= 30
    final = load().state_dict()
    for k, v in models[-1].state_dict().items():
        torch.testing.assert_close(v, final[k], atol=2e-3, rtol=2e-3)  # float16 copies of the saved float32
    assert snaps.val_accuracy[0] < 0.3 and snaps.val_accuracy[-1] > 0.99


def test_the_replay_is_each_snapshot_reading_the_drawing(shipped):
    snaps, models = shipped
    image = canvas_to_mnist(draw_digit(2))
    r = replay(snaps, models, image)
    for i in (0, len(snaps) // 2, len(snaps) - 1):
        probs, maps = forward_with_maps(snaps.model_at(i), image)
        np.testing.assert_allclose(r.probs[i], probs, atol=1e-6)
        np.testing.assert_allclose(r.conv2[i], maps["conv2"][r.channels2], atol=1e-5)
        np.testing.assert_allclose(r.kernels[i], snaps.model_at(i).conv1.weight.detach().numpy()[:, 0])
    final = forward_with_maps(models[-1], image)[1]["conv1"].max(axis=(1, 2))
    assert sorted(r.channels1) == sorted(np.argsort(final)[::-1][: len(r.channels1)].tolist())


def test_the_part_plays_every_snapshot_in_the_browser(shipped):
    snaps, _ = shipped
    at = run_app(draw_digit(2), part="How it learned")
    assert not at.exception and not at.error
    import json

    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    (fig,) = [f for f in figures if f.get("frames")]
    assert len(fig["frames"]) == len(snaps)
    assert [s["label"] for s in fig["layout"]["sliders"][0]["steps"]] == [f"{e:.3g}" for e in snaps.epochs]
    text = shown(next(m.value for m in at.markdown if m.value.startswith("At the random start")))
    assert f"reads {snaps.val_accuracy[0]:.0%} of the validation digits" in text
    assert f"At the end of the run it reads {snaps.val_accuracy[-1]:.2%}" in text
    # the kernels' progress is told from the snapshots themselves: where each measure crosses one half, bracketed
    k = np.stack([m.conv1.weight.detach().numpy()[:, 0] for m in shipped[1]])
    start = np.linalg.norm((k - k[0]).reshape(len(k), -1), axis=1) / np.linalg.norm(k[-1] - k[0])
    closer = 1 - np.linalg.norm((k - k[-1]).reshape(len(k), -1), axis=1) / np.linalg.norm(k[0] - k[-1])
    for measure in (start, closer):
        i = int(np.argmax(measure >= 0.5))
        assert 0 < i < len(snaps) - 1 and measure[i - 1] < 0.5
        assert f"between steps {snaps.steps[i - 1]:,} and {snaps.steps[i]:,} (" in text
    meta = load_metadata(DEFAULT_WEIGHTS)
    per_epoch = -(-meta["train_samples"] // meta["hyperparameters"]["batch_size"])
    end1 = max(i for i, s in enumerate(snaps.steps) if s <= per_epoch)
    assert f"they are {start[end1]:.0%} as far from their random start as their final values are" in text
    assert f"{start[end1]:.0%}" != "0%"  # the old sentence read "moved only 0% of the way"
    assert "they have closed only" in text or "no closer to their final values" in text
    caption = next(c.value for c in at.caption if "log-spaced" in c.value)
    assert f"weight average the run keeps and saved, an exponential moving average of the optimiser's weights (decay " \
           f"{meta['hyperparameters']['ema']:g})" in caption


def test_the_kernels_measures_against_numpy():
    rng = np.random.default_rng(0)
    k = rng.normal(size=(6, 4, 3, 3))
    flat = k.reshape(6, -1)
    np.testing.assert_allclose(kernel_travel(k), [np.linalg.norm(f - flat[0]) / np.linalg.norm(flat[-1] - flat[0])
                                                  for f in flat])
    np.testing.assert_allclose(kernel_closeness(k), [1 - np.linalg.norm(f - flat[-1]) / np.linalg.norm(flat[0] - flat[-1])
                                                     for f in flat], atol=1e-12)
    assert kernel_travel(k)[0] == 0 and kernel_closeness(k)[-1] == 1
    sideways = np.array([[0.0, 0], [1, 1], [2, 0]])  # a step at right angles to the line from start to end
    np.testing.assert_allclose(kernel_travel(sideways), [0, np.sqrt(2) / 2, 1])
    np.testing.assert_allclose(kernel_closeness(sideways), [0, 1 - np.sqrt(2) / 2, 1])
    assert first_crossing(np.array([0, 0.2, 0.6, 0.4, 0.7]), 0.5) == (1, 2)
    assert first_crossing(np.array([0, 0.2, 0.4]), 0.5) is None


def test_what_a_snapshot_holds_is_said_from_the_recipe():
    assert "decay 0.999" in snapshots_text(0.999) and "not of the optimiser's weights" in snapshots_text(0.999)
    assert snapshots_text(0.0).startswith("Each snapshot is of the optimiser's weights")
    assert snapshots_text(None) == snapshots_text(0.0)


def test_without_a_drawing_the_part_asks_for_one():
    at = run_app(None, part="How it learned")
    assert not at.exception and any("Draw a digit on the canvas" in i.value for i in at.info)


def test_a_live_run_from_the_page_trains_and_ends():
    at = run_app(draw_digit(7), part="How it learned")
    at.button(key="live_start").click()
    at = run_app(draw_digit(7), at=at)
    assert not at.exception and not at.error
    (done,) = [shown(s.value) for s in at.success]
    assert done.startswith("Trained: 94 steps")
    assert at.session_state["live_on"] is False
