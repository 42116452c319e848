"""Trading day 0 of an event from its date, its time of day and an exchange calendar.

Rules (trading days = sessions of the company's exchange, NYSE ``XNYS`` for US tickers and
Tokyo ``XTKS`` for 9984.T, from the ``calendar`` column of the companies table):

- ``after_close`` on a session -> the next session (``day0_reason = after_close_next_session``)
- ``pre_market``, ``intraday`` or ``unknown`` on a session -> that session (``same_session``)
- a date that is not a session -> the next session, whatever the time
  (``weekend_next_session`` or ``holiday_next_session``)
- no session on or after the date in the known sessions -> NaT (``beyond_sessions``)

The session lists come from ``exchange_calendars`` (a pure library: holiday rules, no files and
no clock, since we always pass explicit start and end dates) or, for a user's ``--returns`` file,
from that file's rows (``map_day0_to_rows``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # imported where used: the library takes a moment to load
    from exchange_calendars import ExchangeCalendar

DEFAULT_CALENDAR = "XNYS"
SAME_SESSION = "same_session"
AFTER_CLOSE_NEXT = "after_close_next_session"
WEEKEND_NEXT = "weekend_next_session"
HOLIDAY_NEXT = "holiday_next_session"
NOT_A_ROW_NEXT = "no_row_on_date_next_row"
BEYOND_SESSIONS = "beyond_sessions"
MISSING_DATE = "missing_event_date"
# The range covering_calendar builds a calendar for (widened to the dates asked for).
WIDE_START, WIDE_END = pd.Timestamp("2000-01-01"), pd.Timestamp("2039-12-31")


class UnknownCalendar(ValueError):
    """An exchange calendar name exchange_calendars does not know."""


def trading_sessions(calendar_name: str, start: pd.Timestamp | str, end: pd.Timestamp | str) -> pd.DatetimeIndex:
    """Sessions of an exchange calendar (``XNYS``, ``XTKS``, ...) from ``start`` to ``end``.

    Dates are tz-naive midnight timestamps (ns). Raises ``ValueError`` for an unknown calendar,
    and exchange_calendars' own error for a range it does not cover.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    sessions = _sessions(covering_calendar(calendar_name, start, end))
    return sessions[(sessions >= start) & (sessions <= end)].copy()


def covering_calendar(calendar_name: str, start: pd.Timestamp, end: pd.Timestamp) -> ExchangeCalendar:
    """An exchange calendar covering at least ``start`` to ``end`` (dates), built once and shared:
    one wide build (:data:`WIDE_START` to :data:`WIDE_END`, widened to the range) serves every
    range inside it, since a build costs 0.1-0.2 s whatever its length. Raises ``ValueError``
    for an unknown calendar."""
    try:
        return _calendar(calendar_name, min(start, WIDE_START), max(end, WIDE_END))
    except UnknownCalendar:
        raise
    except ValueError:  # 2039 is past the last date the calendar supports: build just the range
        return _calendar(calendar_name, start, end)


def exchange_calendar(calendar_name: str, start: pd.Timestamp, end: pd.Timestamp) -> ExchangeCalendar:
    """exchange_calendars' calendar ``calendar_name`` (``XNYS``, ``XTKS``, ...) from ``start`` to
    ``end``: holiday rules and early closes from the library, no file and no clock. Raises
    ``ValueError`` for an unknown calendar."""
    import exchange_calendars as xcals

    try:
        with warnings.catch_warnings():
            # exchange_calendars 4.13 reads Series.values on tz-aware data, which pandas 3.1
            # deprecates; the sessions it returns are unaffected.
            warnings.simplefilter("ignore", getattr(pd.errors, "Pandas4Warning", FutureWarning))
            return xcals.get_calendar(calendar_name, start=start, end=end)
    except xcals.errors.InvalidCalendarName as exc:
        raise UnknownCalendar(f"unknown exchange calendar {calendar_name!r}") from exc


def naive_sessions(sessions: Any) -> pd.DatetimeIndex:
    """Session labels as tz-naive midnight timestamps (ns)."""
    sessions = pd.DatetimeIndex(sessions)
    if sessions.tz is not None:
        sessions = sessions.tz_localize(None)
    return sessions.as_unit("ns")


@functools.lru_cache(maxsize=32)
def _calendar(calendar_name: str, start: pd.Timestamp, end: pd.Timestamp) -> ExchangeCalendar:
    return exchange_calendar(calendar_name, start, end)


@functools.lru_cache(maxsize=32)
def _sessions(calendar: ExchangeCalendar) -> pd.DatetimeIndex:
    return naive_sessions(calendar.sessions)


