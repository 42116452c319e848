"""Events: filter the curated events, CAAR by event type with tests and intervals (with and without
confounded events), CAR against deal size; upload your own events for this session only."""

from __future__ import annotations

import hashlib

import streamlit as st

from dashboard import config
from dashboard.charts.reactions import caar_by_type_figure, car_vs_size_figure
from dashboard.ui import cached, sidebar, uploads, views, widgets
from dashboard.ui.charts import show_chart
from dashboard.ui.columns import REACTION_KEY_COLUMNS
from dashboard.ui.tables import table
from dashboard.ui.text import escape_markdown

version = cached.data_version()
settings = sidebar.shared()
model, windows = settings["model"], settings["windows"]
events = cached.cached_study_events(version)  # curated events and guidance vintages as events
companies = cached.cached_companies(version)

st.title("Events and market reactions")
st.caption(
    f"Abnormal returns: {sidebar.MODEL_LABELS[model]}; estimation window {config.DEFAULT_ESTIMATION_WINDOW} trading days; "
    "day 0 from the event's date and time on its exchange calendar."
)

with st.expander("Filters", expanded=True):
    f1, f2, f3 = st.columns([2, 3, 2])
    tickers = widgets.multi_choice("companies", "Companies", companies["ticker"].tolist(), companies["ticker"].tolist(), container=f1)
    types = widgets.multi_choice("types", "Event types", list(config.EVENT_TYPES), list(config.EVENT_TYPES), container=f2)
    confidence = widgets.multi_choice("confidence", "Confidence", list(config.CONFIDENCES), list(config.CONFIDENCES), container=f3)
    low, high = events["event_date"].min().date(), events["event_date"].max().date()
    start, end = widgets.date_range(("from", "to"), ("From", "To"), low=low, high=high)
    window = widgets.window_choice("window", "Window for the charts", windows)
params = {
    "page": "events",
    "model": model,
    "windows": widgets.encode_windows(windows),
    "companies": ",".join(tickers),
    "types": ",".join(types),
    "confidence": ",".join(confidence),
    "from": start.isoformat(),
    "to": end.isoformat(),
    "window": widgets.encode_window(window),
    "v": version,
}

chosen = events[
    events["ticker"].isin(tickers)
    & events["event_type"].isin(types)
    & events["confidence"].isin(confidence)
    & (events["event_date"].dt.date >= start)
    & (events["event_date"].dt.date <= end)
]
st.caption(
    f"{len(chosen)} of {len(events)} events selected: the curated events, and each capex-guidance statement that "
    "no curated event within a day covers (type capex_guidance, amount = the range's midpoint)."
)
label = views.window_label(window)

if chosen.empty:
    st.info("No event matches the filters.")
else:
    summary, daily = cached.cached_group_statistics(version, model, windows, "event_type", tuple(sorted(chosen["event_id"])))
    in_window = summary[(summary["window_start"] == window[0]) & (summary["window_end"] == window[1])]
    show_chart(caar_by_type_figure(in_window, window_label=label), "events_caar", page="events", subject="events")
    for line in views.group_confounding_lines(version, model, windows, window, in_window, chosen):
        st.markdown(line)
    cars = views.event_cars(version, model, windows, window)
    cars = cars[cars["event_id"].isin(chosen["event_id"])]
    sized = views.cars_with_deal_size(version, cars)
    funding_only = sized[sized["event_type"].isin(config.FUNDING_EVENT_TYPES)]
    show_chart(car_vs_size_figure(funding_only, window_label=label), "events_size", page="events", subject="events")
    without = funding_only["relative_size"].isna().sum()
    st.caption(
        f"Funding events only ({', '.join(config.FUNDING_EVENT_TYPES)}): guidance midpoints and results are not deals. "
        f"{without} selected funding event(s) are not in the scatter: no amount, no trailing capex or no CAR; "
        "see the table's size note and status."
    )

    st.subheader("CAAR by event type: tests and intervals")
    st.caption(
        f"Rows per event type × sample (all events / unconfounded only) × window. Groups under {config.MIN_GROUP_EVENTS} "
        "events are flagged (small sample) and not tested. Interval: CAAR ± t(N−1, 97.5%) × CAAR / t_csect."
    )
    table(
        summary,
        "events_caar_by_type",
        params,
        key_columns=("group", "sample", "window_start", "window_end", "n_events", "caar", "t_csect", "p_t_csect", "all_confounded"),
    )

    st.subheader("Events and CARs")
    shown = sized[
        [
            "event_id",
            "ticker",
            "car",
            "car_t",
            "car_p",
            "confounded_by",
            "confidence",
            "event_type",
            "event_date",
            "day0",
            "day0_reason",
            "day0_alt",
            "car_alt",
            "headline",
            "amount_usd_bn",
            "guided_change_usd_bn",
            "trailing_capex",
            "relative_size",
            "size_note",
            "confounded",
            "status",
            "source_url",
        ]
    ]
    table(
        shown,
        "events_cars",
        params,
        key_columns=REACTION_KEY_COLUMNS,
        links={"source_url": "Source link"},
        column_config={"car": st.column_config.NumberColumn("CAR " + label, format="%.2f%%")},
    )

