"""Snapshot files: atomic writes, content hashes, the data manifest and its check.

Nothing here is ever half-written:

- a single file goes to a temporary sibling first and is then renamed over the target
  (``atomic_write``);
- a change to the data folder (new dataset files *and* their manifest entries) is made in a
  private copy of the folder beside it, which then replaces the folder in one atomic step
  (``staged_snapshot``). On Linux that step is ``renameat2(RENAME_EXCHANGE)``: at every instant
  the folder's path holds either the complete old snapshot or the complete new one, even under
  SIGKILL or a power cut after the fsyncs.

``snapshot_mismatches`` compares a data folder with its manifest (every dataset's file, row count
and content hash, and the data version); ``require_intact`` raises ``SnapshotDamaged`` naming
every difference. The loaders call it before they read a dataset.
"""

from __future__ import annotations

import csv
import ctypes
import errno
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboard import config
from dashboard.errors import SnapshotDamaged

# What a person is told to do about a damaged snapshot (the app and the command line show it).
REPAIR_HINT = "restore it with `git checkout data/` or rebuild it with `python -m dashboard.loaders.embed ../shared/data`, then reload"
STAGING_INFIX = ".staging-"  # .<folder>.staging-XXXX beside the data folder, while a change is made
PREVIOUS_INFIX = ".previous-"  # .<folder>.previous-XXXX: the old folder, only on systems without an exchange


# --- paths shown to people ------------------------------------------------------------------------


def display_path(path: Path | str) -> str:
    """``path`` as a person should see it: relative to the repository (``data/events.csv``), or
    to the data folder's name when ``DASHBOARD_DATA_DIR`` lies elsewhere (``snapshot/events.csv``).
    A relative path is returned as given; any other absolute path unchanged (a user's own file)."""
    given = Path(path)
    if not given.is_absolute():
        return str(path)
    resolved = given.resolve(strict=False)
    for root, prefix in ((config.REPO_ROOT, ""), (config.DATA_DIR, config.DATA_DIR.name + "/")):
        try:
            return prefix + resolved.relative_to(Path(root).resolve(strict=False)).as_posix()
        except ValueError:
            continue
    return str(path)


def relative_paths_in(text: str) -> str:
    """``text`` with every absolute path of the repository or the data folder written relative
    (``/srv/app/.cache/refresh.lock`` -> ``.cache/refresh.lock``), for messages shown to viewers."""
    for root, prefix in ((config.REPO_ROOT, ""), (config.DATA_DIR, config.DATA_DIR.name + "/")):
        for spelling in sorted({str(root), str(Path(root).resolve(strict=False))}, key=len, reverse=True):
            text = text.replace(spelling.rstrip("/") + "/", prefix)
    return text


# --- single files -----------------------------------------------------------------------------------


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


def _discard(_: object) -> None:
    """Drop a writer's return value (the count of what it wrote): ``atomic_write`` wants None."""


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: _discard(tmp.write_text(text, encoding="utf-8")))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: _discard(tmp.write_bytes(data)))


def atomic_write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, lineterminator="\n"))


def content_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_rows(path: Path) -> int:
    """Data rows in a dataset file: Parquet rows, or CSV records after the header (a quoted field
    may span lines; blank lines are skipped, as the loaders skip them). ``ValueError`` when the
    file cannot be read as its kind."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
            raise ValueError("cannot be read as Parquet") from exc
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            records = sum(1 for record in csv.reader(handle) if record)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError("cannot be read as CSV") from exc
    return max(records - 1, 0)


# Hash and row count of each file as it was last seen, keyed by its identity on disk. A file is
# only ever replaced (new inode) or edited (new size or times), so a hit is the file's content.
_FACTS: dict[tuple, tuple[str, int | str]] = {}
_FACTS_LOCK = threading.Lock()
_FACTS_LIMIT = 256


def file_facts(path: Path) -> tuple[str, int | str]:
    """(sha256, rows) of a file, the rows being a reason text when the file cannot be parsed.
    Remembered per file identity (device, inode, size, mtime, ctime), so checking an unchanged
    snapshot on every rerun costs a few ``stat`` calls."""
    status = os.stat(path)
    key = (str(path), status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)
    with _FACTS_LOCK:
        if key in _FACTS:
            return _FACTS[key]
    try:
        rows: int | str = file_rows(path)
    except ValueError as exc:
        rows = str(exc)
    facts = (content_hash(path), rows)
    with _FACTS_LOCK:
        if len(_FACTS) >= _FACTS_LIMIT:
            _FACTS.clear()
        _FACTS[key] = facts
    return facts


# --- the manifest ---------------------------------------------------------------------------------


def dataset_entry(path: Path, *, rows: int, as_of: str, source: str) -> dict:
    """One manifest entry: file, as-of date (ISO), row count, content hash and source."""
    return {"file": path.name, "as_of": as_of, "rows": int(rows), "sha256": content_hash(path), "source": source}


def data_version(manifest: dict) -> str:
    """A short hash of every dataset's content hash: changes whenever any data changes."""
    joined = "|".join(f"{name}:{entry['sha256']}" for name, entry in sorted(manifest.get("datasets", {}).items()))
    return hashlib.sha256(joined.encode()).hexdigest()[:10]


