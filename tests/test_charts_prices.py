"""The price chart's range: a shorter range starts at its own first close, rebased to 100 there.

SYNTHETIC closes (hand-made, not market data), so every expected value is worked out by hand.
"""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.charts.prices import price_vs_benchmark_figure
from dashboard.charts.theme import description_of

DATES = pd.bdate_range("2024-01-01", periods=6)
CLOSES = pd.DataFrame(  # SYNTHETIC
    {"AAA": [10.0, 11.0, 12.0, 15.0, 18.0, 24.0], "MKT": [100.0, 100.0, 110.0, 120.0, 132.0, 150.0]},
    index=DATES,
)
NO_MARKERS = pd.DataFrame()


def lines(start: pd.Timestamp | None) -> dict[str, tuple[list, list]]:
    figure = price_vs_benchmark_figure(CLOSES, ticker="AAA", benchmark="MKT", markers=NO_MARKERS, window_label="[0, 1]", start=start)
    return {trace.name: (list(pd.to_datetime(trace.x)), list(trace.y)) for trace in figure.data}


def test_whole_range_is_rebased_at_the_first_common_close():
    drawn = lines(None)
    assert drawn["AAA"][0][0] == DATES[0]
    assert drawn["AAA"][1] == pytest.approx([100, 110, 120, 150, 180, 240])
    assert drawn["MKT"][1] == pytest.approx([100, 100, 110, 120, 132, 150])


def test_a_shorter_range_starts_at_its_own_first_close_rebased_to_100():
    drawn = lines(DATES[3])
    assert drawn["AAA"][0] == list(DATES[3:])
    assert drawn["AAA"][1] == pytest.approx([100, 120, 160])  # 15 -> 18 -> 24
    assert drawn["MKT"][1] == pytest.approx([100, 110, 125])  # 120 -> 132 -> 150


def test_the_range_ends_at_the_stocks_last_close_when_the_benchmark_runs_on():
    """SoftBank's case: the benchmark has closes after the stock's last one; the x axis stops at
    the stock's last close, in the whole range as in a shorter one."""
    closes = CLOSES.copy()
    closes.loc[DATES[-1], "AAA"] = float("nan")  # SYNTHETIC: the stock stops a day early
    for start in (None, DATES[2]):
        figure = price_vs_benchmark_figure(closes, ticker="AAA", benchmark="MKT", markers=NO_MARKERS, window_label="[0, 1]", start=start)
        assert list(pd.to_datetime(figure.layout.xaxis.range)) == [DATES[0] if start is None else DATES[2], DATES[-2]]


def test_the_stock_and_benchmark_start_on_the_same_day_when_the_range_starts_on_a_holiday_of_one():
    closes = CLOSES.copy()
    closes.loc[DATES[3], "MKT"] = float("nan")  # SYNTHETIC: the benchmark's holiday
    figure = price_vs_benchmark_figure(closes, ticker="AAA", benchmark="MKT", markers=NO_MARKERS, window_label="[0, 1]", start=DATES[3])
    drawn = {trace.name: list(pd.to_datetime(trace.x)) for trace in figure.data}
    assert drawn["AAA"][0] == drawn["MKT"][0] == DATES[4]


def test_only_the_events_inside_a_shorter_range_are_counted():
    markers = pd.DataFrame(  # SYNTHETIC events
        {
            "event_id": ["E1", "E2"],
            "day0": [DATES[1], DATES[4]],
            "headline": ["before the range", "inside it"],
            "car": [0.01, -0.02],
            "car_t": [1.0, -2.5],
            "car_p": [0.3, 0.01],
            "status": ["ok", "ok"],
        }
    )
    figure = price_vs_benchmark_figure(CLOSES, ticker="AAA", benchmark="MKT", markers=markers, window_label="[0, 1]", start=DATES[3])
    drawn = [event for trace in figure.data if trace.name.startswith("Event") for event in trace.customdata]
    assert drawn == ["E2"]
    assert "; 1 event markers, 1 with a CAR" in description_of(figure)
