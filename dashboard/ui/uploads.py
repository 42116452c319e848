"""A user's own events CSV: validated row by row, run through the event study for this session
only. Nothing is written to disk and nothing enters the shared cache.

Bounded, so one upload cannot exhaust the server:

- at most ``config.MAX_UPLOAD_BYTES`` and ``config.MAX_UPLOAD_EVENTS`` rows: a longer file is
  refused after counting its rows, before it is parsed into a table;
- a study of more than ``config.UPLOAD_IN_PROCESS_EVENTS`` events, or whose events lie so close
  together that its table may list more than ``config.UPLOAD_IN_PROCESS_LINKS`` confounding
  events, runs in a separate worker process (one at a time per server,
  ``config.UPLOAD_CONCURRENT_STUDIES``), which is killed when it exceeds
  ``config.UPLOAD_TIME_BUDGET_SECONDS``; its working memory goes with it, so the server only ever
  holds the result;
- the result itself is bounded: a table listing more than ``config.UPLOAD_MAX_CONFOUNDER_LINKS``
  confounding events (``confounded_by`` entries; 20,000 events of one company put 19 million
  there, which the page would have to send to the browser) is refused by the worker;
- session state keeps only that result (the per-event table the page shows), one upload at a
  time: a new file, new settings or a new data version replace it, and Streamlit drops it when
  the session ends.

The upload handling takes bytes (not a Streamlit upload object) so it can be tested directly.
"""

from __future__ import annotations

import csv
import ctypes
import hashlib
import io
import logging
import multiprocessing
import threading
import time
import weakref
from dataclasses import dataclass, field

import pandas as pd

from dashboard import config
from dashboard.errors import CurationError
from dashboard.loaders import curated
from dashboard.loaders.validation import decode_text

SESSION_KEY = "events_upload"  # session state: (file name, bytes) of the current upload
RESULT_KEY = "_upload_results"  # session state: {key: UploadStudy}, one entry at most
MAX_BYTES = config.MAX_UPLOAD_BYTES  # the server's maxUploadSize (5 MB) also enforces this
MAX_ROWS = config.MAX_UPLOAD_EVENTS
COMMAND_LINE_HINT = "python -m dashboard reactions --events FILE"

_STUDY_SLOTS = threading.BoundedSemaphore(config.UPLOAD_CONCURRENT_STUDIES)


@dataclass
class UploadCheck:
    """What happened to an uploaded events file."""

    name: str
    events: pd.DataFrame = field(default_factory=pd.DataFrame)  # the valid rows
    issues: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file", "line", "column", "reason"]))
    summary: str = ""
    error: str | None = None  # the whole file could not be read, or is too large
    warnings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file", "line", "column", "reason"]))

    @property
    def rows_loaded(self) -> int:
        return len(self.events)


@dataclass(frozen=True)
class UploadStudy:
    """All a session keeps of an upload's event study: the per-event table the page shows
    (``metrics.event_study`` EVENTS columns), or the reason there is none."""

    events: pd.DataFrame
    error: str | None = None


def count_rows(text: str, *, stop_after: int) -> int:
    """Data rows of CSV text (records after the header; blank lines skipped, quoted fields may span
    lines), counting no further than ``stop_after + 1``: enough to tell a file is too long."""
    rows = -1  # the header
    for record in csv.reader(io.StringIO(text)):
        if record:
            rows += 1
            if rows > stop_after:
                break
    return max(rows, 0)


def too_many_rows_message(name: str, rows_at_least: int) -> str:
    return (
        f"{name}: more than {MAX_ROWS:,} rows (counted {rows_at_least:,} before stopping); the app studies at most "
        f"{MAX_ROWS:,} events per file. Split the file, or run it on the command line ({COMMAND_LINE_HINT}), "
        "which has no limit"
    )


