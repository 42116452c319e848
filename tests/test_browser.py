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

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from dashboard import config
from dashboard.exporting import read_export
from dashboard.loaders.snapshot import dataset_entry, update_manifest
from tests.streamlit_server import CHROMIUM, running_streamlit

SCREENSHOTS = config.REPO_ROOT / "tests" / "artifacts" / "screenshots"
FORMULA_HEADLINE = '=HYPERLINK("http://example.com/x","click me")'
TARGET = "MSFT"
# Every wait is on a condition, never a fixed sleep; the limit is generous because CI runs the
# whole suite on 2 cores, where one script run of the dashboard has taken tens of seconds.
TIMEOUT_MS = 90_000
QUIET_MS = 500

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


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
    # A changed file needs its manifest entry changed too, or the app refuses the damaged snapshot.
    manifest = json.loads((target / config.MANIFEST_FILE).read_text(encoding="utf-8"))
    entry = manifest["datasets"]["events"]
    update_manifest(
        target, "events", dataset_entry(target / config.EVENTS_FILE, rows=len(events), as_of=entry["as_of"], source=entry["source"])
    )
    # The saved SEC filings made from the placeholder-valued fixtures (tests/fixtures/filings).
    for name in ("filings.csv", "filings.manifest.json"):
        shutil.copyfile(config.REPO_ROOT / "tests" / "fixtures" / "filings" / "dataset" / name, target / name)
    return target, event_id


@pytest.fixture(scope="module")
def server(data_with_formula, tmp_path_factory):
    data_dir, _ = data_with_formula
    env = {**os.environ, "DASHBOARD_DATA_DIR": str(data_dir), "DASHBOARD_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    env.pop("DASHBOARD_ALLOW_REFRESH", None)
    log = tmp_path_factory.mktemp("log") / "streamlit.log"
    with running_streamlit("dashboard/app.py", env=env, log_path=log) as url:
        yield url


def new_page(browser, **context_options):
    """A page in a fresh context whose every action, navigation and wait allows TIMEOUT_MS."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


# Streamlit marks the app root with its connection and script-run state. "notRunning" only comes
# after a first run ("initial" before it), and the status widget is gone once a run is over. The
# app must stay idle for QUIET_MS in a row, so a rerun the finished run asks for (a URL or widget
# reset) is waited for too, not mistaken for the end.
APP_IDLE_FOR = """(quietMs) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = app !== null
        && app.dataset.testConnectionState === 'CONNECTED'
        && app.dataset.testScriptState === 'notRunning'
        && document.querySelector('[data-testid="stStatusWidget"]') === null;
    if (!idle) { window.__appIdleSince = undefined; return false; }
    if (window.__appIdleSince === undefined) { window.__appIdleSince = performance.now(); }
    return performance.now() - window.__appIdleSince >= quietMs;
}"""


def settle(page) -> None:
    """Wait until the script run finished and the app stayed idle for QUIET_MS.

    Call it after waiting for what the action shows (a heading, a message): Streamlit starts the
    rerun a moment after a click, so right after it the app still looks idle from the last run.
    """
    page.evaluate("() => { window.__appIdleSince = undefined; }")
    page.wait_for_function(APP_IDLE_FOR, arg=QUIET_MS, polling=100, timeout=TIMEOUT_MS)


# Plotly draws a figure into its container after the run ended (the library loads lazily), so a
# chart exists before it is drawn: wait for every chart on the page to have its SVG. A script
# exception ends the wait at once (no chart would come), and is reported as such.
CHARTS_DRAWN_OR_EXCEPTION = """(minimum) => {
    if (document.querySelector('[data-testid="stException"]') !== null) { return true; }
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    return charts.length >= minimum
        && charts.every((chart) => chart.querySelector('.js-plotly-plot .main-svg') !== null);
}"""
CHART_COUNTS = """() => [
    document.querySelectorAll('[data-testid="stPlotlyChart"]').length,
    document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg').length,
]"""


def wait_charts(page, minimum: int) -> None:
    """Wait until at least ``minimum`` Plotly charts exist and every chart on the page is drawn,
    then for two animation frames (the drawn SVG is painted). Fails with the app's exception
    when the script raised one, and with the chart counts when the charts never came."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(CHARTS_DRAWN_OR_EXCEPTION, arg=minimum, polling=100, timeout=TIMEOUT_MS)
    except PlaywrightTimeout:
        assert_no_exception(page)
        charts, drawn = page.evaluate(CHART_COUNTS)
        pytest.fail(f"{page.url}: {charts} charts (wanted at least {minimum}), {drawn} SVG layers drawn, after {TIMEOUT_MS / 1000:.0f} s")
    assert_no_exception(page)
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def assert_no_exception(page) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.all_inner_texts()


