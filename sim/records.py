"""Plain records the engine writes: a flat event log and a per-train table (no engine objects)."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Event", "TrainRecord"]


class Event(NamedTuple):
    """One row of the event log. ``event`` is one of: depart (from the origin), arrive, start
    (service begins), end (service ends), leave (onto the next leg), complete (at the
    destination). Times are hours since the scenario start."""

    replication: int
    train: str
    place: str
    event: str
    time_h: float


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
