"""Load check: N concurrent browser sessions against ONE local dashboard server.

Starts ``python -m streamlit run dashboard/app.py`` on 127.0.0.1 (a free port), opens N headless
Chromium sessions at the same time (one browser, N isolated contexts, so N separate Streamlit
sessions) on one page of the dashboard and measures each session's time from navigation start to
the first rendered chart (a ``[data-testid="stPlotlyChart"]`` or ``.js-plotly-plot`` element). A
session then waits until its script run has finished (the whole page is served) before it closes,
so the server's work per session is the whole page at every N. Every N runs a few rounds.

For each N the script also measures the server alone (the Streamlit process and its children, if
any): CPU seconds (user + system) spent on that N's rounds, divided by the number of sessions
served ("server CPU s per session"), and its resident memory (RSS) before and after those rounds.
The server is left to go idle before each reading, so work still running for a session is
counted with its own N. It prints, per N: p50 and p95 time to first chart, server CPU s per
session and its ratio to the N=1 value of the same run, RSS at the start and end, and the growth.
A server whose CPU per session stays flat as N grows does per-session work only; one whose CPU per
session rises is doing work per session that grows with the others (contention, or uncached work).

Bounded: N is capped at 8, rounds at 5, a session at --session-timeout seconds and the whole
check at --budget seconds; the server is always stopped at the end.

    python benchmarks/load_check.py                                # overview; N = 1 2 4 8, 3 rounds
    python benchmarks/load_check.py --page company                 # the Company page (/company)
    python benchmarks/load_check.py --sessions 1 2 --rounds 2
    python benchmarks/load_check.py --path "company?company=MSFT"  # any path and query string
    python benchmarks/load_check.py --app tests/fixtures/some_app.py

Reading it: on this 2-core machine the server (one Python process; every session's script run
shares the GIL) and Chromium (layout, plotly rendering) compete for the same two cores, so the
time-to-first-chart ratio measures the whole box under load, not the server alone; the server's
CPU per session is the server-side cost. Disconnected sessions stay in the server's memory for
``server.disconnectedSessionTTL`` (120 s by default), so RSS growth includes the closed sessions
of the last two minutes. Needs Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as `python benchmarks/load_check.py` from the repo root
    sys.path.insert(0, str(REPO_ROOT))

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, running_streamlit  # noqa: E402 - needs the sys.path entry above

CHART_SELECTOR = '[data-testid="stPlotlyChart"], .js-plotly-plot'
# Streamlit's root element says whether a script run is going on ("running") or over ("notRunning").
RUN_FINISHED_SELECTOR = '[data-testid="stApp"][data-test-script-state="notRunning"]'
MAX_SESSIONS = 8
MAX_ROUNDS = 5
MIB = 1024 * 1024
# The dashboard's pages (dashboard/app.py, st.navigation): name -> URL path after the server root.
PAGE_PATHS = {"overview": "", "company": "company", "events": "events", "compare": "compare"}
FLAT_LIMIT = 1.3  # CPU per session at the largest N over N=1 above this: not flat
IDLE_CPU_PER_SECOND = 0.05  # the server counts as idle below this many CPU-seconds per second
IDLE_WAIT_LIMIT = 20.0  # seconds at most to wait for the server to go idle


@dataclass
class Usage:
    """The server's CPU seconds so far (process, live children and reaped children) and RSS in bytes."""

    cpu_s: float
    rss: float


@dataclass
class Step:
    """What one N measured: per-session timings and the server's usage around its rounds."""

    first_chart: list[float] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)
    before: Usage = field(default_factory=lambda: Usage(float("nan"), float("nan")))
    after: Usage = field(default_factory=lambda: Usage(float("nan"), float("nan")))
    machine_cpu_s: float = float("nan")

    @property
    def sessions(self) -> int:
        return len(self.first_chart)

    @property
    def cpu_per_session(self) -> float:
        return (self.after.cpu_s - self.before.cpu_s) / max(1, self.sessions)


