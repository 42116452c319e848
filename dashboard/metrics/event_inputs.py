"""Inputs of the event-study engine: the events with their day 0 and benchmark, and the returns.

``metrics.event_study.run_event_study`` calls these in order: ``study_events`` (the events, then
the confounders marked ``SHADOW``), ``benchmark_labels``, ``events_with_day0`` (day 0 on each
company's exchange calendar or on the rows of a returns file, and the sessions per calendar),
``return_columns`` (stocks, benchmarks, peer portfolios), then ``engine_pass`` (one
``event_engine.calendar_block`` per calendar). Pure: nothing here reads files or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from dashboard import config
from dashboard.metrics.event_engine import CalendarBlock, EngineSettings, calendar_block, combine_blocks, day0_positions
from dashboard.metrics.returns import peer_returns, peers_from_companies
from dashboard.metrics.trading_calendar import (
    BEYOND_SESSIONS,
    event_calendars,
    map_day0,
    map_day0_to_rows,
    sessions_by_calendar_for,
)

Sessions = Literal["exchange", "rows"] | Mapping[str, pd.DatetimeIndex]
SHADOW = "_shadow"  # a confounder: shapes flags and masks, is not studied
PEERS_PREFIX = "peers:"  # a peer portfolio's column and benchmark label: peers:<ticker> / peers:<group>
UNKNOWN_TIME: config.EventTime = "unknown"  # also the time of an event without one
AFTER_CLOSE_TIME: config.EventTime = "after_close"


def benchmark_labels(events: pd.DataFrame, companies: pd.DataFrame | None, model: str, benchmark: str | None) -> pd.Series:
    """The benchmark label of each event: a ticker, ``peers:<group>`` or NaN (constant mean)."""
    if model == "constant_mean":
        return pd.Series(np.nan, index=events.index, dtype="str")
    table = companies if companies is not None else pd.DataFrame(columns=["ticker", "market_benchmark", "peer_group"])
    if model == "peer":
        groups = dict(zip(table["ticker"], table["peer_group"], strict=True))
        return events["ticker"].map(lambda t: f"{PEERS_PREFIX}{groups[t]}" if t in groups else np.nan).astype("str")
    if benchmark:
        return pd.Series(benchmark, index=events.index, dtype="str")
    mapping = dict(zip(table["ticker"], table["market_benchmark"], strict=True))
    return events["ticker"].map(mapping).fillna(config.DEFAULT_MARKET_BENCHMARK).astype("str")


def study_events(events: pd.DataFrame, confounders: pd.DataFrame | None) -> pd.DataFrame:
    """The events to study, then the confounders not among them (``_shadow`` true), with
    ``event_time`` (missing = unknown), ``event_type`` (missing = other) and parsed dates."""
    for column in ("event_id", "ticker", "event_date"):
        if column not in events.columns:
            raise ValueError(f"events: missing required column {column!r}")
    study = events.reset_index(drop=True).copy()
    study[SHADOW] = False
    if confounders is not None and len(confounders):
        kept = [c for c in ("event_id", "ticker", "event_date", "event_time", "event_type") if c in confounders.columns]
        # object dtype: pandas' hash table instead of a per-item loop over Arrow strings
        studied_ids = study["event_id"].astype(object)
        extra = confounders[~confounders["event_id"].astype(object).isin(studied_ids)][kept]
        study = pd.concat([study, extra.assign(**{SHADOW: True})], ignore_index=True)
    if "event_time" not in study.columns:
        study["event_time"] = UNKNOWN_TIME
    study["event_time"] = study["event_time"].fillna(UNKNOWN_TIME)
    if "event_type" not in study.columns:
        study["event_type"] = "other"
    study["event_type"] = study["event_type"].fillna("other")
    study["event_date"] = pd.to_datetime(study["event_date"])
    return study


def sorted_returns(returns: pd.DataFrame) -> pd.DataFrame:
    """A copy with a sorted nanosecond date index and text column names (shallow: pandas'
    copy-on-write copies the data only if something writes to it, and nothing here does)."""
    out = returns.copy(deep=False)
    out.index = pd.DatetimeIndex(pd.to_datetime(out.index)).as_unit("ns")
    out = out.sort_index()
    if pd.api.types.infer_dtype(out.columns, skipna=False) != "string":  # names already text: nothing to convert
        out.columns = [str(c) for c in out.columns]
    return out


def events_with_day0(
    study: pd.DataFrame, returns: pd.DataFrame, companies: pd.DataFrame | None, sessions: Sessions
) -> tuple[pd.DataFrame, dict[str, pd.DatetimeIndex]]:
    """Events with ``calendar``, ``day0`` and ``day0_reason``, and the sessions of each calendar."""
    if isinstance(sessions, str) and sessions == "rows":
        return map_day0_to_rows(study, returns.index), {"rows": returns.index}
    if isinstance(sessions, str):
        calendars = event_calendars(study, companies).tolist() if len(study) else []
        dates = study["event_date"]
        start = min([returns.index.min()] + ([dates.min() - pd.Timedelta(days=30)] if len(study) else []))
        end = max([returns.index.max()] + ([dates.max() + pd.Timedelta(days=60)] if len(study) else []))
        by_calendar = sessions_by_calendar_for(calendars, start, end) if calendars else {}
    else:
        by_calendar = dict(sessions)
    return map_day0(study, companies=companies, sessions_by_calendar=by_calendar), by_calendar


def _numeric(frame: pd.DataFrame) -> bool:
    """Every column of ``frame`` is numeric (each distinct dtype checked once)."""
    return all(pd.api.types.is_numeric_dtype(dtype) for dtype in set(frame.dtypes))


def _as_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as float64 columns (one conversion for a numeric frame; text parsed, bad -> NaN)."""
    if _numeric(frame):
        return frame.astype(float)
    return frame.apply(pd.to_numeric, errors="coerce").astype(float)


