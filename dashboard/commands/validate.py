"""``validate``: check the embedded datasets, or the files given, row by row."""

from __future__ import annotations

import argparse
from pathlib import Path

from dashboard import config

NAME = "validate"
HELP = "check the embedded data (or the given files); exit 0 if valid, 1 with a row-by-row report if not"

# The datasets a file can be given for; each is checked by ``loaders.curated.validate_<name>``.
VALIDATORS: tuple[str, ...] = ("events", "fundamentals", "guidance", "fundamentals_flags", "prices")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name in VALIDATORS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=Path, metavar="FILE", help=f"a {name} file to check instead")


def run(args: argparse.Namespace) -> int:
    from dashboard.loaders import curated
    from dashboard.loaders.curated import load_companies, load_instruments, load_manifest

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
        _, report = getattr(curated, f"validate_{name}")(path)
        valid &= report.ok
        print("\n".join(report.lines()))
    print("all valid" if valid else "validation failed")
    return config.EXIT_OK if valid else config.EXIT_INVALID
