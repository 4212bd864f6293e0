"""Plotly figures for the page. Drawing only: every number shown comes from cnn/."""

from __future__ import annotations

import functools
import json

import numpy as np
import plotly.colors
import plotly.graph_objects as go

# Streamlit's plotly theme treats the colours #000001 to #000040 as placeholders and swaps them, anywhere in a
# figure, for its palette's: Inferno's black, #000004, was drawn pink. No colour the page draws is one of them.
THEME_PLACEHOLDERS = frozenset(f"#0000{i:02d}" for i in range(1, 41))


def colour_scale(name: str) -> list[list]:
    """A named plotly colour scale as [position, colour] pairs, with any placeholder colour written as rgb()."""
    return [[pos, f"rgb({int(c[1:3], 16)},{int(c[3:5], 16)},{int(c[5:7], 16)})" if c.lower() in THEME_PLACEHOLDERS else c]
            for pos, c in plotly.colors.get_colorscale(name)]


ACCENT = "#c0262d"
MUTED = "#7d8ca6"  # grey bars and curves: 3.4:1 on white and 5.3:1 on the dark theme's page (#0e1117)
PLOT_CONFIG = {"displayModeBar": False, "responsive": True}
GREY_SCALE = colour_scale("Greys_r")  # images: 0 black (no ink), 1 white (ink), as the canvas draws them
MAP_SCALE = colour_scale("Viridis")  # activations: 0 (ReLU's floor) to the layer's largest value
WEIGHT_SCALE = colour_scale("RdBu")  # every signed value on the page: red negative, white zero, blue positive
HEAT_SCALE = colour_scale("Inferno")  # a map that is never negative (Grad-CAM): black nothing, yellow most
ERROR_SCALE = colour_scale("Reds")  # counts of misread digits: white none
SIGNED_COLOURS = ("On this page every picture of signed values uses one scale: **blue** positive, **red** negative, "
                  "white zero.")


def signed(x: float, decimals: int = 3) -> str:
    """A number with its sign, rounded first, so a value that rounds to zero reads "+0.000", never "-0.000"."""
    return f"{round(float(x), decimals) + 0.0:+.{decimals}f}"


def percent(p: float, decimals: int = 1) -> str:
    """A probability as a percentage that never rounds to a certainty the network does not have: "> 99.9%", not
    "100.0%", for 0.99996 (or a float32 softmax saturated at 1.0); "< 0.1%", not "0.0%", for 0.00004."""
    step = 10.0 ** -(decimals + 2)  # the smallest difference shown
    if p >= 1 - step / 2:
        return f"> {1 - step:.{decimals}%}"
    if 0 < p < step / 2:
        return f"< {step:.{decimals}%}"
    return f"{p:.{decimals}%}"


def points_delta(change: float) -> dict:
    """st.metric's delta arguments for a change in percentage points: no arrow and no colour where it rounds to
    nothing, so "+0 points" never shows as a rise."""
    points = round(float(change) * 100)
    if points == 0:
        return {"delta": "no change", "delta_color": "off", "delta_arrow": "off"}
    return {"delta": f"{points:+d} points", "delta_color": "normal", "delta_arrow": "auto"}


