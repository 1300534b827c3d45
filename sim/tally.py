"""What one replication adds to a run's summary, computed from its records and kept instead of
them: a few numbers and arrays per service and per node (a tally). A run keeps one tally per
replication, so its memory grows by kilobytes a replication, not by the records' megabytes, and
tallies are what worker processes send back. ``sim.kpis.summarize`` combines them.

Waiting and holding times are mostly zero; a ``Sample`` keeps the other values and counts the
zeros, which gives the same mean and quantiles as the whole list.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from corridors.units import HOURS_PER_DAY
from sim.records import PoolLevel, RollingStock, Trains, Visits
from sim.scenario import Scenario

__all__ = ["NodeTally", "Sample", "ServiceTally", "Tally", "WagonTally", "WhereTally", "tally"]

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Sample:
    """Values as their sorted non-zero part and a count of zeros."""

    nonzero: Floats  # sorted
    zeros: int

    @classmethod
    def of(cls, values: Floats) -> Sample:
        return cls(np.sort(values[values != 0]), int((values == 0).sum()))

    @classmethod
    def merge(cls, samples: Sequence[Sample]) -> Sample:
        if not samples:
            return cls(np.empty(0), 0)
        return cls(np.sort(np.concatenate([s.nonzero for s in samples])), sum(s.zeros for s in samples))

    def __len__(self) -> int:
        return len(self.nonzero) + self.zeros

    def total(self) -> float:
        """The exact sum (rounded once), as ``math.fsum`` of the whole list."""
        return math.fsum(self.nonzero.tolist())

    def at(self, i: int) -> float:
        """The ``i``-th smallest value."""
        below = int(np.searchsorted(self.nonzero, 0.0))  # the negative values come first
        if i < below:
            return float(self.nonzero[i])
        if i < below + self.zeros:
            return 0.0
        return float(self.nonzero[i - self.zeros])


@dataclass(frozen=True)
class ServiceTally:
    """A service in one replication: its trains, the transit days of the arrived ones (in the
    order they arrived), how many were on time, and their hours moving, waiting and processing."""

    trains: int
    transit_d: Floats
    on_time: int
    moving_h: float
    waiting_h: float
    processing_h: float


@dataclass(frozen=True)
class NodeTally:
    """A node in one replication: the wait before service at its servers, the hold after it (for a
    vessel, a timetable, an opening), its servers' busy hours within the window, its longest queue."""

    waits_h: Sample
    holds_h: Sample
    busy_h: float
    largest_queue: int


@dataclass(frozen=True)
class WhereTally:
    """A service's arrived trains that took its route, in one replication: how many, the hours
    they spent on each leg (``moving_h[i]``: leg ``i``) and at each node between the ends."""

    trains: int
    moving_h: tuple[float, ...]
    stay_h: tuple[float, ...]


@dataclass(frozen=True)
class WagonTally:
    """A service whose trains take wagons (or locomotives) from a pool, in one replication: its
    empty runs, their wagon-km, the hours its trains waited for wagons, and for locomotives."""

    empty_runs: int
    empty_wagon_km: float
    wait_h: float
    locomotive_wait_h: float = 0.0


@dataclass(frozen=True)
class Tally:
    replication: int
    services: dict[str, ServiceTally]
    nodes: dict[str, NodeTally]
    where: dict[str, WhereTally]
    wagons: dict[str, WagonTally] = field(default_factory=dict)
    pools: tuple[PoolLevel, ...] = ()


def tally(scenario: Scenario, visits: Visits, trains: Trains, rolling: RollingStock | None = None) -> Tally:
    """One replication's tally, from its records (``rolling``: what its wagon pools did)."""
    replication = int(trains.replication[0]) if len(trains) else int(visits.replication[0]) if len(visits) else 0
    rolling = rolling or RollingStock()
    return Tally(
        replication,
        _services(scenario, trains),
        _nodes(scenario, visits, trains),
        _where(scenario, visits, trains),
        _wagons(rolling),
        rolling.pools,
    )


def _wagons(rolling: RollingStock) -> dict[str, WagonTally]:
    """Per service with pooled wagons or locomotives: empty runs, empty wagon-km, hours waited for
    wagons and for locomotives."""
    out: dict[str, WagonTally] = {}
    for name in sorted({*rolling.wagon_wait_h, *rolling.locomotive_wait_h}):
        runs = [r for r in rolling.empty_runs if r.service == name]
        km = math.fsum(r.wagons * r.distance_km for r in runs)
        out[name] = WagonTally(
            len(runs), km, rolling.wagon_wait_h.get(name, 0.0), rolling.locomotive_wait_h.get(name, 0.0)
        )
    return out


def _services(scenario: Scenario, trains: Trains) -> dict[str, ServiceTally]:
    out: dict[str, ServiceTally] = {}
    transit_h = trains.transit_h()
    for service in scenario.services:
        mine = trains.of_service(service.name)
        arrived = mine & trains.arrived
        promised = service.promised_transit_h
        out[service.name] = ServiceTally(
            trains=int(mine.sum()),
            transit_d=transit_h[arrived] / HOURS_PER_DAY,
            on_time=int((transit_h[arrived] <= promised).sum()) if promised is not None else 0,
            moving_h=math.fsum(trains.moving_h[arrived].tolist()),
            waiting_h=math.fsum(trains.waiting_h[arrived].tolist()),
            processing_h=math.fsum(trains.processing_h[arrived].tolist()),
        )
    return out