def server_usage(pid: int) -> Usage:
    """CPU seconds (user + system) and RSS of process ``pid`` and its children (psutil; /proc
    for the process alone when psutil is missing; NaN when neither works)."""
    try:
        import psutil
    except ImportError:
        return Usage(process_cpu_seconds(pid), process_rss(pid))
    try:
        process = psutil.Process(pid)
        times = process.cpu_times()
        cpu = times.user + times.system + times.children_user + times.children_system
        rss = float(process.memory_info().rss)
        for child in process.children(recursive=True):
            try:
                child_times = child.cpu_times()
                cpu += child_times.user + child_times.system
                rss += child.memory_info().rss
            except psutil.NoSuchProcess:
                continue  # exited between listing and reading: its time is in children_* next read
        return Usage(cpu, rss)
    except psutil.Error:
        return Usage(float("nan"), float("nan"))


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def process_rss(pid: int) -> float:
    """Resident memory of one process in bytes (Linux /proc; NaN elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return float("nan")


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far, all cores (Linux /proc/stat; NaN elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
        return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


async def idle_usage(pid: int, interval: float = 0.5) -> Usage:
    """The server's usage once it has gone idle (or after IDLE_WAIT_LIMIT seconds)."""
    deadline = time.monotonic() + IDLE_WAIT_LIMIT
    previous = server_usage(pid)
    while True:
        await asyncio.sleep(interval)
        current = server_usage(pid)
        busy = current.cpu_s - previous.cpu_s
        if math.isnan(busy) or busy < IDLE_CPU_PER_SECOND * interval or time.monotonic() > deadline:
            return current
        previous = current


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


