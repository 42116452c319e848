"""Refresh hardening: SEC retries honouring Retry-After, yfinance's price repair for non-US
listings with the repaired rows reported, commercial paper reported apart, and the in-app
refresh's toast and server log.

Nothing here reaches the network or sleeps: SEC answers come from fake transports (with an
injected clock and sleep), yfinance from recorded-shape frames (its per-symbol ``Ticker`` or
``download`` replaced), and both sources' addresses point at a closed local port. Prices and
figures are synthetic.
"""

from __future__ import annotations

import email.utils
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yfinance
import yfinance.multi

from dashboard import config
from dashboard.errors import RefreshError
from dashboard.loaders import refresh as refresh_module
from dashboard.loaders import sec, yahoo
from dashboard.loaders.curated import load_companies, load_instruments
from dashboard.loaders.refresh import RefreshResult, non_us_symbols, refresh
from dashboard.loaders.sec import RateLimiter, SecClient, fetch_companyfacts_raw
from dashboard.ui import refreshing
from tests.fixtures.refresh.yahoo_frames import symbol_history, yfinance_download_frame
from tests.test_filings_fetch import EPOCH, FakeClock, FakeResponse, FakeTransport
from tests.test_refresh_failures import CLOSED, SAMPLE, offline, reachable  # noqa: F401  (fixtures: offline is autouse)

FACTS_URL = f"{CLOSED}/api/xbrl/companyfacts/CIK0001018724.json"  # the ``offline`` fixture's closed address


def transport(answers: list[FakeResponse], clock: FakeClock) -> FakeTransport:
    """SEC answering the company-facts address with ``answers`` in turn (the last repeats)."""
    return FakeTransport(clock, {FACTS_URL: answers})


def client(transport: FakeTransport, clock: FakeClock, cache: Path, **kwargs) -> SecClient:
    limiter = RateLimiter(config.SEC_MAX_REQUESTS_PER_SECOND, clock=clock.monotonic, sleep=clock.sleep)
    return SecClient(
        transport, "Hardening Tests tests@example.com", limiter=limiter, cache_dir=cache, sleep=clock.sleep, now=clock.wall, **kwargs
    )


@pytest.fixture
def amzn_facts() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


# --- SEC: company facts retried like every SEC request -----------------------------------------------


def test_company_facts_retry_after_seconds_then_http_date_then_success(amzn_facts, tmp_path):
    clock = FakeClock()
    sec_answers = transport([
        FakeResponse(429, headers={"Retry-After": "7"}),
        FakeResponse(503, headers={"Retry-After": email.utils.formatdate(EPOCH + 7 + 12, usegmt=True)}),
        FakeResponse(200, amzn_facts),
    ], clock)  # fmt: skip
    got = fetch_companyfacts_raw(1018724, client(sec_answers, clock, tmp_path))
    assert got == amzn_facts and len(sec_answers.calls) == 3
    # 7 s as asked, then until the HTTP date 12 s later; the limiter never had to wait on top.
    assert clock.sleeps == [7.0, 12.0]
    assert [t for _, _, t in sec_answers.calls] == [0.0, 7.0, 19.0]
    assert (tmp_path / "CIK0001018724.json").exists()  # cached once it came


def test_company_facts_backoff_without_retry_after_and_at_most_n_retries(tmp_path):
    clock = FakeClock()
    sec_answers = transport([FakeResponse(502)], clock)
    with pytest.raises(RefreshError, match=r"^SEC EDGAR: HTTP 502 .*server error.*still after 3 retries"):
        fetch_companyfacts_raw(1018724, client(sec_answers, clock, tmp_path), max_cache_age_seconds=0)
    assert len(sec_answers.calls) == 1 + config.SEC_MAX_RETRIES
    assert clock.sleeps == list(config.SEC_RETRY_BACKOFF_SECONDS)  # 1, 2, 4 s
    assert not (tmp_path / "CIK0001018724.json").exists()


def test_company_facts_retry_count_is_a_setting(tmp_path):
    clock = FakeClock()
    sec_answers = transport([FakeResponse(429)], clock)
    with pytest.raises(RefreshError, match="still after 1 retries"):
        fetch_companyfacts_raw(1018724, client(sec_answers, clock, tmp_path, max_retries=1), max_cache_age_seconds=0)
    assert len(sec_answers.calls) == 2 and clock.sleeps == [1.0]


def test_company_facts_will_not_wait_longer_than_allowed(tmp_path):
    clock = FakeClock()
    sec_answers = transport([FakeResponse(429, headers={"Retry-After": "3600"})], clock)
    with pytest.raises(RefreshError, match=r"SEC asks to wait 3600 s \(more than 60 s\)"):
        fetch_companyfacts_raw(1018724, client(sec_answers, clock, tmp_path))
    assert len(sec_answers.calls) == 1 and clock.sleeps == []


