"""Training one live: the shipped sample, the run itself, and the queue that lets one run at a time."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from classroom.queue import LiveQueue
from cnn import live
from cnn.live import LiveRecipe, SampleError, live_data, live_run, live_steps, load_sample, make_sample
from cnn.preprocess import canvas_to_mnist
from cnn.strokes import draw_digit


def test_the_shipped_sample_is_balanced_checked_and_rebuilt_from_mnist(mnist_dir):
    from cnn.data import load_split

    images, labels = load_sample()
    n = 10 * live.PER_DIGIT_TRAIN
    assert images.shape == (n + 10 * live.PER_DIGIT_VAL, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels[:n]).tolist() == [live.PER_DIGIT_TRAIN] * 10
    assert np.bincount(labels[n:]).tolist() == [live.PER_DIGIT_VAL] * 10
    full_images, full_labels = load_split("train", mnist_dir, fetch=False)
    rebuilt_images, rebuilt_labels = make_sample(full_images, full_labels)
    np.testing.assert_array_equal(rebuilt_images, images)
    np.testing.assert_array_equal(rebuilt_labels, labels)


def test_the_samples_check_digits_are_validation_digits_no_shipped_network_trained_on(mnist_dir):
    """The personal copy's figures compare both networks on these: in the default offline install they were once
    training digits, which the shipped network read 500 of 500."""
    from cnn.data import load_split, validation_cut
    from cnn.model import load, page_reading

    images, labels = load_sample()
    n = 10 * live.PER_DIGIT_TRAIN
    full_images, full_labels = load_split("train", mnist_dir, fetch=False)
    cut = validation_cut(len(full_labels))
    trained_on = {im.tobytes() for im in full_images[:cut]}
    held_out = {im.tobytes() for im in full_images[cut:]}
    assert all(im.tobytes() in held_out and im.tobytes() not in trained_on for im in images[n:])
    assert all(im.tobytes() in trained_on for im in images[:n])
    right = (page_reading(load(), images[n:].astype(np.float32) / 255).argmax(1) == labels[n:]).mean()
    assert 0.97 < right < 1  # about the shipped network's validation accuracy, not a perfect score on its own digits


def test_a_damaged_sample_is_refused_clearly(tmp_path):
    for kind, name in live.SAMPLE_FILES.items():
        (tmp_path / name).write_bytes((live.SAMPLE_DIR / name).read_bytes())
    images = tmp_path / live.SAMPLE_FILES["images"]
    raw = bytearray(gzip.decompress(images.read_bytes()))
    raw[1000] ^= 0xFF
    images.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(SampleError, match="checksum"):
        load_sample(tmp_path)
    images.write_bytes(b"not gzip")
    with pytest.raises(SampleError, match="could not be read"):
        load_sample(tmp_path)


def test_without_the_full_data_the_run_trains_on_the_sample(tmp_path):
    x, y, xv, yv = live_data(data_dir=tmp_path)  # an empty folder: no MNIST there
    sample_images, sample_labels = load_sample()
    n = 10 * live.PER_DIGIT_TRAIN
    np.testing.assert_array_equal(x, sample_images[:n].astype(np.float32) / 255)
    np.testing.assert_array_equal(yv, sample_labels[n:])


def test_a_live_run_learns_and_touches_nothing_shared(mnist_dir):
    from cnn.model import load

    shared = load()
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    rng = torch.get_rng_state()
    image = canvas_to_mnist(draw_digit(3))
    updates = list(live_run(image, live_data(mnist_dir)))
    assert updates[0].step == 0 and updates[-1].step == updates[-1].total == live_steps()
    assert len(updates) == 1 + -(-live_steps() // LiveRecipe().every)
    assert updates[0].val_accuracy < 0.3 < 0.8 < updates[-1].val_accuracy  # from a guess to most digits
    assert updates[0].probs.max() < updates[-1].probs.max()
    assert [s for s, _ in updates[-1].history] == [u.step for u in updates]
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(shared.state_dict()[k], v) for k, v in before.items())


def test_a_live_run_stops_when_closed():
    image = canvas_to_mnist(draw_digit(1))
    run = live_run(image, live_data())
    first = next(run), next(run)
    run.close()  # what happens when the page's script is interrupted
    with pytest.raises(StopIteration):
        next(run)
    assert first[1].step == LiveRecipe().every


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_one_run_at_a_time_the_others_queued_in_order():
    q = LiveQueue(clock=Clock())
    assert q.ask("a") == 0 and q.running == "a"  # two sessions asking at once: the first runs,
    assert q.ask("b") == 1 and q.ask("c") == 2  # the others wait their turn, in order
    assert q.ask("b") == 1 and q.ask("a") == 0  # asking again keeps one's place
    q.done("a")  # a finishes or is stopped
    assert q.ask("c") == 2 and q.ask("b") == 0 and q.ask("c") == 1
    q.done("c")  # c gives up waiting
    assert q.waiting() == 0 and q.running == "b"


def test_a_session_that_ends_without_a_word_loses_its_place_and_its_run():
    clock = Clock()
    q = LiveQueue(expire=10, clock=clock)
    assert q.ask("a") == 0 and q.ask("b") == 1 and q.ask("c") == 2
    clock.now = 8
    assert q.ask("c") == 2  # a and b are still within their time
    clock.now = 16  # a (running) and b (waiting) have not been heard from for 16 s: their tabs are gone
    assert q.ask("c") == 0 and q.running == "c" and q.waiting() == 0


def test_one_place_per_client_however_many_sessions_it_opens():
    q = LiveQueue(clock=Clock())
    assert q.ask("a", "10.0.0.1") == 0
    assert q.ask("b", "10.0.0.1") == -1 and q.waiting() == 0  # the same address, another tab: nothing queued
    assert q.ask("c", "10.0.0.2") == 1
    assert q.ask("a", "10.0.0.1") == 0  # asking again keeps its own place
    q.done("a")
    assert q.ask("b", "10.0.0.1") == 2  # once its run ended, the address may queue again, behind c


def test_sessions_that_stop_listening_lose_their_places_to_one_that_listens(monkeypatch):
    """Five sessions pressed Train and never read their sockets; a visitor behind them waited for all five runs
    (69 s instead of 18 s). Now a waiting tab's browser asks for its turn every second, and one that stops asking
    has left the queue after a few seconds."""
    import streamlit as st

    import ui.replay
    from tests.helpers.page import run_app
    from ui.replay import QUEUE_EXPIRE_S, live_queue

    clock = Clock()
    live_queue.clear()
    q = live_queue()
    q._clock = clock
    monkeypatch.setattr(ui.replay, "client_address", lambda: st.session_state.get("client", "unknown"))
    assert q.ask("someone training", "10.0.0.99") == 0

    for i in range(5):  # each pressed Train (its one ask, from its click), then never asked again
        assert q.ask(f"silent {i}", f"10.0.0.{i}") == i + 1
    canvas = draw_digit(7)
    at = run_app(canvas, part="How it learned", client="10.0.1.1")
    at.button(key="live_start").click()
    at = run_app(canvas, at=at)
    assert any("yours is number 6 in the queue" in i.value for i in at.info)
    clock.now = QUEUE_EXPIRE_S + 1
    q.ask("someone training")  # the run in progress goes on asking
    at = run_app(canvas, at=at)  # the browser's next ask
    assert any("yours is next" in i.value for i in at.info) and q.waiting() == 1
    q.done("someone training")
    at = run_app(canvas, at=at)
    assert not at.exception
    assert [s.value for s in at.success if s.value.startswith("Trained:")]
    live_queue.clear()
