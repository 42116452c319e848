"""What every benchmark here shares: best-of timing and the growth line between sizes."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def best_of(repeats: int, fn: Callable[[], object]) -> tuple[float, object]:
    """(fastest wall time in seconds, the last result) of ``repeats`` calls."""
    best, out = math.inf, None
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def growth(previous: tuple[int, float] | None, size: int, seconds: float, unit: str = "events") -> str:
    """``; x9.8 time for x10 events`` against the previous (size, seconds), or nothing."""
    if previous is None or previous[1] <= 0:
        return ""
    return f"; x{seconds / previous[1]:.1f} time for x{size / previous[0]:.0f} {unit}"
