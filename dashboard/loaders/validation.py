"""Row-level validation of curated files: parse, check lazily, keep the good rows, report the rest.

Every bad cell becomes one ``RowIssue`` printed as ``file:line: column: reason``, where ``line``
is the physical line of the row in the file (the header is line 1). A row with any issue is
rejected; every other row loads. ``ValidationReport`` reconciles the counts: rows read = rows
loaded + rows rejected.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from dashboard.errors import CurationError
from dashboard.loaders.snapshot import display_path
from dashboard.schemas import KEY_COLUMN_BLAME

ColumnKind = Literal["text", "number", "int", "date"]


@dataclass(frozen=True)
class RowIssue:
    """One bad cell: where it is and why it was rejected."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.reason}"


@dataclass
class ValidationReport:
    """What happened to one file: counts that reconcile, and every issue found."""

    dataset: str
    file: str
    rows_read: int
    rows_loaded: int
    issues: list[RowIssue] = field(default_factory=list)
    # Problems that reject nothing (an unknown column of a user's file, which is ignored).
    warnings: list[RowIssue] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return self.rows_read - self.rows_loaded

    @property
    def ok(self) -> bool:
        return not self.issues

    def summary(self) -> str:
        state = "valid" if self.ok else f"{len(self.issues)} issue(s)"
        ignored = f"; ignored: {'; '.join(f'{w.column} ({w.reason})' for w in self.warnings)}" if self.warnings else ""
        return (
            f"{self.dataset} ({self.file}): {self.rows_read} rows read, {self.rows_loaded} loaded, "
            f"{self.rows_rejected} rejected; {state}{ignored}"
        )

    def lines(self) -> list[str]:
        return [self.summary(), *(f"  warning: {w}" for w in self.warnings), *(f"  {issue}" for issue in self.issues)]

    def as_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(i.file, i.line, i.column, i.reason) for i in self.issues],
            columns=["file", "line", "column", "reason"],
        )


class CurationWarning(UserWarning):
    """Rows of a curated file were rejected; the message lists them."""


def record_lines(text: str) -> list[int]:
    """The physical line on which each data record starts (header is line 1).

    Quoted fields may span lines, so counting newlines in pandas' index would drift.
    """
    reader = csv.reader(io.StringIO(text))
    starts: list[int] = []
    previous_end = 0
    for index, record in enumerate(reader):
        if index > 0 and record:  # pandas skips blank lines, and so do we
            starts.append(previous_end + 1)
        previous_end = reader.line_num
    return starts


def report_name(source: Path | str) -> str:
    """The name a report gives a file: relative to the repository for the embedded data, as
    given for anything else (see ``snapshot.display_path``)."""
    return display_path(source)


def read_text(path: Path) -> str:
    """A file's text, or a ``CurationError`` naming the file and what went wrong (in our words,
    never an internal exception's text)."""
    name = report_name(path)
    try:
        return decode_text(path.read_bytes(), name)
    except FileNotFoundError as exc:
        raise CurationError(f"{name}: file not found") from exc
    except IsADirectoryError as exc:
        raise CurationError(f"{name}: is a folder, not a file") from exc
    except OSError as exc:
        raise CurationError(f"{name}: cannot be read ({exc.strerror or 'input/output error'})") from exc


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (a byte-order mark dropped), or a ``CurationError`` naming the first line that
    is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CurationError(f"{name}:{line}: not UTF-8 text") from exc


_PARSER_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_text_table(text: str, path: str) -> tuple[pd.DataFrame, list[int]]:
    """Parse CSV text with every cell as text (empty cells missing) and each row's line number."""
    if not text.strip():
        raise CurationError(f"{path}: file is empty")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        fields = _PARSER_FIELDS.search(str(exc))
        if fields:
            expected, line, saw = fields.groups()
            raise CurationError(f"{path}:{line}: row has {saw} fields, the header has {expected}") from exc
        raise CurationError(f"{path}: not a readable CSV") from exc
    frame = frame.apply(lambda s: s.str.strip()).replace("", np.nan)
    lines = record_lines(text)
    if len(lines) != len(frame):  # csv and pandas disagree only on malformed quoting
        raise CurationError(f"{path}: not a readable CSV (inconsistent quoting)")
    return frame, lines


