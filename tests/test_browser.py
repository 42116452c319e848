"""The running dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

A real server is started from the repository root on a free port, against a temporary copy of
``data/`` in which one event's headline starts with "=" (data/ itself is never edited). The test
loads the home page, opens the company page and switches company, checks that the URL changed,
opens that URL in a fresh browser context and finds the same view, downloads a CSV and checks
that the formula-like headline arrives neutralized, and saves a screenshot of each page to
tests/artifacts/screenshots/ (git-ignored).

Not skipped when Chromium is installed (CI installs it); skipped with a reason otherwise.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from dashboard import config
from dashboard.ui.export import read_export

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = config.REPO_ROOT / "tests" / "artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
FORMULA_HEADLINE = '=HYPERLINK("http://example.com/x","click me")'
TARGET = "MSFT"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url}/_stcore/health did not answer within {timeout}s")


@pytest.fixture(scope="module")
def data_with_formula(tmp_path_factory) -> tuple[Path, str]:
    """A copy of data/ where the latest MSFT event's headline is a spreadsheet formula."""
    target = tmp_path_factory.mktemp("browser") / "data"
    shutil.copytree(config.DATA_DIR, target)
    events = pd.read_csv(target / config.EVENTS_FILE, dtype=str, keep_default_na=False)
    mine = events[events["ticker"] == TARGET].sort_values("event_date")
    event_id = mine["event_id"].iloc[-1]
    events.loc[events["event_id"] == event_id, "headline"] = FORMULA_HEADLINE
    events.to_csv(target / config.EVENTS_FILE, index=False, lineterminator="\n")
    return target, event_id


@pytest.fixture(scope="module")
def server(data_with_formula, tmp_path_factory):
    data_dir, _ = data_with_formula
    port = free_port()
    env = {**os.environ, "DASHBOARD_DATA_DIR": str(data_dir), "DASHBOARD_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    env.pop("DASHBOARD_ALLOW_REFRESH", None)
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=config.REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield instance
        instance.close()


def settle(page) -> None:
    """Wait until the script run finished: no running indicator, then a short quiet period."""
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000)
    page.wait_for_timeout(800)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000)


def wait_charts(page, count: int) -> None:
    """Wait until ``count`` Plotly figures are drawn (Streamlit loads them after the run ends)."""
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {count}", timeout=90_000)
    page.wait_for_timeout(1000)


def assert_no_exception(page) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.all_inner_texts()


def screenshot(page, name: str) -> None:
    if name != "methodology":  # the only page without a chart
        wait_charts(page, 2)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_company_link_round_trip_export_and_screenshots(server, browser, data_with_formula):
    _, formula_event = data_with_formula
    context = browser.new_context(viewport={"width": 1400, "height": 3600}, accept_downloads=True)
    page = context.new_page()

    page.goto(server + "/")
    page.get_by_role("heading", name="AI capex against internal funding").wait_for(timeout=90_000)
    settle(page)
    assert_no_exception(page)
    screenshot(page, "overview")

    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Company").click()
    page.get_by_role("heading", name="Meta Platforms (META)").wait_for(timeout=90_000)
    settle(page)
    before = page.url
    assert urlsplit(before).path.endswith("/company") and query(before)["company"] == ["META"]

    page.get_by_role("combobox", name="Company").click()
    page.get_by_role("option", name=f"Microsoft ({TARGET})").click()
    page.get_by_role("heading", name=f"Microsoft ({TARGET})").wait_for(timeout=90_000)
    page.wait_for_url(f"**company={TARGET}**")
    settle(page)
    assert_no_exception(page)
    shared = page.url
    assert shared != before
    params = query(shared)
    assert params["company"] == [TARGET] and params["event"] == [formula_event] and "v" in params
    screenshot(page, "company")

    # The copied link in a fresh browser (no cookies, no session) reproduces the view.
    fresh = browser.new_context(viewport={"width": 1400, "height": 1600})
    other = fresh.new_page()
    other.goto(shared)
    other.get_by_role("heading", name=f"Microsoft ({TARGET})").wait_for(timeout=90_000)
    settle(other)
    assert_no_exception(other)
    assert other.get_by_role("combobox", name="Company").input_value() == f"Microsoft ({TARGET})"
    assert query(other.url) == params
    assert other.get_by_role("combobox", name="Event", exact=True).input_value().startswith(formula_event)
    assert other.locator('[data-testid="stAlertContentWarning"]').count() == 0  # a good link raises no notice
    fresh.close()

    # The reactions CSV carries the formula-like headline neutralized, and its metadata.
    button = page.locator(".st-key-download_company_reactions button")
    button.scroll_into_view_if_needed()
    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    raw = Path(download.path()).read_bytes()
    table, metadata = read_export(raw)
    headlines = table.loc[table["event_id"] == formula_event, "headline"].unique().tolist()
    assert headlines == ["'" + FORMULA_HEADLINE]
    assert metadata["param company"] == TARGET
    assert metadata["data_version"] == params["v"][0]
    assert metadata["as_of events"] and metadata["as_of prices"]
    assert pd.api.types.is_float_dtype(table["car"])  # numbers stay numbers

    for name, heading in (("events", "Events and market reactions"), ("compare", "Compare companies"), ("methodology", "Data & methodology")):
        page.goto(f"{server}/{name}")
        page.get_by_role("heading", name=heading).wait_for(timeout=90_000)
        settle(page)
        assert_no_exception(page)
        screenshot(page, name)
    context.close()


def test_upload_of_own_events_is_reported_row_by_row(server, browser, tmp_path):
    """The real upload path (Streamlit's uploader, XSRF on): bad rows listed by line, valid rows run."""
    upload = tmp_path / "my_events.csv"
    upload.write_text(
        "event_id,ticker,event_date,event_time,headline\n"
        "U1,META,2025-10-29,after_close,<b>not html</b>\n"
        "U2,NOPE,2025-10-30,,bad ticker\n"
        "U3,MSFT,2025-02-30,,bad date\n",
        encoding="utf-8",
    )
    context = browser.new_context(viewport={"width": 1400, "height": 3000})
    page = context.new_page()
    page.goto(f"{server}/events")
    page.get_by_role("heading", name="Events and market reactions").wait_for(timeout=90_000)
    settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
    page.get_by_text("3 rows read, 1 loaded, 2 rejected").wait_for(timeout=90_000)
    settle(page)
    assert_no_exception(page)
    assert page.locator(".st-key-download_upload_validation_report button").count() == 1
    assert page.locator(".st-key-download_upload_event_study button").count() == 1
    assert page.locator("b", has_text="not html").count() == 0  # uploaded text never becomes HTML
    screenshot(page, "events_upload")
    context.close()


def test_readme_screenshot_of_the_company_page(server, browser):
    """The README's picture (copy tests/artifacts/screenshots/company_readme.png to docs/company.png
    to update it): Meta's company page, top part, on the embedded data (the data copy only changes
    an MSFT headline, which this view does not show)."""
    context = browser.new_context(viewport={"width": 1400, "height": 2200}, device_scale_factor=1)
    page = context.new_page()
    page.goto(f"{server}/company?company=META&capex=reported")
    page.get_by_role("heading", name="Meta Platforms (META)").wait_for(timeout=90_000)
    settle(page)
    wait_charts(page, 3)
    assert_no_exception(page)
    assert FORMULA_HEADLINE not in page.content()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "company_readme.png"), clip={"x": 0, "y": 0, "width": 1400, "height": 2050})
    context.close()
