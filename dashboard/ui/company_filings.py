"""The Company page's SEC-filings section: the company's filings in scope beside its curated events."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.charts.filings import filings_timeline_figure
from dashboard.ui import cached
from dashboard.ui.company_view import CompanyView
from dashboard.ui.tables import table
from dashboard.ui.text import escape_markdown


def filings_section(view: CompanyView) -> None:
    """The company's SEC filings in scope (fetched with ``python -m dashboard filings``) beside its
    curated events: matched, ambiguous and new ones told apart, each linked to EDGAR, with the
    exact Eastern acceptance time, how it was obtained and the day 0 it gives. Offline, with no
    filings fetched, it says how to fetch them and shows nothing invented."""
    st.header("SEC filings beside the curated events")
    events = cached.cached_events(view.version)
    own_events = events[events["ticker"] == view.ticker]
    if pd.isna(view.company.get("sec_cik")):
        view.chart(filings_timeline_figure(pd.DataFrame(columns=["status"]), own_events, ticker=view.ticker), "company_filings")
        st.info(
            f"{view.company['name']} is listed on {escape_markdown(view.company['exchange'])} and does not file with the "
            "SEC (no EDGAR CIK): there are no filings to show."
        )
        return
    candidates, message = cached.cached_filing_candidates(view.version, cached.filings_key())
    if candidates is None:
        view.chart(filings_timeline_figure(pd.DataFrame(columns=["status"]), own_events, ticker=view.ticker), "company_filings")
        st.info("No SEC filings in this snapshot. " + message)  # the loader's own text, with the command in code
        return
    own = candidates[candidates["ticker"] == view.ticker]
    view.chart(filings_timeline_figure(own, own_events, ticker=view.ticker), "company_filings")
    st.caption(
        "Times are EDGAR's acceptance times in US Eastern time; `time_source` says how each was obtained "
        "(`header`: the filing's SGML header; `json_utc`/`json_et`: the filer's JSON convention, learned; "
        "`json_assumed_utc`: assumed, not learned). The event type is a suggestion for review; curated events change "
        "only when a person edits events.csv."
    )
    moved = own[own["changes_event_day0"].fillna(False).astype(bool)]
    if not moved.empty:
        st.warning(
            f"{len(moved)} matched filing(s) would move a curated event's day 0: see the day-0 column against the event's.",
            icon=":material/schedule:",
        )
    table(
        own,
        "company_filings",
        {**view.params, "section": "filings"},
        links={"document_url": "Document on EDGAR"},
        key_columns=("accepted_et", "form", "title", "status", "matched_event_id", "day0", "changes_event_day0"),
    )
