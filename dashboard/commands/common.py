"""What several commands print: the as-of dates and version of the data a result rests on."""

from __future__ import annotations


def as_of_text(*datasets: str) -> str:
    """``data as of: events 2026-09-10, prices 2026-09-25 (data version 4beb07cf17)``."""
    from dashboard.loaders.curated import load_manifest

    manifest = load_manifest()
    entries = manifest.get("datasets", {})
    dates = ", ".join(f"{name} {entries[name].get('as_of', '?')}" for name in datasets if name in entries)
    return f"data as of: {dates} (data version {manifest.get('data_version', '?')})"
