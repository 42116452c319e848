"""The linters and the type checker pass on the whole repository, as pyproject.toml configures them:
``ruff check .``, ``ruff format --check .`` and ``mypy`` (the ``dashboard`` package), each run from
the repository root with the test environment's own pinned versions (requirements-test.txt)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dashboard import config

pytestmark = pytest.mark.slow

COMMANDS = {
    "ruff check": ["-m", "ruff", "check", "."],
    "ruff format": ["-m", "ruff", "format", "--check", "."],
    "mypy": ["-m", "mypy"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_repository_passes(name: str):
    result = subprocess.run([sys.executable, *COMMANDS[name]], capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=600)
    assert result.returncode == 0, f"{name} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
