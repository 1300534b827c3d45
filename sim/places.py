"""What a train visits on its route, behind one small protocol (``Place``).

A train keeps its own clock (``Train.t``), ahead of the engine's when nothing can make it wait:
a leg's transit time is added to it without an engine event. A place where trains meet (a
station's servers, a ferry, a liner's sailings, a line's entry gate, a yard's tracks) is
``shared``: it must see trains in the engine's time order, so before a train visits it the
engine's clock is brought up to the train's: the clock rule (``CLOCK_SLACK_H``), kept in one
place, the engine's loop, and asserted there.

A place that may wait in SimPy after deciding (a ferry's crossing, a yard's free track) ``waits``:
its ``visit`` is a process step (a generator). The others are a plain call, ``pass_``, so that
the tens of visits a train makes cost no generator each.

A new kind of place is a class here (and, if it holds state for a replication, a runtime class in
``sim.facilities``); ``sim.engine`` puts it on a route. See docs/facilities.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol

import simpy

from sim.facilities import FerryLine, Sailings, Station, Wagons, Windows, Yard
from sim.records import EmptyRun, WaitReason

_QUEUE = int(WaitReason.QUEUE)
_GATE = int(WaitReason.GATE)
_YARD = int(WaitReason.YARD)
_VESSEL = int(WaitReason.VESSEL)
_SAILING = int(WaitReason.SAILING)
_CLOSURE = int(WaitReason.CLOSURE)
_HOLD = int(WaitReason.HOLD)
_WAGONS = int(WaitReason.WAGONS)
_LOCOMOTIVES = int(WaitReason.LOCOMOTIVES)

__all__ = [
    "CLOCK_SLACK_H",
    "AdminHold",
    "ClosedLeg",
    "Ferry",
    "Held",
    "Line",
    "Liner",
    "Place",
    "Served",
    "Train",
    "WagonReturn",
    "WagonTake",
    "YardEntry",
]


class Train:
    """One train's state while it walks its route: where it is, its own clock, its hour totals,
    and its visit records so far: per node of the route (by index) the times it arrived, started
    and ended service, and left (NaN until they happen), and its waits as (node index, hours,
    ``WaitReason``, when the wait ended)."""

    __slots__ = (
        "arrive",
        "end",
        "env",
        "i",
        "k",
        "left",
        "moving_h",
        "nodes",
        "parts",
        "processing_h",
        "rep",
        "slots",
        "start",
        "stock",
        "t",
        "teu",
        "tid",
        "wagons",
        "waiting_h",
        "waits",
    )

    def __init__(
        self,
        env: simpy.Environment,
        *,
        rep: int,
        tid: str,
        k: int,
        nodes: Sequence[str],
        wagons: int,
        teu: float,
    ) -> None:
        self.env = env
        self.rep = rep
        self.tid = tid
        self.k = k  # the train's number within its service: the index of its random draws
        self.nodes = nodes
        self.wagons = wagons
        self.teu = teu
        self.i = 0  # index of the node the train is at (or last left)
        self.t = env.now
        self.moving_h = self.waiting_h = self.processing_h = 0.0
        self.parts = 0
        self.slots: list[tuple[int, Yard, Any]] = []  # (node index, yard, request) held ahead
        self.stock: list[tuple[int, Wagons, float, int]] = []  # held: (taken at index, pool, moving_h then, count)
        n = len(nodes)
        self.arrive = [math.nan] * n
        self.start = [math.nan] * n
        self.end = [math.nan] * n
        self.left = [math.nan] * n
        self.arrive[0] = self.t  # at the origin: the departure
        self.waits: list[tuple[int, float, int, float]] = []

    def wait_until(self, t: float, why: int) -> None:
        """Stay where the train is until ``t`` (``why``: a ``WaitReason``): waiting hours."""
        if t > self.t:
            self.waiting_h += t - self.t
            self.waits.append((self.i, t - self.t, why, t))
            self.t = t

    def leave(self, t: float) -> bool:
        """Leave the current node at ``t``; True when yard tracks held here must be given back
        (``release_at``), which may need the engine's clock."""
        self.left[self.i] = t
        return bool(self.slots) and any(s[0] == self.i for s in self.slots)

    def release_at(self, index: int, t: float) -> Generator[simpy.Event, Any, None]:
        """Give back the yard tracks held at the node ``index`` at time ``t``."""
        for held in [s for s in self.slots if s[0] == index]:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            held[1].release(held[2])
            self.slots.remove(held)


#: The clock rule. Before a train visits a shared place, the engine's clock must reach the train's:
#: the engine's loop (``sim.engine``, the one place that does it) waits for the difference, then
#: asserts that the engine is not past the train by more than this (relative, in hours: the
#: rounding of now + (t - now)). A train acting in the engine's past would break first come,
#: first served. The train keeps its own figure, so the records do not depend on when the engine
#: woke it.
CLOCK_SLACK_H = 1e-9


