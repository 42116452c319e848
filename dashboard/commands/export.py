"""``export``: write an embedded dataset to CSV through the same sanitizing export as the app."""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from dashboard.errors import DashboardError
from dashboard.exporting import export_csv
from dashboard.loaders.curated import (
    load_companies,
    load_events,
    load_fundamentals,
    load_guidance,
    load_instruments,
    load_manifest,
    load_prices,
)
from dashboard.loaders.snapshot import atomic_write_bytes

NAME = "export"
HELP = "write a dataset (companies, instruments, events, fundamentals, guidance, prices, manifest) to CSV"

LOADERS = {
    "companies": load_companies,
    "instruments": load_instruments,
    "events": load_events,
    "fundamentals": load_fundamentals,
    "guidance": load_guidance,
    "prices": load_prices,
}


def manifest_frame(manifest: dict) -> pd.DataFrame:
    """One row per dataset: name, file, as-of date, rows, content hash and source."""
    return pd.DataFrame([{"dataset": name, **entry} for name, entry in manifest["datasets"].items()])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", choices=[*LOADERS, "manifest"])
    parser.add_argument("--ticker", action="append", metavar="T", help="only these tickers (repeat)")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.csv")


def run(args: argparse.Namespace) -> int:
    manifest = load_manifest()
    frame = manifest_frame(manifest) if args.dataset == "manifest" else LOADERS[args.dataset]()
    if args.ticker:
        if "ticker" not in frame.columns:
            raise DashboardError(f"{args.dataset} has no ticker column to filter on")
        unknown = sorted(set(args.ticker) - set(frame["ticker"]))
        if unknown:
            raise DashboardError(f"unknown ticker(s) for {args.dataset}: {', '.join(unknown)}")
        frame = frame[frame["ticker"].isin(args.ticker)]
    params = {"dataset": args.dataset, "ticker": ",".join(args.ticker or []) or "all"}
    as_of = {name: entry["as_of"] for name, entry in manifest["datasets"].items()}
    payload = export_csv(frame, params=params, as_of=as_of, name=args.dataset, data_version=manifest["data_version"])
    atomic_write_bytes(args.out, payload)
    print(f"wrote {len(frame)} rows of {args.dataset} to {args.out} (data version {manifest['data_version']})")
    return 0
