"""The event-study engine: every event of one exchange calendar at once, no loop over events.

``calendar_block`` takes the returns matrix of one calendar (sessions x columns), each event's
day-0 position on that session axis and its stock and benchmark columns, and returns a
``CalendarBlock`` of arrays (one row per studied event, in the order given; confounders only
feed the confounding keys and the estimation masks). Day-0 positions become an
(events x relative days) index array into the matrix, and the OLS fit is computed in closed form
over masked arrays. ``combine_blocks`` puts the blocks of several calendars back in event order.

Formulas (models, variances, confounding, masking, statuses) are documented in
``metrics.event_study``; ``car_variance`` is the one home of the CAR variance.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from dashboard.metrics import event_tests

FAR_OUTSIDE = -(10**9)  # base position of an event without day 0: every gathered day is out of range


@dataclass(frozen=True)
class EngineSettings:
    """The settings every block shares (offsets in trading days relative to day 0)."""

    model: str
    estimation_offsets: np.ndarray
    relative_days: np.ndarray
    windows: tuple[tuple[int, int], ...]
    min_estimation: int
    mask_days: tuple[int, int]
    with_rank_deviations: bool = True  # False: NaN ranks (a pass that only needs CARs)


@dataclass(frozen=True, eq=False)  # arrays inside
class CalendarBlock:
    """What the engine computes per event (one row per event; ``W`` windows, ``L`` relative days,
    ``E`` estimation days).

    Per event: ``alpha``, ``beta`` (NaN unless fitted), ``sigma``, ``market_mean``, ``market_sxx``
    (NaN unless estimated), ``n_estimation`` and ``n_masked`` (days, as floats),
    ``positive_estimation`` (estimation residuals above zero), ``estimated``.
    Per event x relative day (L): ``abnormal``, ``standardized``, ``benchmark_event`` (the
    benchmark's return, NaN for constant mean), ``dates``. ``estimation_residuals`` (E),
    ``rank_deviations`` (E + L). Per event x window (W): ``car``, ``car_se`` (NaN unless ok),
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
    rank_deviations: np.ndarray
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
    per_event = {name: np.zeros(0) for name in ("alpha", "beta", "sigma", "market_mean", "market_sxx",
                                               "n_estimation", "n_masked", "positive_estimation")}
    per_day = {name: np.zeros((0, n_relative_days)) for name in ("abnormal", "standardized", "benchmark_event")}
    return CalendarBlock(
        **per_event, **per_day, estimated=np.zeros(0, bool),
        dates=np.zeros((0, n_relative_days), dtype="datetime64[ns]"),
        estimation_residuals=np.zeros((0, n_estimation_days)),
        rank_deviations=np.zeros((0, n_estimation_days + n_relative_days)),
        car=np.zeros((0, n_windows)), car_se=np.zeros((0, n_windows)),
        confounded=np.zeros((0, n_windows), bool), confounded_by=np.zeros((0, n_windows), dtype=object),
        status=np.zeros((0, n_windows), dtype=object),
    )


def combine_blocks(blocks: list[tuple[np.ndarray, CalendarBlock]], settings: EngineSettings) -> CalendarBlock:
    """One block in event order from ``(rows, block)`` pairs whose rows together are 0..n-1."""
    if not blocks:
        return empty_block(settings)
    if len(blocks) == 1 and np.array_equal(blocks[0][0], np.arange(len(blocks[0][0]))):
        return blocks[0][1]  # one calendar, already in event order
    rows = np.concatenate([r for r, _ in blocks])
    joined = {
        f.name: np.concatenate([getattr(block, f.name) for _, block in blocks]) for f in fields(CalendarBlock)
    }
    return CalendarBlock(**joined).take(np.argsort(rows, kind="stable"))


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
            return sigma**2 * (length + length**2 / n_estimation + (market_sum - length * market_mean) ** 2 / market_sxx)
        if model == "constant_mean":
            return sigma**2 * (length + length**2 / n_estimation)
        return sigma**2 * length


def first_last_valid(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row position of the first and last finite value per column (-1 if none)."""
    finite = np.isfinite(matrix)
    any_finite = finite.any(axis=0)
    first = np.where(any_finite, finite.argmax(axis=0), -1)
    last = np.where(any_finite, matrix.shape[0] - 1 - finite[::-1].argmax(axis=0), -1)
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


def gather(matrix: np.ndarray, positions: np.ndarray, column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """matrix[positions, column] for an (events x days) position array; NaN outside the axis or
    for a missing column (index < 0). Returns (values, in_range)."""
    n_rows = matrix.shape[0]
    in_range = (positions >= 0) & (positions < n_rows)
    if matrix.shape[1] == 0 or n_rows == 0:
        return np.full(positions.shape, np.nan), in_range
    columns = np.broadcast_to(np.maximum(column, 0)[:, None], positions.shape)
    values = matrix[np.clip(positions, 0, n_rows - 1), columns]
    return np.where(in_range & (column[:, None] >= 0), values, np.nan), in_range


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


def mask_cover(
    codes: np.ndarray, positions: np.ndarray, has_day0: np.ndarray, mask_days: tuple[int, int], n_axis: int
) -> np.ndarray:
    """(tickers x sessions + 1) count of events of each ticker whose ``mask_days`` cover the session."""
    low, high = mask_days
    cover = np.zeros((codes.max() + 1 if len(codes) else 1, n_axis + 1), dtype=np.int32)
    for offset in range(low, high + 1):
        shifted = positions[has_day0] + offset
        keep = (shifted >= 0) & (shifted < n_axis)
        np.add.at(cover, (codes[has_day0][keep], shifted[keep]), 1)
    return cover


def masked_estimation_days(
    cover: np.ndarray,
    codes: np.ndarray,
    estimation_positions: np.ndarray,
    in_estimation: np.ndarray,
    settings: EngineSettings,
) -> np.ndarray:
    """(events x estimation days): the day lies within ``mask_days`` of another event of the
    same ticker: the ``mask_cover`` count minus the event's own cover."""
    low, high = settings.mask_days
    offsets = settings.estimation_offsets
    own_cover = ((offsets >= low) & (offsets <= high)).astype(np.int32)[None, :]
    n_axis = cover.shape[1] - 1
    covered = cover[codes[:, None], np.clip(estimation_positions, 0, n_axis)] * in_estimation - own_cover * in_estimation
    return covered > 0


@dataclass(frozen=True)
class _Fit:
    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    market_mean: np.ndarray
    market_sxx: np.ndarray
    residuals: np.ndarray  # NaN on the days left out of the fit
    n: np.ndarray


def fit_estimation(stock: np.ndarray, market: np.ndarray, valid: np.ndarray, model: str) -> _Fit:
    """Closed-form OLS per event over the ``valid`` estimation days (see the models in
    ``metrics.event_study``). ``market`` is ignored for the constant-mean model."""
    n = valid.sum(axis=1).astype(float)
    rows = len(n)
    stock_valid, market_valid = np.where(valid, stock, 0.0), np.where(valid, market, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        stock_mean = stock_valid.sum(axis=1) / n
        if model == "market":
            market_mean = market_valid.sum(axis=1) / n
            market_deviation = np.where(valid, market - market_mean[:, None], 0.0)
            market_sxx = (market_deviation**2).sum(axis=1)
            beta = (market_deviation * np.where(valid, stock - stock_mean[:, None], 0.0)).sum(axis=1) / market_sxx
            alpha = stock_mean - beta * market_mean
            parameters = 2
        elif model == "constant_mean":
            market_mean, market_sxx = np.full(rows, np.nan), np.full(rows, np.nan)
            alpha, beta, parameters = stock_mean, np.full(rows, np.nan), 1
        else:
            market_mean, market_sxx = np.full(rows, np.nan), np.full(rows, np.nan)
            alpha, beta, parameters = np.zeros(rows), np.ones(rows), 1
        slope = np.nan_to_num(beta) if model == "constant_mean" else beta
        residuals = np.where(valid, stock - alpha[:, None] - slope[:, None] * market, np.nan)
        if model in ("market", "constant_mean"):
            sigma = np.sqrt(np.nansum(residuals**2, axis=1) / (n - parameters))
        else:
            residual_mean = np.where(valid, residuals, 0.0).sum(axis=1) / n
            centred = np.where(valid, residuals - residual_mean[:, None], 0.0)
            sigma = np.sqrt((centred**2).sum(axis=1) / (n - 1))
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
    days where both the stock and (when used) its benchmark have returns."""
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
    model, n_axis = settings.model, len(axis)
    rows = np.arange(len(positions)) if studied is None else np.flatnonzero(studied)
    has_day0_all = (positions >= 0) & (positions < n_axis)
    codes = pd.factorize(tickers)[0].astype(np.int64)
    confounded, confounded_by = confounding(codes, positions, has_day0_all, event_ids, settings.windows, n_axis, rows)
    cover = mask_cover(codes, positions, has_day0_all, settings.mask_days, n_axis)
    positions, codes, has_day0 = positions[rows], codes[rows], has_day0_all[rows]
    stock_columns, benchmark_columns = stock_columns[rows], benchmark_columns[rows]
    base = np.where(has_day0, positions, FAR_OUTSIDE)
    needs_benchmark = model != "constant_mean"

    estimation_positions = base[:, None] + settings.estimation_offsets[None, :]
    stock, in_estimation = gather(matrix, estimation_positions, stock_columns)
    market = gather(matrix, estimation_positions, benchmark_columns)[0] if needs_benchmark else np.zeros_like(stock)
    masked = masked_estimation_days(cover, codes, estimation_positions, in_estimation, settings)
    usable = np.isfinite(stock) & np.isfinite(market)
    fit = fit_estimation(stock, market, usable & ~masked, model)

    has_columns = has_day0 & (stock_columns >= 0) & ((benchmark_columns >= 0) | (not needs_benchmark))
    estimated = has_columns & (fit.n >= settings.min_estimation) & (fit.sigma > 0)
    if model == "market":
        estimated &= fit.market_sxx > 0
    fitted = estimated if model in ("market", "constant_mean") else has_columns
    residuals = np.where(estimated[:, None], fit.residuals, np.nan)

    abnormal, standardized, market_event, dates = event_day_returns(
        matrix, axis, base, stock_columns, benchmark_columns, fit, fitted, estimated, settings=settings
    )
    combined = np.concatenate([residuals, np.where(estimated[:, None], abnormal, np.nan)], axis=1)

    car, car_se, status = window_results(
        matrix, positions, has_day0, stock_columns, benchmark_columns, abnormal, market_event, fit, estimated,
        settings=settings, n_axis=n_axis,
    )
    return CalendarBlock(
        alpha=np.where(fitted, fit.alpha, np.nan), beta=np.where(fitted, fit.beta, np.nan),
        sigma=np.where(estimated, fit.sigma, np.nan), market_mean=np.where(estimated, fit.market_mean, np.nan),
        market_sxx=np.where(estimated, fit.market_sxx, np.nan), n_estimation=fit.n,
        n_masked=(usable & masked).sum(axis=1).astype(float),
        positive_estimation=np.where(estimated, (residuals > 0).sum(axis=1), 0).astype(float), estimated=estimated,
        abnormal=abnormal, standardized=standardized,
        benchmark_event=np.where(needs_benchmark, market_event, np.nan), dates=dates,
        estimation_residuals=residuals,
        rank_deviations=(
            event_tests.rank_deviations(combined) if settings.with_rank_deviations else np.full_like(combined, np.nan)
        ),
        car=car, car_se=car_se, confounded=confounded, confounded_by=confounded_by, status=status,
    )


def event_day_returns(
    matrix: np.ndarray,
    axis: np.ndarray,
    base: np.ndarray,
    stock_columns: np.ndarray,
    benchmark_columns: np.ndarray,
    fit: _Fit,
    fitted: np.ndarray,
    estimated: np.ndarray,
    *,
    settings: EngineSettings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(abnormal, standardized, benchmark, dates) per event x relative day: ``AR = R - alpha -
    beta Rm`` (NaN unless fitted), ``SAR = AR / (sigma sqrt(c_t))`` (NaN unless estimated), the
    benchmark's return (zeros for constant mean) and the session's date (NaT off the axis)."""
    model, n_axis = settings.model, len(axis)
    event_positions = base[:, None] + settings.relative_days[None, :]
    stock_event, in_event = gather(matrix, event_positions, stock_columns)
    if model != "constant_mean":
        market_event = gather(matrix, event_positions, benchmark_columns)[0]
    else:
        market_event = np.zeros_like(stock_event)
    slope = np.nan_to_num(fit.beta) if model == "constant_mean" else fit.beta
    abnormal = (stock_event - np.where(fitted, fit.alpha, np.nan)[:, None]
                - np.where(fitted, slope, np.nan)[:, None] * market_event)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = standardization_factor(model, fit, market_event)
        standardized = np.where(estimated[:, None], abnormal / (fit.sigma[:, None] * np.sqrt(factor)), np.nan)
    date_positions = np.clip(event_positions, 0, max(n_axis - 1, 0))
    nat = np.datetime64("NaT")
    dates = np.where(in_event, axis[date_positions] if n_axis else nat, nat).astype("datetime64[ns]")
    return abnormal, standardized, market_event, dates


def window_results(
    matrix: np.ndarray,
    positions: np.ndarray,
    has_day0: np.ndarray,
    stock_columns: np.ndarray,
    benchmark_columns: np.ndarray,
    abnormal: np.ndarray,
    market_event: np.ndarray,
    fit: _Fit,
    estimated: np.ndarray,
    *,
    settings: EngineSettings,
    n_axis: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(car, car_se, status) per event x window; CAR numbers only where the status is ok."""
    covered_first, covered_last, no_prices, no_benchmark = coverage_flags(
        matrix, stock_columns, benchmark_columns, settings.model != "constant_mean"
    )
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
            ["no_day0", "no_prices", "no_benchmark", "before_coverage", "after_coverage", "insufficient_estimation",
             "gap_in_prices"],
            default="ok",
        )
        ok = status[:, w] == "ok"
        market_sum = market_event[:, days].sum(axis=1) if settings.model == "market" else None
        variance = car_variance(settings.model, fit.sigma, fit.n, b - a + 1, market_sum, fit.market_mean, fit.market_sxx)
        car[:, w] = np.where(ok, abnormal[:, days].sum(axis=1), np.nan)
        with np.errstate(invalid="ignore"):
            car_se[:, w] = np.where(ok, np.sqrt(variance), np.nan)
    return car, car_se, status
