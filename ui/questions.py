"""A question before each reveal: the learner answers first (a number or a choice), then the page shows the answer,
computed by the same code the chapter's parts draw with, and one sentence on why. A wrong answer is a teaching
moment: the page says what the answer is and why, never that the learner made an error."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnn.conv1d import convolve
from cnn.data import IMAGE_SIZE
from cnn.explain import MC_SAMPLES, mc_dropout
from cnn.features import FEATURE_LAYERS
from cnn.model import dense_parameters
from ui.parts import Drawing
from ui.resources import metadata, snapshot_models_shipped
from ui.state import GUESSES

GUESS_BOUND = 1e12  # a guess is shown back in words: no answer here comes near, and 1e308 would be 309 digits


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str
    answer: float | str  # a number, or one of the choices
    why: str  # one sentence on why the answer is what it is
    choices: tuple[str, ...] = ()  # empty: the answer is a number
    within: float = 0.0  # a number this close to the answer counts as right (0: exactly)
    unit: str = ""  # shown after a number: " pixels", "%"

    def shown(self, value: float | str) -> str:
        if self.choices:
            return f"“{value}”"
        return f"{value:,.0f}{self.unit}" if float(value).is_integer() else f"{value:,.1f}{self.unit}"

    def is_right(self, guess: float | str) -> bool:
        if self.choices:
            return guess == self.answer
        return math.isfinite(guess) and abs(guess - self.answer) <= self.within + 1e-9


# --- each chapter's question, from the computation its parts draw with --------------------------------------------


def pixels_question(drawing: Drawing) -> Question:
    seen = drawing.image.size if drawing.image is not None else IMAGE_SIZE * IMAGE_SIZE
    return Question(
        "pixels", "Your drawing is 280×280 pixels on the canvas. How many numbers does the network actually read?",
        seen, f"It reads the small grey image under *What the network sees*: {IMAGE_SIZE} × {IMAGE_SIZE} = "
        f"{seen:,} numbers, one per pixel, from 0 (black) to 1 (white).",
    )


def dense_question(drawing: Drawing) -> Question:
    units, mnist = 30, dense_parameters(IMAGE_SIZE, 1, 30)
    answer = dense_parameters(224, 3, units)
    return Question(
        "dense", f"The lesson's dense layer of {units} units needs {mnist:,} weights for a {IMAGE_SIZE}×{IMAGE_SIZE} "
        "grey image. How many would it need for a 224×224 colour image?",
        answer, f"Every one of the 224 × 224 × 3 = {224 * 224 * 3:,} input numbers gets its own weight to each of the "
        f"{units} units, plus {units} biases: {answer:,}. A 3×3 convolution's weights do not grow with the image.",
        within=0.1 * answer,
    )


def valid_question(drawing: Drawing) -> Question:
    x, h = np.arange(1, 10), np.full(3, 0.5)
    answer = len(convolve(x, h, "valid").output)
    return Question(
        "valid", f"numpy's `valid` mode keeps only the places where the whole kernel fits. For {len(x)} inputs and a "
        f"kernel of {len(h)}, how long is the output?",
        answer, f"The kernel's first weight can sit on inputs 1 to {answer}: {len(x)} − {len(h)} + 1 = {answer}. "
        f"`same` keeps {len(x)} and `full` gives {len(x)} + {len(h)} − 1 = {len(x) + len(h) - 1} (try them in the "
        "explorer below).",
    )


def conv1_question(drawing: Drawing) -> Question:
    first = FEATURE_LAYERS[0]
    width = drawing.maps[first].shape[-1] if drawing.maps else IMAGE_SIZE - 3 + 1
    return Question(
        "conv1", f"{first} slides 3×3 kernels over the {IMAGE_SIZE}×{IMAGE_SIZE} image with no padding. How many "
        "pixels wide is each of its feature maps?",
        width, f"A 3-wide kernel fits in {IMAGE_SIZE} − 3 + 1 = {width} places across (numpy's `valid`), so each map "
        f"is {width}×{width}: the feature maps below show them for your drawing.", unit=" pixels",
    )


def start_question(drawing: Drawing) -> Question | None:
    try:
        snaps, _ = snapshot_models_shipped()
    except Exception:  # noqa: BLE001: the part below says what is wrong with the snapshots
        return None
    share = 100 * snaps.val_accuracy[0]
    return Question(
        "start", "Before any training (step 0, weights at random), on what share of the validation digits was the "
        "network right?",
        round(share, 1), f"It read {share:.1f}% right: with random weights it is about as good as a guess among ten "
        "digits (10%). Every point above that came from training.", within=5.0, unit="%",
    )


def passes_question(drawing: Drawing) -> Question | None:
    if drawing.image is None or drawing.model is None:
        return None
    mc = mc_dropout(drawing.model, drawing.image)  # the passes the part below shows (the same seed)
    top = int(np.argmax(drawing.probs))
    agree = int((mc.samples.argmax(1) == top).sum())
    return Question(
        "passes", f"The page reads your drawing as {top}. Read again {MC_SAMPLES} times, each time with a different "
        f"half of its last layer's inputs dropped at random, how many of the {MC_SAMPLES} passes will read {top}?",
        agree, f"{agree} of {MC_SAMPLES} do. The more the passes agree, the less the reading hangs on any few "
        "features; a drawing that is hardly a digit splits them.", within=max(1.0, 0.1 * MC_SAMPLES),
    )


MIXED = "To keep reading everyone else's handwriting"


def mixed_question(drawing: Drawing) -> Question:
    from classroom.finetune import FineTuneRecipe

    r = FineTuneRecipe()
    return Question(
        "mixed", "A personal copy of the network learns your style from your labelled drawings. Why does each of its "
        "training batches also hold MNIST digits?",
        MIXED, f"Each batch is {r.own_per_batch} of your drawings and {r.mnist_per_batch} MNIST digits, so the copy "
        "keeps training on everyone else's handwriting while it learns yours; the part measures both networks on "
        "500 MNIST validation digits to show what that keeps.",
        choices=(MIXED, "To train faster", "Because one visitor's drawings are too few to fill a batch"),
    )


def errors_question(drawing: Drawing) -> Question | None:
    test = metadata().get("test") or {}
    if "errors" not in test or "count" not in test:
        return None
    errors, count = int(test["errors"]), int(test["count"])
    return Question(
        "errors", f"MNIST keeps {count:,} test digits that no network trains on. How many of them does the shipped "
        "network misread?",
        errors, f"{errors} of {count:,}: it reads {1 - errors / count:.2%} right, as its metadata records. A guess "
        "within a quarter of that counts as right.", within=0.25 * errors,
    )


# --- asking ---------------------------------------------------------------------------------------------------------


def ask(question: Question) -> None:
    """The question, a form to answer it, and once answered the answer with why."""
    guesses = st.session_state[GUESSES]
    st.markdown(f"**Before you look:** {question.prompt}")
    if question.key not in guesses:
        with st.form(f"question_{question.key}", border=False, enter_to_submit=True):
            if question.choices:
                guess = st.radio("Your answer", question.choices, index=None, key=f"guess_{question.key}")
            else:
                guess = st.number_input("Your answer", value=None, min_value=-GUESS_BOUND, max_value=GUESS_BOUND,
                                        step=1.0, format="%.12g", width=260, key=f"guess_{question.key}")
            if st.form_submit_button("Check my answer"):
                if guess is None:
                    st.caption("Give an answer first: a guess is fine.")
                else:
                    guesses[question.key] = guess
                    st.rerun()
        return
    guess = guesses[question.key]
    if question.is_right(guess):
        st.success(f"**Yes**: {question.shown(question.answer)}. {question.why}", icon=":material/check_circle:")
    else:
        st.info(f"**You said {question.shown(guess)}; it is {question.shown(question.answer)}.** {question.why}",
                icon=":material/lightbulb:")
    st.button("Ask me again", key=f"again_{question.key}", on_click=guesses.pop, args=(question.key, None))


QuestionMaker = Callable[[Drawing], Question | None]
