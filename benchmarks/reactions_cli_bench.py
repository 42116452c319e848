"""``reactions`` end to end through the command line, against a per-event pandas loop, same run.

Run from the repo root:  python benchmarks/reactions_cli_bench.py [--events 1000 10000 100000]
[--loop-events 1000] [--full-loop] [--repeats 3] [--ar] [--repo DIR]

``--repo DIR`` runs the command of another checkout (e.g. ``git worktree add /tmp/before <commit>``
for the figures before a change), with the same inputs and the same baseline.

SYNTHETIC data (random returns, not market data): 500 tickers x 10 years of business days and a
market column ``MKT`` as a wide returns CSV, events of known time of day on random tickers and
dates (``event_study_bench``), 3 windows (-1,1 0,1 -5,5), market model, ``--benchmark MKT``,
``--out``, ``--summary`` and ``--daily`` (and ``--ar`` with ``--ar``).

- **CLI**: ``python -m dashboard reactions ...`` as a subprocess, wall time, best of
  ``--repeats``, and its peak memory (the child's maximum resident set, from ``wait4``).
- **Start-up**: the same command with the same options on a one-event file and a returns file
  with one ticker (and the benchmark column), so imports and fixed costs count as start-up
  wherever they happen. Net time = CLI time - start-up.
- **Baseline**: a per-event pandas loop in this process: ``pandas.read_csv`` of the same returns
  file, then per event a pandas slice, the market model by its closed form (``Series.cov`` /
  ``Series.var``), and the CAR and its forecast-error SE per window, written with
  ``DataFrame.to_csv``. Timed on ``--loop-events`` events and
  extrapolated linearly to each size (a loop's cost is linear in events by construction; the
  read is counted once); ``--full-loop`` runs it on every size instead.

Prints, per size, the ratio loop / net CLI time, and how net time and peak memory per event grow
from 1,000 to 100,000 events.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.event_study_bench import synthetic_events, synthetic_returns  # noqa: E402
from benchmarks.timing import growth  # noqa: E402

WINDOWS = ("--window=-1,1", "--window=0,1", "--window=-5,5")
WINDOW_BOUNDS = ((-1, 1), (0, 1), (-5, 5))


def run_cli(arguments: list[str], repo: Path = ROOT) -> tuple[float, int]:
    """(wall seconds, peak resident KiB) of one ``python -m dashboard`` run in ``repo``."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "dashboard", *arguments], cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"reactions failed: {child.stderr.read().decode()[-500:]}")
    child.stderr.close()
    return seconds, usage.ru_maxrss


def reactions_arguments(returns: Path, events: Path, folder: Path, with_ar: bool) -> list[str]:
    outputs = [
        "--out",
        str(folder / "events_out.csv"),
        "--summary",
        str(folder / "summary.csv"),
        "--daily",
        str(folder / "daily.csv"),
        *(["--ar", str(folder / "ar.csv")] if with_ar else []),
    ]
    return ["reactions", "--returns", str(returns), "--events", str(events), "--benchmark", "MKT", *WINDOWS, *outputs]


def best_cli(arguments: list[str], repeats: int, repo: Path = ROOT) -> tuple[float, int]:
    runs = [run_cli(arguments, repo) for _ in range(repeats)]
    return min(seconds for seconds, _ in runs), max(memory for _, memory in runs)


def pandas_loop(returns_path: Path, events: pd.DataFrame, out: Path) -> None:
    """Baseline: read with pandas, then per event a pandas slice, the market model by its closed
    form (``cov / var``), and the CAR and its forecast-error SE per window; ``to_csv``."""
    returns = pd.read_csv(returns_path, index_col="date", parse_dates=["date"])
    rows = []
    for event in events.itertuples(index=False):
        p0 = returns.index.get_loc(pd.Timestamp(event.event_date))
        estimation = returns.iloc[p0 - 250 : p0 - 10][[event.ticker, "MKT"]].dropna()
        stock, market = estimation[event.ticker], estimation["MKT"]
        beta = stock.cov(market) / market.var()
        alpha, n = stock.mean() - beta * market.mean(), len(estimation)
        sigma2 = ((stock - alpha - beta * market) ** 2).sum() / (n - 2)
        mean, sxx = market.mean(), ((market - market.mean()) ** 2).sum()
        for a, b in WINDOW_BOUNDS:
            window = returns.iloc[p0 + a : p0 + b + 1]
            length = b - a + 1
            variance = sigma2 * (length + length**2 / n + (window["MKT"].sum() - length * mean) ** 2 / sxx)
            rows.append((event.event_id, a, b, (window[event.ticker] - alpha - beta * window["MKT"]).sum(), math.sqrt(variance)))
    pd.DataFrame(rows, columns=["event_id", "window_start", "window_end", "car", "car_se"]).to_csv(out, index=False)


