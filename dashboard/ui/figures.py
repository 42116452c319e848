"""The Overview's and Company page's figures, built once per data version and settings and shared by
every session.

Building a Plotly figure (validating every property, applying the theme) costs more than the rest
of a Company page run, so each figure a page load or a company switch shows is kept here with
``st.cache_resource``: one object per key, handed to every session without a copy. Callers only
draw them (``ui.charts.show_chart`` reads a figure, never changes it). Keys are the data version
plus plain strings, numbers and tuples, so a refresh that changes the data changes every key.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import config
from dashboard.charts import Figure
from dashboard.charts.funding import capex_vs_internal_funding_figure, funding_bridge_figure, memo_lines_figure
from dashboard.charts.guidance import capex_guidance_figure
from dashboard.charts.prices import price_vs_benchmark_figure
from dashboard.charts.reactions import car_paths_figure
from dashboard.ui import cached, views

_FIGURES = 512  # a few figures per company and setting; far fewer than this in practice


def funding_rows(version: str, period: config.Period, basis: config.CapexBasis, ticker: str) -> pd.DataFrame:
    """One company's funding-table rows of a period type, oldest first."""
    rows = cached.cached_funding_table(version, period, basis)
    return rows[rows["ticker"] == ticker].sort_values("period_end")


@st.cache_resource(show_spinner=False, max_entries=_FIGURES)
def overview_figure(version: str, basis: config.CapexBasis, ticker: str) -> Figure:
    """Quarterly capex against internal funding of ``ticker`` (the Overview's small multiple)."""
    companies = cached.cached_companies(version)
    return capex_vs_internal_funding_figure(
        funding_rows(version, "quarter", basis, ticker), names=dict(zip(companies["ticker"], companies["name"])), columns=1
    )


@st.cache_resource(show_spinner=False, max_entries=_FIGURES)
def guidance_figure(version: str, basis: config.CapexBasis, ticker: str) -> Figure:
    """Trailing-12-month and fiscal-year capex with every guidance vintage of ``ticker``."""
    guidance = cached.cached_guidance(version)
    return capex_guidance_figure(
        funding_rows(version, "ttm", basis, ticker),
        funding_rows(version, "fiscal_year", basis, ticker),
        guidance[guidance["ticker"] == ticker].sort_values("statement_date"),
        ticker=ticker,
    )


@st.cache_resource(show_spinner=False, max_entries=_FIGURES)
def bridge_figure(version: str, period: config.Period, basis: config.CapexBasis, ticker: str, label: str) -> Figure:
    """The funding-gap waterfall of one company's period (an empty chart saying so without data)."""
    if not label:
        return funding_bridge_figure(pd.DataFrame(), title="")
    bridge = cached.cached_funding_bridge(version, period, basis, ticker, label)
    return funding_bridge_figure(bridge, title=f"{ticker} {label}: from operating cash flow to the gap and what covered it")


@st.cache_resource(show_spinner=False, max_entries=_FIGURES)
def memo_figure(version: str, period: config.Period, basis: config.CapexBasis, ticker: str, label: str) -> Figure:
    """The memo lines of one company's period (an empty chart saying so without data)."""
    rows = funding_rows(version, period, basis, ticker)
    rows = rows[rows["period"] == label]
    return memo_lines_figure(rows.iloc[0] if not rows.empty else pd.Series(dtype=float))


@st.cache_resource(show_spinner=False, max_entries=_FIGURES)
def price_figure(
    version: str,
    model: config.Model,
    windows: tuple[tuple[int, int], ...],
    ticker: str,
    benchmark: str,
    log_scale: bool,
    years: int | None,
) -> Figure:
    """The price against its market benchmark with the events of ``ticker`` marked by their CAR
    over the first window; ``years`` limits the range to the last so many years (None: all)."""
    window = windows[0]
    cars = views.event_cars(version, model, windows, window)
    closes = cached.cached_closes(version)
    start = None
    if years is not None and ticker in closes.columns:
        start = closes[ticker].dropna().index.max() - pd.DateOffset(years=years)
    return price_vs_benchmark_figure(
        closes,
        ticker=ticker,
        benchmark=benchmark,
        markers=cars[cars["ticker"] == ticker].sort_values("event_date"),
        window_label=views.window_label(window),
        log_scale=log_scale,
        start=start,
    )


@st.cache_resource(show_spinner=False, max_entries=_FIGURES)
def paths_figure(
    version: str, model: config.Model, windows: tuple[tuple[int, int], ...], event_ids: tuple[str, ...], selected: str | None
) -> Figure:
    """The CAR paths of ``event_ids`` with ``selected`` highlighted (an empty chart without events)."""
    if not event_ids:
        return car_paths_figure(pd.DataFrame(columns=["event_id", "rel_day", "car"]), highlight=None)
    paths = cached.cached_car_paths(version, model, windows)
    headlines = cached.cached_study_events(version).set_index("event_id")["headline"]
    return car_paths_figure(
        paths[paths["event_id"].isin(event_ids)],
        highlight=selected,
        labels={event_id: headlines.get(event_id, "") for event_id in event_ids},
    )
