"""Capex-guidance vintages as events: link each statement to a curated event or make it one.

Pure pandas (no files, network or clock); nothing here changes its inputs. Amounts are USD
billions, as in ``guidance.csv`` and ``events.csv``.

Definitions:

- midpoint_usd_bn = (low_usd_bn + high_usd_bn) / 2, the figure ``events.csv`` puts in
  ``amount_usd_bn`` for a capex_guidance event.
- guided_change_usd_bn = this vintage's midpoint - the midpoint of the previous vintage of the same
  ticker, fiscal_year and period_basis (previous by statement_date; on equal dates, the earlier
  row of ``guidance``). NaN for the first vintage of a year: there is nothing to change from.
  Microsoft's calendar-2026 statements therefore never chain to its fiscal-2026 ones.
- A vintage is *linked* to a curated event of any type with the same ticker and
  |event_date - statement_date| <= :data:`LINK_WINDOW_DAYS` calendar days: the statement was made
  there (results, a call, a blog), so a second event would double count the news. Among several
  candidates the choice is, in order: a capex_guidance event, the nearest date, the lowest
  event_id (plain text order). ``candidate_event_ids`` lists every candidate in that order.
- An unlinked vintage becomes a new ``capex_guidance`` event ``GV-<TICKER>-<YYYYMMDD>`` (statement
  date), with ``-<fiscal_year>`` appended only where that id is shared with another new event or
  taken by a curated one. Its time of day is ``unknown``: guidance rows carry none.
- confidence of a new event is ``high``, or ``medium`` where the wording says the statement is of
  lower confidence (an inferred date or figure, informal guidance, a later or secondary source):
  see :data:`LOWER_CONFIDENCE_MARKERS`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from dashboard.errors import DataUnavailable
from dashboard.metrics.periods import calendar_year_label, fiscal_year_label

GUIDANCE_EVENT_TYPE = "capex_guidance"
# A statement and a curated event within this many calendar days are the same news.
LINK_WINDOW_DAYS = 1
GUIDANCE_EVENT_ID_PREFIX = "GV"
GUIDANCE_EVENT_TIME = "unknown"
GUIDANCE_SOURCE_NAME = "Company capex guidance (guidance.csv)"
HIGH_CONFIDENCE = "high"
LOWER_CONFIDENCE = "medium"
# Phrases in guidance.csv's `wording` that mark a lower-confidence row (case-insensitive, whole
# words). In the curated data: "date inferred" (INTC 2025-01-30), "implied, per later commentary"
# (ORCL 2024-09-09), "not formal capex guidance" (MSFT 2025-01-03), "per later summary"
# (GOOGL 2025-04-24); provenance/fundamentals-sources.md calls the rows lower-confidence too.
LOWER_CONFIDENCE_MARKERS: tuple[str, ...] = (
    "inferred",
    "implied",
    "lower-confidence",
    "lower confidence",
    "informal",
    "not formal",
    "unofficial",
    "per later",
    "secondary",
)

GUIDANCE_INPUTS: tuple[str, ...] = (
    "ticker", "statement_date", "fiscal_year", "period_basis", "low_usd_bn", "high_usd_bn", "wording", "source_url",
)  # fmt: skip
# The events columns a new guidance event fills: all of events.csv's. The list repeats
# loaders.column_kinds.EVENT_COLUMN_KINDS because metrics may not import loaders (see tests/test_layers.py).
EVENT_INPUTS: tuple[str, ...] = (
    "event_id", "ticker", "event_date", "event_time", "event_type", "amount_usd_bn", "headline", "description",
    "source_name", "source_url", "confidence", "deal_id", "stage", "funding_usd_bn", "funding_kind",
)  # fmt: skip
LINK_COLUMNS: tuple[str, ...] = (
    "ticker", "statement_date", "fiscal_year", "period_basis", "low_usd_bn", "high_usd_bn", "midpoint_usd_bn",
    "guided_change_usd_bn", "previous_statement_date", "event_id", "linked", "linked_event_type",
    "candidate_event_ids",
)  # fmt: skip
# Column types of an empty link table, so that concatenating it with a full one keeps them.
_LINK_DTYPES: dict[str, str] = {
    "ticker": "str",
    "statement_date": "datetime64[ns]",
    "fiscal_year": "int64",
    "period_basis": "str",
    "low_usd_bn": "float64",
    "high_usd_bn": "float64",
    "midpoint_usd_bn": "float64",
    "guided_change_usd_bn": "float64",
    "previous_statement_date": "datetime64[ns]",
    "event_id": "str",
    "linked": "bool",
    "linked_event_type": "str",
}
GUIDED_CHANGE_COLUMN = "guided_change_usd_bn"
GUIDANCE_LINKED_COLUMN = "guidance_linked"

_MARKER_PATTERN = re.compile("|".join(rf"\b{re.escape(marker)}\b" for marker in LOWER_CONFIDENCE_MARKERS), flags=re.IGNORECASE)


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise DataUnavailable(f"{what}: missing column(s) {', '.join(absent)}")


def guidance_midpoints(guidance: pd.DataFrame) -> pd.Series:
    """Midpoint of each vintage's annual range, USD billions: (low_usd_bn + high_usd_bn) / 2.

    A point guidance (low = high) is its own midpoint; a missing bound gives NaN. Keeps
    ``guidance``'s index; empty input gives an empty float series.
    """
    return ((guidance["low_usd_bn"].astype(float) + guidance["high_usd_bn"].astype(float)) / 2).rename("midpoint_usd_bn")


def guidance_confidence(guidance: pd.DataFrame) -> pd.Series:
    """``medium`` where a vintage's ``wording`` carries a lower-confidence marker, else ``high``.

    Markers are :data:`LOWER_CONFIDENCE_MARKERS`, matched as whole words, ignoring case. A missing
    wording says nothing against the row: ``high``. Keeps ``guidance``'s index; empty input gives
    an empty series.
    """
    flagged = guidance["wording"].astype("str").str.contains(_MARKER_PATTERN, na=False)
    return pd.Series(np.where(flagged, LOWER_CONFIDENCE, HIGH_CONFIDENCE), index=guidance.index, name="confidence", dtype="str")


def _previous_vintages(guidance: pd.DataFrame, midpoint: pd.Series) -> pd.DataFrame:
    """Per row (positional index): the previous vintage's midpoint and statement date."""
    frame = guidance[["ticker", "fiscal_year", "period_basis", "statement_date"]].reset_index(drop=True)
    frame["midpoint"] = midpoint.to_numpy()
    ordered = frame.sort_values("statement_date", kind="stable")
    groups = ordered.groupby(["ticker", "fiscal_year", "period_basis"], sort=False, dropna=False)
    previous = pd.DataFrame({"midpoint": groups["midpoint"].shift(1), "statement_date": groups["statement_date"].shift(1)})
    return previous.sort_index()


