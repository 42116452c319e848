"""The dashboard's entry point: page config, sign-in gate, navigation, shared sidebar, freshness.

Run from the repository root: ``python -m streamlit run dashboard/app.py``.
Each page lives in the URL path (``/company``, ``/events``, ...); every control that shapes the
view lives in the query string (see ``dashboard/ui/widgets.py``). The home page is the overview,
at ``/`` and at ``/overview``.

Damaged or unreadable embedded data (a file missing, truncated or edited without its manifest
entry) gives an error page naming the file and what to do, never a raw exception.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# An emoji: the browser draws it from its own fonts. A ":material/...:" page icon would make every
# visitor's browser fetch the favicon from fonts.gstatic.com.
PAGE_ICON = "📈"

st.set_page_config(page_title="AI capex vs divestment", page_icon=PAGE_ICON, layout="wide")

# Imported after set_page_config on purpose: nothing else may run (or show data) before the gate.
from dashboard.ui.auth import require_sign_in  # noqa: E402

require_sign_in()

from dashboard.errors import CurationError, DashboardError, SnapshotDamaged  # noqa: E402
from dashboard.loaders.snapshot import REPAIR_HINT, relative_paths_in  # noqa: E402
from dashboard.ui import cached, sidebar, widgets  # noqa: E402
from dashboard.ui.text import escape_markdown  # noqa: E402

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"
PAGES = {
    "overview": st.Page(PAGES_DIR / "overview.py", title="Overview", icon=":material/dashboard:", url_path="", default=True),
    "company": st.Page(PAGES_DIR / "company.py", title="Company", icon=":material/apartment:", url_path="company"),
    "events": st.Page(PAGES_DIR / "events.py", title="Events", icon=":material/event_note:", url_path="events"),
    "compare": st.Page(PAGES_DIR / "compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    "methodology": st.Page(PAGES_DIR / "methodology.py", title="Data & methodology", icon=":material/menu_book:", url_path="methodology"),
}
# Streamlit serves the default page at "/" only; /overview (an old or typed link) needs a page of
# its own: the same file under that path, not shown in the menu.
ALIASES = {
    "overview": st.Page(PAGES_DIR / "overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", visibility="hidden"),
}


def show_data_error(error: DashboardError) -> None:
    """The page shown instead of the dashboard when the data cannot be read: which file, what is
    wrong with it, and what to do. Paths are relative; no exception text from libraries."""
    st.title("The data cannot be shown")
    if isinstance(error, SnapshotDamaged):
        st.error("The data snapshot does not match its manifest, so nothing from it is shown.")
        lines = list(error.mismatches) or [str(error)]
    elif isinstance(error, CurationError):
        st.error("A data file has rows that break its format, so nothing from it is shown.")
        lines = [str(issue) for issue in getattr(error.report, "issues", [])] or [str(error)]
    else:
        st.error("The data for this page could not be prepared.")
        lines = [str(error)]
    st.code("\n".join(relative_paths_in(line) for line in lines), language=None)
    st.markdown(f"What to do: {REPAIR_HINT}.")


page = st.navigation([*PAGES.values(), *ALIASES.values()])
page_key = next(key for key, candidate in [*PAGES.items(), *ALIASES.items()] if candidate.url_path == page.url_path)

try:
    widgets.start_run()
    cached.new_run()
    version = cached.data_version()
    widgets.data_version_notice(version)

    companies = cached.cached_companies(version)
    sidebar.shared_controls(page_key, companies["ticker"].tolist(), dict(zip(companies["ticker"], companies["name"])))

    as_of_dates = cached.read_as_of_dates(version)  # of the version the page shows (a refresh may change it)
    page.run()  # a page may add its own controls to the sidebar, under the shared ones
    # The data version under every control; one element for the caption and all the badges.
    badges = " ".join(
        f":gray-badge[:material/calendar_month: {escape_markdown(name)} · {escape_markdown(as_of)}]"
        for name, as_of in sorted(as_of_dates.items())
    )
    st.sidebar.caption(f"Data version `{version}`. As-of dates:\n\n{badges}")
    widgets.finish_run()
except DashboardError as error:
    show_data_error(error)
