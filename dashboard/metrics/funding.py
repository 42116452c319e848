"""Funding-gap metrics: how much outside money each company needed, and what covered it.

Pure pandas/numpy (no files, network or clock); nothing here changes its inputs. All amounts are
USD millions, outflows positive as in ``fundamentals.csv``. A missing input gives NaN in every
exact result that depends on it, and the ``missing`` column of :func:`funding_table` names it:
never a zero, never a partial sum. Where only one-signed outflows are missing, the gap is still
bounded, and the bound is a column of its own.

Definitions (formulas):

- reported capex = purchases of property and equipment (``capex``)
- economic capex = capex + finance_lease_principal (NaN when the lease principal is missing).
  Meta's headline "capex including finance leases" is built this way.
- internal funding = operating_cash_flow - buybacks - dividends
- funding gap = capex - internal funding (positive: outside money was needed; negative: a surplus)
- funding_gap_lower_bound = the same with a missing buyback, dividend or (economic basis) lease
  principal counted as 0: exact when all are known, the least the gap can be otherwise;
  internal_funding_upper_bound likewise. NaN when capex or operating cash flow is missing.
- free cash flow = operating_cash_flow - capex (on the chosen basis)
- covered by: divestment_proceeds (= asset_sale_proceeds), net_debt_issued = debt_issued -
  debt_repaid, equity_issued, cash_drawdown = opening cash_and_securities - closing
  cash_and_securities; residual = gap - (the sum of those lines that are reported): other and
  unexplained flows, including the lines not reported (named in ``not_reported``).
- ratios: capex_intensity = capex / revenue; capex_to_ocf = capex / operating_cash_flow;
  self_funded_share = min(internal funding / capex, 1); divestment_coverage = divestment / gap;
  debt_coverage = net debt issued / gap. A ratio is NaN when its denominator is missing or not
  positive (a negative OCF or a gap <= 0 has no meaningful share).
- quality_flags: the ``column:flag`` pairs (``fundamentals_flags.csv``) of the cells behind a
  row, so a TTM row carries the flags of its four quarters.
- memo lines (beside the bridge, never in its arithmetic): see ``metrics.memo_lines``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

import numpy as np
import pandas as pd

from dashboard.config import (
    DEFAULT_CAPEX_BASIS,
    DEFAULT_FUNDING_PERIOD,
    USD_MILLIONS_PER_BILLION,
    CapexBasis,
    Period,
)
from dashboard.errors import require_columns
from dashboard.metrics.memo_lines import (
    MEMO_LINES,
    funding_memo_lines,
    memo_by_quarter,
    memo_coverage_start,
    memo_unknown_reasons,
)
from dashboard.metrics.periods import period_windows, quarter_calendar

CAPEX_BASES: tuple[str, ...] = get_args(CapexBasis)

OUTPUT_COLUMNS: tuple[str, ...] = (
    "ticker", "period", "period_end", "capex_basis",
    "revenue", "operating_cash_flow", "capex", "finance_lease_principal", "buybacks", "dividends",
    "internal_funding", "internal_funding_upper_bound", "funding_gap", "funding_gap_lower_bound", "free_cash_flow",
    "divestment_proceeds", "net_debt_issued", "equity_issued", "cash_drawdown", "residual",
    "jv_spv_financing_memo", "third_party_financing_memo", "announced_funding_memo",
    "capex_intensity", "capex_to_ocf", "self_funded_share", "divestment_coverage", "debt_coverage",
    "missing", "source",
)  # fmt: skip
# After the columns: the bases that differ between companies, the calendarization note,
# the events behind the memo lines, and the structured notes (tuples inside the package, joined
# with ';' only where a table leaves it).
EXTRA_COLUMNS: tuple[str, ...] = (
    "buybacks_basis", "total_debt_basis", "period_note", "memo_events",
    "period_start", "bound_missing", "not_reported", "quality_flags", "memo_missing",
    "buybacks_reported", "dividends_reported", "finance_lease_principal_reported",
)  # fmt: skip
# The columns a reader looks at first, in that order (tables on screen put them first).
KEY_COLUMNS: tuple[str, ...] = (
    "ticker", "period", "funding_gap", "funding_gap_lower_bound", "self_funded_share", "quality_flags",
)

# Inputs summed over a period's quarters, in the order ``missing`` names them.
FLOW_INPUTS: tuple[str, ...] = (
    "revenue", "operating_cash_flow", "capex", "finance_lease_principal", "buybacks", "dividends",
    "asset_sale_proceeds", "debt_issued", "debt_repaid", "equity_issued",
)  # fmt: skip
# One-signed outflows: a missing one, counted as 0, bounds the gap from below.
BOUNDING_OUTFLOWS: tuple[str, ...] = ("buybacks", "dividends", "finance_lease_principal")
FUNDAMENTAL_INPUTS: tuple[str, ...] = (
    "ticker", "fiscal_year", "fiscal_quarter", "period_end", *FLOW_INPUTS, "cash_and_securities", "source",
)
FLAG_COLUMNS: tuple[str, ...] = ("ticker", "period_end", "column", "flag", "note")

Number = float | pd.Series


def _inputs(capex_basis: CapexBasis) -> list[str]:
    """The flow inputs of a row on ``capex_basis`` (lease principal only counts on the economic one)."""
    return [c for c in FLOW_INPUTS if capex_basis == "economic" or c != "finance_lease_principal"]


def _missing_as_zero(value: Number) -> Number:
    """A one-signed outflow with a missing figure counted as 0 (for bounds only)."""
    return value.fillna(0.0) if isinstance(value, pd.Series) else (0.0 if pd.isna(value) else value)


def _positive_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    numerator, denominator = pd.Series(numerator, dtype=float), pd.Series(denominator, dtype=float)
    return (numerator / denominator).where(denominator > 0)


# --- the definitions, one function each (Hamilton style: named after what they return) ---------


def economic_capex(capex: Number, finance_lease_principal: Number) -> Number:
    """Economic capex (USD millions) = capex + finance_lease_principal.

    Purchases of property and equipment plus principal repaid on finance leases (assets acquired
    through leases). NaN where either is missing: a missing lease principal is not taken as zero.
    """
    return capex + finance_lease_principal


def capex_on_basis(
    capex: Number, finance_lease_principal: Number, *, capex_basis: CapexBasis = DEFAULT_CAPEX_BASIS
) -> Number:
    """Capex on the chosen basis (USD millions): ``reported`` = capex (purchases of P&E);
    ``economic`` = :func:`economic_capex`."""
    if capex_basis not in CAPEX_BASES:
        raise ValueError(f"capex_basis must be one of {', '.join(CAPEX_BASES)}, not {capex_basis!r}")
    return capex if capex_basis == "reported" else economic_capex(capex, finance_lease_principal)


def internal_funding(operating_cash_flow: Number, buybacks: Number, dividends: Number) -> Number:
    """Internal funding (USD millions) = operating_cash_flow - buybacks - dividends.

    What operations threw off after returning cash to shareholders. NaN if any input is missing.
    """
    return operating_cash_flow - buybacks - dividends


def funding_gap(capex: Number, internal_funding: Number) -> Number:
    """Funding gap (USD millions) = capex - internal_funding. Positive: outside money was needed;
    negative: a surplus. NaN if either is missing."""
    return capex - internal_funding


def free_cash_flow(operating_cash_flow: Number, capex: Number) -> Number:
    """Free cash flow (USD millions) = operating_cash_flow - capex (capex on the chosen basis).
    NaN if either is missing."""
    return operating_cash_flow - capex


def net_debt_issued(debt_issued: Number, debt_repaid: Number) -> Number:
    """Net debt issued (USD millions) = debt_issued - debt_repaid (negative: net repayment)."""
    return debt_issued - debt_repaid


def cash_drawdown(opening_cash_and_securities: Number, closing_cash_and_securities: Number) -> Number:
    """Cash drawdown (USD millions) = opening - closing cash and securities.

    The opening balance is the closing balance of the quarter before the period. Positive: the
    period spent down its cash pile. NaN if either balance is missing.
    """
    return opening_cash_and_securities - closing_cash_and_securities


def coverage_by_source(
    funding_gap: pd.Series,
    divestment_proceeds: pd.Series,
    net_debt_issued: pd.Series,
    equity_issued: pd.Series,
    cash_drawdown: pd.Series,
) -> pd.DataFrame:
    """What covered the gap, USD millions, one row per input row (the inputs' index).

    Columns ``divestment_proceeds, net_debt_issued, equity_issued, cash_drawdown`` (as given; NaN
    where the line is not reported), ``residual`` = funding_gap - the sum of the lines that are
    reported (other and unexplained flows, including what is not reported: acquisitions, trading
    in securities, leases...), and ``not_reported``, a tuple naming the lines left out of that
    sum. The residual is NaN only where the gap is; a missing line never blocks it, and is named.
    """
    frame = pd.DataFrame(
        {
            "divestment_proceeds": divestment_proceeds,
            "net_debt_issued": net_debt_issued,
            "equity_issued": equity_issued,
            "cash_drawdown": cash_drawdown,
        }
    ).astype(float)
    lines = list(frame.columns)
    frame["residual"] = pd.Series(funding_gap, dtype=float) - frame[lines].sum(axis=1, min_count=0)
    absent = frame[lines].isna().to_numpy()
    frame["not_reported"] = [tuple(name for name, gone in zip(lines, row) if gone) for row in absent]
    return frame


def funding_gap_lower_bound(
    capex: Number,
    finance_lease_principal: Number,
    operating_cash_flow: Number,
    buybacks: Number,
    dividends: Number,
    *,
    capex_basis: CapexBasis = DEFAULT_CAPEX_BASIS,
) -> Number:
    """The least the funding gap can be (USD millions) when outflows are missing.

    Buybacks, dividends and finance-lease principal are non-negative outflows, so counting a
    missing one as 0 can only shrink the gap: lower bound = capex on the basis (economic: capex +
    lease principal, a missing principal as 0) - (operating_cash_flow - buybacks - dividends, a
    missing one as 0). It equals :func:`funding_gap` when every input is known. NaN when capex
    or operating cash flow is missing (those are not one-signed, so nothing bounds them).
    """
    capex_low = capex if capex_basis == "reported" else capex + _missing_as_zero(finance_lease_principal)
    return funding_gap(capex_low, internal_funding_upper_bound(operating_cash_flow, buybacks, dividends))


def internal_funding_upper_bound(operating_cash_flow: Number, buybacks: Number, dividends: Number) -> Number:
    """The most internal funding can be (USD millions): operating_cash_flow - buybacks - dividends
    with a missing buyback or dividend figure counted as 0. Equals :func:`internal_funding` when
    both are known; NaN when operating cash flow is missing."""
    return operating_cash_flow - _missing_as_zero(buybacks) - _missing_as_zero(dividends)


def capex_intensity(capex: pd.Series, revenue: pd.Series) -> pd.Series:
    """Capex intensity (decimal) = capex / revenue; NaN when revenue is missing or <= 0."""
    return _positive_ratio(capex, revenue)


def capex_to_ocf(capex: pd.Series, operating_cash_flow: pd.Series) -> pd.Series:
    """Capex / operating cash flow (decimal); NaN when OCF is missing or <= 0 (Amazon's Q1 2022
    OCF was negative: the ratio would flip sign and mean nothing)."""
    return _positive_ratio(capex, operating_cash_flow)


def self_funded_share(internal_funding: pd.Series, capex: pd.Series) -> pd.Series:
    """Self-funded share (decimal) = min(internal_funding / capex, 1); NaN when capex is missing
    or <= 0. Negative when buybacks and dividends exceeded operating cash flow."""
    return _positive_ratio(internal_funding, capex).clip(upper=1.0)


def divestment_coverage(divestment_proceeds: pd.Series, funding_gap: pd.Series) -> pd.Series:
    """Divestment coverage (decimal) = divestment_proceeds / funding_gap; NaN when the gap is
    missing or <= 0 (nothing to cover)."""
    return _positive_ratio(divestment_proceeds, funding_gap)


def debt_coverage(net_debt_issued: pd.Series, funding_gap: pd.Series) -> pd.Series:
    """Debt coverage (decimal) = net_debt_issued / funding_gap; NaN when the gap is missing or
    <= 0. Negative when debt was repaid on net."""
    return _positive_ratio(net_debt_issued, funding_gap)


# --- quality flags behind each row ---------------------------------------------------------------


def _input_cells(windows: pd.DataFrame, calendar: pd.DataFrame, capex_basis: CapexBasis) -> pd.DataFrame:
    """One row per (window, quarter, column) cell behind each complete window: the flow inputs of
    its quarters, its closing cash balance and the opening one. Columns ``window``, ``ticker``,
    ``period_end`` (the cell's quarter) and ``column``."""
    complete = windows[windows["absent_quarters"].map(len) == 0]
    flows = complete["members"].explode().dropna()
    cells = [
        pd.DataFrame({"window": flows.index, "quarter": flows.to_numpy()}).merge(
            pd.DataFrame({"column": _inputs(capex_basis)}), how="cross"
        ),
        pd.DataFrame({"window": complete.index, "quarter": complete["members"].map(lambda m: m[-1]), "column": "cash_and_securities"}),
        pd.DataFrame({"window": complete.index, "quarter": complete["opening"], "column": "cash_and_securities"}).dropna(),
    ]
    long = pd.concat(cells, ignore_index=True)
    long["quarter"] = long["quarter"].astype(int)
    long = long.join(calendar[["ticker", "period_end"]], on="quarter")
    return long[["window", "ticker", "period_end", "column"]]


def _quality_flags(cells: pd.DataFrame, flags: pd.DataFrame | None, n_windows: int) -> list[tuple[str, ...]]:
    """Per window, the distinct ``column:flag`` pairs of its cells, in column order then flag."""
    empty: list[tuple[str, ...]] = [() for _ in range(n_windows)]
    if flags is None or flags.empty or cells.empty:
        return empty
    require_columns(flags, FLAG_COLUMNS, "quality flags")
    keyed = flags.assign(period_end=pd.to_datetime(flags["period_end"]))
    matched = cells.merge(keyed[["ticker", "period_end", "column", "flag"]], on=["ticker", "period_end", "column"])
    order = {column: position for position, column in enumerate([*FLOW_INPUTS, "cash_and_securities"])}
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
    cells = _input_cells(windows, calendar, capex_basis)
    keyed = flags.assign(period_end=pd.to_datetime(flags["period_end"]))
    matched = cells.merge(keyed[list(FLAG_COLUMNS)], on=["ticker", "period_end", "column"])
    matched["period"] = windows["period"].reindex(matched["window"]).to_numpy()
    matched = matched.drop_duplicates(["window", "period_end", "column", "flag"])
    return matched.rename(columns={"period_end": "quarter_end"}).sort_values(["ticker", "window", "quarter_end", "column"])[columns].reset_index(drop=True)


# --- the table ---------------------------------------------------------------------------------


def basis_columns(tickers: pd.Series, companies: pd.DataFrame | None) -> pd.DataFrame:
    """Each ticker's ``buybacks_basis`` and ``total_debt_basis`` from ``companies`` ('' if unknown)."""
    if companies is None or companies.empty:
        return pd.DataFrame({"buybacks_basis": "", "total_debt_basis": ""}, index=tickers.index)
    info = companies.set_index("ticker")
    return pd.DataFrame(
        {
            column: tickers.map(info[column]).fillna("") if column in info.columns else ""
            for column in ("buybacks_basis", "total_debt_basis")
        },
        index=tickers.index,
    )


def funding_table(
    fundamentals: pd.DataFrame,
    events: pd.DataFrame,
    *,
    companies: pd.DataFrame | None,
    flags: pd.DataFrame | None = None,
    period: Period = DEFAULT_FUNDING_PERIOD,
    capex_basis: CapexBasis = DEFAULT_CAPEX_BASIS,
) -> pd.DataFrame:
    """The funding gap and what covered it, one row per ticker x period (USD millions).

    Inputs: ``fundamentals`` (quarterly, as from ``load_fundamentals``), ``events`` (the curated
    events, as from ``load_events``; may be empty), ``companies`` (for the bases that differ
    between companies; ``None`` leaves those columns empty), ``flags`` (cell-level quality flags,
    as from ``load_fundamentals_flags``; ``None``: no ``quality_flags``). Settings: ``period`` one
    of ``quarter`` (``FY2025 Q3``), ``ttm`` (``TTM to FY2025 Q3``), ``fiscal_year`` (``FY2025``),
    ``calendar_quarter`` (``CY2025 Q3``), ``calendar_year`` (``CY2025``); ``capex_basis``
    ``reported`` or ``economic`` (then the ``capex`` column holds economic capex).

    Columns: :data:`OUTPUT_COLUMNS` then :data:`EXTRA_COLUMNS`; formulas in the module docstring.
    Aggregates are sums of the quarters' figures; the cash drawdown uses the balance at the
    close of the quarter before the period and at the close of its last quarter.

    Missing data: a period that lacks any of its quarters (a TTM or year with fewer than four,
    or a quarter without the one before for the drawdown) is NaN throughout, with the absent
    quarters named in ``missing`` (``("quarter FY2021 Q4",)``). Within a complete period, an
    input missing in any quarter is named in ``missing`` (a tuple: ``("buybacks", "dividends")``;
    ``cash_and_securities_start`` for the opening balance) and every exact result that depends on
    it is NaN. ``funding_gap_lower_bound`` and ``internal_funding_upper_bound`` stay filled when
    only buybacks, dividends or (economic basis) lease principal are missing; ``bound_missing``
    names the outflows counted as 0 there, and ``<outflow>_reported`` holds the sum of the quarters
    that do report each of them (what the bound subtracts). A financing line that is not reported
    is named in ``not_reported`` and left in the residual. ``finance_lease_principal`` counts as an input only
    on the economic basis. Memo lines (see ``metrics.memo_lines``): 0.0 when the curated events
    cover the whole period and no funding event lands in it; NaN, with the reasons in
    ``memo_missing``, otherwise. ``source`` names the fundamentals rows used (their source text for
    single quarters, the list of quarters for aggregates). Empty fundamentals give an empty frame
    with the output columns. The inputs are not changed.
    """
    if capex_basis not in CAPEX_BASES:
        raise ValueError(f"capex_basis must be one of {', '.join(CAPEX_BASES)}, not {capex_basis!r}")
    require_columns(fundamentals, FUNDAMENTAL_INPUTS, "fundamentals")
    all_columns = [*OUTPUT_COLUMNS, *EXTRA_COLUMNS]
    if fundamentals.empty:
        return pd.DataFrame(columns=all_columns)
    fundamentals = fundamentals.reset_index(drop=True)  # a new frame: quarters are named by position

    calendar = quarter_calendar(fundamentals)
    memo = memo_by_quarter(
        funding_memo_lines(events, fundamentals, companies=companies),
        memo_unknown_reasons(calendar, memo_coverage_start(events)),
    )
    quarter_values = fundamentals[[*FLOW_INPUTS, "cash_and_securities"]].astype(float).join(memo[list(MEMO_LINES)])
    windows = period_windows(calendar, period).reset_index(drop=True)
    sums, any_missing, complete = _window_sums(quarter_values, windows)
    last_member = windows["members"].map(lambda m: m[-1] if m else None)
    closing_cash = last_member.map(lambda m: quarter_values.at[m, "cash_and_securities"] if m is not None else np.nan)
    opening_cash = windows["opening"].map(lambda m: quarter_values.at[m, "cash_and_securities"] if pd.notna(m) else np.nan)

    capex = capex_on_basis(sums["capex"], sums["finance_lease_principal"], capex_basis=capex_basis)
    internal = internal_funding(sums["operating_cash_flow"], sums["buybacks"], sums["dividends"])
    gap = funding_gap(capex, internal)
    lower = funding_gap_lower_bound(
        sums["bound_capex"], sums["bound_finance_lease_principal"], sums["operating_cash_flow"],
        sums["bound_buybacks"], sums["bound_dividends"], capex_basis=capex_basis,
    )  # fmt: skip
    drawdown = cash_drawdown(opening_cash.astype(float), closing_cash.astype(float)).where(complete)
    coverage = coverage_by_source(
        gap, sums["asset_sale_proceeds"], net_debt_issued(sums["debt_issued"], sums["debt_repaid"]), sums["equity_issued"], drawdown
    )
    result = pd.DataFrame(
        {
            "ticker": windows["ticker"],
            "period": windows["period"],
            "period_end": windows["period_end"],
            "capex_basis": capex_basis,
            **{column: sums[column] for column in ("revenue", "operating_cash_flow")},
            "capex": capex,
            **{column: sums[column] for column in ("finance_lease_principal", "buybacks", "dividends")},
            "internal_funding": internal,
            "internal_funding_upper_bound": internal_funding_upper_bound(
                sums["operating_cash_flow"], sums["bound_buybacks"], sums["bound_dividends"]
            ),
            "funding_gap": gap,
            "funding_gap_lower_bound": lower,
            "free_cash_flow": free_cash_flow(sums["operating_cash_flow"], capex),
            **{column: coverage[column] for column in ("divestment_proceeds", "net_debt_issued", "equity_issued", "cash_drawdown", "residual")},
            **{line: sums[line] for line in MEMO_LINES},
            "capex_intensity": capex_intensity(capex, sums["revenue"]),
            "capex_to_ocf": capex_to_ocf(capex, sums["operating_cash_flow"]),
            "self_funded_share": self_funded_share(internal, capex),
            "divestment_coverage": divestment_coverage(coverage["divestment_proceeds"], gap),
            "debt_coverage": debt_coverage(coverage["net_debt_issued"], gap),
        }
    )
    result["missing"] = _missing_inputs(windows, any_missing, closing_cash, opening_cash, capex_basis)
    result["source"] = _source_text(windows, fundamentals, calendar)
    result = result.join(basis_columns(result["ticker"], companies))
    result["period_note"] = windows["period_note"]
    result["memo_events"] = [tuple(e for m in members for e in memo.at[m, "memo_events"]) if ok else () for members, ok in zip(windows["members"], complete)]
    result["period_start"] = windows["members"].map(lambda m: calendar.at[m[0], "period_start"] if m else pd.NaT)
    counted_as_zero = [c for c in BOUNDING_OUTFLOWS if capex_basis == "economic" or c != "finance_lease_principal"]
    result["bound_missing"] = [
        tuple(c for c in counted_as_zero if any_missing.at[w, c]) if pd.notna(lower.iat[w]) and pd.isna(gap.iat[w]) else ()
        for w in range(len(windows))
    ]
    result["not_reported"] = [names if pd.notna(value) else () for names, value in zip(coverage["not_reported"], coverage["residual"])]
    for column in BOUNDING_OUTFLOWS:  # what the bound counts: the quarters that report it
        result[f"{column}_reported"] = sums[f"bound_{column}"]
    result["quality_flags"] = _quality_flags(_input_cells(windows, calendar, capex_basis), flags, len(windows))
    result["memo_missing"] = [
        tuple(dict.fromkeys(r for m in members for r in memo.at[m, "memo_missing"])) if ok else ()
        for members, ok in zip(windows["members"], complete)
    ]
    order = np.lexsort((windows["sort_key"].to_numpy(), windows["ticker"].to_numpy()))
    return result.iloc[order][all_columns].reset_index(drop=True)


def _window_sums(quarter_values: pd.DataFrame, windows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Per window: exact sums (NaN when any quarter lacks the figure), the bound inputs
    (``bound_<column>``: capex complete or NaN, outflows with missing quarters as 0), which
    inputs are missing in some quarter, and whether every quarter is present."""
    members = windows["members"].explode().dropna()
    member_values = quarter_values.loc[members.to_numpy()].set_axis(members.index)
    flow_columns = [*FLOW_INPUTS, *MEMO_LINES]
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


def _missing_inputs(
    windows: pd.DataFrame,
    any_missing: pd.DataFrame,
    closing_cash: pd.Series,
    opening_cash: pd.Series,
    capex_basis: CapexBasis,
) -> list[tuple[str, ...]]:
    """Per window, the inputs of the bridge's arithmetic that are missing (or its absent quarters)."""
    inputs = _inputs(capex_basis)
    names_by_window = []
    for position, absent in enumerate(windows["absent_quarters"]):
        if absent:
            names_by_window.append(tuple(f"quarter {label}" for label in absent))
            continue
        names = [c for c in inputs if any_missing.at[position, c]]
        if pd.isna(closing_cash.iat[position]):
            names.append("cash_and_securities")
        if pd.isna(windows.at[position, "opening"]):
            names.append(f"cash_and_securities_start ({windows.at[position, 'opening_label']} absent)")
        elif pd.isna(opening_cash.iat[position]):
            names.append("cash_and_securities_start")
        names_by_window.append(tuple(names))
    return names_by_window


def _source_text(windows: pd.DataFrame, fundamentals: pd.DataFrame, calendar: pd.DataFrame) -> list[str]:
    texts = []
    for members, opening in zip(windows["members"], windows["opening"]):
        if not members:
            texts.append("")
            continue
        ticker = calendar.at[members[0], "ticker"]
        labels = ", ".join(calendar.at[m, "fiscal_label"] for m in members)
        opening_text = (
            f"; opening cash_and_securities: {calendar.at[opening, 'fiscal_label']} close" if pd.notna(opening) else ""
        )
        if len(members) == 1:
            body = f"fundamentals.csv {ticker} {labels}: {fundamentals.at[members[0], 'source']}"
        else:
            body = f"fundamentals.csv {ticker}: sum of {labels} (each quarter's source in the quarterly rows)"
        texts.append(body + opening_text + "; memo lines: events.csv funding_usd_bn")
    return texts


# --- waterfall --------------------------------------------------------------------------------

BridgeState = str  # "reported", "not_reported", "bound", "surplus"
BRIDGE_COLUMNS: tuple[str, ...] = ("step", "measure", "amount", "value", "state", "provisional", "inputs")
# The financing lines of the bridge: label and the fundamentals columns behind each.
_SOURCE_STEPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("divestment proceeds", "divestment_proceeds", ("asset_sale_proceeds",)),
    ("net debt issued", "net_debt_issued", ("debt_issued", "debt_repaid")),
    ("equity issued", "equity_issued", ("equity_issued",)),
    ("cash drawdown", "cash_drawdown", ("cash_and_securities",)),
)


def funding_bridge(row: pd.Series | Mapping[str, object]) -> pd.DataFrame:
    """The steps of one :func:`funding_table` row as a waterfall, USD millions.

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
    def get(key: str) -> float:
        value = row[key] if key in row else np.nan
        return float(value) if pd.notna(value) else np.nan

    flags = set(row["quality_flags"]) if "quality_flags" in row and isinstance(row["quality_flags"], tuple) else set()
    basis = row["capex_basis"] if "capex_basis" in row else "reported"
    capex_inputs = ("capex", "finance_lease_principal") if basis == "economic" else ("capex",)
    exact = pd.notna(get("funding_gap"))
    gap = get("funding_gap") if exact else get("funding_gap_lower_bound")
    internal = get("internal_funding") if exact else get("internal_funding_upper_bound")
    bounded = not exact and pd.notna(gap)
    steps: list[dict] = []

    def add(step: str, measure: str, amount: float, value: float, inputs: tuple[str, ...], state: str = "reported") -> None:
        provisional = any(f"{column}:provisional" in flags for column in inputs)
        steps.append({"step": step, "measure": measure, "amount": amount, "value": value, "state": state,
                      "provisional": provisional, "inputs": inputs})

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
    add("internal funding (at most)" if bounded else "internal funding", "total", internal, internal,
        ("operating_cash_flow", "buybacks", "dividends"), "bound" if bounded else "reported")
    capex = get("capex")
    if pd.isna(capex) and bounded:  # economic basis, lease principal missing in some quarter: counted as 0
        capex = gap + internal
        add("capex (lease principal not reported counted as 0)", "relative", capex, -capex, capex_inputs, "bound")
    else:
        add("capex", "relative", capex, -capex, capex_inputs)
    surplus = pd.notna(gap) and gap < 0
    gap_label = "surplus (at most)" if surplus and bounded else "surplus" if surplus else "funding gap (at least)" if bounded else "funding gap"
    gap_state = "bound" if bounded else "surplus" if surplus else "reported"
    add(gap_label, "total", abs(gap) if surplus else gap, -gap, ("operating_cash_flow", "buybacks", "dividends", *capex_inputs), gap_state)
    running = -gap
    for label, column, inputs in _SOURCE_STEPS:
        amount = get(column)
        if pd.isna(amount) and pd.notna(gap):
            add(f"{label} (not reported)", "relative", np.nan, 0.0, inputs, "not_reported")
            continue
        add(label, "relative", amount, amount, inputs)
        running = running + amount
    residual = -running
    add("other and unexplained, incl. not reported" + (" (at least)" if bounded else ""), "relative", residual, residual, (),
        "bound" if bounded else "reported")
    add("end (sources = uses)", "total", running + residual, running + residual, ())
    frame = pd.DataFrame(steps, columns=list(BRIDGE_COLUMNS))
    frame[["amount", "value"]] = frame[["amount", "value"]].astype(float).round(6) + 0.0  # no -0.0
    return frame


# --- deal size ---------------------------------------------------------------------------------


def relative_deal_size(events: pd.DataFrame, ttm_table: pd.DataFrame) -> pd.DataFrame:
    """Deal size relative to the company's trailing capex, one row per event.

    ``events``: rows with ``ticker``, ``event_date`` and ``amount_usd_bn`` (USD billions);
    ``ttm_table``: ``funding_table(period="ttm")`` (USD millions). Adds ``ttm_period``,
    ``ttm_end``, ``trailing_capex`` (the latest complete TTM capex ending strictly before the
    event date: no look-ahead) and ``relative_size = amount_usd_bn * 1000 / trailing_capex``.
    No market capitalisations are in the data, so capex is the yardstick. NaN, with the reason
    in ``size_note``, when the event has no amount or its company no earlier TTM capex (SoftBank
    has no fundamentals). Rows come back sorted by event date; the inputs are not changed.
    """
    ttm = ttm_table[ttm_table["capex"].notna()][["ticker", "period", "period_end", "capex"]].sort_values("period_end")
    left = events.sort_values("event_date").reset_index(drop=True)
    merged = pd.merge_asof(
        left,
        ttm.rename(columns={"period_end": "ttm_end", "capex": "trailing_capex", "period": "ttm_period"}),
        left_on="event_date",
        right_on="ttm_end",
        by="ticker",
        direction="backward",
        allow_exact_matches=False,
    )
    merged["relative_size"] = merged["amount_usd_bn"] * USD_MILLIONS_PER_BILLION / merged["trailing_capex"]
    merged["size_note"] = ""
    merged.loc[merged["amount_usd_bn"].isna(), "size_note"] = "no amount"
    no_capex = merged["amount_usd_bn"].notna() & merged["trailing_capex"].isna()
    merged.loc[no_capex, "size_note"] = "no trailing capex before the event"
    return merged

