"""Live refresh of the price and fundamentals snapshots: one at a time, all or nothing.

``refresh`` checks that ``data/`` matches its manifest, then runs query -> extract -> normalize ->
validate for each source, stages every new file under the cache folder, validates it with the
same validators as the embedded data, and only then puts the new files and their manifest entries
into ``data/`` together: a copy of the folder is changed and swapped in with one atomic rename.
Any failure, including SIGKILL at any point, leaves the previous snapshot and manifest as they
were, or the complete new ones.

- Prices (yfinance): one batched download for every covered symbol over the covered range; the
  refreshed tickers' rows replace the old ones whole (adjusted closes move with every dividend,
  so appending would mix two adjustment bases); tickers that came back empty keep their old rows
  and are reported.
  Non-US listings are downloaded with yfinance's price repair; the rows it repaired are reported.
- Fundamentals (SEC EDGAR company facts): the curated table's gaps are filled, disagreements and
  restatements are reported, nothing curated is overwritten. Commercial-paper lines are reported
  apart, never added to debt issued or repaid.

Offline, each source fails within seconds: a short DNS + TCP probe of the source's host runs
before any download, and the error names the source.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import filelock
import pandas as pd
import requests

from dashboard import config
from dashboard.errors import RefreshError, RefreshInProgress
from dashboard.loaders import sec, snapshot, yahoo
from dashboard.loaders.companyfacts import NONCURRENT_DEBT_TAGS, TOTAL_DEBT_TAGS, normalize_companyfacts
from dashboard.loaders.curated import load_companies, load_instruments, validate_fundamentals, validate_prices
from dashboard.loaders.fundamentals_merge import merge_fundamentals

ProgressCallback = Callable[[float, str], None]

PROBE_TIMEOUT_SECONDS = 3.0  # DNS lookup plus TCP connect, per source
DEFAULT_PRICE_START = "2022-01-01"  # first date for a ticker with no rows in the snapshot yet
SEC_REFRESH_NOTE = " ; gaps filled from SEC EDGAR companyfacts"


@dataclass
class RefreshResult:
    """What a refresh did. Frames are empty when the step did not run or found nothing."""

    written: dict[str, dict] = field(default_factory=dict)  # dataset -> manifest entry
    missing_tickers: list[str] = field(default_factory=list)
    dividend_moves: pd.DataFrame = field(default_factory=pd.DataFrame)
    repaired_tickers: list[str] = field(default_factory=list)  # downloaded with yfinance's price repair
    price_repairs: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows it repaired, with previous_close
    commercial_paper: pd.DataFrame = field(default_factory=pd.DataFrame)  # SEC lines kept apart from debt
    disagreements: pd.DataFrame = field(default_factory=pd.DataFrame)
    restatements: pd.DataFrame = field(default_factory=pd.DataFrame)
    filled_values: int = 0
    added_quarters: int = 0
    warnings: list[str] = field(default_factory=list)
    reports_dir: Path | None = None

    def lines(self) -> list[str]:
        """A short human summary, one fact per line."""
        out = [f"{name}: {entry['rows']} rows as of {entry['as_of']} written ({entry['file']})" for name, entry in self.written.items()]
        if "prices" in self.written:
            flagged = self.dividend_moves[self.dividend_moves["flagged"]] if not self.dividend_moves.empty else self.dividend_moves
            out.append(
                f"prices: {len(flagged)} ticker(s) with old closes moved by more than "
                f"{yahoo.DIVIDEND_MOVE_THRESHOLD:.0%} (more than dividends explain)"
                + (": " + ", ".join(f"{r.ticker} {r.max_relative_change:.1%}" for r in flagged.itertuples()) if len(flagged) else "")
            )
            if self.repaired_tickers:
                out.append(self._repairs_line())
        if "fundamentals" in self.written:
            out.append(
                f"fundamentals: {self.filled_values} empty value(s) filled and {self.added_quarters} quarter(s) added "
                f"from SEC; {len(self.disagreements)} disagreement(s) with curated figures kept as curated; "
                f"{len(self.restatements)} restated fact(s)"
            )
            if not self.commercial_paper.empty:
                paper = self.commercial_paper
                out.append(
                    f"fundamentals: {len(paper)} commercial-paper figure(s) kept apart from debt issued/repaid "
                    f"({', '.join(sorted(set(paper['tag'])))}) for {', '.join(sorted(set(paper['ticker'])))}"
                )
        out += [f"warning: {w}" for w in self.warnings]
        if self.reports_dir is not None:
            out.append(f"reports: {self.reports_dir}")
        return out

    def _repairs_line(self, most: int = 5) -> str:
        """What yfinance's price repair changed, naming up to ``most`` rows."""
        head = f"prices: downloaded with yfinance's price repair: {', '.join(self.repaired_tickers)}"
        if self.price_repairs.empty:
            return f"{head}; no row repaired"
        rows = [
            f"{r.ticker} {pd.Timestamp(r.date).date()} close {r.close:,.2f}"
            + (f" (was {r.previous_close:,.2f})" if pd.notna(r.previous_close) else "")
            for r in self.price_repairs.head(most).itertuples()
        ]
        more = f" and {len(self.price_repairs) - most} more" if len(self.price_repairs) > most else ""
        return f"{head}; {len(self.price_repairs)} row(s) repaired (100x unit errors, bad splits, zeros): {', '.join(rows)}{more}"

    def headline(self) -> str:
        """The outcome in one readable line (for the app): what was written, and how many
        warnings; no paths."""
        parts = [f"{name} {entry['rows']:,} rows as of {entry['as_of']}" for name, entry in self.written.items()]
        if "fundamentals" in self.written:
            parts.append(f"{self.filled_values} empty value(s) filled and {self.added_quarters} quarter(s) added from SEC")
        if self.missing_tickers:
            parts.append(f"no new prices for {', '.join(self.missing_tickers)} (previous rows kept)")
        if not self.price_repairs.empty:
            parts.append(f"{len(self.price_repairs)} price row(s) repaired by yfinance")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning(s)")
        return "Refresh finished: " + ("; ".join(parts) if parts else "nothing written") + "."


