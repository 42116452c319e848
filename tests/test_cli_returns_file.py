"""``reactions --returns``: the fast read equals the cell-by-cell one, Parquet equals CSV, and a bad
file is invalid data (exit 1) with every bad cell as file:line: column: reason (issue 10, item 7)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.__main__ import main
from dashboard.loaders import returns_file
from dashboard.loaders.returns_file import ReturnsFileInvalid, read_returns_file, select_tickers
from tests.golden_cli import synthetic_events_file, synthetic_returns_file


def _slow(path: Path) -> pd.DataFrame:
    text = path.read_text(encoding="utf-8-sig")
    return returns_file._checked(*returns_file._text_table(text, str(path)), str(path))


def test_fast_read_equals_the_cell_by_cell_read(tmp_path: Path) -> None:
    frame = synthetic_returns_file()
    path = tmp_path / "r.csv"
    frame.to_csv(path)
    fast = returns_file._fast_csv(path)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, _slow(path), check_exact=True)
    pd.testing.assert_frame_equal(fast, frame.rename_axis("date"), check_exact=True, check_freq=False)


def test_odd_but_valid_cells_take_the_slow_path_and_read_the_same(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("\ufeffdate,AAA,BBB\n 2024-01-03 ,NA, 0.5\n2024-01-02,NaN,-1e-3\n2024-01-04,,nan\n", encoding="utf-8")
    frame = read_returns_file(path)
    assert frame.index.strftime("%Y-%m-%d").tolist() == ["2024-01-02", "2024-01-03", "2024-01-04"]  # sorted
    assert frame["BBB"].tolist()[:2] == [-1e-3, 0.5] and frame["AAA"].isna().all()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date,AAA\n2024-01-02,0.1\n2024-01-03,abc\n", [":3: AAA: 'abc' is not a number"]),
        (
            "date,AAA\n2024-01-02,inf\n2024-01-03,-1e400\n",
            [":2: AAA: 'inf' is not a finite number", ":3: AAA: '-1e400' is not a finite number"],
        ),
        ("date,AAA\n2024-01-02,0.1\n2024-01-02,0.2\n", [":3: date: repeats the date of line 2"]),
        ("day,AAA\n2024-01-02,0.1\n", [":1: date: column is missing"]),
        (
            "date,AAA\n2024-02-30,0.1\n,0.2\n",
            [":2: date: '2024-02-30' is not a date (YYYY-MM-DD)", ":3: date: '' is not a date (YYYY-MM-DD)"],
        ),
        ('date,AAA\n2024-01-02,"0.1\n0.2"\n2024-01-03,x\n', [":2: AAA: '0.1\\n0.2' is not a number", ":4: AAA: 'x' is not a number"]),
    ],
)
def test_a_bad_file_exits_1_naming_every_bad_cell(tmp_path: Path, capsys, text: str, expected: list[str]) -> None:
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "E.csv"
    assert main(["reactions", "--returns", str(path), "--out", str(out)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"returns ({path}):")
    assert [line.strip() for line in lines[1:-1]] == [f"{path}{issue}" for issue in expected]
    assert lines[-1].startswith(f"error: {path}: not a valid returns file")
    assert not out.exists()


def test_a_missing_file_is_another_failure(tmp_path: Path, capsys) -> None:
    assert main(["reactions", "--returns", str(tmp_path / "none.csv"), "--out", str(tmp_path / "E.csv")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'none.csv'}: file not found"


def test_parquet_gives_the_same_study_as_csv(tmp_path: Path, capsys) -> None:
    frame = synthetic_returns_file()
    frame.to_csv(tmp_path / "r.csv")
    frame.to_parquet(tmp_path / "r.parquet")  # the date index is stored with the columns
    frame.reset_index().to_parquet(tmp_path / "column.pq", index=False)
    synthetic_events_file(frame).to_csv(tmp_path / "events.csv", index=False)
    written = {}
    for name in ("r.csv", "r.parquet", "column.pq"):
        out = tmp_path / f"{name}.events.csv"
        assert (
            main(
                [
                    "reactions",
                    "--returns",
                    str(tmp_path / name),
                    "--events",
                    str(tmp_path / "events.csv"),
                    "--benchmark",
                    "MKT",
                    "--window=-1,1",
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        written[name] = out.read_bytes()
    assert written["r.csv"] == written["r.parquet"] == written["column.pq"]


def test_a_parquet_text_cell_names_its_row(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]), "AAA": ["0.1", "oops", None], "BBB": [0.1, np.inf, 0.2]}
    )
    frame.to_parquet(tmp_path / "r.parquet", index=False)
    with pytest.raises(ReturnsFileInvalid) as failed:
        read_returns_file(tmp_path / "r.parquet")
    assert [str(issue) for issue in failed.value.report.issues] == [
        f"{tmp_path / 'r.parquet'}:2: AAA: 'oops' is not a number",
        f"{tmp_path / 'r.parquet'}:2: BBB: inf is not a finite number",
    ]


def test_select_tickers_keeps_order_and_names_the_unknown() -> None:
    assert select_tickers([" meta", "MSFT", "meta", "XXX"], ["META", "MSFT"], upper=True) == (["META", "MSFT"], ["XXX"])
    assert select_tickers(["T01", "SPY"], pd.Index(["T01", "MKT"])) == (["T01"], ["SPY"])
    assert select_tickers([], ["A"]) == ([], [])
