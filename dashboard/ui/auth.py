"""Optional sign-in for the served dashboard (OpenID Connect through ``st.login``).

Sign-in is switched on by an ``[auth]`` section in ``.streamlit/secrets.toml`` (never committed;
see the README for the keys). When it is on, every page requires a signed-in user; optionally
only some email domains are let in, listed in a separate ``[access]`` section::

    [auth]
    redirect_uri = "https://dash.example.com/oauth2callback"
    cookie_secret = "<long random string>"
    client_id = "..."
    client_secret = "..."
    server_metadata_url = "https://idp.example.com/.well-known/openid-configuration"

    [access]
    allowed_domains = ["example.com"]

A named provider (``[auth.okta]`` holding ``client_id``, ``client_secret`` and
``server_metadata_url``) gets its own "Sign in with okta" button; several may be configured.

Our own key lives outside ``[auth]`` on purpose: ``[auth]`` belongs to Streamlit, which reads
sub-tables there as named providers, so a key of ours could be mistaken for one.

Without ``[auth]`` the app runs open (for a local or otherwise locked-down deployment).
A secrets file that exists but cannot be read fails closed: the visitor sees an error, no data.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import streamlit as st

AccessDecision = Literal["open", "sign_in", "denied", "allowed"]

#: Keys every ``[auth]`` section needs, and the keys of each provider (the default provider keeps
#: them at the top of ``[auth]``; a named one in ``[auth.<name>]``). Checked here to fail closed
#: with a clear message instead of an exception on the sign-in click.
SHARED_AUTH_KEYS: tuple[str, ...] = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS: tuple[str, ...] = ("client_id", "client_secret", "server_metadata_url")
REQUIRED_AUTH_KEYS: tuple[str, ...] = (*SHARED_AUTH_KEYS, *PROVIDER_KEYS)
#: Sub-tables of ``[auth]`` that are settings, not named providers.
_NOT_PROVIDERS = frozenset({"client_kwargs"})
ACCESS_SECTION = "access"
SECRETS_UNREADABLE = "The server's secrets file could not be read, so the app stays locked. The server log says why."
ALLOWED_DOMAINS_KEY = "allowed_domains"


def normalize_domains(domains: Iterable[str] | str | None) -> tuple[str, ...]:
    """Lower-case, strip and de-duplicate email domains; a single string counts as one domain.

    A leading ``@`` is dropped (``"@example.com"`` -> ``"example.com"``). ``None`` or an empty
    list gives ``()``, meaning every domain is allowed.
    """
    if domains is None:
        return ()
    if isinstance(domains, str):
        domains = [domains]
    cleaned: list[str] = []
    for domain in domains:
        value = str(domain).strip().lower().lstrip("@")
        if value and value not in cleaned:
            cleaned.append(value)
    return tuple(cleaned)


def email_domain(email: str | None) -> str | None:
    """The lower-cased part after the last ``@`` of ``email``; ``None`` when there is none."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower()
    return domain or None


def access_decision(
    auth_configured: bool,
    is_logged_in: bool,
    email: str | None,
    allowed_domains: Iterable[str] | str | None = (),
    *,
    email_verified: bool | None = None,
) -> AccessDecision:
    """Decide what a visitor may see. Pure: no Streamlit, no secrets.

    - ``"open"``: sign-in is not configured; everyone sees the app.
    - ``"sign_in"``: configured and the visitor is anonymous; show only a sign-in prompt.
    - ``"denied"``: signed in, but domains are restricted and the email's domain is not listed
      (exact match, case-insensitive; no email, or a provider saying ``email_verified=False``,
      is denied too, since an unverified address proves nothing about the domain).
    - ``"allowed"``: signed in and, if domains are restricted, from an allowed one.
    """
    if not auth_configured:
        return "open"
    if not is_logged_in:
        return "sign_in"
    domains = normalize_domains(allowed_domains)
    if not domains:
        return "allowed"
    if email_verified is False:
        return "denied"
    domain = email_domain(email)
    if domain is None or domain not in domains:
        return "denied"
    return "allowed"


def auth_providers(auth_section: Mapping[str, Any]) -> list[str | None]:
    """Providers configured in ``[auth]``: ``None`` for the default one (provider keys at the top
    of the section), then each ``[auth.<name>]`` sub-table, in file order."""
    providers: list[str | None] = []
    if any(key in auth_section for key in PROVIDER_KEYS):
        providers.append(None)
    for name, value in auth_section.items():
        if isinstance(value, Mapping) and name not in _NOT_PROVIDERS:
            providers.append(str(name))
    return providers


