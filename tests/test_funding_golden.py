"""Golden file: Meta's quarterly funding table on the economic basis, on the frozen snapshot.

tests/golden/funding/meta_quarter_economic.csv holds ``funding_table(period="quarter",
capex_basis="economic")`` for META (with the snapshot's events, companies and quality flags).
It was written once from the code after the three rows below were checked by hand; any change
of a number (beyond 1e-9) or of a text cell fails the comparison. Tuple columns are stored as
JSON lists, dates as ISO dates (a test-only encoding: the product's exports are not involved).

Regenerate only when a change of numbers is intended (say why in the commit):
``python -m tests.test_funding_golden``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.loaders.curated import load_companies, load_events, load_fundamentals, load_fundamentals_flags
from dashboard.metrics.funding import EXTRA_COLUMNS, OUTPUT_COLUMNS, funding_table

SNAPSHOT = Path(__file__).resolve().parent / "fixtures" / "snapshot"  # explicit: also when run as a module
GOLDEN = Path(__file__).resolve().parent / "golden" / "funding" / "meta_quarter_economic.csv"
DATE_COLUMNS = ("period_end", "period_start")
TUPLE_COLUMNS = ("missing", "memo_events", "bound_missing", "not_reported", "quality_flags", "memo_missing")
TEXT_COLUMNS = (
    "ticker", "period", "capex_basis", "source", "buybacks_basis", "total_debt_basis", "period_note",
    *DATE_COLUMNS, *TUPLE_COLUMNS,
)  # fmt: skip


def meta_table() -> pd.DataFrame:
    fundamentals = load_fundamentals(SNAPSHOT)
    table = funding_table(
        fundamentals[fundamentals["ticker"] == "META"],
        load_events(SNAPSHOT),
        companies=load_companies(SNAPSHOT),
        flags=load_fundamentals_flags(SNAPSHOT, fundamentals=fundamentals),
        period="quarter",
        capex_basis="economic",
    )
    return table.reset_index(drop=True)


def encoded(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every text-like cell as a plain string (dates ISO, tuples JSON)."""
    frame = table.copy()
    for column in DATE_COLUMNS:
        frame[column] = frame[column].map(lambda d: "" if pd.isna(d) else pd.Timestamp(d).date().isoformat())
    for column in TUPLE_COLUMNS:
        frame[column] = frame[column].map(lambda v: json.dumps(list(v)))
    return frame


def read(text: str) -> pd.DataFrame:
    return pd.read_csv(
        io.StringIO(text), dtype={c: str for c in TEXT_COLUMNS}, keep_default_na=False, na_values={
            c: [""] for c in (*OUTPUT_COLUMNS, *EXTRA_COLUMNS) if c not in TEXT_COLUMNS
        },
    )  # fmt: skip


def write_golden() -> None:
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(encoded(meta_table()).to_csv(index=False, lineterminator="\n"), encoding="utf-8")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return meta_table()


def _row(table: pd.DataFrame, period: str) -> pd.Series:
    rows = table[table["period"] == period]
    assert len(rows) == 1, period
    return rows.iloc[0]


def test_three_rows_by_hand(table) -> None:
    # fundamentals.csv (snapshot), META, USD millions:
    #   quarter    OCF    capex  lease  buybacks  dividends  debt_issued  debt_repaid  cash close
    #   FY2024 Q4                                                                      77815
    #   FY2025 Q1  24026  12941  751    13400     1325       0            0            70230
    #   FY2025 Q3                                                                      44448
    #   FY2025 Q4  36214  21383  754    0         1328       29910        0            81592
    #   FY2026 Q1                                                                      81180
    #   FY2026 Q2  31862  30116  962    0         1353       24910        (missing)    90260
    # asset_sale_proceeds and equity_issued are never filled for Meta.
    q1 = _row(table, "FY2025 Q1")
    assert q1["capex"] == 12941 + 751  # 13692
    assert q1["internal_funding"] == 24026 - 13400 - 1325  # 9301
    assert q1["funding_gap"] == q1["funding_gap_lower_bound"] == 13692 - 9301  # 4391
    assert q1["free_cash_flow"] == 24026 - 13692  # 10334
    assert q1["cash_drawdown"] == 77815 - 70230  # 7585
    assert q1["residual"] == 4391 - (0 + 7585)  # -3194
    assert q1["not_reported"] == ("divestment_proceeds", "equity_issued")
    assert q1["self_funded_share"] == pytest.approx(9301 / 13692)
    assert q1["debt_coverage"] == 0

    q4 = _row(table, "FY2025 Q4")
    assert q4["capex"] == 21383 + 754  # 22137
    assert q4["internal_funding"] == 36214 - 0 - 1328  # 34886
    assert q4["funding_gap"] == 22137 - 34886  # -12749: a surplus
    assert q4["net_debt_issued"] == 29910 - 0
    assert q4["cash_drawdown"] == 44448 - 81592  # -37144
    assert q4["residual"] == -12749 - (29910 - 37144)  # -5515
    assert q4["self_funded_share"] == 1.0 and np.isnan(q4["debt_coverage"])  # no gap to cover
    assert q4["jv_spv_financing_memo"] == 27300 and q4["announced_funding_memo"] == 30000  # Hyperion; $30B notes
    assert "debt_repaid:provisional" in q4["quality_flags"]  # "0 inferred from net debt-financing flow"

    q2 = _row(table, "FY2026 Q2")
    assert q2["capex"] == 30116 + 962  # 31078
    assert q2["internal_funding"] == 31862 - 0 - 1353  # 30509
    assert q2["funding_gap"] == 31078 - 30509  # 569
    assert q2["free_cash_flow"] == 31862 - 31078  # 784
    assert np.isnan(q2["net_debt_issued"]) and "debt_repaid" in q2["missing"]
    assert q2["cash_drawdown"] == 81180 - 90260  # -9080
    assert q2["residual"] == 569 - (-9080)  # 9649: the unreported lines stay in it
    assert q2["not_reported"] == ("divestment_proceeds", "net_debt_issued", "equity_issued")


def test_matches_the_golden_file(table) -> None:
    assert GOLDEN.exists(), f"{GOLDEN} missing: run python -m tests.test_funding_golden"
    expected = read(GOLDEN.read_text(encoding="utf-8"))
    actual = read(encoded(table).to_csv(index=False, lineterminator="\n"))
    assert list(actual.columns) == list(expected.columns) == [*OUTPUT_COLUMNS, *EXTRA_COLUMNS]
    assert len(actual) == len(expected) == 18  # Meta FY2022 Q1 .. FY2026 Q2
    for column in expected.columns:
        if column in TEXT_COLUMNS:
            mismatch = actual[column] != expected[column]
            assert not mismatch.any(), (column, actual.loc[mismatch, ["period", column]].to_dict("records"))
        else:
            np.testing.assert_allclose(
                actual[column].to_numpy(dtype=float), expected[column].to_numpy(dtype=float), rtol=0, atol=1e-9,
                err_msg=column,
            )  # fmt: skip
            assert (actual[column].isna() == expected[column].isna()).all(), column


def test_golden_encoding_round_trips(table) -> None:
    # The comparison is only as good as its encoding: tuples and NaN survive the CSV.
    back = read(encoded(table).to_csv(index=False, lineterminator="\n"))
    assert [tuple(json.loads(v)) for v in back["not_reported"]] == list(table["not_reported"])
    assert back["funding_gap"].isna().sum() == table["funding_gap"].isna().sum()
    assert (back["period_end"] == table["period_end"].dt.date.astype(str)).all()


if __name__ == "__main__":
    write_golden()
    print(f"wrote {GOLDEN}")
