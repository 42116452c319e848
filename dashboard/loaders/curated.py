"""Loaders for the embedded datasets in ``data/``, and validators for any file of the same shape.

``validate_*`` functions take a file (or CSV text) and return ``(good_rows, report)``; they never
raise for bad rows, only for a file that cannot be read at all (``CurationError``).
``load_*`` functions read the embedded snapshot, warn about any rejected row, and return the
typed frame. Amounts: events and guidance in USD billions, fundamentals in USD millions.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard import config
from dashboard.errors import CurationError, DataUnavailable
from dashboard.fiscal_calendar import nominal_quarter_end
from dashboard.loaders import snapshot
from dashboard.loaders.column_kinds import (
    COMPANY_COLUMN_KINDS,
    EVENT_COLUMN_KINDS,
    FLAG_COLUMN_KINDS,
    FUNDAMENTAL_COLUMN_KINDS,
    GUIDANCE_COLUMN_KINDS,
    PRICE_COLUMN_KINDS,
)
from dashboard.loaders.validation import (
    RowIssue,
    ValidationReport,
    closest_columns,
    did_you_mean,
    parse_columns,
    read_text,
    read_text_table,
    report_name,
    validate_rows,
    warn_rejected,
)
from dashboard.schemas import (
    USER_EVENT_REQUIRED,
    companies_schema,
    events_schema,
    fundamentals_flags_schema,
    fundamentals_schema,
    guidance_schema,
    instruments_schema,
    prices_schema,
)


def _data_dir(data_dir: Path | None) -> Path:
    return Path(data_dir) if data_dir is not None else config.DATA_DIR


def snapshot_file(data_dir: Path | None, dataset: str) -> Path:
    """The file of ``dataset`` in the data folder, after checking it against the manifest (row
    count and content hash): ``SnapshotDamaged`` names the file when they differ."""
    folder = _data_dir(data_dir)
    snapshot.require_intact(folder, [dataset])
    return folder / config.DATASET_FILES[dataset]


def _name(source: Path | str, text: str | None) -> str:
    """How a report names the file (``report_name``: the embedded data relative to the repository,
    a user's path or an upload's name as given)."""
    del text  # the name is the same whether the text is read here or handed in
    return report_name(source)


def _key(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """The columns joined as text, a missing cell as "" (so a key is never itself missing: the
    missing cell is reported once, under its own column)."""
    parts = [frame[column].astype("string").fillna("") for column in columns]
    key = parts[0]
    for part in parts[1:]:
        key = key + "|" + part
    return key.astype(object)


def today() -> pd.Timestamp:
    """Today's date, the upper bound for event, statement and price dates."""
    return pd.Timestamp.today().normalize()


# --- reference tables -------------------------------------------------------------------------


def validate_companies(source: Path | str, *, text: str | None = None) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate a companies file and return its good rows (``fiscal_year_end_month`` int,
    ``sec_cik`` nullable Int64), in file order."""
    name = _name(source, text)
    text = read_text(Path(source)) if text is None else text
    frame, lines = read_text_table(text, name)
    frame, failures = parse_columns(frame, COMPANY_COLUMN_KINDS)
    good, report = validate_rows(frame, companies_schema(), dataset="companies", file=name, lines=lines, parse_failures=failures)
    if "fiscal_year_end_month" in good.columns:
        good = good.astype({"fiscal_year_end_month": int})
    return good, report


def validate_instruments(source: Path | str, *, text: str | None = None) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate an instruments file (benchmarks and reference series) and return its good rows."""
    name = _name(source, text)
    text = read_text(Path(source)) if text is None else text
    frame, lines = read_text_table(text, name)
    return validate_rows(frame, instruments_schema(), dataset="instruments", file=name, lines=lines)


def _require_valid(report: ValidationReport) -> None:
    """A reference table with any bad row is an error: every other dataset is checked against it."""
    if not report.ok:
        more = f" (and {len(report.issues) - 1} more)" if len(report.issues) > 1 else ""
        raise CurationError(f"{report.issues[0]}{more}", report)


def load_companies(data_dir: Path | None = None) -> pd.DataFrame:
    """The covered companies, one row each, in file order. A bad row is an error here
    (``CurationError`` with the report, each issue ``file:line: column: reason``): every other
    dataset is checked against this table."""
    return _valid_whole(snapshot_file(data_dir, "companies"), validate_companies)


