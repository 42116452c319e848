"""The forward view: what each capex-guidance vintage implies for the gap and new borrowing.

Pure pandas/numpy (no files, network or clock); nothing here changes its inputs. Guidance is in
USD billions and is converted to USD millions (x ``config.USD_MILLIONS_PER_BILLION``); every
result is in USD millions. Formulas are those of ``metrics.funding`` (internal funding, funding
gap and their bounds) applied to a trailing run-rate and the guided capex.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.config import USD_MILLIONS_PER_BILLION
from dashboard.errors import require_columns
from dashboard.metrics.funding import (
    basis_columns,
    funding_gap,
    internal_funding,
    internal_funding_upper_bound,
)
from dashboard.metrics.periods import (
    QUARTERS_PER_YEAR,
    calendar_quarter_label,
    calendar_ttm_label,
    calendar_year_label,
    fiscal_quarter_label,
    fiscal_year_label,
    quarter_calendar,
    ttm_label,
)

CAPEX_POINTS: tuple[str, ...] = ("low", "mid", "high")
FORWARD_COLUMNS: tuple[str, ...] = (
    "ticker", "statement_date", "guided_period", "period_basis", "run_rate_period", "run_rate_period_end",
    "trailing_operating_cash_flow", "trailing_buybacks", "trailing_dividends",
    "operating_cash_flow", "buybacks", "dividends", "internal_funding",
    "capex_low", "capex_mid", "capex_high",
    "funding_gap_low", "funding_gap_mid", "funding_gap_high",
    "divestment_proceeds", "implied_new_debt_low", "implied_new_debt_mid", "implied_new_debt_high",
    "assumptions", "missing", "source", "buybacks_basis", "wording",
    "internal_funding_upper_bound",
    "funding_gap_lower_bound_low", "funding_gap_lower_bound_mid", "funding_gap_lower_bound_high",
    "implied_new_debt_lower_bound_low", "implied_new_debt_lower_bound_mid", "implied_new_debt_lower_bound_high",
    "bound_missing", "guided_period_end",
)  # fmt: skip
_RUN_RATE_INPUTS: tuple[str, ...] = ("operating_cash_flow", "buybacks", "dividends")


def guided_period_end(guidance: pd.DataFrame, companies: pd.DataFrame | None) -> pd.Series:
    """The last day of the year each guidance row covers (on ``guidance``'s index).

    ``calendar_year`` guidance ends on 31 December; ``fiscal_year`` guidance at the end of the
    company's fiscal year-end month (``companies.fiscal_year_end_month``; December when the
    company is unknown). A fiscal year is named after the calendar year it ends in.
    """
    months = pd.Series(12, index=guidance.index)
    if companies is not None and not companies.empty:
        months = guidance["ticker"].map(companies.set_index("ticker")["fiscal_year_end_month"]).fillna(12).astype(int)
    months = months.where(guidance["period_basis"] == "fiscal_year", 12)
    firsts = pd.to_datetime({"year": guidance["fiscal_year"].astype(int), "month": months, "day": 1})
    return pd.Series(firsts + pd.offsets.MonthEnd(0), index=guidance.index)


def current_guidance(guidance: pd.DataFrame, *, as_of: pd.Timestamp, companies: pd.DataFrame | None) -> pd.DataFrame:
    """Per ticker, the latest statement for a year that has not ended by ``as_of``.

    ``as_of`` is the data's as-of date (never the clock): guidance for a year that ended on or
    before it is history, not "latest guidance". Among the statements for the current or a later
    year, the latest statement date wins; on the same date the nearer year. Indexed by ticker,
    with ``guided_period_end`` added. A ticker whose statements all cover ended years is absent.
    """
    if guidance.empty:
        return guidance.assign(guided_period_end=pd.Series(dtype="datetime64[ns]")).set_index("ticker")
    dated = guidance.assign(guided_period_end=guided_period_end(guidance, companies))
    open_years = dated[dated["guided_period_end"] > pd.Timestamp(as_of)]
    ordered = open_years.sort_values(["ticker", "statement_date", "guided_period_end"], ascending=[True, True, False])
    return ordered.groupby("ticker").tail(1).set_index("ticker")


def _run_rate(calendar: pd.DataFrame, values: pd.DataFrame, ticker: str, as_of: pd.Timestamp, calendar_basis: bool) -> dict:
    """Trailing four quarters ending with the latest one that ended on or before ``as_of``: exact
    sums (NaN where a quarter lacks the figure), and buybacks and dividends with missing quarters
    as 0 for the bounds."""
    index_column = "calendar_index" if calendar_basis else "fiscal_index"
    label_of = calendar_quarter_label if calendar_basis else fiscal_quarter_label
    own = calendar[(calendar["ticker"] == ticker) & (calendar["period_end"] <= as_of)]
    empty = {"label": "", "end": pd.NaT, "members": (), **{c: np.nan for c in _RUN_RATE_INPUTS},
             "bound_buybacks": np.nan, "bound_dividends": np.nan, "unknown": ()}  # fmt: skip
    if own.empty:
        return {**empty, "missing": (f"no quarter of {ticker} ended by {as_of.date().isoformat()}",)}
    last = int(own[index_column].max())
    year, quarter = divmod(last, QUARTERS_PER_YEAR)
    label = (calendar_ttm_label if calendar_basis else ttm_label)(year, quarter + 1)
    by_index = dict(zip(own[index_column], own.index))
    needed = range(last - QUARTERS_PER_YEAR + 1, last + 1)
    end = calendar.at[by_index[last], "period_end"]
    absent = [p for p in needed if p not in by_index]
    if absent:
        names = tuple(f"quarter {label_of(p // QUARTERS_PER_YEAR, p % QUARTERS_PER_YEAR + 1)}" for p in absent)
        return {**empty, "label": label, "end": end, "missing": names}
    members = tuple(by_index[p] for p in needed)
    rows = values.loc[list(members), list(_RUN_RATE_INPUTS)]
    unknown = tuple(c for c in rows.columns if rows[c].isna().any())
    totals = rows.sum(skipna=False)
    return {
        "label": label, "end": end, "members": members, "missing": unknown, "unknown": unknown,
        **{c: totals[c] for c in _RUN_RATE_INPUTS},
        "bound_buybacks": rows["buybacks"].sum(), "bound_dividends": rows["dividends"].sum(),
    }  # fmt: skip


def _check_what_if(ocf_growth: float, buyback_pace: float, dividends: float | None, dividend_pace: float,
                   divestment_proceeds: float, capex: float | None, capex_change: float) -> None:  # fmt: skip
    if not ocf_growth > -1:
        raise ValueError(f"ocf_growth must be greater than -1 (a decimal growth rate), not {ocf_growth!r}")
    if not capex_change > -1:
        raise ValueError(f"capex_change must be greater than -1 (a decimal change), not {capex_change!r}")
    for name, value in (("buyback_pace", buyback_pace), ("dividend_pace", dividend_pace),
                        ("divestment_proceeds", divestment_proceeds), ("dividends", dividends), ("capex", capex)):  # fmt: skip
        if value is not None and value < 0:
            raise ValueError(f"{name} must be >= 0, not {value!r}")


def forward_view(
    fundamentals: pd.DataFrame,
    guidance: pd.DataFrame,
    *,
    companies: pd.DataFrame | None,
    capex: float | None = None,
    capex_change: float = 0.0,
    ocf_growth: float = 0.0,
    buyback_pace: float = 1.0,
    dividends: float | None = None,
    dividend_pace: float = 1.0,
    divestment_proceeds: float = 0.0,
) -> pd.DataFrame:
    """Implied funding gap and new debt for each capex-guidance vintage (USD millions).

    One row per row of ``guidance`` (``load_guidance``: low/high in USD billions, converted here
    to USD millions). The run-rate is the trailing four quarters ending with the latest quarter
    whose period_end is on or before the statement date (no later data), on the guidance's own
    period basis: ``fiscal_year`` guidance uses fiscal quarters (``TTM to FY2025 Q3``);
    ``calendar_year`` guidance (Microsoft's 2026) the trailing four calendar quarters
    (``TTM to CY2026 Q1``). The quarter's end, not its report date, decides: a statement made
    between a quarter's end and its results (Microsoft's 2025-01-03 blog) uses that quarter,
    which the market did not know yet; ``run_rate_period`` names the window used.

    What-if parameters (the dashboard's sliders; defaults reproduce the run-rate):

    - ``capex``: guided-year capex in USD millions replacing the guidance range (low = mid =
      high = ``capex``); ``None`` keeps each vintage's range, mid = (low + high) / 2.
    - ``capex_change``: decimal change applied to the guided (or ``capex``) figures: capex_x x
      (1 + capex_change); > -1.
    - ``ocf_growth``: OCF = trailing OCF x (1 + ocf_growth); > -1.
    - ``buyback_pace``: multiple of trailing buybacks (0 = paused); >= 0.
    - ``dividends``: guided-year dividends in USD millions, replacing the trailing figure;
      ``dividend_pace``: multiple of the trailing (or given) dividends; >= 0.
    - ``divestment_proceeds``: expected divestment and asset-sale proceeds, USD millions, >= 0.

    Formulas: internal funding = OCF - buybacks - dividends; funding_gap_x = capex_x - internal
    funding; implied_new_debt_x = max(funding_gap_x - divestment_proceeds, 0), assuming the rest
    of the gap is borrowed (no cash drawdown, no equity); 0 means no borrowing is needed.

    Missing data: a trailing window with fewer than four quarters, or a missing OCF, buybacks or
    dividends in it, makes the exact results NaN and is named in ``missing`` (a tuple; a
    ``dividends`` override replaces the trailing figure, so missing trailing dividends then do
    not matter). Where only buybacks or dividends are missing, ``internal_funding_upper_bound``,
    ``funding_gap_lower_bound_x`` and ``implied_new_debt_lower_bound_x`` count them as 0 (the
    least the gap and the borrowing can be) and ``bound_missing`` names them; with every input
    known the bounds equal the exact figures. The guidance's capex basis varies by company
    (Meta's includes finance leases, Amazon's is cash capex): ``wording`` carries it. Empty
    guidance gives an empty frame with :data:`FORWARD_COLUMNS`. Inputs are not changed.
    """
    _check_what_if(ocf_growth, buyback_pace, dividends, dividend_pace, divestment_proceeds, capex, capex_change)
    require_columns(guidance, ("ticker", "statement_date", "fiscal_year", "period_basis", "low_usd_bn", "high_usd_bn"), "guidance")
    if guidance.empty:
        return pd.DataFrame(columns=list(FORWARD_COLUMNS))
    require_columns(fundamentals, ("ticker", "fiscal_year", "fiscal_quarter", "period_end", *_RUN_RATE_INPUTS), "fundamentals")
    fundamentals = fundamentals.reset_index(drop=True)
    calendar = quarter_calendar(fundamentals)
    values = fundamentals[list(_RUN_RATE_INPUTS)].astype(float)
    basis = basis_columns(guidance["ticker"], companies)
    period_ends = guided_period_end(guidance, companies)
    rows = []
    for position, (_, statement) in enumerate(guidance.iterrows()):
        calendar_basis = statement["period_basis"] == "calendar_year"
        as_of = pd.Timestamp(statement["statement_date"])
        trailing = _run_rate(calendar, values, statement["ticker"], as_of, calendar_basis)
        row = _forward_row(statement, trailing, calendar, capex=capex, capex_change=capex_change, ocf_growth=ocf_growth,
                           buyback_pace=buyback_pace, dividends=dividends, dividend_pace=dividend_pace,
                           divestment_proceeds=divestment_proceeds)  # fmt: skip
        year = int(statement["fiscal_year"])
        row["guided_period"] = calendar_year_label(year) if calendar_basis else fiscal_year_label(year)
        row["guided_period_end"] = period_ends.iat[position]
        row["buybacks_basis"] = basis["buybacks_basis"].iat[position]
        rows.append(row)
    return pd.DataFrame(rows, columns=list(FORWARD_COLUMNS))


def _forward_row(statement: pd.Series, trailing: dict, calendar: pd.DataFrame, *, capex: float | None, capex_change: float,
                 ocf_growth: float, buyback_pace: float, dividends: float | None, dividend_pace: float,
                 divestment_proceeds: float) -> dict:  # fmt: skip
    """One vintage's forward row from its run-rate and the what-if settings."""
    missing = list(trailing["missing"])
    unknown = list(trailing["unknown"])
    if dividends is not None:
        missing = [m for m in missing if m != "dividends"]
        unknown = [m for m in unknown if m != "dividends"]
    ocf = trailing["operating_cash_flow"] * (1 + ocf_growth)
    paid = (float(dividends) if dividends is not None and trailing["members"] else trailing["dividends"]) * dividend_pace
    paid_bound = (float(dividends) if dividends is not None and trailing["members"] else trailing["bound_dividends"]) * dividend_pace
    internal = internal_funding(ocf, trailing["buybacks"] * buyback_pace, paid)
    internal_bound = internal_funding_upper_bound(ocf, trailing["bound_buybacks"] * buyback_pace, paid_bound)
    if capex is None:
        guided = {"low": float(statement["low_usd_bn"]) * USD_MILLIONS_PER_BILLION,
                  "high": float(statement["high_usd_bn"]) * USD_MILLIONS_PER_BILLION}  # fmt: skip
    else:
        guided = {"low": float(capex), "high": float(capex)}
    guided = {point: value * (1 + capex_change) for point, value in guided.items()}
    guided["mid"] = (guided["low"] + guided["high"]) / 2
    gaps = {point: funding_gap(guided[point], internal) for point in CAPEX_POINTS}
    bounds = {point: funding_gap(guided[point], internal_bound) for point in CAPEX_POINTS}

    def borrowing(gap: float) -> float:
        return max(gap - divestment_proceeds, 0.0) if pd.notna(gap) else np.nan

    quarters_used = ", ".join(calendar.at[m, "fiscal_label"] for m in trailing["members"])
    capex_text = "capex = guidance USD bn x 1000" if capex is None else f"capex what-if {capex:,.0f}"
    return {
        "ticker": statement["ticker"],
        "statement_date": pd.Timestamp(statement["statement_date"]),
        "period_basis": statement["period_basis"],
        "run_rate_period": trailing["label"],
        "run_rate_period_end": trailing["end"],
        "trailing_operating_cash_flow": trailing["operating_cash_flow"],
        "trailing_buybacks": trailing["buybacks"],
        "trailing_dividends": trailing["dividends"],
        "operating_cash_flow": ocf,
        "buybacks": trailing["buybacks"] * buyback_pace,
        "dividends": paid,
        "internal_funding": internal,
        **{f"capex_{point}": guided[point] for point in CAPEX_POINTS},
        **{f"funding_gap_{point}": gaps[point] for point in CAPEX_POINTS},
        "divestment_proceeds": float(divestment_proceeds),
        **{f"implied_new_debt_{point}": borrowing(gaps[point]) for point in CAPEX_POINTS},
        "assumptions": (
            capex_text
            + (f" {capex_change:+.0%}" if capex_change else "")
            + f"; ocf_growth {ocf_growth:+.2%}; buyback_pace x{buyback_pace:g}; dividends "
            + ("trailing" if dividends is None else f"{dividends:,.0f}")
            + (f" x{dividend_pace:g}" if dividend_pace != 1 else "")
            + f"; divestment_proceeds {divestment_proceeds:,.0f}; rest of gap borrowed"
        ),
        "missing": tuple(missing),
        "source": (
            f"guidance.csv {statement['ticker']} {pd.Timestamp(statement['statement_date']).date().isoformat()}: {statement.get('source_url', '')}"
            + (f"; run-rate: fundamentals.csv sum of {quarters_used}" if quarters_used else "")
        ),
        "wording": statement.get("wording", ""),
        "internal_funding_upper_bound": internal_bound,
        **{f"funding_gap_lower_bound_{point}": bounds[point] for point in CAPEX_POINTS},
        **{f"implied_new_debt_lower_bound_{point}": borrowing(bounds[point]) for point in CAPEX_POINTS},
        "bound_missing": tuple(unknown) if pd.isna(internal) and pd.notna(internal_bound) else (),
    }
