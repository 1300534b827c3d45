"""Shared fixtures: the bundled network, a tiny hand-checkable network written to disk, the
bundled scenarios simulated once per session (most of the suite's time used to go into
simulating the same baseline again and again), and one headless Chromium for the browser tests.

The session runs are shared: a test reads them and never changes them (copy a folder first).
The suite runs in parallel (pytest-xdist, ``-n auto`` in pyproject.toml): each worker builds a
session fixture once, when its first test asks for it.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import shutil
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

import corridors
import sim
from corridors.cli import main
from sim.runner import RunResult

#: The bundled scenarios by name: the baseline and its what-ifs.
BUNDLED_SCENARIOS = tuple(sorted(p.stem for p in (corridors.bundled_data_dir() / "scenarios").glob("*.toml")))


@pytest.fixture(scope="session")
def network() -> corridors.Network:
    return corridors.load_network()


def tiny_records() -> dict[str, Any]:
    """Three nodes A – B – C; A–B is 1435 mm, B–C is 1520 mm, B is a border and gauge change."""
    return {
        "sources.toml": {
            "sources": [
                {"id": "SRC1", "citation": "A published source"},
                {"id": "ESTIMATE", "citation": "Authors' estimate"},
            ]
        },
        "modes.toml": {
            "modes": [
                {
                    "mode": "rail",
                    "cost_usd_per_feu_km": {"value": 1.0, "source": "SRC1"},
                    "co2_kg_per_teu_km": {"value": 0.3, "source": "SRC1"},
                    "circuity": {"value": 1.1, "source": "ESTIMATE"},
                }
            ]
        },
        "nodes.toml": {
            "nodes": [
                {
                    "id": "A",
                    "name": "Alpha",
                    "country": "CN",
                    "lat": 44.0,
                    "lon": 80.0,
                    "coord_source": "SRC1",
                    "kinds": ["terminal"],
                },
                {
                    "id": "B",
                    "name": "Beta",
                    "country": "KZ",
                    "lat": 44.0,
                    "lon": 81.0,
                    "coord_source": "SRC1",
                    "kinds": ["border", "gauge_change"],
                    "facility": {
                        "servers": {"value": 2, "source": "SRC1"},
                        "process_h": {"min": 2, "typical": 4, "max": 12, "source": ["SRC1"]},
                    },
                },
                {
                    "id": "C",
                    "name": "Gamma",
                    "country": "KZ",
                    "lat": 45.0,
                    "lon": 81.0,
                    "coord_source": "ESTIMATE",
                    "kinds": ["terminal"],
                },
            ]
        },
        "legs.toml": {
            "legs": [
                {
                    "id": "L1",
                    "from": "A",
                    "to": "B",
                    "mode": "rail",
                    "gauge_mm": 1435,
                    "distance_km": {"value": 100, "source": "SRC1"},
                    "transit_h": {"min": 10, "typical": 12, "max": 20, "source": "SRC1"},
                },
                {
                    "id": "L2",
                    "from": "B",
                    "to": "C",
                    "mode": "rail",
                    "gauge_mm": 1520,
                    "transit_d": {"min": 1, "typical": 1, "max": 1, "shape": "fixed", "source": "ESTIMATE"},
                },
            ]
        },
        "corridors.toml": {"corridors": [{"name": "abc", "title": "A to C", "nodes": ["A", "B", "C"]}]},
    }


def kept_one(meta: Path) -> bool:
    """Whether an interrupted run's segment holds a whole replication (its JSON says so)."""
    try:
        return int(json.loads(meta.read_text(encoding="utf-8"))["replications"]) >= 1
    except (OSError, ValueError, KeyError):
        return False