def load_instruments(data_dir: Path | None = None) -> pd.DataFrame:
    """Benchmarks and reference series that have prices but are not covered companies."""
    return _valid_whole(snapshot_file(data_dir, "instruments"), validate_instruments)


def known_tickers(data_dir: Path | None = None) -> tuple[list[str], list[str]]:
    """(company tickers, every ticker with prices: companies, benchmarks and references)."""
    companies = load_companies(data_dir)["ticker"].tolist()
    instruments = load_instruments(data_dir)["ticker"].tolist()
    return companies, companies + instruments


def _valid_whole(file: Path, validate: Callable[[Path], tuple[pd.DataFrame, ValidationReport]]) -> pd.DataFrame:
    """A copy of the good rows of a reference table that must be valid whole. Every validation
    of another dataset asks for them, so each file is validated once per content (the cache key
    is its exact bytes); a bad file raises every time."""
    return _validated(file, file.read_bytes(), validate).copy()


@functools.lru_cache(maxsize=8)
def _validated(file: Path, content: bytes, validate: Callable[[Path], tuple[pd.DataFrame, ValidationReport]]) -> pd.DataFrame:
    del content  # the cache key: the file's bytes
    good, report = validate(file)
    _require_valid(report)
    return good


# --- events -----------------------------------------------------------------------------------


def _deal_funding_once(frame: pd.DataFrame) -> pd.Series:
    """True where the row respects the deal rule: funding_usd_bn appears on one event per deal,
    and an event that carries it names its deal and funding kind."""
    has_funding = frame["funding_usd_bn"].notna()
    named = frame["deal_id"].notna() & frame["funding_kind"].notna()
    carrying = has_funding & frame["deal_id"].notna()
    second = pd.Series(False, index=frame.index)
    second[carrying] = frame.loc[carrying, "deal_id"].duplicated(keep="first")
    return ~((has_funding & ~named) | second)


class SourceNames(tuple):
    """An event's source names, in the file's order: a tuple inside the package.

    Text made from it (``str``, an f-string) is the label, the names joined with
    ``config.SOURCE_NAME_LABEL_SEPARATOR`` ("OurAlpha (CNBC); GitHub AWS-capex thread"), so a page
    that prints a source still reads as the file wrote it; exports join tuples themselves.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return config.SOURCE_NAME_LABEL_SEPARATOR.join(self)


def parse_source_names(text: object) -> SourceNames:
    """The names in one ``source_name`` cell: split at ``config.SOURCE_NAME_SEPARATOR`` outside
    parentheses (``GitHub notes (thread; 10-Q)`` is one name), each stripped, empty parts
    dropped. A missing cell gives no names (an empty tuple)."""
    if not isinstance(text, str):
        return SourceNames()
    names: list[str] = []
    depth, start = 0, 0
    for position, character in enumerate(text):
        if character == "(":
            depth += 1
        elif character == ")":
            depth = max(depth - 1, 0)
        elif character == config.SOURCE_NAME_SEPARATOR and depth == 0:
            names.append(text[start:position])
            start = position + 1
    names.append(text[start:])
    return SourceNames(name.strip() for name in names if name.strip())


def validate_events(
    source: Path | str,
    *,
    data_dir: Path | None = None,
    curated: bool = True,
    text: str | None = None,
    extra_tickers: Iterable[str] = (),
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate an events file (or its ``text``, named ``source``) and return its good rows.

    ``curated=False`` accepts a user's file: only event_id, ticker and event_date are required;
    a missing event_time counts as ``unknown`` and a missing event_type as ``other``.
    ``extra_tickers`` are accepted besides the covered companies (the columns of a user's
    returns file, for example). ``source_name`` comes back as a tuple of names
    (``parse_source_names``; an empty tuple where the cell is empty).
    """
    name = _name(source, text)
    text = read_text(Path(source)) if text is None else text
    frame, lines = read_text_table(text, name)
    unknown: list[RowIssue] = []
    if not curated:
        missing = [c for c in USER_EVENT_REQUIRED if c not in frame.columns]
        if missing:
            hints = [
                f"{column} (is {' or '.join(repr(c) for c in present)} it?)" if present else column
                for column in missing
                for present in [[c for c in frame.columns if column in closest_columns(c, list(EVENT_COLUMN_KINDS))]]
            ]
            raise CurationError(f"{name}: missing required column(s): {', '.join(hints)}")
        unknown = [
            RowIssue(
                name,
                1,
                str(column),
                "unknown column, ignored" + (f"; {hint}" if (hint := did_you_mean(column, list(EVENT_COLUMN_KINDS))) else ""),
            )
            for column in frame.columns
            if column not in EVENT_COLUMN_KINDS
        ]
        for column, kind in EVENT_COLUMN_KINDS.items():
            if column not in frame.columns:
                frame[column] = pd.Series(np.nan, index=frame.index, dtype="str" if kind == "text" else "float64")
        frame["event_time"] = frame["event_time"].fillna("unknown")
        frame["event_type"] = frame["event_type"].fillna("other")
        frame = frame[list(EVENT_COLUMN_KINDS)]
    frame, failures = parse_columns(frame, EVENT_COLUMN_KINDS)
    if "event_id" in frame.columns:
        frame["_duplicate_event_id"] = ~frame["event_id"].duplicated(keep="first") | frame["event_id"].isna()
    if {"funding_usd_bn", "deal_id", "funding_kind"} <= set(frame.columns):
        frame["_deal_funding_once"] = _deal_funding_once(frame)
    companies, _ = known_tickers(data_dir)
    schema = events_schema([*companies, *extra_tickers], today(), curated=curated)
    good, report = validate_rows(frame, schema, dataset="events", file=name, lines=lines, parse_failures=failures)
    report.warnings = unknown
    if "source_name" in good.columns:  # parsed once here: the package never splits the text again
        good["source_name"] = pd.Series([parse_source_names(v) for v in good["source_name"]], index=good.index, dtype=object)
    return good.sort_values(["event_date", "event_id"], kind="stable").reset_index(drop=True), report


