"""The page's number mode, in AppTest: the wide canvas's drawing and strokes read as a number, each digit found shown,
and the digit picked explained by the first screen and the parts."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn.number import NUMBER_HEIGHT, NUMBER_WIDTH
from cnn.strokes import DIGIT_STROKES, render
from tests.helpers.page import APP, metric, run_app
from ui.share import SharedDrawing, fabric_strokes, to_fabric

PEN = 10
DIGITS = (3, 0, 5)


def written(digits=DIGITS, step: float = 110, size: float = 120) -> tuple[np.ndarray, dict, list]:
    """The number canvas's image, its Fabric.js JSON (as the canvas's pencil makes it) and the strokes' points."""
    strokes = []
    for i, d in enumerate(digits):
        for s in DIGIT_STROKES[d]:
            pts = np.asarray(s, np.float64) * size * np.array([0.8, 1.0]) + (30 + i * step, 40)
            strokes.append(np.round(pts).astype(int))
    json = to_fabric(SharedDrawing([[tuple(map(int, p)) for p in s] for s in strokes], [PEN] * len(strokes), PEN))
    return render(strokes, NUMBER_HEIGHT, NUMBER_WIDTH, PEN), json, strokes


def run_number(rgba: np.ndarray | str | None, json: dict | None = None, at: AppTest | None = None) -> AppTest:
    """The page in number mode, its wide canvas sending `rgba` (or that data URL itself, a crafted value) and
    `json` (None: before any stroke)."""
    at = at or AppTest.from_file(APP, default_timeout=60)
    return run_app(rgba, at=at, canvas_key="number_canvas", raw=json, mode="A number")


def test_the_canvas_strokes_come_back_where_the_canvas_draws_them():
    _, json, strokes = written()
    read = fabric_strokes(json, PEN)
    assert len(read) == len(strokes)
    for (points, width), drawn in zip(read, strokes):
        assert width == PEN
        # the brush's path runs through the samples' midpoints, with each sample its control point
        assert np.abs(points.min(0) - drawn.min(0)).max() <= 1.5 and np.abs(points.max(0) - drawn.max(0)).max() <= 1.5


def test_before_writing_the_page_says_what_to_do():
    at = run_number(None)
    assert not at.exception
    assert any("Write a number of up to 8 digits" in i.value for i in at.info)


def test_a_number_is_read_and_its_least_sure_digit_explained_first():
    rgba, json, _ = written()
    at = run_number(rgba, json)
    assert not at.exception, at.exception
    assert metric(at, "Number") == "305"
    pick = next(r for r in at.radio if r.label.startswith("Explain which digit"))
    assert pick.options == ["1st: 3", "2nd: 0", "3rd: 5"]
    from cnn import atlas as atlas_module
    from cnn.number import read_number
    from ui.share import fabric_strokes as strokes_of

    number = read_number(rgba, *atlas_module.shipped(), strokes=strokes_of(json, PEN))
    assert pick.index == number.least_sure()
    heads = [m.value for m in at.markdown if m.value.startswith("## ")]
    assert f"## 3 · What it reads: digit {pick.index + 1} of 3" in heads
    assert metric(at, "Prediction") == str(DIGITS[pick.index])
    figure = next(h.proto.body for h in at.get("html") if "Where it found the digits" in h.proto.body)
    assert "3 (" in figure and "0 (" in figure and "5 (" in figure  # the alt text names each digit read


def heatmaps(at: AppTest) -> list[np.ndarray]:
    """The z of every heatmap the page's plotly charts hold."""
    import base64
    import json as json_module

    out = []
    for c in at.get("plotly_chart"):
        for t in json_module.loads(c.proto.spec)["data"]:
            if t.get("type") == "heatmap":
                z = t["z"]
                if isinstance(z, dict):
                    shape = tuple(int(v) for v in str(z["shape"]).split(","))
                    z = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
                out.append(np.asarray(z, np.float64))
    return out


def test_picking_the_middle_digit_explains_it_in_every_part():
    from cnn import atlas as atlas_module
    from cnn.features import read_with_maps
    from cnn.number import read_number
    from ui.chapters import CHAPTER, chapter_of
    from ui.feature_maps import MAP_COLUMNS, tile

    rgba, json, _ = written()
    model, atlas = atlas_module.shipped()
    number = read_number(rgba, model, atlas, strokes=fabric_strokes(json, PEN))
    at = run_number(rgba, json)
    pick = next(r for r in at.radio if r.label.startswith("Explain which digit"))
    pick.set_value(1)
    at.query_params[CHAPTER] = chapter_of("Feature maps").slug
    at = run_number(rgba, json, at=at)
    assert not at.exception, at.exception
    assert metric(at, "Prediction") == "0"
    heads = [m.value for m in at.markdown if m.value.startswith("## ")]
    assert "## 2 · What the network sees: digit 2" in heads
    shown = heatmaps(at)
    # what the network sees is the middle digit, prepared as a drawing of one digit is
    seen = [z for z in shown if z.shape == (28, 28)]
    assert len(seen) == 1 and np.allclose(seen[0], number.digits[1].image, atol=1e-3)
    # and the chapter's conv1 maps are the middle digit's, not the first's
    for i, expect in ((1, True), (0, False)):
        mosaic, _ = tile(read_with_maps(model, number.digits[i].image)[1]["conv1"], MAP_COLUMNS)
        found = any(z.shape == mosaic.shape and np.allclose(z, mosaic, atol=1e-4, equal_nan=True) for z in shown)
        assert found is expect


@pytest.mark.parametrize("problem", ["data:image/png;base64,AAAA", "not an image"])
def test_a_canvas_value_that_is_no_image_is_refused_plainly(problem):
    at = run_number(problem, {"objects": []})
    assert not at.exception
    assert any("could not be read" in e.value for e in at.error)


def test_strokes_beyond_the_points_a_page_follows_are_refused_before_they_are_parsed():
    from ui.share import MAX_POINTS, ShareError

    path = [["M", 1.0, 1.0]] + [["L", float(i % 500), 5.0] for i in range(2 * MAX_POINTS)]
    with pytest.raises(ShareError, match="more points"):
        fabric_strokes({"objects": [{"type": "path", "path": path}]}, PEN)
    # a crafted drawing is then read from its pixels alone, with no error on the page
    rgba, json, _ = written()
    at = run_number(rgba, {"objects": [{"type": "path", "path": path}] + json["objects"]})
    assert not at.exception and metric(at, "Number") == "305"
