"""A pasted link cannot inject Markdown (a live link, an image) into the app's notices."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard import config

APP = str(config.REPO_ROOT / "dashboard" / "app.py")


def test_a_markdown_link_in_a_query_value_is_shown_as_text():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/events.py")
    at.query_params["types"] = "earnings,[Sign in again](https://evil.example/login)"
    at.run()
    assert not at.exception
    notices = [w.value for w in at.warning if "`types=" in w.value]
    assert len(notices) == 1
    # Outside the code span, every Markdown-significant character is backslash-escaped, so
    # "[Sign in again](https://...)" cannot form a link.
    outside_code = notices[0].split("`")[::2]
    assert all("](" not in part for part in outside_code), notices[0]
    assert "\\[Sign in again\\]" in notices[0]
