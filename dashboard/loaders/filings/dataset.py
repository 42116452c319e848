"""The saved SEC filings dataset (``data/filings.csv``) and the cache of filers' time conventions.

``save_filings`` writes ``data/filings.csv`` (rows of the same accession replaced, the others
kept) and its manifest entry ``data/filings.manifest.json`` in one atomic swap of the data folder
(``manifest.json`` itself lists only ``config.DATASET_FILES``: the snapshot check refuses other
entries); ``load_filings`` reads it back, typed, or raises ``DataUnavailable`` saying how to
fetch. Each filer's learned JSON time convention is cached in
``.cache/sec/submissions-time-conventions.json`` (``load_time_conventions``,
``save_time_conventions``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import filelock
import numpy as np
import pandas as pd

from dashboard import config
from dashboard.errors import DataUnavailable, RefreshInProgress
from dashboard.loaders import snapshot
from dashboard.loaders.filings.normalize import ACCESSION_RE, FILING_FIELDS
from dashboard.loaders.validation import RowIssue, ValidationReport, read_text, read_text_table, warn_rejected

CONVENTIONS_FILE = "submissions-time-conventions.json"
HOW_TO_FETCH = (
    "No SEC filings have been fetched yet. Run `python -m dashboard filings --out candidates.csv` "
    f"with network access and {config.SEC_USER_AGENT_ENV} set (a contact e-mail address, as SEC requires); "
    "it saves data/filings.csv and its manifest entry."
)
# The saved dataset (data/filings.csv): in-scope filings with their resolved Eastern time.
FILINGS_COLUMNS: tuple[str, ...] = (
    *FILING_FIELDS,
    "accepted_et",
    "time_source",
    "time_basis",
    "primary_document",
    "document_url",
)
ITEM_SEPARATOR = ";"  # items are tuples inside the package, joined only in the CSV file


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
    flag(
        frame["accession"].notna() & ~frame["accession"].fillna("").str.fullmatch(ACCESSION_RE.pattern[1:-1]),
        "accession",
        "is not an accession number",
    )
    filing_date = pd.to_datetime(frame["filing_date"], format="%Y-%m-%d", errors="coerce")
    flag(filing_date.isna(), "filing_date", "is not a date (YYYY-MM-DD)")
    with_offset = frame["accepted_et"].fillna("").str.contains(r"T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{2}:\d{2}$", regex=True)
    accepted = pd.to_datetime(frame["accepted_et"].where(with_offset), utc=True, errors="coerce", format="ISO8601")
    flag(accepted.isna(), "accepted_et", "is not an ISO time with its offset")
    flag(
        frame["time_source"].notna() & ~frame["time_source"].isin(config.FILING_TIME_SOURCES),
        "time_source",
        f"is not one of {', '.join(config.FILING_TIME_SOURCES)}",
    )
    flag(
        frame["document_url"].notna() & ~frame["document_url"].fillna("").map(_is_url).astype(bool), "document_url", "is not an http(s) URL"
    )
    flag(frame.duplicated(["ticker", "accession"], keep="first"), "accession", "duplicates an earlier row of the same ticker")
    issues = [RowIssue(name, lines[position], column, reason) for position in sorted(problems) for column, reason in problems[position]]
    good = np.array([p not in problems for p in range(len(frame))], dtype=bool)
    typed = _typed(frame.assign(filing_date=filing_date, accepted_et=accepted)[good])
    return typed.reset_index(drop=True), ValidationReport("filings", name, len(frame), int(good.sum()), issues)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reindex(columns=list(FILINGS_COLUMNS)).copy()
    out["cik"] = pd.to_numeric(out["cik"], errors="coerce").astype("Int64")
    out["items"] = pd.Series(
        [tuple(p for p in str(v).split(ITEM_SEPARATOR) if p) if isinstance(v, str) else () for v in out["items"]],
        index=out.index,
        dtype=object,
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
