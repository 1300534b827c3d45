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


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports, at module level or inside a function (ast)."""
    paths = {module_name(p): p for package in ("corridors", "sim", "maps") for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the package, up level - 1
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                found.add(base)
                found |= {f"{base}.{alias.name}" for alias in node.names}  # from package import module
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for other in sorted(graph[module]):
            if state.get(other) == 1:
                return [*path[path.index(other) :], other]
            if other not in state:
                cycle = visit(other)
                if cycle:
                    return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert {"sim.scenario", "sim.spec", "sim.compile", "sim.whatif", "corridors.cli"} <= set(graph)
    assert "sim.compile" in graph["sim.scenario"]  # the graph sees imports
    assert "sim.runner" in graph["corridors.cli.runs"]  # ... including those inside functions
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


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


def test_the_engine_has_no_long_function_and_the_cli_no_long_module() -> None:
    """Every function in sim/ fits on a screen (80 lines); each module of the command under 400."""
    root = Path(__file__).resolve().parents[1]
    long = []
    for path in sorted((root / "sim").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > 80:
                    long.append(f"sim/{path.name}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in (root / "corridors" / "cli").glob("*.py")}
    assert max(sizes.values()) < 400, sizes


def test_drawing_a_page_does_not_load_pandas_yet_pandas_still_imports() -> None:
    """folium would import pandas (installed for SALib) at every page drawn, about 0.8 s; maps
    hides it while folium loads, and pandas (and SALib) still import afterwards."""
    import subprocess
    import sys

    code = (
        "import sys, maps.report; loaded = 'pandas' in sys.modules; "
        "import pandas, SALib.analyze.morris; print(loaded, pandas.DataFrame is not None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"], out.stderr
