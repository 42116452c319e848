"""Reading a ``reactions --returns`` file: the fast path (pyarrow parses floats) against the
cell-by-cell read it falls back to, and against the read it replaced, same run, same file.

Run from the repo root:  python benchmarks/returns_file_bench.py [--tickers 50 500] [--repeats 3]

SYNTHETIC wide returns (random, not market data): 10 years of business days x N tickers, written
as CSV (and Parquet). Baselines: the cell-by-cell read of ``loaders.returns_file`` (what a file
with a bad cell gets, to report every issue), and the old reader (every cell as text, then
``pandas.to_numeric`` per column), re-stated here only as the yardstick. All return the same
floats (checked).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import best_of, growth  # noqa: E402
from dashboard.loaders import returns_file  # noqa: E402


def synthetic_file(folder: Path, tickers: int) -> Path:
    rng = np.random.default_rng(tickers)
    index = pd.bdate_range("2014-01-01", periods=2520, name="date")
    frame = pd.DataFrame(rng.normal(0, 0.015, (len(index), tickers)), index=index, columns=[f"T{k:03d}" for k in range(tickers)])
    frame.iloc[:300, 0] = np.nan
    path = folder / f"returns_{tickers}.csv"
    frame.to_csv(path)
    frame.to_parquet(path.with_suffix(".parquet"))
    return path


def text_then_to_numeric(path: Path) -> pd.DataFrame:
    """The old reader: text cells, stripped, then ``to_numeric`` column by column."""
    raw = pd.read_csv(io.StringIO(path.read_text(encoding="utf-8-sig")), dtype=str, keep_default_na=False)
    raw = raw.apply(lambda s: s.str.strip())
    values = {
        c: pd.to_numeric(raw[c].replace({"": None, "NA": None, "NaN": None, "nan": None}), errors="coerce")
        for c in raw.columns
        if c != "date"
    }
    frame = pd.DataFrame(values)
    frame.index = pd.DatetimeIndex(pd.to_datetime(raw["date"], format="%Y-%m-%d"), name="date")
    return frame.sort_index().astype(float)


def cell_by_cell(path: Path) -> pd.DataFrame:
    text = path.read_text(encoding="utf-8-sig")
    return returns_file._checked(*returns_file._text_table(text, str(path)), str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"--returns file, 2,520 rows (SYNTHETIC), best of {args.repeats}")
    previous = None
    with tempfile.TemporaryDirectory() as tmp:
        for tickers in args.tickers:
            path = synthetic_file(Path(tmp), tickers)
            fast, frame = best_of(args.repeats, lambda path=path: returns_file.read_returns_file(path))
            parquet, from_parquet = best_of(args.repeats, lambda path=path: returns_file.read_returns_file(path.with_suffix(".parquet")))
            slow, checked = best_of(args.repeats, lambda path=path: cell_by_cell(path))
            old, before = best_of(args.repeats, lambda path=path: text_then_to_numeric(path))
            for other in (checked, before, from_parquet):
                np.testing.assert_array_equal(frame.to_numpy(), other.to_numpy())
            print(
                f"  {tickers:>4} tickers: fast CSV {fast:6.3f} s, Parquet {parquet:6.3f} s, cell by cell {slow:6.3f} s, "
                f"old text+to_numeric {old:6.3f} s: RATIO old/fast {old / fast:5.1f}x, cell-by-cell/fast "
                f"{slow / fast:5.1f}x{growth(previous, tickers, fast, 'tickers')}"
            )
            previous = (tickers, fast)
    return 0


if __name__ == "__main__":
    sys.exit(main())
