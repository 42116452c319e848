"""`pip install -e .` (done by requirements-test.txt) gives a `dashboard` console script that does
what `python -m dashboard` does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import config

pytestmark = pytest.mark.slow


def test_the_console_script_runs_the_command_line():
    script = shutil.which("dashboard") or str(Path(sys.executable).with_name("dashboard"))
    assert Path(script).exists(), "pip install -e . did not install the dashboard console script"
    console = subprocess.run([script, "--help"], capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=120)
    module = subprocess.run(
        [sys.executable, "-m", "dashboard", "--help"], capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=120
    )
    assert console.returncode == module.returncode == 0, console.stderr
    assert "funding-gap" in console.stdout and console.stdout.split("\n", 1)[1] == module.stdout.split("\n", 1)[1]
    failed = subprocess.run(
        [script, "export", "events", "--out", "x.json"], capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=120
    )
    assert failed.returncode == 2 and "suffix chooses the format" in failed.stderr
