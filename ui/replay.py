"""How it learned: the shipped network's training replayed on the visitor's drawing, from the snapshots of its run."""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from classroom.queue import LiveQueue
from cnn.live import PER_DIGIT_TRAIN, LiveRecipe, live_run, live_steps
from cnn.replay import Replay, first_crossing, kernel_closeness, kernel_travel, replay
from cnn.snapshots import SnapshotError
from ui.alt import chart, training_alt
from ui.figures import percent, replay_figure, training_figure
from ui.markdown import literal
from ui.resources import live_digits, metadata, snapshot_models_shipped
from ui.serving import client_address
from ui.state import LIVE_ON


def _between(r: Replay, pair: tuple[int, int]) -> str:
    a, b = pair
    return (f"between steps {r.steps[a]:,} and {r.steps[b]:,} ({r.epochs[a]:.3g}–{r.epochs[b]:.3g} epochs, the "
            "snapshots either side)")


def replay_text(r: Replay, per_epoch: int | None) -> str:
    """What changes over the run, in words, from this replay's own figures."""
    first, last = r.probs[0], r.probs[-1]
    flat = first.max() < 0.2
    travel, closeness = kernel_travel(r.kernels), kernel_closeness(r.kernels)
    parts = [
        "At the random start (step 0) conv1's kernels are noise, and the network "
        + ("gives your drawing nearly the same chance of being any digit: its highest probability is "
           f"{literal(percent(first.max()))}, where an even guess would be 10%." if flat else
           f"already leans, at random, to {int(np.argmax(first))} ({literal(percent(first.max()))}) for your drawing.")
        + f" It reads {r.val_accuracy[0]:.0%} of the validation digits."
    ]
    if per_epoch:
        end1 = [i for i, s in enumerate(r.steps) if s <= per_epoch][-1]
        norms = np.linalg.norm(r.kernels[[0, end1]].reshape(2, -1), axis=1)
        parts.append(
            f"By step {r.steps[end1]:,} ({r.epochs[end1]:.2g} epochs) it reads {r.val_accuracy[end1]:.1%} of them. "
            f"conv1's kernels have moved by then: they are {travel[end1]:.0%} as far from their random start as "
            f"their final values are, and their size (the square root of the sum of their squared weights) has gone from "
            f"{norms[0]:.2f} to {norms[1]:.2f}. "
            + ("But they have moved sideways: " + (
                "they are no closer to their final values than they started." if closeness[end1] < 0.0005 else
                f"they have closed only {closeness[end1]:.1%} of the gap to their final values.")
               + " The network reads digits long before its first layer settles."
               if closeness[end1] < 0.5 * travel[end1] else
               f"They have closed {closeness[end1]:.0%} of the gap to their final values.")
        )
    moved_half, closer_half = first_crossing(travel, 0.5), first_crossing(closeness, 0.5)
    if moved_half and closer_half:
        parts.append(
            f"They are half as far from their start as their final values are {_between(r, moved_half)}, but "
            f"halfway to their final values only {_between(r, closer_half)}, and keep sharpening for the rest of the "
            "run: press Play and watch them turn from noise into the edge and stroke detectors whose maps light up along your strokes."
        )
    parts.append(
        f"At the end of the run it reads {r.val_accuracy[-1]:.2%} of the validation digits, and "
        f"gives your drawing {int(np.argmax(last))} with {literal(percent(last.max()))}."
    )
    return " ".join(parts)


def snapshots_text(ema) -> str:
    """What each snapshot holds: the run's weight average when it kept one (its decay from the metadata), which is
    what it saved."""
    if isinstance(ema, (int, float)) and 0 < ema < 1:
        return (f"Each snapshot is of the weight average the run keeps and saved, an exponential moving average of the "
                f"optimiser's weights (decay {ema:g}), not of the optimiser's weights at that step: the average trails "
                "them and smooths out their step-to-step noise.")
    return "Each snapshot is of the optimiser's weights at that step, which the run saved at its end."


def replay_ui(r: Replay, digit: int, per_epoch: int | None, ema=None) -> None:
    st.markdown(
        f"The shipped network, replayed at {len(r.steps)} points of its training: press **Play**, or drag the slider. "
        "Everything moves in your browser; nothing is recomputed while it plays."
    )
    chart(replay_figure(r, digit), training_alt(r.steps[-1], r.val_accuracy[-1], r.probs[-1], digit,
                                                 f"Replay of training at {len(r.steps)} points, shown at the last"),
          key="replay")
    st.markdown(replay_text(r, per_epoch))
    st.caption(
        "Kernels on a red-to-blue scale, each point's maps scaled to that layer's largest value at that point. The "
        "channels shown are those the finished network fires most on for your drawing. The snapshots are log-spaced "
        "in optimiser steps, so most come early, where the network changes fastest; they are stored in float16. "
        + snapshots_text(ema)
    )


LIVE_INTRO = (
    "**Train one live.** A fresh convnet, from random weights, on {train:,} MNIST digits ({per_digit} of each), "
    "{passes} in batches of {batch} with Adam at {lr:g} (the Keras recipe's): {total} steps, a few seconds on one CPU "
    "thread. Long enough to watch the kernels form and the probabilities sharpen; short enough that nobody waits "
    "long, since one network trains at a time on this server. Drawing again stops it."
)


