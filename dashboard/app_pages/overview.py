"""Overview: the cohort at a glance. Charts first (capex vs internal funding per company), then the
per-company summary and the latest events, each with its export and source links."""

from __future__ import annotations

import streamlit as st

from dashboard.ui import cached, sidebar, views
from dashboard.ui.charts import show_chart
from dashboard.ui.tables import table

version = cached.data_version()
settings = sidebar.shared()
basis = settings.get("capex_basis", "reported")
params = {"page": "overview", "capex": basis, "v": version}

st.title("AI capex against internal funding")
st.caption(
    "Capex racing past what operations throw off after buybacks and dividends: the funding gap and "
    "what closes it. USD; fundamentals in USD millions, shown in billions. Capex basis: "
    f"**{sidebar.CAPEX_BASIS_LABELS[basis]}**."
)

companies = cached.cached_companies(version)
names = dict(zip(companies["ticker"], companies["name"]))
quarters = cached.cached_funding_table(version, "quarter", basis)

st.subheader("Capex vs internal funding, by quarter")
# One small chart per company in a grid of three: Streamlit stacks the columns on a narrow screen,
# so the small multiples reflow to one column on a phone instead of overlapping.
with_quarters = [t for t in names if t in set(quarters["ticker"])]
for start in range(0, len(with_quarters), 3):
    for column, ticker in zip(st.columns(3), with_quarters[start : start + 3]):
        with column:
            show_chart(
                cached.cached_overview_figure(version, basis, ticker),
                f"overview_multiples_{ticker}",
                page="overview",
                subject=ticker,
            )
st.caption(
    "Internal funding = operating cash flow − buybacks − dividends. A gap in the line is a quarter "
    f"with a missing input (see the table's note). {views.without_fundamentals_note(version)}"
)

st.subheader("Cohort summary")
summary = views.cohort_summary(version, basis)
as_of = cached.data_as_of(version)
st.caption(
    "Each row is one company at its latest trailing-12-month period with a known or bounded gap; every figure in the "
    f"row is from the period it names. Guidance: the latest statement for a year not yet ended at the data's as-of "
    f"date ({as_of.date().isoformat() if as_of == as_of else 'n/a'})."
)
display = summary.assign(funding_gap_text=[views.gap_text(row) for _, row in summary.iterrows()])[
    [
        "company",
        "ticker",
        "period",
        "period_end",
        "funding_gap_text",
        "funding_gap",
        "funding_gap_lower_bound",
        "self_funded_share",
        "capex",
        "debt_coverage",
        "divestment_coverage",
        "quality_flags",
        "guidance",
        "guidance_date",
        "guidance_source",
        "latest_event_date",
        "latest_event",
        "latest_event_source",
        "note",
    ]
]
table(
    display,
    "overview_cohort",
    params,
    export=summary,
    links={"guidance_source": "Guidance source", "latest_event_source": "Event source"},
    column_config={
        "company": "Company",
        "period": "Period (every figure in the row)",
        "funding_gap_text": "Funding gap",
        "capex": st.column_config.NumberColumn("TTM capex (USD bn)", format="localized"),
        "guidance": "Current guidance",
        "guidance_date": st.column_config.DateColumn("Stated on"),
        "latest_event_date": st.column_config.DateColumn("Latest event"),
        "latest_event": "Headline",
        "note": st.column_config.TextColumn("Note (bounds and n/a reasons)", width="large"),
    },
)
st.caption(
    "Funding gap = capex − internal funding (positive: outside money needed). “At least” is a bound: buybacks or "
    "dividends not reported, counted as 0 (they can only add to the gap). Self-funded share = internal funding ÷ capex, "
    "capped at 100%. Coverage = source ÷ gap, n/a when the gap is not positive or the line is not reported."
)

st.subheader("Latest events")
events = cached.cached_events(version).sort_values("event_date", ascending=False).head(12)
events_display = events[["event_date", "ticker", "event_type", "headline", "source_url", "amount_usd_bn", "source_name"]]
table(events_display, "overview_latest_events", params, export=events, links={"source_url": "Source"})
