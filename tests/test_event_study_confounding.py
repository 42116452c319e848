"""Which events confound which (``confounded_by``), groups whose events are all confounded
(``all_confounded``), and the second placement of events of unknown time (``day0_alt``,
``car_alt``). Expected values come from plain loops, exchange_calendars itself, or by hand.

Curated values read the frozen snapshot (tests/conftest.py), never the live ``data/``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from dashboard.__main__ import main
from dashboard.exporting import export_csv, read_export
from dashboard.loaders.curated import close_prices, load_companies, load_events, load_prices
from dashboard.metrics.caar import SUMMARY_COLUMNS, group_statistics
from dashboard.metrics.event_engine import confounding
from dashboard.metrics.event_study import EVENT_COLUMNS, EVENTS_FILE_COLUMNS, run_event_study, select_events
from dashboard.metrics.returns import returns_from_closes
from tests.event_study_golden import synthetic_companies, synthetic_events, synthetic_returns

# EVENTS.csv as it was first published: these columns keep their names and order.
FIRST_EVENTS_FILE_COLUMNS = [
    "event_id",
    "ticker",
    "event_type",
    "event_date",
    "day0",
    "day0_reason",
    "window_start",
    "window_end",
    "model",
    "benchmark",
    "alpha",
    "beta",
    "sigma",
    "n_estimation",
    "n_masked",
    "car",
    "car_se",
    "car_t",
    "car_p",
    "confounded",
    "status",
    "n_missing",
]


def _sessions(calendar: str, start: str, end: str) -> pd.DatetimeIndex:
    """Sessions straight from exchange_calendars (not through the package's own wrapper)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sessions = xcals.get_calendar(calendar, start=start, end=end).sessions
    return pd.DatetimeIndex(sessions).tz_localize(None) if sessions.tz is not None else pd.DatetimeIndex(sessions)


@pytest.fixture(scope="module")
def curated_result():
    returns = returns_from_closes(close_prices(load_prices()))
    return run_event_study(load_events(), returns, companies=load_companies())


# --- confounded_by ------------------------------------------------------------------------------


def test_confounded_by_lists_exactly_the_same_company_events_inside_each_window(curated_result) -> None:
    params = curated_result.parameters
    calendars = dict(zip(params["event_id"], params["calendar"], strict=True))
    position = {}
    for calendar in params["calendar"].unique():
        for i, day in enumerate(_sessions(calendar, "2023-01-01", "2026-12-31")):
            position[(calendar, day)] = i
    day0 = {e: (calendars[e], d) for e, d in zip(params["event_id"], params["day0"], strict=True) if pd.notna(d)}
    rows = curated_result.events
    assert list(rows.columns) == list(EVENT_COLUMNS)
    assert list(rows.columns).index("confounded_by") == list(rows.columns).index("confounded") + 1
    checked_confounded = 0
    for row in rows.itertuples(index=False):
        assert isinstance(row.confounded_by, tuple)
        expected = []
        if row.event_id in day0:
            own = position[day0[row.event_id]]
            for other in params.itertuples(index=False):
                if other.ticker == row.ticker and other.event_id != row.event_id and other.event_id in day0:
                    offset = position[day0[other.event_id]] - own
                    if row.window_start <= offset <= row.window_end:
                        expected.append((other.day0, other.event_id))
        assert row.confounded_by == tuple(e for _, e in sorted(expected)), (row.event_id, row.window_start)
        assert bool(row.confounded) == bool(expected) == (row.confounded_by != ())
        checked_confounded += bool(expected)
    assert checked_confounded > 20  # the check saw many confounded rows, not only empty ones


def test_meta_10q_and_q2_results_share_day0_and_name_each_other(curated_result) -> None:
    events = load_events().set_index("event_id")
    assert events.loc["EV035", "event_time"] == "after_close" and events.loc["EV032", "event_time"] == "after_close"
    rows = curated_result.events.set_index(["event_id", "window_start", "window_end"])
    assert rows.loc[("EV035", -1, 1), "day0"] == rows.loc[("EV032", -1, 1), "day0"] == pd.Timestamp("2025-07-31")
    assert "EV032" in rows.loc[("EV035", -1, 1), "confounded_by"]
    assert "EV035" in rows.loc[("EV032", -1, 1), "confounded_by"]


def test_a_window_without_day_0_is_confounded_by_one_other_event() -> None:
    # Synthetic: two events of one ticker two days apart; window [+1, +3] of the first holds the second.
    codes, positions = np.array([0, 0, 1]), np.array([10, 12, 12])
    confounded, confounded_by = confounding(
        codes, positions, np.ones(3, bool), np.array(["A", "B", "C"], dtype=object), ((1, 3), (-3, -1), (0, 0)), 100, np.arange(3)
    )
    assert confounded.tolist() == [[True, False, False], [False, True, False], [False, False, False]]
    assert confounded_by.tolist() == [[("B",), (), ()], [(), ("A",), ()], [(), (), ()]]


def test_confounded_by_orders_by_day0_then_id_and_skips_events_without_day0() -> None:
    codes = np.zeros(5, int)
    positions = np.array([50, 52, 49, 52, 51])
    has_day0 = np.array([True, True, True, True, False])
    ids = np.array(["E0", "Z1", "M2", "A3", "N4"], dtype=object)
    _, confounded_by = confounding(codes, positions, has_day0, ids, ((-5, 5),), 100, np.arange(5))
    assert confounded_by[0, 0] == ("M2", "A3", "Z1")  # day 49, then day 52 by id
    assert confounded_by[4, 0] == ()  # no day 0: never confounded


def test_confounding_scales_to_100k_events_and_matches_a_loop_on_a_sample() -> None:
    rng = np.random.default_rng(5)  # synthetic
    n = 100_000
    codes = rng.integers(0, 300, n)
    positions = rng.integers(0, 2_500, n)
    ids = np.array([f"X{k:06d}" for k in range(n)], dtype=object)
    windows = ((-1, 1), (0, 20), (-5, 5))
    confounded, confounded_by = confounding(codes, positions, np.ones(n, bool), ids, windows, 2_500, np.arange(n))
    assert confounded.any(axis=0).all()
    for i in rng.choice(n, 40, replace=False):
        same = np.flatnonzero((codes == codes[i]) & (np.arange(n) != i))
        for w, (a, b) in enumerate(windows):
            inside = [j for j in same if a <= positions[j] - positions[i] <= b]
            expected = tuple(ids[j] for j in sorted(inside, key=lambda j: (positions[j], ids[j])))
            assert confounded_by[i, w] == expected and confounded[i, w] == bool(expected)


def test_confounders_on_another_calendar_leave_the_studied_rows_as_in_the_full_run() -> None:
    returns, companies = synthetic_returns(), synthetic_companies()
    events = synthetic_events(returns)
    full = run_event_study(events, returns, companies=companies)
    us = events[events["ticker"] == "AAA"]
    alone = run_event_study(us, returns, companies=companies, confounders=events)
    expected = select_events(full, us["event_id"])
    pd.testing.assert_frame_equal(alone.events, expected.events)
    pd.testing.assert_frame_equal(alone.parameters, expected.parameters)
    # Only Tokyo events as confounders: their calendar has no studied event at all.
    tokyo = events[events["ticker"] == "JJJ"]
    solo = run_event_study(us, returns, companies=companies, confounders=tokyo)
    assert solo.parameters["event_id"].tolist() == us["event_id"].tolist()


# --- all_confounded ------------------------------------------------------------------------------


def _panel(n_days: int = 400, seed: int = 3) -> pd.DataFrame:
    """Synthetic: market N(0.0004, 0.01); S1, S2 = beta * market + N(0, 0.015)."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2020-01-01", periods=n_days)
    market = rng.normal(0.0004, 0.01, n_days)
    return pd.DataFrame(
        {"MKT": market, "S1": 0.9 * market + rng.normal(0, 0.015, n_days), "S2": 1.2 * market + rng.normal(0, 0.015, n_days)}, index=index
    )


def test_all_confounded_by_hand() -> None:
    returns = _panel()
    days = returns.index
    # S1: two events on consecutive days (each inside the other's [-1, 1], not the other's [0, 0]);
    # S2: two such events and one alone (some confounded, not all); NOPE: two events on one day,
    # but no prices, so no member at all.
    events = pd.DataFrame(
        {
            "event_id": ["A", "B", "C", "F", "G", "D", "E"],
            "ticker": ["S1", "S1", "S2", "S2", "S2", "NOPE", "NOPE"],
            "event_date": [days[300], days[301], days[320], days[321], days[360], days[330], days[330]],
            "event_time": "pre_market",
        }
    )
    result = run_event_study(events, returns, companies=None, benchmark="MKT", sessions="rows", windows=((-1, 1), (0, 0)))
    summary, _ = group_statistics(result, group_by="ticker", min_events=1)
    assert list(summary.columns) == list(SUMMARY_COLUMNS) and SUMMARY_COLUMNS[-1] == "all_confounded"
    flags = summary.set_index(["group", "sample", "window_start"])["all_confounded"]
    assert flags[("S1", "all", -1)] and not flags[("S1", "all", 0)]
    assert not flags[("S1", "unconfounded", -1)] and not flags[("S1", "unconfounded", 0)]
    assert not flags[("S2", "all", -1)] and not flags[("S2", "all", 0)]
    assert not flags[("NOPE", "all", -1)]  # confounded, but no event with an ok status
    n_events = summary.set_index(["group", "sample", "window_start"])["n_events"]
    assert n_events[("S1", "all", -1)] == 2 and n_events[("S1", "unconfounded", -1)] == 0
    assert n_events[("S2", "all", -1)] == 3 and n_events[("S2", "unconfounded", -1)] == 1
    assert summary["all_confounded"].dtype == bool


# --- day0_alt and car_alt ------------------------------------------------------------------------


def test_unknown_time_events_get_the_next_session_on_their_exchange(curated_result) -> None:
    events = load_events().set_index("event_id")
    assert events.loc["EV027", "event_time"] == "unknown" and events.loc["EV017", "event_time"] == "unknown"
    assert events.loc["EV017", "ticker"] == "9984.T"
    rows = curated_result.events.set_index(["event_id", "window_start", "window_end"])
    for event_id, calendar in (("EV027", "XNYS"), ("EV017", "XTKS")):
        date = events.loc[event_id, "event_date"]
        sessions = _sessions(calendar, "2025-01-01", "2025-12-31")
        expected = sessions[sessions > date][0]
        got = curated_result.events.loc[curated_result.events["event_id"] == event_id, "day0_alt"]
        assert (got == expected).all(), (event_id, got.tolist(), expected)
        assert rows.loc[(event_id, -1, 1), "day0"] == date  # studied on the session of its date
    assert pd.Timestamp("2025-06-30") == curated_result.events.set_index("event_id").loc["EV027", "day0_alt"].iloc[0]
    for event_id in ("EV032", "EV035"):
        part = curated_result.events[curated_result.events["event_id"] == event_id]
        assert part["day0_alt"].isna().all() and part["car_alt"].isna().all()


def test_day0_alt_exactly_for_unknown_times(curated_result) -> None:
    times = load_events().set_index("event_id")["event_time"]
    rows = curated_result.events
    unknown = rows["event_id"].map(times).eq("unknown").to_numpy()
    assert unknown.sum() > 0
    assert rows.loc[~unknown, "day0_alt"].isna().all() and rows.loc[~unknown, "car_alt"].isna().all()
    assert rows.loc[unknown, "day0_alt"].notna().all()
    assert (rows.loc[unknown, "day0_alt"] >= rows.loc[unknown, "day0"]).all()
    ok = rows["car_alt"].notna()
    assert ok.sum() > 0 and (rows.loc[ok, "day0_alt"].notna()).all()


# Synthetic hand example (rows are the sessions): rel -6..-2 estimate, the event on row 6.
HAND_X = [0.01, 0.02, 0.03, 0.04, 0.05, 0.0, 0.02, -0.01]
HAND_Y = [0.02, 0.05, 0.06, 0.09, 0.08, 0.012, 0.10, -0.004]


def _hand(model: str, event_time: str | None, date: str = "2024-01-09", min_estimation: int = 5):
    index = pd.bdate_range("2024-01-01", periods=len(HAND_X))
    returns = pd.DataFrame({"AAA": HAND_Y, "MKT": HAND_X}, index=index)
    events = pd.DataFrame({"event_id": ["H1"], "ticker": ["AAA"], "event_date": [pd.Timestamp(date)], "event_time": [event_time]})
    return run_event_study(
        events,
        returns,
        companies=None,
        model=model,
        benchmark="MKT",
        estimation=(-6, -2),
        windows=((0, 0), (-1, 0), (-1, 1)),
        min_estimation=min_estimation,
        sessions="rows",
    ).events


def test_car_alt_by_hand_on_the_next_row() -> None:
    adjusted = _hand("market_adjusted", None)  # no time given: unknown
    # day 0 = row 6 (2024-01-09): AR = .10 - .02 = .08; after the close -> row 7 (2024-01-10):
    # AR = -.004 - (-.01) = .006; [-1, 0] = rows 6..7: .08 + .006; [-1, 1] needs row 8: none.
    assert (adjusted["day0_alt"] == pd.Timestamp("2024-01-10")).all()
    assert adjusted["car"].tolist()[:2] == pytest.approx([0.08, 0.012 + 0.08])
    assert adjusted["car_alt"].tolist()[:2] == pytest.approx([0.006, 0.086])
    assert np.isnan(adjusted["car_alt"].iloc[2]) and adjusted["status"].iloc[2] == "ok"
    constant = _hand("constant_mean", "unknown")
    # Estimation rows 1..5 for day 0 at row 7: mean y = (.05 + .06 + .09 + .08 + .012) / 5 = .0584.
    assert constant["car_alt"].iloc[0] == pytest.approx(-0.004 - 0.0584)
    known = _hand("market_adjusted", "pre_market")
    assert known["day0_alt"].isna().all() and known["car_alt"].isna().all()


def test_a_date_without_a_row_keeps_its_day0_as_the_alternative() -> None:
    # Saturday 2024-01-06: day 0 is the next row (Monday 2024-01-08) whatever the time of day;
    # its 4 estimation rows (0..3) are enough with min_estimation=4.
    rows = _hand("market_adjusted", "unknown", date="2024-01-06", min_estimation=4)
    assert (rows["day0"] == pd.Timestamp("2024-01-08")).all() and (rows["day0_alt"] == rows["day0"]).all()
    assert (rows["status"] == "ok").all()
    np.testing.assert_allclose(rows["car_alt"], rows["car"], rtol=1e-12)


def test_the_alternative_pass_keeps_other_events_where_they_were() -> None:
    returns = _panel()
    days = returns.index
    # U (unknown time) moves from day 300 to 301; K (known) stays on 303. The alternative CAR of U
    # equals a run where U is declared after the close and K is left as it is.
    events = pd.DataFrame(
        {"event_id": ["U", "K"], "ticker": ["S1", "S1"], "event_date": [days[300], days[303]], "event_time": ["unknown", "pre_market"]}
    )
    result = run_event_study(events, returns, companies=None, benchmark="MKT", sessions="rows", windows=((0, 5),))
    moved = events.assign(event_time=["after_close", "pre_market"])
    direct = run_event_study(moved, returns, companies=None, benchmark="MKT", sessions="rows", windows=((0, 5),))
    u = result.events.set_index("event_id").loc["U"]
    assert u["day0_alt"] == days[301] and u["day0"] == days[300]
    assert u["car_alt"] == pytest.approx(direct.events.set_index("event_id").loc["U", "car"], rel=1e-12)
    assert np.isnan(result.events.set_index("event_id").loc["K", "car_alt"])


# --- the command line and the export -------------------------------------------------------------


def test_cli_events_file_keeps_its_columns_and_appends_the_new_ones(tmp_path: Path) -> None:
    out, summary = tmp_path / "E.csv", tmp_path / "S.csv"
    assert main(["reactions", "--out", str(out), "--summary", str(summary)]) == 0
    written = pd.read_csv(out, dtype=str, keep_default_na=False)  # the cells as written
    assert list(written.columns) == FIRST_EVENTS_FILE_COLUMNS + ["confounded_by", "day0_alt", "car_alt"]
    assert list(written.columns) == list(EVENTS_FILE_COLUMNS)
    rows = written.set_index(["event_id", "window_start", "window_end"])
    assert rows.loc[("EV032", "-5", "5"), "confounded_by"] == "EV035;EV036"
    assert rows.loc[("EV035", "-1", "1"), "confounded_by"] == "EV032"
    ev027 = rows.loc[("EV027", "-1", "1")]
    assert ev027["confounded_by"] == "" and ev027["confounded"] == "false"
    assert ev027["day0_alt"] == "2025-06-30" and float(ev027["car_alt"]) != float(ev027["car"])
    assert rows.loc[("EV032", "-1", "1"), "day0_alt"] == "" and rows.loc[("EV032", "-1", "1"), "car_alt"] == ""
    assert (written["confounded_by"] != "").tolist() == (written["confounded"] == "true").tolist()
    summary_frame = pd.read_csv(summary)
    assert list(summary_frame.columns) == list(SUMMARY_COLUMNS) and summary_frame.columns[-1] == "all_confounded"


def test_export_joins_tuples_with_semicolons_before_neutralizing() -> None:
    frame = pd.DataFrame({"ids": [("EV1", "EV2"), (), ("=cmd", "x"), ["-a"]], "car": [-0.5, 1.25, np.nan, 2.0]})
    text = export_csv(frame, with_metadata=False).decode("utf-8")
    assert text.splitlines() == ["ids,car", "EV1;EV2,-0.5", ",1.25", "'=cmd;x,", "'-a,2.0"]
    table, _ = read_export(export_csv(frame, with_metadata=False))
    assert table["car"].tolist()[:2] == [-0.5, 1.25]
