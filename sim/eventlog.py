"""The record files of a run: the event log, from the visit records, as columns: built with
array operations (no row objects), written as Parquet (for pandas, polars, DuckDB, Arrow) or as
gzipped CSV; and the trains table (trains.csv).

Each visit gives its events: ``depart`` at the origin, ``arrive``, ``start`` and ``end``
(service), ``leave`` (onto the next leg), ``complete`` at the destination of an arrived train.
Within a replication they are ordered by time, then by train id, then in the train's own order.
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from corridors.export import spreadsheet_text
from sim.records import Event, TrainRecord, Trains, Visits

__all__ = [
    "EVENTS",
    "EVENT_FORMATS",
    "EventColumns",
    "EventLogWriter",
    "event_columns",
    "event_rows",
    "join_parts",
    "trains_csv",
    "trains_csv_header",
]

#: The kinds of event, in the order a visit has them (the codes of ``EventColumns.event``).
EVENTS = ("depart", "arrive", "start", "end", "leave", "complete")
#: The formats ``write_events`` writes, by file name.
EVENT_FORMATS = {"parquet": "events.parquet", "csv": "events.csv.gz"}

_ORDER = {"depart": 0, "arrive": 0, "start": 1, "end": 2, "leave": 3, "complete": 3}


@dataclass(frozen=True)
class EventColumns:
    """The event log as arrays: ``train``, ``service``, ``place`` and ``leg`` index the names
    beside them (``leg`` -1: none), ``event`` indexes ``EVENTS``."""

    replication: npt.NDArray[np.int32]
    train: npt.NDArray[np.int32]
    service: npt.NDArray[np.int32]
    place: npt.NDArray[np.int32]
    leg: npt.NDArray[np.int32]
    event: npt.NDArray[np.int8]
    time_h: npt.NDArray[np.float64]
    trains: tuple[str, ...]
    services: tuple[str, ...]
    places: tuple[str, ...]
    legs: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.time_h)


def event_columns(visits: Visits, trains: Trains) -> EventColumns:
    """The event log of stacked replications (``sim.records.stack``), ordered."""
    v = visits
    inner = v.leg_in >= 0
    complete = inner & (v.leg_out < 0) & trains.arrived[v.train]
    kinds = {
        "depart": (~inner, v.arrive_h, v.leg_out),
        "arrive": (inner & ~np.isnan(v.arrive_h), v.arrive_h, v.leg_in),
        "start": (inner & ~np.isnan(v.start_h), v.start_h, None),
        "end": (inner & ~np.isnan(v.end_h), v.end_h, None),
        "leave": (inner & (v.leg_out >= 0) & ~np.isnan(v.leave_h), v.leave_h, v.leg_out),
        "complete": (complete, v.arrive_h, None),
    }
    rows, codes, times, legs, seq = [], [], [], [], []
    for code, (kind, (mask, when, leg)) in enumerate(kinds.items()):
        at = np.flatnonzero(mask)
        rows.append(at)
        codes.append(np.full(len(at), code, np.int8))
        times.append(when[at])
        legs.append(leg[at] if leg is not None else np.full(len(at), -1, np.int32))
        seq.append(at.astype(np.int64) * 4 + _ORDER[kind])
    row = np.concatenate(rows)
    time_h = np.concatenate(times)
    train = v.train[row]
    rank = np.empty(len(trains), np.int64)  # a train's place in the order of train ids
    rank[np.argsort(np.asarray(trains.train, dtype=object), kind="stable")] = np.arange(len(trains))
    order = np.lexsort((np.concatenate(seq), rank[train], time_h, v.replication[row]))
    return EventColumns(
        replication=v.replication[row][order],
        train=train[order],
        service=trains.service[train][order],
        place=v.place[row][order],
        leg=np.concatenate(legs)[order].astype(np.int32),
        event=np.concatenate(codes)[order],
        time_h=time_h[order],
        trains=trains.train,
        services=trains.services,
        places=v.places,
        legs=v.legs,
    )


def event_rows(events: EventColumns) -> list[Event]:
    """The log as ``Event`` rows."""
    legs = (*events.legs, "")  # -1: no leg
    trains, services, places = events.trains, events.services, events.places
    new = tuple.__new__  # an Event built as a tuple skips the NamedTuple's Python-level __new__
    return [
        new(Event, (rep, trains[j], services[s], places[p], legs[leg], EVENTS[kind], t))
        for rep, j, s, p, leg, kind, t in zip(
            events.replication.tolist(),
            events.train.tolist(),
            events.service.tolist(),
            events.place.tolist(),
            events.leg.tolist(),
            events.event.tolist(),
            events.time_h.tolist(),
            strict=True,
        )
    ]


def _minutes(start: dt.datetime, time_h: npt.NDArray[np.float64]) -> npt.NDArray[np.str_]:
    """Hours since ``start`` as the calendar minute they fall in ("2025-01-01T02:03")."""
    minutes = np.floor(np.round(time_h * 60.0, 6)).astype(np.int64)  # 2.05 h is 02:03, whatever the float error
    base = np.datetime64(start.replace(tzinfo=None), "m")
    return np.datetime_as_string(base + minutes.astype("timedelta64[m]"), unit="m")


def _table(events: EventColumns, start: dt.datetime, *, text: bool) -> Any:
    """The log as an Arrow table. ``text`` (for CSV): names as plain strings, those a spreadsheet
    would run as formulas with a leading ' (``spreadsheet_text``), hours to 4 decimals and the
    calendar minute as text; else names as dictionaries, full hours and a timestamp."""
    import pyarrow as pa

    def names(index: npt.NDArray[Any], vocabulary: Sequence[str]) -> Any:
        words = pa.array([spreadsheet_text(w) if text else w for w in (*vocabulary, "")], pa.string())
        codes = pa.array(np.where(index < 0, len(vocabulary), index).astype(np.int32))
        column = pa.DictionaryArray.from_arrays(codes, words)
        return column.dictionary_decode() if text else column

    columns = {
        "replication": pa.array(events.replication),
        "train": names(events.train, events.trains),
        "service": names(events.service, events.services),
        "place": names(events.place, events.places),
        "leg": names(events.leg, events.legs),
        "event": names(events.event, EVENTS),
        "time_h": pa.array(np.round(events.time_h, 4) if text else events.time_h),
    }
    if text:
        columns["time"] = pa.array(_minutes(start, events.time_h))
    else:
        base = np.datetime64(start.replace(tzinfo=None), "ms")
        columns["time"] = pa.array(base + np.round(events.time_h * 3_600_000).astype("timedelta64[ms]"))
    return pa.table(columns)


#: Parquet options: zstd, with dictionaries for the names only (a dictionary of the hours is
#: slow to build and does not pay: measured on a baseline replication, 0.17 s and 1.7 MB with
#: every column's, 0.055 s and 1.1 MB with the names').
_PARQUET: dict[str, Any] = {"compression": "zstd", "use_dictionary": ["train", "service", "place", "leg", "event"]}

_NEEDS_QUOTES = re.compile(r'[,"\r\n]|^\s|\s$')  # a CSV cell that must be quoted


class EventLogWriter:
    """Writes the log of one replication after another into ``folder`` as ``events.parquet``
    (a row group each) or ``events.csv.gz``; only one replication's log is in memory at a time."""

    def __init__(
        self, folder: Path, start: dt.datetime, fmt: str = "parquet", *, path: Path | None = None, header: bool = True
    ) -> None:
        if fmt not in EVENT_FORMATS:
            raise ValueError(f"events format {fmt!r}: one of {', '.join(EVENT_FORMATS)}")
        self.path = path or folder / EVENT_FORMATS[fmt]
        self.header = header
        self.start = start
        self.fmt = fmt
        self._parquet: Any = None
        self._csv: Any = None

    def add(self, visits: Visits, trains: Trains) -> None:
        events = event_columns(visits, trains)
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            table = _table(events, self.start, text=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema, **_PARQUET)
            self._parquet.write_table(table)
            return

        names = (*events.trains, *events.services, *events.places, *events.legs)
        quote = any(_NEEDS_QUOTES.search(spreadsheet_text(n)) for n in names)
        text = _csv_bytes(_table(events, self.start, text=True), header=self.header and self._csv is None, quote=quote)
        if self._csv is None:
            self._csv = gzip.open(self.path, "wb", compresslevel=5)  # noqa: SIM115 (open across add calls; close() closes it)
        self._csv.write(text)

    def close(self) -> None:
        for handle in (self._parquet, self._csv):
            if handle is not None:
                handle.close()

    def __enter__(self) -> EventLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def trains_csv_header() -> bytes:
    """The header line of trains.csv."""
    return (",".join([*TrainRecord._fields, "transit_d"]) + "\n").encode()


