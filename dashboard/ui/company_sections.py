"""The Company page's sections, each built only when it is open (the page shows one at a time).

Each function draws one section for one company from the cached metrics; the page passes a
:class:`CompanyView` with the shared settings. Streamlit is used here, as in every ``ui`` module.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard.charts.filings import filings_timeline_figure
from dashboard.charts.funding import funding_bridge_figure, memo_lines_figure
from dashboard.charts.guidance import capex_guidance_figure
from dashboard.charts.prices import price_vs_benchmark_figure
from dashboard.charts.reactions import car_paths_figure
from dashboard.config import USD_MILLIONS_PER_BILLION, CapexBasis, Model, Period
from dashboard.ui import cached, views, widgets
from dashboard.ui.charts import show_chart
from dashboard.ui.columns import FUNDING_KEY_COLUMNS, REACTION_KEY_COLUMNS
from dashboard.ui.tables import lazy_table, table
from dashboard.ui.text import (
    escape_markdown,
    missing_reason,
    show_event_source,
    show_link,
    show_text,
    usd_bn,
)

SECTIONS: dict[str, str] = {
    "funding": "Funding gap",
    "forward": "Forward view",
    "reactions": "Market reactions",
    "filings": "SEC filings",
}
PERIOD_LABELS: dict[Period, str] = {"quarter": "Fiscal quarter", "ttm": "Trailing 12 months", "fiscal_year": "Fiscal year"}
PRICE_SCALES = {"linear": "Linear", "log": "Log"}
PRICE_RANGES = {"1y": "1 year", "2y": "2 years", "3y": "3 years", "all": "All"}


@dataclass(frozen=True)
class CompanyView:
    """The shared settings of the page: data version, company and its row, capex basis, model,
    event windows and the link parameters every table export records."""

    version: str
    ticker: str
    company: pd.Series
    basis: CapexBasis
    model: Model
    windows: tuple[tuple[int, int], ...]
    params: dict


def funding_section(view: CompanyView) -> None:
    """Capex with every guidance vintage, the funding-gap bridge with its memo lines and quality
    flags, and the funding events in no memo total."""
    version, ticker, company, basis, params = view.version, view.ticker, view.company, view.basis, view.params
    # --- 1. capex and guidance ------------------------------------------------------------------------
    st.header("Capex and guidance trajectory")
    ttm = cached.cached_funding_table(version, "ttm", basis)
    ttm = ttm[ttm["ticker"] == ticker]
    fiscal_years = cached.cached_funding_table(version, "fiscal_year", basis)
    fiscal_years = fiscal_years[fiscal_years["ticker"] == ticker]
    guidance = cached.cached_guidance(version)
    guidance = guidance[guidance["ticker"] == ticker].sort_values("statement_date")
    if ttm.empty and guidance.empty:  # the chart says so inside itself: every company shows the same charts
        show_chart(capex_guidance_figure(ttm, fiscal_years, guidance, ticker=ticker), "company_guidance", page="company", subject=ticker)
        st.info(f"No fundamentals and no capex guidance for {company['name']} in the data.")
    else:
        show_chart(capex_guidance_figure(ttm, fiscal_years, guidance, ticker=ticker), "company_guidance", page="company", subject=ticker)
        st.caption(
            "Each guidance vintage is a bar from its stated low to high, placed on the date it was stated and coloured "
            "by the year it guides; the line is trailing-12-month capex, squares the fiscal-year totals."
        )
        lazy_table(
            f"The {len(guidance)} guidance statements",
            lambda: guidance,
            "company_guidance",
            params,
            links={"source_url": "Source"},
        )

    # --- 2. funding-gap bridge ------------------------------------------------------------------------
    st.header("Funding-gap bridge")
    period = widgets.choice(
        "bridge_period", "Period type", list(PERIOD_LABELS), "quarter", format_func=PERIOD_LABELS.__getitem__, kind="radio"
    )
    rows = cached.cached_funding_table(version, period, basis)
    rows = rows[rows["ticker"] == ticker].sort_values("period_end")
    if rows.empty:
        show_chart(funding_bridge_figure(pd.DataFrame(), title=""), "company_bridge", page="company", subject=ticker)
        show_chart(memo_lines_figure(pd.Series(dtype=float)), "company_memo", page="company", subject=ticker)
        st.info(f"No fundamentals for {company['name']} in the data, so no funding gap.")
    else:
        labels = rows["period"].tolist()
        shown_rows = rows[rows["funding_gap_lower_bound"].notna()]  # exact or bounded
        default_label = shown_rows["period"].iloc[-1] if not shown_rows.empty else labels[-1]
        label = widgets.choice("bridge", "Period", labels[::-1], default_label)
        row = rows[rows["period"] == label].iloc[0]
        st.markdown(
            f"**{escape_markdown(label)}** · {row['period_start'].date()} to {row['period_end'].date()}"
            if pd.notna(row["period_start"])
            else f"**{escape_markdown(label)}**"
        )
        if row["missing"] and pd.isna(row["funding_gap_lower_bound"]):
            st.caption(f"{escape_markdown(missing_reason(row['missing']))}: the gap is neither known nor bounded for this period.")
        elif views.bound_reason(row):
            st.caption(f"The gap is {escape_markdown(views.bound_reason(row))}: the waterfall shows the least the gap can be.")
        if row["not_reported"]:
            st.caption("Not reported, left in “other and unexplained”: " + escape_markdown(", ".join(row["not_reported"])) + ".")
        notes = cached.cached_funding_flag_notes(version, period, basis)
        notes = notes[(notes["ticker"] == ticker) & (notes["period"] == label)]
        left, right = st.columns([3, 2])
        with left:
            bridge = cached.cached_funding_bridge(version, period, basis, ticker, label)
            show_chart(
                funding_bridge_figure(bridge, title=f"{ticker} {label}: from operating cash flow to the gap and what covered it"),
                "company_bridge",
                page="company",
                subject=ticker,
            )
            st.caption("Hatched bars rest on a provisional figure; a dotted outline marks a bound; a surplus is drawn in its own colour.")
        with right:
            show_chart(memo_lines_figure(row), "company_memo", page="company", subject=ticker)
            events = cached.cached_events(version).set_index("event_id")
            linked = [event_id for event_id in dict.fromkeys(row["memo_events"]) if event_id in events.index]
            if linked:
                st.caption("Events behind the memo lines:")
                for event_id in linked:
                    event = events.loc[event_id]
                    show_link(f"{event_id} · {event['event_date'].date()} · {event['headline']}", event["source_url"])
            else:
                st.caption("No funding event lands in this period.")
            if row["memo_missing"]:
                st.caption("Memo lines n/a (unknown, not zero): " + escape_markdown("; ".join(row["memo_missing"])) + ".")
        c1, c2, c3, c4 = st.columns(4)
        gap_inputs = (
            "operating_cash_flow",
            "capex",
            "buybacks",
            "dividends",
            *(("finance_lease_principal",) if basis == "economic" else ()),
        )
        internal_inputs = ("operating_cash_flow", "buybacks", "dividends")
        internal_known = pd.notna(row["internal_funding"])
        c1.metric(
            "Funding gap" + views.flag_mark(notes, gap_inputs),
            views.gap_text(row),
            help=views.figure_help("capex − internal funding", notes, gap_inputs, extra=views.bound_reason(row)),
        )
        c2.metric(
            ("Internal funding" if internal_known else "Internal funding, at most") + views.flag_mark(notes, internal_inputs),
            usd_bn(row["internal_funding"] if internal_known else row["internal_funding_upper_bound"]),
            help=views.figure_help("operating cash flow − buybacks − dividends", notes, internal_inputs),
        )
        c3.metric(
            "Capex" + views.flag_mark(notes, gap_inputs[1:2]),
            usd_bn(row["capex"]),
            help=views.figure_help(f"{basis} basis", notes, ("capex", "finance_lease_principal")),
        )
        c4.metric(
            "Free cash flow" + views.flag_mark(notes, ("operating_cash_flow", "capex")),
            usd_bn(row["free_cash_flow"]),
            help=views.figure_help("operating cash flow − capex", notes, ("operating_cash_flow", "capex")),
        )
        with st.popover(
            "Sources and quality flags of these figures", icon=":material/source:", key="open_company_sources", on_change="rerun"
        ) as sources:
            if sources.open:  # built when opened
                st.caption("Source of the figures (fundamentals.csv):")
                show_text(row["source"])
                if notes.empty:
                    st.caption("No quality flag on the cells behind this period.")
                else:
                    table(notes, f"company_flags_{period}", {**params, "bridge_period": period, "bridge": label})
        st.caption(f"Buybacks basis: {escape_markdown(row.get('buybacks_basis', ''))}. {escape_markdown(row.get('period_note', ''))}")
        lazy_table(
            f"Every {PERIOD_LABELS[period].lower()} of {ticker}: the figures",
            lambda: rows,
            f"company_funding_{period}",
            {**params, "bridge_period": period},
            key_columns=FUNDING_KEY_COLUMNS,
        )

    # Funding events in no memo total stay visible: after the last reported quarter, of a company
    # without fundamentals, in a partly covered quarter, without an amount, or never counted.
    memo_events = cached.cached_funding_memo_lines(version)
    uncounted = memo_events[(memo_events["ticker"] == ticker) & ~memo_events["counted"].astype(bool)]
    st.subheader("Funding events in no memo total")
    if uncounted.empty:
        st.caption(f"Every funding event of {escape_markdown(company['name'])} is counted in a memo line above.")
    else:
        shown = uncounted.assign(funding_usd_bn=uncounted["funding_usd_m"] / USD_MILLIONS_PER_BILLION)[
            ["event_id", "event_date", "day0_date", "deal_id", "stage", "funding_kind", "funding_usd_bn", "period", "memo_status", "reason"]
        ].sort_values(["event_date", "event_id"])
        lazy_table(
            f"The {len(shown)} funding event(s) in no memo total, and why",
            lambda: shown,
            "company_funding_uncounted",
            params,
            export=uncounted,
            column_config={
                "event_id": st.column_config.TextColumn("Event"),
                "event_date": st.column_config.DateColumn("Date"),
                "day0_date": st.column_config.DateColumn("Day 0"),
                "funding_kind": st.column_config.TextColumn("Kind"),
                "funding_usd_bn": st.column_config.NumberColumn("Amount (USD bn)", format="%.1f"),
                "period": st.column_config.TextColumn("Quarter of day 0"),
                "reason": st.column_config.TextColumn("Why not in the memo lines", width="large"),
            },
        )
        st.caption(
            "Amount: the event's funding_usd_bn (empty when the deal's amount sits on another event, or is unknown). "
            "Memo lines sit beside the bridge, never in its arithmetic."
        )


def forward_section(view: CompanyView) -> None:
    """The forward view: the chosen guidance vintage's implied gap and new debt, with what-ifs."""
    version, ticker, company, params = view.version, view.ticker, view.company, view.params
    # --- 3. forward view --------------------------------------------------------------------------------
    st.header("Forward view: the latest guidance's implied gap")
    base = cached.cached_forward_view(version)
    base = base[base["ticker"] == ticker].sort_values("statement_date")
    if base.empty:
        st.info(f"No capex guidance for {company['name']} in the data, so no forward view.")
    else:
        vintage_names = [f"{d.date().isoformat()}_{p}" for d, p in zip(base["statement_date"], base["guided_period"])]
        current_guidance = cached.cached_current_guidance(version)
        default_vintage = vintage_names[-1]
        if ticker in current_guidance.index:
            now = current_guidance.loc[ticker]
            default_vintage = f"{now['statement_date'].date().isoformat()}_{'CY' if now['period_basis'] == 'calendar_year' else 'FY'}{int(now['fiscal_year'])}"
        vintage = widgets.choice(
            "vintage",
            "Guidance vintage (statement date, guided year)",
            vintage_names[::-1],
            default_vintage,
            format_func=lambda n: n.replace("_", " · "),
        )
        position = vintage_names.index(vintage)
        s1, s2, s3, s4, s5 = st.columns(5)
        capex_change = widgets.number(
            "capex_change",
            "Capex vs guidance",
            low=-0.5,
            high=1.0,
            default=0.0,
            step=0.05,
            container=s1,
            format="%+.2f",
            help="Decimal change applied to the guided capex (0 = as guided, 0.1 = +10%).",
        )
        ocf_growth = widgets.number(
            "ocf_growth",
            "OCF growth",
            low=-0.5,
            high=1.0,
            default=0.0,
            step=0.05,
            container=s2,
            format="%+.2f",
            help="Decimal growth of trailing operating cash flow.",
        )
        buyback_pace = widgets.number(
            "buyback_pace",
            "Buyback pace",
            low=0.0,
            high=2.0,
            default=1.0,
            step=0.1,
            container=s3,
            format="%.1f×",
            help="Multiple of trailing buybacks (0 = paused).",
        )
        dividend_pace = widgets.number(
            "dividend_pace",
            "Dividend pace",
            low=0.0,
            high=2.0,
            default=1.0,
            step=0.1,
            container=s4,
            format="%.1f×",
            help="Multiple of trailing dividends.",
        )
        divestments = widgets.number(
            "divestments",
            "Divestments (USD bn)",
            low=0.0,
            high=100.0,
            default=0.0,
            step=1.0,
            container=s5,
            help="Expected divestment and asset-sale proceeds in the guided year.",
        )
        what_if = cached.cached_forward_view(
            version, capex_change, ocf_growth, buyback_pace, dividend_pace, divestments * USD_MILLIONS_PER_BILLION
        )
        what_if = what_if[(what_if["ticker"] == ticker)].sort_values("statement_date")
        current = what_if.iloc[position]
        reason = missing_reason(current["missing"])
        bound = views.bound_reason(current)
        st.markdown(
            f"Guidance of **{current['statement_date'].date()}** for **{escape_markdown(current['guided_period'])}** "
            f"(ends {current['guided_period_end'].date()}): capex {usd_bn(current['capex_low'], digits=0)}–"
            f"{usd_bn(current['capex_high'], digits=0)}; run-rate {escape_markdown(current['run_rate_period'])}."
        )
        f1, f2, f3, f4 = st.columns(4)
        internal_known = pd.notna(current["internal_funding"])
        f1.metric(
            "Internal funding" if internal_known else "Internal funding, at most",
            usd_bn(current["internal_funding"] if internal_known else current["internal_funding_upper_bound"]),
            help=bound or reason or "OCF − buybacks − dividends, what-if adjusted",
        )
        f2.metric(
            "Implied gap (mid)",
            views.gap_text(current, prefix="funding_gap_mid"),
            help=bound or reason or "guided capex − internal funding",
        )
        f3.metric(
            "Implied new debt (mid)",
            views.gap_text(current, prefix="implied_new_debt_mid"),
            help=bound or reason or "max(gap − divestments, 0)",
        )
        f4.metric(
            "New debt range",
            f"{views.gap_text(current, prefix='implied_new_debt_low')} – {views.gap_text(current, prefix='implied_new_debt_high')}",
            help=bound or reason or "low – high",
        )
        if bound:
            st.caption(
                f"The run-rate ({escape_markdown(current['run_rate_period'])}) lacks figures, so these are {escape_markdown(bound)}."
            )
        elif reason:
            st.caption(f"n/a: {escape_markdown(reason)} in the run-rate quarters ({escape_markdown(current['run_rate_period'])}).")
        st.caption(escape_markdown(current["assumptions"]))
        table(
            what_if,
            "company_forward_view",
            {
                **params,
                "vintage": vintage,
                "capex_change": capex_change,
                "ocf_growth": ocf_growth,
                "buyback_pace": buyback_pace,
                "dividend_pace": dividend_pace,
                "divestments": divestments,
            },
            key_columns=(
                "statement_date",
                "guided_period",
                "funding_gap_mid",
                "funding_gap_lower_bound_mid",
                "implied_new_debt_mid",
                "implied_new_debt_lower_bound_mid",
            ),
        )


