"""SEC EDGAR submissions: each covered company's filings, their SGML headers, and the saved dataset.

- **Query**: ``submissions_url`` (``data.sec.gov/submissions/CIK##########.json``),
  ``submissions_page_url`` (the paged history named in ``filings.files``), ``index_headers_url``
  and ``document_url`` (``www.sec.gov/Archives/edgar/data/<cik>/<accession>/...``).
- **Extract** (the only I/O): ``fetch_sec_response`` makes one GET with the SEC User-Agent
  (``sec.sec_user_agent``), after the process-wide rate limiter (``sec.SEC_RATE_LIMITER``, 10
  requests/s shared with company facts), retrying after 429 or 5xx at most
  ``config.SEC_MAX_RETRIES`` times and waiting what ``Retry-After`` asks (seconds or an HTTP date;
  otherwise 1, 2, 4 s), never longer than ``config.SEC_MAX_RETRY_WAIT_SECONDS``. The clock and
  sleep are injectable. ``fetch_submissions_raw`` follows ``filings.files``; ``fetch_index_headers_raw``
  reads one filing's header page. Responses are cached under ``config.CACHE_DIR / "sec"``: the
  submissions for an hour, paged history for 30 days, headers for good (a filing never changes).
  ``read_submissions_file`` reads a saved submissions JSON with no network call: the paged files
  and ``<accession>-index-headers.html`` pages found beside it are used, and a named page that is
  absent is reported, not fatal.
- **Normalize** (pure): ``normalize_submissions`` turns the parallel arrays into one row per filing
  and reports every row with a bad or missing field as ``file:index: field: reason``;
  ``parse_sgml_header`` reads ``ACCEPTANCE-DATETIME`` (US/Eastern) from a header page or ``.txt``.
- **Dataset**: ``save_filings`` writes ``data/filings.csv`` (rows of the same accession replaced,
  the others kept) and its manifest entry ``data/filings.manifest.json`` in one atomic swap of
  the data folder (``manifest.json`` itself lists only ``config.DATASET_FILES``: the snapshot
  check refuses other entries); ``load_filings`` reads it back, typed, or raises
  ``DataUnavailable`` saying how to fetch. Each filer's learned JSON time convention is
  cached in ``.cache/sec/submissions-time-conventions.json`` (``load_time_conventions``,
  ``save_time_conventions``).

SEC EDGAR data is public domain (a U.S. government work).
"""
from __future__ import annotations

import email.utils
import html
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import filelock
import numpy as np
import pandas as pd
import requests

from dashboard import config
from dashboard.errors import DataUnavailable, RefreshError, RefreshInProgress
from dashboard.loaders import sec, snapshot
from dashboard.loaders.refresh import probe_source
from dashboard.loaders.validation import RowIssue, ValidationReport, read_text, read_text_table, warn_rejected

SOURCE = sec.SOURCE
SEC_ARCHIVES_URL = "https://www.sec.gov"
SUBMISSIONS_CACHE_MAX_AGE_SECONDS = 3600.0  # a company's list changes whenever it files
PAGE_CACHE_MAX_AGE_SECONDS = 30 * 24 * 3600.0  # paged history is closed; it only grows by new pages
HEADER_CACHE_MAX_AGE_SECONDS = float("inf")  # a filing's header never changes
BACKOFF_SECONDS: tuple[float, ...] = (1.0, 2.0, 4.0)
CONVENTIONS_FILE = "submissions-time-conventions.json"
HOW_TO_FETCH = (
    "No SEC filings have been fetched yet. Run `python -m dashboard filings --out candidates.csv` "
    f"with network access and {config.SEC_USER_AGENT_ENV} set (a contact e-mail address, as SEC requires); "
    "it saves data/filings.csv and its manifest entry."
)
ACCESSION_RE = re.compile(r"^\d{10}-\d{2}-\d{6}$")
ACCEPTANCE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,6})?Z$")
HEADER_ACCEPTANCE_RE = re.compile(r"<ACCEPTANCE-DATETIME>\s*(\d{14})")
ARRAY_FIELDS: tuple[str, ...] = (
    "accessionNumber", "filingDate", "reportDate", "acceptanceDateTime", "form", "items", "primaryDocument",
)
REQUIRED_FIELDS: tuple[str, ...] = ("accessionNumber", "filingDate", "acceptanceDateTime", "form")

