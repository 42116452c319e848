"""Dashboard startup and company-switch times against a bare one-page Streamlit app.

    python benchmarks/app_startup_bench.py [--rounds 3]

From the repository root; needs Chromium at /usr/bin/chromium (Playwright drives it). Each round
starts a fresh server (``tests/streamlit_server.running_streamlit``: ``python -m streamlit run
<app>`` headless on a free port of 127.0.0.1) for the dashboard and for a bare app written to a
temporary folder, and measures, with the same clock and browser:

- **first page ready**: from launching the server process to the page's heading being visible and
  the script run finished (the app root's script state back to "notRunning") in a new browser
  page opened as soon as ``/_stcore/health`` answers. For the dashboard this is the home page (overview), so it includes
  loading and caching the data and the funding metrics.
- **Company page load**: on the warm server, loading the Company page (Meta, its default
  section) until every chart is drawn, against reloading the bare app until its chart is drawn.
- **switch**: timed until the run has finished and every chart on the page is drawn. On the
  dashboard's company page, choosing another company in the sidebar until the
  new company's heading is shown and the run has finished (first switch to a company: cold for its
  rows, the cached study; then a switch back: everything cached); on the bare app, choosing another
  option of a selectbox until its new heading is shown. The bare app is the issue's: one page with
a selectbox, a title and one Plotly line of 1,187 points.

Reports the median over rounds of each time and the ratio dashboard / bare app measured in the
same round. No assertion: numbers only (CONVENTIONS: performance lives here, not in tests).
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


def settle(page) -> None:
    page.wait_for_function(RUN_FINISHED, polling=50, timeout=120_000)
    page.wait_for_function(CHARTS_DRAWN, polling=50, timeout=120_000)


def ready(page, heading: str) -> None:
    page.get_by_role("heading", name=heading).wait_for(timeout=120_000)
    settle(page)


def switch(page, option: str, heading: str) -> float:
    began = time.perf_counter()
    page.get_by_role("combobox", name="Company").click()
    page.get_by_role("option", name=option).click()
    ready(page, heading)
    return time.perf_counter() - began


def one_round(browser) -> dict[str, float]:
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        bare = Path(folder) / "bare_app.py"
        bare.write_text(BARE_APP, encoding="utf-8")
        for name, app, heading in (
            ("bare", bare, "Bare Alpha"),
            ("dashboard", REPO / "dashboard" / "app.py", "AI capex against internal funding"),
        ):
            began = time.perf_counter()
            with running_streamlit(app, cwd=REPO) as url:
                times[f"{name}_health"] = time.perf_counter() - began
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                page.goto(url + "/")
                ready(page, heading)
                times[f"{name}_first_page"] = time.perf_counter() - began
                if name == "bare":
                    began = time.perf_counter()
                    page.goto(url + "/")
                    ready(page, heading)
                    times["bare_company_first_chart"] = time.perf_counter() - began
                    times["bare_switch"] = switch(page, "Beta", "Bare Beta")
                    times["bare_switch_back"] = switch(page, "Alpha", "Bare Alpha")
                else:
                    began = time.perf_counter()
                    page.goto(url + "/company")
                    ready(page, "Meta Platforms (META)")
                    times["dashboard_company_first_chart"] = time.perf_counter() - began
                    times["dashboard_switch"] = switch(page, "Microsoft (MSFT)", "Microsoft (MSFT)")
                    times["dashboard_switch_back"] = switch(page, "Meta Platforms (META)", "Meta Platforms (META)")
                context.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rounds: list[dict[str, float]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for number in range(max(1, min(args.rounds, 10))):
            rounds.append(one_round(browser))
            print(f"round {number + 1}: " + ", ".join(f"{k} {v:.2f}s" for k, v in rounds[-1].items()), flush=True)
        browser.close()

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def ratio(numerator: str, denominator: str) -> float:
        return statistics.median(r[numerator] / r[denominator] for r in rounds)

    load = os.getloadavg()[0]
    print(f"\nmedian of {len(rounds)} rounds (load average {load:.1f}, {os.cpu_count()} cores)")
    print("| measure | dashboard | bare app | ratio |")
    print("|---|---|---|---|")
    print(
        f"| server start to /_stcore/health | {median('dashboard_health'):.2f} s | {median('bare_health'):.2f} s | {ratio('dashboard_health', 'bare_health'):.2f}x |"
    )
    print(
        f"| server start to first page ready | {median('dashboard_first_page'):.2f} s | {median('bare_first_page'):.2f} s | {ratio('dashboard_first_page', 'bare_first_page'):.2f}x |"
    )
    print(
        f"| Company page load to every chart drawn (warm server) | {median('dashboard_company_first_chart'):.2f} s | {median('bare_company_first_chart'):.2f} s | {ratio('dashboard_company_first_chart', 'bare_company_first_chart'):.2f}x |"
    )
    print(
        f"| switch company (first time) | {median('dashboard_switch'):.2f} s | {median('bare_switch'):.2f} s | {ratio('dashboard_switch', 'bare_switch'):.2f}x |"
    )
    print(
        f"| switch back (cached) | {median('dashboard_switch_back'):.2f} s | {median('bare_switch_back'):.2f} s | {ratio('dashboard_switch_back', 'bare_switch_back'):.2f}x |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
