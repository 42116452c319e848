"""SEC EDGAR submissions: where they are (query) and reading them (extract, the only I/O).

- **Query**: ``submissions_url`` (``data.sec.gov/submissions/CIK##########.json``),
  ``submissions_page_url`` (the paged history named in ``filings.files``); the filing addresses
  (``index_headers_url``, ``document_url``) are in ``normalize``.
- **Extract**: every request goes through ``sec.fetch_sec_response`` (the SEC User-Agent, the
  process-wide 10 requests/s limiter shared with company facts, retries after 429/5xx honouring
  ``Retry-After``). ``fetch_submissions_raw`` follows ``filings.files``; ``fetch_index_headers_raw``
  reads one filing's header page. Responses are cached under ``config.CACHE_DIR / "sec"``: the
  submissions for an hour, paged history for 30 days, headers for good (a filing never changes).
  ``read_submissions_file`` reads a saved submissions JSON with no network call: the paged files
  and ``<accession>-index-headers.html`` pages found beside it are used, and a named page that is
  absent is reported, not fatal.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from dashboard.errors import DataUnavailable, RefreshError
from dashboard.loaders import sec, snapshot
from dashboard.loaders.filings.normalize import ACCESSION_RE, HEADER_ACCEPTANCE_RE, SubmissionsRaw, index_headers_url
from dashboard.loaders.refresh import probe_source
from dashboard.loaders.sec import SecClient, fetch_sec_json, fetch_sec_response, read_cached_text

SOURCE = sec.SOURCE
SUBMISSIONS_CACHE_MAX_AGE_SECONDS = 3600.0  # a company's list changes whenever it files
PAGE_CACHE_MAX_AGE_SECONDS = 30 * 24 * 3600.0  # paged history is closed; it only grows by new pages
HEADER_CACHE_MAX_AGE_SECONDS = float("inf")  # a filing's header never changes


def submissions_url(cik: int) -> str:
    """The submissions address of a CIK (zero-padded to 10 digits) on SEC's API host."""
    return f"{sec.sec_base_url()}/submissions/CIK{int(cik):010d}.json"


def submissions_page_url(name: str) -> str:
    """The address of a paged history file named in ``filings.files``."""
    return f"{sec.sec_base_url()}/submissions/{name}"


def live_client(user_agent: str | None = None) -> SecClient:
    """A client for the real SEC: the User-Agent is checked first (``RefreshError`` saying how to
    set it, before any network), then a short probe of SEC's host (``RefreshError`` within seconds
    when offline), then a ``requests.Session``."""
    agent = sec.sec_user_agent(user_agent)
    probe_source(sec.sec_base_url(), source=SOURCE)
    return SecClient(requests.Session(), agent)


def _is_submissions(raw: Any) -> bool:
    return isinstance(raw, dict) and isinstance((raw.get("filings") or {}).get("recent"), dict)


def _is_page(raw: Any) -> bool:
    return isinstance(raw, dict) and isinstance(raw.get("accessionNumber"), list)


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
    main = fetch_sec_json(
        url,
        client,
        cache_path=client.folder / f"submissions-CIK{int(cik):010d}.json",
        max_age_seconds=SUBMISSIONS_CACHE_MAX_AGE_SECONDS,
        check=_is_submissions,
        what="a submissions list",
    )
    raw = SubmissionsRaw(url, main)
    for entry in _page_entries(main, pd.Timestamp(since) if since is not None else None):
        name = str(entry["name"])
        if "/" in name or "\\" in name or name.startswith("."):
            raw.missing_pages.append(f"{url}: filings.files names {name!r}, not a plain file name; not read")
            continue
        try:
            raw.pages[name] = fetch_sec_json(
                submissions_page_url(name),
                client,
                cache_path=client.folder / f"submissions-{name}",
                max_age_seconds=PAGE_CACHE_MAX_AGE_SECONDS,
                check=_is_page,
                what="a submissions page",
            )
        except RefreshError as exc:
            raw.missing_pages.append(
                f"{url}: paged history {name} ({entry.get('filingFrom', '?')} to {entry.get('filingTo', '?')}) not read: {exc}"
            )
    return raw


def fetch_index_headers_raw(cik: int, accession: str, client: SecClient) -> str:
    """The text of a filing's ``-index-headers.html`` page (cached for good once it parses).
    Raises ``RefreshError`` when the page holds no ``ACCEPTANCE-DATETIME`` (SEC serves its rate
    notice with status 200)."""
    path = client.folder / "headers" / f"{accession}-index-headers.html"
    cached = read_cached_text(path, HEADER_CACHE_MAX_AGE_SECONDS)
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
            raw.missing_pages.append(
                f"{path}: paged history {name} ({span}) named in filings.files is not beside it; those filings are not read"
            )
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
