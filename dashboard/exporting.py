"""The one CSV export: every table the app offers for download, and every CSV the command line
writes, goes through :func:`export_csv`.

File format (UTF-8, comma-separated, RFC 4180: quoted where needed, ``\\r\\n`` line ends, so a
carriage return inside a cell is always quoted):

1. Leading **metadata rows**, each with two cells: a key whose first character is ``#``, and its
   value::

       # dashboard export,company_funding
       # data_version,4beb07cf17
       # as_of events,2026-09-10
       # as_of prices,2026-09-25
       # param company,META
       # param capex_basis,reported

   ``# data_version`` is the manifest hash the numbers come from, ``# as_of <dataset>`` each
   dataset's as-of date, ``# param <name>`` every parameter that shaped the table (the same
   names as the link's query string).
2. Then the **header row** and the **data rows**.

Read it back with :func:`read_export`, or with pandas by skipping the metadata rows:
``pd.read_csv(f, skiprows=n)`` where ``n`` is the number of leading lines starting with ``#``.

**Formula neutralization (CSV injection, OWASP):** a *text* cell (and a header) that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single quote ``'``, so a
spreadsheet shows it as text instead of evaluating it. Numbers (int, float, bool, dates) are
written as numbers, never quoted or prefixed, so ``-3.2`` stays the number -3.2; a missing value
is an empty cell.

**Lists:** a cell holding a list or tuple (lists stay lists inside the package, e.g. the event ids
of ``confounded_by``) is written as its items joined with ``;`` (``EV032;EV036``; an empty tuple
is an empty cell), and the joined text is then neutralized like any text cell.

The command line's metric tables (``funding-gap``, ``reactions``) are written with
``with_metadata=False``: the same neutralized cells, with the header as the first row, so scripts
read them with a plain ``pd.read_csv``; the run prints their parameters and as-of dates instead.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping

import numpy as np
import pandas as pd

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
METADATA_MARK = "#"
LIST_SEPARATOR = ";"


def neutralize_text(value: str) -> str:
    """``value`` with a leading single quote when it starts with an OWASP formula prefix."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _cell(value: object) -> object:
    """One cell as the csv writer should see it: numbers stay numbers, text is neutralized."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else repr(float(value))
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, (list, tuple)):
        value = LIST_SEPARATOR.join(str(v) for v in value)
    return neutralize_text(str(value))


def _as_of_rows(as_of: Mapping[str, str] | str | None) -> list[list[object]]:
    if as_of is None:
        return []
    if isinstance(as_of, str):
        return [["# as_of", neutralize_text(as_of)]]
    return [[f"# as_of {name}", neutralize_text(str(date))] for name, date in sorted(as_of.items())]


def export_csv(
    frame: pd.DataFrame,
    *,
    params: Mapping[str, object] | None = None,
    as_of: Mapping[str, str] | str | None = None,
    name: str = "table",
    data_version: str | None = None,
    with_metadata: bool = True,
) -> bytes:
    """``frame`` as CSV bytes with metadata rows first (see the module docstring for the format).

    ``params``: every setting that shaped the table (query-string names); ``as_of``: each
    dataset's as-of date (ISO) or one date; ``data_version``: the manifest hash;
    ``with_metadata=False`` leaves out the metadata rows. The index is not
    written (reset it first to keep it). An empty frame gives the metadata and the header only.
    The input frame is not modified.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if with_metadata:
        writer.writerow(["# dashboard export", neutralize_text(str(name))])
        if data_version is not None:
            writer.writerow(["# data_version", neutralize_text(str(data_version))])
        writer.writerows(_as_of_rows(as_of))
        for key, value in (params or {}).items():
            writer.writerow([f"# param {neutralize_text(str(key))}", _cell(value)])
    writer.writerow([_cell(str(column)) for column in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def read_export(data: bytes) -> tuple[pd.DataFrame, dict[str, str]]:
    """Parse an :func:`export_csv` file: (the table as text cells, the metadata rows as a dict).

    Cells are returned as written (neutralized text keeps its quote prefix); numbers are parsed by
    pandas as usual.
    """
    text = data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    metadata: dict[str, str] = {}
    skip = 0
    for row in rows:
        if row and row[0].startswith(METADATA_MARK):
            metadata[row[0].lstrip("# ").strip()] = row[1] if len(row) > 1 else ""
            skip += 1
        else:
            break
    frame = pd.read_csv(io.BytesIO(data), skiprows=skip, keep_default_na=True, encoding="utf-8")
    return frame, metadata
