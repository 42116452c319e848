"""``python -m dashboard filings`` end to end, offline: the fixture submissions in, the candidates
CSV out (every in-scope filing with its Eastern time, time source, day 0 and match status), the
Eastern-clock-with-Z filer's after-close day 0, assumed times, a Tokyo-listed company, --save,
usage errors, and a live run that fails cleanly when SEC cannot be reached or no User-Agent is set.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import requests

from dashboard import config
from dashboard.__main__ import main
from dashboard.exporting import read_export
from dashboard.loaders import filings as lf
from dashboard.loaders import sec
from dashboard.metrics.filings import CANDIDATE_COLUMNS

FIXTURES = config.REPO_ROOT / "tests" / "fixtures" / "filings"
META = FIXTURES / "meta" / "CIK0001326801.json"
AMZN = FIXTURES / "amzn" / "CIK0001018724.json"
ISSUE_COLUMNS = [
    "ticker",
    "accession",
    "form",
    "items",
    "filing_date",
    "accepted_et",
    "time_source",
    "day0",
    "day0_reason",
    "suggested_event_type",
    "document_url",
    "matched_event_id",
    "status",
]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No socket may be opened and no HTTP request made; the cache is private to the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a network call was attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(requests.Session, "get", refuse)
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    return tmp_path


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _candidates(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    frame, metadata = read_export(path.read_bytes())
    return frame.set_index("accession", drop=False), metadata


def test_fixture_submissions_in_candidates_out(tmp_path):
    """The issue's own check, as a user runs it: a separate process, no network, exit 0."""
    out = tmp_path / "c.csv"
    env = {**os.environ, "DASHBOARD_CACHE_DIR": str(tmp_path / "cache"), "DASHBOARD_SEC_BASE_URL": "http://127.0.0.1:9"}
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "filings", "--submissions", str(META), "--submissions", str(AMZN), "--out", str(out)],
        cwd=config.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    frame, metadata = _candidates(out)
    assert list(frame.columns[: len(ISSUE_COLUMNS)]) == ISSUE_COLUMNS
    assert list(frame.columns) == list(CANDIDATE_COLUMNS)
    assert len(frame) == 15  # every in-scope filing of the 18 read (recent, META's paged history)
    assert frame["accepted_et"].str.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-0[45]:00$").all()
    assert frame["time_source"].value_counts().to_dict() == {"json_utc": 8, "json_et": 5, "header": 2}
    assert frame["status"].value_counts().to_dict() == {"matched": 9, "new": 5, "ambiguous": 1}
    assert frame["day0"].notna().all() and frame["day0_reason"].notna().all()
    assert metadata["param note"].startswith("suggested_event_type is a suggestion for review")
    assert "wrote 15 in-scope filing(s) of 18 read" in done.stdout
    assert "CIK0001018724-submissions-001.json (2002-05-14 to 2024-12-20) named in filings.files is not beside it" in done.stderr
    seed = frame.loc["0001326801-25-000077"]
    assert (seed["accepted_et"], seed["time_source"], seed["day0"], seed["status"], seed["candidate_event_ids"]) == (
        "2025-07-30T20:02:43-04:00",
        "header",
        "2025-07-31",
        "ambiguous",
        "EV032;EV035",
    )
    friday = frame.loc[["0001326801-25-000098", "0001326801-25-000099", "0001326801-25-000100", "0001326801-25-000101"]]
    assert friday["accepted_et"].str[11:16].tolist() == ["07:30", "12:00", "16:05", "21:50"]
    assert friday["day0"].tolist() == ["2025-08-29", "2025-08-29", "2025-09-02", "2025-09-02"]
    assert friday["matched_event_id"].tolist() == ["new"] * 4
    bond = frame.loc["0001104659-25-114098"]
    assert (bond["matched_event_id"], bond["match_basis"], bond["changes_event_day0"]) == ("EV057", "accession", True)


