"""The returns panel of the event-study engine: one calendar's returns laid out so that an
event's run of consecutive sessions is one contiguous slice.

``ReturnsPanel`` reads the returns column by column (each column's sessions side by side): an
event's estimation or event days are then a window of one row, read as one contiguous copy per
event rather than an events x days fancy index. When the matrix is already column-major (what
``DataFrame.to_numpy`` gives), the panel is a view of it and nothing is copied. The few runs that
reach outside the session axis (day 0 too close to either end) are read apart, with missing
returns where they leave the axis; an event without day 0 or without a column reads only
missing returns. The session dates and the per-ticker mask counts are padded instead (they are
small). ``coverage_flags`` says, per event, where its stock and benchmark have returns at all
(the first and last finite return of each column).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

FAR_OUTSIDE = -(10**9)  # base position of an event without day 0: every gathered day is out of range


def first_last_valid(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of the first and last finite value per row of ``values`` (-1 if none). Rows
    finite at both ends (the usual case) are settled by their ends; only the others are scanned."""
    n_rows, length = values.shape
    if not length:
        return np.full(n_rows, -1), np.full(n_rows, -1)
    first = np.where(np.isfinite(values[:, 0]), 0, -1)
    last = np.where(np.isfinite(values[:, -1]), length - 1, -1)
    scanned = np.flatnonzero((first < 0) | (last < 0))
    if len(scanned):
        finite = np.isfinite(values[scanned])
        any_finite = finite.any(axis=1)
        first[scanned] = np.where(any_finite, finite.argmax(axis=1), -1)
        last[scanned] = np.where(any_finite, length - 1 - finite[:, ::-1].argmax(axis=1), -1)
    return first, last


class ReturnsPanel:
    """One calendar's returns read column by column: ``values`` (columns x sessions; a view of a
    column-major matrix), per column the first and last session with a return (``first``,
    ``last``; -1 if none), the session dates padded with NaT on both sides, and per ticker code
    the count of events whose mask days cover each session (padded with zeros). Offsets from day
    0 up to ``before`` sessions back and ``after`` sessions ahead fit in the padding."""

    def __init__(self, matrix: np.ndarray, axis: np.ndarray, *, before: int, after: int) -> None:
        """``matrix``: returns, sessions (``axis``) x columns."""
        by_column = matrix.T
        self.values = by_column if by_column.flags.c_contiguous else np.ascontiguousarray(by_column)
        self.n_axis, self.n_columns = matrix.shape
        self.before = before
        self.first, self.last = first_last_valid(self.values)
        width = before + self.n_axis + after
        self.dates = np.full(width, np.datetime64("NaT"), dtype="datetime64[ns]")
        self.dates[before : before + self.n_axis] = axis
        self.cover = np.zeros((1, width), dtype=np.int32)

    def set_cover(self, codes: np.ndarray, positions: np.ndarray, has_day0: np.ndarray, mask_days: tuple[int, int]) -> None:
        """Count, per ticker code and session, the events whose ``mask_days`` cover the session."""
        width = len(self.dates)
        n_codes = int(codes.max()) + 1 if len(codes) else 1
        low, high = mask_days
        shifted = (positions[has_day0][:, None] + np.arange(low, high + 1)[None, :]).ravel()
        owners = np.repeat(codes[has_day0], high - low + 1) if high >= low else np.zeros(0, np.int64)
        keep = (shifted >= 0) & (shifted < self.n_axis)
        self.cover = np.zeros((n_codes, width), dtype=np.int32)
        np.add.at(self.cover.reshape(-1), owners[keep] * width + shifted[keep] + self.before, 1)

    def _padded(self, base: np.ndarray, first_offset: int) -> np.ndarray:
        """Padded index of each event's first day (0, all padding, for an event without day 0)."""
        return np.where(base == FAR_OUTSIDE, 0, base + first_offset + self.before)

    def columns(self, base: np.ndarray, first_offset: int, columns: np.ndarray, length: int) -> np.ndarray:
        """(events x length) returns of each event's column (negative: missing) over ``length``
        sessions from ``base + first_offset`` (``base``: day 0, or ``FAR_OUTSIDE`` without one);
        NaN where the run leaves the session axis."""
        starts = base + first_offset
        inside = (columns >= 0) & (starts >= 0) & (starts + length <= self.n_axis)
        if len(inside) and inside.all():
            return sliding_window_view(self.values, length, axis=1)[columns, starts]
        out = np.full((len(starts), length), np.nan)
        if inside.any():
            out[inside] = sliding_window_view(self.values, length, axis=1)[columns[inside], starts[inside]]
        edge = np.flatnonzero(~inside & (columns >= 0) & (base != FAR_OUTSIDE))  # runs across an end of the axis
        if len(edge) and self.n_axis:
            days = starts[edge, None] + np.arange(length)[None, :]
            read = self.values[columns[edge, None], np.clip(days, 0, self.n_axis - 1)]
            out[edge] = np.where((days >= 0) & (days < self.n_axis), read, np.nan)
        return out

    def covered(self, base: np.ndarray, first_offset: int, codes: np.ndarray, length: int) -> np.ndarray:
        """(events x length) count of the events of each event's ticker whose mask days cover the day."""
        return sliding_window_view(self.cover, length, axis=1)[codes, self._padded(base, first_offset)]

    def day_dates(self, base: np.ndarray, first_offset: int, length: int) -> np.ndarray:
        """(events x length) session dates from ``base + first_offset`` (NaT outside the axis)."""
        return sliding_window_view(self.dates, length)[self._padded(base, first_offset)]


def coverage_flags(
    panel: ReturnsPanel, stock_columns: np.ndarray, benchmark_columns: np.ndarray, needs_benchmark: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(first covered position, last covered position, no_prices, no_benchmark) per event: the
    days where both the stock and (when used) its benchmark have returns. ``*_columns``: negative
    for a missing column."""

    def ends(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not panel.n_columns:
            return np.full(len(columns), -1), np.full(len(columns), -1)
        start = np.where(columns >= 0, panel.first[np.maximum(columns, 0)], -1)
        end = np.where(columns >= 0, panel.last[np.maximum(columns, 0)], -1)
        return start, end

    stock_first, stock_last = ends(stock_columns)
    no_prices = (stock_columns < 0) | (stock_first < 0)
    if not needs_benchmark:
        return stock_first, stock_last, no_prices, np.zeros(len(stock_columns), bool)
    benchmark_first, benchmark_last = ends(benchmark_columns)
    no_benchmark = (benchmark_columns < 0) | (benchmark_first < 0)
    return np.maximum(stock_first, benchmark_first), np.minimum(stock_last, benchmark_last), no_prices, no_benchmark
