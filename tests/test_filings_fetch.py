"""SEC requests for filings with a fake transport (no network, no sleeping): the User-Agent, the
10 requests/s limit, retries after 429/5xx honouring Retry-After, the cache, paged history, header
pages, and a live gather that learns a filer's time convention from one header and caches it.
"""

from __future__ import annotations

import email.utils
import json
from pathlib import Path

import pandas as pd
import pytest
import requests

from dashboard import config
from dashboard.commands import filings as command
from dashboard.errors import RefreshError
from dashboard.loaders import filings as lf
from dashboard.loaders import sec
from dashboard.loaders.curated import load_companies
from dashboard.loaders.sec import RateLimiter

FIXTURES = config.REPO_ROOT / "tests" / "fixtures" / "filings"
AGENT = "Filings Test filings@example.com"
EPOCH = 1_767_000_000.0  # the fake wall clock's start (POSIX seconds)


class FakeClock:
    """One clock for the limiter (monotonic) and the retries (POSIX): sleeping advances it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class FakeResponse:
    def __init__(self, status: int = 200, body: object = None, *, text: str | None = None, headers: dict | None = None):
        self.status_code = status
        self._body = body
        self.text = text if text is not None else (json.dumps(body) if body is not None else "")
        self.headers = headers or {}

    def json(self) -> object:
        if self._body is None:
            raise ValueError("not JSON")
        return self._body


class FakeTransport:
    """Answers each URL from a list of responses (the last one repeats); records every call."""

    def __init__(self, clock: FakeClock, routes: dict[str, list[object]]):
        self.clock, self.routes = clock, {url: list(answers) for url, answers in routes.items()}
        self.calls: list[tuple[str, dict, float]] = []

    def get(self, url: str, headers: dict | None = None, timeout: object = None) -> FakeResponse:
        self.calls.append((url, dict(headers or {}), self.clock.now))
        answers = self.routes.get(url)
        if not answers:
            return FakeResponse(404)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _client(transport: FakeTransport, clock: FakeClock, cache: Path, **kwargs) -> sec.SecClient:
    limiter = RateLimiter(config.SEC_MAX_REQUESTS_PER_SECOND, clock=clock.monotonic, sleep=clock.sleep)
    return sec.SecClient(transport, AGENT, limiter=limiter, cache_dir=cache, sleep=clock.sleep, now=clock.wall, **kwargs)


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


URL = "https://data.sec.gov/submissions/CIK0001326801.json"


# --- one request ----------------------------------------------------------------------------------


def test_user_agent_and_addresses(tmp_path):
    clock = FakeClock()
    transport = FakeTransport(clock, {URL: [FakeResponse(200, {"ok": 1})]})
    sec.fetch_sec_response(URL, _client(transport, clock, tmp_path))
    assert transport.calls[0][1]["User-Agent"] == AGENT
    assert lf.submissions_url(1326801) == URL
    assert lf.index_headers_url(1326801, "0001326801-25-000077") == (
        "https://www.sec.gov/Archives/edgar/data/1326801/000132680125000077/0001326801-25-000077-index-headers.html"
    )


def test_rate_limit_spaces_requests_a_tenth_of_a_second_apart(tmp_path):
    clock = FakeClock()
    urls = [f"https://data.sec.gov/x/{i}" for i in range(12)]
    transport = FakeTransport(clock, {u: [FakeResponse(200, {})] for u in urls})
    client = _client(transport, clock, tmp_path)
    for url in urls:
        sec.fetch_sec_response(url, client)
    starts = [t for _, _, t in transport.calls]
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) == pytest.approx(0.1)
    assert starts[-1] == pytest.approx(1.1)  # 12 requests take 1.1 s: never more than 10 in any second


def test_retry_after_seconds_then_backoff_then_success(tmp_path):
    clock = FakeClock()
    transport = FakeTransport(
        clock,
        {
            URL: [
                FakeResponse(429, headers={"Retry-After": "2"}),
                FakeResponse(503),
                FakeResponse(200, {"ok": 1}),
            ]
        },
    )
    response = sec.fetch_sec_response(URL, _client(transport, clock, tmp_path))
    assert response.status_code == 200 and len(transport.calls) == 3
    assert clock.sleeps == [2.0, 2.0]  # Retry-After 2 s; then the second backoff step (1, 2, 4 s)


def test_retry_after_as_an_http_date(tmp_path):
    clock = FakeClock()
    when = email.utils.formatdate(EPOCH + 5, usegmt=True)
    transport = FakeTransport(clock, {URL: [FakeResponse(503, headers={"Retry-After": when}), FakeResponse(200, {})]})
    sec.fetch_sec_response(URL, _client(transport, clock, tmp_path))
    assert clock.sleeps == [5.0]


def test_retries_run_out(tmp_path):
    clock = FakeClock()
    transport = FakeTransport(clock, {URL: [FakeResponse(500)]})
    with pytest.raises(RefreshError, match=r"HTTP 500 .* still after 3 retries"):
        sec.fetch_sec_response(URL, _client(transport, clock, tmp_path))
    assert len(transport.calls) == config.SEC_MAX_RETRIES + 1
    # each retry waited its backoff, and each request still went through the limiter
    assert [s for s in clock.sleeps if s >= 1] == [1.0, 2.0, 4.0]


def test_a_wait_longer_than_allowed_is_not_waited(tmp_path):
    clock = FakeClock()
    transport = FakeTransport(clock, {URL: [FakeResponse(429, headers={"Retry-After": "600"})]})
    with pytest.raises(RefreshError, match=r"SEC asks to wait 600 s \(more than 60 s\)"):
        sec.fetch_sec_response(URL, _client(transport, clock, tmp_path))
    assert len(transport.calls) == 1 and clock.sleeps == []


@pytest.mark.parametrize(
    ("answer", "message", "kind"),
    [
        (FakeResponse(403), r"HTTP 403 .*User-Agent was refused", RefreshError),
        (FakeResponse(404), r"HTTP 404 .*not found", sec.SecNotFound),
        (FakeResponse(400), r"HTTP 400", RefreshError),
        (requests.ConnectionError("down"), r"cannot reach .*offline", RefreshError),
        (requests.Timeout("slow"), r"timed out", RefreshError),
    ],
)
def test_failures_that_are_not_retried(tmp_path, answer, message, kind):
    clock = FakeClock()
    transport = FakeTransport(clock, {URL: [answer]})
    with pytest.raises(kind, match=message):
        sec.fetch_sec_response(URL, _client(transport, clock, tmp_path))
    assert len(transport.calls) == 1


# --- submissions, pages and headers ---------------------------------------------------------------


def _meta_routes() -> dict[str, list[object]]:
    main = _json(FIXTURES / "meta" / "CIK0001326801.json")
    page = _json(FIXTURES / "meta" / "CIK0001326801-submissions-001.json")
    return {
        URL: [FakeResponse(200, main)],
        "https://data.sec.gov/submissions/CIK0001326801-submissions-001.json": [FakeResponse(200, page)],
    }


def test_submissions_follow_the_paged_history_and_are_cached(tmp_path):
    clock = FakeClock()
    transport = FakeTransport(clock, _meta_routes())
    client = _client(transport, clock, tmp_path)
    raw = lf.fetch_submissions_raw(1326801, client)
    assert list(raw.pages) == ["CIK0001326801-submissions-001.json"] and raw.missing_pages == []
    assert len(lf.normalize_submissions(raw, ticker="META").filings) == 11
    again = lf.fetch_submissions_raw(1326801, client)
    assert len(transport.calls) == 2  # both answered from .cache/sec
    assert again.main == raw.main and again.pages == raw.pages
    assert (tmp_path / "submissions-CIK0001326801.json").is_file()


def test_pages_before_since_are_not_fetched_and_a_failing_page_is_reported(tmp_path):
    clock = FakeClock()
    transport = FakeTransport(clock, _meta_routes())
    raw = lf.fetch_submissions_raw(1326801, _client(transport, clock, tmp_path), since="2025-01-01")
    assert [url for url, _, _ in transport.calls] == [URL] and raw.pages == {}
    clock = FakeClock()
    routes = _meta_routes()
    routes["https://data.sec.gov/submissions/CIK0001326801-submissions-001.json"] = [FakeResponse(404)]
    raw = lf.fetch_submissions_raw(1326801, _client(FakeTransport(clock, routes), clock, tmp_path / "other"))
    assert (
        raw.pages == {}
        and "CIK0001326801-submissions-001.json (2024-02-02 to 2024-04-24) not read: SEC EDGAR: HTTP 404" in raw.missing_pages[0]
    )


def test_a_response_that_is_not_submissions_is_refused(tmp_path):
    clock = FakeClock()
    transport = FakeTransport(clock, {URL: [FakeResponse(200, {"facts": {}})]})
    with pytest.raises(RefreshError, match="not a submissions list"):
        lf.fetch_submissions_raw(1326801, _client(transport, clock, tmp_path))
    assert not (tmp_path / "submissions-CIK0001326801.json").exists()


def test_header_page_fetched_once_and_a_rate_notice_is_refused(tmp_path):
    accession = "0001326801-25-000077"
    url = lf.index_headers_url(1326801, accession)
    page = (FIXTURES / "meta" / f"{accession}-index-headers.html").read_text(encoding="utf-8")
    clock = FakeClock()
    notice = FakeTransport(clock, {url: [FakeResponse(200, text="<html>Request Rate Threshold Exceeded</html>")]})
    with pytest.raises(RefreshError, match="holds no ACCEPTANCE-DATETIME"):
        lf.fetch_index_headers_raw(1326801, accession, _client(notice, clock, tmp_path))
    transport = FakeTransport(clock, {url: [FakeResponse(200, text=page)]})
    client = _client(transport, clock, tmp_path)
    assert lf.fetch_index_headers_raw(1326801, accession, client) == page
    assert lf.fetch_index_headers_raw(1326801, accession, client) == page
    assert len(transport.calls) == 1  # a filing's header never changes: cached for good


# --- a live gather --------------------------------------------------------------------------------


def _amzn_unlearnable() -> dict:
    """The AMZN fixture without the readings that prove its convention (07:31, 06:05 and 06:30 ET,
    impossible as UTC): every reading left falls inside EDGAR's hours either way."""
    raw = _json(FIXTURES / "amzn" / "CIK0001018724.json")
    recent = raw["filings"]["recent"]
    keep = [i for i, t in enumerate(recent["acceptanceDateTime"]) if t[11:13] not in ("06", "07")]
    for key, values in recent.items():
        recent[key] = [values[i] for i in keep]
    return raw