def missing_auth_keys(auth_section: Mapping[str, Any]) -> list[str]:
    """Required keys absent or empty in ``[auth]``: the shared ones, then each provider's
    (``okta.client_secret`` for a named provider). With no provider at all, the default
    provider's keys are reported missing."""
    missing = [key for key in SHARED_AUTH_KEYS if not auth_section.get(key)]
    for provider in auth_providers(auth_section) or [None]:
        section = auth_section if provider is None else auth_section[provider]
        prefix = "" if provider is None else f"{provider}."
        missing += [f"{prefix}{key}" for key in PROVIDER_KEYS if not section.get(key)]
    return missing


def _secrets_files_present() -> bool:
    """Whether any configured secrets file exists on disk (to tell "none" from "unreadable")."""
    try:
        paths = st.get_option("secrets.files") or []
    except Exception:  # noqa: BLE001 - option missing in some runtimes: assume default paths
        paths = [os.path.join(".streamlit", "secrets.toml")]
    return any(os.path.exists(os.path.expanduser(str(p))) for p in paths)


def _read_secrets() -> tuple[Mapping[str, Any] | None, tuple[str, ...], str | None]:
    """Return (auth section or None, allowed domains, error message or None)."""
    try:
        has_auth = "auth" in st.secrets
        auth_section = st.secrets["auth"] if has_auth else None
        access = st.secrets[ACCESS_SECTION] if ACCESS_SECTION in st.secrets else {}
    except FileNotFoundError as exc:  # StreamlitSecretNotFoundError subclasses it
        if _secrets_files_present():
            # The details (the file's path, the parser's message) are for the operator, in the
            # server log; a visitor, perhaps anonymous, learns only that the app is locked.
            logging.getLogger(__name__).error("secrets file could not be read: %s", exc)
            return None, (), SECRETS_UNREADABLE
        return None, (), None
    domains_raw = access.get(ALLOWED_DOMAINS_KEY) if isinstance(access, Mapping) else None
    return auth_section, normalize_domains(domains_raw), None


def _user_claims() -> tuple[bool, str | None, bool | None]:
    """(is_logged_in, email, email_verified) from ``st.user``, tolerant of missing claims."""
    user = st.user
    is_logged_in = bool(user.get("is_logged_in", False))
    email = user.get("email")
    verified = user.get("email_verified")
    return is_logged_in, (str(email) if email else None), (verified if isinstance(verified, bool) else None)


def require_sign_in() -> None:
    """Gate the whole app behind ``st.login`` when ``[auth]`` is configured in the secrets.

    Call it in ``dashboard/app.py`` right after ``st.set_page_config`` and before any data is
    loaded or any page runs. Without ``[auth]`` it does nothing. Otherwise an anonymous visitor
    sees a sign-in button and the script stops (``st.stop()``); a signed-in user from a
    domain outside ``[access] allowed_domains`` sees a refusal and a log-out button, then the
    script stops. An incomplete ``[auth]`` section or an unreadable secrets file also stops the
    script with an error (fail closed), naming the missing keys but never their values.
    """
    auth_section, allowed_domains, error = _read_secrets()
    if error is not None:
        st.error(error)
        st.stop()
    auth_configured = auth_section is not None
    if auth_section is not None:
        missing = missing_auth_keys(auth_section)
        if missing:
            st.error(
                "Sign-in is switched on in .streamlit/secrets.toml but the [auth] section is "
                f"missing: {', '.join(missing)}. The app stays locked until it is complete."
            )
            st.stop()
    is_logged_in, email, verified = _user_claims() if auth_configured else (False, None, None)
    decision = access_decision(auth_configured, is_logged_in, email, allowed_domains, email_verified=verified)
    if decision in ("open", "allowed"):
        return
    if decision == "sign_in":
        assert auth_section is not None  # access_decision asks for a sign-in only when [auth] is configured
        st.title("Sign in required")
        st.write("This dashboard is private. Sign in with your organization's account to continue.")
        for provider in auth_providers(auth_section):
            label = "Sign in" if provider is None else f"Sign in with {provider}"
            key = "auth_sign_in" if provider is None else f"auth_sign_in_{provider}"
            if st.button(label, key=key, type="primary"):
                if provider is None:
                    st.login()
                else:
                    st.login(provider)
        st.stop()
    # denied
    st.title("Access denied")
    st.error(
        f"The account {email or '(no email)'} is not allowed to use this dashboard. "
        "Sign out and sign in with an account from an allowed domain."
    )
    if st.button("Sign out", key="auth_sign_out"):
        st.logout()
    st.stop()