def trains_csv(trains: Trains, *, header: bool) -> bytes:
    """trains.csv rows for a replication's trains (``TrainRecord``'s columns and ``transit_d``):
    hours and days to 4 decimals, empty where a train still in the system has none, names a
    spreadsheet would run as formulas with a leading '."""
    import pyarrow as pa

    def hours(values: npt.NDArray[np.float64]) -> Any:
        return pa.array(np.round(values, 4), mask=np.isnan(values))

    def names(index: npt.NDArray[Any], vocabulary: Sequence[str]) -> Any:
        return pa.array([spreadsheet_text(vocabulary[i]) for i in range(len(vocabulary))], pa.string()).take(
            pa.array(index.astype(np.int32))
        )

    table = pa.table(
        {
            "replication": pa.array(trains.replication),
            "train": pa.array([spreadsheet_text(t) for t in trains.train], pa.string()),
            "service": names(trains.service, trains.services),
            "depart_h": hours(trains.depart_h),
            "arrive_h": hours(trains.arrive_h),
            "status": pa.array(np.where(trains.arrived, "arrived", "in_system")),
            "wagons": pa.array(trains.wagons),
            "teu": hours(trains.teu),
            "moving_h": hours(trains.moving_h),
            "waiting_h": hours(trains.waiting_h),
            "processing_h": hours(trains.processing_h),
            "ferry_parts": pa.array(trains.ferry_parts),
            "last_place": names(trains.last_place, trains.places),
            "transit_d": hours(trains.transit_h() / 24),
        }
    )
    quote = any(_NEEDS_QUOTES.search(spreadsheet_text(n)) for n in (*trains.train, *trains.services, *trains.places))
    return _csv_bytes(table, header=header, quote=quote)


def _csv_bytes(table: Any, *, header: bool, quote: bool) -> bytes:
    """A table as CSV (quoted only when ``quote``: some name needs it), with its plain header line."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed" if quote else "none"))
    head = (",".join(table.column_names) + "\n").encode() if header else b""
    return head + bytes(sink.getvalue().to_pybytes())


EVENT_COLUMNS = ("replication", "train", "service", "place", "leg", "event", "time_h", "time")


def join_parts(parts: Sequence[Path], path: Path, fmt: str) -> None:
    """One event log at ``path`` from per-replication logs (``EventLogWriter`` files, CSV ones
    written without a header), in order: Parquet row groups copied, gzip members concatenated."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        writer = None
        for part in parts:
            table = pq.read_table(part)
            writer = writer or pq.ParquetWriter(path, table.schema, **_PARQUET)
            writer.write_table(table)
        if writer is not None:
            writer.close()
        return
    with open(path, "wb") as out:
        out.write(gzip.compress((",".join(EVENT_COLUMNS) + "\n").encode()))
        for part in parts:
            out.write(part.read_bytes())  # a gzip file may hold several members: readers join them
