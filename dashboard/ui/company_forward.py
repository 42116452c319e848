"""The Company page's guidance section: capex against every guidance vintage, and the forward view
(the chosen vintage's implied gap and new debt) with what-if settings.

The what-ifs run in a fragment: moving a slider reruns this part only, not the whole page."""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import streamlit as st

from dashboard.config import USD_MILLIONS_PER_BILLION
from dashboard.ui import cached, views, widgets
from dashboard.ui.company_view import CompanyView
from dashboard.ui.tables import lazy_table, table
from dashboard.ui.text import escape_markdown, missing_reason, usd_bn

FORWARD_KEY_COLUMNS = (
    "statement_date",
    "guided_period",
    "funding_gap_mid",
    "funding_gap_lower_bound_mid",
    "implied_new_debt_mid",
    "implied_new_debt_lower_bound_mid",
)


class WhatIf(NamedTuple):
    """One what-if setting: the arguments of its ``widgets.number`` slider (link key, label, range,
    default, step, display format and help)."""

    key: str
    label: str
    low: float
    high: float
    default: float
    step: float
    format: str | None
    help: str


WHAT_IFS = (
    WhatIf(
        "capex_change",
        "Capex vs guidance",
        -0.5,
        1.0,
        0.0,
        0.05,
        "%+.2f",
        "Decimal change applied to the guided capex (0 = as guided, 0.1 = +10%).",
    ),
    WhatIf("ocf_growth", "OCF growth", -0.5, 1.0, 0.0, 0.05, "%+.2f", "Decimal growth of trailing operating cash flow."),
    WhatIf("buyback_pace", "Buyback pace", 0.0, 2.0, 1.0, 0.1, "%.1f×", "Multiple of trailing buybacks (0 = paused)."),
    WhatIf("dividend_pace", "Dividend pace", 0.0, 2.0, 1.0, 0.1, "%.1f×", "Multiple of trailing dividends."),
    WhatIf(
        "divestments", "Divestments (USD bn)", 0.0, 100.0, 0.0, 1.0, None, "Expected divestment and asset-sale proceeds in the guided year."
    ),
)


def forward_section(view: CompanyView) -> None:
    """The guidance trajectory, then the forward view of the chosen vintage."""
    _guidance_trajectory(view)
    st.header("Forward view: the latest guidance's implied gap")
    base = cached.cached_forward_view(view.version)
    base = base[base["ticker"] == view.ticker].sort_values("statement_date")
    if base.empty:
        st.info(f"No capex guidance for {view.name} in the data, so no forward view.")
        return
    _forward_view(view, base)


def _guidance_trajectory(view: CompanyView) -> None:
    """Capex with every guidance vintage (the chart says so inside itself when there is none)."""
    st.header("Capex and guidance trajectory")
    guidance = cached.cached_guidance(view.version)
    guidance = guidance[guidance["ticker"] == view.ticker].sort_values("statement_date")
    view.chart(cached.cached_guidance_figure(view.version, view.basis, view.ticker), "company_guidance")
    if guidance.empty and cached.cached_company_funding_rows(view.version, "ttm", view.basis, view.ticker).empty:
        st.info(f"No fundamentals and no capex guidance for {view.name} in the data.")
        return
    st.caption(
        "Each guidance vintage is a bar from its stated low to high, placed on the date it was stated and coloured "
        "by the year it guides; the line is trailing-12-month capex, squares the fiscal-year totals."
    )
    lazy_table(
        f"The {len(guidance)} guidance statements", lambda: guidance, "company_guidance", view.params, links={"source_url": "Source"}
    )


def _vintage_name(statement_date: pd.Timestamp, guided_period: str) -> str:
    return f"{statement_date.date().isoformat()}_{guided_period}"


@st.fragment
def _forward_view(view: CompanyView, base: pd.DataFrame) -> None:
    """The vintage picker and the what-ifs, and what they imply (rerun alone when they change)."""
    vintage_names = [_vintage_name(d, p) for d, p in zip(base["statement_date"], base["guided_period"])]
    default_vintage = vintage_names[-1]
    current_guidance = cached.cached_current_guidance(view.version)
    if view.ticker in current_guidance.index:
        now = current_guidance.loc[view.ticker]
        year = f"{'CY' if now['period_basis'] == 'calendar_year' else 'FY'}{int(now['fiscal_year'])}"
        default_vintage = _vintage_name(now["statement_date"], year)
    vintage = widgets.choice(
        "vintage",
        "Guidance vintage (statement date, guided year)",
        vintage_names[::-1],
        default_vintage,
        format_func=lambda n: n.replace("_", " · "),
    )
    settings = {
        what_if.key: widgets.number(**what_if._asdict(), container=column) for what_if, column in zip(WHAT_IFS, st.columns(len(WHAT_IFS)))
    }
    what_if = cached.cached_forward_view(
        view.version,
        settings["capex_change"],
        settings["ocf_growth"],
        settings["buyback_pace"],
        settings["dividend_pace"],
        settings["divestments"] * USD_MILLIONS_PER_BILLION,
    )
    what_if = what_if[what_if["ticker"] == view.ticker].sort_values("statement_date")
    _implied_figures(what_if.iloc[vintage_names.index(vintage)])
    table(what_if, "company_forward_view", {**view.params, "vintage": vintage, **settings}, key_columns=FORWARD_KEY_COLUMNS)


def _implied_figures(current: pd.Series) -> None:
    """The chosen vintage's guidance, and the internal funding, gap and new debt it implies."""
    reason = missing_reason(current["missing"])
    bound = views.bound_reason(current)
    st.markdown(
        f"Guidance of **{current['statement_date'].date()}** for **{escape_markdown(current['guided_period'])}** "
        f"(ends {current['guided_period_end'].date()}): capex {usd_bn(current['capex_low'], digits=0)}–"
        f"{usd_bn(current['capex_high'], digits=0)}; run-rate {escape_markdown(current['run_rate_period'])}."
    )
    internal, gap, debt, debt_range = st.columns(4)
    internal_known = pd.notna(current["internal_funding"])
    internal.metric(
        "Internal funding" if internal_known else "Internal funding, at most",
        usd_bn(current["internal_funding"] if internal_known else current["internal_funding_upper_bound"]),
        help=bound or reason or "OCF − buybacks − dividends, what-if adjusted",
    )
    gap.metric(
        "Implied gap (mid)", views.gap_text(current, prefix="funding_gap_mid"), help=bound or reason or "guided capex − internal funding"
    )
    debt.metric(
        "Implied new debt (mid)",
        views.gap_text(current, prefix="implied_new_debt_mid"),
        help=bound or reason or "max(gap − divestments, 0)",
    )
    debt_range.metric(
        "New debt range",
        f"{views.gap_text(current, prefix='implied_new_debt_low')} – {views.gap_text(current, prefix='implied_new_debt_high')}",
        help=bound or reason or "low – high",
    )
    if bound:
        st.caption(f"The run-rate ({escape_markdown(current['run_rate_period'])}) lacks figures, so these are {escape_markdown(bound)}.")
    elif reason:
        st.caption(f"n/a: {escape_markdown(reason)} in the run-rate quarters ({escape_markdown(current['run_rate_period'])}).")
    st.caption(escape_markdown(current["assumptions"]))
