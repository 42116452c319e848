"""Prices from yfinance: the raw shape, the normalizer, dividend moves and the extract step.

No network: yfinance's per-symbol fetch (``Ticker``) or ``yfinance.download`` itself is replaced.
All prices here are synthetic, chosen so that every expected value can be checked by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yfinance
import yfinance.multi

from dashboard import config
from dashboard.errors import RefreshError
from dashboard.loaders import yahoo
from dashboard.loaders.yahoo import dividend_moves, fetch_prices_raw, normalize_prices
from tests.fixtures.refresh.yahoo_frames import symbol_history, yfinance_download_frame

DATES = ["2026-01-05", "2026-01-06", "2026-01-07"]
# MSFT trades every day, ^N225 has no session on the 6th (a Tokyo holiday), BAD failed entirely.
CLOSES = {"MSFT": [100.0, 101.0, 102.0], "^N225": [50000.0, None, 50100.0], "BAD": None}
SYMBOLS = {"MSFT": "MSFT", "^N225": "N225", "BAD": "BADT"}


class _FakeTicker:
    """Stands in for ``yfinance.Ticker`` inside the real ``yfinance.download``: no request is made."""

    behaviour: dict[str, object] = {}

    def __init__(self, symbol: str, *args: object, **kwargs: object) -> None:
        self.symbol = symbol
        self._price_history = None

    def history(self, **kwargs: object) -> pd.DataFrame:
        outcome = self.behaviour[self.symbol]
        if isinstance(outcome, BaseException):
            raise outcome
        frame = symbol_history(outcome, DATES)  # type: ignore[arg-type]
        frame.index = frame.index.tz_localize("America/New_York")  # Ticker.history is tz-aware
        return frame


@pytest.fixture
def fake_tickers(monkeypatch: pytest.MonkeyPatch, tmp_path) -> type[_FakeTicker]:
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(yfinance.multi, "Ticker", _FakeTicker)
    _FakeTicker.behaviour = {}
    return _FakeTicker


def _missing_prices() -> yfinance.exceptions.YFPricesMissingError:
    return yfinance.exceptions.YFPricesMissingError("BAD", "")


# --- the raw shape ----------------------------------------------------------------------------


def test_builder_matches_real_yfinance_download(fake_tickers):
    fake_tickers.behaviour = {"MSFT": CLOSES["MSFT"], "^N225": CLOSES["^N225"], "BAD": _missing_prices()}
    real = yfinance.download(
        list(CLOSES),
        start="2026-01-01",
        end="2026-01-08",
        group_by="column",
        auto_adjust=True,
        threads=False,
        progress=False,
    )
    built = yfinance_download_frame(CLOSES, DATES)
    pd.testing.assert_frame_equal(real, built)
    assert list(real.columns.names) == ["Price", "Ticker"]
    assert real.index.name == "Date" and real.index.tz is None
    # A failed symbol keeps an Adj Close column; the others have only the five adjusted fields.
    assert sorted(real.columns.get_level_values("Price").unique()) == ["Adj Close", "Close", "High", "Low", "Open", "Volume"]

    by_ticker = yfinance.download(
        list(CLOSES),
        start="2026-01-01",
        end="2026-01-08",
        group_by="ticker",
        auto_adjust=True,
        threads=False,
        progress=False,
    )
    built_by_ticker = yfinance_download_frame(CLOSES, DATES, group_by="ticker")
    assert list(by_ticker.columns.names) == ["Ticker", "Price"]
    pd.testing.assert_frame_equal(by_ticker.sort_index(axis=1), built_by_ticker.sort_index(axis=1))


# --- normalize --------------------------------------------------------------------------------


def test_normalize_prices_long_table_by_hand():
    raw = yfinance_download_frame(CLOSES, DATES)
    before = raw.copy()
    prices, missing = normalize_prices(raw, SYMBOLS)
    pd.testing.assert_frame_equal(raw, before)  # input untouched
    assert missing == ["BADT"]
    assert list(prices.columns) == ["ticker", "date", "open", "high", "low", "close", "volume"]
    # MSFT: 3 sessions; N225: 2 (no row for the holiday, rather than a NaN row).
    assert prices.groupby("ticker").size().to_dict() == {"MSFT": 3, "N225": 2}
    n225 = prices[prices["ticker"] == "N225"]
    assert n225["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-05", "2026-01-07"]
    row = prices[(prices["ticker"] == "MSFT") & (prices["date"] == "2026-01-06")].iloc[0]
    # open = 0.995 * 101, high = 1.01 * 101, low = 0.99 * 101, volume = 1e6 + 1000 * day 1
    assert row["open"] == pytest.approx(100.495)
    assert row["high"] == pytest.approx(102.01)
    assert row["low"] == pytest.approx(99.99)
    assert row["close"] == 101.0
    assert row["volume"] == 1_001_000.0
    # Volume follows the date's position in DATES (day 0 and day 2), not the row number.
    assert n225["volume"].tolist() == [1_000_000.0, 1_002_000.0]
    assert str(prices["date"].dtype) == "datetime64[us]"


def test_normalize_prices_same_result_for_either_grouping():
    by_column, _ = normalize_prices(yfinance_download_frame(CLOSES, DATES), SYMBOLS)
    by_ticker, _ = normalize_prices(yfinance_download_frame(CLOSES, DATES, group_by="ticker"), SYMBOLS)
    pd.testing.assert_frame_equal(by_column, by_ticker)


def test_normalize_prices_empty_frame_means_everything_missing():
    # What yfinance 1.7 returns offline: no rows, empty_df columns for every symbol.
    raw = yfinance_download_frame({"MSFT": None, "^N225": None}, DATES)
    prices, missing = normalize_prices(raw, {"MSFT": "MSFT", "^N225": "N225"})
    assert prices.empty and missing == ["MSFT", "N225"]
    assert list(prices.columns) == ["ticker", "date", "open", "high", "low", "close", "volume"]


def test_normalize_prices_symbol_absent_from_frame_is_missing():
    raw = yfinance_download_frame({"MSFT": CLOSES["MSFT"]}, DATES)
    prices, missing = normalize_prices(raw, {"MSFT": "MSFT", "SPY": "SPY"})
    assert missing == ["SPY"] and prices["ticker"].unique().tolist() == ["MSFT"]


# --- dividend moves ---------------------------------------------------------------------------


def _long(ticker: str, closes: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"ticker": ticker, "date": pd.to_datetime(DATES), "close": closes})


def test_dividend_moves_by_hand():
    # MSFT: a 0.5% dividend factor applied to the first two closes (ex-date on the third day).
    # SPY: the old snapshot missed a 2-for-1 split: every new close is half the old one.
    old = pd.concat([_long("MSFT", [100.0, 101.0, 102.0]), _long("SPY", [200.0, 202.0, 204.0])])
    new = pd.concat([_long("MSFT", [99.5, 100.495, 102.0]), _long("SPY", [100.0, 101.0, 102.0])])
    moves = dividend_moves(old, new).set_index("ticker")
    assert moves.loc["MSFT", "max_relative_change"] == pytest.approx(0.005)  # |99.5/100 - 1|
    assert moves.loc["MSFT", "date_of_max"] == pd.Timestamp("2026-01-05")
    assert moves.loc["MSFT", "median_relative_change"] == pytest.approx(0.005)  # 0.005, 0.005, 0
    assert not moves.loc["MSFT", "flagged"]
    assert moves.loc["SPY", "max_relative_change"] == pytest.approx(0.5)
    assert moves.loc["SPY", "flagged"]
    assert moves.loc["SPY", "overlap_days"] == 3
    assert moves.index.tolist() == ["SPY", "MSFT"]  # largest move first


def test_dividend_moves_without_overlap_is_empty():
    old = _long("MSFT", [1.0, 2.0, 3.0])
    new = _long("SPY", [1.0, 2.0, 3.0])
    assert dividend_moves(old, new).empty


def test_dividend_moves_threshold_is_a_setting():
    old, new = _long("MSFT", [100.0, 100.0, 100.0]), _long("MSFT", [97.0, 100.0, 100.0])
    assert dividend_moves(old, new)["flagged"].tolist() == [True]  # 3% > 2%
    assert dividend_moves(old, new, threshold=0.05)["flagged"].tolist() == [False]


# --- extract ----------------------------------------------------------------------------------


def test_fetch_prices_raw_one_batched_call_and_cache_location(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    calls, locations = [], []
    monkeypatch.setattr(yfinance, "set_tz_cache_location", lambda path: locations.append(path))
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: calls.append((a, k)) or yfinance_download_frame(CLOSES, DATES))
    frame = fetch_prices_raw(["MSFT", "^N225", "BAD"], "2026-01-01", "2026-01-08", timeout=7)
    assert len(calls) == 1
    args, kwargs = calls[0]
    assert args[0] == ["MSFT", "^N225", "BAD"]
    assert kwargs["group_by"] == "column" and kwargs["auto_adjust"] is True
    assert kwargs["timeout"] == 7 and kwargs["start"] == "2026-01-01" and kwargs["end"] == "2026-01-08"
    assert locations == [str(tmp_path / "cache" / "yfinance")]
    assert (tmp_path / "cache" / "yfinance").is_dir()
    assert frame.shape == (3, 16)


def test_fetch_prices_raw_empty_frame_is_a_failure(fake_tickers):
    offline = RuntimeError("Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com")
    fake_tickers.behaviour = {"MSFT": offline, "SPY": offline}
    with pytest.raises(RefreshError, match=r"yfinance.*empty price frame.*Could not resolve host"):
        fetch_prices_raw(["MSFT", "SPY"], "2026-01-01", "2026-01-08", timeout=1)


def test_fetch_prices_raw_rate_limit_retries_then_fails(fake_tickers):
    fake_tickers.behaviour = {"MSFT": yfinance.exceptions.YFRateLimitError()}
    waits: list[float] = []
    with pytest.raises(RefreshError, match=r"yfinance.*rate-limited.*3 attempt"):
        fetch_prices_raw(["MSFT"], "2026-01-01", "2026-01-08", timeout=1, sleep=waits.append)
    assert waits == [yahoo.RATE_LIMIT_BACKOFF_SECONDS, 2 * yahoo.RATE_LIMIT_BACKOFF_SECONDS]


def test_fetch_prices_raw_rate_limit_raised_directly_then_recovers(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    outcomes = [yfinance.exceptions.YFRateLimitError(), yfinance_download_frame(CLOSES, DATES)]

    def download(*args, **kwargs):
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(yfinance, "download", download)
    waits: list[float] = []
    frame = fetch_prices_raw(["MSFT", "^N225", "BAD"], "2026-01-01", "2026-01-08", timeout=1, sleep=waits.append)
    assert waits == [yahoo.RATE_LIMIT_BACKOFF_SECONDS] and not outcomes
    assert np.isclose(frame[("Close", "MSFT")].sum(), 303.0)


def test_fetch_prices_raw_partial_coverage_is_returned(fake_tickers):
    fake_tickers.behaviour = {"MSFT": CLOSES["MSFT"], "BAD": _missing_prices()}
    frame = fetch_prices_raw(["MSFT", "BAD"], "2026-01-01", "2026-01-08", timeout=1)
    prices, missing = normalize_prices(frame, {"MSFT": "MSFT", "BAD": "BAD"})
    assert missing == ["BAD"] and len(prices) == 3
    # yfinance's own caches now live under the project's cache folder.
    assert yfinance.cache._TzDBManager.get_location() == str(config.CACHE_DIR / "yfinance")
    assert yfinance.cache._CookieDBManager.get_location() == str(config.CACHE_DIR / "yfinance")
