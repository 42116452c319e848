"""The analysis notebooks run end to end and still say what they said (so they never rot).

Each notebook ends with a cell tagged ``key-values`` that prints one JSON object of the numbers its
story rests on. The tests execute the notebooks with nbclient (kernel ``python3``, working
directory and PYTHONPATH at the repo root so ``import dashboard`` works) and compare those numbers
with values computed here independently: by hand from the curated CSV rows (read through the
loaders, never through the package's metrics), and trading day 0 straight from exchange_calendars
(not through the package's own day-0 mapping). The committed notebooks must carry no outputs.
"""

from __future__ import annotations

import json
import os
import warnings
from functools import cache
from pathlib import Path

import exchange_calendars as xcals
import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from dashboard.loaders.curated import load_companies, load_events, load_fundamentals

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO_ROOT / "notebooks"
META_CASE = NOTEBOOKS / "01_meta_case.ipynb"
COHORT = NOTEBOOKS / "02_cohort.ipynb"
CELL_TIMEOUT_S = 300
# The notebooks run the event study with the package defaults.
WINDOWS = ((-1, 1), (0, 1), (-5, 5), (0, 20))
# One-signed outflows: a missing one, counted as 0, bounds the gap from below (in this order).
OUTFLOWS = ("buybacks", "dividends", "finance_lease_principal")


def execute(path: Path) -> nbformat.NotebookNode:
    """Execute a notebook in memory (the file is not rewritten) from the repo root."""
    notebook = nbformat.read(path, as_version=4)
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), previous]))
    try:
        client = NotebookClient(
            notebook,
            timeout=CELL_TIMEOUT_S,
            kernel_name="python3",
            resources={"metadata": {"path": str(REPO_ROOT)}},
            allow_errors=False,
        )
        client.execute()
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous
    return notebook


