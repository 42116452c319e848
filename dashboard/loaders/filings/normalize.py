"""SEC EDGAR submissions, normalized (pure): one row per filing, and the SGML header's time.

- ``normalize_submissions`` turns a filer's parallel arrays (``filings.recent`` and each paged
  history file read) into one row per filing and reports every row with a bad or missing field as
  ``file:index: field: reason``.
- ``parse_sgml_header`` reads ``ACCEPTANCE-DATETIME`` (the US/Eastern wall clock, the authority on
  a filing's time) from a ``-index-headers.html`` page or the start of a ``.txt`` submission.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from dashboard.loaders.validation import RowIssue

ACCESSION_RE = re.compile(r"^\d{10}-\d{2}-\d{6}$")
ACCEPTANCE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,6})?Z$")
HEADER_ACCEPTANCE_RE = re.compile(r"<ACCEPTANCE-DATETIME>\s*(\d{14})")
ARRAY_FIELDS: tuple[str, ...] = (
    "accessionNumber",
    "filingDate",
    "reportDate",
    "acceptanceDateTime",
    "form",
    "items",
    "primaryDocument",
)
REQUIRED_FIELDS: tuple[str, ...] = ("accessionNumber", "filingDate", "acceptanceDateTime", "form")

# What identifies and dates a filing, as read from the submissions JSON (first in every filings table).
FILING_FIELDS: tuple[str, ...] = (
    "ticker",
    "cik",
    "accession",
    "form",
    "items",
    "filing_date",
    "report_date",
    "acceptance_json",
)
# One row per filing, as normalize_submissions returns it.
RECORD_COLUMNS: tuple[str, ...] = (
    *FILING_FIELDS,
    "acceptance_clock",
    "primary_document",
    "document_url",
    "source_file",
    "source_index",
)
SEC_ARCHIVES_URL = "https://www.sec.gov"


def _folder(cik: int, accession: str) -> str:
    return f"{SEC_ARCHIVES_URL}/Archives/edgar/data/{int(cik)}/{accession.replace('-', '')}"


def index_headers_url(cik: int, accession: str) -> str:
    """The filing's ``-index-headers.html`` page (its SGML header) on www.sec.gov."""
    return f"{_folder(cik, accession)}/{accession}-index-headers.html"


def document_url(cik: int, accession: str, primary_document: str | None) -> str:
    """The filing's primary document, or its index page when the document is not named."""
    if primary_document:
        return f"{_folder(cik, accession)}/{primary_document}"
    return f"{_folder(cik, accession)}/{accession}-index.htm"


@dataclass
class SubmissionsRaw:
    """A filer's submissions as SEC serves them: the main JSON, the paged history files read
    (by name), the ones that could not be read (one message each), and SGML header texts by
    accession. ``source`` is the file or address the main JSON came from."""

    source: str
    main: dict
    pages: dict[str, dict] = field(default_factory=dict)
    missing_pages: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def cik(self) -> int | None:
        try:
            return int(self.main.get("cik"))  # type: ignore[arg-type]  # None and junk raise, as intended
        except (TypeError, ValueError):
            return None


class SgmlHeader(NamedTuple):
    """What a filing's SGML header says: accession, acceptance (naive US/Eastern wall clock),
    submission type, filing date and the 8-K items in words."""

    accession: str | None
    accepted_et: pd.Timestamp
    form: str | None
    filed: pd.Timestamp | None
    item_information: tuple[str, ...]


def _header_field(text: str, name: str) -> str | None:
    found = re.search(rf"^\s*{re.escape(name)}:[ \t]*(.+?)\s*$", text, flags=re.MULTILINE)
    return found.group(1).strip() if found else None


def parse_sgml_header(text: str) -> SgmlHeader:
    """Parse a filing's SGML header: the ``-index-headers.html`` page (its tags HTML-escaped) or
    the start of the full ``.txt`` submission. ``ACCEPTANCE-DATETIME`` (``YYYYMMDDHHMMSS``) is the
    US/Eastern wall clock, returned naive. Fields are split at the colon whatever the tabs.
    Raises ``ValueError`` when there is no valid ``ACCEPTANCE-DATETIME``."""
    plain = html.unescape(text)
    # The header page holds the header twice (in a comment and escaped in <PRE>): read one copy.
    block = re.search(r"<SEC-HEADER>.*?</SEC-HEADER>", plain, flags=re.DOTALL)
    plain = block.group(0) if block else plain
    found = HEADER_ACCEPTANCE_RE.search(plain)
    if not found:
        raise ValueError("no ACCEPTANCE-DATETIME in the header")
    accepted = pd.to_datetime(found.group(1), format="%Y%m%d%H%M%S", errors="coerce")
    if pd.isna(accepted):
        raise ValueError(f"ACCEPTANCE-DATETIME {found.group(1)!r} is not a valid time")
    filed_text = _header_field(plain, "FILED AS OF DATE")
    filed = pd.to_datetime(filed_text, format="%Y%m%d", errors="coerce") if filed_text else None
    items = tuple(m.strip() for m in re.findall(r"^\s*ITEM INFORMATION:[ \t]*(.+?)\s*$", plain, flags=re.MULTILINE))
    return SgmlHeader(
        _header_field(plain, "ACCESSION NUMBER"),
        pd.Timestamp(accepted),
        _header_field(plain, "CONFORMED SUBMISSION TYPE"),
        None if filed is None or pd.isna(filed) else pd.Timestamp(filed),
        items,
    )


