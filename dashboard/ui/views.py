"""Small selections over metric outputs that several pages share (latest rows, labels).

No computation of metrics happens here: only picking rows of ``metrics`` results and joining
them with the curated tables for display.
"""

from __future__ import annotations

from typing import SupportsFloat

import pandas as pd

from dashboard import config
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


def cohort_summary(version: str, capex_basis: config.CapexBasis) -> pd.DataFrame:
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


def event_cars(version: str, model: config.Model, windows: tuple[tuple[int, int], ...], window: tuple[int, int]) -> pd.DataFrame:
    """The study's rows for one window, joined with each event's headline, amount and source."""
    result = cached.cached_event_study(version, model, windows)
    rows = result.events[(result.events["window_start"] == window[0]) & (result.events["window_end"] == window[1])]
    events = cached.cached_study_events(version)[
        [
            "event_id",
            "event_time",
            "headline",
            "description",
            "amount_usd_bn",
            "guided_change_usd_bn",
            "source_name",
            "source_url",
            "confidence",
            "stage",
        ]
    ]
    return rows.merge(events, on="event_id", how="left")


def cars_with_deal_size(version: str, cars: pd.DataFrame) -> pd.DataFrame:
    """``metrics.funding.relative_deal_size`` of ``cars`` against the cached TTM reported capex."""
    from dashboard.metrics.funding import relative_deal_size as relative_size

    return relative_size(cars, cached.cached_funding_table(version, "ttm", "reported"))


def flag_mark(notes: pd.DataFrame, columns: tuple[str, ...]) -> str:
    """A marker for a figure's label when a cell behind it is flagged: `` ⚑ provisional`` when
    one is provisional, `` ⚑`` for any other flag, "" when none."""
    flagged = notes[notes["column"].isin(columns)]
    if flagged.empty:
        return ""
    return " ⚑ provisional" if (flagged["flag"] == "provisional").any() else " ⚑"


def figure_help(definition: str, notes: pd.DataFrame, columns: tuple[str, ...], *, extra: str = "") -> str:
    """A metric's tooltip (Markdown-escaped): its definition, why it is a bound, and each quality
    flag of the cells behind it with the curators' note (``funding_flag_notes`` rows)."""
    parts = [escape_markdown(definition)]
    if extra:
        parts.append(escape_markdown(extra))
    flagged = notes[notes["column"].isin(columns)]
    for row in flagged.itertuples(index=False):
        parts.append(
            f"⚑ {escape_markdown(row.column)} {row.quarter_end.date().isoformat()}: "
            f"**{escape_markdown(row.flag)}** — {escape_markdown(row.note)}"
        )
    return "  \n".join(parts)


def _percent(value: SupportsFloat | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value):+.2%}"


def car_lines(detail: pd.DataFrame) -> list[str]:
    """One Markdown line per window of an event's study rows: CAR, t, p and the event's
    confidence beside it (``detail``: ``event_cars``-style rows with ``confidence``)."""
    lines = []
    for row in detail.itertuples(index=False):
        window = window_label((row.window_start, row.window_end))
        if row.status != "ok":
            lines.append(f"CAR {window}: n/a ({escape_markdown(row.status)})")
            continue
        lines.append(
            f"CAR {window}: **{_percent(row.car)}** (t {row.car_t:.2f}, p {row.car_p:.3f}) · "
            f"source confidence: {escape_markdown(getattr(row, 'confidence', 'n/a'))}"
        )
    return lines


