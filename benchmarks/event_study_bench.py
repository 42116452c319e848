"""Event-study engine speed: curated events, and SYNTHETIC 1k-100k events against per-event loops.

Run from the repo root:  python benchmarks/event_study_bench.py [--sizes 1000 10000 100000]
[--loop-events N] [--full-loop] [--repeats 3] [--skip-curated] [--repo DIR]

- curated: the 96 curated events on the price snapshot (XNYS/XTKS calendars), engine and group
  statistics, best of 3.
- synthetic (labelled SYNTHETIC: random returns, not market data): 500 tickers x 10 years of
  business days, market model, the four default windows, events before the open (a known time
  of day). At each size: ``run_event_study`` (the engine with every extra: confounding flags,
  masking of other events' days, standardized residuals, statuses and the result tables), then
  ``group_statistics``; and, on the same events in the same run, **a plain per-event numpy
  loop** (slice, ``lstsq``, AR, CAR per window; no masking, no tables). Once more at 10,000
  events whose time of day is unknown: those also get ``day0_alt`` and ``car_alt`` from a second
  pass. The older baseline, a per-event loop of pandas slicing + statsmodels OLS + CARs and
  forecast-error SEs, is measured on ``--loop-events`` events (default 1,000) and extrapolated
  linearly to 10,000 (``--full-loop`` times it on all 10,000); its CARs and SEs are checked
  equal to the engine's (masking off).
- ``--repo DIR`` imports ``dashboard`` from another checkout (e.g. a worktree of an older
  commit, for the figures before a change).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import best_of, growth  # noqa: E402

N_TICKERS, N_YEARS, DAYS_PER_YEAR = 500, 10, 252
SIZES = (1_000, 10_000, 100_000)
ESTIMATION = (-250, -11)
WINDOWS = ((-1, 1), (0, 1), (-5, 5), (0, 20))


def synthetic_returns(seed: int = 0) -> pd.DataFrame:
    """SYNTHETIC: market N(3e-4, 1%), stock = a + b m + N(0, 1.5%), 500 tickers, 10 years."""
    rng = np.random.default_rng(seed)
    n_days = N_YEARS * DAYS_PER_YEAR
    index = pd.bdate_range("2014-01-01", periods=n_days)
    market = rng.normal(3e-4, 0.01, n_days)
    betas = rng.uniform(0.5, 1.5, N_TICKERS)
    noise = rng.normal(0, 0.015, (n_days, N_TICKERS))
    data = market[:, None] * betas[None, :] + noise
    frame = pd.DataFrame(data, index=index, columns=[f"T{i:03d}" for i in range(N_TICKERS)])
    frame["MKT"] = market
    return frame


def synthetic_events(returns: pd.DataFrame, n: int, seed: int = 1, event_time: str = "pre_market") -> pd.DataFrame:
    """SYNTHETIC events: random ticker, random day 0 with room for estimation and windows."""
    rng = np.random.default_rng(seed)
    days = rng.integers(260, len(returns) - 25, n)
    tickers = rng.integers(0, N_TICKERS, n)
    return pd.DataFrame(
        {
            "event_id": [f"X{k:06d}" for k in range(n)],
            "ticker": [f"T{t:03d}" for t in tickers],
            "event_date": returns.index[days],
            "event_time": event_time,
            "event_type": rng.choice(["earnings", "debt_issuance", "divestment"], n),
        }
    )


def numpy_loop(events: pd.DataFrame, returns: pd.DataFrame) -> np.ndarray:
    """Baseline: per event, slice the stock and benchmark, ``lstsq`` the market model, and sum the
    ARs of each window (events x windows CARs)."""
    matrix = returns.to_numpy(dtype=float)
    column_of = {name: k for k, name in enumerate(returns.columns)}
    benchmark = matrix[:, column_of["MKT"]]
    day0_rows = returns.index.get_indexer(events["event_date"])
    stock_columns = events["ticker"].map(column_of).to_numpy()
    first, last = min(start for start, _ in WINDOWS), max(end for _, end in WINDOWS)
    cars = np.empty((len(events), len(WINDOWS)))
    for event in range(len(events)):
        day0, column = day0_rows[event], stock_columns[event]
        estimation = slice(day0 + ESTIMATION[0], day0 + ESTIMATION[1] + 1)
        market, stock = benchmark[estimation], matrix[estimation, column]
        (alpha, beta), *_ = np.linalg.lstsq(np.column_stack([np.ones_like(market), market]), stock, rcond=None)
        abnormal = matrix[day0 + first : day0 + last + 1, column] - alpha - beta * benchmark[day0 + first : day0 + last + 1]
        for window, (start, end) in enumerate(WINDOWS):
            cars[event, window] = abnormal[start - first : end - first + 1].sum()
    return cars


def statsmodels_loop(events: pd.DataFrame, returns: pd.DataFrame) -> pd.DataFrame:
    """Older baseline: one pandas slice and one statsmodels OLS per event."""
    import statsmodels.api as sm

    rows = []
    for event in events.itertuples(index=False):
        day0 = returns.index.get_loc(event.event_date)
        estimation = returns.iloc[day0 + ESTIMATION[0] : day0 + ESTIMATION[1] + 1][[event.ticker, "MKT"]].dropna()
        fit = sm.OLS(estimation[event.ticker], sm.add_constant(estimation["MKT"])).fit()
        alpha, beta = fit.params["const"], fit.params["MKT"]
        variance, n = fit.scale, len(estimation)
        market_mean = estimation["MKT"].mean()
        market_sxx = ((estimation["MKT"] - market_mean) ** 2).sum()
        for start, end in WINDOWS:
            window = returns.iloc[day0 + start : day0 + end + 1]
            abnormal = window[event.ticker] - alpha - beta * window["MKT"]
            length = end - start + 1
            car_variance = variance * (length + length**2 / n + (window["MKT"].sum() - length * market_mean) ** 2 / market_sxx)
            rows.append((event.event_id, start, end, abnormal.sum(), math.sqrt(car_variance)))
    return pd.DataFrame(rows, columns=["event_id", "window_start", "window_end", "car", "car_se"])


def study(events: pd.DataFrame, returns: pd.DataFrame, **options):
    from dashboard.metrics.event_study import run_event_study

    return run_event_study(
        events, returns, companies=None, benchmark="MKT", sessions="rows", windows=WINDOWS, estimation=ESTIMATION, **options
    )


def curated() -> None:
    from dashboard.loaders.curated import close_prices, load_companies, load_events, load_prices
    from dashboard.metrics.caar import group_statistics
    from dashboard.metrics.event_study import run_event_study
    from dashboard.metrics.returns import returns_from_closes

    events, companies = load_events(), load_companies()
    returns = returns_from_closes(close_prices(load_prices()))
    run_event_study(events, returns, companies=companies)  # warm the calendar cache
    engine, result = best_of(3, lambda: run_event_study(events, returns, companies=companies))
    groups, _ = best_of(3, lambda: group_statistics(result, group_by="event_type"))
    print(
        f"curated: {len(events)} events x {len(result.windows)} windows: engine {engine * 1000:.0f} ms, "
        f"group statistics (event_type) {groups * 1000:.0f} ms"
    )


def synthetic(sizes: list[int], repeats: int) -> dict[int, float]:
    """Engine and numpy loop at each size; returns the engine's seconds per size."""
    from dashboard.metrics.caar import group_statistics

    returns = synthetic_returns()
    all_events = synthetic_events(returns, max(sizes))
    print(f"synthetic (SYNTHETIC data): {N_TICKERS} tickers x {len(returns)} days, market model, windows {list(WINDOWS)}")
    study(all_events.iloc[:100], returns)  # warm-up
    times, previous = {}, None
    for size in sizes:
        events = all_events.iloc[:size]
        runs = 1 if size >= 100_000 else repeats
        engine, result = best_of(runs, lambda events=events: study(events, returns))
        groups, _ = best_of(runs, lambda result=result: group_statistics(result, group_by="event_type"))
        loop, _ = best_of(runs, lambda events=events: numpy_loop(events, returns))
        times[size] = engine
        print(
            f"  {size:>7,} events: engine {engine:6.2f} s ({engine / size * 1e6:5.1f} us/event; + group statistics "
            f"{groups:5.2f} s); numpy loop {loop:6.2f} s: RATIO loop/engine {loop / engine:4.2f}x{growth(previous, size, engine)}"
        )
        previous = (size, engine)
    if 10_000 in sizes:
        unknown = all_events.iloc[:10_000].assign(event_time="unknown")
        seconds, _ = best_of(repeats, lambda: study(unknown, returns))
        print(f"   10,000 events of unknown time of day (+ day0_alt/car_alt pass): engine {seconds:6.2f} s")
    return times


