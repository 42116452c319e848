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
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
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
# Lines that are flows that can only be zero or positive in this schema.
# Operating cash flow and revenue may be negative (Amazon's Q1 2022 OCF was).
NON_NEGATIVE_FUNDAMENTALS: tuple[str, ...] = tuple(
    c for c in FUNDAMENTAL_VALUE_COLUMNS if c not in ("operating_cash_flow", "revenue")
)

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
