"""Showing a figure: one call that draws it with the app's chart settings and its description.

Every chart goes through :func:`show_chart`: Streamlit's theme colours the text (the figures are
transparent, so they read in light and dark mode), the image download is named
``<page>_<ticker>_<data version>.png`` at 2x scale, and the figure's description (set by its
builder in ``charts/``, see ``charts.theme.describe``) is written under it as a caption that a
screen reader reads with the chart.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.charts.theme import description_of
from dashboard.ui import cached
from dashboard.ui.text import escape_markdown

DESCRIPTION_PREFIX = "Chart:"


def chart_file_name(page: str, subject: str) -> str:
    """``<page>_<subject>_<data version>`` (no extension), safe as a file name."""
    safe = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in subject)
    return f"{page}_{safe}_{cached.data_version()}"


def show_chart(figure: Any, key: str, *, page: str, subject: str = "all", **options: Any) -> Any:
    """Draw ``figure`` (its description as a caption under it) and return what st.plotly_chart
    returns (the selection state when ``on_select`` is given)."""
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": chart_file_name(page, subject), "scale": 2},
    }
    shown = st.plotly_chart(figure, key=key, config=config, theme="streamlit", **options)
    st.caption(f"{DESCRIPTION_PREFIX} {escape_markdown(description_of(figure))}")
    return shown
