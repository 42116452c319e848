"""The command line and the CSV export reproduce their golden outputs (tests/golden_cli.py).

Frozen before the speed-up: exports and the ``funding-gap`` and ``export`` commands byte for byte;
the ``reactions`` tables byte for byte where they can be, else cell by cell with engine numbers
equal to 1e-12 and every text cell exact; what each command prints, exactly.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

from tests.golden_cli import CLI_GOLDEN, EXPORT_GOLDEN, cli_cases, export_bytes, export_frames, run_case, write_inputs


def _cells_match(got: str, want: str) -> bool:
    if got == want:
        return True
    try:
        a, b = float(got), float(want)
    except ValueError:
        return False
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def assert_same_table(got: bytes, want: bytes, label: str) -> None:
    if got == want:
        return
    got_rows = list(csv.reader(io.StringIO(got.decode(), newline="")))
    want_rows = list(csv.reader(io.StringIO(want.decode(), newline="")))
    assert len(got_rows) == len(want_rows), label
    assert got_rows[0] == want_rows[0], label
    for number, (g, w) in enumerate(zip(got_rows, want_rows, strict=True)):
        assert len(g) == len(w), f"{label}: row {number}"
        bad = [(want_rows[0][k], a, b) for k, (a, b) in enumerate(zip(g, w, strict=True)) if not _cells_match(a, b)]
        assert not bad, f"{label}: row {number}: {bad[:3]}"
    # the same numbers to 1e-12, and every line ending and quote where it was
    assert got.count(b"\r\n") == want.count(b"\r\n"), label


@pytest.fixture(scope="module")
def cli_outputs(tmp_path_factory) -> dict[str, dict[str, bytes]]:
    folder = tmp_path_factory.mktemp("golden_cli")
    write_inputs(folder)
    return {case: run_case(arguments, folder) for case, arguments in cli_cases(folder).items()}


@pytest.mark.parametrize("case", list(cli_cases(Path("/unused"))))
def test_cli_reproduces_its_golden_outputs(case: str, cli_outputs) -> None:
    got = cli_outputs[case]
    want_dir = CLI_GOLDEN / case
    assert sorted(got) == sorted(p.name for p in want_dir.iterdir()), case
    for name, data in got.items():
        want = (want_dir / name).read_bytes()
        if name.endswith(".csv") and case.startswith("reactions"):
            assert_same_table(data, want, f"{case}/{name}")
        else:
            assert data == want, f"{case}/{name}"


@pytest.mark.parametrize("name", list(export_frames()))
def test_export_reproduces_its_golden_bytes(name: str) -> None:
    assert export_bytes(name) == (EXPORT_GOLDEN / f"{name}.csv").read_bytes()


def test_the_table_comparison_can_fail() -> None:
    want = b"a,b\r\nx,0.1\r\n"
    assert_same_table(b"a,b\r\nx,0.10000000000000002\r\n", want, "close")
    for got in (b"a,b\r\nx,0.1000001\r\n", b"a,b\r\ny,0.1\r\n", b"a,c\r\nx,0.1\r\n", b"a,b\r\nx,0.1\r\nx,0.1\r\n"):
        with pytest.raises(AssertionError):
            assert_same_table(got, want, "changed")
