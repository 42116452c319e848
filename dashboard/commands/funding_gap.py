"""``funding-gap``: the funding gap per company and period, and what covered it, as a CSV.

``python -m dashboard funding-gap [--ticker T]... [--period quarter|ttm|fiscal_year|calendar_quarter|calendar_year]
[--capex reported|economic] [--forward] --out FILE.csv``

All covered companies with fundamentals by default. ``--forward`` writes the forward view (one
row per capex-guidance vintage) instead of the historical table; it takes no ``--period`` or
``--capex`` (given together, the command refuses them). Amounts in USD millions.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import get_args

from dashboard import config
from dashboard.commands.common import as_of_text
from dashboard.commands.output import output_help, write_outputs
from dashboard.errors import DataUnavailable

NAME = "funding-gap"
HELP = "write the funding gap (capex - internal funding) and what covered it, per company and period, to a CSV"
OUTPUTS: tuple[str, ...] = ("out",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ticker", action="append", metavar="T", help="a company ticker (repeat for several); default: all")
    parser.add_argument("--period", choices=get_args(config.Period), help=f"period of each row (default: {config.DEFAULT_FUNDING_PERIOD})")
    parser.add_argument(
        "--capex",
        choices=get_args(config.CapexBasis),
        help=f"reported = purchases of P&E; economic = plus finance-lease principal (default: {config.DEFAULT_CAPEX_BASIS})",
    )
    parser.add_argument(
        "--forward",
        action="store_true",
        help="write the forward view instead: implied gap and new debt per capex-guidance vintage (not with --period or --capex)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help=output_help("the CSV to write"))


def check_arguments(args: argparse.Namespace) -> str | None:
    """``--forward`` with ``--period`` or ``--capex`` is a contradiction, not a default to ignore."""
    given = [option for option, value in (("--period", args.period), ("--capex", args.capex)) if value is not None]
    if args.forward and given:
        return f"--forward takes no {' or '.join(given)} (the forward view is per guidance vintage, on reported capex)"
    return None


def _requested_tickers(args: argparse.Namespace, known: list[str], with_data: list[str]) -> list[str]:
    """The companies asked for (upper-cased, each once), or every company with fundamentals."""
    from dashboard.loaders.returns_file import select_tickers

    if not args.ticker:
        return [t for t in known if t in with_data]
    selection = select_tickers(args.ticker, known, upper=True)
    if selection.unknown:
        raise DataUnavailable(f"unknown ticker(s): {', '.join(selection.unknown)} (known: {', '.join(known)})")
    without = select_tickers(selection.chosen, with_data).unknown
    if without:
        raise DataUnavailable(f"no fundamentals for: {', '.join(without)}")
    return selection.chosen


def run(args: argparse.Namespace) -> int:
    from dashboard.exporting import export_file
    from dashboard.loaders import curated
    from dashboard.metrics.forward import forward_view
    from dashboard.metrics.funding import funding_table

    period = args.period or config.DEFAULT_FUNDING_PERIOD
    capex = args.capex or config.DEFAULT_CAPEX_BASIS
    companies = curated.load_companies()
    fundamentals = curated.load_fundamentals()
    known = companies["ticker"].tolist()
    with_data = list(dict.fromkeys(fundamentals["ticker"]))
    requested = _requested_tickers(args, known, with_data)
    skipped = [t for t in known if t not in with_data and not args.ticker]
    chosen = fundamentals[fundamentals["ticker"].isin(requested)]

    if args.forward:
        guidance = curated.load_guidance()
        guidance = guidance[guidance["ticker"].isin(requested)]
        table = forward_view(chosen, guidance, companies=companies)
        what = f"{len(table)} guidance vintages (forward view, USD millions; guidance USD bn x 1000)"
    else:
        flags = curated.load_fundamentals_flags(fundamentals=fundamentals)
        table = funding_table(chosen, curated.load_events(), companies=companies, flags=flags, period=period, capex_basis=capex)
        what = f"{len(table)} rows (period={period}, capex={capex}, USD millions)"
    # Plain CSV (header first) as other tools read it, or Excel with a metadata sheet; text cells
    # never start a formula.
    manifest = curated.load_manifest()
    params = {"period": period, "capex": capex, "forward": bool(args.forward), "ticker": ",".join(requested)}
    as_of = {name: entry["as_of"] for name, entry in manifest["datasets"].items()}
    write_outputs(
        {
            args.out: export_file(
                table, args.out, params=params, as_of=as_of, name="funding_gap", data_version=manifest["data_version"], with_metadata=False
            )
        }
    )
    tickers = ", ".join(sorted(set(table["ticker"])))
    skipped_text = f"; skipped (no fundamentals): {', '.join(skipped)}" if skipped else ""
    print(f"funding-gap: wrote {what} for {tickers} to {args.out}{skipped_text}; {as_of_text('fundamentals', 'events', 'guidance')}")
    return config.EXIT_OK
