"""Plotly figures for the page. Drawing only: every number shown comes from cnn/."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

ACCENT = "#ff4b4b"
MUTED = "#8c9bb5"
PLOT_CONFIG = {"displayModeBar": False, "responsive": True}
MAP_SCALE = "Viridis"  # activations: 0 (ReLU's floor) to the layer's largest value
WEIGHT_SCALE = "RdBu"  # kernel weights: red negative, blue positive, white zero


def _square_axes(fig: go.Figure, height: int, margin: int = 4) -> go.Figure:
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_layout(height=height, margin=dict(l=margin, r=margin, t=margin, b=margin))
    return fig


def image_figure(img: np.ndarray, height: int = 260, title: str | None = None) -> go.Figure:
    """A grey image in [0, 1] with each pixel's value on hover."""
    fig = go.Figure(
        go.Heatmap(
            z=np.round(img, 3),
            colorscale="Greys_r",
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


def probability_figure(probs: np.ndarray, height: int = 250, errors: np.ndarray | None = None) -> go.Figure:
    """Ten bars, the most likely digit in the accent colour; optional error bars (one spread each side)."""
    top = int(np.argmax(probs))
    fig = go.Figure(
        go.Bar(
            x=[str(d) for d in range(10)],
            y=probs,
            marker_color=[ACCENT if d == top else MUTED for d in range(10)],
            error_y=None if errors is None else dict(type="data", array=errors, thickness=1.5, width=4),
            text=[f"{p:.0%}" if p >= 0.005 else "" for p in probs],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    fig.update_layout(height=height, margin=dict(l=8, r=8, t=16, b=8), showlegend=False, bargap=0.25)
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%", dtick=0.25, title=None)
    fig.update_xaxes(type="category", title=None)
    return fig


def mosaic_figure(
    mosaic: np.ndarray, channel: np.ndarray, zmax: float, height: int, highlight: tuple[int, int, int, int] | None
) -> go.Figure:
    """One heatmap of a whole layer's maps (NaN gaps between them), on the layer's one colour scale."""
    fig = go.Figure(
        go.Heatmap(
            z=mosaic,
            customdata=channel,
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


def kernel_figure(weights: np.ndarray, height: int, annotate: bool, cols: int = 1, gap: int = 1) -> go.Figure:
    """3x3 kernels on a zero-centred red/blue scale; several are tiled `cols` wide."""
    k = weights.reshape(-1, *weights.shape[-2:])  # (n, 3, 3)
    n, h, w = k.shape
    rows = -(-n // cols)
    z = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
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
