"""Event-study engine: worked examples, invariants, independent cross-checks, statuses, CLI.

Synthetic data (seeded, labelled ``synthetic``) checks the math; the curated data checks day 0,
confounding and coverage.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from dashboard.__main__ import main
from dashboard.loaders.curated import close_prices, load_companies, load_events, load_guidance, load_prices
from dashboard.metrics.caar import DAILY_COLUMNS, SUMMARY_COLUMNS, group_statistics
from dashboard.metrics.event_study import AR_COLUMNS, EVENT_COLUMNS, STATUSES, car_paths, run_event_study
from dashboard.metrics.guidance_events import events_with_guidance
from dashboard.metrics.returns import returns_from_closes

# --- a worked example, computed by hand ---------------------------------------------------------
# Synthetic: 5 estimation days (rel -6..-2) then rel -1, 0, +1.
#   market x = .01 .02 .03 .04 .05   -> mean .03, Sxx = .001
#   stock  y = .02 .05 .06 .09 .08   -> mean .06, Sxy = .0016
#   beta = 1.6, alpha = .06 - 1.6 * .03 = .012
#   residuals -.008 .006 0 .014 -.012 -> SSR = .00044, sigma^2 = .00044 / 3
#   event days x = 0, .02, -.01; y = .012, .10, -.004 -> AR = 0, .056, 0
HAND_X = [0.01, 0.02, 0.03, 0.04, 0.05, 0.0, 0.02, -0.01]
HAND_Y = [0.02, 0.05, 0.06, 0.09, 0.08, 0.012, 0.10, -0.004]


def _hand_returns() -> pd.DataFrame:
    index = pd.bdate_range("2024-01-01", periods=len(HAND_X))
    return pd.DataFrame({"AAA": HAND_Y, "MKT": HAND_X}, index=index)


def _hand_event() -> pd.DataFrame:
    return pd.DataFrame({"event_id": ["H1"], "ticker": ["AAA"], "event_date": [pd.Timestamp("2024-01-09")]})


def _hand(model: str):
    return run_event_study(
        _hand_event(),
        _hand_returns(),
        companies=None,
        model=model,
        benchmark="MKT",
        estimation=(-6, -2),
        windows=((-1, 1), (0, 0)),
        min_estimation=5,
        sessions="rows",
    )


def test_market_model_by_hand() -> None:
    result = _hand("market")
    row = result.events.iloc[0]
    assert row["day0"] == pd.Timestamp("2024-01-09") and row["day0_reason"] == "same_session"
    assert row["alpha"] == pytest.approx(0.012) and row["beta"] == pytest.approx(1.6)
    assert row["sigma"] == pytest.approx(math.sqrt(0.00044 / 3))
    assert row["n_estimation"] == 5 and row["status"] == "ok"
    assert result.abnormal["ar"].tolist() == pytest.approx([0.0, 0.056, 0.0], abs=1e-12)
    # Var(CAR[-1,1]) = sigma^2 (3 + 9/5 + (0.01 - 3 * .03)^2 / .001) = sigma^2 * 11.2
    assert row["car"] == pytest.approx(0.056)
    assert row["car_se"] == pytest.approx(math.sqrt(0.00044 / 3 * 11.2))
    # Day 0 alone: sigma^2 (1 + 1/5 + (.02 - .03)^2 / .001) = sigma^2 * 1.3
    day0 = result.events.iloc[1]
    assert day0["car_se"] == pytest.approx(math.sqrt(0.00044 / 3 * 1.3))
    assert day0["car_t"] == pytest.approx(0.056 / math.sqrt(0.00044 / 3 * 1.3))
    assert day0["car_p"] == pytest.approx(2 * stats.t.sf(day0["car_t"], 3))
    assert result.abnormal.loc[1, "sar"] == pytest.approx(0.056 / math.sqrt(0.00044 / 3 * 1.3))


def test_market_adjusted_and_constant_mean_by_hand() -> None:
    adjusted = _hand("market_adjusted").events.iloc[0]
    # AR = y - x = .012, .08, .006; estimation ARs .01 .03 .03 .05 .03: variance .0008 / 4
    assert adjusted["car"] == pytest.approx(0.098)
    assert adjusted["sigma"] == pytest.approx(math.sqrt(0.0002))
    assert adjusted["car_se"] == pytest.approx(math.sqrt(0.0002 * 3))
    assert (adjusted["alpha"], adjusted["beta"]) == (0.0, 1.0)
    constant = _hand("constant_mean").events.iloc[0]
    # AR = y - .06 = -.048, .04, -.064; SSR = .003, sigma^2 = .003 / 4; Var = sigma^2 (3 + 9/5)
    assert constant["car"] == pytest.approx(-0.072)
    assert constant["car_se"] == pytest.approx(math.sqrt(0.003 / 4 * 4.8))
    assert np.isnan(constant["beta"]) and pd.isna(constant["benchmark"])


def test_peer_model_by_hand() -> None:
    companies = load_companies()
    index = pd.bdate_range("2024-01-01", periods=8)
    rng = np.random.default_rng(7)  # synthetic
    returns = pd.DataFrame(rng.normal(0, 0.01, (8, 6)), index=index, columns=["META", "MSFT", "GOOGL", "AMZN", "ORCL", "INTC"])
    events = pd.DataFrame({"event_id": ["P1"], "ticker": ["META"], "event_date": [index[6]]})
    result = run_event_study(
        events, returns, companies=companies, model="peer", estimation=(-6, -2), windows=((0, 0),), min_estimation=5, sessions="rows"
    )
    expected = returns["META"].iloc[6] - returns[["MSFT", "GOOGL", "AMZN", "ORCL", "INTC"]].iloc[6].mean()
    assert result.events.loc[0, "car"] == pytest.approx(expected)
    assert result.events.loc[0, "benchmark"] == "peers:us_ai_capex"
    # SoftBank is alone in its peer group, and an all-NaN benchmark is no benchmark either.
    alone = run_event_study(
        events.assign(ticker="9984.T"),
        returns.assign(**{"9984.T": returns["META"]}),
        companies=companies,
        model="peer",
        estimation=(-6, -2),
        windows=((0, 0),),
        min_estimation=5,
        sessions="rows",
    )
    assert alone.events.loc[0, "status"] == "no_benchmark"
    empty = run_event_study(
        events, returns.assign(SPY=np.nan), companies=companies, estimation=(-6, -2), windows=((0, 0),), min_estimation=5, sessions="rows"
    )
    assert empty.events.loc[0, "status"] == "no_benchmark" and empty.events.loc[0, "benchmark"] == "SPY"


# --- synthetic panel for invariants and cross-checks ---------------------------------------------


def _synthetic_panel(n_days: int = 400, tickers: int = 8, seed: int = 1) -> pd.DataFrame:
    """Synthetic: market N(0.0004, 0.01); stock i = a_i + b_i m + N(0, 0.015)."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2020-01-01", periods=n_days)
    market = rng.normal(0.0004, 0.01, n_days)
    data = {"MKT": market}
    for i in range(tickers):
        data[f"S{i}"] = 0.0002 * i + (0.6 + 0.1 * i) * market + rng.normal(0, 0.015, n_days)
    return pd.DataFrame(data, index=index)


