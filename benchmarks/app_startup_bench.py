"""Dashboard startup, Company page and company-switch times against a bare one-page Streamlit app.

    python benchmarks/app_startup_bench.py [--rounds 3] [--switches 4]

From the repository root; needs Chromium at /usr/bin/chromium (Playwright drives it). The bare app
is the issue's: one page with a selectbox, a title and one Plotly line of 1,187 points. Each round
starts a fresh server for each app (``tests/streamlit_server.running_streamlit``: ``python -m
streamlit run <app>`` headless on a free port of 127.0.0.1) and measures, with the same clock and
browser:

- **first page ready**: from launching the server process to the page's heading being visible and
  the script run finished (the app root's script state back to "notRunning"), in a new browser
  page opened as soon as ``/_stcore/health`` answers. For the dashboard this is the home page
  (overview), so it includes loading and caching the data and the funding metrics.
- **Company page, first chart**: on the warm servers, a fresh load of the Company page (Meta, its
  default section) until its first chart is drawn, against a fresh load of the bare app until its
  chart is drawn; and the same until the run has finished and **every** chart is drawn. Also the
  first chart net of the front end's probe: for a page not at "/", Streamlit's front end asks
  ``<page path>/_stcore/health`` first and, on the 404, waits 100 ms before it asks the root's;
  the bare app at "/" never waits (read from the page's resource timings).
- **switch**: with both servers running and both pages open, switches alternate between the two
  apps (bare, dashboard, bare, ...), so load on the machine falls on both alike. A switch is timed
  from choosing the option until the new heading is shown, the run has finished and every chart on
  the page is drawn. The dashboard switches from Meta to Microsoft and back (the first switch of a
  round is cold for Microsoft's figures; later ones are cached); the bare app between two options.

Reports the median over all measurements and the median of the ratios dashboard / bare app taken
pair by pair in the same round, and the WebSocket messages each page received per switch. No assertion: numbers only (CONVENTIONS: performance lives here,
not in tests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python benchmarks/app_startup_bench.py` from the repo root
    sys.path.insert(0, str(REPO))

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, running_streamlit  # noqa: E402 - needs the sys.path entry above

BARE_APP = """
import streamlit as st
import numpy as np
import plotly.graph_objects as go

choice = st.selectbox("Company", ["Alpha", "Beta", "Gamma"], key="company")
st.title(f"Bare {choice}")
seed = {"Alpha": 1, "Beta": 2, "Gamma": 3}[choice]
y = 100 * np.cumprod(1 + np.random.default_rng(seed).normal(0, 0.01, 1187))
st.plotly_chart(go.Figure(go.Scatter(y=y, mode="lines")), key="line")
"""


# The run is over when the app root says so; the running indicator alone is not enough, since
# Streamlit shows it only after a run has lasted 500 ms.
RUN_FINISHED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null && app.dataset.testScriptState === 'notRunning'
        && document.querySelector('[data-testid="stStatusWidget"]') === null;
}"""


# Every chart on the page drawn (Plotly draws after the run ends).
CHARTS_DRAWN = """() => {
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    return charts.length > 0 && charts.every((chart) => chart.querySelector('.js-plotly-plot .main-svg') !== null);
}"""

# At least one chart drawn (the run may still be going).
FIRST_CHART_DRAWN = """() => document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg') !== null"""

DASHBOARD_HOME = "AI capex against internal funding"
META, MICROSOFT = "Meta Platforms (META)", "Microsoft (MSFT)"


def settle(page) -> None:
    page.wait_for_function(RUN_FINISHED, polling=50, timeout=120_000)
    page.wait_for_function(CHARTS_DRAWN, polling=50, timeout=120_000)


def ready(page, heading: str) -> None:
    page.get_by_role("heading", name=heading).wait_for(timeout=120_000)
    settle(page)


# WebSocket messages received, per browser page (counted from its first load on).
RECEIVED: dict[object, int] = {}


def count_messages(page) -> None:
    RECEIVED[page] = 0

    def opened(socket) -> None:
        socket.on("framereceived", lambda _frame: RECEIVED.__setitem__(page, RECEIVED[page] + 1))

    page.on("websocket", opened)


def switch(page, option: str, heading: str) -> tuple[float, int]:
    """Seconds from choosing ``option`` until ``heading`` shows and the page is settled, and the
    WebSocket messages the page received meanwhile."""
    before = RECEIVED.get(page, 0)
    began = time.perf_counter()
    page.get_by_role("combobox", name="Company").click()
    page.get_by_role("option", name=option).click()
    ready(page, heading)
    return time.perf_counter() - began, RECEIVED.get(page, 0) - before


# Streamlit's front end looks for the server at the page's own path first (``/company/_stcore/health``),
# and on the 404 waits 100 ms before it tries the root: the seconds from the first health request's
# start to the start of the one that answered (0 for a page at "/").
PROBE_WAIT = """() => {
    const health = performance.getEntriesByType('resource').filter((entry) => entry.name.endsWith('/_stcore/health'));
    return health.length > 1 ? (health[health.length - 1].startTime - health[0].startTime) / 1000 : 0;
}"""


