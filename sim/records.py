"""What the engine hands out, as columns: one row per train per place visited (``Visits``) and one
row per train (``Trains``), numpy arrays with the names they index kept beside them. The event
log (``Event`` rows) and per-train rows (``TrainRecord``) are views of these columns.

A visit's times are hours since the scenario start, NaN where it did not happen by the horizon:
``arrive_h`` (at the origin: the train's departure), ``start_h`` and ``end_h`` (service at the
node's servers), ``leave_h`` (onto the next leg; none at the destination). ``waited_for`` says
what kept the train longest at the place (``WaitReason``).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "EmptyRun",
    "Event",
    "PoolLevel",
    "RollingStock",
    "TrainRecord",
    "Trains",
    "Visits",
    "WagonWait",
    "WaitReason",
    "stack",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int32]


class WaitReason(enum.IntEnum):
    """Why a train waited at a place (the reason that kept it longest there)."""

    NONE = 0
    QUEUE = 1  # for the node's servers (first come, first served; trains a day)
    GATE = 2  # for a line's entry gate (the line's trains a day)
    YARD = 3  # for a free track in the full yard ahead
    VESSEL = 4  # for a ferry to load and sail
    SAILING = 5  # for a liner's timetabled sailing with room
    CLOSURE = 6  # for a closure or a storm to end
    HOLD = 7  # an administrative hold (permits, inspections): a facility's hold_probability and hold_h
    WAGONS = 8  # for platform wagons from the gauge's pool (the pool ran short)
    LOCOMOTIVES = 9  # for locomotives from the stretch's pool (the pool ran short)

    @property
    def label(self) -> str:
        return "" if self is WaitReason.NONE else self.name.lower()


class Event(NamedTuple):
    """One row of the event log. ``event`` is one of: depart (from the origin), arrive, start
    (service begins), end (service ends), leave (onto the next leg), complete (at the
    destination). ``leg`` is the leg arrived over (arrive) or left onto (depart, leave), else
    "". Times are hours since the scenario start."""

    replication: int
    train: str
    service: str
    place: str
    leg: str
    event: str
    time_h: float


class EmptyRun(NamedTuple):
    """Wagons a train gave back at the end of a section that ran back empty to the pool they came
    from (``from_place``, where the train left them, to ``to_place``, the pool's node), arriving
    ``hours`` later (the train's own moving hours on the section); ``at_h`` is when they left."""

    service: str
    from_place: str
    to_place: str
    gauge_mm: int
    wagons: int
    distance_km: float
    hours: float
    at_h: float


class WagonWait(NamedTuple):
    """A train that found a pool short: it waited at ``place`` from ``from_h`` (after the places
    before the pool's, such as a closure) until ``until_h``, when it took its wagons (past the
    horizon if it had not by then); only then did it join the queue for the servers there."""

    service: str
    train: str
    place: str
    from_h: float
    until_h: float


class PoolLevel(NamedTuple):
    """A wagon pool (or, with ``unit`` "locomotives" and ``gauge_mm`` 0, a locomotive pool) in one
    replication: its stock at the start, the lowest it fell to, and how many trains waited for it."""

    node: str
    gauge_mm: int
    start_wagons: int
    lowest_wagons: int
    trains_waited: int
    unit: str = "wagons"


@dataclass(frozen=True)
class RollingStock:
    """What one replication's wagon pools did: the empty runs, the hours each service's trains
    waited for wagons (up to the horizon; services whose route takes wagons from a pool), each
    pool's lowest stock, and every wait for wagons."""

    empty_runs: tuple[EmptyRun, ...] = ()
    wagon_wait_h: Mapping[str, float] = dataclasses.field(default_factory=dict)
    pools: tuple[PoolLevel, ...] = ()
    waits: tuple[WagonWait, ...] = ()
    #: hours each service's trains waited for locomotives (services hauled from a pool)
    locomotive_wait_h: Mapping[str, float] = dataclasses.field(default_factory=dict)
    #: locomotives that ran back light to their pool (``wagons``: locomotives; ``gauge_mm``: the line's)
    light_runs: tuple[EmptyRun, ...] = ()


class TrainRecord(NamedTuple):
    """One train of one replication. Hours: ``moving_h`` on legs, ``waiting_h`` in queues and for
    vessels or openings, ``processing_h`` in service at nodes. A train still in the system at
    the horizon has ``status`` "in_system", no ``arrive_h`` and no hour totals, and
    ``last_place`` says where it was last seen; an arrived train's ``last_place`` is its
    destination."""

    replication: int
    train: str
    service: str
    depart_h: float
    arrive_h: float | None
    status: str
    wagons: int
    teu: float
    moving_h: float | None
    waiting_h: float | None
    processing_h: float | None
    ferry_parts: int
    last_place: str


def _floats(values: Sequence[float]) -> Floats:
    return np.asarray(values, dtype=np.float64)


def _ints(values: Sequence[int]) -> Ints:
    return np.asarray(values, dtype=np.int32)


@dataclass(eq=False)
class Trains:
    """One row per train: ``train`` ids, ``service`` as an index of ``services``, ``arrived``
    (False: still in the system at the horizon, with NaN arrival and hour totals), and
    ``last_place`` as an index of ``places``."""

    replication: Ints
    train: tuple[str, ...]
    service: Ints
    depart_h: Floats
    arrive_h: Floats
    arrived: npt.NDArray[np.bool_]
    wagons: Ints
    teu: Floats
    moving_h: Floats
    waiting_h: Floats
    processing_h: Floats
    ferry_parts: Ints
    last_place: Ints
    services: tuple[str, ...]
    places: tuple[str, ...]

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]], services: tuple[str, ...], places: tuple[str, ...]) -> Trains:
        """Columns from rows ordered as the fields (``replication`` … ``last_place``, indices for names)."""
        cols: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * 13
        return cls(
            _ints(cols[0]),
            tuple(cols[1]),
            _ints(cols[2]),
            _floats(cols[3]),
            _floats(cols[4]),
            np.asarray(cols[5], dtype=np.bool_),
            _ints(cols[6]),
            _floats(cols[7]),
            _floats(cols[8]),
            _floats(cols[9]),
            _floats(cols[10]),
            _ints(cols[11]),
            _ints(cols[12]),
            services,
            places,
        )

    def __len__(self) -> int:
        return len(self.train)

    def transit_h(self) -> Floats:
        """Arrival minus departure, NaN for a train still in the system."""
        return self.arrive_h - self.depart_h

    def of_service(self, name: str) -> npt.NDArray[np.bool_]:
        """A mask of the trains of service ``name``."""
        if name not in self.services:
            return np.zeros(len(self), dtype=np.bool_)
        mask: npt.NDArray[np.bool_] = self.service == self.services.index(name)
        return mask

    def row(self, j: int) -> TrainRecord:
        """Train ``j`` as a ``TrainRecord`` (a row of trains.csv)."""

        def opt(x: float) -> float | None:
            return None if math.isnan(x) else x

        arrived = bool(self.arrived[j])
        return TrainRecord(
            int(self.replication[j]),
            self.train[j],
            self.services[self.service[j]],
            float(self.depart_h[j]),
            opt(float(self.arrive_h[j])),
            "arrived" if arrived else "in_system",
            int(self.wagons[j]),
            float(self.teu[j]),
            opt(float(self.moving_h[j])),
            opt(float(self.waiting_h[j])),
            opt(float(self.processing_h[j])),
            int(self.ferry_parts[j]),
            self.places[self.last_place[j]],
        )

    def rows(self) -> Iterator[TrainRecord]:
        """The trains as ``TrainRecord`` rows."""
        return map(self.row, range(len(self)))

    def __iter__(self) -> Iterator[TrainRecord]:
        return self.rows()

    def __getitem__(self, j: int) -> TrainRecord:
        return self.row(range(len(self))[j])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Trains) and list(self.rows()) == list(other.rows())

    __hash__ = None  # type: ignore[assignment]


