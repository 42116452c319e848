"""The event-study engine: every event of one exchange calendar at once, no loop over events.

``calendar_block`` takes the returns matrix of one calendar (sessions x columns), each event's
day-0 position on that session axis and its stock and benchmark columns, and returns a
``CalendarBlock`` of arrays (one row per studied event, in the order given; confounders only
feed the confounding keys and the estimation masks). The events are computed in chunks of
``CHUNK_EVENTS`` rows, so the (events x estimation days) work arrays stay small however many
events a study has. Each event's estimation and event days are consecutive sessions, so they are
read as windows of a padded, column-major copy of the matrix (``_Panel``): one contiguous copy
per event instead of an (events x days) fancy index. The OLS fit is computed in closed form over
masked arrays. ``combine_blocks`` puts the blocks of several calendars back in event order.

Formulas (models, variances, confounding, masking, statuses) are documented in
``metrics.event_study``; ``car_variance`` is the one home of the CAR variance. Rank deviations
(for the rank test) are not computed here: ``metrics.caar`` ranks once per study, and only when
group statistics are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

FAR_OUTSIDE = -(10**9)  # base position of an event without day 0: every gathered day is out of range
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


def first_last_valid(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row position of the first and last finite value per column (-1 if none)."""
    finite = np.isfinite(np.ascontiguousarray(matrix.T))  # a column's sessions side by side
    any_finite = finite.any(axis=1)
    first = np.where(any_finite, finite.argmax(axis=1), -1)
    last = np.where(any_finite, matrix.shape[0] - 1 - finite[:, ::-1].argmax(axis=1), -1)
    return first, last


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
    for w, (a, b) in enumerate(windows):
        low = np.searchsorted(keys, own + a, side="left")
        high = np.searchsorted(keys, own + b, side="right")
        itself = int(a <= 0 <= b)  # the event's own day 0 lies in its window
        flagged = has_day0[queries] & (high - low - itself > 0)
        confounded[:, w] = flagged
        hits = np.flatnonzero(flagged)
        if len(hits):
            confounded_by[hits, w] = _other_ids(queries[hits], low[hits], high[hits], order, event_ids)
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


class _Panel:
    """Columns of one calendar's sessions, padded so that any event's run of consecutive days
    (``offsets`` around day 0) is one slice: ``values`` (columns + 1 all-missing column) x padded
    sessions, the session dates padded with NaT, and per ticker code the count of events whose
    mask days cover each session (padded with zeros)."""

    def __init__(self, matrix: np.ndarray, axis: np.ndarray, settings: EngineSettings) -> None:
        offsets = np.concatenate([settings.estimation_offsets, settings.relative_days])
        self.before = int(max(-offsets.min(), len(settings.estimation_offsets), len(settings.relative_days), 0)) + 1
        self.n_axis, self.n_columns = matrix.shape[0], matrix.shape[1]
        width = self.before + self.n_axis + int(max(offsets.max(), 0)) + 2
        self.values = np.full((self.n_columns + 1, width), np.nan)
        self.values[: self.n_columns, self.before : self.before + self.n_axis] = matrix.T
        self.dates = np.full(width, np.datetime64("NaT"), dtype="datetime64[ns]")
        self.dates[self.before : self.before + self.n_axis] = axis
        self.cover = np.zeros((1, width), dtype=np.int32)

    def set_cover(self, codes: np.ndarray, positions: np.ndarray, has_day0: np.ndarray, mask_days: tuple[int, int]) -> None:
        """Count, per ticker code and session, the events whose ``mask_days`` cover the session."""
        width = self.values.shape[1]
        n_codes = int(codes.max()) + 1 if len(codes) else 1
        low, high = mask_days
        shifted = (positions[has_day0][:, None] + np.arange(low, high + 1)[None, :]).ravel()
        owners = np.repeat(codes[has_day0], high - low + 1) if high >= low else np.zeros(0, np.int64)
        keep = (shifted >= 0) & (shifted < self.n_axis)
        self.cover = np.zeros((n_codes, width), dtype=np.int32)
        np.add.at(self.cover.reshape(-1), owners[keep] * width + shifted[keep] + self.before, 1)

    def starts(self, base: np.ndarray, first_offset: int) -> np.ndarray:
        """Padded index of each event's first day (0, all padding, for an event without day 0)."""
        return np.where(base == FAR_OUTSIDE, 0, base + first_offset + self.before)

    def columns(self, starts: np.ndarray, columns: np.ndarray, length: int) -> np.ndarray:
        """(events x length) returns of each event's column (-1: missing) from its start."""
        rows = np.where((columns >= 0) & (starts > 0), columns, self.n_columns)
        return sliding_window_view(self.values, length, axis=1)[rows, starts]

    def covered(self, starts: np.ndarray, codes: np.ndarray, length: int) -> np.ndarray:
        return sliding_window_view(self.cover, length, axis=1)[codes, starts]

    def day_dates(self, starts: np.ndarray, length: int) -> np.ndarray:
        return sliding_window_view(self.dates, length)[starts]


