"""One pandera schema per dataset, describing the typed frame the loaders hand on.

The schemas are built by small factories because two rules depend on other data: the tickers
that exist (from the companies and instruments tables) and today's date (no event or price may
lie in the future). Checks carry a human ``error`` text; the loaders turn pandera's failure cases
into ``file:line: column: reason`` lines with it.

Derived key columns (prefixed ``_``) let a column-level check see a rule that spans columns,
such as a duplicate company-quarter; ``KEY_COLUMN_BLAME`` says which real column to name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from dashboard import config

URL_PATTERN = r"^https?://\S+$"

# Derived columns the loaders add before validating, and the column a report names for each.
KEY_COLUMN_BLAME: dict[str, str] = {
    "_duplicate_event_id": "event_id",
    "_company_quarter": "fiscal_quarter",
    "_period_end_fits": "period_end",
    "_deal_funding_once": "funding_usd_bn",
    "_ticker_date": "date",
    "_high_ge_low": "high",
    "_flag_cell_known": "column",
    "_flag_unique": "flag",
}


def _not_future(today: pd.Timestamp) -> pa.Check:
    return pa.Check(
        lambda s: s.isna() | (s <= today),
        element_wise=False,
        error=f"date is in the future (after {today.date()})",
    )


def _one_of(values: tuple[str, ...] | list[str], what: str) -> pa.Check:
    return pa.Check.isin(list(values), error=f"{what} is not one of {', '.join(sorted(values))}")


def _non_negative(what: str = "amount") -> pa.Check:
    return pa.Check.ge(0, error=f"{what} is negative")


def _unique(what: str) -> pa.Check:
    return pa.Check(lambda s: ~s.duplicated(keep="first"), error=f"duplicates an earlier row's {what}")


def _is_true(reason: str) -> pa.Check:
    return pa.Check(lambda s: s.astype(bool), error=reason)


def _text(nullable: bool = False, checks: list[pa.Check] | None = None) -> pa.Column:
    return pa.Column(str, checks=checks or [], nullable=nullable)


def _finite() -> pa.Check:
    # inf, -inf (and 1e400, which parses to inf) are not figures; NaN is a missing one.
    return pa.Check(lambda s: s.isna() | np.isfinite(s.astype("float64")), error="is not a finite number")


def _number(nullable: bool = True, checks: list[pa.Check] | None = None) -> pa.Column:
    return pa.Column(float, checks=[_finite(), *(checks or [])], nullable=nullable)


def _date(today: pd.Timestamp, nullable: bool = False) -> pa.Column:
    return pa.Column("datetime64[ns]", checks=[_not_future(today)], nullable=nullable)


def companies_schema() -> pa.DataFrameSchema:
    """Companies: one row per covered company, with its calendar, benchmarks and peer group."""
    return pa.DataFrameSchema(
        {
            "ticker": _text(checks=[_unique("ticker")]),
            "name": _text(),
            "exchange": _text(),
            "calendar": _text(checks=[_one_of(("XNYS", "XTKS"), "calendar")]),
            "currency": _text(),
            "fiscal_year_end_month": pa.Column(int, pa.Check.in_range(1, 12)),
            "fiscal_calendar": _text(checks=[_one_of(config.FISCAL_CALENDARS, "fiscal_calendar")]),
            "market_benchmark": _text(),
            "sector_benchmark": _text(nullable=True),
            "peer_group": _text(),
            "yahoo_symbol": _text(),
            "sec_cik": pa.Column("Int64", nullable=True),
            "buybacks_basis": _text(nullable=True),
            "total_debt_basis": _text(nullable=True),
            "source": _text(checks=[pa.Check.str_matches(URL_PATTERN, error="source is not an http(s) URL")]),
        },
        strict=True,
    )


def instruments_schema() -> pa.DataFrameSchema:
    """Benchmarks and reference series that have prices but are not covered companies."""
    return pa.DataFrameSchema(
        {
            "ticker": _text(checks=[_unique("ticker")]),
            "name": _text(),
            "kind": _text(checks=[_one_of(("benchmark", "reference"), "kind")]),
            "exchange": _text(),
            "calendar": _text(checks=[_one_of(("XNYS", "XTKS"), "calendar")]),
            "currency": _text(),
            "yahoo_symbol": _text(),
        },
        strict=True,
    )


# The columns a user's own events file must have; the rest are optional there.
USER_EVENT_REQUIRED = ("event_id", "ticker", "event_date")


def events_schema(known_tickers: list[str], today: pd.Timestamp, *, curated: bool = True) -> pa.DataFrameSchema:
    """Hand-curated news events; amounts in USD billions; one funding amount per deal.

    With ``curated=False`` (a user's upload or ``--events`` file) only ``USER_EVENT_REQUIRED``
    must be filled; the loader fills a missing ``event_time`` with ``unknown``.
    """
    schema = pa.DataFrameSchema(
        {
            "event_id": _text(),
            "ticker": _text(checks=[pa.Check.isin(known_tickers, error="unknown ticker")]),
            "event_date": _date(today),
            "event_time": _text(checks=[_one_of(config.EVENT_TIMES, "event_time")]),
            "event_type": _text(checks=[_one_of(config.EVENT_TYPES, "event_type")]),
            "amount_usd_bn": _number(checks=[_non_negative("amount_usd_bn")]),
            "headline": _text(),
            "description": _text(nullable=True),
            "source_name": _text(),
            "source_url": _text(checks=[pa.Check.str_matches(URL_PATTERN, error="source_url is not an http(s) URL")]),
            "confidence": _text(checks=[_one_of(config.CONFIDENCES, "confidence")]),
            "deal_id": _text(nullable=True),
            "stage": _text(nullable=True, checks=[_one_of(config.STAGES, "stage")]),
            "funding_usd_bn": _number(checks=[_non_negative("funding_usd_bn")]),
            "funding_kind": _text(nullable=True, checks=[_one_of(config.FUNDING_KINDS, "funding_kind")]),
            "_duplicate_event_id": pa.Column(bool, _is_true("duplicates an earlier row's event_id")),
            "_deal_funding_once": pa.Column(
                bool, _is_true("a deal carries funding_usd_bn on one event only, and it needs deal_id and funding_kind")
            ),
        },
        strict=True,
    )
    if curated:
        return schema
    return schema.update_columns(
        {name: {"nullable": True} for name in schema.columns if name not in USER_EVENT_REQUIRED and not name.startswith("_")}
    )


def fundamentals_schema(known_tickers: list[str], today: pd.Timestamp) -> pa.DataFrameSchema:
    """Quarterly cash-flow and balance figures in USD millions; outflows are positive numbers."""
    values = {
        column: _number(checks=[_non_negative(column)] if column in config.NON_NEGATIVE_FUNDAMENTALS else [])
        for column in config.FUNDAMENTAL_VALUE_COLUMNS
    }
    return pa.DataFrameSchema(
        {
            "ticker": _text(checks=[pa.Check.isin(known_tickers, error="unknown ticker")]),
            "fiscal_year": pa.Column(int, pa.Check.in_range(1990, 2100, error="fiscal_year out of range")),
            "fiscal_quarter": pa.Column(int, pa.Check.isin([1, 2, 3, 4], error="fiscal_quarter is not Q1..Q4")),
            "period_end": _date(today),
            **values,
            "source": _text(),
            "_company_quarter": pa.Column(str, _unique("ticker, fiscal_year and fiscal_quarter")),
            "_period_end_fits": pa.Column(bool, _is_true("period_end does not fit the company's fiscal calendar for this quarter")),
        },
        strict=True,
    )


def fundamentals_flags_schema(known_tickers: list[str]) -> pa.DataFrameSchema:
    """Cell-level quality flags of fundamentals.csv: one row per (cell, flag), each pointing at a
    non-empty cell (``_flag_cell_known``, computed by the loader against the fundamentals)."""
    return pa.DataFrameSchema(
        {
            "ticker": _text(checks=[pa.Check.isin(known_tickers, error="unknown ticker")]),
            "period_end": pa.Column("datetime64[ns]"),
            "column": _text(checks=[_one_of(config.FUNDAMENTAL_VALUE_COLUMNS, "column")]),
            "flag": _text(checks=[_one_of(config.QUALITY_FLAGS, "flag")]),
            "note": _text(nullable=True),
            "_flag_cell_known": pa.Column(bool, _is_true("points at no non-empty cell of fundamentals.csv (ticker, period_end, column)")),
            "_flag_unique": pa.Column(str, _unique("ticker, period_end, column and flag")),
        },
        strict=True,
    )


def guidance_schema(known_tickers: list[str], today: pd.Timestamp) -> pa.DataFrameSchema:
    """Capex guidance vintages: one public statement of a full-year range, USD billions."""
    return pa.DataFrameSchema(
        {
            "ticker": _text(checks=[pa.Check.isin(known_tickers, error="unknown ticker")]),
            "statement_date": _date(today),
            "fiscal_year": pa.Column(int, pa.Check.in_range(1990, 2100, error="fiscal_year out of range")),
            "period_basis": _text(checks=[_one_of(config.PERIOD_BASES, "period_basis")]),
            "low_usd_bn": _number(nullable=False, checks=[_non_negative("low_usd_bn")]),
            "high_usd_bn": _number(nullable=False, checks=[_non_negative("high_usd_bn")]),
            "wording": _text(),
            "source_url": _text(checks=[pa.Check.str_matches(URL_PATTERN, error="source_url is not an http(s) URL")]),
        },
        # A missing or rejected bound is reported under its own column, not as out of order.
        checks=[
            pa.Check(
                lambda df: (df["low_usd_bn"] <= df["high_usd_bn"]) | df["low_usd_bn"].isna() | df["high_usd_bn"].isna(),
                error="low_usd_bn is above high_usd_bn",
            )
        ],
        strict=True,
    )


def prices_schema(known_tickers: list[str], today: pd.Timestamp) -> pa.DataFrameSchema:
    """Daily OHLC (split- and dividend-adjusted, in the listing currency) and volume."""
    return pa.DataFrameSchema(
        {
            "ticker": _text(checks=[pa.Check.isin(known_tickers, error="unknown ticker")]),
            "date": _date(today),
            "open": _number(nullable=False, checks=[pa.Check.gt(0, error="price is not positive")]),
            "high": _number(nullable=False, checks=[pa.Check.gt(0, error="price is not positive")]),
            "low": _number(nullable=False, checks=[pa.Check.gt(0, error="price is not positive")]),
            "close": _number(nullable=False, checks=[pa.Check.gt(0, error="price is not positive")]),
            "volume": _number(checks=[_non_negative("volume")]),
            "_ticker_date": pa.Column(str, _unique("ticker and date")),
            "_high_ge_low": pa.Column(bool, _is_true("high is below low")),
        },
        strict=True,
    )
