"""Golden outputs of the event-study engine, frozen before its split into modules.

No case reads the live ``data/``, so a rebuilt ``data/`` never changes them:

- ``estudy2_*``: the public estudy2 sample in tests/fixtures/event_study (7 firms, one date).
- ``snapshot_curated``: the curated events on the frozen snapshot (tests/fixtures/snapshot, never
  the live ``data/``), returns as the ``reactions`` command builds them, default settings.
- ``synthetic_*``: SYNTHETIC seeded returns (not market data) for five tickers on two exchange
  calendars (XNYS, XTKS), with gaps, late listings, clustered same-company events, weekend and
  holiday dates, every time of day, a missing date and a ticker without prices, run with each
  model, with exchange calendars and with the rows of the returns as sessions.

Each case saves ``events``, ``abnormal``, ``parameters``, the ``group_statistics`` summary and
daily tables and ``car_paths`` under tests/golden/event_study/<case>__<table>.csv. Regenerate
(only when a change of numbers is intended, and say why in the commit) with
``python -m tests.event_study_golden``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

FIXTURES = Path(__file__).parent / "fixtures" / "event_study"
SNAPSHOT = Path(__file__).parent / "fixtures" / "snapshot"
GOLDEN = Path(__file__).parent / "golden" / "event_study"
TABLES = ("events", "abnormal", "parameters", "summary", "daily", "car_paths")
SYNTHETIC_TICKERS = ("AAA", "BBB", "CCC", "DDD", "JJJ")


def synthetic_returns(seed: int = 20240611) -> pd.DataFrame:
    """SYNTHETIC: business days 2021-2023; market N(3e-4, 1%); stock = a + b m + N(0, 1.5%).

    CCC lists late (NaN for its first 320 rows), BBB stops 40 rows before the end, AAA has
    missing days, JJJ (Tokyo) follows its own market JMK.
    """
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2021-01-01", "2023-12-29")
    n = len(index)
    market, japan = rng.normal(3e-4, 0.01, n), rng.normal(2e-4, 0.012, n)
    frame = pd.DataFrame({"MKT": market, "JMK": japan}, index=index)
    for k, ticker in enumerate(SYNTHETIC_TICKERS):
        factor = japan if ticker == "JJJ" else market
        frame[ticker] = 1e-4 * k + (0.7 + 0.15 * k) * factor + rng.normal(0, 0.015, n)
    frame.iloc[:320, frame.columns.get_loc("CCC")] = np.nan
    frame.iloc[-40:, frame.columns.get_loc("BBB")] = np.nan
    frame.iloc[rng.choice(np.arange(300, n - 30), 12, replace=False), frame.columns.get_loc("AAA")] = np.nan
    return frame


def synthetic_companies() -> pd.DataFrame:
    """SYNTHETIC companies table: four US tickers in one peer group, one Tokyo ticker alone."""
    return pd.DataFrame(
        {
            "ticker": list(SYNTHETIC_TICKERS),
            "market_benchmark": ["MKT", "MKT", "MKT", "MKT", "JMK"],
            "calendar": ["XNYS", "XNYS", "XNYS", "XNYS", "XTKS"],
            "peer_group": ["us", "us", "us", "us", "jp"],
        }
    )


def synthetic_events(returns: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """SYNTHETIC events: 40 random ones plus hand-placed clusters and edge cases."""
    rng = np.random.default_rng(seed)
    times = np.array(["after_close", "pre_market", "intraday", "unknown", None], dtype=object)
    types = np.array(["earnings", "debt_issuance", "divestment"])
    n = 40
    random = pd.DataFrame(
        {
            "event_id": [f"R{k:03d}" for k in range(n)],
            "ticker": rng.choice(np.array(SYNTHETIC_TICKERS), n),
            "event_date": returns.index[rng.integers(150, len(returns) - 5, n)],
            "event_time": rng.choice(times, n),
            "event_type": rng.choice(types, n),
        }
    )
    day = returns.index
    edge = pd.DataFrame(
        [
            ("C001", "AAA", day[500], "after_close", "earnings"),  # a cluster: C001..C003
            ("C002", "AAA", day[501], "unknown", "debt_issuance"),
            ("C003", "AAA", day[503], "pre_market", "divestment"),
            ("C004", "AAA", day[501], "intraday", "earnings"),  # same session as C002
            ("D001", "DDD", pd.Timestamp("2022-07-02"), "unknown", "earnings"),  # a Saturday
            ("D002", "DDD", pd.Timestamp("2022-07-04"), "after_close", "divestment"),  # a NYSE holiday
            ("D003", "DDD", pd.Timestamp("2022-07-05"), "unknown", "debt_issuance"),
            ("J001", "JJJ", pd.Timestamp("2022-05-03"), "unknown", "earnings"),  # Golden Week
            ("J002", "JJJ", pd.Timestamp("2022-05-06"), "after_close", "debt_issuance"),
            ("J003", "JJJ", day[-2], "unknown", "divestment"),  # after coverage
            ("E001", "CCC", day[330], "unknown", "earnings"),  # listed just before
            ("E002", "BBB", day[-45], "after_close", "earnings"),  # prices stop 40 rows later
            ("E003", "ZZZ", day[400], "unknown", "earnings"),  # no prices
            ("E004", "AAA", pd.NaT, "unknown", "earnings"),  # no date
            ("E005", "AAA", day[20], "after_close", "debt_issuance"),  # before coverage
        ],
        columns=["event_id", "ticker", "event_date", "event_time", "event_type"],
    )
    return pd.concat([random, edge], ignore_index=True)


def _synthetic(model: str, **settings) -> Callable[[], tuple[object, str]]:
    def run():
        from dashboard.metrics.event_study import run_event_study

        returns = synthetic_returns()
        result = run_event_study(synthetic_events(returns), returns, companies=synthetic_companies(), model=model, **settings)
        return result, "event_type"

    return run


def _synthetic_rows() -> tuple[object, str]:
    """Rows of the returns as sessions, log returns, a user-style subset with confounders."""
    from dashboard.metrics.event_study import run_event_study

    returns = synthetic_returns()
    events = synthetic_events(returns)
    studied = events[events["ticker"].isin(["AAA", "CCC", "JJJ"])]
    result = run_event_study(
        studied.drop(columns="event_type"),
        returns,
        companies=None,
        model="market",
        benchmark="MKT",
        estimation=(-120, -6),
        windows=((-2, 2), (0, 0), (-1, 3)),
        min_estimation=30,
        return_type="log",
        sessions="rows",
        mask_days=(-2, 2),
        confounders=events,
    )
    return result, "ticker"


def _estudy2() -> tuple[object, str]:
    from dashboard.loaders.returns_file import read_returns_file
    from dashboard.metrics.event_study import run_event_study

    returns = read_returns_file(FIXTURES / "returns_log.csv").drop(columns="rel_day")
    events = pd.read_csv(FIXTURES / "events_covid.csv", parse_dates=["event_date"])
    result = run_event_study(
        events,
        returns,
        companies=None,
        model="market",
        benchmark="GSPC",
        windows=((-1, 1), (0, 0), (-5, 5), (0, 20)),
        return_type="log",
        sessions="rows",
    )
    return result, "all"


def _snapshot_curated() -> tuple[object, str]:
    from dashboard import config
    from dashboard.loaders.curated import close_prices, load_companies, load_events, load_prices
    from dashboard.metrics.event_study import run_event_study
    from dashboard.metrics.returns import returns_from_closes

    if Path(config.DATA_DIR).resolve() != SNAPSHOT.resolve():
        raise RuntimeError(f"the curated golden case reads the frozen snapshot, not {config.DATA_DIR}")
    returns = returns_from_closes(close_prices(load_prices()))
    return run_event_study(load_events(), returns, companies=load_companies()), "event_type"


CASES: dict[str, Callable[[], tuple[object, str]]] = {
    "estudy2_market_log": _estudy2,
    "snapshot_curated": _snapshot_curated,
    "synthetic_market": _synthetic("market"),
    "synthetic_market_adjusted": _synthetic("market_adjusted", windows=((-1, 1), (0, 5), (-3, 0))),
    "synthetic_constant_mean": _synthetic("constant_mean", estimation=(-150, -21), min_estimation=60),
    "synthetic_peer": _synthetic("peer"),
    "synthetic_market_no_mask": _synthetic("market", mask_days=(1, 0), benchmark="MKT"),
    "synthetic_rows_confounders": _synthetic_rows,
}


def golden_tables(case: str) -> dict[str, pd.DataFrame]:
    """The six tables of one case, from the current engine."""
    from dashboard.metrics import event_study
    from dashboard.metrics.caar import group_statistics

    result, group_by = CASES[case]()
    summary, daily = group_statistics(result, group_by=group_by)
    return {
        "events": result.events,
        "abnormal": result.abnormal,
        "parameters": result.parameters,
        "summary": summary,
        "daily": daily,
        "car_paths": event_study.car_paths(result),
    }


def as_csv_text(frame: pd.DataFrame) -> str:
    """The CSV text golden files are stored as (floats at full precision)."""
    return frame.to_csv(index=False, lineterminator="\n")


def read_golden_text(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""], dtype=str)


def golden_path(case: str, table: str) -> Path:
    return GOLDEN / f"{case}__{table}.csv"


def write_golden() -> list[Path]:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    written = []
    for case in CASES:
        for table, frame in golden_tables(case).items():
            path = golden_path(case, table)
            path.write_text(as_csv_text(frame), encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    import os

    os.environ["DASHBOARD_DATA_DIR"] = str(SNAPSHOT.resolve())  # as tests/conftest.py does
    for path in write_golden():
        print(path)
