"""House rules: imports point corridors <- sim <- maps (CLI on top), and a small public API."""

from __future__ import annotations

import ast
from pathlib import Path

import corridors

ROOT = Path(__file__).resolve().parents[1]


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_model_does_not_import_engine_or_maps() -> None:
    """Only the command line (the ``corridors.cli`` package) sits on top and imports all three."""
    for path in (ROOT / "corridors").glob("**/*.py"):
        if path.relative_to(ROOT / "corridors").parts[0] == "cli":
            continue
        assert not imports_of(path) & {"sim", "maps", "simpy", "folium", "branca"}, path.name


def test_engine_does_not_import_maps() -> None:
    for path in (ROOT / "sim").glob("**/*.py"):
        assert not imports_of(path) & {"maps", "folium", "branca"}, path.name


def test_maps_do_not_import_simpy() -> None:
    for path in (ROOT / "maps").glob("**/*.py"):
        assert "simpy" not in imports_of(path), path.name


def test_public_api_is_small_and_complete() -> None:
    assert set(corridors.__all__) == {
        "Corridor",
        "CorridorsError",
        "DataError",
        "Distribution",
        "Facility",
        "InputError",
        "Leg",
        "Network",
        "Node",
        "PathSummary",
        "Route",
        "__version__",
        "bundled_data_dir",
        "load_network",
        "route",
        "summarize_corridor",
        "summarize_path",
    }
    for name in corridors.__all__:
        assert hasattr(corridors, name)
