"""SEC EDGAR requests: the one way this package talks to SEC, and the company-facts extract.

- **Who asks**: ``sec_user_agent`` (a contact address, which SEC requires), at most
  ``config.SEC_MAX_REQUESTS_PER_SECOND`` requests per second across the process
  (``SEC_RATE_LIMITER``), a short connect timeout.
- **One request**: ``fetch_sec_response`` makes one GET through a ``SecClient`` (the transport,
  User-Agent, limiter, cache folder, and the injectable ``sleep`` and ``now``). A 429 or 5xx
  answer is retried at most ``config.SEC_MAX_RETRIES`` times, each after waiting what
  ``Retry-After`` asks (seconds or an HTTP date) or else ``config.SEC_RETRY_BACKOFF_SECONDS``
  (1, 2, 4 s), never longer than ``config.SEC_MAX_RETRY_WAIT_SECONDS``; each retry goes through
  the rate limiter again. Offline and timeouts fail at once, naming SEC EDGAR.
- **Cached JSON**: ``fetch_sec_json`` serves a cached copy younger than its age limit, else
  fetches, checks the shape and caches the answer atomically under ``config.CACHE_DIR / "sec"``.
- **Company facts**: ``fetch_companyfacts_raw`` is the fundamentals refresh's extract step
  (``{base}/api/xbrl/companyfacts/CIK##########.json``); ``companyfacts.normalize_companyfacts``
  turns it into quarters. The filings loader (``loaders.filings``) uses the same client.

SEC EDGAR data is public domain (a U.S. government work).
"""

from __future__ import annotations

import email.utils
import json
import os
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from dashboard import config
from dashboard.errors import RefreshError
from dashboard.loaders.snapshot import atomic_write_text

SOURCE = "SEC EDGAR"
SEC_BASE_URL_ENV = "DASHBOARD_SEC_BASE_URL"  # tests point it at a closed local port
SEC_BASE_URL = "https://data.sec.gov"
SEC_CONNECT_TIMEOUT_SECONDS = 3.05
SEC_READ_TIMEOUT_SECONDS = 30.0
SEC_CACHE_MAX_AGE_SECONDS = 12 * 3600.0  # companyfacts changes only when a company files
SECRETS_FILE = config.REPO_ROOT / ".streamlit" / "secrets.toml"


# --- who asks, and how often --------------------------------------------------------------------


def sec_base_url() -> str:
    """SEC EDGAR's API host (environment variable ``DASHBOARD_SEC_BASE_URL`` may override)."""
    return os.environ.get(SEC_BASE_URL_ENV, SEC_BASE_URL).rstrip("/")


def companyfacts_url(cik: int) -> str:
    """The company-facts address for a CIK (zero-padded to 10 digits)."""
    return f"{sec_base_url()}/api/xbrl/companyfacts/CIK{int(cik):010d}.json"


def sec_user_agent(explicit: str | None = None, *, secrets_file: Path | None = None) -> str:
    """The User-Agent for SEC requests: ``explicit``, else the ``SEC_USER_AGENT`` environment
    variable, else ``SEC_USER_AGENT`` in ``.streamlit/secrets.toml``. It must hold a contact email
    address (SEC blocks anonymous clients); otherwise ``RefreshError`` says how to set it."""
    value = explicit or os.environ.get(config.SEC_USER_AGENT_ENV, "")
    if not value:
        path = SECRETS_FILE if secrets_file is None else secrets_file
        try:
            value = str(tomllib.loads(path.read_text(encoding="utf-8")).get(config.SEC_USER_AGENT_ENV, ""))
        except (OSError, tomllib.TOMLDecodeError):
            value = ""
    value = value.strip()
    if "@" not in value:
        raise RefreshError(
            f"{SOURCE}: no User-Agent with a contact address; set {config.SEC_USER_AGENT_ENV}="
            f'"Your Name you@example.com" in the environment or in .streamlit/secrets.toml (SEC requires it)'
        )
    return value


