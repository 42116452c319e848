"""``export``: write an embedded dataset to CSV through the same sanitizing export as the app."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dashboard import config
from dashboard.commands.output import output_help, write_outputs
from dashboard.errors import DataUnavailable

NAME = "export"
HELP = "write a dataset (companies, instruments, events, fundamentals, guidance, prices, manifest) to CSV"

# Each dataset is read by ``loaders.curated.load_<name>``; ``manifest`` is the manifest's table.
DATASETS: tuple[str, ...] = ("companies", "instruments", "events", "fundamentals", "guidance", "prices")
OUTPUTS: tuple[str, ...] = ("out",)

if TYPE_CHECKING:  # imported where used, so that --help stays a bare start-up
    import pandas as pd


def manifest_frame(manifest: dict) -> pd.DataFrame:
    """One row per dataset: name, file, as-of date, rows, content hash and source."""
    import pandas as pd

    return pd.DataFrame([{"dataset": name, **entry} for name, entry in manifest["datasets"].items()])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", choices=[*DATASETS, "manifest"])
    parser.add_argument("--ticker", action="append", metavar="T", help="only these tickers (repeat)")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE.csv",
        help=output_help("the file to write: .csv, or .xlsx for Excel (data sheet, then metadata)"),
    )


def run(args: argparse.Namespace) -> int:
    from dashboard.exporting import export_file
    from dashboard.loaders import curated
    from dashboard.loaders.returns_file import select_tickers

    manifest = curated.load_manifest()
    frame = manifest_frame(manifest) if args.dataset == "manifest" else getattr(curated, f"load_{args.dataset}")()
    if args.ticker:
        if "ticker" not in frame.columns:
            raise DataUnavailable(f"{args.dataset} has no ticker column to filter on")
        unknown = select_tickers(args.ticker, frame["ticker"]).unknown
        if unknown:
            raise DataUnavailable(f"unknown ticker(s) for {args.dataset}: {', '.join(sorted(unknown))}")
        frame = frame[frame["ticker"].isin(args.ticker)]
    params = {"dataset": args.dataset, "ticker": ",".join(args.ticker or []) or "all"}
    as_of = {name: entry["as_of"] for name, entry in manifest["datasets"].items()}
    write_outputs(
        {args.out: export_file(frame, args.out, params=params, as_of=as_of, name=args.dataset, data_version=manifest["data_version"])}
    )
    print(f"wrote {len(frame)} rows of {args.dataset} to {args.out} (data version {manifest['data_version']})")
    return config.EXIT_OK
