"""Price against its benchmark, rebased to 100, with event markers coloured by CAR sign and
significance (filled: p < 0.05; hollow: not significant; grey cross: no CAR). Hover shows the
headline (escaped)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.theme import (
    BENCHMARK,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    company_color,
    empty_figure,
    plain,
    styled,
)

SIGNIFICANCE = 0.05


def rebased(series: pd.Series) -> pd.Series:
    """``series`` (closes without gaps) divided by its first value, x 100."""
    series = series.dropna()
    return series / series.iloc[0] * 100 if not series.empty else series


def _rebased_line(line: pd.Series, name: str, style: dict) -> go.Scatter:
    """A rebased close series as a line named ``name`` (escaped); the hover shows date and level."""
    return go.Scatter(
        x=line.index,
        y=line,
        name=plain(name),
        mode="lines",
        line=style,
        hovertemplate="%{x|%Y-%m-%d}: %{y:.1f}<extra>" + plain(name) + "</extra>",
    )


def _add_event_markers(figure: go.Figure, markers: pd.DataFrame, stock_line: pd.Series, *, window_label: str) -> None:
    """One marker trace per CAR sign and significance (see :func:`price_vs_benchmark_figure`), each
    marker on the stock's rebased close of its day 0 (or the last close before it)."""
    day0 = pd.to_datetime(markers["day0"])
    position = stock_line.index.searchsorted(day0, side="right") - 1
    inside = (position >= 0) & day0.notna().to_numpy()
    y = np.where(inside, stock_line.to_numpy()[np.clip(position, 0, None)], np.nan)
    car = markers["car"].to_numpy(dtype=float)
    significant = markers["car_p"].to_numpy(dtype=float) < SIGNIFICANCE
    groups = [
        ("▲ CAR > 0, p < 0.05", (car > 0) & significant, POSITIVE, "triangle-up"),
        ("△ CAR > 0, not significant", (car > 0) & ~significant, POSITIVE, "triangle-up-open"),
        ("▼ CAR < 0, p < 0.05", (car < 0) & significant, NEGATIVE, "triangle-down"),
        ("▽ CAR < 0, not significant", (car < 0) & ~significant, NEGATIVE, "triangle-down-open"),
        ("no CAR", ~np.isfinite(car), NEUTRAL, "x"),
    ]
    for name, mask, color, symbol in groups:
        mask = mask & inside
        if not mask.any():
            continue
        part = markers[mask]
        hover = [
            f"<b>{plain(row.event_id)}</b> {pd.Timestamp(row.day0).date() if pd.notna(row.day0) else ''}<br>{plain(row.headline, 120)}"
            f"<br>CAR {window_label}: "
            + ("n/a (" + plain(row.status) + ")" if pd.isna(row.car) else f"{row.car:+.1%} (t {row.car_t:.2f}, p {row.car_p:.3f})")
            for row in part.itertuples()
        ]
        figure.add_trace(
            go.Scatter(
                x=day0[mask],
                y=y[mask],
                mode="markers",
                name=f"Event: {name}",
                marker=dict(color=color, symbol=symbol, size=12, line=dict(width=2, color=color)),
                hovertext=hover,
                hoverinfo="text",
                customdata=part["event_id"].tolist(),
            )
        )


def price_vs_benchmark_figure(
    closes: pd.DataFrame,
    *,
    ticker: str,
    benchmark: str,
    markers: pd.DataFrame,
    window_label: str,
    log_scale: bool = False,
    start: pd.Timestamp | None = None,
) -> go.Figure:
    """``closes``: wide date x ticker adjusted closes (NaN where no session). Both series are
    rebased to 100 on the first date where both have a close, and drawn on their own sessions
    until their own last close. ``markers``: one row per event with ``event_id, day0, headline,
    car, car_t, car_p, status`` (CAR of the window named ``window_label``). Markers: a triangle
    up for a positive CAR and down for a negative one (shape, not only colour), filled when
    p < 0.05 and hollow when not; a grey cross has no CAR. ``log_scale`` draws the y axis on a log
    scale; ``start`` shows the range from that date to the last close, rebased at the first common
    close on or after it (None: everything)."""
    if ticker not in closes.columns:
        return empty_figure(f"No prices for {ticker}.")
    stock = closes[ticker].dropna()
    bench = closes[benchmark].dropna() if benchmark in closes.columns else pd.Series(dtype=float)
    common = stock.index.intersection(bench.index)
    first = common.min() if len(common) else stock.index.min()
    if start is not None:  # a shorter range is rebased at its own first (common) close
        in_range = common[common >= pd.Timestamp(start)]
        first = in_range.min() if len(in_range) else max(first, pd.Timestamp(start))
        if not markers.empty:  # the events before the range are neither drawn nor counted
            markers = markers[pd.to_datetime(markers["day0"]) >= first]
    stock_line = rebased(stock[stock.index >= first])
    figure = go.Figure()
    figure.add_trace(_rebased_line(stock_line, ticker, dict(color=company_color(ticker), width=2)))
    if not bench.empty:
        bench_line = rebased(bench[bench.index >= first])
        figure.add_trace(_rebased_line(bench_line, benchmark, dict(color=BENCHMARK, width=1.5, dash="dot")))
    if not markers.empty:
        _add_event_markers(figure, markers, stock_line, window_label=window_label)
    figure.update_yaxes(
        title_text="Rebased (first common close = 100)" + (", log scale" if log_scale else ""), type="log" if log_scale else "linear"
    )
    if len(stock_line):  # the stock's own dates: a benchmark that runs on is cut at its last close
        figure.update_xaxes(range=[stock_line.index.min(), stock_line.index.max()])
    change = stock_line.iloc[-1] / stock_line.iloc[0] - 1 if len(stock_line) > 1 else float("nan")
    bench_change = (bench_line.iloc[-1] / bench_line.iloc[0] - 1) if not bench.empty and len(bench_line) > 1 else float("nan")
    counted = markers["car"].notna().sum() if not markers.empty else 0
    description = (
        f"{plain(ticker)} adjusted close rebased to 100 against {plain(benchmark)} from {stock_line.index.min().date()} "
        f"to {stock_line.index.max().date()}: {change:+.0%} against {bench_change:+.0%}; {len(markers)} event markers, "
        f"{counted} with a CAR over {window_label}."
    )
    return styled(
        figure, title=f"{plain(ticker)} against {plain(benchmark)}, adjusted closes rebased to 100", height=440, description=description
    )