def _html(text: str) -> str:
    """Text for plotly's labels, which read a subset of HTML: "<" and ">" as entities, so they show as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _square_axes(fig: go.Figure, height: int, margin: int = 4) -> go.Figure:
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_layout(height=height, margin=dict(l=margin, r=margin, t=margin, b=margin))
    return fig


def plotted_image_figure(img: np.ndarray, height: int = 260, title: str | None = None) -> go.Figure:
    """A grey image in [0, 1] with each pixel's value on hover, built and validated by plotly (image_figure sends the
    same figure, faster)."""
    fig = go.Figure(
        go.Heatmap(
            z=np.round(img, 3),
            colorscale=GREY_SCALE,
            zmin=0,
            zmax=1,
            showscale=False,
            hovertemplate="row %{y}, column %{x}<br>value %{z:.2f}<extra></extra>",
        )
    )
    if title:
        fig.update_layout(title=dict(text=title, font=dict(size=13), x=0.5, xanchor="center"))
    _square_axes(fig, height)
    if title:
        fig.update_layout(margin=dict(t=30))
    return fig


def plotted_probability_figure(probs: np.ndarray, height: int = 250, errors: np.ndarray | None = None) -> go.Figure:
    """Ten bars, the most likely digit in the accent colour; optional error bars (one spread each side). Built and
    validated by plotly (probability_figure sends the same figure, faster)."""
    top = int(np.argmax(probs))
    fig = go.Figure(
        go.Bar(
            x=[str(d) for d in range(10)],
            y=probs,
            marker_color=[ACCENT if d == top else MUTED for d in range(10)],
            error_y=None if errors is None else dict(type="data", array=errors, thickness=1.5, width=4),
            text=[_html(percent(p, 0)) if p >= 0.005 else "" for p in probs],
            textposition="outside",
            cliponaxis=False,
            customdata=[_html(percent(p, 2)) for p in probs],
            hovertemplate="digit %{x}: %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(height=height, margin=dict(l=8, r=8, t=16, b=8), showlegend=False, bargap=0.25)
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%", dtick=0.25, title=None)
    fig.update_xaxes(type="category", title=None)
    return fig


# The first screen's two charts change on every stroke. Plotly's validation of a new figure took 13-16 ms each here,
# more than the network's reading: each is validated once per shape (height, title, error bars) and then sent with
# only its data replaced, as plotly's own dicts (tests/test_pictures.py checks them against validated copies).
@functools.lru_cache(maxsize=16)
def _image_spec(height: int, title: str | None) -> dict:
    return plotted_image_figure(np.zeros((2, 2), np.float32), height, title).to_dict()


@functools.lru_cache(maxsize=16)
def _probability_spec(height: int, with_errors: bool) -> dict:
    return plotted_probability_figure(np.full(10, 0.1), height, np.zeros(10) if with_errors else None).to_dict()


def image_figure(img: np.ndarray, height: int = 260, title: str | None = None) -> go.Figure:
    """A grey image in [0, 1] with each pixel's value on hover."""
    spec = _image_spec(height, title)
    return PrebuiltFigure({**spec, "data": [{**spec["data"][0], "z": _sent(np.round(img, 3))}]})


def probability_figure(probs: np.ndarray, height: int = 250, errors: np.ndarray | None = None) -> go.Figure:
    """Ten bars, the most likely digit in the accent colour; optional error bars (one spread each side)."""
    spec = _probability_spec(height, errors is not None)
    top = int(np.argmax(probs))
    bar = {
        **spec["data"][0],
        "y": _sent(probs),
        "marker": {**spec["data"][0]["marker"], "color": [ACCENT if d == top else MUTED for d in range(10)]},
        "text": [_html(percent(p, 0)) if p >= 0.005 else "" for p in probs],
        "customdata": [_html(percent(p, 2)) for p in probs],
    }
    if errors is not None:
        bar["error_y"] = {**bar["error_y"], "array": _sent(errors)}
    return PrebuiltFigure({**spec, "data": [bar]})


def _sent(a: np.ndarray) -> dict:
    """A numpy array as a figure's to_dict gives it to the browser: its bytes in base64, with its dtype and shape."""
    from _plotly_utils.utils import convert_to_base64

    holder = {"a": np.array(a)}  # a copy, as plotly's validation makes
    convert_to_base64(holder)
    return holder["a"]


def plotted_mosaic_figure(
    mosaic: np.ndarray, channel: np.ndarray, zmax: float, height: int, highlight: tuple[int, int, int, int] | None
) -> go.Figure:
    """One heatmap of a whole layer's maps (NaN gaps between them), on the layer's one colour scale. Built and
    validated by plotly (mosaic_figure sends the same figure, faster)."""
    fig = go.Figure(
        go.Heatmap(
            z=mosaic,
            customdata=channel.astype(np.int8) if channel.max(initial=0) < 128 else channel,  # a byte a cell
            colorscale=MAP_SCALE,
            zmin=0,
            zmax=max(float(zmax), 1e-6),
            colorbar=dict(thickness=10, len=0.9, tickfont=dict(size=10)),
            hovertemplate="channel %{customdata}<br>value %{z:.3f}<extra></extra>",
            hoverongaps=False,
        )
    )
    if highlight is not None:
        top, bottom, left, right = highlight
        fig.add_shape(
            type="rect", x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5, line=dict(color=ACCENT, width=2)
        )
    return _square_axes(fig, height)


