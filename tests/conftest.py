"""Shared fixtures. Every test is offline; tests that write data work on a temporary copy.

Value tests read a frozen snapshot (``tests/fixtures/snapshot``), not the live ``data/``, so better
data never breaks them. The variable is set before ``dashboard.config`` is imported, and
subprocesses (the command line, Streamlit servers, notebooks) inherit it.
"""

from __future__ import annotations

import functools
import inspect
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

FROZEN_SNAPSHOT = Path(__file__).resolve().parent / "fixtures" / "snapshot"
os.environ["DASHBOARD_DATA_DIR"] = str(FROZEN_SNAPSHOT)

import pytest  # noqa: E402

from dashboard import config  # noqa: E402

if TYPE_CHECKING:
    import pandas as pd


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the embedded ``data/`` folder that a test may change freely."""
    target = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, target)
    return target


@pytest.fixture(scope="session")
def _snapshot_frames() -> dict[str, pd.DataFrame]:
    """The frozen snapshot's curated frames, loaded once per session; never handed out as they are."""
    from dashboard.loaders.curated import load_companies, load_events, load_fundamentals, load_fundamentals_flags, load_guidance

    fundamentals = load_fundamentals()
    return {
        "fundamentals": fundamentals,
        "events": load_events(),
        "companies": load_companies(),
        "flags": load_fundamentals_flags(fundamentals=fundamentals),
        "guidance": load_guidance(),
    }


@pytest.fixture(scope="module")
def snapshot_frames(_snapshot_frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Copies of the frozen snapshot's ``fundamentals``, ``events``, ``companies``, ``flags`` and
    ``guidance`` (as ``load_*`` returns them) for one module: loaded once per session, copied per
    module, so a module that changes its frames changes no other module's."""
    return {name: frame.copy(deep=True) for name, frame in _snapshot_frames.items()}


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright, one per test module (browser tests)."""
    from playwright.sync_api import sync_playwright

    from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def snapshot_table(_snapshot_frames: dict[str, pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """``snapshot_table(period="quarter", capex_basis="reported")``: ``funding_table`` of the frozen
    snapshot (its fundamentals, events, companies and quality flags, as the app computes it).

    Each setting is computed once per session, for the tests that only read the table; every call
    returns a fresh copy, so a test may change what it gets. Tests of the computation itself
    (synthetic inputs, inputs not mutated) call ``funding_table`` directly.
    """
    from dashboard.metrics.funding import funding_table

    frames = _snapshot_frames
    computed: dict[tuple[str, str], pd.DataFrame] = {}

    def table(period: str = "quarter", capex_basis: str = "reported") -> pd.DataFrame:
        if (period, capex_basis) not in computed:
            computed[(period, capex_basis)] = funding_table(
                frames["fundamentals"], frames["events"], companies=frames["companies"], flags=frames["flags"],
                period=period, capex_basis=capex_basis,  # type: ignore[arg-type]
            )  # fmt: skip
        return computed[(period, capex_basis)].copy()

    return table


# The slow tier: AppTest, notebooks, a real browser or server, and anything that starts a
# subprocess. `python -m pytest -m "not slow"` is the fast tier; the README's command runs both.
SLOW_MODULES = frozenset(
    {
        "test_app_pages", "test_notebooks", "test_browser", "test_auth", "test_deployment_config",
        "test_upload_matches_cli", "test_cli_golden", "test_reliability_refresh_kill",
        "test_reliability_app", "test_reliability_app_server",
    }
)  # fmt: skip
# Tests whose process starts inside the library: a large upload's study runs in a spawned worker
# (dashboard.ui.uploads._table_in_worker, reached with in_process_limit=0).
SLOW_TESTS = frozenset(
    {
        "test_reliability_uploads::test_the_worker_gives_the_same_table_as_the_server_process",
        "test_reliability_uploads::test_a_study_over_the_time_budget_is_stopped",
        "test_reliability_uploads::test_a_table_with_too_many_confounding_events_is_refused",
    }
)
# Tests that are slow by their size rather than by a process: each takes 0.3 s or more here (the
# fast tier must stay under 30 s), since it checks a large synthetic input exhaustively. Property
# tests (hypothesis, many examples each) are slow too; see _is_slow.
SCALE_TESTS = frozenset(
    {
        "test_export_vectorized::test_chunks_join_to_the_same_bytes",
        "test_export_cells::test_many_floats_are_written_as_repr",
        "test_event_study_confounding::test_confounded_by_lists_exactly_the_same_company_events_inside_each_window",
        "test_event_study_confounding::test_confounding_scales_to_100k_events_and_matches_a_loop_on_a_sample",
    }
)
# Words in a test's own source that mean it starts a process, a server or an AppTest.
_PROCESS_WORDS = ("subprocess", "AppTest", "running_streamlit", "main([", "run_cli(", "_run_refresh(", "sys.executable")
# The same, in a helper of the test's module that the test calls (``_cli(...)`` running
# ``python -m dashboard``); an in-process ``main([...])`` in a helper does not count.
_HELPER_PROCESS_WORDS = ("subprocess", "AppTest", "running_streamlit", "sys.executable")


@functools.cache
def _source(function: object) -> str:
    """The function's source without whitespace, so that ``main(\n    [`` (as ruff format splits a
    long call) still reads ``main([``."""
    try:
        return "".join(inspect.getsource(function).split())  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""


def _starts_processes(function: object) -> bool:
    if any(word in _source(function) for word in _PROCESS_WORDS):
        return True
    code, namespace = getattr(function, "__code__", None), getattr(function, "__globals__", {})
    helpers = [namespace.get(name) for name in (code.co_names if code else ())]
    return any(
        inspect.isfunction(helper)
        and helper.__module__ == function.__module__  # type: ignore[attr-defined]
        and any(word in _source(helper) for word in _HELPER_PROCESS_WORDS)
        for helper in helpers
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        function = getattr(item, "function", None)
        name = f"{module}::{getattr(function, '__name__', '')}"
        if _is_slow(module, name, function):
            item.add_marker(pytest.mark.slow)


def _is_slow(module: str, name: str, function: object) -> bool:
    """Slow: AppTest, notebooks, a browser or server, a process started (by the test or a helper
    of its module), a large input checked exhaustively, or a hypothesis property test."""
    if module in SLOW_MODULES or name in SLOW_TESTS or name in SCALE_TESTS:
        return True
    return hasattr(function, "hypothesis") or _starts_processes(function)
