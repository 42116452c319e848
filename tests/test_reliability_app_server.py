"""The served app in headless Chromium: /overview opens the overview, and nothing is fetched from
outside the server (the page icon used to make every browser fetch a favicon from
fonts.gstatic.com, so the page needed the internet to render fully).

One real server on 127.0.0.1 (tests/streamlit_server.py) on the frozen snapshot; skipped when
Debian's Chromium is not installed.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from tests.streamlit_server import CHROMIUM, running_streamlit

TIMEOUT_MS = 120_000
HEADING = "AI capex against internal funding"
RUN_FINISHED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null && app.dataset.testScriptState === 'notRunning'
        && document.querySelector('[data-testid="stStatusWidget"]') === null;
}"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {**os.environ, "DASHBOARD_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    env.pop("DASHBOARD_ALLOW_REFRESH", None)
    with running_streamlit("dashboard/app.py", env=env) as url:
        yield url


@pytest.mark.parametrize("path", ["/overview", "/"])
def test_the_overview_opens_at_its_path_and_needs_nothing_from_outside(server, browser, path):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server + path)
    page.get_by_role("heading", name=HEADING).wait_for()
    page.wait_for_function(RUN_FINISHED, polling=100)
    assert page.get_by_text("Page not found").count() == 0
    assert urlsplit(page.url).path == path
    icons = page.evaluate("() => [...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")
    assert icons and all(icon.startswith(("data:", server)) for icon in icons), icons
    outside = sorted({url for url in requested if not url.startswith((server, "data:", "blob:"))})
    assert outside == [], outside
    context.close()