@functools.lru_cache(maxsize=16)
def _mosaic_spec(height: int, highlighted: bool) -> dict:
    return plotted_mosaic_figure(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.int8), 1.0, height,
                                 (0, 1, 0, 1) if highlighted else None).to_dict()


def mosaic_figure(
    mosaic: np.ndarray, channel: np.ndarray, zmax: float, height: int, highlight: tuple[int, int, int, int] | None
) -> go.Figure:
    """One heatmap of a whole layer's maps (NaN gaps between them), on the layer's one colour scale: the feature
    maps part sends five on every stroke, validated once per shape and then sent with their data replaced."""
    spec = _mosaic_spec(height, highlight is not None)
    trace = {
        **spec["data"][0],
        "z": _sent(mosaic),
        "customdata": _sent(channel.astype(np.int8) if channel.max(initial=0) < 128 else channel),  # a byte a cell
        "zmax": max(float(zmax), 1e-6),
    }
    layout = spec["layout"]
    if highlight is not None:
        top, bottom, left, right = highlight
        box = {"x0": left - 0.5, "x1": right - 0.5, "y0": top - 0.5, "y1": bottom - 0.5}
        layout = {**layout, "shapes": [{**layout["shapes"][0], **box}]}
    return PrebuiltFigure({**spec, "data": [trace], "layout": layout})


def kernel_figure(weights: np.ndarray, height: int, annotate: bool, cols: int = 1, gap: int = 1) -> go.Figure:
    """3x3 kernels on a zero-centred red/blue scale; several are tiled `cols` wide."""
    k = weights.reshape(-1, *weights.shape[-2:])  # (n, 3, 3)
    n, h, w = k.shape
    rows = -(-n // cols)
    # float32, as the weights are: half the bytes of float64 on every stroke, and the same figures shown
    z = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, np.float32)
    for i in range(n):
        r, q = divmod(i, cols)
        z[r * (h + gap) : r * (h + gap) + h, q * (w + gap) : q * (w + gap) + w] = k[i]
    bound = float(np.nanmax(np.abs(z))) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            colorscale=WEIGHT_SCALE,
            zmin=-bound,
            zmax=bound,
            zmid=0,
            text=np.where(np.isnan(z), "", np.vectorize(lambda v: f"{v:+.2f}")(np.nan_to_num(z))) if annotate else None,
            texttemplate="%{text}" if annotate else None,
            textfont=dict(size=13),
            colorbar=dict(thickness=10, len=0.9, tickfont=dict(size=10)),
            hovertemplate="weight %{z:+.3f}<extra></extra>",
            hoverongaps=False,
        )
    )
    return _square_axes(fig, height)


def parameter_figure(sides: np.ndarray, dense: np.ndarray, conv: int, hidden: int, filters: int) -> go.Figure:
    """Parameter counts against image size: a dense layer grows with the pixels, a conv layer does not."""
    fig = go.Figure()
    fig.add_scatter(x=sides, y=dense, name=f"dense layer, {hidden} units", line=dict(color=ACCENT, width=3))
    fig.add_scatter(
        x=sides, y=np.full(len(sides), conv), name=f"conv layer, {filters} filters 3×3", line=dict(color="#1f77b4", width=3)
    )
    fig.update_layout(
        height=300,
        margin=dict(l=8, r=8, t=8, b=8),
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
        hovermode="x unified",
    )
    fig.update_xaxes(title="image side (pixels)")
    fig.update_yaxes(title="parameters", type="log")
    return fig


def overlay_figure(base: np.ndarray, heat: np.ndarray, diverging: bool, height: int = 320, label: str = "") -> go.Figure:
    """A heat map laid over the grey 28x28 input: the page's signed scale around zero (blue positive), or a warm
    scale from zero. Ticks in plain decimals: no SI prefixes such as µ."""
    bound = float(np.abs(heat).max()) or 1.0
    fig = go.Figure()
    fig.add_heatmap(z=base, colorscale=GREY_SCALE, zmin=0, zmax=1, showscale=False, hoverinfo="skip")
    fig.add_heatmap(
        z=heat,
        colorscale=WEIGHT_SCALE if diverging else HEAT_SCALE,
        zmin=-bound if diverging else 0,
        zmax=bound,
        zmid=0 if diverging else None,
        opacity=0.62,
        colorbar=dict(thickness=10, len=0.9, tickfont=dict(size=10), title=dict(text=label, side="right"),
                      exponentformat="none"),
        hovertemplate="row %{y}, column %{x}<br>" + (label or "value") + " %{z:.3g}<extra></extra>",
    )
    return _square_axes(fig, height)


