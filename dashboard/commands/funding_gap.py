"""``funding-gap``: not built yet (see its issue)."""
from __future__ import annotations

import argparse

from dashboard.errors import DashboardError

NAME = "funding-gap"
HELP = "funding-gap (not built yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options yet."""


def run(args: argparse.Namespace) -> int:
    raise DashboardError("funding-gap is not built yet")