def _synthetic_events(returns: pd.DataFrame, days: list[int], tickers: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": [f"S{k:03d}" for k in range(len(days))],
            "ticker": tickers,
            "event_date": returns.index[days],
            "event_type": ["earnings" if k % 2 else "debt_issuance" for k in range(len(days))],
        }
    )


def _run(events, returns, **kw):
    kw.setdefault("benchmark", "MKT")
    return run_event_study(events, returns, companies=None, sessions="rows", **kw)


def test_adding_a_constant_to_stock_and_market_leaves_market_model_ars_unchanged() -> None:
    returns = _synthetic_panel()
    events = _synthetic_events(returns, [300, 320, 350], ["S1", "S2", "S3"])
    base = _run(events, returns)
    shifted = _run(events, returns + 0.003)
    np.testing.assert_allclose(shifted.ar, base.ar, atol=1e-12)
    np.testing.assert_allclose(shifted.events["car_se"], base.events["car_se"], rtol=1e-9)
    np.testing.assert_allclose(shifted.events["beta"], base.events["beta"], rtol=1e-9)
    # alpha moves by c (1 - beta)
    np.testing.assert_allclose(shifted.events["alpha"], base.events["alpha"] + 0.003 * (1 - base.events["beta"]), atol=1e-12)


def test_an_injected_abnormal_return_is_recovered() -> None:
    returns = _synthetic_panel(seed=3)
    days = [280, 300, 320, 340, 360, 380]
    tickers = ["S0", "S1", "S2", "S3", "S4", "S5"]
    events = _synthetic_events(returns, days, tickers)
    bumped = returns.copy()
    for day, ticker in zip(days, tickers, strict=True):
        bumped.loc[returns.index[day], ticker] += 0.08
    base, hit = _run(events, returns), _run(events, bumped)
    day0 = list(hit.rel_days).index(0)
    # The estimation window is untouched, so the AR on day 0 rises by exactly 0.08.
    np.testing.assert_allclose(hit.ar[:, day0] - base.ar[:, day0], 0.08, atol=1e-12)
    summary, _ = group_statistics(hit, group_by="all")
    row = summary[(summary["sample"] == "all") & (summary["window_start"] == 0) & (summary["window_end"] == 1)].iloc[0]
    assert row["caar"] == pytest.approx(0.08, abs=0.02)
    assert row["patell_z"] > 5 and row["p_bmp_t"] < 0.01


