"""Memo lines: funding raised outside the cash-flow statement's bridge, from dated events.

Pure pandas/numpy (no files, network or clock); nothing here changes its inputs. Amounts in USD
millions (events' ``funding_usd_bn`` x ``config.USD_MILLIONS_PER_BILLION``). Memo lines sit beside
the funding bridge, never in its arithmetic:

- ``jv_spv_financing_memo``: off-balance-sheet JV/SPV vehicles the company sponsors;
- ``third_party_financing_memo``: developers' own financing of sites leased to the company;
- ``announced_funding_memo``: announced debt, equity, divestments and asset sales.

Each funding event is placed by the event study's trading day 0 (:func:`funding_memo_lines`).
A quarter's memo line is unknown (NaN, with the reason) where the curated events do not cover the
quarter or a deal of the line's kind has no amount: never a zero passed off as "nothing raised".

Rules of :func:`funding_memo_lines`:

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
  quarter's memo line of the event's kind is NaN, ``memo_missing`` naming it
  (``third_party_financing_memo: ORCL-NEWMEXICO-LOAN has no amount``). A deal that never got
  past press reports of talks (only ``report`` events) does not make the memo line unknown,
  nor does a deal whose latest event is ``withdrawn``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from dashboard.config import USD_MILLIONS_PER_BILLION
from dashboard.errors import DataUnavailable, require_columns
from dashboard.metrics.periods import quarter_calendar
from dashboard.metrics.trading_calendar import map_day0

MemoLine = Literal["jv_spv_financing_memo", "third_party_financing_memo", "announced_funding_memo"]
MEMO_LINES: tuple[str, ...] = get_args(MemoLine)

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

EVENT_INPUTS: tuple[str, ...] = (
    "event_id", "ticker", "event_date", "event_time", "deal_id", "stage", "funding_usd_bn", "funding_kind",
)  # fmt: skip

# What became of each funding event (``memo_status`` of :func:`funding_memo_lines`).
MemoStatus = Literal["counted", "amount_unknown", "not_covered", "not_placed", "not_counted"]
MEMO_STATUSES: tuple[str, ...] = get_args(MemoStatus)

MEMO_COLUMNS: tuple[str, ...] = (
    "event_id", "ticker", "deal_id", "stage", "funding_kind", "day0_date", "funding_usd_m",
    "memo_line", "quarter", "period", "counted", "reason",
    "event_date", "day0_reason", "memo_status",
)  # fmt: skip

# The cells of an event that decide its memo status (:func:`_memo_status`).
_STATUS_INPUTS = ("event_id", "ticker", "deal_id", "memo_line", "quarter", "period", "day0_date", "day0_reason")

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


def memo_unknown_reasons(calendar: pd.DataFrame, coverage_start: pd.Timestamp) -> pd.Series:
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
    calendar: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each funding event, the memo line it feeds, the company quarter it lands in, and why.

    ``events``: columns ``event_id, ticker, event_date, event_time, deal_id, stage,
    funding_usd_bn, funding_kind`` (as from ``load_events``). ``quarters``: one row per company
    quarter with ``ticker, fiscal_year, fiscal_quarter, period_end`` (fundamentals).
    ``companies``: each ticker's exchange calendar (``calendar`` column; XNYS when absent or
    ``None``); ``sessions_by_calendar``: the sessions to use per calendar (default: built by
    ``trading_calendar.map_day0`` from exchange_calendars around the events' dates);
    ``calendar``: ``periods.quarter_calendar(quarters)`` when the caller has it already.

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
      line is NaN;
    - ``not_covered``: it carries an amount but lands in a quarter the curated events cover
      only partly (:func:`memo_unknown_reasons`), whose memo lines are NaN;
    - ``not_placed``: it would count, but its day 0 lies in no quarter of ``quarters``; the
      reason says why (``after the company's last reported quarter (FY2026 Q2, ends
      2026-06-30)``, ``no fundamentals for this company``, ...);
    - ``not_counted``: never counts (withdrawn, an unwind, no funding_kind, a stage of a deal
      whose amount sits on another event, press reports only).

    The rules are in the module docstring. Empty or irrelevant ``events`` give an empty frame
    with :data:`MEMO_COLUMNS`. The inputs are not changed.
    """
    require_columns(events, EVENT_INPUTS, "events")
    if not quarters.index.is_unique:
        raise DataUnavailable("quarters: the index must be unique (it names each event's quarter)")
    relevant = events[events["funding_kind"].notna() | events["funding_usd_bn"].notna()]
    if relevant.empty:
        return pd.DataFrame(columns=list(MEMO_COLUMNS))
    calendar = quarter_calendar(quarters) if calendar is None else calendar
    frame = _placed_in_quarters(_funding_events(relevant, companies, sessions_by_calendar), calendar)
    coverage = memo_unknown_reasons(calendar, memo_coverage_start(events))
    facts = _DealFacts.of(frame)
    spans = _company_spans(calendar)
    rows = zip(*(frame[name].array for name in _STATUS_INPUTS))  # one event's cells at a time, without a Series per row
    reasons, statuses = zip(*(_memo_status(dict(zip(_STATUS_INPUTS, cells)), p, facts, coverage, spans) for p, cells in enumerate(rows)))
    frame["reason"] = pd.Series(reasons, index=frame.index, dtype="str")
    frame["memo_status"] = pd.Series(statuses, index=frame.index, dtype="str")
    frame["counted"] = frame["memo_status"] == "counted"
    return frame[list(MEMO_COLUMNS)]


