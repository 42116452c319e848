"""``funding-gap``: the funding gap per company and period, and what covered it, as a CSV.

``python -m dashboard funding-gap [--ticker T]... [--period quarter|ttm|fiscal_year|calendar_quarter|calendar_year]
[--capex reported|economic] [--forward] --out FILE.csv``

All covered companies with fundamentals by default. ``--forward`` writes the forward view (one
row per capex-guidance vintage) instead of the historical table. Amounts in USD millions.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from dashboard.errors import DataUnavailable
from dashboard.exporting import export_csv
from dashboard.commands.common import as_of_text
from dashboard.loaders.curated import (
    load_companies,
    load_events,
    load_fundamentals,
    load_fundamentals_flags,
    load_guidance,
)
from dashboard.loaders.snapshot import atomic_write_bytes
from dashboard.metrics.forward import forward_view
from dashboard.metrics.funding import CAPEX_BASES, funding_table
from dashboard.metrics.periods import PERIODS

NAME = "funding-gap"
HELP = "write the funding gap (capex - internal funding) and what covered it, per company and period, to a CSV"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ticker", action="append", metavar="T", help="a company ticker (repeat for several); default: all"
    )
    parser.add_argument("--period", choices=PERIODS, default="quarter", help="period of each row (default: quarter)")
    parser.add_argument(
        "--capex",
        choices=CAPEX_BASES,
        default="reported",
        help="reported = purchases of P&E; economic = plus finance-lease principal (default: reported)",
    )
    parser.add_argument(
        "--forward", action="store_true", help="write the forward view instead: implied gap and new debt per capex-guidance vintage (--period and --capex do not apply)"
    )
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help="the CSV to write")


def run(args: argparse.Namespace) -> int:
    companies = load_companies()
    fundamentals = load_fundamentals()
    known = companies["ticker"].tolist()
    with_data = set(fundamentals["ticker"])
    if args.ticker:
        requested = list(dict.fromkeys(t.strip().upper() for t in args.ticker))
        unknown = [t for t in requested if t not in known]
        if unknown:
            raise DataUnavailable(f"unknown ticker(s): {', '.join(unknown)} (known: {', '.join(known)})")
        without = [t for t in requested if t not in with_data]
        if without:
            raise DataUnavailable(f"no fundamentals for: {', '.join(without)}")
    else:
        requested = [t for t in known if t in with_data]
    skipped = [t for t in known if t not in with_data and not args.ticker]
    chosen = fundamentals[fundamentals["ticker"].isin(requested)]

    if args.forward:
        guidance = load_guidance()
        guidance = guidance[guidance["ticker"].isin(requested)]
        table = forward_view(chosen, guidance, companies=companies)
        what = f"{len(table)} guidance vintages (forward view, USD millions; guidance USD bn x 1000)"
    else:
        flags = load_fundamentals_flags(fundamentals=fundamentals)
        table = funding_table(
            chosen, load_events(), companies=companies, flags=flags, period=args.period, capex_basis=args.capex
        )
        what = f"{len(table)} rows (period={args.period}, capex={args.capex}, USD millions)"
    # Plain CSV (header first) as other tools read it; text cells still cannot start a formula.
    atomic_write_bytes(args.out, export_csv(table, with_metadata=False))
    tickers = ", ".join(sorted(set(table["ticker"])))
    skipped_text = f"; skipped (no fundamentals): {', '.join(skipped)}" if skipped else ""
    print(f"funding-gap: wrote {what} for {tickers} to {args.out}{skipped_text}; {as_of_text('fundamentals', 'events', 'guidance')}")
    return 0