def check_uploaded_events(name: str, data: bytes) -> UploadCheck:
    """Validate an uploaded events CSV with the same rules as ``--events`` on the command line
    (``validate_events(..., curated=False)``: only event_id, ticker, event_date required).

    Returns the valid rows and one issue per bad cell (``line`` is the file's physical line, the
    header being line 1); unknown columns are named in ``warnings`` and the summary. An
    unreadable file (not UTF-8, not CSV, a required column missing) or one over the limits
    (``MAX_BYTES``, ``MAX_ROWS`` rows, counted before the file is parsed) gives ``error`` and no
    rows.
    """
    safe_name = "".join(ch for ch in str(name) if ch.isprintable())[:120] or "upload.csv"
    if len(data) > MAX_BYTES:
        return UploadCheck(safe_name, error=f"{safe_name}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = decode_text(data, safe_name)
    except CurationError as exc:
        return UploadCheck(safe_name, error=str(exc))
    rows = count_rows(text, stop_after=MAX_ROWS)
    if rows > MAX_ROWS:
        return UploadCheck(safe_name, error=too_many_rows_message(safe_name, rows))
    try:
        good, report = curated.validate_events(safe_name, curated=False, text=text)
    except CurationError as exc:
        return UploadCheck(safe_name, error=str(exc))
    warnings = pd.DataFrame([(w.file, w.line, w.column, w.reason) for w in report.warnings], columns=["file", "line", "column", "reason"])
    return UploadCheck(safe_name, events=good, issues=report.as_frame(), summary=report.summary(), warnings=warnings)


# --- the study -----------------------------------------------------------------------------------


class UploadTooLarge(Exception):
    """The study's table lists more confounding events than the app shows; ``links`` says how many."""

    def __init__(self, links: int) -> None:
        super().__init__(links)
        self.links = links


def too_large_message(links: int) -> str:
    return (
        f"its table would list {links:,} confounding events (at most {config.UPLOAD_MAX_CONFOUNDER_LINKS:,} in the "
        "app): many events of one company fall inside each other's windows. Split the file, or use the command line "
        f"({COMMAND_LINE_HINT})"
    )


def estimated_links(events: pd.DataFrame, windows: tuple[tuple[int, int], ...]) -> int:
    """An upper estimate of the ``confounded_by`` entries a study of ``events`` lists: per event and
    window, the same company's events within the span of all windows (trading days widened to
    calendar days). Used only to decide where a study runs; the worker counts exactly."""
    if events.empty:
        return 0
    span = max(b for _, b in windows) - min(a for a, _ in windows)
    horizon = pd.Timedelta(days=int(span * 7 / 5) + 10)
    total = 0
    for _, dates in pd.to_datetime(events["event_date"]).groupby(events["ticker"]):
        ordered = dates.sort_values().to_numpy()
        low = ordered.searchsorted(ordered - horizon.to_timedelta64(), side="left")
        high = ordered.searchsorted(ordered + horizon.to_timedelta64(), side="right")
        total += int((high - low - 1).sum())
    return total * len(windows)


@dataclass
class StudyInputs:
    """What an upload's study runs on, as :func:`study_uploaded_events` hands it to
    :func:`upload_event_table` (here, or pickled to the worker process)."""

    events: pd.DataFrame  # the user's valid rows
    returns: pd.DataFrame
    companies: pd.DataFrame
    confounders: pd.DataFrame  # the study's own events
    model: config.Model
    windows: tuple[tuple[int, int], ...]
    max_links: int = config.UPLOAD_MAX_CONFOUNDER_LINKS


def upload_event_table(inputs: StudyInputs) -> pd.DataFrame:
    """``metrics.event_study.run_event_study(...).events`` for a user's events, with the study
    events as confounders, exactly as ``reactions --events`` does; only the table is returned, so
    the arrays of the full result are freed at once. ``UploadTooLarge`` when the table lists more
    than ``inputs.max_links`` confounding events."""
    from dashboard.metrics import event_study

    model, windows, confounders = inputs.model, inputs.windows, inputs.confounders
    result = event_study.run_event_study(
        inputs.events, inputs.returns, companies=inputs.companies, model=model, windows=windows, confounders=confounders
    )
    table = result.events
    del result
    links = int(table["confounded_by"].map(len).sum()) if "confounded_by" in table.columns else 0
    if links > inputs.max_links:
        raise UploadTooLarge(links)
    return table


def _worker(connection, inputs: StudyInputs) -> None:
    """The worker process: compute the table and send it back (or the failure's type)."""
    try:
        connection.send(("ok", upload_event_table(inputs)))
    except UploadTooLarge as exc:
        connection.send(("too_large", exc.links))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as a type name only
        connection.send(("failed", type(exc).__name__))
    finally:
        connection.close()


class UploadStudyFailed(Exception):
    """The upload's study did not finish; the message is for the user."""


def _table_in_worker(inputs: StudyInputs, *, deadline: float, budget: float) -> pd.DataFrame:
    """Run ``upload_event_table`` in a fresh process and return its table; kill the process and
    raise ``UploadStudyFailed`` when ``deadline`` (``time.monotonic()``) passes first."""
    context = multiprocessing.get_context("spawn")  # never fork a server with threads
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_worker, args=(sender, inputs), daemon=True, name="upload-study")
    process.start()
    sender.close()
    try:
        if not receiver.poll(max(deadline - time.monotonic(), 0.0)):
            raise UploadStudyFailed(
                f"the study took longer than {budget:g} s and was stopped; try fewer events, or the command line ({COMMAND_LINE_HINT})"
            )
        try:
            status, payload = receiver.recv()
        except EOFError as exc:  # the worker died (out of memory, killed)
            raise UploadStudyFailed("the study stopped unexpectedly; try fewer events, or the command line") from exc
        if status == "too_large":
            raise UploadStudyFailed(too_large_message(payload))
        if status != "ok":
            logging.getLogger(__name__).error("upload study failed in the worker: %s", payload)
            raise UploadStudyFailed("the study failed; try fewer events, or the command line")
        return payload
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)


