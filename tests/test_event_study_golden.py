"""The event-study engine reproduces its golden outputs (tests/event_study_golden.py).

The golden files were written by the engine before it was split into modules; numbers must agree
to 1e-12 and text exactly. Columns added since (listed in ``ADDED_COLUMNS``) are ignored here and
tested on their own; every golden column must still be there, in the same order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.metrics.event_study import ADDED_EVENT_COLUMNS
from tests.event_study_golden import CASES, TABLES, as_csv_text, golden_path, golden_tables, read_golden_text

ADDED_COLUMNS = {*ADDED_EVENT_COLUMNS, "all_confounded"}


def _numeric(column: pd.Series) -> pd.Series | None:
    values = pd.to_numeric(column, errors="coerce")
    return values if values.isna().equals(column.isna()) else None


def assert_matches_golden(got: pd.DataFrame, want: pd.DataFrame, label: str) -> None:
    kept = [c for c in got.columns if c not in ADDED_COLUMNS]
    assert kept == list(want.columns), label
    assert len(got) == len(want), label
    for column in want.columns:
        expected, actual = want[column], got[column]
        numbers = _numeric(expected)
        if numbers is None or _numeric(actual) is None:
            assert actual.fillna("<NA>").tolist() == expected.fillna("<NA>").tolist(), f"{label}.{column}"
        else:
            np.testing.assert_allclose(_numeric(actual), numbers, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=f"{label}.{column}")


@pytest.mark.parametrize("case", list(CASES))
def test_engine_reproduces_its_golden_outputs(case: str) -> None:
    tables = golden_tables(case)
    assert set(tables) == set(TABLES)
    for table, frame in tables.items():
        want = read_golden_text(golden_path(case, table).read_text(encoding="utf-8"))
        got = read_golden_text(as_csv_text(frame))
        assert_matches_golden(got, want, f"{case}/{table}")


def test_the_comparison_can_fail() -> None:
    want = read_golden_text(golden_path("estudy2_market_log", "events").read_text(encoding="utf-8"))
    for change in ({"car": 1e-9}, {"status": "x"}):
        got = want.copy()
        ((column, value),) = change.items()
        if column == "car":
            got.loc[0, column] = repr(float(got.loc[0, column]) + value)
        else:
            got.loc[0, column] = value
        with pytest.raises(AssertionError):
            assert_matches_golden(got, want, "changed")
    with pytest.raises(AssertionError):
        assert_matches_golden(want.drop(columns="sigma"), want, "dropped")
