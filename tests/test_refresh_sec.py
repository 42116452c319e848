"""SEC EDGAR company facts: the normalizer on a hand-written sample, fiscal calendars, the merge,
the User-Agent rule, the rate limiter and the extract step (with a fake session: no network).

The sample ``tests/fixtures/refresh/amzn_companyfacts_sample.json`` follows the documented
companyfacts structure (shared/reference/sec-companyfacts-shape.md). Its 2022 revenue, cash-flow and
year-end balance figures are Amazon's as published; the Q3 balances, the restated values and the
LongTermDebtNoncurrent figures are synthetic, there to exercise the rules. Expected values below
are worked out by hand from the facts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from dashboard import config
from dashboard.errors import RefreshError
from dashboard.fiscal_calendar import fiscal_period
from dashboard.loaders import companyfacts
from dashboard.loaders.companyfacts import normalize_companyfacts
from dashboard.loaders.fundamentals_merge import merge_fundamentals
from dashboard.loaders.sec import RateLimiter, SecClient, fetch_companyfacts_raw, sec_user_agent

SAMPLE = Path(__file__).parent / "fixtures" / "refresh" / "amzn_companyfacts_sample.json"
K22 = "0001018724-23-000004"  # 10-K for FY2022
Q3_23 = "0001018724-23-000018"  # 10-Q for Q3 2023, restating the 9M 2022 capex comparative


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def amzn(raw) -> companyfacts.NormalizedFacts:
    return normalize_companyfacts(raw, fiscal_year_end_month=12, ticker="AMZN")


def _quarter(frame: pd.DataFrame, year: int, quarter: int) -> pd.Series:
    rows = frame[(frame["fiscal_year"] == year) & (frame["fiscal_quarter"] == quarter)]
    assert len(rows) == 1, f"expected one row for {year}Q{quarter}, got {len(rows)}"
    return rows.iloc[0]


# --- normalize --------------------------------------------------------------------------------


def test_quarters_placed_by_dates_in_the_schema(amzn):
    q = amzn.quarters
    assert list(q.columns) == list(companyfacts.FUNDAMENTALS_COLUMNS)
    assert list(zip(q["fiscal_year"], q["fiscal_quarter"])) == [(2022, 1), (2022, 2), (2022, 3), (2022, 4), (2023, 1)]
    assert q["period_end"].dt.strftime("%Y-%m-%d").tolist() == ["2022-03-31", "2022-06-30", "2022-09-30", "2022-12-31", "2023-03-31"]
    # The FY2021 fact repeated in the FY2022 10-K has no 9M partner: it yields no quarter. The FY2022
    # figures repeated in the FY2023 10-K (fy=2023) land in fiscal 2022, by their dates.
    assert (q["fiscal_year"] >= 2022).all()


def test_capex_from_year_to_date_facts_with_restatement(amzn):
    q = amzn.quarters
    assert _quarter(q, 2022, 1)["capex"] == 14951.0  # the 3-month Q1 fact
    assert _quarter(q, 2022, 2)["capex"] == 30675.0 - 14951.0  # 6M - Q1 = 15724
    # 9M was restated from 47,053 to 47,153 (neither framed: the later filing wins)
    assert _quarter(q, 2022, 3)["capex"] == 47153.0 - 30675.0  # 16478
    assert _quarter(q, 2022, 4)["capex"] == 63645.0 - 47153.0  # Q4 = FY - 9M = 16492
    assert _quarter(q, 2023, 1)["capex"] == 14207.0


def test_operating_cash_flow_negative_q1_differenced(amzn):
    q = amzn.quarters
    assert _quarter(q, 2022, 1)["operating_cash_flow"] == -2790.0
    assert _quarter(q, 2022, 2)["operating_cash_flow"] == 6175.0 - (-2790.0)  # 8965
    assert _quarter(q, 2022, 3)["operating_cash_flow"] == 17579.0 - 6175.0  # 11404
    assert _quarter(q, 2022, 4)["operating_cash_flow"] == 46752.0 - 17579.0  # 29173
    assert np.isnan(_quarter(q, 2023, 1)["operating_cash_flow"])  # not in the sample: NaN, not 0


def test_revenue_three_month_facts_and_tag_fallback(amzn):
    q = amzn.quarters
    assert _quarter(q, 2022, 2)["revenue"] == 121234.0  # true 3-month fact (= 237678 - 116444 too)
    assert _quarter(q, 2022, 4)["revenue"] == 513983.0 - 364779.0  # FY - 9M = 149204
    assert _quarter(q, 2023, 1)["revenue"] == 127358.0  # answered by `Revenues`
    prov = amzn.provenance.set_index(["fiscal_year", "fiscal_quarter", "column"])
    assert prov.loc[(2023, 1, "revenue"), "tag"] == "Revenues"
    assert prov.loc[(2022, 1, "revenue"), "tag"] == "RevenueFromContractWithCustomerExcludingAssessedTax"
    assert prov.loc[(2022, 4, "capex"), "tag"] == "PaymentsToAcquireProductiveAssets"  # Amazon's capex tag
    assert prov.loc[(2022, 4, "capex"), "accession"] == K22
    assert prov.loc[(2022, 4, "capex"), "method"] == "FY-9M"
    assert prov.loc[(2022, 2, "revenue"), "method"] == "3M"
    assert prov.loc[(2022, 3, "capex"), "accession"] == Q3_23


def test_balances_at_quarter_end_instants(amzn):
    q = amzn.quarters
    assert _quarter(q, 2022, 3)["cash_and_securities"] == 35178.0 + 23875.0
    assert _quarter(q, 2022, 4)["cash_and_securities"] == 53888.0 + 16138.0  # 70026
    assert np.isnan(_quarter(q, 2023, 1)["cash_and_securities"])  # no securities fact: NaN, not cash alone
    # LongTermDebt at 2022-12-31: framed 67,150 (FY2022 10-K) beats the later unframed 67,100.
    assert _quarter(q, 2022, 4)["total_debt"] == 67150.0
    assert _quarter(q, 2022, 3)["total_debt"] == 58919.0


def test_total_debt_tags_follow_the_basis(raw):
    noncurrent = normalize_companyfacts(
        raw, fiscal_year_end_month=12, ticker="AMZN", total_debt_tags=companyfacts.NONCURRENT_DEBT_TAGS
    ).quarters
    assert _quarter(noncurrent, 2022, 3)["total_debt"] == 57000.0
    assert _quarter(noncurrent, 2022, 4)["total_debt"] == 67150.0


def test_restatements_are_reported(amzn):
    r = amzn.restatements.set_index("tag")
    assert sorted(r.index) == ["LongTermDebt", "PaymentsToAcquireProductiveAssets"]
    assert r.loc["PaymentsToAcquireProductiveAssets", "values_musd"] == [47053.0, 47153.0]
    assert r.loc["PaymentsToAcquireProductiveAssets", "kept_musd"] == 47153.0
    assert r.loc["PaymentsToAcquireProductiveAssets", "kept_accession"] == Q3_23
    assert r.loc["LongTermDebt", "values_musd"] == [67100.0, 67150.0]
    assert r.loc["LongTermDebt", "kept_musd"] == 67150.0
    assert pd.isna(r.loc["LongTermDebt", "start"])  # an instant


def test_source_names_tag_and_accession(amzn):
    source = _quarter(amzn.quarters, 2022, 4)["source"]
    assert source.startswith("SEC EDGAR companyfacts CIK0001018724")
    assert f"capex: PaymentsToAcquireProductiveAssets {K22} (FY-9M)" in source


def test_normalize_does_not_modify_raw(raw):
    before = json.dumps(raw, sort_keys=True)
    normalize_companyfacts(raw, fiscal_year_end_month=12)
    assert json.dumps(raw, sort_keys=True) == before


def _facts(tag_facts: dict[str, list[tuple]], cik: int = 1) -> dict:
    """A minimal companyfacts document: tag -> [(start or None, end, val in USD millions, accn, filed, frame)]."""
    gaap = {}
    for tag, facts in tag_facts.items():
        rows = []
        for start, end, val, accn, filed, frame in facts:
            fact = {"end": end, "val": int(val * 1e6), "accn": accn, "fy": 2099, "fp": "FY", "form": "10-Q", "filed": filed}
            if start:
                fact["start"] = start
            if frame:
                fact["frame"] = frame
            rows.append(fact)
        gaap[tag] = {"label": tag, "description": tag, "units": {"USD": rows}}
    return {"cik": cik, "entityName": "Synthetic", "facts": {"us-gaap": gaap}}


def test_first_tag_in_order_answers():
    raw = _facts(
        {
            "PaymentsToAcquirePropertyPlantAndEquipment": [("2024-01-01", "2024-03-31", 10.0, "a", "2024-04-30", None)],
            "PaymentsToAcquireProductiveAssets": [
                ("2024-01-01", "2024-03-31", 12.0, "b", "2024-04-30", None),
                ("2024-04-01", "2024-06-30", 13.0, "c", "2024-07-30", None),
            ],
        }
    )
    facts = normalize_companyfacts(raw, fiscal_year_end_month=12)
    assert facts.quarters["capex"].tolist() == [10.0, 13.0]  # Q1 from the first tag, Q2 falls back
    assert facts.provenance["tag"].tolist() == ["PaymentsToAcquirePropertyPlantAndEquipment", "PaymentsToAcquireProductiveAssets"]


def test_june_fiscal_year_microsoft_style():
    # Synthetic figures. FY2025 runs 2024-07-01 .. 2025-06-30 and is named after 2025.
    raw = _facts(
        {
            "PaymentsToAcquirePropertyPlantAndEquipment": [
                ("2024-07-01", "2024-09-30", 14923.0, "q1", "2024-10-30", None),
                ("2024-07-01", "2025-03-31", 47584.0, "q3", "2025-04-30", None),
                ("2024-07-01", "2025-06-30", 64551.0, "k", "2025-07-30", None),
                ("2025-07-01", "2025-09-30", 19394.0, "q1b", "2025-10-29", None),
            ]
        }
    )
    q = normalize_companyfacts(raw, fiscal_year_end_month=6, ticker="MSFT").quarters
    assert list(zip(q["fiscal_year"], q["fiscal_quarter"])) == [(2025, 1), (2025, 4), (2026, 1)]
    assert _quarter(q, 2025, 4)["capex"] == 64551.0 - 47584.0  # Q4 = FY - 9M = 16967
    assert _quarter(q, 2025, 4)["period_end"] == pd.Timestamp("2025-06-30")
    # No 6M fact: Q2 and Q3 cannot be separated from the 9M figure, so neither is invented.
    assert len(q) == 3


def test_intel_52_53_week_quarters():
    # Synthetic figures. FY2023 starts Sunday 2023-01-01; Q1 ends Saturday 2023-04-01, Q2 2023-07-01.
    raw = _facts(
        {
            "PaymentsToAcquirePropertyPlantAndEquipment": [
                ("2023-01-01", "2023-04-01", 7000.0, "q1", "2023-04-28", None),
                ("2023-01-01", "2023-07-01", 13000.0, "q2", "2023-07-28", None),
            ]
        }
    )
    month_end = normalize_companyfacts(raw, fiscal_year_end_month=12).quarters
    assert month_end.empty  # Saturdays are not month-ends on a month-end calendar
    facts = normalize_companyfacts(raw, fiscal_year_end_month=12, fiscal_calendar="52_53_week")
    q = facts.quarters
    assert list(zip(q["fiscal_year"], q["fiscal_quarter"])) == [(2023, 1), (2023, 2)]
    assert _quarter(q, 2023, 2)["capex"] == 13000.0 - 7000.0
    assert _quarter(q, 2023, 2)["period_end"] == pd.Timestamp("2023-07-01")


def test_fiscal_period_by_hand():
    dates = pd.Series(pd.to_datetime(["2022-12-31", "2025-09-30", "2025-06-30", "2025-08-31", "2026-05-31", "2022-02-28"]))
    months = [12, 6, 6, 5, 5, 12]
    got = [tuple(fiscal_period(dates.iloc[[i]], fiscal_year_end_month=m).iloc[0].tolist()) for i, m in enumerate(months)]
    assert got[0] == (2022, 4)
    assert got[1] == (2026, 1)  # Microsoft: September 2025 opens FY2026
    assert got[2] == (2025, 4)
    assert got[3] == (2026, 1)  # Oracle: August 2025 closes Q1 of FY2026 (year ends May 2026)
    assert got[4] == (2026, 4)
    assert all(pd.isna(v) for v in got[5])  # February is no quarter end for a December year
    intel = fiscal_period(
        pd.Series(pd.to_datetime(["2022-04-02", "2022-12-31", "2024-12-28"])), fiscal_year_end_month=12, fiscal_calendar="52_53_week"
    )
    assert intel.astype(int).values.tolist() == [[2022, 1], [2022, 4], [2024, 4]]


def test_odd_duration_and_wrong_start_are_dropped_with_reason():
    raw = _facts(
        {
            "PaymentsToAcquirePropertyPlantAndEquipment": [
                ("2024-01-01", "2024-02-29", 5.0, "a", "2024-04-30", None),  # 2 months
                ("2024-04-01", "2024-12-31", 5.0, "b", "2025-01-30", None),  # 9 months from April
                ("2024-03-01", "2024-05-31", 5.0, "c", "2024-06-30", None),  # a quarter ending in May
            ]
        }
    )
    facts = normalize_companyfacts(raw, fiscal_year_end_month=12)
    assert facts.quarters.empty
    assert facts.dropped.sort_values("end")["reason"].tolist() == [
        "not a quarter, 6, 9 or 12 months long",
        "end is not a fiscal quarter end",
        "multi-month fact not from a fiscal-year start",
    ]


def test_empty_companyfacts_gives_empty_frames():
    facts = normalize_companyfacts({"cik": 1, "facts": {}}, fiscal_year_end_month=12)
    assert facts.quarters.empty and list(facts.quarters.columns) == list(companyfacts.FUNDAMENTALS_COLUMNS)
    assert facts.restatements.empty and facts.provenance.empty


# --- merge ------------------------------------------------------------------------------------


def _curated() -> pd.DataFrame:
    values = {c: np.nan for c in config.FUNDAMENTAL_VALUE_COLUMNS}
    rows = [
        {
            **values,
            "ticker": "AMZN",
            "fiscal_year": 2022,
            "fiscal_quarter": 1,
            "period_end": "2022-03-31",
            "capex": 14951.0,
            "revenue": 116900.0,
            "source": "curated q1",
        },
        {
            **values,
            "ticker": "AMZN",
            "fiscal_year": 2022,
            "fiscal_quarter": 2,
            "period_end": "2022-06-30",
            "capex": 15724.8,
            "source": "curated q2",
        },
        {
            **values,
            "ticker": "AMZN",
            "fiscal_year": 2022,
            "fiscal_quarter": 3,
            "period_end": "2022-09-30",
            "capex": 16378.0,
            "source": "curated q3",
        },
        {
            **values,
            "ticker": "AMZN",
            "fiscal_year": 2022,
            "fiscal_quarter": 4,
            "period_end": "2022-12-31",
            "capex": 16592.0,
            "revenue": 149204.0,
            "source": "curated q4",
        },
    ]
    frame = pd.DataFrame(rows)[list(companyfacts.FUNDAMENTALS_COLUMNS)]
    return frame.astype({"period_end": "datetime64[us]", "ticker": "str", "source": "str"})


def test_merge_fills_gaps_and_reports_disagreements(amzn):
    curated = _curated()
    before = curated.copy()
    merged, disagreements = merge_fundamentals(curated, amzn.quarters, provenance=amzn.provenance)
    pd.testing.assert_frame_equal(curated, before)  # input untouched
    # Curated values stay, even where SEC disagrees.
    assert _quarter(merged, 2022, 3)["capex"] == 16378.0
    assert _quarter(merged, 2022, 4)["capex"] == 16592.0
    # Gaps are filled, and the source names the tag and the accession.
    q3 = _quarter(merged, 2022, 3)
    assert q3["total_debt"] == 58919.0 and q3["cash_and_securities"] == 59053.0
    assert "total_debt: SEC EDGAR LongTermDebt 0001018724-22-000023 (instant)" in q3["source"]
    assert q3["source"].startswith("curated q3 ; ")
    assert _quarter(merged, 2022, 2)["operating_cash_flow"] == 8965.0
    # Disagreements: |SEC - curated| > max(1, 0.5% of curated).
    #   Q3 capex 16478 vs 16378: +100 > 81.9 -> reported; Q4 capex 16492 vs 16592: -100 > 82.96 -> reported;
    #   Q1 revenue 116444 vs 116900: -456 < 584.5 -> not; Q2 capex 15724 vs 15724.8: -0.8 < 1 -> not.
    d = disagreements.set_index(["fiscal_year", "fiscal_quarter", "column"])
    assert sorted(d.index) == [(2022, 3, "capex"), (2022, 4, "capex")]
    assert d.loc[(2022, 3, "capex"), "difference"] == pytest.approx(100.0)
    assert d.loc[(2022, 3, "capex"), "relative_difference"] == pytest.approx(100.0 / 16378.0)
    assert d.loc[(2022, 4, "capex"), "sec"] == 16492.0
    assert d.loc[(2022, 4, "capex"), "accession"] == K22
    # SEC's 2023Q1, after the first curated quarter, is added with its SEC source.
    added = _quarter(merged, 2023, 1)
    assert added["capex"] == 14207.0 and added["source"].startswith("SEC EDGAR companyfacts")
    assert len(merged) == 5
    assert merged["period_end"].is_monotonic_increasing


def test_merge_does_not_add_quarters_before_the_curated_range(amzn):
    curated = _curated()
    curated = curated[curated["fiscal_quarter"] >= 3]
    merged, _ = merge_fundamentals(curated, amzn.quarters)
    assert sorted(zip(merged["fiscal_year"], merged["fiscal_quarter"])) == [(2022, 3), (2022, 4), (2023, 1)]
    merged_all, _ = merge_fundamentals(curated, amzn.quarters, extend_backwards=True)
    assert len(merged_all) == 5


# --- User-Agent, rate limit, extract ----------------------------------------------------------


def test_user_agent_needs_a_contact_address(monkeypatch, tmp_path):
    monkeypatch.delenv(config.SEC_USER_AGENT_ENV, raising=False)
    nowhere = tmp_path / "missing.toml"
    with pytest.raises(RefreshError, match=r"SEC EDGAR.*SEC_USER_AGENT.*secrets.toml"):
        sec_user_agent(secrets_file=nowhere)
    monkeypatch.setenv(config.SEC_USER_AGENT_ENV, "no address here")
    with pytest.raises(RefreshError, match="SEC_USER_AGENT"):
        sec_user_agent(secrets_file=nowhere)
    monkeypatch.setenv(config.SEC_USER_AGENT_ENV, "Analytics Team data@example.com")
    assert sec_user_agent(secrets_file=nowhere) == "Analytics Team data@example.com"


def test_user_agent_from_streamlit_secrets(monkeypatch, tmp_path):
    monkeypatch.delenv(config.SEC_USER_AGENT_ENV, raising=False)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('SEC_USER_AGENT = "Team ops@example.com"\n', encoding="utf-8")
    assert sec_user_agent(secrets_file=secrets) == "Team ops@example.com"


def test_rate_limiter_spaces_calls_at_ten_per_second():
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(25):
        limiter.wait()
    # 25 calls at 10/s: the first goes at once, each next one 0.1 s later -> last at t = 2.4 s.
    assert now[0] == pytest.approx(2.4)
    assert len(waits) == 24 and all(w == pytest.approx(0.1) for w in waits)


class _FakeResponse:
    def __init__(self, status: int, payload: object = None) -> None:
        self.status_code = status
        self._payload = payload

    def json(self) -> object:
        if isinstance(self._payload, Exception):
            raise self._payload
        return self._payload


class _FakeSession:
    def __init__(self, outcome: object) -> None:
        self.outcome = outcome
        self.calls: list[tuple[str, dict, object]] = []

    def get(self, url: str, *, headers: dict, timeout: object) -> _FakeResponse:
        self.calls.append((url, headers, timeout))
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome  # type: ignore[return-value]


def _no_wait() -> RateLimiter:
    return RateLimiter(1e9, sleep=lambda s: None)


def _client(session: object, cache: Path, waits: list[float] | None = None) -> SecClient:
    """A client on a fake session: no rate-limit wait, retries recorded in ``waits`` (no sleeping)."""
    return SecClient(
        session, "T t@example.com", limiter=_no_wait(), cache_dir=cache, sleep=(waits if waits is not None else []).append, now=lambda: 0.0
    )


def test_fetch_sends_user_agent_and_caches(raw, tmp_path):
    session = _FakeSession(_FakeResponse(200, raw))
    got = fetch_companyfacts_raw(1018724, _client(session, tmp_path))
    assert got == raw
    url, headers, timeout = session.calls[0]
    assert url.endswith("/api/xbrl/companyfacts/CIK0001018724.json")
    assert headers["User-Agent"] == "T t@example.com"
    assert timeout[0] <= 5  # short connect timeout
    cached = tmp_path / "CIK0001018724.json"
    assert json.loads(cached.read_text(encoding="utf-8")) == raw
    again = fetch_companyfacts_raw(1018724, _client(session, tmp_path))
    assert again == raw and len(session.calls) == 1  # served from the cache


@pytest.mark.parametrize(
    ("outcome", "pattern"),
    [
        (requests.ConnectionError("Name or service not known"), r"SEC EDGAR: cannot reach .*offline"),
        (requests.ConnectTimeout("timed out"), r"SEC EDGAR: timed out"),
        (_FakeResponse(403), r"SEC EDGAR: HTTP 403.*SEC_USER_AGENT"),
        (_FakeResponse(404), r"SEC EDGAR: HTTP 404.*CIK 1018724"),
        (_FakeResponse(429), r"SEC EDGAR: HTTP 429.*rate-limited.*still after 3 retries"),
        (_FakeResponse(503), r"SEC EDGAR: HTTP 503.*server error.*still after 3 retries"),
        (_FakeResponse(200, ValueError("no json")), r"SEC EDGAR: .*did not return JSON"),
    ],
)
def test_fetch_failures_name_the_source(outcome, pattern, tmp_path):
    session = _FakeSession(outcome)
    with pytest.raises(RefreshError, match=pattern):
        fetch_companyfacts_raw(1018724, _client(session, tmp_path), max_cache_age_seconds=0)
    assert not (tmp_path / "CIK0001018724.json").exists()
