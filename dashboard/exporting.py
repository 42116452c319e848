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
import functools
import io
import re
from collections.abc import Iterator, Mapping
from typing import TypedDict, Unpack

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
TEXT = pa.large_string()  # the type of every column's cells and of the rows (64-bit offsets: no size limit)


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, TEXT)


def _concat(*parts: pa.Array | pa.Scalar) -> pa.Array:
    """The element-wise concatenation of text arrays and text scalars."""
    return pc.binary_join_element_wise(*parts, _text(""))


def _neutralized(texts: pa.Array) -> pa.Array:
    """Texts with a single quote before an OWASP formula prefix (``neutralize_text`` on each)."""
    formula = pc.is_in(pc.utf8_slice_codeunits(texts, 0, 1), value_set=pa.array(FORMULA_PREFIXES, TEXT))
    if not pc.any(formula).as_py():
        return texts
    return pc.if_else(formula, _concat(_text("'"), texts), texts)


def _csv_quoted(texts: pa.Array) -> pa.Array:
    """Cells quoted as ``csv.writer`` does with ``QUOTE_MINIMAL`` (a cell holding a comma, a quote
    or a line break is enclosed in quotes, its quotes doubled)."""
    quoted = functools.reduce(pc.or_, [pc.match_substring(texts, character) for character in QUOTED_CHARACTERS])
    if not pc.any(quoted).as_py():
        return texts
    return pc.if_else(quoted, _concat(_text('"'), pc.replace_substring(texts, '"', '""'), _text('"')), texts)


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


def _text_cells(values: np.ndarray) -> pa.Array | None:
    """An object column whose cells are all text, lists/tuples of text or missing markers, as
    neutralized and quoted text, computed once per distinct cell; None when it holds anything else
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
    return _csv_quoted(_neutralized(pa.array(texts, TEXT))).take(pa.array(codes))


def _date_texts(values: np.ndarray) -> np.ndarray:
    missing = np.isnat(values)
    day = values.astype("datetime64[D]")
    midnight = ~missing & (day == values)
    cells = np.full(len(values), "", dtype=object)
    cells[midnight] = np.datetime_as_string(day[midnight], unit="D")
    timed = ~missing & ~midnight
    cells[timed] = [pd.Timestamp(v).isoformat() for v in values[timed]]
    return cells


def _date_cells(column: pd.Series) -> pa.Array:
    """A tz-naive datetime column: ``YYYY-MM-DD`` at midnight, ISO 8601 with the time otherwise;
    computed once per distinct value (a hash pass; missing values are one more distinct value)."""
    codes, distinct = pd.factorize(column.to_numpy(dtype="datetime64[ns]"), use_na_sentinel=False)
    return pa.array(_date_texts(np.asarray(distinct).astype("datetime64[ns]")), TEXT).take(pa.array(codes))


def _float_cells(values: np.ndarray) -> pa.Array:
    """``repr`` of each float (the shortest text that reads back the same), empty for NaN.

    Arrow's cast to text writes the same shortest digits as ``repr`` (the nearest to the value
    when several are as short) in a fraction of the time, but not always in repr's notation. Where
    ``repr`` uses fixed notation (1e-4 <= |x| < 1e16) and Arrow too (no exponent), its text is
    repr's, with ``.0`` after a whole number; any other value (NaN, zero, inf, exponent notation)
    is written by ``repr`` itself. Each run of equal values (a per-event figure repeats on each of
    its window rows; compared bit for bit, so -0.0 stays -0.0) is converted once."""
    values = values.astype(np.float64)
    bits = values.view(np.int64)
    starts = np.flatnonzero(np.concatenate([[True], bits[1:] != bits[:-1]])) if len(values) else np.zeros(0, np.int64)
    firsts = values[starts]
    texts = pc.cast(pa.array(firsts), TEXT)
    magnitude = np.abs(firsts)
    fixed = pc.and_not(pa.array((magnitude >= 1e-4) & (magnitude < 1e16)), pc.match_substring(texts, "e"))
    whole = pc.and_not(fixed, pc.match_substring(texts, "."))
    if pc.any(whole).as_py():
        texts = pc.if_else(whole, _concat(texts, _text(".0")), texts)
    others = pc.indices_nonzero(pc.invert(fixed)).to_numpy()
    if len(others):
        written = ["" if value != value else repr(value) for value in firsts[others].tolist()]
        texts = pc.replace_with_mask(texts, pc.invert(fixed), pa.array(written, TEXT))
    if len(starts) == len(values):
        return texts
    return texts.take(pa.array(np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(values))))))


def _text_column(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A text column (missing as empty) neutralized and quoted, once per distinct text."""
    if isinstance(texts, pa.ChunkedArray):  # e.g. a pandas column made by concat
        texts = texts.combine_chunks()
    encoded = pc.dictionary_encode(pc.fill_null(texts.cast(TEXT), _text("")))
    return _csv_quoted(_neutralized(encoded.dictionary)).take(encoded.indices)


