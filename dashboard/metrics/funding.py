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
  placed by the event study's trading day 0, see :func:`funding_memo_lines`. Unknown (NaN, with
  the reason in ``missing``) where the curated events do not cover the period or a deal of the
  line's kind has no amount: never a zero passed off as "nothing raised".
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
from dashboard.metrics.trading_calendar import map_day0

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

# What became of each funding event (``memo_status`` of :func:`funding_memo_lines`).
MemoStatus = Literal["counted", "amount_unknown", "not_covered", "not_placed", "not_counted"]
MEMO_STATUSES: tuple[str, ...] = get_args(MemoStatus)

MEMO_COLUMNS: tuple[str, ...] = (
    "event_id", "ticker", "deal_id", "stage", "funding_kind", "day0_date", "funding_usd_m",
    "memo_line", "quarter", "period", "counted", "reason",
    "event_date", "day0_reason", "memo_status",
)  # fmt: skip

# Stages that never make a deal's missing amount a gap in the memo lines: a withdrawn deal raised
# nothing, and press reports of talks are not a deal.
_STAGES_WITHOUT_MONEY = ("withdrawn", "report")


def memo_coverage_start(events: pd.DataFrame) -> pd.Timestamp:
    """The first event date in ``events`` (midnight), from which the curated events are taken to
    cover every funding deal; NaT when ``events`` is empty or has no date. Derived from the frame
    given, never a constant: a user's file starts where it starts."""
    if "event_date" not in events.columns or events.empty:
        return pd.NaT
    first = pd.to_datetime(events["event_date"]).min()
    return pd.Timestamp(first).normalize() if pd.notna(first) else pd.NaT


def memo_coverage(calendar: pd.DataFrame, coverage_start: pd.Timestamp) -> pd.Series:
    """Why a quarter's memo lines are unknown, from the curated events' coverage ('' if known).

    ``calendar``: :func:`dashboard.metrics.periods.quarter_calendar` output (``period_start``,
    ``period_end``, ``fiscal_label``); ``coverage_start``: :func:`memo_coverage_start`.

    - a quarter ending before ``coverage_start``: ``memo lines: before curated events begin
      (2024-04-24)``; nothing was curated for it, so its memo lines are NaN, not 0.
    - a quarter that starts before and ends on or after it (partly covered): ``memo lines:
      curated events begin 2024-04-24, inside FY2024 Q2``; also NaN, because deals of the
      uncovered days may be missing and a partial sum is never passed off as whole. The events
      that do land there stay listed by :func:`funding_memo_lines` (status ``not_covered``).
    - no ``coverage_start`` (no events given): ``memo lines: no curated events given``.
    """
    if pd.isna(coverage_start):
        return pd.Series("memo lines: no curated events given", index=calendar.index, dtype="str")
    start = coverage_start.date().isoformat()
    before = (calendar["period_end"] < coverage_start).to_numpy()
    partial = ~before & (calendar["period_start"] < coverage_start).to_numpy()
    reasons = np.where(
        before,
        f"memo lines: before curated events begin ({start})",
        np.where(partial, [f"memo lines: curated events begin {start}, inside {label}" for label in calendar["fiscal_label"]], ""),
    )
    return pd.Series(reasons, index=calendar.index, dtype="str")


def _unplaced_reason(ticker: str, day0: pd.Timestamp, day0_reason: str, spans: pd.DataFrame) -> str:
    """Why an event's day 0 lies in no quarter of the table, in words."""
    if pd.isna(day0):
        return f"no trading day 0 ({day0_reason})"
    if ticker not in spans.index:
        return "no fundamentals for this company"
    span = spans.loc[ticker]
    if day0 > span["last_end"]:
        return f"after the company's last reported quarter ({span['last_label']}, ends {span['last_end'].date().isoformat()})"
    if day0 < span["first_start"]:
        return f"before the company's first reported quarter ({span['first_label']})"
    return "day 0 in none of the company's reported quarters (a gap in its quarters)"


