"""Server memory under 8 concurrent sessions and one largest-allowed upload.

    python benchmarks/upload_memory_bench.py [--sessions 8] [--file spread|dense] [--ttl 10] [--budget 600]

From the repository root; needs Chromium at /usr/bin/chromium (Playwright drives it). Starts ONE
``python -m streamlit run dashboard/app.py`` on 127.0.0.1 (a free port, loopback only; the data is
the embedded ``data/``), with ``--server.disconnectedSessionTTL`` set to ``--ttl`` seconds so that a
closed session's state is dropped within the run (Streamlit's default keeps it 120 s for a
reconnect). Then:

1. one cold load of the overview fills the server's caches (not counted); RSS after it is the
   baseline;
2. at the same time: ``--sessions`` fresh browser sessions open the overview, each timed from
   navigation to its first chart (as ``benchmarks/load_check.py``), and one more session opens the
   Events page and uploads a file of ``config.MAX_UPLOAD_EVENTS`` rows with headlines padded to
   close to the 5 MB upload limit, timed until the study's table (or its error) shows:
   ``--file spread`` (default) spreads the events over the seven companies, the largest study the
   app accepts (about 2.8 million confounding events listed, under
   ``config.UPLOAD_MAX_CONFOUNDER_LINKS``); ``--file dense`` puts them all on one company, which
   the worker computes and refuses (19 million);
3. every browser closes; after the session TTL and a few seconds more RSS is read, then one more
   visitor opens and closes the overview (Streamlit drops expired sessions when its session store
   is next used, not on a timer) and the settled RSS is read.

A sampler reads ``/proc`` every 50 ms: the server's RSS, and the RSS of the server plus its child
processes (the upload worker). Reported: baseline, peak (the kernel's high-water mark ``VmHWM`` of
the server process, and the sampled peak of server plus workers, and of the worker alone), RSS
after the upload, settled RSS, and p50/p95 time to first chart. No assertion: numbers only.
Bounded: at most 8 sessions, 180 s per session or upload, ``--budget`` seconds in all; the server
is always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as `python benchmarks/upload_memory_bench.py` from the repo root
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.load_check import CHART_SELECTOR, percentile  # noqa: E402
from dashboard import config  # noqa: E402
from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, running_streamlit  # noqa: E402

MAX_SESSIONS = 8
STEP_TIMEOUT_S = 180.0
UPLOAD_DONE = """() => {
    const text = document.body.innerText;
    return text.includes('Event study of the') || text.includes('did not run') || text.includes('could not be read')
        || text.includes('or smaller');
}"""
RUN_FINISHED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null && app.dataset.testScriptState === 'notRunning'
        && document.querySelector('[data-testid="stStatusWidget"]') === null;
}"""


# --- memory ---------------------------------------------------------------------------------------


