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
import re
from collections.abc import Callable, Iterator, Mapping

import numpy as np
import pandas as pd

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
METADATA_MARK = "#"
LIST_SEPARATOR = ";"


def neutralize_text(value: str) -> str:
    """``value`` with a leading single quote when it starts with an OWASP formula prefix."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


# A metadata value made only of these characters cannot call anything in a spreadsheet: event
# windows such as "-1,1;0,20" are written as they are, not as "'-1,1;0,20".
_INERT_VALUE = re.compile(r"^[-0-9.,;: ]+$")


def _metadata_value(value: object) -> object:
    """A metadata row's value: numbers as numbers, inert number lists as they are, other text
    neutralized like any cell."""
    if isinstance(value, str) and _INERT_VALUE.match(value):
        return value
    return _cell(value)


def _cell(value: object) -> object:
    """One cell as the csv writer should see it: numbers stay numbers, text is neutralized.
    (Columns of one kind take the vectorized paths of ``_column_cells``, which write the same.)"""
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


QUOTED_CHARACTERS: tuple[str, ...] = (",", '"', "\r", "\n")  # csv.QUOTE_MINIMAL quotes a cell holding one
_JOIN = "\x00"  # joins a column's cells to look for what needs a per-cell pass (a false alarm only costs time)


def _neutralized(texts: list[str]) -> list[str]:
    """Texts with the formula prefix quoted; one scan of the joined column decides whether any
    cell needs it."""
    joined = _JOIN + _JOIN.join(texts)
    if not any(_JOIN + prefix in joined for prefix in FORMULA_PREFIXES):
        return texts
    return ["'" + text if text.startswith(FORMULA_PREFIXES) else text for text in texts]


def _csv_quoted(texts: list[str]) -> list[str]:
    """Cells quoted as ``csv.writer`` does with ``QUOTE_MINIMAL`` (a cell holding a comma, a quote
    or a line break is enclosed in quotes, its quotes doubled)."""
    joined = _JOIN.join(texts)
    if not any(character in joined for character in QUOTED_CHARACTERS):
        return texts
    return ['"' + text.replace('"', '""') + '"' if any(c in text for c in QUOTED_CHARACTERS) else text for text in texts]


def _is_missing_marker(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _text_of(value: object) -> str | None:
    """The cell text of a missing marker, a text or a list of texts; None for anything else."""
    if _is_missing_marker(value):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return LIST_SEPARATOR.join(value)
    return None


def _text_cells(values: np.ndarray) -> list[str] | None:
    """An object column whose cells are all text, lists/tuples of text or missing markers, as
    neutralized text, computed once per distinct cell; None when it holds anything else
    (numbers, dates, lists of numbers: the cell-by-cell path writes those)."""
    missing = pd.isna(values)
    if not all(_is_missing_marker(v) for v in values[missing]):
        return None  # e.g. numpy's NaT: the cell-by-cell path writes it as _cell says
    try:
        codes, distinct = pd.factorize(values, use_na_sentinel=False)
    except TypeError:  # lists cannot be hashed: each cell is its own
        codes, distinct = np.arange(len(values)), values
    texts: list[str] = []
    for value in distinct:
        text = _text_of(value)
        if text is None:
            return None
        texts.append(text)
    return np.asarray(_neutralized(texts), dtype=object)[codes].tolist()


def _via_distinct(values: np.ndarray | pd.Series, texts_of: Callable[[np.ndarray], object]) -> list[str]:
    """``texts_of(values)`` computed once per distinct value (a hash pass; missing values are
    one more distinct value), then spread back to every row."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return np.asarray(texts_of(np.asarray(distinct)), dtype=object)[codes].tolist()


def _date_texts(values: np.ndarray) -> np.ndarray:
    missing = np.isnat(values)
    day = values.astype("datetime64[D]")
    midnight = ~missing & (day == values)
    cells = np.full(len(values), "", dtype=object)
    cells[midnight] = np.datetime_as_string(day[midnight], unit="D")
    timed = ~missing & ~midnight
    cells[timed] = [pd.Timestamp(v).isoformat() for v in values[timed]]
    return cells


def _date_cells(column: pd.Series) -> list[str]:
    """A tz-naive datetime column: ``YYYY-MM-DD`` at midnight, ISO 8601 with the time otherwise."""
    return _via_distinct(column.to_numpy(dtype="datetime64[ns]"), lambda d: _date_texts(d.astype("datetime64[ns]")))