def funding_memo_lines(
    events: pd.DataFrame,
    quarters: pd.DataFrame,
    *,
    companies: pd.DataFrame | None = None,
    sessions_by_calendar: Mapping[str, pd.DatetimeIndex] | None = None,
) -> pd.DataFrame:
    """Each funding event, the memo line it feeds, the company quarter it lands in, and why.

    ``events``: columns ``event_id, ticker, event_date, event_time, deal_id, stage,
    funding_usd_bn, funding_kind`` (as from ``load_events``). ``quarters``: one row per company
    quarter with ``ticker, fiscal_year, fiscal_quarter, period_end`` (fundamentals).
    ``companies``: each ticker's exchange calendar (``calendar`` column; XNYS when absent or
    ``None``); ``sessions_by_calendar``: the sessions to use per calendar (default: built by
    ``trading_calendar.map_day0`` from exchange_calendars around the events' dates).

    Returns one row per event with a ``funding_kind`` or a ``funding_usd_bn`` (others are not
    funding news), sorted by day 0 then event id, with :data:`MEMO_COLUMNS`: ``event_id,
    ticker, deal_id, stage, funding_kind, day0_date, funding_usd_m`` (= funding_usd_bn x 1000,
    USD millions; NaN when the event carries no amount), ``memo_line``, ``quarter`` (the
    ``quarters`` index label of the quarter whose [period_start, period_end] holds day 0, or
    NA), ``period`` (its ``FY2025 Q3`` label), ``counted`` (bool: in a memo total),
    ``reason`` (in words), ``event_date``, ``day0_reason`` (from the day-0 mapping) and
    ``memo_status``, one of :data:`MEMO_STATUSES`:

    - ``counted``: summed into its quarter's memo line;
    - ``amount_unknown``: the event that places a deal without any amount; its quarter's memo
      line is NaN (see below);
    - ``not_covered``: it carries an amount but lands in a quarter the curated events cover
      only partly (:func:`memo_coverage`), whose memo lines are NaN;
    - ``not_placed``: it would count, but its day 0 lies in no quarter of ``quarters``; the
      reason says why (``after the company's last reported quarter (FY2026 Q2, ends
      2026-06-30)``, ``no fundamentals for this company``, ...);
    - ``not_counted``: never counts (withdrawn, an unwind, no funding_kind, a stage of a deal
      whose amount sits on another event, press reports only).

    Rules:

    - day 0 is the event study's own: ``trading_calendar.map_day0`` on the company's exchange
      calendar (after the close -> the next session; a weekend or holiday -> the next session).
      An after-close event on the last session of a quarter lands in the next quarter.
    - Only events with ``funding_usd_bn`` are summed. The curated file carries it on exactly one
      event per deal (the priced or closed stage), so summing never double counts: Hyperion's
      five events add 27,300 once. A second funded event of the same deal (possible in a user's
      file) is not counted again.
    - ``withdrawn`` never counts. ``jv_spv_unwind`` never counts: buying back a partner's stake
      (Intel's $14.2B Fab 34 buy-back) is a use of cash that the cash-flow statement shows; the
      original JV financing stays in the quarter it was raised.
    - ``jv_spv`` -> jv_spv_financing_memo; ``third_party`` -> third_party_financing_memo (the
      developers' money, not the company's); debt, equity, divestment, asset_sale and
      debt_and_equity -> announced_funding_memo.
    - A deal (events sharing a ``deal_id``; an event without one is a deal of its own) with no
      amount on any of its events, but with a dated event that is neither ``withdrawn`` nor a
      ``report`` (it was announced, priced or closed), raised money of unknown size: it is placed
      at its latest such event (by date, then event id: the most advanced stage, where the money
      changes hands, as a funded deal's amount sits on its priced or closed event), and that
      quarter's memo line of the event's kind is NaN, ``missing`` naming it
      (``third_party_financing_memo: ORCL-NEWMEXICO-LOAN has no amount``). A deal that never got
      past press reports of talks (only ``report`` events) does not make the memo line unknown,
      nor does a deal whose latest event is ``withdrawn``.

    Empty or irrelevant ``events`` give an empty frame with :data:`MEMO_COLUMNS`. The inputs are
    not changed.
    """
    _require_columns(events, _EVENT_INPUTS, "events")
    if not quarters.index.is_unique:
        raise DataUnavailable("quarters: the index must be unique (it names each event's quarter)")
    columns = list(MEMO_COLUMNS)
    relevant = events[events["funding_kind"].notna() | events["funding_usd_bn"].notna()]
    if relevant.empty:
        return pd.DataFrame(columns=columns)
    mapped = map_day0(
        relevant[["ticker", "event_date", "event_time"]], companies=companies, sessions_by_calendar=sessions_by_calendar
    )
    frame = pd.DataFrame(
        {
            "event_id": relevant["event_id"].to_numpy(),
            "ticker": relevant["ticker"].to_numpy(),
            "deal_id": relevant["deal_id"].to_numpy(),
            "stage": relevant["stage"].to_numpy(),
            "funding_kind": relevant["funding_kind"].to_numpy(),
            "event_date": pd.to_datetime(relevant["event_date"]).to_numpy(),
            "day0_date": pd.to_datetime(mapped["day0"]).to_numpy(),
            "day0_reason": mapped["day0_reason"].to_numpy(),
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
    frame = frame.sort_values(["day0_date", "event_id"], kind="stable", na_position="last").reset_index(drop=True)

    coverage = memo_coverage(calendar, memo_coverage_start(events))
    ordered = calendar.sort_values(["ticker", "fiscal_index"])
    spans = ordered.groupby("ticker").agg(
        first_start=("period_start", "first"),
        first_label=("fiscal_label", "first"),
        last_end=("period_end", "last"),
        last_label=("fiscal_label", "last"),
    )

    # Deals: which event carries the money, which deals have none, and where those are placed.
    stage = frame["stage"].fillna("").astype(str)
    withdrawn = stage == "withdrawn"
    unwind = frame["funding_kind"].fillna("").astype(str) == "jv_spv_unwind"
    has_amount = frame["funding_usd_m"].notna()
    deal = frame["deal_id"].astype(object).where(frame["deal_id"].notna(), "event " + frame["event_id"].astype(str))
    funds = has_amount & ~withdrawn & frame["memo_line"].notna()
    funded_event = frame[funds].groupby(deal[funds])["event_id"].first()  # earliest day 0: the counted one
    funded_before = funds & deal.where(funds).duplicated(keep="first")
    by_date = frame.assign(deal=deal).sort_values(["event_date", "event_id"], kind="stable")
    latest = by_date.groupby("deal").tail(1).set_index("deal")  # tail, not last(): keeps a missing stage
    latest_stage = latest["stage"].fillna("").astype(str)
    latest_event = latest["event_id"]
    candidate = ~has_amount & ~stage.isin(_STAGES_WITHOUT_MONEY) & frame["memo_line"].notna() & frame["event_date"].notna()
    placed_at = by_date[candidate.reindex(by_date.index)].groupby("deal")["event_id"].last()

    reasons, statuses = [], []
    for position in range(len(frame)):
        event = frame.iloc[position]
        key, placed = deal.iat[position], pd.notna(event["quarter"])
        where = "" if not placed else coverage.at[event["quarter"]]
        if withdrawn.iat[position]:
            reason, status = "withdrawn: never counts", "not_counted"
        elif unwind.iat[position]:
            reason, status = "jv_spv_unwind: a use of cash (in the cash-flow statement), never a memo line", "not_counted"
        elif pd.isna(event["memo_line"]):
            reason, status = "no funding_kind", "not_counted"
        elif has_amount.iat[position]:
            if funded_before.iat[position]:
                reason, status = "a second funded event of the same deal: not counted again", "not_counted"
            elif not placed:
                reason = _unplaced_reason(event["ticker"], event["day0_date"], event["day0_reason"], spans)
                status = "not_placed"
            elif where:
                reason, status = f"in {event['period']}, whose memo lines are NaN ({where})", "not_covered"
            else:
                reason, status = "counted", "counted"
        elif key in funded_event.index:
            reason, status = f"no funding_usd_bn on this event (the deal's amount is on {funded_event[key]})", "not_counted"
        elif latest_stage.get(key, "") == "withdrawn":
            reason, status = f"no amount, and the deal was withdrawn later ({latest_event[key]}): no gap in the memo", "not_counted"
        elif key not in placed_at.index:
            reason = "press reports only, no amount: a deal that never got past reports leaves the memo lines as they are"
            status = "not_counted"
        elif placed_at[key] != event["event_id"]:
            reason = f"no amount on any event of {event['deal_id']}; the deal is placed at its latest event {placed_at[key]}"
            status = "not_counted"
        elif placed:
            reason = f"{event['deal_id']} has no amount on any event: {event['memo_line']} of {event['period']} is NaN"
            status = "amount_unknown"
        else:
            unplaced = _unplaced_reason(event["ticker"], event["day0_date"], event["day0_reason"], spans)
            reason, status = f"{event['deal_id']} has no amount on any event, and it is in no quarter: {unplaced}", "not_placed"
        reasons.append(reason)
        statuses.append(status)
    frame["reason"] = pd.Series(reasons, index=frame.index, dtype="str")
    frame["memo_status"] = pd.Series(statuses, index=frame.index, dtype="str")
    frame["counted"] = frame["memo_status"] == "counted"
    return frame[columns]


def _memo_by_quarter(memo: pd.DataFrame, coverage: pd.Series) -> pd.DataFrame:
    """Memo totals (USD millions), why they are unknown, and the events behind them, per quarter.

    ``coverage``: :func:`memo_coverage` on the quarters' index. A covered quarter with no counted
    event gets 0.0 (the curated events say nothing was raised); an uncovered one NaN. A deal
    without an amount (``amount_unknown``) makes its line NaN in its quarter. Columns: the memo
    lines, ``memo_missing`` (';'-joined reasons) and ``memo_events`` (text).
    """
    index = coverage.index
    known = (coverage == "").to_numpy()
    start = np.repeat(np.where(known, 0.0, np.nan)[:, None], len(MEMO_LINES), axis=1)
    totals = pd.DataFrame(start, index=index, columns=list(MEMO_LINES))
    missing: dict[object, list[str]] = {q: [reason] if reason else [] for q, reason in coverage.items()}
    counted = memo[memo["memo_status"] == "counted"]
    for (quarter, line), amount in counted.groupby(["quarter", "memo_line"])["funding_usd_m"].sum().items():
        totals.at[quarter, line] += amount
    unknown = memo[memo["memo_status"] == "amount_unknown"]
    for quarter, line, deal_id in zip(unknown["quarter"], unknown["memo_line"], unknown["deal_id"]):
        totals.at[quarter, line] = np.nan
        missing[quarter].append(f"{line}: {deal_id} has no amount")
    totals["memo_missing"] = [";".join(dict.fromkeys(missing[q])) for q in index]

    shown = memo[memo["memo_status"].isin(["counted", "amount_unknown", "not_covered"])]
    notes = {"counted": "", "amount_unknown": "", "not_covered": "; not summed: the quarter is only partly covered"}
    texts: dict[object, list[str]] = {q: [] for q in index}
    for row in shown.itertuples(index=False):
        amount = "amount unknown" if pd.isna(row.funding_usd_m) else f"{row.funding_usd_m:,.0f}"
        note = notes[row.memo_status]
        texts[row.quarter].append(
            f"{row.event_id} {row.deal_id} {row.funding_kind} {amount} ({row.stage}, day 0 {row.day0_date.date().isoformat()}{note})"
        )
    totals["memo_events"] = ["; ".join(texts[q]) for q in index]
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
    Memo lines (see :func:`funding_memo_lines`): 0.0 when the curated events cover the whole
    period and no funding event lands in it; NaN, named in ``missing`` after the bridge's
    inputs, when the period is not wholly covered by the curated events (it ends before, or
    starts before, the first event date of ``events``: ``memo lines: before curated events begin
    (2024-04-24)``; see :func:`memo_coverage`) or when a deal of that kind without any amount is
    placed in it (``third_party_financing_memo: ORCL-NEWMEXICO-LOAN has no amount``). A TTM or
    year is NaN when any of its quarters is. Funding events after the company's last quarter
    (or of a company without fundamentals) are in no row: :func:`funding_memo_lines` lists
    them with the reason. ``source`` names the fundamentals rows used (their source text
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
    memo = _memo_by_quarter(
        funding_memo_lines(events, fundamentals, companies=companies),
        memo_coverage(calendar, memo_coverage_start(events)),
    )
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
    result["missing"] = _missing_text(windows, any_missing, closing_cash, opening_cash, capex_basis, memo["memo_missing"])
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
    memo_missing: pd.Series,
) -> list[str]:
    inputs = [c for c in _FLOW_INPUTS if capex_basis == "economic" or c != "finance_lease_principal"]
    texts = []
    for position, (absent, members) in enumerate(zip(windows["absent_quarters"], windows["members"])):
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
        # The memo lines' reasons come last, once each (a TTM names a pre-coverage reason once).
        memo_reasons = (r for m in members for r in str(memo_missing.at[m]).split(";") if r)
        names.extend(dict.fromkeys(memo_reasons))
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


def split_missing(missing: object) -> tuple[list[str], list[str]]:
    """Split a ``missing`` text of :func:`funding_table` into (bridge inputs, memo-line reasons).

    ``missing`` lists ``;``-separated parts: first the inputs of the bridge's arithmetic
    (``buybacks``, ``cash_and_securities_start``, ``quarter FY2021 Q4``), then why memo lines are
    unknown (``memo lines: ...`` or ``<memo line>: <deal> has no amount``). A missing or empty
    text gives two empty lists.
    """
    parts = [part for part in ("" if pd.isna(missing) else str(missing)).split(";") if part]
    memo = [part for part in parts if part.startswith("memo lines:") or part.split(":", 1)[0] in MEMO_LINES]
    return [part for part in parts if part not in memo], memo


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

