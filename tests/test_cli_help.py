"""``--help`` of the command line and of every subcommand costs a bare Python start-up: it imports
none of the heavy libraries (checked in a fresh interpreter's ``sys.modules``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dashboard import config
from dashboard.commands import COMMANDS

HEAVY = ("pandas", "numpy", "scipy", "pyarrow", "yfinance", "streamlit", "requests", "pandera", "exchange_calendars")
PROBE = f"""
import json, sys
from dashboard.__main__ import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"code": code, "loaded": sorted(m for m in {HEAVY!r} if m in sys.modules)}}))
"""


def _help(*arguments: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *arguments, "--help"], capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("command", ["", *(command.NAME for command in COMMANDS)])
def test_help_imports_no_heavy_library(command: str) -> None:
    found = _help(*([command] if command else []))
    assert found == {"code": 0, "loaded": []}


def test_the_probe_sees_a_heavy_import() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import numpy\n" + PROBE, "--help"], capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=120
    )
    assert json.loads(result.stdout.strip().splitlines()[-1])["loaded"] == ["numpy"]


def test_output_options_say_what_a_symlink_does() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "reactions", "--help"], capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=120
    )
    assert " ".join(result.stdout.split()).count("through a symlink: its target is written") == 4  # the 4 outputs
