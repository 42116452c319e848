"""One validation path: every bad cell is reported as file:line: column: reason, never a crash.

- A fundamentals row whose period cannot be checked, anywhere in the file, is reported (it used
  to end in a TypeError unless it was the last line).
- Numbers are finite: inf, -inf and 1e400 are rejected in every numeric column of every dataset.
- A user's events file with unknown columns loads with a warning naming each, and the known
  column each probably meant.
- A Parquet price table with a text volume, a bad companies.csv and unreadable files give
  reports in our words: no pandera JSON, no pyarrow or pandas exception text.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dashboard import config
from dashboard.errors import CurationError
from dashboard.loaders import curated
from dashboard.loaders.curated import (
    load_companies,
    validate_companies,
    validate_events,
    validate_fundamentals,
    validate_guidance,
    validate_prices,
)
from dashboard.loaders.snapshot import dataset_entry, update_manifest
from dashboard.ui import uploads

FUNDAMENTALS = config.DATA_DIR / config.FUNDAMENTALS_FILE


def with_cell(path: Path, line: int, column: str, value: str) -> str:
    """The text of a CSV file with one cell (physical ``line``, header = 1) replaced."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[line - 2, column] = value
    return frame.to_csv(index=False, lineterminator="\n")


def issues(report) -> list[tuple[int, str, str]]:
    return [(i.line, i.column, i.reason) for i in report.issues]


# --- fundamentals rows whose period cannot be checked ------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "blamed", "reason"),
    [
        ("period_end", "", "period_end", "is empty"),
        ("period_end", "2023-02-30", "period_end", "'2023-02-30' is not a date (YYYY-MM-DD)"),
        ("fiscal_quarter", "Q5", "fiscal_quarter", "fiscal_quarter is not Q1..Q4 (5)"),
        ("fiscal_year", "2022.5", "fiscal_year", "'2022.5' is not a whole number"),
        ("ticker", "NOPE", "ticker", "unknown ticker ('NOPE')"),
    ],
)
@pytest.mark.parametrize("line", [2, 50, 109])  # first row, a middle row, the last row
def test_a_period_that_cannot_be_checked_is_reported_anywhere(column, value, blamed, reason, line):
    text = with_cell(FUNDAMENTALS, line, column, value)
    good, report = validate_fundamentals("fundamentals.csv", text=text)
    assert issues(report) == [(line, blamed, reason)], report.lines()
    assert len(good) == 107 and report.rows_read == 108


def test_the_period_check_still_rejects_a_wrong_period_end_beside_unchecked_rows():
    text = with_cell(FUNDAMENTALS, 3, "fiscal_quarter", "Q5")
    text = with_cell_text(text, 10, "period_end", "2022-05-31")  # a month off
    _, report = validate_fundamentals("fundamentals.csv", text=text)
    assert [(line, column) for line, column, _ in issues(report)] == [(3, "fiscal_quarter"), (10, "period_end")]
    assert "does not fit the company's fiscal calendar" in report.issues[1].reason


def with_cell_text(text: str, line: int, column: str, value: str) -> str:
    import io

    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame.loc[line - 2, column] = value
    return frame.to_csv(index=False, lineterminator="\n")


# --- finite numbers only ----------------------------------------------------------------------------


NON_FINITE = ["inf", "-inf", "1e400", "-1E400", "Infinity"]


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize(
    ("validate", "file", "line", "column"),
    [
        (validate_events, config.EVENTS_FILE, 4, "amount_usd_bn"),
        (validate_fundamentals, config.FUNDAMENTALS_FILE, 5, "capex"),
        (validate_fundamentals, config.FUNDAMENTALS_FILE, 6, "operating_cash_flow"),  # may be negative, not infinite
        (validate_guidance, config.GUIDANCE_FILE, 3, "low_usd_bn"),
        (validate_guidance, config.GUIDANCE_FILE, 7, "high_usd_bn"),
    ],
)
def test_non_finite_numbers_are_rejected_in_csv_files(validate, file, line, column, value):
    text = with_cell(config.DATA_DIR / file, line, column, value)
    _, report = validate(file, text=text)
    assert issues(report) == [(line, column, f"{value!r} is not a finite number")], report.lines()


@pytest.mark.parametrize("value", NON_FINITE)
def test_non_finite_prices_are_rejected_in_csv_and_parquet(tmp_path, value):
    prices = pd.read_parquet(config.DATA_DIR / config.PRICES_FILE).head(20)
    text = prices.assign(date=prices["date"].dt.strftime("%Y-%m-%d")).to_csv(index=False)
    path = tmp_path / "prices.csv"
    path.write_text(with_cell_text(text, 6, "close", value), encoding="utf-8")
    _, report = validate_prices(path)
    assert issues(report) == [(6, "close", f"{value!r} is not a finite number")]
    typed = prices.copy()
    typed.loc[4, "volume"] = float(value)  # a Parquet file holds the number itself
    typed.loc[9, "high"] = float(value)
    typed.to_parquet(tmp_path / "prices.parquet", index=False)
    _, report = validate_prices(tmp_path / "prices.parquet")
    shown = "'-inf'" if value.startswith("-") else "'inf'"
    assert [(line, column) for line, column, _ in issues(report)] == [(6, "volume"), (11, "high")]
    assert all(reason == f"{shown} is not a finite number" for _, _, reason in issues(report))


def test_a_non_finite_whole_number_is_rejected_in_companies(tmp_path):
    text = with_cell(config.DATA_DIR / config.COMPANIES_FILE, 3, "fiscal_year_end_month", "inf")
    _, report = validate_companies("companies.csv", text=text)
    assert issues(report) == [(3, "fiscal_year_end_month", "'inf' is not a finite number")]


