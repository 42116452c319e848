"""Quality flags behind funding figures: which flagged cells of ``fundamentals.csv`` each row rests on.

Pure pandas (no files, network or clock); nothing here changes its inputs. A funding-table row
rests on the flow inputs of its quarters, its closing cash balance and the opening one; each
``fundamentals_flags.csv`` flag on one of those cells (``derived``, ``single_source``,
``provisional``, ``rounded``, ``basis``) is carried by the row as ``column:flag``, so a TTM row
carries the flags of its four quarters.
"""

from __future__ import annotations

import pandas as pd

from dashboard import config
from dashboard.config import DEFAULT_CAPEX_BASIS, DEFAULT_FUNDING_PERIOD, CapexBasis, Period
from dashboard.errors import require_columns
from dashboard.metrics.periods import period_windows, quarter_calendar

FLAG_COLUMNS: tuple[str, ...] = ("ticker", "period_end", "column", "flag", "note")


def flow_inputs(capex_basis: CapexBasis) -> list[str]:
    """The flow inputs of a funding row on ``capex_basis`` (lease principal only counts on the
    economic one), in ``config.FUNDING_FLOW_INPUTS`` order."""
    return [c for c in config.FUNDING_FLOW_INPUTS if capex_basis == "economic" or c != "finance_lease_principal"]


def input_cells(windows: pd.DataFrame, calendar: pd.DataFrame, capex_basis: CapexBasis) -> pd.DataFrame:
    """One row per (window, quarter, column) cell behind each complete window: the flow inputs of
    its quarters, its closing cash balance and the opening one. Columns ``window``, ``ticker``,
    ``period_end`` (the cell's quarter) and ``column``."""
    complete = windows[windows["absent_quarters"].map(len) == 0]
    flows = complete["members"].explode().dropna()
    cells = [
        pd.DataFrame({"window": flows.index, "quarter": flows.to_numpy()}).merge(
            pd.DataFrame({"column": flow_inputs(capex_basis)}), how="cross"
        ),
        pd.DataFrame({"window": complete.index, "quarter": complete["members"].map(lambda m: m[-1]), "column": "cash_and_securities"}),
        pd.DataFrame({"window": complete.index, "quarter": complete["opening"], "column": "cash_and_securities"}).dropna(),
    ]
    long = pd.concat(cells, ignore_index=True)
    long["quarter"] = long["quarter"].astype(int)
    long = long.join(calendar[["ticker", "period_end"]], on="quarter")
    return long[["window", "ticker", "period_end", "column"]]


def quality_flags_by_window(cells: pd.DataFrame, flags: pd.DataFrame | None, n_windows: int) -> list[tuple[str, ...]]:
    """Per window (position 0..n_windows-1), the distinct ``column:flag`` pairs of its ``cells``
    (:func:`input_cells`) that ``flags`` carries, in column order then flag; ``()`` for none."""
    empty: list[tuple[str, ...]] = [() for _ in range(n_windows)]
    if flags is None or flags.empty or cells.empty:
        return empty
    require_columns(flags, FLAG_COLUMNS, "quality flags")
    keyed = flags.assign(period_end=pd.to_datetime(flags["period_end"]))
    matched = cells.merge(keyed[["ticker", "period_end", "column", "flag"]], on=["ticker", "period_end", "column"])
    order = {column: position for position, column in enumerate([*config.FUNDING_FLOW_INPUTS, "cash_and_securities"])}
    matched = matched.assign(_order=matched["column"].map(order)).sort_values(["window", "_order", "flag"])
    pairs = (matched["column"] + ":" + matched["flag"]).groupby(matched["window"]).agg(lambda s: tuple(dict.fromkeys(s)))
    for window, value in pairs.items():
        empty[window] = value
    return empty


def funding_flag_notes(
    fundamentals: pd.DataFrame,
    flags: pd.DataFrame,
    *,
    period: Period = DEFAULT_FUNDING_PERIOD,
    capex_basis: CapexBasis = DEFAULT_CAPEX_BASIS,
) -> pd.DataFrame:
    """The quality flags behind every :func:`funding_table` row, one row per (table row, cell, flag).

    Columns ``ticker``, ``period`` (the table row's label), ``quarter_end`` (the flagged cell's
    quarter), ``column``, ``flag`` and ``note`` (the curators' note). The cells are those whose
    ``column:flag`` pairs make up the table's ``quality_flags``. Empty inputs give an empty frame.
    """
    columns = ["ticker", "period", "quarter_end", "column", "flag", "note"]
    if fundamentals.empty or flags.empty:
        return pd.DataFrame(columns=columns)
    fundamentals = fundamentals.reset_index(drop=True)
    calendar = quarter_calendar(fundamentals)
    windows = period_windows(calendar, period).reset_index(drop=True)
    cells = input_cells(windows, calendar, capex_basis)
    keyed = flags.assign(period_end=pd.to_datetime(flags["period_end"]))
    matched = cells.merge(keyed[list(FLAG_COLUMNS)], on=["ticker", "period_end", "column"])
    matched["period"] = windows["period"].reindex(matched["window"]).to_numpy()
    matched = matched.drop_duplicates(["window", "period_end", "column", "flag"])
    return (
        matched.rename(columns={"period_end": "quarter_end"})
        .sort_values(["ticker", "window", "quarter_end", "column"])[columns]
        .reset_index(drop=True)
    )
