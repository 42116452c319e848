"""Build the embedded ``data/`` snapshot from the curated source folder (``../shared/data``).

Run ``python -m dashboard.loaders.embed SOURCE_DIR``. It is how ``data/`` was made and how it is
remade when the curators publish new figures; the app and the tests only ever read ``data/``.
Each figure is copied, never edited: the only changes are of form (``Q3`` becomes ``3``, one
Parquet table instead of a CSV per ticker, ``^N225`` stored as ``N225``). Every row keeps its source.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import pandas as pd

from dashboard import config
from dashboard.loaders.curated import (
    load_companies,
    load_instruments,
    validate_events,
    validate_fundamentals,
    validate_fundamentals_flags,
    validate_guidance,
    validate_prices,
)
from dashboard.loaders.snapshot import dataset_entry, file_rows, staged_snapshot, write_manifest

REFERENCE_AS_OF = "2026-11-28"  # when companies.csv and instruments.csv were last reviewed
PRICES_SOURCE = (
    "Yahoo Finance daily OHLCV, split- and dividend-adjusted as of the as-of date, cross-checked "
    "against independent copies (data/provenance/prices.md, prices-japan.md)"
)
SOURCES = {
    "companies": "SEC EDGAR company filings and SoftBank Group IR (source column per row)",
    "instruments": "fund and index sponsors; Yahoo Finance symbols",
    "events": "hand-curated news and filings (source_name and source_url per row; data/provenance/events-notes.md)",
    "fundamentals": "SEC filings and company releases (source per row; data/provenance/fundamentals-sources.md)",
    "guidance": "company statements on earnings calls and releases (source_url per row)",
    "fundamentals_flags": "curators' cell-level quality flags of fundamentals.csv, with notes (data/provenance/PROVENANCE.md)",
    "prices": PRICES_SOURCE,
}


def read_price_folder(folder: Path) -> pd.DataFrame:
    """Stack ``<TICKER>.csv`` files (date,open,high,low,close,adj_close,volume) into one table.

    ``adj_close`` is dropped only when it is empty throughout: the closes are already adjusted.
    """
    frames = []
    for path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(path)
        if frame["adj_close"].notna().any():
            raise ValueError(f"{path}: adj_close is filled; the embed expects adjusted OHLC only")
        frame = frame.drop(columns="adj_close")
        frame.insert(0, "ticker", path.stem)
        frames.append(frame)
    prices = pd.concat(frames, ignore_index=True)
    prices["date"] = pd.to_datetime(prices["date"], format="%Y-%m-%d")
    prices["volume"] = prices["volume"].astype(float)
    return prices.sort_values(["ticker", "date"]).reset_index(drop=True)[["ticker", "date", *config.PRICE_COLUMNS]]


def build(source: Path, target: Path) -> dict:
    """Copy and reshape every dataset from ``source`` into ``target``; return the new manifest.

    Raises ``SystemExit`` with the validation report if any source row fails its schema: an
    embedded snapshot is only ever written whole and valid. The new files, the provenance notes
    and the manifest are written into a copy of ``target`` that replaces it in one atomic step
    (``snapshot.staged_snapshot``), so an interrupted build leaves ``target`` as it was.
    ``companies.csv`` and ``instruments.csv`` are kept from ``target``, where they are curated.
    """
    with staged_snapshot(target) as staged:
        shutil.copyfile(source / "events.csv", staged / config.EVENTS_FILE)
        fundamentals = pd.read_csv(source / "fundamentals.csv", dtype={"fiscal_quarter": str})
        fundamentals["fiscal_quarter"] = fundamentals["fiscal_quarter"].str.removeprefix("Q").astype(int)
        fundamentals.to_csv(staged / config.FUNDAMENTALS_FILE, index=False, lineterminator="\n")
        shutil.copyfile(source / "guidance.csv", staged / config.GUIDANCE_FILE)
        shutil.copyfile(source / "fundamentals_flags.csv", staged / config.FUNDAMENTALS_FLAGS_FILE)
        read_price_folder(source / "prices").to_parquet(staged / config.PRICES_FILE, index=False, compression="zstd")
        provenance = staged / "provenance"
        provenance.mkdir(exist_ok=True)
        shutil.copyfile(source / "PROVENANCE.md", provenance / "PROVENANCE.md")
        for note in sorted((source / "provenance").glob("*.md")):
            shutil.copyfile(note, provenance / note.name)
        # A first manifest for the files as they are, so the validators below, which check the
        # staged folder against its manifest before reading its reference tables, read this one.
        write_manifest(
            staged,
            {
                name: dataset_entry(staged / file, rows=file_rows(staged / file), as_of=REFERENCE_AS_OF, source=SOURCES[name])
                for name, file in config.DATASET_FILES.items()
                if (staged / file).exists()
            },
        )

        # Reports name the source files; the reshaped fundamentals keep their line numbers.
        events, events_report = validate_events(source / "events.csv", data_dir=staged)
        fundamentals_ok, fundamentals_report = validate_fundamentals(
            source / "fundamentals.csv", data_dir=staged, text=(staged / config.FUNDAMENTALS_FILE).read_text()
        )
        guidance, guidance_report = validate_guidance(source / "guidance.csv", data_dir=staged)
        flags, flags_report = validate_fundamentals_flags(source / "fundamentals_flags.csv", data_dir=staged, fundamentals=fundamentals_ok)
        prices_ok, prices_report = validate_prices(staged / config.PRICES_FILE, data_dir=staged)
        reports = [events_report, fundamentals_report, guidance_report, flags_report, prices_report]
        if not all(report.ok for report in reports):
            lines = [line for report in reports for line in report.lines()]
            raise SystemExit("source data failed validation; nothing written:\n" + "\n".join(lines))

        # Each dataset with the column whose latest date is its as-of date (None: reviewed on REFERENCE_AS_OF).
        loaded = {
            "companies": (load_companies(staged), None),
            "instruments": (load_instruments(staged), None),
            "events": (events, "event_date"),
            "fundamentals": (fundamentals_ok, "period_end"),
            "guidance": (guidance, "statement_date"),
            "fundamentals_flags": (flags, "period_end"),
            "prices": (prices_ok, "date"),
        }
        entries = {
            name: dataset_entry(
                staged / config.DATASET_FILES[name],
                rows=len(frame),
                as_of=REFERENCE_AS_OF if column is None else frame[column].max().date().isoformat(),
                source=SOURCES[name],
            )
            for name, (frame, column) in loaded.items()
        }
        return write_manifest(staged, entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.loaders.embed", description=__doc__)
    parser.add_argument("source", type=Path, help="the curated data folder, e.g. ../shared/data")
    parser.add_argument("--target", type=Path, default=config.DATA_DIR)
    args = parser.parse_args(argv)
    manifest = build(args.source, args.target)
    for name, entry in manifest["datasets"].items():
        print(f"{name:13} {entry['rows']:>6} rows  as of {entry['as_of']}  {entry['sha256'][:12]}")
    print(f"data version {manifest['data_version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
