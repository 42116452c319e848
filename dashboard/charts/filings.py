"""SEC filings beside the curated events: a timeline, one row per kind, each filing a marker.
Matched, ambiguous and new filings are told apart by shape and colour. Text is escaped."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.theme import ACCENT, INK, NEGATIVE, NEUTRAL, POSITIVE, empty_figure, plain, styled

# Row of the timeline, marker and colour per kind of point.
_KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("Curated events", "event", "diamond", ACCENT),
    ("Filings matched to an event", "matched", "circle", POSITIVE),
    ("Filings matching several events", "ambiguous", "triangle-up", NEUTRAL),
    ("Filings no event covers (review)", "new", "square-open", NEGATIVE),
)


def filings_timeline_figure(candidates: pd.DataFrame, events: pd.DataFrame, *, ticker: str) -> go.Figure:
    """``candidates``: ``metrics.filings.filing_candidates`` rows of one company (``accepted_et``,
    ``form``, ``title``, ``status``, ``matched_event_id``, ``time_source``); ``events``: that
    company's curated events (``event_date``, ``event_id``, ``headline``). One marker per filing at
    its Eastern acceptance time, on the row of its match status, and one per curated event."""
    if candidates.empty and events.empty:
        return empty_figure(f"No SEC filings and no curated events for {ticker}.")
    figure = go.Figure()
    for label, kind, symbol, color in _KINDS:
        if kind == "event":
            x, text = (
                pd.to_datetime(events["event_date"]),
                [f"{plain(e)}: {plain(h, 100)}" for e, h in zip(events["event_id"], events["headline"])],
            )
        else:
            part = candidates[candidates["status"] == kind]
            if part.empty:
                continue
            x = pd.to_datetime(part["accepted_et"].astype(str).str.slice(0, 19))
            text = [
                f"{plain(f)} {plain(t, 80)}<br>accepted {plain(a)} ({plain(s)})" + (f"<br>matched {plain(m)}" if pd.notna(m) else "")
                for f, t, a, s, m in zip(part["form"], part["title"], part["accepted_et"], part["time_source"], part["matched_event_id"])
            ]
        if len(x) == 0:
            continue
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[label] * len(x),
                mode="markers",
                name=label,
                marker=dict(symbol=symbol, size=11, color=color, line=dict(width=1, color=INK)),
                hovertext=text,
                hoverinfo="text",
            )
        )
    counts = candidates["status"].value_counts() if not candidates.empty else pd.Series(dtype=int)
    description = (
        f"{plain(ticker)} SEC filings in scope over time beside its {len(events)} curated events: "
        + ", ".join(f"{int(counts.get(kind, 0))} {kind}" for _, kind, _, _ in _KINDS[1:])
        + "."
    )
    figure.update_yaxes(categoryorder="array", categoryarray=[label for label, *_ in _KINDS][::-1])
    return styled(figure, title="SEC filings and curated events", height=340, description=description)