@dataclass(eq=False)
class Visits:
    """One row per train per place visited, in the order of each train's route: ``train`` is a
    row of the replication's ``Trains``, ``place`` an index of ``places``, ``leg_in`` and
    ``leg_out`` indices of ``legs`` (-1: none, at the origin and the destination), ``units`` the
    train's wagons, ``waited_for`` a ``WaitReason``."""

    replication: Ints
    train: Ints
    place: Ints
    leg_in: Ints
    leg_out: Ints
    arrive_h: Floats
    start_h: Floats
    end_h: Floats
    leave_h: Floats
    wait_h: Floats
    units: Ints
    waited_for: npt.NDArray[np.int8]
    places: tuple[str, ...]
    legs: tuple[str, ...]

    FIELDS = (
        "replication",
        "train",
        "place",
        "leg_in",
        "leg_out",
        "arrive_h",
        "start_h",
        "end_h",
        "leave_h",
        "wait_h",
        "units",
        "waited_for",
    )

    @classmethod
    def from_columns(cls, cols: Sequence[Sequence[Any]], places: tuple[str, ...], legs: tuple[str, ...]) -> Visits:
        """Columns in the order of ``FIELDS``, as lists."""
        arrays: dict[str, Any] = {f: _ints(c) for f, c in zip(cls.FIELDS[:5], cols[:5], strict=True)}
        arrays |= {f: _floats(c) for f, c in zip(cls.FIELDS[5:10], cols[5:10], strict=True)}
        arrays |= {"units": _ints(cols[10]), "waited_for": np.asarray(cols[11], dtype=np.int8)}
        return cls(**arrays, places=places, legs=legs)

    def __len__(self) -> int:
        return len(self.train)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Visits) or (self.places, self.legs) != (other.places, other.legs):
            return False
        return all(np.array_equal(getattr(self, f), getattr(other, f), equal_nan=True) for f in self.FIELDS)

    __hash__ = None  # type: ignore[assignment]


def stack(parts: Sequence[tuple[Visits, Trains]]) -> tuple[Visits, Trains]:
    """The records of several replications as one pair of tables (visits point at their train's
    row in the stacked ``Trains``)."""
    if not parts:
        raise ValueError("no replications to stack")
    v0, t0 = parts[0]
    offsets = np.cumsum([0, *(len(t) for _, t in parts[:-1])])
    columns: dict[str, Any] = {f: np.concatenate([getattr(v, f) for v, _ in parts]) for f in Visits.FIELDS}
    columns["train"] = np.concatenate([v.train + off for (v, _), off in zip(parts, offsets, strict=True)])
    visits = Visits(**columns, places=v0.places, legs=v0.legs)
    rows: dict[str, Any] = {
        f.name: np.concatenate([getattr(t, f.name) for _, t in parts])
        for f in dataclasses.fields(Trains)
        if f.name not in ("train", "services", "places")
    }
    trains = Trains(**rows, train=tuple(x for _, t in parts for x in t.train), services=t0.services, places=t0.places)
    return visits, trains
