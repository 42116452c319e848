"""Daily prices from Yahoo Finance through yfinance: extract (the only network calls), normalize, compare.

Query -> extract -> normalize, as every live source here:
- ``fetch_prices_raw`` is the only function that touches the network: a batched
  ``yfinance.download`` for every symbol, split- and dividend-adjusted (``auto_adjust=True``),
  with an explicit timeout. Symbols listed outside the US (``repair_symbols``: SoftBank on Tokyo,
  the Nikkei 225) come in a second batch with yfinance's price repair (``repair=True``), which
  fixes Yahoo's known 100x currency-unit mix-ups, bad split adjustments and zero prices in non-US
  data and marks each row it changed in a ``Repaired?`` column. yfinance returns an *empty* frame
  instead of raising when it is offline or every symbol is bad, so an empty frame is a failure here.
- ``normalize_prices`` is pure: yfinance's two-level columns ``(Price, Ticker)`` become the
  project's long table ``ticker,date,open,high,low,close,volume``; ``repaired_rows`` lists the
  rows yfinance repaired, for the refresh to report.
- ``dividend_moves`` compares two snapshots: adjusted closes shift with every dividend, which is
  why a refresh replaces the snapshot whole rather than appending to it.

Yahoo Finance data obtained through yfinance is for research and internal use (Yahoo's terms).
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import yfinance as yf

from dashboard import config
from dashboard.errors import RefreshError

SOURCE = "yfinance (Yahoo Finance)"
# yfinance hard-codes its hosts; this URL is only what the reachability probe checks, and tests
# point it at a closed local port so that nothing outside the machine is ever contacted.
YAHOO_BASE_URL_ENV = "DASHBOARD_YAHOO_BASE_URL"
YAHOO_BASE_URL = "https://query2.finance.yahoo.com"

RATE_LIMIT_RETRIES = 2  # attempts after the first one
RATE_LIMIT_BACKOFF_SECONDS = 5.0  # doubled after each rate-limited attempt: 5 s, 10 s
# Largest relative move of an overlapping adjusted close that a dividend explains (see dividend_moves).
DIVIDEND_MOVE_THRESHOLD = 0.02

_sleep = time.sleep  # module-level so that tests can make the backoff instant
# yfinance 1.7 adds this Price column, one bool per row, to each symbol downloaded with repair=True
# (yfinance/scrapers/history.py: ``df["Repaired?"] = False`` before its fixes, True on the rows
# they change); auto_adjust and the batch assembly keep it.
REPAIRED_COLUMN = "Repaired?"
_PRICE_FIELDS = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Volume": "volume"}
_RATE_LIMIT_MARKERS = ("rate limit", "too many requests", "yfratelimiterror", "429")


def yahoo_base_url() -> str:
    """The Yahoo Finance address the reachability probe checks (environment may override)."""
    return os.environ.get(YAHOO_BASE_URL_ENV, YAHOO_BASE_URL)


def yfinance_cache_dir() -> Path:
    """Where yfinance keeps its timezone/cookie caches: ``config.CACHE_DIR / "yfinance"``."""
    return config.CACHE_DIR / "yfinance"


def place_yfinance_cache() -> None:
    """Point yfinance's caches (timezones, cookies, ISINs) at the project's cache folder.

    In yfinance 1.7 the public ``yf.set_tz_cache_location`` moves every one of those caches (it
    calls ``yfinance.cache.set_cache_location``); it must run before the process's first download.
    """
    folder = yfinance_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    yf.set_tz_cache_location(str(folder))


class _ErrorCollector(logging.Handler):
    """Collects the per-symbol errors yfinance logs (it swallows them and returns empty columns)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a malformed log record must never break a download
            pass


def _is_rate_limited(messages: Sequence[str]) -> bool:
    return any(marker in message.lower() for message in messages for marker in _RATE_LIMIT_MARKERS)


def _has_rows(frame: pd.DataFrame | None) -> bool:
    if frame is None or frame.empty:
        return False
    return bool(frame.notna().to_numpy().any())


def _first_reason(messages: Sequence[str]) -> str:
    reasons = [m.strip() for m in messages if m.strip() and "failed download" not in m.lower()]
    if not reasons:
        return "no error reported"
    reason = reasons[-1].splitlines()[0]
    return reason if len(reason) <= 240 else reason[:237] + "..."


