"""Small selections over metric outputs that several pages share (latest rows, labels).

No computation of metrics happens here: only picking rows of ``metrics`` results and joining
them with the curated tables for display.
"""
from __future__ import annotations

import pandas as pd

from dashboard.ui import cached
from dashboard.ui.text import escape_markdown, missing_reason, usd_bn


def latest_rows(table: pd.DataFrame, *, require: str | None = None) -> pd.DataFrame:
    """Per ticker, the row with the latest ``period_end`` (where ``require`` is not NaN, if given)."""
    rows = table if require is None else table[table[require].notna()]
    if rows.empty:
        return rows
    return rows.sort_values("period_end").groupby("ticker", sort=False).tail(1).set_index("ticker")


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

    from dashboard.metrics import event_study, event_tests, forward, funding, memo_lines, periods, returns, trading_calendar

    documented = [
        ("Funding gap (metrics/funding.py)", funding),
        ("Memo lines (metrics/memo_lines.py)", memo_lines),
        ("Periods and calendarization (metrics/periods.py)", periods),
        ("Returns (metrics/returns.py)", returns),
        ("Day 0 (metrics/trading_calendar.py)", trading_calendar),
        ("Event study (metrics/event_study.py)", event_study),
        ("Significance tests (metrics/event_tests.py)", event_tests),
        ("Forward view (metrics.forward.forward_view)", forward.forward_view),
    ]
    return [(title, inspect.getdoc(item) or "") for title, item in documented]


def frontier_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Per ticker, the latest row whose funding gap is known exactly or bounded (capex and
    operating cash flow known): the period a page opens on. Indexed by ticker."""
    return latest_rows(table, require="funding_gap_lower_bound")


def gap_text(row: pd.Series | dict, *, prefix: str = "funding_gap") -> str:
    """The gap of a funding-table (or forward-view) row in words: ``$12.3 bn`` when exact,
    ``at least $12.3 bn`` when only bounded, ``a surplus of at most $4.0 bn`` for a negative
    bound, ``n/a`` when neither is known. ``prefix``: ``funding_gap`` (lower bound in
    ``funding_gap_lower_bound``) or a forward-view column such as ``funding_gap_mid``
    (``funding_gap_lower_bound_mid``); ``implied_new_debt_mid`` works the same way."""
    exact = row.get(prefix)
    if exact is not None and pd.notna(exact):
        return usd_bn(exact) if float(exact) >= 0 or not prefix.startswith("funding_gap") else f"a surplus of {usd_bn(-float(exact))}"
    base, _, point = prefix.rpartition("_") if prefix.endswith(("_low", "_mid", "_high")) else (prefix, "", "")
    bound = row.get(f"{base}_lower_bound_{point}" if point else f"{prefix}_lower_bound")
    if bound is None or pd.isna(bound):
        return "n/a"
    if float(bound) < 0:
        return f"a surplus of at most {usd_bn(-float(bound))}"
    return f"at least {usd_bn(bound)}"


def bound_reason(row: pd.Series | dict) -> str:
    """Why a figure is a bound, in words ("" when exact): the missing outflows counted as 0."""
    names = tuple(row.get("bound_missing", ()) or ())
    if not names:
        return ""
    return f"a bound: {', '.join(names)} not reported, counted as 0 (they can only add to the gap)"


def cohort_summary(version: str, capex_basis: str) -> pd.DataFrame:
    """One row per company for the overview, every figure of a row from one period: the latest
    TTM whose gap is known or bounded (``funding_table(period="ttm")``), named in ``period`` and
    ``period_end``. Also the current capex guidance (the latest statement for a year that has not
    ended at the data's as-of date) and the latest event. Missing figures stay NaN with the
    reason in ``note``."""
    companies = cached.cached_companies(version)
    ttm = cached.cached_funding_table(version, "ttm", capex_basis)
    frontier = frontier_rows(ttm)
    last_rows = latest_rows(ttm)
    guidance = cached.cached_current_guidance(version)
    events = cached.cached_events(version).sort_values("event_date").groupby("ticker").tail(1).set_index("ticker")
    figures = ("capex", "funding_gap", "funding_gap_lower_bound", "self_funded_share", "debt_coverage", "divestment_coverage")
    records = []
    for ticker, name in zip(companies["ticker"], companies["name"]):
        record: dict[str, object] = {"ticker": ticker, "company": name}
        notes = []
        if ticker in frontier.index:
            row = frontier.loc[ticker]
            record.update({"period": row["period"], "period_end": row["period_end"]})
            record.update({column: row[column] for column in figures})
            record["gap_is_bound"] = pd.isna(row["funding_gap"])
            record["bound_missing"] = row["bound_missing"]
            record["quality_flags"] = row["quality_flags"]
            if record["gap_is_bound"]:
                notes.append(bound_reason(row))
            if last_rows.at[ticker, "period"] != row["period"]:
                notes.append(f"{last_rows.at[ticker, 'period']}: {missing_reason(last_rows.at[ticker, 'missing'])}")
        else:
            record.update({"period": None, "period_end": pd.NaT, **{column: float("nan") for column in figures}})
            record.update({"gap_is_bound": False, "bound_missing": (), "quality_flags": ()})
            notes.append("no fundamentals in the data" if ticker not in last_rows.index else "no TTM with capex and operating cash flow")
        if ticker in guidance.index:
            g = guidance.loc[ticker]
            prefix = "CY" if g["period_basis"] == "calendar_year" else "FY"
            record["guidance"] = f"{prefix}{int(g['fiscal_year'])}: ${g['low_usd_bn']:,.0f}–{g['high_usd_bn']:,.0f} bn"
            record["guidance_date"] = g["statement_date"]
            record["guidance_source"] = g["source_url"]
        else:
            record["guidance"], record["guidance_date"], record["guidance_source"] = None, pd.NaT, None
            notes.append("no capex guidance for a year not yet ended")
        if ticker in events.index:
            e = events.loc[ticker]
            record["latest_event_date"] = e["event_date"]
            record["latest_event"] = e["headline"]
            record["latest_event_source"] = e["source_url"]
        else:
            record["latest_event_date"], record["latest_event"], record["latest_event_source"] = pd.NaT, None, None
        record["note"] = "; ".join(n for n in notes if n)
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


def cars_with_deal_size(version: str, cars: pd.DataFrame) -> pd.DataFrame:
    """``metrics.funding.relative_deal_size`` of ``cars`` against the cached TTM reported capex."""
    from dashboard.metrics.funding import relative_deal_size as relative_size

    return relative_size(cars, cached.cached_funding_table(version, "ttm", "reported"))
