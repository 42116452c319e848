"""SEC filings against the curated events (pure): scope, suggested type, matching, and the tables
the app and the command line show.

- **Scope** (``filings_in_scope``): 8-K items of ``config.FILING_8K_ITEMS``, and the forms of
  ``config.FILING_FORMS`` (exact form names: amendments are out).
- **Suggested type** (``suggested_event_types``): from the highest-priority in-scope item, or the
  form, by ``config.FILING_SUGGESTED_TYPES``. A suggestion for review, never applied.
- **Matching** (``match_filings_to_events``): a curated event of the same ticker that cites the
  filing's accession in its ``source_url`` with day 0 within ``config.FILING_MATCH_SESSIONS``
  sessions; else one of a type the filing may confirm (``config.FILING_COMPATIBLE_TYPES``) within
  those sessions; else one that cites it from further away (a later report: linked, no timing
  suggestion). One event -> ``matched``; several -> ``ambiguous`` (all named); none -> ``new``.
- **For the app**: ``filing_candidates`` (the review table, with each filing's day 0 from
  ``times.filing_day0``), ``event_filing_suggestions`` (per curated event, what its earliest
  matched filing suggests and whether day 0 would move), ``review_queue_events`` (the new
  filings shaped as a user's events, to study for a session).

Nothing here reads files, the network or the clock; no input is modified.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from dashboard import config
from dashboard.metrics.filings.times import exchange_hours_by_calendar, filing_day0
from dashboard.metrics.trading_calendar import (
    DEFAULT_CALENDAR,
    event_calendars,
    map_day0,
)

ACCESSION_PATTERN = re.compile(r"\d{10}-\d{2}-\d{6}")
_ARCHIVE_FOLDER = re.compile(r"/Archives/edgar/data/\d+/(\d{18})(?:/|$)")
NEW = "new"

# What match_filings_to_events adds to each filing, in order.
MATCH_COLUMNS: tuple[str, ...] = (
    "matched_event_id",
    "status",
    "changes_event_day0",
    "event_day0",
    "candidate_event_ids",
    "match_basis",
)
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "ticker",
    "accession",
    "form",
    "items",
    "filing_date",
    "accepted_et",
    "time_source",
    "day0",
    "day0_reason",
    "suggested_event_type",
    "document_url",
    *MATCH_COLUMNS,
    "suggested_event_date",
    "suggested_event_time",
    "suggestion_note",
    "title",
    "time_basis",
    "cik",
)


# --- scope and suggested type -------------------------------------------------------------------


def scope_keys(form: str, items: Iterable[str]) -> tuple[str, ...]:
    """The in-scope keys of one filing: an 8-K's in-scope items in priority order
    (``config.FILING_8K_ITEMS``), another in-scope form's name, or ``()`` when out of scope
    (an 8-K without an in-scope item included)."""
    if form == "8-K":
        present = set(items)
        return tuple(item for item in config.FILING_8K_ITEMS if item in present)
    return (form,) if form in config.FILING_FORMS else ()


def filings_in_scope(filings: pd.DataFrame, *, since: pd.Timestamp | str | None = None) -> pd.DataFrame:
    """The in-scope filings (a copy) with a ``scope_keys`` column (tuples), filed on or after
    ``since`` (``filing_date``, a date) when given. Needs ``form``, ``items`` (tuples) and
    ``filing_date``. Empty input gives an empty frame with the column."""
    keys = pd.Series(
        [scope_keys(str(form), items) for form, items in zip(filings["form"], filings["items"], strict=True)],
        index=filings.index,
        dtype=object,
    )
    keep = keys.map(bool).astype(bool)
    if since is not None:
        keep &= pd.to_datetime(filings["filing_date"]) >= pd.Timestamp(since)
    out = filings[keep].copy()
    out["scope_keys"] = keys[keep]
    return out


def _compatible(keys: tuple[str, ...]) -> tuple[str, ...]:
    allowed = {t for key in keys for t in config.FILING_COMPATIBLE_TYPES[key]}
    return tuple(t for t in config.EVENT_TYPES if t in allowed)


def _key_label(key: str) -> str:
    return f"item {key}" if key in config.FILING_8K_ITEMS else key


def suggestion_note(keys: tuple[str, ...]) -> str:
    """Why a filing got its suggested type, and what a reviewer should check."""
    if not keys:
        return ""
    first = keys[0]
    text = f"suggested from {_key_label(first)}, for review (never applied to events.csv)"
    notes = [f"{_key_label(k)}: {config.FILING_REVIEW_NOTES[k]}" for k in keys if k in config.FILING_REVIEW_NOTES]
    return text + ("; " + "; ".join(notes) if notes else "")


def filing_title(form: str, keys: tuple[str, ...]) -> str:
    """A short label: the form and its in-scope items in words (``8-K 2.02 Results of ...``)."""
    if form == "8-K":
        return "8-K " + "; ".join(f"{k} {config.FILING_8K_ITEMS[k]}" for k in keys)
    return f"{form} {config.FILING_FORMS.get(form, '')}".strip()


def suggested_event_types(filings: pd.DataFrame) -> pd.DataFrame:
    """Per in-scope filing (``form``, ``scope_keys``): ``suggested_event_type`` (from the first
    key, ``config.FILING_SUGGESTED_TYPES``), ``compatible_types`` (the curated types it may
    confirm: the union over its keys, in ``config.EVENT_TYPES`` order), ``suggestion_note`` and
    ``title``. Same index as the input."""
    keys = filings["scope_keys"]
    return pd.DataFrame(
        {
            "suggested_event_type": [config.FILING_SUGGESTED_TYPES[k[0]] for k in keys],
            "compatible_types": pd.Series([_compatible(k) for k in keys], index=filings.index, dtype=object),
            "suggestion_note": [suggestion_note(k) for k in keys],
            "title": [filing_title(str(f), k) for f, k in zip(filings["form"], keys, strict=True)],
        },
        index=filings.index,
    )


# --- curated events and matching ----------------------------------------------------------------


def accession_from_url(url: object) -> str | None:
    """The accession number a sec.gov address cites, as ``##########-##-######``, else None.

    Reads an EDGAR archive folder (``/Archives/edgar/data/<cik>/<18 digits>/...``) or an accession
    written with dashes anywhere in the path (``...-index.htm``). Only http(s) addresses on
    ``sec.gov`` or its subdomains count; anything else (other hosts, a company search page, NaN)
    is None.
    """
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not (host == "sec.gov" or host.endswith(".sec.gov")):
        return None
    folder = _ARCHIVE_FOLDER.search(parts.path)
    if folder:
        digits = folder.group(1)
        return f"{digits[:10]}-{digits[10:12]}-{digits[12:]}"
    dashed = ACCESSION_PATTERN.search(parts.path)
    return dashed.group(0) if dashed else None


def event_accessions(events: pd.DataFrame) -> pd.Series:
    """Each curated event's cited accession (from a sec.gov ``source_url``), NA elsewhere."""
    urls = events["source_url"] if "source_url" in events.columns else pd.Series(None, index=events.index, dtype=object)
    return pd.Series([accession_from_url(url) for url in urls], index=events.index, dtype="str", name="accession")


