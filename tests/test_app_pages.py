"""AppTest for every page of the dashboard, on the real embedded data.

Each page renders without an exception; the key numbers it shows equal the metrics layer's own
output computed here independently of the UI code (loaders -> metrics, no cache); bad query
values fall back to the defaults with a visible notice; an uploaded events file with bad rows is
reported row by row (AppTest cannot upload, so the upload is put in session state, the path the
page's file uploader feeds, and the bytes-level function is tested directly too).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import config
from dashboard.loaders import curated
from dashboard.metrics import caar, event_study, forward, funding, guidance_events, returns
from dashboard.ui import uploads
from dashboard.ui.text import escape_markdown, usd_bn

APP = str(config.REPO_ROOT / "dashboard" / "app.py")
PAGES = ("overview", "company", "events", "compare", "methodology")
TIMEOUT = 180


@pytest.fixture(scope="module")
def data():
    """The metrics computed straight from the loaders (no Streamlit, no cache)."""
    fundamentals, events, companies = curated.load_fundamentals(), curated.load_events(), curated.load_companies()
    study_events = guidance_events.events_with_guidance(events, curated.load_guidance())
    study = event_study.run_event_study(
        study_events, returns.simple_returns(curated.close_prices(curated.load_prices())), companies=companies
    )
    return {
        "fundamentals": fundamentals,
        "events": events,
        "study_events": study_events,
        "companies": companies,
        "guidance": curated.load_guidance(),
        "flags": curated.load_fundamentals_flags(),
        "study": study,
        "manifest": curated.load_manifest(),
    }


def open_page(page: str, **params: str) -> AppTest:
    """Run the app once (the home page), then open ``page`` with a link's query parameters."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if page != "overview":
        at.switch_page(f"app_pages/{page}.py")
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame_or_none(at: AppTest, *columns: str) -> pd.DataFrame | None:
    """The first dataframe shown that has all ``columns``, or None."""
    return next((e.value for e in at.dataframe if set(columns) <= set(e.value.columns)), None)


def frame_by_columns(at: AppTest, *columns: str, last: bool = False) -> pd.DataFrame:
    """The first (or last) dataframe shown that has all ``columns``."""
    for element in reversed(list(at.dataframe)) if last else at.dataframe:
        if set(columns) <= set(element.value.columns):
            return element.value
    raise AssertionError(f"no table with columns {columns}")


def metric(at: AppTest, label: str, occurrence: int = 0) -> str:
    """The value of the metric labelled ``label`` (a quality-flag mark " ⚑ ..." may follow it)."""
    return [m.value for m in at.metric if m.label == label or m.label.startswith(label + " ⚑")][occurrence]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_title_tables_and_exports(page):
    # the Company page's funding section keeps its tables in collapsed, lazily built expanders
    at = open_page(page, section="reactions") if page == "company" else open_page(page)
    assert at.title, "page has a title"
    assert len(at.dataframe) >= 1
    # every table shown has its two export buttons, CSV and Excel (ui.tables.table)
    buttons = [b.label for b in at.get("download_button")]
    assert buttons.count("Download CSV") == buttons.count("Download Excel") == len(at.dataframe)
    assert (
        at.query_params["v"] == [curated.load_manifest()["data_version"]] or at.query_params["v"] == curated.load_manifest()["data_version"]
    )


def ttm_table(data, capex_basis="reported"):
    return funding.funding_table(
        data["fundamentals"],
        data["events"],
        companies=data["companies"],
        flags=data["flags"],
        period="ttm",
        capex_basis=capex_basis,
    )


