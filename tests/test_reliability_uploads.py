"""Bounded uploads: a row limit checked before parsing, a time budget, only the result kept.

- A file of MAX_UPLOAD_EVENTS + 1 rows is refused with a clear message, without being parsed
  into a table, and the session keeps nothing of it; a file of exactly the limit is accepted.
- A large study runs in a worker process and gives the same table as in the server process; past
  the time budget the worker is killed and the page says why; one large study at a time.
- The session keeps only the per-event table of the current upload (no study arrays, no
  intermediate frames), and a new file replaces it.
"""

from __future__ import annotations

import multiprocessing

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import config
from dashboard.loaders import curated
from dashboard.metrics import guidance_events, returns
from dashboard.ui import uploads

APP = str(config.REPO_ROOT / "dashboard" / "app.py")
TICKERS = ["META", "MSFT", "GOOGL", "AMZN", "ORCL", "INTC"]


def events_file(rows: int, *, seed: int = 0) -> bytes:
    """A valid user events file of ``rows`` events (synthetic ids and dates, real tickers)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-02", "2026-06-30")
    frame = pd.DataFrame(
        {
            "event_id": [f"U{i:06d}" for i in range(rows)],
            "ticker": rng.choice(TICKERS, rows),
            "event_date": pd.Series(rng.choice(dates, rows)).dt.strftime("%Y-%m-%d"),
            "event_time": rng.choice(["pre_market", "after_close", "unknown"], rows),
        }
    )
    return frame.to_csv(index=False, lineterminator="\n").encode()


@pytest.fixture(scope="module")
def inputs():
    prices = curated.load_prices()
    study = guidance_events.events_with_guidance(curated.load_events(), curated.load_guidance())
    return returns.simple_returns(curated.close_prices(prices)), curated.load_companies(), study


# --- the row limit ------------------------------------------------------------------------------------


def test_one_row_over_the_limit_is_refused_before_parsing(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the file was parsed although it is over the row limit")

    monkeypatch.setattr(curated, "validate_events", never)
    check = uploads.check_uploaded_events("big.csv", events_file(config.MAX_UPLOAD_EVENTS + 1))
    assert check.error == (
        "big.csv: more than 20,000 rows (counted 20,001 before stopping); the app studies at most 20,000 events per "
        "file. Split the file, or run it on the command line (python -m dashboard reactions --events FILE), which has "
        "no limit"
    )
    assert check.events.empty and check.rows_loaded == 0


def test_exactly_the_limit_is_accepted():
    check = uploads.check_uploaded_events("limit.csv", events_file(config.MAX_UPLOAD_EVENTS))
    assert check.error is None and check.rows_loaded == config.MAX_UPLOAD_EVENTS


def test_rows_are_counted_as_records_not_lines():
    text = 'event_id,ticker,event_date,headline\nA,META,2025-01-02,"two\nlines"\n\nB,META,2025-01-03,x\n'
    assert uploads.count_rows(text, stop_after=10) == 2
    assert uploads.count_rows("h\n" + "x\n" * 100, stop_after=5) == 6  # stops once past the limit


def test_the_page_refuses_the_file_and_keeps_nothing():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("app_pages/events.py")
    at.session_state[uploads.SESSION_KEY] = ("big.csv", events_file(config.MAX_UPLOAD_EVENTS + 1))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("more than 20,000 rows" in e.value and "command line" in e.value for e in at.error)
    assert uploads.RESULT_KEY not in at.session_state or not at.session_state[uploads.RESULT_KEY]


# --- the study: worker, time budget, one at a time ------------------------------------------------------


def test_the_worker_gives_the_same_table_as_the_server_process(inputs):
    events = uploads.check_uploaded_events("mine.csv", events_file(60, seed=1)).events
    here = uploads.study_uploaded_events(events, *inputs, model="market", windows=((-1, 1), (0, 20)))
    there = uploads.study_uploaded_events(events, *inputs, model="market", windows=((-1, 1), (0, 20)), in_process_limit=0)
    assert here.error is None and there.error is None
    pd.testing.assert_frame_equal(here.events, there.events)
    assert len(here.events) == 120 and here.events["car"].notna().any()


def test_a_study_over_the_time_budget_is_stopped(inputs):
    events = uploads.check_uploaded_events("mine.csv", events_file(50)).events
    result = uploads.study_uploaded_events(events, *inputs, model="market", windows=((-1, 1),), in_process_limit=0, time_budget=0.05)
    assert result.events.empty
    assert result.error.startswith("the study took longer than 0.05 s and was stopped")
    assert multiprocessing.active_children() == []  # the worker was killed and reaped


def test_one_large_study_at_a_time(inputs):
    events = uploads.check_uploaded_events("mine.csv", events_file(10)).events
    with uploads._STUDY_SLOTS:  # another session's large study holds the only slot
        result = uploads.study_uploaded_events(events, *inputs, model="market", windows=((-1, 1),), in_process_limit=0, time_budget=0.2)
    assert result.error == "the server is busy with another large upload; try again in a minute"
    small = uploads.study_uploaded_events(events, *inputs, model="market", windows=((-1, 1),), time_budget=0.2)
    assert small.error is None  # small files do not need the slot


def test_a_table_with_too_many_confounding_events_is_refused(inputs):
    # Ten events of one company on two days: each confounds the others in every window.
    events = uploads.check_uploaded_events(
        "dense.csv",
        b"event_id,ticker,event_date\n" + b"".join(f"D{i},META,2025-03-{3 + i % 2:02d}\n".encode() for i in range(10)),
    ).events
    exact = uploads.study_uploaded_events(events, *inputs, model="market", windows=((-1, 1), (0, 20)))
    links = int(exact.events["confounded_by"].map(len).sum())
    assert links >= 10 * 9  # in [-1, +1] each event is confounded by the nine others
    assert uploads.estimated_links(events, ((-1, 1), (0, 20))) == 10 * 9 * 2 >= links  # an upper estimate
    for in_process_limit in (100, 0):  # in the server process, and in the worker
        refused = uploads.study_uploaded_events(
            events, *inputs, model="market", windows=((-1, 1), (0, 20)), in_process_limit=in_process_limit, max_links=links - 1
        )
        assert refused.events.empty
        assert refused.error.startswith(f"its table would list {links:,} confounding events (at most 3,000,000 in the app)")


def test_a_dense_file_goes_to_the_worker_whatever_its_length(inputs, monkeypatch):
    events = uploads.check_uploaded_events(
        "dense.csv", b"event_id,ticker,event_date\n" + b"".join(f"D{i},META,2025-03-03\n".encode() for i in range(400))
    ).events
    assert uploads.estimated_links(events, ((-1, 1),)) == 400 * 399 > config.UPLOAD_IN_PROCESS_LINKS
    called = []
    monkeypatch.setattr(uploads, "_table_in_worker", lambda arguments, **kwargs: called.append(1) or pd.DataFrame())
    uploads.study_uploaded_events(events, *inputs, model="market", windows=((-1, 1),))
    assert called == [1]


# --- only the result is kept -----------------------------------------------------------------------------


def test_the_session_keeps_only_the_current_uploads_table(monkeypatch):
    released = []
    monkeypatch.setattr(uploads, "release_freed_memory", lambda: released.append(1))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("app_pages/events.py")
    kept = []
    for name, seed in (("first.csv", 1), ("second.csv", 2)):
        at.session_state[uploads.SESSION_KEY] = (name, events_file(30, seed=seed))
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        store = at.session_state[uploads.RESULT_KEY]
        assert len(store) == 1
        (result,) = store.values()
        assert type(result) is uploads.UploadStudy and isinstance(result.events, pd.DataFrame)
        assert result.error is None and result.events["event_id"].nunique() == 30
        kept.append(next(iter(store)))
    assert kept[0] != kept[1]  # the second file replaced the first
    import gc

    gc.collect()
    assert released == [1]  # the first table was freed, and its memory handed back to the system