def _float_cells(values: np.ndarray) -> list[str]:
    """``repr`` of each float (the shortest text that reads back the same), empty for NaN.

    ``repr`` is the costly step, so it runs once per run of equal values (a per-event figure
    repeats on each of its window rows), compared bit for bit so that -0.0 stays -0.0."""
    values = values.astype(float)
    bits = values.view(np.int64)
    starts = np.flatnonzero(np.concatenate([[True], bits[1:] != bits[:-1]])) if len(values) else np.zeros(0, int)
    firsts = values[starts]
    texts = np.empty(len(starts), dtype=object)
    finite = ~np.isnan(firsts)
    texts[finite] = list(map(repr, firsts[finite].tolist()))
    texts[~finite] = ""
    if len(starts) == len(values):
        return texts.tolist()
    return texts[np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(values))))].tolist()


def _string_texts(distinct: np.ndarray) -> list[str]:
    return _csv_quoted(_neutralized(["" if _is_missing_marker(text) else str(text) for text in distinct.tolist()]))


def _string_cells(column: pd.Series) -> list[str]:
    """A pandas string column (missing as empty), neutralized and quoted once per distinct text."""
    return _via_distinct(column, _string_texts)


def _column_cells(column: pd.Series) -> list[str]:
    """One column's cells as written text (what ``_cell`` gives per value, quoted as
    ``csv.writer`` would), vectorized for the column types tables hold; any other column goes
    cell by cell."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "b":
            return np.where(column.to_numpy(), "true", "false").tolist()
        if dtype.kind in "iu":
            return _via_distinct(column.to_numpy(), lambda distinct: list(map(str, distinct.tolist())))
        if dtype.kind == "f":
            return _float_cells(column.to_numpy())
        if dtype.kind == "M":
            return _date_cells(column)
    if isinstance(dtype, pd.StringDtype):
        return _string_cells(column)
    if dtype == np.dtype(object) or isinstance(dtype, pd.CategoricalDtype):
        cells = _text_cells(column.to_numpy(dtype=object))
        if cells is not None:
            return _csv_quoted(cells)
    return _csv_quoted([str(_cell(value)) for value in column])


def _body_text(frame: pd.DataFrame) -> str:
    """The data rows as CSV text (``\\r\\n`` after each row), columns converted one at a time."""
    if not len(frame):
        return ""
    if not len(frame.columns):
        return "\r\n" * len(frame)
    columns = [_column_cells(frame.iloc[:, k]) for k in range(len(frame.columns))]
    if len(columns) == 1:  # csv.writer quotes a row's only cell when it is empty
        columns = [['""' if cell == "" else cell for cell in columns[0]]]
    return "\r\n".join(map(",".join, zip(*columns, strict=True))) + "\r\n"


def _as_of_rows(as_of: Mapping[str, str] | str | None) -> list[list[str]]:
    if as_of is None:
        return []
    if isinstance(as_of, str):
        return [["# as_of", neutralize_text(as_of)]]
    return [[f"# as_of {name}", neutralize_text(str(date))] for name, date in sorted(as_of.items())]


def _writer(buffer: io.StringIO):
    return csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


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
    The input frame is not modified. Cells are converted a column at a time (text columns
    neutralized in one pass), then joined into rows.
    """
    buffer = io.StringIO()
    writer = _writer(buffer)
    if with_metadata:
        writer.writerow(["# dashboard export", neutralize_text(str(name))])
        if data_version is not None:
            writer.writerow(["# data_version", neutralize_text(str(data_version))])
        writer.writerows(_as_of_rows(as_of))
        for key, value in (params or {}).items():
            writer.writerow([f"# param {neutralize_text(str(key))}", _metadata_value(value)])
    writer.writerow([_cell(str(column)) for column in frame.columns])
    return (buffer.getvalue() + _body_text(frame)).encode("utf-8")


def export_csv_chunks(frame: pd.DataFrame, *, rows_per_chunk: int = 50_000) -> Iterator[bytes]:
    """``export_csv(frame, with_metadata=False)`` in pieces of at most ``rows_per_chunk`` rows
    (the header with the first), so a large table is never held as one string; joined, the
    pieces are the same bytes."""
    for start in range(0, max(len(frame), 1), rows_per_chunk):
        buffer = io.StringIO()
        writer = _writer(buffer)
        if start == 0:
            writer.writerow([_cell(str(column)) for column in frame.columns])
        yield (buffer.getvalue() + _body_text(frame.iloc[start : start + rows_per_chunk])).encode("utf-8")


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