def test_company_facts_unknown_cik_is_not_retried(tmp_path):
    clock = FakeClock()
    sec_answers = transport([FakeResponse(404)], clock)
    with pytest.raises(sec.SecNotFound, match="no company facts for CIK 1018724"):
        fetch_companyfacts_raw(1018724, client(sec_answers, clock, tmp_path))
    assert len(sec_answers.calls) == 1


class RateLimitedOnceSession:
    """A ``requests.Session`` stand-in: 429 with ``Retry-After: 0`` once, then the document."""

    def __init__(self, payload: dict) -> None:
        self.payload, self.statuses = payload, []

    def get(self, url, *, headers, timeout):
        status = 429 if not self.statuses else 200
        self.statuses.append(status)
        return FakeResponse(status, self.payload, headers={"Retry-After": "0"})


def with_commercial_paper(raw: dict) -> dict:
    """The recorded sample plus Amazon-shaped commercial-paper facts for 2022 (synthetic values)."""
    facts = [
        {"start": "2022-01-01", "end": end, "val": val, "accn": accn, "fy": 2022, "fp": fp, "form": form, "filed": filed}
        for end, val, accn, fp, form, filed in (
            ("2022-03-31", 1_000_000_000, "0001018724-22-000012", "Q1", "10-Q", "2022-04-29"),
            ("2022-06-30", 3_500_000_000, "0001018724-22-000019", "Q2", "10-Q", "2022-07-29"),
        )
    ]
    gaap = dict(raw["facts"]["us-gaap"])
    gaap["ProceedsFromRepaymentsOfCommercialPaper"] = {"label": "CP", "description": "hand-made", "units": {"USD": facts}}
    return {**raw, "facts": {**raw["facts"], "us-gaap": gaap}}


def test_fundamentals_refresh_retries_sec_and_reports_commercial_paper_apart(data_copy, offline, reachable, amzn_facts):  # noqa: F811
    session = RateLimitedOnceSession(with_commercial_paper(amzn_facts))
    result = refresh(prices=False, tickers=["AMZN"], data_dir=data_copy, session=session)
    assert session.statuses == [429, 200]  # retried inside the refresh, not a failure
    assert result.filled_values == 2  # the same gaps as without commercial paper: none of it is debt
    paper = result.commercial_paper
    assert paper[["ticker", "fiscal_year", "fiscal_quarter", "value"]].values.tolist() == [
        ["AMZN", 2022, 1, 1000.0],
        ["AMZN", 2022, 2, 2500.0],
    ]
    line = next(line for line in result.lines() if "commercial-paper" in line)
    assert line == (
        "fundamentals: 2 commercial-paper figure(s) kept apart from debt issued/repaid (ProceedsFromRepaymentsOfCommercialPaper) for AMZN"
    )
    report = pd.read_csv(offline / "refresh-reports" / "fundamentals_commercial_paper.csv")
    assert report["column"].tolist() == ["commercial_paper_net"] * 2


# --- yfinance: price repair for non-US listings ------------------------------------------------------


def test_non_us_listings_are_the_tokyo_ones():
    assert non_us_symbols(load_companies(), load_instruments()) == {"9984.T", "^N225"}


DATES = ["2026-05-15", "2026-05-18", "2026-05-19"]  # SoftBank's last sessions in the snapshot
REAL_DOWNLOAD = yfinance.download  # taken at import, before any fixture replaces it


class RepairingTicker:
    """Stands in for ``yfinance.Ticker`` inside the real ``yfinance.download``. With
    ``repair=True`` its history carries the ``Repaired?`` column yfinance 1.7 adds (a bool per
    row, after Volume: the column order auto_adjust and actions=False leave), true on
    ``repaired`` dates."""

    closes: dict[str, list[float]] = {}
    repaired: dict[str, set[str]] = {}
    calls: list[tuple[str, bool]] = []

    def __init__(self, symbol: str, *args: object, **kwargs: object) -> None:
        self.symbol, self._price_history = symbol, None

    def history(self, **kwargs: object) -> pd.DataFrame:
        self.calls.append((self.symbol, bool(kwargs["repair"])))
        frame = symbol_history(self.closes[self.symbol], DATES)
        if kwargs["repair"]:
            frame["Repaired?"] = [d in self.repaired.get(self.symbol, set()) for d in DATES]
        frame.index = frame.index.tz_localize("Asia/Tokyo" if self.symbol in ("9984.T", "^N225") else "America/New_York")
        return frame


