"""Average abnormal returns across events (AAR, CAAR) and their significance, per group.

Input: an ``EventStudyResult`` of ``metrics.event_study``. Units: decimal returns; windows and
relative days in trading days. The six tests and their degrees of freedom are in
``metrics.event_tests``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special  # scipy.stats.t's own ufuncs: the same numbers without importing scipy.stats

from dashboard import config
from dashboard.metrics import event_tests
from dashboard.metrics.event_study import EventStudyResult

GroupBy = config.GroupBy
GROUP_BYS: tuple[str, ...] = config.GROUP_BYS
SAMPLES: tuple[str, ...] = ("all", "unconfounded")
MIN_GROUP_EVENTS = config.MIN_GROUP_EVENTS
CHUNK_EVENTS = 2048  # events ranked and standardized at a time (bounded memory)
STAT_COLUMNS: tuple[str, ...] = ("t_csect", "patell_z", "bmp_t", "kp_bmp_t", "rank_z", "gsign_z")
P_VALUE_COLUMNS: tuple[str, ...] = tuple(f"p_{c}" for c in STAT_COLUMNS)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "group",
    "sample",
    "window_start",
    "window_end",
    "n_events",
    "caar",
    *STAT_COLUMNS,
    *P_VALUE_COLUMNS,
    "avg_cross_correlation",
    "small_sample",
    "all_confounded",
)
DAILY_COLUMNS: tuple[str, ...] = (
    "group",
    "sample",
    "rel_day",
    "n_events",
    "aar",
    "caar",
    *STAT_COLUMNS,
    *P_VALUE_COLUMNS,
    "small_sample",
)


def _groups(parameters: pd.DataFrame, group_by: str) -> list[tuple[str, np.ndarray]]:
    """(group name, member mask over the events) per group, sorted by name."""
    if group_by not in GROUP_BYS:
        raise ValueError(f"group_by must be one of {GROUP_BYS}, got {group_by!r}")
    if group_by == "all":
        return [("all", np.ones(len(parameters), bool))]
    keys = parameters[group_by].astype(str)
    return [(str(g), (keys == g).to_numpy()) for g in sorted(keys.unique())]


@dataclass(frozen=True)
class _SetSums:
    """Per set of events (rows), the sums the rank test and the cross-correlation need: rank
    deviations and the events with a rank per day (estimation + event days), standardized
    estimation residuals and the events with one per day, and their squares (``event_tests``)."""

    rank_total: np.ndarray
    rank_count: np.ndarray
    z_total: np.ndarray
    z_count: np.ndarray
    z_squares: np.ndarray

    def r_bar(self, k: int) -> float:
        return float(event_tests.average_cross_correlation_from_sums(self.z_total[k], self.z_count[k], self.z_squares[k : k + 1])[0])


def _event_order(sets: np.ndarray, group_of: np.ndarray, per_group: int) -> tuple[np.ndarray, np.ndarray]:
    """The events in some set, ordered by (group, membership in the group's sets), and that
    membership (events x per_group, boolean): events with equal keys form runs."""
    events = np.flatnonzero(sets.any(axis=0))
    groups = group_of[events]
    member = sets[groups[:, None] * per_group + np.arange(per_group)[None, :], events[:, None]]
    packed = np.packbits(member, axis=1)
    order = np.lexsort((*packed.T[::-1], groups))
    return events[order], member[order]


def _set_sums(result: EventStudyResult, sets: np.ndarray, group_of: np.ndarray, per_group: int) -> _SetSums:
    """Rank deviations and standardized residuals of every event in some set, computed once per
    study in chunks of events and summed over each set (``sets``: sets x events, boolean) as
    they go. Group ``g`` (``group_of``: each event's group, -1 none) owns the sets
    ``g * per_group`` to ``(g + 1) * per_group - 1``. Events of equal group and membership come
    in runs, so each run is summed once (``np.add.reduceat``, no multithreaded BLAS product,
    whose threads stall on a busy machine) and added to the sets it belongs to."""
    n_sets, n_days = len(sets), result.estimation_residuals.shape[1]
    total_days = n_days + result.ar.shape[1]
    sums = _SetSums(
        np.zeros((n_sets, total_days)),
        np.zeros((n_sets, total_days)),
        np.zeros((n_sets, n_days)),
        np.zeros((n_sets, n_days)),
        np.zeros(n_sets),
    )
    estimated = result.parameters["estimated"].to_numpy(dtype=bool)
    ordered, membership = _event_order(sets, group_of, per_group)
    for start in range(0, len(ordered), CHUNK_EVENTS):
        rows, member = ordered[start : start + CHUNK_EVENTS], membership[start : start + CHUNK_EVENTS]
        residuals = result.estimation_residuals[rows]
        combined = np.concatenate([residuals, np.where(estimated[rows, None], result.ar[rows], np.nan)], axis=1)
        deviations = event_tests.rank_deviations(combined)
        finite = np.isfinite(deviations)
        z, present = event_tests.standardized_residuals(residuals)
        groups = group_of[rows]
        changes = (groups[1:] != groups[:-1]) | (member[1:] != member[:-1]).any(axis=1)
        runs = np.concatenate([[0], np.flatnonzero(changes) + 1])
        run_sets = groups[runs, None] * per_group + np.flatnonzero(np.ones(per_group))[None, :]
        weights = member[runs].astype(float)  # run x its group's sets: 1 where the run belongs
        for target, values in (
            (sums.rank_total, np.where(finite, deviations, 0.0)),
            (sums.rank_count, finite),
            (sums.z_total, z),
            (sums.z_count, present),
            (sums.z_squares, (z**2).sum(axis=1)),
        ):
            run_sums = np.add.reduceat(values.astype(float), runs, axis=0)
            np.add.at(
                target,
                run_sets.ravel(),
                (weights[..., None] * run_sums.reshape(len(runs), 1, -1)).reshape(run_sets.size, *target.shape[1:]),
            )
    return sums


def _statistics(
    result: EventStudyResult,
    members: np.ndarray,
    values: np.ndarray,
    standardized: np.ndarray,
    day_sets: list[np.ndarray],
    min_events: int,
    sums: _SetSums,
    k: int,
) -> dict[str, np.ndarray]:
    """All six tests for the columns of ``values`` over the ``members`` events (set ``k`` of
    ``sums``)."""
    parameters = result.parameters
    dof = parameters["dof"].to_numpy(dtype=float)[members]
    n = np.isfinite(values).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(np.isfinite(values), values, 0.0).sum(axis=0) / n
    out: dict[str, np.ndarray] = {"n_events": n, "mean": np.where(n > 0, mean, np.nan)}
    r_bar = sums.r_bar(k) if len(members) >= 2 else 0.0
    out["t_csect"], out["p_t_csect"] = event_tests.cross_sectional_t(values)
    out["patell_z"], out["p_patell_z"] = event_tests.patell_z(standardized, dof)
    out["bmp_t"], out["p_bmp_t"] = event_tests.bmp_t(standardized)
    out["kp_bmp_t"], out["p_kp_bmp_t"] = event_tests.kolari_pynnonen_t(standardized, r_bar)
    out["rank_z"], out["p_rank_z"] = event_tests.corrado_rank_z_from_sums(sums.rank_total[k], sums.rank_count[k], day_sets)
    out["gsign_z"], out["p_gsign_z"] = event_tests.generalized_sign_z(
        values, result.positive_estimation[members], parameters["n_estimation"].to_numpy(dtype=float)[members]
    )
    small = n < min_events
    for name in (*STAT_COLUMNS, *P_VALUE_COLUMNS):
        out[name] = np.where(small, np.nan, out[name])
    out["small_sample"] = small
    out["avg_cross_correlation"] = np.full(values.shape[1], r_bar)
    return out


def _window_tables(result: EventStudyResult) -> dict[str, np.ndarray]:
    """Per event x window arrays of the result's events table (rows = events, columns = windows)."""
    shape = (len(result.parameters), len(result.windows))
    events = result.events
    if not len(result.parameters):
        return {
            "status": np.empty(shape, dtype=object),
            "confounded": np.zeros(shape, bool),
            "car": np.zeros(shape),
            "car_se": np.zeros(shape),
        }
    return {
        "status": events["status"].to_numpy().reshape(shape),
        "confounded": events["confounded"].to_numpy(dtype=bool).reshape(shape),
        "car": events["car"].to_numpy(dtype=float).reshape(shape),
        "car_se": events["car_se"].to_numpy(dtype=float).reshape(shape),
    }


def _member_sets(result: EventStudyResult, in_group: np.ndarray, sample: str, tables: dict[str, np.ndarray]) -> np.ndarray:
    """The events of one group and sample: one row per window (status ok; unconfounded: and not
    confounded in it), then the daily row (a fitted model; unconfounded: in no window)."""
    parameters = result.parameters
    rows = []
    for w in range(len(result.windows)):
        members = in_group & (tables["status"][:, w] == "ok")
        if sample == "unconfounded":
            members &= ~tables["confounded"][:, w]
        rows.append(members)
    daily = in_group & parameters["estimated"].to_numpy(dtype=bool)
    if sample == "unconfounded":
        daily &= ~parameters["confounded_any"].to_numpy(dtype=bool)
    return np.vstack([*rows, daily])


def _summary_rows(
    result: EventStudyResult,
    group: str,
    sample: str,
    sets: np.ndarray,
    first_set: int,
    tables: dict[str, np.ndarray],
    min_events: int,
    sums: _SetSums,
) -> list[dict]:
    """One SUMMARY row per window for one group and sample (sets ``first_set`` + window)."""
    offset = result.estimation_residuals.shape[1]
    first_day = int(result.rel_days[0])
    rows = []
    for w, (a, b) in enumerate(result.windows):
        index = np.flatnonzero(sets[first_set + w])
        car = tables["car"][index, w]
        days = [offset + np.arange(a - first_day, b - first_day + 1)]
        found = _statistics(result, index, car[:, None], (car / tables["car_se"][index, w])[:, None], days, min_events, sums, first_set + w)
        row = {
            "group": group,
            "sample": sample,
            "window_start": a,
            "window_end": b,
            "n_events": int(found["n_events"][0]),
            "caar": float(found["mean"][0]) if len(index) else np.nan,
        }
        for name in (*STAT_COLUMNS, *P_VALUE_COLUMNS):
            row[name] = float(found[name][0])
        row["avg_cross_correlation"] = float(found["avg_cross_correlation"][0]) if len(index) >= 2 else np.nan
        row["small_sample"] = bool(found["small_sample"][0])
        row["all_confounded"] = bool(len(index)) and bool(tables["confounded"][index, w].all())
        rows.append(row)
    return rows


def _daily_frame(
    result: EventStudyResult, group: str, sample: str, members: np.ndarray, k: int, min_events: int, sums: _SetSums
) -> pd.DataFrame:
    """DAILY rows (one per relative day) for one group and sample (set ``k``)."""
    index = np.flatnonzero(members)
    offset = result.estimation_residuals.shape[1]
    days = [np.array([offset + j]) for j in range(len(result.rel_days))]
    found = _statistics(result, index, result.ar[index], result.sar[index], days, min_events, sums, k)
    aar = np.where(found["n_events"] > 0, found["mean"], np.nan)
    columns = {
        "group": group,
        "sample": sample,
        "rel_day": result.rel_days,
        "n_events": found["n_events"].astype(int),
        "aar": aar,
        "caar": np.cumsum(np.nan_to_num(aar)) + np.where(np.isnan(aar), np.nan, 0.0),
    }
    columns.update({name: found[name] for name in (*STAT_COLUMNS, *P_VALUE_COLUMNS)})
    columns["small_sample"] = found["small_sample"]
    return pd.DataFrame(columns)


def group_statistics(
    result: EventStudyResult,
    *,
    group_by: GroupBy = "event_type",
    min_events: int = MIN_GROUP_EVENTS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Average abnormal returns across events and their tests, per group and sample.

    Groups: each ``event_type``, each ``ticker``, or ``all``. Samples: ``all`` events and
    ``unconfounded`` ones. Returns ``(summary, daily)``:

    - ``summary`` (SUMMARY.csv): one row per group x sample x window over the events whose status
      is ``ok`` for that window (unconfounded: and not confounded in it). ``caar`` = mean CAR.
      ``all_confounded``: the group has members in that window and every one of them is
      confounded in it (so its ``unconfounded`` row is empty); only possible in sample ``all``.
    - ``daily`` (DAILY.csv): one row per group x sample x relative day over the events with a
      fitted model and an AR that day (unconfounded: not confounded in any window).
      ``aar`` = mean AR that day, ``caar`` = running sum of ``aar`` from the first relative day.

    Tests (see ``event_tests`` for formulas and degrees of freedom): cross-sectional t (N-1),
    Patell Z (normal, per-event t variance d/(d-2)), BMP t (N-1), Kolari-Pynnonen adjusted BMP
    (N-1; average cross-correlation of estimation residuals of the group's events), Corrado
    rank Z (normal), Cowan generalized sign Z (normal). A group x sample x window with fewer
    than ``min_events`` events has ``small_sample = True`` and NaN statistics (its ``caar`` is
    still shown). No events -> empty frames with the columns.
    """
    tables = _window_tables(result)
    groups = _groups(result.parameters, group_by)
    parts = [(group, sample, _member_sets(result, in_group, sample, tables)) for group, in_group in groups for sample in SAMPLES]
    per_part = len(result.windows) + 1
    per_group = per_part * len(SAMPLES)
    sets = np.vstack([members for _, _, members in parts]) if parts else np.zeros((0, len(result.parameters)), bool)
    group_of = np.full(len(result.parameters), -1)
    for g, (_, in_group) in enumerate(groups):
        group_of[in_group] = g
    sums = _set_sums(result, sets, group_of, per_group)  # ranks and standardized residuals: once per study
    summary_rows: list[dict] = []
    daily_parts: list[pd.DataFrame] = []
    for number, (group, sample, _) in enumerate(parts):
        first = number * per_part
        summary_rows += _summary_rows(result, group, sample, sets, first, tables, min_events, sums)
        daily_parts.append(_daily_frame(result, group, sample, sets[first + per_part - 1], first + per_part - 1, min_events, sums))
    summary = pd.DataFrame(summary_rows, columns=list(SUMMARY_COLUMNS))
    daily = pd.concat(daily_parts, ignore_index=True) if daily_parts else pd.DataFrame(columns=list(DAILY_COLUMNS))
    return summary, daily[list(DAILY_COLUMNS)]


def caar_intervals(summary: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """A copy of a ``group_statistics`` summary with ``lower`` and ``upper`` CAAR bounds.

    ``se = |caar / t_csect|`` is the cross-sectional standard error behind ``t_csect``
    (sample standard deviation of the CARs / sqrt(N)); the bounds are ``caar -/+ q * se`` with
    ``q`` the Student t quantile at ``confidence`` and N - 1 degrees of freedom, the test's own
    convention. NaN where the test is NaN (a small group, or fewer than two events).
    """
    out = summary.copy()
    se = (out["caar"] / out["t_csect"]).abs()
    dof = (out["n_events"] - 1).clip(lower=1)
    q = special.stdtrit(dof, 0.5 + confidence / 2)
    out["lower"] = out["caar"] - q * se
    out["upper"] = out["caar"] + q * se
    return out
