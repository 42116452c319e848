"""Cross-check on a public sample: 7 stocks vs the S&P 500 around 2020-03-16 (log returns).

The sample (tests/fixtures/event_study/, copied from the estudy2 package's data) clusters every
event on one date, two firms have short histories (ZM, UBER listed in 2019). The engine runs the
way the command line does with ``--returns``; each firm is then re-estimated independently with
statsmodels OLS, and, when the PyPI ``eventstudy`` package is importable, against it too.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from dashboard.__main__ import main
from dashboard.loaders.returns_file import read_returns_file
from dashboard.metrics.caar import group_statistics
from dashboard.metrics.event_study import run_event_study
from dashboard.metrics.returns import log_returns

FIXTURES = Path(__file__).parent / "fixtures" / "event_study"
FIRMS = ["AMZN", "ZM", "UBER", "NFLX", "SHOP", "FB", "UPWK"]
WINDOWS = ((-1, 1), (0, 0), (-5, 5), (0, 20))


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    return read_returns_file(FIXTURES / "returns_log.csv")


@pytest.fixture(scope="module")
def result(returns: pd.DataFrame):
    events = pd.read_csv(FIXTURES / "events_covid.csv", parse_dates=["event_date"])
    return run_event_study(
        events,
        returns.drop(columns="rel_day"),
        companies=None,
        model="market",
        benchmark="GSPC",
        windows=WINDOWS,
        return_type="log",
        sessions="rows",
    )


def test_the_sample_log_returns_follow_from_its_closes(returns: pd.DataFrame) -> None:
    closes = pd.read_csv(FIXTURES / "prices_close.csv", parse_dates=["date"], index_col="date")
    ours = log_returns(closes).iloc[1:]
    pd.testing.assert_frame_equal(ours[FIRMS + ["GSPC"]], returns[FIRMS + ["GSPC"]], check_names=False, check_freq=False, rtol=1e-10)


def test_market_model_matches_statsmodels_per_firm(returns: pd.DataFrame, result) -> None:
    rel = returns["rel_day"].to_numpy()
    estimation = (rel >= -250) & (rel <= -11)
    for firm in FIRMS:
        sample = returns.loc[estimation, [firm, "GSPC"]].dropna()
        fit = sm.OLS(sample[firm], sm.add_constant(sample["GSPC"])).fit()
        params = result.parameters.set_index("event_id").loc[f"COVID-{firm}"]
        assert params["alpha"] == pytest.approx(fit.params["const"], rel=1e-9, abs=1e-12)
        assert params["beta"] == pytest.approx(fit.params["GSPC"], rel=1e-9)
        assert params["sigma"] == pytest.approx(math.sqrt(fit.scale), rel=1e-9)
        assert params["n_estimation"] == len(sample)
        for a, b in WINDOWS[:3]:
            days = returns[(rel >= a) & (rel <= b)]
            ar = days[firm] - fit.predict(sm.add_constant(days["GSPC"], has_constant="add"))
            # Var(CAR) = L sigma^2 + g' Cov(alpha, beta) g with g = (L, sum Rm): the forecast error.
            g = np.array([len(days), days["GSPC"].sum()])
            var = len(days) * fit.scale + g @ fit.cov_params().to_numpy() @ g
            row = result.events[
                (result.events["event_id"] == f"COVID-{firm}") & (result.events["window_start"] == a) & (result.events["window_end"] == b)
            ].iloc[0]
            assert row["status"] == "ok"
            assert row["car"] == pytest.approx(ar.sum(), rel=1e-9)
            assert row["car_se"] == pytest.approx(math.sqrt(var), rel=1e-9)
    # The sample ends on rel day +11: the [0, +20] window is after coverage for every firm.
    assert (result.events[result.events["window_end"] == 20]["status"] == "after_coverage").all()
    short = result.parameters.set_index("ticker")["n_estimation"]
    assert short["AMZN"] == 230 and short["ZM"] < 230 and short["UBER"] < short["ZM"]


def test_kolari_pynnonen_correlation_equals_the_explicit_pairwise_mean(returns: pd.DataFrame, result) -> None:
    rel = returns["rel_day"].to_numpy()
    estimation = (rel >= -250) & (rel <= -11)
    resid = {}
    for firm in FIRMS:
        sample = returns.loc[estimation, [firm, "GSPC"]].dropna()
        fit = sm.OLS(sample[firm], sm.add_constant(sample["GSPC"])).fit()
        resid[firm] = ((fit.resid - fit.resid.mean()) / fit.resid.std(ddof=0)).reindex(returns.index[estimation])
    num = den = 0.0
    for i in FIRMS:
        for j in FIRMS:
            if i != j:
                both = resid[i].notna() & resid[j].notna()
                num += float((resid[i][both] * resid[j][both]).sum())
                den += float(both.sum())
    summary, _ = group_statistics(result, group_by="all")
    row = summary[(summary["sample"] == "all") & (summary["window_start"] == 0) & (summary["window_end"] == 0)].iloc[0]
    assert row["avg_cross_correlation"] == pytest.approx(num / den, rel=1e-9)
    assert row["avg_cross_correlation"] > 0.1  # the firms co-move: clustering matters here
    assert row["kp_bmp_t"] == pytest.approx(row["bmp_t"] * math.sqrt((1 - num / den) / (1 + 6 * num / den)), rel=1e-9)
    assert abs(row["kp_bmp_t"]) < abs(row["bmp_t"])


def test_command_line_on_the_sample(tmp_path: Path, capsys) -> None:
    out, summary = tmp_path / "E.csv", tmp_path / "S.csv"
    code = main(
        [
            "reactions",
            "--events",
            str(FIXTURES / "events_covid.csv"),
            "--returns",
            str(FIXTURES / "returns_log.csv"),
            "--return-type",
            "log",
            "--benchmark",
            "GSPC",
            "--estimation=-250,-11",
            "--window=-1,1",
            "--window=0,0",
            "--group-by",
            "all",
            "--out",
            str(out),
            "--summary",
            str(summary),
        ]
    )
    assert code == 0
    written = pd.read_csv(out)
    assert len(written) == 14 and (written["status"] == "ok").all()
    assert (written["day0"] == "2020-03-16").all()
    assert pd.read_csv(summary)["n_events"].tolist() == [7, 7, 7, 7]


def test_against_the_pypi_eventstudy_package(result) -> None:
    import eventstudy as es  # an independent implementation (requirements-test.txt)

    es.Single.import_returns(str(FIXTURES / "returns_log.csv"))
    # eventstudy needs complete histories (ZM and UBER have none before listing) and measures
    # its estimation as a size plus a buffer: 230 days + 9 days of buffer = our [-240, -11].
    for firm in ["AMZN", "NFLX", "SHOP", "FB", "UPWK"]:
        theirs = es.Single.market_model(
            security_ticker=firm,
            market_ticker="GSPC",
            event_date=np.datetime64("2020-03-16"),
            event_window=(-1, 1),
            estimation_size=230,
            buffer_size=9,
        )
        ours = result.abnormal[(result.abnormal["event_id"] == f"COVID-{firm}") & result.abnormal["rel_day"].between(-1, 1)]
        np.testing.assert_allclose(ours["ar"], theirs.AR, rtol=1e-8)
        params = result.parameters.set_index("ticker").loc[firm]
        # Their residual variance uses ddof = 0 and no forecast-error correction.
        assert params["sigma"] ** 2 == pytest.approx(theirs.var_AR[0] * 230 / 228, rel=1e-9)