def test_overview_numbers_equal_the_funding_table(data):
    at = open_page("overview")
    shown = frame_by_columns(at, "ticker", "funding_gap", "funding_gap_lower_bound", "capex").set_index("ticker")
    ttm = ttm_table(data)
    for ticker in ("META", "MSFT", "GOOGL", "AMZN", "ORCL", "INTC"):
        own = ttm[ttm["ticker"] == ticker].sort_values("period_end")
        # every figure of the row comes from one period: the latest with a known or bounded gap
        row = own[own["funding_gap_lower_bound"].notna()].iloc[-1]
        assert shown.at[ticker, "period"] == row["period"]
        assert shown.at[ticker, "capex"] == pytest.approx(round(row["capex"] / 1000, 2))
        assert shown.at[ticker, "funding_gap_lower_bound"] == pytest.approx(round(row["funding_gap_lower_bound"] / 1000, 2))
        if np.isnan(row["funding_gap"]):
            assert np.isnan(shown.at[ticker, "funding_gap"])
            assert shown.at[ticker, "funding_gap_text"].startswith(("at least", "a surplus of at most"))
            assert "counted as 0" in shown.at[ticker, "note"]
        else:
            assert shown.at[ticker, "funding_gap"] == pytest.approx(round(row["funding_gap"] / 1000, 2))
            assert shown.at[ticker, "self_funded_share"] == pytest.approx(row["self_funded_share"] * 100)
    # Oracle's TTM gap is only bounded (its quarterly buybacks before FY2027 are not public)
    assert shown.at["ORCL", "funding_gap_text"].startswith("at least")
    # SoftBank: no fundamentals, shown as missing with the reason, never as zero
    assert np.isnan(shown.at["9984.T", "capex"])
    assert "no fundamentals" in shown.at["9984.T", "note"]


def test_overview_guidance_is_for_a_year_not_yet_ended(data):
    at = open_page("overview")
    shown = frame_by_columns(at, "ticker", "guidance", "guidance_date").set_index("ticker")
    # as of 2026-09-25: Meta's latest statement guides FY2026 (ends 2026-12-31), never an ended year
    assert shown.at["META", "guidance"].startswith(("FY2026", "FY2027"))
    # Microsoft's fiscal 2026 ended in June 2026: its current guidance is calendar 2026 or FY2027
    assert not shown.at["MSFT", "guidance"].startswith("FY2026")


def test_overview_economic_basis_changes_capex_as_the_metrics_do(data):
    at = open_page("overview", capex="economic")
    shown = frame_by_columns(at, "ticker", "capex", "period").set_index("ticker")
    ttm = ttm_table(data, "economic")
    meta = ttm[(ttm["ticker"] == "META") & ttm["funding_gap_lower_bound"].notna()].sort_values("period_end").iloc[-1]
    assert shown.at["META", "period"] == meta["period"]
    assert shown.at["META", "capex"] == pytest.approx(round(meta["capex"] / 1000, 2))


def quarter_row(data, ticker, period):
    quarters = funding.funding_table(
        data["fundamentals"],
        data["events"],
        companies=data["companies"],
        flags=data["flags"],
        period="quarter",
        capex_basis="reported",
    )
    return quarters[(quarters["ticker"] == ticker) & (quarters["period"] == period)].iloc[0]


def test_company_bridge_and_reactions_equal_the_metrics(data):
    at = open_page("company", company="MSFT", bridge_period="quarter", bridge="FY2025 Q3", model="market")
    assert at.title[0].value == "Microsoft (MSFT)"
    row = quarter_row(data, "MSFT", "FY2025 Q3")
    assert row["funding_gap"] < 0  # a surplus, said in words rather than as a negative gap
    assert metric(at, "Funding gap") == f"a surplus of {usd_bn(-row['funding_gap'])}"
    assert metric(at, "Capex") == usd_bn(row["capex"])
    assert metric(at, "Internal funding") == usd_bn(row["internal_funding"])
    assert not frame_or_none(at, "event_id", "window_start", "car")  # only the open section is built
    at = open_page("company", company="MSFT", model="market", section="reactions")
    # reactions table: every MSFT event x window of the study, CARs equal (shown in percent)
    shown = frame_by_columns(at, "event_id", "window_start", "car", "status")
    expected = data["study"].events[data["study"].events["ticker"] == "MSFT"]
    assert len(shown) == len(expected)
    assert list(shown.columns[:5]) == ["event_id", "ticker", "car", "car_t", "car_p"]  # key columns first
    merged = shown.merge(expected, on=["event_id", "window_start", "window_end"], suffixes=("", "_expected"))
    np.testing.assert_allclose(merged["car"], merged["car_expected"] * 100, equal_nan=True)
    assert (merged["status"] == merged["status_expected"]).all()


