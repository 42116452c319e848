"""SEC EDGAR company facts (XBRL JSON) -> quarterly fundamentals in USD millions: the normalize step.

``sec.fetch_companyfacts_raw`` brings the JSON; ``normalize_companyfacts`` is pure: facts are
deduplicated per (tag, start, end), placed by their ``start``/``end`` dates (never the filing's
``fy``/``fp``), year-to-date 10-Q cash-flow facts are differenced into quarters (Q4 = FY - 9M),
balances are read at quarter-end instants, and every value is converted to USD millions. Each
line tries a list of tags in order and records the one that answered. Commercial-paper lines are
read but kept apart: they never enter ``debt_issued`` or ``debt_repaid`` (long-term borrowing in
this dataset); they are reported beside the quarters. ``fundamentals_merge.merge_fundamentals``
then fills the curated table's gaps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from dashboard import config
from dashboard.fiscal_calendar import fiscal_period
from dashboard.loaders.column_kinds import FUNDAMENTAL_COLUMN_KINDS

# Flow lines: XBRL tags tried in order, per quarter; the first tag with a value answers (and is
# named in the row's source). The later tags are fallbacks for filers that use the wider element:
# PaymentsForRepurchaseOfEquity (any equity, e.g. preferred too), RepaymentsOfDebt and
# ProceedsFromIssuanceOfDebt (all borrowings; Oracle reports its repayments this way).
FLOW_TAGS: dict[str, tuple[str, ...]] = {
    "revenue": (
        "Revenues",
        "RevenueFromContractWithCustomerExcludingAssessedTax",
        "SalesRevenueNet",
    ),
    "operating_cash_flow": ("NetCashProvidedByUsedInOperatingActivities",),
    "capex": ("PaymentsToAcquirePropertyPlantAndEquipment", "PaymentsToAcquireProductiveAssets"),
    "finance_lease_principal": ("FinanceLeasePrincipalPayments",),
    "buybacks": ("PaymentsForRepurchaseOfCommonStock", "PaymentsForRepurchaseOfEquity"),
    "dividends": ("PaymentsOfDividends", "PaymentsOfDividendsCommonStock"),
    "asset_sale_proceeds": ("ProceedsFromSaleOfPropertyPlantAndEquipment",),
    "debt_issued": ("ProceedsFromIssuanceOfLongTermDebt", "ProceedsFromIssuanceOfDebt"),
    "debt_repaid": ("RepaymentsOfLongTermDebt", "RepaymentsOfDebt"),
    "equity_issued": ("ProceedsFromIssuanceOfCommonStock",),
}
# Commercial paper, kept apart from debt_issued/debt_repaid: the net change of paper of 90 days or
# less (may be negative), and the gross issues and repayments of longer paper. Reported in
# NormalizedFacts.commercial_paper and named in the quarter's source, never summed into a column.
COMMERCIAL_PAPER_TAGS: dict[str, tuple[str, ...]] = {
    "commercial_paper_net": ("ProceedsFromRepaymentsOfCommercialPaper",),
    "commercial_paper_issued": ("ProceedsFromCommercialPaper",),
    "commercial_paper_repaid": ("RepaymentsOfCommercialPaper",),
}
CASH_TAGS: tuple[str, ...] = ("CashAndCashEquivalentsAtCarryingValue",)
SECURITIES_TAGS: tuple[str, ...] = ("MarketableSecuritiesCurrent", "ShortTermInvestments")
# total_debt follows the company's basis (companies.csv total_debt_basis). No fallback from one
# basis to the other: LongTermDebt includes the current portion, LongTermDebtNoncurrent does not.
TOTAL_DEBT_TAGS: tuple[str, ...] = ("LongTermDebt",)
NONCURRENT_DEBT_TAGS: tuple[str, ...] = ("LongTermDebtNoncurrent",)

# Duration bands (days) that classify a flow fact: a quarter, or 6/9/12 months year-to-date.
_DURATION_MONTHS: tuple[tuple[int, int, int], ...] = ((3, 80, 100), (6, 170, 192), (9, 260, 285), (12, 350, 380))

# The fundamentals file's columns, in its order (the file's column kinds are their one home).
FUNDAMENTALS_COLUMNS: tuple[str, ...] = tuple(FUNDAMENTAL_COLUMN_KINDS)
# Long answers: one row per (quarter, line) with the tag that answered.
ANSWER_COLUMNS: list[str] = ["tag", "period_end", "fiscal_year", "fiscal_quarter", "value", "accn", "method", "column"]
PROVENANCE_COLUMNS: list[str] = ["ticker", "fiscal_year", "fiscal_quarter", "column", "tag", "accession", "method", "value"]


class NormalizedFacts(NamedTuple):
    """What ``normalize_companyfacts`` returns.

    - ``quarters``: the fundamentals schema (``FUNDAMENTALS_COLUMNS``), USD millions, one row per
      fiscal quarter with at least one value; ``source`` names each value's tag and accession,
      and the commercial-paper lines kept apart.
    - ``provenance``: one row per filled cell: ticker, fiscal_year, fiscal_quarter, column, tag,
      accession, method (``3M``, ``6M-3M``, ``9M-6M``, ``FY-9M``, ``instant``), value.
    - ``restatements``: facts reported with different values for the same (tag, start, end):
      tag, start, end, values (USD millions, as filed), chosen value and accession.
    - ``dropped``: facts that could not be placed, with the reason.
    - ``commercial_paper``: the commercial-paper lines found (``COMMERCIAL_PAPER_TAGS``), shaped
      like ``provenance`` with ``column`` naming the line; in no column of ``quarters``.
    """

    quarters: pd.DataFrame
    provenance: pd.DataFrame
    restatements: pd.DataFrame
    dropped: pd.DataFrame
    commercial_paper: pd.DataFrame


def _facts_frame(raw: Mapping[str, Any], tags: Sequence[str]) -> pd.DataFrame:
    """The USD facts of the given us-gaap tags as one frame (tag, start, end, val, accn, form, filed, frame)."""
    gaap = (raw.get("facts") or {}).get("us-gaap") or {}
    rows: list[dict[str, Any]] = []
    for tag in tags:
        for fact in ((gaap.get(tag) or {}).get("units") or {}).get("USD", []) or []:
            form = str(fact.get("form", ""))
            if not (form.startswith("10-K") or form.startswith("10-Q")):
                continue
            rows.append(
                {
                    "tag": tag,
                    "start": fact.get("start"),
                    "end": fact.get("end"),
                    "val": fact.get("val"),
                    "accn": fact.get("accn", ""),
                    "form": form,
                    "filed": fact.get("filed"),
                    "frame": fact.get("frame"),
                }
            )
    columns = ["tag", "start", "end", "val", "accn", "form", "filed", "frame"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["start"] = pd.to_datetime(frame["start"], errors="coerce")
    frame["end"] = pd.to_datetime(frame["end"], errors="coerce")
    frame["filed"] = pd.to_datetime(frame["filed"], errors="coerce")
    frame["val"] = pd.to_numeric(frame["val"], errors="coerce")
    frame["framed"] = frame["frame"].notna()
    return frame[frame["end"].notna() & frame["val"].notna()].reset_index(drop=True)


def deduplicate_facts(facts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One fact per (tag, start, end): the framed one, else the latest filed (then latest accession).

    Returns (kept facts, restatements): a restatement is a key whose facts carry more than one
    distinct value; it lists the values (USD millions) and the one kept. Pure.
    """
    keys = ["tag", "start", "end"]
    columns = ["tag", "start", "end", "values_musd", "kept_musd", "kept_accession"]
    ordered = facts.sort_values(["framed", "filed", "accn"], ascending=[False, False, False], kind="stable")
    kept = ordered.drop_duplicates(keys, keep="first")
    # Instants have no start: group on a filled copy so that NaT keys compare equal.
    key_frame = ordered.assign(start=ordered["start"].fillna(pd.Timestamp(0)))
    distinct = key_frame.groupby(keys, sort=True)["val"].agg(lambda v: sorted({x / 1e6 for x in v}))
    first = key_frame.groupby(keys, sort=True)[["val", "accn"]].first()
    restated = distinct[distinct.map(len) > 1]
    restatements = pd.DataFrame(
        {
            "tag": restated.index.get_level_values("tag"),
            "start": restated.index.get_level_values("start").where(restated.index.get_level_values("start") != pd.Timestamp(0)),
            "end": restated.index.get_level_values("end"),
            "values_musd": restated.to_list(),
            "kept_musd": (first.loc[restated.index, "val"] / 1e6).to_list(),
            "kept_accession": first.loc[restated.index, "accn"].to_list(),
        },
        columns=columns,
    )
    return kept.reset_index(drop=True), restatements.reset_index(drop=True)