def _column_cells(column: pd.Series) -> pa.Array:
    """One column's cells as written text (what ``_cell`` gives per value, quoted as
    ``csv.writer`` would), vectorized for the column types tables hold; any other column goes
    cell by cell."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "b":
            return pc.if_else(pa.array(column.to_numpy()), _text("true"), _text("false"))
        if dtype.kind in "iu":
            return pc.cast(pa.array(column.to_numpy()), TEXT)
        if dtype.kind == "f":
            return _float_cells(column.to_numpy())
        if dtype.kind == "M":
            return _date_cells(column)
    if isinstance(dtype, pd.StringDtype):
        return _text_column(pa.array(column))
    if dtype == np.dtype(object) or isinstance(dtype, pd.CategoricalDtype):
        cells = _text_cells(column.to_numpy(dtype=object))
        if cells is not None:
            return cells
    return _csv_quoted(pa.array([str(_cell(value)) for value in column], TEXT))


def _utf8(texts: pa.Array) -> memoryview:
    """The texts of an Arrow text array without nulls, one after the other: a view of its data
    buffer (not copied)."""
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[texts.offset : texts.offset + len(texts) + 1]
    return memoryview(texts.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


def _body_bytes(frame: pd.DataFrame) -> bytes | memoryview:
    """The data rows as CSV bytes (``\\r\\n`` after each row): each column converted to text at
    once, then the columns joined into rows at once."""
    if not len(frame):
        return b""
    if not len(frame.columns):
        return b"\r\n" * len(frame)
    columns = [_column_cells(frame.iloc[:, k]) for k in range(len(frame.columns))]
    if len(columns) == 1:  # csv.writer quotes a row's only cell when it is empty
        columns = [pc.if_else(pc.equal(columns[0], _text("")), _text('""'), columns[0])]
    columns[-1] = _concat(columns[-1], _text("\r\n"))
    return _utf8(pc.binary_join_element_wise(*columns, _text(",")))


def _as_of_rows(as_of: Mapping[str, str] | str | None) -> list[list[str]]:
    if as_of is None:
        return []
    if isinstance(as_of, str):
        return [["# as_of", neutralize_text(as_of)]]
    return [[f"# as_of {name}", neutralize_text(str(date))] for name, date in sorted(as_of.items())]


def _writer(buffer: io.StringIO):
    return csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


class ExportMetadata(TypedDict, total=False):
    """What an export records about its table, every key optional: ``params``, every setting that
    shaped the table (query-string names); ``as_of``, each dataset's as-of date (ISO) or one date;
    ``name``, the table's name (``"table"`` when not given); ``data_version``, the manifest hash."""

    params: Mapping[str, object] | None
    as_of: Mapping[str, str] | str | None
    name: str
    data_version: str | None