def test_alpha_beta_sigma_match_statsmodels_with_masked_days() -> None:
    returns = _synthetic_panel(seed=5)
    # S1 has a second event 100 days earlier, inside the first one's estimation window.
    events = _synthetic_events(returns, [350, 250, 330], ["S1", "S1", "S4"])
    returns = returns.copy()
    returns.iloc[140:150, returns.columns.get_loc("S4")] = np.nan  # missing days inside S4's window
    result = _run(events, returns)
    for k, (day, ticker) in enumerate([(350, "S1"), (250, "S1"), (330, "S4")]):
        est = returns.iloc[day - 250 : day - 10]
        masked = set()
        for other_day, other_ticker in [(350, "S1"), (250, "S1"), (330, "S4")]:
            if other_ticker == ticker and other_day != day:
                masked |= {other_day - 1, other_day, other_day + 1}
        keep = [i for i in range(max(day - 250, 0), day - 10) if i not in masked]
        sample = returns.iloc[keep][[ticker, "MKT"]].dropna()
        fit = sm.OLS(sample[ticker], sm.add_constant(sample["MKT"])).fit()
        row = result.parameters.iloc[k]
        assert row["alpha"] == pytest.approx(fit.params["const"], rel=1e-9)
        assert row["beta"] == pytest.approx(fit.params["MKT"], rel=1e-9)
        assert row["sigma"] == pytest.approx(math.sqrt(fit.scale), rel=1e-9)
        assert row["n_estimation"] == len(sample)
        assert len(est) == 240
    # S1 at 350 loses days 249-251 (its other event at 250); S1 at 250 never sees 350; S4 has no other.
    assert result.parameters["n_masked"].tolist() == [3, 0, 0]
    assert result.parameters.loc[2, "n_estimation"] == 230


def test_short_history_keeps_the_row_with_insufficient_estimation() -> None:
    returns = _synthetic_panel()
    events = _synthetic_events(returns, [100, 300], ["S1", "S2"])
    result = _run(events, returns)
    first = result.events[result.events["event_id"] == "S000"]
    assert (first["status"] == "insufficient_estimation").all()
    assert first["car"].isna().all() and (first["n_estimation"] == 90).all()
    assert (result.events[result.events["event_id"] == "S001"]["status"] == "ok").all()


