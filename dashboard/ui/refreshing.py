"""The optional live refresh from the methodology page: allowed only when the server says so.

Each outcome goes to the server log (Streamlit's logger: its format and ``logger.level``), the
full summary on success and the reason on failure; the viewer sees one readable line, and a
toast on success.
"""

from __future__ import annotations

import os

import streamlit as st
from streamlit.logger import get_logger

ALLOW_ENV = "DASHBOARD_ALLOW_REFRESH"
SUCCESS_ICON = "✅"

logger = get_logger(__name__)


def refresh_allowed() -> bool:
    """True when the server opts in: ``DASHBOARD_ALLOW_REFRESH=1`` in the environment, or
    ``[dashboard] allow_refresh = true`` in ``.streamlit/secrets.toml``; and the refresh module
    is importable."""
    allowed = os.environ.get(ALLOW_ENV, "") == "1"
    if not allowed:
        try:
            allowed = bool(st.secrets.get("dashboard", {}).get("allow_refresh", False))
        except Exception:  # no secrets file: Streamlit raises its own error type
            allowed = False
    if not allowed:
        return False
    try:
        from dashboard.loaders import refresh  # noqa: F401
    except ImportError:
        return False
    return True


def run_refresh(*, prices: bool, fundamentals: bool) -> str:
    """Run ``dashboard.loaders.refresh.refresh`` with a progress bar; clear the caches after it
    (the data version changes anyway). Returns the outcome in one readable line
    (``RefreshResult.headline``), with paths relative to the repository, and shows it as a toast
    on success; errors are returned, not raised. The outcome is logged for the server: every
    summary line on success (INFO), the reason on failure (WARNING)."""
    from dashboard.errors import DashboardError
    from dashboard.loaders import refresh
    from dashboard.loaders.snapshot import relative_paths_in
    from dashboard.ui import cached

    bar = st.progress(0.0, text="Starting refresh…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=relative_paths_in(str(message))[:200])

    asked = ", ".join(name for name, wanted in (("prices", prices), ("fundamentals", fundamentals)) if wanted)
    logger.info("in-app refresh started: %s", asked)
    try:
        result = refresh.refresh(prices=prices, fundamentals=fundamentals, progress=progress)
    except DashboardError as exc:
        st.cache_data.clear()
        cached.clear_figures()
        cached.new_run()
        reason = relative_paths_in(str(exc))
        logger.warning("in-app refresh failed, the data is unchanged: %s", reason)
        return f"Refresh failed, the data is unchanged: {reason}"
    st.cache_data.clear()
    cached.clear_figures()
    cached.new_run()  # the rest of this run reads the new manifest
    bar.progress(1.0, text="Done")
    logger.info("in-app refresh finished: %s", " | ".join(relative_paths_in(line) for line in result.lines()))
    headline = relative_paths_in(result.headline())
    st.toast(headline, icon=SUCCESS_ICON)
    return headline