def test_eastern_clock_with_z_after_the_close_without_a_header(offline, capsys):
    folder = offline / "amzn"
    folder.mkdir()
    shutil.copy(AMZN, folder / AMZN.name)  # no header beside it: the convention comes from a reading
    out = offline / "c.csv"
    code, stdout, _ = _run(["filings", "--submissions", str(folder / AMZN.name), "--out", str(out)], capsys)
    assert code == 0
    frame, _ = _candidates(out)
    results = frame.loc["0001018724-25-000123"]
    assert (results["accepted_et"], results["time_source"]) == ("2025-10-30T16:02:11-04:00", "json_et")
    assert (results["suggested_event_time"], results["day0"], results["day0_reason"]) == (
        "after_close",
        "2025-10-31",
        "after_close_next_session",
    )
    assert (results["matched_event_id"], results["changes_event_day0"]) == ("EV052", False)
    assert "outside EDGAR's hours as UTC" in results["time_basis"]
    assert not (offline / "cache").exists()  # offline files do not teach the cache unless --save


def test_an_unlearnable_convention_is_assumed_utc_and_says_so(offline, capsys):
    folder = offline / "amzn"
    folder.mkdir()
    raw = json.loads(AMZN.read_text(encoding="utf-8"))
    recent = raw["filings"]["recent"]
    keep = [i for i, t in enumerate(recent["acceptanceDateTime"]) if t[11:13] not in ("06", "07")]
    raw["filings"]["recent"] = {key: [values[i] for i in keep] for key, values in recent.items()}
    (folder / AMZN.name).write_text(json.dumps(raw), encoding="utf-8")
    out = offline / "c.csv"
    code, _, stderr = _run(["filings", "--submissions", str(folder / AMZN.name), "--out", str(out)], capsys)
    assert code == 0
    frame, _ = _candidates(out)
    assert set(frame["time_source"]) == {"json_assumed_utc"}
    assert frame["time_basis"].str.startswith("convention not learned, UTC assumed").all()
    assert "AMZN: JSON time convention not learned" in stderr and "read as UTC (json_assumed_utc)" in stderr
    results = frame.loc["0001018724-25-000123"]  # 16:02:11Z read as UTC: 12:02 ET, the trap
    assert (results["accepted_et"], results["day0"], results["changes_event_day0"]) == ("2025-10-30T12:02:11-04:00", "2025-10-30", True)


def test_a_tokyo_listed_company_has_no_edgar_filings(offline, capsys):
    out = offline / "c.csv"
    code, stdout, stderr = _run(["filings", "--ticker", "9984.T", "--out", str(out)], capsys)
    assert code == 0
    assert "9984.T (SoftBank Group, Tokyo Stock Exchange): not an SEC EDGAR filer (no sec_cik in companies.csv); no filings" in stderr
    frame, _ = _candidates(out)
    assert frame.empty and list(frame.columns) == list(CANDIDATE_COLUMNS)
    assert "wrote 0 in-scope filing(s)" in stdout
    code, _, stderr = _run(["filings", "--ticker", "9984.t", "--submissions", str(META), "--out", str(out)], capsys)
    assert code == 0
    assert "CIK 1326801 (Meta Platforms, Inc.) is not among the --ticker companies; skipped" in stderr
    assert "9984.T (SoftBank Group" in stderr


def test_since_and_ticker_select(offline, capsys):
    out = offline / "c.csv"
    code, _, _ = _run(
        ["filings", "--submissions", str(META), "--submissions", str(AMZN), "--ticker", "meta", "--since", "2025-07-31", "--out", str(out)],
        capsys,
    )
    assert code == 0
    frame, metadata = _candidates(out)
    assert sorted(frame["accession"]) == [f"0001326801-25-0000{n}" for n in ("77", "98", "99")] + [
        "0001326801-25-000100",
        "0001326801-25-000101",
    ]
    assert (metadata["param ticker"], metadata["param since"]) == ("META", "2025-07-31")


