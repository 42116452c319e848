"""Golden outputs of the command line and of the one CSV export, frozen before their speed-up.

- ``cli/<case>/``: the files ``reactions``, ``funding-gap`` and ``export`` write (bytes), and
  what they print (``stdout.txt``, ``stderr.txt``, with the run's folder written ``<DIR>``), on
  the frozen snapshot (tests/fixtures/snapshot, never the live ``data/``) and on a SYNTHETIC
  seeded returns file (``synthetic_returns_file``: random returns, not market data).
- ``export/<name>.csv``: ``export_csv`` bytes of hand-built frames (``export_frames``) that hold
  formula payloads, quotes, newlines, numbers, NaN, dates, tuples, nullable types.

Regenerate (only when a change of output is intended, and say why in the commit) with
``python -m tests.golden_cli``.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("DASHBOARD_DATA_DIR", str(Path(__file__).resolve().parent / "fixtures" / "snapshot"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
CLI_GOLDEN = GOLDEN / "cli"
EXPORT_GOLDEN = GOLDEN / "export"
REACTION_OUTPUTS = ("--out", "--summary", "--daily", "--ar")


def synthetic_returns_file(seed: int = 11) -> pd.DataFrame:
    """SYNTHETIC wide returns (not market data): 12 tickers and a market ``MKT`` on business days
    2020-2023; ``T03`` lists late, ``T07`` stops early, ``T05`` has scattered empty cells."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2020-01-01", "2023-12-29")
    market = rng.normal(3e-4, 0.01, len(index))
    frame = pd.DataFrame({"MKT": market}, index=index)
    for k in range(12):
        frame[f"T{k:02d}"] = 1e-4 * k + (0.6 + 0.1 * k) * market + rng.normal(0, 0.015, len(index))
    frame.iloc[:300, frame.columns.get_loc("T03")] = np.nan
    frame.iloc[-60:, frame.columns.get_loc("T07")] = np.nan
    frame.iloc[rng.choice(np.arange(280, len(index) - 30), 15, replace=False), frame.columns.get_loc("T05")] = np.nan
    frame.index.name = "date"
    return frame


def synthetic_events_file(returns: pd.DataFrame, seed: int = 12, n: int = 150) -> pd.DataFrame:
    """SYNTHETIC events on ``synthetic_returns_file``: random tickers and dates (some on
    weekends), every time of day, clusters of the same ticker a few days apart."""
    rng = np.random.default_rng(seed)
    tickers = [c for c in returns.columns if c != "MKT"]
    dates = returns.index[rng.integers(200, len(returns) - 3, n)] + pd.to_timedelta(rng.integers(0, 2, n) * 5, unit="D")
    frame = pd.DataFrame(
        {
            "event_id": [f"S{k:03d}" for k in range(n)],
            "ticker": rng.choice(np.array(tickers), n),
            "event_date": dates.strftime("%Y-%m-%d"),
            "event_time": rng.choice(np.array(["after_close", "pre_market", "intraday", "unknown", ""]), n),
            "event_type": rng.choice(np.array(["earnings", "debt_issuance", "divestment", "other"]), n),
        }
    )
    cluster = frame.iloc[:6].copy()
    cluster["event_id"] = [f"C{k:02d}" for k in range(6)]
    cluster["ticker"] = "T01"
    cluster["event_date"] = (pd.Timestamp("2022-06-06") + pd.to_timedelta([0, 1, 3, 8, 8, 30], unit="D")).strftime("%Y-%m-%d")
    return pd.concat([frame, cluster], ignore_index=True)


USER_EVENTS = (
    "event_id,ticker,event_date,event_time,event_type\n"
    "MINE1,META,2025-10-29,after_close,earnings\n"
    "MINE2,MSFT,2025-06-02,unknown,debt_issuance\n"
    "MINE3,AMZN,2025-02-08,pre_market,earnings\n"
    "MINE4,NOPE,2025-03-03,intraday,other\n"
    "MINE5,GOOGL,2025-13-01,intraday,other\n"
    "MINE6,ORCL,2025-09-10,,jv_spv_financing\n"
)


def write_inputs(folder: Path) -> None:
    """The input files of ``cli_cases`` in ``folder``."""
    returns = synthetic_returns_file()
    returns.to_csv(folder / "returns.csv")
    synthetic_events_file(returns).to_csv(folder / "events.csv", index=False)
    (folder / "mine.csv").write_text(USER_EVENTS, encoding="utf-8")


def cli_cases(folder: Path) -> dict[str, list[str]]:
    """Case name -> command-line arguments, reading the inputs ``write_inputs`` puts in ``folder``."""
    return {
        "reactions_curated_default": ["reactions"],
        "reactions_curated_peer_log": [
            "reactions",
            "--model",
            "peer",
            "--return-type",
            "log",
            "--window=-1,1",
            "--window=0,5",
            "--estimation=-200,-11",
            "--group-by",
            "ticker",
        ],
        "reactions_curated_user_events": [
            "reactions",
            "--events",
            str(folder / "mine.csv"),
            "--model",
            "market_adjusted",
            "--group-by",
            "all",
        ],
        "reactions_synthetic_market": [
            "reactions",
            "--returns",
            str(folder / "returns.csv"),
            "--events",
            str(folder / "events.csv"),
            "--benchmark",
            "MKT",
        ],
        "reactions_synthetic_constant_mean": [
            "reactions",
            "--returns",
            str(folder / "returns.csv"),
            "--events",
            str(folder / "events.csv"),
            "--model",
            "constant_mean",
            "--window=0,0",
            "--window=-2,2",
            "--group-by",
            "ticker",
            "--min-estimation",
            "60",
            "--estimation=-120,-3",
        ],
        "funding_gap_quarter": ["funding-gap"],
        "funding_gap_ttm_economic": ["funding-gap", "--period", "ttm", "--capex", "economic", "--ticker", "META", "--ticker", "orcl"],
        "funding_gap_forward": ["funding-gap", "--forward"],
        "export_events_meta": ["export", "events", "--ticker", "META"],
        "export_fundamentals": ["export", "fundamentals"],
        "export_manifest": ["export", "manifest"],
    }