def test_company_oracle_bridge_reads_as_a_bound(data):
    at = open_page("company", company="ORCL", bridge_period="quarter", bridge="FY2026 Q3")
    row = quarter_row(data, "ORCL", "FY2026 Q3")
    assert np.isnan(row["funding_gap"])
    # by hand from fundamentals.csv: capex 18,635 - (OCF 7,151 - buybacks n/a as 0 - dividends 1,437) = 12,921
    assert row["funding_gap_lower_bound"] == pytest.approx(18635 - (7151 - 0 - 1437))
    assert metric(at, "Funding gap") == "at least $12.9 bn"
    assert metric(at, "Internal funding, at most") == usd_bn(7151 - 1437)
    assert any("counted as 0" in c.value for c in at.caption)


def test_company_marks_a_provisional_figure(data):
    at = open_page("company", company="ORCL", bridge_period="quarter", bridge="FY2026 Q4")
    labels = [m.label for m in at.metric]
    # Oracle's FY2026 Q4 operating cash flow is provisional (fundamentals_flags.csv)
    assert "Funding gap ⚑ provisional" in labels
    gap = [m for m in at.metric if m.label == "Funding gap ⚑ provisional"][0]
    assert "provisional" in gap.help and "PROVISIONAL" in gap.help


def test_company_seed_event_names_the_results_it_shares_day_0_with(data):
    at = open_page("company", company="META", event="EV035", section="reactions")
    headline = data["events"].set_index("event_id").at["EV032", "headline"]
    # the seed event is confounded by the Q2 2025 results only on its own day 0
    texts = [m.value for m in at.markdown]
    shared = [t for t in texts if "Shares day 0 (2025-07-31) with EV032" in t]
    assert shared, texts
    assert escape_markdown(headline) in shared[0] and "cannot be attributed to this event alone" in shared[0]


def test_company_forward_view_what_ifs_equal_forward_view(data):
    at = open_page("company", company="AMZN", ocf_growth="0.1", buyback_pace="0", divestments="5", capex_change="0.2", section="forward")
    guidance = data["guidance"]
    current = forward.current_guidance(guidance, as_of=pd.Timestamp("2026-09-25"), companies=data["companies"]).loc["AMZN"]
    expected = forward.forward_view(
        data["fundamentals"],
        guidance,
        companies=data["companies"],
        capex_change=0.2,
        ocf_growth=0.1,
        buyback_pace=0.0,
        divestment_proceeds=5000.0,
    )
    row = expected[(expected["ticker"] == "AMZN") & (expected["statement_date"] == current["statement_date"])].iloc[-1]
    assert metric(at, "Implied new debt (mid)") == usd_bn(row["implied_new_debt_mid"])
    assert metric(at, "Implied gap (mid)") in (usd_bn(row["funding_gap_mid"]), f"a surplus of {usd_bn(-row['funding_gap_mid'])}")
    assert at.query_params["ocf_growth"] in ("0.1", ["0.1"])


def test_company_forward_view_of_oracle_is_bounded(data):
    at = open_page("company", company="ORCL", section="forward")
    value = metric(at, "Implied new debt (mid)")
    assert value.startswith("at least") or value == "$0.0 bn", value


def test_company_page_says_where_prices_stop():
    at = open_page("company", company="9984.T")
    assert at.title[0].value == "SoftBank Group (9984.T)"
    assert any("2026-05-19" in w.value for w in at.warning)
    assert any("No fundamentals" in i.value for i in at.info)