class NormalizedSubmissions(NamedTuple):
    """What ``normalize_submissions`` returns: one row per good filing (``RECORD_COLUMNS``), every
    problem as ``file:index: field: reason``, and the SGML header times read (naive Eastern, by
    accession)."""

    filings: pd.DataFrame
    issues: list[RowIssue]
    header_et: dict[str, pd.Timestamp]


def _block_frame(block: Mapping[str, Any], file: str) -> tuple[pd.DataFrame, list[RowIssue]]:
    """The parallel arrays of one block (``filings.recent`` or a page) as text columns; a field
    that is absent or not a list, or shorter than the others, leaves missing cells."""
    issues: list[RowIssue] = []
    arrays: dict[str, list] = {}
    for name in ARRAY_FIELDS:
        value = block.get(name)
        if value is None:
            arrays[name] = []
        elif isinstance(value, list):
            arrays[name] = value
        else:
            issues.append(RowIssue(file, 0, name, f"is a {type(value).__name__}, not a list; its values are missing"))
            arrays[name] = []
    length = max((len(v) for v in arrays.values()), default=0)
    frame = pd.DataFrame(
        {name: [values[i] if i < len(values) else None for i in range(length)] for name, values in arrays.items()},
        dtype=object,
    )
    return frame, issues


def _blocks(raw: SubmissionsRaw) -> list[tuple[str, Mapping[str, Any]]]:
    main_name = Path(raw.source).name if "://" not in raw.source else raw.source.rsplit("/", 1)[-1]
    blocks: list[tuple[str, Mapping[str, Any]]] = [(main_name, (raw.main.get("filings") or {}).get("recent") or {})]
    blocks += [(name, page) for name, page in raw.pages.items()]
    return blocks


