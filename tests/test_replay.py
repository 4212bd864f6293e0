"""How it learned: the shipped training snapshots replayed on a drawing, and the part of the page that plays them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnn.features import forward_with_maps
from cnn.model import load
from cnn.paths import DEFAULT_WEIGHTS
from cnn.preprocess import canvas_to_mnist
from cnn.replay import replay, snapshot_models
from cnn.snapshots import load_snapshots, snapshots_path
from cnn.strokes import draw_digit
from tests.test_app import run_app, shown


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
    at = run_app(draw_digit(2), analysis="How it learned")
    assert not at.exception and not at.error
    import json

    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    (fig,) = [f for f in figures if f.get("frames")]
    assert len(fig["frames"]) == len(snaps)
    assert [s["label"] for s in fig["layout"]["sliders"][0]["steps"]] == [f"{e:.3g}" for e in snaps.epochs]
    text = shown(next(m.value for m in at.markdown if m.value.startswith("At the random start")))
    assert f"reads {snaps.val_accuracy[0]:.0%} of the validation digits" in text
    assert f"At the end of the run it reads {snaps.val_accuracy[-1]:.2%}" in text
    half = next(i for i, a in enumerate(snaps.epochs) if f"halfway there at step {snaps.steps[i]:,} " in text)
    assert 0 < half < len(snaps) - 1  # the kernels' progress is told from the snapshots themselves


def test_without_a_drawing_the_part_asks_for_one():
    at = run_app(None, analysis="How it learned")
    assert not at.exception and any("Draw a digit on the canvas" in i.value for i in at.info)


def test_a_live_run_from_the_page_trains_and_ends():
    at = run_app(draw_digit(7), analysis="How it learned")
    at.button(key="live_start").click()
    at = run_app(draw_digit(7), at=at)
    assert not at.exception and not at.error
    (done,) = [shown(s.value) for s in at.success]
    assert done.startswith("Trained: 94 steps")
    assert at.session_state["live_on"] is False
