"""Market-reaction figures: CAR paths with confidence bands, CAAR by event type with intervals,
and CAR against deal size. Decimal returns in, percentages shown."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.theme import ACCENT, INK, NEUTRAL, empty_figure, plain, styled

# Okabe-Ito colours and a marker shape per type, so types are told apart without colour too.
TYPE_COLORS = {
    "divestment": "#009E73", "asset_sale": "#56B4E9", "jv_spv_financing": "#CC79A7", "debt_issuance": "#D55E00",
    "equity_issuance": "#E69F00", "capex_guidance": "#0072B2", "earnings": "#F0E442", "cost_cut": "#999999", "other": "#999999",
}  # fmt: skip
TYPE_SYMBOLS = {
    "divestment": "circle", "asset_sale": "square", "jv_spv_financing": "diamond", "debt_issuance": "triangle-up",
    "equity_issuance": "triangle-down", "capex_guidance": "star", "earnings": "hexagon", "cost_cut": "cross", "other": "x",
}  # fmt: skip


def _percent_path(rows: pd.DataFrame, column: str, *, mode: str = "lines", **style: Any) -> go.Scatter:
    """``column`` of ``rows`` (decimal returns) in percent against ``rel_day``, a line by default;
    ``style``: any other ``go.Scatter`` property."""
    return go.Scatter(x=rows["rel_day"], y=rows[column] * 100, mode=mode, **style)


def car_paths_figure(paths: pd.DataFrame, *, highlight: str | None, labels: dict[str, str] | None = None) -> go.Figure:
    """``paths``: ``metrics.event_study.car_paths`` rows (``event_id, rel_day, car, lower, upper``)
    of the events to draw. Every other event is one thin grey line, all of them in a single trace
    broken between events (a gap, not a connection); ``highlight`` is drawn bold with its
    confidence band. A path stops at the first missing abnormal return."""
    if paths.empty or paths["car"].notna().sum() == 0:
        return empty_figure("No abnormal-return paths (no event with a fitted model).")
    labels = labels or {}
    others = paths[paths["event_id"] != highlight]
    figure = go.Figure()
    if not others.empty:
        # One trace for every other event: rows of one event, then a NaN row that breaks the line.
        breaks = others.drop_duplicates("event_id", keep="last").assign(car=np.nan)
        joined = pd.concat([others, breaks]).sort_index(kind="stable")
        order = np.lexsort((joined["car"].isna().to_numpy(), joined["rel_day"].to_numpy(), pd.factorize(joined["event_id"])[0]))
        joined = joined.iloc[order]
        figure.add_trace(
            _percent_path(
                joined,
                "car",
                line=dict(color=NEUTRAL, width=1),
                name="Other events",
                opacity=0.6,
                connectgaps=False,
                customdata=[plain(labels.get(e, e), 80) for e in joined["event_id"]],
                hovertemplate="%{customdata}<br>day %{x}: %{y:+.1f}%<extra></extra>",
            )
        )
    if highlight is not None and (paths["event_id"] == highlight).any():
        part = paths[paths["event_id"] == highlight]
        figure.add_trace(_percent_path(part, "upper", line=dict(width=0), showlegend=False, hoverinfo="skip"))
        figure.add_trace(
            _percent_path(
                part,
                "lower",
                line=dict(width=0),
                fill="tonexty",
                fillcolor="rgba(86,180,233,0.25)",
                name="95% band",
                hoverinfo="skip",
            )
        )
        figure.add_trace(
            _percent_path(
                part,
                "car",
                mode="lines+markers",
                line=dict(color=ACCENT, width=3),
                name=plain(labels.get(highlight, highlight), 60),
                hovertemplate="day %{x}: CAR %{y:+.2f}%<extra></extra>",
            )
        )
    figure.add_vline(x=0, line=dict(color=INK, dash="dash", width=1))
    figure.add_hline(y=0, line=dict(color=INK, width=1))
    figure.update_xaxes(title_text="Trading days relative to day 0")
    figure.update_yaxes(title_text="CAR", ticksuffix="%")
    n_events = paths["event_id"].nunique()
    chosen = paths[paths["event_id"] == highlight]["car"].dropna()
    end = f"; the selected event ends at {chosen.iloc[-1]:+.1%}" if not chosen.empty else ""
    description = (
        f"Cumulative abnormal return paths of {n_events} events, trading days "
        f"{int(paths['rel_day'].min())} to {int(paths['rel_day'].max())} around day 0{end}."
    )
    return styled(figure, title="Cumulative abnormal return paths", height=400, description=description)


def caar_by_type_figure(summary: pd.DataFrame, *, window_label: str) -> go.Figure:
    """``summary``: rows of one window from ``group_statistics`` with ``group, sample, caar,
    lower, upper, n_events, small_sample`` (interval from the cross-sectional t). Bars per group,
    one colour per sample (all events / unconfounded only); groups under the minimum size are
    hatched and carry no interval. A group whose events are all confounded (``all_confounded``)
    gets no bar: it does not measure its event type, and the axis label says so."""
    if "all_confounded" in summary.columns:
        confounded_groups = set(summary.loc[summary["all_confounded"].astype(bool), "group"])
        summary = summary.assign(
            group=[f"{g} (all confounded: no bar)" if g in confounded_groups else g for g in summary["group"]],
            caar=summary["caar"].where(~summary["group"].isin(confounded_groups)),
        )
    if summary.empty:
        return empty_figure("No events with a CAR in this selection.")
    figure = go.Figure()
    for sample, color in (("all", ACCENT), ("unconfounded", "#90a4ae")):
        part = summary[summary["sample"] == sample]
        if part.empty:
            continue
        error_plus = (part["upper"] - part["caar"]) * 100
        error_minus = (part["caar"] - part["lower"]) * 100
        figure.add_trace(
            go.Bar(
                x=[plain(g) for g in part["group"]],
                y=part["caar"] * 100,
                name="All events" if sample == "all" else "Unconfounded only",
                marker=dict(color=color, pattern=dict(shape=np.where(part["small_sample"], "/", "").tolist())),
                error_y=dict(type="data", symmetric=False, array=error_plus.tolist(), arrayminus=error_minus.tolist(), color=INK),
                customdata=np.column_stack([part["n_events"], part["t_csect"], part["p_t_csect"]]),
                hovertemplate="%{x}: CAAR %{y:+.2f}%<br>N %{customdata[0]}, t %{customdata[1]:.2f}, p %{customdata[2]:.3f}<extra></extra>",
            )
        )
    figure.add_hline(y=0, line=dict(color=INK, width=1))
    figure.update_yaxes(title_text=f"CAAR {window_label}", ticksuffix="%")
    figure.update_layout(barmode="group")
    shown = summary[summary["sample"] == "all"].dropna(subset=["caar"])
    parts = [f"{plain(g)} {c:+.1%} (N {int(n)})" for g, c, n in zip(shown["group"], shown["caar"], shown["n_events"])]
    description = f"Bars of the mean CAR over {window_label} by event type, all events and unconfounded only: " + "; ".join(parts) + "."
    return styled(
        figure,
        title=f"CAAR by event type, window {window_label} (95% interval; hatched: too few events, untested)",
        height=420,
        description=description,
    )


def car_vs_size_figure(frame: pd.DataFrame, *, window_label: str) -> go.Figure:
    """``frame``: one row per funding event with ``event_id, event_type, headline, relative_size``
    (amount ÷ trailing capex) and ``car``. Scatter, one colour per event type; x on a log axis
    whose ticks are labelled at 1-2-5 steps (the caller leaves guidance midpoints out: they are
    not deals)."""
    points = frame.dropna(subset=["relative_size", "car"])
    points = points[points["relative_size"] > 0]
    if points.empty:
        return empty_figure("No event has both an amount and a trailing capex to compare.")
    figure = go.Figure()
    for event_type, part in points.groupby("event_type", sort=True):
        figure.add_trace(
            go.Scatter(
                x=part["relative_size"] * 100,
                y=part["car"] * 100,
                mode="markers",
                name=plain(event_type),
                marker=dict(
                    size=11,
                    color=TYPE_COLORS.get(event_type, NEUTRAL),
                    symbol=TYPE_SYMBOLS.get(event_type, "circle"),
                    line=dict(width=1, color=INK),
                ),
                hovertext=[
                    f"<b>{plain(r.event_id)}</b> {plain(r.ticker)}<br>{plain(r.headline, 120)}<br>size {r.relative_size:.1%} of TTM capex; CAR {r.car:+.1%}"
                    for r in part.itertuples()
                ],
                hoverinfo="text",
            )
        )
    figure.add_hline(y=0, line=dict(color=INK, width=1))
    ticks = [
        v
        for v in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
        if points["relative_size"].min() * 100 / 2 <= v <= points["relative_size"].max() * 100 * 2
    ]
    figure.update_xaxes(
        type="log", title_text="Deal amount ÷ trailing-12-month capex (%, log scale)", tickvals=ticks, ticktext=[f"{v:g}%" for v in ticks]
    )
    figure.update_yaxes(title_text=f"CAR {window_label}", ticksuffix="%")
    correlation = points["relative_size"].rank().corr(points["car"].rank()) if len(points) > 2 else float("nan")
    description = (
        f"Scatter of {len(points)} funding events: CAR over {window_label} against the deal amount as a share of "
        f"trailing-12-month capex, on a log axis; rank correlation {correlation:+.2f}."
    )
    return styled(figure, title="CAR against deal size", height=420, description=description)
