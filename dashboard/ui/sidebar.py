"""The sidebar's shared settings: which page shows which (company, capex basis, abnormal-return
model, event windows), drawn in the sidebar and bound to the link (``widgets``), and the values
of this run for the page (:func:`shared`). app.py draws a page's controls before the page runs;
the Company page adds the event-study controls itself, in its market-reactions section only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict, get_args

import streamlit as st

from dashboard.config import DEFAULT_EVENT_WINDOWS, MODELS, CapexBasis, Model
from dashboard.ui import widgets

CAPEX_BASES: tuple[CapexBasis, ...] = get_args(CapexBasis)
CAPEX_BASIS_LABELS = {"reported": "Reported capex", "economic": "Economic (incl. finance-lease principal)"}
MODEL_LABELS = {
    "market": "Market model (OLS α, β)",
    "market_adjusted": "Market-adjusted (R − Rm)",
    "constant_mean": "Constant mean",
    "peer": "Peer group (equal-weighted)",
}
WINDOW_OPTIONS: tuple[tuple[int, int], ...] = (
    (-1, 1),
    (0, 1),
    (-5, 5),
    (0, 20),
    (0, 0),
    (-1, 0),
    (-2, 2),
    (-3, 3),
    (0, 5),
    (0, 10),
    (-10, 10),
)
# Which shared controls each page shows (and so puts in its link). The Company page adds the
# event-study controls itself, in its market-reactions section only (event_study_controls).
PAGE_CONTROLS: dict[str, tuple[str, ...]] = {
    "overview": ("capex",),
    "company": ("company", "capex"),
    "events": ("model", "windows"),
    "compare": ("capex",),
    "methodology": (),
}


class Shared(TypedDict, total=False):
    """The shared settings of this run: company, capex basis, model, windows (keys present only
    when the page uses them)."""

    company: str
    capex_basis: CapexBasis
    model: Model
    windows: tuple[tuple[int, int], ...]


def shared_controls(page: str, companies: Sequence[str], company_names: dict[str, str]) -> Shared:
    """Render the shared controls the page uses in the sidebar, bound to the link; store them for
    the page (:func:`shared`)."""
    wanted = PAGE_CONTROLS.get(page, ())
    values = Shared()
    bar = st.sidebar
    if "company" in wanted:
        values["company"] = widgets.choice(
            "company",
            "Company",
            list(companies),
            companies[0],
            format_func=lambda t: f"{company_names.get(t, t)} ({t})",
            container=bar,
        )
    if "capex" in wanted:
        values["capex_basis"] = widgets.choice(
            "capex",
            "Capex basis",
            list(CAPEX_BASES),
            "reported",
            format_func=CAPEX_BASIS_LABELS.__getitem__,
            container=bar,
            kind="radio",
            help="Economic capex = reported purchases of property and equipment + principal payments on finance leases.",
        )
    if "model" in wanted or "windows" in wanted:
        values["model"], values["windows"] = event_study_controls()
    st.session_state["_shared"] = values
    return values


def event_study_controls() -> tuple[Model, tuple[tuple[int, int], ...]]:
    """The abnormal-return model and the event windows, in the sidebar and bound to the link: on
    the Events page, and in the Company page's market-reactions section (the only views they
    change; elsewhere they stay out of the sidebar and the link, and come back as they were)."""
    model = widgets.choice(
        "model", "Abnormal-return model", list(MODELS), "market", format_func=MODEL_LABELS.__getitem__, container=st.sidebar
    )
    windows = widgets.windows_choice("windows", "Event windows", WINDOW_OPTIONS, DEFAULT_EVENT_WINDOWS, container=st.sidebar)
    return model, windows


def keep_event_study_link() -> None:
    """On a view without the event-study controls: a link's ``model`` and ``windows`` (an older
    link, or one edited by hand) are kept for when the controls come back (``widgets.remember``)."""
    names = [widgets.encode_window(window) for window in WINDOW_OPTIONS]
    widgets.remember("model", lambda raw: widgets.parse_choice(raw, list(MODELS)))
    widgets.remember("windows", lambda raw: widgets.parse_windows(raw, names))


def shared() -> Shared:
    """The shared settings rendered by app.py in this run."""
    return st.session_state.get("_shared", Shared())
