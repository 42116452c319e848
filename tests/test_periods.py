"""Period labels, quarter bounds, calendarization and aggregation windows (dashboard.metrics.periods).

Frozen snapshot fundamentals (tests/fixtures/snapshot) unless a test says "synthetic".
"""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.errors import DataUnavailable
from dashboard.loaders.curated import load_fundamentals
from dashboard.metrics.periods import (
    calendar_quarter_label,
    calendar_ttm_label,
    calendar_year_label,
    fiscal_quarter_label,
    fiscal_year_label,
    nearest_calendar_quarter,
    period_windows,
    quarter_calendar,
    ttm_label,
)


@pytest.fixture(scope="module")
def fundamentals() -> pd.DataFrame:
    return load_fundamentals()


@pytest.fixture(scope="module")
def calendar(fundamentals: pd.DataFrame) -> pd.DataFrame:
    return quarter_calendar(fundamentals)


def _row(calendar: pd.DataFrame, ticker: str, label: str) -> pd.Series:
    rows = calendar[(calendar["ticker"] == ticker) & (calendar["fiscal_label"] == label)]
    assert len(rows) == 1, (ticker, label)
    return rows.iloc[0]


def test_labels() -> None:
    assert fiscal_quarter_label(2025, 3) == "FY2025 Q3"
    assert ttm_label(2025, 3) == "TTM to FY2025 Q3"
    assert fiscal_year_label(2025) == "FY2025"
    assert calendar_quarter_label(2025, 3) == "CY2025 Q3"
    assert calendar_year_label(2025) == "CY2025"
    assert calendar_ttm_label(2026, 1) == "TTM to CY2026 Q1"  # the forward view's calendar run-rate


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2024-03-30", (2024, 1)),  # Intel's Saturday quarter end: 1 day before Mar 31
        ("2025-08-31", (2025, 3)),  # Oracle: 30 days to Sep 30 against 62 from Jun 30
        ("2025-09-30", (2025, 3)),  # Microsoft: exactly a calendar quarter end
        ("2025-05-31", (2025, 2)),  # Oracle FY2025 Q4: 30 days to Jun 30 against 61 from Mar 31
        ("2025-11-30", (2025, 4)),  # 31 days to Dec 31 against 61 from Sep 30
        ("2026-02-28", (2026, 1)),  # 31 days to Mar 31 against 59 from Dec 31
        ("2022-04-02", (2022, 1)),  # Intel's 14-week quarter: 2 days after Mar 31
        ("2025-02-14", (2025, 1)),  # synthetic tie: 45 days from Dec 31 and 45 to Mar 31 -> later
    ],
)
def test_nearest_calendar_quarter(date: str, expected: tuple[int, int]) -> None:
    result = nearest_calendar_quarter(pd.Series([pd.Timestamp(date)]))
    assert tuple(result.iloc[0]) == expected


def test_calendarization_of_msft_orcl_intc(calendar: pd.DataFrame) -> None:
    assert _row(calendar, "INTC", "FY2024 Q1")["calendar_label"] == "CY2024 Q1"
    assert _row(calendar, "ORCL", "FY2026 Q1")["calendar_label"] == "CY2025 Q3"
    assert _row(calendar, "MSFT", "FY2026 Q1")["calendar_label"] == "CY2025 Q3"
    assert _row(calendar, "MSFT", "FY2025 Q4")["calendar_label"] == "CY2025 Q2"
    assert "nearest end date" in _row(calendar, "ORCL", "FY2026 Q1")["calendar_note"]
    # Each company's mapping is a constant shift: Microsoft's (June) and Oracle's (May) fiscal
    # years run two quarters ahead of the calendar; Intel's, Meta's etc. coincide with it.
    shift = (calendar["fiscal_index"] - calendar["calendar_index"]).groupby(calendar["ticker"]).agg(["min", "max"])
    assert (shift["min"] == shift["max"]).all()
    assert shift.loc["MSFT", "min"] == 2 and shift.loc["ORCL", "min"] == 2
    assert shift.loc["INTC", "min"] == 0 and shift.loc["META", "min"] == 0
    # One-to-one: no company has two fiscal quarters in one calendar quarter.
    assert not calendar.duplicated(["ticker", "calendar_index"]).any()


def test_quarter_starts(calendar: pd.DataFrame) -> None:
    # The day after the previous quarter's end when it is present ...
    assert _row(calendar, "INTC", "FY2024 Q1")["period_start"] == pd.Timestamp("2023-12-31")  # after Sat 2023-12-30
    assert _row(calendar, "META", "FY2025 Q4")["period_start"] == pd.Timestamp("2025-10-01")
    # ... otherwise three months before a month-end quarter end, or 13 weeks before a Saturday one.
    assert _row(calendar, "ORCL", "FY2022 Q3")["period_start"] == pd.Timestamp("2021-12-01")
    assert _row(calendar, "INTC", "FY2022 Q1")["period_start"] == pd.Timestamp("2022-04-02") - pd.Timedelta(days=90)


def test_ttm_windows_need_four_consecutive_quarters(calendar: pd.DataFrame) -> None:
    windows = period_windows(calendar, "ttm").set_index(["ticker", "period"])
    first = windows.loc[("META", "TTM to FY2022 Q3")]  # Meta's data start with FY2022 Q1
    assert first["absent_quarters"] == ("FY2021 Q4",)
    assert len(first["members"]) == 3
    full = windows.loc[("META", "TTM to FY2025 Q3")]
    assert full["absent_quarters"] == ()
    labels = [calendar.at[m, "fiscal_label"] for m in full["members"]]
    assert labels == ["FY2024 Q4", "FY2025 Q1", "FY2025 Q2", "FY2025 Q3"]
    assert calendar.at[full["opening"], "fiscal_label"] == "FY2024 Q3"


def test_year_windows(calendar: pd.DataFrame) -> None:
    fiscal = period_windows(calendar, "fiscal_year").set_index(["ticker", "period"])
    assert fiscal.loc[("MSFT", "FY2022"), "absent_quarters"] == ("FY2022 Q1", "FY2022 Q2")
    assert fiscal.loc[("ORCL", "FY2026"), "period_end"] == pd.Timestamp("2026-05-31")
    calendar_years = period_windows(calendar, "calendar_year").set_index(["ticker", "period"])
    msft = calendar_years.loc[("MSFT", "CY2024")]
    assert [calendar.at[m, "fiscal_label"] for m in msft["members"]] == [
        "FY2024 Q3",
        "FY2024 Q4",
        "FY2025 Q1",
        "FY2025 Q2",
    ]
    assert "calendarized" in msft["period_note"] and msft["period_end"] == pd.Timestamp("2024-12-31")


def test_duplicate_quarter_is_an_error(fundamentals: pd.DataFrame) -> None:
    doubled = pd.concat([fundamentals, fundamentals.iloc[[0]]])
    with pytest.raises(DataUnavailable, match="appears twice"):
        quarter_calendar(doubled)


def test_inputs_not_mutated(fundamentals: pd.DataFrame) -> None:
    before = fundamentals.copy(deep=True)
    calendar = quarter_calendar(fundamentals)
    for period in ("quarter", "ttm", "fiscal_year", "calendar_quarter", "calendar_year"):
        period_windows(calendar, period)
    pd.testing.assert_frame_equal(fundamentals, before)


def test_empty_input() -> None:
    empty = pd.DataFrame(columns=["ticker", "fiscal_year", "fiscal_quarter", "period_end"])
    calendar = quarter_calendar(empty)
    assert calendar.empty
    assert period_windows(calendar, "ttm").empty