def status_kib(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` field in KiB (VmRSS, VmHWM); 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children of all its threads, recursively)."""
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{parent}/task/{task}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.append(child)
                    queue.append(child)
    return found


class Sampler(threading.Thread):
    """Samples the server's RSS and its children's every ``interval`` seconds (MiB)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_server = self.peak_tree = self.peak_worker = 0.0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            server = status_kib(self.pid, "VmRSS") / 1024
            children = [status_kib(child, "VmRSS") / 1024 for child in descendants(self.pid)]
            self.peak_server = max(self.peak_server, server)
            self.peak_tree = max(self.peak_tree, server + sum(children))
            self.peak_worker = max([self.peak_worker, *children])
            time.sleep(self.interval)


def rss_mib(pid: int) -> float:
    return status_kib(pid, "VmRSS") / 1024


# --- the largest allowed upload ---------------------------------------------------------------------


COMPANIES = ["META", "MSFT", "GOOGL", "AMZN", "ORCL", "INTC", "9984.T"]


def largest_upload(folder: Path, kind: str) -> Path:
    """``config.MAX_UPLOAD_EVENTS`` valid events on business days of 2023-2026, over the seven
    companies (``spread``) or all of Meta (``dense``), headlines padded so the file is just under
    the upload size limit."""
    rows = config.MAX_UPLOAD_EVENTS
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2023-01-03", "2026-06-30")
    frame = pd.DataFrame(
        {
            "event_id": [f"U{i:06d}" for i in range(rows)],
            "ticker": rng.choice(COMPANIES, rows) if kind == "spread" else "META",
            "event_date": pd.Series(rng.choice(dates, rows)).dt.strftime("%Y-%m-%d"),
            "event_time": rng.choice(["pre_market", "after_close", "unknown"], rows),
            "event_type": rng.choice(["divestment", "debt_issuance", "other"], rows),
            "amount_usd_bn": rng.uniform(0, 10, rows).round(2),
        }
    )
    base = len(frame.to_csv(index=False, lineterminator="\n").encode())
    target = int(0.85 * config.MAX_UPLOAD_BYTES)  # a margin below the limit, however the browser counts MB
    frame["headline"] = "synthetic event " + "x" * max(0, (target - base) // rows - 18)
    path = folder / "largest_upload.csv"
    frame.to_csv(path, index=False, lineterminator="\n")
    assert path.stat().st_size <= config.MAX_UPLOAD_BYTES
    return path


# --- sessions -------------------------------------------------------------------------------------------


async def first_chart(browser, url: str) -> float:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        start = time.perf_counter()
        await page.goto(url, wait_until="commit", timeout=STEP_TIMEOUT_S * 1000)
        await page.wait_for_selector(CHART_SELECTOR, state="visible", timeout=STEP_TIMEOUT_S * 1000)
        return time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        print(f"  session failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return float("nan")
    finally:
        await context.close()


async def upload(browser, url: str, path: Path, pid: int) -> tuple[float, str, float]:
    """(seconds from choosing the file to the study's table or error, what showed, server RSS then)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        await page.goto(url + "/events", timeout=STEP_TIMEOUT_S * 1000)
        chooser = page.locator('[data-testid="stFileUploader"] input[type="file"]')
        await chooser.wait_for(state="attached", timeout=STEP_TIMEOUT_S * 1000)
        start = time.perf_counter()
        await chooser.set_input_files(str(path))
        await page.wait_for_function(UPLOAD_DONE, polling=200, timeout=STEP_TIMEOUT_S * 1000)
        await page.wait_for_function(RUN_FINISHED, polling=200, timeout=STEP_TIMEOUT_S * 1000)
        seconds = time.perf_counter() - start
        text = await page.evaluate("() => document.body.innerText")
        shown = next(
            (
                line
                for line in text.splitlines()
                if any(words in line for words in ("Event study of the", "did not run", "could not be read", "or smaller"))
            ),
            "?",
        )
        held = rss_mib(pid)
        return seconds, shown.strip(), held
    except Exception as exc:  # noqa: BLE001
        print(f"  upload failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return float("nan"), "failed", rss_mib(pid)
    finally:
        await context.close()


async def run(url: str, pid: int, sessions: int, file: Path, ttl: float) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            cold = await first_chart(browser, url + "/")
            await asyncio.sleep(2)
            baseline = rss_mib(pid)
            print(f"cold first load {cold:.2f} s; server RSS after it {baseline:.0f} MiB", flush=True)
            sampler = Sampler(pid)
            sampler.start()
            results = await asyncio.gather(upload(browser, url, file, pid), *(first_chart(browser, url + "/") for _ in range(sessions)))
            (upload_seconds, upload_shown, after_upload), times = results[0], list(results[1:])
            for context in browser.contexts:
                await context.close()
            closed = time.perf_counter()
            await asyncio.sleep(ttl + 5)
            held = rss_mib(pid)
            # Streamlit keeps a closed session for a reconnect and drops it once the TTL has
            # passed and its session store is next used: here, by one later visitor.
            await first_chart(browser, url + "/")
            await asyncio.sleep(10)
            settled = rss_mib(pid)
        finally:
            await browser.close()
    sampler.stopped.set()
    return {
        "cold": cold, "baseline": baseline, "times": times, "upload_seconds": upload_seconds, "upload_shown": upload_shown,
        "after_upload": after_upload, "held": held, "settled": settled, "settled_after": time.perf_counter() - closed,
        "peak_server_sampled": sampler.peak_server, "peak_server_hwm": status_kib(pid, "VmHWM") / 1024,
        "peak_tree": sampler.peak_tree, "peak_worker": sampler.peak_worker,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--file", choices=["spread", "dense"], default="spread", help="the 20,000 events over 7 companies, or 1")
    parser.add_argument("--ttl", type=float, default=10.0, help="server.disconnectedSessionTTL for the run (s)")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds for the whole run")
    args = parser.parse_args(argv)
    sessions = min(max(1, args.sessions), MAX_SESSIONS)
    if not CHROMIUM.exists():
        print(f"Chromium not found at {CHROMIUM}", file=sys.stderr)
        return 2
    print(f"machine: {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} before the run")
    with tempfile.TemporaryDirectory(prefix="upload-bench-") as folder:
        file = largest_upload(Path(folder), args.file)
        spread = "the seven companies" if args.file == "spread" else "one company"
        print(f"upload: {file.stat().st_size / 1e6:.2f} MB, {config.MAX_UPLOAD_EVENTS:,} events of {spread}")
        extra = ["--server.disconnectedSessionTTL", str(int(args.ttl))]
        env = {**os.environ, "DASHBOARD_CACHE_DIR": str(Path(folder) / "cache")}
        with running_streamlit(REPO_ROOT / "dashboard" / "app.py", env=env, extra_args=extra) as url:
            print(f"server: dashboard/app.py on {url}/ (pid {url.pid}); {sessions} sessions and one upload at once", flush=True)
            outcome = asyncio.run(asyncio.wait_for(run(url, url.pid, sessions, file, args.ttl), timeout=args.budget))
    times = outcome["times"]
    failed = sum(1 for t in times if t != t)
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| server RSS after the cold load (baseline) | {outcome['baseline']:.0f} MiB |")
    print(f"| peak server RSS (kernel high-water mark, whole run) | {outcome['peak_server_hwm']:.0f} MiB |")
    print(f"| peak server RSS, sampled every 50 ms | {outcome['peak_server_sampled']:.0f} MiB |")
    print(f"| peak RSS of the upload worker process | {outcome['peak_worker']:.0f} MiB |")
    print(f"| peak RSS of server + worker together | {outcome['peak_tree']:.0f} MiB |")
    print(f"| server RSS with the upload's result shown | {outcome['after_upload']:.0f} MiB |")
    print(f"| server RSS {args.ttl + 5:.0f} s after every browser closed (sessions kept for a reconnect) | {outcome['held']:.0f} MiB |")
    print(
        f"| settled server RSS, after one later visitor ({outcome['settled_after']:.0f} s after closing) | {outcome['settled']:.0f} MiB |"
    )
    print(f"| upload: file chosen to table shown | {outcome['upload_seconds']:.1f} s ({outcome['upload_shown']}) |")
    print(
        f"| time to first chart, {sessions} sessions at once: p50 / p95 | {percentile(times, 50):.2f} / {percentile(times, 95):.2f} s ({failed} failed) |"
    )
    print(f"| cold first load (not counted) | {outcome['cold']:.2f} s |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
