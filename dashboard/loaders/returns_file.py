"""A user's returns file (``reactions --returns``) and the one ticker-selection helper of the commands.

The file is wide: a ``date`` column (``YYYY-MM-DD``, each date once) and one column of decimal
returns per ticker, benchmark included; its rows are the sessions. CSV or Parquet (``.parquet``
/ ``.pq``; a ``date`` index counts as the column). Empty cells and ``NA``, ``NaN``, ``nan`` are
missing returns; every other cell must be a finite number.

A CSV is read by a fast path (pyarrow parses every ticker column as float64); only when that
fails, or finds a cell it cannot vouch for, is the file read again as text and checked cell by
cell, each bad cell reported as ``file:line: column: reason`` (``loaders.validation.RowIssue``;
the line is the physical line, the header being line 1; for Parquet, the 1-based row number).
A file with any such issue raises ``ReturnsFileInvalid`` (exit 1 on the command line) carrying
the ``ValidationReport``; a file that cannot be opened at all raises ``CurationError`` (exit 2).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from dashboard.errors import CurationError
from dashboard.loaders.validation import RowIssue, ValidationReport, read_text, record_lines

DATASET = "returns"
DATE_COLUMN = "date"
DATE_FORMAT = "%Y-%m-%d"
MISSING_CELLS: tuple[str, ...] = ("", "NA", "NaN", "nan")
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")


class ReturnsFileInvalid(CurationError):
    """The returns file has bad cells or lacks its columns; ``report`` lists every issue."""

    report: ValidationReport


class TickerSelection(NamedTuple):
    """The tickers asked for that exist (in the order asked, each once), and those that do not."""

    chosen: list[str]
    unknown: list[str]


def select_tickers(requested: Iterable[str], available: Iterable[object], *, upper: bool = False) -> TickerSelection:
    """Split ``requested`` tickers (stripped; upper-cased with ``upper``; repeats dropped) into those
    among ``available`` (e.g. the companies table, a dataset's tickers, a returns file's columns)
    and the unknown ones. Nothing requested gives two empty lists."""
    names = [str(name).strip() for name in requested]
    names = list(dict.fromkeys(name.upper() if upper else name for name in names))
    known = {str(name) for name in available}
    return TickerSelection([n for n in names if n in known], [n for n in names if n not in known])


def read_returns_file(path: Path) -> pd.DataFrame:
    """The returns file at ``path`` as a float frame indexed by date (sorted), one column per
    ticker (text names). Raises ``ReturnsFileInvalid`` naming every bad cell, or ``CurationError``
    when the file cannot be read. Missing cells are NaN."""
    path = Path(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        raw, lines = _parquet_table(path)
        return _checked(raw, lines, str(path))
    fast = _fast_csv(path)
    if fast is not None:
        return fast
    text = read_text(path)
    return _checked(*_text_table(text, str(path)), str(path))


def _fast_csv(path: Path) -> pd.DataFrame | None:
    """The file parsed by pyarrow with float64 ticker columns, or None when anything needs the
    cell-by-cell diagnosis (a parse error, odd headers, a bad or repeated date, inf, a NaN
    spelled otherwise than the missing markers)."""
    import pyarrow as pa
    import pyarrow.csv as arrow_csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle))
    except (OSError, UnicodeDecodeError, StopIteration, csv.Error):
        return None
    tickers = [name for name in header if name != DATE_COLUMN]
    if DATE_COLUMN not in header or not tickers or len(set(header)) != len(header) or not all(header):
        return None
    types = {DATE_COLUMN: pa.string(), **{name: pa.float64() for name in tickers}}
    options = arrow_csv.ConvertOptions(column_types=types, null_values=list(MISSING_CELLS), strings_can_be_null=False)
    try:
        table = arrow_csv.read_csv(path, convert_options=options)
    except (pa.ArrowInvalid, OSError):
        return None
    dates = pd.to_datetime(pd.Series(table.column(DATE_COLUMN).to_numpy(zero_copy_only=False)), format=DATE_FORMAT, errors="coerce")
    if dates.isna().any() or dates.duplicated().any():
        return None
    values = {}
    for name in tickers:
        column = table.column(name)
        numbers = column.to_numpy(zero_copy_only=False).astype(float, copy=False)
        missing = column.is_null().to_numpy(zero_copy_only=False)
        if not (np.isfinite(numbers) | missing).all():
            return None
        values[name] = numbers
    return _returns_frame(values, dates)


def _returns_frame(values: dict[str, np.ndarray], dates: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame(values, index=pd.DatetimeIndex(dates.to_numpy(), name=DATE_COLUMN))
    frame.columns = [str(c) for c in frame.columns]
    return frame.sort_index()


def _text_table(text: str, file: str) -> tuple[pd.DataFrame, list[int]]:
    """Every cell as stripped text, and the physical line of each row."""
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        lines = record_lines(text)
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise _invalid(file, [RowIssue(file, 1, "", f"not a readable CSV ({exc})")], 0) from exc
    if len(lines) != len(raw):  # csv and pandas disagree only on malformed quoting
        raise _invalid(file, [RowIssue(file, 1, "", "not a readable CSV (inconsistent quoting)")], len(raw))
    return raw.apply(lambda s: s.str.strip()), lines


def _parquet_table(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """The Parquet file's columns (a ``date`` index as a column), and 1-based row numbers."""
    try:
        raw = pd.read_parquet(path)
    except FileNotFoundError as exc:
        raise CurationError(f"{path}: file not found") from exc
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise _invalid(str(path), [RowIssue(str(path), 1, "", f"not a readable Parquet file ({type(exc).__name__})")], 0) from exc
    if DATE_COLUMN not in raw.columns and raw.index.name == DATE_COLUMN:
        raw = raw.reset_index()
    raw = raw.reset_index(drop=True)
    raw.columns = [str(c) for c in raw.columns]
    return raw, list(range(1, len(raw) + 1))


