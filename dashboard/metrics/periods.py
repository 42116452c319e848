"""Fiscal and calendar periods of company quarters: labels, quarter bounds and aggregation windows.

Pure pandas: quarters in, labels and windows out. The vocabulary of period labels:

- fiscal quarter ``FY2025 Q3`` (the company's own fiscal year, named after the calendar year it
  ends in: Microsoft's FY2026 runs July 2025 - June 2026),
- trailing twelve months ``TTM to FY2025 Q3`` (four consecutive fiscal quarters),
- fiscal year ``FY2025`` (all four fiscal quarters),
- calendar quarter ``CY2025 Q3`` and calendar year ``CY2025``.

Calendarization: each fiscal quarter is mapped to the calendar quarter whose end date is
*nearest* to its ``period_end`` (a tie goes to the later one). Intel's 52/53-week quarter ending
Saturday 2024-03-30 becomes CY2024 Q1; Oracle's FY2026 Q1 ending 2025-08-31 becomes CY2025 Q3
(30 days from Sep 30 against 62 from Jun 30); Microsoft's FY2026 Q1 ending 2025-09-30 is CY2025 Q3
exactly. The mapping must be one-to-one per company; :func:`quarter_calendar` raises otherwise.
"""

from __future__ import annotations

from typing import get_args

import numpy as np
import pandas as pd

from dashboard.config import Period
from dashboard.errors import DataUnavailable

PERIODS: tuple[str, ...] = get_args(Period)

QUARTERS_PER_YEAR = 4
# A 52/53-week quarter is 13 weeks (14 in a 53-week year's long quarter).
WEEKS_PER_QUARTER = 13

CALENDARIZATION_NOTE = "each fiscal quarter mapped to the calendar quarter with the nearest end date"


def fiscal_quarter_label(fiscal_year: int, fiscal_quarter: int) -> str:
    """``FY2025 Q3``: the company's own fiscal year and quarter."""
    return f"FY{int(fiscal_year)} Q{int(fiscal_quarter)}"


def fiscal_year_label(fiscal_year: int) -> str:
    """``FY2025``."""
    return f"FY{int(fiscal_year)}"


def ttm_label(fiscal_year: int, fiscal_quarter: int) -> str:
    """``TTM to FY2025 Q3``: the four fiscal quarters ending with the one named."""
    return f"TTM to {fiscal_quarter_label(fiscal_year, fiscal_quarter)}"


def calendar_quarter_label(calendar_year: int, calendar_quarter: int) -> str:
    """``CY2025 Q3``."""
    return f"CY{int(calendar_year)} Q{int(calendar_quarter)}"


def calendar_ttm_label(calendar_year: int, calendar_quarter: int) -> str:
    """``TTM to CY2026 Q1``: the four calendar quarters ending with the one named."""
    return f"TTM to {calendar_quarter_label(calendar_year, calendar_quarter)}"


def calendar_year_label(calendar_year: int) -> str:
    """``CY2025``."""
    return f"CY{int(calendar_year)}"


def nearest_calendar_quarter(period_end: pd.Series) -> pd.DataFrame:
    """The calendar quarter whose end date is nearest to each date.

    Returns a frame on ``period_end``'s index with integer columns ``calendar_year`` and
    ``calendar_quarter`` (1..4). Ties (equally far from two quarter ends) go to the later quarter.
    A missing date raises ``DataUnavailable``; an empty series gives an empty frame.
    """
    dates = pd.to_datetime(period_end)
    if dates.isna().any():
        raise DataUnavailable(f"period_end missing in row(s) {list(dates.index[dates.isna()])}")
    if dates.empty:
        return pd.DataFrame({"calendar_year": pd.Series(dtype=int), "calendar_quarter": pd.Series(dtype=int)})
    current = pd.PeriodIndex(dates, freq="Q")
    previous = current - 1
    current_end = current.to_timestamp(how="end").normalize()
    previous_end = previous.to_timestamp(how="end").normalize()
    values = pd.DatetimeIndex(dates).normalize()
    to_current = np.abs((current_end - values).days.to_numpy())
    to_previous = np.abs((values - previous_end).days.to_numpy())
    chosen_year = np.where(to_previous < to_current, previous.year, current.year)
    chosen_quarter = np.where(to_previous < to_current, previous.quarter, current.quarter)
    return pd.DataFrame(
        {"calendar_year": chosen_year.astype(int), "calendar_quarter": chosen_quarter.astype(int)},
        index=period_end.index,
    )