@pytest.fixture
def repairing_tickers(monkeypatch: pytest.MonkeyPatch) -> type[RepairingTicker]:
    monkeypatch.setattr(yfinance, "download", REAL_DOWNLOAD)  # the autouse ``offline`` forbids it
    monkeypatch.setattr(yfinance.multi, "Ticker", RepairingTicker)
    RepairingTicker.calls = []
    RepairingTicker.closes = {"MSFT": [400.0, 401.0, 402.0], "9984.T": [5745.0, 5593.0, 5361.0], "^N225": [51000.0, 51100.0, 51200.0]}
    RepairingTicker.repaired = {"9984.T": {"2026-05-18"}}
    return RepairingTicker


def test_repair_batch_through_real_yfinance_download(repairing_tickers):
    raw = yahoo.fetch_prices_raw(["MSFT", "9984.T", "^N225"], "2026-05-15", "2026-05-20", repair_symbols={"9984.T", "^N225"}, timeout=1)
    assert sorted(repairing_tickers.calls) == [("9984.T", True), ("MSFT", False), ("^N225", True)]
    prices_level = raw.columns.get_level_values("Price")
    assert ("Repaired?", "9984.T") in raw.columns and ("Repaired?", "MSFT") not in raw.columns
    assert list(dict.fromkeys(prices_level)) == ["Close", "High", "Low", "Open", "Repaired?", "Volume"]
    symbols = {"MSFT": "MSFT", "9984.T": "9984.T", "^N225": "N225"}
    prices, missing = yahoo.normalize_prices(raw, symbols)
    assert missing == [] and len(prices) == 9  # the flag column is no price field
    repaired = yahoo.repaired_rows(raw, symbols)
    assert repaired[["ticker", "close"]].values.tolist() == [["9984.T", 5593.0]]
    assert repaired["date"].tolist() == [pd.Timestamp("2026-05-18")]


def test_one_batch_without_repair_when_every_listing_is_american(monkeypatch):
    calls = []

    def download(symbols, **kwargs):
        calls.append((list(symbols), kwargs["repair"]))
        return yfinance_download_frame({s: [1.0, 2.0, 3.0] for s in symbols}, DATES)

    monkeypatch.setattr(yfinance, "download", download)
    raw = yahoo.fetch_prices_raw(["MSFT", "SPY"], "2026-05-15", "2026-05-20", repair_symbols={"9984.T"}, timeout=1)
    assert calls == [(["MSFT", "SPY"], False)]
    assert yahoo.repaired_rows(raw, {"MSFT": "MSFT", "SPY": "SPY"}).empty


def test_rate_limited_repair_batch_fails_after_bounded_retries(monkeypatch):
    attempts = []

    def download(symbols, **kwargs):
        attempts.append(kwargs["repair"])
        if kwargs["repair"]:
            raise yfinance.exceptions.YFRateLimitError()
        return yfinance_download_frame({s: [1.0, 2.0, 3.0] for s in symbols}, DATES)

    monkeypatch.setattr(yfinance, "download", download)
    waits: list[float] = []
    with pytest.raises(RefreshError, match=r"rate-limited .*after 3 attempt"):
        yahoo.fetch_prices_raw(["MSFT", "9984.T"], "2026-05-15", "2026-05-20", repair_symbols={"9984.T"}, timeout=1, sleep=waits.append)
    assert attempts == [False, True, True, True] and waits == [5.0, 10.0]


def test_an_empty_repair_batch_leaves_the_rest(monkeypatch):
    def download(symbols, **kwargs):
        return yfinance_download_frame({s: (None if kwargs["repair"] else [1.0, 2.0, 3.0]) for s in symbols}, DATES)

    monkeypatch.setattr(yfinance, "download", download)
    raw = yahoo.fetch_prices_raw(["MSFT", "9984.T"], "2026-05-15", "2026-05-20", repair_symbols={"9984.T"}, timeout=1)
    prices, missing = yahoo.normalize_prices(raw, {"MSFT": "MSFT", "9984.T": "9984.T"})
    assert missing == ["9984.T"] and prices["ticker"].unique().tolist() == ["MSFT"]


def test_repaired_rows_by_hand_with_gaps_and_unknown_symbols():
    raw = yfinance_download_frame({"9984.T": [10.0, None, 12.0], "X": [1.0, 2.0, 3.0]}, DATES)
    raw[("Repaired?", "9984.T")] = pd.Series([True, np.nan, True], index=raw.index, dtype=object)  # NaN: no session
    raw[("Repaired?", "X")] = pd.Series([True, True, True], index=raw.index, dtype=object)
    before = raw.copy()
    rows = yahoo.repaired_rows(raw.sort_index(axis=1), {"9984.T": "9984.T"})
    assert rows[["ticker", "close"]].values.tolist() == [["9984.T", 10.0], ["9984.T", 12.0]]
    assert list(rows.columns) == ["ticker", "date", *config.PRICE_COLUMNS]
    pd.testing.assert_frame_equal(raw, before)