def test_events_caar_table_equals_group_statistics(data):
    at = open_page("events")
    shown = frame_by_columns(at, "group", "sample", "caar", "t_csect", "lower", "upper")
    summary, _ = caar.group_statistics(data["study"], group_by="event_type")
    merged = shown.merge(summary, on=["group", "sample", "window_start", "window_end"], suffixes=("", "_expected"))
    assert len(merged) == len(summary)
    np.testing.assert_allclose(merged["caar"], merged["caar_expected"] * 100, equal_nan=True, rtol=1e-10)
    for column in ("t_csect", "patell_z", "bmp_t", "kp_bmp_t", "rank_z", "gsign_z", "p_t_csect"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_expected"], equal_nan=True, rtol=1e-10)
    # the interval brackets the CAAR wherever the test exists
    tested = merged[merged["t_csect"].notna()]
    assert ((tested["lower"] <= tested["caar"]) & (tested["caar"] <= tested["upper"])).all()


def test_events_filter_subset_matches_a_study_cut_to_those_events(data):
    at = open_page("events", companies="META", types="earnings,capex_guidance")
    shown = frame_by_columns(at, "event_id", "car", "status")
    events = data["study_events"]
    chosen = events[(events["ticker"] == "META") & events["event_type"].isin(["earnings", "capex_guidance"])]
    assert sorted(shown["event_id"]) == sorted(chosen["event_id"])
    # CARs are those of the full study (confounding judged against every curated event)
    full = data["study"].events
    window = full[(full["window_start"] == -1) & (full["window_end"] == 1)].set_index("event_id")
    np.testing.assert_allclose(shown.set_index("event_id")["car"], window.loc[shown["event_id"], "car"] * 100, equal_nan=True)


def test_compare_table_equals_calendarized_funding_table(data):
    at = open_page("compare", period="calendar_year")
    shown = frame_by_columns(at, "ticker", "period", "capex_intensity", "funding_gap")
    expected = funding.funding_table(
        data["fundamentals"], data["events"], companies=data["companies"], period="calendar_year", capex_basis="reported"
    )
    merged = shown.merge(expected, on=["ticker", "period"], suffixes=("", "_expected"))
    assert len(merged) == len(expected) == len(shown)
    np.testing.assert_allclose(merged["funding_gap"], (merged["funding_gap_expected"] / 1000).round(2), equal_nan=True)
    np.testing.assert_allclose(
        merged["funding_gap_lower_bound"], (merged["funding_gap_lower_bound_expected"] / 1000).round(2), equal_nan=True
    )
    np.testing.assert_allclose(merged["capex_intensity"], merged["capex_intensity_expected"] * 100, equal_nan=True)


def test_methodology_shows_the_manifest_and_a_clean_validation(data):
    at = open_page("methodology")
    shown = frame_by_columns(at, "dataset", "as_of", "rows").set_index("dataset")
    for name, entry in data["manifest"]["datasets"].items():
        assert shown.at[name, "as_of"] == entry["as_of"]
        assert shown.at[name, "rows"] == entry["rows"]
    assert len(at.success) == 5 and not at.warning  # events, fundamentals, guidance, flags, prices all valid
    counts = frame_by_columns(at, "ticker", "total").set_index("ticker")
    flags = data["flags"]
    assert counts["total"].sum() == len(flags)
    assert counts.at["ORCL", "provisional"] == ((flags["ticker"] == "ORCL") & (flags["flag"] == "provisional")).sum()
    assert not at.button  # refresh is off unless the server allows it


@pytest.mark.parametrize(
    ("page", "params", "param_name", "default"),
    [
        ("overview", {"capex": "sideways"}, "capex", "reported"),
        ("company", {"company": "NOPE"}, "company", "META"),
        ("company", {"model": "astrology", "section": "reactions"}, "model", "market"),
        ("company", {"windows": "1:0,zz", "section": "reactions"}, "windows", "-1,1;0,1;-5,5;0,20"),
        ("company", {"windows": "1,0;zz", "section": "reactions"}, "windows", "-1,1;0,1;-5,5;0,20"),
        ("events", {"window": "3:1"}, "window", "-1,1"),
        ("company", {"ocf_growth": "lots", "section": "forward"}, "ocf_growth", "0"),
        ("company", {"buyback_pace": "9", "section": "forward"}, "buyback_pace", "1"),
        ("company", {"event": "EV999", "section": "reactions"}, "event", "EV093"),
        ("company", {"section": "gossip"}, "section", "funding"),
        ("events", {"types": "earnings,gossip"}, "types", ",".join(config.EVENT_TYPES)),
        ("events", {"from": "2024-13-45"}, "from", "2022-10-26"),  # the first guidance statement (GV-META-20221026-...)
        ("compare", {"period": "decade"}, "period", "calendar_quarter"),
    ],
)
def test_bad_query_values_fall_back_to_defaults_with_a_notice(page, params, param_name, default):
    at = open_page(page, **params)
    assert any(f"`{param_name}=" in w.value for w in at.warning), [w.value for w in at.warning]
    value = at.query_params[param_name]
    assert (value[0] if isinstance(value, list) else value) == default


def test_a_link_from_older_data_shows_a_notice():
    at = open_page("overview", v="0000000000")
    assert any("0000000000" in i.value and "changed" in i.value for i in at.info)


def test_a_good_link_reproduces_the_view():
    at = open_page("company", company="GOOGL", capex="economic", model="peer", windows="0:1,0:20", event="EV091", section="reactions")
    assert at.title[0].value == "Alphabet (GOOGL)"
    assert not at.warning or all("`" not in w.value for w in at.warning)
    assert at.selectbox(key="w_model").value == "peer"
    assert at.radio(key="w_capex").value == "economic"
    assert at.multiselect(key="w_windows").value == ["0,1", "0,20"]  # an old link's A:B opens, written as A,B
    assert at.query_params["windows"] in ("0,1;0,20", ["0,1;0,20"])
    assert at.selectbox(key="w_event").value == "EV091"


def test_event_study_controls_show_only_where_they_apply():
    """The model and windows are in the sidebar and the link on the market-reactions section
    only; leaving it and coming back keeps what was chosen."""
    at = open_page("company", company="MSFT")
    assert "model" not in at.query_params and "windows" not in at.query_params
    assert [box.label for box in at.sidebar.selectbox] == ["Company"] and not at.sidebar.multiselect
    at.query_params["section"] = "reactions"
    at.run()
    assert [box.label for box in at.sidebar.selectbox] == ["Company", "Abnormal-return model"]
    at.selectbox(key="w_model").set_value("peer").run()
    assert at.query_params["model"] in ("peer", ["peer"])
    at.radio(key="w_section").set_value("funding").run()
    assert "model" not in at.query_params
    at.radio(key="w_section").set_value("reactions").run()
    assert at.selectbox(key="w_model").value == "peer" and at.query_params["model"] in ("peer", ["peer"])


def test_an_older_company_link_keeps_its_model_and_windows_for_the_reactions():
    """A Company link with model and windows on the funding section (as links were made before
    those controls moved to the reactions): the link then shows what the view uses, and the
    market reactions open with the link's model and windows."""
    at = open_page("company", company="GOOGL", model="peer", windows="0,1;0,20")
    assert "model" not in at.query_params and not at.warning
    at.radio(key="w_section").set_value("reactions").run()
    assert at.selectbox(key="w_model").value == "peer"
    assert at.multiselect(key="w_windows").value == ["0,1", "0,20"]
    assert at.query_params["windows"] in ("0,1;0,20", ["0,1;0,20"])


def test_a_bad_model_on_a_view_without_the_control_is_named():
    at = open_page("company", model="astrology")
    assert any("`model=astrology`" in w.value for w in at.warning), [w.value for w in at.warning]


def test_the_manifest_is_read_once_per_run_and_again_at_the_next(monkeypatch):
    """Every page run checks the data against its manifest once (not once per caller), and the
    next run reads it again: a refresh by another session shows at the next rerun."""
    at = open_page("company", company="META")
    real = curated.load_manifest
    reads = []

    def counting(*args, **kwargs):
        manifest = real(*args, **kwargs)
        reads.append(manifest["data_version"])
        return {**manifest, "data_version": f"changed{len(reads)}"}

    monkeypatch.setattr(curated, "load_manifest", counting)
    at.run()
    assert len(reads) == 1 and at.query_params["v"] in ("changed1", ["changed1"])
    at.run()
    assert len(reads) == 2 and at.query_params["v"] in ("changed2", ["changed2"])


def test_window_links_in_the_command_lines_syntax():
    at = open_page("events", windows="-1,1;0,20", window="0,20")
    assert at.selectbox(key="w_window").value == "0,20"
    assert not [w for w in at.warning if "`window" in w.value]


UPLOAD = (
    b"event_id,ticker,event_date,event_time,event_type,headline\n"
    b"U1,META,2025-10-29,after_close,earnings,=cmd|' /C calc'!A0\n"
    b"U2,NOPE,2025-10-30,,,unknown ticker\n"
    b"U3,MSFT,2025-02-30,,,impossible date\n"
    b"U4,MSFT,2025-07-30,at_lunch,,bad time\n"
    b"U5,GOOGL,2025-07-23,after_close,capex_guidance,fine\n"
)


def test_upload_check_reports_every_bad_row_by_line():
    check = uploads.check_uploaded_events("mine.csv", UPLOAD)
    assert check.error is None
    assert sorted(check.events["event_id"]) == ["U1", "U5"]
    assert check.issues[["line", "column"]].values.tolist() == [[3, "ticker"], [4, "event_date"], [5, "event_time"]]
    assert "5 rows read, 2 loaded, 3 rejected" in check.summary


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"a,b\n1,2\n", "missing required column"), (b"\xff\xfe\x00", "not UTF-8"), (b"", "empty")],
)
def test_unreadable_uploads_give_one_clear_error(data, reason):
    check = uploads.check_uploaded_events("bad.csv", data)
    assert reason in check.error and check.events.empty