def _as_ns(values: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    index = pd.DatetimeIndex(values)
    if index.tz is not None:
        index = index.tz_localize(None)
    return index.as_unit("ns").to_numpy()


def day0_from_sessions(
    event_date: pd.Series,
    event_time: pd.Series,
    sessions: pd.DatetimeIndex,
    *,
    rows: bool = False,
) -> tuple[pd.Series, pd.Series]:
    """Vectorized day-0 mapping of events onto one sorted list of sessions.

    Returns ``(day0, day0_reason)`` aligned with ``event_date``. With ``rows=True`` the sessions
    are the rows of a user's returns file and a date without a row gets ``no_row_on_date_next_row``
    instead of the weekend/holiday reasons. Empty input gives empty output; a missing date gives
    NaT with ``missing_event_date``.
    """
    dates = _as_ns(pd.to_datetime(event_date.to_numpy()).normalize())
    times = event_time.fillna("unknown").astype(str).to_numpy()
    grid = np.sort(_as_ns(sessions))
    n = len(grid)
    position = np.searchsorted(grid, dates, side="left")
    safe = np.minimum(position, max(n - 1, 0))
    is_session = (position < n) & (grid[safe] == dates) if n else np.zeros(len(dates), bool)
    after_close = times == "after_close"
    target = np.where(is_session & after_close, position + 1, position)
    reason = np.where(
        is_session,
        np.where(after_close, AFTER_CLOSE_NEXT, SAME_SESSION),
        NOT_A_ROW_NEXT if rows else np.where(pd.DatetimeIndex(dates).day_of_week.to_numpy() >= 5, WEEKEND_NEXT, HOLIDAY_NEXT),
    ).astype(object)
    valid_date = ~np.isnat(dates)
    beyond = (target >= n) & valid_date
    reason[beyond] = BEYOND_SESSIONS
    reason[~valid_date] = MISSING_DATE
    day0 = np.full(len(dates), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = valid_date & ~beyond
    day0[ok] = grid[target[ok]]
    return (
        pd.Series(day0, index=event_date.index, name="day0"),
        pd.Series(reason, index=event_date.index, name="day0_reason", dtype="str"),
    )


def sessions_by_calendar_for(calendar_names: list[str], start: pd.Timestamp, end: pd.Timestamp) -> dict[str, pd.DatetimeIndex]:
    """``{calendar: trading_sessions(calendar, start, end)}`` for each distinct name."""
    return {name: trading_sessions(name, start, end) for name in dict.fromkeys(calendar_names)}


def event_calendars(events: pd.DataFrame, companies: pd.DataFrame | None) -> pd.Series:
    """The exchange calendar of each event's ticker (``XNYS`` when the ticker is not listed)."""
    mapping: dict[str, str] = {}
    if companies is not None and "calendar" in companies.columns:
        mapping = dict(zip(companies["ticker"], companies["calendar"], strict=True))
    # .map gives float NaN for every unlisted ticker; object dtype keeps fillna from warning
    return events["ticker"].map(mapping).astype(object).fillna(DEFAULT_CALENDAR).astype("str").rename("calendar")


def map_day0(
    events: pd.DataFrame,
    *,
    companies: pd.DataFrame | None = None,
    sessions_by_calendar: Mapping[str, pd.DatetimeIndex] | None = None,
) -> pd.DataFrame:
    """Events with ``calendar``, ``day0`` and ``day0_reason`` columns added (a copy).

    ``events`` needs ``ticker``, ``event_date`` and optionally ``event_time`` (missing = unknown).
    Each event is mapped on its company's calendar (``companies.calendar``; XNYS if absent).
    ``sessions_by_calendar`` gives the sessions per calendar name; when omitted they are built
    with exchange_calendars from 30 days before the first event to 60 days after the last.
    """
    out = events.copy()
    out["calendar"] = event_calendars(out, companies)
    times = out["event_time"] if "event_time" in out.columns else pd.Series("unknown", index=out.index)
    if out.empty:
        out["day0"] = pd.Series(dtype="datetime64[ns]")
        out["day0_reason"] = pd.Series(dtype="str")
        return out
    if sessions_by_calendar is None:
        dates = pd.to_datetime(out["event_date"])
        sessions_by_calendar = sessions_by_calendar_for(
            out["calendar"].tolist(), dates.min() - pd.Timedelta(days=30), dates.max() + pd.Timedelta(days=60)
        )
    day0 = pd.Series(np.datetime64("NaT"), index=out.index, dtype="datetime64[ns]")
    reason = pd.Series("", index=out.index, dtype="str")
    for name, members in out.groupby("calendar").groups.items():  # one pass per exchange
        if name not in sessions_by_calendar:
            raise ValueError(f"no sessions given for calendar {name!r}")
        d0, why = day0_from_sessions(out.loc[members, "event_date"], times.loc[members], sessions_by_calendar[name])
        day0.loc[members] = d0
        reason.loc[members] = why
    out["day0"] = day0
    out["day0_reason"] = reason
    return out


def map_day0_to_rows(events: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Day 0 on the rows of a user's returns file (the rows are the sessions).

    After the close -> the next row; otherwise the event date's row, or the next row when the
    date has none (``no_row_on_date_next_row``). Returns a copy of ``events`` with ``calendar``
    (``rows``), ``day0`` and ``day0_reason``.
    """
    out = events.copy()
    times = out["event_time"] if "event_time" in out.columns else pd.Series("unknown", index=out.index)
    out["calendar"] = "rows"
    d0, why = day0_from_sessions(out["event_date"], times, pd.DatetimeIndex(dates), rows=True)
    out["day0"] = d0
    out["day0_reason"] = why
    return out
