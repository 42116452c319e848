"""The one export: formulas neutralized, numbers numeric, metadata recorded."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from dashboard.exporting import neutralize_formulas, to_safe_csv


def test_formula_prefixes_are_neutralized_and_numbers_are_not():
    frame = pd.DataFrame(
        {
            "headline": ["=HYPERLINK(\"http://x\")", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx", "plain", None],
            "value": [-2790.0, 1.5, -3.0, 0.0, np.nan, 2.0, 3.0, 4.0],
        }
    )
    safe = neutralize_formulas(frame)
    assert safe["headline"].tolist()[:7] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-cmd", "'@SUM(A1)", "'\tx", "'\rx", "plain"]
    assert pd.isna(safe["headline"].iloc[7])
    assert safe["value"].tolist()[0] == -2790.0  # a negative number stays a number
    assert frame["headline"].iloc[0].startswith("=")  # input untouched


def test_csv_carries_metadata_and_reads_back():
    frame = pd.DataFrame({"ticker": ["META"], "funding_gap": [-1234.5], "note": ["=1+1"]})
    raw = to_safe_csv(
        frame,
        what="funding-gap",
        params={"ticker": "META", "period": "quarter\nEVIL"},
        as_of={"prices": "2026-09-25", "events": "2026-09-10"},
        data_version="abc123",
    ).decode()
    lines = raw.splitlines()
    assert lines[0] == "# export: funding-gap"
    assert lines[1] == "# parameters: ticker=META; period=quarter EVIL"  # no line break smuggled in
    assert lines[2] == "# data as of: events 2026-09-10; prices 2026-09-25"
    assert lines[3] == "# data version: abc123"
    back = pd.read_csv(io.StringIO(raw), comment="#")
    assert back["funding_gap"].iloc[0] == -1234.5
    assert back["note"].iloc[0] == "'=1+1"


def test_cli_export_neutralizes_a_formula_headline(data_copy, tmp_path):
    import os
    import subprocess
    import sys

    from dashboard import config
    from dashboard.loaders.embed import SOURCES  # noqa: F401  (the embed module imports cleanly)
    from dashboard.loaders.snapshot import dataset_entry, update_manifest

    events_path = data_copy / config.EVENTS_FILE
    text = events_path.read_text(encoding="utf-8").replace(
        '"Meta lifts 2024 capex range to $35-40B, stock slides"', '"=HYPERLINK(""http://evil"")"', 1
    )
    events_path.write_text(text, encoding="utf-8")
    update_manifest(data_copy, "events", dataset_entry(events_path, rows=96, as_of="2026-09-10", source="test copy"))
    out = tmp_path / "events.csv"
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "export", "events", "--ticker", "META", "--out", str(out)],
        capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=120,
        env={**os.environ, "DASHBOARD_DATA_DIR": str(data_copy)},
    )
    assert result.returncode == 0, result.stderr
    back = pd.read_csv(out, comment="#")
    assert len(back) == 22  # Meta's curated events
    assert back.loc[back["event_id"] == "EV001", "headline"].iloc[0] == "'=HYPERLINK(\"http://evil\")"
    assert back["amount_usd_bn"].dtype == float
