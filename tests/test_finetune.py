"""The personal copy: it learns a writer's style that the shipped network misreads, forgets little, touches nothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from classroom.finetune import MIN_DRAWINGS, FineTuneError, FineTuneRecipe, accuracy, fine_tune, held_out_split
from cnn.live import live_data
from cnn.model import load
from cnn.preprocess import canvas_to_mnist
from cnn.strokes import jittered_digit

TILT = 1.1  # radians: a writer whose page is turned by about 63 degrees


def writer(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n drawings by one synthetic writer who turns every digit the same way, each digit in turn."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    return np.stack([canvas_to_mnist(jittered_digit(int(d), rng, tilt=TILT)) for d in labels]), labels


@pytest.fixture(scope="module")
def tuned():
    shipped = load()
    before = {k: v.clone() for k, v in shipped.state_dict().items()}
    rng_state = torch.get_rng_state()
    images, labels = writer(20, seed=1)
    result = fine_tune(shipped, images, labels, live_data())
    assert torch.equal(torch.get_rng_state(), rng_state)  # a private generator: nobody else's randomness drawn
    assert all(torch.equal(shipped.state_dict()[k], v) for k, v in before.items())  # the shared network untouched
    return shipped, result


def test_the_copy_learns_a_style_the_shipped_network_misreads(tuned):
    shipped, result = tuned
    fresh, labels = writer(40, seed=2)  # more drawings by the same writer, seen by neither
    before, after = accuracy(shipped, fresh, labels), accuracy(result.model, fresh, labels)
    print(f"\nthe writer's fresh drawings: shipped {before:.0%}, personal {after:.0%}; MNIST {result.shipped_mnist:.1%}"
          f" -> {result.personal_mnist:.1%}; {result.seconds:.1f} s")
    assert before < 0.5 and after > before + 0.3
    assert result.personal_held_out >= result.shipped_held_out and result.held_out == 5
    assert result.personal_mnist > result.shipped_mnist - 0.03  # it still reads everyone else's digits
    assert not result.model.training


def test_too_few_drawings_are_refused_with_how_many_are_needed():
    images, labels = writer(MIN_DRAWINGS - 1, seed=3)
    with pytest.raises(FineTuneError, match=f"at least {MIN_DRAWINGS} drawings .*{MIN_DRAWINGS - 1} so far"):
        fine_tune(load(), images, labels, live_data())


def test_the_held_back_drawings_are_never_trained_on():
    labels = np.arange(12) % 10
    train, held = held_out_split(labels, 0.25, seed=0)
    assert len(held) == 3 and set(train) | set(held) == set(range(12)) and not set(train) & set(held)


def test_a_stopped_fine_tune_leaves_no_copy():
    images, labels = writer(10, seed=4)
    seen = []

    def stop_at_3(step, steps):
        seen.append(step)
        if step == 3:
            raise KeyboardInterrupt  # what the page's stop (its script interrupted) looks like from inside

    with pytest.raises(KeyboardInterrupt):
        fine_tune(load(), images, labels, live_data(), FineTuneRecipe(steps=50), on_step=stop_at_3)
    assert seen == [1, 2, 3]