# One row per filing, as normalize_submissions returns it.
RECORD_COLUMNS: tuple[str, ...] = (
    "ticker", "cik", "accession", "form", "items", "filing_date", "report_date", "acceptance_json",
    "acceptance_clock", "primary_document", "document_url", "source_file", "source_index",
)
# The saved dataset (data/filings.csv): in-scope filings with their resolved Eastern time.
FILINGS_COLUMNS: tuple[str, ...] = (
    "ticker", "cik", "accession", "form", "items", "filing_date", "report_date", "acceptance_json",
    "accepted_et", "time_source", "time_basis", "primary_document", "document_url",
)
ITEM_SEPARATOR = ";"  # items are tuples inside the package, joined only in the CSV file


class SecNotFound(RefreshError):
    """SEC answered 404: the address does not exist (an unknown CIK, a page or filing not there)."""


# --- query --------------------------------------------------------------------------------------


def submissions_url(cik: int) -> str:
    """The submissions address of a CIK (zero-padded to 10 digits) on SEC's API host."""
    return f"{sec.sec_base_url()}/submissions/CIK{int(cik):010d}.json"


def submissions_page_url(name: str) -> str:
    """The address of a paged history file named in ``filings.files``."""
    return f"{sec.sec_base_url()}/submissions/{name}"


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


# --- extract ------------------------------------------------------------------------------------