def screenshot(page, name: str, charts: int) -> None:
    if charts:
        wait_charts(page, charts)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_company_link_round_trip_export_and_screenshots(server, browser, data_with_formula):
    from playwright.sync_api import expect

    _, formula_event = data_with_formula
    context, page = new_page(browser, viewport={"width": 1400, "height": 3600}, accept_downloads=True)

    page.goto(server + "/")
    page.get_by_role("heading", name="AI capex against internal funding").wait_for()
    settle(page)
    assert_no_exception(page)
    screenshot(page, "overview", charts=1)

    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Company").click()
    page.get_by_role("heading", name="Meta Platforms (META)").wait_for()
    settle(page)
    assert query(page.url)["section"] == ["funding"]  # the company page opens on the funding gap
    page.get_by_text("Market reactions", exact=True).click()
    page.wait_for_url(lambda url: query(url).get("section") == ["reactions"] and "event" in query(url))
    settle(page)
    before = page.url
    assert urlsplit(before).path.endswith("/company") and query(before)["company"] == ["META"]

    page.get_by_role("combobox", name="Company").click()
    page.get_by_role("option", name=f"Microsoft ({TARGET})").click()
    page.get_by_role("heading", name=f"Microsoft ({TARGET})").wait_for()
    # The URL is rewritten during the run (the company, then the event picker's default): reading
    # it as soon as the company appears once caught it without `event` under load.
    page.wait_for_url(lambda url: query(url).get("company") == [TARGET] and "event" in query(url))
    settle(page)
    assert_no_exception(page)
    shared = page.url
    assert shared != before
    params = query(shared)
    assert params["company"] == [TARGET] and params["event"] == [formula_event] and "v" in params
    assert params["section"] == ["reactions"]
    screenshot(page, "company", charts=2)

    # The copied link in a fresh browser (no cookies, no session) reproduces the view.
    fresh, other = new_page(browser, viewport={"width": 1400, "height": 1600})
    other.goto(shared)
    other.get_by_role("heading", name=f"Microsoft ({TARGET})").wait_for()
    settle(other)
    assert_no_exception(other)
    expect(other.get_by_role("combobox", name="Company")).to_have_value(f"Microsoft ({TARGET})")
    assert other.get_by_role("combobox", name="Company").input_value() == f"Microsoft ({TARGET})"
    assert query(other.url) == params
    expect(other.get_by_role("combobox", name="Event", exact=True)).to_have_value(re.compile("^" + re.escape(formula_event)))
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

    pages = (
        ("events", "Events and market reactions", 2),
        ("compare", "Compare companies", 2),
        ("methodology", "Data & methodology", 0),  # the only page without a chart
    )
    for name, heading, charts in pages:
        page.goto(f"{server}/{name}")
        page.get_by_role("heading", name=heading).wait_for()
        settle(page)
        assert_no_exception(page)
        screenshot(page, name, charts)
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
    context, page = new_page(browser, viewport={"width": 1400, "height": 3000})
    page.goto(f"{server}/events")
    page.get_by_role("heading", name="Events and market reactions").wait_for()
    settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
    page.get_by_text("3 rows read, 1 loaded, 2 rejected").wait_for()
    settle(page)
    assert_no_exception(page)
    assert page.locator(".st-key-download_upload_validation_report button").count() == 1
    assert page.locator(".st-key-download_upload_event_study button").count() == 1
    assert page.locator("b", has_text="not html").count() == 0  # uploaded text never becomes HTML
    screenshot(page, "events_upload", charts=2)
    context.close()


