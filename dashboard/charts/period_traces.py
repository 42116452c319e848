"""Traces over reporting periods, shared by the funding and guidance figures: x is each row's
``period_end`` and the hover names its ``period`` label (escaped)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.theme import plain


def period_scatter(part: pd.DataFrame, values: pd.Series, *, name: str, hovertemplate: str, **style: Any) -> go.Scatter:
    """A scatter of ``values`` (one per row of ``part``) at each row's ``period_end``, with the
    row's ``period`` label as ``customdata`` for ``hovertemplate``. ``style``: any other
    ``go.Scatter`` property (mode, line, marker, legend group, ...)."""
    return go.Scatter(
        x=part["period_end"],
        y=values,
        name=name,
        customdata=[plain(p) for p in part["period"]],
        hovertemplate=hovertemplate,
        **style,
    )
