"""What a train visits on its route, behind one small protocol: ``visit(train)`` is a SimPy process step.

A train keeps its own clock (``Train.t``), ahead of the engine's when nothing can make it wait:
a leg's transit time is added to it without an engine event. A place where trains meet (a
station's servers, a ferry, a liner's sailings, a line's entry gate, a yard's tracks) must see
trains in the engine's time order, so before it decides anything it brings the engine's clock
up to the train's: ``catch_up`` is that rule, the one place it lives, and it asserts that the
engine's clock is not past the train's afterwards (a train acting in the engine's past would
break first come, first served).

A new kind of place is a class here with a ``visit`` generator (and, if it holds state for a
replication, a runtime class in ``sim.facilities``); ``sim.engine`` puts it on a route.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol

import simpy

from sim.facilities import FerryLine, Sailings, Station, Windows, Yard
from sim.records import Event

__all__ = [
    "ClosedLeg",
    "Ferry",
    "Held",
    "Line",
    "Liner",
    "Place",
    "Served",
    "Train",
    "YardEntry",
    "catch_up",
]


class Train:
    """One train's state while it walks its route: where it is, its own clock and its hour totals."""

    __slots__ = (
        "env",
        "i",
        "k",
        "log",
        "moving_h",
        "nodes",
        "parts",
        "processing_h",
        "rep",
        "slots",
        "t",
        "teu",
        "tid",
        "wagons",
        "waiting_h",
    )

    def __init__(
        self,
        env: simpy.Environment,
        log: Callable[[Event], None],
        *,
        rep: int,
        tid: str,
        k: int,
        nodes: Sequence[str],
        wagons: int,
        teu: float,
    ) -> None:
        self.env = env
        self.log = log
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

    def event(self, place: str, kind: str, t: float) -> None:
        self.log(Event(self.rep, self.tid, place, kind, t))

    def wait_until(self, t: float) -> None:
        """Stay where the train is until ``t`` (a closure, a storm, an opening): waiting hours."""
        if t > self.t:
            self.waiting_h += t - self.t
            self.t = t

    def leave(self, t: float) -> Generator[simpy.Event, Any, None]:
        """Leave the current node at ``t``: the event, and the yard tracks it held given back."""
        if self.i:
            self.event(self.nodes[self.i], "leave", t)
        yield from self.release_at(self.i, t)

    def release_at(self, index: int, t: float) -> Generator[simpy.Event, Any, None]:
        """Give back the yard tracks held at the node ``index`` at time ``t``."""
        for held in [s for s in self.slots if s[0] == index]:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            held[1].release(held[2])
            self.slots.remove(held)


def catch_up(train: Train) -> Generator[simpy.Event, Any, None]:
    """The clock rule: before a shared place decides, the engine's clock reaches the train's."""
    env = train.env
    if train.t > env.now:
        yield env.timeout(train.t - env.now)
    # equal but for the rounding of now + (t - now); the train keeps its own figure, so the
    # records do not depend on when the engine happened to wake it
    assert env.now - train.t <= 1e-9 * (1.0 + train.t), (
        f"{train.tid}: the engine ({env.now} h) is past it ({train.t} h)"
    )


class Place(Protocol):
    """Anything a train visits: it moves the train's clock and hour totals, and may wait in SimPy."""

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]: ...


class ClosedLeg:
    """A leg closed for a while: the train waits at its node until the leg opens."""

    def __init__(self, closed: Windows) -> None:
        self.closed = closed

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        train.wait_until(self.closed.open_at(train.t))
        yield from ()


class YardEntry:
    """A yard of finite tracks at the node ahead: a train may leave for it only with a track free
    there, and waits where it is until one is (trains held upstream when the yard is full)."""

    def __init__(self, yard: Yard, index: int) -> None:
        self.yard = yard
        self.index = index  # the yard's node, as an index of the route

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        yield from catch_up(train)
        request = self.yard.request()
        yield request
        train.wait_until(train.env.now)
        train.slots.append((self.index, self.yard, request))


class Line:
    """A leg with its own transit time; with a line capacity, an entry gate spaces the trains."""

    def __init__(self, draws: Sequence[float], gate: Station | None) -> None:
        self.draws = draws
        self.gate = gate

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        if self.gate is not None:
            yield from catch_up(train)
            entry, _ = self.gate.admit(train.t, 0.0)
            train.wait_until(entry)
        yield from train.leave(train.t)
        hours = self.draws[train.k]
        train.moving_h += hours
        train.t += hours
        train.i += 1
        train.event(train.nodes[train.i], "arrive", train.t)


class Ferry:
    """Vessels that leave by their dispatch rule (when full, after a maximum wait); a long train
    is split over several and reassembled on the far side."""

    def __init__(self, line: FerryLine) -> None:
        self.line = line

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        yield from catch_up(train)
        here = train.nodes[train.i]
        done, crossing = self.line.cross(here, train.wagons if self.line.unit == "wagons" else train.teu)
        landed = yield done
        train.parts += crossing.parts
        sailed = max(dep for dep, _ in crossing.loads)
        yield from train.leave(sailed)
        train.wait_until(sailed)
        train.moving_h += landed - sailed
        train.t = landed
        train.i += 1
        train.event(train.nodes[train.i], "arrive", train.t)


class Liner:
    """Timetabled sailings over a voyage of water legs (through canals and straits, which a
    closure may hold); the train takes the sailings that have room for it."""

    def __init__(self, sailings: Sailings, held: Callable[[str], Windows | None]) -> None:
        self.sailings = sailings
        self.held = held

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        yield from catch_up(train)
        liner = self.sailings
        booked = liner.book(train.t, train.wagons if liner.unit == "wagons" else train.teu)
        train.parts += len(booked)
        j = max((j for j, _ in booked), key=liner.departure_h)
        sailed = liner.departure_h(j)
        yield from train.leave(sailed)
        train.wait_until(sailed)
        durations = liner.durations(j)
        for s, hours in enumerate(durations):
            train.t += hours
            train.moving_h += hours
            train.i += 1
            at = train.nodes[train.i]
            train.event(at, "arrive", train.t)
            if s + 1 < len(durations):  # a waypoint of the voyage (a canal, a strait)
                closed = self.held(at)
                if closed:
                    train.wait_until(closed.open_at(train.t))
                train.event(at, "leave", train.t)


class Served:
    """A node's servers: queue, then service (first come, first served)."""

    def __init__(self, station: Station, draws: Sequence[float] | None) -> None:
        self.station = station
        self.draws = draws

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        yield from catch_up(train)
        start, end = self.station.admit(train.t, self.draws[train.k] if self.draws else 0.0)
        at = train.nodes[train.i]
        train.event(at, "start", start)
        train.event(at, "end", end)
        train.wait_until(start)
        train.processing_h += end - start
        train.t = end


class Held:
    """A node without servers that a closure or a storm may hold."""

    def __init__(self, held: Windows) -> None:
        self.held = held

    def visit(self, train: Train) -> Generator[simpy.Event, Any, None]:
        train.wait_until(self.held.open_at(train.t))
        yield from ()