def test_events_page_reports_an_upload_row_by_row_and_runs_the_valid_rows(data, tmp_path):
    before = sorted(p.name for p in config.DATA_DIR.iterdir())
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/events.py")
    at.session_state[uploads.SESSION_KEY] = ("mine.csv", UPLOAD)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("3 rejected" in w.value for w in at.warning)
    report = frame_by_columns(at, "line", "column", "reason")
    assert report[["line", "column"]].values.tolist() == [[3, "ticker"], [4, "event_date"], [5, "event_time"]]
    result = frame_by_columns(at, "event_id", "car", "day0_reason", last=True)
    assert sorted(result["event_id"].unique()) == ["U1", "U5"]
    # the upload's own study, computed directly (curated events confound it, as on the CLI), gives the same CARs
    good = uploads.check_uploaded_events("mine.csv", UPLOAD).events
    expected = event_study.run_event_study(
        good,
        returns.simple_returns(curated.close_prices(curated.load_prices())),
        companies=data["companies"],
        confounders=data["study_events"],
    ).events
    np.testing.assert_allclose(result["car"].to_numpy(), expected["car"].to_numpy() * 100, equal_nan=True)  # shown in percent
    assert sorted(p.name for p in config.DATA_DIR.iterdir()) == before  # nothing written


def test_refresh_button_appears_only_when_the_server_allows_it(monkeypatch):
    monkeypatch.setenv("DASHBOARD_ALLOW_REFRESH", "1")
    at = open_page("methodology")
    assert [b.label for b in at.button] == ["Refresh the data"]  # shown, not clicked: no network in tests
    monkeypatch.setenv("DASHBOARD_ALLOW_REFRESH", "0")
    at = open_page("methodology")
    assert not at.button