def test_statuses_for_missing_data() -> None:
    returns = _synthetic_panel()
    returns = returns.copy()
    returns.iloc[301, returns.columns.get_loc("S3")] = np.nan  # a gap inside S3's event window
    events = pd.DataFrame(
        {
            "event_id": ["gap", "nopx", "before", "after", "late"],
            "ticker": ["S3", "NOPE", "S1", "S2", "S2"],
            "event_date": [
                returns.index[300],
                returns.index[300],
                pd.Timestamp("2019-06-03"),
                returns.index[-3],
                returns.index[-1] + pd.Timedelta(days=30),
            ],
        }
    )
    result = _run(events, returns, windows=((-1, 1), (0, 20)))
    status = result.events.set_index(["event_id", "window_end"])["status"]
    assert status[("gap", 1)] == "gap_in_prices"
    assert status[("nopx", 1)] == "no_prices"
    assert status[("before", 1)] == "before_coverage"  # day 0 = the first row, day -1 has no data
    assert status[("after", 1)] == "ok" and status[("after", 20)] == "after_coverage"
    assert status[("late", 1)] == "after_coverage"
    assert result.events.loc[result.events["status"] != "ok", "car"].isna().all()
    assert len(result.events) == 10  # nothing dropped


def test_confounders_flag_and_mask_without_being_studied() -> None:
    returns = _synthetic_panel()
    events = _synthetic_events(returns, [300], ["S1"])
    others = pd.DataFrame({"event_id": ["C1", "C2", "S000"], "ticker": ["S1", "S1", "S1"], "event_date": returns.index[[301, 200, 300]]})
    alone, with_others = _run(events, returns), _run(events, returns, confounders=others)
    assert not alone.events["confounded"].any() and alone.parameters.loc[0, "n_masked"] == 0
    # C1 (day +1) confounds [-1,1]; C2 (day -100) masks 3 estimation days; S000 is the event itself.
    assert with_others.events["confounded"].tolist() == [True, True, True, True]
    assert with_others.parameters.loc[0, "n_masked"] == 3
    assert with_others.parameters["event_id"].tolist() == ["S000"] and len(with_others.abnormal) == 26


def test_event_before_the_first_return_is_before_coverage() -> None:
    returns = _synthetic_panel()
    early = pd.DataFrame({"event_id": ["b"], "ticker": ["S1"], "event_date": [returns.index[0]]})
    result = _run(early, returns, windows=((-1, 1),))
    assert result.events.loc[0, "status"] == "before_coverage"


def test_no_input_is_mutated() -> None:
    returns = _synthetic_panel()
    events = _synthetic_events(returns, [300, 320, 350], ["S1", "S1", "S3"])
    companies = load_companies()
    copies = (returns.copy(), events.copy(), companies.copy())
    result = _run(events, returns)
    group_statistics(result)
    car_paths(result)
    pd.testing.assert_frame_equal(returns, copies[0])
    pd.testing.assert_frame_equal(events, copies[1])
    run_event_study(
        events.assign(ticker="META"), returns.rename(columns={"S1": "META", "MKT": "SPY"}), companies=companies, sessions="rows"
    )
    pd.testing.assert_frame_equal(companies, copies[2])


# --- group tests against straightforward per-event loops ------------------------------------------


