"""One window syntax (issue 13): ``config.parse_window`` reads ``A,B`` (and the old ``A:B`` of links
made before), ``config.format_window`` writes ``A,B``; the command line uses them."""

from __future__ import annotations

import pytest

from dashboard import config
from dashboard.__main__ import main


@pytest.mark.parametrize(
    ("text", "window"),
    [("-1,1", (-1, 1)), (" -5 , 5 ", (-5, 5)), ("0,20", (0, 20)), ("-1:1", (-1, 1)), ("3,3", (3, 3)), ("-250,-11", (-250, -11))],
)
def test_parse_window_reads_both_forms(text: str, window: tuple[int, int]) -> None:
    assert config.parse_window(text) == window
    assert config.parse_window(config.format_window(window)) == window
    assert config.format_window(window) == f"{window[0]},{window[1]}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1", "is not two whole numbers A,B"),
        ("1,2,3", "is not two whole numbers"),
        ("a,b", "is not two whole numbers"),
        ("1.5,2", "is not two whole numbers"),
        ("", "is not two whole numbers"),
        ("2,1", "start is after end"),
        ("1:2:3", "is not two whole numbers"),
        ("2:1", "start is after end"),
    ],
)
def test_parse_window_says_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        config.parse_window(text)


def test_the_command_line_reports_a_bad_window_in_one_line(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["reactions", "--window=x", "--out", str(tmp_path / "e.csv")])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip().endswith("argument --window: 'x' is not two whole numbers A,B (write --window=-1,1)")
    with pytest.raises(SystemExit):
        main(["reactions", "--estimation=-10,-20", "--out", str(tmp_path / "e.csv")])
    assert capsys.readouterr().err.strip().endswith("argument --estimation: '-10,-20': start is after end")