def confounder_lines(version: str, model: config.Model, windows: tuple[tuple[int, int], ...], detail: pd.DataFrame) -> list[str]:
    """Markdown lines naming the events that confound ``detail``'s rows, with their headlines.

    An event that shares day 0 with another gets a plain statement that its CAR cannot be
    attributed to it alone (Meta's held-for-sale 10-Q shares day 0 with its Q2 2025 results).
    """
    if detail.empty or "confounded_by" not in detail.columns:
        return []
    result = cached.cached_event_study(version, model, windows)
    day0_of = result.events.drop_duplicates("event_id").set_index("event_id")["day0"]
    headlines = cached.cached_study_events(version).set_index("event_id")["headline"]
    own_day0 = detail["day0"].iloc[0]
    others = list(dict.fromkeys(e for ids in detail["confounded_by"] for e in ids))
    same_day = [e for e in others if e in day0_of.index and day0_of[e] == own_day0]
    lines = []
    if same_day:
        named = "; ".join(f"{escape_markdown(e)} ({escape_markdown(headlines.get(e, ''))})" for e in same_day)
        lines.append(
            f"**Shares day 0 ({own_day0.date().isoformat()}) with {named}.** The market took both at once, so this "
            "CAR cannot be attributed to this event alone."
        )
    for event_id in (e for e in others if e not in same_day):
        in_windows = [window_label((r.window_start, r.window_end)) for r in detail.itertuples() if event_id in r.confounded_by]
        when = day0_of.get(event_id)
        lines.append(
            f"Confounded in {', '.join(in_windows)} by {escape_markdown(event_id)} "
            f"({escape_markdown(headlines.get(event_id, ''))}, day 0 {when.date().isoformat() if pd.notna(when) else 'n/a'})."
        )
    return lines


def alternative_day0_lines(detail: pd.DataFrame) -> list[str]:
    """For an event whose time of day is unknown: where it would fall after the close, and the
    CARs there beside the ones shown (``day0_alt``, ``car_alt``)."""
    if detail.empty or "day0_alt" not in detail.columns or pd.isna(detail["day0_alt"].iloc[0]):
        return []
    first = detail.iloc[0]
    cars = "; ".join(
        f"{window_label((r.window_start, r.window_end))} {_percent(r.car_alt)} (shown: {_percent(r.car)})"
        for r in detail.itertuples(index=False)
    )
    return [
        f"Time of day unknown: placed on {first['day0'].date().isoformat()}. Had it come after the close, day 0 would be "
        f"{first['day0_alt'].date().isoformat()}, with CAR {cars}."
    ]


def group_confounding_lines(
    version: str,
    model: config.Model,
    windows: tuple[tuple[int, int], ...],
    window: tuple[int, int],
    summary: pd.DataFrame,
    chosen: pd.DataFrame,
) -> list[str]:
    """Markdown lines for the CAAR-by-type chart of one ``window``: each group whose events are
    all confounded, and each event in a group that shares day 0 with another event (its CAR can
    never be separated from the other's), with the other's headline."""
    lines = []
    if "all_confounded" in summary.columns:
        for group in summary.loc[summary["all_confounded"].astype(bool) & (summary["sample"] == "all"), "group"]:
            lines.append(
                f"**{escape_markdown(group)}**: every event in this window is confounded by another event of "
                "the same company, so the group does not measure its event type; no bar is drawn."
            )
    result = cached.cached_event_study(version, model, windows)
    rows = result.events[(result.events["window_start"] == window[0]) & (result.events["window_end"] == window[1])]
    rows = rows[rows["event_id"].isin(chosen["event_id"]) & (rows["status"] == "ok")]
    day0_of = result.events.drop_duplicates("event_id").set_index("event_id")["day0"]
    headlines = cached.cached_study_events(version).set_index("event_id")["headline"]
    for row in rows.itertuples(index=False):
        same_day = [e for e in getattr(row, "confounded_by", ()) if e in day0_of.index and day0_of[e] == row.day0]
        if same_day:
            named = "; ".join(f"{escape_markdown(e)} ({escape_markdown(headlines.get(e, ''))})" for e in same_day)
            lines.append(
                f"{escape_markdown(row.event_type)}: {escape_markdown(row.event_id)} "
                f"({escape_markdown(headlines.get(row.event_id, ''))}) shares day 0 ({row.day0.date().isoformat()}) with "
                f"{named}: its CAR cannot be attributed to it alone."
            )
    return lines
