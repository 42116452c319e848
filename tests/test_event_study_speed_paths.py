"""The faster paths of the event study compute what the straightforward ones do: ranks by one sort
per row equal scipy's, chunked engine and group statistics equal one chunk, cross-correlation sums
over a set equal the direct formula. SYNTHETIC seeded data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dashboard.metrics import caar, event_engine, event_tests
from dashboard.metrics.caar import group_statistics
from dashboard.metrics.event_study import run_event_study
from tests.event_study_golden import synthetic_companies, synthetic_events, synthetic_returns


@pytest.mark.parametrize("ties", [True, False])
def test_rank_deviations_equal_scipy_with_ties_nan_and_inf(ties: bool) -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(0, 1, (300, 60))
    if ties:
        values = np.round(values, 1)
        values[0, :5] = [np.inf, -np.inf, 0.0, -0.0, 0.0]
    values[rng.random(values.shape) < 0.15] = np.nan
    values[1] = np.nan
    ranks = stats.rankdata(values, axis=1, nan_policy="omit")
    with np.errstate(invalid="ignore", divide="ignore"):
        want = ranks / (np.isfinite(values).sum(axis=1, keepdims=True) + 1.0) - 0.5
    np.testing.assert_array_equal(event_tests.rank_deviations(values), want)


def test_cross_correlation_sums_equal_the_direct_formula() -> None:
    rng = np.random.default_rng(5)
    residuals = rng.normal(0, 1, (40, 30))
    residuals[rng.random(residuals.shape) < 0.2] = np.nan
    members = rng.random(40) > 0.4
    z, present = event_tests.standardized_residuals(residuals)
    from_sums = event_tests.average_cross_correlation_from_sums(
        members.astype(float) @ z, members.astype(float) @ present.astype(float), [(z[members] ** 2).sum()]
    )
    assert from_sums[0] == pytest.approx(event_tests.average_cross_correlation(residuals[members]), rel=1e-12)


@pytest.mark.parametrize("model", ["market", "constant_mean", "peer"])
def test_small_chunks_give_the_same_study(monkeypatch, model: str) -> None:
    returns = synthetic_returns()
    events, companies = synthetic_events(returns), synthetic_companies()
    whole = run_event_study(events, returns, companies=companies, model=model, sessions="rows")
    whole_tables = group_statistics(whole, group_by="ticker")
    monkeypatch.setattr(event_engine, "CHUNK_EVENTS", 7)
    monkeypatch.setattr(caar, "CHUNK_EVENTS", 5)
    chunked = run_event_study(events, returns, companies=companies, model=model, sessions="rows")
    for got, want in ((chunked.events, whole.events), (chunked.abnormal, whole.abnormal), (chunked.parameters, whole.parameters)):
        pd.testing.assert_frame_equal(got, want)
    for got, want in zip(group_statistics(chunked, group_by="ticker"), whole_tables, strict=True):
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-12)
