"""Funding figures: capex against internal funding, the funding-gap waterfall, memo lines, and the
side-by-side comparison of companies. Inputs are ``metrics.funding`` outputs (USD millions);
figures show USD billions. Missing values are gaps in a line or absent bars, never zeros.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.charts.period_traces import period_scatter
from dashboard.charts.theme import (
    ACCENT,
    GAP,
    INK,
    MEMO,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    SURPLUS,
    company_color,
    empty_figure,
    plain,
    styled,
    wrapped,
)
from dashboard.config import USD_MILLIONS_PER_BILLION

BN = USD_MILLIONS_PER_BILLION  # USD millions per billion: figures show billions

# The steps read down the left, their names wrapped (a long name takes two or three lines). The
# margins leave room for those names and the ticks from the start: plotly widens a margin that is
# too narrow for its labels only by drawing the chart a second time.
STEP_LABEL_WIDTH = 30
BRIDGE_MARGIN = dict(l=200, r=40, b=40)
BRIDGE_FRAME_HEIGHT, BRIDGE_STEP_HEIGHT = 130, 34

MEMO_LABELS = {
    "jv_spv_financing_memo": "JV/SPV financing (off balance sheet)",
    "third_party_financing_memo": "Developers' financing of leased sites",
    "announced_funding_memo": "Debt/equity/divestment deals announced",
}


def capex_vs_internal_funding_figure(table: pd.DataFrame, *, names: dict[str, str] | None = None, columns: int = 3) -> go.Figure:
    """Small multiples, one panel per ticker: capex (bars) and internal funding (line), USD bn.

    ``table``: :func:`metrics.funding.funding_table` rows with ``ticker, period, period_end,
    capex, internal_funding``. A missing internal funding is a gap in the line.
    """
    if table.empty:
        return empty_figure("No fundamentals to show.")
    names = names or {}
    present = set(table["ticker"])
    tickers = [t for t in names if t in present] + sorted(present - set(names))
    rows = math.ceil(len(tickers) / columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[plain(names.get(t, t)) for t in tickers],
        shared_yaxes=False,
        vertical_spacing=0.12,
        horizontal_spacing=0.06,
    )
    for position, ticker in enumerate(tickers):
        part = table[table["ticker"] == ticker].sort_values("period_end")
        row, col = divmod(position, columns)
        labels = [plain(p) for p in part["period"]]
        figure.add_trace(
            go.Bar(
                x=part["period_end"],
                y=part["capex"] / BN,
                name="Capex",
                marker_color=company_color(ticker),
                legendgroup="capex",
                showlegend=position == 0,
                customdata=labels,
                hovertemplate="%{customdata}<br>capex %{y:,.1f} bn<extra></extra>",
            ),
            row=row + 1,
            col=col + 1,
        )
        figure.add_trace(
            period_scatter(
                part,
                part["internal_funding"] / BN,
                name="Internal funding (OCF − buybacks − dividends)",
                hovertemplate="%{customdata}<br>internal funding %{y:,.1f} bn<extra></extra>",
                mode="lines+markers",
                line=dict(color=INK, width=2),
                marker=dict(size=4),
                legendgroup="internal",
                showlegend=position == 0,
                connectgaps=False,
            ),
            row=row + 1,
            col=col + 1,
        )
        if "internal_funding_upper_bound" in part.columns:
            bounded = part[part["internal_funding"].isna() & part["internal_funding_upper_bound"].notna()]
            figure.add_trace(
                period_scatter(
                    bounded,
                    bounded["internal_funding_upper_bound"] / BN,
                    name="Internal funding, at most (buybacks or dividends not reported)",
                    hovertemplate="%{customdata}<br>internal funding at most %{y:,.1f} bn<extra></extra>",
                    mode="markers",
                    marker=dict(symbol="triangle-down-open", size=8, color=INK),
                    legendgroup="bound",
                    showlegend=position == 0,
                ),
                row=row + 1,
                col=col + 1,
            )
    figure.update_yaxes(title_text=None, ticksuffix=" bn")
    latest = table.dropna(subset=["capex"]).sort_values("period_end").groupby("ticker").tail(1)
    parts = [
        f"{plain(names.get(t, t))} {p}: capex {c / BN:,.1f} bn, internal funding " + ("n/a" if pd.isna(i) else f"{i / BN:,.1f} bn")
        for t, p, c, i in zip(latest["ticker"], latest["period"], latest["capex"], latest["internal_funding"])
    ]
    description = "Quarterly capex (bars) against internal funding (line) per company, USD bn; latest quarters: " + "; ".join(parts) + "."
    return styled(figure, height=260 * rows + 80, description=description)


def _bn_label(value: float) -> str:
    """USD millions as a bn label without a "−0.0"."""
    amount = round(float(value) / BN, 1)
    return f"{amount + 0.0:,.1f}"


def funding_bridge_figure(bridge: pd.DataFrame, *, title: str, memo: pd.Series | None = None) -> go.Figure:
    """Floating bars of :func:`metrics.bridge.funding_bridge` steps (USD millions in, bn shown).

    Each relative step floats from the running total before it to the one after; totals stand on
    zero. Colours: inflows and outflows, subtotals, the gap, and a surplus in its own colour
    labelled "surplus" (never an upward "gap" with a negative label). A not-reported line is a
    labelled zero step at the running total; a provisional figure is hatched; a bound is outlined
    and labelled with ≥ or ≤. The steps read from the top (bars run left and right of zero).
    Without operating cash flow or capex the bridge
    stops before the first step it cannot draw and says which.

    ``memo``: the period's funding-table row; its memo lines (:data:`MEMO_LABELS`) follow the
    steps below a dotted line, from zero in their own colour: on the bridge's scale, never in
    its arithmetic.
    """
    if bridge.empty:
        return empty_figure("No funding-gap bridge or memo lines: no fundamentals for this period.")
    blocked = bridge["value"].isna()
    shown = bridge if not blocked.any() else bridge.iloc[: int(np.argmax(blocked.to_numpy()))]
    if shown.empty:
        memo_text = f" Memo lines, USD bn: {memo_description(memo)}." if memo is not None else ""
        return empty_figure(f"n/a: {bridge.loc[blocked, 'step'].iloc[0]} is missing for this period.{memo_text}")
    bases, heights, colors, texts, lines = [], [], [], [], []
    level = 0.0
    for step in shown.itertuples(index=False):
        value = float(step.value) / BN
        if step.measure == "total":
            base, height, level = 0.0, value, value
        else:
            base, height, level = level, value, level + value
        bases.append(base)
        heights.append(height)
        if step.state == "not_reported":
            colors.append(NEUTRAL)
            texts.append("not reported")
        elif step.state == "surplus" or (step.state == "bound" and step.step.startswith("surplus")):
            colors.append(SURPLUS)
            texts.append(f"surplus {_bn_label(step.amount)}")
        elif step.step.startswith("funding gap"):
            colors.append(GAP)
            texts.append(("≥ " if step.state == "bound" else "") + f"gap {_bn_label(step.amount)}")
        elif step.measure == "total":
            colors.append(ACCENT)
            texts.append(("≤ " if step.state == "bound" else "") + _bn_label(step.amount))
        else:
            colors.append(POSITIVE if value >= 0 else NEGATIVE)
            texts.append(("≥ " if step.state == "bound" else "") + _bn_label(step.value))
        lines.append(2 if step.state == "bound" else 0)
    marker = dict(color=colors, line=dict(width=lines, color=INK))
    if shown["provisional"].any():  # a pattern of blanks still costs the browser a pass per bar
        marker["pattern"] = dict(shape=["/" if p else "" for p in shown["provisional"]], fillmode="overlay", size=6)
    figure = go.Figure(
        go.Bar(
            y=[wrapped(step, STEP_LABEL_WIDTH) for step in shown["step"]],
            x=heights,
            base=bases,
            orientation="h",
            marker=marker,
            text=texts,
            textposition="outside",
            cliponaxis=False,
            customdata=[("provisional figure" if p else "") for p in shown["provisional"]],
            hovertemplate="%{y}: %{text}<br>%{customdata}<extra></extra>",
        )
    )
    figure.add_vline(x=0, line=dict(color=NEUTRAL, width=1))
    figure.update_xaxes(ticksuffix=" bn")
    figure.update_yaxes(autorange="reversed")  # read from the top, like a cash-flow statement
    # "surplus surplus 0.4" would say it twice: the step's name already says gap or surplus
    said = [re.sub(r"^(≥ )?(gap|surplus) ", r"\1", text) for text in texts]
    description = "Waterfall, USD bn: " + "; ".join(f"{plain(step)} {text}" for step, text in zip(shown["step"], said)) + "."
    rows = len(shown)
    if memo is not None:
        _add_memo_lines(figure, memo, below=rows)
        description += f" Memo lines under the bridge (not in its sum), USD bn: {memo_description(memo)}."
        rows += len(MEMO_LABELS)
    figure = styled(figure, title=title, height=BRIDGE_FRAME_HEIGHT + BRIDGE_STEP_HEIGHT * rows, description=description)
    return figure.update_layout(margin=BRIDGE_MARGIN, showlegend=False)


def _memo_values(memo: pd.Series) -> list[tuple[str, float, str]]:
    """Each memo line: its label, its value in USD bn (NaN when unknown) and that value as text
    ("n/a" when unknown, never zero)."""
    values = [memo.get(key, np.nan) / BN for key in MEMO_LABELS]
    return [(label, value, "n/a" if pd.isna(value) else f"{value:,.1f}") for label, value in zip(MEMO_LABELS.values(), values)]


def memo_description(memo: pd.Series) -> str:
    """The memo lines in words (USD bn)."""
    return "; ".join(f"{label} {text}" for label, _, text in _memo_values(memo))


def _add_memo_lines(figure: go.Figure, memo: pd.Series, *, below: int) -> None:
    """The memo lines ("memo: ..." on the axis) as bars from zero under the ``below`` bridge steps,
    a dotted line between."""
    lines = _memo_values(memo)
    figure.add_trace(
        go.Bar(
            y=[wrapped(f"memo: {label}", STEP_LABEL_WIDTH) for label, _, _ in lines],
            x=[0.0 if pd.isna(value) else value for _, value, _ in lines],  # an unknown line: no bar, its "n/a" at zero
            orientation="h",
            marker_color=MEMO,
            text=[text for _, _, text in lines],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text} (memo line, not in the bridge)<extra></extra>",
        )
    )
    figure.add_hline(y=below - 0.5, line=dict(color=NEUTRAL, width=1, dash="dot"))


def compare_figure(
    table: pd.DataFrame, *, metric: str, label: str, percent: bool = False, names: dict[str, str] | None = None
) -> go.Figure:
    """One line per company over calendarized periods (``period_end`` on x) for ``metric``.

    Amounts are shown in USD bn, ratios as percentages when ``percent``.
    """
    if table.empty:
        return empty_figure("Nothing to compare.")
    names = names or {}
    figure = go.Figure()
    scale = 100.0 if percent else 1 / BN
    for ticker, part in table.groupby("ticker", sort=False):
        part = part.sort_values("period_end")
        figure.add_trace(
            period_scatter(
                part,
                part[metric] * scale,
                name=plain(names.get(ticker, ticker)),
                hovertemplate="%{fullData.name} %{customdata}: %{y:,.1f}" + ("%" if percent else " bn") + "<extra></extra>",
                mode="lines+markers",
                line=dict(color=company_color(ticker)),
                connectgaps=False,
            )
        )
        bound_column = f"{metric}_lower_bound"
        if bound_column in part.columns:
            bounded = part[part[metric].isna() & part[bound_column].notna()]
            figure.add_trace(
                period_scatter(
                    bounded,
                    bounded[bound_column] * scale,
                    name=plain(names.get(ticker, ticker)) + ", at least",
                    hovertemplate="%{fullData.name} %{customdata}: at least %{y:,.1f} bn<extra></extra>",
                    mode="markers",
                    legendgroup=str(ticker),
                    marker=dict(symbol="triangle-up-open", size=9, color=company_color(ticker)),
                )
            )
    figure.update_yaxes(ticksuffix="%" if percent else " bn")
    latest = table.dropna(subset=[metric]).sort_values("period_end").groupby("ticker").tail(1)
    unit = "%" if percent else " bn"
    parts = [
        f"{plain(names.get(t, t))} {v * scale:,.1f}{unit} ({p})" for t, v, p in zip(latest["ticker"], latest[metric], latest["period"])
    ]
    description = f"{label}, one line per company over calendarized periods; latest: " + "; ".join(parts) + "."
    return styled(figure, title=label, height=360, description=description)
