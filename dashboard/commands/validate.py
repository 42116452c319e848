"""``validate``: check the embedded datasets, or the files given, row by row."""
from __future__ import annotations

import argparse
from pathlib import Path

from dashboard import config
from dashboard.loaders.curated import (
    load_companies,
    load_instruments,
    load_manifest,
    validate_events,
    validate_fundamentals,
    validate_fundamentals_flags,
    validate_guidance,
    validate_prices,
)

NAME = "validate"
HELP = "check the embedded data (or the given files); exit 0 if valid, 1 with a row-by-row report if not"

VALIDATORS = {
    "events": validate_events,
    "fundamentals": validate_fundamentals,
    "guidance": validate_guidance,
    "fundamentals_flags": validate_fundamentals_flags,
    "prices": validate_prices,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name in VALIDATORS:
        parser.add_argument(
            f"--{name.replace('_', '-')}", dest=name, type=Path, metavar="FILE", help=f"a {name} file to check instead"
        )


def run(args: argparse.Namespace) -> int:
    given = {name: getattr(args, name) for name in VALIDATORS if getattr(args, name) is not None}
    if not given:
        load_companies()  # the reference tables must load before anything is checked against them
        load_instruments()
        manifest = load_manifest()
        print(f"embedded data, version {manifest['data_version']}:")
        for name, entry in manifest["datasets"].items():
            print(f"  {name}: {entry['rows']} rows as of {entry['as_of']}")
        given = {name: config.DATA_DIR / config.DATASET_FILES[name] for name in VALIDATORS}
    valid = True
    for name, path in given.items():
        _, report = VALIDATORS[name](path)
        valid &= report.ok
        print("\n".join(report.lines()))
    print("all valid" if valid else "validation failed")
    return 0 if valid else 1
