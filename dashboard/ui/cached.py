"""The one caching layer of the dashboard.

Every page reads data and metric results through the ``cached_*`` functions here. Keys are small
and hashable (tickers as a tuple, windows as a tuple of pairs, plain strings and floats) plus the
data version (the manifest's short hash), so a refresh that changes any dataset changes every
key and nothing stale is served. Loaders run once per data version and process; metric results
are computed once per (settings, data version). ``st.cache_data`` hands each caller its own copy,
so a page can never mutate what another page reads. Built figures (the last section) are the one
exception: shared objects, only ever drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import config
from dashboard.charts import Figure
from dashboard.charts.funding import capex_vs_internal_funding_figure, funding_bridge_figure
from dashboard.charts.guidance import capex_guidance_figure
from dashboard.charts.prices import price_vs_benchmark_figure
from dashboard.charts.reactions import car_paths_figure
from dashboard.loaders import curated

# Loaded frames stay until the data version changes; metric results are bounded in number.
_METRIC_ENTRIES = 256
_FIGURE_ENTRIES = 128  # per figure kind: a few per company and setting


# --- data version and manifest ------------------------------------------------------------------


_RUN_MANIFEST = "_run_manifest"


def new_run() -> None:
    """Forget the manifest the last run read (app.py calls this at the top of every run, and a
    refresh after it changed the data)."""
    st.session_state.pop(_RUN_MANIFEST, None)


def read_manifest() -> dict:
    """The current manifest, read from disk and checked against the data (``curated.load_manifest``)
    once per run: the first call after :func:`new_run` reads it, the rest of the run (and its
    fragments' reruns) share that copy. A refresh in another session is noticed at the next run."""
    manifest = st.session_state.get(_RUN_MANIFEST)
    if manifest is None:
        manifest = st.session_state[_RUN_MANIFEST] = curated.load_manifest()
    return manifest


def data_version() -> str:
    """The short content hash of all datasets, the cache key of everything below."""
    return str(read_manifest().get("data_version", "unknown"))


def read_as_of_dates(version: str) -> dict[str, str]:
    """Dataset name -> as-of date (ISO) from this run's manifest (``read_manifest``)."""
    del version  # the run's manifest holds it; the argument documents the dependency
    return {name: str(entry.get("as_of", "")) for name, entry in read_manifest().get("datasets", {}).items()}


# --- loaders: read once per data version ----------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=4)
def cached_companies(version: str) -> pd.DataFrame:
    return curated.load_companies()


@st.cache_data(show_spinner=False, max_entries=4)
def cached_events(version: str) -> pd.DataFrame:
    return curated.load_events()


@st.cache_data(show_spinner=False, max_entries=4)
def cached_study_events(version: str) -> pd.DataFrame:
    """The events the event study runs on: the curated events plus each capex-guidance vintage
    that no curated event within a day covers (``metrics.guidance_events.events_with_guidance``),
    with ``guided_change_usd_bn``. Funding memo lines use the curated events only."""
    from dashboard.metrics import guidance_events

    return guidance_events.events_with_guidance(cached_events(version), cached_guidance(version))


@st.cache_data(show_spinner=False, max_entries=4)
def cached_fundamentals(version: str) -> pd.DataFrame:
    return curated.load_fundamentals()


@st.cache_data(show_spinner=False, max_entries=4)
def cached_guidance(version: str) -> pd.DataFrame:
    return curated.load_guidance()


@st.cache_data(show_spinner=False, max_entries=4)
def cached_fundamentals_flags(version: str) -> pd.DataFrame:
    """Cell-level quality flags of the fundamentals (ticker, period_end, column, flag, note)."""
    return curated.load_fundamentals_flags(fundamentals=cached_fundamentals(version))


def data_as_of(version: str) -> pd.Timestamp:
    """The data's as-of date: the latest as-of date of the dated datasets (events, fundamentals,
    guidance, prices). "Current" means current at this date, never the clock's."""
    dates = read_as_of_dates(version)
    dated = [dates[name] for name in ("events", "fundamentals", "guidance", "prices") if dates.get(name)]
    return pd.Timestamp(max(dated)) if dated else pd.NaT


@st.cache_data(show_spinner="Loading prices…", max_entries=4)
def cached_prices(version: str) -> pd.DataFrame:
    return curated.load_prices()


@st.cache_data(show_spinner=False, max_entries=4)
def cached_closes(version: str) -> pd.DataFrame:
    """Wide date x ticker adjusted closes (union of calendars, NaN where no session)."""
    return curated.close_prices(cached_prices(version))


@st.cache_data(show_spinner=False, max_entries=4)
def cached_price_coverage(version: str) -> pd.DataFrame:
    """Per ticker: first_date, last_date, sessions."""
    return curated.price_coverage(cached_prices(version))


@dataclass(frozen=True)
class DatasetReport:
    """A validation report flattened for display (summary line + one row per issue)."""

    dataset: str
    summary: str
    rows_read: int
    rows_loaded: int
    issues: pd.DataFrame


@st.cache_data(show_spinner="Validating the embedded data…", max_entries=4)
def cached_validation_reports(version: str) -> list[DatasetReport]:
    """Re-validate every embedded CSV dataset row by row (the same check as ``python -m dashboard
    validate``) and return the reports."""
    data_dir = config.DATA_DIR
    checks = {
        "events": lambda: curated.validate_events(data_dir / config.EVENTS_FILE),
        "fundamentals": lambda: curated.validate_fundamentals(data_dir / config.FUNDAMENTALS_FILE),
        "guidance": lambda: curated.validate_guidance(data_dir / config.GUIDANCE_FILE),
        "fundamentals_flags": lambda: curated.validate_fundamentals_flags(data_dir / config.FUNDAMENTALS_FLAGS_FILE),
        "prices": lambda: curated.validate_prices(data_dir / config.PRICES_FILE),
    }
    reports = []
    for name, check in checks.items():
        _, report = check()
        reports.append(DatasetReport(name, report.summary(), report.rows_read, report.rows_loaded, report.as_frame()))
    return reports


# --- metrics: computed once per settings and data version -----------------------------------------


@st.cache_data(show_spinner="Computing the funding tables…", max_entries=_METRIC_ENTRIES)
def cached_funding_table(version: str, period: config.Period, capex_basis: config.CapexBasis) -> pd.DataFrame:
    """``metrics.funding.funding_table`` for every company (USD millions; one row per ticker x
    period). Pages select their tickers' rows from it."""
    from dashboard.metrics import funding

    return funding.funding_table(
        cached_fundamentals(version),
        cached_events(version),
        companies=cached_companies(version),
        flags=cached_fundamentals_flags(version),
        period=period,
        capex_basis=capex_basis,
    )


@st.cache_data(show_spinner="Collecting the quality flags…", max_entries=_METRIC_ENTRIES)
def cached_funding_flag_notes(version: str, period: config.Period, capex_basis: config.CapexBasis) -> pd.DataFrame:
    """``metrics.quality_flags.funding_flag_notes``: the quality flags behind each funding-table
    row, with the curators' notes (one row per table row, cell and flag)."""
    from dashboard.metrics import quality_flags

    return quality_flags.funding_flag_notes(
        cached_fundamentals(version), cached_fundamentals_flags(version), period=period, capex_basis=capex_basis
    )


# One company's slice of a table: a page run copies these few rows out of the cache, not the table.


@st.cache_data(show_spinner=False, max_entries=_METRIC_ENTRIES)
def cached_company_funding_rows(version: str, period: config.Period, basis: config.CapexBasis, ticker: str) -> pd.DataFrame:
    """One company's funding-table rows of a period type, oldest first."""
    rows = cached_funding_table(version, period, basis)
    return rows[rows["ticker"] == ticker].sort_values("period_end")


@st.cache_data(show_spinner=False, max_entries=_METRIC_ENTRIES)
def cached_company_flag_notes(version: str, period: config.Period, basis: config.CapexBasis, ticker: str, label: str) -> pd.DataFrame:
    """The quality flags behind one company's funding-table row (``cached_funding_flag_notes``)."""
    notes = cached_funding_flag_notes(version, period, basis)
    return notes[(notes["ticker"] == ticker) & (notes["period"] == label)]


@st.cache_data(show_spinner=False, max_entries=_METRIC_ENTRIES)
def cached_company_uncounted_events(version: str, ticker: str) -> pd.DataFrame:
    """One company's funding events in no memo total (``cached_funding_memo_lines``, not counted)."""
    memo_events = cached_funding_memo_lines(version)
    return memo_events[(memo_events["ticker"] == ticker) & ~memo_events["counted"].astype(bool)]


@st.cache_data(show_spinner=False, max_entries=_METRIC_ENTRIES)
def cached_funding_bridge(
    version: str, period: config.Period, capex_basis: config.CapexBasis, ticker: str, period_label: str
) -> pd.DataFrame:
    """``metrics.bridge.funding_bridge`` of one funding-table row (waterfall steps)."""
    from dashboard.metrics import bridge

    table = cached_funding_table(version, period, capex_basis)
    row = table[(table["ticker"] == ticker) & (table["period"] == period_label)]
    if row.empty:
        return pd.DataFrame(columns=["step", "measure", "amount", "value"])
    return bridge.funding_bridge(row.iloc[0])


@st.cache_data(show_spinner="Computing the forward view…", max_entries=_METRIC_ENTRIES)
def cached_forward_view(
    version: str,
    capex_change: float = 0.0,
    ocf_growth: float = 0.0,
    buyback_pace: float = 1.0,
    dividend_pace: float = 1.0,
    divestment_proceeds: float = 0.0,
) -> pd.DataFrame:
    """``metrics.forward.forward_view`` for every guidance vintage (USD millions): the implied gap
    and implied new debt, and their bounds, under the what-if settings (defaults reproduce the
    run-rate)."""
    from dashboard.metrics import forward

    return forward.forward_view(
        cached_fundamentals(version),
        cached_guidance(version),
        companies=cached_companies(version),
        capex_change=capex_change,
        ocf_growth=ocf_growth,
        buyback_pace=buyback_pace,
        dividend_pace=dividend_pace,
        divestment_proceeds=divestment_proceeds,
    )


@st.cache_data(show_spinner=False, max_entries=4)
def cached_current_guidance(version: str) -> pd.DataFrame:
    """``metrics.forward.current_guidance`` at the data's as-of date: per ticker, the latest
    statement for a year that has not ended."""
    from dashboard.metrics import forward

    return forward.current_guidance(cached_guidance(version), as_of=data_as_of(version), companies=cached_companies(version))


@st.cache_data(show_spinner="Computing daily returns…", max_entries=4)
def cached_returns(version: str) -> pd.DataFrame:
    """Daily simple returns (decimal) of every priced ticker from consecutive trading-day closes
    (``metrics.returns.simple_returns``)."""
    from dashboard.metrics import returns

    return returns.simple_returns(cached_closes(version))


@st.cache_data(show_spinner="Running the event study…", max_entries=_METRIC_ENTRIES)
def cached_event_study(version: str, model: config.Model, windows: tuple[tuple[int, int], ...]):
    """``metrics.event_study.run_event_study`` over all study events (curated and guidance, so
    confounding and estimation masking see every event of a company), default estimation window,
    each company's own market benchmark from the companies table."""
    from dashboard.metrics import event_study

    return event_study.run_event_study(
        cached_study_events(version),
        cached_returns(version),
        companies=cached_companies(version),
        model=model,
        windows=windows,
    )


@st.cache_data(show_spinner="Computing the group tests…", max_entries=_METRIC_ENTRIES)
def cached_group_statistics(
    version: str,
    model: config.Model,
    windows: tuple[tuple[int, int], ...],
    group_by: config.GroupBy,
    event_ids: tuple[str, ...] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``metrics.caar.group_statistics`` -> (summary with ``caar_intervals``' 95% bounds,
    daily) of the cached study, over ``event_ids`` only when given (see
    ``metrics.event_study.select_events``)."""
    from dashboard.metrics import caar, event_study

    result = cached_event_study(version, model, windows)
    if event_ids is not None:
        result = event_study.select_events(result, event_ids)
    summary, daily = caar.group_statistics(result, group_by=group_by)
    return caar.caar_intervals(summary), daily


@st.cache_data(show_spinner="Computing CAR paths…", max_entries=_METRIC_ENTRIES)
def cached_car_paths(version: str, model: config.Model, windows: tuple[tuple[int, int], ...]) -> pd.DataFrame:
    """``metrics.event_study.car_paths`` of the cached study (one row per event x relative day,
    with the 95% band)."""
    from dashboard.metrics import event_study

    return event_study.car_paths(cached_event_study(version, model, windows))


def session_event_study(version: str, events: pd.DataFrame, *, model: config.Model, windows: tuple[tuple[int, int], ...]):
    """The event study of a user's uploaded events, against the snapshot's returns: not cached
    across sessions and never written to disk (the caller keeps it in its session only).
    As on the command line, the curated events of the same company count as confounders (they
    flag the uploaded events and are masked out of their estimation windows)."""
    from dashboard.metrics import event_study

    return event_study.run_event_study(
        events,
        cached_returns(version),
        companies=cached_companies(version),
        model=model,
        windows=windows,
        confounders=cached_study_events(version),
    )


@st.cache_data(show_spinner="Placing the funding events…", max_entries=4)
def cached_funding_memo_lines(version: str) -> pd.DataFrame:
    """``metrics.memo_lines.funding_memo_lines`` over all curated events and fundamentals: each
    funding event with its memo line, quarter, status and the reason it is or is not counted
    (USD millions), day 0 on each company's exchange calendar."""
    from dashboard.metrics import memo_lines

    return memo_lines.funding_memo_lines(cached_events(version), cached_fundamentals(version), companies=cached_companies(version))


# --- SEC filings (optional: fetched with `python -m dashboard filings`) ------------------------------


def filings_key() -> str:
    """The saved filings' content hash (short), or ``none``: the cache key of everything filings."""
    from dashboard.loaders import filings

    entry = filings.filings_manifest()
    return str(entry.get("sha256", ""))[:12] if entry else "none"


@st.cache_data(show_spinner="Matching SEC filings to the events…", max_entries=4)
def cached_filing_candidates(version: str, filings_key: str) -> tuple[pd.DataFrame | None, str]:
    """``metrics.filings.filing_candidates`` of the saved filings against the curated events, or
    (None, what to do) when no filings were fetched or the saved file is damaged."""
    from dashboard.errors import DataUnavailable
    from dashboard.loaders import filings as filings_loader
    from dashboard.metrics import filings

    try:
        saved = filings_loader.load_filings()
    except DataUnavailable as exc:
        return None, str(exc)
    return filings.filing_candidates(saved, cached_events(version), companies=cached_companies(version)), ""


@st.cache_data(show_spinner=False, max_entries=4)
def cached_filing_review(version: str, filings_key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the curated events' day-0 suggestions from their matched filings, the filings no curated
    event covers shaped as events): ``metrics.filings.event_filing_suggestions`` and
    ``review_queue_events``. Both empty without fetched filings."""
    from dashboard.metrics import filings

    candidates, _ = cached_filing_candidates(version, filings_key)
    if candidates is None:
        return pd.DataFrame(columns=list(filings.SUGGESTION_COLUMNS)), pd.DataFrame()
    return filings.event_filing_suggestions(candidates), filings.review_queue_events(candidates)


# --- figures: built once per data version and settings, shared by every session ------------------
# Building a Plotly figure (validating every property, applying the theme) costs more than the rest
# of a page run, so each figure a page load or a company switch shows is kept with
# ``st.cache_resource``: one object per key, handed to every session without a copy. Callers only
# draw them (``ui.charts.show_chart`` reads a figure, never changes it).


@st.cache_resource(show_spinner=False, max_entries=_FIGURE_ENTRIES)
def cached_overview_figure(version: str, basis: config.CapexBasis, ticker: str) -> Figure:
    """Quarterly capex against internal funding of ``ticker`` (the Overview's small multiple)."""
    companies = cached_companies(version)
    return capex_vs_internal_funding_figure(
        cached_company_funding_rows(version, "quarter", basis, ticker), names=dict(zip(companies["ticker"], companies["name"])), columns=1
    )


@st.cache_resource(show_spinner=False, max_entries=_FIGURE_ENTRIES)
def cached_guidance_figure(version: str, basis: config.CapexBasis, ticker: str) -> Figure:
    """Trailing-12-month and fiscal-year capex with every guidance vintage of ``ticker``."""
    guidance = cached_guidance(version)
    return capex_guidance_figure(
        cached_company_funding_rows(version, "ttm", basis, ticker),
        cached_company_funding_rows(version, "fiscal_year", basis, ticker),
        guidance[guidance["ticker"] == ticker].sort_values("statement_date"),
        ticker=ticker,
    )


@st.cache_resource(show_spinner=False, max_entries=_FIGURE_ENTRIES)
def cached_bridge_figure(version: str, period: config.Period, basis: config.CapexBasis, ticker: str, label: str) -> Figure:
    """The funding-gap waterfall of one company's period with its memo lines (an empty chart
    saying so without data)."""
    rows = cached_company_funding_rows(version, period, basis, ticker)
    rows = rows[rows["period"] == label]
    if not label or rows.empty:
        return funding_bridge_figure(pd.DataFrame(), title="")
    bridge = cached_funding_bridge(version, period, basis, ticker, label)
    title = f"{ticker} {label}: from operating cash flow to the gap and what covered it, with the memo lines"
    return funding_bridge_figure(bridge, title=title, memo=rows.iloc[0])


@st.cache_resource(show_spinner=False, max_entries=_FIGURE_ENTRIES)
def cached_price_figure(
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
    from dashboard.ui import views  # views reads through this module

    window = windows[0]
    cars = views.event_cars(version, model, windows, window)
    closes = cached_closes(version)
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


@st.cache_resource(show_spinner=False, max_entries=_FIGURE_ENTRIES)
def cached_paths_figure(
    version: str, model: config.Model, windows: tuple[tuple[int, int], ...], event_ids: tuple[str, ...], selected: str | None
) -> Figure:
    """The CAR paths of ``event_ids`` with ``selected`` highlighted (an empty chart without events)."""
    if not event_ids:
        return car_paths_figure(pd.DataFrame(columns=["event_id", "rel_day", "car"]), highlight=None)
    paths = cached_car_paths(version, model, windows)
    headlines = cached_study_events(version).set_index("event_id")["headline"]
    return car_paths_figure(
        paths[paths["event_id"].isin(event_ids)],
        highlight=selected,
        labels={event_id: headlines.get(event_id, "") for event_id in event_ids},
    )


def clear_figures() -> None:
    """Drop every cached figure (after a refresh: their keys hold the old data version)."""
    for builder in (
        cached_overview_figure,
        cached_guidance_figure,
        cached_bridge_figure,
        cached_price_figure,
        cached_paths_figure,
    ):
        builder.clear()
