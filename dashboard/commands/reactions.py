"""``reactions``: event study of the stock's reaction to each event, written as CSV files.

``python -m dashboard reactions [--events FILE] [--returns FILE] [--return-type simple|log]
[--model market|market_adjusted|constant_mean|peer] [--benchmark TICKER] [--estimation=A,B]
[--window=A,B ...] [--group-by event_type|ticker|all] --out EVENTS.csv [--summary SUMMARY.csv]
[--daily DAILY.csv] [--ar AR.csv]``

Window bounds are negative, so write them attached: ``--estimation=-250,-11 --window=-1,1``.
Without ``--events`` the study's events run: the curated events plus each capex-guidance vintage
that no curated event within a day covers (``metrics.guidance_events``); a user's events file needs only
``event_id,ticker,event_date`` (bad rows are reported on stderr and the good ones run), and the
study's events of the same company still count as confounding events for it.
Without ``--returns`` the returns come from the price snapshot's adjusted closes, each ticker on
its own exchange calendar. A ``--returns`` file is a wide CSV (``date`` plus one column per ticker,
benchmark included) of decimal returns; its rows are the sessions.

EVENTS.csv has one row per event x window (``event_study.EVENTS_FILE_COLUMNS``); after the
original columns come, at the end:

- ``confounded_by``: the ids of the other events of the same company whose day 0 lies in the
  window, joined with ``;`` (empty exactly when ``confounded`` is false);
- ``day0_alt`` and ``car_alt``: for an event whose time of day is unknown (studied on the
  session of its date), the day 0 and the window's CAR had it come after the close (the next
  session, or the next row of a ``--returns`` file); empty for events whose time is known, and
  ``car_alt`` empty where that placement has no ok status.

SUMMARY.csv ends with ``all_confounded``: every event of the group in that window is confounded
(so its ``unconfounded`` row has no events).
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard import config
from dashboard.errors import CurationError, DataUnavailable
from dashboard.loaders.curated import (
    close_prices,
    load_companies,
    load_events,
    load_guidance,
    load_prices,
    validate_events,
)
from dashboard.commands.common import as_of_text
from dashboard.exporting import export_csv
from dashboard.loaders.snapshot import atomic_write_bytes
from dashboard.loaders.validation import read_text
from dashboard.metrics.caar import GROUP_BYS, group_statistics
from dashboard.metrics.event_study import EVENTS_FILE_COLUMNS, MODELS, run_event_study
from dashboard.metrics.guidance_events import events_with_guidance
from dashboard.metrics.returns import RETURN_KINDS, returns_from_closes

NAME = "reactions"
HELP = "event study: abnormal returns, CARs and their tests around each event, written to CSV"
EXIT_OK, EXIT_INVALID = 0, 1
__all__ = ["NAME", "HELP", "add_arguments", "run", "read_returns_file"]


def _window(text: str) -> tuple[int, int]:
    try:
        start, end = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not two whole numbers A,B (write --window=-1,1)") from None
    if start > end:
        raise argparse.ArgumentTypeError(f"{text!r}: start is after end")
    return start, end


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=Path, metavar="FILE", help="events CSV (default: the curated events)")
    parser.add_argument("--returns", type=Path, metavar="FILE", help="wide CSV: date + one column of decimal returns per ticker")
    parser.add_argument("--return-type", choices=RETURN_KINDS, default="simple", help="simple (default) or log returns")
    parser.add_argument("--model", choices=MODELS, default="market", help="expected-return model (default: market)")
    parser.add_argument("--benchmark", metavar="TICKER", help="benchmark for every company (default: companies table, SPY)")
    parser.add_argument(
        "--estimation", type=_window, default=config.DEFAULT_ESTIMATION_WINDOW, metavar="A,B",
        help="estimation window in trading days, e.g. --estimation=-250,-11 (the default)",
    )
    parser.add_argument(
        "--window", type=_window, action="append", metavar="A,B",
        help="event window, repeatable, e.g. --window=-1,1 --window=0,1 (default: -1,1 0,1 -5,5 0,20)",
    )
    parser.add_argument("--group-by", choices=GROUP_BYS, default="event_type", help="groups of the summary (default: event_type)")
    parser.add_argument(
        "--min-estimation", type=int, default=config.DEFAULT_MIN_ESTIMATION_DAYS, metavar="N",
        help=f"fewest estimation days (default: {config.DEFAULT_MIN_ESTIMATION_DAYS})",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="EVENTS.csv", help="per event x window results")
    parser.add_argument("--summary", type=Path, metavar="SUMMARY.csv", help="per group x sample x window tests")
    parser.add_argument("--daily", type=Path, metavar="DAILY.csv", help="per group x sample x relative day tests")
    parser.add_argument("--ar", type=Path, metavar="AR.csv", help="per event x relative day abnormal returns")


def read_returns_file(path: Path) -> pd.DataFrame:
    """A user's wide returns CSV as a date-indexed float frame; any bad cell is an error naming
    file, line, column and reason (``CurationError``)."""
    text = read_text(Path(path))
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise CurationError(f"{path}: not a readable CSV ({exc})") from exc
    if "date" not in raw.columns:
        raise CurationError(f"{path}: missing required column 'date'")
    if len(raw.columns) < 2:
        raise CurationError(f"{path}: no ticker columns beside 'date'")
    raw = raw.apply(lambda s: s.str.strip())
    issues: list[str] = []
    dates = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    for pos in np.flatnonzero(dates.isna().to_numpy()):
        issues.append(f"{path}:{pos + 2}: date: {raw['date'].iloc[pos]!r} is not a date (YYYY-MM-DD)")
    for pos in np.flatnonzero(dates.duplicated().to_numpy() & dates.notna().to_numpy()):
        issues.append(f"{path}:{pos + 2}: date: duplicates an earlier row's date")
    values = {}
    for column in raw.columns:
        if column == "date":
            continue
        cells = raw[column].replace({"": None, "NA": None, "NaN": None, "nan": None})
        numbers = pd.to_numeric(cells, errors="coerce")
        for pos in np.flatnonzero((cells.notna() & numbers.isna()).to_numpy()):
            issues.append(f"{path}:{pos + 2}: {column}: {raw[column].iloc[pos]!r} is not a number")
        values[column] = numbers.astype(float)
    if issues:
        more = f" (and {len(issues) - 3} more)" if len(issues) > 3 else ""
        raise CurationError("; ".join(issues[:3]) + more)
    frame = pd.DataFrame(values)
    frame.index = pd.DatetimeIndex(dates, name="date")
    return frame.sort_index()


def _user_events(path: Path, extra_tickers: set[str]) -> pd.DataFrame:
    """Validate a user's events file; report bad rows on stderr; return the good ones.

    Tickers that are columns of the returns in use are accepted besides the covered companies.
    """
    good, report = validate_events(path, curated=False, extra_tickers=sorted(extra_tickers))
    if report.issues:
        print("warning: rows of the events file were rejected:", file=sys.stderr)
        print("\n".join(report.lines()), file=sys.stderr)
    if good.empty:
        raise _NoValidEvents(report)
    return good


class _NoValidEvents(Exception):
    def __init__(self, report: object) -> None:
        super().__init__("no valid events")
        self.report = report


def run(args: argparse.Namespace) -> int:
    companies = load_companies()
    windows = tuple(args.window) if args.window else config.DEFAULT_EVENT_WINDOWS
    if args.returns is not None:
        returns = read_returns_file(args.returns)
        sessions = "rows"
    else:
        returns = returns_from_closes(close_prices(load_prices()), kind=args.return_type)
        sessions = "exchange"
    if args.benchmark:
        if args.model == "peer":
            raise DataUnavailable("--benchmark does not apply to --model peer (the peers are the benchmark)")
        if args.benchmark not in returns.columns:
            raise DataUnavailable(f"benchmark {args.benchmark!r} has no returns (columns: {', '.join(map(str, returns.columns))})")
    # The study's events: the curated ones and the guidance vintages no curated event covers.
    curated = events_with_guidance(load_events(), load_guidance())
    if args.events is not None:
        try:
            events = _user_events(args.events, set(map(str, returns.columns)))
        except _NoValidEvents:
            print(f"error: {args.events}: no valid event rows", file=sys.stderr)
            return EXIT_INVALID
    else:
        events = curated
    try:
        result = run_event_study(
            events, returns, companies=companies, model=args.model, benchmark=args.benchmark,
            estimation=args.estimation, windows=windows, min_estimation=args.min_estimation,
            return_type=args.return_type, sessions=sessions,
            # A user's events are also confounded by the study's events of the same company.
            confounders=curated if args.events is not None else None,
        )
    except ValueError as exc:
        raise DataUnavailable(str(exc)) from exc
    atomic_write_bytes(args.out, export_csv(result.events[list(EVENTS_FILE_COLUMNS)], with_metadata=False))
    written = [str(args.out)]
    if args.summary or args.daily:
        summary, daily = group_statistics(result, group_by=args.group_by)
        if args.summary:
            atomic_write_bytes(args.summary, export_csv(summary, with_metadata=False))
            written.append(str(args.summary))
        if args.daily:
            atomic_write_bytes(args.daily, export_csv(daily, with_metadata=False))
            written.append(str(args.daily))
    if args.ar:
        atomic_write_bytes(args.ar, export_csv(result.abnormal, with_metadata=False))
        written.append(str(args.ar))
    statuses = result.events["status"].value_counts()
    status_text = ", ".join(f"{name} {count}" for name, count in statuses.items())
    confounded = result.parameters["confounded_any"].sum()
    print(
        f"reactions: {len(result.parameters)} events x {len(windows)} windows (model={args.model}, "
        f"returns={args.return_type}, estimation={args.estimation[0]},{args.estimation[1]}); "
        f"statuses: {status_text}; confounded in some window: {confounded}; wrote {', '.join(written)}"
    )
    if args.returns is None:
        print(as_of_text("events", "prices"))
    return EXIT_OK
