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
the events given, or among ``confounders``) has its day 0 inside that window; ``confounded_by``
(right after ``confounded``) lists those events' ids as a tuple, ordered by day 0 then id, and is
``()`` exactly when ``confounded`` is false. Every other event of the same ticker masks
its days [-1, +1] (``CONFOUND_MASK_DAYS``) out of this event's estimation sample; ``n_masked``
counts the estimation days removed that way, and ``n_missing`` (after ``status``, beyond the
issue's EVENTS.csv columns) the estimation days with no stock or benchmark return (before
coverage, or a gap): the model is fitted on the days that exist, down to ``min_estimation``.

Unknown time of day: an event with ``event_time = unknown`` is placed on the session of its date
(the next session when the date is not one). ``day0_alt`` is the day 0 it would have had after
the close (the first session strictly after its date on its exchange calendar, or the next row
of a user's returns; ``trading_calendar``'s after-the-close rule), and ``car_alt`` the window's
CAR with that day 0: one more engine pass in which the unknown-time events are moved there
(all of them together) and every other event, studied or a confounder, stays where it was.
``car_alt`` is NaN where that pass's status is not ok; both are NaT / NaN for known times.

Status per event x window (first that applies): ``no_day0`` (no event date),
``no_prices`` (ticker has no returns), ``no_benchmark`` (benchmark or peers missing),
``before_coverage`` (window starts before the first return of the stock or benchmark),
``after_coverage`` (window ends after the last one, or beyond the known sessions),
``insufficient_estimation`` (fewer than ``min_estimation`` usable estimation days after masking
and missing days), ``gap_in_prices`` (a missing return inside the window, within coverage),
``ok``. Only ``ok`` rows carry CAR numbers; every event keeps its rows.

This module prepares the events (day 0, benchmarks, the returns each event needs) and builds the
result tables; ``metrics.event_engine`` computes every event of one exchange calendar at once
(no Python loop over events), and ``metrics.caar`` averages across events and tests.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import special  # scipy.stats.t's own ufuncs: the same numbers without importing scipy.stats

from dashboard import config
from dashboard.metrics.event_engine import STATUS_PRECEDENCE, CalendarBlock, EngineSettings, car_variance
from dashboard.metrics.event_inputs import (
    AFTER_CLOSE_TIME,
    SHADOW,
    UNKNOWN_TIME,
    Sessions,
    benchmark_labels,
    engine_pass,
    events_with_day0,
    return_columns,
    sorted_returns,
    study_events,
)

Model = config.Model
ReturnType = config.ReturnType
MODELS: tuple[str, ...] = config.MODELS
DEFAULT_ESTIMATION_WINDOW = config.DEFAULT_ESTIMATION_WINDOW
DEFAULT_EVENT_WINDOWS = config.DEFAULT_EVENT_WINDOWS
DEFAULT_MIN_ESTIMATION_DAYS = config.DEFAULT_MIN_ESTIMATION_DAYS

# Every status a window can have: ok, or the first reason that applies (the engine's order).
STATUSES: tuple[str, ...] = ("ok", *STATUS_PRECEDENCE)

EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "ticker",
    "event_type",
    "event_date",
    "day0",
    "day0_reason",
    "window_start",
    "window_end",
    "model",
    "benchmark",
    "alpha",
    "beta",
    "sigma",
    "n_estimation",
    "n_masked",
    "car",
    "car_se",
    "car_t",
    "car_p",
    "confounded",
    "confounded_by",
    "status",
    "n_missing",
    "day0_alt",
    "car_alt",
)
# EVENTS.csv of the command line is a public interface: its first columns keep their order and the
# columns added since it was published go at the end.
ADDED_EVENT_COLUMNS: tuple[str, ...] = ("confounded_by", "day0_alt", "car_alt")
EVENTS_FILE_COLUMNS: tuple[str, ...] = (*(c for c in EVENT_COLUMNS if c not in ADDED_EVENT_COLUMNS), *ADDED_EVENT_COLUMNS)
AR_COLUMNS: tuple[str, ...] = ("event_id", "rel_day", "date", "ar", "sar")
CAR_PATH_COLUMNS: tuple[str, ...] = ("event_id", "rel_day", "date", "car", "car_se", "lower", "upper")


