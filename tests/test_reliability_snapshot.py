"""The manifest is checked at load, and a snapshot changes in one atomic step.

- Every dataset's file, row count and content hash are checked against the manifest before it is
  loaded, for the embedded data/ and for any DASHBOARD_DATA_DIR folder; the data version is
  recomputed from the files. A difference raises ``SnapshotDamaged`` naming the manifest, the file
  and what differs; ``snapshot_mismatches`` lists them all.
- ``staged_snapshot`` changes a copy and swaps it in with one rename: an exception leaves the
  folder as it was, success replaces it whole (a symlinked folder and a missing one included), and
  on a system without an atomic exchange an interrupted two-rename swap is put right on the next
  read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dashboard import config
from dashboard.errors import SnapshotDamaged
from dashboard.loaders import curated, snapshot
from dashboard.loaders.snapshot import content_version, snapshot_mismatches, staged_snapshot


def state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def truncate_lines(path: Path, share: float) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[: int(len(lines) * share)]), encoding="utf-8")


def edit_manifest(folder: Path, change) -> None:
    path = folder / config.MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


# --- intact ---------------------------------------------------------------------------------------


def test_the_frozen_and_the_live_snapshot_match_their_manifests():
    for folder in (config.DATA_DIR, config.REPO_ROOT / "data"):
        assert snapshot_mismatches(folder) == [], folder
        manifest = json.loads((folder / config.MANIFEST_FILE).read_text(encoding="utf-8"))
        assert content_version(folder) == manifest["data_version"] == curated.load_manifest(folder)["data_version"]


# --- damaged: each kind of difference is named ----------------------------------------------------


def test_a_truncated_events_file_is_refused_at_load(data_copy):
    truncate_lines(data_copy / config.EVENTS_FILE, 0.6)  # as in the issue: 60% of its lines kept
    with pytest.raises(SnapshotDamaged) as caught:
        curated.load_events(data_copy)
    assert "events.csv: 57 rows, the manifest says 96" in str(caught.value)
    assert "manifest.json" in str(caught.value) and "git checkout data/" in str(caught.value)
    with pytest.raises(SnapshotDamaged):
        curated.load_manifest(data_copy)
    found = [str(m) for m in snapshot_mismatches(data_copy)]
    assert found[0].endswith("events.csv: 57 rows, the manifest says 96")
    assert "content differs from the manifest" in found[1] and len(found) == 2
    # The other datasets still load: only the damaged one is refused.
    assert len(curated.load_guidance(data_copy)) == 38


def test_a_tampered_hash_is_noticed(data_copy):
    edit_manifest(data_copy, lambda m: m["datasets"]["guidance"].update(sha256="0" * 64))
    with pytest.raises(
        SnapshotDamaged, match=r"guidance\.csv: content differs from the manifest \(sha256 [0-9a-f]{12}, the manifest says 000000000000\)"
    ):
        curated.load_guidance(data_copy)


def test_a_same_size_edit_is_noticed(data_copy):
    path = data_copy / config.GUIDANCE_FILE
    curated.load_guidance(data_copy)  # remembered once, as the app would
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("2025", "2026", 1), encoding="utf-8")
    with pytest.raises(SnapshotDamaged, match="guidance.csv: content differs"):
        curated.load_guidance(data_copy)


def test_a_tampered_row_count_is_noticed(data_copy):
    edit_manifest(data_copy, lambda m: m["datasets"]["prices"].update(rows=14000))
    found = [m.what for m in snapshot_mismatches(data_copy)]
    assert found == ["14099 rows, the manifest says 14000"]
    with pytest.raises(SnapshotDamaged):
        curated.load_prices(data_copy)


def test_a_tampered_data_version_is_noticed_and_the_version_comes_from_the_content(data_copy):
    edit_manifest(data_copy, lambda m: m.update(data_version="0123456789"))
    found = snapshot_mismatches(data_copy)
    assert [m.what for m in found] == [f"data_version 0123456789 does not match the content ({content_version(data_copy)})"]
    with pytest.raises(SnapshotDamaged, match="data_version"):
        curated.load_manifest(data_copy)


@pytest.mark.parametrize(
    ("damage", "file", "what"),
    [
        (lambda d: (d / config.PRICES_FILE).unlink(), "prices.parquet", "missing"),
        (lambda d: (d / config.MANIFEST_FILE).unlink(), "manifest.json", "missing"),
        (lambda d: (d / config.MANIFEST_FILE).write_text("{not json", encoding="utf-8"), "manifest.json", "cannot be read as JSON"),
        (lambda d: (d / config.PRICES_FILE).write_bytes(b"PAR1 not parquet"), "prices.parquet", "cannot be read as Parquet"),
        (
            lambda d: edit_manifest(d, lambda m: m["datasets"].pop("companies")),
            "companies.csv",
            "dataset companies is not listed in the manifest",
        ),
    ],
)
def test_missing_and_unreadable_files_are_named(data_copy, damage, file, what):
    damage(data_copy)
    found = snapshot_mismatches(data_copy)
    assert found and found[0].file.endswith(file) and found[0].what == what, [str(m) for m in found]


def test_paths_shown_are_relative(data_copy, monkeypatch):
    monkeypatch.setattr(config, "DATA_DIR", data_copy)
    truncate_lines(data_copy / config.EVENTS_FILE, 0.6)
    with pytest.raises(SnapshotDamaged) as caught:
        curated.load_events()
    assert str(caught.value).startswith("damaged data snapshot: data/manifest.json: data/events.csv: 57 rows")
    assert str(data_copy) not in str(caught.value) and all(str(data_copy) not in m for m in caught.value.mismatches)


def test_the_command_line_refuses_a_damaged_data_dir(data_copy):
    truncate_lines(data_copy / config.EVENTS_FILE, 0.6)
    env = {**os.environ, "DASHBOARD_DATA_DIR": str(data_copy)}
    for command in (["validate"], ["funding-gap", "--out", str(data_copy.parent / "gap.csv")]):
        done = subprocess.run(
            [sys.executable, "-m", "dashboard", *command], cwd=config.REPO_ROOT, env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        # Exit 1 (invalid data) once the command line maps SnapshotDamaged; never 0, never a traceback.
        assert done.returncode != 0, (command, done.stdout)
        assert "Traceback" not in done.stderr
        assert "events.csv: 57 rows, the manifest says 96" in done.stdout + done.stderr, (command, done.stderr)
    assert not (data_copy.parent / "gap.csv").exists()


# --- one atomic step ---------------------------------------------------------------------------------


def test_a_failed_change_leaves_the_folder_as_it_was(data_copy):
    before = state(data_copy)
    with pytest.raises(RuntimeError):
        with staged_snapshot(data_copy) as folder:
            (folder / config.EVENTS_FILE).write_text("broken", encoding="utf-8")
            (folder / config.MANIFEST_FILE).unlink()
            raise RuntimeError("failed half-way")
    assert state(data_copy) == before
    assert sorted(p.name for p in data_copy.parent.iterdir()) == ["data"]


def test_a_change_replaces_the_folder_whole(data_copy):
    inode = data_copy.stat().st_ino
    with staged_snapshot(data_copy) as folder:
        (folder / "note.txt").write_text("new", encoding="utf-8")
        assert not (data_copy / "note.txt").exists()  # nothing shows before the swap
    assert (data_copy / "note.txt").read_text(encoding="utf-8") == "new"
    assert data_copy.stat().st_ino != inode  # a different folder now has the name
    assert oct(data_copy.stat().st_mode & 0o777) == "0o755"
    assert sorted(p.name for p in data_copy.parent.iterdir()) == ["data"]


def test_a_symlinked_data_dir_keeps_its_link(data_copy, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(data_copy)
    with staged_snapshot(link) as folder:
        (folder / "note.txt").write_text("new", encoding="utf-8")
    assert link.is_symlink() and (link / "note.txt").exists() and (data_copy / "note.txt").exists()


def test_a_new_folder_is_created(tmp_path):
    with staged_snapshot(tmp_path / "fresh") as folder:
        (folder / "a.txt").write_text("a", encoding="utf-8")
    assert (tmp_path / "fresh" / "a.txt").exists()


def test_without_an_atomic_exchange_an_interrupted_swap_is_put_right(data_copy, monkeypatch):
    monkeypatch.setattr(snapshot, "_exchange", lambda first, second: False)
    before = state(data_copy)
    renames = []
    original = os.rename

    def rename(source, target):
        renames.append((source, target))
        if len(renames) == 2:  # killed between "data -> previous" and "staged -> data"
            raise KeyboardInterrupt
        return original(source, target)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        with staged_snapshot(data_copy) as folder:
            (folder / "note.txt").write_text("new", encoding="utf-8")
    monkeypatch.setattr(os, "rename", original)
    assert not data_copy.exists()  # the window the two renames leave
    assert snapshot_mismatches(data_copy) == []  # the next read puts the previous folder back
    assert state(data_copy) == before
    with staged_snapshot(data_copy) as folder:  # and the fallback swap itself works
        (folder / "note.txt").write_text("new", encoding="utf-8")
    assert (data_copy / "note.txt").exists()
    assert sorted(p.name for p in data_copy.parent.iterdir()) == ["data"]


def test_leftovers_of_a_killed_change_are_removed_by_the_next(data_copy):
    leftover = data_copy.parent / ".data.staging-abc123"
    shutil.copytree(data_copy, leftover)
    with staged_snapshot(data_copy):
        pass
    assert not leftover.exists()


def test_row_counts_follow_quoted_multi_line_fields(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,"two\nlines"\n\n3,x\n', encoding="utf-8")
    assert snapshot.file_rows(path) == 2
    frame = pd.DataFrame({"a": range(5)})
    frame.to_parquet(tmp_path / "t.parquet")
    assert snapshot.file_rows(tmp_path / "t.parquet") == 5
