"""The few named exceptions the package raises, so callers can tell failures apart."""

from __future__ import annotations


class DashboardError(Exception):
    """Base class: any failure the command line reports as one line and exit code 2."""


class DataUnavailable(DashboardError):
    """A dataset or an input the caller asked for does not exist or cannot be read."""


class CurationError(DashboardError):
    """A curated file has rows that break its schema; ``report`` holds them all."""

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class SnapshotDamaged(DashboardError):
    """The data folder does not match its manifest (a file missing, truncated, edited or swapped
    without its manifest entry). ``mismatches`` holds one line per difference, each
    ``manifest: file: what differs``; the message names the first and says what to do."""

    def __init__(self, message: str, mismatches: tuple[str, ...] | list[str] = ()) -> None:
        super().__init__(message)
        self.mismatches = tuple(str(m) for m in mismatches)


class RefreshError(DashboardError):
    """A live refresh failed; the message names the source and the failure."""


class RefreshInProgress(RefreshError):
    """Another refresh holds the lock."""


def require_columns(frame: object, columns: tuple[str, ...] | list[str], what: str) -> None:
    """Raise ``DataUnavailable`` naming every column of ``columns`` that ``frame`` lacks."""
    present = set(getattr(frame, "columns", ()))
    absent = [column for column in columns if column not in present]
    if absent:
        raise DataUnavailable(f"{what}: missing column(s) {', '.join(absent)}")