def _loop_statistics(result, window: tuple[int, int]) -> dict[str, float]:
    """Independent per-event loop implementation of the six tests (the formulas as published)."""
    events = result.events[(result.events["window_start"] == window[0]) & (result.events["window_end"] == window[1])]
    cars, scars, dofs, positives, n_est, ranks_rows, resid_rows = [], [], [], [], [], [], []
    for i, row in enumerate(events.itertuples()):
        if row.status != "ok":
            continue
        cars.append(row.car)
        scars.append(row.car / row.car_se)
        dofs.append(row.n_estimation - 2)
        resid = result.estimation_residuals[i]
        resid_rows.append(resid)
        positives.append(int(np.sum(resid[np.isfinite(resid)] > 0)))
        n_est.append(int(np.isfinite(resid).sum()))
        combined = np.concatenate([resid, result.ar[i]])
        finite = np.isfinite(combined)
        ranks = np.full(combined.shape, np.nan)
        ranks[finite] = stats.rankdata(combined[finite]) / (finite.sum() + 1) - 0.5
        ranks_rows.append(ranks)
    n = len(cars)
    out: dict[str, float] = {"n": n, "caar": float(np.mean(cars))}
    out["t_csect"] = np.mean(cars) / (np.std(cars, ddof=1) / math.sqrt(n))
    out["patell_z"] = sum(scars) / math.sqrt(sum(d / (d - 2) for d in dofs))
    out["bmp_t"] = np.mean(scars) / (np.std(scars, ddof=1) / math.sqrt(n))
    # KP: mean pairwise correlation from an explicit events x events loop over common days.
    z = []
    for r in resid_rows:
        f = np.isfinite(r)
        z.append(np.where(f, (r - r[f].mean()) / r[f].std(), np.nan))
    num = den = 0.0
    for i in range(n):
        for j in range(n):
            if i != j:
                both = np.isfinite(z[i]) & np.isfinite(z[j])
                num += float(np.sum(z[i][both] * z[j][both]))
                den += float(both.sum())
    r_bar = num / den
    out["r_bar"] = r_bar
    out["kp_bmp_t"] = out["bmp_t"] * math.sqrt((1 - r_bar) / (1 + (n - 1) * r_bar))
    # Corrado: mean rank deviation per day, S over all days, window sum / sqrt(L).
    matrix = np.vstack(ranks_rows)
    dbar = np.array([np.mean(col[np.isfinite(col)]) if np.isfinite(col).any() else np.nan for col in matrix.T])
    s = math.sqrt(np.nanmean(dbar**2))
    offset = len(result.estimation_residuals[0])
    cols = [offset + d - int(result.rel_days[0]) for d in range(window[0], window[1] + 1)]
    out["rank_z"] = sum(dbar[c] for c in cols) / (math.sqrt(len(cols)) * s)
    p_hat = sum(positives) / sum(n_est)
    wins = sum(1 for c in cars if c > 0)
    out["gsign_z"] = (wins - n * p_hat) / math.sqrt(n * p_hat * (1 - p_hat))
    return out


def test_group_tests_match_per_event_loop_formulas() -> None:
    returns = _synthetic_panel(n_days=500, tickers=8, seed=11)
    rng = np.random.default_rng(2)
    days = sorted(rng.choice(np.arange(260, 470), size=14, replace=False).tolist())
    # Half the events share day 0 (calendar clustering), as in the COVID sample.
    days[:6] = [400] * 6
    tickers = [f"S{k % 8}" for k in range(14)]
    events = _synthetic_events(returns, days, tickers)
    result = _run(events, returns, windows=((-1, 1), (0, 0), (-5, 5)))
    summary, daily = group_statistics(result, group_by="all")
    for window in result.windows:
        got = summary[(summary["sample"] == "all") & (summary["window_start"] == window[0]) & (summary["window_end"] == window[1])].iloc[0]
        want = _loop_statistics(result, window)
        assert got["n_events"] == want["n"]
        assert got["caar"] == pytest.approx(want["caar"], rel=1e-9)
        for name in ("t_csect", "patell_z", "bmp_t", "kp_bmp_t", "rank_z", "gsign_z"):
            assert got[name] == pytest.approx(want[name], rel=1e-9), name
        assert got["avg_cross_correlation"] == pytest.approx(want["r_bar"], rel=1e-9)
        assert got["p_t_csect"] == pytest.approx(2 * stats.t.sf(abs(want["t_csect"]), want["n"] - 1))
        assert got["p_patell_z"] == pytest.approx(2 * stats.norm.sf(abs(want["patell_z"])))
    # Daily: day 0 equals the (0, 0) window; CAAR is the running sum of AAR.
    d0 = daily[(daily["sample"] == "all") & (daily["rel_day"] == 0)].iloc[0]
    w0 = summary[(summary["sample"] == "all") & (summary["window_start"] == 0) & (summary["window_end"] == 0)].iloc[0]
    for name in ("t_csect", "patell_z", "bmp_t", "kp_bmp_t", "rank_z", "gsign_z"):
        assert d0[name] == pytest.approx(w0[name], rel=1e-9), name
    alld = daily[daily["sample"] == "all"]
    np.testing.assert_allclose(alld["caar"], np.cumsum(alld["aar"]))
    assert list(summary.columns) == list(SUMMARY_COLUMNS) and list(daily.columns) == list(DAILY_COLUMNS)