def test_a_non_finite_user_amount_is_rejected_in_an_upload():
    check = uploads.check_uploaded_events(
        "mine.csv", b"event_id,ticker,event_date,amount_usd_bn\nA,META,2025-01-02,1e400\nB,META,2025-01-03,2\n"
    )
    assert check.rows_loaded == 1
    assert check.issues[["line", "column", "reason"]].values.tolist() == [[2, "amount_usd_bn", "'1e400' is not a finite number"]]


# --- unknown columns are named, with the column they probably meant --------------------------------


USER_FILE = "event_id,ticker,event_date,type,amount_bn,Headline,colour\nX1,META,2025-10-30,divestment,2.5,Sold a site,red\n"


def test_unknown_user_columns_are_named_with_a_suggestion(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(USER_FILE, encoding="utf-8")
    good, report = validate_events(path, curated=False)
    assert report.ok and len(good) == 1  # nothing is rejected for an unknown column...
    assert [(w.line, w.column, w.reason) for w in report.warnings] == [
        (1, "type", "unknown column, ignored; did you mean event_type?"),
        (1, "amount_bn", "unknown column, ignored; did you mean amount_usd_bn?"),
        (1, "Headline", "unknown column, ignored; did you mean headline?"),
        (1, "colour", "unknown column, ignored"),
    ]
    # ... but the report says so, in its summary and one line per column.
    assert "ignored: type (unknown column, ignored; did you mean event_type?)" in report.summary()
    assert f"  warning: {path}:1: amount_bn: unknown column, ignored; did you mean amount_usd_bn?" in report.lines()


def test_unknown_user_columns_reach_the_upload_and_the_command_line(tmp_path):
    check = uploads.check_uploaded_events("mine.csv", USER_FILE.encode())
    assert "did you mean event_type?" in check.summary and "did you mean amount_usd_bn?" in check.summary
    # `validate --events` checks the curated format, where an unknown column rejects the file;
    # it names the column it probably meant as well. (`reactions --events` prints report.lines().)
    path = tmp_path / "mine.csv"
    path.write_text(USER_FILE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "validate", "--events", str(path)], cwd=config.REPO_ROOT, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert f"{path}:1: type: column is not part of this file's format; did you mean event_type?" in done.stdout, done.stdout


def test_a_misspelled_required_column_is_pointed_at(tmp_path):
    with pytest.raises(CurationError, match=r"missing required column\(s\): event_date \(is 'date' it\?\)"):
        validate_events("mine.csv", curated=False, text="event_id,ticker,date\nX1,META,2025-10-30\n")


def test_an_unknown_column_of_a_curated_file_gets_a_suggestion():
    text = (config.DATA_DIR / config.GUIDANCE_FILE).read_text(encoding="utf-8").replace("low_usd_bn", "low_bn", 1)
    _, report = validate_guidance("guidance.csv", text=text)
    assert (1, "low_bn", "column is not part of this file's format; did you mean low_usd_bn?") in issues(report)


# --- reports in our words -----------------------------------------------------------------------------


def test_a_text_volume_in_parquet_is_reported_row_by_row(tmp_path):
    prices = pd.read_parquet(config.DATA_DIR / config.PRICES_FILE).head(10)
    prices["volume"] = prices["volume"].astype(str)
    prices.loc[3, "volume"] = "a lot"
    prices.loc[7, "volume"] = "12,000"
    prices.to_parquet(tmp_path / "prices.parquet", index=False)
    good, report = validate_prices(tmp_path / "prices.parquet")
    assert issues(report) == [(5, "volume", "'a lot' is not a number"), (9, "volume", "'12,000' is not a number")]
    assert len(good) == 8


def test_a_bad_companies_value_is_a_row_report_not_a_json_dump(data_copy):
    path = data_copy / config.COMPANIES_FILE
    path.write_text(with_cell(path, 4, "fiscal_calendar", "lunar"), encoding="utf-8")
    update_manifest(data_copy, "companies", dataset_entry(path, rows=7, as_of="2026-11-28", source="test copy"))
    with pytest.raises(CurationError) as caught:
        load_companies(data_copy)
    message = str(caught.value)
    assert message.endswith("companies.csv:4: fiscal_calendar: fiscal_calendar is not one of 52_53_week, month_end ('lunar')")
    assert "{" not in message and "SchemaError" not in message
    assert [str(i) for i in caught.value.report.issues] == [message]


def test_unreadable_files_are_reported_in_our_words(tmp_path):
    parquet = tmp_path / "prices.parquet"
    parquet.write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(CurationError) as caught:
        validate_prices(parquet)
    assert str(caught.value) == f"{parquet}: not a readable Parquet file"
    ragged = "event_id,ticker,event_date\nX1,META,2025-10-30\nX2,META,2025-10-30,extra\n"
    with pytest.raises(CurationError) as caught:
        validate_events("mine.csv", curated=False, text=ragged)
    assert str(caught.value) == "mine.csv:3: row has 4 fields, the header has 3"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("event_id,ticker,event_date\nX1,META,2025-10-30 caf\xe9\n".encode("latin-1"))
    with pytest.raises(CurationError) as caught:
        validate_events(latin, curated=False)
    assert str(caught.value) == f"{latin}:2: not UTF-8 text"


def test_reports_on_the_embedded_data_name_files_relative_to_the_repository():
    _, report = validate_events(config.DATA_DIR / config.EVENTS_FILE)
    assert report.file == "tests/fixtures/snapshot/events.csv"
    assert curated.report_name(config.REPO_ROOT / "data" / "events.csv") == "data/events.csv"