def test_readme_screenshot_of_the_company_page(server, browser):
    """The README's picture (copy tests/artifacts/screenshots/company_readme.png to docs/company.png
    to update it): Meta's company page, top part, on the embedded data (the data copy only changes
    an MSFT headline, which this view does not show)."""
    context, page = new_page(browser, viewport={"width": 1400, "height": 2200}, device_scale_factor=1)
    page.goto(f"{server}/company?company=META&capex=reported")
    page.get_by_role("heading", name="Meta Platforms (META)").wait_for()
    settle(page)
    wait_charts(page, 1)  # the funding section: the bridge with its memo lines
    assert_no_exception(page)
    assert FORMULA_HEADLINE not in page.content()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "company_readme.png"), clip={"x": 0, "y": 0, "width": 1400, "height": 2050})
    context.close()


def test_frontier_answers_in_the_browser(server, browser):
    """Meta's held-for-sale 10-Q names the Q2 results it shares day 0 with, and Oracle's FY2026 Q3
    bridge reads as a bound ("at least"), not n/a, in the running app."""
    events = pd.read_csv(config.DATA_DIR / config.EVENTS_FILE).set_index("event_id")
    context, page = new_page(browser, viewport={"width": 1400, "height": 3600})
    page.goto(f"{server}/company?company=META&event=EV035&section=reactions")
    page.get_by_text("Shares day 0 (2025-07-31) with EV032").wait_for()
    settle(page)
    detail = page.locator('[data-testid="stMarkdownContainer"]', has_text="Shares day 0 (2025-07-31) with EV032").inner_text()
    assert events.at["EV032", "headline"][:40] in detail
    assert "cannot be attributed to this event alone" in detail
    assert_no_exception(page)

    page.goto(f"{server}/company?company=ORCL&bridge_period=quarter&bridge=FY2026%20Q3")
    page.get_by_text("at least $12.9 bn").first.wait_for()
    settle(page)
    wait_charts(page, 1)
    bridge = page.locator('[data-testid="stPlotlyChart"]').nth(0)
    assert "gap 12.9" in bridge.inner_text() and "not reported" in bridge.inner_text()
    context.close()


# Every chart's title and tick labels, with the colour they are drawn in and the colour behind
# them: the first non-transparent background up the DOM (the charts themselves are transparent).
CHART_TEXT_COLOURS = """() => {
    const background = (element) => {
        for (let node = element; node; node = node.parentElement) {
            const colour = getComputedStyle(node).backgroundColor;
            if (colour && colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') { return colour; }
        }
        return 'rgb(255, 255, 255)';
    };
    const found = [];
    for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
        const behind = background(chart);
        for (const text of chart.querySelectorAll('.gtitle, .xtick text, .ytick text')) {
            found.push([text.getAttribute('class') || 'tick', getComputedStyle(text).fill, behind]);
        }
    }
    return found;
}"""


