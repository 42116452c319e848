"""Merge SEC EDGAR quarters into the curated fundamentals: fill gaps, report disagreements (pure).

The fundamentals refresh's last step before validation: ``companyfacts.normalize_companyfacts``
gives SEC's quarters and the tag behind each cell; ``merge_fundamentals`` fills only the curated
table's empty cells with them and reports every disagreement instead of overwriting a curated
figure. USD millions throughout.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dashboard import config

# Disagreement tolerance for merge_fundamentals: rounding of millions and small definitional
# differences (a few million on a billions line) are not worth a report.
MERGE_ABSOLUTE_TOLERANCE_MUSD = 1.0
MERGE_RELATIVE_TOLERANCE = 0.005

KEYS: list[str] = ["ticker", "fiscal_year", "fiscal_quarter"]
DISAGREEMENT_COLUMNS = [
    "ticker", "fiscal_year", "fiscal_quarter", "period_end", "column", "curated", "sec",
    "difference", "relative_difference", "sec_tag", "accession",
]  # fmt: skip


def _cell_source(prov: pd.DataFrame | None, key: tuple, column: str) -> tuple[str, str, str]:
    """(tag, accession, method) of one SEC cell, or empty texts when ``prov`` does not say."""
    if prov is None or (*key, column) not in prov.index:
        return "", "", ""
    info = prov.loc[(*key, column)]
    info = info.iloc[0] if isinstance(info, pd.DataFrame) else info
    return info["tag"], info["accession"], info["method"]


def _period_end_disagreement(key: tuple, curated_end: Any, sec_end: Any) -> list[dict[str, Any]]:
    """A report row when a matched quarter's period_end differs between curated and SEC."""
    if pd.isna(curated_end) or pd.isna(sec_end) or (pd.Timestamp(curated_end) - pd.Timestamp(sec_end)).days == 0:
        return []
    return [
        {**dict(zip(KEYS, key, strict=True)), "period_end": curated_end, "column": "period_end",
         "curated": np.nan, "sec": np.nan, "difference": np.nan, "relative_difference": np.nan,
         "sec_tag": f"SEC period end {pd.Timestamp(sec_end).date()}", "accession": ""}
    ]  # fmt: skip


def _merge_quarter(
    row: pd.Series, sec_row: pd.Series, key: tuple, prov: pd.DataFrame | None, tolerances: tuple[float, float]
) -> tuple[dict[str, float], list[str], list[dict[str, Any]]]:
    """One matched quarter: the SEC values that fill curated gaps, their source notes, and the
    disagreements beyond ``tolerances`` (absolute USD millions, relative)."""
    absolute, relative = tolerances
    fills: dict[str, float] = {}
    notes: list[str] = []
    disagreements = _period_end_disagreement(key, row["period_end"], sec_row["period_end"])
    for column in config.FUNDAMENTAL_VALUE_COLUMNS:
        sec_value, current = sec_row[column], row[column]
        if pd.isna(sec_value):
            continue
        tag, accession, method = _cell_source(prov, key, column)
        if pd.isna(current):
            fills[column] = float(sec_value)
            detail = " ".join(p for p in (tag, accession, f"({method})" if method else "") if p)
            notes.append(f"{column}: SEC EDGAR {detail}".rstrip())
            continue
        difference = float(sec_value) - float(current)
        if abs(difference) > max(absolute, relative * abs(float(current))):
            disagreements.append(
                {**dict(zip(KEYS, key, strict=True)), "period_end": row["period_end"], "column": column,
                 "curated": float(current), "sec": float(sec_value), "difference": difference,
                 "relative_difference": difference / abs(float(current)) if current else np.inf,
                 "sec_tag": tag, "accession": accession}
            )  # fmt: skip
    return fills, notes, disagreements


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
    merged = curated.copy()
    merged["source"] = merged["source"].astype("str")
    prov = provenance.set_index([*KEYS, "column"]) if provenance is not None and not provenance.empty else None
    position = {key: i for i, key in enumerate(zip(*(merged[k] for k in KEYS)))}
    first_curated = curated.groupby("ticker")["period_end"].min()
    disagreements: list[dict[str, Any]] = []
    new_rows: list[pd.Series] = []
    for key, sec_row in fetched.set_index(KEYS).iterrows():
        key = tuple(key)
        if key not in position:
            start = first_curated.get(key[0])
            if extend_backwards or start is None or pd.isna(start) or sec_row["period_end"] >= start:
                new_rows.append(pd.Series({**dict(zip(KEYS, key, strict=True)), **sec_row.to_dict()}))
            continue
        i = position[key]
        row = merged.iloc[i]
        fills, notes, found = _merge_quarter(row, sec_row, key, prov, (absolute_tolerance, relative_tolerance))
        disagreements += found
        for column, value in fills.items():
            merged.iloc[i, merged.columns.get_loc(column)] = value
        if notes:
            merged.iloc[i, merged.columns.get_loc("source")] = f"{row['source']} ; " + " ; ".join(notes)
    if new_rows:
        added = pd.DataFrame(new_rows)[list(merged.columns)]
        merged = pd.concat([merged, added.astype({c: merged[c].dtype for c in merged.columns if c in added})], ignore_index=True)
    merged = merged.sort_values(["ticker", "period_end"], kind="stable").reset_index(drop=True)
    return merged, pd.DataFrame(disagreements, columns=DISAGREEMENT_COLUMNS)