def write_manifest(data_dir: Path, datasets: dict[str, dict]) -> dict:
    """Write ``manifest.json`` atomically and return it, with its ``data_version``."""
    manifest: dict[str, object] = {"datasets": dict(sorted(datasets.items()))}
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


# --- checking a snapshot against its manifest ------------------------------------------------------


@dataclass(frozen=True)
class SnapshotMismatch:
    """One difference between a data folder and its manifest."""

    manifest: str  # the manifest, as shown to people (data/manifest.json)
    file: str  # the file that differs (data/events.csv), or the manifest itself
    what: str  # what differs, e.g. "63 rows, the manifest says 96"

    def __str__(self) -> str:
        return f"{self.manifest}: {self.file}: {self.what}" if self.file != self.manifest else f"{self.manifest}: {self.what}"


def _read_manifest(data_dir: Path, shown: str) -> tuple[dict | None, SnapshotMismatch | None]:
    path = data_dir / config.MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, SnapshotMismatch(shown, shown, "missing")
    except (OSError, UnicodeDecodeError, ValueError):
        return None, SnapshotMismatch(shown, shown, "cannot be read as JSON")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("datasets"), dict):
        return None, SnapshotMismatch(shown, shown, "has no datasets")
    return manifest, None


def _dataset_mismatches(data_dir: Path, name: str, entry: object, shown: str) -> list[SnapshotMismatch]:
    expected_file = config.DATASET_FILES[name]
    path = data_dir / expected_file
    file = display_path(path)
    if not isinstance(entry, dict):
        return [SnapshotMismatch(shown, file, f"dataset {name} is not listed in the manifest")]
    if entry.get("file") != expected_file:
        return [SnapshotMismatch(shown, file, f"the manifest lists {name} as {entry.get('file')!r}")]
    if not path.is_file():
        return [SnapshotMismatch(shown, file, "missing")]
    try:
        sha256, rows = file_facts(path)
    except OSError:
        return [SnapshotMismatch(shown, file, "cannot be read")]
    found = []
    if isinstance(rows, str):
        found.append(SnapshotMismatch(shown, file, rows))
    elif rows != entry.get("rows"):
        found.append(SnapshotMismatch(shown, file, f"{rows} rows, the manifest says {entry.get('rows')}"))
    if sha256 != entry.get("sha256"):
        found.append(
            SnapshotMismatch(
                shown, file, f"content differs from the manifest (sha256 {sha256[:12]}, the manifest says {str(entry.get('sha256'))[:12]})"
            )
        )
    return found


def snapshot_mismatches(data_dir: Path | None = None, datasets: Iterable[str] | None = None) -> list[SnapshotMismatch]:
    """Every difference between a data folder (default ``config.DATA_DIR``) and its manifest.

    Checked per dataset of ``config.DATASET_FILES`` (or only ``datasets``): the file exists, its
    row count (``file_rows``) and SHA-256 equal the manifest's; and, when every dataset is
    checked, the manifest's ``data_version`` equals the one recomputed from the files' contents.
    An empty list means the folder is exactly what its manifest describes.
    """
    data_dir = Path(data_dir) if data_dir is not None else config.DATA_DIR
    _recover_interrupted_swap(data_dir)
    shown = display_path(data_dir / config.MANIFEST_FILE)
    manifest, problem = _read_manifest(data_dir, shown)
    if problem is not None or manifest is None:
        return [problem] if problem is not None else []
    names = list(config.DATASET_FILES) if datasets is None else list(datasets)
    found = [m for name in names for m in _dataset_mismatches(data_dir, name, manifest["datasets"].get(name), shown)]
    if datasets is None and not found:
        stated, recomputed = manifest.get("data_version"), content_version(data_dir)
        if stated != recomputed:
            found.append(SnapshotMismatch(shown, shown, f"data_version {stated} does not match the content ({recomputed})"))
    return found