def _luminance(css: str) -> float:
    channels = [float(v) for v in re.findall(r"[\d.]+", css)[:3]]
    linear = [(c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours (alpha ignored: text is opaque here)."""
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# The margins plotly drew with (``_size``, after automargin) and the ones the figure set.
DRAWN_AND_SET_MARGINS = """() => [...document.querySelectorAll('.js-plotly-plot')].map((plot) => {
    const drawn = plot._fullLayout._size, set = plot.layout.margin;
    return [[drawn.l, drawn.r, drawn.t, drawn.b].map(Math.round), [set.l, set.r, set.t, set.b]];
})"""


def test_the_bridge_is_drawn_with_its_set_margins(server, browser):
    """Every company's bridge, on both capex bases, fits its labels in the margins it sets, so
    plotly never widens them (which costs a second full draw of the chart)."""
    tickers = pd.read_csv(config.DATA_DIR / config.COMPANIES_FILE)["ticker"]
    context, page = new_page(browser, viewport={"width": 1400, "height": 1600})
    checked = 0
    for ticker in tickers:
        for basis in ("reported", "economic"):
            page.goto(f"{server}/company?company={ticker}&capex={basis}")
            settle(page)
            wait_charts(page, 1)
            (drawn, margins), *_ = page.evaluate(DRAWN_AND_SET_MARGINS)
            assert drawn == margins, (ticker, basis, drawn, margins)
            checked += margins[0] == 200  # a drawn bridge (a company without data gets the empty chart)
    assert checked >= 2 * (len(tickers) - 1)
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_chart_titles_and_axes_contrast_in_both_themes(server, browser, scheme):
    context, page = new_page(browser, viewport={"width": 1400, "height": 3600}, color_scheme=scheme)
    page.goto(f"{server}/company?company=META")
    wait_charts(page, 1)  # the funding section: the bridge with its memo lines
    settle(page)
    texts = page.evaluate(CHART_TEXT_COLOURS)
    assert len(texts) > 20
    ratios = [(kind, contrast(fill, behind), fill, behind) for kind, fill, behind in texts]
    poor = [r for r in ratios if r[1] < 3.0]
    assert not poor, poor[:5]
    backgrounds = {behind for _, _, behind in texts}
    # the page really is in the theme asked for
    assert all((_luminance(b) < 0.2) == (scheme == "dark") for b in backgrounds), backgrounds
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"company_{scheme}.png"), clip={"x": 0, "y": 0, "width": 1400, "height": 2050})
    context.close()


def test_company_filings_timeline_from_fixture_data(server, browser):
    """The Company page's SEC filings section draws the timeline and lists the fixture filings,
    each with its Eastern time and a link to EDGAR."""
    context, page = new_page(browser, viewport={"width": 1400, "height": 2400})
    page.goto(f"{server}/company?company=META&section=filings")
    page.get_by_role("heading", name="SEC filings beside the curated events").wait_for()
    settle(page)
    wait_charts(page, 1)
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    assert "SEC filings and curated events" in chart.inner_text()
    assert page.get_by_text("Chart: META SEC filings in scope").count() == 1
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    context.close()


def test_fragments_keep_the_link_in_step(server, browser):
    """The event picker and the what-if sliders rerun only their own fragment of the Company page;
    the link still follows them, and the fragment shows what was chosen."""
    context, page = new_page(browser, viewport={"width": 1400, "height": 3000})
    page.goto(f"{server}/company?company=META&section=reactions")
    page.get_by_role("heading", name="Meta Platforms (META)").wait_for()
    settle(page)
    first = query(page.url)["event"][0]
    page.get_by_role("combobox", name="Event", exact=True).click()
    other = next(text for text in page.get_by_role("option").all_inner_texts() if not text.startswith(first))
    chosen = other.split(" · ")[0]
    page.get_by_role("option", name=other).click()
    page.wait_for_url(lambda url: query(url).get("event") == [chosen])
    settle(page)
    assert page.get_by_role("combobox", name="Event", exact=True).input_value().startswith(chosen)
    assert_no_exception(page)

    page.goto(f"{server}/company?company=META&section=forward")
    page.get_by_role("heading", name="Forward view: the latest guidance's implied gap").wait_for()
    settle(page)
    assert query(page.url)["ocf_growth"] == ["0"]
    page.get_by_role("slider", name="OCF growth").press("ArrowRight")  # one step: +0.05
    page.wait_for_url(lambda url: query(url).get("ocf_growth") == ["0.05"])
    settle(page)
    assert_no_exception(page)
    context.close()