def _session_positions(day0: pd.Series, sessions: pd.DatetimeIndex) -> np.ndarray:
    """Position of each day 0 among the sessions; -1 for NaT or a date that is not a session."""
    grid = sessions.to_numpy()
    values = pd.to_datetime(day0).astype("datetime64[ns]").to_numpy()
    position = np.searchsorted(grid, values, side="left")
    safe = np.minimum(position, max(len(grid) - 1, 0))
    ok = ~np.isnat(values) & (position < len(grid))
    ok &= grid[safe] == values if len(grid) else False
    return np.where(ok, position, -1)


def _candidate_events(
    filings: pd.DataFrame,
    events: pd.DataFrame,
    *,
    sessions_by_calendar: Mapping[str, pd.DatetimeIndex],
    companies: pd.DataFrame | None,
    window: int,
) -> tuple[list[tuple[str, ...]], list[str], dict[str, pd.Timestamp]]:
    """Per filing (by position): the events the first matching rule of
    :func:`match_filings_to_events` finds (sorted) and that rule's name ("" and () for none);
    and every event's day 0 on its company's calendar."""
    n = len(filings)
    candidates: list[tuple[str, ...]] = [()] * n
    basis = [""] * n
    event_day0: dict[str, pd.Timestamp] = {}
    if not n or not len(events):
        return candidates, basis, event_day0
    mapped = map_day0(events, companies=companies, sessions_by_calendar=sessions_by_calendar)
    mapped["_accession"] = event_accessions(events)
    event_day0 = dict(zip(mapped["event_id"], mapped["day0"], strict=True))
    mapped["_pos"] = -1
    for name, members in mapped.groupby("calendar").groups.items():
        mapped.loc[members, "_pos"] = _session_positions(mapped.loc[members, "day0"], sessions_by_calendar[name])
    own = pd.DataFrame(
        {
            "_row": np.arange(n),
            "ticker": filings["ticker"].to_numpy(),
            "accession": filings["accession"].to_numpy(),
            "compatible_types": filings["compatible_types"].to_numpy(),
            "calendar": event_calendars(filings, companies).to_numpy(),
            "_own_pos": -1,
        }
    )
    for name, members in own.groupby("calendar").groups.items():
        own.loc[members, "_own_pos"] = _session_positions(filings["day0"].iloc[members], sessions_by_calendar[name])
    # every (filing, event) pair of one company: a few thousand filings x a few dozen events
    pairs = own.merge(mapped[["ticker", "event_id", "event_type", "_accession", "_pos"]], on="ticker")
    citing = (pairs["_accession"] == pairs["accession"]).fillna(False).astype(bool)
    near = (pairs["_own_pos"] >= 0) & (pairs["_pos"] >= 0) & ((pairs["_pos"] - pairs["_own_pos"]).abs() <= window)
    compatible = pd.Series(
        [t in allowed for t, allowed in zip(pairs["event_type"], pairs["compatible_types"], strict=True)],
        index=pairs.index,
        dtype=bool,
    )
    rules = (("accession", citing & near), ("window", near & compatible), ("accession_outside_window", citing))
    decided: set[int] = set()
    for why, rule in rules:  # a filing is decided by the first rule that finds any event for it
        chosen = pairs[rule & ~pairs["_row"].isin(decided)]
        for row, ids in chosen.groupby("_row")["event_id"]:
            candidates[int(row)], basis[int(row)] = tuple(sorted(ids)), why
        decided |= set(chosen["_row"])
    return candidates, basis, event_day0


