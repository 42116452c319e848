"""Property tests (hypothesis) of the metric invariants, on synthetic inputs built to check the math.

- The funding gap's lower bound is never above the exact gap, whatever the missing outflows
  turn out to be, and equals it when nothing is missing.
- CARs add up: the CAR over [a, c] is the CAR over [a, b] plus the one over [b + 1, c].
- Under the market-adjusted model, adding the same constant to every stock and benchmark return
  leaves every abnormal return unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.metrics.event_study import run_event_study
from dashboard.metrics.funding import funding_gap, funding_gap_lower_bound, internal_funding

money = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
signed_money = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(
    capex=money, lease=money, ocf=signed_money, buybacks=money, dividends=money,
    missing=st.sets(st.sampled_from(["buybacks", "dividends", "finance_lease_principal"])),
    basis=st.sampled_from(["reported", "economic"]),
)  # fmt: skip
def test_lower_bound_never_exceeds_the_gap(capex, lease, ocf, buybacks, dividends, missing, basis):
    known = {"buybacks": buybacks, "dividends": dividends, "finance_lease_principal": lease}
    seen = {name: (np.nan if name in missing else value) for name, value in known.items()}
    exact_capex = capex + lease if basis == "economic" else capex
    exact = funding_gap(exact_capex, internal_funding(ocf, buybacks, dividends))
    bound = funding_gap_lower_bound(capex, seen["finance_lease_principal"], ocf, seen["buybacks"], seen["dividends"], capex_basis=basis)
    assert bound <= exact + 1e-6
    if not missing or (basis == "reported" and missing == {"finance_lease_principal"}):
        assert bound == pytest.approx(exact)


def _synthetic_study(seed: int, shift: float = 0.0, model: str = "market_adjusted", windows=((-2, 0), (1, 3), (-2, 3))):
    """A seeded synthetic market (one stock, one benchmark, 400 business days) with three events."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-01", periods=400)
    market = rng.normal(0.0004, 0.01, len(dates))
    stock = 0.0002 + 1.2 * market + rng.normal(0, 0.015, len(dates))
    returns = pd.DataFrame({"STK": stock + shift, "MKT": market + shift}, index=dates)
    events = pd.DataFrame(
        {
            "event_id": ["E1", "E2", "E3"],
            "ticker": ["STK"] * 3,
            "event_date": [dates[300], dates[340], dates[380]],
            "event_time": ["pre_market"] * 3,
        }
    )
    return run_event_study(
        events, returns, companies=None, model=model, benchmark="MKT", estimation=(-250, -11), windows=windows,
        min_estimation=100, sessions="rows",
    )  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=10_000), model=st.sampled_from(["market", "market_adjusted", "constant_mean"]))
def test_cars_add_up_over_adjacent_windows(seed, model):
    events = _synthetic_study(seed, model=model).events.set_index(["event_id", "window_start", "window_end"])["car"]
    for event_id in ("E1", "E2", "E3"):
        assert events[(event_id, -2, 3)] == pytest.approx(events[(event_id, -2, 0)] + events[(event_id, 1, 3)], abs=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=10_000), shift=st.floats(min_value=-0.05, max_value=0.05))
def test_shifting_every_return_leaves_market_adjusted_ar_unchanged(seed, shift):
    base = _synthetic_study(seed).abnormal["ar"].to_numpy()
    moved = _synthetic_study(seed, shift=shift).abnormal["ar"].to_numpy()
    assert np.isfinite(base).any()
    np.testing.assert_allclose(moved, base, atol=1e-12, equal_nan=True)
