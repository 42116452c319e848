"""SEC filings as candidate events (pure): scope, suggested type, acceptance time, day 0, matching.

A filing comes from ``loaders.filings.normalize_submissions`` (one row per filing, with the JSON's
``acceptance_clock``: the wall-clock value of ``acceptanceDateTime`` without its ``Z``). Here:

- **Scope** (``filings_in_scope``): 8-K items of ``config.FILING_8K_ITEMS``, and the forms of
  ``config.FILING_FORMS`` (exact form names: amendments are out).
- **Suggested type** (``suggested_event_types``): from the highest-priority in-scope item, or the
  form, by ``config.FILING_SUGGESTED_TYPES``. A suggestion for review, never applied.
- **Acceptance time** (``json_time_convention``, ``acceptance_times``): the SGML header's
  ``ACCEPTANCE-DATETIME`` (US/Eastern wall clock) is the authority. Otherwise the JSON value is
  read with the filer's convention, learned from a header (the JSON clock equals the header's
  Eastern time, or that time in UTC) or from any reading that is impossible under one convention
  because EDGAR accepts nothing then (outside 06:00-22:00 Eastern on weekdays). Unlearned, the
  JSON is read as UTC and the row says ``json_assumed_utc``.
- **Day 0** (``filing_day0``): on the company's exchange calendar, from the exchange's own open
  and close that day (early closes included): before the open -> that session (``pre_market``),
  during it -> that session (``intraday``), at or after the close -> the next session
  (``after_close``); a date with no session -> the next session. The reason codes are those of
  ``trading_calendar`` (``same_session``, ``after_close_next_session``, ...), as for curated events.
- **Matching** (``match_filings_to_events``): a curated event of the same ticker that cites the
  filing's accession in its ``source_url`` with day 0 within ``config.FILING_MATCH_SESSIONS``
  sessions; else one of a type the filing may confirm (``config.FILING_COMPATIBLE_TYPES``) within
  those sessions; else one that cites it from further away (a later report: linked, no timing
  suggestion). One event -> ``matched``; several -> ``ambiguous`` (all named); none -> ``new``.
- **For the app**: ``filing_candidates`` (the review table), ``event_filing_suggestions`` (per
  curated event, what its earliest matched filing suggests and whether day 0 would move),
  ``review_queue_events`` (the new filings shaped as a user's events, to study for a session).

Nothing here reads files, the network or the clock; no input is modified.
"""
from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable, Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from dashboard import config
from dashboard.config import JsonTimeConvention
from dashboard.metrics.trading_calendar import (
    DEFAULT_CALENDAR,
    day0_from_sessions,
    event_calendars,
    map_day0,
)

ACCESSION_PATTERN = re.compile(r"\d{10}-\d{2}-\d{6}")
_ARCHIVE_FOLDER = re.compile(r"/Archives/edgar/data/\d+/(\d{18})(?:/|$)")
# Header and JSON readings of one filing agree when they are this close (the JSON has milliseconds).
HEADER_TOLERANCE = pd.Timedelta(seconds=60)
NEW = "new"

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
    "matched_event_id",
    "status",
    "changes_event_day0",
    "event_day0",
    "candidate_event_ids",
    "match_basis",
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


# --- acceptance time ----------------------------------------------------------------------------


class ConventionEvidence(NamedTuple):
    """A filer's JSON time convention (``utc``, ``et`` or None) and how it was learned or why not."""

    convention: JsonTimeConvention | None
    basis: str


def _hours() -> tuple[pd.Timedelta, pd.Timedelta]:
    start, end = config.EDGAR_ACCEPTANCE_HOURS
    return pd.Timedelta(f"{start}:00"), pd.Timedelta(f"{end}:00")


def clock_as_eastern(clock: pd.Series) -> pd.Series:
    """Naive wall-clock times read as US/Eastern (tz-aware). A clock time that does not exist or
    is ambiguous at a daylight-saving change is NaT (EDGAR is closed at those hours)."""
    values = pd.to_datetime(clock)
    return values.dt.tz_localize(config.EDGAR_TIMEZONE, ambiguous="NaT", nonexistent="NaT")