def run_case(arguments: list[str], folder: Path) -> dict[str, bytes]:
    """Run one command in-process; return every file it wrote and what it printed."""
    from dashboard.__main__ import main

    arguments = list(arguments)
    outputs = REACTION_OUTPUTS if arguments[0] == "reactions" else ("--out",)
    names = {option: folder / f"{option.strip('-')}.csv" for option in outputs}
    for option, path in names.items():
        path.unlink(missing_ok=True)
        arguments += [option, str(path)]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(arguments)
    found = {f"{option.strip('-')}.csv": path.read_bytes() for option, path in names.items() if path.exists()}
    found["stdout.txt"] = stdout.getvalue().replace(str(folder), "<DIR>").encode()
    found["stderr.txt"] = stderr.getvalue().replace(str(folder), "<DIR>").encode()
    found["exit_code.txt"] = f"{code}\n".encode()
    return found


def export_frames() -> dict[str, tuple[pd.DataFrame, dict]]:
    """Name -> (frame, export_csv keywords): the kinds of cells the export must write exactly."""
    rng = np.random.default_rng(5)
    n = 400
    payloads = np.array(
        ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx", "plain", 'say "hi", ok', "two\nlines", "a=b", "", "é ü 漢", "#hash", " lead", "-"],
        dtype=object,
    )
    floats = rng.normal(0, 1, n) * 10.0 ** rng.integers(-8, 18, n)
    floats[::17] = np.nan
    floats[5], floats[6], floats[7], floats[8] = -0.0, 1e16, 1e-5, 123456789.125
    mixed = np.empty(n, dtype=object)
    mixed[:] = [("EV1", "EV2"), (), 3, 2.5, None, "=x", True, pd.Timestamp("2024-01-02"), ["-a", "b"], np.nan] * (n // 10)
    table = pd.DataFrame(
        {
            "text": rng.choice(payloads, n),
            "text_missing": pd.Series(rng.choice(payloads, n)).where(rng.random(n) > 0.2),
            "string_dtype": pd.array(rng.choice(payloads, n), dtype="string"),
            "number": floats,
            "integer": rng.integers(-(10**12), 10**12, n),
            "nullable_int": pd.array(np.where(rng.random(n) > 0.3, rng.integers(-5, 5, n), None), dtype="Int64"),
            "flag": rng.random(n) > 0.5,
            "nullable_flag": pd.array(np.where(rng.random(n) > 0.3, rng.random(n) > 0.5, None), dtype="boolean"),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
            "date_missing": (pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")).where(rng.random(n) > 0.25),
            "moment": pd.Timestamp("2024-01-01 09:30") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="min"),
            "ids": [tuple(f"EV{k:03d}" for k in range(m)) for m in rng.integers(0, 3, n)],
            "category": pd.Categorical(rng.choice(np.array(["a", "=b", "c"]), n)),
            "mixed": mixed,
            "float32": rng.normal(0, 1, n).astype(np.float32),
        }
    )
    table.loc[3, "moment"] = pd.Timestamp("2024-02-02")  # a midnight among times of day
    headers = pd.DataFrame({"=cmd": ["x"], "+b": [1.0], "plain": [pd.NA], 7: [np.nan]})
    return {
        "table_plain": (table, {"with_metadata": False}),
        "table_metadata": (
            table.iloc[:50],
            {
                "params": {"company": "META", "windows": "-1:1,0:20", "n": 3, "x": np.nan},
                "as_of": {"prices": "2026-09-25", "events": "=2026"},
                "name": "=name",
                "data_version": "4beb07cf17",
            },
        ),
        "headers": (headers, {"params": {}, "as_of": "2026-01-01"}),
        "empty": (table.iloc[:0], {"params": {"p": 1}, "as_of": None}),
        "no_columns": (pd.DataFrame(index=range(3)), {"with_metadata": False}),
        "single_empty_text": (pd.DataFrame({"a": ["", None, "x"]}), {"with_metadata": False}),
    }


def export_bytes(name: str) -> bytes:
    from dashboard.exporting import export_csv

    frame, keywords = export_frames()[name]
    return export_csv(frame, **keywords)


def regenerate() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_inputs(folder)
        for case, arguments in cli_cases(folder).items():
            target = CLI_GOLDEN / case
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for name, data in run_case(arguments, folder).items():
                (target / name).write_bytes(data)
    EXPORT_GOLDEN.mkdir(parents=True, exist_ok=True)
    for name in export_frames():
        (EXPORT_GOLDEN / f"{name}.csv").write_bytes(export_bytes(name))


if __name__ == "__main__":
    regenerate()
