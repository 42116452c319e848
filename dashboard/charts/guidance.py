"""Capex and guidance trajectory: trailing-twelve-month and fiscal-year capex with each guidance
vintage drawn as a range marker (low to high) on its statement date. USD billions."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.period_traces import period_scatter
from dashboard.charts.theme import ACCENT, company_color, empty_figure, plain, styled
from dashboard.config import USD_MILLIONS_PER_BILLION

BN = USD_MILLIONS_PER_BILLION  # USD millions per billion: figures show billions

# Okabe-Ito, readable on light and dark backgrounds and by colour-blind readers.
_YEAR_COLORS = ["#CC79A7", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2"]


def capex_guidance_figure(ttm: pd.DataFrame, fiscal_years: pd.DataFrame, guidance: pd.DataFrame, *, ticker: str) -> go.Figure:
    """``ttm`` and ``fiscal_years``: :func:`metrics.funding.funding_table` rows of one ticker for
    ``period="ttm"`` and ``"fiscal_year"`` (``period, period_end, capex`` in USD millions; a TTM
    with fewer than four quarters is NaN and leaves a gap). ``guidance``: that ticker's rows of
    ``load_guidance`` (``statement_date, fiscal_year, period_basis, low_usd_bn, high_usd_bn,
    wording``). Each vintage is a vertical range from low to high at its statement date,
    coloured by the year it guides."""
    if ttm.empty and guidance.empty:
        return empty_figure("No capex or guidance for this company.")
    figure = go.Figure()
    # the trailing-twelve-month line and the fiscal-year squares: rows, name, hover, style
    capex_traces = (
        (
            ttm,
            "Capex, trailing 12 months",
            "%{customdata}: %{y:,.1f} bn<extra></extra>",
            dict(mode="lines", line=dict(color=company_color(ticker), width=2.5), connectgaps=False),
        ),
        (
            fiscal_years,
            "Capex, fiscal year (reported)",
            "%{customdata} actual: %{y:,.1f} bn<extra></extra>",
            dict(mode="markers", marker=dict(symbol="square", size=9, color=ACCENT)),
        ),
    )
    for rows, name, hover, style in capex_traces:
        if not rows.empty:
            part = rows.sort_values("period_end")
            figure.add_trace(period_scatter(part, part["capex"] / BN, name=name, hovertemplate=hover, **style))
    years = sorted(guidance["fiscal_year"].unique()) if not guidance.empty else []
    for position, year in enumerate(years):
        part = guidance[guidance["fiscal_year"] == year].sort_values("statement_date")
        mid = (part["low_usd_bn"] + part["high_usd_bn"]) / 2
        basis = "CY" if (part["period_basis"] == "calendar_year").all() else "FY"
        color = _YEAR_COLORS[position % len(_YEAR_COLORS)]
        figure.add_trace(
            go.Scatter(
                x=part["statement_date"],
                y=mid,
                mode="markers",
                name=f"Guidance for {basis}{year}",
                marker=dict(symbol="line-ew-open", size=14, color=color, line=dict(width=3)),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=(part["high_usd_bn"] - mid).tolist(),
                    arrayminus=(mid - part["low_usd_bn"]).tolist(),
                    color=color,
                    thickness=3,
                    width=8,
                ),
                customdata=list(zip([plain(w) for w in part["wording"]], part["low_usd_bn"], part["high_usd_bn"])),
                hovertemplate=(
                    "%{x|%Y-%m-%d}: " + f"{basis}{year}" + " %{customdata[1]:,.0f}–%{customdata[2]:,.0f} bn"
                    "<br>%{customdata[0]}<extra></extra>"
                ),
            )
        )
    figure.update_yaxes(ticksuffix=" bn", rangemode="tozero")
    parts = []
    if not ttm.dropna(subset=["capex"]).empty:
        last = ttm.dropna(subset=["capex"]).sort_values("period_end").iloc[-1]
        parts.append(f"trailing-12-month capex {last['capex'] / BN:,.1f} bn ({plain(last['period'])})")
    if not guidance.empty:
        newest = guidance.sort_values("statement_date").iloc[-1]
        basis = "CY" if newest["period_basis"] == "calendar_year" else "FY"
        parts.append(
            f"{len(guidance)} guidance statements, the latest on {newest['statement_date'].date()} for "
            f"{basis}{int(newest['fiscal_year'])}: {newest['low_usd_bn']:,.0f}–{newest['high_usd_bn']:,.0f} bn"
        )
    description = f"{plain(ticker)} capex over time with each guidance statement as a low-to-high range: " + "; ".join(parts) + "."
    return styled(figure, title="Capex and guidance trajectory (USD bn, annual amounts)", height=440, description=description)