def clock_as_utc(clock: pd.Series) -> pd.Series:
    """Naive wall-clock times read as UTC, converted to US/Eastern (tz-aware)."""
    return pd.to_datetime(clock).dt.tz_localize("UTC").dt.tz_convert(config.EDGAR_TIMEZONE)


def within_edgar_hours(moments: pd.Series) -> pd.Series:
    """True where a tz-aware moment falls on a weekday between the opening and closing of EDGAR's
    acceptance hours (``config.EDGAR_ACCEPTANCE_HOURS``, Eastern, bounds included). NaT is False.
    Federal holidays are not checked (weekday hours suffice to tell the conventions apart)."""
    eastern = moments.dt.tz_convert(config.EDGAR_TIMEZONE)
    start, end = _hours()
    time_of_day = eastern - eastern.dt.normalize()
    inside = (eastern.dt.day_of_week < 5) & (time_of_day >= start) & (time_of_day <= end)
    return inside.fillna(False).astype(bool)


def json_convention_from_readings(clock: pd.Series) -> ConventionEvidence:
    """Learn a filer's convention from its JSON readings alone (pure).

    A reading proves ``et`` when read as UTC it falls outside EDGAR's hours but read as the Eastern
    clock it falls inside (Hess's ``07:30:32Z`` would be 03:30 ET as UTC); it proves ``utc`` the
    other way round (a 21:50 ET filing shows as ``01:50Z`` the next day). Readings inside the hours
    both ways prove nothing. Proofs both ways (a filer that changed, or bad data) give None.
    """
    values = pd.to_datetime(clock.dropna())
    if values.empty:
        return ConventionEvidence(None, "no JSON readings")
    as_et = within_edgar_hours(clock_as_eastern(values))
    as_utc = within_edgar_hours(clock_as_utc(values))
    proves_et = values[as_et & ~as_utc]
    proves_utc = values[as_utc & ~as_et]
    if len(proves_et) and len(proves_utc):
        return ConventionEvidence(
            None,
            f"JSON readings contradict each other ({len(proves_utc)} only possible as UTC, "
            f"{len(proves_et)} only as the Eastern clock)",
        )
    if len(proves_et):
        first = proves_et.iloc[0]
        return ConventionEvidence(
            "et", f"reading {first:%Y-%m-%dT%H:%M:%S}Z is outside EDGAR's hours as UTC ({len(proves_et)} such reading(s))"
        )
    if len(proves_utc):
        first = proves_utc.iloc[0]
        return ConventionEvidence(
            "utc",
            f"reading {first:%Y-%m-%dT%H:%M:%S}Z is outside EDGAR's hours as the Eastern clock ({len(proves_utc)} such reading(s))",
        )
    return ConventionEvidence(None, f"all {len(values)} JSON reading(s) fall inside EDGAR's hours either way")


