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

from typing import TypeAlias, cast, get_args

import numpy as np
import pandas as pd

from dashboard.config import (
    DEFAULT_CAPEX_BASIS,
    DEFAULT_FUNDING_PERIOD,
    FUNDING_FLOW_INPUTS,
    USD_MILLIONS_PER_BILLION,
    CapexBasis,
    Period,
)
from dashboard.errors import require_columns
from dashboard.metrics.funding_windows import BOUNDING_OUTFLOWS, bound_missing, memo_notes, missing_inputs, source_text, window_sums
from dashboard.metrics.memo_lines import (
    MEMO_LINES,
    funding_memo_lines,
    memo_by_quarter,
    memo_coverage_start,
    memo_unknown_reasons,
)
from dashboard.metrics.periods import period_windows, quarter_calendar
from dashboard.metrics.quality_flags import input_cells, quality_flags_by_window

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
    "ticker",
    "period",
    "funding_gap",
    "funding_gap_lower_bound",
    "self_funded_share",
    "quality_flags",
)

# Inputs summed over a period's quarters, in the order ``missing`` names them.
FLOW_INPUTS: tuple[str, ...] = FUNDING_FLOW_INPUTS
FUNDAMENTAL_INPUTS: tuple[str, ...] = (
    "ticker",
    "fiscal_year",
    "fiscal_quarter",
    "period_end",
    *FLOW_INPUTS,
    "cash_and_securities",
    "source",
)

Number: TypeAlias = float | pd.Series


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


def capex_on_basis(capex: Number, finance_lease_principal: Number, *, capex_basis: CapexBasis = DEFAULT_CAPEX_BASIS) -> Number:
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
    Aggregates sum the quarters; the cash drawdown uses the closing balances before and at the end.

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
        funding_memo_lines(events, fundamentals, companies=companies, calendar=calendar),
        memo_unknown_reasons(calendar, memo_coverage_start(events)),
    )
    quarter_values = fundamentals[[*FLOW_INPUTS, "cash_and_securities"]].astype(float).join(memo[list(MEMO_LINES)])
    windows = period_windows(calendar, period).reset_index(drop=True)
    sums, any_missing, complete = window_sums(quarter_values, windows)
    last_member = windows["members"].map(lambda m: m[-1] if m else None)
    cash = quarter_values["cash_and_securities"].to_dict()
    closing_cash = last_member.map(lambda m: cash[m] if m is not None else np.nan)
    opening_cash = windows["opening"].map(lambda m: cash[m] if pd.notna(m) else np.nan)

    # Series in, Series out: the Number alias cannot say so.
    drawdown = cast(pd.Series, cash_drawdown(opening_cash.astype(float), closing_cash.astype(float))).where(complete)
    result = _figures(windows, sums, drawdown, capex_basis)
    result["missing"] = missing_inputs(windows, any_missing, closing_cash, opening_cash, capex_basis)
    result["source"] = source_text(windows, fundamentals, calendar)
    result = result.join(basis_columns(result["ticker"], companies))
    result["period_note"] = windows["period_note"]
    result["memo_events"], result["memo_missing"] = memo_notes(windows, complete, memo)
    starts = calendar["period_start"].to_dict()
    result["period_start"] = windows["members"].map(lambda m: starts[m[0]] if m else pd.NaT)
    result["bound_missing"] = bound_missing(result, any_missing, capex_basis)
    for column in BOUNDING_OUTFLOWS:  # what the bound counts: the quarters that report it
        result[f"{column}_reported"] = sums[f"bound_{column}"]
    result["quality_flags"] = quality_flags_by_window(input_cells(windows, calendar, capex_basis), flags, len(windows))
    order = np.lexsort((windows["sort_key"].to_numpy(), windows["ticker"].to_numpy()))
    return result.iloc[order][all_columns].reset_index(drop=True)


def _figures(windows: pd.DataFrame, sums: pd.DataFrame, drawdown: pd.Series, capex_basis: CapexBasis) -> pd.DataFrame:
    """The table's figures per window from its sums (``funding_windows.window_sums``) and cash drawdown: the
    definitions above applied column by column, in :data:`OUTPUT_COLUMNS` order."""
    capex = capex_on_basis(sums["capex"], sums["finance_lease_principal"], capex_basis=capex_basis)
    internal = internal_funding(sums["operating_cash_flow"], sums["buybacks"], sums["dividends"])
    gap = funding_gap(capex, internal)
    lower = funding_gap_lower_bound(
        sums["bound_capex"], sums["bound_finance_lease_principal"], sums["operating_cash_flow"],
        sums["bound_buybacks"], sums["bound_dividends"], capex_basis=capex_basis,
    )  # fmt: skip
    net_debt = net_debt_issued(sums["debt_issued"], sums["debt_repaid"])
    coverage = coverage_by_source(gap, sums["asset_sale_proceeds"], net_debt, sums["equity_issued"], drawdown)
    return pd.DataFrame(
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
            **{
                column: coverage[column]
                for column in ("divestment_proceeds", "net_debt_issued", "equity_issued", "cash_drawdown", "residual")
            },
            **{line: sums[line] for line in MEMO_LINES},
            "capex_intensity": capex_intensity(capex, sums["revenue"]),
            "capex_to_ocf": capex_to_ocf(capex, sums["operating_cash_flow"]),
            "self_funded_share": self_funded_share(internal, capex),
            "divestment_coverage": divestment_coverage(coverage["divestment_proceeds"], gap),
            "debt_coverage": debt_coverage(coverage["net_debt_issued"], gap),
            "not_reported": [names if pd.notna(value) else () for names, value in zip(coverage["not_reported"], coverage["residual"])],
        }
    )


# --- deal size ---------------------------------------------------------------------------------


def relative_deal_size(events: pd.DataFrame, ttm_table: pd.DataFrame) -> pd.DataFrame:
    """Deal size relative to the company's trailing capex, one row per event.

    ``events``: rows with ``ticker``, ``event_date`` and ``amount_usd_bn`` (USD billions);
    ``ttm_table``: ``funding_table(period="ttm")`` (USD millions). Adds ``ttm_period``,
    ``ttm_end``, ``trailing_capex`` (the latest complete TTM capex ending strictly before the
    event date: no look-ahead) and ``relative_size = amount_usd_bn * USD_MILLIONS_PER_BILLION / trailing_capex``.
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
