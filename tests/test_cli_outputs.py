"""Output hazards of the command line (issue 10, item 8): two options naming one file are refused
before anything is written (exit 2), through any spelling, path or link; an output that is a
symlink is written at its target and the link stays; contradicting options are refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dashboard.__main__ import main

REACTIONS = ["reactions", "--window=-1,1"]


def _refused(arguments: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and ": error: " in err
    return err


@pytest.mark.parametrize("spelling", ["same", "dot", "parent", "symlink", "hardlink", "absolute"])
def test_two_outputs_naming_one_file_are_refused_before_writing(tmp_path: Path, capsys, monkeypatch, spelling) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "x.csv"
    target.write_text("keep me\n")
    (tmp_path / "sub").mkdir()
    other = {
        "same": "x.csv",
        "dot": "./x.csv",
        "parent": "sub/../x.csv",
        "absolute": str(target),
        "symlink": "link.csv",
        "hardlink": "hard.csv",
    }[spelling]
    if spelling == "symlink":
        os.symlink(target, tmp_path / "link.csv")
    if spelling == "hardlink":
        os.link(target, tmp_path / "hard.csv")
    err = _refused([*REACTIONS, "--out", "x.csv", "--summary", other], capsys)
    assert "--out and --summary name the same file" in err
    assert target.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_every_pair_of_outputs_is_checked_and_inputs_too(tmp_path: Path, capsys) -> None:
    path = str(tmp_path / "same.csv")
    for first, second in (("--daily", "--ar"), ("--summary", "--ar"), ("--out", "--daily")):
        arguments = [*REACTIONS, "--out", str(tmp_path / "o.csv"), first, path, second, path]
        if first == "--out":
            arguments = [*REACTIONS, "--out", path, "--daily", path]
        assert f"{first} and {second} name the same file" in _refused(arguments, capsys)
    events = tmp_path / "events.csv"
    events.write_text("event_id,ticker,event_date\nU1,META,2025-10-29\n")
    assert "--events and --out name the same file" in _refused([*REACTIONS, "--events", str(events), "--out", str(events)], capsys)
    assert events.read_text().startswith("event_id")


def test_an_output_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real" / "gap.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "gap.csv"
    os.symlink(target, link)
    assert main(["funding-gap", "--ticker", "META", "--out", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8").startswith("ticker,")
    dangling = tmp_path / "new.csv"
    os.symlink(tmp_path / "real" / "new-target.csv", dangling)
    assert main(["export", "manifest", "--out", str(dangling)]) == 0
    assert dangling.is_symlink() and (tmp_path / "real" / "new-target.csv").read_text().startswith("# dashboard export")


@pytest.mark.parametrize(
    "extra", [["--period", "ttm"], ["--capex", "economic"], ["--period", "quarter"], ["--capex", "reported", "--period", "fiscal_year"]]
)
def test_forward_with_period_or_capex_is_refused(tmp_path: Path, capsys, extra) -> None:
    out = tmp_path / "f.csv"
    err = _refused(["funding-gap", "--forward", *extra, "--out", str(out)], capsys)
    assert "--forward takes no --" in err
    assert not out.exists()


def test_benchmark_with_the_peer_model_is_a_usage_error(tmp_path: Path, capsys) -> None:
    err = _refused([*REACTIONS, "--model", "peer", "--benchmark", "SPY", "--out", str(tmp_path / "e.csv")], capsys)
    assert "--benchmark does not apply to --model peer" in err


def test_a_failed_run_leaves_no_output_and_no_temporary_file(tmp_path: Path, capsys) -> None:
    previous = tmp_path / "e.csv"
    previous.write_text("previous\n")
    bad = tmp_path / "r.csv"
    bad.write_text("date,AAA\n2024-01-02,x\n")
    assert main([*REACTIONS, "--returns", str(bad), "--out", str(previous), "--ar", str(tmp_path / "a.csv")]) == 1
    assert previous.read_text() == "previous\n" and not (tmp_path / "a.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv", "r.csv"]