def json_convention_from_headers(clock: pd.Series, header_et: pd.Series) -> ConventionEvidence:
    """Learn a filer's convention by comparing JSON readings with their filings' SGML headers.

    ``clock`` and ``header_et`` are aligned (naive wall-clock values; ``header_et`` is Eastern,
    NaT where no header was read). A JSON clock equal to the header's time (within a minute) is
    ``et``; equal to that time in UTC is ``utc``. Disagreeing headers give None.
    """
    both = pd.DataFrame({"clock": pd.to_datetime(clock), "header": pd.to_datetime(header_et)}).dropna()
    if both.empty:
        return ConventionEvidence(None, "no SGML header read")
    header_utc = both["header"].dt.tz_localize(config.EDGAR_TIMEZONE, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    is_et = (both["clock"] - both["header"]).abs() <= HEADER_TOLERANCE
    is_utc = (both["clock"] - header_utc.dt.tz_localize(None)).abs() <= HEADER_TOLERANCE
    if is_et.all():
        return ConventionEvidence("et", f"SGML header(s) of {len(both)} filing(s) show the JSON carries the Eastern clock")
    if is_utc.all():
        return ConventionEvidence("utc", f"SGML header(s) of {len(both)} filing(s) show the JSON carries real UTC")
    return ConventionEvidence(
        None, f"SGML headers disagree with the JSON ({int(is_et.sum())} as Eastern, {int(is_utc.sum())} as UTC of {len(both)})"
    )


def json_time_convention(
    clock: pd.Series,
    header_et: pd.Series | None = None,
    *,
    cached: ConventionEvidence | None = None,
) -> ConventionEvidence:
    """One filer's JSON convention: from its SGML headers if any were read, else from readings
    outside EDGAR's hours, else the ``cached`` convention learned earlier, else None (the basis
    then says why). ``clock`` and ``header_et`` are aligned naive wall-clock Series."""
    tried: list[str] = []
    if header_et is not None and header_et.notna().any():
        evidence = json_convention_from_headers(clock, header_et)
        if evidence.convention is not None:
            return evidence
        tried.append(evidence.basis)
    evidence = json_convention_from_readings(clock)
    if evidence.convention is not None:
        return evidence
    tried.append(evidence.basis)
    if cached is not None and cached.convention is not None:
        return ConventionEvidence(cached.convention, f"cached: {cached.basis}")
    return ConventionEvidence(None, "; ".join(tried))


def acceptance_times(
    clock: pd.Series,
    header_et: pd.Series,
    convention: JsonTimeConvention | None,
) -> pd.DataFrame:
    """Each filing's acceptance time in US/Eastern and how it was obtained (pure).

    ``clock``: the JSON's naive wall-clock reading; ``header_et``: the SGML header's Eastern time
    (NaT where none was read); ``convention``: the filer's. Returns ``accepted_et`` (tz-aware
    America/New_York) and ``time_source``: ``header`` where a header was read, else ``json_utc``
    or ``json_et`` by the convention, else ``json_assumed_utc`` (read as UTC, an assumption).
    A missing reading gives NaT. Same index as ``clock``.
    """
    header = clock_as_eastern(pd.to_datetime(header_et).reindex(clock.index))
    if convention == "et":
        from_json, source = clock_as_eastern(clock), "json_et"
    else:
        from_json = clock_as_utc(clock)
        source = "json_utc" if convention == "utc" else "json_assumed_utc"
    has_header = header.notna()
    accepted = from_json.where(~has_header, header)
    return pd.DataFrame(
        {
            "accepted_et": accepted.dt.tz_convert(config.EDGAR_TIMEZONE),
            "time_source": np.where(has_header, "header", source),
        },
        index=clock.index,
    ).astype({"time_source": "str"})


def filer_acceptance_times(
    records: pd.DataFrame,
    header_et: Mapping[str, pd.Timestamp],
    *,
    cached: ConventionEvidence | None = None,
) -> tuple[pd.DataFrame, ConventionEvidence]:
    """One filer's filings with their Eastern acceptance time, and the filer's convention (pure).

    ``records``: one filer's rows of ``loaders.filings.normalize_submissions`` (``accession``,
    ``form``, ``acceptance_clock``); ``header_et``: SGML header times by accession (naive
    Eastern). The convention is learned from the headers and readings of the filer's own in-scope
    forms (``config.FILING_FORMS``: not the insiders' Form 4s listed with them), else ``cached``
    (``json_time_convention``). Returns a copy with ``accepted_et``, ``time_source`` and
    ``time_basis`` (how the time was obtained, in words) added, and the evidence.
    """
    header = pd.Series([header_et.get(a, pd.NaT) for a in records["accession"]], index=records.index, dtype="datetime64[ns]")
    own = records["form"].isin(list(config.FILING_FORMS))
    evidence = json_time_convention(records.loc[own, "acceptance_clock"], header[own], cached=cached)
    out = records.join(acceptance_times(records["acceptance_clock"], header, evidence.convention))
    json_basis = evidence.basis if evidence.convention else f"convention not learned, UTC assumed: {evidence.basis}"
    out["time_basis"] = np.where(out["time_source"] == "header", "read from the SGML header", json_basis)
    out["time_basis"] = out["time_basis"].astype("str")
    return out, evidence


# --- day 0 --------------------------------------------------------------------------------------


class ExchangeHours(NamedTuple):
    """An exchange's sessions (naive dates) with each session's open and close (tz-aware UTC)."""

    sessions: pd.DatetimeIndex
    opens: pd.DatetimeIndex
    closes: pd.DatetimeIndex
    timezone: str


@functools.lru_cache(maxsize=32)
def _exchange_hours(calendar_name: str, start: pd.Timestamp, end: pd.Timestamp) -> ExchangeHours:
    import exchange_calendars as xcals

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", getattr(pd.errors, "Pandas4Warning", FutureWarning))
            calendar = xcals.get_calendar(calendar_name, start=start, end=end)
    except xcals.errors.InvalidCalendarName as exc:  # type: ignore[attr-defined]
        raise ValueError(f"unknown exchange calendar {calendar_name!r}") from exc
    schedule = calendar.schedule
    sessions = pd.DatetimeIndex(schedule.index)
    if sessions.tz is not None:
        sessions = sessions.tz_localize(None)
    return ExchangeHours(
        sessions.as_unit("ns"),
        pd.DatetimeIndex(schedule["open"]).tz_convert("UTC"),
        pd.DatetimeIndex(schedule["close"]).tz_convert("UTC"),
        str(calendar.tz),
    )


def exchange_hours(calendar_name: str, start: pd.Timestamp | str, end: pd.Timestamp | str) -> ExchangeHours:
    """Sessions, opens and closes of an exchange calendar (``XNYS``, ``XTKS``) from ``start`` to
    ``end`` (dates), from exchange_calendars (holiday rules and early closes; no clock, no file).
    Raises ``ValueError`` for an unknown calendar."""
    return _exchange_hours(calendar_name, pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize())


def filing_day0(accepted: pd.Series, hours: ExchangeHours) -> pd.DataFrame:
    """Day 0 of filings on one exchange from their tz-aware acceptance times (pure).

    The time is read on the exchange's clock. On a session: before the open -> ``pre_market``,
    from the open to before the close -> ``intraday`` (both day 0 = that session,
    ``same_session``), at or after the close (an early close included) -> ``after_close``, day 0 =
    the next session (``after_close_next_session``). On a date without a session the time of day
    is placed against the next session's hours and day 0 is that session
    (``weekend_next_session`` or ``holiday_next_session``). A missing time gives NaT
    (``missing_event_date``); a date past the last session NaT (``beyond_sessions``).

    Returns ``suggested_event_date`` (the exchange-local date), ``suggested_event_time``
    (``pre_market``, ``intraday``, ``after_close``; ``unknown`` when missing), ``day0`` and
    ``day0_reason``, with the input's index.
    """
    local = pd.to_datetime(accepted).dt.tz_convert(hours.timezone)
    local_date = local.dt.tz_localize(None).dt.normalize().astype("datetime64[ns]")
    sessions = hours.sessions
    n = len(sessions)
    position = np.searchsorted(sessions.to_numpy(), local_date.to_numpy(), side="left")
    reference = np.minimum(position, max(n - 1, 0))
    valid = local.notna().to_numpy() & (position < n)
    time_of_day = (local.dt.tz_localize(None) - local_date).to_numpy()
    opens = hours.opens.tz_convert(hours.timezone).tz_localize(None)
    closes = hours.closes.tz_convert(hours.timezone).tz_localize(None)
    open_time = (opens - opens.normalize()).to_numpy()[reference] if n else np.array([], "timedelta64[ns]")
    close_time = (closes - closes.normalize()).to_numpy()[reference] if n else np.array([], "timedelta64[ns]")
    event_time = np.where(
        ~valid,
        "unknown",
        np.where(time_of_day < open_time, "pre_market", np.where(time_of_day < close_time, "intraday", "after_close")),
    )
    event_time = np.where(local.isna().to_numpy(), "unknown", event_time)
    times = pd.Series(event_time, index=accepted.index, dtype="str")
    day0, reason = day0_from_sessions(local_date, times, sessions)
    return pd.DataFrame(
        {
            "suggested_event_date": local_date,
            "suggested_event_time": times,
            "day0": day0,
            "day0_reason": reason,
        },
        index=accepted.index,
    )


def _hours_by_calendar(
    calendars: Iterable[str], moments: Iterable[pd.Timestamp]
) -> dict[str, ExchangeHours]:
    known = [pd.Timestamp(m) for m in moments if pd.notna(m)]
    dates = [m.tz_localize(None) if m.tzinfo is not None else m for m in known]
    if not dates:
        dates = [pd.Timestamp("2000-01-03")]
    start, end = min(dates) - pd.Timedelta(days=30), max(dates) + pd.Timedelta(days=60)
    return {name: exchange_hours(name, start, end) for name in dict.fromkeys(calendars)}


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


MATCH_COLUMNS: tuple[str, ...] = (
    "matched_event_id", "status", "changes_event_day0", "event_day0", "candidate_event_ids", "match_basis",
)


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
    n = len(filings)
    candidates: list[tuple[str, ...]] = [()] * n
    basis = [""] * n
    event_day0: dict[str, pd.Timestamp] = {}
    if n and len(events):
        mapped = map_day0(events, companies=companies, sessions_by_calendar=sessions_by_calendar)
        mapped["_accession"] = event_accessions(events)
        event_day0 = dict(zip(mapped["event_id"], mapped["day0"], strict=True))
        mapped["_pos"] = -1
        for name, members in mapped.groupby("calendar").groups.items():
            mapped.loc[members, "_pos"] = _session_positions(mapped.loc[members, "day0"], sessions_by_calendar[name])
        own = pd.DataFrame({
            "_row": np.arange(n),
            "ticker": filings["ticker"].to_numpy(),
            "accession": filings["accession"].to_numpy(),
            "compatible_types": filings["compatible_types"].to_numpy(),
            "calendar": event_calendars(filings, companies).to_numpy(),
            "_own_pos": -1,
        })
        for name, members in own.groupby("calendar").groups.items():
            own.loc[members, "_own_pos"] = _session_positions(filings["day0"].iloc[members], sessions_by_calendar[name])
        # every (filing, event) pair of one company: a few thousand filings x a few dozen events
        pairs = own.merge(mapped[["ticker", "event_id", "event_type", "_accession", "_pos"]], on="ticker")
        citing = (pairs["_accession"] == pairs["accession"]).fillna(False).astype(bool)
        near = (pairs["_own_pos"] >= 0) & (pairs["_pos"] >= 0) & ((pairs["_pos"] - pairs["_own_pos"]).abs() <= window)
        compatible = pd.Series(
            [t in allowed for t, allowed in zip(pairs["event_type"], pairs["compatible_types"], strict=True)],
            index=pairs.index, dtype=bool,
        )
        rules = (("accession", citing & near), ("window", near & compatible), ("accession_outside_window", citing))
        decided: set[int] = set()
        for why, rule in rules:  # a filing is decided by the first rule that finds any event for it
            chosen = pairs[rule & ~pairs["_row"].isin(decided)]
            for row, ids in chosen.groupby("_row")["event_id"]:
                candidates[int(row)], basis[int(row)] = tuple(sorted(ids)), why
            decided |= set(chosen["_row"])
    status = ["matched" if len(c) == 1 else "ambiguous" if len(c) > 1 else NEW for c in candidates]
    matched = [c[0] if len(c) == 1 else (NEW if not c else "") for c in candidates]
    matched_day0 = pd.Series(
        [event_day0.get(m, pd.NaT) if s == "matched" else pd.NaT for m, s in zip(matched, status, strict=True)],
        index=filings.index, dtype="datetime64[ns]",
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
    hours = _hours_by_calendar(calendars or [DEFAULT_CALENDAR], moments)
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
    "event_id", "ticker", "accession", "form", "accepted_et", "time_source", "suggested_event_date",
    "suggested_event_time", "day0", "event_day0", "changes_event_day0", "document_url", "other_accessions",
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