def _download(symbols: list[str], start: str | pd.Timestamp, end: str | pd.Timestamp, timeout: float, repair: bool) -> pd.DataFrame | None:
    """One network call: a batched, adjusted daily download (with yfinance's price repair when
    ``repair``; the repair makes requests of its own)."""
    with warnings.catch_warnings():
        # yfinance 1.7 still passes inplace= to pandas 3.1, which warns on every call.
        warnings.filterwarnings("ignore", message=".*inplace keyword.*")
        return yf.download(
            symbols,
            start=pd.Timestamp(start).strftime("%Y-%m-%d"),
            end=pd.Timestamp(end).strftime("%Y-%m-%d"),
            group_by="column",
            auto_adjust=True,
            repair=repair,
            actions=False,
            threads=min(len(symbols), 4),
            timeout=timeout,
            progress=False,
            multi_level_index=True,
        )


class _Batch(NamedTuple):
    """One batch's outcome: its frame (None when rate-limited before any came), whether Yahoo
    was still rate-limiting it after the last attempt, the errors yfinance logged, the attempts."""

    frame: pd.DataFrame | None
    rate_limited: bool
    messages: list[str]
    attempts: int


def _fetch_batch(
    symbols: list[str],
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    timeout: float,
    repair: bool,
    retries: int,
    wait: float,
    sleep: Callable[[float], None],
) -> _Batch:
    """Download one batch, again after a rate limit (at most ``retries`` more times, waiting
    ``wait`` seconds and then twice as long each time)."""
    logger = logging.getLogger("yfinance")
    for attempt in range(retries + 1):
        collector = _ErrorCollector()
        logger.addHandler(collector)
        try:
            frame = _download(symbols, start, end, timeout, repair)
            rate_limited = _is_rate_limited(collector.messages)
        except yf.exceptions.YFRateLimitError:
            frame, rate_limited = None, True
        except Exception as exc:  # yfinance wraps transport errors in many types
            raise RefreshError(f"{SOURCE}: download failed: {type(exc).__name__}: {exc}") from exc
        finally:
            logger.removeHandler(collector)
        if rate_limited and attempt < retries:
            sleep(wait)
            wait *= 2
            continue
        return _Batch(frame, rate_limited, collector.messages, attempt + 1)
    raise AssertionError("unreachable")  # pragma: no cover


def fetch_prices_raw(
    symbols: Sequence[str],
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    repair_symbols: Collection[str] = (),
    timeout: float = config.YFINANCE_TIMEOUT_SECONDS,
    retries: int = RATE_LIMIT_RETRIES,
    backoff_seconds: float | None = None,
    sleep: Callable[[float], None] | None = None,
) -> pd.DataFrame:
    """Download daily adjusted OHLCV for ``symbols`` (Yahoo symbols, e.g. ``^N225``).

    ``start`` is inclusive and ``end`` exclusive (yfinance's convention); ``timeout`` is in seconds
    per request. Symbols in ``repair_symbols`` (the non-US listings) are downloaded in their own
    batch with ``repair=True``; the others in one batch without. Returns yfinance's frame (both
    batches side by side): DatetimeIndex ``Date`` and two-level columns ``(Price, Ticker)`` with
    Price in ``Close, High, Low, Open, Volume``, plus ``Repaired?`` (bool per row; missing where
    the symbol has no session) for the repaired batch; prices are split- and dividend-adjusted
    (``auto_adjust=True``) in each symbol's own currency.

    Raises ``RefreshError`` naming yfinance when no batch brings a row (offline, or every symbol
    bad: yfinance returns an empty frame rather than raising) and when Yahoo rate-limits a batch
    (HTTP 429) on every one of ``1 + retries`` attempts, waiting ``backoff_seconds`` (default
    ``RATE_LIMIT_BACKOFF_SECONDS``) and then twice as long again between attempts. A frame with
    some symbols empty is returned: partial coverage is for the caller (``normalize_prices``) to
    report.
    """
    symbols = list(dict.fromkeys(symbols))
    if not symbols:
        raise RefreshError(f"{SOURCE}: no symbols to download")
    place_yfinance_cache()
    repaired = [s for s in symbols if s in set(repair_symbols)]
    batches = [(batch, repair) for batch, repair in (([s for s in symbols if s not in repaired], False), (repaired, True)) if batch]
    wait = RATE_LIMIT_BACKOFF_SECONDS if backoff_seconds is None else backoff_seconds
    frames: list[pd.DataFrame] = []
    messages: list[str] = []
    for batch, repair in batches:
        outcome = _fetch_batch(batch, start, end, timeout=timeout, repair=repair, retries=retries, wait=wait, sleep=sleep or _sleep)
        if outcome.rate_limited and not _has_rows(outcome.frame):
            raise RefreshError(
                f"{SOURCE}: rate-limited by Yahoo Finance (HTTP 429 Too Many Requests) after "
                f"{outcome.attempts} attempt(s); wait a few minutes and run the refresh again"
            )
        messages += outcome.messages
        if _has_rows(outcome.frame):
            frames.append(outcome.frame)  # rate-limited for some symbols only: partial coverage
    if not frames:
        raise RefreshError(
            f"{SOURCE}: empty price frame for {len(symbols)} symbol(s) (offline, or every symbol unknown): {_first_reason(messages)}"
        )
    if len(frames) == 1:
        return frames[0]
    # Side by side, as one yfinance batch would have assembled them: the union of the sessions,
    # columns sorted by Price then Ticker.
    return pd.concat(frames, axis=1, sort=True).sort_index(axis=1, level=0, sort_remaining=True)


