"""Small selections over metric outputs that several pages share (latest rows, labels).

No computation of metrics happens here: only picking rows of ``metrics`` results and joining
them with the curated tables for display.
"""
from __future__ import annotations

import pandas as pd

from dashboard.ui import cached
from dashboard.ui.text import escape_markdown


def latest_rows(table: pd.DataFrame, *, require: str | None = None) -> pd.DataFrame:
    """Per ticker, the row with the latest ``period_end`` (where ``require`` is not NaN, if given)."""
    rows = table if require is None else table[table[require].notna()]
    if rows.empty:
        return rows
    return rows.sort_values("period_end").groupby("ticker", sort=False).tail(1).set_index("ticker")


def split_missing(missing: object) -> tuple[list[str], list[str]]:
    """``metrics.funding.split_missing``: (bridge inputs, memo-line reasons) of a ``missing`` text."""
    from dashboard.metrics.funding import split_missing as split

    return split(missing)


def without_fundamentals_note(version: str) -> str:
    """A Markdown-escaped sentence naming the covered companies with no fundamentals in the data ("" if none)."""
    companies = cached.cached_companies(version)
    have = set(cached.cached_fundamentals(version)["ticker"])
    names = companies.loc[~companies["ticker"].isin(have), "name"].tolist()
    if not names:
        return ""
    named = " and ".join(escape_markdown(name) for name in names)
    return f"{named} {'has' if len(names) == 1 else 'have'} no fundamentals in the data."


def early_price_ends_note(version: str) -> str:
    """A Markdown-escaped sentence naming the price series that stop before the prices' as-of date ("" if none)."""
    coverage = cached.cached_price_coverage(version)
    last = coverage["last_date"].max()
    early = coverage[coverage["last_date"] < last].sort_values("last_date")
    if early.empty:
        return "Every series runs to the prices' as-of date."
    ends = ", ".join(f"{escape_markdown(ticker)} ends {end.date().isoformat()}" for ticker, end in early["last_date"].items())
    return f"{ends}; the rest run to the prices' as-of date ({last.date().isoformat()})."


def methodology_docs() -> list[tuple[str, str]]:
    """(title, text) of each metrics module's documentation, and of the forward view: the
    definitions and formulas exactly as the code states them."""
    import inspect

    from dashboard.metrics import event_study, event_tests, funding, periods, returns, trading_calendar

    documented = [
        ("Funding gap (metrics/funding.py)", funding),
        ("Periods and calendarization (metrics/periods.py)", periods),
        ("Returns (metrics/returns.py)", returns),
        ("Day 0 (metrics/trading_calendar.py)", trading_calendar),
        ("Event study (metrics/event_study.py)", event_study),
        ("Significance tests (metrics/event_tests.py)", event_tests),
        ("Forward view (metrics.funding.forward_view)", funding.forward_view),
    ]
    return [(title, inspect.getdoc(item) or "") for title, item in documented]


def latest_guidance(version: str) -> pd.DataFrame:
    """Per ticker, the most recent guidance statement (by statement date, then guided year)."""
    guidance = cached.cached_guidance(version)
    return guidance.sort_values(["statement_date", "fiscal_year"]).groupby("ticker").tail(1).set_index("ticker")


def cohort_summary(version: str, capex_basis: str) -> pd.DataFrame:
    """One row per company for the overview: trailing capex, latest guidance, the latest known
    funding gap and its coverage ratios (``funding_table(period="ttm")``), latest event. Missing
    figures stay NaN with the reason in ``note``."""
    companies = cached.cached_companies(version)
    ttm = cached.cached_funding_table(version, "ttm", capex_basis)
    capex_rows = latest_rows(ttm, require="capex")
    gap_rows = latest_rows(ttm, require="funding_gap")
    last_rows = latest_rows(ttm)
    guidance = latest_guidance(version)
    events = cached.cached_events(version).sort_values("event_date").groupby("ticker").tail(1).set_index("ticker")
    records = []
    for ticker, name in zip(companies["ticker"], companies["name"]):
        record: dict[str, object] = {"ticker": ticker, "company": name}
        notes = []
        if ticker in capex_rows.index:
            record["ttm_capex_period"] = capex_rows.at[ticker, "period"]
            record["ttm_capex"] = capex_rows.at[ticker, "capex"]
        else:
            record["ttm_capex_period"], record["ttm_capex"] = None, float("nan")
            notes.append("no fundamentals in the data" if ticker not in last_rows.index else "no complete TTM capex")
        if ticker in gap_rows.index:
            row = gap_rows.loc[ticker]
            record["gap_period"] = row["period"]
            for column in ("funding_gap", "self_funded_share", "debt_coverage", "divestment_coverage"):
                record[column] = row[column]
            if ticker in last_rows.index and last_rows.at[ticker, "period"] != row["period"]:
                notes.append(
                    f"gap for {last_rows.at[ticker, 'period']} n/a ({', '.join(split_missing(last_rows.at[ticker, 'missing'])[0])})"
                )
        else:
            record["gap_period"] = None
            for column in ("funding_gap", "self_funded_share", "debt_coverage", "divestment_coverage"):
                record[column] = float("nan")
            if ticker in last_rows.index:
                notes.append(f"gap n/a ({', '.join(split_missing(last_rows.at[ticker, 'missing'])[0])})")
        if ticker in guidance.index:
            g = guidance.loc[ticker]
            prefix = "CY" if g["period_basis"] == "calendar_year" else "FY"
            record["guidance"] = f"{prefix}{int(g['fiscal_year'])}: ${g['low_usd_bn']:,.0f}–{g['high_usd_bn']:,.0f} bn"
            record["guidance_date"] = g["statement_date"]
            record["guidance_source"] = g["source_url"]
        else:
            record["guidance"], record["guidance_date"], record["guidance_source"] = None, pd.NaT, None
            notes.append("no capex guidance in the data")
        if ticker in events.index:
            e = events.loc[ticker]
            record["latest_event_date"] = e["event_date"]
            record["latest_event"] = e["headline"]
            record["latest_event_source"] = e["source_url"]
        else:
            record["latest_event_date"], record["latest_event"], record["latest_event_source"] = pd.NaT, None, None
        record["note"] = "; ".join(notes)
        records.append(record)
    return pd.DataFrame.from_records(records)


def window_label(window: tuple[int, int]) -> str:
    return f"[{window[0]}, {window[1]}]"


def event_cars(version: str, model: str, windows: tuple[tuple[int, int], ...], window: tuple[int, int]) -> pd.DataFrame:
    """The study's rows for one window, joined with each event's headline, amount and source."""
    result = cached.cached_event_study(version, model, windows)
    rows = result.events[(result.events["window_start"] == window[0]) & (result.events["window_end"] == window[1])]
    events = cached.cached_events(version)[
        ["event_id", "event_time", "headline", "description", "amount_usd_bn", "source_name", "source_url", "confidence", "stage"]
    ]
    return rows.merge(events, on="event_id", how="left")


def relative_deal_size(version: str, cars: pd.DataFrame) -> pd.DataFrame:
    """``metrics.funding.relative_deal_size`` of ``cars`` against the cached TTM reported capex."""
    from dashboard.metrics.funding import relative_deal_size as relative_size

    return relative_size(cars, cached.cached_funding_table(version, "ttm", "reported"))