def grid_figure(
    z: np.ndarray,
    height: int,
    colorscale: list = GREY_SCALE,
    zmin: float | None = None,
    zmax: float | None = None,
    boxes: list[tuple[float, float, float, float, str]] = (),
    dots: tuple[np.ndarray, np.ndarray] | None = None,
    annotate: bool = False,
    zmid: float | None = None,
) -> go.Figure:
    """A small grid of numbers as a heatmap, with optional outlined boxes (top, bottom, left, right, colour) and dots."""
    fig = go.Figure(
        go.Heatmap(
            z=z,
            colorscale=colorscale,
            zmin=zmin,
            zmax=zmax,
            zmid=zmid,
            showscale=False,
            text=np.vectorize(lambda v: f"{v:.3g}")(z) if annotate else None,
            texttemplate="%{text}" if annotate else None,
            textfont=dict(size=11),
            hovertemplate="row %{y}, column %{x}<br>%{z:.3f}<extra></extra>",
        )
    )
    for top, bottom, left, right, colour in boxes:
        fig.add_shape(type="rect", x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5,
                      line=dict(color=colour, width=2.5))
    if dots is not None:
        rows, cols = dots
        fig.add_scatter(x=cols, y=rows, mode="markers", marker=dict(color=ACCENT, size=6, symbol="circle"),
                        hoverinfo="skip", showlegend=False)
    return _square_axes(fig, height)