def _is_month_end(dates: pd.Series) -> pd.Series:
    return dates.dt.is_month_end


def quarter_calendar(quarters: pd.DataFrame) -> pd.DataFrame:
    """Every company quarter with its bounds, labels and calendar mapping.

    Input: one row per company quarter with ``ticker, fiscal_year, fiscal_quarter, period_end``
    (other columns are ignored; the input is not changed). Output, on the input's index:

    - ``period_start``: the day after the previous fiscal quarter's ``period_end`` when that
      quarter is present; otherwise three calendar months before a month-end ``period_end``
      (plus one day), or 13 weeks before a 52/53-week one (plus one day).
    - ``fiscal_label`` (``FY2025 Q3``), ``fiscal_index`` = fiscal_year * 4 + fiscal_quarter - 1
      (consecutive quarters differ by one).
    - ``calendar_year``, ``calendar_quarter``, ``calendar_label`` (``CY2025 Q3``),
      ``calendar_index`` = calendar_year * 4 + calendar_quarter - 1, and ``calendar_note``
      saying which fiscal quarter was mapped where.

    Raises ``DataUnavailable`` naming the rows when a company has the same fiscal quarter twice
    or two fiscal quarters that map to one calendar quarter.
    """
    needed = ["ticker", "fiscal_year", "fiscal_quarter", "period_end"]
    absent = [c for c in needed if c not in quarters.columns]
    if absent:
        raise DataUnavailable(f"quarters: missing column(s) {', '.join(absent)}")
    frame = quarters[needed].copy()
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    frame["fiscal_year"] = frame["fiscal_year"].astype(int)
    frame["fiscal_quarter"] = frame["fiscal_quarter"].astype(int)
    bad_quarter = ~frame["fiscal_quarter"].between(1, QUARTERS_PER_YEAR)
    if bad_quarter.any():
        raise DataUnavailable(f"quarters: fiscal_quarter not in 1..4 in row(s) {list(frame.index[bad_quarter])}")
    frame["fiscal_index"] = frame["fiscal_year"] * QUARTERS_PER_YEAR + frame["fiscal_quarter"] - 1
    duplicated = frame.duplicated(["ticker", "fiscal_index"], keep=False)
    if duplicated.any():
        raise DataUnavailable(f"quarters: the same company quarter appears twice in row(s) {list(frame.index[duplicated])}")

    calendar = nearest_calendar_quarter(frame["period_end"])
    frame["calendar_year"] = calendar["calendar_year"]
    frame["calendar_quarter"] = calendar["calendar_quarter"]
    frame["calendar_index"] = frame["calendar_year"] * QUARTERS_PER_YEAR + frame["calendar_quarter"] - 1
    clash = frame.duplicated(["ticker", "calendar_index"], keep=False)
    if clash.any():
        raise DataUnavailable(f"quarters: two fiscal quarters map to one calendar quarter in row(s) {list(frame.index[clash])}")

    ordered = frame.sort_values(["ticker", "fiscal_index"], kind="stable")
    previous_index = ordered.groupby("ticker")["fiscal_index"].shift(1)
    previous_end = ordered.groupby("ticker")["period_end"].shift(1)
    consecutive = previous_index == ordered["fiscal_index"] - 1
    month_end = _is_month_end(ordered["period_end"])
    fallback = pd.Series(
        np.where(
            month_end,
            ordered["period_end"] - pd.offsets.MonthEnd(3),
            ordered["period_end"] - pd.Timedelta(weeks=WEEKS_PER_QUARTER),
        ),
        index=ordered.index,
    )
    start = previous_end.where(consecutive, fallback) + pd.Timedelta(days=1)
    frame["period_start"] = start.reindex(frame.index)

    frame["fiscal_label"] = [fiscal_quarter_label(y, q) for y, q in zip(frame["fiscal_year"], frame["fiscal_quarter"])]
    frame["calendar_label"] = [calendar_quarter_label(y, q) for y, q in zip(frame["calendar_year"], frame["calendar_quarter"])]
    frame["calendar_note"] = [
        f"calendarized: {f} (ends {e.date().isoformat()}) shown as {c}, the calendar quarter with the nearest end date"
        for f, e, c in zip(frame["fiscal_label"], frame["period_end"], frame["calendar_label"])
    ]
    return frame


