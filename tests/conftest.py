"""Shared fixtures. Every test is offline; tests that write data work on a temporary copy.

Value tests read a frozen snapshot (``tests/fixtures/snapshot``), not the live ``data/``, so better
data never breaks them. The variable is set before ``dashboard.config`` is imported, and
subprocesses (the command line, Streamlit servers, notebooks) inherit it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

FROZEN_SNAPSHOT = Path(__file__).resolve().parent / "fixtures" / "snapshot"
os.environ["DASHBOARD_DATA_DIR"] = str(FROZEN_SNAPSHOT)

import pytest  # noqa: E402

from dashboard import config  # noqa: E402


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the embedded ``data/`` folder that a test may change freely."""
    target = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, target)
    return target