def loop_seconds(returns_path: Path, events: pd.DataFrame, folder: Path) -> tuple[float, float]:
    """(seconds to read the file with pandas, seconds per event of the loop after the read)."""
    start = time.perf_counter()
    pd.read_csv(returns_path, index_col="date", parse_dates=["date"])
    read = time.perf_counter() - start
    start = time.perf_counter()
    pandas_loop(returns_path, events, folder / "loop.csv")
    total = time.perf_counter() - start
    return read, max(total - read, 0.0) / len(events)


def write_inputs(folder: Path, sizes: list[int]) -> tuple[Path, Path, dict[int, Path], Path, pd.DataFrame]:
    returns = synthetic_returns()
    returns.index.name = "date"
    returns_path = folder / "returns.csv"
    returns.to_csv(returns_path)
    events = synthetic_events(returns, max(sizes))
    events["event_date"] = pd.DatetimeIndex(events["event_date"]).strftime("%Y-%m-%d")
    paths = {}
    for size in sizes:
        paths[size] = folder / f"events_{size}.csv"
        events.iloc[:size].to_csv(paths[size], index=False)
    one = events.iloc[:1]
    one_path = folder / "events_one.csv"
    one.to_csv(one_path, index=False)
    one_ticker = folder / "returns_one_ticker.csv"
    returns[[one["ticker"].iloc[0], "MKT"]].to_csv(one_ticker)
    return returns_path, one_ticker, paths, one_path, events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--loop-events", type=int, default=1_000)
    parser.add_argument("--full-loop", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ar", action="store_true", help="also write AR.csv")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose command is timed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        returns_path, one_ticker, paths, one_path, events = write_inputs(folder, args.events)
        startup, startup_memory = best_cli(reactions_arguments(one_ticker, one_path, folder, args.ar), args.repeats, args.repo)
        print(
            f"reactions CLI of {args.repo} (SYNTHETIC: 500 tickers x 2,520 days, {len(WINDOWS)} windows, market "
            f"model{', AR.csv too' if args.ar else ''}); best of {args.repeats}"
        )
        print(f"  start-up (one event, one-ticker returns file): {startup:.2f} s, peak {startup_memory / 1024:.0f} MiB")
        read, per_event = loop_seconds(returns_path, events.iloc[: args.loop_events], folder)
        print(f"  pandas loop: read {read:.2f} s + {per_event * 1e3:.2f} ms/event (measured on {args.loop_events:,} events)")
        previous = None
        for size in args.events:
            seconds, memory = best_cli(
                reactions_arguments(returns_path, paths[size], folder, args.ar), 1 if size >= 100_000 else args.repeats, args.repo
            )
            net = seconds - startup
            if args.full_loop:
                start = time.perf_counter()
                pandas_loop(returns_path, events.iloc[:size], folder / "loop.csv")
                loop, how = time.perf_counter() - start, "measured"
            else:
                loop, how = read + per_event * size, "extrapolated"
            print(
                f"  {size:>7,} events: CLI {seconds:6.2f} s (net {net:6.2f} s), peak {memory / 1024:5.0f} MiB "
                f"= {memory / size:6.1f} KiB/event; loop {loop:7.1f} s ({how}); RATIO loop/net {loop / net:5.1f}x"
                f"{growth(previous, size, net)}"
            )
            previous = (size, net)
    return 0


if __name__ == "__main__":
    sys.exit(main())
