"""SEC filings' acceptance times and day 0 (pure): the exact Eastern time of each filing, and the
session its news reaches the market.

- **Acceptance time** (``json_time_convention``, ``acceptance_times``, ``filer_acceptance_times``):
  the SGML header's ``ACCEPTANCE-DATETIME`` (US/Eastern wall clock) is the authority. Otherwise
  the JSON value is read with the filer's convention, learned from a header (the JSON clock
  equals the header's Eastern time, or that time in UTC) or from any reading that is impossible
  under one convention because EDGAR accepts nothing then (outside 06:00-22:00 Eastern on
  weekdays). Unlearned, the JSON is read as UTC and the row says ``json_assumed_utc``.
- **Day 0** (``filing_day0``): on the company's exchange calendar, from the exchange's own open
  and close that day (early closes included): before the open -> that session (``pre_market``),
  during it -> that session (``intraday``), at or after the close -> the next session
  (``after_close``); a date with no session -> the next session. The reason codes are those of
  ``trading_calendar`` (``same_session``, ``after_close_next_session``, ...), as for curated events.

Nothing here reads files, the network or the clock; no input is modified.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from dashboard import config
from dashboard.config import JsonTimeConvention
from dashboard.metrics.trading_calendar import covering_calendar, day0_from_sessions, naive_sessions

# Header and JSON readings of one filing agree when they are this close (the JSON has milliseconds).
HEADER_TOLERANCE = pd.Timedelta(seconds=60)


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
            f"JSON readings contradict each other ({len(proves_utc)} only possible as UTC, {len(proves_et)} only as the Eastern clock)",
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
    calendar = covering_calendar(calendar_name, start, end)  # the build trading_sessions shares
    days = naive_sessions(calendar.schedule.index)
    inside = (days >= start) & (days <= end)
    schedule = calendar.schedule[inside]
    return ExchangeHours(
        days[inside],
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


def exchange_hours_by_calendar(calendars: Iterable[str], moments: Iterable[pd.Timestamp]) -> dict[str, ExchangeHours]:
    """Each calendar's hours over the span of ``moments`` (30 days before the first, 60 after the
    last; a fixed span when none is known), for ``filing_day0``."""
    known = [pd.Timestamp(m) for m in moments if pd.notna(m)]
    dates = [m.tz_localize(None) if m.tzinfo is not None else m for m in known]
    if not dates:
        dates = [pd.Timestamp("2000-01-03")]
    start, end = min(dates) - pd.Timedelta(days=30), max(dates) + pd.Timedelta(days=60)
    return {name: exchange_hours(name, start, end) for name in dict.fromkeys(calendars)}