def _funding_events(
    relevant: pd.DataFrame, companies: pd.DataFrame | None, sessions_by_calendar: Mapping[str, pd.DatetimeIndex] | None
) -> pd.DataFrame:
    """The funding events with their trading day 0 (the event study's own) and memo line."""
    mapped = map_day0(relevant[["ticker", "event_date", "event_time"]], companies=companies, sessions_by_calendar=sessions_by_calendar)
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
    return frame


def _placed_in_quarters(frame: pd.DataFrame, calendar: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``quarter`` (the calendar label whose [start, end] holds day 0, or NA) and
    ``period``, sorted by day 0 then event id."""
    bounds = calendar[["ticker", "period_start", "period_end", "fiscal_label"]].reset_index(names="quarter")
    pairs = frame.reset_index(names="row").merge(bounds, on="ticker", how="inner")
    inside = pairs[(pairs["period_start"] <= pairs["day0_date"]) & (pairs["day0_date"] <= pairs["period_end"])]
    inside = inside.drop_duplicates("row").set_index("row")
    frame = frame.assign(quarter=inside["quarter"].reindex(frame.index).astype("Int64"), period=inside["fiscal_label"].reindex(frame.index))
    return frame.sort_values(["day0_date", "event_id"], kind="stable", na_position="last").reset_index(drop=True)


def _company_spans(calendar: pd.DataFrame) -> pd.DataFrame:
    """Per ticker, the first and last reported quarter (start, end, label)."""
    ordered = calendar.sort_values(["ticker", "fiscal_index"])
    return ordered.groupby("ticker").agg(
        first_start=("period_start", "first"),
        first_label=("fiscal_label", "first"),
        last_end=("period_end", "last"),
        last_label=("fiscal_label", "last"),
    )


@dataclass(frozen=True)
class _DealFacts:
    """Per event (position) and per deal: which event carries a deal's money, which deals have
    none, and where those are placed."""

    deal: pd.Series
    withdrawn: pd.Series
    unwind: pd.Series
    has_amount: pd.Series
    funded_before: pd.Series
    funded_event: pd.Series
    latest_stage: pd.Series
    latest_event: pd.Series
    placed_at: pd.Series

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _DealFacts:
        stage = frame["stage"].fillna("").astype(str)
        withdrawn = stage == "withdrawn"
        has_amount = frame["funding_usd_m"].notna()
        deal = frame["deal_id"].astype(object).where(frame["deal_id"].notna(), "event " + frame["event_id"].astype(str))
        funds = has_amount & ~withdrawn & frame["memo_line"].notna()
        by_date = frame.assign(deal=deal).sort_values(["event_date", "event_id"], kind="stable")
        latest = by_date.groupby("deal").tail(1).set_index("deal")  # tail, not last(): keeps a missing stage
        candidate = ~has_amount & ~stage.isin(_STAGES_WITHOUT_MONEY) & frame["memo_line"].notna() & frame["event_date"].notna()
        return cls(
            deal=deal,
            withdrawn=withdrawn,
            unwind=frame["funding_kind"].fillna("").astype(str) == "jv_spv_unwind",
            has_amount=has_amount,
            funded_before=funds & deal.where(funds).duplicated(keep="first"),
            funded_event=frame[funds].groupby(deal[funds])["event_id"].first(),  # earliest day 0: the counted one
            latest_stage=latest["stage"].fillna("").astype(str),
            latest_event=latest["event_id"],
            placed_at=by_date[candidate.reindex(by_date.index)].groupby("deal")["event_id"].last(),
        )


def _memo_status(event: Mapping[str, Any], position: int, facts: _DealFacts, coverage: pd.Series, spans: pd.DataFrame) -> tuple[str, str]:
    """(reason, memo_status) of one funding event (its :data:`_STATUS_INPUTS` cells), by the rules
    of the module docstring."""
    key, placed = facts.deal.iat[position], pd.notna(event["quarter"])
    where = coverage.at[event["quarter"]] if placed else ""
    unplaced = "" if placed else _unplaced_reason(event["ticker"], event["day0_date"], event["day0_reason"], spans)
    if facts.withdrawn.iat[position]:
        return "withdrawn: never counts", "not_counted"
    if facts.unwind.iat[position]:
        return "jv_spv_unwind: a use of cash (in the cash-flow statement), never a memo line", "not_counted"
    if pd.isna(event["memo_line"]):
        return "no funding_kind", "not_counted"
    if facts.has_amount.iat[position]:
        if facts.funded_before.iat[position]:
            return "a second funded event of the same deal: not counted again", "not_counted"
        if not placed:
            return unplaced, "not_placed"
        if where:
            return f"in {event['period']}, whose memo lines are NaN ({where})", "not_covered"
        return "counted", "counted"
    if key in facts.funded_event.index:
        return f"no funding_usd_bn on this event (the deal's amount is on {facts.funded_event[key]})", "not_counted"
    if facts.latest_stage.get(key, "") == "withdrawn":
        return f"no amount, and the deal was withdrawn later ({facts.latest_event[key]}): no gap in the memo", "not_counted"
    if key not in facts.placed_at.index:
        return "press reports only, no amount: a deal that never got past reports leaves the memo lines as they are", "not_counted"
    if facts.placed_at[key] != event["event_id"]:
        return f"no amount on any event of {event['deal_id']}; the deal is placed at its latest event {facts.placed_at[key]}", "not_counted"
    if placed:
        return f"{event['deal_id']} has no amount on any event: {event['memo_line']} of {event['period']} is NaN", "amount_unknown"
    return f"{event['deal_id']} has no amount on any event, and it is in no quarter: {unplaced}", "not_placed"


def memo_by_quarter(memo: pd.DataFrame, unknown_reasons: pd.Series) -> pd.DataFrame:
    """Memo totals (USD millions), why they are unknown, and the events behind them, per quarter.

    ``memo``: :func:`funding_memo_lines`; ``unknown_reasons``: :func:`memo_unknown_reasons` on the
    quarters' index. A covered quarter with no counted event gets 0.0 (the curated events say
    nothing was raised); an uncovered one NaN. A deal without an amount (``amount_unknown``)
    makes its line NaN in its quarter. Columns: the memo lines, ``memo_missing`` (tuple of
    reasons) and ``memo_events`` (tuple of the event ids counted, without amount, or listed but
    not summed in the quarter, in day-0 order).
    """
    index = unknown_reasons.index
    known = (unknown_reasons == "").to_numpy()
    start = np.repeat(np.where(known, 0.0, np.nan)[:, None], len(MEMO_LINES), axis=1)
    totals = pd.DataFrame(start, index=index, columns=list(MEMO_LINES))
    missing: dict[object, list[str]] = {q: [reason] if reason else [] for q, reason in unknown_reasons.items()}
    counted = memo[memo["memo_status"] == "counted"]
    for (quarter, line), amount in counted.groupby(["quarter", "memo_line"])["funding_usd_m"].sum().items():
        totals.at[quarter, line] += amount
    unknown = memo[memo["memo_status"] == "amount_unknown"]
    for quarter, line, deal_id in zip(unknown["quarter"], unknown["memo_line"], unknown["deal_id"]):
        totals.at[quarter, line] = np.nan
        missing[quarter].append(f"{line}: {deal_id} has no amount")
    totals["memo_missing"] = [tuple(dict.fromkeys(missing[q])) for q in index]
    shown = memo[memo["memo_status"].isin(["counted", "amount_unknown", "not_covered"])]
    events: dict[object, list[str]] = {q: [] for q in index}
    for quarter, event_id in zip(shown["quarter"], shown["event_id"]):
        events[quarter].append(event_id)
    totals["memo_events"] = [tuple(events[q]) for q in index]
    return totals