def _text_cell(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.strip() if isinstance(value, str) else None


def _row_issues(frame: pd.DataFrame, file: str) -> tuple[dict[int, list[tuple[str, str]]], pd.DataFrame]:
    """Per row position, the (field, reason) pairs that reject it; and the parsed columns."""
    problems: dict[int, list[tuple[str, str]]] = {}

    def flag(mask: pd.Series, name: str, reason: Callable[[Any], str]) -> None:
        for position in np.flatnonzero(mask.to_numpy()):
            problems.setdefault(int(position), []).append((name, reason(frame[name].iloc[position])))

    text = {name: frame[name].map(_text_cell) for name in ARRAY_FIELDS}
    for name in REQUIRED_FIELDS:
        flag(text[name].isna() | (text[name] == ""), name, lambda v: "is missing" if v is None else f"{v!r} is empty or not text")
    accession_ok = text["accessionNumber"].map(lambda v: bool(v and ACCESSION_RE.match(v))).astype(bool)
    flag(
        text["accessionNumber"].notna() & (text["accessionNumber"] != "") & ~accession_ok,
        "accessionNumber",
        lambda v: f"{v!r} is not an accession number (##########-##-######)",
    )
    filing_date = pd.to_datetime(text["filingDate"], format="%Y-%m-%d", errors="coerce")
    flag(
        text["filingDate"].notna() & (text["filingDate"] != "") & filing_date.isna(),
        "filingDate",
        lambda v: f"{v!r} is not a date (YYYY-MM-DD)",
    )
    acceptance = text["acceptanceDateTime"].map(lambda v: ACCEPTANCE_RE.match(v) if v else None)
    clock = pd.to_datetime(acceptance.map(lambda m: m.group(1) if m else None), format="%Y-%m-%dT%H:%M:%S", errors="coerce")
    flag(
        text["acceptanceDateTime"].notna() & (text["acceptanceDateTime"] != "") & clock.isna(),
        "acceptanceDateTime",
        lambda v: f"{v!r} is not a time like 2025-07-30T20:02:43.000Z",
    )
    items_bad = frame["items"].map(lambda v: v is not None and not isinstance(v, str)).astype(bool)
    flag(items_bad, "items", lambda v: f"{v!r} is not comma-separated text")
    duplicate = text["accessionNumber"].duplicated(keep="first") & accession_ok
    flag(duplicate, "accessionNumber", lambda v: f"{v!r} duplicates an earlier filing of {file}")
    parsed = pd.DataFrame({"filing_date": filing_date, "acceptance_clock": clock, **{k: v for k, v in text.items()}})
    return problems, parsed


def _filing_rows(rows: pd.DataFrame, *, ticker: str, cik: int, file: str) -> pd.DataFrame:
    """The good parsed rows of one file (``_row_issues``) as :data:`RECORD_COLUMNS`."""
    return pd.DataFrame(
        {
            "ticker": ticker,
            "cik": cik,
            "accession": rows["accessionNumber"].astype("str"),
            "form": rows["form"].astype("str"),
            "items": pd.Series(
                [tuple(p.strip() for p in (v or "").split(",") if p.strip()) for v in rows["items"]],
                index=rows.index,
                dtype=object,
            ),
            "filing_date": rows["filing_date"].astype("datetime64[ns]"),
            "report_date": pd.to_datetime(rows["reportDate"], format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]"),
            "acceptance_json": rows["acceptanceDateTime"].astype("str"),
            "acceptance_clock": rows["acceptance_clock"].astype("datetime64[ns]"),
            "primary_document": rows["primaryDocument"].astype("str"),
            "document_url": [document_url(cik, a, d) for a, d in zip(rows["accessionNumber"], rows["primaryDocument"], strict=True)],
            "source_file": file,
            "source_index": rows.index.to_numpy(dtype=int),
        },
        columns=list(RECORD_COLUMNS),
    )


def _header_times(headers: Mapping[str, str], issues: list[RowIssue]) -> dict[str, pd.Timestamp]:
    """Each SGML header's Eastern acceptance time by accession; a header that does not parse or
    names another accession is left out and reported in ``issues``."""
    header_et: dict[str, pd.Timestamp] = {}
    for accession, text in headers.items():
        name = f"{accession}-index-headers.html"
        try:
            header = parse_sgml_header(text)
        except ValueError as exc:
            issues.append(RowIssue(name, 0, "ACCEPTANCE-DATETIME", f"{exc}; the JSON time is used"))
            continue
        if header.accession is not None and header.accession != accession:
            issues.append(RowIssue(name, 0, "ACCESSION NUMBER", f"{header.accession!r} is another filing; header not used"))
            continue
        header_et[accession] = header.accepted_et
    return header_et


def normalize_submissions(raw: SubmissionsRaw, *, ticker: str) -> NormalizedSubmissions:
    """One row per filing of ``recent`` and every paged file read (pure).

    Columns (``RECORD_COLUMNS``): ``ticker``, ``cik``, ``accession``, ``form``, ``items`` (tuple of
    item numbers, ``()`` when none), ``filing_date`` and ``report_date`` (dates; NaT when empty),
    ``acceptance_json`` (as served), ``acceptance_clock`` (its wall-clock value without the
    ``Z``, naive: UTC or Eastern depending on the filer), ``primary_document``, ``document_url``
    (the filing's index page when no primary document is named), ``source_file`` and
    ``source_index`` (where the row was read).

    A row with a missing or malformed accession, filing date, acceptance time or form, items
    that are not text, or an accession seen earlier (also across files) is left out and reported
    as ``file:index: field: reason`` (index = position in the file's arrays). A missing primary
    document is reported but the row is kept. Header texts that do not parse or name another
    accession are reported under the header's file name. Rows are newest first, as SEC lists them.
    """
    issues: list[RowIssue] = []
    cik = raw.cik
    if cik is None:
        issues.append(RowIssue(Path(raw.source).name, 0, "cik", f"{raw.main.get('cik')!r} is not a CIK; no filing read"))
        return NormalizedSubmissions(pd.DataFrame({c: pd.Series(dtype=object) for c in RECORD_COLUMNS}), issues, {})
    frames = []
    seen: set[str] = set()
    for file, block in _blocks(raw):
        frame, block_issues = _block_frame(block, file)
        issues += block_issues
        problems, parsed = _row_issues(frame, file)
        across = parsed["accessionNumber"].isin(seen) & ~pd.Series([p in problems for p in range(len(frame))], dtype=bool)
        for found in np.flatnonzero(across.to_numpy()):
            position = int(found)
            problems.setdefault(position, []).append(
                ("accessionNumber", f"{parsed['accessionNumber'].iloc[position]!r} duplicates a filing read from an earlier file")
            )
        for position in sorted(problems):
            issues += [RowIssue(file, position, name, reason) for name, reason in problems[position]]
        good = ~pd.Series([p in problems for p in range(len(frame))], index=parsed.index, dtype=bool)
        missing_document = good & (parsed["primaryDocument"].isna() | (parsed["primaryDocument"] == ""))
        for found in np.flatnonzero(missing_document.to_numpy()):
            issues.append(RowIssue(file, int(found), "primaryDocument", "is missing; the filing's index page is linked instead (row kept)"))
        rows = parsed[good]
        seen.update(rows["accessionNumber"])
        frames.append(_filing_rows(rows, ticker=ticker, cik=cik, file=file))
    filings = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(RECORD_COLUMNS))
    header_et = _header_times(raw.headers, issues)
    return NormalizedSubmissions(filings, issues, header_et)
