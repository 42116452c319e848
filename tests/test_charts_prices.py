"""The price chart's range: a shorter range starts at its own first close, rebased to 100 there.

SYNTHETIC closes (hand-made, not market data), so every expected value is worked out by hand.
"""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.charts.prices import price_vs_benchmark_figure

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