class NormalizedPrices(NamedTuple):
    """The long price table and the tickers that came back without a single close."""

    prices: pd.DataFrame
    missing: list[str]


def _price_ticker_columns(raw: pd.DataFrame) -> pd.DataFrame:
    """yfinance's frame with columns ordered (Price, Ticker), whichever ``group_by`` made it."""
    columns = raw.columns
    if not isinstance(columns, pd.MultiIndex) or columns.nlevels != 2:
        raise RefreshError(f"{SOURCE}: expected two-level (Price, Ticker) columns, got {list(columns)[:6]}")
    names = list(columns.names)
    if names == ["Ticker", "Price"]:
        return raw.swaplevel(0, 1, axis=1)
    if names == ["Price", "Ticker"]:
        return raw
    # Unnamed levels: the level holding "Close" is the Price level.
    if "Close" in columns.get_level_values(1):
        raw = raw.swaplevel(0, 1, axis=1)
    if "Close" not in raw.columns.get_level_values(0):
        raise RefreshError(f"{SOURCE}: no Close column in the downloaded frame")
    return raw.rename_axis(["Price", "Ticker"], axis=1)


def normalize_prices(raw: pd.DataFrame, symbol_to_ticker: Mapping[str, str]) -> NormalizedPrices:
    """yfinance's download frame -> long ``ticker,date,open,high,low,close,volume`` (pure).

    ``symbol_to_ticker`` maps Yahoo symbols to project tickers (``^N225`` -> ``N225``); symbols
    not in it are ignored. Prices keep their units (adjusted, local currency); volume is shares
    as float. A date on which a symbol has no close (another exchange's session in the union
    index, or a gap) is dropped for that symbol; dates become tz-naive midnight. ``missing``
    lists, in the mapping's order, tickers with no close at all: partial coverage keeps what came.
    Accepts ``group_by="column"`` (Price, Ticker) and ``group_by="ticker"`` (Ticker, Price).
    An empty frame gives an empty table and every ticker missing. Does not modify ``raw``.
    """
    columns = ["ticker", "date", *config.PRICE_COLUMNS]
    frames: list[pd.DataFrame] = []
    missing: list[str] = []
    ordered = _price_ticker_columns(raw) if not raw.columns.empty else raw
    available = set(ordered.columns.get_level_values("Ticker")) if not raw.columns.empty else set()
    index = pd.DatetimeIndex(ordered.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    dates = index.normalize().astype("datetime64[us]")
    for symbol, ticker in symbol_to_ticker.items():
        if symbol not in available:
            missing.append(ticker)
            continue
        block = ordered.xs(symbol, axis=1, level="Ticker")
        block = pd.DataFrame(
            {
                target: pd.to_numeric(block[source], errors="coerce").to_numpy(dtype=float) if source in block.columns else float("nan")
                for source, target in _PRICE_FIELDS.items()
            },
            index=range(len(block)),
        )
        block.insert(0, "date", dates)
        block.insert(0, "ticker", ticker)
        block = block[block["close"].notna()]
        if block.empty:
            missing.append(ticker)
            continue
        frames.append(block)
    if frames:
        prices = pd.concat(frames, ignore_index=True)
    else:
        prices = pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
        prices["ticker"] = prices["ticker"].astype("str")
        prices["date"] = prices["date"].astype("datetime64[us]")
    prices["ticker"] = prices["ticker"].astype("str")
    prices = prices[columns].sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    return NormalizedPrices(prices, missing)


def repaired_rows(raw: pd.DataFrame, symbol_to_ticker: Mapping[str, str]) -> pd.DataFrame:
    """The rows yfinance's price repair changed (``Repaired?`` true), as the long table
    ``ticker,date,open,high,low,close,volume`` holding the repaired values (pure).

    Symbols not in ``symbol_to_ticker``, symbols downloaded without repair (no ``Repaired?``
    column) and rows without a close are left out; dates become tz-naive midnight. Sorted by
    ticker and date; empty when nothing was repaired. Does not modify ``raw``.
    """
    columns = ["ticker", "date", *config.PRICE_COLUMNS]
    ordered = _price_ticker_columns(raw) if not raw.columns.empty else raw
    if REPAIRED_COLUMN not in set(ordered.columns.get_level_values(0)):
        return normalize_prices(raw.iloc[:0, :0], {}).prices[columns]
    flags = ordered[REPAIRED_COLUMN]
    mapping = {symbol: ticker for symbol, ticker in symbol_to_ticker.items() if symbol in flags.columns}
    index = pd.DatetimeIndex(ordered.index)
    dates = (index.tz_localize(None) if index.tz is not None else index).normalize().astype("datetime64[us]")
    marked = pd.DataFrame(
        [(ticker, date) for symbol, ticker in mapping.items() for date in dates[flags[symbol].eq(True).to_numpy()]],
        columns=["ticker", "date"],
    ).astype({"ticker": "str", "date": "datetime64[us]"})
    prices = normalize_prices(raw, mapping).prices
    return prices.merge(marked, on=["ticker", "date"])[columns].sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)