def reactions_section(view: CompanyView) -> None:
    """The price against its benchmark with event markers, CAR paths, the reactions table and the
    selected event's detail (confounders named, alternative day 0, source)."""
    version, ticker, company, model, windows, params = (view.version, view.ticker, view.company, view.model, view.windows, view.params)
    # --- 4. price vs benchmark, 5. reactions, 6. event detail -------------------------------------------
    st.header("Price against its benchmark")
    window = windows[0]
    window_name = views.window_label(window)
    cars = views.event_cars(version, model, windows, window)
    own = cars[cars["ticker"] == ticker].sort_values("event_date")
    # The chart always shows the market benchmark: under the constant-mean model the study has no
    # benchmark, and under the peer model it is an equal-weighted index with no price series.
    benchmark = company["market_benchmark"]
    p1, p2 = st.columns(2)
    price_scale = widgets.choice(
        "price_scale", "Price scale", list(PRICE_SCALES), "linear", format_func=PRICE_SCALES.__getitem__, kind="radio", container=p1
    )
    price_range = widgets.choice(
        "price_range", "Range", list(PRICE_RANGES), "all", format_func=PRICE_RANGES.__getitem__, kind="radio", container=p2
    )
    closes = cached.cached_closes(version)
    range_start = None
    if price_range != "all" and ticker in closes.columns:
        range_start = closes[ticker].dropna().index.max() - pd.DateOffset(years=int(price_range.removesuffix("y")))
    chart = show_chart(
        price_vs_benchmark_figure(
            closes,
            ticker=ticker,
            benchmark=benchmark,
            markers=own,
            window_label=window_name,
            log_scale=price_scale == "log",
            start=range_start,
        ),
        "company_prices",
        page="company",
        subject=ticker,
        on_select="rerun",
        selection_mode="points",
    )
    # Clicking an event marker selects that event below (and so in the link), once per click.
    clicked = [point.get("customdata") for point in (chart.selection.points if chart else []) if point.get("customdata")]
    clicked = [c[0] if isinstance(c, list) else c for c in clicked]
    if clicked and clicked[-1] in set(own["event_id"]) and clicked[-1] != st.session_state.get("_clicked_event"):
        st.session_state["_clicked_event"] = clicked[-1]
        st.session_state["w_event"] = clicked[-1]
    st.caption(
        f"Markers: CAR over {window_name} ({widgets.MODEL_LABELS[model]}); ▲ positive, ▼ negative; filled = significant at 5%, "
        "hollow = not; grey cross = no CAR (status in the table). Hover for the headline; click a marker to open the event below."
    )

    st.header("Reactions")
    if own.empty:
        show_chart(
            car_paths_figure(pd.DataFrame(columns=["event_id", "rel_day", "car"]), highlight=None),
            "company_paths",
            page="company",
            subject=ticker,
        )
        st.info(f"No curated events for {company['name']}.")
    else:
        event_ids = own["event_id"].tolist()[::-1]
        headlines = dict(zip(own["event_id"], own["headline"]))
        selected = widgets.choice(
            "event", "Event", event_ids, event_ids[0], format_func=lambda e: f"{e} · {str(headlines.get(e, ''))[:90]}"
        )
        paths = cached.cached_car_paths(version, model, windows)
        show_chart(
            car_paths_figure(paths[paths["event_id"].isin(event_ids)], highlight=selected, labels=headlines),
            "company_paths",
            page="company",
            subject=ticker,
        )
        result = cached.cached_event_study(version, model, windows)
        reactions = result.events[result.events["ticker"] == ticker].merge(
            cached.cached_study_events(version)[["event_id", "headline", "confidence", "source_url"]], on="event_id", how="left"
        )
        table(
            reactions,
            "company_reactions",
            params,
            key_columns=REACTION_KEY_COLUMNS,
            links={"source_url": "Source link"},
        )

        st.subheader("Event detail")
        event = cached.cached_study_events(version).set_index("event_id").loc[selected]
        detail = reactions[reactions["event_id"] == selected]
        st.markdown(f"**{escape_markdown(event['headline'])}**")
        show_text(event["description"])
        first = detail.iloc[0] if not detail.empty else None
        d1, d2, d3, d4 = st.columns(4)
        d1.metric("Date", str(event["event_date"].date()), help=f"event time: {event['event_time']}")
        d2.metric("Amount", "n/a" if pd.isna(event["amount_usd_bn"]) else f"${event['amount_usd_bn']:,.1f} bn")
        d3.metric(
            "Day 0",
            str(first["day0"].date()) if first is not None and pd.notna(first["day0"]) else "n/a",
            help=str(first["day0_reason"]) if first is not None else None,
        )
        d4.metric(
            "Confounded",
            "yes" if not detail.empty and bool(detail["confounded"].any()) else "no",
            help="Another curated event of the same company has its day 0 inside one of the windows.",
        )
        if first is not None:  # the event has study rows
            st.caption(
                f"Day-0 reason: {escape_markdown(first['day0_reason'])}; type {escape_markdown(event['event_type'])}; "
                f"stage {escape_markdown(event['stage'])}."
            )
            for line in views.car_lines(detail):
                st.markdown(line)
            for line in views.confounder_lines(version, model, windows, detail):
                st.markdown(line)
            for line in views.alternative_day0_lines(detail):
                st.markdown(line)
        show_event_source(event)


