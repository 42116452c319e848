"""Data & methodology: definitions and formulas (from the metrics modules' own docstrings), the data
manifest with as-of dates, sources and counts, the validation report, and how to refresh."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import config
from dashboard.ui import cached, refreshing, views
from dashboard.ui.tables import table

version = cached.data_version()
params = {"page": "methodology", "v": version}

st.title("Data & methodology")

st.header("Definitions and formulas")
ESTIMATION = "[{}, {}]".format(*config.DEFAULT_ESTIMATION_WINDOW).replace("-", "−")
st.markdown(
    f"""
All amounts from the fundamentals are **USD millions** (shown as billions); events and guidance are in
**USD billions**; returns are **decimal** (0.01 = 1%); windows are in **trading days** relative to day 0.

**Funding gap** (per company and period)

| Measure | Formula |
|---|---|
| Capex (reported) | purchases of property and equipment |
| Capex (economic) | reported capex + principal payments on finance leases (n/a when the lease principal is missing) |
| Internal funding | operating cash flow − buybacks − dividends |
| Funding gap | capex − internal funding (positive: outside money was needed; negative: a surplus) |
| `funding_gap_lower_bound` | the same with a missing buyback, dividend or (economic basis) finance-lease principal counted as 0. These are non-negative outflows, so the true gap can only be larger: "at least $X bn". Equals the gap when every input is known; n/a when capex or operating cash flow is missing. `internal_funding_upper_bound` is the matching "at most". `bound_missing` names the outflows counted as 0 |
| Free cash flow | operating cash flow − capex |
| What covered the gap | divestment proceeds + net debt issued (issued − repaid) + equity issued + cash drawdown + other and unexplained. A line with no figure is "not reported" (`not_reported`) and stays inside "other and unexplained", which is the gap minus the reported lines |
| `quality_flags` | the `column:flag` pairs of the cells behind a row (a TTM row carries its four quarters'): `derived`, `single_source`, `provisional`, `rounded`, `basis`; the table below defines them |
| Capex intensity | capex ÷ revenue |
| Self-funded share | min(internal funding ÷ capex, 1) |
| Divestment / debt coverage | divestment proceeds ÷ gap, net debt issued ÷ gap (n/a when the gap ≤ 0) |
| Memo lines | JV/SPV financing, developers' financing of leased sites, announced deals: from events' funding amounts, in the quarter of their day 0, never in the bridge's arithmetic. n/a (unknown, not zero) for quarters before or partly before the curated events begin, and where a deal of that kind has no amount; funding events after a company's last reported quarter are listed on the company page |
| Forward view | implied gap = guided capex − (trailing OCF × (1 + growth) − trailing buybacks × pace − dividends); implied new debt = max(gap − divestments, 0); with buybacks or dividends missing in the run-rate, the same bounds as above ("at least") |
| Latest (current) guidance | the latest statement for a year that has not ended at the data's as-of date (never the clock) |

**Market reactions** (event study)

| Measure | Formula |
|---|---|
| Day 0 | the event's session; the next session after the close or on a non-trading day (exchange calendar) |
| Abnormal return | AR = R − (α + β·Rm) (market model, OLS over {ESTIMATION}); R − Rm (market-adjusted, peer); R − mean R (constant mean) |
| CAR | sum of ARs over the window; s.e. with the forecast-error correction; t and two-sided p (Student t, n − k d.f.) |
| CAAR | mean CAR across the events of a group; tests: cross-sectional t, Patell Z, BMP t, Kolari–Pynnönen adjusted BMP, Corrado rank Z, generalized sign Z |
| Interval shown on the Events page | CAAR ± t(N−1, 97.5%) × CAAR ÷ t_csect (the cross-sectional standard error) |
| Confounded | another curated event of the same company has its day 0 inside the window; ±1 day around each such event is masked out of the estimation sample |
| `confounded_by` | the ids of the events that make a window row confounded (empty exactly when it is not); an event that shares day 0 with another cannot have its CAR attributed to it alone |
| `day0_alt`, `car_alt` | for an event whose time of day is unknown (placed on the same session): day 0 as if it came after the close (the next session) and the CAR there; empty when the time is known |
| Guidance as events | each capex-guidance vintage is an event of type capex_guidance; `amount_usd_bn` is the new range's midpoint and `guided_change_usd_bn` the change of that midpoint against the previous statement for the same year. A vintage with a curated event of the same company within a day is linked to it, not added twice |
| CAR vs deal size | amount ÷ the company's latest trailing-12-month reported capex ending before the event |
"""
)
st.caption("The full definitions, as the code states them (each module's documentation):")
for title, text in views.methodology_docs():
    with st.expander(title):
        st.code(text, language=None, wrap_lines=True)

st.header("The data")
manifest = cached.read_manifest()
rows = [
    {
        "dataset": name,
        "file": entry.get("file"),
        "as_of": entry.get("as_of"),
        "rows": entry.get("rows"),
        "sha256": str(entry.get("sha256", ""))[:12],
        "source": entry.get("source"),
    }
    for name, entry in sorted(manifest.get("datasets", {}).items())
]
st.markdown(f"Data version **`{version}`** (a hash of every dataset's content hash; links carry it as `v=`).")
table(pd.DataFrame(rows), "data_manifest", params)
st.caption(
    "Sources per row: events (source_name, source_url), fundamentals (source), guidance (source_url). "
    "Provenance notes: data/provenance/ in the repository."
)
coverage = cached.cached_price_coverage(version).reset_index()
coverage["first_date"] = coverage["first_date"].dt.date
coverage["last_date"] = coverage["last_date"].dt.date
st.subheader("Price coverage")
table(coverage, "price_coverage", params)
st.caption(views.early_price_ends_note(version))

st.subheader("Quality flags of the fundamentals")
st.markdown(
    """
Cell-level flags from the curators (`fundamentals_flags.csv`), one row per cell and flag:
**derived** (arithmetic on other sourced figures: year-to-date differences, FY − 9M, sums of parts),
**single_source** (one source only, or not cross-checked), **provisional** (called provisional or inferred;
expect it to change), **rounded** (from a rounded figure such as "$19.2B"), **basis** (on a different basis than
the column's definition or the company's other quarters). A figure built on a flagged cell is marked ⚑ on the
company page, with the flag and its note in the tooltip.
"""
)
flags = cached.cached_fundamentals_flags(version)
counts = flags.pivot_table(index="ticker", columns="flag", values="column", aggfunc="count", fill_value=0)
counts["total"] = counts.sum(axis=1)
table(counts.reset_index(), "quality_flag_counts", params)
with st.expander(f"All {len(flags)} flags with their notes"):
    table(flags, "quality_flags", params)

st.header("Validation report")
st.caption("Every embedded file re-checked row by row with the same rules as `python -m dashboard validate`.")
reports = cached.cached_validation_reports(version)
for report in reports:
    (st.success if report.issues.empty else st.warning)(report.summary)
issues = pd.concat([r.issues.assign(dataset=r.dataset) for r in reports], ignore_index=True) if reports else pd.DataFrame()
if not issues.empty:
    table(issues, "validation_issues", params)

st.header("How to refresh")
st.markdown(
    """
The embedded snapshot in `data/` is what the dashboard shows. To refresh prices (Yahoo Finance) and
fundamentals (SEC EDGAR) on a machine with internet access:

```
python -m dashboard refresh            # all tickers, prices and fundamentals
python -m dashboard validate           # row-level report of every dataset
```

A refresh is all-or-nothing: every dataset is fetched, validated and staged before any file is swapped in,
and the manifest's as-of dates and data version change with it. Events and guidance are curated by hand.
"""
)
if refreshing.refresh_allowed():
    st.subheader("Refresh now")
    r1, r2 = st.columns(2)
    do_prices = r1.checkbox("Prices", value=True, key="refresh_prices")
    do_fundamentals = r2.checkbox("Fundamentals", value=True, key="refresh_fundamentals")
    if st.button("Refresh the data", type="primary", key="refresh_button", disabled=not (do_prices or do_fundamentals)):
        st.info(refreshing.run_refresh(prices=do_prices, fundamentals=do_fundamentals))
else:
    st.caption(f"Refreshing from the browser is off on this server (set {refreshing.ALLOW_ENV}=1 to allow it).")
st.caption(
    f"Data folder in use: `{config.DATA_DIR.name}/` · event-study defaults: estimation {config.DEFAULT_ESTIMATION_WINDOW}, "
    f"at least {config.DEFAULT_MIN_ESTIMATION_DAYS} days, windows {list(config.DEFAULT_EVENT_WINDOWS)}."
)
