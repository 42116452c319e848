"""Quarterly fundamentals from SEC EDGAR company facts (XBRL JSON): extract, normalize, merge.

- ``fetch_companyfacts_raw`` is the only network call: one GET of
  ``{base}/api/xbrl/companyfacts/CIK##########.json`` with a User-Agent that carries a contact
  address (SEC requires it), at most ``config.SEC_MAX_REQUESTS_PER_SECOND`` requests per second
  across the process, short connect timeout, raw JSON cached under ``config.CACHE_DIR / "sec"``.
- ``normalize_companyfacts`` is pure: facts are deduplicated per (tag, start, end), placed by
  their ``start``/``end`` dates (never the filing's ``fy``/``fp``), year-to-date 10-Q cash-flow
  facts are differenced into quarters (Q4 = FY - 9M), balances are read at quarter-end instants,
  and every value is converted to USD millions.
- ``merge_fundamentals`` fills the curated table's gaps from SEC and reports every disagreement
  instead of overwriting a curated figure.

SEC EDGAR data is public domain (a U.S. government work).
"""
from __future__ import annotations

import json
import os
import threading
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import requests

from dashboard import config
from dashboard.errors import RefreshError
from dashboard.fiscal_calendar import fiscal_period
from dashboard.loaders.snapshot import atomic_write_text

SOURCE = "SEC EDGAR"
SEC_BASE_URL_ENV = "DASHBOARD_SEC_BASE_URL"  # tests point it at a closed local port
SEC_BASE_URL = "https://data.sec.gov"
SEC_CONNECT_TIMEOUT_SECONDS = 3.05
SEC_READ_TIMEOUT_SECONDS = 30.0
SEC_CACHE_MAX_AGE_SECONDS = 12 * 3600.0  # companyfacts changes only when a company files
SECRETS_FILE = config.REPO_ROOT / ".streamlit" / "secrets.toml"

# Disagreement tolerance for merge_fundamentals: rounding of millions and small definitional
# differences (a few million on a billions line) are not worth a report.
MERGE_ABSOLUTE_TOLERANCE_MUSD = 1.0
MERGE_RELATIVE_TOLERANCE = 0.005

# Flow lines: XBRL tags tried in order, per quarter; the first tag with a value answers.
FLOW_TAGS: dict[str, tuple[str, ...]] = {
    "revenue": (
        "Revenues",
        "RevenueFromContractWithCustomerExcludingAssessedTax",
        "SalesRevenueNet",
    ),
    "operating_cash_flow": ("NetCashProvidedByUsedInOperatingActivities",),
    "capex": ("PaymentsToAcquirePropertyPlantAndEquipment", "PaymentsToAcquireProductiveAssets"),
    "finance_lease_principal": ("FinanceLeasePrincipalPayments",),
    "buybacks": ("PaymentsForRepurchaseOfCommonStock",),
    "dividends": ("PaymentsOfDividends", "PaymentsOfDividendsCommonStock"),
    "asset_sale_proceeds": ("ProceedsFromSaleOfPropertyPlantAndEquipment",),
    "debt_issued": ("ProceedsFromIssuanceOfLongTermDebt",),
    "debt_repaid": ("RepaymentsOfLongTermDebt",),
    "equity_issued": ("ProceedsFromIssuanceOfCommonStock",),
}
CASH_TAGS: tuple[str, ...] = ("CashAndCashEquivalentsAtCarryingValue",)
SECURITIES_TAGS: tuple[str, ...] = ("MarketableSecuritiesCurrent", "ShortTermInvestments")
# total_debt follows the company's basis (companies.csv total_debt_basis). No fallback from one
# basis to the other: LongTermDebt includes the current portion, LongTermDebtNoncurrent does not.
TOTAL_DEBT_TAGS: tuple[str, ...] = ("LongTermDebt",)
NONCURRENT_DEBT_TAGS: tuple[str, ...] = ("LongTermDebtNoncurrent",)

# Duration bands (days) that classify a flow fact: a quarter, or 6/9/12 months year-to-date.
_DURATION_MONTHS: tuple[tuple[int, int, int], ...] = ((3, 80, 100), (6, 170, 192), (9, 260, 285), (12, 350, 380))

