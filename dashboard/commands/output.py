"""The files a command writes: refused before anything runs when two of them (or an output and an
input) are the same file, and written atomically, all together, through symlinks.

- **Same file**: paths are compared after resolving ``..``, symlinks and the working folder, and
  existing files also by device and inode (hard links), so ``--out x.csv --summary ./x.csv`` or
  a link to ``x.csv`` is caught.
- **Symlinks**: an output that is a symlink is written at the file it points to; the link stays.
- **Atomic**: each file goes to a temporary sibling of its target; only when every output of the
  command is complete are they renamed over their targets, so a failure leaves every earlier file
  as it was and no partial file behind.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

SYMLINK_NOTE = " (through a symlink: its target is written, the link kept)"


def output_help(text: str) -> str:
    """An output option's help text, saying what happens to a symlink."""
    return text + SYMLINK_NOTE


def _identity(path: Path) -> tuple:
    resolved = path.expanduser().resolve()
    try:
        status = resolved.stat()
    except OSError:
        return ("path", str(resolved))
    return ("inode", status.st_dev, status.st_ino)


def same_file_problem(outputs: Mapping[str, Path | None], inputs: Mapping[str, Path | None] | None = None) -> str | None:
    """A usage error when two outputs (``{option: path}``), or an output and an input, name the
    same file; None when every file is distinct. Options without a path are ignored."""
    seen: dict[tuple, str] = {}
    for option, path in [*(inputs or {}).items(), *outputs.items()]:
        if path is None:
            continue
        key = _identity(Path(path))
        if key in seen:
            return f"{seen[key]} and {option} name the same file ({path}); give each output its own file"
        seen[key] = option
    return None


EXPORT_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx")  # dashboard.exporting.export_file's formats


def format_problem(path: Path | str) -> str | None:
    """A usage error when an output names neither a ``.csv`` nor an ``.xlsx`` file (the suffix
    chooses the format), else None."""
    if Path(path).suffix.lower() in EXPORT_SUFFIXES:
        return None
    return f"{path}: the suffix chooses the format: {' or '.join(EXPORT_SUFFIXES)}"


def option_paths(args: argparse.Namespace, names: Iterable[str]) -> dict[str, Path | None]:
    """``{"--name": args.name}`` for the options ``names``."""
    return {f"--{name.replace('_', '-')}": getattr(args, name, None) for name in names}


def write_outputs(contents: Mapping[Path, Iterable[bytes]]) -> None:
    """Write each path's chunks to a temporary sibling of its target (a symlink's target), then
    rename them all over their targets; on any failure no target changes and no temporary file
    stays."""
    import tempfile  # not at the top: --help should not pay for it

    staged: list[tuple[Path, Path]] = []
    try:
        for path, chunks in contents.items():
            target = Path(path).expanduser().resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((Path(name), target))
            with os.fdopen(handle, "wb") as stream:
                for chunk in chunks:
                    stream.write(chunk)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(name, 0o644)  # mkstemp makes files private; an output is meant to be read
        for temporary, target in staged:
            os.replace(temporary, target)
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
