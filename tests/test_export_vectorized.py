"""The column-at-a-time export writes exactly what one ``_cell`` per value and a ``csv.writer``
write (the definition of a cell in dashboard/exporting.py), for every kind of column, in one
piece or in chunks. Seeded SYNTHETIC frames."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from dashboard.exporting import _cell, export_csv, export_csv_chunks
from tests.golden_cli import export_frames


def cell_by_cell(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([_cell(str(column)) for column in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


@pytest.mark.parametrize("seed", range(5))
def test_columns_at_once_equal_cell_by_cell(seed: int) -> None:
    table, _ = export_frames()["table_plain"]
    rng = np.random.default_rng(seed)
    sample = table.iloc[rng.permutation(len(table))[: rng.integers(1, len(table))]]
    sample = sample[list(rng.permutation(sample.columns))]
    assert export_csv(sample, with_metadata=False) == cell_by_cell(sample)
    for column in sample.columns:  # one column alone: an empty cell is quoted then
        assert export_csv(sample[[column]], with_metadata=False) == cell_by_cell(sample[[column]]), column


def test_repeated_and_signed_values_keep_their_text() -> None:
    frame = pd.DataFrame(
        {
            "x": [0.0, -0.0, -0.0, np.nan, np.nan, 1.5, 1.5, np.inf, -np.inf, 0.1 + 0.2],
            "n": [3, 3, -1, 0, 2**62, 3, 3, -5, 7, 7],
            "d": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-01",
                    None,
                    "2024-01-01 10:00:00",
                    "1999-12-31",
                    None,
                    "2024-01-01",
                    "2024-01-01 10:00:00",
                    "2030-02-03",
                    "2030-02-03",
                ],
                format="ISO8601",
            ),
            "t": [(), ("EV1",), ("=x", "y"), None, ["a,b"], (), ("EV1",), np.nan, ("-",), ('q"',)],
        }
    )
    assert export_csv(frame, with_metadata=False) == cell_by_cell(frame)


@pytest.mark.parametrize("rows_per_chunk", [1, 7, 400, 10_000])
def test_chunks_join_to_the_same_bytes(rows_per_chunk: int) -> None:
    table, _ = export_frames()["table_plain"]
    assert b"".join(export_csv_chunks(table, rows_per_chunk=rows_per_chunk)) == export_csv(table, with_metadata=False)
    empty = table.iloc[:0]
    assert b"".join(export_csv_chunks(empty, rows_per_chunk=rows_per_chunk)) == export_csv(empty, with_metadata=False)