def load_events(data_dir: Path | None = None) -> pd.DataFrame:
    """The curated events, sorted by date; rejected rows are reported in a warning."""
    good, report = validate_events(snapshot_file(data_dir, "events"), data_dir=data_dir)
    warn_rejected(report)
    return good


# --- fundamentals -----------------------------------------------------------------------------


def period_end_fits(fundamentals: pd.DataFrame, companies: pd.DataFrame) -> pd.Series:
    """True where a quarter's period_end fits its company's fiscal calendar.

    Month-end calendars must end exactly on the nominal month-end; 52/53-week calendars
    (Intel's Saturdays) within 6 days of it. Rows that cannot be checked (unknown ticker,
    unparsed fields) count as fitting here; other rules reject them.
    """
    info = companies.set_index("ticker")
    month = fundamentals["ticker"].map(info["fiscal_year_end_month"])
    kind = fundamentals["ticker"].map(info["fiscal_calendar"])
    checkable = (
        month.notna()
        & fundamentals["fiscal_year"].notna()
        & fundamentals["fiscal_quarter"].isin([1, 2, 3, 4])
        & fundamentals["period_end"].notna()
    )
    fits = pd.Series(True, index=fundamentals.index)
    if not checkable.any():
        return fits
    rows = fundamentals[checkable]
    nominal = nominal_quarter_end(rows["fiscal_year"], rows["fiscal_quarter"], month[checkable].astype(int))
    distance = (rows["period_end"] - nominal).abs().to_numpy()
    tolerance = np.where((kind[checkable] == "52_53_week").to_numpy(), np.timedelta64(6, "D"), np.timedelta64(0, "D"))
    fits.loc[checkable] = distance <= tolerance
    return fits


