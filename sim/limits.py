"""How much work a run asks for, estimated before it starts, and the limit it may not pass unasked.

A run's time grows with replications × trains × places (train visits). Its memory grows with
the replications whose records are held at once (those kept, and one per worker on its way
back) and, by a few bytes a visit, with every replication's tally (``sim.tally``).
``check_run_size`` refuses a run beyond ``MAX_VISITS`` train visits unless it is allowed to be
large, and one whose estimated memory is beyond the machine's whatever it is allowed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from corridors.errors import InputError, Parameter
from corridors.units import days
from sim.scenario import Scenario, Service, service_rate

__all__ = [
    "MAX_REPLICATIONS",
    "MAX_VISITS",
    "TALLY_BYTES",
    "VISIT_BYTES",
    "RunSize",
    "check_run_size",
    "run_size",
]

#: Memory a replication's records take per train visit while held (the columns, and the event
#: log built from them when it is written): measured on the bundled baseline, about 1 KB.
VISIT_BYTES = 1000
#: Memory a replication's tally keeps per train visit: about 230 KB a baseline replication of
#: 38,912 visits (measured: `simulate -r 10` and `-r 40` peak at 188 and 195 MB).
TALLY_BYTES = 8
#: Train visits (replications × trains × places, over every run of a command) a run may ask for
#: without ``allow_large``: some ten minutes of one core. The bundled baseline is 45,652 visits a
#: replication, so 1,095 replications fit.
MAX_VISITS = 50_000_000
#: The most replications a run takes, even with ``allow_large``.
MAX_REPLICATIONS = 100_000

_VESSEL_DISPATCH = ("when_full", "max_wait")
_R, _LARGE = Parameter("replications"), Parameter("allow_large", "allow_large=True")


@dataclass(frozen=True)
class RunSize:
    """Train visits per replication of one scenario, and its busiest service."""

    scenario: str
    trains: int
    visits: int
    window_d: float
    busiest: str
    busiest_trains_per_week: float
    busiest_trains: int
    busiest_places: int


def _places(scenario: Scenario, service: Service, node_ids: Sequence[str], leg_ids: Sequence[str]) -> int:
    """Places a train of ``service`` visits on a route, counting each vessel it is split over."""
    net = scenario.network
    places = len(node_ids)
    for i, leg_id in enumerate(leg_ids):
        f = net.nodes[node_ids[i]].facility
        if f is None or net.legs[leg_id].mode not in ("ferry", "sea"):
            continue
        vessel = (f.dispatch in _VESSEL_DISPATCH and f.vessels) or (f.dispatch == "timetable" and f.sailings_per_week)
        capacity = f.vessel_capacity_wagons or f.vessel_capacity_teu
        if vessel and capacity:
            units = service.wagons if f.vessel_capacity_wagons else service.teu
            places += max(0, math.ceil(units / capacity) - 1)
    return places


def run_size(scenario: Scenario) -> RunSize:
    """The train visits of one replication of ``scenario`` (a detour counts as its longer route)."""
    trains = visits = 0
    busiest: tuple[int, Service, int] | None = None
    for s in scenario.services:
        places = _places(scenario, s, s.node_ids, s.leg_ids)
        if s.detour is not None:
            places = max(places, _places(scenario, s, s.detour[2], s.detour[3]))
        n = len(s.departures_h)
        trains += n
        visits += n * places
        if busiest is None or n * places > busiest[0]:
            busiest = (n * places, s, places)
    name, per_week, n_busy, places_busy = "", 0.0, 0, 0
    if busiest is not None:
        _, s, places_busy = busiest
        name, n_busy = s.name, len(s.departures_h)
        per_week = service_rate(s)
    return RunSize(scenario.name, trains, visits, days(scenario.end_h), name, per_week, n_busy, places_busy)


def _memory_bytes() -> int:
    """The machine's physical memory (64 GB where it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 64 * 10**9


def _gb(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:,.1f} GB" if n_bytes >= 1e8 else f"{n_bytes / 1e6:,.0f} MB"


def check_run_size(
    scenarios: Sequence[Scenario | RunSize],
    replications: int,
    *,
    allow_large: bool = False,
    at_once: bool = True,
    limit: int = MAX_VISITS,
    memory_bytes: int | None = None,
    keep: str = "all",
    in_flight: int = 1,
) -> int:
    """Refuse, with an ``InputError`` naming the knobs, a run beyond ``limit`` train visits.

    ``scenarios`` are every run the command makes with ``replications`` each (a comparison's
    base and what-ifs, a sweep's variants), or their ``run_size``; ``at_once`` says whether
    their results are held together (a comparison) or one run at a time (a sweep). ``keep``
    says which replications' records a run keeps (``sim.runner.KEEP``) and ``in_flight`` how
    many more are held on their way (one per worker). ``allow_large`` lifts ``limit`` but not
    the machine's memory (``memory_bytes``, default: its physical memory). Returns the
    estimated train visits.
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InputError(_R, f" ({replications!r}) must be a whole number of at least 1")
    if replications > MAX_REPLICATIONS:
        raise InputError(_R, f" {replications}: at most {MAX_REPLICATIONS:,} replications")
    sizes = [s if isinstance(s, RunSize) else run_size(s) for s in scenarios]
    if not sizes:
        return 0
    visits = replications * sum(z.visits for z in sizes)
    kept = {"all": replications, "first": 1}.get(keep, 0)
    largest = max(z.visits for z in sizes)
    records = (kept * sum(z.visits for z in sizes) if at_once else kept * largest) + in_flight * largest
    tallies = visits if at_once else replications * largest
    need = records * VISIT_BYTES + tallies * TALLY_BYTES
    memory = _memory_bytes() if memory_bytes is None else memory_bytes
    if visits <= limit and need <= memory:
        return visits
    if not allow_large or need > memory:
        busy = max(sizes, key=lambda z: z.busiest_trains * z.busiest_places)
        runs = f" × {len(sizes)} runs" if len(sizes) > 1 else ""
        trains = max(z.trains for z in sizes)
        places = max(z.visits for z in sizes) / max(trains, 1)
        what = (
            f"about {visits:,} train visits, {_gb(need)} of memory (",
            _R,
            f" {replications}{runs} × {trains:,} trains "
            f"in the {max(z.window_d for z in sizes):,.0f}-day window × {places:.1f} places; the most from "
            f"service {busy.busiest} of {busy.scenario}: trains_per_week {busy.busiest_trains_per_week:g}, "
            f"{busy.busiest_trains:,} trains × {busy.busiest_places} places)",
        )
        if need > memory:
            raise InputError(
                "the run is too large for this machine: ",
                *what,
                f", beyond its {_gb(memory)} of memory even with ",
                _LARGE,
                ": lower ",
                _R,
                ", shorten the window or lower trains_per_week",
            )
        raise InputError(
            "the run is too large: ",
            *what,
            f"; the limit is {limit:,} visits: lower ",
            _R,
            ", shorten the window or lower trains_per_week, or pass ",
            _LARGE,
        )
    return visits
