"""Load check: N concurrent browser sessions against ONE local dashboard server.

Starts ``python -m streamlit run dashboard/app.py`` on 127.0.0.1 (a free port), opens N headless
Chromium sessions at the same time (one browser, N isolated contexts, so N separate Streamlit
sessions) and measures each session's time from navigation start to the first rendered chart
(a ``[data-testid="stPlotlyChart"]`` or ``.js-plotly-plot`` element). Every N runs a few rounds; the
script prints p50/p95 per N and the ratio to the single-session p50 measured in the same run.

Bounded: N is capped at 8, rounds at 5, a session at --session-timeout seconds and the whole
check at --budget seconds; the server is always stopped at the end.

    python benchmarks/load_check.py                # N = 1 2 4 6, 3 rounds each
    python benchmarks/load_check.py --sessions 1 2 --rounds 2
    python benchmarks/load_check.py --app tests/fixtures/some_app.py

Reading it: on this 2-core machine the server (one Python process; every session's script run
shares the GIL) and Chromium (layout, plotly rendering) compete for the same two cores, so the
ratio measures the whole box under load, not the server alone. A ratio near N means sessions are
served one after another; near 1 means they overlap well. Needs Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHART_SELECTOR = '[data-testid="stPlotlyChart"], .js-plotly-plot'
MAX_SESSIONS = 8
MAX_ROUNDS = 5


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(app: Path, port: int) -> subprocess.Popen:
    """Start one Streamlit server on 127.0.0.1:port from the repo root (so `import dashboard` works)."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def wait_healthy(url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            err = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise RuntimeError(f"server exited with code {server.returncode}:\n{err[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server not healthy after {timeout:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


async def one_session(browser, url: str, timeout_s: float) -> float:
    """Seconds from navigation start to the first chart in a fresh browser context (NaN on timeout)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        start = time.perf_counter()
        await page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        await page.wait_for_selector(CHART_SELECTOR, state="visible", timeout=timeout_s * 1000)
        return time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - a timed-out session is reported, not fatal
        print(f"    session failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return float("nan")
    finally:
        await context.close()


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of the finite values; NaN when none."""
    finite = sorted(v for v in values if v == v)
    if not finite:
        return float("nan")
    if len(finite) == 1:
        return finite[0]
    position = (len(finite) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(finite) - 1)
    return finite[low] + (finite[high] - finite[low]) * (position - low)


async def run_check(url: str, sessions: list[int], rounds: int, timeout_s: float, budget_s: float):
    from playwright.async_api import async_playwright

    results: dict[int, list[float]] = {}
    started = time.monotonic()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            cold = await one_session(browser, url, timeout_s)
            print(f"cold first load (fills the server's caches, not counted): {cold:.2f} s")
            for n in sessions:
                results[n] = []
                for round_number in range(rounds):
                    if time.monotonic() - started > budget_s:
                        print(f"budget of {budget_s:.0f} s used up; stopping early")
                        return cold, results
                    times = await asyncio.gather(
                        *(one_session(browser, url, timeout_s) for _ in range(n))
                    )
                    results[n].extend(times)
                    shown = " ".join(f"{t:.2f}" for t in times)
                    print(f"  N={n} round {round_number + 1}: {shown} s")
        finally:
            await browser.close()
    return cold, results


def report(cold: float, results: dict[int, list[float]]) -> None:
    base = percentile(results.get(1, []), 50)
    print()
    print("time to first chart, seconds (steady state, caches warm)")
    print(f"{'N':>3} {'samples':>8} {'failed':>7} {'p50':>7} {'p95':>7} {'p50/base':>9} {'p95/base':>9}")
    for n, times in results.items():
        p50, p95 = percentile(times, 50), percentile(times, 95)
        failed = sum(1 for t in times if t != t)
        print(
            f"{n:>3} {len(times):>8} {failed:>7} {p50:>7.2f} {p95:>7.2f} "
            f"{p50 / base:>9.2f} {p95 / base:>9.2f}"
        )
    print()
    print(f"baseline = single-session p50 in this run ({base:.2f} s); cold first load {cold:.2f} s.")
    worst = max(results)
    ratio = percentile(results[worst], 50) / base if base == base else float("nan")
    if ratio == ratio:
        verdict = (
            "sessions overlap well" if ratio < 0.5 * worst + 0.5
            else "sessions are mostly served one after another"
        )
        print(
            f"At N={worst} the median session waits {ratio:.1f}x the single-session time "
            f"(perfectly serial would be about {worst}x, perfectly parallel 1x): {verdict}. "
            "On 2 cores the browser's rendering competes with the server, so a real deployment "
            "with remote browsers will do better than this."
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", type=Path, default=REPO_ROOT / "dashboard" / "app.py")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 2, 4, 6])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--session-timeout", type=float, default=90.0)
    parser.add_argument("--budget", type=float, default=420.0, help="seconds for the whole check")
    parser.add_argument("--path", default="", help="page path after the server root, e.g. 'company'")
    args = parser.parse_args(argv)

    sessions = sorted({min(max(1, n), MAX_SESSIONS) for n in args.sessions} | {1})
    rounds = min(max(1, args.rounds), MAX_ROUNDS)
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM}", file=sys.stderr)
        return 2
    app = args.app if args.app.is_absolute() else REPO_ROOT / args.app
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    shown_app = app.relative_to(REPO_ROOT) if app.is_relative_to(REPO_ROOT) else app
    print(f"server: {shown_app} on {url}; sessions {sessions}; {rounds} rounds each")
    print(f"machine: {os.cpu_count()} CPU cores; Chromium {CHROMIUM}")
    server = start_server(app, port)
    try:
        wait_healthy(url, server, timeout=60)
        cold, results = asyncio.run(
            run_check(url + args.path, sessions, rounds, args.session_timeout, args.budget)
        )
    finally:
        stop_server(server)
    if not results.get(1):
        print("no single-session baseline measured", file=sys.stderr)
        return 1
    report(cold, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
