"""Streamlit side of the one CSV export: every table shown gets its download from
:func:`dashboard.exporting.export_csv` (formulas neutralized, numbers numeric, metadata rows)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from dashboard.exporting import export_csv

if TYPE_CHECKING:  # what st.column_config.* return; streamlit itself is imported where used
    from streamlit.elements.lib.column_types import ColumnConfig

# --- Streamlit helpers: every table shown gets its download through export_csv ---------------------


def download_button(frame: pd.DataFrame, name: str, params: Mapping[str, object]) -> None:
    """ "Download CSV" and "Download Excel" buttons for ``frame``; each file is built when its
    button is clicked (not on every rerun) by the one export (``exporting.export_csv`` and
    ``export_xlsx``), with the data version and every dataset's as-of date from the manifest. The
    CSV's first rows hold the parameters and as-of dates, the workbook's second sheet; text a
    spreadsheet would run as a formula gets a quote prefix and is stored as text."""
    import streamlit as st

    from dashboard.exporting import export_xlsx
    from dashboard.ui import cached

    version = cached.data_version()
    as_of = cached.read_as_of_dates(version)

    def csv_file() -> bytes:
        return export_csv(frame, params=params, as_of=as_of, name=name, data_version=version)

    def excel_file() -> bytes:
        return export_xlsx(frame, params=params, as_of=as_of, name=name, data_version=version)

    row = st.container(horizontal=True)
    row.download_button(
        "Download CSV", data=csv_file, file_name=f"{name}_{version}.csv", mime="text/csv", key=f"download_{name}",
        on_click="ignore", icon=":material/download:",
    )  # fmt: skip
    row.download_button(
        "Download Excel", data=excel_file, file_name=f"{name}_{version}.xlsx", key=f"download_xlsx_{name}",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore", icon=":material/table_view:",
    )  # fmt: skip


def table(
    frame: pd.DataFrame,
    name: str,
    params: Mapping[str, object],
    *,
    column_config: Mapping[str, ColumnConfig | str] | None = None,
    height: int | Literal["auto", "stretch", "content"] = "auto",
    export: pd.DataFrame | None = None,
    key_columns: Sequence[str] = (),
    links: Mapping[str, str] | None = None,
) -> None:
    """Show ``frame`` (read-only, no toolbar download is relied on) and its export button.

    On screen (``ui.columns.display_frame``): ``key_columns`` first, labels in words, money in
    USD bn, ratios as percentages; ``links`` (column -> label) shows URL columns as "open" links,
    http(s) only (any other value is left out, never linked); ``column_config`` adds to or
    overrides that (widths, labels). ``export``: the frame to export when it differs from the
    display; defaults to ``frame``. The export keeps machine-readable names, units and URLs.
    """
    import streamlit as st

    from dashboard.ui.columns import display_frame
    from dashboard.ui.text import http_urls

    linked = frame.assign(**{column: http_urls(frame[column]) for column in (links or {}) if column in frame.columns})
    shown, config = display_frame(linked, key_columns=key_columns)
    for column, label in (links or {}).items():
        config[column] = st.column_config.LinkColumn(label, display_text="open")
    config.update(column_config or {})
    st.dataframe(shown, hide_index=True, column_config=config, height=height, width="stretch", placeholder="n/a")
    download_button(frame if export is None else export, name, params)


def lazy_table(label: str, frame_builder: Callable[[], pd.DataFrame], name: str, params: Mapping[str, object], **options: Any) -> None:
    """A table (with its export) inside a collapsed expander that builds it only when opened: the
    figures stay one click away without costing every rerun (a company switch redraws less).
    ``frame_builder`` returns the frame; ``options`` go to :func:`table`."""
    import streamlit as st

    with st.expander(label, key=f"open_{name}", on_change="rerun", icon=":material/table:") as section:
        if section.open:
            table(frame_builder(), name, params, **options)
