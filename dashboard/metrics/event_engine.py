"""The event-study engine: every event of one exchange calendar at once, no loop over events.

``calendar_block`` takes the returns matrix of one calendar (sessions x columns), each event's
day-0 position on that session axis and its stock and benchmark columns, and returns a
``CalendarBlock`` of arrays (one row per studied event, in the order given; confounders only
feed the confounding keys and the estimation masks). The events are computed in chunks of
``CHUNK_EVENTS`` rows, so the (events x estimation days) work arrays stay small however many
events a study has. Each event's estimation and event days are consecutive sessions, so they are
read as windows of a ``metrics.event_panel.ReturnsPanel`` (the matrix column by column; a view
when it is column-major, so nothing is copied per study): one contiguous copy per event instead
of an (events x days) fancy index. The OLS fit is computed in closed form over masked arrays,
``FIT_ROWS`` events at a time (``metrics.event_fit``). ``combine_blocks`` puts the blocks of several calendars back in
event order.

Formulas (models, variances, confounding, masking, statuses) are documented in
``metrics.event_study``; ``car_variance`` is the one home of the CAR variance. Rank deviations
(for the rank test) are not computed here: ``metrics.caar`` ranks once per study, and only when
group statistics are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from dashboard.metrics.event_fit import EstimationFit, fit_estimation, standardization_factor
from dashboard.metrics.event_panel import FAR_OUTSIDE, ReturnsPanel, coverage_flags

CHUNK_EVENTS = 2048  # events per chunk: work arrays of a few MB, whatever the study's size


@dataclass(frozen=True)
class EngineSettings:
    """The settings every block shares (offsets in trading days relative to day 0, consecutive)."""

    model: str
    estimation_offsets: np.ndarray
    relative_days: np.ndarray
    windows: tuple[tuple[int, int], ...]
    min_estimation: int
    mask_days: tuple[int, int]
    chunk_events: int | None = None  # None: CHUNK_EVENTS


@dataclass(frozen=True, eq=False)  # arrays inside
class CalendarBlock:
    """What the engine computes per event (one row per event; ``W`` windows, ``L`` relative days,
    ``E`` estimation days).

    Per event: ``alpha``, ``beta`` (NaN unless fitted), ``sigma``, ``market_mean``, ``market_sxx``
    (NaN unless estimated), ``n_estimation`` and ``n_masked`` (days, as floats),
    ``positive_estimation`` (estimation residuals above zero), ``estimated``.
    Per event x relative day (L): ``abnormal``, ``standardized``, ``benchmark_event`` (the
    benchmark's return, NaN for constant mean), ``dates``. ``estimation_residuals`` (E; NaN
    unless estimated). Per event x window (W): ``car``, ``car_se`` (NaN unless ok),
    ``confounded``, ``confounded_by`` (tuples of event ids), ``status``.
    """

    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    market_mean: np.ndarray
    market_sxx: np.ndarray
    n_estimation: np.ndarray
    n_masked: np.ndarray
    positive_estimation: np.ndarray
    estimated: np.ndarray
    abnormal: np.ndarray
    standardized: np.ndarray
    benchmark_event: np.ndarray
    dates: np.ndarray
    estimation_residuals: np.ndarray
    car: np.ndarray
    car_se: np.ndarray
    confounded: np.ndarray
    confounded_by: np.ndarray
    status: np.ndarray

    def take(self, rows: np.ndarray) -> CalendarBlock:
        """The block restricted to (or reordered by) ``rows``."""
        return CalendarBlock(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


def empty_block(settings: EngineSettings) -> CalendarBlock:
    """A block without events, with the right shapes and dtypes."""
    n_estimation_days, n_relative_days = len(settings.estimation_offsets), len(settings.relative_days)
    n_windows = len(settings.windows)
    per_event = {
        name: np.zeros(0)
        for name in ("alpha", "beta", "sigma", "market_mean", "market_sxx", "n_estimation", "n_masked", "positive_estimation")
    }
    per_day = {name: np.zeros((0, n_relative_days)) for name in ("abnormal", "standardized", "benchmark_event")}
    return CalendarBlock(
        **per_event,
        **per_day,
        estimated=np.zeros(0, bool),
        dates=np.zeros((0, n_relative_days), dtype="datetime64[ns]"),
        estimation_residuals=np.zeros((0, n_estimation_days)),
        car=np.zeros((0, n_windows)),
        car_se=np.zeros((0, n_windows)),
        confounded=np.zeros((0, n_windows), bool),
        confounded_by=np.zeros((0, n_windows), dtype=object),
        status=np.zeros((0, n_windows), dtype=object),
    )


def _concatenate(blocks: list[CalendarBlock]) -> CalendarBlock:
    return CalendarBlock(**{f.name: np.concatenate([getattr(b, f.name) for b in blocks]) for f in fields(CalendarBlock)})


def combine_blocks(blocks: list[tuple[np.ndarray, CalendarBlock]], settings: EngineSettings) -> CalendarBlock:
    """One block in event order from ``(rows, block)`` pairs whose rows together are 0..n-1."""
    if not blocks:
        return empty_block(settings)
    if len(blocks) == 1 and np.array_equal(blocks[0][0], np.arange(len(blocks[0][0]))):
        return blocks[0][1]  # one calendar, already in event order
    rows = np.concatenate([r for r, _ in blocks])
    return _concatenate([block for _, block in blocks]).take(np.argsort(rows, kind="stable"))


def car_variance(
    model: str,
    sigma: np.ndarray,
    n_estimation: np.ndarray,
    length: int | np.ndarray,
    market_sum: np.ndarray | None = None,
    market_mean: np.ndarray | None = None,
    market_sxx: np.ndarray | None = None,
) -> np.ndarray:
    """Var(CAR) over ``length`` days (CLM 1997, eq. 4.4.13 with a window sum), broadcasting.

    market: ``sigma^2 (L + L^2/n + (sum Rm - L mean Rm)^2 / Sxx)`` (``market_sum`` = sum of the
    benchmark's returns over the days); constant mean: ``sigma^2 (L + L^2/n)``; adjusted models:
    ``sigma^2 L``. NaN inputs give NaN; n or Sxx of zero give inf or NaN (callers mask them).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        if model == "market":
            if market_sum is None or market_mean is None or market_sxx is None:
                raise TypeError("car_variance of the market model needs market_sum, market_mean and market_sxx")
            return sigma**2 * (length + length**2 / n_estimation + (market_sum - length * market_mean) ** 2 / market_sxx)
        if model == "constant_mean":
            return sigma**2 * (length + length**2 / n_estimation)
        return sigma**2 * length


def day0_positions(day0: pd.Series, axis: np.ndarray) -> np.ndarray:
    """Position of each day 0 on the session axis; -1 for NaT; len(axis) if beyond it."""
    values = pd.DatetimeIndex(day0).as_unit("ns").to_numpy()
    position = np.searchsorted(axis, values, side="left")
    if len(axis):
        found = (position < len(axis)) & (axis[np.minimum(position, len(axis) - 1)] == values)
    else:
        found = np.zeros(len(values), bool)
    position = np.where(found, position, len(axis))
    return np.where(np.isnat(values), -1, position)


def confounding(
    codes: np.ndarray,
    positions: np.ndarray,
    has_day0: np.ndarray,
    event_ids: np.ndarray,
    windows: tuple[tuple[int, int], ...],
    n_axis: int,
    queries: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(confounded, confounded_by) of the events at rows ``queries``, both events x windows; every
    event given counts as another event for them.

    ``confounded``: another event of the same ticker (code) has its day 0 in [day0 + a, day0 + b];
    ``confounded_by``: the ids of those events as a tuple, ordered by day 0 then id (``()`` when
    not confounded). Keys (ticker, day 0, id) are sorted once; two binary searches per window
    give each event the range of sorted events inside its window, and tuples are built only for
    confounded rows, so the cost stays O(n log n + number of listed ids).
    """
    members = np.flatnonzero(has_day0)
    order = members[np.lexsort((event_ids[members].astype(str), positions[members], codes[members]))]
    span = np.int64(n_axis + 10**6)
    keys = codes[order] * span + positions[order]
    own = codes[queries] * span + positions[queries]
    confounded = np.zeros((len(queries), len(windows)), bool)
    confounded_by = np.empty((len(queries), len(windows)), dtype=object)
    confounded_by.fill(())
    for window, (start, end) in enumerate(windows):
        low = np.searchsorted(keys, own + start, side="left")
        high = np.searchsorted(keys, own + end, side="right")
        itself = int(start <= 0 <= end)  # the event's own day 0 lies in its window
        flagged = has_day0[queries] & (high - low - itself > 0)
        confounded[:, window] = flagged
        hits = np.flatnonzero(flagged)
        if len(hits):
            confounded_by[hits, window] = _other_ids(queries[hits], low[hits], high[hits], order, event_ids)
    return confounded, confounded_by


def _other_ids(rows: np.ndarray, low: np.ndarray, high: np.ndarray, order: np.ndarray, event_ids: np.ndarray) -> np.ndarray:
    """For each row, the ids of the sorted events ``order[low:high]`` other than the row itself,
    as a tuple (an object array of tuples, one per row)."""
    lengths = high - low
    row_of = np.repeat(np.arange(len(rows)), lengths)
    sorted_positions = np.arange(lengths.sum()) + np.repeat(low - (np.cumsum(lengths) - lengths), lengths)
    listed = order[sorted_positions]
    others = listed != rows[row_of]
    ids = event_ids[listed[others]].tolist()
    counts = np.bincount(row_of[others], minlength=len(rows))
    ends = np.cumsum(counts)
    bounds = zip((ends - counts).tolist(), ends.tolist(), strict=True)
    return np.fromiter((tuple(ids[start:end]) for start, end in bounds), dtype=object, count=len(rows))


def calendar_block(
    matrix: np.ndarray,
    axis: np.ndarray,
    positions: np.ndarray,
    stock_columns: np.ndarray,
    benchmark_columns: np.ndarray,
    tickers: np.ndarray,
    event_ids: np.ndarray,
    *,
    settings: EngineSettings,
    studied: np.ndarray | None = None,
) -> CalendarBlock:
    """The events of one calendar: one block row per studied event, in the order given.

    ``matrix``: returns on the session ``axis`` (one column per stock or benchmark; column-major
    is read fastest); ``positions``: day 0 on the axis (-1 none, len(axis) beyond it);
    ``*_columns``: column of each event's stock and benchmark (-1 missing); ``tickers`` and
    ``event_ids`` name each event. ``studied`` (default: all): the events to compute; the others
    (confounders) only count as other events of their ticker, for the confounding flags and the
    estimation masks. The matrix is read through a ``ReturnsPanel`` (in place when it is
    column-major, else copied once).
    """
    n_axis = len(axis)
    rows = np.arange(len(positions)) if studied is None else np.flatnonzero(studied)
    has_day0_all = (positions >= 0) & (positions < n_axis)
    codes = pd.factorize(tickers)[0].astype(np.int64)
    confounded, confounded_by = confounding(codes, positions, has_day0_all, event_ids, settings.windows, n_axis, rows)
    offsets = np.concatenate([settings.estimation_offsets, settings.relative_days])
    longest = max(len(settings.estimation_offsets), len(settings.relative_days))  # an event without day 0 reads padding
    panel = ReturnsPanel(matrix, axis, before=int(max(-offsets.min(), longest, 0)) + 1, after=int(max(offsets.max(), 0)) + 2)
    panel.set_cover(codes, positions, has_day0_all, settings.mask_days)
    stock_columns, benchmark_columns = stock_columns[rows], benchmark_columns[rows]
    coverage = coverage_flags(panel, stock_columns, benchmark_columns, settings.model != "constant_mean")
    chunks, size = [], settings.chunk_events or CHUNK_EVENTS
    for start in range(0, len(rows), size):
        part = slice(start, start + size)
        events = _ChunkEvents(
            positions=positions[rows[part]],
            codes=codes[rows[part]],
            stock_columns=stock_columns[part],
            benchmark_columns=benchmark_columns[part],
            coverage=tuple(flag[part] for flag in coverage),
        )
        chunks.append(_chunk_block(panel, events, confounded[part], confounded_by[part], settings=settings))
    if len(chunks) == 1:
        return chunks[0]
    return _concatenate(chunks) if chunks else empty_block(settings)


@dataclass(frozen=True)
class _ChunkEvents:
    """The studied events of one chunk: day 0 on the axis, ticker code, columns (negative:
    missing) of the stock and benchmark, and the ``coverage_flags``."""

    positions: np.ndarray
    codes: np.ndarray
    stock_columns: np.ndarray
    benchmark_columns: np.ndarray
    coverage: tuple[np.ndarray, ...]


def _chunk_block(
    panel: ReturnsPanel, events: _ChunkEvents, confounded: np.ndarray, confounded_by: np.ndarray, *, settings: EngineSettings
) -> CalendarBlock:
    """Fit, abnormal returns and window results of one chunk of studied events."""
    model, positions = settings.model, events.positions
    has_day0 = (positions >= 0) & (positions < panel.n_axis)
    base = np.where(has_day0, positions, FAR_OUTSIDE)  # beyond the axis: no estimation either
    needs_benchmark = model != "constant_mean"
    offsets = settings.estimation_offsets
    first, length = int(offsets[0]), len(offsets)
    stock = panel.columns(base, first, events.stock_columns, length)
    market = panel.columns(base, first, events.benchmark_columns, length) if needs_benchmark else np.zeros_like(stock)
    own_cover = ((offsets >= settings.mask_days[0]) & (offsets <= settings.mask_days[1])).astype(np.int32)
    covered = panel.covered(base, first, events.codes, length) if len(positions) else np.zeros(stock.shape, np.int32)
    masked = covered > own_cover[None, :]  # another event of the ticker covers the day
    usable = np.isfinite(stock) & np.isfinite(market)
    fit = fit_estimation(stock, market, usable & ~masked, model)
    n_masked = np.count_nonzero(usable, axis=1) - fit.n  # usable days left out by the masks

    has_columns = has_day0 & (events.stock_columns >= 0) & ((events.benchmark_columns >= 0) | (not needs_benchmark))
    with np.errstate(invalid="ignore"):
        estimated = has_columns & (fit.n >= settings.min_estimation) & (fit.sigma > 0)
        if model == "market":
            estimated &= fit.market_sxx > 0
    fitted = estimated if model in ("market", "constant_mean") else has_columns
    residuals = fit.residuals  # the fit's own array: blanked in place for the events not estimated
    residuals[~estimated] = np.nan

    abnormal, standardized, market_event = event_day_returns(panel, base, events, fit, fitted, estimated, settings=settings)
    return CalendarBlock(
        alpha=np.where(fitted, fit.alpha, np.nan),
        beta=np.where(fitted, fit.beta, np.nan),
        sigma=np.where(estimated, fit.sigma, np.nan),
        market_mean=np.where(estimated, fit.market_mean, np.nan),
        market_sxx=np.where(estimated, fit.market_sxx, np.nan),
        n_estimation=fit.n,
        n_masked=n_masked,
        positive_estimation=np.where(estimated, np.count_nonzero(residuals > 0, axis=1), 0).astype(float),
        estimated=estimated,
        abnormal=abnormal,
        standardized=standardized,
        benchmark_event=market_event if needs_benchmark else np.full_like(market_event, np.nan),
        dates=panel.day_dates(base, int(settings.relative_days[0]), len(settings.relative_days)),
        estimation_residuals=residuals,
        confounded=confounded,
        confounded_by=confounded_by,
        **window_results(events, has_day0, abnormal, market_event, fit, estimated, settings=settings, n_axis=panel.n_axis),
    )


def event_day_returns(
    panel: ReturnsPanel,
    base: np.ndarray,
    events: _ChunkEvents,
    fit: EstimationFit,
    fitted: np.ndarray,
    estimated: np.ndarray,
    *,
    settings: EngineSettings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(abnormal, standardized, benchmark) per event x relative day: ``AR = R - alpha - beta Rm``
    (NaN unless fitted), ``SAR = AR / (sigma sqrt(c_t))`` (NaN unless estimated) and the
    benchmark's return (zeros for constant mean). ``base``: day 0 on the axis (``FAR_OUTSIDE``
    without one)."""
    model, first, length = settings.model, int(settings.relative_days[0]), len(settings.relative_days)
    stock_event = panel.columns(base, first, events.stock_columns, length)
    if model != "constant_mean":
        market_event = panel.columns(base, first, events.benchmark_columns, length)
    else:
        market_event = np.zeros_like(stock_event)
    slope = np.nan_to_num(fit.beta) if model == "constant_mean" else fit.beta
    abnormal = stock_event - np.where(fitted, fit.alpha, np.nan)[:, None] - np.where(fitted, slope, np.nan)[:, None] * market_event
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = standardization_factor(model, fit, market_event)
        standardized = np.where(estimated[:, None], abnormal / (fit.sigma[:, None] * np.sqrt(factor)), np.nan)
    return abnormal, standardized, market_event


STATUS_PRECEDENCE: tuple[str, ...] = (
    "no_day0",
    "no_prices",
    "no_benchmark",
    "before_coverage",
    "after_coverage",
    "insufficient_estimation",
    "gap_in_prices",
)


def window_results(
    events: _ChunkEvents,
    has_day0: np.ndarray,
    abnormal: np.ndarray,
    market_event: np.ndarray,
    fit: EstimationFit,
    estimated: np.ndarray,
    *,
    settings: EngineSettings,
    n_axis: int,
) -> dict[str, np.ndarray]:
    """``car``, ``car_se`` and ``status`` per event x window; CAR numbers only where the status
    is ok (statuses in the order of ``STATUS_PRECEDENCE``: the first that applies)."""
    positions = events.positions
    covered_first, covered_last, no_prices, no_benchmark = events.coverage  # from ``coverage_flags``
    beyond = positions >= n_axis  # day 0 after the last known session
    shape = (len(positions), len(settings.windows))
    car, car_se, status = np.full(shape, np.nan), np.full(shape, np.nan), np.empty(shape, dtype=object)
    first_day = settings.relative_days[0]
    for window, (start, end) in enumerate(settings.windows):
        days = slice(start - first_day, end - first_day + 1)
        before = has_day0 & (positions + start < covered_first)
        after = beyond | (has_day0 & (positions + end > covered_last))
        gap = ~np.isfinite(abnormal[:, days]).all(axis=1)
        conditions = [positions < 0, no_prices, no_benchmark, before, after, ~estimated, gap]
        status[:, window] = np.select(conditions, STATUS_PRECEDENCE, default="ok")
        ok = ~np.logical_or.reduce(conditions)
        market_sum = market_event[:, days].sum(axis=1) if settings.model == "market" else None
        variance = car_variance(settings.model, fit.sigma, fit.n, end - start + 1, market_sum, fit.market_mean, fit.market_sxx)
        car[:, window] = np.where(ok, abnormal[:, days].sum(axis=1), np.nan)
        with np.errstate(invalid="ignore"):
            car_se[:, window] = np.where(ok, np.sqrt(variance), np.nan)
    return {"car": car, "car_se": car_se, "status": status}