def parse_columns(frame: pd.DataFrame, kinds: dict[str, ColumnKind]) -> tuple[pd.DataFrame, dict[tuple[int, str], str]]:
    """Turn text columns into numbers and dates; return the parsed frame and the failures.

    A failure maps (row position, column) to a reason. The failing cell becomes missing, so the
    schema's own checks see a clean dtype.
    A column that is already typed (a Parquet table) is checked the same way: a number column
    holding text reports each cell that is not a number. Numbers must be finite: ``inf``,
    ``-inf`` and ``1e400`` (which overflows to infinity) are reported, never loaded.
    """
    parsed = frame.copy()
    failures: dict[tuple[int, str], str] = {}
    for column, kind in kinds.items():
        if column not in parsed.columns or kind == "text":
            continue
        raw = parsed[column]
        if kind == "date":
            if pd.api.types.is_datetime64_any_dtype(raw):
                values = raw.astype("datetime64[ns]")
            else:
                values = pd.to_datetime(raw.astype("string"), format="%Y-%m-%d", errors="coerce")
            what = "is not a date (YYYY-MM-DD)"
        else:
            typed = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
            cleaned = raw if typed else raw.astype("string")
            if column == "fiscal_quarter" and not typed:
                cleaned = cleaned.str.removeprefix("Q")
            values = pd.to_numeric(cleaned, errors="coerce").astype("float64")
            what = "is not a number"
            infinite = np.isinf(values.to_numpy())
            for position in np.flatnonzero(infinite):
                failures[(int(position), column)] = f"{_shown(raw.iloc[position])} is not a finite number"
            values = values.where(~infinite)
            if kind == "int":
                fractional = values.notna() & (values != values.round())
                values = values.where(~fractional)
                what = "is not a whole number"
        bad = pd.Series(raw.notna().to_numpy() & values.isna().to_numpy())
        for position in np.flatnonzero(bad.to_numpy()):
            failures.setdefault((int(position), column), f"{_shown(raw.iloc[position])} {what}")
        parsed[column] = values.astype("Int64" if kind == "int" else "float64") if kind != "date" else values
    return parsed, failures


def _shown(value: object) -> str:
    """A cell as a report quotes it: text in quotes, a number as written (``inf``)."""
    if isinstance(value, str):
        return repr(value)
    return repr(str(value))


def closest_columns(name: str, known: list[str] | tuple[str, ...]) -> list[str]:
    """The known columns an unknown column name probably meant (at most two, best first):
    the same name in another case or spacing (``Headline`` -> headline), known columns that end
    in it (``type`` -> event_type), else the closest spellings (``amount_bn`` -> amount_usd_bn)."""
    normalized = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    if normalized in known:
        return [normalized]
    ending = [column for column in known if column.split("_")[-1] == normalized or column.endswith("_" + normalized)]
    if ending:
        return ending[:2]
    return difflib.get_close_matches(normalized, list(known), n=2, cutoff=0.5)


def did_you_mean(name: str, known: list[str] | tuple[str, ...]) -> str:
    """``"did you mean event_type?"``, or ``""`` when nothing is close."""
    matches = closest_columns(name, known)
    return f"did you mean {' or '.join(matches)}?" if matches else ""


def _issue_reason(row: pd.Series, known: list[str]) -> str:
    check = str(row["check"])
    if check == "not_nullable":
        return "is empty"
    if check.startswith("column_in_dataframe"):
        return "column is missing"
    if check.startswith("column_in_schema"):
        hint = did_you_mean(str(row["failure_case"]), known)
        return "column is not part of this file's format" + (f"; {hint}" if hint else "")
    if check.startswith(("dtype(", "coerce_dtype(")):
        return f"{row['failure_case']!r} has the wrong type"
    value = row["failure_case"]
    return check if pd.isna(value) or isinstance(value, (bool, np.bool_)) else f"{check} ({value!r})"


def validate_rows(
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    *,
    dataset: str,
    file: str,
    lines: list[int],
    parse_failures: dict[tuple[int, str], str] | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Check ``frame`` lazily against ``schema``; return its good rows and the report.

    ``frame`` has a positional index aligned with ``lines``. Rows with any issue are dropped
    from the returned frame (and derived ``_`` columns with them); nothing else is.
    """
    frame = frame.reset_index(drop=True)
    issues: dict[tuple[int, str], str] = dict(parse_failures or {})
    file_issues: list[RowIssue] = []
    known = [name for name in schema.columns if not name.startswith("_")]
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        for _, case in exc.failure_cases.iterrows():
            column = str(case["column"]) if pd.notna(case["column"]) else ""
            check = str(case["check"])
            if check.startswith("column_in_"):
                column = str(case["failure_case"])
            elif case["schema_context"] == "DataFrameSchema":  # a cross-column check names its column first
                column = check.split(" ")[0]
                case = case.copy()
                case["failure_case"] = None  # pandera's value here is the row's first cell, not this column's
            column = KEY_COLUMN_BLAME.get(column, column)
            index = case["index"]
            if index is None or pd.isna(index):
                file_issues.append(RowIssue(file, 1, column, _issue_reason(case, known)))
                continue
            issues.setdefault((int(index), column), _issue_reason(case, known))
    rows_read = len(frame)
    if file_issues:  # a structural problem (missing column) rejects the whole file
        report = ValidationReport(dataset, file, rows_read, 0, sorted(set(file_issues), key=str))
        columns = [name for name in schema.columns if not name.startswith("_")]
        return pd.DataFrame({name: pd.Series(dtype=schema.columns[name].dtype.type) for name in columns}), report
    bad_positions = sorted({position for position, _ in issues})
    row_issues = [
        RowIssue(file, lines[position], column, reason)
        for (position, column), reason in sorted(issues.items(), key=lambda item: (item[0][0], item[0][1]))
    ]
    good = frame.drop(index=bad_positions).drop(columns=_derived(frame)).reset_index(drop=True)
    report = ValidationReport(dataset, file, rows_read, len(good), row_issues)
    return good, report


def _derived(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("_")]


def warn_rejected(report: ValidationReport) -> None:
    """Emit one warning listing every rejected row, so nothing is dropped silently."""
    if not report.ok:
        warnings.warn("\n".join(report.lines()), CurationWarning, stacklevel=3)