@dataclass(frozen=True, eq=False)  # arrays inside: compare frames explicitly
class EventStudyResult:
    """Everything one run produces.

    ``events``: one row per event x window (``EVENT_COLUMNS``; the command line's EVENTS.csv
    has them in ``EVENTS_FILE_COLUMNS`` order).
    ``abnormal``: AR.csv (one row per event x relative day of the union of the windows).
    ``parameters``: one row per event (input order) with the fit and its inputs to the standard
    errors (``dof``, ``market_mean``, ``market_sxx``), ``n_missing`` (estimation-window days
    without a stock or benchmark return, e.g. before coverage), ``estimated`` (the model was fitted)
    and ``confounded_any`` (confounded in the union of the windows).
    The arrays (rows = events as in ``parameters``) feed ``caar.group_statistics`` and ``car_paths``.
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
    sessions: Sessions = "exchange",
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
    returns = sorted_returns(returns)
    relative_days = np.arange(min(a for a, _ in windows), max(b for _, b in windows) + 1)
    settings = EngineSettings(
        model=model,
        estimation_offsets=np.arange(estimation[0], estimation[1] + 1),
        relative_days=relative_days,
        windows=windows,
        min_estimation=min_estimation,
        mask_days=mask_days,
    )
    study = study_events(events, confounders)
    study["benchmark"] = benchmark_labels(study, companies, model, benchmark)
    study, axes = events_with_day0(study, returns, companies, sessions)
    frame = return_columns(study, returns, companies, model)
    block = engine_pass(study, frame, axes, settings)
    rows_as_sessions = isinstance(sessions, str) and sessions == "rows"
    day0_alt, car_alt = _alternative_day0(
        study, frame, returns, companies, settings=settings, sessions="rows" if rows_as_sessions else axes
    )
    study = study[~study[SHADOW].to_numpy(dtype=bool)].reset_index(drop=True)

    parameters = _parameters_frame(study, block, model=model, estimation=estimation)
    return EventStudyResult(
        events=_events_frame(parameters, block, windows=windows, day0_alt=day0_alt, car_alt=car_alt),
        abnormal=_abnormal_frame(parameters, block, relative_days),
        parameters=parameters,
        windows=settings.windows,
        estimation=estimation,
        model=settings.model,
        return_type=return_type,
        rel_days=settings.relative_days,
        ar=block.abnormal,
        sar=block.standardized,
        benchmark_returns=block.benchmark_event,
        estimation_residuals=block.estimation_residuals,
        positive_estimation=block.positive_estimation,
        dates=block.dates,
    )


def _alternative_day0(
    study: pd.DataFrame,
    frame: pd.DataFrame,
    returns: pd.DataFrame,
    companies: pd.DataFrame | None,
    *,
    settings: EngineSettings,
    sessions: Sessions,
) -> tuple[np.ndarray, np.ndarray]:
    """(day0_alt per studied event, car_alt per studied event x window) for the studied events of
    unknown time of day: one more engine pass that studies only them, all moved to after the
    close together, with every other event (known times, and confounders) where it was. NaT / NaN
    for the events whose time is known, and car_alt NaN where that pass's status is not ok.
    ``frame``: the first pass's return columns; ``sessions``: its sessions (the rows of
    ``returns``, or the calendars')."""
    studied = ~study[SHADOW].to_numpy(dtype=bool)
    moved = studied & (study["event_time"] == UNKNOWN_TIME).to_numpy()
    day0_alt = np.full(int(studied.sum()), np.datetime64("NaT"), dtype="datetime64[ns]")
    car_alt = np.full((int(studied.sum()), len(settings.windows)), np.nan)
    if moved.any():
        alternative = study.assign(event_time=np.where(moved, AFTER_CLOSE_TIME, study["event_time"]), **{SHADOW: ~moved})
        alternative, axes = events_with_day0(alternative, returns, companies, sessions)
        block = engine_pass(alternative, frame, axes, settings)
        unknown = moved[studied]  # studied events come first in ``study``
        day0_alt[unknown] = alternative.loc[moved, "day0"].to_numpy()
        car_alt[unknown] = block.car
    return day0_alt, car_alt


def _parameters_frame(study: pd.DataFrame, block: CalendarBlock, *, model: str, estimation: tuple[int, int]) -> pd.DataFrame:
    """One row per studied event: identity, day 0 and the fit (``EventStudyResult.parameters``)."""
    n_estimation, n_masked = block.n_estimation.astype(int), block.n_masked.astype(int)
    return pd.DataFrame(
        {
            "event_id": study["event_id"],
            "ticker": study["ticker"],
            "event_type": study["event_type"],
            "event_date": study["event_date"],
            "event_time": study["event_time"],
            "calendar": study["calendar"],
            "day0": study["day0"],
            "day0_reason": study["day0_reason"],
            "model": model,
            "benchmark": study["benchmark"],
            "alpha": block.alpha,
            "beta": block.beta,
            "sigma": block.sigma,
            "dof": block.n_estimation - (2 if model == "market" else 1),
            "n_estimation": n_estimation,
            "n_masked": n_masked,
            "n_missing": (estimation[1] - estimation[0] + 1) - n_estimation - n_masked,
            "market_mean": block.market_mean,
            "market_sxx": block.market_sxx,
            "estimated": block.estimated,
            "confounded_any": block.confounded.any(axis=1),
            "n_estimation_positive": block.positive_estimation,
        }
    )


