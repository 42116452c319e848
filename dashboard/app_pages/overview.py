"""Overview: the cohort at a glance. Charts first (capex vs internal funding per company), then the
per-company summary and the latest events, each with its export and source links."""
from __future__ import annotations

import streamlit as st

from dashboard.charts.funding import capex_vs_internal_funding_figure
from dashboard.ui import cached, views, widgets
from dashboard.ui.export import table
from dashboard.ui.text import http_urls

version = cached.data_version()
settings = widgets.shared()
basis = settings.get("capex_basis", "reported")
params = {"page": "overview", "capex": basis, "v": version}

st.title("AI capex against internal funding")
st.caption(
    "Capex racing past what operations throw off after buybacks and dividends: the funding gap and "
    "what closes it. USD; fundamentals in USD millions, shown in billions. Capex basis: "
    f"**{widgets.CAPEX_BASIS_LABELS[basis]}**."
)

companies = cached.cached_companies(version)
names = dict(zip(companies["ticker"], companies["name"]))
quarters = cached.cached_funding_table(version, "quarter", basis)

st.subheader("Capex vs internal funding, by quarter")
st.plotly_chart(capex_vs_internal_funding_figure(quarters, names=names), key="overview_multiples")
st.caption(
    "Internal funding = operating cash flow − buybacks − dividends. A gap in the line is a quarter "
    f"with a missing input (see the table's note). {views.without_fundamentals_note(version)}"
)

st.subheader("Cohort summary")
summary = views.cohort_summary(version, basis)
display = summary.assign(
    ttm_capex_bn=summary["ttm_capex"] / 1000,
    funding_gap_bn=summary["funding_gap"] / 1000,
    self_funded_pct=summary["self_funded_share"] * 100,
    debt_coverage_pct=summary["debt_coverage"] * 100,
    divestment_coverage_pct=summary["divestment_coverage"] * 100,
    guidance_source=http_urls(summary["guidance_source"]),
    latest_event_source=http_urls(summary["latest_event_source"]),
)[
    [
        "company", "ticker", "ttm_capex_period", "ttm_capex_bn", "guidance", "guidance_date", "guidance_source",
        "gap_period", "funding_gap_bn", "self_funded_pct", "debt_coverage_pct", "divestment_coverage_pct",
        "latest_event_date", "latest_event", "latest_event_source", "note",
    ]
]
table(
    display,
    "overview_cohort",
    params,
    export=summary,
    column_config={
        "ttm_capex_period": st.column_config.TextColumn("TTM capex period"),
        "ttm_capex_bn": st.column_config.NumberColumn("Trailing capex (bn)", format="$%.1f"),
        "guidance": st.column_config.TextColumn("Latest guidance"),
        "guidance_date": st.column_config.DateColumn("Stated on"),
        "guidance_source": st.column_config.LinkColumn("Guidance source", display_text="source"),
        "gap_period": st.column_config.TextColumn("Gap period (latest known TTM)"),
        "funding_gap_bn": st.column_config.NumberColumn("Funding gap (bn)", format="$%.1f"),
        "self_funded_pct": st.column_config.NumberColumn("Self-funded", format="%.0f%%"),
        "debt_coverage_pct": st.column_config.NumberColumn("Debt coverage", format="%.0f%%"),
        "divestment_coverage_pct": st.column_config.NumberColumn("Divestment coverage", format="%.0f%%"),
        "latest_event_date": st.column_config.DateColumn("Latest event"),
        "latest_event": st.column_config.TextColumn("Headline"),
        "latest_event_source": st.column_config.LinkColumn("Event source", display_text="source"),
        "note": st.column_config.TextColumn("Note (n/a reasons)"),
    },
)
st.caption(
    "Funding gap = capex − internal funding (positive: outside money needed). Self-funded share = "
    "internal funding ÷ capex, capped at 100%. Coverage = source ÷ gap, n/a when the gap is not positive. "
    "Empty cells are missing figures: the note gives the reason."
)

st.subheader("Latest events")
events = cached.cached_events(version).sort_values("event_date", ascending=False).head(12)
events_display = events[["event_date", "ticker", "event_type", "headline", "source_url", "amount_usd_bn", "source_name"]].assign(
    source_url=http_urls(events["source_url"])
)
table(
    events_display,
    "overview_latest_events",
    params,
    export=events,
    column_config={
        "event_date": st.column_config.DateColumn("Date"),
        "amount_usd_bn": st.column_config.NumberColumn("Amount (USD bn)", format="%.1f"),
        "source_url": st.column_config.LinkColumn("Source", display_text="open"),
    },
)
