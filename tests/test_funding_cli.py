"""``python -m dashboard funding-gap`` end to end, in a subprocess, on the frozen snapshot
(tests/conftest.py points DASHBOARD_DATA_DIR at it; the subprocess inherits the variable)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import config
from dashboard.exporting import export_csv
from dashboard.metrics.forward import FORWARD_COLUMNS
from dashboard.metrics.funding import EXTRA_COLUMNS, OUTPUT_COLUMNS

COMPANIES_WITH_FUNDAMENTALS = {"AMZN", "GOOGL", "INTC", "META", "MSFT", "ORCL"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dashboard", "funding-gap", *args],
        cwd=config.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("period", "label_pattern"),
    [
        ("quarter", r"^FY\d{4} Q[1-4]$"),
        ("ttm", r"^TTM to FY\d{4} Q[1-4]$"),
        ("fiscal_year", r"^FY\d{4}$"),
        ("calendar_quarter", r"^CY\d{4} Q[1-4]$"),
        ("calendar_year", r"^CY\d{4}$"),
    ],
)
def test_writes_all_companies_for_each_period(tmp_path: Path, period: str, label_pattern: str) -> None:
    out = tmp_path / f"{period}.csv"
    done = run_cli("--period", period, "--capex", "economic", "--out", str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and "data as of: fundamentals 2026-08-31" in lines[0]
    written = pd.read_csv(out)
    assert list(written.columns) == [*OUTPUT_COLUMNS, *EXTRA_COLUMNS]
    assert set(written["ticker"]) == COMPANIES_WITH_FUNDAMENTALS
    assert written["period"].str.match(label_pattern).all()
    assert (written["capex_basis"] == "economic").all()
    assert written["source"].notna().all()
    if period in ("quarter", "ttm", "calendar_quarter"):
        assert len(written) == 108  # one row per company quarter in fundamentals.csv


def test_ticker_filter_and_values(tmp_path: Path) -> None:
    out = tmp_path / "meta.csv"
    done = run_cli("--ticker", "META", "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(out)
    assert set(written["ticker"]) == {"META"}
    q1 = written[written["period"] == "FY2025 Q1"].iloc[0]
    assert q1["period_end"] == "2025-03-31"
    assert q1["funding_gap"] == 12941 - (24026 - 13400 - 1325)  # 3640


def test_forward_view_output(tmp_path: Path) -> None:
    out = tmp_path / "forward.csv"
    done = run_cli("--forward", "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(out)
    assert list(written.columns) == list(FORWARD_COLUMNS)
    assert len(written) == 38  # one row per guidance vintage


def test_unknown_ticker_exits_2_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    done = run_cli("--ticker", "NOPE", "--out", str(out))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "NOPE" in done.stderr
    assert not out.exists()


def list_separator() -> str:
    """How the one export function joins a list cell (asked of it, not assumed)."""
    written = pd.read_csv(io.BytesIO(export_csv(pd.DataFrame({"x": [("a", "b")]}), with_metadata=False)))
    joined = written["x"].iloc[0]
    assert joined.startswith("a") and joined.endswith("b")
    return joined[1:-1]


def test_quarter_csv_has_the_bounds_and_the_flags(tmp_path: Path) -> None:
    out = tmp_path / "q.csv"
    done = run_cli("--period", "quarter", "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(out)
    assert list(written.columns) == [*OUTPUT_COLUMNS, *EXTRA_COLUMNS]
    for column in ("funding_gap_lower_bound", "internal_funding_upper_bound", "funding_gap"):
        assert pd.api.types.is_float_dtype(written[column]), column
    # funding_gap is empty unless exact: then the bound equals it and nothing was counted as 0.
    exact = written["funding_gap"].notna()
    assert exact.sum() > 50 and (written.loc[exact, "funding_gap_lower_bound"] == written.loc[exact, "funding_gap"]).all()
    assert written.loc[exact, "bound_missing"].isna().all()
    # Oracle FY2026 Q3 by hand (fundamentals.csv): buybacks missing, so no exact gap, and the
    # bound 18635 - (7151 - 0 - 1437) = 12921.
    q3 = written[(written["ticker"] == "ORCL") & (written["period"] == "FY2026 Q3")].iloc[0]
    assert np.isnan(q3["funding_gap"]) and q3["funding_gap_lower_bound"] == 12921
    assert q3["bound_missing"] == "buybacks"
    # Lists leave the product joined by the export function's separator.
    separator = list_separator()
    q4 = written[(written["ticker"] == "ORCL") & (written["period"] == "FY2026 Q4")].iloc[0]
    assert q4["period_end"] == "2026-05-31"
    flags = q4["quality_flags"].split(separator)
    assert "operating_cash_flow:provisional" in flags and "capex:derived" in flags
    assert q4["bound_missing"] == separator.join(["buybacks", "dividends"])
    assert q4["funding_gap_lower_bound"] == 16493 - 14620  # 1873: both outflows counted as 0
    # An exact row, by hand: Meta FY2025 Q1 gap 12941 - (24026 - 13400 - 1325) = 3640.
    meta = written[(written["ticker"] == "META") & (written["period"] == "FY2025 Q1")].iloc[0]
    assert meta["funding_gap"] == meta["funding_gap_lower_bound"] == 3640
