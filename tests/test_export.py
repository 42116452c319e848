"""The one CSV export (dashboard/exporting.py) and the safe-text helpers.

Hand-made frames (synthetic, only to check the encoding): formulas neutralized, numbers numeric,
metadata recorded, nothing mutated; data text never becomes HTML or a non-http(s) link.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import config
from dashboard.exporting import (
    FORMULA_PREFIXES,
    export_csv,
    neutralize_text,
    read_export,
)
from dashboard.ui.text import escape_markdown, http_url

AS_OF = {"events": "2026-09-10", "prices": "2026-09-25"}


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_every_owasp_prefix_is_neutralized_with_a_quote():
    assert set(FORMULA_PREFIXES) == {"=", "+", "-", "@", "\t", "\r"}
    headlines = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1:A2)", "\tcmd", "\rcmd", "plain", "a=b"]
    frame = pd.DataFrame({"headline": headlines})
    table, _ = read_export(export_csv(frame, params={}, as_of=AS_OF))
    assert table["headline"].tolist() == [
        '\'=HYPERLINK("http://evil","x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1:A2)",
        "'\tcmd",
        "'\rcmd",
        "plain",
        "a=b",
    ]


def test_numbers_stay_numbers_and_missing_is_empty():
    frame = pd.DataFrame(
        {
            "ticker": ["META", "AMZN", "MSFT"],
            "funding_gap": [-6644.0, 1234.5, np.nan],
            "n_events": pd.array([3, 0, None], dtype="Int64"),
            "confounded": [True, False, True],
            "event_date": pd.to_datetime(["2025-10-29", "2024-01-02", None]),
        }
    )
    raw = export_csv(frame, params={"company": "META"}, as_of=AS_OF)
    body = [row for row in _rows(raw) if not row[0].startswith("#")]
    assert body[0] == ["ticker", "funding_gap", "n_events", "confounded", "event_date"]
    assert body[1] == ["META", "-6644.0", "3", "true", "2025-10-29"]  # a negative number is not prefixed
    assert body[3] == ["MSFT", "", "", "true", ""]  # missing stays missing, never 0
    table, _ = read_export(raw)
    assert table["funding_gap"].dtype == float
    assert table["funding_gap"].iloc[0] == -6644.0
    assert np.isnan(table["funding_gap"].iloc[2])


def test_metadata_rows_record_parameters_version_and_as_of():
    frame = pd.DataFrame({"x": [1.5]})
    raw = export_csv(
        frame, params={"company": "META", "windows": "-1:1,0:20"}, as_of=AS_OF, name="company_reactions", data_version="4beb07cf17"
    )
    rows = _rows(raw)
    assert rows[0] == ["# dashboard export", "company_reactions"]
    _, meta = read_export(raw)
    assert meta["data_version"] == "4beb07cf17"
    assert meta["as_of events"] == "2026-09-10" and meta["as_of prices"] == "2026-09-25"
    assert meta["param company"] == "META"
    assert meta["param windows"] == "-1:1,0:20"  # a list of numbers cannot call anything: written as it is
    _, formula = read_export(export_csv(frame, params={"upload": "=HYPERLINK(1)"}, as_of=AS_OF))
    assert formula["param upload"] == "'=HYPERLINK(1)"  # any other parameter text is neutralized
    # pandas can skip the metadata rows by count, and a '#' inside a URL survives (no comment=)
    frame = pd.DataFrame({"source_url": ["https://example.com/page#section"]})
    raw = export_csv(frame, params={}, as_of=AS_OF)
    skip = sum(1 for row in _rows(raw) if row[0].startswith("#"))
    assert pd.read_csv(io.BytesIO(raw), skiprows=skip)["source_url"].iloc[0] == "https://example.com/page#section"


def test_headers_are_neutralized_and_the_input_is_not_mutated():
    frame = pd.DataFrame({"=cmd": ["=1+1"], "value": [-1.0]})
    before = frame.copy()
    rows = [row for row in _rows(export_csv(frame, params={}, as_of=None)) if not row[0].startswith("#")]
    assert rows[0] == ["'=cmd", "value"]
    assert rows[1] == ["'=1+1", "-1.0"]
    pd.testing.assert_frame_equal(frame, before)


def test_empty_frame_gives_metadata_and_header():
    raw = export_csv(pd.DataFrame(columns=["a", "b"]), params={"p": 1}, as_of=AS_OF)
    rows = _rows(raw)
    assert rows[-1] == ["a", "b"]
    assert neutralize_text("") == ""


def test_markdown_escaping_keeps_data_text_literal():
    hostile = "<script>alert(1)</script> [click](javascript:alert(1)) **bold** `code`"
    escaped = escape_markdown(hostile)
    for token in ("<", ">", "[", "]", "(", ")", "*", "`", ":"):
        assert all(escaped[i - 1] == "\\" for i, ch in enumerate(escaped) if ch == token)
    assert escape_markdown(float("nan")) == ""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.sec.gov/x", "https://www.sec.gov/x"),
        ("http://example.com", "http://example.com"),
        ("javascript:alert(1)", None),
        ("JAVASCRIPT:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("file:///etc/passwd", None),
        ("//example.com", None),
        ("https://", None),
        ("https://ex ample.com", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_links_are_http_or_https_only(url, expected):
    assert http_url(url) == expected


def test_no_html_rendering_anywhere_in_the_ui():
    package = config.REPO_ROOT / "dashboard"
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "unsafe_allow_html" in path.read_text(encoding="utf-8") or "st.html(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_every_table_on_the_pages_goes_through_the_export_helper():
    """Pages never call st.dataframe/st.table directly: ui.tables.table adds the sanitized export."""
    pages = Path(config.REPO_ROOT / "dashboard" / "app_pages").glob("*.py")
    direct = [p.name for p in pages if "st.dataframe(" in p.read_text(encoding="utf-8") or "st.table(" in p.read_text(encoding="utf-8")]
    assert direct == []
