"""The CSV export writes floats and text exactly as the per-cell oracle does (``repr`` of each
float, OWASP-neutralized and csv-quoted text), on values chosen to break a vectorized writer:
notation switches, ties between equally short digit strings, signed zero, NaN and inf, float32,
formula prefixes and quote characters. Seeded SYNTHETIC values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.exporting import _float_cells, export_csv
from tests.test_export_vectorized import cell_by_cell

TRICKY = [
    *(1e-05, 1e-4, 9.999999999999999e-05, 0.0001000000000000001, 1e16, 9999999999999998.0, 1e15, 1e22, 1e-7),
    *(0.1 + 0.2, 0.0, -0.0, 1.0, -1.0, 123.0, 2.0**53, 2.0**53 + 2, 2.0**60, 1234567890123456.8, 5e-324, 2.2250738585072014e-308),
    *(1.7976931348623157e308, float("nan"), float("inf"), float("-inf"), 1125899906842624.25, 1125899906842624.75, -1.5e-10, 0.5),
]


def _reprs(values: np.ndarray) -> list[str]:
    return ["" if value != value else repr(value) for value in values.astype(np.float64).tolist()]


def test_tricky_floats_are_written_as_repr() -> None:
    frame = pd.DataFrame({"x": TRICKY, "y": TRICKY[::-1], "label": ["a"] * len(TRICKY)})
    assert export_csv(frame, with_metadata=False) == cell_by_cell(frame)
    assert export_csv(frame[["x"]], with_metadata=False) == cell_by_cell(frame[["x"]])
    assert _float_cells(np.array(TRICKY)).to_pylist() == _reprs(np.array(TRICKY))


@pytest.mark.parametrize("seed", range(2))
def test_many_floats_are_written_as_repr(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40_000
    samples = {
        "any bit pattern": rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64).view(np.float64),
        "every magnitude": np.where(rng.random(n) < 0.5, -1, 1) * 10 ** rng.uniform(-6, 18, n),
        "short decimals": rng.integers(-(10**9), 10**9, n) / 10.0 ** rng.integers(0, 12, n),
        # full mantissas over a power of two: ties between two equally short texts (x.25, x.75)
        "halves and quarters": rng.integers(2**52, 2**53, n, dtype=np.int64).astype(np.float64) / 2.0 ** rng.integers(1, 14, n),
        "whole numbers": rng.integers(-(2**54), 2**54, n).astype(np.float64),
        "returns, repeated": np.repeat(rng.normal(0, 0.02, n // 4), 4),
        "float32": rng.normal(0, 100, n).astype(np.float32),
    }
    for name, values in samples.items():
        assert _float_cells(values).to_pylist() == _reprs(values), name


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True), min_size=1, max_size=40))
def test_any_floats_are_written_as_repr(values: list[float]) -> None:
    with np.errstate(over="ignore"):  # a float too large for float32 becomes inf there
        single = np.array(values, dtype=np.float32)
    frame = pd.DataFrame({"x": values, "single": single})
    assert export_csv(frame, with_metadata=False) == cell_by_cell(frame)


_texts = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("=+-@\t\r\n,\"'ab; é")), max_size=6), st.text(max_size=4))


@settings(max_examples=80, deadline=None)
@given(st.lists(_texts, min_size=1, max_size=30))
def test_any_texts_are_neutralized_and_quoted_as_the_oracle_does(texts: list[str | None]) -> None:
    frame = pd.DataFrame(
        {
            "str": pd.Series(texts, dtype="str"),
            "string": pd.Series(texts, dtype="string"),
            "object": pd.Series(texts, dtype=object),
            "category": pd.Series(texts, dtype="category"),
            "lists": [(text,) if text is not None else () for text in texts],
        }
    )
    assert export_csv(frame, with_metadata=False) == cell_by_cell(frame)
    for column in frame.columns:  # one column alone: an empty cell is quoted then
        assert export_csv(frame[[column]], with_metadata=False) == cell_by_cell(frame[[column]]), column


def test_a_column_in_pieces_is_written_whole() -> None:
    first = pd.DataFrame({"s": pd.Series(["=a", "b,c", None], dtype="str"), "f": [1.0, 2.5, np.nan]})
    second = pd.DataFrame({"s": pd.Series(["x", '-"y'], dtype="str"), "f": [1e-9, 3.0]})
    both = pd.concat([first, second], ignore_index=True)  # a str column of two Arrow chunks
    assert export_csv(both, with_metadata=False) == cell_by_cell(both)
    assert export_csv(both.iloc[1:4], with_metadata=False) == cell_by_cell(both.iloc[1:4])
