"""The compiled scenario the engine runs: services, closures, capacity cuts and weather, as plain frozen data."""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from corridors import Distribution, Network
from corridors.units import HOURS_PER_WEEK, per_week

__all__ = [
    "WAGON_MODES",
    "WEEKDAYS",
    "CapacityCut",
    "Closure",
    "LocomotivePool",
    "RerouteReason",
    "Scenario",
    "Service",
    "TrainLimit",
    "WagonPool",
    "Weather",
    "formation",
    "leg_parts",
    "sections",
    "service_rate",
    "short_pools",
    "timetable",
    "traction",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Leg modes that carry wagons (a rail ferry carries them across); a sea or road leg ends a section.
WAGON_MODES = ("rail", "ferry")


class RerouteReason(enum.Enum):
    """Why a service left the route its scenario gave it (the places and dates are in ``reroute_reason``)."""

    #: its route touched a banned country or node: every train takes the new route
    BAN = "ban"
    #: a closure longer than the rerouting threshold lay on it: every train, or (with a
    #: ``detour``) the trains that would meet the closure, take the new route
    CLOSURE = "closure"


@dataclass(frozen=True)
class Service:
    """Trains on one route: when they leave, how big they are, what was promised."""

    name: str
    node_ids: tuple[str, ...]
    leg_ids: tuple[str, ...]
    departures_h: tuple[float, ...]
    wagons: int
    teu: float
    window_h: tuple[float, float] = (0.0, 0.0)
    promised_transit_h: float | None = None
    departure_spread_h: float = 0.0
    corridor: str | None = None
    rerouted_from: tuple[str, ...] | None = None
    #: why it was rerouted, in words naming the places (empty when it was not)
    reroute_reason: str = ""
    #: why it was rerouted, for code to read (None when it was not)
    rerouted_by: RerouteReason | None = None
    #: (from_h, to_h, node_ids, leg_ids): trains leaving in that window take this route instead
    detour: tuple[float, float, tuple[str, ...], tuple[str, ...]] | None = None
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    #: the timetable's inputs, so that a what-if can rebuild it (another window, more trains)
    trains_per_week: float = 0.0
    weekdays: tuple[str, ...] = ()
    #: the service's own start and end dates where it gives them (None: the scenario's)
    dates: tuple[dt.datetime | None, dt.datetime | None] | None = None
    #: field -> (low, high): the plausible range its file gives beside a value (``min``, ``max``)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Closure:
    """Nothing starts service at ``node`` (or enters ``leg``) from ``start_h`` to ``end_h``."""

    start_h: float
    end_h: float
    node: str | None = None
    leg: str | None = None


@dataclass(frozen=True)
class CapacityCut:
    """Servers and the trains/day cap at ``node`` multiplied by ``factor`` from ``start_h`` to ``end_h``."""

    node: str
    start_h: float
    end_h: float
    factor: float


@dataclass(frozen=True)
class Weather:
    """Storms that stop departures from a ferry terminal or port in some months of the year:
    ``stoppages_per_month`` on average, or (``closed_share``, then ``stoppages_per_month`` is
    None) as many as keep the node closed that share of the time; each lasts ``stoppage_h``."""

    node: str
    months: tuple[int, ...]
    stoppages_per_month: float | None
    stoppage_h: Distribution
    closed_share: float | None = None
    #: the source keys and the plausible range (``min``, ``max``) of ``stoppages_per_month`` or ``closed_share``
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class WagonPool:
    """Platform wagons of one gauge based at ``node``: a train whose section of that gauge starts
    there takes its wagons from them, and waits while they are short (``sim.places.WagonTake``)."""

    node: str
    gauge_mm: int
    wagons: int
    #: the source keys of ``wagons`` and the plausible range (``min``, ``max``) its file gives
    sources: tuple[str, ...] = field(default=(), compare=False)
    range: tuple[float, float] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """The pool's name in records and summaries: ``KZ_DOSTYK/1520``."""
        return f"{self.node}/{self.gauge_mm}"


@dataclass(frozen=True)
class LocomotivePool:
    """Locomotives based at ``node``: a train that starts a stretch of traction there (up to the
    next node with a pool of its own, a gauge change, a ferry or sea leg, or its destination)
    takes one for each part it runs in, and waits while they are short."""

    node: str
    locomotives: int
    #: the source keys of ``locomotives`` and the plausible range (``min``, ``max``) its file gives
    sources: tuple[str, ...] = field(default=(), compare=False)
    range: tuple[float, float] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """The pool's name in records and summaries: ``GE_GARDABANI/locomotives``."""
        return f"{self.node}/locomotives"


@dataclass(frozen=True)
class TrainLimit:
    """The longest train, in wagons, that the lines of one gauge in ``countries`` take
    (``[[train_limits]]``): a section of a route over any of them re-forms a longer train into
    parts of at most ``max_wagons``."""

    gauge_mm: int
    countries: tuple[str, ...]
    max_wagons: int
    #: the source keys of ``max_wagons`` and the plausible range (``min``, ``max``) its file gives
    sources: tuple[str, ...] = field(default=(), compare=False)
    range: tuple[float, float] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """The limit's name in a parameter path: ``1435-PL-DE``."""
        return "-".join((str(self.gauge_mm), *self.countries))


@dataclass(frozen=True)
class Scenario:
    """A network, the services on it, and what disturbs them, in hours from ``start``.

    Services depart until ``end_h``; the simulation runs on to ``horizon_h`` so that late trains
    can arrive (a train still running then is reported as in the system, not lost).
    """

    name: str
    description: str
    start: dt.datetime
    end_h: float
    horizon_h: float
    network: Network
    services: tuple[Service, ...]
    closures: tuple[Closure, ...] = ()
    capacity_cuts: tuple[CapacityCut, ...] = ()
    weather: tuple[Weather, ...] = ()
    #: platform-wagon pools (none: trains never wait for wagons)
    wagon_pools: tuple[WagonPool, ...] = ()
    #: locomotive pools (none: trains never wait for locomotives)
    locomotive_pools: tuple[LocomotivePool, ...] = ()
    #: train-length limits (none: a train runs whole from its origin to its destination)
    train_limits: tuple[TrainLimit, ...] = ()
    path: Path | None = None
    base: str | None = None
    banned_countries: tuple[str, ...] = ()
    banned_nodes: tuple[str, ...] = ()
    #: what the scenario's [[overrides]] (and its base's) change, in words, with their sources
    overrides: tuple[str, ...] = ()

    def hours(self, when: dt.datetime) -> float:
        """Hours since the scenario start (the engine's one clock)."""
        return (when - self.start).total_seconds() / 3600

    def date_at(self, hours: float) -> dt.datetime:
        """The date and time ``hours`` after the scenario start."""
        return self.start + dt.timedelta(hours=hours)


def service_rate(service: Service) -> float:
    """Trains a week of a service: its timetable's input, else its departures over its window."""
    if service.trains_per_week:
        return service.trains_per_week
    window_h = service.window_h[1] - service.window_h[0]
    return per_week(len(service.departures_h), window_h)


def timetable(
    per_week: float, weekdays: tuple[str, ...], s_start: dt.datetime, s_end: dt.datetime, origin: dt.datetime
) -> tuple[float, ...]:
    """Departure times in hours since ``origin``: evenly spaced, or spread over the given weekdays."""
    first = (s_start - origin).total_seconds() / 3600
    last = (s_end - origin).total_seconds() / 3600
    if not weekdays:
        headway = HOURS_PER_WEEK / per_week
        n = int((last - first) / headway - 1e-9) + 1
        return tuple(first + i * headway for i in range(n) if first + i * headway < last)
    # weekdays: per_week trains spread evenly over those days, departing through each day
    days = sorted(WEEKDAYS.index(d) for d in weekdays)
    per_day = per_week / len(days)
    out: list[float] = []
    day = s_start.replace(hour=0, minute=0, second=0, microsecond=0)
    carry = 0.0
    while day < s_end:
        if day.weekday() in days:
            carry += per_day
            count = int(carry + 1e-9)
            carry -= count
            for k in range(count):
                t = (day - origin).total_seconds() / 3600 + 24 * (k + 0.5) / count
                if first <= t < last:
                    out.append(t)
        day += dt.timedelta(days=1)
    return tuple(out)


def sections(net: Network, leg_ids: tuple[str, ...]) -> list[tuple[int, int, int]]:
    """The sections of a route: (first node index, last node index, gauge) of each maximal run of
    legs that carry wagons (rail, and rail ferries, which carry them across) of one gauge. A
    section starts at the origin or a gauge change and ends at the next gauge change, a sea port
    (the containers leave the wagons) or the destination."""
    out: list[tuple[int, int, int]] = []
    first, gauge = -1, 0
    for i, leg_id in enumerate((*leg_ids, None)):
        leg = net.legs[leg_id] if leg_id is not None else None
        g = leg.gauge_mm if leg is not None and leg.mode in WAGON_MODES and leg.gauge_mm else 0
        if first >= 0 and g != gauge:
            out.append((first, i, gauge))
            first = -1
        if first < 0 and g:
            first, gauge = i, g
    return out


def formation(
    net: Network, leg_ids: tuple[str, ...], wagons: int, limits: tuple[TrainLimit, ...]
) -> list[tuple[int, int, int, int]]:
    """Each section of a route (``sections``) with the parts a train of ``wagons`` runs in there:
    (first node index, last node index, gauge, parts). A section is re-formed at its start (a
    gauge change, where containers move to other wagons, or the origin) into trains no longer
    than the shortest limit of its gauge on any of its legs (a leg is in the countries of its end
    nodes and those it crosses)."""
    out = []
    for first, last, gauge in sections(net, leg_ids):
        longest = min(
            (
                limit.max_wagons
                for leg_id in leg_ids[first:last]
                for limit in limits
                if limit.gauge_mm == gauge and not set(limit.countries).isdisjoint(_countries(net, leg_id))
            ),
            default=0,
        )
        out.append((first, last, gauge, math.ceil(wagons / longest) if longest else 1))
    return out


def leg_parts(net: Network, leg_ids: tuple[str, ...], wagons: int, limits: tuple[TrainLimit, ...]) -> list[int]:
    """The parts a train of ``wagons`` runs in on each leg of a route (1 off the sections)."""
    parts = [1] * len(leg_ids)
    for first, last, _gauge, n in formation(net, leg_ids, wagons, limits):
        parts[first:last] = [n] * (last - first)
    return parts


def _countries(net: Network, leg_id: str) -> set[str]:
    leg = net.legs[leg_id]
    return {net.nodes[leg.from_id].country, net.nodes[leg.to_id].country, *leg.countries}


def traction(
    net: Network, node_ids: tuple[str, ...], leg_ids: tuple[str, ...], based: set[str]
) -> list[tuple[int, int]]:
    """The stretches of a route hauled by locomotives from a pool: (first node index, last node
    index) from each node with a pool (``based``) that a rail leg leaves, on to the next node with
    a pool, the next gauge change, ferry or sea leg, or the destination."""
    out = []
    for i, node_id in enumerate(node_ids[:-1]):
        leg = net.legs[leg_ids[i]]
        if node_id not in based or leg.mode != "rail":
            continue
        j = i + 1
        while j < len(leg_ids) and node_ids[j] not in based:
            nxt = net.legs[leg_ids[j]]
            if nxt.mode != "rail" or nxt.gauge_mm != leg.gauge_mm:
                break
            j += 1
        out.append((i, j))
    return out


def short_pools(
    net: Network,
    services: Sequence[Service],
    engines: Sequence[LocomotivePool],
    limits: tuple[TrainLimit, ...],
) -> list[tuple[str, int, str, int]]:
    """The locomotive pools smaller than the parts a service's train runs in there (a train that
    could never be hauled): (node, locomotives, service, parts)."""
    size = {p.node: p.locomotives for p in engines}
    out = []
    for s in services if size else ():
        parts = leg_parts(net, s.leg_ids, s.wagons, limits)
        for first, _last in traction(net, s.node_ids, s.leg_ids, set(size)):
            node = s.node_ids[first]
            if parts[first] > size[node]:
                out.append((node, size[node], s.name, parts[first]))
    return out