def _event_candidates(guidance: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Every (vintage position, curated event) pair within the link window, best candidate first."""
    statements = pd.DataFrame(
        {
            "position": np.arange(len(guidance)),
            "ticker": guidance["ticker"].to_numpy(),
            "statement_day": pd.to_datetime(guidance["statement_date"]).dt.normalize().to_numpy(),
        }
    )
    curated = pd.DataFrame(
        {
            "ticker": events["ticker"].to_numpy(),
            "event_day": pd.to_datetime(events["event_date"]).dt.normalize().to_numpy(),
            "event_id": events["event_id"].astype("str").to_numpy(),
            "event_type": events["event_type"].to_numpy(),
        }
    ).dropna(subset=["ticker", "event_day", "event_id"])
    pairs = statements.merge(curated, on="ticker", how="inner")
    pairs["distance_days"] = (pairs["event_day"] - pairs["statement_day"]).dt.days.abs()
    pairs = pairs[pairs["distance_days"] <= LINK_WINDOW_DAYS].copy()
    pairs["not_guidance"] = pairs["event_type"] != GUIDANCE_EVENT_TYPE
    return pairs.sort_values(["position", "not_guidance", "distance_days", "event_id"], kind="stable")


def _new_event_ids(guidance: pd.DataFrame, unlinked: np.ndarray, taken_ids: set[str]) -> pd.Series:
    """``GV-<TICKER>-<YYYYMMDD>`` per unlinked position, ``-<fiscal_year>`` added only where needed."""
    rows = guidance.reset_index(drop=True).loc[unlinked]
    base = (
        GUIDANCE_EVENT_ID_PREFIX + "-" + rows["ticker"].astype("str") + "-" + pd.to_datetime(rows["statement_date"]).dt.strftime("%Y%m%d")
    )
    clash = base.duplicated(keep=False) | base.isin(taken_ids)
    ids = base.where(~clash, base + "-" + rows["fiscal_year"].astype(int).astype(str))
    repeated = ids[ids.duplicated(keep=False) | (clash & ids.isin(taken_ids))]
    if not repeated.empty:
        raise ValueError(
            "guidance: cannot give these vintages unique event ids (same ticker, statement date and "
            f"fiscal year, or ids already taken): {sorted(set(repeated))}"
        )
    return ids


def guidance_vintage_links(guidance: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """One row per guidance vintage, in ``guidance``'s order and index: its event, linked or new.

    ``guidance``: ``load_guidance`` rows (low/high in USD billions); ``events``: ``load_events``
    rows. Columns :data:`LINK_COLUMNS`:

    - ``midpoint_usd_bn`` = (low_usd_bn + high_usd_bn) / 2, USD billions.
    - ``guided_change_usd_bn`` = midpoint - previous vintage's midpoint (same ticker, fiscal_year
      and period_basis, previous by statement_date), USD billions; NaN for the first vintage of a
      year. ``previous_statement_date`` is that previous vintage's date (NaT for the first).
    - ``event_id``: the linked curated event (same ticker, within :data:`LINK_WINDOW_DAYS`
      calendar days either side; preferring a capex_guidance event, then the nearest date, then
      the lowest event_id), or the new ``GV-`` id that :func:`guidance_events` gives it.
    - ``linked``: True when ``event_id`` is a curated event; ``linked_event_type`` its type (NaN
      when not linked); ``candidate_event_ids``: every qualifying curated id, chosen one first
      (an empty list when none), so the choice can be checked.

    Empty guidance gives an empty frame with these columns; empty events leave every vintage
    unlinked. Raises ``DataUnavailable`` when a needed column is missing and ``ValueError`` when
    two new events would share an id. Inputs are not changed.
    """
    _require_columns(guidance, GUIDANCE_INPUTS, "guidance")
    _require_columns(events, ("event_id", "ticker", "event_date", "event_type"), "events")
    if guidance.empty:
        dtypes = {**_LINK_DTYPES, "statement_date": guidance["statement_date"].dtype}
        dtypes["previous_statement_date"] = dtypes["statement_date"]
        return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "object")) for c in LINK_COLUMNS})
    midpoint = guidance_midpoints(guidance)
    previous = _previous_vintages(guidance, midpoint)
    candidates = _event_candidates(guidance, events)
    chosen = candidates.groupby("position", sort=False).head(1).set_index("position")
    candidate_lists = candidates.groupby("position", sort=False)["event_id"].agg(list)

    positions = np.arange(len(guidance))
    linked = np.isin(positions, chosen.index.to_numpy())
    event_id = pd.Series(chosen["event_id"].reindex(positions).to_numpy(), index=positions, dtype="str")
    taken = set(events["event_id"].dropna().astype("str"))
    event_id.loc[~linked] = _new_event_ids(guidance, ~linked, taken)

    result = pd.DataFrame(
        {
            "ticker": guidance["ticker"],
            "statement_date": guidance["statement_date"],
            "fiscal_year": guidance["fiscal_year"],
            "period_basis": guidance["period_basis"],
            "low_usd_bn": guidance["low_usd_bn"].astype(float),
            "high_usd_bn": guidance["high_usd_bn"].astype(float),
            "midpoint_usd_bn": midpoint,
            "guided_change_usd_bn": midpoint.to_numpy() - previous["midpoint"].to_numpy(dtype=float),
            "previous_statement_date": pd.to_datetime(previous["statement_date"]).to_numpy(),
            "event_id": event_id.to_numpy(),
            "linked": linked,
            "linked_event_type": pd.Series(chosen["event_type"].reindex(positions).to_numpy(), dtype="str").to_numpy(),
            "candidate_event_ids": [list(candidate_lists.get(p, [])) for p in positions],
        },
        index=guidance.index,
    )
    return result[list(LINK_COLUMNS)]


def _billions_text(value: float) -> str:
    """``115``, ``13.7``, ``1,250``: a USD-billions figure without trailing zeros."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def guidance_headline(ticker: str, fiscal_year: int, period_basis: str, low_usd_bn: float, high_usd_bn: float) -> str:
    """``META guides FY2026 capex to $115–135B``; ``CY`` for calendar-year guidance; a point
    (low = high) reads ``$25B``. Figures are USD billions as given, trailing zeros dropped."""
    year = calendar_year_label(fiscal_year) if period_basis == "calendar_year" else fiscal_year_label(fiscal_year)
    figure = (
        f"${_billions_text(low_usd_bn)}B" if low_usd_bn == high_usd_bn else f"${_billions_text(low_usd_bn)}–{_billions_text(high_usd_bn)}B"
    )
    return f"{ticker} guides {year} capex to {figure}"


