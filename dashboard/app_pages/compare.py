"""Compare: companies side by side on calendarized periods: capex intensity, funding gap, coverage."""

from __future__ import annotations

import streamlit as st

from dashboard import config
from dashboard.charts.funding import compare_figure
from dashboard.ui import cached, sidebar, views, widgets
from dashboard.ui.charts import show_chart
from dashboard.ui.columns import FUNDING_KEY_COLUMNS
from dashboard.ui.tables import table

version = cached.data_version()
basis = sidebar.shared().get("capex_basis", "reported")
companies = cached.cached_companies(version)
names = dict(zip(companies["ticker"], companies["name"]))

st.title("Compare companies")
st.caption(
    "Fiscal quarters mapped to the calendar quarter with the nearest end date (Microsoft's year ends in June, "
    "Oracle's in May, Intel's quarters end on 52/53-week Saturdays), so companies line up. "
    f"Capex basis: **{sidebar.CAPEX_BASIS_LABELS[basis]}**. {views.without_fundamentals_note(version)}"
)
PERIODS: dict[config.Period, str] = {"calendar_quarter": "Calendar quarter", "calendar_year": "Calendar year"}
c1, c2 = st.columns([1, 3])
period = widgets.choice("period", "Period", list(PERIODS), "calendar_quarter", format_func=PERIODS.__getitem__, container=c1, kind="radio")
rows = cached.cached_funding_table(version, period, basis)
with_data = [t for t in companies["ticker"] if t in set(rows["ticker"])]
chosen = widgets.multi_choice("tickers", "Companies", with_data, with_data, format_func=lambda t: names.get(t, t), container=c2)
rows = rows[rows["ticker"].isin(chosen)]
params = {"page": "compare", "capex": basis, "period": period, "tickers": ",".join(chosen), "v": version}

left, right = st.columns(2)
with left:
    show_chart(
        compare_figure(rows, metric="capex_intensity", label="Capex intensity (capex ÷ revenue)", percent=True, names=names),
        "cmp_intensity",
        page="compare",
        subject="companies",
    )
    show_chart(
        compare_figure(
            rows,
            metric="self_funded_share",
            label="Self-funded share (internal funding ÷ capex, capped at 100%)",
            percent=True,
            names=names,
        ),
        "cmp_self",
        page="compare",
        subject="companies",
    )
with right:
    show_chart(
        compare_figure(rows, metric="funding_gap", label="Funding gap (capex − internal funding)", names=names),
        "cmp_gap",
        page="compare",
        subject="companies",
    )
    show_chart(
        compare_figure(rows, metric="debt_coverage", label="Debt coverage (net debt issued ÷ gap)", percent=True, names=names),
        "cmp_debt",
        page="compare",
        subject="companies",
    )
st.caption(
    "A break in a line is a period with a missing input (named in the table's missing column); a hollow triangle on the "
    "gap chart is a lower bound (buybacks or dividends not reported, counted as 0). Coverage ratios are n/a when the gap "
    "is not positive."
)

st.subheader("The figures")
columns = [
    "ticker",
    "period",
    "period_end",
    "capex_basis",
    "revenue",
    "capex",
    "operating_cash_flow",
    "internal_funding",
    "funding_gap",
    "funding_gap_lower_bound",
    "bound_missing",
    "quality_flags",
    "capex_intensity",
    "capex_to_ocf",
    "self_funded_share",
    "divestment_coverage",
    "debt_coverage",
    "buybacks_basis",
    "period_note",
    "missing",
]
table(rows[columns], f"compare_{period}", params, export=rows, key_columns=FUNDING_KEY_COLUMNS)