class RateLimiter:
    """At most ``rate`` calls per second, across threads: each call waits until ``1 / rate``
    seconds have passed since the previous one. ``clock`` and ``sleep`` are injectable."""

    def __init__(
        self,
        rate: float = config.SEC_MAX_REQUESTS_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next = -float("inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


SEC_RATE_LIMITER = RateLimiter()


# --- one request, retried -----------------------------------------------------------------------


class SecNotFound(RefreshError):
    """SEC answered 404: the address does not exist (an unknown CIK, a page or filing not there)."""


def retry_wait_seconds(retry_after: str | None, attempt: int, *, now: float) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): what ``Retry-After`` asks (whole
    seconds, or an HTTP date less ``now``, a POSIX time), else ``config.SEC_RETRY_BACKOFF_SECONDS``
    by attempt (1, 2, 4 s; the last step repeats). Never negative."""
    if retry_after:
        text = retry_after.strip()
        if text.isdigit():
            return float(text)
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            return max(0.0, moment.timestamp() - now)
    steps = config.SEC_RETRY_BACKOFF_SECONDS
    return steps[min(attempt, len(steps) - 1)]


@dataclass
class SecClient:
    """How SEC requests are made: the transport (a ``requests.Session`` or anything with the same
    ``get(url, headers=..., timeout=...)``), the User-Agent, the rate limiter, the cache folder
    and the injectable ``sleep`` and ``now`` (POSIX seconds) used for retries."""

    session: Any
    user_agent: str
    limiter: RateLimiter = field(default_factory=lambda: SEC_RATE_LIMITER)
    cache_dir: Path | None = None
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time
    max_retries: int = config.SEC_MAX_RETRIES
    max_wait_seconds: float = config.SEC_MAX_RETRY_WAIT_SECONDS
    timeout: tuple[float, float] = (SEC_CONNECT_TIMEOUT_SECONDS, SEC_READ_TIMEOUT_SECONDS)

    @property
    def folder(self) -> Path:
        """The cache folder: ``cache_dir``, else ``config.CACHE_DIR / "sec"``."""
        return (config.CACHE_DIR / "sec") if self.cache_dir is None else Path(self.cache_dir)


def _retry_status(status: int) -> bool:
    return status == 429 or 500 <= status < 600


def fetch_sec_response(url: str, client: SecClient) -> Any:
    """One GET of ``url`` with the SEC User-Agent, after the rate limiter; retried after 429 or
    5xx (at most ``client.max_retries`` times, each after the rate limiter again).

    Raises ``RefreshError`` naming SEC EDGAR and the address when the host cannot be reached or
    times out (no retry: offline fails fast), on 403 (User-Agent refused), on another 4xx, when
    ``Retry-After`` asks for longer than ``client.max_wait_seconds``, or when retries run out;
    ``SecNotFound`` on 404. Returns the response.
    """
    for attempt in range(client.max_retries + 1):
        client.limiter.wait()
        try:
            response = client.session.get(
                url, headers={"User-Agent": client.user_agent, "Accept-Encoding": "gzip, deflate"}, timeout=client.timeout
            )
        except requests.Timeout as exc:
            raise RefreshError(f"{SOURCE}: timed out reaching {url} ({exc.__class__.__name__})") from exc
        except requests.RequestException as exc:
            raise RefreshError(f"{SOURCE}: cannot reach {url} (offline?): {exc.__class__.__name__}") from exc
        status = int(response.status_code)
        if _retry_status(status):
            what = "rate-limited" if status == 429 else "server error"
            if attempt == client.max_retries:
                raise RefreshError(f"{SOURCE}: HTTP {status} for {url} ({what}), still after {client.max_retries} retries; try again later")
            wait = retry_wait_seconds((getattr(response, "headers", None) or {}).get("Retry-After"), attempt, now=client.now())
            if wait > client.max_wait_seconds:
                raise RefreshError(
                    f"{SOURCE}: HTTP {status} for {url} ({what}): SEC asks to wait {wait:.0f} s "
                    f"(more than {client.max_wait_seconds:.0f} s); try again later"
                )
            client.sleep(wait)
            continue
        if status == 403:
            raise RefreshError(f"{SOURCE}: HTTP 403 for {url}: the User-Agent was refused; check {config.SEC_USER_AGENT_ENV}")
        if status == 404:
            raise SecNotFound(f"{SOURCE}: HTTP 404 for {url}: not found")
        if status >= 400:
            raise RefreshError(f"{SOURCE}: HTTP {status} for {url}")
        return response
    raise AssertionError("unreachable")  # the loop returns or raises


# --- cached JSON --------------------------------------------------------------------------------


def read_cached_text(path: Path, max_age_seconds: float) -> str | None:
    """The text of a cache file younger than ``max_age_seconds`` (``inf``: any age), else None
    (absent, too old, unreadable, or ``max_age_seconds <= 0``, which forces a download)."""
    if max_age_seconds <= 0 or not path.exists():
        return None
    if time.time() - path.stat().st_mtime >= max_age_seconds:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def fetch_sec_json(
    url: str, client: SecClient, *, cache_path: Path, max_age_seconds: float, check: Callable[[Any], bool], what: str
) -> dict:
    """The JSON at ``url``: the cached copy at ``cache_path`` when it is younger than
    ``max_age_seconds`` and passes ``check``, else one ``fetch_sec_response`` whose JSON is
    checked and cached atomically. Raises ``RefreshError`` when the answer is not JSON or not
    ``what`` (``check`` fails), besides what ``fetch_sec_response`` raises."""
    cached = read_cached_text(cache_path, max_age_seconds)
    if cached is not None:
        try:
            raw = json.loads(cached)
            if check(raw):
                return raw
        except json.JSONDecodeError:
            pass  # a broken cache entry is simply fetched again
    response = fetch_sec_response(url, client)
    try:
        raw = response.json()
    except ValueError as exc:
        raise RefreshError(f"{SOURCE}: {url} did not return JSON") from exc
    if not check(raw):
        raise RefreshError(f"{SOURCE}: {url} returned JSON that is not {what}")
    atomic_write_text(cache_path, json.dumps(raw))
    return raw


# --- company facts ------------------------------------------------------------------------------


def _is_companyfacts(raw: Any) -> bool:
    return isinstance(raw, dict) and "facts" in raw


def fetch_companyfacts_raw(cik: int, client: SecClient, *, max_cache_age_seconds: float = SEC_CACHE_MAX_AGE_SECONDS) -> dict[str, Any]:
    """The company-facts JSON of one company, as SEC serves it (values in whole USD).

    A cached copy (``client.folder / "CIK##########.json"``) younger than
    ``max_cache_age_seconds`` is returned without a request (0 forces a download). Otherwise one
    ``fetch_sec_response`` (rate-limited, retried after 429/5xx honouring Retry-After), cached
    atomically. Raises ``RefreshError`` naming SEC EDGAR when the host is unreachable, times out,
    answers 403 (User-Agent refused), 429 or 5xx after the retries, another error status, or
    sends something that is not company-facts JSON; ``SecNotFound`` on 404 (unknown CIK).
    """
    url = companyfacts_url(cik)
    try:
        return fetch_sec_json(
            url,
            client,
            cache_path=client.folder / f"CIK{int(cik):010d}.json",
            max_age_seconds=max_cache_age_seconds,
            check=_is_companyfacts,
            what="company facts (no 'facts')",
        )
    except SecNotFound as exc:
        raise SecNotFound(f"{SOURCE}: HTTP 404 for {url}: no company facts for CIK {cik}") from exc
