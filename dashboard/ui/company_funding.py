"""The Company page's funding-gap section: the bridge of one period with its memo lines, the
headline figures with their quality flags and sources, and the funding events in no memo total."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.config import USD_MILLIONS_PER_BILLION, Period
from dashboard.ui import cached, views, widgets
from dashboard.ui.columns import FUNDING_KEY_COLUMNS
from dashboard.ui.company_view import CompanyView
from dashboard.ui.tables import lazy_table, table
from dashboard.ui.text import escape_markdown, link_markdown, missing_reason, show_text, usd_bn

PERIOD_LABELS: dict[Period, str] = {"quarter": "Fiscal quarter", "ttm": "Trailing 12 months", "fiscal_year": "Fiscal year"}
INTERNAL_INPUTS = ("operating_cash_flow", "buybacks", "dividends")


def funding_section(view: CompanyView) -> None:
    """The funding-gap bridge of the chosen period (the latest exact-or-bounded one by default)
    and the funding events in no memo total."""
    st.header("Funding-gap bridge")
    period = widgets.choice(
        "bridge_period", "Period type", list(PERIOD_LABELS), "quarter", format_func=PERIOD_LABELS.__getitem__, kind="radio"
    )
    rows = cached.cached_company_funding_rows(view.version, period, view.basis, view.ticker)
    if rows.empty:
        view.chart(cached.cached_bridge_figure(view.version, period, view.basis, view.ticker, ""), "company_bridge")
        st.info(f"No fundamentals for {view.name} in the data, so no funding gap.")
    else:
        labels = rows["period"].tolist()
        shown_rows = rows[rows["funding_gap_lower_bound"].notna()]  # exact or bounded
        default_label = shown_rows["period"].iloc[-1] if not shown_rows.empty else labels[-1]
        label = widgets.choice("bridge", "Period", labels[::-1], default_label)
        row = rows[rows["period"] == label].iloc[0]
        notes = cached.cached_company_flag_notes(view.version, period, view.basis, view.ticker, label)
        _period_caption(label, row)
        _bridge_and_memo(view, period, label, row)
        _headline_figures(view, row, notes)
        _sources(view, period, label, row, notes)
        lazy_table(
            f"Every {PERIOD_LABELS[period].lower()} of {view.ticker}: the figures",
            lambda: rows,
            f"company_funding_{period}",
            {**view.params, "bridge_period": period},
            key_columns=FUNDING_KEY_COLUMNS,
        )
    _uncounted_events(view)


def _period_caption(label: str, row: pd.Series) -> None:
    """The period's dates, then in one caption: why its gap is a bound or unknown, what was not
    reported, and how its buybacks were measured."""
    st.markdown(
        f"**{escape_markdown(label)}** · {row['period_start'].date()} to {row['period_end'].date()}"
        if pd.notna(row["period_start"])
        else f"**{escape_markdown(label)}**"
    )
    notes = []
    if row["missing"] and pd.isna(row["funding_gap_lower_bound"]):
        notes.append(f"{escape_markdown(missing_reason(row['missing']))}: the gap is neither known nor bounded for this period.")
    elif views.bound_reason(row):
        notes.append(f"The gap is {escape_markdown(views.bound_reason(row))}: the waterfall shows the least the gap can be.")
    if row["not_reported"]:
        notes.append("Not reported, left in “other and unexplained”: " + escape_markdown(", ".join(row["not_reported"])) + ".")
    notes.append(f"Buybacks basis: {escape_markdown(row.get('buybacks_basis', ''))}. {escape_markdown(row.get('period_note', ''))}")
    st.caption("  \n".join(notes))  # one element, a line each


def _bridge_and_memo(view: CompanyView, period: Period, label: str, row: pd.Series) -> None:
    """The waterfall across the page with the memo lines under it; under it in one caption, how to
    read it and the events behind the memo lines (one element however many there are)."""
    view.chart(cached.cached_bridge_figure(view.version, period, view.basis, view.ticker, label), "company_bridge")
    parts = [
        "Hatched bars rest on a provisional figure; a dotted outline marks a bound; a surplus is drawn in its own colour. "
        "The memo lines, under the dotted line, are drawn from zero on the same scale: beside the bridge, never in its sum."
    ]
    events = cached.cached_events(view.version).set_index("event_id")
    linked = [event_id for event_id in dict.fromkeys(row["memo_events"]) if event_id in events.index]
    if linked:
        links = [
            link_markdown(f"{i} · {events.at[i, 'event_date'].date()} · {events.at[i, 'headline']}", events.at[i, "source_url"])
            for i in linked
        ]
        parts.append("Events behind the memo lines:\n" + "\n".join(f"- {link}" for link in links))
    else:
        parts.append("No funding event lands in this period.")
    if row["memo_missing"]:
        parts.append("Memo lines n/a (unknown, not zero): " + escape_markdown("; ".join(row["memo_missing"])) + ".")
    st.caption("\n\n".join(parts))


def _headline_figures(view: CompanyView, row: pd.Series, notes: pd.DataFrame) -> None:
    """Gap, internal funding, capex and free cash flow, each marked when a cell behind it is flagged."""
    gap_inputs = (
        "operating_cash_flow",
        "capex",
        "buybacks",
        "dividends",
        *(("finance_lease_principal",) if view.basis == "economic" else ()),
    )
    internal_known = pd.notna(row["internal_funding"])
    figures = st.container(horizontal=True)  # one block for the four (columns would be five)
    figures.metric(
        "Funding gap" + views.flag_mark(notes, gap_inputs),
        views.gap_text(row),
        help=views.figure_help("capex − internal funding", notes, gap_inputs, extra=views.bound_reason(row)),
    )
    figures.metric(
        ("Internal funding" if internal_known else "Internal funding, at most") + views.flag_mark(notes, INTERNAL_INPUTS),
        usd_bn(row["internal_funding"] if internal_known else row["internal_funding_upper_bound"]),
        help=views.figure_help("operating cash flow − buybacks − dividends", notes, INTERNAL_INPUTS),
    )
    figures.metric(
        "Capex" + views.flag_mark(notes, ("capex",)),
        usd_bn(row["capex"]),
        help=views.figure_help(f"{view.basis} basis", notes, ("capex", "finance_lease_principal")),
    )
    figures.metric(
        "Free cash flow" + views.flag_mark(notes, ("operating_cash_flow", "capex")),
        usd_bn(row["free_cash_flow"]),
        help=views.figure_help("operating cash flow − capex", notes, ("operating_cash_flow", "capex")),
    )


def _sources(view: CompanyView, period: Period, label: str, row: pd.Series, notes: pd.DataFrame) -> None:
    """The figures' sources and quality flags, built when the popover is opened."""
    with st.popover(
        "Sources and quality flags of these figures", icon=":material/source:", key="open_company_sources", on_change="rerun"
    ) as sources:
        if sources.open:
            st.caption("Source of the figures (fundamentals.csv):")
            show_text(row["source"])
            if notes.empty:
                st.caption("No quality flag on the cells behind this period.")
            else:
                table(notes, f"company_flags_{period}", {**view.params, "bridge_period": period, "bridge": label})