def retry_wait_seconds(retry_after: str | None, attempt: int, *, now: float) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): what ``Retry-After`` asks (seconds, or
    an HTTP date less ``now``, a POSIX time), else 1, 2, 4 s... Never negative."""
    if retry_after:
        text = retry_after.strip()
        if text.isdigit():
            return float(text)
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            return max(0.0, moment.timestamp() - now)
    return BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]


@dataclass
class SecClient:
    """How SEC requests are made: the transport (a ``requests.Session`` or anything with the same
    ``get(url, headers=..., timeout=...)``), the User-Agent, the rate limiter, the cache folder
    and the injectable ``sleep`` and ``now`` (POSIX seconds) used for retries."""

    session: Any
    user_agent: str
    limiter: sec.RateLimiter = field(default_factory=lambda: sec.SEC_RATE_LIMITER)
    cache_dir: Path | None = None
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time
    max_retries: int = config.SEC_MAX_RETRIES
    max_wait_seconds: float = config.SEC_MAX_RETRY_WAIT_SECONDS
    timeout: tuple[float, float] = (sec.SEC_CONNECT_TIMEOUT_SECONDS, sec.SEC_READ_TIMEOUT_SECONDS)

    @property
    def folder(self) -> Path:
        return (config.CACHE_DIR / "sec") if self.cache_dir is None else Path(self.cache_dir)


def live_client(user_agent: str | None = None) -> SecClient:
    """A client for the real SEC: the User-Agent is checked first (``RefreshError`` saying how to
    set it, before any network), then a short probe of SEC's host (``RefreshError`` within seconds
    when offline), then a ``requests.Session``."""
    agent = sec.sec_user_agent(user_agent)
    probe_source(sec.sec_base_url(), source=SOURCE)
    return SecClient(requests.Session(), agent)


def fetch_sec_response(url: str, client: SecClient) -> Any:
    """One GET of ``url`` with the SEC User-Agent, after the rate limiter; retried after 429 or
    5xx (at most ``client.max_retries`` times, each after the rate limiter again).

    Raises ``RefreshError`` naming SEC EDGAR and the address when the host cannot be reached or
    times out (no retry: offline fails fast), on 403 (User-Agent refused), on another 4xx, when
    ``Retry-After`` asks for longer than ``client.max_wait_seconds``, or when retries run out;
    ``SecNotFound`` on 404. Returns the response.
    """
    for attempt in range(client.max_retries + 1):
        client.limiter.wait()
        try:
            response = client.session.get(
                url, headers={"User-Agent": client.user_agent, "Accept-Encoding": "gzip, deflate"}, timeout=client.timeout
            )
        except requests.Timeout as exc:
            raise RefreshError(f"{SOURCE}: timed out reaching {url} ({exc.__class__.__name__})") from exc
        except requests.RequestException as exc:
            raise RefreshError(f"{SOURCE}: cannot reach {url} (offline?): {exc.__class__.__name__}") from exc
        status = int(response.status_code)
        if status == 429 or 500 <= status < 600:
            if attempt == client.max_retries:
                raise RefreshError(f"{SOURCE}: HTTP {status} for {url}, still after {client.max_retries} retries; try again later")
            wait = retry_wait_seconds((response.headers or {}).get("Retry-After"), attempt, now=client.now())
            if wait > client.max_wait_seconds:
                raise RefreshError(
                    f"{SOURCE}: HTTP {status} for {url}: SEC asks to wait {wait:.0f} s "
                    f"(more than {client.max_wait_seconds:.0f} s); try again later"
                )
            client.sleep(wait)
            continue
        if status == 403:
            raise RefreshError(f"{SOURCE}: HTTP 403 for {url}: the User-Agent was refused; check {config.SEC_USER_AGENT_ENV}")
        if status == 404:
            raise SecNotFound(f"{SOURCE}: HTTP 404 for {url}: not found")
        if status >= 400:
            raise RefreshError(f"{SOURCE}: HTTP {status} for {url}")
        return response
    raise AssertionError("unreachable")  # the loop returns or raises


def _cached_text(path: Path, max_age_seconds: float) -> str | None:
    if max_age_seconds <= 0 or not path.exists():
        return None
    if time.time() - path.stat().st_mtime >= max_age_seconds:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _fetch_json(url: str, client: SecClient, cache_name: str, max_age_seconds: float, check: Callable[[Any], bool], what: str) -> dict:
    path = client.folder / cache_name
    cached = _cached_text(path, max_age_seconds)
    if cached is not None:
        try:
            raw = json.loads(cached)
            if check(raw):
                return raw
        except json.JSONDecodeError:
            pass  # a broken cache entry is simply fetched again
    response = fetch_sec_response(url, client)
    try:
        raw = response.json()
    except ValueError as exc:
        raise RefreshError(f"{SOURCE}: {url} did not return JSON") from exc
    if not check(raw):
        raise RefreshError(f"{SOURCE}: {url} returned JSON that is not {what}")
    snapshot.atomic_write_text(path, json.dumps(raw))
    return raw


def _is_submissions(raw: Any) -> bool:
    return isinstance(raw, dict) and isinstance((raw.get("filings") or {}).get("recent"), dict)


def _is_page(raw: Any) -> bool:
    return isinstance(raw, dict) and isinstance(raw.get("accessionNumber"), list)


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
            return int(self.main.get("cik"))
        except (TypeError, ValueError):
            return None


def _page_entries(main: Mapping[str, Any], since: pd.Timestamp | None) -> list[dict]:
    """The ``filings.files`` entries to read: all, or those reaching ``since`` or later."""
    entries = [f for f in (main.get("filings") or {}).get("files") or [] if isinstance(f, dict) and f.get("name")]
    if since is None:
        return entries
    # a page whose end date cannot be read is read anyway: better a page too many than a gap
    ends = [pd.to_datetime(f.get("filingTo"), format="%Y-%m-%d", errors="coerce") for f in entries]
    return [f for f, end in zip(entries, ends, strict=True) if pd.isna(end) or end >= since]


def fetch_submissions_raw(cik: int, client: SecClient, *, since: pd.Timestamp | str | None = None) -> SubmissionsRaw:
    """A company's submissions JSON and the paged history it names (pages ending before ``since``
    are not fetched). A page that fails is reported in ``missing_pages``; a failure of the main
    JSON raises ``RefreshError`` (``SecNotFound`` for an unknown CIK)."""
    url = submissions_url(cik)
    main = _fetch_json(url, client, f"submissions-CIK{int(cik):010d}.json", SUBMISSIONS_CACHE_MAX_AGE_SECONDS, _is_submissions, "a submissions list")
    raw = SubmissionsRaw(url, main)
    for entry in _page_entries(main, pd.Timestamp(since) if since is not None else None):
        name = str(entry["name"])
        if "/" in name or "\\" in name or name.startswith("."):
            raw.missing_pages.append(f"{url}: filings.files names {name!r}, not a plain file name; not read")
            continue
        try:
            raw.pages[name] = _fetch_json(
                submissions_page_url(name), client, f"submissions-{name}", PAGE_CACHE_MAX_AGE_SECONDS, _is_page, "a submissions page"
            )
        except RefreshError as exc:
            raw.missing_pages.append(f"{url}: paged history {name} ({entry.get('filingFrom', '?')} to {entry.get('filingTo', '?')}) not read: {exc}")
    return raw


def fetch_index_headers_raw(cik: int, accession: str, client: SecClient) -> str:
    """The text of a filing's ``-index-headers.html`` page (cached for good once it parses).
    Raises ``RefreshError`` when the page holds no ``ACCEPTANCE-DATETIME`` (SEC serves its rate
    notice with status 200)."""
    path = client.folder / "headers" / f"{accession}-index-headers.html"
    cached = _cached_text(path, HEADER_CACHE_MAX_AGE_SECONDS)
    if cached is not None and HEADER_ACCEPTANCE_RE.search(html.unescape(cached)):
        return cached
    url = index_headers_url(cik, accession)
    text = fetch_sec_response(url, client).text
    if not HEADER_ACCEPTANCE_RE.search(html.unescape(text)):
        raise RefreshError(f"{SOURCE}: {url} holds no ACCEPTANCE-DATETIME (a rate notice or an error page?)")
    snapshot.atomic_write_text(path, text)
    return text


def read_submissions_file(path: Path, *, since: pd.Timestamp | str | None = None) -> SubmissionsRaw:
    """A saved submissions JSON, with no network call. The paged files named in ``filings.files``
    (those reaching ``since``) are read from the same folder; each absent or unreadable one is a
    line in ``missing_pages``. Every ``<accession>-index-headers.html`` (or ``<accession>.txt``)
    in the folder is read as an SGML header. Raises ``DataUnavailable`` when the file cannot be
    read or is not a submissions JSON."""
    path = Path(path)
    try:
        main = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataUnavailable(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataUnavailable(f"{path}: not a readable JSON file ({exc})") from exc
    if not _is_submissions(main):
        raise DataUnavailable(f"{path}: not an SEC submissions JSON (no filings.recent)")
    raw = SubmissionsRaw(str(path), main)
    for entry in _page_entries(main, pd.Timestamp(since) if since is not None else None):
        name = str(entry["name"])
        page_path = path.parent / name
        span = f"{entry.get('filingFrom', '?')} to {entry.get('filingTo', '?')}"
        if "/" in name or "\\" in name or name.startswith(".") or not page_path.is_file():
            raw.missing_pages.append(f"{path}: paged history {name} ({span}) named in filings.files is not beside it; those filings are not read")
            continue
        try:
            page = json.loads(page_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raw.missing_pages.append(f"{page_path}: not a readable JSON file ({exc}); filings {span} not read")
            continue
        if not _is_page(page):
            raw.missing_pages.append(f"{page_path}: not a submissions page (no accessionNumber list); filings {span} not read")
            continue
        raw.pages[name] = page
    for header_path in sorted([*path.parent.glob("*-index-headers.html"), *path.parent.glob("*.txt")]):
        accession = header_path.name.removesuffix("-index-headers.html").removesuffix(".txt")
        if ACCESSION_RE.match(accession):
            try:
                raw.headers[accession] = header_path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
    return raw


# --- normalize ----------------------------------------------------------------------------------


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
    flag(text["accessionNumber"].notna() & (text["accessionNumber"] != "") & ~accession_ok, "accessionNumber",
         lambda v: f"{v!r} is not an accession number (##########-##-######)")
    filing_date = pd.to_datetime(text["filingDate"], format="%Y-%m-%d", errors="coerce")
    flag(text["filingDate"].notna() & (text["filingDate"] != "") & filing_date.isna(), "filingDate",
         lambda v: f"{v!r} is not a date (YYYY-MM-DD)")
    acceptance = text["acceptanceDateTime"].map(lambda v: ACCEPTANCE_RE.match(v) if v else None)
    clock = pd.to_datetime(acceptance.map(lambda m: m.group(1) if m else None), format="%Y-%m-%dT%H:%M:%S", errors="coerce")
    flag(text["acceptanceDateTime"].notna() & (text["acceptanceDateTime"] != "") & clock.isna(), "acceptanceDateTime",
         lambda v: f"{v!r} is not a time like 2025-07-30T20:02:43.000Z")
    items_bad = frame["items"].map(lambda v: v is not None and not isinstance(v, str)).astype(bool)
    flag(items_bad, "items", lambda v: f"{v!r} is not comma-separated text")
    duplicate = text["accessionNumber"].duplicated(keep="first") & accession_ok
    flag(duplicate, "accessionNumber", lambda v: f"{v!r} duplicates an earlier filing of {file}")
    parsed = pd.DataFrame({"filing_date": filing_date, "acceptance_clock": clock, **{k: v for k, v in text.items()}})
    return problems, parsed


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
        for position in np.flatnonzero(across.to_numpy()):
            problems.setdefault(int(position), []).append(
                ("accessionNumber", f"{parsed['accessionNumber'].iloc[position]!r} duplicates a filing read from an earlier file")
            )
        for position in sorted(problems):
            issues += [RowIssue(file, position, name, reason) for name, reason in problems[position]]
        good = ~pd.Series([p in problems for p in range(len(frame))], index=parsed.index, dtype=bool)
        missing_document = good & (parsed["primaryDocument"].isna() | (parsed["primaryDocument"] == ""))
        for position in np.flatnonzero(missing_document.to_numpy()):
            issues.append(RowIssue(file, int(position), "primaryDocument", "is missing; the filing's index page is linked instead (row kept)"))
        rows = parsed[good]
        seen.update(rows["accessionNumber"])
        frames.append(
            pd.DataFrame(
                {
                    "ticker": ticker,
                    "cik": cik,
                    "accession": rows["accessionNumber"].astype("str"),
                    "form": rows["form"].astype("str"),
                    "items": pd.Series(
                        [tuple(p.strip() for p in (v or "").split(",") if p.strip()) for v in rows["items"]],
                        index=rows.index, dtype=object,
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
        )
    filings = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(RECORD_COLUMNS))
    header_et: dict[str, pd.Timestamp] = {}
    for accession, text in raw.headers.items():
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
    return NormalizedSubmissions(filings, issues, header_et)


# --- time conventions cache ---------------------------------------------------------------------


def _conventions_path(cache_dir: Path | None) -> Path:
    return ((config.CACHE_DIR / "sec") if cache_dir is None else Path(cache_dir)) / CONVENTIONS_FILE


def load_time_conventions(cache_dir: Path | None = None) -> dict[int, tuple[str, str]]:
    """The cached JSON time conventions: ``{cik: (convention "utc" or "et", how it was learned)}``.
    A missing or unreadable cache is empty."""
    try:
        raw = json.loads(_conventions_path(cache_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[int, tuple[str, str]] = {}
    for key, entry in (raw if isinstance(raw, dict) else {}).items():
        if isinstance(entry, dict) and entry.get("convention") in ("utc", "et") and str(key).isdigit():
            out[int(key)] = (str(entry["convention"]), str(entry.get("basis", "")))
    return out


def save_time_conventions(learned: Mapping[int, tuple[str, str]], cache_dir: Path | None = None) -> None:
    """Add or replace the given filers' conventions in the cache (atomically); others are kept."""
    if not learned:
        return
    merged = load_time_conventions(cache_dir) | dict(learned)
    payload = {str(cik): {"convention": c, "basis": b} for cik, (c, b) in sorted(merged.items())}
    snapshot.atomic_write_text(_conventions_path(cache_dir), json.dumps(payload, indent=2) + "\n")


