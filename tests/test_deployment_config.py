"""The served deployment's security settings (.streamlit/config.toml) and secrets hygiene.

Reads the committed file with tomllib, so a setting removed or renamed by mistake fails here,
and cross-checks each option name against the installed streamlit (a misspelt key is silently
ignored by Streamlit, which would leave the default in force).
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_PATH = REPO_ROOT / ".streamlit" / "config.toml"


@pytest.fixture(scope="module")
def config() -> dict:
    with CONFIG_PATH.open("rb") as handle:
        return tomllib.load(handle)


def test_headless_and_documented_address_and_port(config: dict) -> None:
    server = config["server"]
    assert server["headless"] is True
    assert server["address"] == "127.0.0.1"
    assert isinstance(server["port"], int) and 1024 <= server["port"] <= 65535
    text = CONFIG_PATH.read_text(encoding="utf-8")
    # The comment next to the settings tells an operator where the app listens.
    assert f"127.0.0.1:{server['port']}" in text
    assert server["runOnSave"] is False


def test_xsrf_protection_on(config: dict) -> None:
    assert config["server"]["enableXsrfProtection"] is True


def test_cors_protection_on_without_wildcard(config: dict) -> None:
    server = config["server"]
    assert server["enableCORS"] is True
    origins = server.get("corsAllowedOrigins", [])
    assert isinstance(origins, list)
    assert all("*" not in origin for origin in origins)


def test_websocket_host_allow_list_without_wildcard(config: dict) -> None:
    hosts = config["server"]["allowedHosts"]
    assert hosts, "an empty list accepts any Host header (DNS rebinding)"
    assert "*" not in hosts
    assert {"localhost", "127.0.0.1"} <= set(hosts)  # the documented local address works


def test_agent_api_off(config: dict) -> None:
    assert config["server"]["enableAgentApi"] is False


def test_upload_limit_set_and_small(config: dict) -> None:
    limit = config["server"]["maxUploadSize"]
    assert isinstance(limit, int)
    assert 1 <= limit <= 20, "uploads are small event files; the default 200 MB is too generous"


def test_upload_limit_is_the_apps_own(config: dict) -> None:
    from dashboard import config as dashboard_config

    # The app's own check (dashboard/ui/uploads.py) and the server's agree on the size limit.
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == dashboard_config.MAX_UPLOAD_BYTES


def test_data_export_only_through_the_app(config: dict) -> None:
    assert config["client"]["disableDataExport"] is True


def test_toolbar_lets_viewers_switch_the_theme_without_developer_options(config: dict) -> None:
    # "viewer" hides rerun, clear cache and deploy but keeps Settings (the theme switcher);
    # "minimal" would hide the switcher as well, "developer"/"auto" would show developer options.
    assert config["client"]["toolbarMode"] == "viewer"


def test_no_static_serving_and_no_telemetry(config: dict) -> None:
    assert config["server"].get("enableStaticServing", False) is False
    assert config["browser"]["gatherUsageStats"] is False


def test_every_option_is_known_to_installed_streamlit(config: dict) -> None:
    from streamlit import config as st_config

    known = set(st_config._config_options_template)  # "section.option" keys
    for section, options in config.items():
        for option in options:
            assert f"{section}.{option}" in known, f"{CONFIG_PATH.name}: unknown option {section}.{option}"


def test_secrets_file_is_git_ignored_and_not_tracked() -> None:
    git = shutil.which("git")
    if git is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run([git, "check-ignore", "-q", ".streamlit/secrets.toml"], cwd=REPO_ROOT, check=False)
    assert ignored.returncode == 0, ".streamlit/secrets.toml must be listed in .gitignore"
    tracked = subprocess.run(
        [git, "ls-files", "--error-unmatch", ".streamlit/secrets.toml"],
        cwd=REPO_ROOT,
        check=False,
        capture_output=True,
    )
    assert tracked.returncode != 0, ".streamlit/secrets.toml is committed: remove it and rotate secrets"


# --- the settings take effect on a real server (loopback only, no browser) ------------------


@pytest.fixture(scope="module")
def served_port():
    """A Streamlit server started from the repo root, so it reads .streamlit/config.toml; the
    bind address is left to that file (no --server.address flag), which the tests below check."""
    from tests.streamlit_server import running_streamlit

    with running_streamlit("tests/fixtures/auth_gate_app.py", cwd=REPO_ROOT, address_from_config=True) as url:
        yield url.port


def _websocket_status(port: int, host: str, origin: str) -> str:
    """Status line of a raw WebSocket upgrade request to /_stcore/stream."""
    import base64
    import os
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n"
            "Sec-WebSocket-Protocol: streamlit\r\n\r\n"
        )
        sock.sendall(request.encode())
        return sock.recv(256).split(b"\r\n")[0].decode()


def test_server_listens_on_loopback_only(served_port: int) -> None:
    import socket

    # Bound to 127.0.0.1 by the config: the machine's other addresses do not answer.
    # (A UDP "connect" only picks the outgoing interface; no packet is sent.)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            hostname_ip = probe.getsockname()[0]
    except OSError:
        hostname_ip = "127.0.0.1"
    if hostname_ip.startswith("127.") or hostname_ip == "0.0.0.0":
        pytest.skip("no non-loopback address to probe")
    with pytest.raises(OSError):
        socket.create_connection((hostname_ip, served_port), timeout=2).close()


def test_websocket_refuses_foreign_hosts_and_origins(served_port: int) -> None:
    local = f"127.0.0.1:{served_port}"
    assert " 101 " in _websocket_status(served_port, local, f"http://{local}")
    assert " 101 " in _websocket_status(served_port, f"localhost:{served_port}", f"http://localhost:{served_port}")
    # DNS rebinding (a foreign Host header) and a cross-origin page are both refused.
    assert " 403 " in _websocket_status(served_port, f"evil.test:{served_port}", f"http://evil.test:{served_port}")
    assert " 403 " in _websocket_status(served_port, local, "http://evil.test")