def dividend_moves(old: pd.DataFrame, new: pd.DataFrame, *, threshold: float = DIVIDEND_MOVE_THRESHOLD) -> pd.DataFrame:
    """Per ticker, the largest relative change of an overlapping adjusted close between snapshots.

    Dividend adjustment multiplies every close before an ex-date by ``1 - D / P`` (dividend over
    the prior close), so after a refresh the whole overlapping history of a dividend payer drifts
    down uniformly by a fraction of a percent per dividend. For the covered names a quarterly
    dividend is at most about 1% of the price, so a few months between refreshes move old closes
    by well under ``threshold`` (2%). A larger move means something other than a dividend: a split
    not yet applied, a vendor revision, or a wrong symbol, and deserves a look.

    Returns one row per ticker present in both frames with ``overlap_days`` (dates with a close in
    both), ``max_relative_change`` = max over those dates of ``|new / old - 1|`` (decimal),
    ``date_of_max``, ``median_relative_change`` and ``flagged`` (``max_relative_change >
    threshold``), sorted by descending change. Tickers without overlap are left out; empty input
    gives an empty frame. Neither input is modified.
    """
    keys = ["ticker", "date"]
    joined = old[keys + ["close"]].merge(new[keys + ["close"]], on=keys, suffixes=("_old", "_new"))
    joined = joined[joined["close_old"].notna() & joined["close_new"].notna() & (joined["close_old"] != 0)]
    out_columns = ["ticker", "overlap_days", "max_relative_change", "date_of_max", "median_relative_change", "flagged"]
    if joined.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in out_columns})
    change = (joined["close_new"] / joined["close_old"] - 1.0).abs()
    joined = joined.assign(change=change)
    worst = joined.loc[joined.groupby("ticker")["change"].idxmax()]
    summary = pd.DataFrame(
        {
            "ticker": worst["ticker"].to_numpy(),
            "overlap_days": joined.groupby("ticker").size().reindex(worst["ticker"]).to_numpy(),
            "max_relative_change": worst["change"].to_numpy(),
            "date_of_max": worst["date"].to_numpy(),
            "median_relative_change": joined.groupby("ticker")["change"].median().reindex(worst["ticker"]).to_numpy(),
        }
    )
    summary["flagged"] = summary["max_relative_change"] > threshold
    return summary.sort_values("max_relative_change", ascending=False, kind="stable").reset_index(drop=True)
