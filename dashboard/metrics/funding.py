"""Funding-gap metrics: how much outside money each company needed, and what covered it.

Pure pandas/numpy (no files, network or clock); nothing here changes its inputs. All amounts are
USD millions, outflows positive as in ``fundamentals.csv``. A missing input gives NaN in every
result that depends on it, and the ``missing`` column of :func:`funding_table` names it: never a
zero, never a partial sum.

Definitions (formulas):

- reported capex = purchases of property and equipment (``capex``)
- economic capex = capex + finance_lease_principal (NaN when the lease principal is missing).
  Meta's headline "capex including finance leases" is built this way.
- internal funding = operating_cash_flow - buybacks - dividends
- funding gap = capex - internal funding (positive: outside money was needed)
- free cash flow = operating_cash_flow - capex (on the chosen basis)
- covered by: divestment_proceeds (= asset_sale_proceeds), net_debt_issued = debt_issued -
  debt_repaid, equity_issued, cash_drawdown = opening cash_and_securities - closing
  cash_and_securities; residual = gap - (divestment + net debt + equity + drawdown): other
  investing and financing flows (acquisitions, trading in securities, leases...), shown, not hidden.
- ratios: capex_intensity = capex / revenue; capex_to_ocf = capex / operating_cash_flow;
  self_funded_share = min(internal funding / capex, 1); divestment_coverage = divestment / gap;
  debt_coverage = net debt issued / gap. A ratio is NaN when its denominator is missing or not
  positive (a negative OCF or a gap <= 0 has no meaningful share).
- memo lines (beside the bridge, never in its arithmetic): from events' ``funding_usd_bn`` x 1000,
  see :func:`funding_memo_lines`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

import numpy as np
import pandas as pd

from dashboard.config import DEFAULT_CAPEX_BASIS, DEFAULT_FUNDING_PERIOD, CapexBasis
from dashboard.errors import DataUnavailable
from dashboard.metrics.periods import (
    QUARTERS_PER_YEAR,
    Period,
    calendar_quarter_label,
    calendar_year_label,
    fiscal_quarter_label,
    fiscal_year_label,
    period_windows,
    quarter_calendar,
)

CAPEX_BASES: tuple[str, ...] = get_args(CapexBasis)
MemoLine = Literal["jv_spv_financing_memo", "third_party_financing_memo", "announced_funding_memo"]
MEMO_LINES: tuple[str, ...] = get_args(MemoLine)

USD_MILLIONS_PER_BILLION = 1000.0

OUTPUT_COLUMNS: tuple[str, ...] = (
    "ticker", "period", "period_end", "capex_basis",
    "revenue", "operating_cash_flow", "capex", "finance_lease_principal", "buybacks", "dividends",
    "internal_funding", "funding_gap", "free_cash_flow",
    "divestment_proceeds", "net_debt_issued", "equity_issued", "cash_drawdown", "residual",
    "jv_spv_financing_memo", "third_party_financing_memo", "announced_funding_memo",
    "capex_intensity", "capex_to_ocf", "self_funded_share", "divestment_coverage", "debt_coverage",
    "missing", "source",
)  # fmt: skip
# Extra columns after the issue's: the bases that differ between companies, the calendarization
# note, and the events behind the memo lines.
EXTRA_COLUMNS: tuple[str, ...] = ("buybacks_basis", "total_debt_basis", "period_note", "memo_events")

# Memo line of each funding kind; jv_spv_unwind has none on purpose (see funding_memo_lines).
MEMO_LINE_OF_KIND: dict[str, str] = {
    "jv_spv": "jv_spv_financing_memo",
    "third_party": "third_party_financing_memo",
    "debt": "announced_funding_memo",
    "equity": "announced_funding_memo",
    "divestment": "announced_funding_memo",
    "asset_sale": "announced_funding_memo",
    "debt_and_equity": "announced_funding_memo",
}

# Inputs summed over a period's quarters, in the order ``missing`` names them.
_FLOW_INPUTS: tuple[str, ...] = (
    "revenue", "operating_cash_flow", "capex", "finance_lease_principal", "buybacks", "dividends",
    "asset_sale_proceeds", "debt_issued", "debt_repaid", "equity_issued",
)  # fmt: skip
_FUNDAMENTAL_INPUTS: tuple[str, ...] = (
    "ticker", "fiscal_year", "fiscal_quarter", "period_end", *_FLOW_INPUTS, "cash_and_securities", "source",
)
_EVENT_INPUTS: tuple[str, ...] = (
    "event_id", "ticker", "event_date", "event_time", "deal_id", "stage", "funding_usd_bn", "funding_kind",
)

Number = float | pd.Series


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...] | list[str], what: str) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise DataUnavailable(f"{what}: missing column(s) {', '.join(absent)}")


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

    Columns ``divestment_proceeds, net_debt_issued, equity_issued, cash_drawdown, residual`` with
    residual = funding_gap - (divestment_proceeds + net_debt_issued + equity_issued +
    cash_drawdown): the other investing and financing flows, so that sources and uses balance.
    The residual is NaN if any of the five inputs is missing (never a partial sum).
    """
    frame = pd.DataFrame(
        {
            "divestment_proceeds": divestment_proceeds,
            "net_debt_issued": net_debt_issued,
            "equity_issued": equity_issued,
            "cash_drawdown": cash_drawdown,
        }
    ).astype(float)
    covered = frame.sum(axis=1, skipna=False)
    frame["residual"] = pd.Series(funding_gap, dtype=float) - covered
    return frame


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