def _invalid(file: str, issues: list[RowIssue], rows_read: int, rows_loaded: int = 0) -> ReturnsFileInvalid:
    report = ValidationReport(DATASET, file, rows_read, rows_loaded, issues)
    return ReturnsFileInvalid(f"{file}: not a valid returns file ({len(issues)} issue(s))", report)


def _checked(raw: pd.DataFrame, lines: list[int], file: str) -> pd.DataFrame:
    """``raw`` (text cells, or Parquet's typed columns) checked cell by cell; the float frame when
    every cell is good, else ``ReturnsFileInvalid`` with every issue."""
    if DATE_COLUMN not in raw.columns:
        raise _invalid(file, [RowIssue(file, 1, DATE_COLUMN, "column is missing")], len(raw))
    if len(raw.columns) < 2:
        raise _invalid(file, [RowIssue(file, 1, "", "no ticker columns beside 'date'")], len(raw))
    issues: list[tuple[int, str, str]] = []
    dates = _dates(raw[DATE_COLUMN], lines, issues)
    values = {}
    for column in raw.columns:
        if column != DATE_COLUMN:
            values[column] = _numbers(raw[column], column, issues)
    if issues:
        bad_rows = {position for position, _, _ in issues}
        ordered = sorted(issues, key=lambda issue: (issue[0], issue[1]))
        found = [RowIssue(file, lines[position], column, reason) for position, column, reason in ordered]
        raise _invalid(file, found, len(raw), len(raw) - len(bad_rows))
    return _returns_frame(values, dates)


def _dates(cells: pd.Series, lines: list[int], issues: list[tuple[int, str, str]]) -> pd.Series:
    """The date column parsed; each unreadable or repeated date added to ``issues``."""
    if pd.api.types.is_datetime64_any_dtype(cells):
        dates = pd.Series(pd.DatetimeIndex(cells).tz_localize(None) if getattr(cells.dt, "tz", None) else cells)
        unreadable = dates.isna() | (dates != dates.dt.normalize())
    else:
        text = cells.astype(str).str.strip()
        dates = pd.to_datetime(text, format=DATE_FORMAT, errors="coerce")
        unreadable = dates.isna()
    for found in np.flatnonzero(unreadable.to_numpy()):
        position = int(found)
        issues.append((position, DATE_COLUMN, f"{cells.iloc[position]!r} is not a date (YYYY-MM-DD)"))
    first_of: dict[object, int] = {}
    for position, date in enumerate(dates.to_numpy()):
        if unreadable.iloc[position]:
            continue
        if date in first_of:
            issues.append((position, DATE_COLUMN, f"repeats the date of line {lines[first_of[date]]}"))
        else:
            first_of[date] = position
    return dates


def _numbers(cells: pd.Series, column: str, issues: list[tuple[int, str, str]]) -> np.ndarray:
    """A ticker column as floats; each cell that is not a finite number added to ``issues``."""
    if pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells):
        numbers = cells.astype(float).to_numpy()
        text_missing = np.isnan(numbers)
        not_number = np.zeros(len(cells), bool)
    else:
        text = cells.astype(object).where(cells.notna(), "").astype(str).str.strip()
        text_missing = text.isin(MISSING_CELLS).to_numpy()
        numbers = pd.to_numeric(text.where(~text_missing), errors="coerce").to_numpy(dtype=float)
        not_number = ~text_missing & np.isnan(numbers)
    infinite = np.isinf(numbers)
    for position in np.flatnonzero(not_number | infinite):
        what = "is not a finite number" if infinite[position] else "is not a number"
        value = cells.iloc[position]
        issues.append((int(position), column, f"{value.item() if isinstance(value, np.generic) else value!r} {what}"))
    return np.where(infinite, np.nan, numbers)
