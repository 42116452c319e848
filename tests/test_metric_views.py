"""Metric helpers the pages use: selecting events of a study, CAAR intervals, relative deal size.

Checked on the frozen snapshot (tests/fixtures/snapshot) against independent computations
(scipy's t interval on the CARs themselves; TTM capex summed by hand from its fundamentals.csv).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dashboard.loaders.curated import close_prices, load_prices
from dashboard.metrics.caar import caar_intervals, group_statistics
from dashboard.metrics.event_study import run_event_study, select_events
from dashboard.metrics.funding import relative_deal_size
from dashboard.metrics.returns import returns_from_closes


@pytest.fixture(scope="module")
def study(snapshot_frames):
    returns = returns_from_closes(close_prices(load_prices()))
    return run_event_study(snapshot_frames["events"], returns, companies=snapshot_frames["companies"])


def test_caar_interval_equals_scipy_t_interval_on_the_cars(study):
    summary = caar_intervals(group_statistics(study, group_by="all")[0])
    row = summary[(summary["sample"] == "all") & (summary["window_start"] == -1) & (summary["window_end"] == 1)].iloc[0]
    rows = study.events[(study.events["window_start"] == -1) & (study.events["window_end"] == 1) & (study.events["status"] == "ok")]
    cars = rows["car"].to_numpy()
    low, high = stats.t.interval(0.95, len(cars) - 1, loc=cars.mean(), scale=stats.sem(cars))
    assert row["n_events"] == len(cars)
    assert row["lower"] == pytest.approx(low, abs=1e-12) and row["upper"] == pytest.approx(high, abs=1e-12)


def test_caar_interval_is_nan_for_a_small_group(study):
    summary = caar_intervals(group_statistics(study, group_by="event_type")[0])
    small = summary[summary["small_sample"]]
    assert len(small) > 0 and small["lower"].isna().all() and small["upper"].isna().all()


def test_selected_events_give_the_same_statistics_as_their_group(study):
    meta_ids = study.parameters.loc[study.parameters["ticker"] == "META", "event_id"]
    by_ticker = group_statistics(study, group_by="ticker")[0]
    selected = group_statistics(select_events(study, meta_ids), group_by="all")[0]
    expected = by_ticker[by_ticker["group"] == "META"].drop(columns="group").reset_index(drop=True)
    pd.testing.assert_frame_equal(selected.drop(columns="group").reset_index(drop=True), expected)
    assert len(select_events(study, ["no-such-id"]).parameters) == 0


def test_relative_deal_size_by_hand(snapshot_table, snapshot_frames):
    ttm = snapshot_table("ttm")
    events = snapshot_frames["events"]
    sized = relative_deal_size(events, ttm).set_index("event_id")
    bond = sized.loc["EV053"]  # Meta's $30B bond, 2025-10-30
    # TTM to FY2025 Q3 reported capex: 14,425 + 12,941 + 16,538 + 18,829 = 62,733 (USD m)
    assert bond["ttm_period"] == "TTM to FY2025 Q3" and bond["trailing_capex"] == 62733.0
    assert bond["relative_size"] == pytest.approx(30000 / 62733)
    softbank = sized[sized["ticker"] == "9984.T"]
    assert softbank["relative_size"].isna().all()
    assert set(softbank["size_note"]) <= {"no amount", "no trailing capex before the event"}
    assert len(sized) == len(events) and np.all(events["event_date"].notna())


def test_missing_names_bridge_inputs_and_memo_missing_names_memo_reasons(snapshot_table):
    # split_missing is gone: the table keeps the two kinds of reason in two tuple columns, so
    # nothing parses a joined string back. missing: bridge inputs, absent quarters or the opening
    # cash balance; memo_missing: why a memo line is unknown.
    from dashboard.metrics.funding import FLOW_INPUTS
    from dashboard.metrics.memo_lines import MEMO_LINES

    table = snapshot_table("quarter")
    bridge_names = set(FLOW_INPUTS) | {"cash_and_securities", "cash_and_securities_start"}
    parts = [name for names in table["missing"] for name in names]
    assert parts and all(
        name in bridge_names or name.startswith("quarter ") or name.startswith("cash_and_securities_start (") for name in parts
    )
    reasons = [reason for names in table["memo_missing"] for reason in names]
    memo_prefixes = ("memo lines: ", *(f"{line}: " for line in MEMO_LINES))
    assert reasons and all(reason.startswith(memo_prefixes) for reason in reasons)
    # Both kinds on one row: Oracle FY2026 Q4 lacks buybacks and dividends, and ORCL-MICHIGAN
    # closed there without an amount (fundamentals.csv and events.csv of the frozen snapshot).
    q4 = table[(table["ticker"] == "ORCL") & (table["period"] == "FY2026 Q4")].iloc[0]
    assert {"buybacks", "dividends"} <= set(q4["missing"])
    assert q4["memo_missing"] == ("third_party_financing_memo: ORCL-MICHIGAN has no amount",)