def content_version(data_dir: Path | None = None) -> str:
    """The data version recomputed from the files themselves (their SHA-256), never read from
    the manifest; equal to the manifest's ``data_version`` exactly when the snapshot is intact."""
    data_dir = Path(data_dir) if data_dir is not None else config.DATA_DIR
    hashes = {}
    for name, file in config.DATASET_FILES.items():
        path = data_dir / file
        if path.is_file():
            hashes[name] = {"sha256": file_facts(path)[0]}
    return data_version({"datasets": hashes})


def damaged_message(mismatches: list[SnapshotMismatch]) -> str:
    """One line: the first difference, how many more, and what to do."""
    more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
    return f"damaged data snapshot: {mismatches[0]}{more}; {REPAIR_HINT}"


def require_intact(data_dir: Path | None = None, datasets: Iterable[str] | None = None) -> None:
    """Raise ``SnapshotDamaged`` (every difference in ``.mismatches``) unless the folder matches its
    manifest (see ``snapshot_mismatches``). A difference is checked twice, a moment apart, so a
    reader that raced a refresh's swap (one rename) is not told the data is damaged."""
    names = None if datasets is None else list(datasets)
    found = snapshot_mismatches(data_dir, names)
    if found:
        time.sleep(0.05)
        found = snapshot_mismatches(data_dir, names)
    if found:
        raise SnapshotDamaged(damaged_message(found), [str(m) for m in found])


# --- changing a snapshot in one step ----------------------------------------------------------------


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``). False when the
    system or the filesystem cannot; any other failure raises ``OSError``."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):  # not Linux with glibc >= 2.28
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _fsync_path(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            _fsync_path(Path(root) / name)
        _fsync_path(Path(root))


def _siblings(data_dir: Path, infix: str) -> list[Path]:
    return sorted(data_dir.parent.glob(f".{data_dir.name}{infix}*"))


def _recover_interrupted_swap(data_dir: Path) -> None:
    """Without an atomic exchange the folder is swapped in two renames; if a process died between
    them the folder is missing and its previous version waits beside it: put it back."""
    if data_dir.exists():
        return
    previous = _siblings(data_dir, PREVIOUS_INFIX)
    if previous:
        try:
            os.rename(previous[-1], data_dir)
        except OSError:
            pass  # another process did it first, or the parent is read-only: the check reports it


def remove_stale_staging(data_dir: Path) -> None:
    """Remove staging folders left beside ``data_dir`` by a process that was killed before it
    could swap them in or delete them (they are never part of the snapshot)."""
    for leftover in _siblings(data_dir, STAGING_INFIX) + (_siblings(data_dir, PREVIOUS_INFIX) if data_dir.exists() else []):
        shutil.rmtree(leftover, ignore_errors=True)


def _swap_in(staged: Path, data_dir: Path) -> None:
    """Make ``staged`` the folder at ``data_dir`` in one step; the previous folder is then at
    ``staged`` (or gone when there was none)."""
    if not data_dir.exists():
        os.rename(staged, data_dir)
        return
    if _exchange(staged, data_dir):
        return
    # No atomic exchange (not Linux, or a filesystem without it): two renames, recovered by
    # _recover_interrupted_swap if the process dies between them.
    previous = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}{PREVIOUS_INFIX}", dir=data_dir.parent))
    os.rmdir(previous)
    os.rename(data_dir, previous)
    os.rename(staged, data_dir)
    os.rename(previous, staged)


@contextmanager
def staged_snapshot(data_dir: Path) -> Iterator[Path]:
    """A private copy of ``data_dir`` (beside it, on the same filesystem) to change freely; when the
    block ends normally the copy replaces ``data_dir`` in one atomic step and the old folder is
    deleted. On an exception, or if the process dies, ``data_dir`` is untouched and the copy is
    removed (now or by the next change). ``data_dir`` is created when it does not exist yet; a
    symbolic link to a folder is followed, so the link keeps pointing at the same place.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _recover_interrupted_swap(data_dir)
    remove_stale_staging(data_dir)
    staged = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}{STAGING_INFIX}", dir=data_dir.parent))
    try:
        if data_dir.exists():
            shutil.copytree(data_dir, staged, symlinks=True, dirs_exist_ok=True)
            os.chmod(staged, data_dir.stat().st_mode & 0o7777)
        else:
            os.chmod(staged, 0o755)  # mkdtemp makes folders private; a snapshot is meant to be read
        yield staged
        _fsync_tree(staged)
        _swap_in(staged, data_dir)
        _fsync_path(data_dir.parent)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def write_manifest_into(folder: Path, entries: dict[str, dict]) -> dict:
    """Merge ``entries`` into ``folder``'s manifest (or start one) and write it; the new manifest."""
    path = folder / config.MANIFEST_FILE
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"datasets": {}}
    return write_manifest(folder, {**current.get("datasets", {}), **entries})
