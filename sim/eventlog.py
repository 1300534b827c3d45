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
    "RecordParts",
    "event_columns",
    "event_rows",
    "events_csv_header",
    "record_parts",
    "trains_csv",
    "trains_csv_header",
]

#: The kinds of event, in the order a visit has them (the codes of ``EventColumns.event``).
EVENTS = ("depart", "arrive", "start", "end", "leave", "complete")
#: The columns of the event log, in order.
EVENT_COLUMNS = ("replication", "train", "service", "place", "leg", "event", "time_h", "time")
#: The formats of the event log, by file name.
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
#: every column's, 0.055 s and 1.1 MB with the names'), and statistics (min/max, which readers
#: use to skip row groups) for the numbers only: the names' cost 40% of the writing time.
_PARQUET: dict[str, Any] = {
    "compression": "zstd",
    "use_dictionary": ["train", "service", "place", "leg", "event"],
    "write_statistics": ["replication", "time_h", "time"],
}


@dataclass(frozen=True)
class RecordParts:
    """One replication's share of a run's record files, made where the replication ran (in a
    worker): its event log (an Arrow table for Parquet; for CSV, a gzip member of rows without a
    header) and its rows of trains.csv (without the header)."""

    replication: int
    fmt: str
    events: Any
    trains_csv: bytes


def record_parts(replication: int, visits: Visits, trains: Trains, start: dt.datetime, fmt: str) -> RecordParts:
    """A replication's ``RecordParts`` in format ``fmt`` (``EVENT_FORMATS``)."""
    if fmt not in EVENT_FORMATS:
        raise ValueError(f"events format {fmt!r}: one of {', '.join(EVENT_FORMATS)}")
    events = event_columns(visits, trains)
    if fmt == "parquet":
        log: Any = _table(events, start, text=False)
    else:
        quote = _needs_quotes(events.trains, events.services, events.places, events.legs)
        log = gzip.compress(
            _csv_bytes(_table(events, start, text=True), header=False, quote=quote), compresslevel=5, mtime=0
        )
    return RecordParts(replication, fmt, log, trains_csv(trains, header=False))


def events_csv_header() -> bytes:
    """The header line of events.csv.gz, as a gzip member of its own (a gzip file may hold
    several members: readers join them)."""
    return gzip.compress((",".join(EVENT_COLUMNS) + "\n").encode(), compresslevel=5, mtime=0)


class EventLogWriter:
    """Writes the log of one replication after another (``RecordParts``) to ``path`` as
    Parquet (a row group each, empty ones too) or gzipped CSV (a gzip member each, after a
    header member if ``header``); only one replication's log is in memory at a time."""

    def __init__(self, path: Path, fmt: str = "parquet", *, header: bool = True) -> None:
        if fmt not in EVENT_FORMATS:
            raise ValueError(f"events format {fmt!r}: one of {', '.join(EVENT_FORMATS)}")
        self.path = path
        self.fmt = fmt
        self._parquet: Any = None
        self._csv: Any = None
        if fmt == "csv":
            self._csv = open(path, "wb")  # noqa: SIM115 (open across writes; close() closes it)
            if header:
                self._csv.write(events_csv_header())

    def write(self, parts: RecordParts) -> None:
        if parts.fmt != self.fmt:
            raise ValueError(f"a replication's log in {parts.fmt}, written to a {self.fmt} log")
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            table = parts.events
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema, **_PARQUET)
            self._parquet.write_table(table, row_group_size=max(1, table.num_rows))
            return
        self._csv.write(parts.events)

    def flush(self) -> int:
        """Push what is written to the file; the CSV log's length in bytes (0 for Parquet, whose
        file is whole only when closed)."""
        if self._csv is None:
            return 0
        self._csv.flush()
        return int(self._csv.tell())

    def close(self) -> None:
        """Close the file (a Parquet log gets its footer); again is a no-op."""
        for handle in (self._parquet, self._csv):
            if handle is not None:
                handle.close()
        self._parquet = self._csv = None

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
    quote = _needs_quotes(trains.train, trains.services, trains.places)
    return _csv_bytes(table, header=header, quote=quote)


def _needs_quotes(*vocabularies: Sequence[str]) -> bool:
    """Whether a CSV cell of any of these names must be quoted: a separator, a quote or a line
    break in it, or white space at either end (which readers would trim)."""
    names = [spreadsheet_text(n) for vocabulary in vocabularies for n in vocabulary]
    text = "\0".join(names)
    return any(c in text for c in ',"\r\n') or any(n[:1].isspace() or n[-1:].isspace() for n in names)


def _csv_bytes(table: Any, *, header: bool, quote: bool) -> bytes:
    """A table as CSV (quoted only when ``quote``: some name needs it), with its plain header line."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed" if quote else "none"))
    head = (",".join(table.column_names) + "\n").encode() if header else b""
    return head + bytes(sink.getvalue().to_pybytes())
