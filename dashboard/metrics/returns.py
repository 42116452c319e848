"""Daily returns from closes, and equal-weighted peer-group returns.

Units: closes in the instrument's own currency; returns are decimal (0.01 = 1%).
Every ticker is differenced on its own calendar: the rows where that ticker has no close (a
Tokyo holiday for a US ticker, a US holiday for a Tokyo one, dates outside its coverage) are
dropped before differencing, so a return always spans two consecutive closes of that ticker and
is NaN on the dates the ticker did not trade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dashboard import config

ReturnKind = config.ReturnType
RETURN_KINDS: tuple[str, ...] = config.RETURN_TYPES


def returns_from_closes(closes: pd.DataFrame, *, kind: ReturnKind = "simple") -> pd.DataFrame:
    """Per-ticker returns over consecutive trading-day closes.

    ``closes``: wide frame, index = dates, one column per ticker (NaN where the ticker did not
    trade). Returns a frame with the same index and columns:

    - simple: ``R_t = P_t / P_{t-1} - 1``
    - log: ``r_t = ln(P_t / P_{t-1})``

    where ``t-1`` is the ticker's previous non-missing close. The first close of each ticker has
    no return (NaN); dates without a close stay NaN. A non-positive close cannot be a price and
    raises ``ValueError``. An empty frame gives an empty frame. The input is not modified.
    """
    if kind not in RETURN_KINDS:
        raise ValueError(f"kind must be one of {RETURN_KINDS}, got {kind!r}")
    result = pd.DataFrame(np.nan, index=closes.index, columns=closes.columns, dtype=float)
    for column in closes.columns:  # one pass per ticker (its own calendar), never per row
        series = pd.to_numeric(closes[column], errors="coerce").dropna()
        if (series <= 0).any():
            bad = series[series <= 0].index[0]
            raise ValueError(f"close of {column} on {bad} is not positive ({series[bad]})")
        values = series.to_numpy(dtype=float)
        if len(values) < 2:
            continue
        ratio = values[1:] / values[:-1]
        changes = np.log(ratio) if kind == "log" else ratio - 1.0
        result.loc[series.index[1:], column] = changes
    return result


def simple_returns(closes: pd.DataFrame) -> pd.DataFrame:
    """``returns_from_closes(closes, kind="simple")``: ``P_t / P_{t-1} - 1`` per ticker."""
    return returns_from_closes(closes, kind="simple")


def log_returns(closes: pd.DataFrame) -> pd.DataFrame:
    """``returns_from_closes(closes, kind="log")``: ``ln(P_t / P_{t-1})`` per ticker."""
    return returns_from_closes(closes, kind="log")


def peer_returns(returns: pd.DataFrame, peers: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Equal-weighted peer-group return for each company, excluding the company itself.

    ``returns``: wide date x ticker decimal returns. ``peers``: company -> its peer tickers (the
    company itself is removed if listed; peers without a column in ``returns`` are ignored).
    Returns one column per company: ``R_peer,t = mean of R_j,t over the peers j with a return
    on t``. A date where no peer has a return is NaN; a company with no usable peer gets an
    all-NaN column. The input is not modified.
    """
    out: dict[str, pd.Series] = {}
    for company, members in peers.items():
        usable = [p for p in dict.fromkeys(members) if p != company and p in returns.columns]
        if usable:
            out[company] = returns[usable].astype(float).mean(axis=1, skipna=True)
        else:
            out[company] = pd.Series(np.nan, index=returns.index, dtype=float)
    return pd.DataFrame(out, index=returns.index, columns=list(peers))


def peers_from_companies(companies: pd.DataFrame) -> dict[str, list[str]]:
    """Company -> the other companies of its ``peer_group`` in the companies table.

    A company alone in its group (SoftBank in ``jp_ai_capex``) gets an empty list.
    """
    groups = companies.groupby("peer_group")["ticker"].apply(list).to_dict()
    return {
        ticker: [t for t in groups.get(group, []) if t != ticker]
        for ticker, group in zip(companies["ticker"], companies["peer_group"], strict=True)
    }
