"""What the page shares between its users is never changed by any of them, and reruns do not pile up memory."""

from __future__ import annotations

import gc
import shutil
import tracemalloc

import numpy as np
import pytest
import torch

from cnn import model as model_module
from cnn import paths
from cnn.strokes import draw_digit
from tests.helpers.page import metric, run_app
from ui.parts import DRAWING_PARTS as ANALYSIS


def test_the_cached_model_and_global_random_state_stay_untouched(tmp_path, monkeypatch):
    weights = tmp_path / "mnist_cnn.pt"  # a fresh path: the page's cache must load it, through our spy
    shutil.copy(paths.DEFAULT_WEIGHTS, weights)
    monkeypatch.setattr(paths, "DEFAULT_WEIGHTS", weights)
    loaded = {}
    real_load = model_module.load

    def spy(path, *a, **k):
        loaded.setdefault(str(path), []).append(real_load(path, *a, **k))
        return loaded[str(path)][-1]

    monkeypatch.setattr(model_module, "load", spy)
    torch_rng, numpy_rng = torch.get_rng_state(), np.random.get_state()
    for digit, tab in zip([1, 4, 7, 9, 0, 3, 5], ANALYSIS):
        at = run_app(draw_digit(digit), part=tab, why_method="Input gradient", mv_dx=3)
        assert not at.exception and metric(at, "Prediction") == str(digit)
    assert len(loaded[str(weights)]) == 1  # loaded once, then shared from the cache
    for path, models in loaded.items():
        shared = models[0]
        assert not shared.training and all(p.grad is None for p in shared.parameters())
        reference = real_load(path)
        for k, v in reference.state_dict().items():
            assert torch.equal(shared.state_dict()[k], v), (path, k)
    assert torch.equal(torch.get_rng_state(), torch_rng)
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_rng))


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_reruns_do_not_accumulate_memory():
    drawing = draw_digit(5)
    at = run_app(drawing)
    for _ in range(10):  # warm up every cache
        at = run_app(drawing, at=at)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(60):
        at = run_app(drawing, at=at)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    growth_mb = (after - before) / 2**20
    print(f"\nPython memory after 60 more reruns: {growth_mb:+.2f} MB")
    assert growth_mb < 5
