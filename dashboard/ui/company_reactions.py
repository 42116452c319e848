"""The Company page's market-reactions section: the price against its benchmark with event markers,
the CAR paths, the reactions table and the selected event's detail (confounders named, the
alternative day 0, the source).

The event picker runs in a fragment: choosing another event reruns the paths and the detail only.
Clicking a marker on the price chart selects that event too (a full rerun: the chart is outside)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.ui import cached, sidebar, views, widgets
from dashboard.ui.columns import REACTION_KEY_COLUMNS
from dashboard.ui.company_view import CompanyView, StudyView
from dashboard.ui.tables import table
from dashboard.ui.text import escape_markdown, show_event_source, show_text

PRICE_SCALES = {"linear": "Linear", "log": "Log"}
PRICE_RANGES = {"1y": "1 year", "2y": "2 years", "3y": "3 years", "all": "All"}
CLICKED_EVENT = "_clicked_event"


def reactions_section(page: CompanyView) -> None:
    """The event-study controls (in the sidebar), the price chart, then the reactions of the
    company's events."""
    view = page.with_event_study(*sidebar.event_study_controls())
    st.header("Price against its benchmark")
    window = view.windows[0]
    cars = views.event_cars(view.version, view.model, view.windows, window)
    own = cars[cars["ticker"] == view.ticker].sort_values("event_date")
    _price_chart(view, own, views.window_label(window))
    st.header("Reactions")
    if own.empty:
        view.chart(cached.cached_paths_figure(view.version, view.model, view.windows, (), None), "company_paths")
        st.info(f"No curated events for {view.name}.")
        return
    _reactions(view, own)


def _price_chart(view: StudyView, own: pd.DataFrame, window_name: str) -> None:
    """The price against the market benchmark (always the market one: under the constant-mean
    model the study has no benchmark, and under the peer model it is an equal-weighted index with
    no price series), with a marker per event; a click on a marker selects that event below."""
    scale_column, range_column = st.columns(2)
    price_scale = widgets.choice(
        "price_scale",
        "Price scale",
        list(PRICE_SCALES),
        "linear",
        format_func=PRICE_SCALES.__getitem__,
        kind="radio",
        container=scale_column,
    )
    price_range = widgets.choice(
        "price_range", "Range", list(PRICE_RANGES), "all", format_func=PRICE_RANGES.__getitem__, kind="radio", container=range_column
    )
    years = None if price_range == "all" else int(price_range.removesuffix("y"))
    benchmark = str(view.company["market_benchmark"])
    figure = cached.cached_price_figure(view.version, view.model, view.windows, view.ticker, benchmark, price_scale == "log", years)
    chart = view.chart(figure, "company_prices", on_select="rerun", selection_mode="points")
    # Once per click: the selection stays in the chart's state across reruns.
    clicked = [point.get("customdata") for point in (chart.selection.points if chart else []) if point.get("customdata")]
    clicked = [c[0] if isinstance(c, list) else c for c in clicked]
    if clicked and clicked[-1] in set(own["event_id"]) and clicked[-1] != st.session_state.get(CLICKED_EVENT):
        st.session_state[CLICKED_EVENT] = clicked[-1]
        st.session_state["w_event"] = clicked[-1]
    st.caption(
        f"Markers: CAR over {window_name} ({sidebar.MODEL_LABELS[view.model]}); ▲ positive, ▼ negative; filled = significant at 5%, "
        "hollow = not; grey cross = no CAR (status in the table). Hover for the headline; click a marker to open the event below."
    )


@st.fragment
def _reactions(view: StudyView, own: pd.DataFrame) -> None:
    """The event picker, the CAR paths with the chosen event highlighted, every event's reactions
    and the chosen event's detail (rerun alone when another event is chosen)."""
    event_ids = own["event_id"].tolist()[::-1]
    headlines = dict(zip(own["event_id"], own["headline"]))
    selected = widgets.choice("event", "Event", event_ids, event_ids[0], format_func=lambda e: f"{e} · {str(headlines.get(e, ''))[:90]}")
    paths = cached.cached_paths_figure(view.version, view.model, view.windows, tuple(event_ids), selected)
    view.chart(paths, "company_paths")
    result = cached.cached_event_study(view.version, view.model, view.windows)
    study_events = cached.cached_study_events(view.version)
    reactions = result.events[result.events["ticker"] == view.ticker].merge(
        study_events[["event_id", "headline", "confidence", "source_url"]], on="event_id", how="left"
    )
    table(reactions, "company_reactions", view.params, key_columns=REACTION_KEY_COLUMNS, links={"source_url": "Source link"})
    st.subheader("Event detail")
    _event_detail(view, study_events.set_index("event_id").loc[selected], reactions[reactions["event_id"] == selected])


def _event_detail(view: StudyView, event: pd.Series, detail: pd.DataFrame) -> None:
    """One event: headline, description, date, amount, day 0, whether it is confounded, its CARs,
    its confounders by name, the alternative day 0 when its time of day is unknown, and its source."""
    st.markdown(f"**{escape_markdown(event['headline'])}**")
    show_text(event["description"])
    first = detail.iloc[0] if not detail.empty else None
    date, amount, day0, confounded = st.columns(4)
    date.metric("Date", str(event["event_date"].date()), help=f"event time: {event['event_time']}")
    amount.metric("Amount", "n/a" if pd.isna(event["amount_usd_bn"]) else f"${event['amount_usd_bn']:,.1f} bn")
    day0.metric(
        "Day 0",
        str(first["day0"].date()) if first is not None and pd.notna(first["day0"]) else "n/a",
        help=str(first["day0_reason"]) if first is not None else None,
    )
    confounded.metric(
        "Confounded",
        "yes" if not detail.empty and bool(detail["confounded"].any()) else "no",
        help="Another curated event of the same company has its day 0 inside one of the windows.",
    )
    if first is not None:  # the event has study rows
        st.caption(
            f"Day-0 reason: {escape_markdown(first['day0_reason'])}; type {escape_markdown(event['event_type'])}; "
            f"stage {escape_markdown(event['stage'])}."
        )
        lines = [
            *views.car_lines(detail),
            *views.confounder_lines(view.version, view.model, view.windows, detail),
            *views.alternative_day0_lines(detail),
        ]
        for line in lines:
            st.markdown(line)
    show_event_source(event)
