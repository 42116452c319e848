"""What every section of the Company page shares: the page's settings for one company, and the
names of its sections (the link's ``section`` parameter). The sections themselves live in
``company_funding``, ``company_forward``, ``company_reactions`` and ``company_filings``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from dashboard.config import CapexBasis, Model
from dashboard.ui.charts import show_chart
from dashboard.ui.widgets import encode_windows

SECTIONS: dict[str, str] = {
    "funding": "Funding gap",
    "forward": "Guidance and forward view",
    "reactions": "Market reactions",
    "filings": "SEC filings",
}


@dataclass(frozen=True)
class CompanyView:
    """The shared settings of the page: data version, company and its row, capex basis and the
    link parameters every table export records."""

    version: str
    ticker: str
    company: pd.Series
    basis: CapexBasis
    params: dict

    @property
    def name(self) -> str:
        return str(self.company["name"])

    def chart(self, figure: Any, key: str, **options: Any) -> Any:
        """Draw ``figure`` as one of this company's charts (``ui.charts.show_chart``: its image
        file is named after the page and the ticker); returns the selection state with ``on_select``."""
        return show_chart(figure, key, page="company", subject=self.ticker, **options)

    def with_event_study(self, model: Model, windows: tuple[tuple[int, int], ...]) -> StudyView:
        """This view with the event study's model and windows (the market-reactions section)."""
        params = {**self.params, "model": model, "windows": encode_windows(windows)}
        return StudyView(self.version, self.ticker, self.company, self.basis, params, model, windows)


@dataclass(frozen=True)
class StudyView(CompanyView):
    """A company view with the event study's settings: abnormal-return model and event windows."""

    model: Model
    windows: tuple[tuple[int, int], ...]