FUNDAMENTALS_COLUMNS: tuple[str, ...] = (
    "ticker",
    "fiscal_year",
    "fiscal_quarter",
    "period_end",
    *config.FUNDAMENTAL_VALUE_COLUMNS,
    "source",
)


# --- query and extract ------------------------------------------------------------------------


def sec_base_url() -> str:
    """SEC EDGAR's API host (environment variable ``DASHBOARD_SEC_BASE_URL`` may override)."""
    return os.environ.get(SEC_BASE_URL_ENV, SEC_BASE_URL).rstrip("/")


def companyfacts_url(cik: int) -> str:
    """The company-facts address for a CIK (zero-padded to 10 digits)."""
    return f"{sec_base_url()}/api/xbrl/companyfacts/CIK{int(cik):010d}.json"


def sec_user_agent(explicit: str | None = None, *, secrets_file: Path | None = None) -> str:
    """The User-Agent for SEC requests: ``explicit``, else the ``SEC_USER_AGENT`` environment
    variable, else ``SEC_USER_AGENT`` in ``.streamlit/secrets.toml``. It must hold a contact email
    address (SEC blocks anonymous clients); otherwise ``RefreshError`` says how to set it."""
    value = explicit or os.environ.get(config.SEC_USER_AGENT_ENV, "")
    if not value:
        path = SECRETS_FILE if secrets_file is None else secrets_file
        try:
            value = str(tomllib.loads(path.read_text(encoding="utf-8")).get(config.SEC_USER_AGENT_ENV, ""))
        except (OSError, tomllib.TOMLDecodeError):
            value = ""
    value = value.strip()
    if "@" not in value:
        raise RefreshError(
            f"{SOURCE}: no User-Agent with a contact address; set {config.SEC_USER_AGENT_ENV}="
            f'"Your Name you@example.com" in the environment or in .streamlit/secrets.toml (SEC requires it)'
        )
    return value