def _header_page(accession: str, accepted: str) -> str:
    return (
        f"<HTML><BODY><PRE>&lt;SEC-HEADER&gt;{accession}.hdr.sgml : {accepted[:8]}\n"
        f"&lt;ACCEPTANCE-DATETIME&gt;{accepted}\nACCESSION NUMBER:\t\t{accession}\n&lt;/SEC-HEADER&gt;\n</PRE></BODY></HTML>"
    )


def test_live_gather_learns_an_unknown_convention_from_one_header_and_caches_it(tmp_path):
    amzn_url = "https://data.sec.gov/submissions/CIK0001018724.json"
    newest = "0001104659-25-114098"  # the newest in-scope filing left: 424B5 at 17:20 ET, JSON 17:20:00Z
    header_url = lf.index_headers_url(1018724, newest)
    clock = FakeClock()
    transport = FakeTransport(
        clock,
        {
            amzn_url: [FakeResponse(200, _amzn_unlearnable())],
            header_url: [FakeResponse(200, text=_header_page(newest, "20251118172000"))],
        },
    )
    cache = tmp_path / "cache"
    client = _client(transport, clock, cache)
    gathered = command.gather(load_companies(), tickers=["AMZN"], client=client, cache_dir=cache)
    urls = [url for url, _, _ in transport.calls]
    page_url = "https://data.sec.gov/submissions/CIK0001018724-submissions-001.json"
    assert urls == [amzn_url, page_url, header_url]  # the page 404s and is reported; one header only
    assert any("CIK0001018724-submissions-001.json" in note and "not read" in note for note in gathered.notes)
    filings = gathered.filings.set_index("accession")
    assert filings.loc[newest, "time_source"] == "header"
    results = filings.loc["0001018724-25-000123"]
    assert results["time_source"] == "json_et"
    assert results["accepted_et"] == pd.Timestamp("2025-10-30 16:02:11", tz=config.EDGAR_TIMEZONE)
    assert lf.load_time_conventions(cache)[1018724][0] == "et"

    # The next run, offline for headers: the cached convention answers, no header is fetched.
    clock2 = FakeClock()
    transport2 = FakeTransport(clock2, {amzn_url: [FakeResponse(200, _amzn_unlearnable())]})
    again = command.gather(load_companies(), tickers=["AMZN"], client=_client(transport2, clock2, cache), cache_dir=cache)
    assert header_url not in [url for url, _, _ in transport2.calls]
    assert set(again.filings["time_source"]) == {"json_et"}
    assert again.conventions[1018724].basis.startswith("cached: SGML header")


