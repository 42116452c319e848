"""The optional live refresh from the methodology page: allowed only when the server says so."""
from __future__ import annotations

import os

import streamlit as st

ALLOW_ENV = "DASHBOARD_ALLOW_REFRESH"


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
    (``RefreshResult.headline``), with paths relative to the repository; errors are returned, not
    raised."""
    from dashboard.errors import DashboardError
    from dashboard.loaders import refresh
    from dashboard.loaders.snapshot import relative_paths_in

    bar = st.progress(0.0, text="Starting refresh…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=relative_paths_in(str(message))[:200])

    try:
        result = refresh.refresh(prices=prices, fundamentals=fundamentals, progress=progress)
    except DashboardError as exc:
        st.cache_data.clear()
        return f"Refresh failed, the data is unchanged: {relative_paths_in(str(exc))}"
    st.cache_data.clear()
    bar.progress(1.0, text="Done")
    return relative_paths_in(result.headline())