def _duration_months(start: pd.Series, end: pd.Series) -> pd.Series:
    days = (end - start).dt.days + 1
    months = pd.Series(np.nan, index=start.index)
    for value, low, high in _DURATION_MONTHS:
        months = months.mask(days.between(low, high), value)
    return months


def _quarterly_flows(
    facts: pd.DataFrame, *, fiscal_year_end_month: int, fiscal_calendar: config.FiscalCalendar
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Per tag, quarterly values from deduplicated duration facts.

    A true three-month fact answers its quarter directly (``3M``). Otherwise quarter k is the
    difference of consecutive year-to-date facts that share the fiscal-year start: 6M - 3M, 9M - 6M,
    and Q4 = FY - 9M (``FY-9M``), where the 3M term is Q1's own fact (it is both a quarter and the
    first year-to-date). A fact of another length, or a multi-month fact that does not start at a
    fiscal-year start, is dropped with its reason.
    """
    dropped: list[dict[str, Any]] = []
    out_columns = ["tag", "period_end", "fiscal_year", "fiscal_quarter", "value", "accn", "method"]
    if facts.empty:
        return pd.DataFrame(columns=out_columns), dropped
    facts = facts.assign(months=_duration_months(facts["start"], facts["end"]))
    period = fiscal_period(facts["end"], fiscal_year_end_month=fiscal_year_end_month, fiscal_calendar=fiscal_calendar)
    facts = facts.assign(fiscal_year=period["fiscal_year"], fiscal_quarter=period["fiscal_quarter"])
    # A year-to-date fact starts the day after the previous fiscal year ended.
    year_start = (
        fiscal_period(facts["start"] - pd.Timedelta(days=1), fiscal_year_end_month=fiscal_year_end_month, fiscal_calendar=fiscal_calendar)[
            "fiscal_quarter"
        ]
        .eq(4)
        .fillna(False)
    )
    facts = facts.assign(year_start=year_start.to_numpy(dtype=bool))
    unplaced = facts["months"].isna() | facts["fiscal_quarter"].isna()
    for _, row in facts[unplaced].iterrows():
        reason = "not a quarter, 6, 9 or 12 months long" if pd.isna(row["months"]) else "end is not a fiscal quarter end"
        dropped.append({"tag": row["tag"], "start": row["start"], "end": row["end"], "reason": reason})
    facts = facts[~unplaced]
    ytd_wrong_start = (facts["months"] > 3) & ~facts["year_start"]
    for _, row in facts[ytd_wrong_start].iterrows():
        dropped.append(
            {"tag": row["tag"], "start": row["start"], "end": row["end"], "reason": "multi-month fact not from a fiscal-year start"}
        )
    facts = facts[~ytd_wrong_start]
    rows: list[dict[str, Any]] = []
    for (tag, fiscal_year), group in facts.groupby(["tag", "fiscal_year"], sort=True):
        quarters = group[group["months"] == 3].set_index("fiscal_quarter")
        ytd = {int(m // 3): r for m, r in group[group["year_start"]].set_index("months").iterrows()}
        # Q1's three-month fact is also the first year-to-date figure.
        for q in range(1, 5):
            if q in quarters.index:
                fact = quarters.loc[q]
                if isinstance(fact, pd.DataFrame):  # two 3M facts ending the same day: keep the latest filed
                    fact = fact.sort_values("filed").iloc[-1]
                rows.append(
                    {
                        "tag": tag,
                        "period_end": fact["end"],
                        "fiscal_year": int(fiscal_year),
                        "fiscal_quarter": q,
                        "value": fact["val"],
                        "accn": fact["accn"],
                        "method": "3M",
                    }
                )
            elif q >= 2 and q in ytd and (q - 1) in ytd:
                current, previous = ytd[q], ytd[q - 1]
                rows.append(
                    {
                        "tag": tag,
                        "period_end": current["end"],
                        "fiscal_year": int(fiscal_year),
                        "fiscal_quarter": q,
                        "value": current["val"] - previous["val"],
                        "accn": current["accn"],
                        "method": "FY-9M" if q == 4 else f"{3 * q}M-{3 * (q - 1)}M",
                    }
                )
    return pd.DataFrame(rows, columns=out_columns), dropped


def _quarter_instants(facts: pd.DataFrame, *, fiscal_year_end_month: int, fiscal_calendar: config.FiscalCalendar) -> pd.DataFrame:
    """Instant facts (no ``start``) placed at the fiscal quarter their ``end`` closes."""
    columns = ["tag", "period_end", "fiscal_year", "fiscal_quarter", "value", "accn", "method"]
    instants = facts[facts["start"].isna()]
    if instants.empty:
        return pd.DataFrame(columns=columns)
    period = fiscal_period(instants["end"], fiscal_year_end_month=fiscal_year_end_month, fiscal_calendar=fiscal_calendar)
    placed = instants.assign(fiscal_year=period["fiscal_year"], fiscal_quarter=period["fiscal_quarter"])
    placed = placed[placed["fiscal_quarter"].notna()]
    return pd.DataFrame(
        {
            "tag": placed["tag"],
            "period_end": placed["end"],
            "fiscal_year": placed["fiscal_year"].astype(int),
            "fiscal_quarter": placed["fiscal_quarter"].astype(int),
            "value": placed["val"],
            "accn": placed["accn"],
            "method": "instant",
        },
        columns=columns,
    )


def _first_tag_answers(values: pd.DataFrame, tags: Sequence[str], column: str) -> pd.DataFrame:
    """Per fiscal quarter, the value of the first tag in ``tags`` that has one."""
    if values.empty:
        return values.assign(column=column)
    rank = {tag: i for i, tag in enumerate(tags)}
    chosen = values[values["tag"].isin(rank)].assign(rank=lambda f: f["tag"].map(rank))
    chosen = chosen.sort_values(["fiscal_year", "fiscal_quarter", "rank"]).drop_duplicates(["fiscal_year", "fiscal_quarter"], keep="first")
    return chosen.drop(columns="rank").assign(column=column)


def _tags_of(lines: Mapping[str, Sequence[str]]) -> list[str]:
    return [tag for tags in lines.values() for tag in tags]


def _cash_and_securities(instants: pd.DataFrame) -> pd.DataFrame:
    """Per quarter-end, cash and equivalents + current marketable securities; no row where either
    is missing (never a silent zero)."""
    cash = _first_tag_answers(instants, CASH_TAGS, "cash")
    securities = _first_tag_answers(instants, SECURITIES_TAGS, "securities")
    both = cash.merge(securities, on=["fiscal_year", "fiscal_quarter"], suffixes=("", "_sec"))
    return pd.DataFrame(
        {
            "tag": both["tag"] + "+" + both["tag_sec"],
            "period_end": both["period_end"],
            "fiscal_year": both["fiscal_year"],
            "fiscal_quarter": both["fiscal_quarter"],
            "value": both["value"] + both["value_sec"],
            "accn": both["accn"],
            "method": "instant",
            "column": "cash_and_securities",
        },
        columns=ANSWER_COLUMNS,
    )


def _long_answers(answers: list[pd.DataFrame], since: pd.Timestamp | str | None) -> pd.DataFrame:
    """The answers as one long frame from ``since`` on, values in USD millions."""
    present = [a for a in answers if not a.empty]
    long = pd.concat(present, ignore_index=True) if present else pd.DataFrame(columns=ANSWER_COLUMNS)
    if since is not None and not long.empty:
        long = long[long["period_end"] >= pd.Timestamp(since)]
    return long.assign(value=long["value"].astype(float) / 1e6)


def _provenance(long: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """One row per answer: which tag, filing and method gave each (quarter, column)."""
    out = long.assign(ticker=ticker).rename(columns={"accn": "accession"})[PROVENANCE_COLUMNS]
    return out.sort_values(["fiscal_year", "fiscal_quarter", "column"]).reset_index(drop=True)


def normalize_companyfacts(
    raw: Mapping[str, Any],
    *,
    fiscal_year_end_month: int,
    ticker: str = "",
    fiscal_calendar: config.FiscalCalendar = "month_end",
    total_debt_tags: Sequence[str] = TOTAL_DEBT_TAGS,
    since: pd.Timestamp | str | None = None,
) -> NormalizedFacts:
    """SEC company-facts JSON -> quarterly fundamentals in USD millions (pure).

    For each line the tags of ``FLOW_TAGS`` (and cash, securities, ``total_debt_tags``) are tried in
    order per quarter; the first with a value answers and is recorded. Facts are deduplicated per
    (tag, start, end) (framed, else latest filed; differing values are reported as restatements),
    placed by their own ``start``/``end`` and the fiscal-year-end month (a fiscal year is named after
    the calendar year it ends in; 52/53-week quarters by their nearest month-end). Flows: a true
    3-month fact, else the difference of year-to-date facts (Q2 = 6M - Q1, Q3 = 9M - 6M,
    Q4 = FY - 9M). Balances at the quarter-end instant: cash_and_securities = cash and equivalents
    + current marketable securities (NaN when either is missing: no silent zero); total_debt from
    ``total_debt_tags``. Commercial paper (``COMMERCIAL_PAPER_TAGS``) is read the same way but
    kept apart (``commercial_paper``), never added to debt_issued or debt_repaid. Values are
    ``val / 1e6``. ``since`` drops quarters ending earlier. A quarter with no value at all is left
    out; no fact at all gives empty frames. ``raw`` is not modified.
    """
    flow_tags = _tags_of(FLOW_TAGS) + _tags_of(COMMERCIAL_PAPER_TAGS)
    instant_tags = [*CASH_TAGS, *SECURITIES_TAGS, *total_debt_tags]
    facts, restatements = deduplicate_facts(_facts_frame(raw, list(dict.fromkeys(flow_tags + instant_tags))))
    flows, dropped = _quarterly_flows(
        facts[facts["tag"].isin(flow_tags) & facts["start"].notna()],
        fiscal_year_end_month=fiscal_year_end_month,
        fiscal_calendar=fiscal_calendar,
    )
    instants = _quarter_instants(
        facts[facts["tag"].isin(instant_tags)], fiscal_year_end_month=fiscal_year_end_month, fiscal_calendar=fiscal_calendar
    )
    answers = [_first_tag_answers(flows, tags, column) for column, tags in FLOW_TAGS.items()]
    answers += [_first_tag_answers(instants, total_debt_tags, "total_debt"), _cash_and_securities(instants)]
    long = _long_answers(answers, since)
    apart = _long_answers([_first_tag_answers(flows, tags, line) for line, tags in COMMERCIAL_PAPER_TAGS.items()], since)
    quarters = _quarters_from_long(long, apart, ticker=ticker, cik=raw.get("cik"))
    dropped_frame = pd.DataFrame(dropped, columns=["tag", "start", "end", "reason"])
    return NormalizedFacts(quarters, _provenance(long, ticker), restatements, dropped_frame, _provenance(apart, ticker))


def _notes(long: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per quarter, ``column: tag accession (method)`` of each answer, joined with `` ; ``."""
    ordered = long.sort_values("column")
    return ordered.groupby(keys).apply(
        lambda g: " ; ".join(f"{c}: {t} {a} ({m})" for c, t, a, m in zip(g["column"], g["tag"], g["accn"], g["method"], strict=True)),
        include_groups=False,
    )


