"""Snapshot files: atomic writes, content hashes and the data manifest.

Nothing here is ever half-written: every file goes to a temporary sibling first and is then
renamed over the target, which the operating system does atomically on one filesystem.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from dashboard import config


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` and rename the result over ``path``; on any failure, including
    an interruption, the previous ``path`` stays as it was and the temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private; a snapshot is meant to be read
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, lineterminator="\n"))


def content_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_entry(path: Path, *, rows: int, as_of: str, source: str) -> dict:
    """One manifest entry: file, as-of date (ISO), row count, content hash and source."""
    return {"file": path.name, "as_of": as_of, "rows": int(rows), "sha256": content_hash(path), "source": source}


def data_version(manifest: dict) -> str:
    """A short hash of every dataset's content hash: changes whenever any data changes."""
    joined = "|".join(f"{name}:{entry['sha256']}" for name, entry in sorted(manifest.get("datasets", {}).items()))
    return hashlib.sha256(joined.encode()).hexdigest()[:10]


def write_manifest(data_dir: Path, datasets: dict[str, dict]) -> dict:
    """Write ``manifest.json`` atomically and return it, with its ``data_version``."""
    manifest = {"datasets": dict(sorted(datasets.items()))}
    manifest["data_version"] = data_version(manifest)
    atomic_write_text(Path(data_dir) / config.MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
    return manifest


def update_manifest(data_dir: Path, name: str, entry: dict) -> dict:
    """Replace one dataset's entry, keeping the others."""
    path = Path(data_dir) / config.MANIFEST_FILE
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"datasets": {}}
    datasets = dict(current.get("datasets", {}))
    datasets[name] = entry
    return write_manifest(data_dir, datasets)
