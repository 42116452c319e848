"""How a table's columns read on screen: labels in words, money in USD bn, ratios as percentages,
key columns first. Exports keep the machine-readable names and units (see ``ui.tables.table``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from dashboard.config import USD_MILLIONS_PER_BILLION
from dashboard.metrics import funding

if TYPE_CHECKING:  # what st.column_config.* return; streamlit itself is imported where used
    from streamlit.elements.lib.column_types import ColumnConfig

# Columns in USD millions (fundamentals, funding tables, forward views): shown in USD bn.
_USD_MILLIONS = (
    "revenue", "operating_cash_flow", "capex", "finance_lease_principal", "buybacks", "dividends",
    "asset_sale_proceeds", "debt_issued", "debt_repaid", "equity_issued", "cash_and_securities", "total_debt",
    "internal_funding", "internal_funding_upper_bound", "funding_gap", "funding_gap_lower_bound", "free_cash_flow",
    "divestment_proceeds", "net_debt_issued", "cash_drawdown", "residual", "jv_spv_financing_memo",
    "third_party_financing_memo", "announced_funding_memo", "trailing_operating_cash_flow", "trailing_buybacks",
    "trailing_dividends", "capex_low", "capex_mid", "capex_high", "funding_gap_low", "funding_gap_mid",
    "funding_gap_high", "implied_new_debt_low", "implied_new_debt_mid", "implied_new_debt_high",
    "funding_gap_lower_bound_low", "funding_gap_lower_bound_mid", "funding_gap_lower_bound_high",
    "implied_new_debt_lower_bound_low", "implied_new_debt_lower_bound_mid", "implied_new_debt_lower_bound_high",
    "funding_usd_m", "trailing_capex",
)  # fmt: skip
# Decimal ratios and returns: shown as percentages.
_PERCENT = (
    "capex_intensity", "capex_to_ocf", "self_funded_share", "divestment_coverage", "debt_coverage", "relative_size",
    "car", "car_se", "car_alt", "caar", "lower", "upper", "aar", "alpha", "sigma",
)  # fmt: skip

LABELS: dict[str, str] = {
    "ticker": "Ticker", "period": "Period", "period_end": "Period end", "period_start": "Period start",
    "capex_basis": "Capex basis", "revenue": "Revenue", "operating_cash_flow": "Operating cash flow",
    "capex": "Capex", "finance_lease_principal": "Finance-lease principal", "buybacks": "Buybacks",
    "dividends": "Dividends", "internal_funding": "Internal funding",
    "internal_funding_upper_bound": "Internal funding, at most", "funding_gap": "Funding gap (exact)",
    "funding_gap_lower_bound": "Funding gap, at least", "free_cash_flow": "Free cash flow",
    "divestment_proceeds": "Divestment proceeds", "net_debt_issued": "Net debt issued", "equity_issued": "Equity issued",
    "cash_drawdown": "Cash drawdown", "residual": "Other and unexplained",
    "jv_spv_financing_memo": "JV/SPV financing (memo)", "third_party_financing_memo": "Developers' financing (memo)",
    "announced_funding_memo": "Announced deals (memo)", "capex_intensity": "Capex ÷ revenue",
    "capex_to_ocf": "Capex ÷ operating cash flow", "self_funded_share": "Self-funded share",
    "divestment_coverage": "Divestment coverage", "debt_coverage": "Debt coverage", "missing": "Missing inputs",
    "source": "Source", "buybacks_basis": "Buybacks basis", "total_debt_basis": "Debt basis",
    "period_note": "Calendarization", "memo_events": "Memo events", "bound_missing": "Counted as 0 in the bound",
    "not_reported": "Lines not reported", "quality_flags": "Quality flags", "memo_missing": "Memo lines unknown because",
    "event_id": "Event", "event_type": "Type", "event_date": "Date", "event_time": "Time of day", "day0": "Day 0",
    "day0_reason": "Day-0 reason", "window_start": "Window from", "window_end": "Window to", "model": "Model",
    "benchmark": "Benchmark", "alpha": "Alpha (daily)", "beta": "Beta", "sigma": "Residual s.d. (daily)",
    "n_estimation": "Estimation days", "n_masked": "Days masked", "n_missing": "Days missing", "car": "CAR",
    "car_se": "CAR s.e.", "car_t": "t", "car_p": "p", "confounded": "Confounded", "confounded_by": "Confounded by",
    "status": "Status", "day0_alt": "Day 0 if after the close", "car_alt": "CAR if after the close",
    "headline": "Headline", "confidence": "Confidence", "amount_usd_bn": "Amount (USD bn)",
    "guided_change_usd_bn": "Change vs previous guidance (USD bn)", "source_url": "Source link",
    "source_name": "Source name", "statement_date": "Stated on", "fiscal_year": "Fiscal year",
    "low_usd_bn": "Low (USD bn)", "high_usd_bn": "High (USD bn)", "wording": "Wording", "period_basis": "Year basis",
    "guided_period": "Guided year", "run_rate_period": "Run-rate period", "relative_size": "Amount ÷ TTM capex",
    "trailing_capex": "TTM capex", "size_note": "Size note", "group": "Group", "sample": "Sample",
    "n_events": "Events", "caar": "CAAR", "small_sample": "Small sample", "all_confounded": "All confounded",
    "stage": "Stage", "deal_id": "Deal", "funding_kind": "Funding kind", "description": "Description",
}  # fmt: skip

REACTION_KEY_COLUMNS: tuple[str, ...] = ("event_id", "ticker", "car", "car_t", "car_p", "confounded_by", "confidence")
FUNDING_KEY_COLUMNS: tuple[str, ...] = funding.KEY_COLUMNS  # the funding table's own reading order


def _label(column: str) -> str:
    words = LABELS.get(column, column.replace("_", " ").capitalize())
    if column in _USD_MILLIONS:
        return f"{words} (USD bn)"
    return words


def _is_list_column(values: pd.Series) -> bool:
    return values.dtype == object and values.map(lambda v: isinstance(v, (tuple, list))).any()


def display_frame(frame: pd.DataFrame, *, key_columns: Sequence[str] = ()) -> tuple[pd.DataFrame, dict[str, ColumnConfig | str]]:
    """``frame`` as it reads on screen, and the Streamlit column configuration that labels it.

    Key columns that are present come first, in the order given. USD-million columns become USD
    billions (÷ ``config.USD_MILLIONS_PER_BILLION``) with thousands separators; decimal ratios and
    returns become percentages; tuples become ``a; b`` text. Labels are words, with the unit.
    The input frame is not changed.
    """
    import streamlit as st

    present = [c for c in key_columns if c in frame.columns]
    shown = frame[[*present, *[c for c in frame.columns if c not in present]]].copy()
    config: dict[str, ColumnConfig | str] = {}
    for column in shown.columns:
        values = shown[column]
        label = _label(column)
        if column in _USD_MILLIONS and pd.api.types.is_numeric_dtype(values):
            shown[column] = (values / USD_MILLIONS_PER_BILLION).round(2)
            config[column] = st.column_config.NumberColumn(label, format="localized")
        elif column in _PERCENT and pd.api.types.is_numeric_dtype(values):
            shown[column] = values * 100
            config[column] = st.column_config.NumberColumn(label, format="%.2f%%")
        elif pd.api.types.is_datetime64_any_dtype(values):
            config[column] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        elif _is_list_column(values):
            shown[column] = values.map(lambda v: "; ".join(map(str, v)) if isinstance(v, (tuple, list)) else v)
            config[column] = st.column_config.TextColumn(label)
        elif pd.api.types.is_float_dtype(values):
            config[column] = st.column_config.NumberColumn(label, format="localized")
        else:
            config[column] = label
    return shown, config
