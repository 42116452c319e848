"""Row-level validation of curated files: one test per rule, plus counts and the command line.

Each test breaks one copy of a real embedded file in a known place and checks that exactly that
row is reported, by line and column, while every other row still loads.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from dashboard import config
from dashboard.loaders.curated import (
    load_companies,
    load_events,
    parse_source_names,
    period_end_fits,
    validate_events,
    validate_fundamentals,
    validate_fundamentals_flags,
    validate_guidance,
    validate_prices,
)
from dashboard.loaders.snapshot import dataset_entry, update_manifest
from dashboard.loaders.validation import CurationWarning, record_lines

EVENTS = config.DATA_DIR / config.EVENTS_FILE
FUNDAMENTALS = config.DATA_DIR / config.FUNDAMENTALS_FILE
GUIDANCE = config.DATA_DIR / config.GUIDANCE_FILE
FLAGS = config.DATA_DIR / config.FUNDAMENTALS_FLAGS_FILE


def broken_copy(source: Path, target: Path, line: int, old: str, new: str) -> Path:
    """Copy ``source`` to ``target`` with ``old`` replaced by ``new`` on one physical line."""
    lines = source.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], f"test setup: {old!r} not on line {line}"
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    target.write_text("\n".join(lines), encoding="utf-8")
    return target


def only_issue(report, line: int, column: str, reason_part: str) -> None:
    assert [(i.line, i.column) for i in report.issues] == [(line, column)], report.lines()
    assert reason_part in report.issues[0].reason
    assert report.rows_read == report.rows_loaded + 1


def test_embedded_files_are_valid():
    for validate, path in [
        (validate_events, EVENTS),
        (validate_fundamentals, FUNDAMENTALS),
        (validate_guidance, GUIDANCE),
        (validate_prices, config.DATA_DIR / config.PRICES_FILE),
    ]:
        good, report = validate(path)
        assert report.ok, report.lines()
        assert len(good) == report.rows_read == report.rows_loaded


def test_embedded_counts_match_the_curated_source():
    # 96 events, 108 company-quarters, 38 guidance statements (data/provenance/PROVENANCE.md)
    assert validate_events(EVENTS)[1].rows_loaded == 96
    assert validate_fundamentals(FUNDAMENTALS)[1].rows_loaded == 108
    assert validate_guidance(GUIDANCE)[1].rows_loaded == 38


@pytest.mark.parametrize(
    ("old", "new", "column", "reason"),
    [
        ("EV001,META,", "EV001,FOO,", "ticker", "unknown ticker"),
        ("2024-04-24", "2024-04-31", "event_date", "is not a date"),
        ("2024-04-24", "2099-04-24", "event_date", "in the future"),
        ("after_close,capex_guidance", "lunchtime,capex_guidance", "event_time", "is not one of"),
        ("after_close,capex_guidance", "after_close,rumour", "event_type", "is not one of"),
        ("capex_guidance,37.5,", "capex_guidance,-37.5,", "amount_usd_bn", "negative"),
        ("capex_guidance,37.5,", "capex_guidance,lots,", "amount_usd_bn", "is not a number"),
        ("https://finance.yahoo.com", "ftp://finance.yahoo.com", "source_url", "http(s)"),
        (",high,,,,", ",certain,,,,", "confidence", "is not one of"),
    ],
)
def test_each_event_rule_rejects_exactly_its_row(tmp_path, old, new, column, reason):
    path = broken_copy(EVENTS, tmp_path / "events.csv", 2, old, new)
    good, report = validate_events(path)
    only_issue(report, 2, column, reason)
    assert "EV001" not in set(good["event_id"])
    assert len(good) == 95


def test_duplicate_event_id_rejects_the_later_row(tmp_path):
    path = broken_copy(EVENTS, tmp_path / "events.csv", 4, "EV003,", "EV001,")
    good, report = validate_events(path)
    only_issue(report, 4, "event_id", "duplicates an earlier row")
    assert good["event_id"].value_counts()["EV001"] == 1


def test_funding_amount_on_a_second_event_of_a_deal_is_rejected(tmp_path):
    # EV044 carries Hyperion's 27.3; giving EV045 (same deal) an amount too would double count.
    lines = EVENTS.read_text(encoding="utf-8").split("\n")
    line = next(n for n, text in enumerate(lines, start=1) if text.startswith("EV045,"))
    path = broken_copy(EVENTS, tmp_path / "events.csv", line, "META-HYPERION,announced,,jv_spv", "META-HYPERION,announced,27.3,jv_spv")
    _, report = validate_events(path)
    only_issue(report, line, "funding_usd_bn", "one event only")


def test_every_bad_row_is_reported_at_once_and_good_rows_load(tmp_path):
    path = broken_copy(EVENTS, tmp_path / "events.csv", 2, "EV001,META,2024-04-24,after_close", "EV001,FOO,2024-13-24,lunchtime")
    path = broken_copy(path, path, 3, "https://", "javascript:")
    good, report = validate_events(path)
    assert sorted((i.line, i.column) for i in report.issues) == [
        (2, "event_date"),
        (2, "event_time"),
        (2, "ticker"),
        (3, "source_url"),
    ]
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (96, 94, 2)
    assert str(report.issues[0]).startswith(f"{path}:2: ")


def test_line_numbers_follow_multi_line_quoted_fields(tmp_path):
    text = EVENTS.read_text(encoding="utf-8").split("\n")
    header, first, second = text[0], text[1], text[2]
    first = first.replace("With Q1 2024 results", '"With Q1 2024\nresults', 1).replace("the next session.,", 'the next session.",', 1)
    second = second.replace(",INTC,", ",NOPE,", 1)
    path = tmp_path / "events.csv"
    path.write_text("\n".join([header, first, second]) + "\n", encoding="utf-8")
    assert record_lines(path.read_text()) == [2, 4]
    _, report = validate_events(path)
    assert [(i.line, i.column) for i in report.issues] == [(4, "ticker")]


def test_load_events_warns_with_the_rejected_rows(tmp_path, data_copy):
    broken_copy(EVENTS, data_copy / config.EVENTS_FILE, 2, "EV001,META,", "EV001,FOO,")
    # The manifest is made to describe the edited file, so the load gets past the snapshot check.
    entry = dataset_entry(data_copy / config.EVENTS_FILE, rows=96, as_of="2026-09-10", source="test copy")
    update_manifest(data_copy, "events", entry)
    with pytest.warns(CurationWarning, match=r"events\.csv:2: ticker: unknown ticker"):
        events = load_events(data_copy)
    assert len(events) == 95


def test_user_events_need_only_id_ticker_and_date(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("event_id,ticker,event_date\nX1,META,2025-10-30\nX2,META,not-a-date\n", encoding="utf-8")
    good, report = validate_events(path, curated=False)
    assert good[["event_id", "event_time", "event_type"]].values.tolist() == [["X1", "unknown", "other"]]
    assert [(i.line, i.column) for i in report.issues] == [(3, "event_date")]


def test_user_events_without_a_required_column_fail_clearly(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("event_id,event_date\nX1,2025-10-30\n", encoding="utf-8")
    with pytest.raises(Exception, match="missing required column"):
        validate_events(path, curated=False)


def test_source_names_by_hand():
    assert parse_source_names("OurAlpha (CNBC); GitHub AWS-capex thread") == ("OurAlpha (CNBC)", "GitHub AWS-capex thread")
    # a ";" inside parentheses belongs to the name
    assert parse_source_names("GitHub research notes (AWS-capex thread; 10-Q)") == ("GitHub research notes (AWS-capex thread; 10-Q)",)
    assert parse_source_names("Tapebrief;Trylattice ; belcourt;") == ("Tapebrief", "Trylattice", "belcourt")
    assert parse_source_names(float("nan")) == () and parse_source_names(" ; ") == ()
    assert f"Source: {parse_source_names('A;B')}" == "Source: A; B"  # a label reads as the file wrote it


def test_event_source_names_are_parsed_once_into_tuples():
    events = load_events()
    text = pd.read_csv(EVENTS, usecols=["event_id", "source_name"]).set_index("event_id")["source_name"]
    assert all(isinstance(v, tuple) and v for v in events["source_name"])
    several = events[events["source_name"].map(len) > 1].set_index("event_id")["source_name"]
    assert several["EV085"] == ("Tapebrief", "Trylattice", "belcourt")
    assert "EV073" not in several.index  # its only ";" is inside parentheses
    assert len(several) == 12
    # every label equals the file's text, and the tuple survives pickling (caches, worker processes)
    assert {e: str(v) for e, v in events.set_index("event_id")["source_name"].items()} == text.to_dict()
    assert pickle.loads(pickle.dumps(several["EV085"])) == several["EV085"]


def test_user_events_without_source_name_get_no_names(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("event_id,ticker,event_date,source_name\nX1,META,2025-10-30,\nX2,META,2025-10-31,A; B\n", encoding="utf-8")
    good, _ = validate_events(path, curated=False)
    assert good["source_name"].tolist() == [(), ("A", "B")]


# --- fundamentals -----------------------------------------------------------------------------


def fundamentals_line(ticker: str, fiscal_year: int, quarter: int) -> int:
    lines = FUNDAMENTALS.read_text(encoding="utf-8").split("\n")
    return next(n for n, t in enumerate(lines, start=1) if t.startswith(f"{ticker},{fiscal_year},{quarter},"))


def test_duplicate_company_quarter_is_rejected(tmp_path):
    line = fundamentals_line("META", 2025, 2)
    path = broken_copy(FUNDAMENTALS, tmp_path / "f.csv", line, "META,2025,2,2025-06-30", "META,2025,1,2025-06-30")
    _, report = validate_fundamentals(path)
    # The row now claims Q1 again (a duplicate) with Q2's period end (a misfit): both are named.
    assert sorted(i.column for i in report.issues) == ["fiscal_quarter", "period_end"]
    assert {i.line for i in report.issues} == {line}


def test_period_end_that_misses_the_fiscal_calendar_is_rejected(tmp_path):
    line = fundamentals_line("MSFT", 2026, 1)  # Microsoft's FY2026 Q1 ends 2025-09-30
    path = broken_copy(FUNDAMENTALS, tmp_path / "f.csv", line, "MSFT,2026,1,2025-09-30", "MSFT,2026,1,2026-09-30")
    _, report = validate_fundamentals(path)
    only_issue(report, line, "period_end", "fiscal calendar")


def test_fiscal_calendar_rule_by_hand():
    companies = load_companies()
    rows = pd.DataFrame(
        {
            "ticker": ["MSFT", "MSFT", "ORCL", "ORCL", "INTC", "INTC", "META"],
            "fiscal_year": [2026, 2026, 2027, 2026, 2022, 2022, 2025],
            "fiscal_quarter": [1, 1, 1, 1, 1, 1, 3],
            "period_end": pd.to_datetime(
                ["2025-09-30", "2025-06-30", "2026-08-31", "2026-08-31", "2022-04-02", "2022-04-09", "2025-09-30"]
            ),
        }
    )
    # MSFT FY ends June: FY2026 Q1 = Jul-Sep 2025. ORCL FY ends May: FY2027 Q1 ends Aug 2026.
    # INTC 52/53 weeks: 2022-04-02 is 2 days from Mar 31 (fits), 2022-04-09 is 9 days (does not).
    assert period_end_fits(rows, companies).tolist() == [True, False, True, False, True, False, True]


def test_negative_fundamental_outflow_is_rejected_but_negative_cash_flow_is_not(tmp_path):
    # Amazon's Q1 2022 operating cash flow really was negative (-2,790).
    _, report = validate_fundamentals(FUNDAMENTALS)
    assert report.ok
    line = fundamentals_line("AMZN", 2022, 1)
    path = broken_copy(FUNDAMENTALS, tmp_path / "f.csv", line, "-2790.0,14951.0", "-2790.0,-14951.0")
    _, report = validate_fundamentals(path)
    only_issue(report, line, "capex", "negative")


def test_missing_fundamentals_stay_nan_not_zero():
    good, _ = validate_fundamentals(FUNDAMENTALS)
    q1 = good[(good["ticker"] == "AMZN") & (good["fiscal_year"] == 2022) & (good["fiscal_quarter"] == 1)].iloc[0]
    assert pd.isna(q1["buybacks"]) and pd.isna(q1["finance_lease_principal"])
    assert q1["dividends"] == 0.0  # Amazon pays no dividend: a known zero stays zero


# --- guidance and prices ----------------------------------------------------------------------


def test_guidance_low_above_high_is_rejected(tmp_path):
    path = broken_copy(GUIDANCE, tmp_path / "g.csv", 2, "100.0,100.0", "120.0,100.0")
    _, report = validate_guidance(path)
    only_issue(report, 2, "low_usd_bn", "above high")


def test_prices_rules(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "ticker,date,open,high,low,close,volume\n"
        "META,2025-01-02,10,11,9,10,100\n"
        "META,2025-01-02,10,11,9,10,100\n"
        "ZZZ,2025-01-03,10,11,9,10,100\n"
        "META,2025-01-06,10,8,9,10,100\n"
        "META,2025-01-07,10,11,9,-1,100\n",
        encoding="utf-8",
    )
    good, report = validate_prices(path)
    assert [(i.line, i.column) for i in report.issues] == [(3, "date"), (4, "ticker"), (5, "high"), (6, "close")]
    assert len(good) == 1


# --- command line -----------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=120)


def test_cli_validate_passes_on_embedded_data():
    result = run_cli("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "events" in result.stdout and "96 loaded" in result.stdout


def test_cli_validate_reports_each_bad_row_and_exits_1(tmp_path):
    path = broken_copy(EVENTS, tmp_path / "events.csv", 2, "EV001,META,", "EV001,FOO,")
    path = broken_copy(path, path, 5, "https://", "ftp://")
    result = run_cli("validate", "--events", str(path))
    assert result.returncode == 1
    assert f"{path}:2: ticker: unknown ticker" in result.stdout
    assert f"{path}:5: source_url:" in result.stdout


def test_cli_validate_other_failure_exits_2_in_one_line(tmp_path):
    result = run_cli("validate", "--events", str(tmp_path / "absent.csv"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_warning_on_clean_load():
    with warnings.catch_warnings():
        warnings.simplefilter("error", CurationWarning)
        assert len(load_events()) == 96


def test_user_events_may_name_extra_tickers_when_allowed(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("event_id,ticker,event_date\nX1,ZM,2020-03-16\nX2,QQQQ,2020-03-16\n", encoding="utf-8")
    good, report = validate_events(path, curated=False, extra_tickers=["ZM"])
    assert good["ticker"].tolist() == ["ZM"]
    assert [(i.line, i.column) for i in report.issues] == [(3, "ticker")]


def test_a_missing_column_rejects_the_file_with_a_line_1_report(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("event_id,ticker,event_time\nX1,META,unknown\n", encoding="utf-8")
    result = run_cli("validate", "--events", str(path))
    assert result.returncode == 1, result.stderr
    assert f"{path}:1: event_date: column is missing" in result.stdout
    assert "1 rows read, 0 loaded, 1 rejected" in result.stdout
    fundamentals = tmp_path / "f.csv"
    lines = FUNDAMENTALS.read_text(encoding="utf-8").split("\n")[:3]
    fundamentals.write_text("\n".join(",".join(line.split(",")[:4]) for line in lines) + "\n", encoding="utf-8")
    good, report = validate_fundamentals(fundamentals)
    assert good.empty and "fiscal_year" in good.columns
    assert {(i.line, i.column) for i in report.issues} >= {(1, "capex"), (1, "source")}


def test_every_quality_flag_points_at_a_filled_cell():
    flags, report = validate_fundamentals_flags(FLAGS)
    assert report.ok and report.rows_loaded == len(flags) == 443
    fundamentals = pd.read_csv(FUNDAMENTALS, parse_dates=["period_end"]).set_index(["ticker", "period_end"])
    for row in flags.itertuples():
        assert pd.notna(fundamentals.at[(row.ticker, row.period_end), row.column]), row


@pytest.mark.parametrize(
    ("line", "old", "new", "column", "reason"),
    [
        # ORCL FY2026 Q4 has no buybacks figure: a flag on it points at an empty cell.
        (431, "operating_cash_flow,provisional", "buybacks,provisional", "column", "points at no non-empty cell"),
        (431, "2026-05-31", "2026-05-30", "column", "points at no non-empty cell"),
        (431, ",provisional,", ",guessed,", "flag", "flag is not one of"),
        (431, "operating_cash_flow", "opex", "column", "column is not one of"),
        (431, "ORCL", "NOPE", "ticker", "unknown ticker"),
        (431, "operating_cash_flow,provisional", "operating_cash_flow,derived", "flag", "duplicates an earlier row"),
    ],
)
def test_each_flag_rule_rejects_exactly_its_row(tmp_path, line, old, new, column, reason):
    bad = broken_copy(FLAGS, tmp_path / "fundamentals_flags.csv", line, old, new)
    good, report = validate_fundamentals_flags(bad)
    assert [(issue.line, issue.column) for issue in report.issues] == [(line, column)]
    assert reason in report.issues[0].reason
    assert report.rows_read == 443 and report.rows_loaded == 442 == len(good)
