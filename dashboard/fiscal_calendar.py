"""Fiscal calendars: which fiscal quarter a date closes, and when a fiscal quarter nominally ends.

The one home of fiscal-calendar arithmetic (base layer: loaders and metrics both use it). It is
what pandas' quarterly periods anchored on the fiscal-year-end month give (``Q-JUN`` for
Microsoft, ``Q-MAY`` for Oracle, ``Q-DEC`` for most): a fiscal year is named after the calendar
year it ends in (Microsoft's FY2026 runs July 2025 - June 2026, and ``Period("2025-09-30",
"Q-JUN")`` is ``2026Q1``). Intel's 52/53-week quarters end on a Saturday near the month-end; they
are mapped to the nearest month-end first, within six days. Pure: no I/O, no clock.
"""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd

from dashboard.config import FiscalCalendar

# A 52/53-week quarter ends on a Saturday within this many days of the nominal month-end.
WEEK_CALENDAR_TOLERANCE_DAYS = 6


def quarterly_frequency(fiscal_year_end_month: int) -> str:
    """The pandas quarterly frequency anchored on the fiscal-year-end month (12 -> ``Q-DEC``)."""
    if not 1 <= int(fiscal_year_end_month) <= 12:
        raise ValueError(f"fiscal_year_end_month must be 1..12, not {fiscal_year_end_month!r}")
    return f"Q-{calendar.month_abbr[int(fiscal_year_end_month)].upper()}"


def nearest_month_end(dates: pd.Series) -> pd.Series:
    """Each date's nearest calendar month-end (a month-end maps to itself; Intel's Saturday
    2022-04-02 maps to 2022-03-31). Missing dates stay missing."""
    dates = pd.to_datetime(pd.Series(dates))
    forward = dates + pd.offsets.MonthEnd(0)
    backward = forward - pd.offsets.MonthEnd(1)
    return forward.where((forward - dates) <= (dates - backward), backward)


def fiscal_period(
    period_end: pd.Series,
    *,
    fiscal_year_end_month: int,
    fiscal_calendar: FiscalCalendar = "month_end",
) -> pd.DataFrame:
    """Fiscal year and quarter closed by each quarter-end date.

    The date is mapped to its nearest month-end (52/53-week calendars: within six days;
    month-end calendars: exactly), and that month-end must close a quarter of the fiscal year.
    Returns ``fiscal_year`` and ``fiscal_quarter`` (nullable Int64, NA where the date closes no
    quarter) on ``period_end``'s index.
    """
    period_end = pd.to_datetime(pd.Series(period_end))
    anchor = nearest_month_end(period_end)
    tolerance = pd.Timedelta(days=WEEK_CALENDAR_TOLERANCE_DAYS if fiscal_calendar == "52_53_week" else 0)
    known = anchor.notna()
    periods = pd.PeriodIndex(anchor[known], freq=quarterly_frequency(fiscal_year_end_month))
    closes = (periods.end_time.normalize() == pd.DatetimeIndex(anchor[known])) & (
        (anchor[known] - period_end[known]).abs() <= tolerance
    ).to_numpy()
    year = pd.Series(pd.NA, index=period_end.index, dtype="Int64")
    quarter = pd.Series(pd.NA, index=period_end.index, dtype="Int64")
    year[known] = np.where(closes, periods.qyear, -1)
    quarter[known] = np.where(closes, periods.quarter, -1)
    return pd.DataFrame({"fiscal_year": year.where(year >= 0), "fiscal_quarter": quarter.where(quarter >= 0)}, index=period_end.index)


def nominal_quarter_end(fiscal_year: pd.Series, fiscal_quarter: pd.Series, fiscal_year_end_month: pd.Series) -> pd.Series:
    """The calendar month-end a fiscal quarter nominally ends on (Microsoft FY2026 Q1 ->
    2025-09-30), per row; each row may have its own fiscal-year-end month. NaT where any input
    is missing or the quarter is not 1..4."""
    frame = pd.DataFrame({"year": fiscal_year, "quarter": fiscal_quarter, "month": fiscal_year_end_month}).astype("Float64")
    valid = frame.notna().all(axis=1) & frame["quarter"].isin([1, 2, 3, 4]) & frame["month"].between(1, 12)
    ends = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    for month, rows in frame[valid].groupby("month"):
        periods = pd.PeriodIndex.from_fields(
            year=rows["year"].astype(int).to_numpy(), quarter=rows["quarter"].astype(int).to_numpy(),
            freq=quarterly_frequency(int(month)),
        )  # fmt: skip
        ends.loc[rows.index] = periods.end_time.normalize().as_unit("ns")
    return ends