def match_filings_to_events(
    filings: pd.DataFrame,
    events: pd.DataFrame,
    *,
    sessions_by_calendar: Mapping[str, pd.DatetimeIndex],
    companies: pd.DataFrame | None = None,
    window: int = config.FILING_MATCH_SESSIONS,
) -> pd.DataFrame:
    """Match each filing to the curated events it may confirm (pure; suggests, never overwrites).

    ``filings``: ``ticker``, ``accession``, ``day0`` and ``compatible_types`` (tuples); ``events``:
    the curated events (``event_id``, ``ticker``, ``event_date``, ``event_time``, ``event_type``,
    ``source_url``), whose day 0 is mapped here on the company's calendar (``sessions_by_calendar``
    must cover them). Among the same ticker's events, the first rule that finds any decides:

    1. events whose ``source_url`` cites the filing's accession, day 0 at most ``window`` sessions
       apart (any type: the curator named the filing) -> ``match_basis`` ``accession``;
    2. events of a compatible type with day 0 at most ``window`` sessions apart -> ``window``;
    3. events that cite the filing from further away -> ``accession_outside_window``: the filing
       is a later report of the event (a settlement 8-K, a 10-Q quoting a deal), so it is not new,
       but its time says nothing about the event's (``changes_event_day0`` stays NA).

    Returns, with the filings' index: ``status`` (``matched`` for one event, ``ambiguous`` for
    several, ``new`` for none), ``matched_event_id`` (the event, ``new``, or empty when ambiguous),
    ``candidate_event_ids`` (tuple, sorted; empty when new), ``match_basis`` (empty when new),
    ``event_day0`` (the matched event's current day 0) and ``changes_event_day0`` (nullable
    boolean: the filing's day 0 differs from the event's; NA unless matched within the window).
    """
    candidates, basis, event_day0 = _candidate_events(
        filings, events, sessions_by_calendar=sessions_by_calendar, companies=companies, window=window
    )
    status = ["matched" if len(c) == 1 else "ambiguous" if len(c) > 1 else NEW for c in candidates]
    matched = [c[0] if len(c) == 1 else (NEW if not c else "") for c in candidates]
    matched_day0 = pd.Series(
        [event_day0.get(m, pd.NaT) if s == "matched" else pd.NaT for m, s in zip(matched, status, strict=True)],
        index=filings.index,
        dtype="datetime64[ns]",
    )
    own_day0 = pd.to_datetime(filings["day0"]).astype("datetime64[ns]")
    comparable = (pd.Series(status, index=filings.index) == "matched") & (
        pd.Series(basis, index=filings.index) != "accession_outside_window"
    )
    changes = pd.Series(pd.NA, index=filings.index, dtype="boolean")
    changes[comparable] = (own_day0[comparable] != matched_day0[comparable]).to_numpy()
    return pd.DataFrame(
        {
            "matched_event_id": pd.Series(matched, index=filings.index, dtype="str"),
            "status": pd.Series(status, index=filings.index, dtype="str"),
            "changes_event_day0": changes,
            "event_day0": matched_day0,
            "candidate_event_ids": pd.Series(candidates, index=filings.index, dtype=object),
            "match_basis": pd.Series(basis, index=filings.index, dtype="str"),
        },
        index=filings.index,
    )


