"""Returns from closes and peer returns: hand-computed examples (synthetic, labelled)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.loaders.curated import load_companies
from dashboard.metrics.returns import (
    log_returns,
    peer_returns,
    peers_from_companies,
    returns_from_closes,
    simple_returns,
)


@pytest.fixture
def closes() -> pd.DataFrame:
    """Synthetic closes: US has no close on a Tokyo-only date (row 2), JP none on a US-only one."""
    index = pd.to_datetime(["2025-01-06", "2025-01-07", "2025-01-08", "2025-01-09"])
    return pd.DataFrame({"US": [100.0, 110.0, np.nan, 99.0], "JP": [50.0, np.nan, 55.0, 55.0]}, index=index)


def test_simple_returns_by_hand_each_ticker_on_its_own_calendar(closes: pd.DataFrame) -> None:
    out = simple_returns(closes)
    # US: 110/100-1 = 0.10; the Tokyo-only row is NaN; 99/110-1 = -0.10 spans the gap.
    assert np.isnan(out.loc["2025-01-06", "US"])
    assert out.loc["2025-01-07", "US"] == pytest.approx(0.10)
    assert np.isnan(out.loc["2025-01-08", "US"])
    assert out.loc["2025-01-09", "US"] == pytest.approx(-0.10)
    # JP: 55/50-1 = 0.10 (over its own previous close), then 0.
    assert np.isnan(out.loc["2025-01-07", "JP"])
    assert out.loc["2025-01-08", "JP"] == pytest.approx(0.10)
    assert out.loc["2025-01-09", "JP"] == pytest.approx(0.0)
    assert out.index.equals(closes.index) and list(out.columns) == ["US", "JP"]


def test_log_returns_by_hand(closes: pd.DataFrame) -> None:
    out = log_returns(closes)
    assert out.loc["2025-01-07", "US"] == pytest.approx(math.log(1.1))
    assert out.loc["2025-01-09", "US"] == pytest.approx(math.log(0.9))
    assert returns_from_closes(closes, kind="log").equals(out)


def test_returns_reject_bad_input_and_leave_input_alone(closes: pd.DataFrame) -> None:
    before = closes.copy()
    returns_from_closes(closes)
    pd.testing.assert_frame_equal(closes, before)
    with pytest.raises(ValueError, match="kind"):
        returns_from_closes(closes, kind="pct")  # type: ignore[arg-type]
    bad = closes.copy()
    bad.iloc[0, 0] = 0.0
    with pytest.raises(ValueError, match="not positive"):
        returns_from_closes(bad)
    assert returns_from_closes(closes.iloc[:0]).empty


def test_peer_returns_equal_weighted_excluding_the_company() -> None:
    index = pd.to_datetime(["2025-01-06", "2025-01-07"])
    returns = pd.DataFrame({"A": [0.01, 0.02], "B": [0.03, np.nan], "C": [-0.01, 0.04]}, index=index)
    before = returns.copy()
    out = peer_returns(returns, {"A": ["A", "B", "C"], "B": ["A", "C"], "Z": ["MISSING"]})
    # A's peers are B and C (A itself dropped): mean(0.03, -0.01) = 0.01; day 2 only C: 0.04.
    assert out.loc["2025-01-06", "A"] == pytest.approx(0.01)
    assert out.loc["2025-01-07", "A"] == pytest.approx(0.04)
    assert out.loc["2025-01-07", "B"] == pytest.approx(0.03)
    assert out["Z"].isna().all()
    pd.testing.assert_frame_equal(returns, before)


def test_peers_from_the_companies_table() -> None:
    peers = peers_from_companies(load_companies())
    assert sorted(peers["META"]) == ["AMZN", "GOOGL", "INTC", "MSFT", "ORCL"]
    assert peers["9984.T"] == []