def _quarters_from_long(long: pd.DataFrame, apart: pd.DataFrame, *, ticker: str, cik: Any) -> pd.DataFrame:
    """Wide fundamentals rows from long (fiscal quarter, column, value) answers; ``apart`` (the
    commercial-paper lines) is only named in the source of the quarters that have a row."""
    if long.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=float) for c in FUNDAMENTALS_COLUMNS})
        return empty.astype({"ticker": "str", "source": "str", "fiscal_year": int, "fiscal_quarter": int, "period_end": "datetime64[us]"})
    keys = ["fiscal_year", "fiscal_quarter"]
    wide = long.pivot_table(index=keys, columns="column", values="value", aggfunc="first")
    # A quarter's end: the flow facts' end, else the balance instant (they agree in filed data).
    period_end = long.sort_values("method").groupby(keys)["period_end"].max()
    label = f"SEC EDGAR companyfacts CIK{int(cik):010d}" if cik is not None else "SEC EDGAR companyfacts"
    notes = f"{label}: " + _notes(long, keys)
    if not apart.empty:
        kept_apart = "commercial paper kept apart (not in debt_issued or debt_repaid): " + _notes(apart, keys)
        notes = notes.add(" ; " + kept_apart.reindex(notes.index), fill_value="")
    out = wide.reindex(columns=list(config.FUNDAMENTAL_VALUE_COLUMNS)).reset_index()
    out.insert(0, "ticker", ticker)
    out.insert(3, "period_end", period_end.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy())
    out["source"] = notes.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy()
    out = out.astype({"fiscal_year": int, "fiscal_quarter": int, "ticker": "str", "source": "str"})
    out["period_end"] = pd.to_datetime(out["period_end"]).astype("datetime64[us]")
    out.columns.name = None
    return out[list(FUNDAMENTALS_COLUMNS)].sort_values("period_end", kind="stable").reset_index(drop=True)
