"""The command line's CSVs go through the same export as the app's download buttons."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pandas as pd

from dashboard import config
from dashboard.exporting import export_csv, read_export
from dashboard.loaders.snapshot import dataset_entry, update_manifest


def run_cli(*args: str, data_dir=None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"DASHBOARD_DATA_DIR": str(data_dir)} if data_dir else {})}
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args], capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=300, env=env
    )


def test_plain_mode_has_the_header_first_and_still_neutralizes():
    raw = export_csv(pd.DataFrame({"a": ["=1+1"], "b": [-2.5]}), with_metadata=False)
    assert raw.decode() == "a,b\r\n'=1+1,-2.5\r\n"


def test_cli_export_neutralizes_a_formula_headline_and_records_the_data(data_copy, tmp_path):
    events_path = data_copy / config.EVENTS_FILE
    text = events_path.read_text(encoding="utf-8").replace(
        '"Meta lifts 2024 capex range to $35-40B, stock slides"', '"=HYPERLINK(""http://evil"")"', 1
    )
    events_path.write_text(text, encoding="utf-8")
    manifest = update_manifest(data_copy, "events", dataset_entry(events_path, rows=96, as_of="2026-09-10", source="test copy"))
    out = tmp_path / "events.csv"
    result = run_cli("export", "events", "--ticker", "META", "--out", str(out), data_dir=data_copy)
    assert result.returncode == 0, result.stderr
    table, meta = read_export(out.read_bytes())
    assert len(table) == 22  # Meta's curated events
    assert table.loc[table["event_id"] == "EV001", "headline"].iloc[0] == '\'=HYPERLINK("http://evil")'
    assert table["amount_usd_bn"].dtype == float
    assert meta["param ticker"] == "META" and meta["as_of events"] == "2026-09-10"
    assert meta["data_version"] == manifest["data_version"]


def test_cli_export_rejects_an_unknown_ticker_in_one_line(tmp_path):
    result = run_cli("export", "events", "--ticker", "XXX", "--out", str(tmp_path / "x.csv"))
    assert result.returncode == 2
    assert result.stderr.strip() == "error: unknown ticker(s) for events: XXX"
    assert not (tmp_path / "x.csv").exists()


def test_cli_metric_tables_read_back_with_plain_pandas(tmp_path):
    out = tmp_path / "gap.csv"
    result = run_cli("funding-gap", "--ticker", "META", "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(io.BytesIO(out.read_bytes()))
    q1 = table[table["period"] == "FY2025 Q1"].iloc[0]
    # Meta Q1 2025 (data/fundamentals.csv): internal funding = OCF 24,026 - buybacks 13,400
    # - dividends 1,325 = 9,301; gap = reported capex 12,941 - 9,301 = 3,640.
    assert q1["internal_funding"] == 9301.0 and q1["funding_gap"] == 3640.0