def test_small_groups_are_flagged_not_tested() -> None:
    returns = _synthetic_panel()
    events = _synthetic_events(returns, [300, 310, 320, 330, 340, 350, 360], [f"S{k}" for k in range(7)])
    result = _run(events, returns)
    summary, daily = group_statistics(result, group_by="event_type")
    small = summary[summary["group"] == "debt_issuance"]  # 4 events
    assert (small["n_events"] == 4).all() and small["small_sample"].all()
    assert small[["t_csect", "patell_z", "bmp_t", "kp_bmp_t", "rank_z", "gsign_z", "p_bmp_t"]].isna().all().all()
    assert small["caar"].notna().all()
    assert daily[daily["group"] == "debt_issuance"]["small_sample"].all()
    with pytest.raises(ValueError, match="group_by"):
        group_statistics(result, group_by="sector")  # type: ignore[arg-type]


def test_car_path_ends_on_the_widest_window() -> None:
    returns = _synthetic_panel()
    events = _synthetic_events(returns, [300, 350], ["S1", "S2"])
    result = _run(events, returns, windows=((-5, 5), (0, 1)))
    paths = car_paths(result)
    assert list(paths.columns) == ["event_id", "rel_day", "date", "car", "car_se", "lower", "upper"]
    last = paths[paths["rel_day"] == 5].set_index("event_id")
    wide = result.events[result.events["window_start"] == -5].set_index("event_id")
    np.testing.assert_allclose(last["car"], wide["car"], rtol=1e-12)
    np.testing.assert_allclose(last["car_se"], wide["car_se"], rtol=1e-12)
    q = stats.t.ppf(0.975, wide["n_estimation"] - 2)
    np.testing.assert_allclose(last["upper"] - last["car"], q * wide["car_se"], rtol=1e-9)


def test_settings_are_checked() -> None:
    returns = _synthetic_panel()
    events = _synthetic_events(returns, [300], ["S1"])
    with pytest.raises(ValueError, match="estimation window must end before"):
        _run(events, returns, estimation=(-20, 0), windows=((-1, 1),))
    with pytest.raises(ValueError, match="model"):
        _run(events, returns, model="fama_french")


# --- curated data ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def curated_result():
    returns = returns_from_closes(close_prices(load_prices()))
    return run_event_study(load_events(), returns, companies=load_companies())


def test_meta_results_and_bond_flag_each_other(curated_result) -> None:
    rows = curated_result.events
    meta = rows[rows["event_id"].isin(["EV050", "EV053"]) & (rows["window_start"] == -1) & (rows["window_end"] == 1)]
    assert meta["confounded"].all() and len(meta) == 2
    assert set(meta["day0"]) == {pd.Timestamp("2025-10-30")}


def test_confounding_and_masking_match_a_per_event_loop(curated_result) -> None:
    params = curated_result.parameters
    rows = curated_result.events
    sessions = pd.DatetimeIndex(sorted(set(params["day0"].dropna()) | set(load_prices().query("ticker == 'SPY'")["date"])))
    position = {d: i for i, d in enumerate(sessions)}
    for event in params[params["calendar"] == "XNYS"].itertuples():
        p = position[event.day0]
        others = [
            position[d]
            for e, t, d in zip(params["event_id"], params["ticker"], params["day0"], strict=True)
            if t == event.ticker and e != event.event_id
        ]
        for a, b in curated_result.windows:
            flagged = any(p + a <= q <= p + b for q in others)
            got = rows[(rows["event_id"] == event.event_id) & (rows["window_start"] == a) & (rows["window_end"] == b)]
            assert bool(got["confounded"].iloc[0]) == flagged, (event.event_id, a, b)
        masked = {q + d for q in others for d in (-1, 0, 1)} & set(range(p - 250, p - 10))
        assert event.n_masked == len(masked), event.event_id