def test_live_gather_all_headers_and_a_failed_header_is_a_note(tmp_path):
    clock = FakeClock()
    routes = _meta_routes()
    wanted = ["0001326801-25-000101", "0001326801-25-000100"]
    routes[lf.index_headers_url(1326801, wanted[0])] = [FakeResponse(200, text=_header_page(wanted[0], "20250829215000"))]
    transport = FakeTransport(clock, routes)
    gathered = command.gather(
        load_companies(),
        tickers=["META"],
        since="2025-08-29",
        client=_client(transport, clock, tmp_path),
        all_headers=True,
        cache_dir=tmp_path,
    )
    fetched = [url for url, _, _ in transport.calls if url.endswith("-index-headers.html")]
    assert len(fetched) == 4  # every in-scope filing since 08-29
    sources = gathered.filings.set_index("accession")["time_source"]
    assert sources[wanted[0]] == "header" and sources[wanted[1]] == "json_utc"
    assert sum("SGML header of" in note and "not read" in note for note in gathered.notes) == 3


def test_live_gather_one_company_failing_is_a_note_all_failing_an_error(tmp_path):
    clock = FakeClock()
    routes = _meta_routes()
    routes["https://data.sec.gov/submissions/CIK0001018724.json"] = [FakeResponse(403)]
    gathered = command.gather(
        load_companies(), tickers=["META", "AMZN"], client=_client(FakeTransport(clock, routes), clock, tmp_path), cache_dir=tmp_path
    )
    assert gathered.tickers == ["META"]
    assert any(note.startswith("AMZN: submissions not read: SEC EDGAR: HTTP 403") for note in gathered.notes)
    with pytest.raises(RefreshError, match="HTTP 403"):
        command.gather(
            load_companies(),
            tickers=["AMZN"],
            client=_client(FakeTransport(clock, routes), clock, tmp_path / "x"),
            cache_dir=tmp_path / "x",
        )


def test_retry_wait_defaults():
    assert sec.retry_wait_seconds(None, 0, now=0) == 1.0
    assert sec.retry_wait_seconds("", 5, now=0) == 4.0
    assert sec.retry_wait_seconds("soon", 1, now=0) == 2.0
    assert sec.retry_wait_seconds(email.utils.formatdate(100, usegmt=True), 0, now=200) == 0.0