# --- the candidates table -----------------------------------------------------------------------


def filing_candidates(
    filings: pd.DataFrame,
    events: pd.DataFrame,
    *,
    companies: pd.DataFrame | None = None,
    since: pd.Timestamp | str | None = None,
    window: int = config.FILING_MATCH_SESSIONS,
) -> pd.DataFrame:
    """The review table: every in-scope filing with its Eastern time, day 0, suggested type and
    match to the curated events (``CANDIDATE_COLUMNS``; pure, inputs unchanged).

    ``filings``: the filings dataset (``loaders.filings.load_filings`` or the command's fetch):
    ``ticker``, ``cik``, ``accession``, ``form``, ``items`` (tuples), ``filing_date``,
    ``accepted_et`` (tz-aware), ``time_source``, ``time_basis``, ``document_url``. Out-of-scope
    rows and rows filed before ``since`` are left out. Day 0 is mapped on each company's calendar
    (``companies.calendar``; XNYS for a ticker not listed) with ``filing_day0``; matching is
    ``match_filings_to_events``. Rows are sorted by ticker, then acceptance time, newest first.
    Empty input gives an empty table with the columns.
    """
    scoped = filings_in_scope(filings, since=since)
    if scoped.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CANDIDATE_COLUMNS})
    out = scoped.join(suggested_event_types(scoped))
    out["calendar"] = event_calendars(out, companies)
    accepted = pd.to_datetime(out["accepted_et"])
    event_dates = pd.to_datetime(events["event_date"]) if len(events) else pd.Series(dtype="datetime64[ns]")
    moments = [*accepted.dt.tz_localize(None), *event_dates]
    calendars = [*out["calendar"], *event_calendars(events, companies)] if len(events) else list(out["calendar"])
    hours = exchange_hours_by_calendar(calendars or [DEFAULT_CALENDAR], moments)
    parts = [filing_day0(accepted[out["calendar"] == name], hours[name]) for name in dict.fromkeys(out["calendar"])]
    out = out.join(pd.concat(parts))
    sessions = {name: h.sessions for name, h in hours.items()}
    out = out.join(match_filings_to_events(out, events, sessions_by_calendar=sessions, companies=companies, window=window))
    out = out.sort_values(["ticker", "accepted_et", "accession"], ascending=[True, False, False], kind="stable")
    for column in CANDIDATE_COLUMNS:
        if column not in out.columns:
            out[column] = pd.NA
    return out[list(CANDIDATE_COLUMNS)].reset_index(drop=True)