def history_figure(history: list[dict], metric: str) -> go.Figure:
    """Training and validation loss or accuracy per epoch."""
    epochs = [h["epoch"] for h in history]
    fig = go.Figure()
    fig.add_scatter(x=epochs, y=[h[f"train_{metric}"] for h in history], name="training", mode="lines+markers",
                    line=dict(color=MUTED, width=2))
    fig.add_scatter(x=epochs, y=[h[f"val_{metric}"] for h in history], name="validation", mode="lines+markers",
                    line=dict(color=ACCENT, width=2))
    fig.update_layout(height=280, margin=dict(l=8, r=8, t=30, b=8), hovermode="x unified",
                      title=dict(text=metric, font=dict(size=13)),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"))
    fig.update_xaxes(title="epoch", dtick=max(1, len(epochs) // 10))
    if metric == "accuracy":
        fig.update_yaxes(tickformat=".1%")
    return fig


def confusion_figure(cm: np.ndarray) -> go.Figure:
    """The test confusion matrix: rows true digit, columns predicted; the diagonal dimmed so errors stand out."""
    cm = np.asarray(cm)
    off = cm.astype(float).copy()
    np.fill_diagonal(off, np.nan)
    top = int(max(1, np.nanmax(off))) if off.size > 1 else 1
    fig = go.Figure(
        go.Heatmap(
            z=off,
            x=[str(d) for d in range(10)],
            y=[str(d) for d in range(10)],
            colorscale=ERROR_SCALE,
            zmin=0,
            zmax=top,  # with no errors at all every cell is 0: white, not the middle of a scale around 0
            text=cm,
            texttemplate="%{text}",
            textfont=dict(size=11),
            colorbar=dict(thickness=10, title=dict(text="errors", side="right"), tick0=0, dtick=max(1, -(-top // 5))),
            hovertemplate="true %{y}, read as %{x}: %{text}<extra></extra>",
            hoverongaps=False,
        )
    )
    fig.update_layout(height=380, margin=dict(l=8, r=8, t=8, b=8))
    fig.update_xaxes(title="predicted digit", type="category", side="top")
    fig.update_yaxes(title="true digit", type="category", autorange="reversed")
    return fig


NETWORK_COLOURS = {"convnet": ACCENT, "dense44": "#1f77b4", "dense30": MUTED}
NETWORK_NAMES = {
    "convnet": "convnet",
    "dense44": "dense 784→44→10",
    "dense30": "dense 784→30→10",
    "dense44, no dropout": "dense 784→44→10, no dropout",
    "dense30, no dropout": "dense 784→30→10, no dropout",
}
COMPARED = ("convnet", "dense44", "dense30")  # the networks trained with one recipe, which the page compares


def sweep_figure(values: list[float], probs: dict[str, list[float]], current: float, label: str, digit: int) -> go.Figure:
    """Each network's probability of the drawn digit as one control moves over its range; a line at its value now."""
    fig = go.Figure()
    for arch, p in probs.items():
        fig.add_scatter(x=values, y=p, name=NETWORK_NAMES.get(arch, arch), mode="lines+markers",
                        line=dict(color=NETWORK_COLOURS.get(arch), width=2.5), marker=dict(size=5),
                        customdata=[_html(percent(v)) for v in p],
                        hovertemplate=f"{label} %{{x}}: p({digit}) %{{customdata}}<extra>%{{fullData.name}}</extra>")
    fig.add_vline(x=current, line=dict(color="#888", width=1, dash="dot"))
    fig.update_layout(height=260, margin=dict(l=8, r=8, t=28, b=8), hovermode="x unified",
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%", title=f"p({digit})")
    fig.update_xaxes(title=label)
    return fig


def robustness_figure(sweeps: dict) -> go.Figure:
    """Accuracy on MNIST's test digits against shift (right and down) and against rotation, for each network."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("shifted (pixels)", "turned (degrees)"), horizontal_spacing=0.08)
    for col, names in ((1, ("shift_x", "shift_y")), (2, ("rotation",))):
        for name in names:
            s = sweeps[name]
            for arch, acc in s["accuracy"].items():
                dotted = name == "shift_y"
                fig.add_scatter(
                    x=s["values"], y=acc, mode="lines", row=1, col=col,
                    name=NETWORK_NAMES.get(arch, arch) + (" (down)" if dotted else " (right)" if name == "shift_x" else ""),
                    legendgroup=arch, showlegend=False,
                    line=dict(color=NETWORK_COLOURS.get(arch), width=2.5, dash="dot" if dotted else "solid"),
                    hovertemplate=f"{s['what']} %{{x}}: %{{y:.1%}}<extra>%{{fullData.name}}</extra>",
                )
    # the legend: one entry per network for its colour, and one per line style for the direction of the shift
    for arch in sweeps["shift_x"]["accuracy"]:
        fig.add_scatter(x=[None], y=[None], mode="lines", name=NETWORK_NAMES.get(arch, arch), legendgroup=arch,
                        line=dict(color=NETWORK_COLOURS.get(arch), width=2.5), hoverinfo="skip")
    for name, dash in (("shifted right, or turned", "solid"), ("shifted down", "dot")):
        fig.add_scatter(x=[None], y=[None], mode="lines", name=name, line=dict(color=MUTED, width=2.5, dash=dash),
                        hoverinfo="skip")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    fig.update_layout(height=320, margin=dict(l=8, r=8, t=30, b=8), hovermode="x unified",
                      legend=dict(orientation="h", y=-0.18, yanchor="top", x=0))
    return fig


def curves_figure(histories: dict[str, list[dict]], metric: str) -> go.Figure:
    """Training (dashed) and validation (solid) curves of several networks, one colour each."""
    fig = go.Figure()
    for arch, history in histories.items():
        epochs = [h["epoch"] for h in history]
        for kind, dash in (("train", "dash"), ("val", "solid")):
            fig.add_scatter(x=epochs, y=[h.get(f"{kind}_{metric}") for h in history], mode="lines",
                            name=f"{NETWORK_NAMES.get(arch, arch)}, {'training' if kind == 'train' else 'validation'}",
                            line=dict(color=NETWORK_COLOURS.get(arch), width=2, dash=dash))
    fig.update_layout(height=300, margin=dict(l=8, r=8, t=30, b=8), hovermode="x unified",
                      title=dict(text=metric, font=dict(size=13)), legend=dict(font=dict(size=10)))
    fig.update_xaxes(title="epoch")
    if metric == "accuracy":
        fig.update_yaxes(tickformat=".1%")
    return fig


def bars_html(probs: np.ndarray, height: int = 64) -> str:
    """Ten small probability bars as plain HTML and CSS, the most likely digit in the accent colour: a compact figure
    that costs the browser far less to draw than a chart."""
    top = int(np.argmax(probs))
    cells = []
    for d, p in enumerate(probs):
        colour = ACCENT if d == top else MUTED
        cells.append(
            f'<div style="flex:1;display:flex;flex-direction:column;align-items:center;justify-content:flex-end">'
            f'<div style="width:70%;height:{max(float(p), 0.0) * height:.1f}px;background:{colour};border-radius:2px 2px 0 0"></div>'
            f'<div style="font-size:.75rem;opacity:.8">{d}</div></div>'
        )
    label = ", ".join(f"{d}: {_html(percent(p))}" for d, p in enumerate(probs))
    return (f'<div role="img" aria-label="probabilities, {label}" title="{label}" '
            f'style="display:flex;gap:2px;height:{height + 18}px;align-items:flex-end">{"".join(cells)}</div>')


def training_figure(views: list[dict], curve: tuple[list, list], digit: int, channels: tuple[list, list],
                    labels: list[str] | None = None) -> go.Figure:
    """conv1's kernels, the drawing's conv1 and conv2 maps, its ten probabilities and the point reached on the
    validation curve, at one point of a training run; or, given several `views` and their slider `labels`, one figure
    that plays them in the browser (plotly frames: no server round trip while it plays).

    Each view: {"kernels": (32, 3, 3), "conv1": (C1, 26, 26), "conv2": (C2, 11, 11), "probs": (10,), "point": (step,
    accuracy)}. Maps are scaled to that layer's largest value at that point and rounded to two decimals, which keeps
    a figure of 30 views a few hundred kB while drawing the same picture.
    """
    from plotly.subplots import make_subplots

    from cnn.replay import mosaic

    fig = make_subplots(
        rows=2, cols=3, column_widths=[0.26, 0.37, 0.37], row_heights=[0.62, 0.38], horizontal_spacing=0.05,
        vertical_spacing=0.14, specs=[[{}, {}, {}], [{"colspan": 2}, None, {}]],
        subplot_titles=("conv1's 32 kernels", f"conv1 maps, channels {', '.join(map(str, channels[0]))}",
                        f"conv2 maps, channels {', '.join(map(str, channels[1]))}", f"probabilities (drawn: {digit})",
                        "validation accuracy"),
    )

    def traces(v: dict) -> list[dict]:
        """The view's five traces, as plotly's own dicts (each what plotly's validation makes of it: a test checks)."""
        k = mosaic(v["kernels"], 8)
        bound = float(np.nanmax(np.abs(k))) or 1.0
        # hundredths as whole numbers of one byte, a quarter of float32's bytes for the same picture: the values
        # were rounded to two decimals anyway, and the space between the tiles (NaN) is GAP, drawn transparent
        hundredths = lambda x: np.nan_to_num(np.round(x * 100), nan=GAP).astype(np.int8)  # noqa: E731
        maps = [hundredths(mosaic(v[layer] / (float(v[layer].max()) or 1.0), cols))
                for layer, cols in (("conv1", 2), ("conv2", 4))]
        top = int(np.argmax(v["probs"]))
        step, accuracy = v["point"]
        heatmap = dict(type="heatmap", showscale=False, hoverinfo="skip", zmin=GAP)
        return [
            dict(heatmap, z=hundredths(k / bound), colorscale=gapped(WEIGHT_SCALE, -100, 100), zmax=100),
            dict(heatmap, z=maps[0], colorscale=gapped(MAP_SCALE, 0, 100), zmax=100),
            dict(heatmap, z=maps[1], colorscale=gapped(MAP_SCALE, 0, 100), zmax=100),
            dict(type="bar", x=[str(d) for d in range(10)], y=np.round(v["probs"], 4),
                 marker=dict(color=[ACCENT if d == top else MUTED for d in range(10)]),
                 customdata=[_html(percent(p)) for p in v["probs"]],
                 hovertemplate="digit %{x}: %{customdata}<extra></extra>"),
            dict(type="scatter", x=[step + 1], y=[accuracy], mode="markers", marker=dict(color=ACCENT, size=11),
                 hovertemplate=f"step {step:,}: %{{y:.2%}}<extra></extra>"),
        ]

    for trace, (row, col) in zip(traces(views[0]), [(1, 1), (1, 2), (1, 3), (2, 1), (2, 3)]):
        fig.add_trace(trace, row=row, col=col)
    fig.add_scatter(x=[s + 1 for s in curve[0]], y=curve[1], mode="lines", line=dict(color=MUTED, width=2),
                    hovertemplate="step %{x}: %{y:.2%}<extra></extra>", row=2, col=3)
    for axis in ("", "2", "3"):
        fig.update_layout({f"xaxis{axis}": dict(visible=False, constrain="domain"),
                           f"yaxis{axis}": dict(visible=False, autorange="reversed", scaleanchor=f"x{axis}",
                                                constrain="domain")})
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%", row=2, col=1)
    fig.update_xaxes(type="category", row=2, col=1)
    fig.update_xaxes(type="log", title="optimiser steps + 1", row=2, col=3)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], row=2, col=3)
    fig.update_layout(height=520, margin=dict(l=8, r=8, t=40, b=8), showlegend=False)
    if len(views) > 1:
        still = dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))
        fig.update_layout(
            height=595,
            # the value read out at the slider's right end: the Play and Pause buttons sit at its left, above the rail
            sliders=[dict(active=0, currentvalue=dict(prefix="epochs: ", xanchor="right"), pad=dict(t=55), bgcolor=MUTED,
                          steps=[dict(label=label, method="animate", args=[[str(i)], still])
                                 for i, label in enumerate(labels or map(str, range(len(views))))])],
            updatemenus=[dict(
                # no pressed look: plotly paints it near-white, under the dark theme's light words
                type="buttons", direction="left", x=0, y=-0.02, xanchor="left", yanchor="top", pad=dict(t=45),
                showactive=False,
                buttons=[
                    dict(label="▶ Play", method="animate",
                         args=[None, dict(frame=dict(duration=350, redraw=True), fromcurrent=True,
                                          transition=dict(duration=0))]),
                    dict(label="❚❚ Pause", method="animate",
                         args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                            transition=dict(duration=0))]),
                ],
            )],
        )
        # the frames as plotly's own dicts, not validated again: 30 views' validation took about 200 ms a stroke
        from _plotly_utils.utils import convert_to_base64  # what a figure's to_dict does to its numpy arrays

        frames = [dict(name=str(i), data=traces(v), traces=[0, 1, 2, 3, 4]) for i, v in enumerate(views)]
        convert_to_base64(frames)
        return PrebuiltFigure({**fig.to_dict(), "frames": frames})
    return fig


GAP = -128  # in a heatmap of whole numbers, the cells between tiles: drawn transparent by gapped()


def gapped(scale: list[list], low: float, high: float) -> list[list]:
    """`scale`, meant for values `low` to `high`, for a heatmap whose zmin is GAP: the same colour at every value
    from `low` to `high`, and cells holding GAP (the space between tiles, which a float heatmap leaves as NaN) not
    drawn."""
    start = (low - GAP) / (high - GAP)
    return [[0.0, "rgba(0,0,0,0)"], *[[start + (1 - start) * pos, colour] for pos, colour in scale]]


class PrebuiltFigure(go.Figure):
    """A figure given as plotly's own dict, sent as it is (st.plotly_chart and plotly.io.to_json take a figure's
    to_dict()). Only for dicts whose parts plotly's validation leaves as they are: tests/test_pictures.py checks each
    kind against a validated copy."""

    def __init__(self, spec: dict):
        super().__init__()
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


UNCHANGING_KEPT = 64  # figures kept by unchanging(): a page shows about a dozen that a stroke does not change
_unchanging: dict[str, dict] = {}


def unchanging(build, *args) -> go.Figure:
    """`build(*args)`, for figures that depend only on JSON-able arguments (a network's training record, its measured
    robustness, the parameter counter's inputs), not on the drawing: built and validated once for each value, then
    sent again as the same dicts on every stroke. At most UNCHANGING_KEPT are kept."""
    key = json.dumps([build.__qualname__, args], default=_as_json)  # in order: a figure may follow its dicts' order
    spec = _unchanging.get(key)
    if spec is None:
        if len(_unchanging) >= UNCHANGING_KEPT:
            _unchanging.clear()
        spec = _unchanging[key] = build(*args).to_dict()
    return PrebuiltFigure(spec)


def _as_json(value):
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def replay_figure(r, digit: int) -> go.Figure:
    """The snapshots of a training run (cnn.replay.Replay), played in the browser."""
    views = [{"kernels": r.kernels[i], "conv1": r.conv1[i], "conv2": r.conv2[i], "probs": r.probs[i],
              "point": (r.steps[i], r.val_accuracy[i])} for i in range(len(r.steps))]
    return training_figure(views, (r.steps, r.val_accuracy), digit, (r.channels1, r.channels2),
                           [f"{e:.3g}" for e in r.epochs])
