"""From quarters to the funding table's windows (a quarter, a TTM, a year): the sums over each
window's quarters, its bound inputs, and the notes that say what is missing and where the figures
come from. Pure; USD millions; used by :func:`metrics.funding.funding_table`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.config import FUNDING_FLOW_INPUTS, CapexBasis
from dashboard.metrics.memo_lines import MEMO_LINES
from dashboard.metrics.quality_flags import flow_inputs

# One-signed outflows: a missing one, counted as 0, bounds the gap from below.
BOUNDING_OUTFLOWS: tuple[str, ...] = ("buybacks", "dividends", "finance_lease_principal")


def window_sums(quarter_values: pd.DataFrame, windows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Per window: exact sums (NaN when any quarter lacks the figure), the bound inputs
    (``bound_<column>``: capex complete or NaN, outflows with missing quarters as 0), which
    inputs are missing in some quarter, and whether every quarter is present."""
    members = windows["members"].explode().dropna()
    member_values = quarter_values.loc[members.to_numpy()].set_axis(members.index)
    flow_columns = [*FUNDING_FLOW_INPUTS, *MEMO_LINES]
    grouped = member_values[flow_columns].groupby(level=0)
    any_missing = member_values[flow_columns].isna().groupby(level=0).any()
    exact = grouped.sum(min_count=1).mask(any_missing).reindex(windows.index)
    any_missing = any_missing.reindex(windows.index, fill_value=True)
    complete = windows["absent_quarters"].map(len) == 0
    exact[~complete] = np.nan
    bound = member_values[list(BOUNDING_OUTFLOWS)].groupby(level=0).sum().reindex(windows.index).where(complete)
    exact["bound_capex"] = exact["capex"]
    for column in BOUNDING_OUTFLOWS:
        exact[f"bound_{column}"] = bound[column]
    return exact, any_missing, complete


def missing_inputs(
    windows: pd.DataFrame,
    any_missing: pd.DataFrame,
    closing_cash: pd.Series,
    opening_cash: pd.Series,
    capex_basis: CapexBasis,
) -> list[tuple[str, ...]]:
    """Per window, the inputs of the bridge's arithmetic that are missing (or its absent quarters)."""
    inputs = flow_inputs(capex_basis)
    names_by_window = []
    rows = zip(windows["absent_quarters"], any_missing.to_dict("records"), closing_cash.isna(), windows["opening"].isna(),
               windows["opening_label"], opening_cash.isna())  # fmt: skip
    for absent, missing, no_closing, no_opening_quarter, opening_label, no_opening in rows:
        if absent:
            names_by_window.append(tuple(f"quarter {label}" for label in absent))
            continue
        names = [c for c in inputs if missing[c]]
        if no_closing:
            names.append("cash_and_securities")
        if no_opening_quarter:
            names.append(f"cash_and_securities_start ({opening_label} absent)")
        elif no_opening:
            names.append("cash_and_securities_start")
        names_by_window.append(tuple(names))
    return names_by_window


def source_text(windows: pd.DataFrame, fundamentals: pd.DataFrame, calendar: pd.DataFrame) -> list[str]:
    """Per window, the ``source`` text: the fundamentals row behind a single quarter, the list of
    quarters behind an aggregate, and where the opening cash and the memo lines come from."""
    texts = []
    tickers, fiscal_labels, sources = calendar["ticker"].to_dict(), calendar["fiscal_label"].to_dict(), fundamentals["source"].to_dict()
    for members, opening in zip(windows["members"], windows["opening"]):
        if not members:
            texts.append("")
            continue
        ticker = tickers[members[0]]
        labels = ", ".join(fiscal_labels[m] for m in members)
        opening_text = f"; opening cash_and_securities: {fiscal_labels[opening]} close" if pd.notna(opening) else ""
        if len(members) == 1:
            body = f"fundamentals.csv {ticker} {labels}: {sources[members[0]]}"
        else:
            body = f"fundamentals.csv {ticker}: sum of {labels} (each quarter's source in the quarterly rows)"
        texts.append(body + opening_text + "; memo lines: events.csv funding_usd_bn")
    return texts


def memo_notes(windows: pd.DataFrame, complete: pd.Series, memo: pd.DataFrame) -> tuple[list[tuple], list[tuple]]:
    """Per window: the events behind its memo lines, and the reasons its memo lines are unknown
    (each once, in order), from its quarters' rows of ``memo``; both empty for an incomplete window."""
    memo_events, memo_missing = memo["memo_events"].to_dict(), memo["memo_missing"].to_dict()
    events = [tuple(e for m in members for e in memo_events[m]) if ok else () for members, ok in zip(windows["members"], complete)]
    reasons = [
        tuple(dict.fromkeys(r for m in members for r in memo_missing[m])) if ok else () for members, ok in zip(windows["members"], complete)
    ]
    return events, reasons


def bound_missing(result: pd.DataFrame, any_missing: pd.DataFrame, capex_basis: CapexBasis) -> list[tuple[str, ...]]:
    """Per row: the one-signed outflows counted as 0 in its gap bound (empty where the gap is exact
    or not even bounded); lease principal counts only on the economic basis."""
    counted_as_zero = [c for c in BOUNDING_OUTFLOWS if c in flow_inputs(capex_basis)]
    bounded_only = result["funding_gap_lower_bound"].notna() & result["funding_gap"].isna()
    missing_by_window = any_missing.to_dict("records")
    return [
        tuple(c for c in counted_as_zero if missing_by_window[w][c]) if bounded else () for w, bounded in enumerate(bounded_only.to_numpy())
    ]