def period_windows(calendar: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The aggregation windows of one period type, one row per ticker x period.

    ``calendar`` is the output of :func:`quarter_calendar`. Columns of the result:

    - ``ticker``, ``period`` (label), ``period_end`` (the last quarter's end; NaT when the
      window's last quarter is absent), ``sort_key`` (index of the window's last quarter),
      ``opening_label`` (label of the quarter just before the window),
    - ``members``: tuple of ``calendar`` index labels of the quarters present in the window,
    - ``absent_quarters``: tuple of labels of the quarters the window needs but lacks
      (a window is complete only when this is empty: TTM and years need all four),
    - ``opening``: the ``calendar`` index label of the quarter just before the window (whose
      closing balances open it), or ``None`` when that quarter is absent,
    - ``period_note``: for calendar periods, which fiscal quarters were mapped; else empty.

    Windows: ``quarter`` and ``calendar_quarter`` one per quarter present; ``ttm`` one per quarter
    present (ending with it); ``fiscal_year`` / ``calendar_year`` one per year with at least one
    quarter present. Empty input gives an empty frame with these columns.
    """
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    calendar_basis = period.startswith("calendar")
    index_column = "calendar_index" if calendar_basis else "fiscal_index"
    rows: list[dict] = []
    for ticker, group in calendar.groupby("ticker", sort=True):
        by_index = dict(zip(group[index_column], group.index))
        windows: list[tuple[str, list[int]]] = []
        if period in ("quarter", "calendar_quarter"):
            for position in sorted(by_index):
                year, quarter = divmod(position, QUARTERS_PER_YEAR)
                label = (calendar_quarter_label if calendar_basis else fiscal_quarter_label)(year, quarter + 1)
                windows.append((label, [position]))
        elif period == "ttm":
            for position in sorted(by_index):
                year, quarter = divmod(position, QUARTERS_PER_YEAR)
                windows.append((ttm_label(year, quarter + 1), list(range(position - 3, position + 1))))
        else:
            label_of = calendar_year_label if calendar_basis else fiscal_year_label
            for year in sorted({p // QUARTERS_PER_YEAR for p in by_index}):
                first = year * QUARTERS_PER_YEAR
                windows.append((label_of(year), list(range(first, first + QUARTERS_PER_YEAR))))
        for label, needed in windows:
            members = tuple(by_index[p] for p in needed if p in by_index)
            absent = tuple(
                (calendar_quarter_label if calendar_basis else fiscal_quarter_label)(*_year_quarter(p)) for p in needed if p not in by_index
            )
            last = by_index.get(needed[-1])
            note = ""
            if calendar_basis and members:
                mapped = ", ".join(
                    f"{calendar.at[m, 'fiscal_label']} (ends {calendar.at[m, 'period_end'].date().isoformat()})" for m in members
                )
                note = f"calendarized: {label} = {mapped}; {CALENDARIZATION_NOTE}"
            rows.append(
                {
                    "ticker": ticker,
                    "period": label,
                    "period_end": calendar.at[last, "period_end"] if last is not None else pd.NaT,
                    "sort_key": needed[-1],
                    "members": members,
                    "absent_quarters": absent,
                    "opening": by_index.get(needed[0] - 1),
                    "opening_label": (calendar_quarter_label if calendar_basis else fiscal_quarter_label)(*_year_quarter(needed[0] - 1)),
                    "period_note": note,
                }
            )
    columns = [
        "ticker", "period", "period_end", "sort_key", "members", "absent_quarters", "opening", "opening_label",
        "period_note",
    ]  # fmt: skip
    result = pd.DataFrame(rows, columns=columns)
    result["period_end"] = pd.to_datetime(result["period_end"])
    result["opening"] = result["opening"].astype("Int64")  # NA, not NaN, where it is absent
    return result


def _year_quarter(position: int) -> tuple[int, int]:
    year, quarter = divmod(position, QUARTERS_PER_YEAR)
    return year, quarter + 1