# --- memo lines from dated events -----------------------------------------------------------


def event_day_zero(event_date: pd.Series, event_time: pd.Series) -> pd.Series:
    """The calendar day an event counts from: its date, or the next day for ``after_close``
    events (the market learns of them the next session). No exchange calendar is used: a
    Friday-evening event counts on Saturday, which lies in the same quarter unless the quarter
    ends that day; the dashboard may refine this with exchange calendars."""
    dates = pd.to_datetime(event_date).dt.normalize()
    return dates + pd.to_timedelta(np.where(event_time.astype(str) == "after_close", 1, 0), unit="D")


def funding_memo_lines(events: pd.DataFrame, quarters: pd.DataFrame) -> pd.DataFrame:
    """Each funding event, the memo line it feeds and the company quarter it lands in.

    ``events``: columns ``event_id, ticker, event_date, event_time, deal_id, stage,
    funding_usd_bn, funding_kind`` (as from ``load_events``). ``quarters``: one row per company
    quarter with ``ticker, fiscal_year, fiscal_quarter, period_end`` (fundamentals).

    Returns one row per event with a ``funding_kind`` or a ``funding_usd_bn`` (others are not
    funding news), sorted by day 0, with: ``event_id, ticker, deal_id, stage, funding_kind,
    day0_date, funding_usd_m`` (= funding_usd_bn x 1000, USD millions), ``memo_line``,
    ``quarter`` (the ``quarters`` index label of the quarter whose [period_start, period_end]
    holds day 0, or NA), ``period`` (its ``FY2025 Q3`` label), ``counted`` (bool) and ``reason``.

    Rules:

    - day 0 = event_date, or the next day for after_close events (:func:`event_day_zero`).
    - Only events with ``funding_usd_bn`` count. The curated file carries it on exactly one event
      per deal (the priced or closed stage), so summing never double counts: Hyperion's five
      events add 27,300 once. A second funded event of the same deal (possible in a user's file)
      is not counted.
    - ``withdrawn`` never counts.
    - ``jv_spv`` -> jv_spv_financing_memo; ``third_party`` -> third_party_financing_memo (the
      developers' money, not the company's); debt, equity, divestment, asset_sale and
      debt_and_equity -> announced_funding_memo.
    - ``jv_spv_unwind`` never counts: buying back a partner's stake (Intel's $14.2B Fab 34
      buy-back) is a use of cash that the cash-flow statement shows; the original JV financing
      stays in the quarter it was raised.
    - An event whose day 0 falls outside every quarter of its company is listed with reason
      "outside the company's quarters" and not counted.
    """
    _require_columns(events, _EVENT_INPUTS, "events")
    if not quarters.index.is_unique:
        raise DataUnavailable("quarters: the index must be unique (it names each event's quarter)")
    columns = [
        "event_id", "ticker", "deal_id", "stage", "funding_kind", "day0_date", "funding_usd_m",
        "memo_line", "quarter", "period", "counted", "reason",
    ]  # fmt: skip
    relevant = events[events["funding_kind"].notna() | events["funding_usd_bn"].notna()]
    if relevant.empty:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "event_id": relevant["event_id"].to_numpy(),
            "ticker": relevant["ticker"].to_numpy(),
            "deal_id": relevant["deal_id"].to_numpy(),
            "stage": relevant["stage"].to_numpy(),
            "funding_kind": relevant["funding_kind"].to_numpy(),
            "day0_date": event_day_zero(relevant["event_date"], relevant["event_time"]).to_numpy(),
            "funding_usd_m": pd.to_numeric(relevant["funding_usd_bn"]).to_numpy(dtype=float) * USD_MILLIONS_PER_BILLION,
        }
    )
    frame["memo_line"] = frame["funding_kind"].map(MEMO_LINE_OF_KIND)

    calendar = quarter_calendar(quarters)
    bounds = calendar[["ticker", "period_start", "period_end", "fiscal_label"]].reset_index(names="quarter")
    pairs = frame.reset_index(names="row").merge(bounds, on="ticker", how="inner")
    inside = pairs[(pairs["period_start"] <= pairs["day0_date"]) & (pairs["day0_date"] <= pairs["period_end"])]
    inside = inside.drop_duplicates("row").set_index("row")
    frame["quarter"] = inside["quarter"].reindex(frame.index).astype("Int64")
    frame["period"] = inside["fiscal_label"].reindex(frame.index)

    frame = frame.sort_values(["day0_date", "event_id"], kind="stable").reset_index(drop=True)
    has_amount = frame["funding_usd_m"].notna()
    funded_before = has_amount & frame["deal_id"].notna() & frame["deal_id"].where(has_amount).duplicated(keep="first")
    reasons = np.select(
        [
            frame["stage"].astype(str) == "withdrawn",
            frame["funding_kind"].astype(str) == "jv_spv_unwind",
            frame["funding_kind"].isna(),
            ~has_amount,
            funded_before,
            frame["quarter"].isna(),
        ],
        [
            "withdrawn: never counts",
            "jv_spv_unwind: a use of cash (in the cash-flow statement), never a memo line",
            "no funding_kind",
            "no funding_usd_bn on this event (a deal's amount sits on one event only)",
            "a second funded event of the same deal: not counted again",
            "day 0 outside the company's quarters",
        ],
        default="counted",
    )
    frame["reason"] = reasons
    frame["counted"] = frame["reason"] == "counted"
    return frame[columns]