class Place(Protocol):
    """Anything a train visits: it moves the train's clock, hour totals and records.

    ``shared``: trains meet here, so the engine catches up with the train first (the clock rule).
    ``waits``: the visit may wait in SimPy, so it is the process step ``visit``; otherwise the
    engine calls ``pass_``, which does the same without a generator. A place that a train leaves
    from gives back yard tracks it held there (``Train.leave``): that may wait too, so the engine
    uses ``visit`` for a train holding tracks.
    """

    shared: bool
    waits: bool

    def pass_(self, train: Train) -> None: ...

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]: ...


class _Place:
    """Defaults: not shared, no waiting; ``visit`` is ``pass_`` as a process step."""

    shared = False
    waits = False

    def pass_(self, train: Train) -> None:
        raise TypeError(f"{type(self).__name__} may wait in SimPy: visit it as a process step")

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        self.pass_(train)
        yield from ()


class _Departure(_Place):
    """A move off a node: up to the moment the train leaves (``until_leave``: that time, and what
    the rest needs), then the rest (``after_leave``); in between the train leaves, giving back
    yard tracks it held there."""

    def until_leave(self, train: Train) -> tuple[float, Any]:
        raise NotImplementedError

    def after_leave(self, train: Train, decided: Any) -> None:
        raise NotImplementedError

    def pass_(self, train: Train) -> None:
        t, decided = self.until_leave(train)
        if train.leave(t):
            raise RuntimeError(f"{train.tid} gives back yard tracks here: visit it as a process step")
        self.after_leave(train, decided)

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        t, decided = self.until_leave(train)
        if train.leave(t):
            yield from train.release_at(train.i, t)
        self.after_leave(train, decided)


class ClosedLeg(_Place):
    """A leg closed for a while: the train waits at its node until the leg opens."""

    def __init__(self, closed: Windows) -> None:
        self.closed = closed

    def pass_(self, train: Train) -> None:
        train.wait_until(self.closed.open_at(train.t), _CLOSURE)


class YardEntry(_Place):
    """A yard of finite tracks at the node ahead: a train may leave for it only with a track free
    there, and waits where it is until one is (trains held upstream when the yard is full)."""

    shared = True
    waits = True

    def __init__(self, yard: Yard, index: int) -> None:
        self.yard = yard
        self.index = index  # the yard's node, as an index of the route

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        request = self.yard.request()
        yield request
        train.wait_until(train.env.now, _YARD)
        train.slots.append((self.index, self.yard, request))


class WagonTake(_Place):
    """A section of one gauge starts here, where a pool of that gauge is based: the train takes
    its wagons before its service here (at the origin: before it departs), waiting while the
    pool is short (first come, first served). The same for a locomotive pool (``count``: one
    locomotive for each part the train runs in on the stretch)."""

    shared = True
    waits = True

    def __init__(self, pool: Wagons, index: int, count: int | None = None) -> None:
        self.pool = pool
        self.index = index  # the section's first node, as an index of the route
        self.count = count  # None: the train's wagons
        self.why = _WAGONS if pool.unit == "wagons" else _LOCOMOTIVES

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        count = train.wagons if self.count is None else self.count
        pool, taken = self.pool, self.pool.take(count)
        if taken is not None:  # short now: wait for the wagons to come back
            pool.waited += 1
            pool.pending[train.tid] = (train.i, train.t)
            yield taken
            del pool.pending[train.tid]
        pool.taken()
        train.wait_until(train.env.now, self.why)
        train.stock.append((self.index, self.pool, train.moving_h, count))


class WagonReturn(_Place):
    """The end of a section whose wagons came from a pool: after its service here (at the
    destination: on arrival) the train gives them back. Those a pool of the gauge here lacks
    against its starting stock (counting empties on their way to it) join it, a free
    repositioning, unless the pool they came from has lent more than it got back (then it would
    drain into a pool that never sends any back). The rest run back empty to their pool,
    arriving after the train's own moving hours on the section; the run is recorded."""

    shared = True

    def __init__(
        self,
        first: int,
        here: Wagons | None,
        service: str,
        distance_km: float,
        runs: list[EmptyRun],
        unit: str = "wagons",
    ) -> None:
        self.first = first  # the section's first node, where the wagons were taken
        self.here = here
        self.service = service
        self.distance_km = distance_km
        self.runs = runs
        self.unit = unit  # which stock the train gives back here (locomotives never join another pool)

    def pass_(self, train: Train) -> None:
        held = next((h for h in train.stock if h[0] == self.first and h[1].unit == self.unit), None)
        if held is None:
            return
        train.stock.remove(held)
        _, home, moving_h, wagons = held
        here = self.here
        join = min(wagons, here.short) if here is not None and home.lent <= 0 else 0
        if join:
            assert here is not None
            home.lend(join, here)
        if wagons > join:
            hours = train.moving_h - moving_h
            home.back_at(train.t + hours, wagons - join)
            where = train.nodes[train.i]
            row = EmptyRun(
                self.service, where, home.node_id, home.gauge_mm, wagons - join, self.distance_km, hours, train.t
            )
            self.runs.append(row)


