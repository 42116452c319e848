"""Event study: abnormal returns around events, per event and across events, vectorized.

Units: returns and abnormal returns are decimal (0.01 = 1%); windows are in trading days
relative to day 0 (day 0 from ``trading_calendar``: after the close -> next session).

Models (``model``), for stock return ``R_t`` and benchmark return ``Rm_t``:

- ``market``: ``AR_t = R_t - (alpha + beta * Rm_t)``, alpha and beta by OLS over the estimation
  window; ``sigma^2 = SSR / (n - 2)``.
- ``market_adjusted``: ``AR_t = R_t - Rm_t`` (alpha = 0 and beta = 1 imposed);
  ``sigma^2`` = sample variance (ddof = 1) of the estimation-window ARs.
- ``constant_mean``: ``AR_t = R_t - mean(R)`` over the estimation window (beta NaN);
  ``sigma^2 = SSR / (n - 1)``.
- ``peer``: as market_adjusted, with ``Rm`` the equal-weighted return of the company's peer group
  (companies table ``peer_group``), excluding the company itself.

Per event and window [a, b] (L = b - a + 1 days): ``CAR = sum AR``; its variance with the
market model's forecast-error correction (CLM 1997, eq. 4.4.13 with a window sum):

    Var(CAR) = sigma^2 * (L + L^2 / n + (sum_window Rm - L * mean_est Rm)^2 / Sxx)   (market)
    Var(CAR) = sigma^2 * (L + L^2 / n)                                              (constant mean)
    Var(CAR) = sigma^2 * L                                                          (adjusted models)

``car_t = CAR / car_se``, ``car_p`` two-sided Student t with ``n - k`` degrees of freedom
(k = 2 for the market model, 1 otherwise). ``SAR_t = AR_t / (sigma * sqrt(c_t))`` with
``c_t = 1 + 1/n + (Rm_t - mean Rm)^2 / Sxx`` (market), ``1 + 1/n`` (constant mean), 1 (adjusted).

Confounding: an event is ``confounded`` in a window when another event of the same ticker (in
the events given) has its day 0 inside that window. Every other event of the same ticker masks
its days [-1, +1] (``CONFOUND_MASK_DAYS``) out of this event's estimation sample; ``n_masked``
counts the estimation days removed that way, and ``n_missing`` (after ``status``, beyond the
issue's EVENTS.csv columns) the estimation days with no stock or benchmark return (before
coverage, or a gap): the model is fitted on the days that exist, down to ``min_estimation``.

Status per event x window (first that applies): ``no_day0`` (no event date),
``no_prices`` (ticker has no returns), ``no_benchmark`` (benchmark or peers missing),
``before_coverage`` (window starts before the first return of the stock or benchmark),
``after_coverage`` (window ends after the last one, or beyond the known sessions),
``insufficient_estimation`` (fewer than ``min_estimation`` usable estimation days after masking
and missing days), ``gap_in_prices`` (a missing return inside the window, within coverage),
``ok``. Only ``ok`` rows carry CAR numbers; every event keeps its rows.

The hot path has no Python loop over events: day-0 positions become an (events x relative days)
index array into the returns matrix, and OLS is computed in closed form over masked arrays.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from dashboard import config
from dashboard.metrics import event_tests
from dashboard.metrics.returns import peer_returns, peers_from_companies
from dashboard.metrics.trading_calendar import (
    BEYOND_SESSIONS,
    event_calendars,
    map_day0,
    map_day0_to_rows,
    sessions_by_calendar_for,
)

Model = Literal["market", "market_adjusted", "constant_mean", "peer"]
ReturnType = Literal["simple", "log"]
GroupBy = Literal["event_type", "ticker", "all"]
MODELS: tuple[str, ...] = ("market", "market_adjusted", "constant_mean", "peer")
GROUP_BYS: tuple[str, ...] = ("event_type", "ticker", "all")
DEFAULT_ESTIMATION_WINDOW = config.DEFAULT_ESTIMATION_WINDOW
DEFAULT_EVENT_WINDOWS = config.DEFAULT_EVENT_WINDOWS
DEFAULT_MIN_ESTIMATION_DAYS = config.DEFAULT_MIN_ESTIMATION_DAYS
MIN_GROUP_EVENTS = 5

STATUSES: tuple[str, ...] = (
    "ok",
    "insufficient_estimation",
    "no_prices",
    "no_benchmark",
    "before_coverage",
    "after_coverage",
    "gap_in_prices",
    "no_day0",
)

EVENT_COLUMNS: tuple[str, ...] = (
    "event_id", "ticker", "event_type", "event_date", "day0", "day0_reason", "window_start", "window_end",
    "model", "benchmark", "alpha", "beta", "sigma", "n_estimation", "n_masked", "car", "car_se", "car_t",
    "car_p", "confounded", "status", "n_missing",
)
AR_COLUMNS: tuple[str, ...] = ("event_id", "rel_day", "date", "ar", "sar")
STAT_COLUMNS: tuple[str, ...] = ("t_csect", "patell_z", "bmp_t", "kp_bmp_t", "rank_z", "gsign_z")
SUMMARY_COLUMNS: tuple[str, ...] = (
    "group", "sample", "window_start", "window_end", "n_events", "caar", *STAT_COLUMNS,
    *(f"p_{c}" for c in STAT_COLUMNS), "avg_cross_correlation", "small_sample",
)
DAILY_COLUMNS: tuple[str, ...] = (
    "group", "sample", "rel_day", "n_events", "aar", "caar", *STAT_COLUMNS,
    *(f"p_{c}" for c in STAT_COLUMNS), "small_sample",
)
CAR_PATH_COLUMNS: tuple[str, ...] = ("event_id", "rel_day", "date", "car", "car_se", "lower", "upper")


@dataclass(frozen=True, eq=False)  # arrays inside: compare frames explicitly
class EventStudyResult:
    """Everything one run produces.

    ``events``: EVENTS.csv (one row per event x window, ``EVENT_COLUMNS``).
    ``abnormal``: AR.csv (one row per event x relative day of the union of the windows).
    ``parameters``: one row per event (input order) with the fit and its inputs to the standard
    errors (``dof``, ``market_mean``, ``market_sxx``), ``n_missing`` (estimation-window days
    without a stock or benchmark return, e.g. before coverage), ``estimated`` (the model was fitted)
    and ``confounded_any`` (confounded in the union of the windows).
    The arrays (rows = events as in ``parameters``) feed ``group_statistics`` and ``car_paths``.
    """

    events: pd.DataFrame
    abnormal: pd.DataFrame
    parameters: pd.DataFrame
    windows: tuple[tuple[int, int], ...]
    estimation: tuple[int, int]
    model: str
    return_type: str
    rel_days: np.ndarray = field(repr=False)
    ar: np.ndarray = field(repr=False)
    sar: np.ndarray = field(repr=False)
    benchmark_returns: np.ndarray = field(repr=False)
    estimation_residuals: np.ndarray = field(repr=False)
    rank_deviations: np.ndarray = field(repr=False)
    positive_estimation: np.ndarray = field(repr=False)
    dates: np.ndarray = field(repr=False)


def _check_settings(model: str, estimation: tuple[int, int], windows: Sequence[tuple[int, int]], min_estimation: int) -> None:
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    start, end = (int(v) for v in estimation)
    if start > end:
        raise ValueError(f"estimation window start {start} is after its end {end}")
    if not windows:
        raise ValueError("at least one event window is needed")
    for a, b in windows:
        if a > b:
            raise ValueError(f"event window start {a} is after its end {b}")
    if end >= min(a for a, _ in windows):
        raise ValueError(
            f"the estimation window must end before every event window starts (estimation ends at {end}, "
            f"a window starts at {min(a for a, _ in windows)})"
        )
    if min_estimation < 3:
        raise ValueError("min_estimation must be at least 3")


def _benchmarks(events: pd.DataFrame, companies: pd.DataFrame | None, model: str, benchmark: str | None) -> pd.Series:
    """The benchmark label of each event: a ticker, ``peers:<group>`` or NaN (constant mean)."""
    if model == "constant_mean":
        return pd.Series(np.nan, index=events.index, dtype="str")
    table = companies if companies is not None else pd.DataFrame(columns=["ticker", "market_benchmark", "peer_group"])
    if model == "peer":
        groups = dict(zip(table["ticker"], table["peer_group"], strict=True))
        return events["ticker"].map(lambda t: f"peers:{groups[t]}" if t in groups else np.nan).astype("str")
    if benchmark:
        return pd.Series(benchmark, index=events.index, dtype="str")
    mapping = dict(zip(table["ticker"], table["market_benchmark"], strict=True))
    return events["ticker"].map(mapping).fillna(config.DEFAULT_MARKET_BENCHMARK).astype("str")


def _first_last_valid(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row position of the first and last finite value per column (-1 if none)."""
    finite = np.isfinite(matrix)
    anyv = finite.any(axis=0)
    first = np.where(anyv, finite.argmax(axis=0), -1)
    last = np.where(anyv, matrix.shape[0] - 1 - finite[::-1].argmax(axis=0), -1)
    return first, last


