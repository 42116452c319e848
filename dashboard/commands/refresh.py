"""``refresh``: re-download prices (Yahoo Finance via yfinance) and fill fundamentals (SEC EDGAR).

``python -m dashboard refresh [--prices] [--fundamentals] [--ticker T]...``: neither flag means
both; ``--ticker`` repeats. Exit 0 when the new snapshot is written; 2 with one line naming the
source and the failure otherwise (the previous snapshot and manifest stay as they were).
"""

from __future__ import annotations

import argparse
import sys

NAME = "refresh"
HELP = (
    "refresh the price (yfinance) and/or fundamentals (SEC EDGAR) snapshots; all or nothing, "
    "one refresh at a time; needs SEC_USER_AGENT for fundamentals"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prices", action="store_true", help="refresh daily prices from Yahoo Finance")
    parser.add_argument("--fundamentals", action="store_true", help="fill fundamentals gaps from SEC EDGAR")
    parser.add_argument(
        "--ticker",
        action="append",
        metavar="T",
        dest="tickers",
        help="only this ticker (repeat for more); default: every covered ticker",
    )


def _print_progress(fraction: float, message: str) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from dashboard.loaders.refresh import refresh

    both = not args.prices and not args.fundamentals
    result = refresh(
        prices=args.prices or both,
        fundamentals=args.fundamentals or both,
        tickers=args.tickers,
        progress=_print_progress,
    )
    print("\n".join(result.lines()))
    return 0
