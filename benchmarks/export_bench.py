"""CSV export speed: ``export_csv`` (columns converted at once with Arrow compute, rows joined
once) against the per-cell loop it replaced, on the same SYNTHETIC tables, measured in the same run.

Run from the repo root:  python benchmarks/export_bench.py [--rows 1000 10000 100000] [--repeats 3]

Two tables per size (SYNTHETIC: random returns and events, not market data):
- ``events``: the EVENTS.csv table ``reactions`` writes (25 columns), from an event study of
  rows / 4 events x the 4 default windows on the benchmark's synthetic returns;
- ``dense``: 17 columns where every float is distinct (8 of them), the worst case: formatting
  the floats (Arrow's shortest-digit cast, ``repr`` only for the few values in exponent
  notation) is then most of the cost.

The baseline is the old loop, kept only as the yardstick (``tests/test_export_vectorized.py``
holds it as the test oracle): one ``_cell`` call per cell over ``itertuples``, one ``writerow``
per row. Both outputs are checked byte-identical before timing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.timing import best_of, growth  # noqa: E402
from dashboard.exporting import export_csv  # noqa: E402
from tests.test_export_vectorized import cell_by_cell as per_cell_export  # noqa: E402


def synthetic_table(rows: int, seed: int = 3) -> pd.DataFrame:
    """SYNTHETIC: EVENTS.csv-like columns (ids, tickers, formula-like headlines, dates, floats
    with NaN, ints, bools, tuples of ids)."""
    rng = np.random.default_rng(seed)
    floats = rng.normal(0, 0.02, (rows, 8))
    floats[rng.random((rows, 8)) < 0.1] = np.nan
    table = pd.DataFrame(floats, columns=["alpha", "beta", "sigma", "car", "car_se", "car_t", "car_p", "car_alt"])
    table.insert(0, "event_id", [f"X{k:06d}" for k in range(rows)])
    table.insert(1, "ticker", rng.choice(np.array(["META", "MSFT", "=cmd", "-x", "AMZN"]), rows))
    table["event_date"] = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, rows), unit="D")
    table["day0"] = table["event_date"].where(rng.random(rows) > 0.05)
    table["window_start"] = rng.integers(-5, 1, rows)
    table["n_estimation"] = rng.integers(100, 240, rows)
    table["confounded"] = rng.random(rows) > 0.8
    table["confounded_by"] = [tuple(f"X{j:06d}" for j in range(k)) for k in rng.integers(0, 3, rows)]
    table["status"] = pd.Series(rng.choice(np.array(["ok", "gap_in_prices", "after_coverage"]), rows), dtype="str")
    return table


def events_table(rows: int) -> pd.DataFrame:
    """EVENTS.csv of a SYNTHETIC study with ``rows`` / 4 events (4 windows)."""
    from benchmarks.event_study_bench import synthetic_events, synthetic_returns
    from dashboard.metrics.event_study import EVENTS_FILE_COLUMNS, run_event_study

    returns = synthetic_returns()
    events = synthetic_events(returns, rows // 4, event_time="unknown")
    result = run_event_study(events, returns, companies=None, benchmark="MKT", sessions="rows")
    return result.events[list(EVENTS_FILE_COLUMNS)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"export_csv vs the per-cell loop (SYNTHETIC tables), best of {args.repeats}")
    for kind, build in (("events", events_table), ("dense", synthetic_table)):
        previous = None
        for rows in args.rows:
            table = build(rows)
            assert export_csv(table, with_metadata=False) == per_cell_export(table), "outputs differ"
            new, _ = best_of(args.repeats, lambda table=table: export_csv(table, with_metadata=False))
            old, _ = best_of(args.repeats, lambda table=table: per_cell_export(table))
            print(
                f"  {kind:6} {len(table):>7,} rows x {len(table.columns)} columns: per-cell loop {old:7.3f} s, "
                f"export_csv {new:7.3f} s: RATIO {old / new:5.1f}x (same bytes){growth(previous, rows, new, 'rows')}"
            )
            previous = (rows, new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
