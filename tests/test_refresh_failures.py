"""Refresh orchestration: every failure leaves the previous snapshot and manifest byte-for-byte intact.

Failures are injected at the extract step (yfinance's ``download``, the SEC session) or in the
write path. Every test works on a private copy of ``data/`` and a private cache folder; both
sources' addresses point at 127.0.0.1:9 (a closed port), ``yfinance.download`` and
``requests.Session.request`` are replaced by functions that fail the test, so nothing here can
reach an outside address. Prices in the fakes are synthetic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import filelock
import pandas as pd
import pytest
import requests
import yfinance

from dashboard import config
from dashboard.__main__ import main
from dashboard.errors import RefreshError, RefreshInProgress, SnapshotDamaged
from dashboard.loaders import refresh as refresh_module
from dashboard.loaders import sec, snapshot, yahoo
from dashboard.loaders.curated import validate_fundamentals, validate_prices
from dashboard.loaders.refresh import refresh
from tests.fixtures.refresh.yahoo_frames import yfinance_download_frame

CLOSED = "http://127.0.0.1:9"
SAMPLE = Path(__file__).parent / "fixtures" / "refresh" / "amzn_companyfacts_sample.json"
DATES = ["2026-09-23", "2026-09-24", "2026-09-25"]  # the last sessions of the embedded snapshot
USER_AGENT = "Refresh Tests tests@example.com"


def _forbidden(*args, **kwargs):
    raise AssertionError("a test tried to reach the network")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Private cache, closed-port source addresses, no real download possible."""
    cache = tmp_path / "cache"
    monkeypatch.setattr(config, "CACHE_DIR", cache)
    monkeypatch.setenv(config.SEC_USER_AGENT_ENV, USER_AGENT)
    monkeypatch.setenv(yahoo.YAHOO_BASE_URL_ENV, CLOSED)
    monkeypatch.setenv(sec.SEC_BASE_URL_ENV, CLOSED)
    monkeypatch.setattr(yfinance, "download", _forbidden)
    monkeypatch.setattr(requests.Session, "request", _forbidden)
    monkeypatch.setattr(yahoo, "_sleep", lambda seconds: None)  # rate-limit backoff without waiting
    return cache