def validate_fundamentals(
    source: Path | str, *, data_dir: Path | None = None, text: str | None = None
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate a quarterly fundamentals file and return its good rows (USD millions).

    An empty cell stays missing (NaN), never zero. fiscal_quarter is read as 1..4 (``Q3`` or ``3``).
    """
    name = _name(source, text)
    text = read_text(Path(source)) if text is None else text
    frame, lines = read_text_table(text, name)
    frame, failures = parse_columns(frame, FUNDAMENTAL_COLUMN_KINDS)
    if {"ticker", "fiscal_year", "fiscal_quarter", "period_end"} <= set(frame.columns):
        frame["_company_quarter"] = _key(frame, ["ticker", "fiscal_year", "fiscal_quarter"])
        frame["_period_end_fits"] = period_end_fits(frame, load_companies(data_dir))
    companies, _ = known_tickers(data_dir)
    schema = fundamentals_schema(companies, today())
    good, report = validate_rows(frame, schema, dataset="fundamentals", file=name, lines=lines, parse_failures=failures)
    good = good.astype({"fiscal_year": int, "fiscal_quarter": int})
    return good.sort_values(["ticker", "period_end"], kind="stable").reset_index(drop=True), report


def load_fundamentals(data_dir: Path | None = None) -> pd.DataFrame:
    """The embedded quarterly fundamentals (USD millions); rejected rows are warned about."""
    good, report = validate_fundamentals(snapshot_file(data_dir, "fundamentals"), data_dir=data_dir)
    warn_rejected(report)
    return good


# --- quality flags of fundamentals cells -----------------------------------------------------


def _flagged_cell_filled(flags: pd.DataFrame, fundamentals: pd.DataFrame) -> pd.Series:
    """True where a flag's (ticker, period_end, column) is a non-empty cell of ``fundamentals``.
    Rows that cannot be checked (unknown ticker or column, unparsed date) count as fine here;
    other rules reject them."""
    known = pd.Series(True, index=flags.index)
    checkable = (
        flags["column"].isin(config.FUNDAMENTAL_VALUE_COLUMNS)
        & flags["period_end"].notna()
        & flags["ticker"].isin(fundamentals["ticker"].unique())
    )
    if not checkable.any():
        return known
    cells = fundamentals.melt(id_vars=["ticker", "period_end"], value_vars=list(config.FUNDAMENTAL_VALUE_COLUMNS), var_name="column")
    present = cells[cells["value"].notna()]
    filled = set(zip(present["ticker"], present["period_end"], present["column"], strict=True))
    rows = flags[checkable]
    known.loc[checkable] = [key in filled for key in zip(rows["ticker"], rows["period_end"], rows["column"], strict=True)]
    return known


def validate_fundamentals_flags(
    source: Path | str,
    *,
    data_dir: Path | None = None,
    fundamentals: pd.DataFrame | None = None,
    text: str | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate a fundamentals flags file (``ticker,period_end,column,flag,note``).

    Every flag must point at a non-empty cell of ``fundamentals`` (default: the fundamentals of
    ``data_dir``) and name a flag of ``config.QUALITY_FLAGS``; each (cell, flag) appears once.
    """
    name = _name(source, text)
    text = read_text(Path(source)) if text is None else text
    frame, lines = read_text_table(text, name)
    frame, failures = parse_columns(frame, FLAG_COLUMN_KINDS)
    if fundamentals is None:
        fundamentals = load_fundamentals(data_dir)
    if {"ticker", "period_end", "column"} <= set(frame.columns):
        frame["_flag_cell_known"] = _flagged_cell_filled(frame, fundamentals)
        if "flag" in frame.columns:
            frame["_flag_unique"] = _key(frame, ["ticker", "period_end", "column", "flag"])
    companies, _ = known_tickers(data_dir)
    good, report = validate_rows(
        frame,
        fundamentals_flags_schema(companies),
        dataset="fundamentals_flags",
        file=name,
        lines=lines,
        parse_failures=failures,
    )
    return good.sort_values(["ticker", "period_end", "column", "flag"], kind="stable").reset_index(drop=True), report


def load_fundamentals_flags(data_dir: Path | None = None, *, fundamentals: pd.DataFrame | None = None) -> pd.DataFrame:
    """The embedded cell-level quality flags (one row per cell and flag); rejected rows are warned
    about. ``DataUnavailable`` when the file is absent."""
    path = _data_dir(data_dir) / config.FUNDAMENTALS_FLAGS_FILE
    if not path.exists():
        raise DataUnavailable(f"{report_name(path)}: quality flags not found")
    good, report = validate_fundamentals_flags(snapshot_file(data_dir, "fundamentals_flags"), data_dir=data_dir, fundamentals=fundamentals)
    warn_rejected(report)
    return good


# --- guidance ---------------------------------------------------------------------------------


def validate_guidance(
    source: Path | str, *, data_dir: Path | None = None, text: str | None = None
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate a capex-guidance file (USD billions) and return its good rows."""
    name = _name(source, text)
    text = read_text(Path(source)) if text is None else text
    frame, lines = read_text_table(text, name)
    frame, failures = parse_columns(frame, GUIDANCE_COLUMN_KINDS)
    companies, _ = known_tickers(data_dir)
    good, report = validate_rows(
        frame, guidance_schema(companies, today()), dataset="guidance", file=name, lines=lines, parse_failures=failures
    )
    good = good.astype({"fiscal_year": int})
    return good.sort_values(["ticker", "statement_date"], kind="stable").reset_index(drop=True), report


def load_guidance(data_dir: Path | None = None) -> pd.DataFrame:
    """The embedded capex guidance vintages; rejected rows are warned about."""
    good, report = validate_guidance(snapshot_file(data_dir, "guidance"), data_dir=data_dir)
    warn_rejected(report)
    return good


# --- prices -----------------------------------------------------------------------------------


def validate_prices(source: Path | str, *, data_dir: Path | None = None) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate a long price table (``ticker,date,open,high,low,close,volume``; CSV or Parquet).

    For Parquet, "line" is the row number plus one, as if the table were a CSV with a header.
    """
    path = Path(source)
    name = report_name(path)
    if path.suffix == ".parquet":
        try:
            raw = pd.read_parquet(path)
        except FileNotFoundError as exc:
            raise CurationError(f"{name}: file not found") from exc
        except Exception as exc:  # pyarrow raises several unrelated types for a corrupt file
            raise CurationError(f"{name}: not a readable Parquet file") from exc
        frame = raw.reset_index(drop=True)
        lines = list(range(2, len(frame) + 2))
        if "ticker" in frame.columns:  # a ticker stored as a number is still a name
            frame["ticker"] = frame["ticker"].astype("string").astype(object).where(frame["ticker"].notna())
    else:
        frame, lines = read_text_table(read_text(path), name)
    frame, failures = parse_columns(frame, PRICE_COLUMN_KINDS)
    if {"ticker", "date"} <= set(frame.columns):
        frame["_ticker_date"] = _key(frame, ["ticker", "date"])
    if {"high", "low"} <= set(frame.columns):
        # Only high >= low is enforced: vendors' adjusted opens sometimes sit a cent outside
        # the day's range (XLC on 2025-08-19), which says nothing about the close.
        frame["_high_ge_low"] = ~(frame["high"] < frame["low"])
    _, tickers = known_tickers(data_dir)
    good, report = validate_rows(frame, prices_schema(tickers, today()), dataset="prices", file=name, lines=lines, parse_failures=failures)
    return good.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True), report


def load_prices(data_dir: Path | None = None) -> pd.DataFrame:
    """Daily adjusted OHLC and volume for companies and benchmarks, long format, sorted."""
    path = _data_dir(data_dir) / config.PRICES_FILE
    if not path.exists():
        raise DataUnavailable(f"{report_name(path)}: price snapshot not found")
    good, report = validate_prices(snapshot_file(data_dir, "prices"), data_dir=data_dir)
    warn_rejected(report)
    return good


def close_prices(prices: pd.DataFrame) -> pd.DataFrame:
    """Closes as a wide frame: one row per date (union of all calendars), one column per ticker.

    A ticker has NaN on dates its exchange did not trade or outside its coverage.
    """
    return prices.pivot(index="date", columns="ticker", values="close").sort_index()


def price_coverage(prices: pd.DataFrame) -> pd.DataFrame:
    """Per ticker: first and last date with a close, and the number of sessions."""
    grouped = prices.groupby("ticker")["date"]
    return pd.DataFrame({"first_date": grouped.min(), "last_date": grouped.max(), "sessions": grouped.size()})


# --- manifest ---------------------------------------------------------------------------------


def load_manifest(data_dir: Path | None = None) -> dict:
    """The data manifest: per dataset, as-of date, rows, content hash and source; and
    ``data_version``, recomputed from the files' contents.

    The whole folder is checked against it first (``snapshot.require_intact``: every dataset's
    row count and hash, and the data version): ``SnapshotDamaged`` names every difference.
    Unchanged files are not re-read (their hashes are remembered per file identity), so calling
    this on every rerun of the app costs a few ``stat`` calls.
    """
    folder = _data_dir(data_dir)
    snapshot.require_intact(folder)
    manifest = json.loads((folder / config.MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["data_version"] = snapshot.content_version(folder)
    return manifest