def test_price_refresh_reports_the_repaired_rows(data_copy, offline, reachable, repairing_tickers):  # noqa: F811
    repairing_tickers.closes["MSFT"] = [400.0, 401.0, 402.0]
    result = refresh(fundamentals=False, tickers=["MSFT", "9984.T", "N225"], data_dir=data_copy)
    assert sorted(repairing_tickers.calls) == [("9984.T", True), ("MSFT", False), ("^N225", True)]
    assert result.repaired_tickers == ["9984.T", "N225"]
    repairs = result.price_repairs
    assert repairs[["ticker", "close", "previous_close"]].values.tolist() == [["9984.T", 5593.0, 5593.0]]
    assert repairs["date"].tolist() == [pd.Timestamp("2026-05-18")]
    assert (
        "prices: downloaded with yfinance's price repair: 9984.T, N225; 1 row(s) repaired (100x unit errors, "
        "bad splits, zeros): 9984.T 2026-05-18 close 5,593.00 (was 5,593.00)"
    ) in result.lines()
    assert "1 price row(s) repaired by yfinance" in result.headline()
    saved = pd.read_csv(offline / "refresh-reports" / "price_repairs.csv")
    assert saved[["ticker", "date", "close"]].values.tolist() == [["9984.T", "2026-05-18", 5593.0]]


def test_summary_says_when_repair_changed_nothing():
    result = RefreshResult(
        written={"prices": {"file": "prices.parquet", "rows": 3, "as_of": "2026-05-19", "sha256": "0", "source": "s"}},
        repaired_tickers=["9984.T"],
        price_repairs=pd.DataFrame(columns=["ticker", "date", "close", "previous_close"]),
    )
    assert "prices: downloaded with yfinance's price repair: 9984.T; no row repaired" in result.lines()
    assert "repaired" not in result.headline()


# --- the in-app refresh: toast and server log --------------------------------------------------------


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_log():
    handler = Records()
    refreshing.logger.addHandler(handler)
    yield handler.records
    refreshing.logger.removeHandler(handler)


def test_in_app_success_toasts_one_line_and_logs_the_summary(monkeypatch, server_log):
    result = RefreshResult(
        written={"prices": {"file": "prices.parquet", "rows": 14099, "as_of": "2026-09-25", "sha256": "f", "source": "x"}},
        dividend_moves=pd.DataFrame({"ticker": ["MSFT"], "max_relative_change": [0.01], "flagged": [False]}),
        reports_dir=config.REPO_ROOT / ".cache" / "refresh-reports",
    )
    monkeypatch.setattr(refresh_module, "refresh", lambda **kwargs: result)
    toasts: list[tuple[str, str]] = []
    monkeypatch.setattr(refreshing.st, "toast", lambda body, icon=None: toasts.append((body, icon)))
    line = refreshing.run_refresh(prices=True, fundamentals=False)
    assert line == "Refresh finished: prices 14,099 rows as of 2026-09-25."
    assert toasts == [(line, refreshing.SUCCESS_ICON)]
    messages = [(r.levelno, r.getMessage()) for r in server_log]
    assert messages[0] == (logging.INFO, "in-app refresh started: prices")
    assert messages[1][0] == logging.INFO and messages[1][1].startswith("in-app refresh finished: prices: 14099 rows")
    assert "reports: .cache/refresh-reports" in messages[1][1]  # relative paths in the log too
    assert str(config.REPO_ROOT) not in messages[1][1]


def test_in_app_failure_is_logged_as_a_warning_without_a_toast(monkeypatch, server_log):
    def failing(**kwargs):
        raise RefreshError("SEC EDGAR: HTTP 503 for https://data.sec.gov/x (server error), still after 3 retries; try again later")

    monkeypatch.setattr(refresh_module, "refresh", failing)
    toasts: list[str] = []
    monkeypatch.setattr(refreshing.st, "toast", lambda body, icon=None: toasts.append(body))
    line = refreshing.run_refresh(prices=False, fundamentals=True)
    assert line.startswith("Refresh failed, the data is unchanged: SEC EDGAR: HTTP 503") and toasts == []
    assert [(r.levelno, r.getMessage()) for r in server_log][-1] == (
        logging.WARNING,
        "in-app refresh failed, the data is unchanged: " + line.removeprefix("Refresh failed, the data is unchanged: "),
    )