# --- the dataset --------------------------------------------------------------------------------


def filings_file_frame(filings: pd.DataFrame) -> pd.DataFrame:
    """The dataset's rows as they are written to CSV: items joined with ``;``, dates ISO, the
    acceptance time ISO with its offset (``2025-07-30T20:02:43-04:00``)."""
    out = filings.reindex(columns=list(FILINGS_COLUMNS)).copy()
    out["items"] = out["items"].map(lambda v: ITEM_SEPARATOR.join(v) if isinstance(v, tuple | list) else "")
    for column in ("filing_date", "report_date"):
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d")
    out["accepted_et"] = out["accepted_et"].map(lambda t: t.isoformat() if isinstance(t, pd.Timestamp) else "")
    return out


def _lock() -> filelock.FileLock:
    config.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(config.CACHE_DIR / config.REFRESH_LOCK_FILE)


def filings_manifest(data_dir: Path | None = None) -> dict | None:
    """The filings dataset's manifest entry (``file``, ``as_of``, ``rows``, ``sha256``, ``source``,
    and ``filings_version``, the first 10 hex digits of the hash, to key caches on), read from
    ``data/filings.manifest.json``; None when no filings were saved or the entry is unreadable."""
    path = (Path(data_dir) if data_dir is not None else config.DATA_DIR) / config.FILINGS_MANIFEST_FILE
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))["datasets"]["filings"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return entry if isinstance(entry, dict) else None


def save_filings(filings: pd.DataFrame, *, data_dir: Path | None = None, as_of: str, source: str) -> dict:
    """Write the filings dataset (``data/filings.csv``) and its manifest entry
    (``data/filings.manifest.json``) together, in one atomic step of the whole data folder
    (``snapshot.staged_snapshot``), so a reader sees both old or both new.

    Rows of the saved file whose (ticker, accession) comes again are replaced, the others kept
    (SEC never removes a filing). Takes the refresh lock without waiting (``RefreshInProgress``
    when a refresh runs). ``as_of`` is an ISO date. Returns the manifest entry.
    """
    data_dir = Path(data_dir) if data_dir is not None else config.DATA_DIR
    lock = _lock()
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout as exc:
        raise RefreshInProgress(f"filings: a refresh is running (lock {lock.lock_file}); try again when it ends") from exc
    try:
        new = filings_file_frame(filings)
        current = data_dir / config.FILINGS_FILE
        if current.is_file():
            old, _ = validate_filings(current)  # rows that no longer parse are dropped here, reported on load
            old = filings_file_frame(old)
            keys = set(zip(new["ticker"], new["accession"], strict=True))
            keep = [key not in keys for key in zip(old["ticker"], old["accession"], strict=True)]
            new = pd.concat([old[keep], new], ignore_index=True)
        new = new.sort_values(["ticker", "accepted_et", "accession"], ascending=[True, False, False], kind="stable")
        with snapshot.staged_snapshot(data_dir) as folder:
            path = folder / config.FILINGS_FILE
            new.to_csv(path, index=False, lineterminator="\n")
            entry = snapshot.dataset_entry(path, rows=len(new), as_of=as_of, source=source)
            entry["filings_version"] = entry["sha256"][:10]
            (folder / config.FILINGS_MANIFEST_FILE).write_text(
                json.dumps({"datasets": {"filings": entry}}, indent=2) + "\n", encoding="utf-8"
            )
        return entry
    finally:
        lock.release()


def _is_url(value: str) -> bool:
    return bool(re.match(r"^https?://\S+$", value))


def validate_filings(source: Path | str, *, text: str | None = None) -> tuple[pd.DataFrame, ValidationReport]:
    """Read a filings file and return its good rows, typed, and a report of every bad cell as
    ``file:line: column: reason`` (a row with any issue is left out, never silently).

    Types: ``cik`` int, ``items`` tuples, ``filing_date``/``report_date`` dates, ``accepted_et``
    tz-aware America/New_York (parsed from ISO with offset), text elsewhere."""
    name = str(source)
    text = read_text(Path(source)) if text is None else text
    frame, lines = read_text_table(text, name)
    missing = [c for c in FILINGS_COLUMNS if c not in frame.columns]
    if missing:
        report = ValidationReport("filings", name, len(frame), 0, [RowIssue(name, 1, c, "column is missing") for c in missing])
        return _typed(frame.iloc[0:0].reindex(columns=list(FILINGS_COLUMNS))), report
    problems: dict[int, list[tuple[str, str]]] = {}

    def flag(mask: pd.Series, column: str, reason: str) -> None:
        for position in np.flatnonzero(mask.to_numpy()):
            value = frame[column].iloc[position]
            problems.setdefault(int(position), []).append((column, reason if pd.isna(value) else f"{value!r} {reason}"))

    for column in ("ticker", "accession", "form", "acceptance_json", "time_source", "document_url"):
        flag(frame[column].isna(), column, "is empty")
    flag(frame["cik"].notna() & ~frame["cik"].fillna("").str.fullmatch(r"\d+"), "cik", "is not a CIK")
    flag(frame["cik"].isna(), "cik", "is empty")
    flag(frame["accession"].notna() & ~frame["accession"].fillna("").str.fullmatch(ACCESSION_RE.pattern[1:-1]), "accession",
         "is not an accession number")
    filing_date = pd.to_datetime(frame["filing_date"], format="%Y-%m-%d", errors="coerce")
    flag(filing_date.isna(), "filing_date", "is not a date (YYYY-MM-DD)")
    with_offset = frame["accepted_et"].fillna("").str.contains(r"T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{2}:\d{2}$", regex=True)
    accepted = pd.to_datetime(frame["accepted_et"].where(with_offset), utc=True, errors="coerce", format="ISO8601")
    flag(accepted.isna(), "accepted_et", "is not an ISO time with its offset")
    flag(frame["time_source"].notna() & ~frame["time_source"].isin(config.FILING_TIME_SOURCES), "time_source",
         f"is not one of {', '.join(config.FILING_TIME_SOURCES)}")
    flag(frame["document_url"].notna() & ~frame["document_url"].fillna("").map(_is_url).astype(bool), "document_url",
         "is not an http(s) URL")
    flag(frame.duplicated(["ticker", "accession"], keep="first"), "accession", "duplicates an earlier row of the same ticker")
    issues = [
        RowIssue(name, lines[position], column, reason)
        for position in sorted(problems) for column, reason in problems[position]
    ]
    good = np.array([p not in problems for p in range(len(frame))], dtype=bool)
    typed = _typed(frame.assign(filing_date=filing_date, accepted_et=accepted)[good])
    return typed.reset_index(drop=True), ValidationReport("filings", name, len(frame), int(good.sum()), issues)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reindex(columns=list(FILINGS_COLUMNS)).copy()
    out["cik"] = pd.to_numeric(out["cik"], errors="coerce").astype("Int64")
    out["items"] = pd.Series(
        [tuple(p for p in str(v).split(ITEM_SEPARATOR) if p) if isinstance(v, str) else () for v in out["items"]],
        index=out.index, dtype=object,
    )
    out["filing_date"] = pd.to_datetime(out["filing_date"]).astype("datetime64[ns]")
    out["report_date"] = pd.to_datetime(out["report_date"], format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")
    out["accepted_et"] = pd.to_datetime(out["accepted_et"], utc=True).dt.tz_convert(config.EDGAR_TIMEZONE)
    for column in ("ticker", "accession", "form", "acceptance_json", "time_source", "time_basis", "primary_document", "document_url"):
        out[column] = out[column].astype("str")
    return out


def load_filings(data_dir: Path | None = None) -> pd.DataFrame:
    """The saved SEC filings (``FILINGS_COLUMNS``, typed as ``validate_filings`` says), rejected
    rows reported in a warning. Raises ``DataUnavailable`` with ``HOW_TO_FETCH`` when none were
    fetched (no ``data/filings.csv``), or saying to fetch again when the file does not match its
    manifest entry (``filings_manifest``)."""
    folder = Path(data_dir) if data_dir is not None else config.DATA_DIR
    path = folder / config.FILINGS_FILE
    if not path.is_file():
        raise DataUnavailable(HOW_TO_FETCH)
    entry = filings_manifest(folder)
    if entry is None or entry.get("sha256") != snapshot.content_hash(path):
        why = "has no readable manifest entry" if entry is None else "does not match its manifest entry (edited or half-copied?)"
        raise DataUnavailable(
            f"{snapshot.display_path(path)} {why} in {config.FILINGS_MANIFEST_FILE}; fetch again with `python -m dashboard filings --out candidates.csv`"
        )
    good, report = validate_filings(path)
    warn_rejected(report)
    return good


def filers(companies: pd.DataFrame, tickers: Iterable[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The companies (of ``tickers``, or all) that file with the SEC, and one line for each that
    does not (no ``sec_cik``, e.g. a Tokyo-listed company)."""
    chosen = companies if tickers is None else companies[companies["ticker"].isin(list(tickers))]
    has_cik = chosen["sec_cik"].notna()
    notes = [
        f"{row.ticker} ({row.name}, {row.exchange}): not an SEC EDGAR filer (no sec_cik in companies.csv); no filings"
        for row in chosen[~has_cik].itertuples(index=False)
    ]
    return chosen[has_cik], notes