def _day0_positions(day0: pd.Series, axis: np.ndarray) -> np.ndarray:
    """Position of each day 0 on the session axis; -1 for NaT; len(axis) if beyond it."""
    values = pd.DatetimeIndex(day0).as_unit("ns").to_numpy()
    pos = np.searchsorted(axis, values, side="left")
    found = (pos < len(axis)) & (axis[np.minimum(pos, len(axis) - 1)] == values) if len(axis) else np.zeros(len(values), bool)
    pos = np.where(found, pos, len(axis))
    return np.where(np.isnat(values), -1, pos)


def run_event_study(
    events: pd.DataFrame,
    returns: pd.DataFrame,
    *,
    companies: pd.DataFrame | None,
    model: Model = "market",
    benchmark: str | None = None,
    estimation: tuple[int, int] = DEFAULT_ESTIMATION_WINDOW,
    windows: Sequence[tuple[int, int]] = DEFAULT_EVENT_WINDOWS,
    min_estimation: int = DEFAULT_MIN_ESTIMATION_DAYS,
    return_type: ReturnType = "simple",
    sessions: Literal["exchange", "rows"] | Mapping[str, pd.DatetimeIndex] = "exchange",
    mask_days: tuple[int, int] = config.CONFOUND_MASK_DAYS,
    confounders: pd.DataFrame | None = None,
) -> EventStudyResult:
    """Abnormal returns, CARs and their tests for every event, all windows in one pass.

    ``events``: needs ``event_id``, ``ticker``, ``event_date``; optional ``event_time`` (missing =
    unknown) and ``event_type`` (missing = other). ``returns``: wide date x ticker decimal returns
    (simple or log, as ``return_type`` says; the CAR is then a sum of simple or log ARs), with the
    benchmark columns. ``companies``: the companies table (market_benchmark, calendar,
    peer_group); tickers not in it use SPY (or ``benchmark``) and the XNYS calendar.
    ``benchmark`` replaces every company's market_benchmark.

    ``sessions``: ``"exchange"`` maps day 0 and counts trading days on each company's exchange
    calendar (exchange_calendars); ``"rows"`` uses the rows of ``returns`` as the sessions (a
    user's ``--returns`` file); or a mapping calendar -> sessions. ``mask_days``: the days around
    every other event of the same ticker removed from the estimation sample (``(1, 0)``, an
    empty range, switches masking off). ``confounders``: more events (e.g. the curated ones when
    a user's file is studied) that count as "another event of the same company" for the
    confounding flags and the estimation masks, without being studied themselves; rows whose
    ``event_id`` is among ``events`` are ignored.

    Returns an ``EventStudyResult``; see the module docstring for models, standard errors,
    confounding and statuses. Empty ``events`` gives empty frames. Inputs are not modified.
    """
    windows = tuple((int(a), int(b)) for a, b in windows)
    estimation = (int(estimation[0]), int(estimation[1]))
    _check_settings(model, estimation, windows, min_estimation)
    for column in ("event_id", "ticker", "event_date"):
        if column not in events.columns:
            raise ValueError(f"events: missing required column {column!r}")
    ev = events.reset_index(drop=True).copy()
    ev["_shadow"] = False
    if confounders is not None and len(confounders):
        extra = confounders[~confounders["event_id"].isin(ev["event_id"])][
            [c for c in ("event_id", "ticker", "event_date", "event_time", "event_type") if c in confounders.columns]
        ]
        ev = pd.concat([ev, extra.assign(_shadow=True)], ignore_index=True)
    if "event_time" not in ev.columns:
        ev["event_time"] = "unknown"
    ev["event_time"] = ev["event_time"].fillna("unknown")
    if "event_type" not in ev.columns:
        ev["event_type"] = "other"
    ev["event_type"] = ev["event_type"].fillna("other")
    ev["event_date"] = pd.to_datetime(ev["event_date"])

    rets = returns.copy()
    rets.index = pd.DatetimeIndex(pd.to_datetime(rets.index)).as_unit("ns")
    rets = rets.sort_index()
    rets.columns = [str(c) for c in rets.columns]
    ev["benchmark"] = _benchmarks(ev, companies, model, benchmark)

    # Day 0 and the session axis of each calendar.
    if isinstance(sessions, str) and sessions == "rows":
        ev = map_day0_to_rows(ev, rets.index)
        axes = {"rows": rets.index.to_numpy()}
    else:
        if isinstance(sessions, str):
            cals = event_calendars(ev, companies).tolist()
            if ev.empty:
                cals = []
            start = min([rets.index.min()] + ([ev["event_date"].min() - pd.Timedelta(days=30)] if len(ev) else []))
            end = max([rets.index.max()] + ([ev["event_date"].max() + pd.Timedelta(days=60)] if len(ev) else []))
            by_cal = sessions_by_calendar_for(cals, start, end) if cals else {}
        else:
            by_cal = dict(sessions)
        ev = map_day0(ev, companies=companies, sessions_by_calendar=by_cal)
        axes = {name: pd.DatetimeIndex(s).as_unit("ns").to_numpy() for name, s in by_cal.items()}

    # Columns the study needs: stocks, market benchmarks and peer portfolios.
    columns: dict[str, pd.Series] = {}
    for ticker in ev["ticker"].unique():
        if ticker in rets.columns:
            columns[ticker] = pd.to_numeric(rets[ticker], errors="coerce")
    if model in ("market", "market_adjusted"):
        for name in ev["benchmark"].dropna().unique():
            if name in rets.columns:
                columns[name] = pd.to_numeric(rets[name], errors="coerce")
    elif model == "peer" and companies is not None:
        peers = peers_from_companies(companies)
        wanted = {t: peers[t] for t in ev["ticker"].unique() if t in peers and peers[t]}
        numeric = rets.apply(pd.to_numeric, errors="coerce")
        portfolio = peer_returns(numeric, wanted)
        for t in wanted:
            columns[f"peers:{t}"] = portfolio[t]
            ev.loc[ev["ticker"] == t, "_bench_col"] = f"peers:{t}"
    if model == "peer":
        bench_col = ev["_bench_col"] if "_bench_col" in ev.columns else pd.Series(np.nan, index=ev.index)
    elif model == "constant_mean":
        bench_col = pd.Series(np.nan, index=ev.index)
    else:
        bench_col = ev["benchmark"]
    names = list(columns)
    col_of = {name: i for i, name in enumerate(names)}
    frame = pd.DataFrame(columns, index=rets.index) if names else pd.DataFrame(index=rets.index)

    n_ev = len(ev)
    offsets_est = np.arange(estimation[0], estimation[1] + 1)
    rel_lo, rel_hi = min(a for a, _ in windows), max(b for _, b in windows)
    rel_days = np.arange(rel_lo, rel_hi + 1)
    l_est, l_rel = len(offsets_est), len(rel_days)

    out = _Arrays(n_ev, l_est, l_rel, len(windows))
    stock_idx = ev["ticker"].map(col_of).fillna(-1).astype(int).to_numpy()
    bench_idx = bench_col.map(col_of).fillna(-1).astype(int).to_numpy() if model != "constant_mean" else np.full(n_ev, -2)

    for cal_name, members in ev.groupby("calendar").groups.items():  # one pass per exchange calendar
        rows = np.asarray(ev.index.get_indexer(members))
        axis = axes[cal_name]
        p0 = _day0_positions(ev.loc[members, "day0"], axis)
        # A date after the last known session is after coverage, not a missing day 0.
        p0 = np.where((p0 < 0) & (ev.loc[members, "day0_reason"] == BEYOND_SESSIONS).to_numpy(), len(axis), p0)
        matrix = frame.reindex(pd.DatetimeIndex(axis)).to_numpy(dtype=float) if names else np.empty((len(axis), 0))
        _compute_block(
            out, rows, matrix, axis, p0,
            stock_idx[rows], bench_idx[rows], ev.loc[members, "ticker"].to_numpy(),
            model=model, offsets_est=offsets_est, rel_days=rel_days, windows=windows,
            min_estimation=min_estimation, mask_days=mask_days,
        )

    if ev["_shadow"].any():  # confounders only shaped the flags and masks: drop their rows
        studied = np.flatnonzero(~ev["_shadow"].to_numpy(dtype=bool))
        ev = ev.iloc[studied].reset_index(drop=True)
        for name, value in vars(out).items():
            setattr(out, name, value[studied])
        n_ev = len(ev)

    k = 2 if model == "market" else 1
    params = pd.DataFrame(
        {
            "event_id": ev["event_id"], "ticker": ev["ticker"], "event_type": ev["event_type"],
            "event_date": ev["event_date"], "event_time": ev["event_time"], "calendar": ev["calendar"],
            "day0": ev["day0"], "day0_reason": ev["day0_reason"], "model": model, "benchmark": ev["benchmark"],
            "alpha": out.alpha, "beta": out.beta, "sigma": out.sigma, "dof": out.n_est - k,
            "n_estimation": out.n_est.astype(int), "n_masked": out.n_masked.astype(int),
            "n_missing": (estimation[1] - estimation[0] + 1) - out.n_est.astype(int) - out.n_masked.astype(int),
            "market_mean": out.x_mean, "market_sxx": out.sxx, "estimated": out.estimated,
            "confounded_any": out.confounded.any(axis=1) if len(windows) else False,
            "n_estimation_positive": out.positive,
        }
    )
    window_frames = []
    for w, (a, b) in enumerate(windows):
        dof = params["dof"].to_numpy(dtype=float)
        car_t = out.car[:, w] / out.car_se[:, w]
        with np.errstate(invalid="ignore"):
            car_p = np.where(dof > 0, 2.0 * stats.t.sf(np.abs(car_t), np.maximum(dof, 1)), np.nan)
        part = params[["event_id", "ticker", "event_type", "event_date", "day0", "day0_reason"]].copy()
        part["window_start"], part["window_end"] = a, b
        part["model"], part["benchmark"] = model, params["benchmark"]
        for c in ("alpha", "beta", "sigma", "n_estimation", "n_masked", "n_missing"):
            part[c] = params[c]
        part["car"], part["car_se"], part["car_t"], part["car_p"] = out.car[:, w], out.car_se[:, w], car_t, car_p
        part["confounded"] = out.confounded[:, w]
        part["status"] = pd.Series(out.status[:, w], dtype="str")
        part["_order"] = np.arange(n_ev) * len(windows) + w
        window_frames.append(part)
    events_frame = (
        pd.concat(window_frames, ignore_index=True).sort_values("_order").drop(columns="_order").reset_index(drop=True)
        if window_frames else pd.DataFrame(columns=list(EVENT_COLUMNS))
    )
    abnormal = pd.DataFrame(
        {
            "event_id": np.repeat(ev["event_id"].to_numpy(), l_rel),
            "rel_day": np.tile(rel_days, n_ev),
            "date": pd.DatetimeIndex(out.dates.ravel()),
            "ar": out.ar.ravel(),
            "sar": out.sar.ravel(),
        }
    )
    return EventStudyResult(
        events=events_frame[list(EVENT_COLUMNS)], abnormal=abnormal, parameters=params, windows=windows,
        estimation=estimation, model=model, return_type=return_type, rel_days=rel_days, ar=out.ar, sar=out.sar,
        benchmark_returns=out.x_event, estimation_residuals=out.resid, rank_deviations=out.rank_dev,
        positive_estimation=out.positive, dates=out.dates,
    )


