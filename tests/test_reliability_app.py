"""The app under damaged data and its small leaks (AppTest; the served app is in
tests/test_reliability_app_server.py).

- A missing, truncated or corrupt embedded file, a missing manifest or a bad companies.csv gives
  an error page that names the file (relative path) and what to do, never a raw exception.
- The in-app refresh reports its outcome in one readable line; a refresh error shows relative
  paths.
- The validation report on the methodology page names files relative to the repository.
- A secrets file that cannot be parsed does not show its path.
- The page icon is an emoji (a ":material/...:" icon makes browsers fetch the favicon from
  fonts.gstatic.com).
"""

from __future__ import annotations

import ast

import pandas as pd
import pytest
import streamlit
from streamlit.errors import StreamlitSecretNotFoundError
from streamlit.string_util import is_emoji
from streamlit.testing.v1 import AppTest

from dashboard import config
from dashboard.errors import RefreshInProgress
from dashboard.loaders import refresh as refresh_module
from dashboard.loaders.snapshot import dataset_entry, update_manifest
from dashboard.ui import auth, refreshing

APP = config.REPO_ROOT / "dashboard" / "app.py"


def rendered_text(at: AppTest) -> str:
    parts = [t.value for t in at.title] + [e.value for e in at.error] + [m.value for m in at.markdown]
    parts += [c.value for c in at.code] + [w.value for w in at.warning] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def run_app(monkeypatch, data_dir, page: str | None = None) -> AppTest:
    # config.DATA_DIR is read when dashboard.config is imported; AppTest runs in this process.
    monkeypatch.setattr(config, "DATA_DIR", data_dir)
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    return at


def truncate(path):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[: int(len(lines) * 0.6)]), encoding="utf-8")


def bad_company(data_dir):
    path = data_dir / config.COMPANIES_FILE
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[2, "fiscal_calendar"] = "lunar"
    frame.to_csv(path, index=False, lineterminator="\n")
    update_manifest(data_dir, "companies", dataset_entry(path, rows=7, as_of="2026-11-28", source="test copy"))


@pytest.mark.parametrize(
    ("damage", "shown"),
    [
        (lambda d: (d / config.EVENTS_FILE).unlink(), "data/manifest.json: data/events.csv: missing"),
        (lambda d: truncate(d / config.EVENTS_FILE), "data/manifest.json: data/events.csv: 57 rows, the manifest says 96"),
        (lambda d: (d / config.PRICES_FILE).write_bytes(b"not parquet"), "data/prices.parquet: cannot be read as Parquet"),
        (lambda d: (d / config.MANIFEST_FILE).unlink(), "data/manifest.json: missing"),
        (bad_company, "data/companies.csv:4: fiscal_calendar: fiscal_calendar is not one of 52_53_week, month_end ('lunar')"),
    ],
    ids=["missing file", "truncated file", "corrupt parquet", "missing manifest", "bad companies value"],
)
def test_damaged_data_gives_an_error_page_naming_the_file(monkeypatch, data_copy, damage, shown):
    damage(data_copy)
    for page in (None, "company", "events"):
        at = run_app(monkeypatch, data_copy, page)
        assert not at.exception, [e.value for e in at.exception]
        text = rendered_text(at)
        assert at.title[0].value == "The data cannot be shown"
        assert shown in text, text
        assert "git checkout data/" in text and "python -m dashboard.loaders.embed" in text
        assert str(data_copy) not in text and str(config.REPO_ROOT) not in text


def test_validation_report_names_files_relative_to_the_repository(monkeypatch):
    at = run_app(monkeypatch, config.DATA_DIR, "methodology")
    summaries = [s.value for s in at.success]
    assert any(s.startswith("events (tests/fixtures/snapshot/events.csv):") for s in summaries), summaries
    assert str(config.REPO_ROOT) not in rendered_text(at)


# --- the in-app refresh --------------------------------------------------------------------------------


def test_refresh_success_is_one_readable_line(monkeypatch):
    result = refresh_module.RefreshResult(
        written={
            "prices": {"file": "prices.parquet", "rows": 14099, "as_of": "2026-09-25", "sha256": "f" * 64, "source": "x" * 300},
            "fundamentals": {"file": "fundamentals.csv", "rows": 108, "as_of": "2026-08-31", "sha256": "e" * 64, "source": "y"},
        },
        missing_tickers=["9984.T"],
        dividend_moves=pd.DataFrame({"ticker": ["MSFT"], "max_relative_change": [0.01], "flagged": [False]}),
        filled_values=2,
        warnings=["yfinance (Yahoo Finance): no prices came back for 9984.T; their previous rows are kept"],
        reports_dir=config.REPO_ROOT / ".cache" / "refresh-reports",
    )
    monkeypatch.setattr(refresh_module, "refresh", lambda **kwargs: result)
    line = refreshing.run_refresh(prices=True, fundamentals=True)
    assert line == (
        "Refresh finished: prices 14,099 rows as of 2026-09-25; fundamentals 108 rows as of 2026-08-31; 2 empty value(s) "
        "filled and 0 quarter(s) added from SEC; no new prices for 9984.T (previous rows kept); 1 warning(s)."
    )


def test_refresh_failure_shows_relative_paths(monkeypatch):
    lock = config.REPO_ROOT / ".cache" / config.REFRESH_LOCK_FILE

    def busy(**kwargs):
        raise RefreshInProgress(f"refresh: another refresh is running (lock {lock}); try again when it ends")

    monkeypatch.setattr(refresh_module, "refresh", busy)
    line = refreshing.run_refresh(prices=True, fundamentals=False)
    assert (
        line
        == "Refresh failed, the data is unchanged: refresh: another refresh is running (lock .cache/refresh.lock); try again when it ends"
    )


# --- secrets and the page icon ------------------------------------------------------------------------------


def test_an_unparsable_secrets_file_does_not_show_its_path(monkeypatch):
    path = "/srv/dashboard/.streamlit/secrets.toml"

    class Broken:
        def __contains__(self, key: object) -> bool:
            raise StreamlitSecretNotFoundError(
                "Error parsing secrets file at {path}: {error}", path=path, error="Invalid value (at line 3, column 9)"
            )

    monkeypatch.setattr(streamlit, "secrets", Broken())
    monkeypatch.setattr(auth, "_secrets_files_present", lambda: True)
    _, _, error = auth._read_secrets()
    assert error == auth.SECRETS_UNREADABLE
    assert "/srv" not in error and "secrets.toml" not in error and "line 3" not in error


def test_the_page_icon_is_an_emoji_not_a_web_font_icon():
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "set_page_config"]
    (call,) = calls
    icon = next(k.value for k in call.keywords if k.arg == "page_icon")
    value = (
        icon.value
        if isinstance(icon, ast.Constant)
        else next(a.value.value for a in tree.body if isinstance(a, ast.Assign) and a.targets[0].id == icon.id)
    )
    assert is_emoji(value) and not value.startswith(":material")
