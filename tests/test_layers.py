"""The package's layers import in one direction only (see CONVENTIONS.md).

app.py -> app_pages -> ui -> {charts, metrics, loaders} -> {schemas, config, errors, fiscal_calendar}; the command
line sits beside the UI and uses loaders and metrics. Third-party libraries stay in their layer:
streamlit in the UI, plotly in charts, network clients in loaders.
"""

from __future__ import annotations

import ast
from pathlib import Path

from dashboard import config

PACKAGE = config.REPO_ROOT / "dashboard"
BASE = {"config", "errors", "schemas", "fiscal_calendar"}

# For each layer: the package layers it may import.
ALLOWED: dict[str, set[str]] = {
    "config": set(),
    "errors": set(),
    "schemas": {"config"},
    "fiscal_calendar": {"config"},
    "loaders": BASE | {"loaders"},
    "metrics": BASE | {"metrics"},
    "charts": BASE | {"charts"},
    "ui": BASE | {"ui", "loaders", "metrics", "charts", "exporting"},
    "app_pages": BASE | {"ui", "charts", "app_pages"},
    "app": BASE | {"ui", "app_pages", "loaders"},
    "commands": BASE | {"loaders", "metrics", "commands", "exporting"},
    "__main__": BASE | {"commands"},
    "exporting": BASE,
    "__init__": set(),
}
THIRD_PARTY_HOMES = {
    "streamlit": {"app", "app_pages", "ui"},
    "plotly": {"charts"},
    "yfinance": {"loaders"},
    "requests": {"loaders"},
    "httpx": {"loaders"},
    "urllib3": {"loaders"},
}


def layer_of(path: Path, package: Path) -> str:
    relative = path.relative_to(package)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            if node.module == "dashboard":
                names += [f"dashboard.{alias.name}" for alias in node.names]
    return names


def violations(package: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        layer = layer_of(path, package)
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "dashboard" and len(parts) > 1:
                if parts[1] not in ALLOWED.get(layer, set()) and parts[1] != layer:
                    found.append(f"{path.relative_to(package)} ({layer}) imports {module}")
            elif parts[0] in THIRD_PARTY_HOMES and layer not in THIRD_PARTY_HOMES[parts[0]]:
                found.append(f"{path.relative_to(package)} ({layer}) imports {parts[0]}")
    return found


def test_layers_import_in_one_direction():
    assert violations() == []


def test_the_checker_catches_a_wrong_import(tmp_path):
    (tmp_path / "metrics").mkdir()
    rogue = tmp_path / "metrics" / "_rogue_import_probe.py"
    rogue.write_text("import streamlit\nfrom dashboard.loaders import curated\n", encoding="utf-8")
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "fine.py").write_text("import plotly.graph_objects as go\n", encoding="utf-8")
    found = violations(tmp_path)
    assert any("_rogue_import_probe.py (metrics) imports streamlit" in v for v in found)
    assert any("imports dashboard.loaders" in v for v in found)
    assert len(found) == 2  # plotly inside charts/ is where it belongs


def test_metrics_never_read_the_clock_or_files():
    forbidden = ("Timestamp.today", "Timestamp.now", "datetime.now", "date.today", "open(", "read_csv", "read_parquet")
    offenders = [
        f"{path.name}: {token}"
        for path in (PACKAGE / "metrics").rglob("*.py")
        for token in forbidden
        if token in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
