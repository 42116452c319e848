"""Pickers bound to the URL: every control that shapes a view lives in the query string.

How a control gets its value: from the link's query parameter when it is present and valid (on a
session's first run, or whenever the URL holds a value this session did not write: a pasted link,
browser history); a bad value gives the default, with a visible warning that names the parameter,
the rejected value and the default used. Otherwise the widget's own state rules (or the value it
had when last shown in this session, then the default), and every run puts the current value in
the query string (writing it only when the link says otherwise), so the address bar is always a
link that reproduces the view. Values are written explicitly (defaults too), so a link keeps its
meaning even if a default changes later. The page itself is in the URL path
(``st.navigation``); the data version is the ``v`` parameter (see :func:`data_version_notice`).

Encodings (all plain ASCII): a choice is its option's name (``company=META``); a multi-choice is a
comma list (``types=earnings,debt_issuance``); an event window is the command line's ``start,end``
and several are a ``;`` list (``windows=-1,1;0,20``; links made before, with ``-1:1,0:20``, still
open); a date is ISO (``from=2025-01-01``); a number is a plain
decimal (``ocf_growth=0.1``).

Functions here never raise on a bad link: an invalid value falls back to the default.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import streamlit as st

from dashboard.config import OLD_WINDOW_SEPARATOR, format_window
from dashboard.config import parse_window as config_parse_window
from dashboard.ui.text import escape_markdown

WINDOWS_SEPARATOR = ";"  # between windows in a link: windows=-1,1;0,20

T = TypeVar("T")
# An option of a choice: a str, or a Literal of the config vocabularies (a Period, a Model, ...).
OptionT = TypeVar("OptionT", bound=str)

VERSION_PARAM = "v"
_TOUCHED = "_touched_params"
_LINK_VERSION = "_link_version"


class InvalidParam(ValueError):
    """A query-string value that does not parse or is not an allowed option."""


# --- run bookkeeping --------------------------------------------------------------------------------


def start_run() -> None:
    """Call once at the top of every run (app.py): resets the set of parameters bound this run."""
    st.session_state[_TOUCHED] = set()


def finish_run(keep: Sequence[str] = (VERSION_PARAM,)) -> None:
    """Drop query parameters no control rendered this run (left over from another page), so the
    link carries exactly the current view. Unknown parameters are dropped too."""
    touched = st.session_state.get(_TOUCHED, set()) | set(keep)
    for key in list(st.query_params.keys()):
        if key not in touched:
            del st.query_params[key]


def set_param(key: str, value: str) -> str:
    """Put ``key=value`` in the link, only when the link does not say so already (each write is a
    message to the browser and a history entry update); returns ``value``."""
    if st.query_params.get(key) != value:
        st.query_params[key] = value
    return value


def notice(message: str) -> None:
    """A visible notice about the link (shown at the top of the page this run)."""
    st.warning(message, icon=":material/link_off:")


# --- codecs --------------------------------------------------------------------------------------------


def parse_choice(raw: str, options: Sequence[OptionT]) -> OptionT:
    if raw not in options:
        raise InvalidParam(f"not one of {', '.join(options)}")
    return cast(OptionT, raw)  # checked just above: the link's text is one of the options


def parse_multi(raw: str, options: Sequence[str]) -> list[str]:
    values = [part.strip() for part in raw.split(",") if part.strip()]
    if not values:
        raise InvalidParam("empty list")
    unknown = [value for value in values if value not in options]
    if unknown:
        raise InvalidParam(f"unknown value(s) {', '.join(unknown)}")
    return [option for option in options if option in values]  # canonical order, no duplicates


def encode_window(window: tuple[int, int]) -> str:
    """A window in a link: the command line's ``A,B`` (``config.format_window``)."""
    return format_window(window)


def parse_window(text: str) -> tuple[int, int]:
    """A window from a link: ``A,B``, or the old ``A:B`` of links shared before (``config.parse_window``)."""
    try:
        return config_parse_window(text)
    except ValueError as exc:
        raise InvalidParam(str(exc)) from exc


def parse_windows(raw: str, options: Sequence[str]) -> list[str]:
    """Several windows from a link: ``A,B;C,D``, or the old ``A:B,C:D``; returned as option names
    (``A,B``) in the options' order. Unknown windows are an error."""
    parts = raw.split(",") if OLD_WINDOW_SEPARATOR in raw else raw.split(WINDOWS_SEPARATOR)
    names = [encode_window(parse_window(part)) for part in parts if part.strip()]
    if not names:
        raise InvalidParam("no window given")
    unknown = [name for name in names if name not in options]
    if unknown:
        raise InvalidParam(f"unknown window(s) {', '.join(unknown)}")
    return [option for option in options if option in names]


def encode_windows(windows: Sequence[tuple[int, int]]) -> str:
    """Several windows in a link: ``-1,1;0,20``."""
    return WINDOWS_SEPARATOR.join(encode_window(window) for window in windows)


