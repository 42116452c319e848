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


# The slow tier: AppTest, notebooks, a real browser or server, and anything that starts a
# subprocess. `python -m pytest -m "not slow"` is the fast tier; the README's command runs both.
SLOW_MODULES = frozenset(
    {
        "test_app_pages", "test_notebooks", "test_browser", "test_auth", "test_deployment_config",
        "test_upload_matches_cli", "test_cli_golden", "test_reliability_refresh_kill",
        "test_reliability_app", "test_reliability_app_server",
    }
)  # fmt: skip
# Words in a test's own source that mean it starts a process, a server or an AppTest.
_PROCESS_WORDS = ("subprocess", "AppTest", "running_streamlit", "main([", "run_cli(", "_run_refresh(", "sys.executable")


def _starts_processes(function: object) -> bool:
    import inspect

    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    return any(word in source for word in _PROCESS_WORDS)


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module in SLOW_MODULES or _starts_processes(getattr(item, "function", None)):
            item.add_marker(pytest.mark.slow)