WAIT_POLL_S = 1.0  # how often a waiting tab's browser asks for its turn
QUEUE_EXPIRE_S = 5.0  # a tab not heard from for this long has left the queue (it closed, or stopped listening)


@st.cache_resource
def live_queue() -> LiveQueue:
    """Who trains a network on this server now (a live run or a personal copy), and who waits: shared by every
    session, one place per client address."""
    return LiveQueue(expire=QUEUE_EXPIRE_S)


def my_turn(queue: LiveQueue, session: str, flag: str) -> bool:
    """Whether this session may train now; while it waits, its place in the queue, kept by its browser.

    The script does not wait: a fragment on the browser's own timer asks for the turn every WAIT_POLL_S, so each
    ask comes from a page that is still listening. A tab that stops (closed, hidden for long, or a client that never
    reads what it is sent) stops asking and loses its place after QUEUE_EXPIRE_S. `flag` is the session-state key
    that says the visitor asked to train; it is cleared when the client already holds its one place.
    """
    client = client_address()
    place = queue.ask(session, client)
    if place < 0:
        st.session_state[flag] = False
        st.warning("Another tab from your address is already training or waiting its turn: one place in the queue "
                   "per visitor. Try again once it has finished.")
        return False
    if place == 0:
        return True

    @st.fragment(run_every=WAIT_POLL_S)
    def waiting() -> None:
        now = queue.ask(session, client)
        if now == 0:
            st.rerun(scope="app")  # the part runs again, and trains
        if now > 0:
            st.info("Another visitor's network is training: " + (
                "yours is next." if now == 1 else f"yours is number {now} in the queue."))

    waiting()
    return False


def live_view(u, digit: int, channels: tuple[list, list]):
    """The figure of one moment of a live run."""
    view = {"kernels": u.kernels, "conv1": u.conv1, "conv2": u.conv2, "probs": u.probs, "point": u.history[-1]}
    steps, accuracies = zip(*u.history)
    return training_figure([view], (list(steps), list(accuracies)), digit, channels)


def live_ui(queue, session: str, image: np.ndarray, digit: int, data, total: int, shipped: str) -> None:
    """The live run's controls and, while it runs (or waits its turn), its progress and views."""
    recipe = LiveRecipe()
    passes = "one pass" if recipe.epochs == 1 else f"{recipe.epochs} passes"
    st.markdown(LIVE_INTRO.format(train=10 * PER_DIGIT_TRAIN, per_digit=PER_DIGIT_TRAIN, passes=passes,
                                  batch=recipe.batch_size, lr=recipe.lr, total=total))
    start, stop = st.columns([1, 1])
    if start.button("Train a fresh network", key="live_start"):
        st.session_state[LIVE_ON] = True
    if stop.button("Stop", key="live_stop"):
        st.session_state[LIVE_ON] = False
        queue.done(session)  # its place too, if it was waiting
    if not st.session_state.get(LIVE_ON):
        return
    if not my_turn(queue, session, LIVE_ON):
        return
    status, bar, view = st.empty(), st.empty(), st.empty()
    channels = ([0, 1, 2, 3], list(range(8)))
    try:
        digits = data()
        for u in live_run(image, digits, channels1=channels[0], channels2=channels[1]):
            queue.ask(session)  # still here
            bar.progress(u.step / u.total, text=f"step {u.step} of {u.total}: it reads {u.val_accuracy:.0%} of "
                                                 f"{len(digits[3])} digits it does not train on")
            chart(live_view(u, digit, channels),
                  training_alt(u.step, u.val_accuracy, u.probs, digit, f"Live training, step {u.step} of {u.total}"),
                  where=view.container())
        status.success(f"Trained: {u.step} steps, {u.val_accuracy:.0%} of the held-out digits read right, and your "
                       f"drawing read as {int(np.argmax(u.probs))} ({literal(percent(u.probs.max()))}). {shipped}")
    finally:
        queue.done(session)
        st.session_state[LIVE_ON] = False


def how_it_learned_ui(image: np.ndarray, digit: int) -> None:
    """How it learned: the shipped network's training replayed on the drawing, then one trained live."""
    meta = metadata()
    hp = meta.get("hyperparameters") if isinstance(meta.get("hyperparameters"), dict) else {}
    try:
        snaps, models = snapshot_models_shipped()
    except SnapshotError as e:
        st.info(f"No replay of the training to show: {literal(e)}")
    else:
        samples, batch = meta.get("train_samples"), hp.get("batch_size")
        per_epoch = -(-samples // batch) if isinstance(samples, int) and isinstance(batch, int) and batch > 0 else None
        replay_ui(replay(snaps, models, image), digit, per_epoch, hp.get("ema"))
    st.divider()
    epochs, samples = hp.get("epochs"), meta.get("train_samples")
    shipped = (f"The shipped network trained for {epochs} passes over {samples:,} digits."
               if isinstance(epochs, int) and isinstance(samples, int) else "")
    live_ui(live_queue(), get_script_run_ctx().session_id, image, digit, live_digits, live_steps(), shipped)
