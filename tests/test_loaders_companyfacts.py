"""Company facts -> quarters: the tag fallbacks for buybacks and debt, commercial paper kept apart,
and the golden output of ``normalize_companyfacts`` on the recorded sample.

The hand-made documents have the shape of a real companyfacts response
(/work/shared/reference/sec-companyfacts-shape.md): ``facts.us-gaap.<Tag>.units.USD`` lists of
facts with ``start``/``end`` (none for instants), ``val`` in whole USD, ``accn``, ``fy``/``fp`` of
the filing, ``form``, ``filed`` and, on one fact per calendar period, ``frame``. 10-Q cash-flow
facts are year to date, as filed. Figures are synthetic, chosen to be checked by hand.

Regenerate the golden files (only when a change of output is intended, and say why in the commit)
with ``python -m tests.test_loaders_companyfacts``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from dashboard.loaders import companyfacts
from dashboard.loaders.companyfacts import COMMERCIAL_PAPER_TAGS, FLOW_TAGS, normalize_companyfacts

SAMPLE = Path(__file__).parent / "fixtures" / "refresh" / "amzn_companyfacts_sample.json"
GOLDEN = Path(__file__).parent / "golden" / "sec"

# Filings of a December fiscal year: the Q1, H1 and 9M 10-Qs and the 10-K (accession, form, fp, filed).
FILINGS = {
    "Q1": ("0000000001-25-000010", "10-Q", "Q1", "2025-04-30"),
    "H1": ("0000000001-25-000020", "10-Q", "Q2", "2025-07-30"),
    "9M": ("0000000001-25-000030", "10-Q", "Q3", "2025-10-30"),
    "FY": ("0000000001-26-000004", "10-K", "FY", "2026-02-01"),
}
ENDS = {"Q1": "2025-03-31", "H1": "2025-06-30", "9M": "2025-09-30", "FY": "2025-12-31"}
FRAMES = {"Q1": "CY2025Q1", "FY": "CY2025"}  # SEC frames the first quarter and the year; YTD facts have none


def ytd_facts(values_musd: dict[str, float]) -> list[dict]:
    """Year-to-date cash-flow facts of fiscal 2025 as the filings report them (USD millions in,
    whole USD out), keyed by period: Q1, H1, 9M, FY."""
    facts = []
    for period, value in values_musd.items():
        accn, form, fp, filed = FILINGS[period]
        fact = {
            "start": "2025-01-01",
            "end": ENDS[period],
            "val": int(round(value * 1e6)),
            "accn": accn,
            "fy": 2025,
            "fp": fp,
            "form": form,
            "filed": filed,
        }
        if period in FRAMES:
            fact["frame"] = FRAMES[period]
        facts.append(fact)
    return facts


def document(tags: dict[str, dict[str, float]], cik: int = 1) -> dict:
    """A companyfacts document holding the given tags' year-to-date facts."""
    gaap = {tag: {"label": tag, "description": f"{tag} (hand-made)", "units": {"USD": ytd_facts(v)}} for tag, v in tags.items()}
    return {"cik": cik, "entityName": "Synthetic Corp", "facts": {"dei": {}, "us-gaap": gaap}}


def quarters_of(raw: dict) -> companyfacts.NormalizedFacts:
    return normalize_companyfacts(raw, fiscal_year_end_month=12, ticker="SYN")


def column(facts: companyfacts.NormalizedFacts, name: str) -> list[float]:
    return facts.quarters.sort_values("fiscal_quarter")[name].tolist()


def tags_used(facts: companyfacts.NormalizedFacts, name: str) -> list[str]:
    rows = facts.provenance[facts.provenance["column"] == name].sort_values("fiscal_quarter")
    return rows["tag"].tolist()


# --- fallbacks ------------------------------------------------------------------------------------


def test_tag_lists_keep_the_narrow_tag_first():
    assert FLOW_TAGS["buybacks"] == ("PaymentsForRepurchaseOfCommonStock", "PaymentsForRepurchaseOfEquity")
    assert FLOW_TAGS["debt_repaid"] == ("RepaymentsOfLongTermDebt", "RepaymentsOfDebt")
    assert FLOW_TAGS["debt_issued"][0] == "ProceedsFromIssuanceOfLongTermDebt"
    paper = {tag for tags in COMMERCIAL_PAPER_TAGS.values() for tag in tags}
    assert paper == {"ProceedsFromRepaymentsOfCommercialPaper", "RepaymentsOfCommercialPaper", "ProceedsFromCommercialPaper"}
    assert not paper & {tag for tags in FLOW_TAGS.values() for tag in tags}  # never a debt line's tag


def test_buybacks_fall_back_to_repurchase_of_equity():
    raw = document({"PaymentsForRepurchaseOfEquity": {"Q1": 100.0, "H1": 250.0, "9M": 300.0, "FY": 480.0}})
    facts = quarters_of(raw)
    assert column(facts, "buybacks") == [100.0, 150.0, 50.0, 180.0]  # Q1; 6M-3M; 9M-6M; FY-9M
    assert tags_used(facts, "buybacks") == ["PaymentsForRepurchaseOfEquity"] * 4
    assert "buybacks: PaymentsForRepurchaseOfEquity 0000000001-26-000004 (FY-9M)" in facts.quarters["source"].iloc[3]


def test_common_stock_repurchases_win_where_both_are_filed():
    raw = document({
        "PaymentsForRepurchaseOfCommonStock": {"Q1": 90.0, "H1": 200.0},
        "PaymentsForRepurchaseOfEquity": {"Q1": 100.0, "H1": 250.0, "9M": 300.0},
    })  # fmt: skip
    facts = quarters_of(raw)
    assert column(facts, "buybacks") == [90.0, 110.0, 50.0]  # Q3 from the wider tag: 300 - 250
    assert tags_used(facts, "buybacks") == ["PaymentsForRepurchaseOfCommonStock"] * 2 + ["PaymentsForRepurchaseOfEquity"]


