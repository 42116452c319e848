"""Shared look of every figure, and the one way data text enters a figure (escaped).

Plotly renders a small subset of HTML inside text and hover labels (``<b>``, ``<br>``, ``<a>``);
headlines and other data text go through :func:`plain` first, so they show literally.
"""
from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

# Every figure is styled here and by Streamlit's chart theme, so plotly's own default template is
# not needed; the empty "none" template also spares a deep copy of it per figure (~25 ms each).
pio.templates.default = "none"

COMPANY_COLORS: dict[str, str] = {
    "META": "#1f77b4",
    "MSFT": "#2ca02c",
    "GOOGL": "#d62728",
    "AMZN": "#ff7f0e",
    "ORCL": "#9467bd",
    "INTC": "#17becf",
    "9984.T": "#8c564b",
}
POSITIVE = "#2e7d32"
NEGATIVE = "#c62828"
NEUTRAL = "#9e9e9e"
BENCHMARK = "#616161"
ACCENT = "#1565c0"
GAP = "#d55e00"  # the funding gap (Okabe-Ito vermillion)
SURPLUS = "#009e73"  # a surplus: internal funding above capex (Okabe-Ito bluish green)
MEMO = "#8e24aa"
FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=12)


def plain(text: object, limit: int = 160) -> str:
    """Data text safe for a plotly label: HTML-escaped, one line, at most ``limit`` characters."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return html.escape(value, quote=True)


def company_color(ticker: str) -> str:
    return COMPANY_COLORS.get(ticker, ACCENT)


def styled(figure: go.Figure, *, title: str | None = None, height: int = 380) -> go.Figure:
    """Apply the shared layout: white background, compact margins, legend on top."""
    figure.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=15)) if title else None,
        height=height,
        margin=dict(l=10, r=10, t=45 if title else 20, b=10),
        font=FONT,
        plot_bgcolor="white",
        paper_bgcolor="white",
        hoverlabel=dict(namelength=-1),
        legend=dict(orientation="h", yanchor="top", y=-0.1, xanchor="left", x=0),
    )
    figure.update_xaxes(showgrid=False, linecolor="#bdbdbd")
    figure.update_yaxes(gridcolor="#eeeeee", zerolinecolor="#9e9e9e")
    return figure


def empty_figure(message: str, *, height: int = 240) -> go.Figure:
    """A blank figure carrying a message (used when there is nothing to draw)."""
    figure = go.Figure()
    figure.add_annotation(text=plain(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return styled(figure, height=height)