def _among(names: pd.Index, columns: pd.Index) -> list[str]:
    """The ``names`` that are ``columns``, in their order (a hash lookup, not a scan per name)."""
    return names[names.isin(columns)].tolist()


def return_columns(study: pd.DataFrame, returns: pd.DataFrame, companies: pd.DataFrame | None, model: str) -> pd.DataFrame:
    """The return columns the study needs: stocks, market benchmarks, and peer portfolios
    (``peers:<ticker>``, one per company with peers). When the stocks and benchmarks are most of
    a numeric ``returns``, all of it (as floats): the engine reads columns by name, and selecting
    would copy every column it reads once more."""
    tickers = pd.Index(study["ticker"].unique())
    names = _among(tickers, returns.columns)
    if model in ("market", "market_adjusted"):
        names += _among(pd.Index(study["benchmark"].dropna().unique()), returns.columns)
    names = list(dict.fromkeys(names))
    if model != "peer" and 2 * len(names) > len(returns.columns) and _numeric(returns):
        frame = returns.astype(float)
    else:
        frame = _as_floats(returns[names]) if names else pd.DataFrame(index=returns.index)
    if model == "peer" and companies is not None:
        peers = peers_from_companies(companies)
        wanted = {t: peers[t] for t in tickers if t in peers and peers[t]}
        portfolio = peer_returns(_as_floats(returns), wanted)
        frame = pd.concat([frame, portfolio[list(wanted)].add_prefix(PEERS_PREFIX)], axis=1)
    return frame


def benchmark_column_names(study: pd.DataFrame, frame: pd.DataFrame, model: str) -> pd.Series:
    """The name of each event's benchmark column in ``frame`` (NaN: none)."""
    if model in ("market", "market_adjusted"):
        return study["benchmark"]
    if model == "peer":
        names = PEERS_PREFIX + study["ticker"].astype(object)
        return names.where(names.isin(frame.columns))
    return pd.Series(np.nan, index=study.index)


def _column_positions(columns: pd.Index, names: pd.Series) -> np.ndarray:
    """The position of each name among ``columns`` (the last one if repeated; -1: absent or NaN)."""
    if columns.is_unique:
        return columns.get_indexer(names).astype(np.int64)
    column_of = {name: i for i, name in enumerate(columns)}
    return names.map(column_of).fillna(-1).astype(np.int64).to_numpy()


def engine_pass(
    study: pd.DataFrame,
    frame: pd.DataFrame,
    axes: Mapping[str, pd.DatetimeIndex],
    settings: EngineSettings,
) -> CalendarBlock:
    """One engine block per exchange calendar, combined in the events' order; confounders
    (``_shadow``) shape the flags and masks and get no rows."""
    stock_columns = _column_positions(frame.columns, study["ticker"])
    if settings.model == "constant_mean":
        benchmark_columns = np.full(len(study), -2)
    else:
        benchmark_columns = _column_positions(frame.columns, benchmark_column_names(study, frame, settings.model))
    studied = ~study[SHADOW].to_numpy(dtype=bool)
    studied_row = np.cumsum(studied) - 1  # row of each studied event in the result
    blocks = []
    for calendar, members in study.groupby("calendar").groups.items():
        rows = np.asarray(study.index.get_indexer(members))
        axis = pd.DatetimeIndex(axes[calendar]).as_unit("ns")
        positions = day0_positions(study.loc[members, "day0"], axis.to_numpy())
        # A date after the last known session is after coverage, not a missing day 0.
        beyond = (positions < 0) & (study.loc[members, "day0_reason"] == BEYOND_SESSIONS).to_numpy()
        positions = np.where(beyond, len(axis), positions)
        matrix = frame.reindex(axis).to_numpy(dtype=float) if len(frame.columns) else np.empty((len(axis), 0))
        block = calendar_block(
            matrix,
            axis.to_numpy(),
            positions,
            stock_columns[rows],
            benchmark_columns[rows],
            study.loc[members, "ticker"].to_numpy(),
            study.loc[members, "event_id"].to_numpy(dtype=object),
            settings=settings,
            studied=studied[rows],
        )
        blocks.append((studied_row[rows[studied[rows]]], block))
    return combine_blocks(blocks, settings)
