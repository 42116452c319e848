"""Shared fixtures. Every test is offline; tests that write data work on a temporary copy."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dashboard import config


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the embedded ``data/`` folder that a test may change freely."""
    target = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, target)
    return target
