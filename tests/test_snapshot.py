"""The embedded snapshot and its manifest agree, and snapshot writes are all-or-nothing."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboard import config
from dashboard.commands import validate
from dashboard.loaders.curated import load_manifest, load_prices, price_coverage
from dashboard.loaders.snapshot import atomic_write, atomic_write_csv, content_hash, data_version


def test_manifest_matches_every_embedded_file():
    manifest = load_manifest()
    assert set(manifest["datasets"]) == set(config.DATASET_FILES)
    for name, entry in manifest["datasets"].items():
        path = config.DATA_DIR / config.DATASET_FILES[name]
        assert entry["sha256"] == content_hash(path), f"{name}: manifest hash is stale"
        assert entry["source"]
    assert manifest["data_version"] == data_version(manifest)


def test_tests_read_the_frozen_snapshot_not_live_data():
    assert config.DATA_DIR == config.REPO_ROOT / "tests" / "fixtures" / "snapshot"


def test_live_data_validates_and_matches_its_manifest(monkeypatch, capsys):
    """The one test of the live ``data/``: every file is valid and is what its manifest says."""
    live = config.REPO_ROOT / "data"
    manifest = load_manifest(live)
    assert set(manifest["datasets"]) == set(config.DATASET_FILES)
    for name, entry in manifest["datasets"].items():
        assert entry["sha256"] == content_hash(live / config.DATASET_FILES[name]), f"data/{name}: manifest hash is stale"
    assert manifest["data_version"] == data_version(manifest)
    monkeypatch.setattr(config, "DATA_DIR", live)
    assert validate.run(validate_args()) == 0, capsys.readouterr().out


def validate_args():
    import argparse

    parser = argparse.ArgumentParser()
    validate.add_arguments(parser)
    return parser.parse_args([])


def test_manifest_counts_and_as_of_dates_match_the_data():
    manifest = load_manifest()["datasets"]
    prices = load_prices()
    assert manifest["prices"]["rows"] == len(prices) == 14099
    assert manifest["prices"]["as_of"] == prices["date"].max().date().isoformat() == "2026-09-25"
    assert manifest["events"]["rows"] == 96 and manifest["events"]["as_of"] == "2026-09-10"


def test_price_coverage_says_where_each_series_stops():
    coverage = price_coverage(load_prices())
    assert coverage.loc["9984.T", "last_date"] == pd.Timestamp("2026-05-19")
    assert coverage.loc["N225", "last_date"] == pd.Timestamp("2026-07-10")
    assert coverage.loc["XLC", "last_date"] == pd.Timestamp("2026-02-20")
    assert coverage.loc["META", "sessions"] == 1187  # NYSE sessions 2022-01-03 .. 2026-09-25


def test_failed_write_leaves_the_previous_file_intact(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n", encoding="utf-8")

    def half_write(tmp):
        tmp.write_text("new, but only ha", encoding="utf-8")
        raise KeyboardInterrupt  # killed mid-write

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half_write)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]  # no temporary file left behind


def test_atomic_csv_write_replaces_whole(tmp_path):
    target = tmp_path / "t.csv"
    atomic_write_csv(target, pd.DataFrame({"a": [1, 2]}))
    atomic_write_csv(target, pd.DataFrame({"a": [3]}))
    assert target.read_text(encoding="utf-8") == "a\n3\n"
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_data_version_changes_with_any_dataset():
    manifest = json.loads((config.DATA_DIR / config.MANIFEST_FILE).read_text(encoding="utf-8"))
    changed = json.loads(json.dumps(manifest))
    changed["datasets"]["events"]["sha256"] = "0" * 64
    assert data_version(changed) != data_version(manifest)
    assert len(data_version(manifest)) == 10
