"""``export``: not built yet (see its issue)."""
from __future__ import annotations

import argparse

from dashboard.errors import DashboardError

NAME = "export"
HELP = "export (not built yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options yet."""


def run(args: argparse.Namespace) -> int:
    raise DashboardError("export is not built yet")
