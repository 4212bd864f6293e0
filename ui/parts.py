"""The page's parts, written once: each one's title, whether it is about the visitor's drawing, what it renders,
whether it needs the network and a drawing read as a digit, and a text it shows once it has run (for the tests to
wait on). The chapters (ui/chapters.py), the page's tests and tools/pagedriver.py all read this list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnn import paths
from cnn.model import ConvNet
from ui.analysis import steps_ui, sure_ui, why_ui
from ui.nearest import nearest_ui
from ui.dense import dense_ui
from ui.drawings import your_drawings_ui
from ui.explorer1d import explorer_ui
from ui.explorer2d import explorer2d_ui
from ui.feature_maps import feature_maps_ui
from ui.model_panel import model_ui
from ui.move import move_ui
from ui.replay import how_it_learned_ui
from ui.resources import metadata, networks, robustness_figures
from ui.training import training_ui

@dataclass(frozen=True)
class Drawing:
    """What a stroke gives the parts about the drawing."""

    model: ConvNet | None
    rgba: np.ndarray | None  # (H, W, 4) the canvas
    image: np.ndarray | None  # (28, 28) what the network sees; None when there is nothing to explain
    probs: np.ndarray | None  # (10,) the page's reading
    maps: dict | None  # the drawing's feature maps, by layer
    not_read: str | None  # why the drawing is not read as a digit (too small), if it is not
    unlike: bool | None = None  # looks like none of the digits the network knows (cnn.atlas); None: not checked


@dataclass(frozen=True)
class Part:
    title: str
    about_drawing: bool  # shows the visitor's drawing
    render: Callable  # parts about the drawing: render(drawing); the others: render()
    needs_drawing: bool  # needs the network and a drawing read as a digit
    shows: str  # a text on the page once it has run


PARTS = (
    Part("Feature maps", True, lambda d: feature_maps_ui(d.model, d.maps), True, "conv1"),
    Part("Step by step", True, lambda d: steps_ui(d.model, d.rgba, metadata()), True, "Read with these steps"),
    Part("How sure is it?", True, lambda d: sure_ui(d.model, d.image, metadata(), d.unlike), True, "Monte Carlo dropout"),
    Part("Why this digit?", True, lambda d: why_ui(d.model, d.image, d.probs), True, "Evidence for the digit"),
    Part("Among the digits it knows", True, lambda d: nearest_ui(d.maps, d.image, d.probs), True,
         "Nearest in the network's features"),
    Part("2D convolution", True, lambda d: explorer2d_ui(d.model, d.image, d.maps), False, "Output size"),
    Part("Move it", True, lambda d: move_ui(networks(), d.image, int(d.probs.argmax()), robustness_figures()), True,
         "Sweep one control"),
    Part("How it learned", True, lambda d: how_it_learned_ui(d.image, int(d.probs.argmax())), True,
         "Train one live"),
    Part("1D convolution padding", False, explorer_ui, False, "padded input"),
    Part("The model and its parameters", False, model_ui, False, "Dense layer parameters"),
    Part("Dense against convolution", False,
         lambda: dense_ui(networks(paths.shipped_networks()), {n: metadata(n) for n in paths.shipped_networks()}),
         False, "What the convnet's conv1 learned"),
    Part("How it was trained", False, lambda: training_ui(paths.DEFAULT_WEIGHTS), False, "Test accuracy"),
    Part("Your drawings and the class's", False, your_drawings_ui, False, "A personal copy that learns your style"),
)
PART_TITLES = [p.title for p in PARTS]
DRAWING_PARTS = [p.title for p in PARTS if p.about_drawing]
LESSON_PARTS = [p.title for p in PARTS if not p.about_drawing]


def part(title: str) -> Part:
    return next(p for p in PARTS if p.title == title)