st.header("SEC filings: suggestions and a review queue")
suggestions, queue = cached.cached_filing_review(version, cached.filings_key())
_, filings_message = cached.cached_filing_candidates(version, cached.filings_key())
if filings_message:
    st.info("No SEC filings in this snapshot. " + filings_message)  # the loader's own text
else:
    moving = suggestions[suggestions["changes_event_day0"].fillna(False).astype(bool)]
    st.caption(
        f"{len(suggestions)} curated event(s) have a matching filing; for {len(moving)} the filing's exact acceptance "
        "time would move day 0. Suggestions only: the curated file changes when a person edits it."
    )
    if not suggestions.empty:
        table(
            suggestions,
            "events_filing_suggestions",
            params,
            links={"document_url": "Document on EDGAR"},
            key_columns=("event_id", "changes_event_day0", "day0", "event_day0", "accepted_et"),
        )
    st.subheader(f"Review queue: {len(queue)} filing(s) no curated event covers")
    if not queue.empty:
        table(queue, "events_filing_queue", params, links={"source_url": "Document on EDGAR"})
        if st.toggle("Study the queued filings for this session", key="study_filing_queue"):
            queued = cached.session_event_study(version, queue, model=model, windows=windows)
            st.caption("Their reactions, against the snapshot's prices, confounded by the curated events as an upload would be:")
            table(queued.events, "events_filing_queue_study", {**params, "queue": "filings"}, key_columns=REACTION_KEY_COLUMNS)

st.header("Your own events (this session only)")
st.caption(
    "Upload a CSV with at least event_id, ticker, event_date (YYYY-MM-DD); optional event_time "
    "(pre_market, intraday, after_close, unknown), event_type, amount_usd_bn, headline and the other columns of the "
    "curated file. Every row is checked as on the command line; valid rows run through the same event study against "
    "the price snapshot. Nothing is stored."
)
uploaded = st.file_uploader("Events CSV", type=["csv"], key="events_file")
payload: tuple[str, bytes] | None
if uploaded is not None:  # the uploader holds the file; the session keeps only the study's table
    payload = (uploaded.name, uploaded.getvalue())
    st.session_state["_upload_seen"] = True
elif st.session_state.pop("_upload_seen", False):  # the user cleared it: release the result now
    st.session_state.pop(uploads.SESSION_KEY, None)
    st.session_state.pop(uploads.RESULT_KEY, None)
    payload = None
else:
    payload = st.session_state.get(uploads.SESSION_KEY)  # an upload put in session state (AppTest)
if payload is not None:
    name, data = payload
    check = uploads.check_uploaded_events(name, data)
    if check.error:
        st.error(f"The file could not be read: {escape_markdown(check.error)}")
    else:
        (st.success if check.issues.empty else st.warning)(escape_markdown(check.summary))
        if not check.warnings.empty:
            st.warning(
                "Columns this file has that the events format does not know (they were not read):  \n"
                + "  \n".join(escape_markdown(reason) for reason in check.warnings["reason"])
            )
        if not check.issues.empty:
            st.caption("Rejected rows, one line per problem (line numbers as in your file, header = line 1):")
            table(check.issues, "upload_validation_report", {"upload": check.name, "sha256": hashlib.sha256(data).hexdigest()[:12]})
        if check.rows_loaded:
            result = uploads.session_result(version, check, data, model=model, windows=windows)
            if not result.error:  # session_result has shown the error otherwise
                st.caption(f"Event study of the {check.rows_loaded} valid row(s):")
                table(
                    result.events,
                    "upload_event_study",
                    {"upload": check.name, "model": model, "windows": params["windows"]},
                    key_columns=REACTION_KEY_COLUMNS,
                )