def window_label(name: str) -> str:
    """``[A, B]`` for an option name ``A,B``."""
    return "[{}, {}]".format(*parse_window(name))


def parse_number(raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise InvalidParam("not a number") from exc
    if not math.isfinite(value) or value < low or value > high:
        raise InvalidParam(f"outside {low:g}..{high:g}")
    return value


def encode_number(value: float) -> str:
    return f"{value:g}" if float(value) != int(value) else str(int(value))


def parse_date(raw: str, low: dt.date, high: dt.date) -> dt.date:
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidParam("not a date (YYYY-MM-DD)") from exc
    if value < low or value > high:
        raise InvalidParam(f"outside {low.isoformat()}..{high.isoformat()}")
    return value


# --- the binding -------------------------------------------------------------------------------------


def _initial(key: str, parse: Callable[[str], T], default: T, encode: Callable[[T], str], label: str, valid: Callable[[Any], bool]) -> T:
    """The value a control starts with: the link's value, else the value it had when last shown
    in this session, else the default (a bad link value gives the default and a notice)."""
    raw = st.query_params.get(key)
    if raw is None:
        kept = st.session_state.get(f"_keep_{key}")
        return kept if kept is not None and valid(kept) else default
    try:
        return parse(raw)
    except InvalidParam as exc:
        notice(
            f"The link's {label.lower()} `{key}={_plain(raw)}` is not valid ({escape_markdown(exc)}); "
            f"showing the default `{_plain(encode(default))}` instead."
        )
        return default


def _plain(text: str) -> str:
    """Link text shown inside a code span: no backticks or line breaks, bounded length."""
    return text.replace("`", "'").replace("\n", " ").replace("\r", " ")[:80]


def _bind(
    key: str,
    *,
    label: str,
    default: T,
    parse: Callable[[str], T],
    encode: Callable[[T], str],
    render: Callable[[str], T],
    valid: Callable[[Any], bool],
) -> T:
    widget_key = f"w_{key}"
    written_key = f"_written_{key}"
    raw = st.query_params.get(key)
    # The URL changed under us (a pasted link, browser history, another page's link) when it holds
    # a value this session did not write: the link wins then, as it does on a session's first run.
    link_changed = raw is not None and raw != st.session_state.get(written_key)
    if link_changed or widget_key not in st.session_state:
        st.session_state[widget_key] = _initial(key, parse, default, encode, label, valid)
    elif not valid(st.session_state[widget_key]):
        # The options changed under the widget (another company's events): not the link's fault.
        st.session_state[widget_key] = default
    value = render(widget_key)
    st.session_state[written_key] = set_param(key, encode(value))
    st.session_state[f"_keep_{key}"] = value
    st.session_state.setdefault(_TOUCHED, set()).add(key)
    return value


def remember(key: str, parse: Callable[[str], Any]) -> None:
    """For a control this run does not show: the link's value for it (one this session did not
    write) is kept, as :func:`_bind` would have taken it, for when the control is shown again; a
    bad one is named in a notice. The link then drops it (:func:`finish_run`)."""
    raw = st.query_params.get(key)
    if raw is None or raw == st.session_state.get(f"_written_{key}"):
        return
    try:
        st.session_state[f"_keep_{key}"] = parse(raw)
    except InvalidParam as exc:
        notice(
            f"The link's `{key}={_plain(raw)}` is not valid ({escape_markdown(exc)}); it is not used here, and the default applies where it is."
        )


def choice(
    key: str,
    label: str,
    options: Sequence[OptionT],
    default: OptionT,
    *,
    format_func: Callable[[OptionT], str] = str,
    container: Any = None,
    kind: str = "selectbox",
    help: str | None = None,
) -> OptionT:
    """One option of ``options`` (a selectbox, or radio buttons with ``kind="radio"``), bound to
    ``?key=<option>``."""
    options = list(options)
    where = container if container is not None else st

    def render(widget_key: str) -> OptionT:
        if kind == "radio":
            return where.radio(label, options, key=widget_key, format_func=format_func, horizontal=True, help=help)
        return where.selectbox(label, options, key=widget_key, format_func=format_func, help=help)

    return _bind(
        key,
        label=label,
        default=default,
        parse=lambda raw: parse_choice(raw, options),
        encode=str,
        render=render,
        valid=lambda value: value in options,
    )


def multi_choice(
    key: str,
    label: str,
    options: Sequence[str],
    default: Sequence[str],
    *,
    format_func: Callable[[str], str] = str,
    container: Any = None,
    help: str | None = None,
) -> list[str]:
    """A non-empty subset of ``options`` bound to ``?key=a,b``; an emptied picker means the default."""
    options = list(options)
    where = container if container is not None else st

    def render(widget_key: str) -> list[str]:
        picked = where.multiselect(label, options, key=widget_key, format_func=format_func, help=help)
        return [option for option in options if option in picked] or list(default)

    return _bind(
        key,
        label=label,
        default=list(default),
        parse=lambda raw: parse_multi(raw, options),
        encode=lambda values: ",".join(values),
        render=render,
        valid=lambda value: isinstance(value, list) and all(v in options for v in value),
    )


def windows_choice(
    key: str,
    label: str,
    options: Sequence[tuple[int, int]],
    default: Sequence[tuple[int, int]],
    *,
    container: Any = None,
) -> tuple[tuple[int, int], ...]:
    """Event windows (trading days around day 0) bound to ``?windows=-1,1;0,20`` (old links'
    ``-1:1,0:20`` still open)."""
    names = [encode_window(window) for window in options]
    where = container if container is not None else st
    fallback = [encode_window(window) for window in default]

    def render(widget_key: str) -> list[str]:
        picked = where.multiselect(
            label, names, key=widget_key, format_func=window_label,
            help="Trading days relative to day 0; CAR sums abnormal returns over the window.",
        )  # fmt: skip
        return [name for name in names if name in picked] or fallback

    picked = _bind(
        key,
        label=label,
        default=fallback,
        parse=lambda raw: parse_windows(raw, names),
        encode=lambda values: WINDOWS_SEPARATOR.join(values),
        render=render,
        valid=lambda value: isinstance(value, list) and all(v in names for v in value),
    )
    return tuple(parse_window(name) for name in picked)


def window_choice(key: str, label: str, options: Sequence[tuple[int, int]], *, container: Any = None) -> tuple[int, int]:
    """One of ``options`` bound to ``?key=A,B`` (an old link's ``A:B`` still opens)."""
    names = [encode_window(window) for window in options]
    where = container if container is not None else st
    name = _bind(
        key,
        label=label,
        default=names[0],
        parse=lambda raw: parse_choice(encode_window(parse_window(raw)), names),
        encode=str,
        render=lambda widget_key: where.selectbox(label, names, key=widget_key, format_func=window_label),
        valid=lambda value: value in names,
    )
    return parse_window(name)


def number(
    key: str,
    label: str,
    *,
    low: float,
    high: float,
    default: float,
    step: float,
    container: Any = None,
    format: str | None = None,
    help: str | None = None,
) -> float:
    """A slider value in [low, high] bound to ``?key=<number>`` (snapped to ``step``)."""
    where = container if container is not None else st

    def parse(raw: str) -> float:
        value = parse_number(raw, low, high)
        return round(round((value - low) / step) * step + low, 10)

    def render(widget_key: str) -> float:
        return float(where.slider(label, min_value=low, max_value=high, step=step, key=widget_key, format=format, help=help))

    return _bind(
        key,
        label=label,
        default=float(default),
        parse=parse,
        encode=encode_number,
        render=render,
        valid=lambda value: isinstance(value, (int, float)) and low <= value <= high,
    )


def date_range(
    keys: tuple[str, str],
    labels: tuple[str, str],
    *,
    low: dt.date,
    high: dt.date,
    container: Any = None,
) -> tuple[dt.date, dt.date]:
    """A from/to pair of dates within [low, high] bound to ``?from=YYYY-MM-DD&to=YYYY-MM-DD``;
    a range that ends before it starts falls back to the full range with a notice."""
    where = container if container is not None else st
    first, second = where.columns(2) if hasattr(where, "columns") else (st, st)

    def bound(key: str, label: str, default: dt.date, column: Any) -> dt.date:
        return _bind(
            key,
            label=label,
            default=default,
            parse=lambda raw: parse_date(raw, low, high),
            encode=lambda value: value.isoformat(),
            render=lambda widget_key: column.date_input(label, min_value=low, max_value=high, key=widget_key, format="YYYY-MM-DD"),
            valid=lambda value: isinstance(value, dt.date) and low <= value <= high,
        )

    start = bound(keys[0], labels[0], low, first)
    end = bound(keys[1], labels[1], high, second)
    if start > end:
        notice(f"The date range {start.isoformat()} to {end.isoformat()} ends before it starts; showing all dates.")
        st.query_params[keys[0]], st.query_params[keys[1]] = low.isoformat(), high.isoformat()
        return low, high
    return start, end


# --- data version in the link ---------------------------------------------------------------------------


def data_version_notice(current: str) -> str | None:
    """Compare the link's ``v`` with the current data version, then put the current one in the
    link. Returns the notice text (also shown) when the link was made on other data."""
    raw = st.query_params.get(VERSION_PARAM)
    if _LINK_VERSION not in st.session_state or (raw is not None and raw != st.session_state.get("_written_v")):
        st.session_state[_LINK_VERSION] = raw
    linked = st.session_state[_LINK_VERSION]
    st.session_state["_written_v"] = set_param(VERSION_PARAM, current)
    st.session_state.setdefault(_TOUCHED, set()).add(VERSION_PARAM)
    if linked is None or linked == current:
        return None
    message = (
        f"This link was made with data version `{_plain(linked)}`; the data has changed since "
        f"(now `{current}`), so figures may differ from what the sender saw."
    )
    st.info(message, icon=":material/update:")
    return message