def filings_section(view: CompanyView) -> None:
    """The company's SEC filings in scope (fetched with ``python -m dashboard filings``) beside its
    curated events: matched, ambiguous and new ones told apart, each linked to EDGAR, with the
    exact Eastern acceptance time, how it was obtained and the day 0 it gives. Offline, with no
    filings fetched, it says how to fetch them and shows nothing invented."""
    st.header("SEC filings beside the curated events")
    events = cached.cached_events(view.version)
    own_events = events[events["ticker"] == view.ticker]
    if pd.isna(view.company.get("sec_cik")):
        show_chart(
            filings_timeline_figure(pd.DataFrame(columns=["status"]), own_events, ticker=view.ticker),
            "company_filings",
            page="company",
            subject=view.ticker,
        )
        st.info(
            f"{view.company['name']} is listed on {escape_markdown(view.company['exchange'])} and does not file with the "
            "SEC (no EDGAR CIK): there are no filings to show."
        )
        return
    candidates, message = cached.cached_filing_candidates(view.version, cached.filings_key())
    if candidates is None:
        show_chart(
            filings_timeline_figure(pd.DataFrame(columns=["status"]), own_events, ticker=view.ticker),
            "company_filings",
            page="company",
            subject=view.ticker,
        )
        st.info("No SEC filings in this snapshot. " + message)  # the loader's own text, with the command in code
        return
    own = candidates[candidates["ticker"] == view.ticker]
    show_chart(filings_timeline_figure(own, own_events, ticker=view.ticker), "company_filings", page="company", subject=view.ticker)
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