def older_loop(loop_events: int, full_loop: bool, engine_10k: float) -> None:
    returns = synthetic_returns()
    n_loop = 10_000 if full_loop else loop_events
    subset = synthetic_events(returns, n_loop)
    start = time.perf_counter()
    baseline = statsmodels_loop(subset, returns)
    seconds = time.perf_counter() - start
    ours = study(subset, returns, mask_days=(1, 0)).events  # the loop masks nothing: compare unmasked
    np.testing.assert_allclose(ours["car"].to_numpy(), baseline["car"].to_numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours["car_se"].to_numpy(), baseline["car_se"].to_numpy(), rtol=1e-8)
    loop_10k = seconds / n_loop * 10_000
    how = "measured" if full_loop else f"measured on {n_loop:,} events, extrapolated linearly"
    print(
        f"  pandas + statsmodels loop: {seconds / n_loop * 1e3:.2f} ms/event, 10,000 events {loop_10k:.1f} s ({how}); "
        f"same CARs and SEs as the engine (masking off); RATIO at 10,000 events {loop_10k / engine_10k:.0f}x"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-events", type=int, default=1_000, help="events for the statsmodels loop (default 1000)")
    parser.add_argument("--full-loop", action="store_true", help="time the statsmodels loop on all 10,000 events")
    parser.add_argument("--skip-curated", action="store_true", help="only the synthetic case")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose dashboard package is timed")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.repo.resolve()))
    print(f"dashboard from {args.repo}")
    if not args.skip_curated:
        curated()
    times = synthetic(args.sizes, args.repeats)
    if 10_000 in times:
        older_loop(args.loop_events, args.full_loop, times[10_000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