def study_uploaded_events(
    events: pd.DataFrame,
    returns: pd.DataFrame,
    companies: pd.DataFrame,
    confounders: pd.DataFrame,
    *,
    model: config.Model,
    windows: tuple[tuple[int, int], ...],
    in_process_limit: int = config.UPLOAD_IN_PROCESS_EVENTS,
    time_budget: float = config.UPLOAD_TIME_BUDGET_SECONDS,
    max_links: int = config.UPLOAD_MAX_CONFOUNDER_LINKS,
) -> UploadStudy:
    """The event study of an upload's valid rows, bounded in time and memory (see the module
    docstring). A small file is studied here; a large or dense one in a worker process, killed
    after ``time_budget`` seconds (the wait for a free worker slot counts too). A study that does
    not finish, or whose table would list more than ``max_links`` confounding events, gives an
    ``UploadStudy`` with ``error`` and an empty table."""
    inputs = StudyInputs(events, returns, companies, confounders, model, tuple(windows), max_links)
    small = len(events) <= in_process_limit and estimated_links(events, tuple(windows)) <= config.UPLOAD_IN_PROCESS_LINKS
    if small:
        try:
            return UploadStudy(upload_event_table(inputs))
        except UploadTooLarge as exc:
            return UploadStudy(pd.DataFrame(), too_large_message(exc.links))
    deadline = time.monotonic() + time_budget
    if not _STUDY_SLOTS.acquire(timeout=time_budget):
        return UploadStudy(pd.DataFrame(), "the server is busy with another large upload; try again in a minute")
    try:
        return UploadStudy(_table_in_worker(inputs, deadline=deadline, budget=time_budget))
    except UploadStudyFailed as exc:
        return UploadStudy(pd.DataFrame(), str(exc))
    finally:
        _STUDY_SLOTS.release()


def release_freed_memory() -> None:
    """Hand memory the process no longer uses back to the operating system (glibc keeps freed
    blocks of a large table for reuse otherwise, and the server's RSS would stay at its peak).
    Does nothing where ``malloc_trim`` does not exist."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError, TypeError):  # not glibc, or not a POSIX system
        pass


def session_result(
    version: str, check: UploadCheck, data: bytes, *, model: config.Model, windows: tuple[tuple[int, int], ...]
) -> UploadStudy:
    """The event study of an upload's valid rows for this session: kept in its session state
    (keyed by the file's hash, the data version and the settings) so reruns do not recompute it,
    and nothing else is kept; never cached across sessions. A new file or new settings replace
    the kept result before the new study starts. When the study does not finish, an error is
    shown and the result has an empty table."""
    import streamlit as st

    from dashboard.ui import cached

    key = ("upload_result", hashlib.sha256(data).hexdigest(), version, model, tuple(windows))
    store = st.session_state.setdefault(RESULT_KEY, {})
    if key not in store:
        store.clear()  # one upload at a time: release the previous result first
        result = study_uploaded_events(
            check.events, cached.cached_returns(version), cached.cached_companies(version),
            cached.cached_study_events(version), model=model, windows=windows,
        )  # fmt: skip
        # When the result goes (a new file, or the session ends and Streamlit drops its state),
        # its memory goes back to the system, not only to the allocator.
        weakref.finalize(result.events, release_freed_memory)
        store[key] = result
    result = store[key]
    if result.error:
        st.error(f"The event study of {check.name} did not run: {result.error}.")
    return result
