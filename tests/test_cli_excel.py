"""Every output option of export, funding-gap and reactions picks its format by suffix: .csv or
.xlsx (a data sheet, then a metadata sheet; text never a formula); anything else exits 2."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from dashboard import config
from dashboard.__main__ import main
from dashboard.loaders.snapshot import dataset_entry, update_manifest

FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def formula_data(tmp_path, monkeypatch, data_copy):
    """A data copy whose first Meta event's headline is a formula payload (manifest updated)."""
    events = pd.read_csv(data_copy / config.EVENTS_FILE, dtype=str, keep_default_na=False)
    first = events.index[events["ticker"] == "META"][0]
    events.loc[first, "headline"] = FORMULA
    events.to_csv(data_copy / config.EVENTS_FILE, index=False, lineterminator="\n")
    entry = dict(pd.read_json(data_copy / config.MANIFEST_FILE)["datasets"]["events"])
    update_manifest(
        data_copy, "events", dataset_entry(data_copy / config.EVENTS_FILE, rows=len(events), as_of=entry["as_of"], source=entry["source"])
    )
    monkeypatch.setattr(config, "DATA_DIR", data_copy)
    return events.loc[first, "event_id"]


def test_export_events_to_excel_keeps_a_formula_as_text(tmp_path, formula_data):
    out = tmp_path / "e.xlsx"
    assert main(["export", "events", "--ticker", "META", "--out", str(out)]) == 0
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["data", "metadata"]
    rows = list(workbook["data"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    record = dict(zip(header, next(r for r in body if r[header.index("event_id")] == formula_data)))
    assert record["headline"] == "'" + FORMULA  # neutralized like the CSV, and stored as text
    cells = [c for c in workbook["data"][2] if isinstance(c.value, str)]
    assert all(c.data_type == "s" for c in cells)
    metadata = dict(workbook["metadata"].iter_rows(values_only=True))
    assert metadata["param dataset"] == "events" and metadata["data_version"]


def test_funding_gap_and_reactions_write_excel_with_numbers_as_numbers(tmp_path):
    gap, events, summary = tmp_path / "q.xlsx", tmp_path / "r.xlsx", tmp_path / "s.csv"
    assert main(["funding-gap", "--period", "quarter", "--ticker", "ORCL", "--out", str(gap)]) == 0
    table = pd.read_excel(gap, sheet_name="data")
    q3 = table[table["period"] == "FY2026 Q3"].iloc[0]
    assert q3["funding_gap_lower_bound"] == pytest.approx(18635 - (7151 - 1437))  # by hand, as in the CSV
    assert main(["reactions", "--window=-1,1", "--out", str(events), "--summary", str(summary)]) == 0
    reactions = pd.read_excel(events, sheet_name="data")
    assert pd.api.types.is_float_dtype(reactions["car"]) and summary.read_text().startswith("group,")


@pytest.mark.parametrize("name", ["out.json", "out", "out.xls", "out.csv.txt"])
def test_any_other_suffix_is_a_usage_error_and_writes_nothing(tmp_path, capsys, name):
    with pytest.raises(SystemExit) as stopped:
        main(["export", "events", "--out", str(tmp_path / name)])
    assert stopped.value.code == 2
    assert "suffix chooses the format" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