class RateLimiter:
    """At most ``rate`` calls per second, across threads: each call waits until ``1 / rate``
    seconds have passed since the previous one. ``clock`` and ``sleep`` are injectable."""

    def __init__(
        self,
        rate: float = config.SEC_MAX_REQUESTS_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next = -float("inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


SEC_RATE_LIMITER = RateLimiter()


def _cache_path(cik: int, cache_dir: Path | None) -> Path:
    folder = (config.CACHE_DIR / "sec") if cache_dir is None else Path(cache_dir)
    return folder / f"CIK{int(cik):010d}.json"


def fetch_companyfacts_raw(
    cik: int,
    *,
    session: requests.Session,
    user_agent: str,
    timeout: tuple[float, float] = (SEC_CONNECT_TIMEOUT_SECONDS, SEC_READ_TIMEOUT_SECONDS),
    limiter: RateLimiter | None = None,
    cache_dir: Path | None = None,
    max_cache_age_seconds: float = SEC_CACHE_MAX_AGE_SECONDS,
) -> dict[str, Any]:
    """The company-facts JSON of one company, as SEC serves it (values in whole USD).

    A cached copy under ``config.CACHE_DIR / "sec"`` younger than ``max_cache_age_seconds`` is
    returned without a request (0 forces a download). Otherwise one GET, after the rate limiter
    (10 requests/s by default), with a (connect, read) ``timeout`` in seconds; the response is
    cached atomically. Raises ``RefreshError`` naming SEC EDGAR when the host is unreachable,
    times out, answers 403 (User-Agent refused), 404 (unknown CIK), 429 (rate limit) or another
    error status, or sends something that is not company-facts JSON.
    """
    path = _cache_path(cik, cache_dir)
    if max_cache_age_seconds > 0 and path.exists() and time.time() - path.stat().st_mtime < max_cache_age_seconds:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            pass  # a broken cache entry is simply fetched again
    url = companyfacts_url(cik)
    (limiter or SEC_RATE_LIMITER).wait()
    try:
        response = session.get(
            url, headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}, timeout=timeout
        )
    except requests.Timeout as exc:
        raise RefreshError(f"{SOURCE}: timed out reaching {url} ({exc.__class__.__name__})") from exc
    except requests.RequestException as exc:
        raise RefreshError(f"{SOURCE}: cannot reach {url} (offline?): {exc.__class__.__name__}") from exc
    status = response.status_code
    if status == 403:
        raise RefreshError(f"{SOURCE}: HTTP 403 for {url}: the User-Agent was refused; check {config.SEC_USER_AGENT_ENV}")
    if status == 404:
        raise RefreshError(f"{SOURCE}: HTTP 404 for {url}: no company facts for CIK {cik}")
    if status == 429:
        raise RefreshError(f"{SOURCE}: HTTP 429 for {url}: rate-limited; wait ten minutes and retry")
    if status >= 400:
        raise RefreshError(f"{SOURCE}: HTTP {status} for {url}")
    try:
        raw = response.json()
    except ValueError as exc:
        raise RefreshError(f"{SOURCE}: {url} did not return JSON") from exc
    if not isinstance(raw, dict) or "facts" not in raw:
        raise RefreshError(f"{SOURCE}: {url} returned JSON without 'facts'")
    atomic_write_text(path, json.dumps(raw))
    return raw


# --- normalize --------------------------------------------------------------------------------


class NormalizedFacts(NamedTuple):
    """What ``normalize_companyfacts`` returns.

    - ``quarters``: the fundamentals schema (``FUNDAMENTALS_COLUMNS``), USD millions, one row per
      fiscal quarter with at least one value; ``source`` names each value's tag and accession.
    - ``provenance``: one row per filled cell: ticker, fiscal_year, fiscal_quarter, column, tag,
      accession, method (``3M``, ``YTD-diff``, ``FY-9M``, ``Q1=3M YTD``, ``instant``).
    - ``restatements``: facts reported with different values for the same (tag, start, end):
      tag, start, end, values (USD millions, as filed), chosen value and accession.
    - ``dropped``: facts that could not be placed, with the reason.
    """

    quarters: pd.DataFrame
    provenance: pd.DataFrame
    restatements: pd.DataFrame
    dropped: pd.DataFrame


def _facts_frame(raw: Mapping[str, Any], tags: Sequence[str]) -> pd.DataFrame:
    """The USD facts of the given us-gaap tags as one frame (tag, start, end, val, accn, form, filed, frame)."""
    gaap = (raw.get("facts") or {}).get("us-gaap") or {}
    rows: list[dict[str, Any]] = []
    for tag in tags:
        for fact in ((gaap.get(tag) or {}).get("units") or {}).get("USD", []) or []:
            form = str(fact.get("form", ""))
            if not (form.startswith("10-K") or form.startswith("10-Q")):
                continue
            rows.append(
                {
                    "tag": tag,
                    "start": fact.get("start"),
                    "end": fact.get("end"),
                    "val": fact.get("val"),
                    "accn": fact.get("accn", ""),
                    "form": form,
                    "filed": fact.get("filed"),
                    "frame": fact.get("frame"),
                }
            )
    columns = ["tag", "start", "end", "val", "accn", "form", "filed", "frame"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["start"] = pd.to_datetime(frame["start"], errors="coerce")
    frame["end"] = pd.to_datetime(frame["end"], errors="coerce")
    frame["filed"] = pd.to_datetime(frame["filed"], errors="coerce")
    frame["val"] = pd.to_numeric(frame["val"], errors="coerce")
    frame["framed"] = frame["frame"].notna()
    return frame[frame["end"].notna() & frame["val"].notna()].reset_index(drop=True)


def deduplicate_facts(facts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One fact per (tag, start, end): the framed one, else the latest filed (then latest accession).

    Returns (kept facts, restatements): a restatement is a key whose facts carry more than one
    distinct value; it lists the values (USD millions) and the one kept. Pure.
    """
    keys = ["tag", "start", "end"]
    columns = ["tag", "start", "end", "values_musd", "kept_musd", "kept_accession"]
    ordered = facts.sort_values(["framed", "filed", "accn"], ascending=[False, False, False], kind="stable")
    kept = ordered.drop_duplicates(keys, keep="first")
    # Instants have no start: group on a filled copy so that NaT keys compare equal.
    key_frame = ordered.assign(start=ordered["start"].fillna(pd.Timestamp(0)))
    distinct = key_frame.groupby(keys, sort=True)["val"].agg(lambda v: sorted({x / 1e6 for x in v}))
    first = key_frame.groupby(keys, sort=True)[["val", "accn"]].first()
    restated = distinct[distinct.map(len) > 1]
    restatements = pd.DataFrame(
        {
            "tag": restated.index.get_level_values("tag"),
            "start": restated.index.get_level_values("start").where(
                restated.index.get_level_values("start") != pd.Timestamp(0)
            ),
            "end": restated.index.get_level_values("end"),
            "values_musd": restated.to_list(),
            "kept_musd": (first.loc[restated.index, "val"] / 1e6).to_list(),
            "kept_accession": first.loc[restated.index, "accn"].to_list(),
        },
        columns=columns,
    )
    return kept.reset_index(drop=True), restatements.reset_index(drop=True)


def _duration_months(start: pd.Series, end: pd.Series) -> pd.Series:
    days = (end - start).dt.days + 1
    months = pd.Series(np.nan, index=start.index)
    for value, low, high in _DURATION_MONTHS:
        months = months.mask(days.between(low, high), value)
    return months


def _quarterly_flows(
    facts: pd.DataFrame, *, fiscal_year_end_month: int, fiscal_calendar: config.FiscalCalendar
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Per tag, quarterly values from deduplicated duration facts.

    A true three-month fact answers its quarter directly (``3M``). Otherwise quarter k is the
    difference of consecutive year-to-date facts that share the fiscal-year start: 6M - 3M, 9M - 6M,
    and Q4 = FY - 9M (``FY-9M``), where the 3M term is Q1's own fact (it is both a quarter and the
    first year-to-date). A fact of another length, or a multi-month fact that does not start at a
    fiscal-year start, is dropped with its reason.
    """
    dropped: list[dict[str, Any]] = []
    out_columns = ["tag", "period_end", "fiscal_year", "fiscal_quarter", "value", "accn", "method"]
    if facts.empty:
        return pd.DataFrame(columns=out_columns), dropped
    facts = facts.assign(months=_duration_months(facts["start"], facts["end"]))
    period = fiscal_period(facts["end"], fiscal_year_end_month=fiscal_year_end_month, fiscal_calendar=fiscal_calendar)
    facts = facts.assign(fiscal_year=period["fiscal_year"], fiscal_quarter=period["fiscal_quarter"])
    # A year-to-date fact starts the day after the previous fiscal year ended.
    year_start = fiscal_period(
        facts["start"] - pd.Timedelta(days=1), fiscal_year_end_month=fiscal_year_end_month, fiscal_calendar=fiscal_calendar
    )["fiscal_quarter"].eq(4).fillna(False)
    facts = facts.assign(year_start=year_start.to_numpy(dtype=bool))
    unplaced = facts["months"].isna() | facts["fiscal_quarter"].isna()
    for _, row in facts[unplaced].iterrows():
        reason = "not a quarter, 6, 9 or 12 months long" if pd.isna(row["months"]) else "end is not a fiscal quarter end"
        dropped.append({"tag": row["tag"], "start": row["start"], "end": row["end"], "reason": reason})
    facts = facts[~unplaced]
    ytd_wrong_start = (facts["months"] > 3) & ~facts["year_start"]
    for _, row in facts[ytd_wrong_start].iterrows():
        dropped.append(
            {"tag": row["tag"], "start": row["start"], "end": row["end"], "reason": "multi-month fact not from a fiscal-year start"}
        )
    facts = facts[~ytd_wrong_start]
    rows: list[dict[str, Any]] = []
    for (tag, fiscal_year), group in facts.groupby(["tag", "fiscal_year"], sort=True):
        quarters = group[group["months"] == 3].set_index("fiscal_quarter")
        ytd = {int(m // 3): r for m, r in group[group["year_start"]].set_index("months").iterrows()}
        # Q1's three-month fact is also the first year-to-date figure.
        for q in range(1, 5):
            if q in quarters.index:
                fact = quarters.loc[q]
                if isinstance(fact, pd.DataFrame):  # two 3M facts ending the same day: keep the latest filed
                    fact = fact.sort_values("filed").iloc[-1]
                rows.append(
                    {"tag": tag, "period_end": fact["end"], "fiscal_year": int(fiscal_year), "fiscal_quarter": q,
                     "value": fact["val"], "accn": fact["accn"], "method": "3M"}
                )
            elif q >= 2 and q in ytd and (q - 1) in ytd:
                current, previous = ytd[q], ytd[q - 1]
                rows.append(
                    {"tag": tag, "period_end": current["end"], "fiscal_year": int(fiscal_year), "fiscal_quarter": q,
                     "value": current["val"] - previous["val"], "accn": current["accn"],
                     "method": "FY-9M" if q == 4 else f"{3 * q}M-{3 * (q - 1)}M"}
                )
    return pd.DataFrame(rows, columns=out_columns), dropped


def _quarter_instants(
    facts: pd.DataFrame, *, fiscal_year_end_month: int, fiscal_calendar: config.FiscalCalendar
) -> pd.DataFrame:
    """Instant facts (no ``start``) placed at the fiscal quarter their ``end`` closes."""
    columns = ["tag", "period_end", "fiscal_year", "fiscal_quarter", "value", "accn", "method"]
    instants = facts[facts["start"].isna()]
    if instants.empty:
        return pd.DataFrame(columns=columns)
    period = fiscal_period(instants["end"], fiscal_year_end_month=fiscal_year_end_month, fiscal_calendar=fiscal_calendar)
    placed = instants.assign(fiscal_year=period["fiscal_year"], fiscal_quarter=period["fiscal_quarter"])
    placed = placed[placed["fiscal_quarter"].notna()]
    return pd.DataFrame(
        {
            "tag": placed["tag"],
            "period_end": placed["end"],
            "fiscal_year": placed["fiscal_year"].astype(int),
            "fiscal_quarter": placed["fiscal_quarter"].astype(int),
            "value": placed["val"],
            "accn": placed["accn"],
            "method": "instant",
        },
        columns=columns,
    )


def _first_tag_answers(values: pd.DataFrame, tags: Sequence[str], column: str) -> pd.DataFrame:
    """Per fiscal quarter, the value of the first tag in ``tags`` that has one."""
    if values.empty:
        return values.assign(column=column)
    rank = {tag: i for i, tag in enumerate(tags)}
    chosen = values[values["tag"].isin(rank)].assign(rank=lambda f: f["tag"].map(rank))
    chosen = chosen.sort_values(["fiscal_year", "fiscal_quarter", "rank"]).drop_duplicates(
        ["fiscal_year", "fiscal_quarter"], keep="first"
    )
    return chosen.drop(columns="rank").assign(column=column)


def normalize_companyfacts(
    raw: Mapping[str, Any],
    *,
    fiscal_year_end_month: int,
    ticker: str = "",
    fiscal_calendar: config.FiscalCalendar = "month_end",
    total_debt_tags: Sequence[str] = TOTAL_DEBT_TAGS,
    since: pd.Timestamp | str | None = None,
) -> NormalizedFacts:
    """SEC company-facts JSON -> quarterly fundamentals in USD millions (pure).

    For each line the tags of ``FLOW_TAGS`` (and cash, securities, ``total_debt_tags``) are tried in
    order per quarter; the first with a value answers and is recorded. Facts are deduplicated per
    (tag, start, end) (framed, else latest filed; differing values are reported as restatements),
    placed by their own ``start``/``end`` and the fiscal-year-end month (a fiscal year is named after
    the calendar year it ends in; 52/53-week quarters by their nearest month-end). Flows: a true
    3-month fact, else the difference of year-to-date facts (Q2 = 6M - Q1, Q3 = 9M - 6M,
    Q4 = FY - 9M). Balances at the quarter-end instant: cash_and_securities = cash and equivalents
    + current marketable securities (NaN when either is missing: no silent zero); total_debt from
    ``total_debt_tags``. Values are ``val / 1e6``. ``since`` drops quarters ending earlier.
    A quarter with no value at all is left out; no fact at all gives empty frames.
    """
    flow_tags = [tag for tags in FLOW_TAGS.values() for tag in tags]
    instant_tags = [*CASH_TAGS, *SECURITIES_TAGS, *total_debt_tags]
    facts = _facts_frame(raw, list(dict.fromkeys(flow_tags + instant_tags)))
    facts, restatements = deduplicate_facts(facts)
    is_flow_tag = facts["tag"].isin(flow_tags)
    durations = facts[is_flow_tag & facts["start"].notna()]
    flows, dropped = _quarterly_flows(durations, fiscal_year_end_month=fiscal_year_end_month, fiscal_calendar=fiscal_calendar)
    instants = _quarter_instants(
        facts[facts["tag"].isin(instant_tags)], fiscal_year_end_month=fiscal_year_end_month, fiscal_calendar=fiscal_calendar
    )
    answers = [_first_tag_answers(flows, tags, column) for column, tags in FLOW_TAGS.items()]
    answers.append(_first_tag_answers(instants, total_debt_tags, "total_debt"))
    cash = _first_tag_answers(instants, CASH_TAGS, "cash")
    securities = _first_tag_answers(instants, SECURITIES_TAGS, "securities")
    both = cash.merge(securities, on=["fiscal_year", "fiscal_quarter"], suffixes=("", "_sec"))
    if not both.empty:
        answers.append(
            pd.DataFrame(
                {
                    "tag": both["tag"] + "+" + both["tag_sec"],
                    "period_end": both["period_end"],
                    "fiscal_year": both["fiscal_year"],
                    "fiscal_quarter": both["fiscal_quarter"],
                    "value": both["value"] + both["value_sec"],
                    "accn": both["accn"],
                    "method": "instant",
                    "column": "cash_and_securities",
                }
            )
        )
    long = pd.concat([a for a in answers if not a.empty], ignore_index=True) if any(not a.empty for a in answers) else pd.DataFrame(
        columns=["tag", "period_end", "fiscal_year", "fiscal_quarter", "value", "accn", "method", "column"]
    )
    if since is not None and not long.empty:
        long = long[long["period_end"] >= pd.Timestamp(since)]
    long = long.assign(value=long["value"].astype(float) / 1e6)
    provenance = long.assign(ticker=ticker)[
        ["ticker", "fiscal_year", "fiscal_quarter", "column", "tag", "accn", "method", "value"]
    ].rename(columns={"accn": "accession"}).sort_values(["fiscal_year", "fiscal_quarter", "column"]).reset_index(drop=True)
    quarters = _quarters_from_long(long, ticker=ticker, cik=raw.get("cik"))
    dropped_frame = pd.DataFrame(dropped, columns=["tag", "start", "end", "reason"])
    return NormalizedFacts(quarters, provenance, restatements, dropped_frame)


def _quarters_from_long(long: pd.DataFrame, *, ticker: str, cik: Any) -> pd.DataFrame:
    """Wide fundamentals rows from long (fiscal quarter, column, value) answers."""
    if long.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=float) for c in FUNDAMENTALS_COLUMNS})
        return empty.astype({"ticker": "str", "source": "str", "fiscal_year": int, "fiscal_quarter": int,
                             "period_end": "datetime64[us]"})
    keys = ["fiscal_year", "fiscal_quarter"]
    wide = long.pivot_table(index=keys, columns="column", values="value", aggfunc="first")
    # A quarter's end: the flow facts' end, else the balance instant (they agree in filed data).
    period_end = long.sort_values("method").groupby(keys)["period_end"].max()
    label = f"SEC EDGAR companyfacts CIK{int(cik):010d}" if cik is not None else "SEC EDGAR companyfacts"
    notes = long.sort_values("column").groupby(keys).apply(
        lambda g: f"{label}: " + " ; ".join(f"{c}: {t} {a} ({m})" for c, t, a, m in zip(g["column"], g["tag"], g["accn"], g["method"])),
        include_groups=False,
    )
    out = wide.reindex(columns=list(config.FUNDAMENTAL_VALUE_COLUMNS)).reset_index()
    out.insert(0, "ticker", ticker)
    out.insert(3, "period_end", period_end.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy())
    out["source"] = notes.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy()
    out = out.astype({"fiscal_year": int, "fiscal_quarter": int, "ticker": "str", "source": "str"})
    out["period_end"] = pd.to_datetime(out["period_end"]).astype("datetime64[us]")
    out.columns.name = None
    return out[list(FUNDAMENTALS_COLUMNS)].sort_values("period_end", kind="stable").reset_index(drop=True)


# --- merge ------------------------------------------------------------------------------------

DISAGREEMENT_COLUMNS = [
    "ticker", "fiscal_year", "fiscal_quarter", "period_end", "column", "curated", "sec",
    "difference", "relative_difference", "sec_tag", "accession",
]


def merge_fundamentals(
    curated: pd.DataFrame,
    fetched: pd.DataFrame,
    *,
    provenance: pd.DataFrame | None = None,
    absolute_tolerance: float = MERGE_ABSOLUTE_TOLERANCE_MUSD,
    relative_tolerance: float = MERGE_RELATIVE_TOLERANCE,
    extend_backwards: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill the curated table's gaps from SEC figures; report every disagreement (USD millions).

    Quarters match on (ticker, fiscal_year, fiscal_quarter). For each value column:
    - curated NaN, SEC present: the SEC value fills it and ``source`` gains
      ``<column>: SEC EDGAR <tag> <accession> (<method>)`` (from ``provenance`` when given);
    - both present: the curated value stays; when ``|sec - curated| > max(absolute_tolerance,
      relative_tolerance * |curated|)`` (1 USD million, 0.5%) the pair is a disagreement row
      (``difference`` = sec - curated, ``relative_difference`` = difference / |curated|).
    A differing period_end of a matched quarter is reported as column ``period_end``.
    SEC quarters the curated table lacks are added (source = the SEC note) when they end on or
    after the ticker's first curated quarter (any date for a ticker with no curated row, or
    always with ``extend_backwards``). Returns (merged sorted by ticker and period_end, disagreements).
    Neither input is modified.
    """
    keys = ["ticker", "fiscal_year", "fiscal_quarter"]
    values = list(config.FUNDAMENTAL_VALUE_COLUMNS)
    merged = curated.copy()
    merged["source"] = merged["source"].astype("str")
    prov = provenance.set_index([*keys, "column"]) if provenance is not None and not provenance.empty else None
    lookup = fetched.set_index(keys)
    position = {key: i for i, key in enumerate(zip(*(merged[k] for k in keys)))}
    disagreements: list[dict[str, Any]] = []
    new_rows: list[pd.Series] = []
    first_curated = curated.groupby("ticker")["period_end"].min()
    for key, sec_row in lookup.iterrows():
        key = tuple(key)
        if key not in position:
            start = first_curated.get(key[0])
            if extend_backwards or start is None or pd.isna(start) or sec_row["period_end"] >= start:
                new_rows.append(pd.Series({**dict(zip(keys, key)), **sec_row.to_dict()}))
            continue
        i = position[key]
        row = merged.iloc[i]
        notes: list[str] = []
        if pd.notna(row["period_end"]) and pd.notna(sec_row["period_end"]) and abs(
            (pd.Timestamp(row["period_end"]) - pd.Timestamp(sec_row["period_end"])).days
        ) > 0:
            disagreements.append(
                {**dict(zip(keys, key)), "period_end": row["period_end"], "column": "period_end",
                 "curated": np.nan, "sec": np.nan, "difference": np.nan, "relative_difference": np.nan,
                 "sec_tag": f"SEC period end {pd.Timestamp(sec_row['period_end']).date()}", "accession": ""}
            )
        for column in values:
            sec_value = sec_row[column]
            if pd.isna(sec_value):
                continue
            tag, accession, method = "", "", ""
            if prov is not None and (*key, column) in prov.index:
                info = prov.loc[(*key, column)]
                info = info.iloc[0] if isinstance(info, pd.DataFrame) else info
                tag, accession, method = info["tag"], info["accession"], info["method"]
            cur = row[column]
            if pd.isna(cur):
                merged.iloc[i, merged.columns.get_loc(column)] = float(sec_value)
                detail = " ".join(p for p in (tag, accession, f"({method})" if method else "") if p)
                notes.append(f"{column}: SEC EDGAR {detail}".rstrip())
            else:
                difference = float(sec_value) - float(cur)
                if abs(difference) > max(absolute_tolerance, relative_tolerance * abs(float(cur))):
                    disagreements.append(
                        {**dict(zip(keys, key)), "period_end": row["period_end"], "column": column,
                         "curated": float(cur), "sec": float(sec_value), "difference": difference,
                         "relative_difference": difference / abs(float(cur)) if cur else np.inf,
                         "sec_tag": tag, "accession": accession}
                    )
        if notes:
            merged.iloc[i, merged.columns.get_loc("source")] = f"{row['source']} ; " + " ; ".join(notes)
    if new_rows:
        added = pd.DataFrame(new_rows)[list(merged.columns)]
        merged = pd.concat([merged, added.astype({c: merged[c].dtype for c in merged.columns if c in added})], ignore_index=True)
    merged = merged.sort_values(["ticker", "period_end"], kind="stable").reset_index(drop=True)
    report = pd.DataFrame(disagreements, columns=DISAGREEMENT_COLUMNS)
    return merged, report