@dataclass(frozen=True)
class _Fit:
    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    market_mean: np.ndarray
    market_sxx: np.ndarray
    residuals: np.ndarray  # NaN on the days left out of the fit
    n: np.ndarray


def _row_sums(values: np.ndarray) -> np.ndarray:
    return values.sum(axis=1)


def fit_estimation(stock: np.ndarray, market: np.ndarray, valid: np.ndarray, model: str) -> _Fit:
    """Closed-form OLS per event over the ``valid`` estimation days (see the models in
    ``metrics.event_study``). ``market`` is ignored for the constant-mean model."""
    n = np.count_nonzero(valid, axis=1).astype(float)
    rows = len(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        stock_mean = _row_sums(np.where(valid, stock, 0.0)) / n
        if model == "market":
            market_mean = _row_sums(np.where(valid, market, 0.0)) / n
            market_deviation = np.where(valid, market - market_mean[:, None], 0.0)
            market_sxx = _row_sums(market_deviation * market_deviation)
            stock_deviation = np.where(valid, stock - stock_mean[:, None], 0.0)
            beta = _row_sums(market_deviation * stock_deviation) / market_sxx
            alpha = stock_mean - beta * market_mean
            parameters = 2
        elif model == "constant_mean":
            market_mean, market_sxx = np.full(rows, np.nan), np.full(rows, np.nan)
            alpha, beta, parameters = stock_mean, np.full(rows, np.nan), 1
        else:
            market_mean, market_sxx = np.full(rows, np.nan), np.full(rows, np.nan)
            alpha, beta, parameters = np.zeros(rows), np.ones(rows), 1
        if model == "constant_mean":
            residuals = np.where(valid, stock - alpha[:, None], np.nan)
        else:
            residuals = np.where(valid, stock - alpha[:, None] - beta[:, None] * market, np.nan)
        filled = np.where(valid, residuals, 0.0)
        if model in ("market", "constant_mean"):
            sigma = np.sqrt(_row_sums(filled * filled) / (n - parameters))
        else:
            centred = np.where(valid, residuals - (_row_sums(filled) / n)[:, None], 0.0)
            sigma = np.sqrt(_row_sums(centred * centred) / (n - 1))
    return _Fit(alpha, beta, sigma, market_mean, market_sxx, residuals, n)


def standardization_factor(model: str, fit: _Fit, market_event: np.ndarray) -> np.ndarray:
    """``c_t`` of ``SAR_t = AR_t / (sigma sqrt(c_t))``: the one-day forecast-error correction."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if model == "market":
            return 1.0 + 1.0 / fit.n[:, None] + (market_event - fit.market_mean[:, None]) ** 2 / fit.market_sxx[:, None]
        if model == "constant_mean":
            return np.broadcast_to((1.0 + 1.0 / fit.n)[:, None], market_event.shape)
        return np.ones_like(market_event)


def coverage_flags(
    matrix: np.ndarray, stock_columns: np.ndarray, benchmark_columns: np.ndarray, needs_benchmark: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(first covered position, last covered position, no_prices, no_benchmark) per event: the
    days where both the stock and (when used) its benchmark have returns. ``matrix``: sessions x
    columns."""
    first, last = first_last_valid(matrix) if matrix.shape[1] else (np.zeros(0, int), np.zeros(0, int))

    def ends(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start = np.where(columns >= 0, first[np.maximum(columns, 0)] if len(first) else -1, -1)
        end = np.where(columns >= 0, last[np.maximum(columns, 0)] if len(last) else -1, -1)
        return start, end

    stock_first, stock_last = ends(stock_columns)
    no_prices = (stock_columns < 0) | (stock_first < 0)
    if not needs_benchmark:
        return stock_first, stock_last, no_prices, np.zeros(len(stock_columns), bool)
    benchmark_first, benchmark_last = ends(benchmark_columns)
    no_benchmark = (benchmark_columns < 0) | (benchmark_first < 0)
    return np.maximum(stock_first, benchmark_first), np.minimum(stock_last, benchmark_last), no_prices, no_benchmark


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

    ``matrix``: returns on the session ``axis`` (one column per stock or benchmark);
    ``positions``: day 0 on the axis (-1 none, len(axis) beyond it); ``*_columns``: column of
    each event's stock and benchmark (-1 missing); ``tickers`` and ``event_ids`` name each event.
    ``studied`` (default: all): the events to compute; the others (confounders) only count as
    other events of their ticker, for the confounding flags and the estimation masks.
    """
    n_axis = len(axis)
    rows = np.arange(len(positions)) if studied is None else np.flatnonzero(studied)
    has_day0_all = (positions >= 0) & (positions < n_axis)
    codes = pd.factorize(tickers)[0].astype(np.int64)
    confounded, confounded_by = confounding(codes, positions, has_day0_all, event_ids, settings.windows, n_axis, rows)
    panel = _Panel(matrix, axis, settings)
    panel.set_cover(codes, positions, has_day0_all, settings.mask_days)
    coverage = coverage_flags(matrix, stock_columns[rows], benchmark_columns[rows], settings.model != "constant_mean")
    chunks, size = [], settings.chunk_events or CHUNK_EVENTS
    for start in range(0, len(rows), size):
        part = slice(start, start + size)
        chunk = rows[part]
        chunks.append(
            _chunk_block(
                panel,
                positions[chunk],
                codes[chunk],
                stock_columns[chunk],
                benchmark_columns[chunk],
                tuple(flag[part] for flag in coverage),
                confounded[part],
                confounded_by[part],
                settings=settings,
            )
        )
    return _concatenate(chunks) if chunks else empty_block(settings)


def _chunk_block(
    panel: _Panel,
    positions: np.ndarray,
    codes: np.ndarray,
    stock_columns: np.ndarray,
    benchmark_columns: np.ndarray,
    coverage: tuple[np.ndarray, ...],
    confounded: np.ndarray,
    confounded_by: np.ndarray,
    *,
    settings: EngineSettings,
) -> CalendarBlock:
    """Fit, abnormal returns and window results of one chunk of studied events."""
    model, n_axis = settings.model, panel.n_axis
    has_day0 = (positions >= 0) & (positions < n_axis)
    base = np.where(has_day0, positions, FAR_OUTSIDE)  # beyond the axis: no estimation either
    needs_benchmark = model != "constant_mean"
    offsets = settings.estimation_offsets
    starts = panel.starts(base, int(offsets[0]))
    stock = panel.columns(starts, stock_columns, len(offsets))
    market = panel.columns(starts, benchmark_columns, len(offsets)) if needs_benchmark else np.zeros_like(stock)
    own_cover = ((offsets >= settings.mask_days[0]) & (offsets <= settings.mask_days[1])).astype(np.int32)
    covered = panel.covered(starts, codes, len(offsets)) if len(codes) else np.zeros(stock.shape, np.int32)
    masked = (covered - own_cover[None, :]) > 0
    usable = np.isfinite(stock) & np.isfinite(market)
    fit = fit_estimation(stock, market, usable & ~masked, model)

    has_columns = has_day0 & (stock_columns >= 0) & ((benchmark_columns >= 0) | (not needs_benchmark))
    with np.errstate(invalid="ignore"):
        estimated = has_columns & (fit.n >= settings.min_estimation) & (fit.sigma > 0)
        if model == "market":
            estimated &= fit.market_sxx > 0
    fitted = estimated if model in ("market", "constant_mean") else has_columns
    residuals = np.where(estimated[:, None], fit.residuals, np.nan)

    event_starts = panel.starts(base, int(settings.relative_days[0]))
    abnormal, standardized, market_event = event_day_returns(
        panel, event_starts, stock_columns, benchmark_columns, fit, fitted, estimated, settings=settings
    )
    car, car_se, status = window_results(
        positions, has_day0, coverage, abnormal, market_event, fit, estimated, settings=settings, n_axis=n_axis
    )
    return CalendarBlock(
        alpha=np.where(fitted, fit.alpha, np.nan),
        beta=np.where(fitted, fit.beta, np.nan),
        sigma=np.where(estimated, fit.sigma, np.nan),
        market_mean=np.where(estimated, fit.market_mean, np.nan),
        market_sxx=np.where(estimated, fit.market_sxx, np.nan),
        n_estimation=fit.n,
        n_masked=np.count_nonzero(usable & masked, axis=1).astype(float),
        positive_estimation=np.where(estimated, np.count_nonzero(residuals > 0, axis=1), 0).astype(float),
        estimated=estimated,
        abnormal=abnormal,
        standardized=standardized,
        benchmark_event=market_event if needs_benchmark else np.full_like(market_event, np.nan),
        dates=panel.day_dates(event_starts, len(settings.relative_days)),
        estimation_residuals=residuals,
        car=car,
        car_se=car_se,
        confounded=confounded,
        confounded_by=confounded_by,
        status=status,
    )


def event_day_returns(
    panel: _Panel,
    starts: np.ndarray,
    stock_columns: np.ndarray,
    benchmark_columns: np.ndarray,
    fit: _Fit,
    fitted: np.ndarray,
    estimated: np.ndarray,
    *,
    settings: EngineSettings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(abnormal, standardized, benchmark) per event x relative day: ``AR = R - alpha - beta Rm``
    (NaN unless fitted), ``SAR = AR / (sigma sqrt(c_t))`` (NaN unless estimated) and the
    benchmark's return (zeros for constant mean)."""
    model, length = settings.model, len(settings.relative_days)
    stock_event = panel.columns(starts, stock_columns, length)
    if model != "constant_mean":
        market_event = panel.columns(starts, benchmark_columns, length)
    else:
        market_event = np.zeros_like(stock_event)
    slope = np.nan_to_num(fit.beta) if model == "constant_mean" else fit.beta
    abnormal = stock_event - np.where(fitted, fit.alpha, np.nan)[:, None] - np.where(fitted, slope, np.nan)[:, None] * market_event
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = standardization_factor(model, fit, market_event)
        standardized = np.where(estimated[:, None], abnormal / (fit.sigma[:, None] * np.sqrt(factor)), np.nan)
    return abnormal, standardized, market_event


def window_results(
    positions: np.ndarray,
    has_day0: np.ndarray,
    coverage: tuple[np.ndarray, ...],
    abnormal: np.ndarray,
    market_event: np.ndarray,
    fit: _Fit,
    estimated: np.ndarray,
    *,
    settings: EngineSettings,
    n_axis: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(car, car_se, status) per event x window; CAR numbers only where the status is ok."""
    covered_first, covered_last, no_prices, no_benchmark = coverage  # from ``coverage_flags``
    beyond = positions >= n_axis  # day 0 after the last known session
    shape = (len(positions), len(settings.windows))
    car, car_se, status = np.full(shape, np.nan), np.full(shape, np.nan), np.empty(shape, dtype=object)
    first_day = settings.relative_days[0]
    for w, (a, b) in enumerate(settings.windows):
        days = slice(a - first_day, b - first_day + 1)
        before = has_day0 & (positions + a < covered_first)
        after = beyond | (has_day0 & (positions + b > covered_last))
        gap = ~np.isfinite(abnormal[:, days]).all(axis=1)
        status[:, w] = np.select(
            [positions < 0, no_prices, no_benchmark, before, after, ~estimated, gap],
            ["no_day0", "no_prices", "no_benchmark", "before_coverage", "after_coverage", "insufficient_estimation", "gap_in_prices"],
            default="ok",
        )
        ok = status[:, w] == "ok"
        market_sum = market_event[:, days].sum(axis=1) if settings.model == "market" else None
        variance = car_variance(settings.model, fit.sigma, fit.n, b - a + 1, market_sum, fit.market_mean, fit.market_sxx)
        car[:, w] = np.where(ok, abnormal[:, days].sum(axis=1), np.nan)
        with np.errstate(invalid="ignore"):
            car_se[:, w] = np.where(ok, np.sqrt(variance), np.nan)
    return car, car_se, status