def test_debt_repaid_falls_back_to_repayments_of_debt():
    raw = document({
        "RepaymentsOfLongTermDebt": {"Q1": 500.0},
        "RepaymentsOfDebt": {"Q1": 700.0, "H1": 1700.0, "9M": 1700.0, "FY": 4202.0},
    })  # fmt: skip
    facts = quarters_of(raw)
    assert column(facts, "debt_repaid") == [500.0, 1000.0, 0.0, 2502.0]  # a zero quarter is a filed zero
    assert tags_used(facts, "debt_repaid") == ["RepaymentsOfLongTermDebt"] + ["RepaymentsOfDebt"] * 3


def test_commercial_paper_is_kept_apart_from_long_term_debt():
    raw = document({
        "ProceedsFromIssuanceOfLongTermDebt": {"Q1": 0.0, "H1": 10_000.0, "9M": 10_000.0, "FY": 25_000.0},
        "RepaymentsOfLongTermDebt": {"Q1": 1_000.0, "H1": 1_000.0, "9M": 3_000.0, "FY": 3_000.0},
        "ProceedsFromRepaymentsOfCommercialPaper": {"Q1": 2_000.0, "H1": -500.0, "9M": 1_500.0, "FY": 0.0},
        "ProceedsFromCommercialPaper": {"Q1": 4_000.0, "H1": 6_000.0},
        "RepaymentsOfCommercialPaper": {"Q1": 3_000.0, "H1": 8_000.0},
    })  # fmt: skip
    facts = quarters_of(raw)
    # Long-term lines only: no commercial paper summed in.
    assert column(facts, "debt_issued") == [0.0, 10_000.0, 0.0, 15_000.0]
    assert column(facts, "debt_repaid") == [1_000.0, 0.0, 2_000.0, 0.0]
    paper = facts.commercial_paper.set_index(["column", "fiscal_quarter"])["value"]
    assert paper["commercial_paper_net"].tolist() == [2_000.0, -2_500.0, 2_000.0, -1_500.0]  # net may be negative
    assert paper["commercial_paper_issued"].tolist() == [4_000.0, 2_000.0]
    assert paper["commercial_paper_repaid"].tolist() == [3_000.0, 5_000.0]
    assert set(facts.commercial_paper["ticker"]) == {"SYN"}
    # Named in the quarter's source as kept apart, never as a column of the quarters.
    q2 = facts.quarters.set_index("fiscal_quarter").loc[2, "source"]
    assert "commercial paper kept apart (not in debt_issued or debt_repaid): " in q2
    assert "commercial_paper_net: ProceedsFromRepaymentsOfCommercialPaper 0000000001-25-000020 (6M-3M)" in q2
    assert not any("commercial" in c for c in facts.quarters.columns)
    assert "commercial" not in " ".join(facts.provenance["column"])


def test_a_quarter_with_only_commercial_paper_is_no_fundamentals_row():
    raw = document({
        "NetCashProvidedByUsedInOperatingActivities": {"Q1": 50.0},
        "ProceedsFromRepaymentsOfCommercialPaper": {"Q1": 10.0, "H1": 30.0},
    })  # fmt: skip
    facts = quarters_of(raw)
    assert facts.quarters["fiscal_quarter"].tolist() == [1]
    assert facts.commercial_paper["fiscal_quarter"].tolist() == [1, 2]
    assert "commercial paper kept apart" in facts.quarters["source"].iloc[0]


def test_no_commercial_paper_leaves_the_source_as_before():
    facts = quarters_of(document({"RepaymentsOfDebt": {"Q1": 5.0}}))
    assert facts.commercial_paper.empty and list(facts.commercial_paper.columns) == list(facts.provenance.columns)
    assert facts.quarters["source"].tolist() == [
        "SEC EDGAR companyfacts CIK0000000001: debt_repaid: RepaymentsOfDebt 0000000001-25-000010 (3M)"
    ]


# --- golden ---------------------------------------------------------------------------------------


def golden_outputs() -> dict[str, bytes]:
    """normalize_companyfacts on the recorded sample (Amazon's shape), as CSV bytes per output."""
    raw = json.loads(SAMPLE.read_text(encoding="utf-8"))
    facts = normalize_companyfacts(raw, fiscal_year_end_month=12, ticker="AMZN")
    out = {}
    for name in ("quarters", "provenance", "restatements", "dropped"):
        buffer = io.StringIO()
        getattr(facts, name).to_csv(buffer, index=False, lineterminator="\n", date_format="%Y-%m-%d", float_format="%.6f")
        out[f"amzn_{name}.csv"] = buffer.getvalue().encode("utf-8")
    return out


@pytest.mark.parametrize("name", ["amzn_quarters.csv", "amzn_provenance.csv", "amzn_restatements.csv", "amzn_dropped.csv"])
def test_normalize_companyfacts_matches_its_golden_file(name):
    assert golden_outputs()[name] == (GOLDEN / name).read_bytes(), f"tests/golden/sec/{name}"


def test_golden_quarters_read_back_as_the_schema():
    quarters = pd.read_csv(GOLDEN / "amzn_quarters.csv")
    assert list(quarters.columns) == list(companyfacts.FUNDAMENTALS_COLUMNS)
    assert quarters["capex"].tolist() == [14951.0, 15724.0, 16478.0, 16492.0, 14207.0]  # as test_refresh_sec works them out


if __name__ == "__main__":
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for file_name, data in golden_outputs().items():
        (GOLDEN / file_name).write_bytes(data)
        print(f"wrote tests/golden/sec/{file_name}")
