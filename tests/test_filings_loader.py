"""SEC submissions, offline: reading saved files (paged history beside them, absent pages reported),
the normalizer on fixtures shaped like SEC's responses, bad rows reported as file:index: field:
reason, the SGML header, the conventions cache and the saved filings dataset.

The fixtures in tests/fixtures/filings are placeholders shaped exactly like
data.sec.gov/submissions responses (see the README there): they are not the companies' real
filings, and which filer carries which time convention is made up for the tests.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import filelock
import pandas as pd
import pytest

from dashboard import config
from dashboard.errors import DataUnavailable, RefreshInProgress
from dashboard.loaders import filings as lf
from dashboard.loaders.curated import load_manifest
from dashboard.loaders.snapshot import content_hash
from dashboard.loaders.validation import CurationWarning

FIXTURES = config.REPO_ROOT / "tests" / "fixtures" / "filings"
META = FIXTURES / "meta" / "CIK0001326801.json"
AMZN = FIXTURES / "amzn" / "CIK0001018724.json"


def _copy(source: Path, target_dir: Path, *, headers: bool = True, pages: bool = True) -> Path:
    target_dir.mkdir(parents=True, exist_ok=True)
    for path in source.parent.iterdir():
        if path == source or (headers and path.name.endswith("-index-headers.html")) or (pages and "submissions-" in path.name):
            shutil.copy(path, target_dir / path.name)
    return target_dir / source.name


def _edit(path: Path, change) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(json.dumps(raw), encoding="utf-8")


# --- reading files ------------------------------------------------------------------------------


def test_paged_history_beside_the_file_is_read():
    raw = lf.read_submissions_file(META)
    assert raw.cik == 1326801
    assert list(raw.pages) == ["CIK0001326801-submissions-001.json"]
    assert raw.missing_pages == []
    assert list(raw.headers) == ["0001326801-25-000077"]


def test_an_absent_page_is_reported_not_fatal():
    raw = lf.read_submissions_file(AMZN)
    assert raw.pages == {}
    assert len(raw.missing_pages) == 1
    assert "CIK0001018724-submissions-001.json" in raw.missing_pages[0]
    assert "2002-05-14 to 2024-12-20" in raw.missing_pages[0] and "not beside it" in raw.missing_pages[0]
    assert len(lf.normalize_submissions(raw, ticker="AMZN").filings) == 7


def test_pages_ending_before_since_are_not_read():
    assert lf.read_submissions_file(META, since="2025-01-01").pages == {}
    assert list(lf.read_submissions_file(META, since="2024-04-24").pages) == ["CIK0001326801-submissions-001.json"]
    assert lf.read_submissions_file(AMZN, since="2025-01-01").missing_pages == []


def test_unreadable_files_say_what_is_wrong(tmp_path):
    with pytest.raises(DataUnavailable, match="file not found"):
        lf.read_submissions_file(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataUnavailable, match="not a readable JSON"):
        lf.read_submissions_file(tmp_path / "bad.json")
    (tmp_path / "facts.json").write_text(json.dumps({"cik": 1, "facts": {}}), encoding="utf-8")
    with pytest.raises(DataUnavailable, match="not an SEC submissions JSON"):
        lf.read_submissions_file(tmp_path / "facts.json")


def test_a_broken_page_is_reported(tmp_path):
    main = _copy(META, tmp_path)
    (tmp_path / "CIK0001326801-submissions-001.json").write_text('{"filings": {}}', encoding="utf-8")
    raw = lf.read_submissions_file(main)
    assert raw.pages == {} and "not a submissions page" in raw.missing_pages[0]


# --- normalize ----------------------------------------------------------------------------------


def test_normalize_recent_and_pages_into_one_row_per_filing():
    normalized = lf.normalize_submissions(lf.read_submissions_file(META), ticker="META")
    frame = normalized.filings
    assert list(frame.columns) == list(lf.RECORD_COLUMNS)
    assert len(frame) == 11 and normalized.issues == []
    assert frame["source_file"].value_counts().to_dict() == {"CIK0001326801.json": 9, "CIK0001326801-submissions-001.json": 2}
    ten_q = frame[frame["accession"] == "0001326801-25-000077"].iloc[0]
    assert ten_q["items"] == () and ten_q["form"] == "10-Q" and ten_q["cik"] == 1326801
    assert ten_q["acceptance_json"] == "2025-07-31T00:02:43.000Z"
    assert ten_q["acceptance_clock"] == pd.Timestamp("2025-07-31 00:02:43")  # naive: the convention decides
    assert ten_q["filing_date"] == pd.Timestamp("2025-07-31") and ten_q["report_date"] == pd.Timestamp("2025-06-30")
    assert ten_q["document_url"] == "https://www.sec.gov/Archives/edgar/data/1326801/000132680125000077/meta-20250630.htm"
    assert (ten_q["source_file"], ten_q["source_index"]) == ("CIK0001326801.json", 6)
    results = frame[frame["accession"] == "0001326801-25-000074"].iloc[0]
    assert results["items"] == ("2.02", "9.01") and pd.isna(frame.iloc[0]["report_date"])
    assert normalized.header_et == {"0001326801-25-000077": pd.Timestamp("2025-07-30 20:02:43")}


def test_bad_rows_are_reported_by_file_index_and_field(tmp_path):
    main = _copy(META, tmp_path)

    def spoil(raw):
        recent = raw["filings"]["recent"]
        recent["acceptanceDateTime"][1] = "2025-08-29 20:05"
        recent["accessionNumber"][2] = "12345"
        recent["filingDate"][3] = "29/08/2025"
        recent["primaryDocument"][5] = ""
        recent["form"].pop()  # the last row has no form
        recent["items"][7] = 2.02

    _edit(main, spoil)
    page = tmp_path / "CIK0001326801-submissions-001.json"
    _edit(page, lambda raw: raw["accessionNumber"].__setitem__(1, "0001326801-25-000077"))  # seen in recent
    normalized = lf.normalize_submissions(lf.read_submissions_file(main), ticker="META")
    lines = [str(issue) for issue in normalized.issues]
    assert lines == [
        "CIK0001326801.json:1: acceptanceDateTime: '2025-08-29 20:05' is not a time like 2025-07-30T20:02:43.000Z",
        "CIK0001326801.json:2: accessionNumber: '12345' is not an accession number (##########-##-######)",
        "CIK0001326801.json:3: filingDate: '29/08/2025' is not a date (YYYY-MM-DD)",
        "CIK0001326801.json:7: items: 2.02 is not comma-separated text",
        "CIK0001326801.json:8: form: is missing",
        "CIK0001326801.json:5: primaryDocument: is missing; the filing's index page is linked instead (row kept)",
        "CIK0001326801-submissions-001.json:1: accessionNumber: '0001326801-25-000077' duplicates a filing read from an earlier file",
    ]
    frame = normalized.filings
    assert len(frame) == 11 - 6  # five bad rows in recent, one in the page; the row without a document stays
    kept = frame[frame["source_index"] == 5].iloc[0]
    assert kept["document_url"].endswith("/000132680125000085/0001326801-25-000085-index.htm")


def test_a_duplicate_within_a_file_and_a_bad_cik(tmp_path):
    main = _copy(AMZN, tmp_path)
    _edit(main, lambda raw: raw["filings"]["recent"]["accessionNumber"].__setitem__(2, "0001104659-25-114098"))
    issues = [str(i) for i in lf.normalize_submissions(lf.read_submissions_file(main), ticker="AMZN").issues]
    assert issues == ["CIK0001018724.json:2: accessionNumber: '0001104659-25-114098' duplicates an earlier filing of CIK0001018724.json"]
    _edit(main, lambda raw: raw.__setitem__("cik", "n/a"))
    normalized = lf.normalize_submissions(lf.read_submissions_file(main), ticker="AMZN")
    assert normalized.filings.empty and "is not a CIK" in str(normalized.issues[0])


# --- the SGML header ----------------------------------------------------------------------------


def test_header_page_with_escaped_tags():
    header = lf.parse_sgml_header((FIXTURES / "amzn" / "0001018724-25-000123-index-headers.html").read_text(encoding="utf-8"))
    assert header.accession == "0001018724-25-000123"
    assert header.accepted_et == pd.Timestamp("2025-10-30 16:02:11")
    assert header.form == "8-K" and header.filed == pd.Timestamp("2025-10-30")
    assert header.item_information == ("Results of Operations and Financial Condition", "Financial Statements and Exhibits")


def test_header_from_the_full_submission_text_whatever_the_tabs():
    text = (
        "<SEC-HEADER>0001163302-25-000028.hdr.sgml : 20250501\n<ACCEPTANCE-DATETIME>20250501162159\n"
        "ACCESSION NUMBER: 0001163302-25-000028\nCONFORMED SUBMISSION TYPE:\t\t\t8-K\nFILED AS OF DATE:\t20250501\n"
    )
    header = lf.parse_sgml_header(text)
    assert (header.accession, header.form, header.accepted_et) == ("0001163302-25-000028", "8-K", pd.Timestamp("2025-05-01 16:21:59"))


def test_a_page_without_acceptance_is_an_error_not_a_time():
    with pytest.raises(ValueError, match="no ACCEPTANCE-DATETIME"):
        lf.parse_sgml_header("<html>Request Rate Threshold Exceeded</html>")
    with pytest.raises(ValueError, match="not a valid time"):
        lf.parse_sgml_header("<ACCEPTANCE-DATETIME>20251399160211")


def test_headers_that_do_not_fit_are_reported(tmp_path):
    main = _copy(AMZN, tmp_path)
    (tmp_path / "0001018724-25-000118-index-headers.html").write_text("<html>Request Rate Threshold Exceeded</html>")
    (tmp_path / "0001018724-25-000125-index-headers.html").write_text(
        "<ACCEPTANCE-DATETIME>20251031060500\nACCESSION NUMBER:\t0001018724-25-000999\n"
    )
    normalized = lf.normalize_submissions(lf.read_submissions_file(main), ticker="AMZN")
    assert [str(i) for i in normalized.issues] == [
        "0001018724-25-000118-index-headers.html:0: ACCEPTANCE-DATETIME: no ACCEPTANCE-DATETIME in the header; the JSON time is used",
        "0001018724-25-000125-index-headers.html:0: ACCESSION NUMBER: '0001018724-25-000999' is another filing; header not used",
    ]
    assert list(normalized.header_et) == ["0001018724-25-000123"]


# --- conventions cache --------------------------------------------------------------------------


def test_conventions_cache_round_trip_and_merge(tmp_path):
    assert lf.load_time_conventions(tmp_path) == {}
    lf.save_time_conventions({1326801: ("utc", "a header")}, tmp_path)
    lf.save_time_conventions({1018724: ("et", "a reading")}, tmp_path)
    assert lf.load_time_conventions(tmp_path) == {1326801: ("utc", "a header"), 1018724: ("et", "a reading")}
    (tmp_path / lf.CONVENTIONS_FILE).write_text("{broken", encoding="utf-8")
    assert lf.load_time_conventions(tmp_path) == {}


# --- the dataset --------------------------------------------------------------------------------


def _dataset_rows() -> pd.DataFrame:
    normalized = lf.normalize_submissions(lf.read_submissions_file(META), ticker="META")
    chosen = ["0001326801-25-000099", "0001326801-25-000077", "0001326801-25-000074"]
    rows = normalized.filings[normalized.filings["accession"].isin(chosen)].copy()
    rows["accepted_et"] = pd.to_datetime(rows["acceptance_clock"]).dt.tz_localize("UTC").dt.tz_convert(config.EDGAR_TIMEZONE)
    rows["time_source"] = "json_utc"
    rows["time_basis"] = "a reading outside EDGAR's hours"
    return rows.reset_index(drop=True)


def test_load_without_a_fetch_says_how_to_fetch(tmp_path):
    with pytest.raises(DataUnavailable, match=r"python -m dashboard filings .*SEC_USER_AGENT"):
        lf.load_filings(tmp_path)


def test_save_writes_the_file_and_its_manifest_entry_and_loads_back(data_copy):
    before = load_manifest(data_copy)
    rows = _dataset_rows()
    entry = lf.save_filings(rows, data_dir=data_copy, as_of="2025-09-02", source="SEC EDGAR test")
    assert lf.filings_manifest(data_copy) == entry
    assert entry["rows"] == 3 and entry["as_of"] == "2025-09-02" and entry["file"] == config.FILINGS_FILE
    assert entry["sha256"] == content_hash(data_copy / config.FILINGS_FILE)
    assert entry["filings_version"] == entry["sha256"][:10]
    assert load_manifest(data_copy) == before  # the snapshot's own manifest is untouched and still intact
    loaded = lf.load_filings(data_copy)
    assert list(loaded.columns) == list(lf.FILINGS_COLUMNS)
    expected = rows.sort_values("accepted_et", ascending=False).reset_index(drop=True)
    assert loaded["accession"].tolist() == expected["accession"].tolist()
    assert loaded["accepted_et"].tolist() == expected["accepted_et"].tolist()
    assert str(loaded["accepted_et"].dt.tz) == config.EDGAR_TIMEZONE
    assert loaded["items"].tolist() == expected["items"].tolist()
    text = (data_copy / config.FILINGS_FILE).read_text(encoding="utf-8")
    assert "2025-07-30T16:05:11-04:00" in text and "2.02;9.01" in text


def test_save_replaces_the_same_accession_and_keeps_the_rest(data_copy):
    rows = _dataset_rows()
    lf.save_filings(rows, data_dir=data_copy, as_of="2025-09-02", source="first")
    again = rows.iloc[[0]].assign(time_source="header", time_basis="read from the SGML header")
    entry = lf.save_filings(again, data_dir=data_copy, as_of="2025-09-03", source="second")
    loaded = lf.load_filings(data_copy)
    assert entry["rows"] == len(loaded) == 3 and entry["as_of"] == "2025-09-03"
    assert loaded.set_index("accession").loc[rows["accession"].iloc[0], "time_source"] == "header"


def test_a_file_that_does_not_match_its_entry_is_not_read(data_copy):
    lf.save_filings(_dataset_rows(), data_dir=data_copy, as_of="2025-09-02", source="test")
    path = data_copy / config.FILINGS_FILE
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(DataUnavailable, match="does not match its manifest entry"):
        lf.load_filings(data_copy)
    (data_copy / config.FILINGS_MANIFEST_FILE).unlink()
    with pytest.raises(DataUnavailable, match="has no readable manifest entry"):
        lf.load_filings(data_copy)


def test_bad_saved_rows_are_reported_and_left_out(data_copy):
    lf.save_filings(_dataset_rows(), data_dir=data_copy, as_of="2025-09-02", source="test")
    path = data_copy / config.FILINGS_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("json_utc", "guessed").replace("-04:00", "")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    good, report = lf.validate_filings(path)
    assert len(good) == 2 and report.rows_read == 3 and report.rows_rejected == 1
    assert [str(i) for i in report.issues] == [
        f"{path}:3: accepted_et: '2025-07-30T20:02:43' is not an ISO time with its offset",
        f"{path}:3: time_source: 'guessed' is not one of header, json_utc, json_et, json_assumed_utc",
    ]
    # load_filings would warn with the same lines (warn_rejected), once the entry matches the file
    entry = {**lf.filings_manifest(data_copy), "sha256": content_hash(path)}
    (data_copy / config.FILINGS_MANIFEST_FILE).write_text(json.dumps({"datasets": {"filings": entry}}), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(lf.load_filings(data_copy)) == 2
    message = "\n".join(str(w.message) for w in caught if issubclass(w.category, CurationWarning))
    assert "3 rows read, 2 loaded, 1 rejected" in message and f"{path}:3: time_source" in message


def test_save_waits_for_no_refresh(data_copy, monkeypatch, tmp_path):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    held = filelock.FileLock(tmp_path / "cache" / config.REFRESH_LOCK_FILE)
    held.acquire()
    try:
        with pytest.raises(RefreshInProgress, match="a refresh is running"):
            lf.save_filings(_dataset_rows(), data_dir=data_copy, as_of="2025-09-02", source="test")
    finally:
        held.release()
    assert not (data_copy / config.FILINGS_FILE).exists()
