"""Render text that comes from data files or uploads safely.

Text from data (headlines, descriptions, uploaded cells) is never rendered as HTML: nothing here
lets Streamlit render raw HTML. Markdown is only used for text the app writes itself; data text that
must sit inside Markdown goes through :func:`escape_markdown` first, and links are produced only
for ``http``/``https`` URLs (:func:`http_url`).
"""

from __future__ import annotations

import re
from typing import SupportsFloat
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from dashboard.config import USD_MILLIONS_PER_BILLION

# Every character Markdown (CommonMark + GitHub extensions, as Streamlit renders it) may treat as
# syntax, plus "<" and ">" so raw HTML tags and autolinks stay literal text, and ":" so emoji
# shortcodes and bare-URL autolinking of "javascript:" stay inert.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def escape_markdown(text: object) -> str:
    """``text`` with every Markdown/HTML-significant character backslash-escaped.

    Missing values (None/NaN) become an empty string.
    """
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    value = str(text).replace("\r", " ").replace("\n", " ")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", value)


def http_url(url: object) -> str | None:
    """``url`` if it is an absolute http(s) URL with a host, else None (never a javascript:,
    data:, file: or relative link)."""
    if not isinstance(url, str):
        return None
    candidate = url.strip()
    if not candidate or any(ch in candidate for ch in "\x00\r\n\t <>\"'`"):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return candidate


def http_urls(values: pd.Series) -> pd.Series:
    """Column-wise :func:`http_url`: non-http(s) cells become missing (for LinkColumn tables)."""
    return values.map(http_url).astype("object")


def show_text(text: object, *, caption: bool = False) -> None:
    """Show data text literally (``st.text`` / escaped caption): no HTML, no Markdown."""
    if caption:
        st.caption(escape_markdown(text))
    else:
        st.text("" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text))


def link_markdown(label: str, url: object) -> str:
    """Markdown for a link to an http(s) ``url`` with an escaped label; for any other ``url``, the
    escaped label with a note that there is no link."""
    safe = http_url(url)
    if safe is None:
        return f"{escape_markdown(label)}: no http(s) link available"
    # Parentheses and spaces in the target would end the Markdown link early.
    target = safe.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{escape_markdown(label)}]({target})"


def show_link(label: str, url: object) -> None:
    """One link (:func:`link_markdown`); a label without an http(s) link is a caption."""
    text = link_markdown(label, url)
    if http_url(url) is None:
        st.caption(text)
    else:
        st.markdown(text)


def usd_bn(value: SupportsFloat | None, *, digits: int = 1) -> str:
    """USD millions shown as ``$12.3 bn``; missing as ``n/a``."""
    if value is None or pd.isna(value):
        return "n/a"
    amount = float(value) / USD_MILLIONS_PER_BILLION
    return f"{'−' if amount < 0 else ''}${abs(amount):,.{digits}f} bn"


def missing_reason(missing: object) -> str:
    """The metrics' ``missing`` tuple as a readable reason (``missing: buybacks, dividends``)."""
    if not isinstance(missing, (tuple, list)) or not missing:
        return ""
    return "missing: " + ", ".join(str(part) for part in missing)


def is_sec_filing(url: object) -> bool:
    """True for an http(s) link to sec.gov (a filing on SEC EDGAR)."""
    safe = http_url(url)
    if safe is None:
        return False
    host = urlsplit(safe).hostname or ""
    return host == "sec.gov" or host.endswith(".sec.gov")


def show_event_source(event: pd.Series) -> None:
    """An event's source: a sec.gov URL as the filing link, any other http(s) URL as the source
    link, with its source name. Filings named only in the text stay text: no link is built that
    the data does not hold."""
    if is_sec_filing(event["source_url"]):
        show_link(f"Filing on SEC EDGAR ({event['source_name']})", event["source_url"])
    else:
        show_link(f"Source: {event['source_name']}", event["source_url"])