def _events_frame(
    parameters: pd.DataFrame,
    block: CalendarBlock,
    *,
    windows: tuple[tuple[int, int], ...],
    day0_alt: np.ndarray,
    car_alt: np.ndarray,
) -> pd.DataFrame:
    """One row per event x window (``EVENT_COLUMNS``), events in input order, windows as given;
    the per-event columns come from ``parameters`` (same dtypes), repeated per window."""
    n_events, n_windows = len(parameters), len(windows)
    repeated = np.repeat(np.arange(n_events), n_windows)
    dof = parameters["dof"].to_numpy(dtype=float)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        car_t = block.car / block.car_se
        car_p = np.where(dof > 0, 2.0 * special.stdtr(np.maximum(dof, 1), -np.abs(car_t)), np.nan)
    per_window = {
        "window_start": np.tile(np.array([a for a, _ in windows]), n_events),
        "window_end": np.tile(np.array([b for _, b in windows]), n_events),
        "car": block.car.ravel(),
        "car_se": block.car_se.ravel(),
        "car_t": car_t.ravel(),
        "car_p": car_p.ravel(),
        "confounded": block.confounded.ravel(),
        "confounded_by": block.confounded_by.ravel(),
        "status": pd.array(block.status.ravel(), dtype="str"),
        "day0_alt": np.repeat(day0_alt, n_windows),
        "car_alt": car_alt.ravel(),
    }
    # one frame built at once: no column-by-column insertion, no final reordering copy
    # (each copied column keeps its dtype: an object event_id stays object, as with .iloc)
    return pd.DataFrame(
        {
            c: per_window[c] if c in per_window else pd.Series(parameters[c].array.take(repeated), dtype=parameters[c].dtype)
            for c in EVENT_COLUMNS
        }
    )


def _abnormal_frame(parameters: pd.DataFrame, block: CalendarBlock, relative_days: np.ndarray) -> pd.DataFrame:
    """AR.csv: one row per event x relative day."""
    event_ids = parameters["event_id"]
    repeated = event_ids.array.take(np.repeat(np.arange(len(parameters)), len(relative_days)))
    return pd.DataFrame(
        {
            # an object column goes in as values, for pandas to infer its type as for any list of ids
            "event_id": np.asarray(repeated, dtype=object) if event_ids.dtype == object or not len(repeated) else repeated,
            "rel_day": np.tile(relative_days, len(parameters)),
            "date": block.dates.ravel(),
            "ar": block.abnormal.ravel(),
            "sar": block.standardized.ravel(),
        }
    )


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
        for name in ("ar", "sar", "benchmark_returns", "estimation_residuals", "positive_estimation", "dates")
    }
    return replace(
        result,
        events=result.events.iloc[event_rows].reset_index(drop=True),
        abnormal=result.abnormal[result.abnormal["event_id"].isin(wanted)].reset_index(drop=True),
        parameters=result.parameters.iloc[index].reset_index(drop=True),
        **arrays,
    )


def car_paths(result: EventStudyResult, *, confidence: float = 0.95) -> pd.DataFrame:
    """Cumulative abnormal return path per event with a confidence band, for charts.

    For each event and relative day ``tau`` from the first relative day ``s`` of the windows:
    ``car = sum_{t=s..tau} AR_t`` and ``car_se`` from the same variance formula as the window
    CARs (``event_engine.car_variance``), over [s, tau] (market model:
    ``sigma^2 (L + L^2/n + (sum Rm - L mean Rm)^2 / Sxx)``).
    ``lower``/``upper`` = ``car -/+ q * car_se`` with ``q`` the Student t quantile at
    ``confidence`` with the event's ``n - k`` degrees of freedom. Events without a fitted model or
    days after a missing AR are NaN (rows are kept). Columns ``CAR_PATH_COLUMNS``.
    """
    parameters = result.parameters
    n_events, n_days = result.ar.shape
    car = np.cumsum(result.ar, axis=1)  # NaN propagates past a missing day
    variance = car_variance(
        result.model,
        parameters["sigma"].to_numpy(dtype=float)[:, None],
        parameters["n_estimation"].to_numpy(dtype=float)[:, None],
        np.arange(1, n_days + 1)[None, :],
        market_sum=np.cumsum(result.benchmark_returns, axis=1),
        market_mean=parameters["market_mean"].to_numpy()[:, None],
        market_sxx=parameters["market_sxx"].to_numpy()[:, None],
    )
    with np.errstate(invalid="ignore"):
        dof = parameters["dof"].to_numpy(dtype=float)
        q = np.where(dof > 0, special.stdtrit(np.maximum(dof, 1), 0.5 + confidence / 2.0), np.nan)[:, None]
        se = np.sqrt(variance)
    estimated = parameters["estimated"].to_numpy(dtype=bool)[:, None]
    car = np.where(estimated, car, np.nan)
    se = np.where(estimated & np.isfinite(car), se, np.nan)
    return pd.DataFrame(
        {
            "event_id": np.repeat(parameters["event_id"].to_numpy(), n_days),
            "rel_day": np.tile(result.rel_days, n_events),
            "date": pd.DatetimeIndex(result.dates.ravel()),
            "car": car.ravel(),
            "car_se": se.ravel(),
            "lower": (car - q * se).ravel(),
            "upper": (car + q * se).ravel(),
        }
    )
