"""``python -m dashboard funding-gap`` end to end, in a subprocess, on the embedded data."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dashboard import config
from dashboard.metrics.funding import EXTRA_COLUMNS, FORWARD_COLUMNS, OUTPUT_COLUMNS

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
