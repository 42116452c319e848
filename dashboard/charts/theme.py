"""Shared look of every figure, and the one way data text enters a figure (escaped).

Plotly renders a small subset of HTML inside text and hover labels (``<b>``, ``<br>``, ``<a>``);
headlines and other data text go through :func:`plain` first, so they show literally.
"""

from __future__ import annotations

import html
import textwrap

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

# Every figure is styled here and by Streamlit's chart theme, so plotly's own default template is
# not needed; the empty "none" template also spares a deep copy of it per figure (~25 ms each).
pio.templates.default = "none"

# Okabe-Ito, a palette colour-blind readers tell apart (no red-green pair), mid-tones that
# read on a light and on a dark background.
COMPANY_COLORS: dict[str, str] = {
    "META": "#0072B2",
    "MSFT": "#E69F00",
    "GOOGL": "#009E73",
    "AMZN": "#D55E00",
    "ORCL": "#CC79A7",
    "INTC": "#56B4E9",
    "9984.T": "#999999",
}
# Signs are told apart by shape as well (triangle up / down), never by colour alone.
POSITIVE = "#0072B2"
NEGATIVE = "#D55E00"
NEUTRAL = "#999999"
BENCHMARK = "#999999"
ACCENT = "#56B4E9"
# Lines and text that must read on both backgrounds: a mid grey, never near-black or near-white.
INK = "#8c8c8c"
GRID = "rgba(128, 128, 128, 0.25)"
TRANSPARENT = "rgba(0, 0, 0, 0)"
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


def wrapped(text: object, width: int) -> str:
    """:func:`plain` text broken into lines of at most ``width`` characters (``<br>``; a longer word
    keeps its own line whole): a tick label that takes a set width."""
    if not plain(text):
        return ""
    lines = textwrap.wrap(" ".join(str(text).split()), width, break_long_words=False)
    return "<br>".join(plain(line) for line in lines)


def company_color(ticker: str) -> str:
    return COMPANY_COLORS.get(ticker, ACCENT)


def describe(figure: go.Figure, description: str) -> go.Figure:
    """Attach the figure's accessible description (what it shows, in words): the app writes it
    under the chart. Data text in it must already be plain (no markup)."""
    meta = dict(figure.layout.meta) if isinstance(figure.layout.meta, dict) else {}
    figure.update_layout(meta={**meta, "description": description})
    return figure


def description_of(figure: go.Figure) -> str:
    """The description :func:`describe` attached ("" if none)."""
    meta = figure.layout.meta
    return str(meta.get("description", "")) if isinstance(meta, dict) else ""


def styled(figure: go.Figure, *, title: str | None = None, height: int = 380, description: str | None = None) -> go.Figure:
    """Apply the shared layout: transparent background (the page's theme shows through, and
    Streamlit colours the text for it), compact margins, the title on top and the legend under
    the title (it never covers an axis title), grid lines that read in both themes."""
    figure.update_layout(
        title=dict(text=title, x=0, xanchor="left", y=0.98, yref="container", yanchor="top", font=dict(size=15)) if title else None,
        height=height,
        margin=dict(l=10, r=10, t=90 if title else 50, b=10),
        font=FONT,
        plot_bgcolor=TRANSPARENT,
        paper_bgcolor=TRANSPARENT,
        hoverlabel=dict(namelength=-1),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    )
    figure.update_xaxes(showgrid=False, linecolor=GRID)
    figure.update_yaxes(gridcolor=GRID, zerolinecolor=INK)
    if description is not None:
        describe(figure, description)
    elif not description_of(figure) and title:
        describe(figure, html.unescape(title))
    return figure


def empty_figure(message: str, *, height: int = 240) -> go.Figure:
    """A blank figure carrying a message (used when there is nothing to draw)."""
    figure = go.Figure()
    figure.add_annotation(text=wrapped(message, 90), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return styled(figure, height=height, description=f"No chart: {message}")
