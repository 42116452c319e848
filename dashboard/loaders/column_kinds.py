"""The column kinds of each curated file: how ``validation.parse_columns`` reads a cell as text,
a number, a whole number or a date before the dataset's schema checks it.

These describe the files' columns (what a file holds), not the columns of a result table
(``metrics.event_study.EVENT_COLUMNS`` names the event study's output columns).
"""

from __future__ import annotations

from dashboard import config
from dashboard.loaders.validation import ColumnKind

COMPANY_COLUMN_KINDS: dict[str, ColumnKind] = {
    "ticker": "text",
    "name": "text",
    "exchange": "text",
    "calendar": "text",
    "currency": "text",
    "fiscal_year_end_month": "int",
    "fiscal_calendar": "text",
    "market_benchmark": "text",
    "sector_benchmark": "text",
    "peer_group": "text",
    "yahoo_symbol": "text",
    "sec_cik": "int",
    "buybacks_basis": "text",
    "total_debt_basis": "text",
    "source": "text",
}
EVENT_COLUMN_KINDS: dict[str, ColumnKind] = {
    "event_id": "text",
    "ticker": "text",
    "event_date": "date",
    "event_time": "text",
    "event_type": "text",
    "amount_usd_bn": "number",
    "headline": "text",
    "description": "text",
    "source_name": "text",
    "source_url": "text",
    "confidence": "text",
    "deal_id": "text",
    "stage": "text",
    "funding_usd_bn": "number",
    "funding_kind": "text",
}
FUNDAMENTAL_COLUMN_KINDS: dict[str, ColumnKind] = {
    "ticker": "text",
    "fiscal_year": "int",
    "fiscal_quarter": "int",
    "period_end": "date",
    **{column: "number" for column in config.FUNDAMENTAL_VALUE_COLUMNS},
    "source": "text",
}
FLAG_COLUMN_KINDS: dict[str, ColumnKind] = {
    "ticker": "text",
    "period_end": "date",
    "column": "text",
    "flag": "text",
    "note": "text",
}
GUIDANCE_COLUMN_KINDS: dict[str, ColumnKind] = {
    "ticker": "text",
    "statement_date": "date",
    "fiscal_year": "int",
    "period_basis": "text",
    "low_usd_bn": "number",
    "high_usd_bn": "number",
    "wording": "text",
    "source_url": "text",
}
PRICE_COLUMN_KINDS: dict[str, ColumnKind] = {
    "ticker": "text",
    "date": "date",
    **{column: "number" for column in config.PRICE_COLUMNS},
}
