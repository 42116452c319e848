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
import math
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as `python benchmarks/load_check.py` from the repo root
    sys.path.insert(0, str(REPO_ROOT))

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, running_streamlit  # noqa: E402 - needs the sys.path entry above

CHART_SELECTOR = '[data-testid="stPlotlyChart"], .js-plotly-plot'
MAX_SESSIONS = 8
MAX_ROUNDS = 5


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


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far, all cores (Linux /proc/stat; NaN elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
        return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of the finite values; NaN when none."""
    finite = sorted(v for v in values if not math.isnan(v))
    if not finite:
        return float("nan")
    if len(finite) == 1:
        return finite[0]
    position = (len(finite) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(finite) - 1)
    return finite[low] + (finite[high] - finite[low]) * (position - low)


async def run_check(url: str, sessions: list[int], rounds: int, timeout_s: float, budget_s: float, server_pid: int):
    from playwright.async_api import async_playwright

    results: dict[int, list[float]] = {}
    server_cpu: dict[int, float] = {}
    machine_cpu: dict[int, float] = {}
    started = time.monotonic()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            cold = await one_session(browser, url, timeout_s)
            print(f"cold first load (fills the server's caches, not counted): {cold:.2f} s")
            for n in sessions:
                results[n] = []
                cpu_before = process_cpu_seconds(server_pid)
                machine_before = machine_cpu_seconds()
                for round_number in range(rounds):
                    if time.monotonic() - started > budget_s:
                        print(f"budget of {budget_s:.0f} s used up; stopping early")
                        return cold, results, {"server": server_cpu, "machine": machine_cpu}
                    times = await asyncio.gather(*(one_session(browser, url, timeout_s) for _ in range(n)))
                    results[n].extend(times)
                    shown = " ".join(f"{t:.2f}" for t in times)
                    print(f"  N={n} round {round_number + 1}: {shown} s")
                server_cpu[n] = (process_cpu_seconds(server_pid) - cpu_before) / max(1, len(results[n]))
                machine_cpu[n] = (machine_cpu_seconds() - machine_before) / max(1, len(results[n]))
        finally:
            await browser.close()
    return cold, results, {"server": server_cpu, "machine": machine_cpu}


def report(cold: float, results: dict[int, list[float]], cpu_use: dict[str, dict[int, float]]) -> None:
    server_cpu, machine_cpu = cpu_use["server"], cpu_use["machine"]
    base = percentile(results.get(1, []), 50)
    print()
    print("time to first chart, seconds (steady state, caches warm)")
    print(
        f"{'N':>3} {'samples':>8} {'failed':>7} {'p50':>7} {'p95':>7} {'p50/base':>9} {'p95/base':>9} {'cpu/session server':>19} {'machine':>8}"
    )
    for n, times in results.items():
        p50, p95 = percentile(times, 50), percentile(times, 95)
        failed = sum(1 for t in times if math.isnan(t))
        print(
            f"{n:>3} {len(times):>8} {failed:>7} {p50:>7.2f} {p95:>7.2f} "
            f"{p50 / base:>9.2f} {p95 / base:>9.2f} {server_cpu.get(n, float('nan')):>19.2f} {machine_cpu.get(n, float('nan')):>8.2f}"
        )
    print()
    print(f"baseline = single-session p50 in this run ({base:.2f} s); cold first load {cold:.2f} s.")
    worst = max(results)
    ratio = percentile(results[worst], 50) / base if not math.isnan(base) else float("nan")
    cores = os.cpu_count() or 1
    server, machine = server_cpu.get(1, float("nan")), machine_cpu.get(1, float("nan"))
    if not math.isnan(ratio):
        print(
            f"At N={worst} the median session waits {ratio:.1f}x the single-session time "
            f"(fully serial would be about {worst}x, fully parallel 1x)."
        )
    if not math.isnan(server):
        flat = max(server_cpu.values()) <= 1.5 * min(server_cpu.values())
        print(
            f"The Streamlit server (one Python process) spends about {server:.2f} CPU-seconds per session"
            + (", about the same at every N" if flat else "")
            + f": about {1 / server if server > 0 else float('inf'):.1f} first page loads per second per core. "
            f"The whole machine is busy about {machine:.2f} CPU-seconds per session at N=1, almost all "
            "of it outside the server: Chromium (page load, Plotly rendering) and anything else "
            f"running (load average at the end: {os.getloadavg()[0]:.1f} on {cores} cores)."
        )
        print(
            "So the slowdown with N measures the test's own browsers sharing the cores, not the "
            "server: real users bring their own browsers, and a served deployment scales much "
            "better than this ratio. The server-side limit is the CPU per session above (one GIL)."
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
    if not CHROMIUM.exists():
        print(f"Chromium not found at {CHROMIUM}", file=sys.stderr)
        return 2
    app = args.app if args.app.is_absolute() else REPO_ROOT / args.app
    shown_app = app.relative_to(REPO_ROOT) if app.is_relative_to(REPO_ROOT) else app
    print(f"machine: {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} before the run; Chromium {CHROMIUM}")
    with running_streamlit(app, cwd=REPO_ROOT) as url:
        print(f"server: {shown_app} on {url}/; sessions {sessions}; {rounds} rounds each")
        cold, results, cpu_use = asyncio.run(run_check(f"{url}/{args.path}", sessions, rounds, args.session_timeout, args.budget, url.pid))
    if not results.get(1):
        print("no single-session baseline measured", file=sys.stderr)
        return 1
    report(cold, results, cpu_use)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
