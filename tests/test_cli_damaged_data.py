"""Every command refuses a data folder that does not match its manifest with exit 1 (invalid
data), naming the manifest and the file, before writing anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import config


def run_cli(*arguments: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *arguments],
        capture_output=True,
        text=True,
        cwd=config.REPO_ROOT,
        timeout=300,
        env={**os.environ, "DASHBOARD_DATA_DIR": str(data_dir)},
    )


@pytest.mark.parametrize("arguments", [["validate"], ["reactions", "--window=-1,1"], ["funding-gap"], ["export", "events"]])
def test_a_truncated_dataset_exits_1(data_copy: Path, tmp_path: Path, arguments: list[str]) -> None:
    events = data_copy / config.EVENTS_FILE
    lines = events.read_text(encoding="utf-8").splitlines(keepends=True)
    events.write_text("".join(lines[: len(lines) * 6 // 10]), encoding="utf-8")
    out = tmp_path / "out.csv"
    done = run_cli(*arguments, *([] if arguments == ["validate"] else ["--out", str(out)]), data_dir=data_copy)
    assert done.returncode == 1, (done.stdout, done.stderr)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: damaged data snapshot:") and config.EVENTS_FILE in last, done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
