"""Company: one section at a time (bound to the link's ``section``): the funding gap (the bridge
with memo lines and quality flags), guidance and the forward view (capex against every guidance
vintage, the implied gap with what-if sliders), the market reactions (price against benchmark
with event markers, CAR paths, event detail) or the SEC filings.
Only the open section is built, so a company switch redraws one section, not the whole page."""

from __future__ import annotations

import streamlit as st

from dashboard.ui import cached, sidebar, widgets
from dashboard.ui.company_filings import filings_section
from dashboard.ui.company_forward import forward_section
from dashboard.ui.company_funding import funding_section
from dashboard.ui.company_reactions import reactions_section
from dashboard.ui.company_view import SECTIONS, CompanyView
from dashboard.ui.text import escape_markdown

version = cached.data_version()
settings = sidebar.shared()
ticker = settings["company"]
basis = settings["capex_basis"]
companies = cached.cached_companies(version).set_index("ticker")
company = companies.loc[ticker]
params = {
    "page": "company",
    "company": ticker,
    "capex": basis,
    "v": version,
}

st.title(f"{company['name']} ({ticker})")
coverage = cached.cached_price_coverage(version)
prices_as_of = cached.read_as_of_dates(version).get("prices", "")
if ticker in coverage.index:
    last = coverage.at[ticker, "last_date"].date().isoformat()
    st.caption(
        f"{escape_markdown(company['exchange'])} · prices in {company['currency']} from "
        f"{coverage.at[ticker, 'first_date'].date().isoformat()} to {last} · market benchmark "
        f"{company['market_benchmark']} · fiscal year ends in month {int(company['fiscal_year_end_month'])}"
    )
    if last < prices_as_of:
        st.warning(
            f"{ticker}'s prices stop on {last} (the snapshot runs to {prices_as_of}): no price, "
            "return or reaction after that date is shown.",
            icon=":material/event_busy:",
        )

view = CompanyView(version, ticker, company, basis, params)
section = widgets.choice("section", "Section", list(SECTIONS), "funding", format_func=SECTIONS.__getitem__, kind="radio")
draw = {"funding": funding_section, "forward": forward_section, "reactions": reactions_section, "filings": filings_section}
if section != "reactions":
    sidebar.keep_event_study_link()
draw[section](view)
