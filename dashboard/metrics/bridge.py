"""The funding bridge: one funding-table row as waterfall steps, from operating cash flow to the
gap and what covered it. Pure (no I/O); USD millions; the input row is not changed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import SupportsFloat, cast

import numpy as np
import pandas as pd

BRIDGE_COLUMNS: tuple[str, ...] = ("step", "measure", "amount", "value", "state", "provisional", "inputs")
# The financing lines of the bridge: label and the fundamentals columns behind each.
_SOURCE_STEPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("divestment proceeds", "divestment_proceeds", ("asset_sale_proceeds",)),
    ("net debt issued", "net_debt_issued", ("debt_issued", "debt_repaid")),
    ("equity issued", "equity_issued", ("equity_issued",)),
    ("cash drawdown", "cash_drawdown", ("cash_and_securities",)),
)


def funding_bridge(row: pd.Series | Mapping[str, object]) -> pd.DataFrame:
    """The steps of one :func:`metrics.funding.funding_table` row as a waterfall, USD millions.

    Columns (:data:`BRIDGE_COLUMNS`): ``step`` (label), ``measure`` (``relative``: a change;
    ``total``: a subtotal), ``amount`` (the figure as in the table; NaN where not reported),
    ``value`` (signed change for relative steps, running total for totals), ``state``
    (``reported``; ``not_reported``: a line with no figure, drawn as a labelled zero step;
    ``bound``: a total that is only a bound; ``surplus``: a negative gap), ``provisional`` (a
    cell behind the step carries the ``provisional`` flag) and ``inputs`` (the fundamentals
    columns behind the step).

    Steps: operating cash flow (+), buybacks (-), dividends (-), = internal funding, capex (-),
    = funding gap (the running total is -gap: a shortfall is negative; a negative gap is shown as
    a surplus), then divestment proceeds, net debt issued, equity issued, cash drawdown and the
    residual (other and unexplained, including what is not reported), which bring the total back
    to zero, = end. Where the gap is not exact but bounded (buybacks, dividends or, on the economic
    basis, lease principal missing in some quarter), those steps hold what the reporting quarters
    show (``<outflow>_reported``; the rest counted as 0; state ``bound``, or ``not_reported`` when
    no quarter reports it), internal funding
    is "at most", the gap "at least", and the residual is the matching bound, so every total
    equals the sum of the steps before it. Without operating cash flow or capex there is
    nothing to bound: the totals stay NaN.
    """
    get = partial(_number, row)
    flags = set(row["quality_flags"]) if "quality_flags" in row and isinstance(row["quality_flags"], tuple) else set()
    basis = row["capex_basis"] if "capex_basis" in row else "reported"
    capex_inputs = ("capex", "finance_lease_principal") if basis == "economic" else ("capex",)
    exact = pd.notna(get("funding_gap"))
    gap = get("funding_gap") if exact else get("funding_gap_lower_bound")
    internal = get("internal_funding") if exact else get("internal_funding_upper_bound")
    bounded = bool(not exact and pd.notna(gap))
    steps = _Steps(flags)
    _add_internal_funding(steps, get, internal=internal, bounded=bounded)
    _add_capex_and_gap(steps, get, gap=gap, internal=internal, bounded=bounded, capex_inputs=capex_inputs)
    _add_sources_and_residual(steps, get, gap=gap, bounded=bounded)
    return steps.frame()


def _number(row: pd.Series | Mapping[str, object], key: str) -> float:
    """``row[key]`` as a float; NaN where the key is absent or the cell is missing."""
    value = row[key] if key in row else np.nan
    # the row mixes text and tuples with numbers; the keys asked for here are numeric columns
    return float(cast(SupportsFloat, value)) if pd.notna(value) else np.nan


class _Steps:
    """The bridge's rows in order; a step is provisional when a cell behind it carries the
    ``<column>:provisional`` quality flag."""

    def __init__(self, flags: set[str]) -> None:
        self.flags = flags
        self.rows: list[dict] = []

    def add(self, step: str, measure: str, amount: float, value: float, inputs: tuple[str, ...], state: str = "reported") -> None:
        provisional = any(f"{column}:provisional" in self.flags for column in inputs)
        self.rows.append(
            {
                "step": step,
                "measure": measure,
                "amount": amount,
                "value": value,
                "state": state,
                "provisional": provisional,
                "inputs": inputs,
            }
        )

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows, columns=list(BRIDGE_COLUMNS))
        frame[["amount", "value"]] = frame[["amount", "value"]].astype(float).round(6) + 0.0  # no -0.0
        return frame


def _add_internal_funding(steps: _Steps, get: Callable[[str], float], *, internal: float, bounded: bool) -> None:
    """Operating cash flow, buybacks and dividends (what the reporting quarters show where the
    gap is only bounded), then the internal-funding subtotal."""
    add = steps.add
    add("operating cash flow", "relative", get("operating_cash_flow"), get("operating_cash_flow"), ("operating_cash_flow",))
    for label in ("buybacks", "dividends"):
        amount = get(label)
        if pd.isna(amount) and bounded:
            reported = get(f"{label}_reported")
            reported = 0.0 if pd.isna(reported) else reported
            if reported == 0:
                add(f"{label} (not reported, counted as 0)", "relative", np.nan, 0.0, (label,), "not_reported")
            else:
                add(f"{label} (reported quarters; the rest counted as 0)", "relative", reported, -reported, (label,), "bound")
        else:
            add(label, "relative", amount, -amount, (label,))
    add(
        "internal funding (at most)" if bounded else "internal funding",
        "total",
        internal,
        internal,
        ("operating_cash_flow", "buybacks", "dividends"),
        "bound" if bounded else "reported",
    )


def _add_capex_and_gap(
    steps: _Steps, get: Callable[[str], float], *, gap: float, internal: float, bounded: bool, capex_inputs: tuple[str, ...]
) -> None:
    """Capex, then the funding-gap subtotal (a negative gap shown as a surplus)."""
    add = steps.add
    capex = get("capex")
    if pd.isna(capex) and bounded:  # economic basis, lease principal missing in some quarter: counted as 0
        capex = gap + internal
        add("capex (lease principal not reported counted as 0)", "relative", capex, -capex, capex_inputs, "bound")
    else:
        add("capex", "relative", capex, -capex, capex_inputs)
    surplus = pd.notna(gap) and gap < 0
    gap_label = (
        "surplus (at most)" if surplus and bounded else "surplus" if surplus else "funding gap (at least)" if bounded else "funding gap"
    )
    gap_state = "bound" if bounded else "surplus" if surplus else "reported"
    add(gap_label, "total", abs(gap) if surplus else gap, -gap, ("operating_cash_flow", "buybacks", "dividends", *capex_inputs), gap_state)


def _add_sources_and_residual(steps: _Steps, get: Callable[[str], float], *, gap: float, bounded: bool) -> None:
    """The financing lines (:data:`_SOURCE_STEPS`), the residual that brings the running total
    back to zero, and the end total."""
    add = steps.add
    running = -gap
    for label, column, inputs in _SOURCE_STEPS:
        amount = get(column)
        if pd.isna(amount) and pd.notna(gap):
            add(f"{label} (not reported)", "relative", np.nan, 0.0, inputs, "not_reported")
            continue
        add(label, "relative", amount, amount, inputs)
        running = running + amount
    residual = -running
    add(
        "other and unexplained, incl. not reported" + (" (at least)" if bounded else ""),
        "relative",
        residual,
        residual,
        (),
        "bound" if bounded else "reported",
    )
    add("end (sources = uses)", "total", running + residual, running + residual, ())