def _guidance_event_rows(guidance: pd.DataFrame, events: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """The new events of the unlinked vintages, with ``events``' columns and dtypes."""
    new = links[~links["linked"]]
    statements = guidance.loc[new.index]
    confidence = guidance_confidence(statements)
    rows = pd.DataFrame(
        {
            "event_id": new["event_id"],
            "ticker": new["ticker"],
            "event_date": new["statement_date"],
            "event_time": GUIDANCE_EVENT_TIME,
            "event_type": GUIDANCE_EVENT_TYPE,
            "amount_usd_bn": new["midpoint_usd_bn"],
            "headline": [guidance_headline(r.ticker, r.fiscal_year, r.period_basis, r.low_usd_bn, r.high_usd_bn) for r in new.itertuples()],
            "description": statements["wording"],
            "source_name": GUIDANCE_SOURCE_NAME,
            "source_url": statements["source_url"],
            "confidence": confidence,
            "deal_id": np.nan,
            "stage": np.nan,
            "funding_usd_bn": np.nan,
            "funding_kind": np.nan,
        },
        index=new.index,
    )
    columns = [c for c in events.columns if c != GUIDED_CHANGE_COLUMN]
    rows = rows.reindex(columns=columns)
    for column in columns:
        if len(rows) and events[column].dtype != rows[column].dtype:
            try:
                rows[column] = rows[column].astype(events[column].dtype)
            except (TypeError, ValueError):
                pass  # an empty or object-typed events column: keep the new rows' own type
    rows[GUIDED_CHANGE_COLUMN] = new["guided_change_usd_bn"].astype(float)
    return rows.reset_index(drop=True)


def guidance_events(guidance: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """New ``capex_guidance`` events for the vintages no curated event covers, in guidance's order.

    Columns: ``events``' own columns (every column of events.csv; any extra column is left
    empty) plus ``guided_change_usd_bn``. Per row: ``event_id`` ``GV-<TICKER>-<YYYYMMDD>``
    (``-<fiscal_year>`` appended where needed for uniqueness), ``event_date`` = statement_date,
    ``event_time`` ``unknown``, ``amount_usd_bn`` = (low + high) / 2 in USD billions,
    ``headline`` from :func:`guidance_headline`, ``description`` = wording, ``source_name``
    :data:`GUIDANCE_SOURCE_NAME`, ``source_url`` the vintage's, ``confidence`` from
    :func:`guidance_confidence`, deal and funding columns empty, ``guided_change_usd_bn`` as in
    :func:`guidance_vintage_links` (USD billions; NaN for a year's first vintage).

    Empty guidance, or every vintage linked, gives an empty frame with those columns. Raises
    ``DataUnavailable`` when a needed column is missing. Inputs are not changed.
    """
    _require_columns(events, EVENT_INPUTS, "events")
    links = guidance_vintage_links(guidance, events)
    return _guidance_event_rows(guidance, events, links)


def _linked_changes(events: pd.DataFrame, links: pd.DataFrame) -> pd.Series:
    """Per curated event_id a vintage links to: that vintage's guided change (USD billions).

    Several vintages on one event (one release guiding two years) give one figure: the vintage
    whose midpoint equals the event's amount_usd_bn (the range the event reports), else the
    latest fiscal year, else the last in guidance order.
    """
    linked = links[links["linked"]].reset_index(drop=True)
    amounts = events.drop_duplicates("event_id").set_index("event_id")["amount_usd_bn"].astype(float)
    linked["matches_amount"] = np.isclose(linked["midpoint_usd_bn"], linked["event_id"].map(amounts).astype(float))
    linked["order"] = np.arange(len(linked))
    best = linked.sort_values(["event_id", "matches_amount", "fiscal_year", "order"], kind="stable").groupby("event_id").tail(1)
    return best.set_index("event_id")["guided_change_usd_bn"]


def events_with_guidance(events: pd.DataFrame, guidance: pd.DataFrame) -> pd.DataFrame:
    """Curated events plus the new guidance events, sorted by event_date then event_id.

    Two columns are added:

    - ``guidance_linked`` (bool): True where the row stands for a guidance vintage, either a
      curated event a vintage links to (of any type) or a new event from
      :func:`guidance_events`; False for every other event. The new events are the rows whose
      ``source_name`` is :data:`GUIDANCE_SOURCE_NAME`.
    - ``guided_change_usd_bn`` (USD billions): the vintage's guided change (see
      :func:`guidance_vintage_links`) on the rows with ``guidance_linked``; NaN elsewhere and for
      a year's first vintage. A vintage linked to a curated event of another type (Alphabet's
      2025-04-24 statement sits on its earnings event) still fills it there: the statement was
      made at that event, so its reaction window holds the news. When several vintages link to
      one curated event, the one whose midpoint equals the event's amount_usd_bn gives the
      figure, else the latest fiscal year.

    Curated rows keep every value; the index is reset. Empty guidance gives the events with the
    two columns (False and NaN), in the same order, for events already sorted as ``load_events``
    returns them. Raises ``DataUnavailable`` when a needed column is missing. Inputs are not
    changed.
    """
    _require_columns(events, EVENT_INPUTS, "events")
    links = guidance_vintage_links(guidance, events)
    curated = events.copy()
    changes = _linked_changes(events, links)
    event_ids = curated["event_id"].astype("str")
    curated[GUIDED_CHANGE_COLUMN] = event_ids.map(changes).astype(float)
    curated[GUIDANCE_LINKED_COLUMN] = event_ids.isin(changes.index).to_numpy(dtype=bool)
    new = _guidance_event_rows(guidance, events, links)
    if new.empty:
        combined = curated
    else:
        new[GUIDANCE_LINKED_COLUMN] = True
        combined = pd.concat([curated, new[curated.columns]], ignore_index=True)
    return combined.sort_values(["event_date", "event_id"], kind="stable").reset_index(drop=True)
