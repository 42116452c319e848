"""SEC filings as candidate events, the pure part (``dashboard.metrics.filings``): scope and
suggested types, the JSON time conventions, Eastern acceptance times, day 0 on the exchange's own
hours, and matching to curated events.

Expected values are worked out by hand from the EDGAR rules in
shared/reference/sec-submissions-shape.md and the NYSE calendar (Labor Day 2025 is Monday
September 1; Good Friday 2025 is April 18; 2025-11-28 closes at 13:00). The two published examples
of the timestamp trap (U.S. Steel and Hess) are used as given there.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from dashboard import config
from dashboard.loaders.curated import load_companies, load_events, validate_events
from dashboard.loaders.filings import normalize_submissions, read_submissions_file
from dashboard.metrics import filings as mf
from dashboard.metrics.filings import ConventionEvidence

FIXTURES = config.REPO_ROOT / "tests" / "fixtures" / "filings"
ET = config.EDGAR_TIMEZONE


def _clock(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), format="ISO8601"), dtype="datetime64[ns]")


def _et(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), format="ISO8601")).dt.tz_localize(ET)


# --- scope and suggested type -------------------------------------------------------------------


def test_scope_keeps_the_listed_items_and_forms_in_priority_order():
    assert mf.scope_keys("8-K", ("7.01", "2.02", "9.01")) == ("2.02", "7.01")
    assert mf.scope_keys("8-K", ("1.01", "2.03")) == ("2.03", "1.01")
    assert mf.scope_keys("8-K", ("5.02", "9.01")) == ()
    assert mf.scope_keys("8-K", ()) == ()
    assert mf.scope_keys("424B5", ()) == ("424B5",)
    assert mf.scope_keys("10-Q", ()) == ("10-Q",)
    assert mf.scope_keys("10-Q/A", ()) == ()  # amendments are out
    assert mf.scope_keys("4", ()) == ()
    assert mf.scope_keys("S-8", ()) == ()


def test_suggested_types_and_what_each_may_confirm():
    frame = pd.DataFrame(
        {
            "form": ["8-K", "8-K", "8-K", "8-K", "424B2", "FWP", "10-K", "8-K"],
            "scope_keys": [("2.02", "7.01"), ("2.03", "1.01"), ("2.01",), ("3.02",), ("424B2",), ("FWP",), ("10-K",), ("2.05",)],
        }
    )
    out = mf.suggested_event_types(frame)
    assert out["suggested_event_type"].tolist() == [
        "earnings",
        "debt_issuance",
        "divestment",
        "equity_issuance",
        "debt_issuance",
        "debt_issuance",
        "earnings",
        "cost_cut",
    ]
    # 2.02 with 7.01: the union, so anything (7.01 may carry any news)
    assert out["compatible_types"].iloc[0] == config.EVENT_TYPES
    assert out["compatible_types"].iloc[2] == ("divestment", "asset_sale", "jv_spv_financing")
    assert out["compatible_types"].iloc[4] == ("debt_issuance",)
    assert out["compatible_types"].iloc[7] == ("cost_cut",)
    assert out["suggestion_note"].str.contains("for review").all()
    assert "divestment or asset_sale" in out["suggestion_note"].iloc[2]
    assert out["title"].iloc[0] == "8-K 2.02 Results of operations and financial condition; 7.01 Regulation FD disclosure"
    assert out["title"].iloc[6] == "10-K Annual report"


# --- the JSON time convention -------------------------------------------------------------------


def test_published_examples_of_the_timestamp_trap():
    # U.S. Steel 0001163302-25-000028: header 16:21:59 ET, JSON 16:21:59Z -> the Eastern clock with a Z
    steel = mf.json_convention_from_headers(_clock("2025-05-01T16:21:59"), pd.Series(pd.to_datetime(["2025-05-01 16:21:59"])))
    assert steel.convention == "et"
    # Hess 0001628280-25-020816: JSON 07:30:32Z; as UTC that is 03:30 ET, when EDGAR accepts nothing
    hess = mf.json_convention_from_readings(_clock("2025-04-30T07:30:32"))
    assert hess.convention == "et" and "2025-04-30T07:30:32Z" in hess.basis


def test_a_real_utc_filer_is_known_by_an_evening_filing():
    # 20:02:43 ET on 2025-07-30 is 00:02:43Z on the 31st: as the Eastern clock, the middle of the night
    evidence = mf.json_convention_from_readings(_clock("2025-07-30T20:05:11", "2025-07-31T00:02:43"))
    assert evidence.convention == "utc" and "2025-07-31T00:02:43Z" in evidence.basis
    header = mf.json_convention_from_headers(_clock("2025-07-31T00:02:43"), pd.Series(pd.to_datetime(["2025-07-30 20:02:43"])))
    assert header.convention == "utc"


def test_readings_inside_edgar_hours_both_ways_teach_nothing():
    evidence = mf.json_convention_from_readings(_clock("2025-10-30T16:02:11", "2025-11-17T15:10:00", "2025-08-29T12:00:00"))
    assert evidence.convention is None and "inside EDGAR's hours either way" in evidence.basis
    assert mf.json_convention_from_readings(_clock()).convention is None


def test_contradicting_readings_are_not_learned():
    evidence = mf.json_convention_from_readings(_clock("2025-04-30T07:30:32", "2025-07-31T00:02:43"))
    assert evidence.convention is None and "contradict" in evidence.basis


def test_headers_first_then_readings_then_the_cache():
    inside = _clock("2025-10-30T16:02:11", "2025-11-17T15:10:00")
    no_header = pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]")
    cached = ConventionEvidence("et", "SGML header(s) of 1 filing(s) show the JSON carries the Eastern clock")
    assert mf.json_time_convention(inside, no_header).convention is None
    from_cache = mf.json_time_convention(inside, no_header, cached=cached)
    assert from_cache.convention == "et" and from_cache.basis.startswith("cached: SGML header")
    # a header read now overrides a cache that says otherwise
    header = pd.Series(pd.to_datetime(["2025-10-30 12:02:11", None]))
    assert mf.json_time_convention(inside, header, cached=cached).convention == "utc"
    # readings outside the hours override the cache too
    assert mf.json_time_convention(_clock("2025-07-31T00:02:43"), cached=cached).convention == "utc"


def test_edgar_hours_bounds_and_weekends():
    moments = _et("2025-08-29 06:00:00", "2025-08-29 22:00:00", "2025-08-29 05:59:59", "2025-08-29 22:00:01", "2025-08-30 12:00")
    assert mf.within_edgar_hours(moments).tolist() == [True, True, False, False, False]


# --- acceptance times ---------------------------------------------------------------------------


def test_acceptance_times_by_source():
    clock = _clock("2025-10-30T16:02:11", "2025-10-28T07:31:02")
    header = pd.Series(pd.to_datetime(["2025-10-30 16:02:11", None]))
    et = mf.acceptance_times(clock, header, "et")
    assert et["time_source"].tolist() == ["header", "json_et"]
    assert et["accepted_et"].tolist() == _et("2025-10-30 16:02:11", "2025-10-28 07:31:02").tolist()
    none = pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]")
    utc = mf.acceptance_times(_clock("2025-07-31T00:02:43", "2024-02-01T21:30:00"), none, "utc")
    assert utc["time_source"].tolist() == ["json_utc", "json_utc"]
    # daylight saving: -4 h in July, -5 h in February
    assert utc["accepted_et"].tolist() == _et("2025-07-30 20:02:43", "2024-02-01 16:30:00").tolist()
    assumed = mf.acceptance_times(_clock("2025-10-30T16:02:11"), none[:1], None)
    assert assumed["time_source"].tolist() == ["json_assumed_utc"]
    assert assumed["accepted_et"].iloc[0] == pd.Timestamp("2025-10-30 12:02:11", tz=ET)
    assert str(assumed["accepted_et"].dt.tz) == ET


def test_a_filer_is_learned_from_its_own_forms_not_the_insiders_form_4s():
    records = pd.DataFrame(
        {
            "accession": ["A", "B", "C"],
            "form": ["4", "8-K", "10-Q"],
            # the Form 4's 01:30Z is impossible as the Eastern clock, but an insider's agent filed it
            "acceptance_clock": _clock("2025-10-30T01:30:00", "2025-10-30T16:02:11", "2025-10-31T12:00:00"),
        }
    )
    out, evidence = mf.filer_acceptance_times(records, {})
    assert evidence.convention is None
    assert out["time_source"].tolist() == ["json_assumed_utc"] * 3
    assert out["time_basis"].str.startswith("convention not learned, UTC assumed").all()
    out, evidence = mf.filer_acceptance_times(records, {"C": pd.Timestamp("2025-10-31 12:00:00")})
    assert evidence.convention == "et"
    assert out["time_source"].tolist() == ["json_et", "json_et", "header"]
    assert out["time_basis"].iloc[2] == "read from the SGML header"
    assert out["accepted_et"].iloc[1] == pd.Timestamp("2025-10-30 16:02:11", tz=ET)
    assert "time_source" not in records.columns  # a copy


# --- day 0 --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nyse() -> mf.ExchangeHours:
    return mf.exchange_hours("XNYS", "2025-03-01", "2025-12-31")


def test_day0_on_a_friday_before_a_monday_holiday(nyse):
    # Friday 2025-08-29; Monday 2025-09-01 is Labor Day, so the next session is Tuesday 09-02.
    accepted = _et("2025-08-29 07:30", "2025-08-29 12:00", "2025-08-29 16:05", "2025-08-29 21:50")
    out = mf.filing_day0(accepted, nyse)
    assert out["suggested_event_time"].tolist() == ["pre_market", "intraday", "after_close", "after_close"]
    assert out["day0"].dt.strftime("%Y-%m-%d").tolist() == ["2025-08-29", "2025-08-29", "2025-09-02", "2025-09-02"]
    assert out["day0_reason"].tolist() == ["same_session", "same_session", "after_close_next_session", "after_close_next_session"]
    assert out["suggested_event_date"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2025-08-29"]


def test_day0_at_the_bell_early_closes_holidays_and_weekends(nyse):
    accepted = _et(
        "2025-08-28 09:30:00",  # the open: intraday
        "2025-08-28 16:00:00",  # the close: after it
        "2025-11-28 13:30",  # the day after Thanksgiving closes at 13:00
        "2025-04-18 10:00",  # Good Friday: EDGAR is open, NYSE is not
        "2025-08-30 10:00",  # a Saturday
    )
    out = mf.filing_day0(accepted, nyse)
    assert out["suggested_event_time"].tolist() == ["intraday", "after_close", "after_close", "intraday", "intraday"]
    assert out["day0"].dt.strftime("%Y-%m-%d").tolist() == ["2025-08-28", "2025-08-29", "2025-12-01", "2025-04-21", "2025-09-02"]
    assert out["day0_reason"].tolist() == [
        "same_session",
        "after_close_next_session",
        "after_close_next_session",
        "holiday_next_session",
        "weekend_next_session",
    ]


def test_day0_missing_time_and_beyond_the_calendar(nyse):
    accepted = pd.Series([pd.NaT, pd.Timestamp("2026-06-01 10:00", tz=ET)]).astype(f"datetime64[ns, {ET}]")
    out = mf.filing_day0(accepted, nyse)
    assert out["day0"].isna().all()
    assert out["day0_reason"].tolist() == ["missing_event_date", "beyond_sessions"]
    assert out["suggested_event_time"].iloc[0] == "unknown"


def test_day0_on_tokyo_reads_the_time_on_tokyo_clock():
    # 16:05 ET on Friday 2025-08-29 is 05:05 on Saturday in Tokyo: day 0 is Monday 09-01 (Tokyo trades
    # on Labor Day), placed before that session's open.
    tokyo = mf.exchange_hours("XTKS", "2025-08-01", "2025-09-30")
    out = mf.filing_day0(_et("2025-08-29 16:05"), tokyo)
    assert out["suggested_event_date"].iloc[0] == pd.Timestamp("2025-08-30")
    assert out["day0"].iloc[0] == pd.Timestamp("2025-09-01")
    assert out["day0_reason"].iloc[0] == "weekend_next_session"
    assert out["suggested_event_time"].iloc[0] == "pre_market"


def test_unknown_calendar_is_an_error():
    with pytest.raises(ValueError, match="unknown exchange calendar"):
        mf.exchange_hours("XXXX", "2025-01-01", "2025-02-01")


# --- accessions in curated sources --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "accession"),
    [
        ("https://sec.gov/Archives/edgar/data/1326801/000119312524197873/d876862d8k.htm", "0001193125-24-197873"),
        ("https://www.sec.gov/Archives/edgar/data/1018724/000110465925114098/tm2530638-4_424b5.htm", "0001104659-25-114098"),
        ("https://www.sec.gov/Archives/edgar/data/1018724/000101872426000024/", "0001018724-26-000024"),
        ("https://www.sec.gov/Archives/edgar/data/1018724/000101872426000024/0001018724-26-000024-index.htm", "0001018724-26-000024"),
        ("https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK=0001018724&type=424B5", None),
        ("https://www.stocktitan.net/sec-filings/AMZN/424b5-amazon-com-inc-prospectus-supplement-debt-securities-e4d6d68eff91.html", None),
        ("https://evil.example/Archives/edgar/data/1/000110465925114098/x.htm", None),
        ("https://sec.gov.evil.example/Archives/edgar/data/1/000110465925114098/x.htm", None),
        ("javascript:alert(1)//sec.gov/0001018724-26-000024", None),
        (float("nan"), None),
        (None, None),
    ],
)
def test_accession_from_url(url, accession):
    assert mf.accession_from_url(url) == accession


def test_curated_events_that_cite_a_filing_carry_its_accession():
    events = load_events()
    cited = mf.event_accessions(events)
    found = dict(zip(events.loc[cited.notna(), "event_id"], cited.dropna(), strict=True))
    # every curated sec.gov source that points into a filing's folder, and nothing else
    assert found == {
        "EV005": "0001193125-24-197873",
        "EV057": "0001104659-25-114098",
        "EV073": "0001018724-26-000026",
        "EV095": "0001018724-26-000024",
        "EV096": "0001193125-26-387905",
    }
    assert events.equals(load_events())  # nothing added to the events


# --- matching -----------------------------------------------------------------------------------


def _filings(*rows: tuple[str, str, str, str, tuple[str, ...]]) -> pd.DataFrame:
    """(ticker, accession, day0, form, scope_keys) -> what match_filings_to_events needs."""
    frame = pd.DataFrame(rows, columns=["ticker", "accession", "day0", "form", "scope_keys"])
    frame["day0"] = pd.to_datetime(frame["day0"])
    return frame.join(mf.suggested_event_types(frame))


def _events(*rows: tuple[str, str, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["event_id", "ticker", "event_date", "event_time", "event_type", "source_url"]).assign(
        event_date=lambda f: pd.to_datetime(f["event_date"])
    )


@pytest.fixture(scope="module")
def sessions() -> dict[str, pd.DatetimeIndex]:
    return {"XNYS": mf.exchange_hours("XNYS", "2025-01-01", "2025-12-31").sessions}


def test_window_is_two_sessions_and_types_must_fit(sessions):
    events = _events(
        ("E1", "META", "2025-08-25", "intraday", "debt_issuance", "https://example.com/a"),  # day 0 Mon 08-25
    )
    filings = _filings(
        ("META", "A1", "2025-08-27", "FWP", ("FWP",)),  # 2 sessions later: matched
        ("META", "A2", "2025-08-28", "FWP", ("FWP",)),  # 3 sessions later: new
        ("META", "A3", "2025-08-21", "FWP", ("FWP",)),  # 2 sessions before (Thu 21, Fri 22, Mon 25): matched
        ("META", "A4", "2025-08-25", "8-K", ("2.05",)),  # same day, cost_cut cannot confirm a bond: new
        ("AMZN", "A5", "2025-08-25", "FWP", ("FWP",)),  # another company: new
    )
    out = mf.match_filings_to_events(filings, events, sessions_by_calendar=sessions)
    assert out["status"].tolist() == ["matched", "new", "matched", "new", "new"]
    assert out["matched_event_id"].tolist() == ["E1", "new", "E1", "new", "new"]
    assert out["match_basis"].tolist() == ["window", "", "window", "", ""]
    assert out["changes_event_day0"].tolist() == [True, pd.NA, True, pd.NA, pd.NA]
    assert out["event_day0"].iloc[0] == pd.Timestamp("2025-08-25")


def test_ambiguous_double_match_names_both_and_matches_neither(sessions):
    events = _events(
        ("E1", "META", "2025-07-30", "after_close", "capex_guidance", "https://example.com/a"),
        ("E2", "META", "2025-07-30", "after_close", "asset_sale", "https://example.com/b"),
    )
    filings = _filings(
        ("META", "Q", "2025-07-31", "10-Q", ("10-Q",)),  # a periodic report may confirm either
        ("META", "K", "2025-07-31", "8-K", ("2.02",)),  # results confirm guidance, not an asset sale
    )
    out = mf.match_filings_to_events(filings, events, sessions_by_calendar=sessions)
    assert out["status"].tolist() == ["ambiguous", "matched"]
    assert out["candidate_event_ids"].tolist() == [("E1", "E2"), ("E1",)]
    assert out["matched_event_id"].tolist() == ["", "E1"]
    assert out["changes_event_day0"].tolist() == [pd.NA, False]


def test_a_cited_accession_decides_and_a_late_one_only_links(sessions):
    cite = "https://www.sec.gov/Archives/edgar/data/1/{}/doc.htm"
    events = _events(
        ("E1", "META", "2025-07-30", "after_close", "capex_guidance", "https://example.com/a"),
        ("E2", "META", "2025-07-30", "after_close", "asset_sale", cite.format("000132680125000077")),
        ("E3", "META", "2025-03-03", "unknown", "other", cite.format("000132680125000080")),
    )
    filings = _filings(
        ("META", "0001326801-25-000077", "2025-07-31", "10-Q", ("10-Q",)),  # cited within the window: E2 only
        ("META", "0001326801-25-000080", "2025-08-01", "8-K", ("8.01",)),  # E1 in the window wins over E3's late cite
        ("META", "0001326801-25-000080", "2025-09-15", "8-K", ("8.01",)),  # only E3's cite, months later
    )
    out = mf.match_filings_to_events(filings, events, sessions_by_calendar=sessions)
    assert out["matched_event_id"].tolist() == ["E2", "", "E3"]
    assert out["match_basis"].tolist() == ["accession", "window", "accession_outside_window"]
    assert out["status"].tolist() == ["matched", "ambiguous", "matched"]
    assert out["candidate_event_ids"].iloc[1] == ("E1", "E2")
    assert out["changes_event_day0"].tolist() == [False, pd.NA, pd.NA]  # a late report suggests no time


def test_matching_with_no_events_or_no_filings(sessions):
    filings = _filings(("META", "A1", "2025-08-27", "FWP", ("FWP",)))
    none = mf.match_filings_to_events(filings, _events(), sessions_by_calendar=sessions)
    assert none["status"].tolist() == ["new"] and none["candidate_event_ids"].tolist() == [()]
    empty = mf.match_filings_to_events(filings.iloc[0:0], _events(), sessions_by_calendar=sessions)
    assert empty.empty and list(empty.columns) == list(mf.MATCH_COLUMNS)


# --- the candidates table on the fixtures -------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_filings() -> pd.DataFrame:
    """Both fixture filers resolved as the command does: META with its header (real UTC),
    AMZN with its header (the Eastern clock with a Z)."""
    frames = []
    for folder, ticker in (("meta/CIK0001326801.json", "META"), ("amzn/CIK0001018724.json", "AMZN")):
        normalized = normalize_submissions(read_submissions_file(FIXTURES / folder), ticker=ticker)
        frames.append(mf.filer_acceptance_times(normalized.filings, normalized.header_et)[0])
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def candidates(fixture_filings) -> pd.DataFrame:
    return mf.filing_candidates(fixture_filings, load_events(), companies=load_companies())


def _row(candidates: pd.DataFrame, accession: str) -> pd.Series:
    rows = candidates[candidates["accession"] == accession]
    assert len(rows) == 1
    return rows.iloc[0]


def test_candidates_cover_every_in_scope_filing_with_its_columns(candidates):
    assert list(candidates.columns) == list(mf.CANDIDATE_COLUMNS)
    assert len(candidates) == 15  # of 18 read: two Form 4s and one 8-K 5.02 are out of scope
    assert candidates[["ticker", "accession"]].duplicated().sum() == 0
    assert candidates["accepted_et"].map(lambda t: str(t.tz)).eq(ET).all()
    assert set(candidates["time_source"]) <= set(config.FILING_TIME_SOURCES)
    assert set(candidates["status"]) == {"matched", "ambiguous", "new"}
    assert candidates["day0"].notna().all()


def test_the_seed_case_meta_10q_after_the_results(candidates):
    ten_q = _row(candidates, "0001326801-25-000077")
    assert ten_q["accepted_et"] == pd.Timestamp("2025-07-30 20:02:43", tz=ET)
    assert ten_q["time_source"] == "header"
    assert ten_q["day0"] == pd.Timestamp("2025-07-31") and ten_q["day0_reason"] == "after_close_next_session"
    assert ten_q["status"] == "ambiguous" and ten_q["candidate_event_ids"] == ("EV032", "EV035")
    results = _row(candidates, "0001326801-25-000074")
    assert results["time_source"] == "json_utc"
    assert (results["matched_event_id"], results["changes_event_day0"]) == ("EV032", False)


def test_eastern_clock_with_z_after_the_close_trades_next_session(candidates):
    results = _row(candidates, "0001018724-25-000123")  # AMZN 8-K 2.02, header 16:02:11 ET
    assert results["accepted_et"] == pd.Timestamp("2025-10-30 16:02:11", tz=ET)
    assert results["day0"] == pd.Timestamp("2025-10-31")
    cost_cut = _row(candidates, "0001018724-25-000118")  # no header: the learned convention
    assert cost_cut["time_source"] == "json_et"
    assert cost_cut["accepted_et"] == pd.Timestamp("2025-10-28 07:31:02", tz=ET)
    assert (cost_cut["suggested_event_time"], cost_cut["matched_event_id"], cost_cut["changes_event_day0"]) == (
        "pre_market",
        "EV048",
        False,
    )


def test_suggestions_per_event_come_from_the_earliest_filing(candidates):
    suggestions = mf.event_filing_suggestions(candidates).set_index("event_id")
    assert list(suggestions.reset_index().columns) == list(mf.SUGGESTION_COLUMNS)
    bond = suggestions.loc["EV057"]  # FWP on the pricing day, then the 424B5 the event cites
    assert bond["accession"] == "0001104659-25-113500" and bond["other_accessions"] == ("0001104659-25-114098",)
    assert bond["changes_event_day0"] == False  # noqa: E712 (a numpy/pandas bool)
    assert "EV005" not in suggestions.index  # its 8-K came three sessions later: a report, not a time
    assert suggestions.loc["EV052", "accession"] == "0001018724-25-000123"


def test_review_queue_is_the_new_filings_as_valid_user_events(candidates):
    queue = mf.review_queue_events(candidates)
    new = candidates[candidates["status"] == "new"]
    assert queue["event_id"].tolist() == ("SEC-" + new["accession"]).tolist()
    assert set(queue["event_time"]) <= {"pre_market", "intraday", "after_close"}
    from dashboard.exporting import export_csv

    text = export_csv(queue.drop(columns="time_source"), with_metadata=False).decode()
    good, report = validate_events("queue.csv", curated=False, text=text)
    assert report.ok, report.lines()
    assert len(good) == len(queue)
    with_ambiguous = mf.review_queue_events(candidates, include_ambiguous=True)
    assert len(with_ambiguous) == len(queue) + 1


def test_since_and_empty_input(fixture_filings):
    events = load_events()
    later = mf.filing_candidates(fixture_filings, events, since="2025-08-29")
    assert sorted(later["accession"]) == sorted(
        [
            "0001018724-26-000026",
            "0001104659-25-114098",
            "0001104659-25-113500",
            "0001018724-25-000125",
            "0001018724-25-000123",
            "0001018724-25-000118",
            "0001326801-25-000101",
            "0001326801-25-000100",
            "0001326801-25-000099",
            "0001326801-25-000098",
        ]
    )
    empty = mf.filing_candidates(fixture_filings.iloc[0:0], events)
    assert empty.empty and list(empty.columns) == list(mf.CANDIDATE_COLUMNS)
    assert mf.event_filing_suggestions(empty).empty and mf.review_queue_events(empty).empty


def test_nothing_is_modified(fixture_filings):
    filings, events, companies = fixture_filings.copy(deep=True), load_events(), load_companies()
    before = (copy.deepcopy(filings), events.copy(deep=True), companies.copy(deep=True))
    candidates = mf.filing_candidates(filings, events, companies=companies)
    snapshot = candidates.copy(deep=True)
    mf.event_filing_suggestions(candidates)
    mf.review_queue_events(candidates)
    pd.testing.assert_frame_equal(filings, before[0])
    pd.testing.assert_frame_equal(events, before[1])
    pd.testing.assert_frame_equal(companies, before[2])
    pd.testing.assert_frame_equal(candidates, snapshot)
