"""Cross-sectional significance tests of abnormal returns (pure numpy).

Every function takes a matrix ``values`` of shape (events, columns): a column is one event
window (its CARs or standardized CARs) or one relative day (ARs or SARs). NaN means the event
does not take part in that column. Statistics are computed per column, over the events with a
finite value; a column with fewer than 2 usable events gives NaN. All p-values are two-sided.

References:
- Campbell, Lo & MacKinlay (1997), *The Econometrics of Financial Markets*, ch. 4 (CLM).
- Patell (1976), J. Accounting Research 14(2).
- Boehmer, Musumeci & Poulsen (1991), J. Financial Economics 30 (BMP).
- Kolari & Pynnonen (2010), Review of Financial Studies 23(11) (KP).
- Corrado (1989), J. Financial Economics 23; Campbell & Wasley (1993) for multi-day windows.
- Cowan (1992), Review of Quantitative Finance and Accounting 2 (generalized sign).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

FloatArray = np.ndarray


def _two_sided_normal(z: FloatArray) -> FloatArray:
    # scipy.special's ufuncs: the same values as stats.norm.sf / stats.t.sf, without their overhead.
    return 2.0 * special.ndtr(-np.abs(z))


def _two_sided_t(t: FloatArray, dof: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore"):
        return np.where(dof > 0, 2.0 * special.stdtr(np.maximum(dof, 1), -np.abs(t)), np.nan)


def _column_moments(values: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(count, mean, sample standard deviation with ddof=1) per column over finite entries."""
    finite = np.isfinite(values)
    n = finite.sum(axis=0).astype(float)
    filled = np.where(finite, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / n
        dev = np.where(finite, values - mean, 0.0)
        sd = np.sqrt((dev**2).sum(axis=0) / (n - 1))
    return n, mean, sd


def cross_sectional_t(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Cross-sectional t of the mean (CLM 1997, sec. 4.4; Brown & Warner 1985).

    ``t = mean_i(X_i) / (s / sqrt(N))`` with ``s`` the cross-sectional sample standard deviation
    (ddof = 1). Degrees of freedom: ``N - 1`` (Student t p-value). ``X`` is CAR per window or
    AR per day.
    """
    n, mean, sd = _column_moments(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = mean / (sd / np.sqrt(n))
    t = np.where(n >= 2, t, np.nan)
    return t, _two_sided_t(t, n - 1)


def patell_z(standardized: FloatArray, dof: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Patell (1976) Z.

    ``Z = sum_i SCAR_i / sqrt(sum_i d_i / (d_i - 2))`` where ``SCAR_i`` is the event's CAR divided
    by its forecast-error-corrected standard error (for one day: the standardized AR) and
    ``d_i = n_i - k`` the degrees of freedom of event i's estimation (n_i estimation days, k
    parameters: 2 for the market model, 1 otherwise). Each SCAR is Student t with d_i degrees of
    freedom, so its variance is ``d_i / (d_i - 2)``. The p-value is standard normal (the sum
    over events is asymptotically normal). Events with ``d_i <= 2`` are left out.
    """
    dof = np.asarray(dof, dtype=float)[:, None] * np.ones((1, standardized.shape[1]))
    usable = np.isfinite(standardized) & (dof > 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.where(usable, dof / (dof - 2.0), 0.0)
        z = np.where(usable, standardized, 0.0).sum(axis=0) / np.sqrt(variance.sum(axis=0))
    z = np.where(usable.sum(axis=0) >= 2, z, np.nan)
    return z, _two_sided_normal(z)


def bmp_t(standardized: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Boehmer, Musumeci & Poulsen (1991) standardized cross-sectional t.

    ``t = mean_i(SCAR_i) / (s_SCAR / sqrt(N))`` with ``s_SCAR`` the cross-sectional sample
    standard deviation of the standardized CARs (ddof = 1). Degrees of freedom ``N - 1``.
    """
    return cross_sectional_t(standardized)


def standardized_residuals(residuals: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(z, present)`` of ``average_cross_correlation``: each row demeaned over its finite days and
    divided by its ddof=0 standard deviation (0 where missing or the row is constant), and the
    days that have a value."""
    finite = np.isfinite(residuals)
    n = finite.sum(axis=1)
    filled = np.where(finite, residuals, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=1) / n
        dev = np.where(finite, residuals - mean[:, None], 0.0)
        sd = np.sqrt((dev**2).sum(axis=1) / n)
        z = np.where(finite & (sd[:, None] > 0), dev / sd[:, None], 0.0)
    return z, finite & (sd[:, None] > 0)


def average_cross_correlation_from_sums(total: FloatArray, count: FloatArray, squares: FloatArray) -> FloatArray:
    """``r_bar`` per set of events from its sums: ``total`` (sets x days) = sum of ``z`` over the
    set's events, ``count`` = events with a value that day, ``squares`` (sets) = sum of ``z^2``.
    A set whose events share no day gives 0.0 (see ``average_cross_correlation``)."""
    total, count = np.atleast_2d(total), np.atleast_2d(count)
    pairs = (count**2 - count).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_bar = ((total**2).sum(axis=1) - np.asarray(squares, dtype=float)) / pairs
    return np.where(pairs > 0, r_bar, 0.0)


def average_cross_correlation(residuals: FloatArray) -> float:
    """Average pairwise correlation of the events' standardized estimation residuals (KP 2010).

    ``residuals``: (events, estimation days) aligned in event time (column = relative day),
    NaN where a day is missing or masked. Each row is standardized over its own finite days
    (demeaned, divided by its ddof=0 standard deviation), giving ``z_it``. With
    ``S_t = sum_i z_it`` and ``c_t`` the number of events with a value on day t,

        r_bar = (sum_t S_t^2 - sum_t sum_i z_it^2) / sum_t (c_t^2 - c_t)

    i.e. the cross-product part of the variance of the sum, divided by the number of pairs that
    overlap: with complete data ``sum_t z_it z_jt = T * rho_ij``, so this is exactly the mean
    of the N(N-1) pairwise sample correlations, without forming an events x events matrix. Events
    with different day 0 are aligned on different calendar dates, so their correlation comes out
    near zero, as it should for the event-day variance; events on the same date (clustered)
    share calendar days. Fewer than 2 events -> 0.0. The sums are additive over events, so
    ``metrics.caar`` gathers them for every set of events in one pass
    (``average_cross_correlation_from_sums``).
    """
    if residuals.shape[0] < 2:
        return 0.0
    z, present = standardized_residuals(residuals)
    r_bar = average_cross_correlation_from_sums(z.sum(axis=0), present.sum(axis=0).astype(float), (z**2).sum())
    return float(r_bar[0])


def kolari_pynnonen_t(standardized: FloatArray, r_bar: float) -> tuple[FloatArray, FloatArray]:
    """Kolari & Pynnonen (2010) BMP t adjusted for cross-correlation of clustered events.

    ``t_KP = t_BMP * sqrt((1 - r_bar) / (1 + (N - 1) * r_bar))`` with ``r_bar`` from
    ``average_cross_correlation``. Degrees of freedom ``N - 1``, as the BMP t. When
    ``1 + (N - 1) r_bar <= 0`` the adjustment is undefined and the result is NaN.
    """
    t, _ = bmp_t(standardized)
    n = np.isfinite(standardized).sum(axis=0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = (1.0 - r_bar) / (1.0 + (n - 1.0) * r_bar)
        adjusted = np.where(factor > 0, t * np.sqrt(np.where(factor > 0, factor, np.nan)), np.nan)
    return adjusted, _two_sided_t(adjusted, n - 1)


def rank_deviations(abnormal: FloatArray) -> FloatArray:
    """Standardized rank deviations ``U_it - 1/2`` with ``U_it = K_it / (T_i + 1)``.

    ``abnormal``: (events, days) with each row the event's estimation-period ARs followed by its
    event-window ARs (NaN where missing). ``K_it`` is the rank of AR_it within its own row
    (ties averaged, NaN left out, as ``scipy.stats.rankdata(..., nan_policy="omit")``), ``T_i``
    the number of finite entries of the row. Dividing by ``T_i + 1`` (Kolari & Pynnonen 2011)
    lets events with different numbers of days be pooled. One sort per row: a tie group from
    sorted position ``s`` to ``e`` gets the rank ``(s + e) / 2 + 1``.
    """
    values = np.asarray(abnormal, dtype=float)
    n_columns = values.shape[1]
    order = np.argsort(values, axis=1)  # NaN last; ties share one rank, so their order does not matter
    ordered = np.take_along_axis(values, order, axis=1)
    positions = np.arange(n_columns)
    starts_group = np.ones(ordered.shape, bool)
    starts_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    if starts_group.all():  # no ties (NaN != NaN): the rank is the sorted position + 1
        sorted_ranks = np.broadcast_to(positions + 1.0, ordered.shape)
    else:
        ends_group = np.ones(ordered.shape, bool)
        ends_group[:, :-1] = starts_group[:, 1:]
        first = np.maximum.accumulate(np.where(starts_group, positions, 0), axis=1)
        last = np.minimum.accumulate(np.where(ends_group, positions, n_columns - 1)[:, ::-1], axis=1)[:, ::-1]
        sorted_ranks = (first + last) / 2.0 + 1.0
    ranks = np.empty_like(values)
    np.put_along_axis(ranks, order, np.where(np.isnan(ordered), np.nan, sorted_ranks), axis=1)
    t_count = np.isfinite(values).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ranks / (t_count + 1.0) - 0.5


def corrado_rank_z_from_sums(total: FloatArray, count: FloatArray, day_sets: Sequence[np.ndarray]) -> tuple[FloatArray, FloatArray]:
    """``corrado_rank_z`` from the sums over the group's events: ``total`` = sum of the rank
    deviations per day (over the events with a rank that day), ``count`` = those events."""
    with np.errstate(invalid="ignore", divide="ignore"):
        dbar = np.where(count > 0, total / count, np.nan)
        s = np.sqrt(np.nanmean(dbar**2)) if np.isfinite(dbar).any() else np.nan
        z = np.array(
            [np.nansum(dbar[cols]) / (np.sqrt(len(cols)) * s) if np.isfinite(dbar[cols]).any() else np.nan for cols in day_sets],
            dtype=float,
        )
    return z, _two_sided_normal(z)


def corrado_rank_z(deviations: FloatArray, day_sets: Sequence[np.ndarray]) -> tuple[FloatArray, FloatArray]:
    """Corrado (1989) rank test, with Campbell & Wasley (1993)'s multi-day form.

    ``deviations``: ``rank_deviations`` of the group's events, (events, all days). With
    ``Dbar_t`` the mean deviation over events with a rank on day t and
    ``S = sqrt(mean_t Dbar_t^2)`` over every day (estimation and event days) with any rank:

        Z(window) = sum_{t in window} Dbar_t / (sqrt(L) * S),   L = days in the window.

    For one day this is Corrado's ``T``. Asymptotically standard normal: no degrees-of-freedom
    correction; the p-value is normal. ``day_sets``: column indices of each window.
    """
    finite = np.isfinite(deviations)
    return corrado_rank_z_from_sums(np.where(finite, deviations, 0.0).sum(axis=0), finite.sum(axis=0), day_sets)


def generalized_sign_z(values: FloatArray, positive_estimation: FloatArray, n_estimation: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Cowan (1992) generalized sign test.

    ``p_hat = sum_i (estimation days with AR_it > 0) / sum_i n_i`` over the events taking part
    in the column; ``w`` = number of events with a positive value (CAR or AR) in the column;

        Z = (w - N * p_hat) / sqrt(N * p_hat * (1 - p_hat))

    Normal approximation to the binomial; the p-value is standard normal (no df convention).
    """
    finite = np.isfinite(values)
    pos = np.asarray(positive_estimation, dtype=float)[:, None]
    tot = np.asarray(n_estimation, dtype=float)[:, None]
    n = finite.sum(axis=0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_hat = (pos * finite).sum(axis=0) / (tot * finite).sum(axis=0)
        wins = (finite & (np.where(finite, values, 0.0) > 0)).sum(axis=0)
        z = (wins - n * p_hat) / np.sqrt(n * p_hat * (1.0 - p_hat))
    z = np.where(n >= 2, z, np.nan)
    return z, _two_sided_normal(z)
