"""SEC filings as candidate events (pure): acceptance time and day 0, then scope, type and matching.

A filing comes from ``loaders.filings.normalize_submissions`` (one row per filing, with the JSON's
``acceptance_clock``: the wall-clock value of ``acceptanceDateTime`` without its ``Z``). Two
modules, two jobs; the public names are importable from here, as callers use them:

- ``times``: each filing's exact Eastern acceptance time (the SGML header, else the JSON read
  with the filer's learned convention) and its day 0 on the company's exchange calendar.
- ``matching``: which filings are in scope, the event type each suggests, the curated event
  each matches, and the tables for the app and the command line (``filing_candidates``,
  ``event_filing_suggestions``, ``review_queue_events``).

Nothing here reads files, the network or the clock; no input is modified.
"""

from __future__ import annotations

from dashboard.metrics.filings.matching import (
    ACCESSION_PATTERN,
    CANDIDATE_COLUMNS,
    MATCH_COLUMNS,
    NEW,
    REVIEW_EVENT_ID_PREFIX,
    SUGGESTION_COLUMNS,
    accession_from_url,
    event_accessions,
    event_filing_suggestions,
    filing_candidates,
    filing_title,
    filings_in_scope,
    match_filings_to_events,
    review_queue_events,
    scope_keys,
    suggested_event_types,
    suggestion_note,
)
from dashboard.metrics.filings.times import (
    HEADER_TOLERANCE,
    ConventionEvidence,
    ExchangeHours,
    acceptance_times,
    clock_as_eastern,
    clock_as_utc,
    exchange_hours,
    exchange_hours_by_calendar,
    filer_acceptance_times,
    filing_day0,
    json_convention_from_headers,
    json_convention_from_readings,
    json_time_convention,
    within_edgar_hours,
)

__all__ = [
    "ACCESSION_PATTERN", "CANDIDATE_COLUMNS", "HEADER_TOLERANCE", "MATCH_COLUMNS", "NEW", "REVIEW_EVENT_ID_PREFIX",
    "SUGGESTION_COLUMNS", "ConventionEvidence", "ExchangeHours", "acceptance_times", "accession_from_url", "clock_as_eastern",
    "clock_as_utc", "event_accessions", "event_filing_suggestions", "exchange_hours", "exchange_hours_by_calendar",
    "filer_acceptance_times", "filing_candidates", "filing_day0", "filing_title", "filings_in_scope", "json_convention_from_headers",
    "json_convention_from_readings", "json_time_convention", "match_filings_to_events", "review_queue_events", "scope_keys",
    "suggested_event_types", "suggestion_note", "within_edgar_hours",
]  # fmt: skip
