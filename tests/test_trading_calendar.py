"""Day 0 from event date, time of day and the exchange calendar (NYSE and Tokyo)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.loaders.curated import load_companies
from dashboard.metrics.trading_calendar import map_day0, map_day0_to_rows, trading_sessions


def _events(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": [f"E{i}" for i in range(len(rows))],
            "ticker": [r[0] for r in rows],
            "event_date": pd.to_datetime([r[1] for r in rows]),
            "event_time": [r[2] for r in rows],
        }
    )


CASES = [
    # ticker, date, time, expected day 0, reason
    ("META", "2025-07-04", "unknown", "2025-07-07", "holiday_next_session"),  # Independence Day (Fri)
    ("META", "2025-11-27", "pre_market", "2025-11-28", "holiday_next_session"),  # Thanksgiving
    ("META", "2025-07-05", "after_close", "2025-07-07", "weekend_next_session"),  # Saturday
    ("META", "2025-07-03", "after_close", "2025-07-07", "after_close_next_session"),  # half day, then holiday
    ("META", "2025-10-31", "after_close", "2025-11-03", "after_close_next_session"),  # Friday -> Monday
    ("META", "2025-10-29", "after_close", "2025-10-30", "after_close_next_session"),  # Meta Q3 2025
    ("META", "2025-10-30", "intraday", "2025-10-30", "same_session"),  # Meta's $30B bond
    ("MSFT", "2025-10-29", "pre_market", "2025-10-29", "same_session"),
    ("9984.T", "2025-05-05", "unknown", "2025-05-07", "holiday_next_session"),  # Golden Week (Mon, Tue)
    ("9984.T", "2025-07-04", "unknown", "2025-07-04", "same_session"),  # a Tokyo session on a US holiday
    ("9984.T", "2025-11-11", "after_close", "2025-11-12", "after_close_next_session"),
    ("9984.T", "2025-12-31", "unknown", "2026-01-05", "holiday_next_session"),  # TSE year-end closure
]


def test_day0_rules_on_nyse_and_tokyo() -> None:
    events = _events([c[:3] for c in CASES])
    before = events.copy()
    out = map_day0(events, companies=load_companies())
    pd.testing.assert_frame_equal(events, before)
    assert out["day0"].dt.strftime("%Y-%m-%d").tolist() == [c[3] for c in CASES]
    assert out["day0_reason"].tolist() == [c[4] for c in CASES]
    assert out["calendar"].tolist() == ["XTKS" if c[0] == "9984.T" else "XNYS" for c in CASES]


def test_trading_sessions_know_the_holidays() -> None:
    nyse = trading_sessions("XNYS", "2025-07-01", "2025-07-10")
    assert pd.Timestamp("2025-07-04") not in nyse and pd.Timestamp("2025-07-03") in nyse
    with pytest.raises(ValueError, match="unknown exchange calendar"):
        trading_sessions("NOPE", "2025-01-01", "2025-02-01")


def test_day0_on_the_rows_of_a_returns_file() -> None:
    rows = pd.to_datetime(["2020-03-13", "2020-03-16", "2020-03-18"])
    events = _events(
        [
            ("X", "2020-03-16", "unknown"),
            ("X", "2020-03-16", "after_close"),
            ("X", "2020-03-17", "pre_market"),
            ("X", "2020-03-18", "after_close"),
        ]
    )
    out = map_day0_to_rows(events, rows)
    assert out["day0"].dt.strftime("%Y-%m-%d").fillna("NaT").tolist() == ["2020-03-16", "2020-03-18", "2020-03-18", "NaT"]
    assert out["day0_reason"].tolist() == ["same_session", "after_close_next_session", "no_row_on_date_next_row", "beyond_sessions"]