def test_every_curated_event_has_rows_and_a_known_status(curated_result) -> None:
    events = load_events()
    rows = curated_result.events
    assert list(rows.columns) == list(EVENT_COLUMNS)
    assert set(rows["event_id"]) == set(events["event_id"])
    assert len(rows) == len(events) * len(curated_result.windows)
    assert set(rows["status"]) <= set(STATUSES)
    assert list(curated_result.abnormal.columns) == list(AR_COLUMNS)
    softbank = curated_result.parameters[curated_result.parameters["ticker"] == "9984.T"]
    assert (softbank["benchmark"] == "N225").all() and (softbank["calendar"] == "XTKS").all()


# --- command line ------------------------------------------------------------------------------


def test_cli_writes_all_files_with_every_curated_event(tmp_path: Path, capsys) -> None:
    out = {name: tmp_path / f"{name}.csv" for name in ("events", "summary", "daily", "ar")}
    code = main(
        [
            "reactions",
            "--out",
            str(out["events"]),
            "--summary",
            str(out["summary"]),
            "--daily",
            str(out["daily"]),
            "--ar",
            str(out["ar"]),
            "--window=-1,1",
            "--window=0,20",
        ]
    )
    assert code == 0
    written = pd.read_csv(out["events"])
    # the curated events plus the 12 guidance vintages no curated event covers (GV-...)
    study = events_with_guidance(load_events(), load_guidance())
    assert len(study) == len(load_events()) + 12
    assert set(written["event_id"]) == set(study["event_id"])
    assert written["status"].notna().all() and len(written) == 2 * len(study)
    assert list(pd.read_csv(out["summary"]).columns) == list(SUMMARY_COLUMNS)
    assert list(pd.read_csv(out["daily"]).columns) == list(DAILY_COLUMNS)
    assert pd.read_csv(out["ar"])["rel_day"].between(-1, 20).all()
    printed = capsys.readouterr().out
    assert f"{len(study)} events x 2 windows" in printed and "statuses: ok" in printed


def test_cli_user_events_bad_rows_warned_and_softbank_after_its_prices(tmp_path: Path, capsys) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,ticker,event_date,event_time\n"
        "U1,9984.T,2026-06-15,after_close\n"
        "U2,NOPE,2025-01-10,\n"
        "U3,META,2025-10-29,after_close\n"
        "U4,MSFT,2025-13-01,\n"
    )
    out = tmp_path / "E.csv"
    assert main(["reactions", "--events", str(events), "--out", str(out), "--window=-1,1"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and ":3: ticker" in err and ":5: event_date" in err
    written = pd.read_csv(out).set_index("event_id")
    assert written.loc["U1", "status"] == "after_coverage"
    assert written.loc["U3", "status"] == "ok" and written.loc["U3", "day0"] == "2025-10-30"
    # U3 is Meta's Q3 2025 results again: the curated EV050 and EV053 confound it.
    assert bool(written.loc["U3", "confounded"])
    assert set(written.index) == {"U1", "U3"}


def test_cli_bad_returns_file_is_invalid_data_with_its_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "r.csv"
    bad.write_text("date,AAA,SPY\n2024-01-02,0.01,0.02\n2024-01-03,abc,0.01\n")
    assert main(["reactions", "--returns", str(bad), "--out", str(tmp_path / "E.csv")]) == 1
    err = capsys.readouterr().err
    assert f"  {bad}:3: AAA: 'abc' is not a number" in err.splitlines()
    assert err.splitlines()[-1] == f"error: {bad}: not a valid returns file (1 issue(s))"
    assert not (tmp_path / "E.csv").exists()
    assert main(["reactions", "--estimation=-20,0", "--out", str(tmp_path / "E.csv")]) == 2