@pytest.fixture
def reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend both hosts answer the probe, so that failures are injected at the extract step."""
    monkeypatch.setattr(refresh_module, "probe_source", lambda url, *, source, timeout=3.0: None)


def state(data_dir: Path) -> dict[str, bytes]:
    """Every file under the data folder, by relative path, with its bytes."""
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file()}


def old_closes(data_dir: Path, ticker: str) -> list[float]:
    prices = pd.read_parquet(data_dir / config.PRICES_FILE)
    rows = prices[(prices["ticker"] == ticker) & prices["date"].isin(pd.to_datetime(DATES))]
    return rows.sort_values("date")["close"].tolist()


def fake_download(closes: dict[str, list[float] | None]):
    """A stand-in for ``yfinance.download``: symbols not in ``closes`` come back empty."""

    def download(symbols, **kwargs):
        return yfinance_download_frame({s: closes.get(s) for s in symbols}, DATES)

    return download


class FakeSecSession:
    def __init__(self, payload: object) -> None:
        self.payload = payload
        self.urls: list[str] = []

    def get(self, url, *, headers, timeout):
        self.urls.append(url)
        if isinstance(self.payload, BaseException):
            raise self.payload
        payload = self.payload

        class Response:
            status_code = 200

            def json(self):
                return payload

        return Response()


def assert_intact(data_dir: Path, before: dict[str, bytes], cache: Path) -> None:
    assert state(data_dir) == before
    assert not [p.name for p in data_dir.iterdir() if p.name.endswith(".tmp")]
    assert not list(cache.glob("refresh-staging-*"))  # staging cleaned up
    with filelock.FileLock(cache / config.REFRESH_LOCK_FILE).acquire(timeout=0):
        pass  # the lock was released


# --- offline ----------------------------------------------------------------------------------


def test_offline_fails_naming_yfinance_and_keeps_snapshot(data_copy, offline):
    before = state(data_copy)
    with pytest.raises(RefreshError, match=r"^yfinance \(Yahoo Finance\): cannot connect to 127\.0\.0\.1:9"):
        refresh(data_dir=data_copy)
    assert_intact(data_copy, before, offline)


def test_offline_fails_naming_sec_and_keeps_snapshot(data_copy, offline):
    before = state(data_copy)
    with pytest.raises(RefreshError, match=r"^SEC EDGAR: cannot connect to 127\.0\.0\.1:9"):
        refresh(prices=False, data_dir=data_copy)
    assert_intact(data_copy, before, offline)


def test_connection_error_at_price_extract(data_copy, offline, reachable, monkeypatch):
    def download(*args, **kwargs):
        raise ConnectionError("Could not resolve host: query2.finance.yahoo.com")

    monkeypatch.setattr(yfinance, "download", download)
    before = state(data_copy)
    with pytest.raises(RefreshError, match=r"^yfinance \(Yahoo Finance\): download failed: ConnectionError"):
        refresh(fundamentals=False, data_dir=data_copy)
    assert_intact(data_copy, before, offline)


def test_connection_error_at_sec_extract(data_copy, offline, reachable):
    before = state(data_copy)
    session = FakeSecSession(requests.ConnectionError("Name or service not known"))
    with pytest.raises(RefreshError, match=r"^SEC EDGAR: cannot reach .*CIK0001018724\.json \(offline\?\)"):
        refresh(prices=False, tickers=["AMZN"], data_dir=data_copy, session=session)
    assert_intact(data_copy, before, offline)


def test_missing_user_agent_fails_before_any_network(data_copy, offline, monkeypatch):
    monkeypatch.delenv(config.SEC_USER_AGENT_ENV)
    monkeypatch.setattr(sec, "SECRETS_FILE", offline / "no-secrets.toml")
    before = state(data_copy)
    with pytest.raises(RefreshError, match=r"SEC EDGAR: no User-Agent.*SEC_USER_AGENT"):
        refresh(data_dir=data_copy)
    assert_intact(data_copy, before, offline)


# --- empty, rate-limited, partial -------------------------------------------------------------


def test_empty_frame_is_a_failure(data_copy, offline, reachable, monkeypatch):
    monkeypatch.setattr(yfinance, "download", fake_download({}))  # every symbol empty, as offline
    before = state(data_copy)
    with pytest.raises(RefreshError, match=r"^yfinance \(Yahoo Finance\): empty price frame for 13 symbol"):
        refresh(fundamentals=False, data_dir=data_copy)
    assert_intact(data_copy, before, offline)


def test_rate_limited_fails_after_bounded_retries(data_copy, offline, reachable, monkeypatch):
    attempts = []

    def download(*args, **kwargs):
        attempts.append(1)
        raise yfinance.exceptions.YFRateLimitError()

    monkeypatch.setattr(yfinance, "download", download)
    before = state(data_copy)
    with pytest.raises(RefreshError, match=r"^yfinance \(Yahoo Finance\): rate-limited .*HTTP 429"):
        refresh(fundamentals=False, data_dir=data_copy)
    assert len(attempts) == 1 + yahoo.RATE_LIMIT_RETRIES
    assert_intact(data_copy, before, offline)


def test_partial_coverage_keeps_what_came_and_warns(data_copy, offline, reachable, monkeypatch):
    msft, spy = old_closes(data_copy, "MSFT"), old_closes(data_copy, "SPY")
    # MSFT: a 1% dividend-sized shift; SPY: halved, as if a split had been missed. 9984.T: nothing.
    monkeypatch.setattr(yfinance, "download", fake_download({"MSFT": [c * 0.99 for c in msft], "SPY": [c * 0.5 for c in spy]}))
    old_prices = pd.read_parquet(data_copy / config.PRICES_FILE)
    before = state(data_copy)
    progress: list[tuple[float, str]] = []
    result = refresh(
        fundamentals=False,
        tickers=["MSFT", "SPY", "9984.T"],
        data_dir=data_copy,
        progress=lambda f, m: progress.append((f, m)),
    )
    assert result.missing_tickers == ["9984.T"]
    assert any("9984.T" in w and "previous rows are kept" in w for w in result.warnings)
    new_prices = pd.read_parquet(data_copy / config.PRICES_FILE)
    # Refreshed tickers are replaced whole (the fake returned three sessions), never appended to.
    assert new_prices.groupby("ticker").size()["MSFT"] == 3
    assert new_prices[new_prices["ticker"] == "MSFT"]["close"].tolist() == pytest.approx([c * 0.99 for c in msft])
    # The ticker that came back empty, and those not asked for, keep their previous rows exactly.
    for ticker in ("9984.T", "AMZN", "N225"):
        pd.testing.assert_frame_equal(
            new_prices[new_prices["ticker"] == ticker].reset_index(drop=True),
            old_prices[old_prices["ticker"] == ticker].reset_index(drop=True),
        )
    moves = result.dividend_moves.set_index("ticker")
    assert moves.loc["MSFT", "max_relative_change"] == pytest.approx(0.01) and not moves.loc["MSFT", "flagged"]
    assert moves.loc["SPY", "max_relative_change"] == pytest.approx(0.5) and moves.loc["SPY", "flagged"]
    # The manifest entry describes the new file; the other entries are untouched.
    manifest = json.loads((data_copy / config.MANIFEST_FILE).read_text())
    entry = manifest["datasets"]["prices"]
    assert entry["sha256"] == snapshot.content_hash(data_copy / config.PRICES_FILE)
    assert entry["rows"] == len(new_prices) and entry["as_of"] == "2026-09-25"
    assert "not refreshed (no data came back): 9984.T" in entry["source"]
    old_manifest = json.loads(before[config.MANIFEST_FILE])
    for name in ("events", "fundamentals", "guidance", "companies", "instruments"):
        assert manifest["datasets"][name] == old_manifest["datasets"][name]
    assert manifest["data_version"] != old_manifest["data_version"]
    _, report = validate_prices(data_copy / config.PRICES_FILE, data_dir=data_copy)
    assert report.ok
    assert progress[-1] == (1.0, "refresh: done")
    assert [f for f, _ in progress] == sorted(f for f, _ in progress)
    assert (offline / "refresh-reports" / "price_dividend_moves.csv").exists()


def test_invalid_new_prices_are_never_swapped_in(data_copy, offline, reachable, monkeypatch):
    monkeypatch.setattr(yfinance, "download", fake_download({"MSFT": [-1.0, 2.0, 3.0]}))
    before = state(data_copy)
    with pytest.raises(RefreshError, match=r"yfinance.*failed validation.*price is not positive"):
        refresh(fundamentals=False, tickers=["MSFT"], data_dir=data_copy)
    assert_intact(data_copy, before, offline)


# --- killed mid-write -------------------------------------------------------------------------


def test_killed_while_staging_prices(data_copy, offline, reachable, monkeypatch):
    monkeypatch.setattr(yfinance, "download", fake_download({"MSFT": old_closes(data_copy, "MSFT")}))
    original = pd.DataFrame.to_parquet

    def half_then_killed(self, path, *args, **kwargs):
        original(self, path, *args, **kwargs)
        data = Path(path).read_bytes()
        Path(path).write_bytes(data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_then_killed)
    before = state(data_copy)
    with pytest.raises(KeyboardInterrupt):
        refresh(fundamentals=False, tickers=["MSFT"], data_dir=data_copy)
    assert_intact(data_copy, before, offline)


def test_interrupted_at_the_swap(data_copy, offline, reachable, monkeypatch):
    monkeypatch.setattr(yfinance, "download", fake_download({"MSFT": [1.0, 2.0, 3.0]}))

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot, "_swap_in", killed)
    before = state(data_copy)
    with pytest.raises(KeyboardInterrupt):
        refresh(fundamentals=False, tickers=["MSFT"], data_dir=data_copy)
    assert_intact(data_copy, before, offline)
    assert not list(data_copy.parent.glob(".data.staging-*"))  # the staged copy is removed


def test_interrupted_while_writing_the_manifest(data_copy, offline, reachable, monkeypatch):
    monkeypatch.setattr(yfinance, "download", fake_download({"MSFT": [1.0, 2.0, 3.0]}))
    original = snapshot.atomic_write

    def half_manifest(path, write):
        def half(tmp):
            write(tmp)
            Path(tmp).write_bytes(Path(tmp).read_bytes()[:40])
            raise KeyboardInterrupt

        return original(path, half if Path(path).name == config.MANIFEST_FILE else write)

    monkeypatch.setattr(snapshot, "atomic_write", half_manifest)
    before = state(data_copy)
    with pytest.raises(KeyboardInterrupt):
        refresh(fundamentals=False, tickers=["MSFT"], data_dir=data_copy)
    assert_intact(data_copy, before, offline)


def test_interrupted_halfway_through_the_second_file(data_copy, offline, reachable, monkeypatch):
    raw = json.loads(SAMPLE.read_text(encoding="utf-8"))
    monkeypatch.setattr(yfinance, "download", fake_download({"AMZN": [1.0, 2.0, 3.0]}))
    original = refresh_module.shutil.copyfile

    def copyfile(source, target, *args, **kwargs):
        if Path(target).name == config.FUNDAMENTALS_FILE and ".staging-" in str(target):
            Path(target).write_bytes(Path(source).read_bytes()[:1000])
            raise KeyboardInterrupt
        return original(source, target, *args, **kwargs)

    monkeypatch.setattr(refresh_module.shutil, "copyfile", copyfile)
    before = state(data_copy)
    with pytest.raises(KeyboardInterrupt):
        refresh(tickers=["AMZN"], data_dir=data_copy, session=FakeSecSession(raw))
    # prices.parquet had already been put into the staged copy: data/ never saw it.
    assert_intact(data_copy, before, offline)


# --- lock -------------------------------------------------------------------------------------


def test_second_refresh_while_one_holds_the_lock(data_copy, offline):
    offline.mkdir(parents=True, exist_ok=True)
    before = state(data_copy)
    with filelock.FileLock(offline / config.REFRESH_LOCK_FILE).acquire(timeout=0):
        with pytest.raises(RefreshInProgress, match="another refresh is running"):
            refresh(data_dir=data_copy)
    assert state(data_copy) == before


def test_refresh_started_during_a_refresh_is_refused(data_copy, offline, reachable, monkeypatch):
    inner: list[BaseException] = []
    frame = fake_download({"MSFT": old_closes(data_copy, "MSFT")})

    def download(symbols, **kwargs):
        try:
            refresh(fundamentals=False, tickers=["MSFT"], data_dir=data_copy)
        except RefreshInProgress as exc:
            inner.append(exc)
        return frame(symbols, **kwargs)

    monkeypatch.setattr(yfinance, "download", download)
    result = refresh(fundamentals=False, tickers=["MSFT"], data_dir=data_copy)
    assert len(inner) == 1 and "prices" in result.written


# --- fundamentals end to end ------------------------------------------------------------------


def test_fundamentals_refresh_fills_gaps_and_reports(data_copy, offline, reachable):
    raw = json.loads(SAMPLE.read_text(encoding="utf-8"))
    session = FakeSecSession(raw)
    old_text = (data_copy / config.FUNDAMENTALS_FILE).read_text(encoding="utf-8")
    before = state(data_copy)
    result = refresh(prices=False, tickers=["AMZN"], data_dir=data_copy, session=session)
    assert session.urls == [f"{CLOSED}/api/xbrl/companyfacts/CIK0001018724.json"]
    merged, report = validate_fundamentals(data_copy / config.FUNDAMENTALS_FILE, data_dir=data_copy)
    assert report.ok and len(merged) == 108
    q3 = merged[(merged["ticker"] == "AMZN") & (merged["fiscal_year"] == 2022) & (merged["fiscal_quarter"] == 3)].iloc[0]
    assert q3["cash_and_securities"] == 35178.0 + 23875.0  # was empty
    assert q3["total_debt"] == 57000.0  # Amazon's basis is non-current: LongTermDebtNoncurrent
    assert q3["capex"] == 16378.0  # curated figure kept although SEC says 16478
    assert "total_debt: SEC EDGAR LongTermDebtNoncurrent 0001018724-22-000023 (instant)" in q3["source"]
    d = result.disagreements.set_index(["ticker", "fiscal_year", "fiscal_quarter", "column"])
    assert sorted(d.index) == [("AMZN", 2022, 3, "capex"), ("AMZN", 2022, 4, "capex")]
    # Only Q3 2022's cash and debt were empty where SEC has a figure (2023Q1 has no securities
    # fact and no non-current debt fact in the sample); every sample quarter is already curated.
    assert result.filled_values == 2 and result.added_quarters == 0
    # The restated 9M capex; the LongTermDebt restatement is not read for a non-current basis.
    assert result.restatements["tag"].tolist() == ["PaymentsToAcquireProductiveAssets"]
    # Every row of the other companies is byte-identical.
    new_text = (data_copy / config.FUNDAMENTALS_FILE).read_text(encoding="utf-8")
    others = lambda text: [line for line in text.splitlines() if not line.startswith("AMZN,")]  # noqa: E731
    assert others(new_text) == others(old_text)
    manifest = json.loads((data_copy / config.MANIFEST_FILE).read_text())
    entry = manifest["datasets"]["fundamentals"]
    assert entry["sha256"] == snapshot.content_hash(data_copy / config.FUNDAMENTALS_FILE)
    assert "gaps filled from SEC EDGAR companyfacts" in entry["source"]
    assert manifest["datasets"]["prices"] == json.loads(before[config.MANIFEST_FILE])["datasets"]["prices"]
    assert (offline / "refresh-reports" / "fundamentals_disagreements.csv").exists()
    assert (offline / "sec" / "CIK0001018724.json").exists()


def test_a_snapshot_out_of_step_with_its_manifest_is_refused(data_copy, offline, reachable, monkeypatch):
    # As a refresh killed between two file swaps could leave it before the swap was one step.
    prices = pd.read_parquet(data_copy / config.PRICES_FILE)
    prices.iloc[:-1].to_parquet(data_copy / config.PRICES_FILE, index=False)
    monkeypatch.setattr(yfinance, "download", fake_download({"MSFT": old_closes(data_copy, "MSFT")}))
    before = state(data_copy)
    with pytest.raises(SnapshotDamaged, match=r"prices\.parquet: 14098 rows, the manifest says 14099"):
        refresh(fundamentals=False, tickers=["MSFT"], data_dir=data_copy)
    assert_intact(data_copy, before, offline)


def test_unknown_ticker_is_refused(data_copy, offline):
    with pytest.raises(RefreshError, match="unknown ticker.*FOO"):
        refresh(tickers=["FOO"], data_dir=data_copy)


# --- command line -----------------------------------------------------------------------------


def _cli(data_copy: Path, cache: Path, *args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess, float]:
    env = {
        **os.environ,
        "DASHBOARD_DATA_DIR": str(data_copy),
        "DASHBOARD_CACHE_DIR": str(cache),
        yahoo.YAHOO_BASE_URL_ENV: CLOSED,
        sec.SEC_BASE_URL_ENV: CLOSED,
        config.SEC_USER_AGENT_ENV: USER_AGENT,
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "refresh", *args],
        cwd=config.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done, time.perf_counter() - started


@pytest.mark.parametrize(("args", "source"), [((), "yfinance (Yahoo Finance)"), (("--fundamentals",), "SEC EDGAR")])
def test_cli_offline_exits_2_naming_the_source(data_copy, offline, args, source):
    before = state(data_copy)
    done, seconds = _cli(data_copy, offline, *args)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2
    assert errors == [f"error: {source}: cannot connect to 127.0.0.1:9 (ConnectionRefusedError) (offline?); previous snapshot kept"]
    assert "Traceback" not in done.stderr
    print(f"offline CLI {' '.join(args) or '(both)'}: exit {done.returncode} in {seconds:.2f} s")
    assert state(data_copy) == before


def test_cli_refused_while_another_refresh_holds_the_lock(data_copy, offline):
    offline.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(offline / config.REFRESH_LOCK_FILE).acquire(timeout=0):
        done, _ = _cli(data_copy, offline, "--prices")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: refresh: another refresh is running")


def test_cli_in_process_success_and_failure(data_copy, offline, reachable, monkeypatch, capsys):
    monkeypatch.setattr(config, "DATA_DIR", data_copy)
    monkeypatch.setattr(yfinance, "download", fake_download({"MSFT": old_closes(data_copy, "MSFT")}))
    assert main(["refresh", "--prices", "--ticker", "MSFT"]) == 0
    out = capsys.readouterr()
    assert "prices: " in out.out and "rows as of 2026-09-25 written (prices.parquet)" in out.out
    assert "[100%] refresh: done" in out.err
    assert main(["refresh", "--ticker", "FOO"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: refresh: unknown ticker(s) FOO")