def key_values(notebook: nbformat.NotebookNode) -> dict:
    cells = [c for c in notebook.cells if "key-values" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged key-values"
    text = "".join(o.get("text", "") for o in cells[0].outputs if o.get("output_type") == "stream")
    return json.loads(text.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def meta_values() -> dict:
    return key_values(execute(META_CASE))


@pytest.fixture(scope="module")
def cohort_values() -> dict:
    return key_values(execute(COHORT))


@pytest.mark.parametrize("path", [META_CASE, COHORT], ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has outputs"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"


# --- by hand: trading day 0 and funding gaps from the curated rows ------------------------------


@cache
def _sessions(calendar: str) -> pd.DatetimeIndex:
    """Sessions straight from exchange_calendars (not through the package's wrapper)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sessions = xcals.get_calendar(calendar, start="2023-01-01", end="2027-06-30").sessions
    return pd.DatetimeIndex(sessions).tz_localize(None) if sessions.tz is not None else pd.DatetimeIndex(sessions)


def _day0_by_hand(events: pd.DataFrame) -> pd.Series:
    """Day 0 per event_id: after the close -> the first session strictly after the date; any other
    time -> the first session on or after it (a weekend or holiday moves to the next session)."""
    calendar_of = load_companies().set_index("ticker")["calendar"]
    day0 = {}
    for event in events.itertuples():
        sessions = _sessions(calendar_of.get(event.ticker, "XNYS"))
        side = "right" if event.event_time == "after_close" else "left"
        day0[event.event_id] = sessions[sessions.searchsorted(event.event_date, side=side)]
    return pd.Series(day0)


def _window_days(day0: pd.Timestamp, ticker: str, window: tuple[int, int]) -> pd.DatetimeIndex:
    """The sessions of ``window`` (trading days relative to ``day0``) on the company's calendar."""
    sessions = _sessions(load_companies().set_index("ticker")["calendar"].get(ticker, "XNYS"))
    position = sessions.get_loc(day0)
    return sessions[position + window[0] : position + window[1] + 1]


def _confounders_by_hand(events: pd.DataFrame, window: tuple[int, int]) -> dict[str, list[str]]:
    """Per event, the other events of its company whose day 0 is inside its window (by day 0, id)."""
    day0 = _day0_by_hand(events)
    found = {}
    for event in events.itertuples():
        days = set(_window_days(day0[event.event_id], event.ticker, window))
        others = events[(events["ticker"] == event.ticker) & (events["event_id"] != event.event_id)]
        inside = [(day0[o], o) for o in others["event_id"] if day0[o] in days]
        found[event.event_id] = [o for _, o in sorted(inside)]
    return found


def _gap_by_hand(rows: pd.DataFrame, basis: str) -> tuple[float | None, float | None, list[str]]:
    """(exact gap, lower bound, outflows counted as 0) of the summed quarters ``rows``, USD millions.

    gap = capex (+ lease principal, economic) - (OCF - buybacks - dividends), None if any input is
    missing; bound = the same with missing outflows as 0, None if capex or OCF is missing."""
    outflows = [c for c in OUTFLOWS if basis == "economic" or c != "finance_lease_principal"]
    if rows["capex"].isna().any() or rows["operating_cash_flow"].isna().any():
        return None, None, []
    missing = [c for c in outflows if rows[c].isna().any()]
    total = {c: float(rows[c].sum()) for c in ("capex", "operating_cash_flow", *outflows)}  # NaN summed as 0
    lease = total["finance_lease_principal"] if basis == "economic" else 0.0
    bound = total["capex"] + lease - (total["operating_cash_flow"] - total["buybacks"] - total["dividends"])
    return (None if missing else bound), bound, missing


def _label(row) -> str:
    return f"FY{int(row.fiscal_year)} Q{int(row.fiscal_quarter)}"


# --- the Meta case ------------------------------------------------------------------------------


def _meta_2025_rows():
    fundamentals = load_fundamentals()
    return fundamentals[(fundamentals["ticker"] == "META") & (fundamentals["fiscal_year"] == 2025)]


def test_meta_case_capex_and_held_for_sale(meta_values: dict) -> None:
    rows = _meta_2025_rows()
    reported = float(rows["capex"].sum())
    economic = float((rows["capex"] + rows["finance_lease_principal"]).sum())
    assert meta_values["capex_2025_reported_usd_m"] == pytest.approx(reported)
    assert meta_values["capex_2025_economic_usd_m"] == pytest.approx(economic)
    assert economic > 70_000 > reported  # "more than $70B a year" holds on the economic basis only
    events = load_events()
    held_for_sale = events.loc[events["event_id"] == "EV035"].iloc[0]
    assert meta_values["held_for_sale_usd_bn"] == pytest.approx(held_for_sale["amount_usd_bn"])
    assert meta_values["held_for_sale_share_of_economic_capex"] == pytest.approx(held_for_sale["amount_usd_bn"] * 1000 / economic, rel=1e-6)


def test_meta_case_funding_gap_by_hand(meta_values: dict) -> None:
    rows = _meta_2025_rows().set_index("fiscal_quarter")
    for quarter in (1, 2, 3, 4):
        row = rows.loc[quarter]
        internal = row["operating_cash_flow"] - row["buybacks"] - row["dividends"]
        got = meta_values["gap_reported_usd_m"][f"FY2025 Q{quarter}"]
        assert not pd.isna(internal)  # the snapshot fills every FY2025 quarter (Q4 was missing before)
        assert got == pytest.approx(row["capex"] - internal)


def test_meta_case_gaps_and_bounds_by_hand(meta_values: dict) -> None:
    fundamentals = load_fundamentals()
    meta = fundamentals[fundamentals["ticker"] == "META"].sort_values("period_end")
    for basis in ("reported", "economic"):
        got = meta_values["gap_by_quarter_usd_m"][basis]
        assert set(got) == {_label(r) for r in meta.itertuples()}
        for row in meta.itertuples():
            gap, bound, missing = _gap_by_hand(meta[meta["period_end"] == row.period_end], basis)
            shown = got[_label(row)]
            assert shown["funding_gap"] == (None if gap is None else pytest.approx(gap)), (basis, _label(row))
            assert shown["funding_gap_lower_bound"] == (None if bound is None else pytest.approx(bound))
            assert shown["bound_missing"] == missing
        # The notebook says every Meta quarter has an exact gap on both bases.
        assert all(v["funding_gap"] is not None for v in got.values()), basis


def test_meta_case_bound_equals_the_exact_gap_where_every_input_is_known(meta_values: dict) -> None:
    fundamentals = load_fundamentals()
    meta = fundamentals[fundamentals["ticker"] == "META"]
    inputs = ["capex", "operating_cash_flow", *OUTFLOWS]
    complete = meta[meta[inputs].notna().all(axis=1)]
    labels = {_label(r) for r in complete.itertuples()}
    assert "FY2025 Q4" in labels  # filled in this snapshot: capex 21,383, OCF 36,214, buybacks 0, dividends 1,328
    q4 = complete[complete["period_end"] == "2025-12-31"].iloc[0]
    assert (q4["capex"], q4["operating_cash_flow"], q4["buybacks"], q4["dividends"]) == (21_383, 36_214, 0, 1_328)
    for basis in ("reported", "economic"):
        for label in labels:
            shown = meta_values["gap_by_quarter_usd_m"][basis][label]
            assert shown["funding_gap"] is not None
            assert shown["funding_gap_lower_bound"] == pytest.approx(shown["funding_gap"])
            assert shown["bound_missing"] == []
    assert meta_values["gap_by_quarter_usd_m"]["reported"]["FY2025 Q4"]["funding_gap_lower_bound"] == pytest.approx(
        21_383 - (36_214 - 0 - 1_328)
    )


def test_meta_case_memo_lines_and_events(meta_values: dict) -> None:
    events = load_events()
    meta = events[events["ticker"] == "META"]
    jv_spv = meta[(meta["funding_kind"] == "jv_spv") & meta["funding_usd_bn"].notna()]
    hyperion = jv_spv[jv_spv["deal_id"] == "META-HYPERION"]
    assert meta_values["hyperion_memo_usd_m"] == pytest.approx(hyperion["funding_usd_bn"].sum() * 1000)
    assert meta_values["hyperion_memo_usd_m"] == pytest.approx(27_300)  # EV044, the priced SPV bond
    assert meta_values["n_meta_events"] == len(meta) == 22
    assert meta_values["bonds_usd_m"] == pytest.approx(meta.loc[meta["funding_kind"] == "debt", "funding_usd_bn"].sum() * 1000)
    assert meta_values["bonds_usd_m"] == pytest.approx(10_500 + 30_000)  # EV005 and EV053


def test_meta_case_memo_lines_are_unknown_before_coverage_and_list_what_no_quarter_holds(meta_values: dict) -> None:
    events = load_events()
    fundamentals = load_fundamentals()
    meta = events[events["ticker"] == "META"]
    first = events["event_date"].min()  # 2024-04-24: curated coverage starts here
    assert first == pd.Timestamp("2024-04-24")
    funded_jv = meta[(meta["funding_kind"] == "jv_spv") & meta["funding_usd_bn"].notna() & (meta["stage"] != "withdrawn")]
    # Meta's fiscal quarters are calendar quarters; no Meta JV/SPV event sits near a quarter
    # boundary, so its calendar date gives its quarter (the notebook uses trading day 0).
    expected = {}
    for year in (2023, 2024, 2025):
        for quarter in (1, 2, 3, 4):
            start = pd.Timestamp(year, 3 * quarter - 2, 1)
            end = start + pd.offsets.QuarterEnd(0)
            inside = funded_jv[(funded_jv["event_date"] >= start) & (funded_jv["event_date"] <= end)]
            expected[f"FY{year} Q{quarter}"] = None if start < first else float(inside["funding_usd_bn"].sum() * 1000)
    assert meta_values["jv_spv_memo_by_quarter_usd_m"] == pytest.approx(expected)
    assert expected["FY2024 Q2"] is None and expected["FY2025 Q4"] == 27_300  # by hand: partly covered; Hyperion
    # Funded Meta events after Meta's last reported quarter are listed with that reason.
    last = fundamentals[fundamentals["ticker"] == "META"].sort_values("period_end").iloc[-1]
    after = meta[meta["funding_usd_bn"].notna() & (meta["event_date"] > last["period_end"])]
    label = f"FY{last['fiscal_year']} Q{last['fiscal_quarter']}"
    assert set(meta_values["not_placed"]) == set(after["event_id"]) == {"EV092"}
    for reason in meta_values["not_placed"].values():
        assert reason == f"after the company's last reported quarter ({label}, ends {last['period_end'].date().isoformat()})"


def test_meta_case_day0_and_confounders_by_hand(meta_values: dict) -> None:
    events = load_events()
    meta = events[events["ticker"] == "META"]
    day0 = _day0_by_hand(meta)
    assert meta_values["day0"] == {e: d.date().isoformat() for e, d in day0.items()}
    by_hand = _confounders_by_hand(meta, (-1, 1))
    assert meta_values["confounded_by_short"] == by_hand
    assert meta_values["confounded_event_ids"] == sorted(e for e, others in by_hand.items() if others)
    pairs = sorted({tuple(sorted((e, o))) for e, others in by_hand.items() for o in others})
    assert meta_values["confounded_pairs"] == [list(p) for p in pairs]
    # Results after the close on 2025-10-29 (day 0 = 10-30) and the $30B bond on 10-30 share day 0.
    assert ["EV050", "EV053"] in meta_values["confounded_pairs"]
    assert meta_values["n_cars"] == len(meta)


def test_meta_case_ev035_trades_with_the_q2_results(meta_values: dict) -> None:
    events = load_events().set_index("event_id")
    # By hand from events.csv: both after the close on Wednesday 2025-07-30 (EDGAR accepted the
    # 10-Q at 20:02 ET), so both first trade on Thursday 2025-07-31, a NYSE session.
    for event_id in ("EV032", "EV035"):
        assert events.at[event_id, "event_date"] == pd.Timestamp("2025-07-30")
        assert events.at[event_id, "event_time"] == "after_close"
        assert meta_values["day0"][event_id] == "2025-07-31"
    assert "20:02" in events.at["EV035", "description"]
    # The same day 0 lies in every window (each holds day 0), so EV032 confounds EV035 in all of them.
    assert set(meta_values["ev035_confounded_by"]) == {f"[{a:+d},{b:+d}]" for a, b in WINDOWS}
    meta = load_events()
    meta = meta[meta["ticker"] == "META"]
    for a, b in WINDOWS:
        shown = meta_values["ev035_confounded_by"][f"[{a:+d},{b:+d}]"]
        assert "EV032" in shown
        assert shown == _confounders_by_hand(meta, (a, b))["EV035"]
    assert meta_values["confounded_by_short"]["EV035"] == ["EV032"]
    assert meta_values["confounded_by_short"]["EV032"] == ["EV035"]


# --- the cohort ---------------------------------------------------------------------------------


def test_cohort_counts_and_samples(cohort_values: dict) -> None:
    events = load_events()
    assert cohort_values["n_events"] == len(events)
    assert cohort_values["event_types"] == sorted(events["event_type"].unique().tolist())
    # Without confounded events there can be no more events in any group than with them.
    for group, n_all in cohort_values["n_by_type_all"].items():
        assert cohort_values["n_by_type_unconfounded"].get(group, 0) <= n_all
    assert sum(cohort_values["n_by_type_all"].values()) <= len(events)
    assert 0 < cohort_values["n_confounded"] < len(events)


def test_cohort_groups_match_the_curated_counts(cohort_values: dict) -> None:
    # In [-1,+1] every curated event has a CAR (the one after_coverage row is a long window), so
    # the "all" sample of each type holds exactly that type's curated events.
    events = load_events()
    counts = events["event_type"].value_counts().to_dict()
    assert cohort_values["n_by_type_all"] == counts
    # Meta's held-for-sale move is the only asset sale, and it shares day 0 with the Q2 results.
    assert events.loc[events["event_type"] == "asset_sale", "event_id"].tolist() == ["EV035"]
    assert cohort_values["n_by_type_all"]["asset_sale"] == 1
    assert cohort_values["n_by_type_unconfounded"].get("asset_sale", 0) == 0


def test_cohort_all_confounded_groups_by_hand(cohort_values: dict) -> None:
    events = load_events()
    shown = {tuple(g) for g in cohort_values["all_confounded"]}
    # asset_sale's one event shares day 0 with EV032, so it is confounded in every window.
    assert {("asset_sale", a, b) for a, b in WINDOWS} <= shown
    # Short windows, where every event has a CAR: a group is all confounded exactly when each of
    # its events has another event of its company with day 0 inside the window.
    for window in ((-1, 1), (0, 1)):
        confounders = _confounders_by_hand(events, window)
        expected = {group for group, members in events.groupby("event_type")["event_id"] if all(confounders[e] for e in members)}
        assert {g for g, a, b in shown if (a, b) == window} == expected
    assert {g for g, _, _ in shown} == {"asset_sale"}  # the reading: the only all-confounded group
    # An all-confounded group has an empty unconfounded sample.
    for group, a, b in shown:
        if (a, b) == (-1, 1):
            assert cohort_values["n_by_type_unconfounded"].get(group, 0) == 0


def test_cohort_same_day0_confounders_by_hand(cohort_values: dict) -> None:
    events = load_events()
    day0 = _day0_by_hand(events)
    keyed = events.assign(day0=events["event_id"].map(day0))
    expected = sorted(sorted(ids) for _, ids in keyed.groupby(["ticker", "day0"])["event_id"] if len(ids) > 1)
    assert cohort_values["same_day0_groups"] == expected
    assert ["EV032", "EV035"] in expected and ["EV050", "EV053"] in expected
    # The reading names four such sets: three at Meta, one at Oracle.
    assert sorted(keyed.set_index("event_id").at[ids[0], "ticker"] for ids in expected) == ["META", "META", "META", "ORCL"]


def test_cohort_latest_ttm_gaps_and_bounds_by_hand(cohort_values: dict) -> None:
    fundamentals = load_fundamentals()
    companies = load_companies()
    assert cohort_values["no_fundamentals"] == sorted(set(companies["ticker"]) - set(fundamentals["ticker"])) == ["9984.T"]
    for basis in ("reported", "economic"):
        expected = {}
        for ticker, quarters in fundamentals.groupby("ticker"):
            quarters = quarters.sort_values("period_end").reset_index(drop=True)
            index = (quarters["fiscal_year"] * 4 + quarters["fiscal_quarter"]).tolist()
            for end in range(len(quarters) - 1, 2, -1):  # latest TTM first
                if index[end] - index[end - 3] != 3:  # four consecutive fiscal quarters
                    continue
                gap, bound, missing = _gap_by_hand(quarters.iloc[end - 3 : end + 1], basis)
                if bound is not None:
                    last = quarters.iloc[end]
                    expected[ticker] = {
                        "period": f"TTM to {_label(last)}",
                        "funding_gap": gap,
                        "funding_gap_lower_bound": bound,
                        "bound_missing": missing,
                    }
                    break
        shown = cohort_values["cohort_ttm"][basis]
        assert set(shown) == set(expected), basis
        for ticker, row in expected.items():
            got = shown[ticker]
            assert got["period"] == row["period"], (basis, ticker)
            assert got["funding_gap"] == (None if row["funding_gap"] is None else pytest.approx(row["funding_gap"]))
            assert got["funding_gap_lower_bound"] == pytest.approx(row["funding_gap_lower_bound"]), (basis, ticker)
            assert got["bound_missing"] == row["bound_missing"], (basis, ticker)
        # Not vacuous: some latest TTM is only a bound (Oracle's buybacks are not reported by quarter).
        assert any(v["funding_gap"] is None for v in expected.values())
        assert expected["ORCL"]["funding_gap"] is None and "buybacks" in expected["ORCL"]["bound_missing"]


def test_cohort_reading_still_holds(cohort_values: dict) -> None:
    """The notebook's written conclusions, as conditions: if the data change, the text must too."""
    caar = cohort_values["channel_caar"]
    events = load_events()
    channel_sizes = {
        "divest_or_jv": int(events["event_type"].isin(["divestment", "asset_sale", "jv_spv_financing"]).sum()),
        "debt": int((events["event_type"] == "debt_issuance").sum()),
        "capex_guidance": int((events["event_type"] == "capex_guidance").sum()),
    }
    for group, size in channel_sizes.items():
        assert caar[f"{group}/all"]["n_events"] == size
        assert caar[f"{group}/unconfounded"]["n_events"] < size
    # Debt: significant over all events, not once confounded events are removed.
    assert caar["debt/all"]["p_kp_bmp_t"] < 0.05
    assert caar["debt/unconfounded"]["p_kp_bmp_t"] > 0.05
    # No detectable difference between divest-or-JV and the other channels, in either sample.
    for sample in ("all", "unconfounded"):
        comparisons = [c for c in cohort_values["channel_comparison"] if c["sample"] == sample]
        assert len(comparisons) == 2
        for comparison in comparisons:
            assert comparison["welch_p"] > 0.05 and comparison["mann_whitney_p"] > 0.05
