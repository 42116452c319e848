"""The one CSV export every table goes through: the app's download buttons and the command line.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as
a formula (OWASP "CSV injection"). ``neutralize_formulas`` prefixes such text cells with a single
quote, so they display as text. Numeric columns are never touched, so numbers stay numbers
(a negative cash flow stays ``-2790.0``).

The file starts with ``#`` comment lines recording what was exported, with which parameters,
and the as-of date of each dataset behind it; ``pandas.read_csv(path, comment="#")`` reads the
table back.
"""
from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _neutralize(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot start a spreadsheet formula.

    Only non-numeric columns are inspected; missing values stay missing. The input is not changed.
    """
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]) and not pd.api.types.is_datetime64_any_dtype(safe[column]):
            safe[column] = safe[column].map(_neutralize, na_action="ignore")
    safe.columns = [_neutralize(str(column)) for column in safe.columns]
    return safe


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def export_metadata(*, what: str, params: Mapping[str, object], as_of: Mapping[str, str], data_version: str) -> list[str]:
    """The comment lines that head an export: what, parameters, data as-of dates and version."""
    parameters = "; ".join(f"{key}={_one_line(value)}" for key, value in params.items()) or "none"
    dates = "; ".join(f"{name} {date}" for name, date in sorted(as_of.items()))
    return [
        f"# export: {_one_line(what)}",
        f"# parameters: {parameters}",
        f"# data as of: {dates}",
        f"# data version: {_one_line(data_version)}",
    ]


def to_safe_csv(
    frame: pd.DataFrame,
    *,
    what: str,
    params: Mapping[str, object],
    as_of: Mapping[str, str],
    data_version: str,
) -> bytes:
    """UTF-8 CSV bytes: metadata comment lines, then ``frame`` with formulas neutralized."""
    buffer = io.StringIO()
    buffer.write("\n".join(export_metadata(what=what, params=params, as_of=as_of, data_version=data_version)) + "\n")
    neutralize_formulas(frame).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def manifest_as_of(manifest: Mapping) -> dict[str, str]:
    """Dataset name -> as-of date, from a loaded manifest."""
    return {name: entry["as_of"] for name, entry in manifest.get("datasets", {}).items()}
