"""The engine's faster reading paths give what the plain ones give: the returns panel's windows
equal a padded gather (runs across either end of the axis, events without day 0 or a column, a
row-major matrix that has to be copied); a study on returns padded with empty sessions equals
the one without; reading all of a numeric returns frame equals selecting the columns used.
SYNTHETIC seeded data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.metrics.event_engine import EngineSettings, calendar_block
from dashboard.metrics.event_panel import FAR_OUTSIDE, ReturnsPanel, first_last_valid
from dashboard.metrics.event_study import run_event_study
from tests.event_study_golden import synthetic_companies, synthetic_events, synthetic_returns


def _padded_gather(matrix: np.ndarray, base: np.ndarray, first_offset: int, columns: np.ndarray, length: int) -> np.ndarray:
    """The plain reading: NaN padding around the matrix, one fancy index per event and day."""
    n_axis = matrix.shape[0]
    padded = np.full((n_axis + 2 * length + 2, matrix.shape[1] + 1), np.nan)
    padded[length + 1 : length + 1 + n_axis, : matrix.shape[1]] = matrix
    out = np.full((len(base), length), np.nan)
    for row, (day0, column) in enumerate(zip(base.tolist(), columns.tolist(), strict=True)):
        if day0 == FAR_OUTSIDE or column < 0:
            continue
        for day in range(length):
            position = day0 + first_offset + day
            if 0 <= position < n_axis:
                out[row, day] = padded[position + length + 1, column]
    return out


@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize("n_axis", [3, 40])
def test_panel_windows_equal_a_padded_gather(order: str, n_axis: int) -> None:
    rng = np.random.default_rng(11)
    matrix = np.asarray(rng.normal(0, 0.01, (n_axis, 6)), order=order)
    matrix[rng.random(matrix.shape) < 0.1] = np.nan
    length, first_offset = 7, -3
    base = rng.integers(-10, n_axis + 10, 60)
    base[:4] = FAR_OUTSIDE
    columns = rng.integers(-1, 6, 60)
    panel = ReturnsPanel(matrix, np.arange(n_axis).astype("datetime64[ns]"), before=length + 4, after=length + 2)
    assert panel.values.flags.c_contiguous
    assert np.shares_memory(panel.values, matrix) == (order == "F")  # column-major: read in place
    got = panel.columns(base, first_offset, columns, length)
    np.testing.assert_array_equal(got, _padded_gather(matrix, base, first_offset, columns, length))
    inside = (columns >= 0) & (base + first_offset >= 0) & (base + first_offset + length <= n_axis)
    if inside.any():  # the fast path alone (every run inside the axis)
        only = panel.columns(base[inside], first_offset, columns[inside], length)
        np.testing.assert_array_equal(only, _padded_gather(matrix, base[inside], first_offset, columns[inside], length))


def test_first_last_valid_per_row() -> None:
    nan = np.nan
    values = np.array([[nan, 1, nan, 2, nan], [nan] * 5, [3, np.inf, 4, 5, 6], [nan, nan, 1, 2, 3], [1, 2, 3, -np.inf, nan]])
    first, last = first_last_valid(values)
    assert first.tolist() == [1, -1, 0, 2, 0] and last.tolist() == [3, -1, 4, 4, 2]
    assert [side.tolist() for side in first_last_valid(np.zeros((2, 0)))] == [[-1, -1], [-1, -1]]


def test_calendar_block_same_for_row_and_column_major_matrices() -> None:
    rng = np.random.default_rng(12)
    n_axis, n_events = 300, 80
    market = rng.normal(3e-4, 0.01, n_axis)
    matrix = np.column_stack([market, *(0.9 * market + rng.normal(0, 0.015, n_axis) for _ in range(4))])
    matrix[:30, 2] = np.nan
    settings = EngineSettings(
        model="market",
        estimation_offsets=np.arange(-120, -10),
        relative_days=np.arange(-2, 6),
        windows=((-1, 1), (0, 5)),
        min_estimation=30,
        mask_days=(-1, 1),
    )
    positions = rng.integers(-1, n_axis + 2, n_events)
    stocks = rng.integers(1, 5, n_events)
    tickers = np.array([f"T{k}" for k in stocks])
    arguments = (positions, stocks, np.zeros(n_events, int), tickers, np.array([f"E{k}" for k in range(n_events)], dtype=object))
    axis = pd.bdate_range("2020-01-01", periods=n_axis).as_unit("ns").to_numpy()
    by_column = calendar_block(np.asfortranarray(matrix), axis, *arguments, settings=settings)
    by_row = calendar_block(np.ascontiguousarray(matrix), axis, *arguments, settings=settings)
    for name in ("alpha", "beta", "sigma", "abnormal", "standardized", "car", "car_se", "estimation_residuals", "dates"):
        np.testing.assert_array_equal(getattr(by_row, name), getattr(by_column, name), err_msg=name)
    assert (by_row.status == by_column.status).all()
    assert np.isfinite(by_column.car).any() and (by_column.status != "ok").any()  # both kinds of rows are there


def _assert_same_study(got, want, *, dates_outside_axis: bool = False) -> None:
    """Equal tables; ``dates_outside_axis``: ``want`` has NaT for the days beyond its sessions
    where ``got`` has the dates of its added empty sessions."""
    for table in ("events", "parameters"):
        pd.testing.assert_frame_equal(getattr(got, table), getattr(want, table), check_exact=True, obj=table)
    abnormal, wanted = got.abnormal, want.abnormal
    if dates_outside_axis:
        known = wanted["date"].notna()
        assert (abnormal["date"][known] == wanted["date"][known]).all()
        abnormal, wanted = abnormal.drop(columns="date"), wanted.drop(columns="date")
    pd.testing.assert_frame_equal(abnormal, wanted, check_exact=True, obj="abnormal")


@pytest.mark.parametrize("model", ["market", "constant_mean", "market_adjusted"])
def test_empty_sessions_around_the_returns_change_nothing(model: str) -> None:
    """Runs that cross an end of the axis read missing returns, as the added empty rows give."""
    returns = synthetic_returns()
    events = synthetic_events(returns)
    before = pd.DataFrame(np.nan, index=pd.bdate_range(end=returns.index[0] - pd.Timedelta(days=1), periods=300), columns=returns.columns)
    after = pd.DataFrame(np.nan, index=pd.bdate_range(returns.index[-1] + pd.Timedelta(days=1), periods=30), columns=returns.columns)
    padded = pd.concat([before, returns, after])
    settings = {"companies": synthetic_companies(), "model": model, "sessions": "rows"}
    plain = run_event_study(events, returns, **settings)
    assert plain.abnormal["date"].isna().any()  # some runs do cross an end of the axis
    _assert_same_study(run_event_study(events, padded, **settings), plain, dates_outside_axis=True)


def test_reading_all_columns_equals_selecting_them() -> None:
    """Most columns used: the engine reads the whole frame; a frame with many unused (or text)
    columns makes it select the ones used: the same study either way."""
    returns = synthetic_returns()
    events = synthetic_events(returns)
    unused = pd.DataFrame(0.001, index=returns.index, columns=[f"U{k:02d}" for k in range(20)])
    wide = pd.concat([returns, unused, pd.DataFrame({"note": "text"}, index=returns.index)], axis=1)
    companies = synthetic_companies()
    _assert_same_study(run_event_study(events, wide, companies=companies), run_event_study(events, returns, companies=companies))