def _no_progress(fraction: float, message: str) -> None:
    """Default progress callback: ignore."""


def probe_source(url: str, *, source: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
    """Resolve ``url``'s host and open a TCP connection to it within ``timeout`` seconds.

    Raises ``RefreshError`` naming ``source`` when the name does not resolve, the connection is
    refused or the time runs out (a hanging resolver included: the probe runs in a daemon thread).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                outcome.append(None)
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=attempt, name=f"probe-{host}", daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    if not outcome:
        raise RefreshError(f"{source}: no answer from {host}:{port} within {timeout:.0f} s (offline?); previous snapshot kept")
    error = outcome[0]
    if error is None:
        return
    if isinstance(error, socket.gaierror):
        reason = f"cannot resolve {host}"
    elif isinstance(error, TimeoutError | socket.timeout):
        reason = f"no answer from {host}:{port} within {timeout:.0f} s"
    else:
        reason = f"cannot connect to {host}:{port} ({type(error).__name__})"
    raise RefreshError(f"{source}: {reason} (offline?); previous snapshot kept")


def non_us_symbols(companies: pd.DataFrame, instruments: pd.DataFrame) -> set[str]:
    """The Yahoo symbols of listings outside the US (an exchange calendar not in
    ``config.US_EXCHANGE_CALENDARS``): their prices are downloaded with yfinance's price repair."""
    listings = pd.concat([companies[["yahoo_symbol", "calendar"]], instruments[["yahoo_symbol", "calendar"]]])
    return set(listings.loc[~listings["calendar"].isin(config.US_EXCHANGE_CALENDARS), "yahoo_symbol"])


def _selected(tickers: Sequence[str] | None, known: Sequence[str]) -> list[str]:
    if tickers is None:
        return list(known)
    unknown = [t for t in tickers if t not in known]
    if unknown:
        raise RefreshError(f"refresh: unknown ticker(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return list(dict.fromkeys(tickers))


@dataclass
class _Staged:
    name: str
    path: Path
    rows: int
    as_of: str
    source: str


def _price_repairs(raw: pd.DataFrame, symbols: dict[str, str], new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    """The rows yfinance repaired that the refresh keeps, each with the snapshot's previous close."""
    repaired = yahoo.repaired_rows(raw, symbols).merge(new[["ticker", "date"]], on=["ticker", "date"])
    previous = old[["ticker", "date", "close"]].rename(columns={"close": "previous_close"})
    return repaired.merge(previous, on=["ticker", "date"], how="left")


def _stage_prices(
    data_dir: Path,
    staging: Path,
    selected: list[str],
    symbol_to_ticker: dict[str, str],
    repair_symbols: set[str],
    result: RefreshResult,
    progress: ProgressCallback,
    low: float,
    high: float,
) -> _Staged:
    target = data_dir / config.PRICES_FILE
    old = pd.read_parquet(target) if target.exists() else pd.DataFrame(columns=["ticker", "date", *config.PRICE_COLUMNS])
    if not old.empty:
        old = old.astype({"date": "datetime64[us]", "volume": float})
    symbols = {s: t for s, t in symbol_to_ticker.items() if t in selected}
    first = old.groupby("ticker")["date"].min() if not old.empty else pd.Series(dtype="datetime64[us]")
    starts = [first.get(t, pd.Timestamp(DEFAULT_PRICE_START)) for t in symbols.values()]
    start = min(starts)
    end = pd.Timestamp(dt.date.today())  # exclusive: only complete sessions before today
    progress(low, f"prices: downloading {len(symbols)} symbol(s) from Yahoo Finance, {start.date()} to {end.date()}")
    try:
        raw = yahoo.fetch_prices_raw(list(symbols), start, end, repair_symbols=repair_symbols, timeout=config.YFINANCE_TIMEOUT_SECONDS)
    except RefreshError:
        raise
    except Exception as exc:  # a transport error that escaped the extract step still names its source
        raise RefreshError(f"{yahoo.SOURCE}: download failed: {type(exc).__name__}: {exc}") from exc
    progress(low + (high - low) * 0.6, "prices: normalizing and checking")
    new, missing = yahoo.normalize_prices(raw, symbols)
    # Keep each ticker's covered range: a ticker starts where its snapshot started.
    covered_from = new["ticker"].map(first).fillna(start)
    new = new[new["date"] >= covered_from].reset_index(drop=True)
    missing = sorted(set(missing) | (set(symbols.values()) - set(new["ticker"])))
    if new.empty:
        raise RefreshError(f"{yahoo.SOURCE}: no usable price rows for {', '.join(symbols.values())}")
    if missing:
        result.missing_tickers = missing
        result.warnings.append(f"{yahoo.SOURCE}: no prices came back for {', '.join(missing)}; their previous rows are kept")
    result.dividend_moves = yahoo.dividend_moves(old, new)
    result.repaired_tickers = [t for s, t in symbols.items() if s in repair_symbols]
    result.price_repairs = _price_repairs(raw, symbols, new, old)
    kept = old[~old["ticker"].isin(set(new["ticker"]))]
    combined = pd.concat([kept, new], ignore_index=True) if not kept.empty else new
    combined = combined.astype({"ticker": "str", "date": "datetime64[us]", **{c: float for c in config.PRICE_COLUMNS}})
    combined = combined.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    path = staging / config.PRICES_FILE
    combined.to_parquet(path, index=False, compression="zstd")
    _, report = validate_prices(path, data_dir=data_dir)
    if not report.ok:
        raise RefreshError(f"{yahoo.SOURCE}: refreshed prices failed validation ({len(report.issues)} issue(s); first: {report.issues[0]})")
    today = dt.date.today().isoformat()
    source = (
        f"Yahoo Finance daily OHLCV via yfinance (research and internal use), split- and dividend-adjusted "
        f"as of the refresh on {today}; {combined['ticker'].nunique()} tickers"
        + (f"; not refreshed (no data came back): {', '.join(missing)}" if missing else "")
    )
    as_of = pd.Timestamp(combined["date"].max()).date().isoformat()
    progress(high, f"prices: {len(combined)} rows staged and valid")
    return _Staged("prices", path, len(combined), as_of, source)


def _stage_fundamentals(
    data_dir: Path,
    staging: Path,
    selected: list[str],
    companies: pd.DataFrame,
    client: sec.SecClient,
    result: RefreshResult,
    progress: ProgressCallback,
    low: float,
    high: float,
) -> _Staged:
    target = data_dir / config.FUNDAMENTALS_FILE
    curated, report = validate_fundamentals(target, data_dir=data_dir)
    if not report.ok:
        raise RefreshError(f"refresh: {target} has {len(report.issues)} invalid row issue(s); run `python -m dashboard validate` first")
    chosen = companies[companies["ticker"].isin(selected) & companies["sec_cik"].notna()]
    skipped = [t for t in selected if t in set(companies["ticker"]) and t not in set(chosen["ticker"])]
    if skipped:
        result.warnings.append(f"{sec.SOURCE}: no SEC filer for {', '.join(skipped)}; their fundamentals are unchanged")
    if chosen.empty:
        raise RefreshError(f"{sec.SOURCE}: none of the selected tickers files with the SEC")
    quarters, provenance, restatements, paper, failures = [], [], [], [], []
    for i, company in enumerate(chosen.itertuples(index=False)):
        step = low + (high - low) * 0.9 * i / len(chosen)
        progress(step, f"fundamentals: {company.ticker} company facts from SEC EDGAR (CIK {int(company.sec_cik)})")
        try:
            raw = sec.fetch_companyfacts_raw(int(company.sec_cik), client)
        except RefreshError as exc:
            failures.append(str(exc))
            continue
        except (OSError, requests.RequestException) as exc:
            failures.append(f"{sec.SOURCE}: {company.ticker}: {type(exc).__name__}: {exc}")
            continue
        basis = str(company.total_debt_basis or "")
        normalized = normalize_companyfacts(
            raw,
            fiscal_year_end_month=int(company.fiscal_year_end_month),
            ticker=company.ticker,
            fiscal_calendar=company.fiscal_calendar,
            total_debt_tags=NONCURRENT_DEBT_TAGS if basis.startswith("non-current") else TOTAL_DEBT_TAGS,
        )
        quarters.append(normalized.quarters)
        provenance.append(normalized.provenance)
        restatements.append(normalized.restatements.assign(ticker=company.ticker))
        paper.append(normalized.commercial_paper)
    if not quarters:
        raise RefreshError(failures[0] if failures else f"{sec.SOURCE}: no company facts came back")
    if failures:
        result.warnings += failures
    fetched = pd.concat(quarters, ignore_index=True)
    prov = pd.concat(provenance, ignore_index=True)
    merged, disagreements = merge_fundamentals(curated, fetched, provenance=prov)
    result.disagreements = disagreements
    result.restatements = pd.concat(restatements, ignore_index=True)
    result.commercial_paper = pd.concat(paper, ignore_index=True)
    matched = curated.set_index(["ticker", "fiscal_year", "fiscal_quarter"])
    after = merged.set_index(["ticker", "fiscal_year", "fiscal_quarter"])
    result.added_quarters = len(after) - len(matched)
    common = after.loc[matched.index, list(config.FUNDAMENTAL_VALUE_COLUMNS)]
    result.filled_values = int((matched[list(config.FUNDAMENTAL_VALUE_COLUMNS)].isna() & common.notna()).to_numpy().sum())
    path = staging / config.FUNDAMENTALS_FILE
    merged.to_csv(path, index=False, lineterminator="\n", date_format="%Y-%m-%d")
    _, staged_report = validate_fundamentals(path, data_dir=data_dir)
    if not staged_report.ok:
        raise RefreshError(
            f"{sec.SOURCE}: merged fundamentals failed validation ({len(staged_report.issues)} issue(s); first: {staged_report.issues[0]})"
        )
    manifest_source = _previous_source(data_dir, "fundamentals").split(SEC_REFRESH_NOTE)[0]
    source = f"{manifest_source}{SEC_REFRESH_NOTE} on {dt.date.today().isoformat()} (source per row names tag and accession)"
    as_of = pd.Timestamp(merged["period_end"].max()).date().isoformat()
    progress(high, f"fundamentals: {len(merged)} rows staged and valid")
    return _Staged("fundamentals", path, len(merged), as_of, source)


def _previous_source(data_dir: Path, name: str) -> str:
    try:
        manifest = json.loads((data_dir / config.MANIFEST_FILE).read_text(encoding="utf-8"))
        return str(manifest["datasets"][name]["source"])
    except (OSError, ValueError, KeyError):
        return "curated"


def _commit(data_dir: Path, staged: list[_Staged], progress: ProgressCallback) -> dict[str, dict]:
    """Put the staged files and their manifest entries into ``data_dir`` together, in one atomic
    step (``snapshot.staged_snapshot``: a copy of the folder beside it, changed, then swapped in
    with one rename). Killed at any point, even with SIGKILL, ``data_dir`` is either the previous
    snapshot or the new one, whole."""
    progress(0.97, "writing " + ", ".join(item.path.name for item in staged) + " and the manifest")
    written: dict[str, dict] = {}
    with snapshot.staged_snapshot(data_dir) as folder:
        for item in staged:
            target = folder / item.path.name
            shutil.copyfile(item.path, target)
            written[item.name] = snapshot.dataset_entry(target, rows=item.rows, as_of=item.as_of, source=item.source)
        snapshot.write_manifest_into(folder, written)
    return written


def _write_reports(result: RefreshResult) -> Path | None:
    """Disagreements, restatements, commercial paper, dividend moves and price repairs as CSV under
    the cache folder (never data/)."""
    frames = {
        "fundamentals_disagreements.csv": result.disagreements,
        "fundamentals_restatements.csv": result.restatements,
        "price_dividend_moves.csv": result.dividend_moves,
        "price_repairs.csv": result.price_repairs,
        "fundamentals_commercial_paper.csv": result.commercial_paper,
    }
    if all(f.empty for f in frames.values()):
        return None
    folder = config.CACHE_DIR / "refresh-reports"
    for name, frame in frames.items():
        if not frame.empty:
            snapshot.atomic_write_csv(folder / name, frame)
    return folder


def refresh(
    *,
    prices: bool = True,
    fundamentals: bool = True,
    tickers: Sequence[str] | None = None,
    data_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    session: requests.Session | None = None,
    user_agent: str | None = None,
) -> RefreshResult:
    """Refresh the price and/or fundamentals snapshots in ``data_dir`` (default ``config.DATA_DIR``).

    ``tickers`` limits the refresh to those project tickers (default: every company, benchmark and
    reference series; fundamentals only for SEC filers). ``progress(fraction 0..1, message)`` is
    called as work advances. ``session`` and ``user_agent`` are for SEC (defaults: a new
    ``requests.Session`` and ``SEC_USER_AGENT`` from the environment or ``.streamlit/secrets.toml``);
    SEC answers 429 or 5xx are retried, honouring ``Retry-After`` (``sec.fetch_sec_response``).
    Non-US listings' prices come with yfinance's price repair (``non_us_symbols``).

    One refresh at a time: a lock file ``config.CACHE_DIR / refresh.lock`` is taken without
    waiting, else ``RefreshInProgress``. Every requested dataset is fetched, normalized, staged and
    validated before any file in ``data_dir`` changes; then each file is swapped in atomically and
    its manifest entry (as_of, rows, sha256, source) updated. Raises ``RefreshError`` naming the
    source on any failure, with ``data_dir`` unchanged.
    """
    if not prices and not fundamentals:
        raise RefreshError("refresh: nothing to refresh (neither prices nor fundamentals requested)")
    progress = progress or _no_progress
    data_dir = Path(data_dir) if data_dir is not None else config.DATA_DIR
    config.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    lock_path = config.CACHE_DIR / config.REFRESH_LOCK_FILE
    lock = filelock.FileLock(lock_path)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout as exc:
        raise RefreshInProgress(f"refresh: another refresh is running (lock {lock_path}); try again when it ends") from exc
    try:
        return _refresh_locked(
            prices=prices,
            fundamentals=fundamentals,
            tickers=tickers,
            data_dir=data_dir,
            progress=progress,
            session=session,
            user_agent=user_agent,
        )
    finally:
        lock.release()


def _refresh_locked(
    *,
    prices: bool,
    fundamentals: bool,
    tickers: Sequence[str] | None,
    data_dir: Path,
    progress: ProgressCallback,
    session: requests.Session | None,
    user_agent: str | None,
) -> RefreshResult:
    result = RefreshResult()
    progress(0.0, "refresh: reading the current snapshot")
    snapshot.remove_stale_staging(data_dir.resolve())
    companies = load_companies(data_dir)
    instruments = load_instruments(data_dir)
    known = companies["ticker"].tolist() + instruments["ticker"].tolist()
    selected = _selected(tickers, known)
    # A refresh keeps the rows it does not replace, so it must start from an intact snapshot.
    snapshot.require_intact(data_dir)
    agent = sec.sec_user_agent(user_agent) if fundamentals else ""  # fail before any network
    if prices:
        progress(0.02, "prices: checking that Yahoo Finance is reachable")
        probe_source(yahoo.yahoo_base_url(), source=yahoo.SOURCE)
    if fundamentals:
        progress(0.04, "fundamentals: checking that SEC EDGAR is reachable")
        probe_source(sec.sec_base_url(), source=sec.SOURCE)
    symbol_to_ticker = dict(zip(companies["yahoo_symbol"], companies["ticker"])) | dict(
        zip(instruments["yahoo_symbol"], instruments["ticker"])
    )
    repair_symbols = non_us_symbols(companies, instruments)
    config.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="refresh-staging-", dir=config.CACHE_DIR) as folder:
        staging = Path(folder)
        staged: list[_Staged] = []
        split = 0.5 if prices and fundamentals else 0.95
        if prices:
            staged.append(_stage_prices(data_dir, staging, selected, symbol_to_ticker, repair_symbols, result, progress, 0.05, split))
        if fundamentals:
            staged.append(
                _stage_fundamentals(
                    data_dir,
                    staging,
                    selected,
                    companies,
                    sec.SecClient(session or requests.Session(), agent),
                    result,
                    progress,
                    split if prices else 0.05,
                    0.95,
                )
            )
        result.written = _commit(data_dir, staged, progress)
    result.reports_dir = _write_reports(result)
    progress(1.0, "refresh: done")
    return result