def write_network(path: Path, records: dict[str, Any]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, data in records.items():
        if isinstance(data, str):
            (path / name).write_text(data, encoding="utf-8")
        elif name.endswith(".geojson"):
            (path / name).write_text(json.dumps(data), encoding="utf-8")
        else:
            (path / name).write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def one_leg_geometry(leg: str, coordinates: list[list[float]]) -> dict[str, Any]:
    """A geometry.geojson drawing one leg through [lon, lat] positions."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"leg": leg, "source": "ESTIMATE"},
                "geometry": {"type": "LineString", "coordinates": coordinates},
            }
        ],
    }


@pytest.fixture
def tiny(tmp_path: Path) -> dict[str, Any]:
    """Records of the tiny network, to change before writing them with ``write_network``."""
    return copy.deepcopy(tiny_records())


@pytest.fixture(scope="session")
def loaded_scenario() -> Callable[[str], sim.Scenario]:
    """A bundled scenario by name, loaded once a session (scenarios are frozen: read them, or
    ``dataclasses.replace`` them; loading one reads and checks the whole network)."""
    loaded: dict[str, sim.Scenario] = {}

    def load(name: str) -> sim.Scenario:
        if name not in loaded:
            loaded[name] = sim.load_scenario(name)
        return loaded[name]

    return load


@pytest.fixture(scope="session")
def baseline_scenario(loaded_scenario: Callable[[str], sim.Scenario]) -> sim.Scenario:
    """The bundled baseline, loaded once a session."""
    return loaded_scenario("baseline")


@pytest.fixture(scope="session")
def baseline_run(loaded_scenario: Callable[[str], sim.Scenario]) -> RunResult:
    """``sim.simulate(sim.load_scenario(), replications=2, seed=1)``: the README's and the golden
    file's run. Its replication 0 is the one ``corridors simulate -r 1`` runs (streams are keyed
    by seed and replication)."""
    return sim.simulate(loaded_scenario("baseline"), replications=2, seed=1)


@pytest.fixture(scope="session")
def bundled_run(baseline_run: RunResult, loaded_scenario: Callable[[str], sim.Scenario]) -> Callable[[str], RunResult]:
    """A bundled scenario by name, simulated once a session: one replication at seed 1 (the
    baseline: ``baseline_run``'s two)."""
    runs: dict[str, RunResult] = {"baseline": baseline_run}

    def run(name: str) -> RunResult:
        if name not in runs:
            runs[name] = sim.simulate(loaded_scenario(name), replications=1, seed=1)
        return runs[name]

    return run


def run_cli(argv: list[str]) -> str:
    """``corridors ARGV``, which must succeed; returns what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    assert code == 0, (argv, out.getvalue())
    return out.getvalue()


@pytest.fixture(scope="session")
def baseline_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder ``corridors simulate -r 1 --out FOLDER`` writes for the bundled baseline
    (event log, trains, summary, manifest, map.html, report.html), written once a session."""
    out = tmp_path_factory.mktemp("run") / "baseline"
    run_cli(["simulate", "-r", "1", "--out", str(out)])
    return out


@pytest.fixture(scope="session")
def red_sea_compare(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """``corridors compare baseline red-sea-closure -r 2 --json``, run once a session: its folder
    (compare.json, compare.html) and the JSON it printed."""
    out = tmp_path_factory.mktemp("compare") / "cmp"
    printed = run_cli(["compare", "baseline", "red-sea-closure", "-r", "2", "--out", str(out), "--json"])
    return out, json.loads(printed)


@pytest.fixture(scope="session")
def three_whatifs_compare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``corridors compare baseline red-sea-closure altynkol-doubled lake-van-ferry-out -r 1``'s
    compare.html (the size budget's page: four results maps), written once a session."""
    out = tmp_path_factory.mktemp("compare3") / "cmp"
    run_cli(
        [
            "compare",
            "baseline",
            "red-sea-closure",
            "altynkol-doubled",
            "lake-van-ferry-out",
            "-r",
            "1",
            "--out",
            str(out),
        ]
    )
    return out / "compare.html"


@pytest.fixture(scope="session")
def short_baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled baseline cut to its first month (a twelfth of the simulation), as a file, for
    tests of the command line that need a real scenario but not a whole year of it."""
    scenario = tomllib.loads((corridors.bundled_data_dir() / "scenarios" / "baseline.toml").read_text("utf-8"))
    scenario["scenario"]["end_date"] = scenario["scenario"]["start_date"].replace(month=2)
    path = tmp_path_factory.mktemp("short") / "short.toml"
    path.write_text(tomli_w.dumps(scenario), encoding="utf-8")
    return path


#: Debian's Chromium (never a test tool's own download); $CORRIDORS_CHROMIUM to use another.
CHROMIUM = os.environ.get("CORRIDORS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_missing(reason: str) -> None:
    """Skip, with ``reason``; fail instead when $CORRIDORS_REQUIRE_BROWSER is set (CI sets it)."""
    if os.environ.get("CORRIDORS_REQUIRE_BROWSER"):
        pytest.fail(f"browser tests are required here but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (launching it costs seconds): a test opens its pages
    with ``browser.new_page()``, each in a fresh context of its own, and closes them."""
    try:
        import playwright.sync_api as playwright_api
    except ImportError:
        browser_missing("Playwright is not installed (pip install playwright; CI installs it)")
    if not Path(CHROMIUM).exists():
        browser_missing(f"no Chromium at {CHROMIUM} (apt-get install -y chromium; CI installs it)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


#: Tests that share an expensive fixture run in one xdist worker (``--dist loadgroup``), which
#: then builds it once; without a group, each worker would build it again. Checked in order: a
#: test goes to the first group whose module it is in or whose fixture it uses.
XDIST_GROUPS: tuple[tuple[str, frozenset[str], frozenset[str]], ...] = (
    # the poisoned network and everything built from it (a module fixture), and its browser
    ("hostile-html", frozenset({"test_template_injection.py"}), frozenset()),
    # the simulated baseline folder and the red-sea comparison, and the pages opened from them
    (
        "run-folders",
        frozenset({"test_browser.py"}),
        frozenset({"baseline_folder", "red_sea_compare", "three_whatifs_compare"}),
    ),
    # the bundled scenarios simulated once a session
    ("bundled-runs", frozenset(), frozenset({"bundled_run", "baseline_run"})),
    # a short run drawn again with each malformed summary (a module fixture)
    ("malformed-results", frozenset({"test_hostile_results.py"}), frozenset()),
)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark ``item`` with its group as it is collected (xdist reads the marks afterwards)."""
    fixtures = set(getattr(item, "fixturenames", ()))
    for group, modules, uses in XDIST_GROUPS:
        if item.path.name in modules or fixtures & uses:
            item.add_marker(pytest.mark.xdist_group(group))
            return