def _nodes(scenario: Scenario, visits: Visits, trains: Trains) -> dict[str, NodeTally]:
    """Per node visited: waits, holds, busy hours and the longest queue (trains waiting at once,
    before or after service)."""
    v = visits
    horizon = scenario.horizon_h
    inner = v.leg_in >= 0  # the origin is where a train starts, not a place it waits at
    served = inner & ~np.isnan(v.start_h) & ~np.isnan(v.arrive_h)
    # server-hours within the services' departure window (a service under way at the horizon runs to it)
    ends = np.where(np.isnan(v.end_h), horizon, v.end_h)
    busy_h = np.maximum(0.0, np.minimum(ends, scenario.end_h) - np.maximum(v.start_h, 0.0))
    since = np.where(np.isnan(v.end_h), v.arrive_h, v.end_h)
    held = inner & (v.leg_out >= 0) & ~np.isnan(v.leave_h) & ~np.isnan(since)
    complete = (v.leg_out < 0) & trains.arrived[v.train] if len(trains) else v.leg_out < 0
    queued = inner & ~np.isnan(v.arrive_h) & ~complete
    longest = _longest_queues(v, queued, horizon)
    out: dict[str, NodeTally] = {}
    wait_h, hold_h = v.start_h - v.arrive_h, v.leave_h - since
    for p, rows in _by_place(v.place, np.flatnonzero(served | held | queued)):
        s, h = served[rows], held[rows]
        out[v.places[p]] = NodeTally(
            waits_h=Sample.of(wait_h[rows[s]]),
            holds_h=Sample.of(hold_h[rows[h]]),
            busy_h=math.fsum(busy_h[rows[s]].tolist()),
            largest_queue=longest.get(p, 0),
        )
    return out


def _stable_order(codes: npt.NDArray[np.int32]) -> npt.NDArray[np.intp]:
    """``np.argsort(codes, kind="stable")``, 4x faster where the codes fit in 16 bits (a radix sort)."""
    if len(codes) and int(codes.min()) >= 0 and int(codes.max()) < 2**15:
        return np.argsort(codes.astype(np.int16), kind="stable")
    return np.argsort(codes, kind="stable")


def _by_place(place: npt.NDArray[np.int32], rows: npt.NDArray[np.intp]) -> list[tuple[int, npt.NDArray[np.intp]]]:
    """``rows`` grouped by their place, in the order of the places' codes; each group in the
    order given."""
    rows = rows[_stable_order(place[rows])]
    if not len(rows):
        return []
    starts = np.flatnonzero(np.diff(place[rows])) + 1
    return [(int(place[g[0]]), g) for g in np.split(rows, starts)]


def _longest_queues(v: Visits, queued: npt.NDArray[np.bool_], horizon: float) -> dict[int, int]:
    """place -> the most trains waiting there at once: +1 on arrival, -1 at the start of service
    (or on leaving, or at the horizon), +1 at its end, -1 on leaving (or at the horizon). Every
    place's changes sum to zero, so one running sum over the places sorted in turn works; it is
    read after the last change at each instant (what a train leaving and another arriving at the
    same hour leave behind), so the order of changes within an instant does not matter."""
    leave = np.where(np.isnan(v.leave_h), horizon, v.leave_h)
    after = queued & ~np.isnan(v.end_h)
    n, m = int(queued.sum()), int(after.sum())
    times = np.concatenate(
        [v.arrive_h[queued], np.where(np.isnan(v.start_h), leave, v.start_h)[queued], v.end_h[after], leave[after]]
    )
    deltas = np.concatenate([np.ones(n), -np.ones(n), np.ones(m), -np.ones(m)]).astype(np.int64)
    places = np.concatenate([v.place[queued], v.place[queued], v.place[after], v.place[after]])
    if not len(times):
        return {}
    order = np.argsort(times)  # any order among equal times: a fast sort
    order = order[_stable_order(places[order])]  # by place, then time
    running, places, times = np.cumsum(deltas[order]), places[order], times[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (places[1:] != places[:-1]) | (times[1:] != times[:-1])
    running, places = running[last], places[last]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(places)) + 1])
    peaks = np.maximum.reduceat(running, starts)
    return {int(p): max(0, int(q)) for p, q in zip(places[starts].tolist(), peaks.tolist(), strict=True)}


def _where(scenario: Scenario, visits: Visits, trains: Trains) -> dict[str, WhereTally]:
    """Per service: the hours on each leg and at each node of its arrived trains that took its route."""
    v = visits
    first = np.searchsorted(v.train, np.arange(len(trains)))
    count = np.diff(np.append(first, len(v.train)))
    # when a train left each place: onto the next leg, else after service, else when it arrived
    left = np.where(np.isnan(v.leave_h), np.where(np.isnan(v.end_h), v.arrive_h, v.end_h), v.leave_h)
    out: dict[str, WhereTally] = {}
    for service in scenario.services:
        m = len(service.node_ids)
        route = np.asarray([v.places.index(n) for n in service.node_ids])
        candidates = np.flatnonzero(trains.of_service(service.name) & trains.arrived & (count == m))
        rows = first[candidates][:, None] + np.arange(m)[None, :]
        rows = rows[(v.place[rows] == route[None, :]).all(axis=1)] if len(rows) else rows
        if not len(rows):
            continue
        arrive, leave = v.arrive_h[rows], left[rows]
        leave[:, 0] = arrive[:, 0]  # from the departure: a wait at the origin counts on the first leg
        out[service.name] = WhereTally(
            trains=len(rows),
            moving_h=tuple(math.fsum((arrive[:, i] - leave[:, i - 1]).tolist()) for i in range(1, m)),
            stay_h=tuple(math.fsum((leave[:, i] - arrive[:, i]).tolist()) for i in range(1, m - 1)),
        )
    return out