async def one_session(browser, url: str, timeout_s: float) -> tuple[float, float]:
    """Seconds from navigation start to the first chart, and to the end of the script run, in a
    fresh browser context (NaN on timeout)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    first_chart = float("nan")
    try:
        page = await context.new_page()
        start = time.perf_counter()
        await page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        await page.wait_for_selector(CHART_SELECTOR, state="visible", timeout=timeout_s * 1000)
        first_chart = time.perf_counter() - start
        await page.wait_for_selector(RUN_FINISHED_SELECTOR, state="attached", timeout=timeout_s * 1000)
        return first_chart, time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - a timed-out session is reported, not fatal
        print(f"    session failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return first_chart, float("nan")
    finally:
        await context.close()


async def run_step(browser, url: str, n: int, rounds: int, timeout_s: float, server_pid: int, deadline: float) -> Step:
    """N sessions at once, ``rounds`` times (fewer when ``deadline`` passes), with the server's
    usage read while it is idle before and after."""
    step = Step(before=await idle_usage(server_pid))
    machine_before = machine_cpu_seconds()
    for round_number in range(rounds):
        if time.monotonic() > deadline:
            print("  budget used up; this N stops early")
            break
        times = await asyncio.gather(*(one_session(browser, url, timeout_s) for _ in range(n)))
        step.first_chart.extend(t for t, _ in times)
        step.finished.extend(t for _, t in times)
        shown = " ".join(f"{t:.2f}" for t, _ in times)
        print(f"  N={n} round {round_number + 1}: first chart {shown} s")
    step.after = await idle_usage(server_pid)
    step.machine_cpu_s = (machine_cpu_seconds() - machine_before) / max(1, step.sessions)
    return step


async def run_check(url: str, sessions: list[int], rounds: int, timeout_s: float, budget_s: float, server_pid: int):
    """(cold first load in seconds, {N: Step}) for the N in ``sessions``, within ``budget_s``."""
    from playwright.async_api import async_playwright

    steps: dict[int, Step] = {}
    deadline = time.monotonic() + budget_s
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            cold, _ = await one_session(browser, url, timeout_s)
            print(f"cold first load (fills the server's caches, not counted): {cold:.2f} s")
            for n in sessions:
                if time.monotonic() > deadline:
                    print(f"budget of {budget_s:.0f} s used up; N={n} and above not run")
                    break
                steps[n] = await run_step(browser, url, n, rounds, timeout_s, server_pid, deadline)
        finally:
            await browser.close()
    return cold, steps


def report(cold: float, steps: dict[int, Step]) -> None:
    """The table per N and what it says about how the cost grows with N."""
    base = percentile(steps[1].first_chart, 50)
    base_cpu = steps[1].cpu_per_session
    print()
    print("time to first chart in seconds (steady state, caches warm); the server's CPU and memory")
    print(
        f"{'N':>3} {'samples':>7} {'failed':>6} {'p50':>6} {'p95':>6} {'p50/N=1':>7} {'done p50':>8} "
        f"{'srv CPU s/sess':>14} {'CPU/N=1':>7} {'RSS start MiB':>13} {'RSS end MiB':>11} "
        f"{'growth MiB':>10} {'MiB/sess':>8} {'machine CPU s/sess':>18}"
    )
    for n, step in steps.items():
        p50, p95 = percentile(step.first_chart, 50), percentile(step.first_chart, 95)
        failed = sum(1 for t in step.finished if math.isnan(t))
        growth = (step.after.rss - step.before.rss) / MIB
        print(
            f"{n:>3} {step.sessions:>7} {failed:>6} {p50:>6.2f} {p95:>6.2f} {p50 / base:>7.2f} "
            f"{percentile(step.finished, 50):>8.2f} {step.cpu_per_session:>14.3f} {step.cpu_per_session / base_cpu:>7.2f} "
            f"{step.before.rss / MIB:>13.1f} {step.after.rss / MIB:>11.1f} {growth:>10.1f} "
            f"{growth / max(1, step.sessions):>8.2f} {step.machine_cpu_s:>18.2f}"
        )
    print()
    print(
        f"baseline = N=1 in this run: first chart p50 {base:.2f} s, server {base_cpu:.3f} CPU-s per session; cold first load {cold:.2f} s."
    )
    print("'done p50': navigation to the end of the script run (the whole page served); the server's CPU counts the whole run.")
    worst = max(steps)
    ratio = percentile(steps[worst].first_chart, 50) / base
    cpu_ratio = steps[worst].cpu_per_session / base_cpu
    if worst > 1 and not math.isnan(ratio):
        print(f"At N={worst} the median session waits {ratio:.1f}x the N=1 time (fully serial would be about {worst}x, fully parallel 1x).")
    if worst > 1 and not math.isnan(cpu_ratio):
        verdict = "flat" if cpu_ratio <= FLAT_LIMIT else f"NOT flat (above {FLAT_LIMIT}x)"
        print(f"Server CPU per session at N={worst} is {cpu_ratio:.2f}x the N=1 value: {verdict}.")
    cores = os.cpu_count() or 1
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {cores} cores (other work on the machine shares them).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", type=Path, default=REPO_ROOT / "dashboard" / "app.py")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 2, 4, 8], help=f"concurrent sessions (at most {MAX_SESSIONS})")
    parser.add_argument("--rounds", type=int, default=3, help=f"rounds per N (at most {MAX_ROUNDS})")
    parser.add_argument("--session-timeout", type=float, default=90.0)
    parser.add_argument("--budget", type=float, default=900.0, help="seconds for the whole check")
    parser.add_argument("--page", choices=sorted(PAGE_PATHS), default="overview", help="the dashboard page the sessions open")
    parser.add_argument(
        "--path", default=None, help="any path and query after the server root instead of --page, e.g. 'company?company=MSFT'"
    )
    args = parser.parse_args(argv)

    sessions = sorted({min(max(1, n), MAX_SESSIONS) for n in args.sessions} | {1})
    rounds = min(max(1, args.rounds), MAX_ROUNDS)
    path = PAGE_PATHS[args.page] if args.path is None else args.path.lstrip("/")
    if not CHROMIUM.exists():
        print(f"Chromium not found at {CHROMIUM}", file=sys.stderr)
        return 2
    app = args.app if args.app.is_absolute() else REPO_ROOT / args.app
    shown_app = app.relative_to(REPO_ROOT) if app.is_relative_to(REPO_ROOT) else app
    print(f"machine: {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} before the run; Chromium {CHROMIUM}")
    with running_streamlit(app, cwd=REPO_ROOT) as url:
        print(f"server: {shown_app} on {url}/{path} (pid {url.pid}); sessions {sessions}; {rounds} rounds each")
        cold, steps = asyncio.run(run_check(f"{url}/{path}", sessions, rounds, args.session_timeout, args.budget, url.pid))
    if not steps.get(1) or not steps[1].sessions:
        print("no single-session baseline measured", file=sys.stderr)
        return 1
    report(cold, steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
