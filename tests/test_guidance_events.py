"""Capex-guidance vintages as events (dashboard.metrics.guidance_events).

A hand-made example fixes the rules (link window, choice among candidates, guided change, ids,
headlines, confidence); the loaded data (the loaders' default data_dir) checks the counts and
invariants. Amounts are USD billions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.errors import DataUnavailable
from dashboard.loaders.column_kinds import EVENT_COLUMN_KINDS
from dashboard.loaders.curated import load_events, load_guidance
from dashboard.metrics.guidance_events import (
    GUIDANCE_SOURCE_NAME,
    LINK_COLUMNS,
    events_with_guidance,
    guidance_confidence,
    guidance_events,
    guidance_headline,
    guidance_vintage_links,
)

URL = "https://example.com/"


def hand_events(rows: list[tuple[str, str, str, str, float]]) -> pd.DataFrame:
    """Events with every events.csv column from (event_id, ticker, date, type, amount)."""
    frame = pd.DataFrame(rows, columns=["event_id", "ticker", "event_date", "event_type", "amount_usd_bn"])
    frame["event_date"] = pd.to_datetime(frame["event_date"])
    frame["event_time"] = "after_close"
    frame["headline"] = "curated " + frame["event_id"]
    frame["description"] = "curated"
    frame["source_name"] = "Newswire"
    frame["source_url"] = URL + frame["event_id"]
    frame["confidence"] = "high"
    for column in ("deal_id", "stage", "funding_kind"):
        frame[column] = pd.Series(np.nan, index=frame.index, dtype="str")
    frame["funding_usd_bn"] = np.nan
    return frame[list(EVENT_COLUMN_KINDS)]


def hand_guidance(rows: list[tuple[str, str, int, str, float, float, str]]) -> pd.DataFrame:
    """Guidance from (ticker, statement_date, fiscal_year, period_basis, low, high, wording)."""
    frame = pd.DataFrame(rows, columns=["ticker", "statement_date", "fiscal_year", "period_basis", "low_usd_bn", "high_usd_bn", "wording"])
    frame["statement_date"] = pd.to_datetime(frame["statement_date"])
    frame["source_url"] = URL + frame["ticker"] + "/" + frame["statement_date"].dt.strftime("%Y%m%d")
    return frame


# Events: AAA has three candidates around 2025-01-10 (earnings same day, capex_guidance and debt a
# day later/earlier); BBB's events sit one day after and one day before its statements; CCC's is
# two days after (too far) and ZZZ's on the same day is another company; DDD's candidates differ in
# distance only, EEE's in id only.
EVENTS = hand_events(
    [
        ("E01", "AAA", "2025-01-10", "earnings", 3.0),
        ("E03", "AAA", "2025-01-09", "debt_issuance", 5.0),
        ("E02", "AAA", "2025-01-11", "capex_guidance", 110.0),
        ("E04", "BBB", "2025-03-02", "other", np.nan),
        ("E05", "BBB", "2025-05-31", "earnings", np.nan),
        ("E06", "CCC", "2025-07-03", "capex_guidance", 11.0),
        ("E11", "ZZZ", "2025-07-01", "capex_guidance", 1.0),
        ("E07", "DDD", "2025-08-02", "other", np.nan),
        ("E08", "DDD", "2025-08-01", "other", np.nan),
        ("E10", "EEE", "2025-09-01", "other", np.nan),
        ("E09", "EEE", "2025-09-01", "other", np.nan),
    ]
)
# Not in date order on purpose: "previous" is by statement_date, not by row.
GUIDANCE = hand_guidance(
    [
        ("AAA", "2025-04-20", 2025, "fiscal_year", 120.0, 130.0, "raised to 120-130B"),
        ("AAA", "2025-01-10", 2025, "fiscal_year", 100.0, 120.0, "first FY25 range 100-120B"),
        ("AAA", "2025-04-20", 2026, "fiscal_year", 150.0, 150.0, "first FY26 view ~150B"),
        ("BBB", "2025-03-01", 2025, "fiscal_year", 50.0, 50.0, "about 50B"),
        ("BBB", "2025-06-01", 2025, "fiscal_year", 60.0, 60.0, "raised to about 60B"),
        ("CCC", "2025-07-01", 2025, "calendar_year", 10.0, 12.0, "10-12B (date inferred from a later report)"),
        ("DDD", "2025-08-01", 2025, "fiscal_year", 7.0, 9.0, "7-9B"),
        ("EEE", "2025-09-01", 2025, "fiscal_year", 4.0, 4.0, "about 4B"),
    ]
)


@pytest.fixture(scope="module")
def links() -> pd.DataFrame:
    return guidance_vintage_links(GUIDANCE, EVENTS)


def link(frame: pd.DataFrame, ticker: str, date: str, fiscal_year: int = 2025) -> pd.Series:
    rows = frame[(frame["ticker"] == ticker) & (frame["statement_date"] == pd.Timestamp(date)) & (frame["fiscal_year"] == fiscal_year)]
    assert len(rows) == 1, (ticker, date, fiscal_year)
    return rows.iloc[0]


# --- hand-made example --------------------------------------------------------------------------


def test_links_keep_guidance_order_index_and_columns(links):
    assert list(links.columns) == list(LINK_COLUMNS)
    assert links.index.equals(GUIDANCE.index)
    assert links["ticker"].tolist() == GUIDANCE["ticker"].tolist()
    assert links["statement_date"].tolist() == GUIDANCE["statement_date"].tolist()


def test_event_one_day_after_or_before_links_and_two_days_does_not(links):
    after = link(links, "BBB", "2025-03-01")  # E04 on 03-02
    assert (after["event_id"], after["linked"], after["linked_event_type"]) == ("E04", True, "other")
    before = link(links, "BBB", "2025-06-01")  # E05 on 05-31
    assert (before["event_id"], before["linked"], before["linked_event_type"]) == ("E05", True, "earnings")
    far = link(links, "CCC", "2025-07-01")  # E06 two days later; ZZZ's same-day event is another company
    assert not far["linked"]
    assert far["event_id"] == "GV-CCC-20250701"
    assert pd.isna(far["linked_event_type"])
    assert far["candidate_event_ids"] == []


def test_choice_among_candidates_guidance_type_then_nearest_then_lowest_id(links):
    # capex_guidance one day away beats earnings on the same day; the rest follow the same rule
    aaa = link(links, "AAA", "2025-01-10")
    assert aaa["event_id"] == "E02"
    assert aaa["candidate_event_ids"] == ["E02", "E01", "E03"]
    ddd = link(links, "DDD", "2025-08-01")  # same type: nearest date, although its id is higher
    assert ddd["event_id"] == "E08"
    assert ddd["candidate_event_ids"] == ["E08", "E07"]
    eee = link(links, "EEE", "2025-09-01")  # same type and day: lowest id
    assert eee["event_id"] == "E09"
    assert eee["candidate_event_ids"] == ["E09", "E10"]


def test_choice_does_not_depend_on_event_row_order():
    shuffled = EVENTS.sample(frac=1.0, random_state=7)
    pd.testing.assert_frame_equal(guidance_vintage_links(GUIDANCE, shuffled), guidance_vintage_links(GUIDANCE, EVENTS))


def test_midpoint_and_guided_change_by_hand(links):
    first = link(links, "AAA", "2025-01-10")
    assert first["midpoint_usd_bn"] == 110.0  # (100 + 120) / 2
    assert np.isnan(first["guided_change_usd_bn"])  # first vintage of FY2025
    assert pd.isna(first["previous_statement_date"])
    second = link(links, "AAA", "2025-04-20")
    assert second["midpoint_usd_bn"] == 125.0  # (120 + 130) / 2
    assert second["guided_change_usd_bn"] == 15.0  # 125 - 110
    assert second["previous_statement_date"] == pd.Timestamp("2025-01-10")
    other_year = link(links, "AAA", "2025-04-20", 2026)  # same day, another fiscal year: first of its year
    assert np.isnan(other_year["guided_change_usd_bn"])
    assert link(links, "BBB", "2025-06-01")["guided_change_usd_bn"] == 10.0  # 60 - 50


def test_ids_get_fiscal_year_only_when_shared(links):
    assert link(links, "AAA", "2025-04-20")["event_id"] == "GV-AAA-20250420-2025"
    assert link(links, "AAA", "2025-04-20", 2026)["event_id"] == "GV-AAA-20250420-2026"
    assert link(links, "CCC", "2025-07-01")["event_id"] == "GV-CCC-20250701"


def test_id_taken_by_a_curated_event_gets_the_fiscal_year():
    events = pd.concat([EVENTS, hand_events([("GV-CCC-20250701", "ZZZ", "2024-01-02", "other", np.nan)])], ignore_index=True)
    assert link(guidance_vintage_links(GUIDANCE, events), "CCC", "2025-07-01")["event_id"] == "GV-CCC-20250701-2025"


def test_vintages_that_cannot_get_unique_ids_are_refused():
    twice = pd.concat([GUIDANCE.iloc[[5]], GUIDANCE.iloc[[5]].assign(period_basis="fiscal_year")], ignore_index=True)
    with pytest.raises(ValueError, match="GV-CCC-20250701-2025"):
        guidance_vintage_links(twice, EVENTS)


def test_new_events_rows_by_hand():
    new = guidance_events(GUIDANCE, EVENTS)
    assert list(new.columns) == [*EVENT_COLUMN_KINDS, "guided_change_usd_bn"]
    assert new["event_id"].tolist() == ["GV-AAA-20250420-2025", "GV-AAA-20250420-2026", "GV-CCC-20250701"]
    ranged = new.iloc[0]
    assert ranged["headline"] == "AAA guides FY2025 capex to $120–130B"
    assert ranged["amount_usd_bn"] == 125.0
    assert ranged["guided_change_usd_bn"] == 15.0
    assert ranged["event_date"] == pd.Timestamp("2025-04-20")
    assert ranged["event_time"] == "unknown"
    assert ranged["event_type"] == "capex_guidance"
    assert ranged["description"] == "raised to 120-130B"
    assert ranged["source_name"] == GUIDANCE_SOURCE_NAME
    assert ranged["source_url"] == URL + "AAA/20250420"
    assert ranged["confidence"] == "high"
    assert new[["deal_id", "stage", "funding_kind"]].isna().all().all()
    assert new["funding_usd_bn"].isna().all()
    point = new.iloc[1]
    assert point["headline"] == "AAA guides FY2026 capex to $150B"
    assert np.isnan(point["guided_change_usd_bn"])
    inferred = new.iloc[2]
    assert inferred["headline"] == "CCC guides CY2025 capex to $10–12B"
    assert inferred["confidence"] == "medium"
    for column in EVENT_COLUMN_KINDS:
        assert new[column].dtype == EVENTS[column].dtype, column


def test_headline_figures():
    assert guidance_headline("META", 2026, "fiscal_year", 115.0, 135.0) == "META guides FY2026 capex to $115–135B"
    assert guidance_headline("ORCL", 2025, "fiscal_year", 13.7, 13.7) == "ORCL guides FY2025 capex to $13.7B"
    assert guidance_headline("MSFT", 2026, "calendar_year", 190.0, 190.0) == "MSFT guides CY2026 capex to $190B"


@pytest.mark.parametrize(
    ("wording", "expected"),
    [
        ("gross capex ~20B (date inferred: prior target cited in Apr-25 cut)", "medium"),
        ("~80B in FY25, blog post; not formal capex guidance", "medium"),
        ("informal remark at a conference", "medium"),
        ("Lower-confidence: single secondary source", "medium"),
        ("~13.7B implied, per later commentary", "medium"),
        ("raised to 91-93B (Q3-25 release)", "high"),
        ("uninferred-looking words like preinferred do not count", "high"),
    ],
)
def test_confidence_from_wording(wording, expected):
    guidance = GUIDANCE.iloc[[0]].assign(wording=wording)
    assert guidance_confidence(guidance).tolist() == [expected]


def test_events_with_guidance_by_hand():
    combined = events_with_guidance(EVENTS, GUIDANCE)
    assert len(combined) == len(EVENTS) + 3
    assert list(combined.columns) == [*EVENT_COLUMN_KINDS, "guided_change_usd_bn", "guidance_linked"]
    ordered = combined.sort_values(["event_date", "event_id"], kind="stable")
    assert combined["event_id"].tolist() == ordered["event_id"].tolist()
    by_id = combined.set_index("event_id")
    # linked curated events: E02 (capex_guidance, first vintage: NaN), E05 (earnings: filled), E04
    assert by_id.loc["E02", "guidance_linked"] and np.isnan(by_id.loc["E02", "guided_change_usd_bn"])
    assert by_id.loc["E05", "guidance_linked"] and by_id.loc["E05", "guided_change_usd_bn"] == 10.0
    assert by_id.loc[["E04", "E08", "E09"], "guidance_linked"].all()
    # candidates that were not chosen and unrelated events stay untouched
    for event_id in ("E01", "E03", "E06", "E07", "E10", "E11"):
        assert not by_id.loc[event_id, "guidance_linked"]
        assert np.isnan(by_id.loc[event_id, "guided_change_usd_bn"])
    assert by_id.loc["GV-AAA-20250420-2025", "guided_change_usd_bn"] == 15.0
    assert by_id.loc[["GV-AAA-20250420-2025", "GV-AAA-20250420-2026", "GV-CCC-20250701"], "guidance_linked"].all()
    assert int(combined["guidance_linked"].sum()) == len(GUIDANCE)  # one row per vintage here
    curated = combined[combined["event_id"].isin(EVENTS["event_id"])].set_index("event_id")[list(EVENT_COLUMN_KINDS)[1:]]
    pd.testing.assert_frame_equal(curated.sort_index(), EVENTS.set_index("event_id").sort_index())


def test_one_event_linked_by_two_vintages_takes_the_one_matching_its_amount():
    events = hand_events([("E01", "AAA", "2025-01-10", "earnings", 125.0)])
    guidance = hand_guidance(
        [
            ("AAA", "2024-10-01", 2025, "fiscal_year", 110.0, 110.0, "first FY25"),
            ("AAA", "2025-01-10", 2025, "fiscal_year", 120.0, 130.0, "FY25 raised"),
            ("AAA", "2025-01-10", 2026, "fiscal_year", 200.0, 200.0, "first FY26"),
        ]
    )
    links = guidance_vintage_links(guidance, events)
    assert links["event_id"].tolist()[1:] == ["E01", "E01"]
    combined = events_with_guidance(events, guidance).set_index("event_id")
    assert combined.loc["E01", "guided_change_usd_bn"] == 15.0  # the FY25 vintage (midpoint 125 = amount)


def test_empty_guidance_leaves_events_unchanged():
    empty = GUIDANCE.iloc[0:0]
    links = guidance_vintage_links(empty, EVENTS)
    assert links.empty and list(links.columns) == list(LINK_COLUMNS)
    new = guidance_events(empty, EVENTS)
    assert new.empty and list(new.columns) == [*EVENT_COLUMN_KINDS, "guided_change_usd_bn"]
    events = load_events()
    combined = events_with_guidance(events, empty)
    pd.testing.assert_frame_equal(combined.drop(columns=["guided_change_usd_bn", "guidance_linked"]), events)
    assert not combined["guidance_linked"].any()
    assert combined["guided_change_usd_bn"].isna().all()


def test_empty_events_leave_every_vintage_unlinked():
    links = guidance_vintage_links(GUIDANCE, EVENTS.iloc[0:0])
    assert not links["linked"].any()
    assert links["event_id"].str.startswith("GV-").all()


def test_missing_columns_are_named():
    with pytest.raises(DataUnavailable, match="low_usd_bn"):
        guidance_vintage_links(GUIDANCE.drop(columns=["low_usd_bn"]), EVENTS)
    with pytest.raises(DataUnavailable, match="headline"):
        guidance_events(GUIDANCE, EVENTS.drop(columns=["headline"]))


# --- the loaded data --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return load_guidance(), load_events()


# The vintages no curated event of any type covers within a day (checked by hand in events.csv).
UNLINKED = [
    ("INTC", "2022-10-27", 2022),
    ("INTC", "2025-01-30", 2025),
    ("META", "2022-10-26", 2022),
    ("META", "2022-10-26", 2023),
    ("META", "2023-02-01", 2023),
    ("META", "2023-04-26", 2023),
    ("META", "2023-07-26", 2023),
    ("META", "2024-02-01", 2024),
    ("META", "2024-07-31", 2024),
    ("META", "2024-10-30", 2024),
    ("ORCL", "2024-09-09", 2025),
    ("ORCL", "2025-06-11", 2026),
]


def test_data_twelve_of_38_vintages_have_no_event_within_a_day(data):
    guidance, events = data
    links = guidance_vintage_links(guidance, events)
    assert len(links) == 38
    unlinked = links[~links["linked"]]
    assert len(unlinked) == 12
    found = [(r.ticker, r.statement_date.strftime("%Y-%m-%d"), r.fiscal_year) for r in unlinked.itertuples()]
    assert sorted(found) == UNLINKED
    # independently: no event of the ticker within one calendar day of any unlinked statement
    for ticker, date, _ in UNLINKED:
        gap = (events.loc[events["ticker"] == ticker, "event_date"] - pd.Timestamp(date)).abs()
        assert (gap > pd.Timedelta(days=1)).all(), (ticker, date)
    # the two-candidate days of Meta: its capex_guidance event wins over the next day's news
    assert link(links, "META", "2025-07-30")["candidate_event_ids"] == ["EV032", "EV035"]
    assert link(links, "META", "2025-10-29")["candidate_event_ids"] == ["EV050", "EV053"]
    assert link(links, "GOOGL", "2025-04-24")["linked_event_type"] == "earnings"


def test_data_new_ids_unique_and_apart_from_curated_ids(data):
    guidance, events = data
    new = guidance_events(guidance, events)
    assert len(new) == 12
    assert new["event_id"].is_unique
    assert not new["event_id"].isin(events["event_id"]).any()
    assert new["event_id"].str.fullmatch(r"GV-[A-Z0-9.]+-\d{8}(-\d{4})?").all()
    # only Meta's two statements of 2022-10-26 (FY2022 and FY2023) need the fiscal year
    assert sorted(new.loc[new["event_id"].str.count("-") == 3, "event_id"]) == [
        "GV-META-20221026-2022",
        "GV-META-20221026-2023",
    ]
    assert list(new.columns) == [*EVENT_COLUMN_KINDS, "guided_change_usd_bn"]
    assert (new["event_time"] == "unknown").all()


def test_data_midpoints_and_amounts(data):
    guidance, events = data
    links = guidance_vintage_links(guidance, events)
    np.testing.assert_array_equal(links["midpoint_usd_bn"], (guidance["low_usd_bn"] + guidance["high_usd_bn"]) / 2)
    new = guidance_events(guidance, events)
    unlinked = links[~links["linked"]]
    np.testing.assert_array_equal(new["amount_usd_bn"], unlinked["midpoint_usd_bn"])
    # cross-check of the two files: a linked capex_guidance event carries the vintage's midpoint
    amounts = events.set_index("event_id")["amount_usd_bn"]
    on_guidance = links[links["linked_event_type"] == "capex_guidance"]
    np.testing.assert_allclose(on_guidance["event_id"].map(amounts), on_guidance["midpoint_usd_bn"])


def test_data_guided_changes_by_hand(data):
    guidance, events = data
    links = guidance_vintage_links(guidance, events)
    meta_2025 = links[(links["ticker"] == "META") & (links["fiscal_year"] == 2025)]
    # midpoints 62.5, 68, 69, 71: changes NaN, +5.5, +1, +2
    np.testing.assert_array_equal(meta_2025["guided_change_usd_bn"], [np.nan, 5.5, 1.0, 2.0])
    # Microsoft's calendar-2026 statements chain to each other only: 190 then 175
    msft = links[links["ticker"] == "MSFT"]
    np.testing.assert_array_equal(msft["guided_change_usd_bn"], [np.nan, np.nan, -15.0])


def test_data_lower_confidence_rows(data):
    guidance, events = data
    medium = guidance[guidance_confidence(guidance) == "medium"]
    assert sorted(zip(medium["ticker"], medium["statement_date"].dt.strftime("%Y-%m-%d"))) == [
        ("GOOGL", "2025-04-24"),
        ("INTC", "2025-01-30"),
        ("MSFT", "2025-01-03"),
        ("ORCL", "2024-09-09"),
    ]
    new = guidance_events(guidance, events)
    assert sorted(new.loc[new["confidence"] == "medium", "event_id"]) == ["GV-INTC-20250130", "GV-ORCL-20240909"]


def test_data_events_with_guidance(data):
    guidance, events = data
    combined = events_with_guidance(events, guidance)
    assert len(combined) == len(events) + 12
    assert combined["event_id"].is_unique
    assert combined["event_id"].tolist() == combined.sort_values(["event_date", "event_id"], kind="stable")["event_id"].tolist()
    assert int(combined["guidance_linked"].sum()) == 38  # every vintage on its own row
    by_id = combined.set_index("event_id")
    assert by_id.loc["EV019", "guided_change_usd_bn"] == 0.0  # Alphabet kept 75B, said on its earnings event
    assert by_id.loc["EV094", "guided_change_usd_bn"] == -15.0
    assert not by_id.loc["EV009", "guidance_linked"]  # Zuckerberg's post: no vintage within a day
    curated = combined[combined["source_name"] != GUIDANCE_SOURCE_NAME].drop(columns=["guided_change_usd_bn", "guidance_linked"])
    pd.testing.assert_frame_equal(curated.reset_index(drop=True), events)


def test_inputs_are_not_changed(data):
    for guidance, events in (data, (GUIDANCE, EVENTS)):
        guidance_before, events_before = guidance.copy(deep=True), events.copy(deep=True)
        guidance_vintage_links(guidance, events)
        guidance_events(guidance, events)
        events_with_guidance(events, guidance)
        guidance_confidence(guidance)
        pd.testing.assert_frame_equal(guidance, guidance_before)
        pd.testing.assert_frame_equal(events, events_before)
