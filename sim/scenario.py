"""Scenarios: read a file into a spec (``sim.spec``), compile it on a network (``sim.compile``).

The runtime types the engine reads (``Scenario``, ``Service``, closures, capacity cuts and
weather) live in ``sim.model`` and are re-exported here.
"""

from __future__ import annotations

from pathlib import Path

from corridors import Network
from sim.compile import DEFAULT_DRAIN_D, MAX_DEPARTURES, MAX_WINDOW_D, compile_scenario
from sim.model import (
    WEEKDAYS,
    CapacityCut,
    Closure,
    RerouteReason,
    Scenario,
    Service,
    WagonPool,
    Weather,
    service_rate,
    timetable,
)
from sim.spec import SERVICE_BOUNDS, TEU_PER_WAGON, bundled_scenario, parse_scenario, resolve_scenario, teu_problem

__all__ = [
    "DEFAULT_DRAIN_D",
    "MAX_DEPARTURES",
    "MAX_WINDOW_D",
    "SERVICE_BOUNDS",
    "TEU_PER_WAGON",
    "WEEKDAYS",
    "CapacityCut",
    "Closure",
    "RerouteReason",
    "Scenario",
    "Service",
    "WagonPool",
    "Weather",
    "bundled_scenario",
    "load_scenario",
    "resolve_scenario",
    "service_rate",
    "teu_problem",
    "timetable",
]


def load_scenario(path: str | Path | None = None, *, network: Network | None = None) -> Scenario:
    """Read and check a scenario: a file, a bundled name such as ``baseline``, or (None) the baseline.

    ``parse_scenario`` reads the file and its bases into a spec; ``compile_scenario`` checks it
    against ``network`` (None: the one the scenario names, its base's, or the bundled network)
    and builds what the engine runs.
    """
    return compile_scenario(parse_scenario(path), network)
