"""The metadata keywords (``ExportMetadata``) shape the CSV's metadata rows and the workbook's
metadata sheet the same way through ``export_csv``, ``export_xlsx`` and ``export_file``
(outputs frozen from the version before the keywords were gathered into one TypedDict).
Hand-made SYNTHETIC frame."""

from __future__ import annotations

import datetime
import io

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from dashboard.exporting import export_csv, export_file, export_xlsx

FRAME = pd.DataFrame({"=h": ["=1+1", "a,b"], "x": [-2.5, np.nan], "d": pd.to_datetime(["2024-01-02", None]), "ids": [("EV1", "EV2"), ()]})
METADATA = {
    "params": {"company": "META", "window": "-1,1;0,20", "=k": "+v", "ids": ("EV1", "-x")},
    "as_of": {"events": "2026-09-10", "prices": "=2026"},
    "name": "-name",
    "data_version": "abc123",
}
CSV = (
    "# dashboard export,'-name\r\n# data_version,abc123\r\n# as_of events,2026-09-10\r\n# as_of prices,'=2026\r\n"
    "# param company,META\r\n# param window,\"-1,1;0,20\"\r\n# param '=k,'+v\r\n# param ids,EV1;-x\r\n"
    "'=h,x,d,ids\r\n'=1+1,-2.5,2024-01-02,EV1;EV2\r\n\"a,b\",,,\r\n"
)
SHEETS = {
    "data": [["'=h", "x", "d", "ids"], ["'=1+1", -2.5, datetime.datetime(2024, 1, 2), "EV1;EV2"], ["a,b", None, None, None]],
    "metadata": [
        ["dashboard export", "'-name"],
        ["data_version", "abc123"],
        ["as_of events", "2026-09-10"],
        ["as_of prices", "'=2026"],
        ["param company", "META"],
        ["param window", "-1,1;0,20"],
        ["param =k", "'+v"],
        ["param ids", "EV1;-x"],
    ],
}


def _sheets(data: bytes) -> dict[str, list[list[object]]]:
    workbook = load_workbook(io.BytesIO(data))
    return {sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()] for sheet in workbook.worksheets}


def test_csv_and_workbook_record_the_same_metadata() -> None:
    assert export_csv(FRAME, **METADATA).decode("utf-8") == CSV
    assert _sheets(export_xlsx(FRAME, **METADATA)) == SHEETS


def test_metadata_defaults() -> None:
    assert export_csv(FRAME.iloc[:0]).decode("utf-8") == "# dashboard export,table\r\n'=h,x,d,ids\r\n"
    assert _sheets(export_xlsx(FRAME.iloc[:0], as_of="2026-01-01"))["metadata"] == [["dashboard export", "table"], ["as_of", "2026-01-01"]]


def test_export_file_follows_the_suffix() -> None:
    assert b"".join(export_file(FRAME, "out.csv", **METADATA)) == CSV.encode("utf-8")
    body = CSV.split("# param ids,EV1;-x\r\n")[1]  # the frozen table without its metadata lines
    assert b"".join(export_file(FRAME, "out.csv", with_metadata=False, **METADATA)) == body.encode("utf-8")
    assert _sheets(b"".join(export_file(FRAME, "OUT.XLSX", with_metadata=False, **METADATA))) == SHEETS
