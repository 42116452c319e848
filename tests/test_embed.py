"""The embed step rebuilds data/ from a curated folder, byte for byte, and refuses bad input.

The curated folder is reconstructed here from data/ itself (per-ticker price CSVs, ``Q``-labelled
quarters), in the shape ../shared/data has, so the test needs nothing outside the repository.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from dashboard import config
from dashboard.loaders.embed import build


def curated_folder(target: Path) -> Path:
    source = target / "source"
    (source / "prices").mkdir(parents=True)
    (source / "provenance").mkdir()
    shutil.copyfile(config.DATA_DIR / config.EVENTS_FILE, source / "events.csv")
    shutil.copyfile(config.DATA_DIR / config.GUIDANCE_FILE, source / "guidance.csv")
    shutil.copyfile(config.DATA_DIR / config.FUNDAMENTALS_FLAGS_FILE, source / "fundamentals_flags.csv")
    fundamentals = pd.read_csv(config.DATA_DIR / config.FUNDAMENTALS_FILE, dtype={"fiscal_quarter": str})
    fundamentals["fiscal_quarter"] = "Q" + fundamentals["fiscal_quarter"]
    fundamentals.to_csv(source / "fundamentals.csv", index=False, lineterminator="\n")
    prices = pd.read_parquet(config.DATA_DIR / config.PRICES_FILE)
    for ticker, rows in prices.groupby("ticker"):
        rows = rows.drop(columns="ticker").assign(adj_close=float("nan"))
        rows["date"] = rows["date"].dt.strftime("%Y-%m-%d")
        rows[["date", "open", "high", "low", "close", "adj_close", "volume"]].to_csv(source / "prices" / f"{ticker}.csv", index=False)
    provenance = config.DATA_DIR / "provenance"
    shutil.copyfile(provenance / "PROVENANCE.md", source / "PROVENANCE.md")
    for note in provenance.glob("*.md"):
        if note.name != "PROVENANCE.md":
            shutil.copyfile(note, source / "provenance" / note.name)
    return source


def fresh_target(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    target.mkdir()
    for name in (config.COMPANIES_FILE, config.INSTRUMENTS_FILE):
        shutil.copyfile(config.DATA_DIR / name, target / name)
    return target


def test_embed_rebuilds_every_file_identically(tmp_path):
    target = fresh_target(tmp_path)
    manifest = build(curated_folder(tmp_path), target)
    for name in config.DATASET_FILES.values():
        assert (target / name).read_bytes() == (config.DATA_DIR / name).read_bytes(), name
    assert (target / config.MANIFEST_FILE).read_bytes() == (config.DATA_DIR / config.MANIFEST_FILE).read_bytes()
    assert manifest["datasets"]["fundamentals"]["rows"] == 108


def test_embed_writes_nothing_when_a_source_row_is_bad(tmp_path):
    source = curated_folder(tmp_path)
    events = (source / "events.csv").read_text(encoding="utf-8").replace("EV002,INTC,", "EV002,NOPE,", 1)
    (source / "events.csv").write_text(events, encoding="utf-8")
    target = fresh_target(tmp_path)
    with pytest.raises(SystemExit, match=r"events\.csv:3: ticker: unknown ticker"):
        build(source, target)
    assert sorted(p.name for p in target.iterdir()) == sorted([config.COMPANIES_FILE, config.INSTRUMENTS_FILE])