SUGGESTION_COLUMNS: tuple[str, ...] = (
    "event_id",
    "ticker",
    "accession",
    "form",
    "accepted_et",
    "time_source",
    "suggested_event_date",
    "suggested_event_time",
    "day0",
    "event_day0",
    "changes_event_day0",
    "document_url",
    "other_accessions",
)


def event_filing_suggestions(candidates: pd.DataFrame) -> pd.DataFrame:
    """Per curated event with matched filings: what the earliest of them suggests (pure).

    The market learns at the first disclosure, so the earliest accepted matched filing gives the
    suggested ``accession``, ``accepted_et``, ``suggested_event_date`` / ``suggested_event_time``
    (the values a curator would write into events.csv) and ``day0``; ``event_day0`` is the
    event's current day 0 and ``changes_event_day0`` says whether the suggestion would move it.
    ``other_accessions`` lists the later matched filings. Ambiguous and new filings, and filings
    matched only as later reports (``accession_outside_window``), are not here. Sorted by event_id; empty in, empty out (``SUGGESTION_COLUMNS``).
    """
    matched = candidates[(candidates["status"] == "matched") & (candidates["match_basis"] != "accession_outside_window")]
    matched = matched.sort_values(["accepted_et", "accession"], kind="stable")
    if matched.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SUGGESTION_COLUMNS})
    first = matched.groupby("matched_event_id", sort=True).head(1).set_index("matched_event_id")
    others = matched.groupby("matched_event_id", sort=True)["accession"].agg(lambda s: tuple(s.iloc[1:]))
    out = first.assign(other_accessions=others.reindex(first.index)).rename_axis("event_id").reset_index()
    return out[list(SUGGESTION_COLUMNS)].sort_values("event_id", kind="stable").reset_index(drop=True)


REVIEW_EVENT_ID_PREFIX = "SEC-"


def review_queue_events(candidates: pd.DataFrame, *, include_ambiguous: bool = False) -> pd.DataFrame:
    """The filings no curated event covers, shaped as events a user could study (pure).

    One row per ``new`` filing (and ``ambiguous`` ones with ``include_ambiguous``) with the curated
    events' columns: ``event_id`` = ``SEC-<accession>``, ``event_date`` / ``event_time`` from the
    Eastern acceptance time on the exchange's hours, ``event_type`` = the suggested type,
    ``headline`` = the filing's title, ``source_name`` = ``SEC EDGAR (<form>)``, ``source_url`` =
    the document, ``confidence`` ``medium`` (the time is exact; the type is a suggestion), and
    ``time_source`` kept beside them. The deal and amount columns are empty: a filing's amount is
    not read. Empty in, empty out.
    """
    wanted = ["new", "ambiguous"] if include_ambiguous else ["new"]
    queue = candidates[candidates["status"].isin(wanted)]
    return pd.DataFrame(
        {
            "event_id": REVIEW_EVENT_ID_PREFIX + queue["accession"].astype("str"),
            "ticker": queue["ticker"].astype("str"),
            "event_date": pd.to_datetime(queue["suggested_event_date"]),
            "event_time": queue["suggested_event_time"].astype("str"),
            "event_type": queue["suggested_event_type"].astype("str"),
            "amount_usd_bn": np.nan,
            "headline": queue["title"].astype("str"),
            "description": queue["suggestion_note"].astype("str"),
            "source_name": "SEC EDGAR (" + queue["form"].astype("str") + ")",
            "source_url": queue["document_url"].astype("str"),
            "confidence": "medium",
            "deal_id": pd.Series(pd.NA, index=queue.index, dtype="str"),
            "stage": pd.Series(pd.NA, index=queue.index, dtype="str"),
            "funding_usd_bn": np.nan,
            "funding_kind": pd.Series(pd.NA, index=queue.index, dtype="str"),
            "time_source": queue["time_source"].astype("str"),
        }
    ).reset_index(drop=True)
