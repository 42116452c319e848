"""Command-line start-up: ``--help`` of the CLI and of each subcommand against a bare Python
start-up, and ``validate`` end to end, measured in the same run.

Run from the repo root:  python benchmarks/startup_bench.py [--repeats 5] [--repo DIR]

A bare start-up is ``python -c pass``; the goal is that ``--help`` costs about that (it imports
no pandas, numpy, scipy, pyarrow, yfinance or streamlit: tests/test_cli_help.py checks it).
Peak memory is each child's maximum resident set (``wait4``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("validate", "refresh", "reactions", "funding-gap", "export")


def run(arguments: list[str], repo: Path) -> tuple[float, int]:
    """(wall seconds, peak resident KiB) of ``python <arguments>`` in ``repo``."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, *arguments], cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss


def best(arguments: list[str], repo: Path, repeats: int) -> tuple[float, int]:
    runs = [run(arguments, repo) for _ in range(repeats)]
    return min(s for s, _ in runs), max(m for _, m in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose command is timed")
    args = parser.parse_args(argv)
    bare, bare_memory = best(["-c", "pass"], args.repo, args.repeats)
    print(f"start-up of {args.repo}, best of {args.repeats}: bare python {bare * 1000:.0f} ms, {bare_memory / 1024:.0f} MiB")
    for command in ("", *COMMANDS):
        seconds, memory = best(["-m", "dashboard", *([command] if command else []), "--help"], args.repo, args.repeats)
        print(
            f"  {('dashboard ' + command).strip():>22} --help: {seconds * 1000:5.0f} ms, {memory / 1024:4.0f} MiB: "
            f"RATIO to bare python {seconds / bare:4.1f}x"
        )
    seconds, memory = best(["-m", "dashboard", "validate"], args.repo, max(args.repeats // 2, 1))
    print(f"  {'dashboard validate':>22}:        {seconds * 1000:5.0f} ms, {memory / 1024:4.0f} MiB (reads and checks every dataset)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
