"""The funding bridge as drawn: steps read down the page with their memo lines under them.

SYNTHETIC bridge steps and memo lines (hand-made, USD millions, not company figures), so every
expected bar is worked out by hand: operating cash flow 10 bn, buybacks 3, dividends 1 (internal
funding 6), capex 9 (gap 3), net debt issued 3 closes it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.charts.funding import BRIDGE_MARGIN, MEMO_LABELS, funding_bridge_figure
from dashboard.charts.theme import description_of, wrapped

STEPS = pd.DataFrame(  # SYNTHETIC
    [
        ("operating cash flow", "relative", 10_000.0, 10_000.0, "reported", False),
        ("buybacks", "relative", 3_000.0, -3_000.0, "reported", False),
        ("dividends", "relative", 1_000.0, -1_000.0, "reported", True),
        ("internal funding", "total", 6_000.0, 6_000.0, "reported", False),
        ("capex", "relative", 9_000.0, -9_000.0, "reported", False),
        ("funding gap", "total", 3_000.0, -3_000.0, "reported", False),
        ("net debt issued", "relative", 3_000.0, 3_000.0, "reported", False),
        ("end (sources = uses)", "total", 0.0, 0.0, "reported", False),
    ],
    columns=["step", "measure", "amount", "value", "state", "provisional"],
)
MEMO = pd.Series(  # SYNTHETIC
    {"jv_spv_financing_memo": 27_000.0, "third_party_financing_memo": np.nan, "announced_funding_memo": 0.0}
)


def test_steps_read_down_the_page_as_floating_bars():
    figure = funding_bridge_figure(STEPS, title="SYNTHETIC")
    bars = figure.data[0]
    assert bars.orientation == "h" and figure.layout.yaxis.autorange == "reversed"
    assert list(bars.y) == list(STEPS["step"])  # every name fits on one line of 30
    assert list(bars.base) == pytest.approx([0, 10, 7, 0, 6, 0, -3, 0])
    assert list(bars.x) == pytest.approx([10, -3, -1, 6, -9, -3, 3, 0])
    assert list(bars.text) == ["10.0", "-3.0", "-1.0", "6.0", "-9.0", "gap 3.0", "3.0", "0.0"]
    assert list(bars.marker.pattern.shape) == ["", "", "/", "", "", "", "", ""]  # the provisional dividends
    assert len(figure.data) == 1 and figure.layout.height == 130 + 34 * 8
    assert "; funding gap 3.0; net debt issued 3.0;" in description_of(figure)  # not "funding gap gap 3.0"


def test_no_pattern_when_nothing_is_provisional():
    figure = funding_bridge_figure(STEPS.assign(provisional=False), title="SYNTHETIC")
    assert figure.data[0].marker.pattern.shape is None


def test_memo_lines_follow_the_steps_from_zero_below_a_dotted_line():
    figure = funding_bridge_figure(STEPS, title="SYNTHETIC", memo=MEMO)
    memo = figure.data[1]
    assert list(memo.y) == [wrapped(f"memo: {label}", 30) for label in MEMO_LABELS.values()]
    assert list(memo.x) == pytest.approx([27.0, 0.0, 0.0])  # the unknown line has no bar ...
    assert list(memo.text) == ["27.0", "n/a", "0.0"]  # ... and says n/a, never 0
    assert memo.base is None  # from zero: beside the bridge, not in its running total
    separator = [shape for shape in figure.layout.shapes if shape.line.dash == "dot"]
    assert len(separator) == 1 and separator[0].y0 == separator[0].y1 == 7.5  # between step 8 and memo 1
    assert figure.layout.height == 130 + 34 * 11 and figure.layout.showlegend is False
    assert "JV/SPV financing (off balance sheet) 27.0; Developers' financing of leased sites n/a" in description_of(figure)


def test_the_bridge_sets_its_margins():  # that plotly keeps them: test_browser.py
    figure = funding_bridge_figure(STEPS, title="SYNTHETIC", memo=MEMO)
    assert {key: figure.layout.margin[key] for key in BRIDGE_MARGIN} == BRIDGE_MARGIN


def test_a_bridge_that_cannot_start_still_states_its_memo_lines():
    blocked = STEPS.assign(value=[math.nan, *STEPS["value"].iloc[1:]])
    figure = funding_bridge_figure(blocked, title="SYNTHETIC", memo=MEMO)
    text = figure.layout.annotations[0].text.replace("<br>", " ")  # wrapped to fit the chart
    assert text.startswith("n/a: operating cash flow is missing for this period.")
    assert "JV/SPV financing (off balance sheet) 27.0" in text and "leased sites n/a" in text
    assert text.endswith("Debt/equity/divestment deals announced 0.0.")


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("buybacks (reported quarters; the rest counted as 0)", 30, "buybacks (reported quarters;<br>the rest counted as 0)"),
        ("Debt/equity/divestment deals announced", 10, "Debt/equity/divestment<br>deals<br>announced"),  # a long word stays whole
        ("<b>x</b> & y", 30, "&lt;b&gt;x&lt;/b&gt; &amp; y"),  # data text never becomes markup
        (None, 30, ""),
    ],
)
def test_wrapped_labels(text, width, expected):
    assert wrapped(text, width) == expected
