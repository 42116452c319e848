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
its own exchange calendar. A ``--returns`` file is a wide CSV or Parquet file (``date`` plus one
column per ticker, benchmark included) of decimal returns; its rows are the sessions, its tickers
need not be companies of the data, and ``--benchmark`` may name any of its columns. A bad cell,
a missing ``date`` column or a repeated date is reported as ``file:line: column: reason``, with
exit code 1 (``loaders.returns_file``).

EVENTS.csv has one row per event x window (``event_study.EVENTS_FILE_COLUMNS``); after the
original columns come, at the end:

- ``confounded_by``: the ids of the other events of the same company whose day 0 lies in the
  window, joined with ``;`` (empty exactly when ``confounded`` is false);
- ``day0_alt`` and ``car_alt``: for an event whose time of day is unknown (studied on the
  session of its date), the day 0 and the window's CAR had it come after the close (the next
  session, or the next row of a ``--returns`` file); empty for events whose time is known, and
  ``car_alt`` empty where that placement has no ok status.

Two outputs naming the same file (or an input), however spelled, are refused before anything
runs; an output that is a symlink is written at its target, and all outputs appear together.

SUMMARY.csv ends with ``all_confounded``: every event of the group in that window is confounded
(so its ``unconfounded`` row has no events).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dashboard import config
from dashboard.commands.common import as_of_text
from dashboard.commands.output import output_help, write_outputs
from dashboard.errors import DataUnavailable

NAME = "reactions"
HELP = "event study: abnormal returns, CARs and their tests around each event, written to CSV"
INPUTS: tuple[str, ...] = ("events", "returns")
OUTPUTS: tuple[str, ...] = ("out", "summary", "daily", "ar")
__all__ = ["NAME", "HELP", "INPUTS", "OUTPUTS", "add_arguments", "check_arguments", "run"]

if TYPE_CHECKING:  # imported where used, so that --help stays a bare start-up
    from collections.abc import Iterable

    import pandas as pd

    from dashboard.metrics.event_study import EventStudyResult


def _window(text: str) -> tuple[int, int]:
    try:
        return config.parse_window(text)
    except ValueError as exc:
        hint = "" if "start is after end" in str(exc) else " (write --window=-1,1)"
        raise argparse.ArgumentTypeError(f"{exc}{hint}") from None