def test_links_to_sources_are_http_only_in_every_table():
    """Source columns shown as links hold only http(s) URLs or nothing."""
    for page in PAGES:
        at = open_page(page)
        for element in at.dataframe:
            for column in element.value.columns:
                if column.endswith("source_url") or column in ("guidance_source", "latest_event_source"):
                    values = element.value[column].dropna()
                    assert values.map(lambda u: str(u).startswith(("http://", "https://"))).all(), (page, column)


@pytest.mark.parametrize("page", PAGES)
def test_every_chart_has_a_description_under_it(page):
    """Each Plotly chart carries a non-empty accessible description, written as a caption."""
    views = (
        [open_page(page, company="ORCL", section=s) for s in ("funding", "forward", "reactions")]
        if page == "company"
        else [open_page(page)]
    )
    for at in views:
        charts = at.get("plotly_chart")
        descriptions = [c.value for c in at.caption if c.value.startswith("Chart:")]
        assert len(descriptions) == len(charts)
        assert all(len(text) > len("Chart: ") + 20 for text in descriptions), descriptions


def test_price_chart_scale_and_range_are_in_the_link():
    at = open_page("company", company="META", price_scale="log", price_range="1y", section="reactions")
    assert at.radio(key="w_price_scale").value == "log"
    assert at.radio(key="w_price_range").value == "1y"
    assert at.query_params["price_scale"] in ("log", ["log"])


