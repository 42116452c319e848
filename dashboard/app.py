"""The dashboard's entry point: page config, sign-in gate, navigation, shared sidebar, freshness.

Run from the repository root: ``python -m streamlit run dashboard/app.py``.
Each page lives in the URL path (``/company``, ``/events``, ...); every control that shapes the
view lives in the query string (see ``dashboard/ui/widgets.py``).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="AI capex vs divestment", page_icon=":material/query_stats:", layout="wide")

# Imported after set_page_config on purpose: nothing else may run (or show data) before the gate.
from dashboard.ui.auth import require_sign_in  # noqa: E402

require_sign_in()

from dashboard.ui import cached, widgets  # noqa: E402

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"
PAGES = {
    "overview": st.Page(PAGES_DIR / "overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    "company": st.Page(PAGES_DIR / "company.py", title="Company", icon=":material/apartment:", url_path="company"),
    "events": st.Page(PAGES_DIR / "events.py", title="Events", icon=":material/event_note:", url_path="events"),
    "compare": st.Page(PAGES_DIR / "compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    "methodology": st.Page(PAGES_DIR / "methodology.py", title="Data & methodology", icon=":material/menu_book:", url_path="methodology"),
}

page = st.navigation(list(PAGES.values()))
page_key = next(key for key, candidate in PAGES.items() if candidate.url_path == page.url_path)

widgets.start_run()
version = cached.data_version()
widgets.data_version_notice(version)

companies = cached.cached_companies(version)
widgets.sidebar_controls(page_key, companies["ticker"].tolist(), dict(zip(companies["ticker"], companies["name"])))

with st.sidebar:
    st.caption(f"Data version `{version}`. As-of dates:")
    for name, as_of in sorted(cached.as_of_dates(version).items()):
        st.badge(f"{name} · {as_of}", icon=":material/calendar_month:", color="gray")

page.run()
widgets.finish_run()