def _uncounted_events(view: CompanyView) -> None:
    """Funding events in no memo total stay visible: after the last reported quarter, of a company
    without fundamentals, in a partly covered quarter, without an amount, or never counted."""
    uncounted = cached.cached_company_uncounted_events(view.version, view.ticker)
    if uncounted.empty:
        st.caption(f"Every funding event of {escape_markdown(view.name)} is counted in a memo line above.")
        return
    shown = uncounted.assign(funding_usd_bn=uncounted["funding_usd_m"] / USD_MILLIONS_PER_BILLION)[
        ["event_id", "event_date", "day0_date", "deal_id", "stage", "funding_kind", "funding_usd_bn", "period", "memo_status", "reason"]
    ].sort_values(["event_date", "event_id"])
    lazy_table(
        f"The {len(shown)} funding event(s) in no memo total, and why",
        lambda: shown,
        "company_funding_uncounted",
        view.params,
        export=uncounted,
        column_config={
            "event_id": st.column_config.TextColumn("Event"),
            "event_date": st.column_config.DateColumn("Date"),
            "day0_date": st.column_config.DateColumn("Day 0"),
            "funding_kind": st.column_config.TextColumn("Kind"),
            "funding_usd_bn": st.column_config.NumberColumn(
                "Amount (USD bn)",
                format="%.1f",
                help="The event's funding_usd_bn: empty when the deal's amount sits on another event, or is unknown.",
            ),
            "period": st.column_config.TextColumn("Quarter of day 0"),
            "reason": st.column_config.TextColumn("Why not in the memo lines", width="large"),
        },
    )