def test_every_company_shows_the_same_charts_even_without_data():
    """SoftBank has no fundamentals and a short price history: its sections draw the same charts
    as Meta's, each saying inside itself what is missing."""
    for section in ("funding", "forward", "reactions"):
        meta = open_page("company", company="META", section=section)
        softbank = open_page("company", company="9984.T", section=section)
        assert len(softbank.get("plotly_chart")) == len(meta.get("plotly_chart")) > 0
    empty = [c.value for c in open_page("company", company="9984.T", section="funding").caption if c.value.startswith("Chart: No")]
    assert len(empty) == 1 and "No funding\\-gap bridge or memo lines" in empty[0]  # escaped Markdown
    empty = [c.value for c in open_page("company", company="9984.T", section="forward").caption if c.value.startswith("Chart: No")]
    assert len(empty) == 1  # capex and guidance


FILINGS_FIXTURE = config.REPO_ROOT / "tests" / "fixtures" / "filings" / "dataset"


@pytest.fixture
def data_with_filings(tmp_path, monkeypatch):
    """The frozen snapshot plus the saved filings made from the (placeholder-valued) fixtures."""
    import shutil

    target = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, target)
    for name in ("filings.csv", "filings.manifest.json"):
        shutil.copyfile(FILINGS_FIXTURE / name, target / name)
    monkeypatch.setattr(config, "DATA_DIR", target)
    return target


def test_company_filings_section_shows_the_fixture_filings(data, data_with_filings):
    from dashboard.loaders.filings import load_filings
    from dashboard.metrics.filings import filing_candidates

    expected = filing_candidates(load_filings(data_with_filings), data["events"], companies=data["companies"])
    at = open_page("company", company="META", section="filings")
    shown = frame_by_columns(at, "accession", "status", "time_source")
    meta = expected[expected["ticker"] == "META"]
    assert sorted(shown["accession"]) == sorted(meta["accession"]) and len(meta) > 0
    assert shown.set_index("accession")["status"].to_dict() == meta.set_index("accession")["status"].to_dict()
    assert len(at.get("plotly_chart")) == 1  # the timeline
    # Meta's 10-Q of 2025-07-30, 20:02 ET: after the close, so day 0 is the next session
    ten_q = meta[(meta["form"] == "10-Q") & meta["accepted_et"].astype(str).str.startswith("2025-07-30")]
    assert str(ten_q["day0"].iloc[0])[:10] == "2025-07-31"


def test_events_page_lists_the_filing_review_queue(data, data_with_filings):
    at = open_page("events")
    queue = frame_by_columns(at, "event_id", "time_source", "source_url")
    assert queue["event_id"].str.startswith("SEC-").all() and len(queue) > 0


def test_without_filings_the_app_says_how_to_fetch_them():
    at = open_page("company", company="META", section="filings")
    assert any("python -m dashboard filings" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 1  # the timeline of curated events, saying no filings
    softbank = open_page("company", company="9984.T", section="filings")
    assert any("does not file with the SEC" in i.value for i in softbank.info)


def test_the_excel_download_is_the_one_export_and_opens():
    """The Excel button's file is exporting.export_xlsx of the table: a data sheet then a metadata
    sheet, and a formula-like headline arrives as text."""
    import io

    from openpyxl import load_workbook

    from dashboard.exporting import export_xlsx

    at = open_page("overview")
    assert any(b.key == "download_xlsx_overview_latest_events" for b in at.get("download_button"))
    frame = pd.DataFrame({"headline": ['=HYPERLINK("http://x")'], "amount_usd_bn": [2.5]})
    workbook = load_workbook(io.BytesIO(export_xlsx(frame, params={"page": "overview"}, name="t", data_version="v1")))
    assert workbook.sheetnames == ["data", "metadata"]
    cell = workbook["data"]["A2"]
    assert cell.data_type == "s" and cell.value == '\'=HYPERLINK("http://x")'
    assert workbook["data"]["B2"].value == 2.5
    assert dict(workbook["metadata"].iter_rows(values_only=True))["data_version"] == "v1"
