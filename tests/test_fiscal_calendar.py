"""The one fiscal-calendar module: quarters closed by dates, and nominal quarter ends, by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.fiscal_calendar import fiscal_period, nearest_month_end, nominal_quarter_end, quarterly_frequency


def test_frequency_names_the_year_end_month():
    assert quarterly_frequency(6) == "Q-JUN" and quarterly_frequency(12) == "Q-DEC"
    with pytest.raises(ValueError):
        quarterly_frequency(13)


@pytest.mark.parametrize(
    ("date", "month", "kind", "expected"),
    [
        ("2025-09-30", 6, "month_end", (2026, 1)),  # Microsoft FY2026 Q1
        ("2026-06-30", 6, "month_end", (2026, 4)),
        ("2025-08-31", 5, "month_end", (2026, 1)),  # Oracle FY2026 Q1
        ("2026-05-31", 5, "month_end", (2026, 4)),
        ("2025-12-31", 12, "month_end", (2025, 4)),
        ("2022-04-02", 12, "52_53_week", (2022, 1)),  # Intel's Saturday, two days after March
        ("2022-04-02", 12, "month_end", (None, None)),  # not a month-end on a month-end calendar
        ("2025-08-31", 6, "month_end", (None, None)),  # August closes no quarter of a June year
        ("2025-09-20", 12, "52_53_week", (None, None)),  # ten days off: too far
    ],
)
def test_fiscal_period_by_hand(date, month, kind, expected):
    got = fiscal_period(pd.Series([pd.Timestamp(date)]), fiscal_year_end_month=month, fiscal_calendar=kind).iloc[0]
    values = tuple(None if pd.isna(v) else int(v) for v in (got["fiscal_year"], got["fiscal_quarter"]))
    assert values == expected


def test_nominal_quarter_end_by_hand_with_one_year_end_per_row():
    ends = nominal_quarter_end(pd.Series([2026, 2026, 2025, 2026, 2025]), pd.Series([1, 4, 4, 5, 2]), pd.Series([6, 5, 12, 12, 12]))
    assert list(ends[:3]) == [pd.Timestamp("2025-09-30"), pd.Timestamp("2026-05-31"), pd.Timestamp("2025-12-31")]
    assert pd.isna(ends.iloc[3])  # a fifth quarter has no end
    assert ends.iloc[4] == pd.Timestamp("2025-06-30")


def test_round_trip_and_nearest_month_end():
    dates = pd.Series(pd.to_datetime(["2024-09-28", "2024-12-28", "2025-03-29"]))  # Intel's Saturdays
    assert list(nearest_month_end(dates)) == list(pd.to_datetime(["2024-09-30", "2024-12-31", "2025-03-31"]))
    periods = fiscal_period(dates, fiscal_year_end_month=12, fiscal_calendar="52_53_week")
    ends = nominal_quarter_end(periods["fiscal_year"], periods["fiscal_quarter"], pd.Series([12, 12, 12]))
    assert list(ends) == list(nearest_month_end(dates))