def fresh_load(page, url: str, heading: str) -> tuple[float, float, float]:
    """Seconds from navigating to ``url`` until the first chart is drawn, and until the run has
    finished with every chart drawn (``heading`` shown); and the seconds the front end spent
    probing the page's path for the server (``PROBE_WAIT``)."""
    began = time.perf_counter()
    page.goto(url)
    page.wait_for_function(FIRST_CHART_DRAWN, polling=20, timeout=120_000)
    first = time.perf_counter() - began
    ready(page, heading)
    return first, time.perf_counter() - began, page.evaluate(PROBE_WAIT)


def start_page(browser, url: str, heading: str, began: float) -> tuple[object, float]:
    """A new browser page at ``url`` ready, and the seconds since ``began`` (the server's launch)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    count_messages(page)
    page.goto(url)
    ready(page, heading)
    return page, time.perf_counter() - began


def one_round(browser, switches: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        times.setdefault(name, []).append(value)

    with tempfile.TemporaryDirectory() as folder:
        bare_app = Path(folder) / "bare_app.py"
        bare_app.write_text(BARE_APP, encoding="utf-8")
        began = time.perf_counter()
        with running_streamlit(bare_app, cwd=REPO) as bare_url:
            record("bare_health", time.perf_counter() - began)
            bare, seconds = start_page(browser, bare_url + "/", "Bare Alpha", began)
            record("bare_first_page", seconds)
            began = time.perf_counter()
            with running_streamlit(REPO / "dashboard" / "app.py", cwd=REPO) as url:
                record("dashboard_health", time.perf_counter() - began)
                dashboard, seconds = start_page(browser, url + "/", DASHBOARD_HOME, began)
                record("dashboard_first_page", seconds)
                for _ in range(2):
                    first, every, probe = fresh_load(bare, bare_url + "/", "Bare Alpha")
                    record("bare_company_first_chart", first)
                    record("bare_company_every_chart", every)
                    record("bare_company_first_chart_net_of_probe", first - probe)
                    first, every, probe = fresh_load(dashboard, url + "/company", META)
                    record("dashboard_company_first_chart", first)
                    record("dashboard_company_every_chart", every)
                    record("dashboard_company_first_chart_net_of_probe", first - probe)
                for number in range(switches):
                    there = "switch" if number == 0 else "switch_again"
                    for app, page, option, heading, measure in (
                        ("bare", bare, "Beta", "Bare Beta", there),
                        ("dashboard", dashboard, MICROSOFT, MICROSOFT, there),
                        ("bare", bare, "Alpha", "Bare Alpha", "switch_back"),
                        ("dashboard", dashboard, META, META, "switch_back"),
                    ):
                        seconds, messages = switch(page, option, heading)
                        record(f"{app}_{measure}", seconds)
                        record(f"{app}_switch_messages", messages)
    return times


MEASURES = (
    ("server start to /_stcore/health", "health"),
    ("server start to first page ready", "first_page"),
    ("Company page fresh load to its first chart drawn (warm server)", "company_first_chart"),
    ("the same, net of the front end's wait after probing the page's path", "company_first_chart_net_of_probe"),
    ("Company page fresh load to every chart drawn (warm server)", "company_every_chart"),
    ("switch company (first time: cold for its figures)", "switch"),
    ("switch company again (cached)", "switch_again"),
    ("switch back (cached)", "switch_back"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--switches", type=int, default=4, help="switch pairs (there and back) per round")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rounds: list[dict[str, list[float]]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for number in range(max(1, min(args.rounds, 10))):
            rounds.append(one_round(browser, max(2, args.switches)))
            print(
                f"round {number + 1}: " + ", ".join(f"{k} " + "/".join(f"{v:.2f}" for v in vs) for k, vs in rounds[-1].items()), flush=True
            )
        browser.close()

    def median(key: str) -> float:
        return statistics.median(v for r in rounds for v in r[key])

    def ratio(key: str) -> float:
        return statistics.median(d / b for r in rounds for d, b in zip(r["dashboard_" + key], r["bare_" + key]))

    load = os.getloadavg()[0]
    print(f"\nmedians over {len(rounds)} rounds (load average {load:.1f}, {os.cpu_count()} cores)")
    print("| measure | dashboard | bare app | ratio (median of pairs) |")
    print("|---|---|---|---|")
    for label, key in MEASURES:
        print(f"| {label} | {median('dashboard_' + key):.2f} s | {median('bare_' + key):.2f} s | {ratio(key):.2f}x |")
    print(
        f"| WebSocket messages received per switch | {median('dashboard_switch_messages'):.0f} | {median('bare_switch_messages'):.0f} | |"
    )
    print("\nSeconds are medians of all measurements; a ratio is the median of the pair-by-pair ratios, so it")
    print("need not equal the ratio of the two medians.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