def test_bad_rows_are_reported_and_the_rest_written(offline, capsys):
    folder = offline / "meta"
    shutil.copytree(META.parent, folder)
    raw = json.loads((folder / META.name).read_text(encoding="utf-8"))
    raw["filings"]["recent"]["acceptanceDateTime"][1] = ""
    (folder / META.name).write_text(json.dumps(raw), encoding="utf-8")
    out = offline / "c.csv"
    code, _, stderr = _run(["filings", "--submissions", str(folder / META.name), "--out", str(out)], capsys)
    assert code == 0
    assert "CIK0001326801.json:1: acceptanceDateTime: '' is empty or not text" in stderr
    frame, _ = _candidates(out)
    assert "0001326801-25-000100" not in frame.index and len(frame) == 8


def test_save_writes_the_dataset_and_teaches_the_cache(offline, capsys, data_copy, monkeypatch):
    monkeypatch.setattr(config, "DATA_DIR", data_copy)
    out = offline / "c.csv"
    code, stdout, _ = _run(["filings", "--submissions", str(META), "--submissions", str(AMZN), "--save", "--out", str(out)], capsys)
    assert code == 0
    assert f"saved 15 filing(s) to {data_copy / config.FILINGS_FILE} as of 2026-07-31" in stdout
    entry = lf.filings_manifest(data_copy)
    assert entry["rows"] == 15 and entry["source"].startswith("SEC EDGAR submissions files CIK0001326801.json, CIK0001018724.json")
    saved = lf.load_filings(data_copy)
    assert len(saved) == 15 and set(saved["time_source"]) == {"header", "json_utc", "json_et"}
    # the frozen dataset the app tests copy into a data folder is exactly what the command saves
    frozen = FIXTURES / "dataset"
    assert (data_copy / config.FILINGS_FILE).read_bytes() == (frozen / config.FILINGS_FILE).read_bytes()
    assert lf.filings_manifest(frozen)["sha256"] == entry["sha256"]
    _, metadata = _candidates(out)
    assert metadata["as_of filings"] == "2026-07-31"
    assert lf.load_time_conventions(offline / "cache" / "sec") == {
        1326801: ("utc", "SGML header(s) of 1 filing(s) show the JSON carries real UTC"),
        1018724: ("et", "SGML header(s) of 1 filing(s) show the JSON carries the Eastern clock"),
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "2025-13-01"], "--since '2025-13-01' is not a date"),
        (["--save"], "--save is for --submissions"),
        (["--submissions", str(META), "--all-headers"], "--all-headers fetches from SEC"),
        (["--submissions", str(META), "--out", str(META)], "name the same file"),
    ],
)
def test_usage_errors_exit_2_before_anything_runs(offline, capsys, argv, message):
    out = ["--out", str(offline / "c.csv")] if "--out" not in argv else []
    with pytest.raises(SystemExit) as stopped:
        code = main(["filings", *argv, *out])
        raise SystemExit(code)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert not (offline / "c.csv").exists()


def test_live_without_a_user_agent_stops_before_the_network(offline, capsys, monkeypatch):
    monkeypatch.delenv(config.SEC_USER_AGENT_ENV, raising=False)
    monkeypatch.setattr(sec, "SECRETS_FILE", offline / "missing.toml")
    code, _, stderr = _run(["filings", "--ticker", "META", "--out", str(offline / "c.csv")], capsys)
    assert code == 2 and "SEC_USER_AGENT" in stderr and len(stderr.strip().splitlines()) == 1


def test_live_offline_fails_in_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setenv(config.SEC_USER_AGENT_ENV, "Filings Test filings@example.com")
    monkeypatch.setenv("DASHBOARD_SEC_BASE_URL", "http://127.0.0.1:9")  # a closed local port
    code, _, stderr = _run(["filings", "--ticker", "META", "--out", str(tmp_path / "c.csv")], capsys)
    assert code == 2
    assert stderr.startswith("error: SEC EDGAR: cannot connect to 127.0.0.1:9") and "(offline?)" in stderr
    assert not (tmp_path / "c.csv").exists()
