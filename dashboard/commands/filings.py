"""``filings``: SEC EDGAR filings as candidate events, with exact acceptance times and day 0.

``python -m dashboard filings [--ticker T]... [--since YYYY-MM-DD] [--submissions FILE.json]...
[--all-headers] [--save] --out candidates.csv``

- **Live** (no ``--submissions``): each covered US company's ``data.sec.gov/submissions`` JSON and
  the paged history it names (pages ending before ``--since`` are skipped), with the SEC
  User-Agent (``SEC_USER_AGENT``), 10 requests/s, the cache and retries of ``loaders.filings``.
  A filer whose JSON time convention cannot be learned from its readings or the cache gets one
  SGML header fetched (``--all-headers``: one per in-scope filing). The in-scope filings are saved
  as ``data/filings.csv`` with their manifest entry.
- **Offline** (``--submissions FILE.json``, repeatable): only those files, no network call at all.
  Paged files named in ``filings.files`` and ``<accession>-index-headers.html`` pages are read
  from the same folder; an absent page is reported, not fatal. Nothing is saved unless ``--save``.

CANDIDATES.csv holds every in-scope filing (``metrics.filings.CANDIDATE_COLUMNS``), after metadata
rows (read it with ``dashboard.exporting.read_export``): its Eastern acceptance time
(``accepted_et``, ISO with offset) and ``time_source`` (``header``, ``json_utc``, ``json_et``, or
``json_assumed_utc`` when the filer's convention could not be learned: an assumption), day 0 and
its reason, the *suggested* event type, and the match to the curated events (``matched_event_id``
or ``new``; ``ambiguous`` rows name their ``candidate_event_ids``; ``changes_event_day0`` says
whether a matched event's day 0 would move). Suggestions only: events.csv is never changed.
Rows with bad or missing fields are reported on stderr as ``file:index: field: reason``.
Exit 0 when the file is written; 2 with one line on any failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard import config

NAME = "filings"
HELP = (
    "SEC EDGAR filings (8-K items, 424B2/424B5, FWP, 10-Q/10-K) as candidate events with exact "
    "Eastern acceptance times, day 0, a suggested type and the match to the curated events"
)
OUTPUTS: tuple[str, ...] = ("out",)
SUGGESTION_NOTE = "suggested_event_type is a suggestion for review; events.csv is never changed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from dashboard.commands.output import output_help

    parser.add_argument(
        "--ticker", action="append", metavar="T", dest="tickers", help="only this company (repeat for more); default: every covered company"
    )
    parser.add_argument("--since", metavar="YYYY-MM-DD", help="only filings filed on or after this date")
    parser.add_argument(
        "--submissions",
        action="append",
        type=Path,
        metavar="FILE.json",
        help="read this saved submissions JSON instead of SEC (repeat); no network call at all",
    )
    parser.add_argument(
        "--all-headers", action="store_true", help="live: fetch every in-scope filing's SGML header (the authority), not only one per filer"
    )
    parser.add_argument(
        "--save", action="store_true", help="with --submissions: also save the filings as data/filings.csv (live runs always save)"
    )
    parser.add_argument("--out", type=Path, required=True, metavar="CANDIDATES.csv", help=output_help("the candidates CSV to write"))


def check_arguments(args: argparse.Namespace) -> str | None:
    """Usage problems, refused before anything runs."""
    if args.since is not None:
        try:
            dt.date.fromisoformat(args.since)
        except ValueError:
            return f"--since {args.since!r} is not a date (YYYY-MM-DD)"
    if args.all_headers and args.submissions:
        return "--all-headers fetches from SEC; with --submissions nothing is fetched (put header pages beside the file)"
    if args.save and not args.submissions:
        return "--save is for --submissions; a live run always saves"
    from dashboard.commands.output import same_file_problem

    inputs = {f"--submissions {path}": path for path in args.submissions or []}
    return same_file_problem({"--out": args.out}, inputs)


@dataclass
class Gathered:
    """What was read: the resolved in-scope filings (the dataset's columns), every bad row, notes
    for the user (absent pages, non-filers, assumed times), and each filer's convention."""

    filings: Any  # pd.DataFrame
    issues: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    conventions: dict = field(default_factory=dict)  # cik -> ConventionEvidence
    read: int = 0
    tickers: list[str] = field(default_factory=list)


def resolve_filer(normalized, *, cached=None, since=None):
    """One filer's in-scope filings with their Eastern times (``filer_acceptance_times``) and its
    ``ConventionEvidence``; ``normalized`` is a ``loaders.filings.NormalizedSubmissions`` and
    ``cached`` a ``(convention, basis)`` pair from the conventions cache."""
    from dashboard.metrics.filings import ConventionEvidence, filer_acceptance_times, filings_in_scope

    resolved, evidence = filer_acceptance_times(
        normalized.filings, normalized.header_et, cached=ConventionEvidence(*cached) if cached else None
    )
    return filings_in_scope(resolved, since=since), evidence


def _select(companies, tickers: list[str] | None):
    """The companies asked for (case-insensitive), or all; unknown tickers are an error."""
    from dashboard.errors import DataUnavailable

    if not tickers:
        return companies
    known = {t.upper(): t for t in companies["ticker"]}
    unknown = [t for t in tickers if t.upper() not in known]
    if unknown:
        raise DataUnavailable(f"unknown ticker(s): {', '.join(unknown)}; known: {', '.join(companies['ticker'])}")
    wanted = list(dict.fromkeys(known[t.upper()] for t in tickers))
    return companies[companies["ticker"].isin(wanted)]


def _headers_to_fetch(scoped, evidence, all_headers: bool) -> list[str]:
    if scoped.empty:
        return []
    if all_headers:
        return list(scoped["accession"])
    if evidence.convention is None:
        return [scoped.sort_values("acceptance_clock", ascending=False)["accession"].iloc[0]]
    return []


def gather(
    companies,
    *,
    tickers: list[str] | None = None,
    since: str | None = None,
    submissions: list[Path] | None = None,
    client=None,
    all_headers: bool = False,
    cache_dir: Path | None = None,
    learn: bool = True,
) -> Gathered:
    """Read the filers' submissions (the given files, or SEC through ``client``, a
    ``loaders.filings.SecClient``), normalize them, resolve each filing's Eastern time and keep
    the in-scope ones. ``learn`` writes newly learned conventions to the cache."""
    import pandas as pd

    from dashboard.errors import RefreshError
    from dashboard.loaders import filings as loader

    chosen, notes = loader.filers(_select(companies, tickers))
    # Offline, only the given files are read: a non-filer is news only when it was asked for.
    shown = notes if (not submissions or tickers) else []
    gathered = Gathered(filings=pd.DataFrame(columns=list(loader.FILINGS_COLUMNS)), notes=shown)
    cached = loader.load_time_conventions(cache_dir)
    by_cik = {int(c): t for c, t in zip(chosen["sec_cik"], chosen["ticker"], strict=True)}
    raws: list[tuple[str, Any]] = []
    if submissions:
        for path in submissions:
            raw = loader.read_submissions_file(path, since=since)
            ticker = by_cik.get(raw.cik) if raw.cik is not None else None
            if ticker is None:
                listed = set(companies["sec_cik"].dropna().astype(int))
                reason = "not a covered company" if raw.cik not in listed else "not among the --ticker companies"
                gathered.notes.append(f"{path}: CIK {raw.cik} ({raw.main.get('name', '?')}) is {reason}; skipped")
                continue
            raws.append((ticker, raw))
    else:
        failures: list[RefreshError] = []
        for cik, ticker in by_cik.items():
            try:
                raws.append((ticker, loader.fetch_submissions_raw(cik, client, since=since)))
            except RefreshError as exc:  # one company's failure is reported; all failing is the end
                failures.append(exc)
                gathered.notes.append(f"{ticker}: submissions not read: {exc}")
        if failures and not raws:
            raise failures[0]
    learned: dict[int, tuple[str, str]] = {}
    frames = []
    for ticker, raw in raws:
        gathered.notes += raw.missing_pages
        normalized = loader.normalize_submissions(raw, ticker=ticker)
        gathered.issues += normalized.issues
        gathered.read += len(normalized.filings)
        scoped, evidence = resolve_filer(normalized, cached=cached.get(raw.cik), since=since)
        wanted = [] if submissions else _headers_to_fetch(scoped, evidence, all_headers)
        for accession in wanted:
            try:
                text = loader.fetch_index_headers_raw(raw.cik, accession, client)
                raw.headers[accession] = text
            except Exception as exc:  # a header is a refinement: its failure is a note, not the end
                gathered.notes.append(f"{ticker}: SGML header of {accession} not read: {exc}")
        if wanted:
            normalized = loader.normalize_submissions(raw, ticker=ticker)
            scoped, evidence = resolve_filer(normalized, cached=cached.get(raw.cik), since=since)
        gathered.conventions[raw.cik] = evidence
        gathered.tickers.append(ticker)
        if evidence.convention and not evidence.basis.startswith("cached"):
            learned[raw.cik] = (evidence.convention, evidence.basis)
        if evidence.convention is None and (scoped["time_source"] == "json_assumed_utc").any():
            gathered.notes.append(
                f"{ticker}: JSON time convention not learned ({evidence.basis}); "
                f"{int((scoped['time_source'] == 'json_assumed_utc').sum())} time(s) read as UTC (json_assumed_utc)"
            )
        frames.append(scoped)
    if learn:
        loader.save_time_conventions(learned, cache_dir)
    if frames:
        gathered.filings = pd.concat(frames, ignore_index=True)
    return gathered


def _summary_lines(gathered: Gathered, candidates) -> list[str]:
    lines = []
    for ticker in gathered.tickers:
        rows = candidates[candidates["ticker"] == ticker]
        sources = rows["time_source"].value_counts()
        times = ", ".join(f"{int(sources[s])} {s}" for s in sources.index) or "none"
        lines.append(f"  {ticker}: {len(rows)} in scope; times: {times}")
    status = candidates["status"].value_counts()
    moved = int(candidates["changes_event_day0"].fillna(False).astype(bool).sum()) if len(candidates) else 0
    lines.append(
        "  matches: "
        + ", ".join(f"{int(status.get(s, 0))} {s}" for s in ("matched", "ambiguous", "new"))
        + f"; {moved} matched filing(s) would change their event's day 0"
    )
    return lines


def run(args: argparse.Namespace) -> int:
    problem = check_arguments(args)
    if problem:
        print(f"python -m dashboard filings: error: {problem}", file=sys.stderr)
        return config.EXIT_FAILURE
    import pandas as pd

    from dashboard.commands.output import write_outputs
    from dashboard.exporting import export_csv
    from dashboard.loaders import filings as loader
    from dashboard.loaders import sec
    from dashboard.loaders.curated import load_companies, load_events, load_manifest
    from dashboard.metrics.filings import filing_candidates

    companies = load_companies()
    events = load_events()
    client = None
    if not args.submissions and not loader.filers(_select(companies, args.tickers))[0].empty:
        client = loader.live_client()  # the User-Agent is checked before any network
    gathered = gather(
        companies,
        tickers=args.tickers,
        since=args.since,
        submissions=args.submissions,
        client=client,
        all_headers=args.all_headers,
        learn=not args.submissions or args.save,
    )
    for note in gathered.notes:
        print(f"note: {note}", file=sys.stderr)
    if gathered.issues:
        print(f"warning: {len(gathered.issues)} problem(s) in the submissions (bad rows are left out):", file=sys.stderr)
        print("\n".join(f"  {issue}" for issue in gathered.issues), file=sys.stderr)
    filings = gathered.filings
    entry = None
    if (client is not None or args.save) and len(filings):
        today = dt.date.today().isoformat()
        as_of = today if client is not None else pd.Timestamp(filings["filing_date"].max()).date().isoformat()
        origin = "data.sec.gov submissions" if client is not None else "submissions files " + ", ".join(p.name for p in args.submissions)
        entry = loader.save_filings(
            filings,
            as_of=as_of,
            source=f"{sec.SOURCE} {origin}, read {today}; Eastern acceptance time per row (time_source, time_basis)",
        )
        print(f"saved {entry['rows']} filing(s) to {config.DATA_DIR / config.FILINGS_FILE} as of {entry['as_of']}")
    candidates = filing_candidates(filings, events, companies=companies, since=args.since)
    manifest = load_manifest()
    as_of = {"events": manifest["datasets"]["events"]["as_of"]}
    if entry is not None:
        as_of["filings"] = entry["as_of"]
    elif len(filings):
        as_of["filings"] = pd.Timestamp(filings["filing_date"].max()).date().isoformat() + " (latest filing read, not saved)"
    params = {
        "ticker": ",".join(gathered.tickers) or "none",
        "since": args.since or "all",
        "source": ("files " + ",".join(p.name for p in args.submissions)) if args.submissions else "SEC EDGAR live",
        "note": SUGGESTION_NOTE,
    }
    table = candidates.assign(accepted_et=candidates["accepted_et"].map(lambda t: t.isoformat() if isinstance(t, pd.Timestamp) else ""))
    payload = export_csv(table, params=params, as_of=as_of, name="filing_candidates", data_version=manifest.get("data_version"))
    write_outputs({args.out: [payload]})
    print(f"wrote {len(candidates)} in-scope filing(s) of {gathered.read} read to {args.out}")
    print("\n".join(_summary_lines(gathered, candidates)))
    print(f"  {SUGGESTION_NOTE}")
    return config.EXIT_OK