def _memo_by_quarter(memo: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Memo totals (USD millions) and the events behind them, per quarter of ``index``.
    A quarter with no counted event gets 0.0: the sum over an empty list of curated events."""
    counted = memo[memo["counted"].astype(bool)]
    totals = pd.DataFrame(0.0, index=index, columns=list(MEMO_LINES))
    if not counted.empty:
        summed = counted.pivot_table(
            index="quarter", columns="memo_line", values="funding_usd_m", aggfunc="sum", fill_value=0.0
        )
        summed.index = summed.index.astype(index.dtype)
        totals.update(summed.reindex(columns=list(MEMO_LINES)))
    described = counted.assign(
        text=[
            f"{e} {d} {k} {a:,.0f} ({s}, day 0 {t.date().isoformat()})"
            for e, d, k, a, s, t in zip(
                counted["event_id"], counted["deal_id"], counted["funding_kind"],
                counted["funding_usd_m"], counted["stage"], counted["day0_date"],
            )
        ]  # fmt: skip
    )
    texts = described.groupby("quarter")["text"].agg("; ".join) if not described.empty else pd.Series(dtype=str)
    texts.index = texts.index.astype(index.dtype) if len(texts) else texts.index
    totals["memo_events"] = texts.reindex(index).fillna("")
    return totals


# --- the table ---------------------------------------------------------------------------------


def _basis_columns(tickers: pd.Series, companies: pd.DataFrame | None) -> pd.DataFrame:
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
    period: Period = DEFAULT_FUNDING_PERIOD,
    capex_basis: CapexBasis = DEFAULT_CAPEX_BASIS,
) -> pd.DataFrame:
    """The funding gap and what covered it, one row per ticker x period (USD millions).

    Inputs: ``fundamentals`` (quarterly, as from ``load_fundamentals``), ``events`` (as from
    ``load_events``; may be empty), ``companies`` (for the bases that differ between companies;
    ``None`` leaves those columns empty). Settings: ``period`` one of ``quarter`` (``FY2025 Q3``),
    ``ttm`` (``TTM to FY2025 Q3``), ``fiscal_year`` (``FY2025``), ``calendar_quarter``
    (``CY2025 Q3``), ``calendar_year`` (``CY2025``); ``capex_basis`` ``reported`` or
    ``economic`` (then the ``capex`` column holds economic capex).

    Columns: :data:`OUTPUT_COLUMNS` then :data:`EXTRA_COLUMNS`; formulas in the module docstring.
    Aggregates are sums of the quarters' figures; the cash drawdown uses the balance at the
    close of the quarter before the period and at the close of its last quarter.

    Missing data: a period that lacks any of its quarters (a TTM or year with fewer than four,
    or a quarter without the one before for the drawdown) is NaN throughout, with the absent
    quarters named in ``missing`` (``quarter FY2021 Q4``). Within a complete period, an input
    missing in any quarter is named in ``missing`` (``buybacks;dividends``;
    ``cash_and_securities_start`` for the opening balance) and every result that depends on it
    is NaN. ``finance_lease_principal`` counts as an input only on the economic basis.
    Memo lines are 0.0 when no counted event lands in the period (see
    :func:`funding_memo_lines`). ``source`` names the fundamentals rows used (their source text
    for single quarters, the list of quarters for aggregates). Empty fundamentals give an empty
    frame with the output columns. The inputs are not changed.
    """
    if capex_basis not in CAPEX_BASES:
        raise ValueError(f"capex_basis must be one of {', '.join(CAPEX_BASES)}, not {capex_basis!r}")
    _require_columns(fundamentals, _FUNDAMENTAL_INPUTS, "fundamentals")
    all_columns = [*OUTPUT_COLUMNS, *EXTRA_COLUMNS]
    if fundamentals.empty:
        return pd.DataFrame(columns=all_columns)
    fundamentals = fundamentals.reset_index(drop=True)  # a new frame: quarters are named by position

    calendar = quarter_calendar(fundamentals)
    quarter_values = fundamentals[[*_FLOW_INPUTS, "cash_and_securities"]].astype(float)
    memo = _memo_by_quarter(funding_memo_lines(events, fundamentals), fundamentals.index)
    quarter_values = quarter_values.join(memo[list(MEMO_LINES)])

    windows = period_windows(calendar, period).reset_index(drop=True)
    members = windows["members"].explode().dropna()
    member_values = quarter_values.loc[members.to_numpy()].set_axis(members.index)
    flow_columns = [*_FLOW_INPUTS, *MEMO_LINES]
    sums = member_values[flow_columns].groupby(level=0).sum(min_count=1)
    any_missing = member_values[flow_columns].isna().groupby(level=0).any()
    sums = sums.mask(any_missing).reindex(windows.index)
    any_missing = any_missing.reindex(windows.index, fill_value=True)

    complete = windows["absent_quarters"].map(len) == 0
    last_member = windows["members"].map(lambda m: m[-1] if m else None)
    closing_cash = last_member.map(lambda m: quarter_values.at[m, "cash_and_securities"] if m is not None else np.nan)
    opening_cash = windows["opening"].map(
        lambda m: quarter_values.at[m, "cash_and_securities"] if pd.notna(m) else np.nan
    )
    sums[~complete] = np.nan

    capex = capex_on_basis(sums["capex"], sums["finance_lease_principal"], capex_basis=capex_basis)
    internal = internal_funding(sums["operating_cash_flow"], sums["buybacks"], sums["dividends"])
    gap = funding_gap(capex, internal)
    net_debt = net_debt_issued(sums["debt_issued"], sums["debt_repaid"])
    drawdown = cash_drawdown(opening_cash.astype(float), closing_cash.astype(float)).where(complete)
    coverage = coverage_by_source(gap, sums["asset_sale_proceeds"], net_debt, sums["equity_issued"], drawdown)

    result = pd.DataFrame(
        {
            "ticker": windows["ticker"],
            "period": windows["period"],
            "period_end": windows["period_end"],
            "capex_basis": capex_basis,
            "revenue": sums["revenue"],
            "operating_cash_flow": sums["operating_cash_flow"],
            "capex": capex,
            "finance_lease_principal": sums["finance_lease_principal"],
            "buybacks": sums["buybacks"],
            "dividends": sums["dividends"],
            "internal_funding": internal,
            "funding_gap": gap,
            "free_cash_flow": free_cash_flow(sums["operating_cash_flow"], capex),
            **{column: coverage[column] for column in coverage.columns},
            **{line: sums[line] for line in MEMO_LINES},
            "capex_intensity": capex_intensity(capex, sums["revenue"]),
            "capex_to_ocf": capex_to_ocf(capex, sums["operating_cash_flow"]),
            "self_funded_share": self_funded_share(internal, capex),
            "divestment_coverage": divestment_coverage(coverage["divestment_proceeds"], gap),
            "debt_coverage": debt_coverage(coverage["net_debt_issued"], gap),
        }
    )
    result["missing"] = _missing_text(windows, any_missing, closing_cash, opening_cash, capex_basis)
    result["source"] = _source_text(windows, fundamentals, calendar)
    result = result.join(_basis_columns(result["ticker"], companies))
    result["period_note"] = windows["period_note"]
    result["memo_events"] = [
        "; ".join(t for t in (memo.at[m, "memo_events"] for m in window) if t) if ok else ""
        for window, ok in zip(windows["members"], complete)
    ]
    order = np.lexsort((windows["sort_key"].to_numpy(), windows["ticker"].to_numpy()))
    return result.iloc[order][all_columns].reset_index(drop=True)


def _missing_text(
    windows: pd.DataFrame,
    any_missing: pd.DataFrame,
    closing_cash: pd.Series,
    opening_cash: pd.Series,
    capex_basis: CapexBasis,
) -> list[str]:
    inputs = [c for c in _FLOW_INPUTS if capex_basis == "economic" or c != "finance_lease_principal"]
    texts = []
    for position, absent in enumerate(windows["absent_quarters"]):
        if absent:
            texts.append(";".join(f"quarter {label}" for label in absent))
            continue
        names = [c for c in inputs if any_missing.at[position, c]]
        if pd.isna(closing_cash.iat[position]):
            names.append("cash_and_securities")
        if pd.isna(windows.at[position, "opening"]):
            names.append(f"cash_and_securities_start ({windows.at[position, 'opening_label']} absent)")
        elif pd.isna(opening_cash.iat[position]):
            names.append("cash_and_securities_start")
        texts.append(";".join(names))
    return texts


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


def funding_bridge(row: pd.Series | Mapping[str, float]) -> pd.DataFrame:
    """The steps of one :func:`funding_table` row as a waterfall, USD millions.

    Columns: ``step`` (label), ``measure`` (``relative``: a change; ``total``: a subtotal),
    ``amount`` (the figure as in the table) and ``value`` (signed change for relative steps,
    running total for totals). Steps: operating cash flow (+), buybacks (-), dividends (-),
    = internal funding, capex (-), = funding gap (shown as the running total, -gap: a shortfall
    is negative), then divestment proceeds, net debt issued, equity issued, cash drawdown and
    residual (+ each), which bring the total back to zero when every figure is known, = end.
    A missing figure stays NaN in its step and in every total after it.
    """
    get = (lambda key: float(row[key]) if key in row and pd.notna(row[key]) else np.nan)  # noqa: E731
    ocf, buybacks, dividends = get("operating_cash_flow"), get("buybacks"), get("dividends")
    internal, capex, gap = get("internal_funding"), get("capex"), get("funding_gap")
    sources = [
        ("divestment proceeds", get("divestment_proceeds")),
        ("net debt issued", get("net_debt_issued")),
        ("equity issued", get("equity_issued")),
        ("cash drawdown", get("cash_drawdown")),
        ("residual (other flows)", get("residual")),
    ]
    steps: list[tuple[str, str, float, float]] = [
        ("operating cash flow", "relative", ocf, ocf),
        ("buybacks", "relative", buybacks, -buybacks),
        ("dividends", "relative", dividends, -dividends),
        ("internal funding", "total", internal, internal),
        ("capex", "relative", capex, -capex),
        ("funding gap", "total", gap, -gap),
    ]
    running = -gap
    for label, amount in sources:
        steps.append((label, "relative", amount, amount))
        running = running + amount
    steps.append(("end (sources = uses)", "total", running, running))
    return pd.DataFrame(steps, columns=["step", "measure", "amount", "value"])


# --- forward view ------------------------------------------------------------------------------


FORWARD_COLUMNS: tuple[str, ...] = (
    "ticker", "statement_date", "guided_period", "period_basis", "run_rate_period", "run_rate_period_end",
    "trailing_operating_cash_flow", "trailing_buybacks", "trailing_dividends",
    "operating_cash_flow", "buybacks", "dividends", "internal_funding",
    "capex_low", "capex_mid", "capex_high",
    "funding_gap_low", "funding_gap_mid", "funding_gap_high",
    "divestment_proceeds", "implied_new_debt_low", "implied_new_debt_mid", "implied_new_debt_high",
    "assumptions", "missing", "source", "buybacks_basis", "wording",
)  # fmt: skip


def _run_rate(calendar: pd.DataFrame, values: pd.DataFrame, ticker: str, as_of: pd.Timestamp, calendar_basis: bool) -> dict:
    """Trailing four quarters ending with the latest one that ended on or before ``as_of``."""
    index_column = "calendar_index" if calendar_basis else "fiscal_index"
    own = calendar[(calendar["ticker"] == ticker) & (calendar["period_end"] <= as_of)]
    empty = {"label": "", "end": pd.NaT, "ocf": np.nan, "buybacks": np.nan, "dividends": np.nan}
    if own.empty:
        return {**empty, "missing": [f"no quarter of {ticker} ended by {as_of.date().isoformat()}"], "members": ()}
    last = int(own[index_column].max())
    year, quarter = divmod(last, QUARTERS_PER_YEAR)
    label = f"TTM to {(calendar_quarter_label if calendar_basis else fiscal_quarter_label)(year, quarter + 1)}"
    by_index = dict(zip(own[index_column], own.index))
    needed = range(last - 3, last + 1)
    absent = [p for p in needed if p not in by_index]
    end = calendar.at[by_index[last], "period_end"]
    if absent:
        label_of = calendar_quarter_label if calendar_basis else fiscal_quarter_label
        names = [f"quarter {label_of(p // QUARTERS_PER_YEAR, p % QUARTERS_PER_YEAR + 1)}" for p in absent]
        return {**empty, "label": label, "end": end, "missing": names, "members": ()}
    members = tuple(by_index[p] for p in needed)
    rows = values.loc[list(members), ["operating_cash_flow", "buybacks", "dividends"]]
    missing = [c for c in rows.columns if rows[c].isna().any()]
    totals = rows.sum(skipna=False)
    return {
        "label": label,
        "end": end,
        "ocf": totals["operating_cash_flow"],
        "buybacks": totals["buybacks"],
        "dividends": totals["dividends"],
        "missing": missing,
        "members": members,
    }


def forward_view(
    fundamentals: pd.DataFrame,
    guidance: pd.DataFrame,
    *,
    companies: pd.DataFrame | None,
    capex: float | None = None,
    ocf_growth: float = 0.0,
    buyback_pace: float = 1.0,
    dividends: float | None = None,
    divestment_proceeds: float = 0.0,
) -> pd.DataFrame:
    """Implied funding gap and new debt for each capex-guidance vintage (USD millions).

    One row per row of ``guidance`` (``load_guidance``: low/high in USD billions, converted here
    x 1000 to USD millions). The run-rate is the trailing four quarters ending with the latest
    quarter whose period_end is on or before the statement date (no later data), on the
    guidance's own period basis: ``fiscal_year`` guidance uses fiscal quarters
    (``TTM to FY2025 Q3``); ``calendar_year`` guidance (Microsoft's 2026) uses the trailing four
    calendar quarters (``TTM to CY2026 Q1``; see ``periods`` for the calendar mapping).
    The quarter's end, not its report date, decides: a statement made between a quarter's end
    and its results (Microsoft's 2025-01-03 blog, before the 2025-01-29 results) uses that
    quarter, which the market did not know yet; ``run_rate_period`` names the window used.

    What-if parameters (the dashboard's sliders; defaults reproduce the run-rate):

    - ``capex``: guided-year capex in USD millions replacing the guidance range (low = mid =
      high = ``capex``) in every row; ``None`` keeps each vintage's range, mid = (low + high) / 2.
    - ``ocf_growth``: decimal growth applied to trailing operating cash flow
      (OCF = trailing OCF x (1 + ocf_growth)); must be > -1.
    - ``buyback_pace``: multiple of trailing buybacks (0 = buybacks paused, 1 = unchanged); >= 0.
    - ``dividends``: guided-year dividends in USD millions; ``None`` keeps trailing dividends.
    - ``divestment_proceeds``: expected divestment and asset-sale proceeds in the guided year,
      USD millions, >= 0.

    Formulas: internal funding = OCF - buybacks - dividends; funding_gap_x = capex_x - internal
    funding; implied_new_debt_x = max(funding_gap_x - divestment_proceeds, 0), assuming the rest
    of the gap is borrowed (no cash drawdown, no equity); 0 means no borrowing is needed.

    A trailing window with fewer than four quarters, or a missing OCF, buybacks or dividends in
    it, makes the dependent results NaN and is named in ``missing`` (a ``dividends`` override
    replaces the trailing figure, so missing trailing dividends then do not matter). The
    guidance's capex basis varies by company (Meta's includes finance leases, Amazon's is cash
    capex): ``wording`` carries it. Empty guidance gives an empty frame with
    :data:`FORWARD_COLUMNS`. Inputs are not changed.
    """
    if not ocf_growth > -1:
        raise ValueError(f"ocf_growth must be greater than -1 (a decimal growth rate), not {ocf_growth!r}")
    if buyback_pace < 0:
        raise ValueError(f"buyback_pace must be >= 0 (a multiple of trailing buybacks), not {buyback_pace!r}")
    if dividends is not None and dividends < 0:
        raise ValueError(f"dividends must be >= 0 USD millions, not {dividends!r}")
    if divestment_proceeds < 0:
        raise ValueError(f"divestment_proceeds must be >= 0 USD millions, not {divestment_proceeds!r}")
    if capex is not None and capex < 0:
        raise ValueError(f"capex must be >= 0 USD millions, not {capex!r}")
    _require_columns(guidance, ("ticker", "statement_date", "fiscal_year", "period_basis", "low_usd_bn", "high_usd_bn"), "guidance")
    if guidance.empty:
        return pd.DataFrame(columns=list(FORWARD_COLUMNS))
    _require_columns(fundamentals, ("ticker", "fiscal_year", "fiscal_quarter", "period_end", "operating_cash_flow", "buybacks", "dividends"), "fundamentals")
    fundamentals = fundamentals.reset_index(drop=True)
    calendar = quarter_calendar(fundamentals)
    values = fundamentals[["operating_cash_flow", "buybacks", "dividends"]].astype(float)
    basis = _basis_columns(guidance["ticker"], companies)

    rows = []
    for position, (index, statement) in enumerate(guidance.iterrows()):
        calendar_basis = statement["period_basis"] == "calendar_year"
        as_of = pd.Timestamp(statement["statement_date"])
        trailing = _run_rate(calendar, values, statement["ticker"], as_of, calendar_basis)
        missing = list(trailing["missing"])
        if dividends is not None and "dividends" in missing:
            missing.remove("dividends")
        ocf = trailing["ocf"] * (1 + ocf_growth)
        buybacks = trailing["buybacks"] * buyback_pace
        paid = float(dividends) if dividends is not None and trailing["members"] else trailing["dividends"]
        internal = internal_funding(ocf, buybacks, paid)
        if capex is None:
            low = float(statement["low_usd_bn"]) * USD_MILLIONS_PER_BILLION
            high = float(statement["high_usd_bn"]) * USD_MILLIONS_PER_BILLION
        else:
            low = high = float(capex)
        mid = (low + high) / 2
        gaps = {name: funding_gap(value, internal) for name, value in (("low", low), ("mid", mid), ("high", high))}
        year = int(statement["fiscal_year"])
        quarters_used = ", ".join(calendar.at[m, "fiscal_label"] for m in trailing["members"])
        rows.append(
            {
                "ticker": statement["ticker"],
                "statement_date": as_of,
                "guided_period": calendar_year_label(year) if calendar_basis else fiscal_year_label(year),
                "period_basis": statement["period_basis"],
                "run_rate_period": trailing["label"],
                "run_rate_period_end": trailing["end"],
                "trailing_operating_cash_flow": trailing["ocf"],
                "trailing_buybacks": trailing["buybacks"],
                "trailing_dividends": trailing["dividends"],
                "operating_cash_flow": ocf,
                "buybacks": buybacks,
                "dividends": paid,
                "internal_funding": internal,
                "capex_low": low,
                "capex_mid": mid,
                "capex_high": high,
                **{f"funding_gap_{k}": v for k, v in gaps.items()},
                "divestment_proceeds": float(divestment_proceeds),
                **{f"implied_new_debt_{k}": max(v - divestment_proceeds, 0.0) if pd.notna(v) else np.nan for k, v in gaps.items()},
                "assumptions": (
                    ("capex what-if " + f"{capex:,.0f}" if capex is not None else "capex = guidance USD bn x 1000")
                    + f"; ocf_growth {ocf_growth:+.2%}; buyback_pace x{buyback_pace:g}; dividends "
                    + ("trailing" if dividends is None else f"{dividends:,.0f}")
                    + f"; divestment_proceeds {divestment_proceeds:,.0f}; rest of gap borrowed"
                ),
                "missing": ";".join(missing),
                "source": (
                    f"guidance.csv {statement['ticker']} {as_of.date().isoformat()}: {statement.get('source_url', '')}"
                    + (f"; run-rate: fundamentals.csv sum of {quarters_used}" if quarters_used else "")
                ),
                "buybacks_basis": basis["buybacks_basis"].iat[position],
                "wording": statement.get("wording", ""),
            }
        )
    return pd.DataFrame(rows, columns=list(FORWARD_COLUMNS))


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
    merged["relative_size"] = merged["amount_usd_bn"] * 1000 / merged["trailing_capex"]
    merged["size_note"] = ""
    merged.loc[merged["amount_usd_bn"].isna(), "size_note"] = "no amount"
    no_capex = merged["amount_usd_bn"].notna() & merged["trailing_capex"].isna()
    merged.loc[no_capex, "size_note"] = "no trailing capex before the event"
    return merged

