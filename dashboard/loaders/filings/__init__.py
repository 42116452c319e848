"""SEC EDGAR submissions: each covered company's filings, their SGML headers, and the saved dataset.

One package, three jobs (the public names are importable from here, as callers use them):

- ``fetch``: the query (``submissions_url``, ``submissions_page_url``) and the extract, the only
  I/O, through ``sec.fetch_sec_response`` (User-Agent, 10 requests/s shared with company facts,
  retries after 429/5xx honouring ``Retry-After``): ``live_client``, ``fetch_submissions_raw``,
  ``fetch_index_headers_raw``, and ``read_submissions_file`` for saved files, offline.
- ``normalize`` (pure): ``normalize_submissions`` (one row per filing, every bad field reported as
  ``file:index: field: reason``), ``parse_sgml_header`` (``ACCEPTANCE-DATETIME``, US/Eastern),
  and the filing addresses ``index_headers_url`` and ``document_url``.
- ``dataset``: ``save_filings`` / ``load_filings`` / ``validate_filings`` for ``data/filings.csv``
  and its manifest entry, ``filers``, and the cache of each filer's learned JSON time convention
  (``load_time_conventions``, ``save_time_conventions``).

SEC EDGAR data is public domain (a U.S. government work).
"""

from __future__ import annotations

from dashboard.loaders.filings.dataset import (
    CONVENTIONS_FILE,
    FILINGS_COLUMNS,
    HOW_TO_FETCH,
    ITEM_SEPARATOR,
    filers,
    filings_file_frame,
    filings_manifest,
    load_filings,
    load_time_conventions,
    save_filings,
    save_time_conventions,
    validate_filings,
)
from dashboard.loaders.filings.fetch import (
    fetch_index_headers_raw,
    fetch_submissions_raw,
    live_client,
    read_submissions_file,
    submissions_page_url,
    submissions_url,
)
from dashboard.loaders.filings.normalize import (
    RECORD_COLUMNS,
    NormalizedSubmissions,
    SgmlHeader,
    SubmissionsRaw,
    document_url,
    index_headers_url,
    normalize_submissions,
    parse_sgml_header,
)

__all__ = [
    "CONVENTIONS_FILE", "FILINGS_COLUMNS", "HOW_TO_FETCH", "ITEM_SEPARATOR", "RECORD_COLUMNS", "NormalizedSubmissions",
    "SgmlHeader", "SubmissionsRaw", "document_url", "fetch_index_headers_raw", "fetch_submissions_raw", "filers",
    "filings_file_frame", "filings_manifest", "index_headers_url", "live_client", "load_filings", "load_time_conventions",
    "normalize_submissions", "parse_sgml_header", "read_submissions_file", "save_filings", "save_time_conventions",
    "submissions_page_url", "submissions_url", "validate_filings",
]  # fmt: skip
