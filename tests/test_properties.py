"""Property-based tests: whatever the canvas or a user's typing sends, the answer is valid or a clear error, quickly."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnn.conv1d import SequenceError, convolve, correlate, parse_sequence
from cnn.conv2d import KernelError, conv2d, parse_kernel
from cnn.preprocess import MAX_SIDE, canvas_to_mnist

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(out) -> None:
    assert out is None or (out.shape == (28, 28) and out.dtype == np.float32 and np.isfinite(out).all()
                           and 0 <= out.min() and out.max() <= 1)


shapes = st.tuples(st.integers(1, 60), st.integers(1, 60), st.sampled_from([1, 3, 4]))
canvases = st.one_of(
    hnp.arrays(st.sampled_from([np.float32, np.float64]), shapes,
               elements=st.one_of(st.floats(-1e3, 1e3, width=32), st.sampled_from([np.nan, np.inf, -np.inf]))),
    hnp.arrays(st.sampled_from([np.int32, np.int64]), shapes, elements=st.integers(-1000, 65535)),
    hnp.arrays(np.uint16, shapes),
    hnp.arrays(np.bool_, shapes),
)


@FAST
@given(canvases)
def test_any_canvas_gives_an_image_none_or_a_clear_error(canvas):
    try:
        check(canvas_to_mnist(canvas))
    except ValueError as e:
        assert "expected" in str(e) or "canvas of" in str(e)


@FAST
@given(hnp.arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40), st.just(4))))
def test_any_rgba_canvas_is_valid(canvas):
    check(canvas_to_mnist(canvas))


@FAST
@given(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)).filter(lambda s: 0 in s or s[2] not in (1, 3, 4)))
def test_shapes_the_canvas_cannot_send_are_refused_clearly(shape):
    with pytest.raises(ValueError, match="expected|canvas of"):
        canvas_to_mnist(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("fill", [0, 255])
def test_extreme_canvases_in_bounded_time(fill):
    t0 = time.perf_counter()
    big = np.full((4000, 4000, 4), fill, np.uint8)
    check(canvas_to_mnist(big))  # all ink: a full square; all black: None
    assert (canvas_to_mnist(big) is None) == (fill == 0)
    check(canvas_to_mnist(np.full((1, 1, 4), fill, np.uint8)))
    transparent = np.zeros((280, 280, 4), np.uint8)
    transparent[..., :3] = 255  # white but fully transparent: nothing drawn
    assert canvas_to_mnist(transparent) is None
    assert time.perf_counter() - t0 < 60  # generous: the point is that it ends
    with pytest.raises(ValueError, match="canvas of"):
        canvas_to_mnist(np.zeros((MAX_SIDE + 1, 2, 4), np.uint8))


texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=80).map(lambda v: " ".join(map(str, v))),
    st.lists(st.integers(-10**12, 10**12), max_size=80).map(lambda v: ", ".join(map(str, v))),
)


@FAST
@given(texts, texts, st.sampled_from(["full", "same", "valid"]))
def test_1d_fields_never_raise_anything_but_a_message(x_text, h_text, mode):
    try:
        x, h = parse_sequence(x_text, "input"), parse_sequence(h_text, "kernel", 16)
    except SequenceError as e:
        assert str(e)
        return
    for op in (convolve, correlate):
        s = op(x, h, mode)
        assert np.isfinite(s.output).all()


@FAST
@given(st.one_of(st.text(max_size=300), st.lists(st.lists(st.floats(-1e7, 1e7), min_size=1, max_size=9), max_size=9)
                 .map(lambda rows: "\n".join(" ".join(map(str, r)) for r in rows))),
       st.sampled_from(["valid", "same", "full", 0, 2]), st.integers(1, 5), st.integers(1, 4))
def test_2d_fields_never_raise_anything_but_a_message(text, padding, stride, dilation):
    try:
        kernel = parse_kernel(text)
    except KernelError as e:
        assert str(e)
        return
    out = conv2d(np.random.default_rng(0).random((28, 28)), kernel, padding, stride, dilation).output
    assert np.isfinite(out).all()


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=3000), st.integers(1, 140_000).map(lambda n: "truncate:" + str(n))))
def test_any_bytes_as_weights_are_refused_clearly(tmp_path_factory, content):
    from cnn.model import WeightsError, load
    from cnn.paths import DEFAULT_WEIGHTS

    path = tmp_path_factory.mktemp("w") / "w.pt"
    if isinstance(content, str):  # a real checkpoint cut short at a random point
        content = DEFAULT_WEIGHTS.read_bytes()[: int(content.split(":")[1])]
    path.write_bytes(content)
    with pytest.raises(WeightsError, match="python cnn/train.py"):
        load(path)
