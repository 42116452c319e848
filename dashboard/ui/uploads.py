"""A user's own events CSV: validated row by row, run through the event study for this session
only. Nothing is written to disk and nothing enters the shared cache.

The upload handling takes bytes (not a Streamlit upload object) so it can be tested directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dashboard.errors import CurationError
from dashboard.loaders import curated

SESSION_KEY = "events_upload"  # session state: (file name, bytes) of the current upload
MAX_BYTES = 5 * 1024 * 1024  # the server's maxUploadSize (5 MB) also enforces this


@dataclass
class UploadCheck:
    """What happened to an uploaded events file."""

    name: str
    events: pd.DataFrame = field(default_factory=pd.DataFrame)  # the valid rows
    issues: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file", "line", "column", "reason"]))
    summary: str = ""
    error: str | None = None  # the whole file could not be read

    @property
    def rows_loaded(self) -> int:
        return len(self.events)


def check_uploaded_events(name: str, data: bytes) -> UploadCheck:
    """Validate an uploaded events CSV with the same rules as ``--events`` on the command line
    (``validate_events(..., curated=False)``: only event_id, ticker, event_date required).

    Returns the valid rows and one issue per bad cell (``line`` is the file's physical line, the
    header being line 1). An unreadable file (not UTF-8, not CSV, a required column missing, too
    large) gives ``error`` and no rows.
    """
    safe_name = "".join(ch for ch in str(name) if ch.isprintable())[:120] or "upload.csv"
    if len(data) > MAX_BYTES:
        return UploadCheck(safe_name, error=f"{safe_name}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return UploadCheck(safe_name, error=f"{safe_name}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    try:
        good, report = curated.validate_events(safe_name, curated=False, text=text)
    except CurationError as exc:
        return UploadCheck(safe_name, error=str(exc))
    return UploadCheck(safe_name, events=good, issues=report.as_frame(), summary=report.summary())


def session_result(version: str, check: UploadCheck, data: bytes, *, model: str, windows: tuple[tuple[int, int], ...]):
    """The event study of an upload's valid rows, kept in this session's state (keyed by the
    file's hash and the settings) so reruns do not recompute it; never cached across sessions."""
    import hashlib

    import streamlit as st

    from dashboard.ui import cached

    key = ("upload_result", hashlib.sha256(data).hexdigest(), version, model, windows)
    store = st.session_state.setdefault("_upload_results", {})
    if key not in store:
        store.clear()  # one upload at a time
        store[key] = cached.session_event_study(version, check.events, model=model, windows=windows)
    return store[key]