def export_csv(frame: pd.DataFrame, *, with_metadata: bool = True, **metadata: Unpack[ExportMetadata]) -> bytes:
    """``frame`` as CSV bytes with metadata rows first (see the module docstring for the format).

    ``metadata``: the keywords of :class:`ExportMetadata`; ``with_metadata=False`` leaves out the
    metadata rows. The index is not written (reset it first to keep it). An empty frame gives the
    metadata and the header only. The input frame is not modified. Cells are converted a column
    at a time (text columns neutralized once per distinct text), then joined into rows at once.
    """
    buffer = io.StringIO()
    writer = _writer(buffer)
    if with_metadata:
        writer.writerow(["# dashboard export", neutralize_text(str(metadata.get("name", "table")))])
        if (data_version := metadata.get("data_version")) is not None:
            writer.writerow(["# data_version", neutralize_text(str(data_version))])
        writer.writerows(_as_of_rows(metadata.get("as_of")))
        for key, value in (metadata.get("params") or {}).items():
            writer.writerow([f"# param {neutralize_text(str(key))}", _metadata_value(value)])
    writer.writerow([_cell(str(column)) for column in frame.columns])
    return b"".join([buffer.getvalue().encode("utf-8"), _body_bytes(frame)])


def export_csv_chunks(frame: pd.DataFrame, *, rows_per_chunk: int = 50_000) -> Iterator[bytes]:
    """``export_csv(frame, with_metadata=False)`` in pieces of at most ``rows_per_chunk`` rows
    (the header with the first), so a large table is never held as one string; joined, the
    pieces are the same bytes."""
    for start in range(0, max(len(frame), 1), rows_per_chunk):
        buffer = io.StringIO()
        writer = _writer(buffer)
        if start == 0:
            writer.writerow([_cell(str(column)) for column in frame.columns])
        yield b"".join([buffer.getvalue().encode("utf-8"), _body_bytes(frame.iloc[start : start + rows_per_chunk])])


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


def export_xlsx(frame: pd.DataFrame, **metadata: Unpack[ExportMetadata]) -> bytes:
    """``frame`` as an Excel workbook (bytes): the ``data`` sheet first (header, then the rows),
    then a ``metadata`` sheet with the export's name, data version, as-of dates and parameters
    (``metadata``: the keywords of :class:`ExportMetadata`), the same as the CSV's metadata rows.
    Cells are converted by the CSV's rules: numbers stay numbers, text and headers are neutralized
    (a leading ``'`` before ``= + - @``, a tab or a carriage return) and stored as text, never as
    formulas; lists are joined with ``;``. ``ValueError`` when the table has more rows than a
    worksheet holds (use CSV then). The input frame is not modified."""
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
    sheet = workbook.create_sheet(METADATA_SHEET)
    rows: list[list[object]] = [["dashboard export", metadata.get("name", "table")]]
    if (data_version := metadata.get("data_version")) is not None:
        rows.append(["data_version", data_version])
    rows += [[key.lstrip("# "), value] for key, value in _as_of_rows(metadata.get("as_of"))]
    rows += [[f"param {key}", LIST_SEPARATOR.join(map(str, value)) if isinstance(value, (list, tuple)) else value]
             for key, value in (metadata.get("params") or {}).items()]  # fmt: skip
    for key, value in rows:
        cells = [WriteOnlyCell(sheet, value=_excel_cell(key)), WriteOnlyCell(sheet, value=_metadata_value(value))]
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


EXPORT_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx")


def export_format_problem(path: object) -> str | None:
    """A usage error when ``path`` names neither a ``.csv`` nor an ``.xlsx`` file, else None."""
    suffix = str(path).lower().rsplit(".", 1)[-1] if "." in str(path) else ""
    return None if f".{suffix}" in EXPORT_SUFFIXES else f"{path}: the output format is chosen by the suffix: .csv or .xlsx"


def export_file(frame: pd.DataFrame, path: object, *, with_metadata: bool = True, **metadata: Unpack[ExportMetadata]) -> Iterator[bytes]:
    """The bytes of ``frame`` in the format ``path``'s suffix names (``.xlsx``: :func:`export_xlsx`,
    always with its metadata sheet; otherwise CSV: :func:`export_csv`, in pieces when it has no
    metadata rows)."""
    if str(path).lower().endswith(".xlsx"):
        yield export_xlsx(frame, **metadata)
    elif with_metadata:
        yield export_csv(frame, **metadata)
    else:
        yield from export_csv_chunks(frame)