# --- Excel ------------------------------------------------------------------------------------------

EXCEL_MAX_ROWS = 1_048_576  # a worksheet's rows, the header included
DATA_SHEET, METADATA_SHEET = "data", "metadata"


def _excel_cell(value: object) -> object:
    """One cell as Excel should store it: numbers, booleans and dates as themselves, text
    neutralized like the CSV's (so no string is ever a formula), lists joined with ``;``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    if isinstance(value, (list, tuple)):
        value = LIST_SEPARATOR.join(str(item) for item in value)
    return neutralize_text(str(value))


def export_xlsx(
    frame: pd.DataFrame,
    *,
    params: Mapping[str, object] | None = None,
    as_of: Mapping[str, str] | str | None = None,
    name: str = "table",
    data_version: str | None = None,
) -> bytes:
    """``frame`` as an Excel workbook (bytes): the ``data`` sheet first (header, then the rows),
    then a ``metadata`` sheet with the export's name, data version, as-of dates and parameters,
    the same as the CSV's metadata rows. Cells are converted by the CSV's rules: numbers stay
    numbers, text and headers are neutralized (a leading ``'`` before ``= + - @``, a tab or a
    carriage return) and stored as text, never as formulas; lists are joined with ``;``.
    ``ValueError`` when the table has more rows than a worksheet holds (use CSV then). The input
    frame is not modified."""
    from openpyxl import Workbook  # imported here: only Excel exports pay for it
    from openpyxl.cell import WriteOnlyCell

    if len(frame) + 1 > EXCEL_MAX_ROWS:
        raise ValueError(f"{len(frame):,} rows do not fit an Excel worksheet ({EXCEL_MAX_ROWS:,} rows); write a .csv instead")
    workbook = Workbook(write_only=True)
    data = workbook.create_sheet(DATA_SHEET)

    def row_of(values: list[object]) -> list[object]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(data, value=_excel_cell(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even when it looks like a formula or a number
            cells.append(cell)
        return cells

    data.append(row_of([str(column) for column in frame.columns]))
    for values in frame.itertuples(index=False, name=None):
        data.append(row_of(list(values)))
    metadata = workbook.create_sheet(METADATA_SHEET)
    rows: list[list[object]] = [["dashboard export", name]]
    if data_version is not None:
        rows.append(["data_version", data_version])
    rows += [[key.lstrip("# "), value] for key, value in _as_of_rows(as_of)]
    rows += [[f"param {key}", LIST_SEPARATOR.join(map(str, value)) if isinstance(value, (list, tuple)) else value]
             for key, value in (params or {}).items()]  # fmt: skip
    for key, value in rows:
        cells = [WriteOnlyCell(metadata, value=_excel_cell(key)), WriteOnlyCell(metadata, value=_metadata_value(value))]
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
        metadata.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


EXPORT_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx")


def export_format_problem(path: object) -> str | None:
    """A usage error when ``path`` names neither a ``.csv`` nor an ``.xlsx`` file, else None."""
    suffix = str(path).lower().rsplit(".", 1)[-1] if "." in str(path) else ""
    return None if f".{suffix}" in EXPORT_SUFFIXES else f"{path}: the output format is chosen by the suffix: .csv or .xlsx"


def export_file(
    frame: pd.DataFrame,
    path: object,
    *,
    params: Mapping[str, object] | None = None,
    as_of: Mapping[str, str] | str | None = None,
    name: str = "table",
    data_version: str | None = None,
    with_metadata: bool = True,
) -> Iterator[bytes]:
    """The bytes of ``frame`` in the format ``path``'s suffix names (``.xlsx``: :func:`export_xlsx`,
    always with its metadata sheet; otherwise CSV: :func:`export_csv`, in pieces when it has no
    metadata rows)."""
    if str(path).lower().endswith(".xlsx"):
        yield export_xlsx(frame, params=params, as_of=as_of, name=name, data_version=data_version)
    elif with_metadata:
        yield export_csv(frame, params=params, as_of=as_of, name=name, data_version=data_version)
    else:
        yield from export_csv_chunks(frame)