class _Arrays:
    """Output buffers filled block by block (one block per calendar)."""

    def __init__(self, n: int, l_est: int, l_rel: int, n_win: int) -> None:
        nan = np.nan
        self.alpha, self.beta, self.sigma = np.full(n, nan), np.full(n, nan), np.full(n, nan)
        self.x_mean, self.sxx = np.full(n, nan), np.full(n, nan)
        self.n_est, self.n_masked, self.positive = np.zeros(n), np.zeros(n), np.zeros(n)
        self.estimated = np.zeros(n, bool)
        self.ar, self.sar, self.x_event = np.full((n, l_rel), nan), np.full((n, l_rel), nan), np.full((n, l_rel), nan)
        self.dates = np.full((n, l_rel), np.datetime64("NaT"), dtype="datetime64[ns]")
        self.resid = np.full((n, l_est), nan)
        self.rank_dev = np.full((n, l_est + l_rel), nan)
        self.car, self.car_se = np.full((n, n_win), nan), np.full((n, n_win), nan)
        self.confounded = np.zeros((n, n_win), bool)
        self.status = np.full((n, n_win), "no_day0", dtype=object)


def _gather(matrix: np.ndarray, positions: np.ndarray, column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """matrix[positions, column] for an (events x days) position array; NaN outside the axis or
    for a missing column (index < 0). Returns (values, in_range)."""
    n_rows = matrix.shape[0]
    in_range = (positions >= 0) & (positions < n_rows)
    if matrix.shape[1] == 0 or n_rows == 0:
        return np.full(positions.shape, np.nan), in_range
    col = np.broadcast_to(np.maximum(column, 0)[:, None], positions.shape)
    values = matrix[np.clip(positions, 0, n_rows - 1), col]
    return np.where(in_range & (column[:, None] >= 0), values, np.nan), in_range


def _compute_block(
    out: _Arrays,
    rows: np.ndarray,
    matrix: np.ndarray,
    axis: np.ndarray,
    p0: np.ndarray,
    stock: np.ndarray,
    bench: np.ndarray,
    tickers: np.ndarray,
    *,
    model: str,
    offsets_est: np.ndarray,
    rel_days: np.ndarray,
    windows: tuple[tuple[int, int], ...],
    min_estimation: int,
    mask_days: tuple[int, int],
) -> None:
    """All events of one calendar at once (events x days index arrays; no loop over events)."""
    n_axis = len(axis)
    has_day0 = (p0 >= 0) & (p0 < n_axis)
    base = np.where(has_day0, p0, -10**9)  # far outside: every gathered position is out of range
    needs_bench = model != "constant_mean"

    # Confounding: other events of the same ticker, by day-0 position (sorted-key counting).
    codes = pd.factorize(tickers)[0].astype(np.int64)
    span = np.int64(n_axis + 10**6)
    keys = np.sort(codes[has_day0] * span + p0[has_day0])
    own = codes * span + p0
    for w, (a, b) in enumerate(windows):
        inside = np.searchsorted(keys, own + b, side="right") - np.searchsorted(keys, own + a, side="left")
        out.confounded[rows, w] = has_day0 & (inside - 1 > 0)

    # Mask [-1,+1] (mask_days) around every other event of the same ticker.
    lo_m, hi_m = mask_days
    cover = np.zeros((codes.max() + 1 if len(codes) else 1, n_axis + 1), dtype=np.int32)
    for d in range(lo_m, hi_m + 1):
        pos = p0[has_day0] + d
        keep = (pos >= 0) & (pos < n_axis)
        np.add.at(cover, (codes[has_day0][keep], pos[keep]), 1)
    pos_est = base[:, None] + offsets_est[None, :]
    y, in_est = _gather(matrix, pos_est, stock)
    x, _ = _gather(matrix, pos_est, bench) if needs_bench else (np.zeros_like(y), None)
    own_cover = ((offsets_est >= lo_m) & (offsets_est <= hi_m)).astype(np.int32)[None, :]
    covered = cover[codes[:, None], np.clip(pos_est, 0, n_axis)] * in_est - own_cover * in_est
    masked = covered > 0
    usable = np.isfinite(y) & np.isfinite(x)
    valid = usable & ~masked
    n = valid.sum(axis=1).astype(float)
    out.n_masked[rows] = (usable & masked).sum(axis=1)
    out.n_est[rows] = n

    # Closed-form OLS over the masked estimation arrays.
    yv, xv = np.where(valid, y, 0.0), np.where(valid, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        y_mean = yv.sum(axis=1) / n
        if model == "market":
            x_mean = xv.sum(axis=1) / n
            dx = np.where(valid, x - x_mean[:, None], 0.0)
            sxx = (dx**2).sum(axis=1)
            beta = (dx * np.where(valid, y - y_mean[:, None], 0.0)).sum(axis=1) / sxx
            alpha = y_mean - beta * x_mean
            k = 2
        elif model == "constant_mean":
            x_mean, sxx = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
            alpha, beta, k = y_mean, np.full(len(rows), np.nan), 1
        else:
            x_mean, sxx = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
            alpha, beta, k = np.zeros(len(rows)), np.ones(len(rows)), 1
        b_eff = np.nan_to_num(beta) if model == "constant_mean" else beta
        resid = np.where(valid, y - alpha[:, None] - b_eff[:, None] * x, np.nan)
        if model in ("market", "constant_mean"):
            sigma = np.sqrt(np.nansum(resid**2, axis=1) / (n - k))
        else:
            centred = np.where(valid, resid - (np.where(valid, resid, 0.0).sum(axis=1) / n)[:, None], 0.0)
            sigma = np.sqrt((centred**2).sum(axis=1) / (n - 1))

    estimated = has_day0 & (stock >= 0) & ((bench >= 0) | (not needs_bench)) & (n >= min_estimation) & (sigma > 0)
    if model == "market":
        estimated &= sxx > 0
    fitted = estimated if model in ("market", "constant_mean") else has_day0 & (stock >= 0) & ((bench >= 0) | (not needs_bench))
    out.estimated[rows] = estimated
    out.alpha[rows] = np.where(fitted, alpha, np.nan)
    out.beta[rows] = np.where(fitted, beta, np.nan)
    out.sigma[rows] = np.where(estimated, sigma, np.nan)
    out.x_mean[rows] = np.where(estimated, x_mean, np.nan)
    out.sxx[rows] = np.where(estimated, sxx, np.nan)
    resid = np.where(estimated[:, None], resid, np.nan)
    out.resid[rows] = resid
    out.positive[rows] = np.where(estimated, (resid > 0).sum(axis=1), 0)

    # Event days.
    pos_rel = base[:, None] + rel_days[None, :]
    ye, in_rel = _gather(matrix, pos_rel, stock)
    xe, _ = _gather(matrix, pos_rel, bench) if needs_bench else (np.zeros_like(ye), None)
    alpha_f = np.where(fitted, alpha, np.nan)
    beta_f = np.where(fitted, np.nan_to_num(beta) if model == "constant_mean" else beta, np.nan)
    ar = ye - alpha_f[:, None] - beta_f[:, None] * xe
    with np.errstate(invalid="ignore", divide="ignore"):
        if model == "market":
            factor = 1.0 + 1.0 / n[:, None] + (xe - x_mean[:, None]) ** 2 / sxx[:, None]
        elif model == "constant_mean":
            factor = np.broadcast_to((1.0 + 1.0 / n)[:, None], ar.shape)
        else:
            factor = np.ones_like(ar)
        sar = np.where(estimated[:, None], ar / (sigma[:, None] * np.sqrt(factor)), np.nan)
    out.ar[rows], out.sar[rows] = ar, sar
    out.x_event[rows] = np.where(needs_bench, xe, np.nan)
    date_pos = np.clip(pos_rel, 0, max(n_axis - 1, 0))
    out.dates[rows] = np.where(in_rel, axis[date_pos] if n_axis else np.datetime64("NaT"), np.datetime64("NaT"))
    combined = np.concatenate([resid, np.where(estimated[:, None], ar, np.nan)], axis=1)
    out.rank_dev[rows] = event_tests.rank_deviations(combined)

    # Coverage of the stock and (when used) its benchmark.
    first, last = _first_last_valid(matrix) if matrix.shape[1] else (np.zeros(0, int), np.zeros(0, int))
    s_first = np.where(stock >= 0, first[np.maximum(stock, 0)] if len(first) else -1, -1)
    s_last = np.where(stock >= 0, last[np.maximum(stock, 0)] if len(last) else -1, -1)
    if needs_bench:
        b_first = np.where(bench >= 0, first[np.maximum(bench, 0)] if len(first) else -1, -1)
        b_last = np.where(bench >= 0, last[np.maximum(bench, 0)] if len(last) else -1, -1)
        c_first, c_last = np.maximum(s_first, b_first), np.minimum(s_last, b_last)
        no_bench = (bench < 0) | (b_first < 0)
    else:
        c_first, c_last = s_first, s_last
        no_bench = np.zeros(len(rows), bool)
    no_prices = (stock < 0) | (s_first < 0)
    beyond = p0 >= n_axis  # day 0 after the last known session

    for w, (a, b) in enumerate(windows):
        cols = slice(a - rel_days[0], b - rel_days[0] + 1)
        length = b - a + 1
        before = has_day0 & (p0 + a < c_first)
        after = beyond | (has_day0 & (p0 + b > c_last))
        gap = ~np.isfinite(ar[:, cols]).all(axis=1)
        status = np.select(
            [p0 < 0, no_prices, no_bench, before, after, ~estimated, gap],
            ["no_day0", "no_prices", "no_benchmark", "before_coverage", "after_coverage", "insufficient_estimation", "gap_in_prices"],
            default="ok",
        )
        ok = status == "ok"
        car = ar[:, cols].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            if model == "market":
                s = xe[:, cols].sum(axis=1)
                var = sigma**2 * (length + length**2 / n + (s - length * x_mean) ** 2 / sxx)
            elif model == "constant_mean":
                var = sigma**2 * (length + length**2 / n)
            else:
                var = sigma**2 * length
        out.car[rows, w] = np.where(ok, car, np.nan)
        out.car_se[rows, w] = np.where(ok, np.sqrt(var), np.nan)
        out.status[rows, w] = status


def _select_groups(params: pd.DataFrame, group_by: str) -> list[tuple[str, np.ndarray]]:
    if group_by not in GROUP_BYS:
        raise ValueError(f"group_by must be one of {GROUP_BYS}, got {group_by!r}")
    if group_by == "all":
        return [("all", np.ones(len(params), bool))]
    keys = params[group_by].astype(str)
    return [(str(g), (keys == g).to_numpy()) for g in sorted(keys.unique())]


def _statistics(
    result: EventStudyResult,
    members: np.ndarray,
    values: np.ndarray,
    standardized: np.ndarray,
    day_sets: list[np.ndarray],
    min_events: int,
) -> dict[str, np.ndarray]:
    """All six tests for the columns of ``values`` over the ``members`` events."""
    params = result.parameters
    dof = params["dof"].to_numpy(dtype=float)[members]
    n = np.isfinite(values).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(np.isfinite(values), values, 0.0).sum(axis=0) / n
    stats_out: dict[str, np.ndarray] = {"n_events": n, "mean": np.where(n > 0, mean, np.nan)}
    r_bar = event_tests.average_cross_correlation(result.estimation_residuals[members])
    stats_out["t_csect"], stats_out["p_t_csect"] = event_tests.cross_sectional_t(values)
    stats_out["patell_z"], stats_out["p_patell_z"] = event_tests.patell_z(standardized, dof)
    stats_out["bmp_t"], stats_out["p_bmp_t"] = event_tests.bmp_t(standardized)
    stats_out["kp_bmp_t"], stats_out["p_kp_bmp_t"] = event_tests.kolari_pynnonen_t(standardized, r_bar)
    stats_out["rank_z"], stats_out["p_rank_z"] = event_tests.corrado_rank_z(result.rank_deviations[members], day_sets)
    stats_out["gsign_z"], stats_out["p_gsign_z"] = event_tests.generalized_sign_z(
        values, result.positive_estimation[members], params["n_estimation"].to_numpy(dtype=float)[members]
    )
    small = n < min_events
    for name in (*STAT_COLUMNS, *(f"p_{c}" for c in STAT_COLUMNS)):
        stats_out[name] = np.where(small, np.nan, stats_out[name])
    stats_out["small_sample"] = small
    stats_out["avg_cross_correlation"] = np.full(values.shape[1], r_bar)
    return stats_out


def group_statistics(
    result: EventStudyResult,
    *,
    group_by: GroupBy = "event_type",
    min_events: int = MIN_GROUP_EVENTS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Average abnormal returns across events and their tests, per group and sample.

    Groups: each ``event_type``, each ``ticker``, or ``all``. Samples: ``all`` events and
    ``unconfounded`` ones. Returns ``(summary, daily)``:

    - ``summary`` (SUMMARY.csv): one row per group x sample x window over the events whose status
      is ``ok`` for that window (unconfounded: and not confounded in it). ``caar`` = mean CAR.
    - ``daily`` (DAILY.csv): one row per group x sample x relative day over the events with a
      fitted model and an AR that day (unconfounded: not confounded in any window).
      ``aar`` = mean AR that day, ``caar`` = running sum of ``aar`` from the first relative day.

    Tests (see ``event_tests`` for formulas and degrees of freedom): cross-sectional t (N-1),
    Patell Z (normal, per-event t variance d/(d-2)), BMP t (N-1), Kolari-Pynnonen adjusted BMP
    (N-1; average cross-correlation of estimation residuals of the group's events), Corrado
    rank Z (normal), Cowan generalized sign Z (normal). A group x sample x window with fewer
    than ``min_events`` events has ``small_sample = True`` and NaN statistics (its ``caar`` is
    still shown). No events -> empty frames with the columns.
    """
    params = result.parameters
    summary_rows: list[dict] = []
    daily_parts: list[pd.DataFrame] = []
    status = result.events["status"].to_numpy().reshape(len(params), len(result.windows)) if len(params) else np.empty((0, len(result.windows)))
    confounded = result.events["confounded"].to_numpy(dtype=bool).reshape(status.shape)
    car = result.events["car"].to_numpy(dtype=float).reshape(status.shape)
    car_se = result.events["car_se"].to_numpy(dtype=float).reshape(status.shape)
    estimated = params["estimated"].to_numpy(dtype=bool)
    confounded_any = params["confounded_any"].to_numpy(dtype=bool)
    offset = len(result.estimation_residuals[0]) if len(params) else 0
    rel0 = int(result.rel_days[0])
    for group, in_group in _select_groups(params, group_by):
        for sample in ("all", "unconfounded"):
            for w, (a, b) in enumerate(result.windows):
                members = in_group & (status[:, w] == "ok")
                if sample == "unconfounded":
                    members &= ~confounded[:, w]
                idx = np.flatnonzero(members)
                values = car[idx, w][:, None]
                standardized = (car[idx, w] / car_se[idx, w])[:, None]
                days = [offset + np.arange(a - rel0, b - rel0 + 1)]
                st = _statistics(result, idx, values, standardized, days, min_events)
                row = {"group": group, "sample": sample, "window_start": a, "window_end": b,
                       "n_events": int(st["n_events"][0]), "caar": float(st["mean"][0]) if len(idx) else np.nan}
                for name in (*STAT_COLUMNS, *(f"p_{c}" for c in STAT_COLUMNS)):
                    row[name] = float(st[name][0])
                row["avg_cross_correlation"] = float(st["avg_cross_correlation"][0]) if len(idx) >= 2 else np.nan
                row["small_sample"] = bool(st["small_sample"][0])
                summary_rows.append(row)
            members = in_group & estimated
            if sample == "unconfounded":
                members &= ~confounded_any
            idx = np.flatnonzero(members)
            values, standardized = result.ar[idx], result.sar[idx]
            days = [np.array([offset + j]) for j in range(len(result.rel_days))]
            st = _statistics(result, idx, values, standardized, days, min_events)
            aar = np.where(st["n_events"] > 0, st["mean"], np.nan)
            columns = {"group": group, "sample": sample, "rel_day": result.rel_days,
                       "n_events": st["n_events"].astype(int), "aar": aar,
                       "caar": np.cumsum(np.nan_to_num(aar)) + np.where(np.isnan(aar), np.nan, 0.0)}
            columns.update({name: st[name] for name in (*STAT_COLUMNS, *(f"p_{c}" for c in STAT_COLUMNS))})
            columns["small_sample"] = st["small_sample"]
            daily_parts.append(pd.DataFrame(columns))
    summary = pd.DataFrame(summary_rows, columns=list(SUMMARY_COLUMNS))
    daily = pd.concat(daily_parts, ignore_index=True) if daily_parts else pd.DataFrame(columns=list(DAILY_COLUMNS))
    return summary, daily[list(DAILY_COLUMNS)]


def select_events(result: EventStudyResult, event_ids: Collection[str]) -> EventStudyResult:
    """The part of ``result`` that belongs to ``event_ids``, in the original order; nothing is
    recomputed, so confounding and masking still reflect every event of the full run (a
    filtered re-run would lose the events filtered out). Unknown ids are ignored; none -> an
    empty result with the same windows."""
    wanted = set(event_ids)
    index = np.flatnonzero(result.parameters["event_id"].isin(wanted).to_numpy())
    per_window = len(result.windows)
    event_rows = (index[:, None] * per_window + np.arange(per_window)[None, :]).ravel()
    arrays = {
        name: getattr(result, name)[index]
        for name in ("ar", "sar", "benchmark_returns", "estimation_residuals", "rank_deviations", "positive_estimation", "dates")
    }
    return replace(
        result,
        events=result.events.iloc[event_rows].reset_index(drop=True),
        abnormal=result.abnormal[result.abnormal["event_id"].isin(wanted)].reset_index(drop=True),
        parameters=result.parameters.iloc[index].reset_index(drop=True),
        **arrays,
    )


def caar_intervals(summary: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """A copy of a ``group_statistics`` summary with ``lower`` and ``upper`` CAAR bounds.

    ``se = |caar / t_csect|`` is the cross-sectional standard error behind ``t_csect``
    (sample standard deviation of the CARs / sqrt(N)); the bounds are ``caar -/+ q * se`` with
    ``q`` the Student t quantile at ``confidence`` and N - 1 degrees of freedom, the test's own
    convention. NaN where the test is NaN (a small group, or fewer than two events).
    """
    out = summary.copy()
    se = (out["caar"] / out["t_csect"]).abs()
    dof = (out["n_events"] - 1).clip(lower=1)
    q = stats.t.ppf(0.5 + confidence / 2, dof)
    out["lower"] = out["caar"] - q * se
    out["upper"] = out["caar"] + q * se
    return out


def car_paths(result: EventStudyResult, *, confidence: float = 0.95) -> pd.DataFrame:
    """Cumulative abnormal return path per event with a confidence band, for charts.

    For each event and relative day ``tau`` from the first relative day ``s`` of the windows:
    ``car = sum_{t=s..tau} AR_t`` and ``car_se`` from the same variance formula as the window
    CARs, over [s, tau] (market model: ``sigma^2 (L + L^2/n + (sum Rm - L mean Rm)^2 / Sxx)``).
    ``lower``/``upper`` = ``car -/+ q * car_se`` with ``q`` the Student t quantile at
    ``confidence`` with the event's ``n - k`` degrees of freedom. Events without a fitted model or
    days after a missing AR are NaN (rows are kept). Columns ``CAR_PATH_COLUMNS``.
    """
    params = result.parameters
    n_ev, l_rel = result.ar.shape
    length = np.arange(1, l_rel + 1)[None, :]
    car = np.cumsum(result.ar, axis=1)  # NaN propagates past a missing day
    sigma = params["sigma"].to_numpy(dtype=float)[:, None]
    n = params["n_estimation"].to_numpy(dtype=float)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        if result.model == "market":
            s = np.cumsum(result.benchmark_returns, axis=1)
            var = sigma**2 * (length + length**2 / n + (s - length * params["market_mean"].to_numpy()[:, None]) ** 2 / params["market_sxx"].to_numpy()[:, None])
        elif result.model == "constant_mean":
            var = sigma**2 * (length + length**2 / n)
        else:
            var = sigma**2 * length
        se = np.sqrt(var)
        dof = params["dof"].to_numpy(dtype=float)
        q = np.where(dof > 0, stats.t.ppf(0.5 + confidence / 2.0, np.maximum(dof, 1)), np.nan)[:, None]
    estimated = params["estimated"].to_numpy(dtype=bool)[:, None]
    car = np.where(estimated, car, np.nan)
    se = np.where(estimated & np.isfinite(car), se, np.nan)
    return pd.DataFrame(
        {
            "event_id": np.repeat(params["event_id"].to_numpy(), l_rel),
            "rel_day": np.tile(result.rel_days, n_ev),
            "date": pd.DatetimeIndex(result.dates.ravel()),
            "car": car.ravel(),
            "car_se": se.ravel(),
            "lower": (car - q * se).ravel(),
            "upper": (car + q * se).ravel(),
        }
    )