def _choice(parser: argparse.ArgumentParser, flag: str, choices: Iterable[str], default: str, what: str) -> None:
    """An option taking one of ``choices``; its help is ``what`` and the default."""
    parser.add_argument(flag, choices=choices, default=default, help=f"{what} (default: {default})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=Path, metavar="FILE", help="events CSV (default: the curated events)")
    parser.add_argument(
        "--returns",
        type=Path,
        metavar="FILE",
        help="wide CSV or Parquet: date + one column of decimal returns per ticker (any tickers, benchmark included)",
    )
    _choice(parser, "--return-type", config.RETURN_TYPES, config.DEFAULT_RETURN_TYPE, f"{' or '.join(config.RETURN_TYPES)} returns")
    _choice(parser, "--model", config.MODELS, config.DEFAULT_MODEL, "expected-return model")
    parser.add_argument(
        "--benchmark",
        metavar="TICKER",
        help=f"benchmark for every company, any column of --returns (default: companies table, {config.DEFAULT_MARKET_BENCHMARK})",
    )
    parser.add_argument(
        "--estimation",
        type=_window,
        default=config.DEFAULT_ESTIMATION_WINDOW,
        metavar="A,B",
        help=f"estimation window in trading days, e.g. --estimation={config.format_window(config.DEFAULT_ESTIMATION_WINDOW)} (the default)",
    )
    defaults = " ".join(config.format_window(window) for window in config.DEFAULT_EVENT_WINDOWS)
    parser.add_argument(
        "--window",
        type=_window,
        action="append",
        metavar="A,B",
        help=f"event window, repeatable, e.g. --window=-1,1 --window=0,1 (default: {defaults})",
    )
    _choice(parser, "--group-by", config.GROUP_BYS, config.DEFAULT_GROUP_BY, "groups of the summary")
    parser.add_argument(
        "--min-estimation",
        type=int,
        default=config.DEFAULT_MIN_ESTIMATION_DAYS,
        metavar="N",
        help=f"fewest estimation days (default: {config.DEFAULT_MIN_ESTIMATION_DAYS})",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="EVENTS.csv", help=output_help("per event x window results"))
    parser.add_argument("--summary", type=Path, metavar="SUMMARY.csv", help=output_help("per group x sample x window tests"))
    parser.add_argument("--daily", type=Path, metavar="DAILY.csv", help=output_help("per group x sample x relative day tests"))
    parser.add_argument("--ar", type=Path, metavar="AR.csv", help=output_help("per event x relative day abnormal returns"))


def check_arguments(args: argparse.Namespace) -> str | None:
    """Options that contradict each other."""
    if args.benchmark and args.model == "peer":
        return "--benchmark does not apply to --model peer (the peers are the benchmark)"
    return None


def _returns(args: argparse.Namespace) -> tuple[pd.DataFrame, Literal["exchange", "rows"]]:
    """The returns the study runs on: the user's file (its rows are the sessions), or the price
    snapshot's returns on each company's exchange calendar."""
    from dashboard.loaders.curated import close_prices, load_prices
    from dashboard.loaders.returns_file import read_returns_file, select_tickers
    from dashboard.metrics.returns import returns_from_closes

    sessions: Literal["exchange", "rows"]
    if args.returns is not None:
        returns, sessions = read_returns_file(args.returns), "rows"
    else:
        returns, sessions = returns_from_closes(close_prices(load_prices()), kind=args.return_type), "exchange"
    if args.benchmark and select_tickers([args.benchmark], returns.columns).unknown:
        raise DataUnavailable(f"benchmark {args.benchmark!r} has no returns (columns: {', '.join(map(str, returns.columns))})")
    return returns, sessions


def _user_events(path: Path, extra_tickers: set[str]) -> pd.DataFrame | None:
    """The good rows of a user's events file (bad rows reported on stderr), or None when no row
    is good. Tickers that are columns of the returns in use are accepted besides the companies."""
    from dashboard.loaders.curated import validate_events

    good, report = validate_events(path, curated=False, extra_tickers=sorted(extra_tickers))
    if report.issues:
        print("warning: rows of the events file were rejected:", file=sys.stderr)
        print("\n".join(report.lines()), file=sys.stderr)
    return None if good.empty else good


def _tables(args: argparse.Namespace, result: EventStudyResult) -> dict[Path, Iterable[bytes]]:
    """Each output file with its pieces (CSV produced as the file is written; Excel, by suffix,
    as one workbook with a metadata sheet)."""
    from dashboard.exporting import export_file
    from dashboard.metrics.caar import group_statistics
    from dashboard.metrics.event_study import EVENTS_FILE_COLUMNS

    params = {"model": args.model, "estimation": ",".join(map(str, args.estimation)), "group_by": args.group_by,
              "return_type": args.return_type}  # fmt: skip

    def written(frame: pd.DataFrame, path: Path, name: str) -> Iterable[bytes]:
        return export_file(frame, path, params=params, name=name, with_metadata=False)

    tables: dict[Path, Iterable[bytes]] = {args.out: written(result.events[list(EVENTS_FILE_COLUMNS)], args.out, "events")}
    if args.summary or args.daily:
        summary, daily = group_statistics(result, group_by=args.group_by)
        if args.summary:
            tables[args.summary] = written(summary, args.summary, "summary")
        if args.daily:
            tables[args.daily] = written(daily, args.daily, "daily")
    if args.ar:
        tables[args.ar] = written(result.abnormal, args.ar, "abnormal_returns")
    return tables


def run(args: argparse.Namespace) -> int:
    from dashboard.loaders.curated import load_companies, load_events, load_guidance
    from dashboard.metrics.event_study import run_event_study
    from dashboard.metrics.guidance_events import events_with_guidance

    companies = load_companies()
    windows = tuple(args.window) if args.window else config.DEFAULT_EVENT_WINDOWS
    returns, sessions = _returns(args)
    # The study's events: the curated ones and the guidance vintages no curated event covers.
    curated = events_with_guidance(load_events(), load_guidance())
    events = curated
    if args.events is not None:
        events = _user_events(args.events, set(map(str, returns.columns)))
        if events is None:
            print(f"error: {args.events}: no valid event rows", file=sys.stderr)
            return config.EXIT_INVALID
    try:
        result = run_event_study(
            events,
            returns,
            companies=companies,
            model=args.model,
            benchmark=args.benchmark,
            estimation=args.estimation,
            windows=windows,
            min_estimation=args.min_estimation,
            return_type=args.return_type,
            sessions=sessions,
            # A user's events are also confounded by the study's events of the same company.
            confounders=curated if args.events is not None else None,
        )
    except ValueError as exc:
        raise DataUnavailable(str(exc)) from exc
    tables = _tables(args, result)
    write_outputs(tables)
    statuses = result.events["status"].value_counts()
    status_text = ", ".join(f"{name} {count}" for name, count in statuses.items())
    confounded = result.parameters["confounded_any"].sum()
    print(
        f"reactions: {len(result.parameters)} events x {len(windows)} windows (model={args.model}, "
        f"returns={args.return_type}, estimation={args.estimation[0]},{args.estimation[1]}); "
        f"statuses: {status_text}; confounded in some window: {confounded}; wrote {', '.join(map(str, tables))}"
    )
    if args.returns is None:
        print(as_of_text("events", "prices"))
    return config.EXIT_OK