class Line(_Departure):
    """A leg with its own transit time; with a line capacity, an entry gate spaces the trains."""

    def __init__(self, draws: Sequence[float], gate: Station | None, parts: int = 1) -> None:
        self.draws = draws
        self.gate = gate
        self.shared = gate is not None
        self.parts = parts  # a train re-formed into parts enters the gate once for each

    def until_leave(self, train: Train) -> tuple[float, Any]:
        if self.gate is not None:
            entry = train.t
            for _ in range(self.parts):
                entry, _ = self.gate.admit(train.t, 0.0)
            train.wait_until(entry, _GATE)
        return train.t, None

    def pass_(self, train: Train) -> None:
        """``_Departure.pass_`` without its two calls: most visits in a replication are this one
        (measured: the general path costs the engine about 8%). The engine calls it only for a
        train that holds no yard tracks, so none are given back here."""
        if self.gate is not None:
            entry = train.t
            for _ in range(self.parts):
                entry, _ = self.gate.admit(train.t, 0.0)
            train.wait_until(entry, _GATE)
        i, t = train.i, train.t
        train.left[i] = t
        hours = self.draws[train.k]  # after_leave, inlined (measured: this pass_ about 30% faster)
        train.moving_h += hours
        train.t = t = t + hours
        train.i = i = i + 1
        train.arrive[i] = t

    def after_leave(self, train: Train, decided: Any) -> None:
        i, t = train.i + 1, train.t + self.draws[train.k]
        train.moving_h += self.draws[train.k]
        train.t, train.i = t, i
        train.arrive[i] = t


class Ferry(_Place):
    """Vessels that leave by their dispatch rule (when full, after a maximum wait); a long train
    is split over several and reassembled on the far side."""

    shared = True
    waits = True

    def __init__(self, line: FerryLine) -> None:
        self.line = line

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        here = train.nodes[train.i]
        done, crossing = self.line.cross(here, train.wagons if self.line.unit == "wagons" else train.teu)
        landed = yield done
        train.parts += crossing.parts
        sailed = max(dep for dep, _ in crossing.loads)
        if train.leave(sailed):
            yield from train.release_at(train.i, sailed)
        train.wait_until(sailed, _VESSEL)
        train.moving_h += landed - sailed
        train.t = landed
        train.i += 1
        train.arrive[train.i] = landed


class Liner(_Departure):
    """Timetabled sailings over a voyage of water legs (through canals and straits, which a
    closure may hold); the train takes the sailings that have room for it."""

    shared = True

    def __init__(self, sailings: Sailings, held: Callable[[str], Windows | None]) -> None:
        self.sailings = sailings
        self.held = held

    def until_leave(self, train: Train) -> tuple[float, Any]:
        liner = self.sailings
        booked = liner.book(train.t, train.wagons if liner.unit == "wagons" else train.teu)
        train.parts += len(booked)
        j = max((j for j, _ in booked), key=liner.departure_h)  # the train leaves with its last part
        return liner.departure_h(j), j

    def after_leave(self, train: Train, decided: Any) -> None:
        liner, j = self.sailings, int(decided)
        train.wait_until(liner.departure_h(j), _SAILING)
        durations = liner.durations(j)
        for s, hours in enumerate(durations):
            train.t += hours
            train.moving_h += hours
            train.i += 1
            train.arrive[train.i] = train.t
            if s + 1 < len(durations):  # a waypoint of the voyage (a canal, a strait)
                closed = self.held(train.nodes[train.i])
                if closed:
                    train.wait_until(closed.open_at(train.t), _CLOSURE)
                train.left[train.i] = train.t


class Served(_Place):
    """A node's servers: queue, then service (first come, first served)."""

    shared = True

    def __init__(self, station: Station, draws: Sequence[float] | None) -> None:
        self.station = station
        self.draws = draws

    def pass_(self, train: Train) -> None:
        start, end = self.station.admit(train.t, self.draws[train.k] if self.draws else 0.0)
        i = train.i
        train.start[i] = start
        train.end[i] = end
        if start > train.t:
            closures = self.station.closures
            why = _CLOSURE if closures and closures.open_at(train.t) > train.t else _QUEUE
            train.waiting_h += start - train.t
            train.waits.append((i, start - train.t, why, start))
        train.processing_h += end - start
        train.t = end


class Held(_Place):
    """A node without servers that a closure or a storm may hold."""

    def __init__(self, held: Windows) -> None:
        self.held = held

    def pass_(self, train: Train) -> None:
        train.wait_until(self.held.open_at(train.t), _CLOSURE)


class AdminHold(_Place):
    """An administrative hold (permits, inspections): a train drawn to be held waits where it is,
    after its service, for its drawn hours (``hours[k]`` for the service's train ``k``; 0: not
    held). Nothing is shared: a hold keeps no other train waiting."""

    def __init__(self, hours: Sequence[float]) -> None:
        self.hours = hours

    def pass_(self, train: Train) -> None:
        hours = self.hours[train.k]
        if hours > 0:
            train.wait_until(train.t + hours, _HOLD)
