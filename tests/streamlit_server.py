"""A real Streamlit server for the browser tests and the benchmarks, and the Chromium they drive.

Test support, not a test module: ``tests/test_browser.py``, ``tests/test_auth.py``,
``tests/test_deployment_config.py``, ``benchmarks/app_startup_bench.py`` and
``benchmarks/load_check.py`` all start their server with :func:`running_streamlit` and launch
Debian's Chromium with :data:`CHROMIUM` and :data:`CHROMIUM_ARGS`.

    with running_streamlit("dashboard/app.py", env=env) as url:   # "http://127.0.0.1:<port>"
        ...

The server listens on 127.0.0.1 only, on a free port, with no file watcher and no telemetry; the
block is entered once ``/_stcore/health`` answers 200, and on exit the process is terminated
(then killed if it lingers). When the server exits before it is healthy, or is not healthy
within ``timeout`` seconds, :class:`StreamlitServerError` says so with the tail of its log.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Self

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# Headless Chromium as root in a container, offline: no sandbox (root), no GPU, and none of the
# background requests (QUIC, component updates, sync) that would only time out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOST = "127.0.0.1"
HEALTH_PATH = "/_stcore/health"
LOG_TAIL_CHARS = 3000
PORT_ATTEMPTS = 3  # free_port() is only free until the server binds it; retry when another took it


class ServerUrl(str):
    """The server's base URL (``http://127.0.0.1:<port>``), a plain ``str``, that also knows the
    port and the server's process id (benchmarks read the process's CPU time)."""

    port: int
    pid: int

    def __new__(cls, port: int, pid: int) -> Self:
        url = super().__new__(cls, f"http://{HOST}:{port}")
        url.port, url.pid = port, pid
        return url


class StreamlitServerError(RuntimeError):
    """The Streamlit server exited early or never became healthy (the message ends with its log)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def log_tail(log_path: Path | None, chars: int = LOG_TAIL_CHARS) -> str:
    """The last ``chars`` characters of the server log ("" when there is no log)."""
    if log_path is None or not Path(log_path).exists():
        return ""
    text = Path(log_path).read_text(encoding="utf-8", errors="replace")
    return text[-chars:]


def wait_healthy(
    url: str,
    process: subprocess.Popen,
    timeout: float = 120,
    *,
    log_path: Path | None = None,
    poll_seconds: float = 0.1,
) -> None:
    """Return once ``{url}/_stcore/health`` answers 200.

    Raises :class:`StreamlitServerError` (with the tail of ``log_path``, if given) when
    ``process`` exits first or ``timeout`` seconds pass. The default is generous: on a loaded
    2-core machine a cold start of the dashboard has taken tens of seconds.
    """
    health = url.rstrip("/") + HEALTH_PATH
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise StreamlitServerError(f"streamlit exited with code {process.returncode} before {health} answered" + _with_log(log_path))
        try:
            with urllib.request.urlopen(health, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise StreamlitServerError(f"{health} did not answer 200 within {timeout:g} s" + _with_log(log_path))
        time.sleep(poll_seconds)


def _with_log(log_path: Path | None) -> str:
    tail = log_tail(log_path)
    return f"\n--- last lines of the server log ---\n{tail}" if tail else ""


def stop(process: subprocess.Popen, grace_seconds: float = 15) -> None:
    """Terminate ``process``; kill it when it is still running after ``grace_seconds``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace_seconds)


def streamlit_command(script: str | Path, port: int, *, bind_address: bool = True, extra_args: Sequence[str] = ()) -> list[str]:
    """``python -m streamlit run <script>`` headless on ``port``, without file watcher or telemetry."""
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    if bind_address:
        command += ["--server.address", HOST]
    return command + list(extra_args)


@contextmanager
def running_streamlit(
    script: str | Path,
    *,
    cwd: str | Path = REPO_ROOT,
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    log_path: str | Path | None = None,
    timeout: float = 120,
    port: int | None = None,
    address_from_config: bool = False,
) -> Iterator[ServerUrl]:
    """Run ``python -m streamlit run <script>`` from ``cwd`` and yield its base URL
    (``http://127.0.0.1:<port>``, no trailing slash; a :class:`ServerUrl`, so also ``.port`` and
    ``.pid``) once it is healthy; stop it on exit.

    ``env``: the server's whole environment (default: this process's); the repository root is put
    first on ``PYTHONPATH`` either way, so ``import dashboard`` works from any ``cwd``.
    ``extra_args``: more ``streamlit run`` options. ``log_path``: where the server's output goes
    (default: a temporary file, removed afterwards). ``port``: a fixed port, for a caller that
    must know it before the start (e.g. an OAuth redirect URI in a secrets file); by default a
    free one is picked, and picked again when another process takes it first.
    ``address_from_config``: do not pass ``--server.address``, so the bind address comes from
    ``cwd/.streamlit/config.toml`` (the deployment test checks that file's setting); the health
    check still goes to 127.0.0.1.
    """
    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), environment.get("PYTHONPATH", "")) if p)
    with ExitStack() as stack:
        if log_path is None:
            log_path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="streamlit-log-"))) / "streamlit.log"
        log_path = Path(log_path)
        attempts = 1 if port is not None else PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            chosen = port if port is not None else free_port()
            with log_path.open("w", encoding="utf-8") as log:
                process = subprocess.Popen(
                    streamlit_command(script, chosen, bind_address=not address_from_config, extra_args=extra_args),
                    cwd=cwd, env=environment, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            url = ServerUrl(chosen, process.pid)
            try:
                wait_healthy(url, process, timeout, log_path=log_path)
            except StreamlitServerError:
                stop(process)
                port_taken = f"Port {chosen} is not available" in log_tail(log_path)  # streamlit's words
                if port_taken and attempt < attempts:
                    continue
                raise
            except BaseException:
                stop(process)
                raise
            break
        try:
            yield url
        finally:
            stop(process)
