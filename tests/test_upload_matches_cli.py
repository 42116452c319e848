"""An uploaded events file gives the same reactions in the app as on the command line."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from dashboard import config
from dashboard.ui import cached, uploads

USER_FILE = b"event_id,ticker,event_date,event_time\nMINE1,META,2025-10-29,after_close\nMINE2,MSFT,2025-06-02,unknown\n"


def test_upload_and_cli_agree_on_the_same_file(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_bytes(USER_FILE)
    out = tmp_path / "events.csv"
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "reactions", "--events", str(path), "--window=-1,1", "--out", str(out)],
        capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    cli = pd.read_csv(out).set_index("event_id")

    check = uploads.check_uploaded_events("mine.csv", USER_FILE)
    assert check.rows_loaded == 2
    app = cached.session_event_study(cached.data_version(), check.events, model="market", windows=((-1, 1),))
    shown = app.events.set_index("event_id")
    for event_id in ("MINE1", "MINE2"):
        assert shown.at[event_id, "car"] == pytest.approx(cli.at[event_id, "car"], rel=1e-12)
        assert shown.at[event_id, "n_masked"] == cli.at[event_id, "n_masked"]
        assert bool(shown.at[event_id, "confounded"]) == bool(cli.at[event_id, "confounded"])
    # Meta's Q3 2025 results day: the curated $30B bond (next day) confounds it in [-1, +1].
    assert bool(shown.at["MINE1", "confounded"])
