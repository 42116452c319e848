"""Repo-rooted paths, the vocabularies of the curated data, and default settings.

Importing this module has no side effects: it creates no folder and reads no file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, get_args

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DASHBOARD_DATA_DIR", REPO_ROOT / "data"))
CACHE_DIR = Path(os.environ.get("DASHBOARD_CACHE_DIR", REPO_ROOT / ".cache"))

COMPANIES_FILE = "companies.csv"
INSTRUMENTS_FILE = "instruments.csv"
EVENTS_FILE = "events.csv"
FUNDAMENTALS_FILE = "fundamentals.csv"
GUIDANCE_FILE = "guidance.csv"
FUNDAMENTALS_FLAGS_FILE = "fundamentals_flags.csv"
PRICES_FILE = "prices.parquet"
MANIFEST_FILE = "manifest.json"

# Every dataset the manifest tracks, with the file that holds it.
DATASET_FILES: dict[str, str] = {
    "companies": COMPANIES_FILE,
    "instruments": INSTRUMENTS_FILE,
    "events": EVENTS_FILE,
    "fundamentals": FUNDAMENTALS_FILE,
    "guidance": GUIDANCE_FILE,
    "fundamentals_flags": FUNDAMENTALS_FLAGS_FILE,
    "prices": PRICES_FILE,
}

EventTime = Literal["pre_market", "intraday", "after_close", "unknown"]
EventType = Literal[
    "divestment",
    "asset_sale",
    "jv_spv_financing",
    "debt_issuance",
    "equity_issuance",
    "capex_guidance",
    "earnings",
    "cost_cut",
    "other",
]
Stage = Literal["report", "announced", "priced", "closed", "withdrawn"]
FundingKind = Literal[
    "debt",
    "equity",
    "divestment",
    "asset_sale",
    "jv_spv",
    "third_party",
    "jv_spv_unwind",
    "debt_and_equity",
]
Confidence = Literal["high", "medium", "low"]
PeriodBasis = Literal["fiscal_year", "calendar_year"]
FiscalCalendar = Literal["month_end", "52_53_week"]
# Cell-level quality flags of fundamentals.csv (data/provenance/PROVENANCE.md defines them).
QualityFlag = Literal["derived", "single_source", "provisional", "rounded", "basis"]

# Funding-gap settings: how figures are grouped in time, and which capex is compared.
Period = Literal["quarter", "ttm", "fiscal_year", "calendar_quarter", "calendar_year"]
CapexBasis = Literal["reported", "economic"]
DEFAULT_FUNDING_PERIOD: Period = "quarter"
DEFAULT_CAPEX_BASIS: CapexBasis = "reported"

# Event types that raise or return money (the deal-size chart plots only these).
FUNDING_EVENT_TYPES: tuple[str, ...] = ("divestment", "asset_sale", "jv_spv_financing", "debt_issuance", "equity_issuance")

EVENT_TIMES: tuple[str, ...] = get_args(EventTime)
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
STAGES: tuple[str, ...] = get_args(Stage)
FUNDING_KINDS: tuple[str, ...] = get_args(FundingKind)
CONFIDENCES: tuple[str, ...] = get_args(Confidence)
PERIOD_BASES: tuple[str, ...] = get_args(PeriodBasis)
FISCAL_CALENDARS: tuple[str, ...] = get_args(FiscalCalendar)
QUALITY_FLAGS: tuple[str, ...] = get_args(QualityFlag)

# Fundamentals, funding tables and forward views are in USD millions; events and guidance in USD billions.
USD_MILLIONS_PER_BILLION = 1000.0

# Fundamentals columns that hold USD millions (outflows are positive numbers).
FUNDAMENTAL_VALUE_COLUMNS: tuple[str, ...] = (
    "revenue",
    "operating_cash_flow",
    "capex",
    "finance_lease_principal",
    "buybacks",
    "dividends",
    "asset_sale_proceeds",
    "debt_issued",
    "debt_repaid",
    "equity_issued",
    "cash_and_securities",
    "total_debt",
)
# The flow lines a funding table sums over a period's quarters, in the order its ``missing`` names them.
FUNDING_FLOW_INPUTS: tuple[str, ...] = (
    "revenue", "operating_cash_flow", "capex", "finance_lease_principal", "buybacks", "dividends",
    "asset_sale_proceeds", "debt_issued", "debt_repaid", "equity_issued",
)  # fmt: skip

# Lines that are flows that can only be zero or positive in this schema.
# Operating cash flow and revenue may be negative (Amazon's Q1 2022 OCF was).
NON_NEGATIVE_FUNDAMENTALS: tuple[str, ...] = tuple(c for c in FUNDAMENTAL_VALUE_COLUMNS if c not in ("operating_cash_flow", "revenue"))

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")

# Event-study defaults (trading days relative to day 0).
DEFAULT_ESTIMATION_WINDOW: tuple[int, int] = (-250, -11)
DEFAULT_MIN_ESTIMATION_DAYS = 120
DEFAULT_EVENT_WINDOWS: tuple[tuple[int, int], ...] = ((-1, 1), (0, 1), (-5, 5), (0, 20))
DEFAULT_MARKET_BENCHMARK = "SPY"
CONFOUND_MASK_DAYS: tuple[int, int] = (-1, 1)
MIN_GROUP_EVENTS = 5  # fewer events in a group: its CAAR is shown, not tested

# Live refresh.
REFRESH_LOCK_FILE = "refresh.lock"
YFINANCE_TIMEOUT_SECONDS = 30
SEC_MAX_REQUESTS_PER_SECOND = 10
SEC_USER_AGENT_ENV = "SEC_USER_AGENT"

# Event-study vocabularies: expected-return models, return types and summary groups.
Model = Literal["market", "market_adjusted", "constant_mean", "peer"]
ReturnType = Literal["simple", "log"]
GroupBy = Literal["event_type", "ticker", "all"]
MODELS: tuple[Model, ...] = get_args(Model)
RETURN_TYPES: tuple[str, ...] = get_args(ReturnType)
GROUP_BYS: tuple[str, ...] = get_args(GroupBy)
DEFAULT_MODEL: Model = "market"
DEFAULT_RETURN_TYPE: ReturnType = "simple"
DEFAULT_GROUP_BY: GroupBy = "event_type"

# Exit codes of the command line: success; the data or the inputs failed validation (a report
# is printed); any other failure (one line, never a traceback).
ExitCode = Literal[0, 1, 2]
EXIT_OK, EXIT_INVALID, EXIT_FAILURE = get_args(ExitCode)

# Event windows in trading days, written "A,B" (e.g. "-1,1") on the command line, in links and in
# exports. Links made before this syntax used "A:B"; parse_window still reads that form.
WINDOW_SEPARATOR = ","
OLD_WINDOW_SEPARATOR = ":"


def parse_window(text: str) -> tuple[int, int]:
    """``"A,B"`` (or the old ``"A:B"``) as ``(A, B)``: two whole numbers of trading days, start
    not after end, spaces around them allowed. Raises ``ValueError`` saying what is wrong."""
    text = str(text)
    separator = WINDOW_SEPARATOR if WINDOW_SEPARATOR in text else OLD_WINDOW_SEPARATOR
    try:
        start, end = (int(part) for part in text.split(separator))
    except ValueError:
        raise ValueError(f"{text!r} is not two whole numbers A{WINDOW_SEPARATOR}B") from None
    if start > end:
        raise ValueError(f"{text!r}: start is after end")
    return start, end


def format_window(window: tuple[int, int]) -> str:
    """``(A, B)`` as ``"A,B"``, the text ``parse_window`` reads back."""
    return f"{int(window[0])}{WINDOW_SEPARATOR}{int(window[1])}"


# SEC EDGAR filings as candidate events (issue 14). The filings dataset exists only after a live
# fetch (`python -m dashboard filings`): data/ may lack it, and once written the manifest lists it.
FILINGS_FILE = "filings.csv"
OPTIONAL_DATASET_FILES: dict[str, str] = {"filings": FILINGS_FILE}

# In-scope 8-K items with their names, in the order that picks a multi-item 8-K's suggested type
# (results first, then money raised, then assets sold, costs cut, and general disclosures).
FILING_8K_ITEMS: dict[str, str] = {
    "2.02": "Results of operations and financial condition",
    "2.03": "Creation of a direct financial obligation",
    "3.02": "Unregistered sales of equity securities",
    "2.01": "Completion of acquisition or disposition of assets",
    "2.05": "Costs associated with exit or disposal activities",
    "1.01": "Entry into a material definitive agreement",
    "7.01": "Regulation FD disclosure",
    "8.01": "Other events",
}
# In-scope forms with their names. Amendments (8-K/A, 10-Q/A, ...) are out of scope.
FILING_FORMS: dict[str, str] = {
    "8-K": "Current report",
    "424B2": "Prospectus supplement",
    "424B5": "Prospectus supplement",
    "FWP": "Free-writing prospectus (term sheet)",
    "10-Q": "Quarterly report",
    "10-K": "Annual report",
}
# The suggested event type of each in-scope 8-K item and non-8-K form: a suggestion for a person to
# review, never written to events.csv. 10-Q/10-K suggest "earnings": a periodic report carries the
# quarter's results (it usually trades with the 8-K 2.02 release); the other disclosures it holds
# (held-for-sale assets, at-the-market equity, debt) are why it may confirm any curated type.
FILING_SUGGESTED_TYPES: dict[str, EventType] = {
    "2.02": "earnings",
    "2.03": "debt_issuance",
    "3.02": "equity_issuance",
    "2.01": "divestment",
    "2.05": "cost_cut",
    "1.01": "other",
    "7.01": "other",
    "8.01": "other",
    "424B2": "debt_issuance",
    "424B5": "debt_issuance",
    "FWP": "debt_issuance",
    "10-Q": "earnings",
    "10-K": "earnings",
}
# The curated event types a filing of each item or form may confirm when matched (a multi-item 8-K
# may confirm the union of its items' types). Results come with guidance; prospectuses also carry
# at-the-market equity; material agreements, other disclosures and periodic reports carry anything.
FILING_COMPATIBLE_TYPES: dict[str, tuple[EventType, ...]] = {
    "2.02": ("earnings", "capex_guidance"),
    "2.03": ("debt_issuance", "jv_spv_financing"),
    "3.02": ("equity_issuance",),
    "2.01": ("divestment", "asset_sale", "jv_spv_financing"),
    "2.05": ("cost_cut",),
    "1.01": EVENT_TYPES,
    "7.01": EVENT_TYPES,
    "8.01": EVENT_TYPES,
    "424B2": ("debt_issuance",),
    "424B5": ("debt_issuance", "equity_issuance"),
    "FWP": ("debt_issuance", "equity_issuance"),
    "10-Q": EVENT_TYPES,
    "10-K": EVENT_TYPES,
}
# What a reviewer should check where the suggested type is only a first guess.
FILING_REVIEW_NOTES: dict[str, str] = {
    "2.01": "a completed acquisition or disposition: divestment or asset_sale (an acquisition is other)",
    "1.01": "a material agreement (JV, lease, financing): read the filing for the type",
    "7.01": "a Regulation FD disclosure: read the filing for the type",
    "8.01": "another event (bond pricings often come as 8.01): read the filing for the type",
    "424B5": "notes, or shares sold at the market: read the filing for the type",
    "FWP": "usually a notes term sheet: read the filing for the type",
    "10-Q": "a periodic report: results, and held-for-sale, at-the-market or debt disclosures",
    "10-K": "a periodic report: results, and held-for-sale, at-the-market or debt disclosures",
}
# A filing matches a curated event of its company when their days 0 are at most this many
# sessions apart and the types are compatible, or when the event's source_url cites the filing.
FILING_MATCH_SESSIONS = 2

# How a filing's acceptance time was obtained: the SGML header (the authority), the submissions
# JSON read with the filer's learned convention (real UTC, or the Eastern clock with a "Z"), or
# the JSON read as UTC because the convention could not be learned (an assumption, shown as such).
FilingTimeSource = Literal["header", "json_utc", "json_et", "json_assumed_utc"]
FILING_TIME_SOURCES: tuple[str, ...] = get_args(FilingTimeSource)
JsonTimeConvention = Literal["utc", "et"]
FilingMatchStatus = Literal["matched", "ambiguous", "new"]
FILING_MATCH_STATUSES: tuple[str, ...] = get_args(FilingMatchStatus)
EDGAR_TIMEZONE = "America/New_York"
# EDGAR accepts filings from 06:00 to 22:00 Eastern on business days: a JSON reading that falls
# outside these hours under one convention proves the other.
EDGAR_ACCEPTANCE_HOURS: tuple[str, str] = ("06:00", "22:00")

# SEC requests: retries after 429 or 5xx (honouring Retry-After up to the longest wait).
SEC_MAX_RETRIES = 3
SEC_MAX_RETRY_WAIT_SECONDS = 60.0
# The filings dataset's own manifest entry (as-of date, rows, hash, source), beside it in data/:
# manifest.json lists only DATASET_FILES, and the snapshot check refuses any other entry there.
FILINGS_MANIFEST_FILE = "filings.manifest.json"

# Uploads in the app (dashboard/ui/uploads.py): one file of at most this many bytes and event rows
# (the command line has no row limit); studies of more events than UPLOAD_IN_PROCESS_EVENTS run in
# a worker process, at most UPLOAD_CONCURRENT_STUDIES at a time, stopped after the time budget.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # = server.maxUploadSize in .streamlit/config.toml
MAX_UPLOAD_EVENTS = 20_000
UPLOAD_IN_PROCESS_EVENTS = 2_000
UPLOAD_CONCURRENT_STUDIES = 1
UPLOAD_TIME_BUDGET_SECONDS = 60
# The per-event table of an upload's study may list at most this many confounding events
# (confounded_by entries, what the page sends to the browser); a study that may list more than
# UPLOAD_IN_PROCESS_LINKS runs in the worker process whatever its number of events.
UPLOAD_MAX_CONFOUNDER_LINKS = 3_000_000
UPLOAD_IN_PROCESS_LINKS = 100_000

# Several events name more than one source in events.csv's source_name, separated by ";" outside
# parentheses ("OurAlpha (CNBC); GitHub AWS-capex thread"). The loaders parse the cell once into a
# tuple of names; a label joins them with SOURCE_NAME_LABEL_SEPARATOR and a CSV/Excel export
# with the export's own list separator.
SOURCE_NAME_SEPARATOR = ";"
SOURCE_NAME_LABEL_SEPARATOR = "; "
# Without a Retry-After, SEC retries wait 1, 2, then 4 s (the last step repeats).
SEC_RETRY_BACKOFF_SECONDS: tuple[float, ...] = (1.0, 2.0, 4.0)
# Exchange calendars of US listings. Prices of every other listing (Tokyo: SoftBank, the Nikkei 225)
# are downloaded with yfinance's price repair, for Yahoo's known 100x unit errors in non-US data.
US_EXCHANGE_CALENDARS: tuple[str, ...] = ("XNYS", "XNAS")
