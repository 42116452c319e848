"""Optional sign-in (dashboard/ui/auth.py): the pure decision and both states in AppTest.

AppTest replaces ``st.secrets`` with ``at.secrets`` and ``st.user`` with ``at.user`` for a run.
Every test sets ``at.secrets`` (with or without ``[auth]``), so a developer's own
``.streamlit/secrets.toml`` never leaks into the result. The fake OIDC settings below point to
no real provider; nothing here touches the network (``st.login``/``st.logout`` are replaced by
recorders where a button is clicked).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from dashboard.ui import auth
from dashboard.ui.auth import (
    access_decision,
    auth_providers,
    email_domain,
    missing_auth_keys,
    normalize_domains,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
GATE_APP = REPO_ROOT / "tests" / "fixtures" / "auth_gate_app.py"
REAL_APP = REPO_ROOT / "dashboard" / "app.py"
MARKER = "SECRET-DATA-MARKER"

FAKE_AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "test-only-cookie-secret-not-used-anywhere",
    "client_id": "test-client",
    "client_secret": "test-secret",
    "server_metadata_url": "https://idp.invalid/.well-known/openid-configuration",
}


# --- the pure decision -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "logged_in", "email", "domains", "verified", "expected"),
    [
        (False, False, None, (), None, "open"),
        (False, True, "a@evil.test", ["example.com"], None, "open"),  # no [auth]: domains unused
        (True, False, None, (), None, "sign_in"),
        (True, False, "a@example.com", ["example.com"], True, "sign_in"),  # claims w/o login
        (True, True, "a@example.com", (), None, "allowed"),
        (True, True, None, (), None, "allowed"),  # no restriction, no email needed
        (True, True, "a@example.com", ["example.com"], None, "allowed"),
        (True, True, "A@Example.COM", ["example.com"], True, "allowed"),  # case-insensitive
        (True, True, "a@example.com", ["other.org", "@EXAMPLE.com"], None, "allowed"),
        (True, True, "a@example.com", "example.com", None, "allowed"),  # a bare string
        (True, True, "a@evil.test", ["example.com"], None, "denied"),
        (True, True, "a@sub.example.com", ["example.com"], None, "denied"),  # exact match only
        (True, True, "a@example.com.evil.test", ["example.com"], None, "denied"),
        (True, True, "example.com", ["example.com"], None, "denied"),  # not an address
        (True, True, None, ["example.com"], None, "denied"),
        (True, True, "a@example.com", ["example.com"], False, "denied"),  # unverified
    ],
)
def test_access_decision(configured, logged_in, email, domains, verified, expected) -> None:
    assert access_decision(configured, logged_in, email, domains, email_verified=verified) == expected


def test_helpers() -> None:
    assert normalize_domains(None) == ()
    assert normalize_domains([" Example.com ", "@example.com", "", "b.org"]) == (
        "example.com",
        "b.org",
    )
    assert email_domain("x@y@Z.org") == "z.org"
    assert email_domain("nobody") is None
    assert email_domain("trailing@") is None
    assert missing_auth_keys({**FAKE_AUTH, "client_secret": ""}) == ["client_secret"]
    assert missing_auth_keys(FAKE_AUTH) == []
    assert missing_auth_keys({}) == ["redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url"]


def test_named_providers() -> None:
    shared = {k: FAKE_AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    provider = {k: FAKE_AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    assert auth_providers(FAKE_AUTH) == [None]
    assert auth_providers({**FAKE_AUTH, "client_kwargs": {"prompt": "login"}}) == [None]
    named = {**shared, "okta": provider, "entra": {**provider, "client_secret": ""}}
    assert auth_providers(named) == ["okta", "entra"]
    assert missing_auth_keys(named) == ["entra.client_secret"]


def test_unreadable_secrets_file_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def __contains__(self, key: object) -> bool:
            raise FileNotFoundError("Error parsing secrets file")

    monkeypatch.setattr(streamlit, "secrets", Broken())
    monkeypatch.setattr(auth, "_secrets_files_present", lambda: True)
    section, domains, error = auth._read_secrets()
    assert section is None and domains == () and error is not None
    # No secrets file at all is the ordinary "open" case, not an error.
    monkeypatch.setattr(auth, "_secrets_files_present", lambda: False)
    assert auth._read_secrets() == (None, (), None)


# --- both states in a tiny app: the gate, then a marker standing for the data -------------


def _gate(secrets: dict, user: dict | None = None, script: Path = GATE_APP) -> AppTest:
    at = AppTest.from_file(str(script), default_timeout=60)
    for key, value in secrets.items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    return at.run()


def _texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [t.value for t in at.title] + [e.value for e in at.error])


def test_without_auth_the_app_is_open() -> None:
    at = _gate({"unrelated": {"key": "value"}})
    assert not at.exception
    assert MARKER in _texts(at)
    assert len(at.button) == 0


@pytest.mark.parametrize("user", [{"email": "test@example.com"}, {"is_logged_in": False}])
def test_anonymous_visitor_sees_only_a_sign_in_prompt(user: dict) -> None:
    at = _gate({"auth": FAKE_AUTH}, user)
    assert not at.exception
    assert MARKER not in _texts(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert at.title[0].value == "Sign in required"


def test_sign_in_button_starts_the_oidc_login(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple] = []
    monkeypatch.setattr(streamlit, "login", lambda *args: calls.append(args))
    at = _gate({"auth": FAKE_AUTH}, {"is_logged_in": False})
    at.button(key="auth_sign_in").click().run()
    assert calls == [()], "st.login() with the default provider"
    assert MARKER not in _texts(at)


def test_named_provider_gets_its_own_sign_in_button(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple] = []
    monkeypatch.setattr(streamlit, "login", lambda *args: calls.append(args))
    provider = {k: FAKE_AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    secrets = {"auth": {"redirect_uri": FAKE_AUTH["redirect_uri"], "cookie_secret": "s", "okta": provider}}
    at = _gate(secrets, {"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in with okta"]
    at.button(key="auth_sign_in_okta").click().run()
    assert calls == [("okta",)]
    assert MARKER not in _texts(at)


def test_signed_in_user_continues() -> None:
    at = _gate({"auth": FAKE_AUTH}, {"is_logged_in": True, "email": "ana@example.com"})
    assert not at.exception
    assert MARKER in _texts(at)
    assert len(at.button) == 0


def test_allowed_domain_continues_other_domain_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"auth": FAKE_AUTH, "access": {"allowed_domains": ["example.com"]}}
    allowed = _gate(secrets, {"is_logged_in": True, "email": "ana@EXAMPLE.com"})
    assert MARKER in _texts(allowed)

    denied = _gate(secrets, {"is_logged_in": True, "email": "eve@evil.test"})
    assert MARKER not in _texts(denied)
    assert denied.title[0].value == "Access denied"
    assert "eve@evil.test" in denied.error[0].value
    calls: list[int] = []
    monkeypatch.setattr(streamlit, "logout", lambda: calls.append(1))
    denied.button(key="auth_sign_out").click().run()
    assert calls == [1]


def test_incomplete_auth_section_keeps_the_app_locked() -> None:
    partial = {k: v for k, v in FAKE_AUTH.items() if k != "cookie_secret"}
    at = _gate({"auth": partial}, {"is_logged_in": True, "email": "ana@example.com"})
    assert MARKER not in _texts(at)
    assert "cookie_secret" in at.error[0].value
    assert FAKE_AUTH["client_secret"] not in at.error[0].value  # names keys, never values


# --- the real dashboard ------------------------------------------------------------------


def _real_app_gates() -> bool:
    return REAL_APP.exists() and "require_sign_in(" in REAL_APP.read_text(encoding="utf-8")


@pytest.mark.skipif(not _real_app_gates(), reason="dashboard/app.py does not call require_sign_in yet")
def test_real_app_anonymous_sees_no_data() -> None:
    at = _gate({"auth": FAKE_AUTH}, {"is_logged_in": False}, script=REAL_APP)
    assert not at.exception, [e.value for e in at.exception]
    assert [b.label for b in at.button] == ["Sign in"]
    assert len(at.dataframe) == 0 and len(at.table) == 0 and len(at.metric) == 0
    assert len(at.get("plotly_chart")) == 0
    assert len(at.sidebar.children) == 0, "no shared controls (which could reveal data) before sign-in"
    assert MARKER not in _texts(at)
    # Only the gate's prompt is on the page: a title, one line of text and the button.
    assert [type(node).__name__ for node in at.main if type(node).__name__ != "SpecialBlock"] == [
        "Title",
        "Markdown",
        "Button",
    ]


@pytest.mark.skipif(not _real_app_gates(), reason="dashboard/app.py does not call require_sign_in yet")
def test_real_app_signed_in_user_gets_past_the_gate() -> None:
    at = _gate({"auth": FAKE_AUTH}, {"is_logged_in": True, "email": "ana@example.com"}, REAL_APP)
    assert "Sign in required" not in [t.value for t in at.title]
    assert "auth_sign_in" not in [b.key for b in at.button]
    # The script went on past the gate: the shared sidebar controls exist. (Whether the pages
    # themselves run cleanly is the page tests' business; a failure there must not hide here.)
    assert len(at.sidebar.children) > 0 or at.exception
    assert not any("dashboard/ui/auth.py" in "".join(e.stack_trace) for e in at.exception)


# --- the sign-in flow's own dependencies -----------------------------------------------------


@pytest.mark.parametrize("module", ["authlib", "httpx"])
def test_sign_in_dependencies_are_installed(module: str) -> None:
    """st.login's server side needs streamlit's ``auth`` extra: Authlib AND httpx. Without httpx
    the app still shows the sign-in button, but /auth/login fails with ModuleNotFoundError
    (seen on a real server), so sign-in would be switched on and impossible to pass."""
    import importlib.util

    assert importlib.util.find_spec(module) is not None, (
        f"{module} is missing: pin it in requirements.txt (streamlit[auth] needs Authlib>=1.3.2 and httpx>=0.24.1)"
    )


# --- end to end: the real st.login flow against a local fake OpenID Connect provider ---------


@pytest.mark.browser
def test_real_sign_in_flow_in_a_browser(tmp_path: Path) -> None:
    """A served app with [auth] (in a temporary folder, so no real secrets file is involved):
    anonymous -> prompt only; sign in via the provider as an allowed user -> the data; as a user
    of another domain -> refusal; sign out -> back to the prompt. Offline: the provider is
    tests/fixtures/fake_oidc.py on 127.0.0.1."""
    import asyncio
    import os
    import shutil

    pytest.importorskip("playwright")
    pytest.importorskip("httpx")
    from tests.streamlit_server import (
        CHROMIUM,
        CHROMIUM_ARGS,
        free_port,
        running_streamlit,
    )

    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    from playwright.async_api import async_playwright

    from tests.fixtures.fake_oidc import FakeOIDCProvider

    port = free_port()  # fixed before the start: the redirect URI in secrets.toml names it
    (tmp_path / ".streamlit").mkdir()
    shutil.copy(REPO_ROOT / ".streamlit" / "config.toml", tmp_path / ".streamlit" / "config.toml")
    shutil.copy(GATE_APP, tmp_path / "app.py")
    wait_ms = 90_000  # the whole suite runs on 2 cores in CI: a sign-in round trip can take long

    async def visit(base: str, idp: FakeOIDCProvider) -> dict[str, str]:
        seen: dict[str, str] = {}
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                for email in ("ana@example.com", "eve@evil.test"):
                    idp.email = email
                    context = await browser.new_context()
                    context.set_default_timeout(wait_ms)
                    page = await context.new_page()
                    await page.goto(base)
                    await page.get_by_text("Sign in required").wait_for()
                    seen["anonymous"] = await page.inner_text("body")
                    await page.get_by_role("button", name="Sign in").click()
                    expected = MARKER if email.endswith("@example.com") else "Access denied"
                    await page.get_by_text(expected).wait_for()
                    seen[email] = await page.inner_text("body")
                    if expected == "Access denied":
                        await page.get_by_role("button", name="Sign out").click()
                        await page.get_by_text("Sign in required").wait_for()
                        seen["signed_out"] = await page.inner_text("body")
                    await context.close()
            finally:
                await browser.close()
        return seen

    with FakeOIDCProvider("dashboard-test-client") as idp:
        (tmp_path / ".streamlit" / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{os.urandom(16).hex()}"\n'
            'client_id = "dashboard-test-client"\n'
            'client_secret = "dashboard-test-secret"\n'
            f'server_metadata_url = "{idp.metadata_url}"\n'
            "[access]\n"
            'allowed_domains = ["example.com"]\n',
            encoding="utf-8",
        )
        with running_streamlit("app.py", cwd=tmp_path, port=port) as url:
            seen = asyncio.run(visit(url + "/", idp))

    assert MARKER not in seen["anonymous"]
    assert MARKER in seen["ana@example.com"]
    assert "Access denied" in seen["eve@evil.test"] and MARKER not in seen["eve@evil.test"]
    assert "Sign in required" in seen["signed_out"] and MARKER not in seen["signed_out"]
