"""What a run has finished, kept on disk as it goes, so that an interrupted run can be finished
(``corridors simulate --resume``) with the same final numbers as an uninterrupted one.

A run writing into ``out/`` keeps, beside it in ``.out.partial/``: ``run.json`` (what the run
is: scenario, inputs' hashes, seed, replications, event format), for each finished replication
its tally (``tally-NNNNNN.npz``: numbers and names only, read back without unpickling anything),
and the record files of the replications in order, as segments: the first run writes
``segment-00`` (its event log, ``.trains.csv`` and ``.json``), each resumed run the next one.
A segment's JSON, rewritten after each replication, says how many it holds in full; the files
are written once, while the run goes on, and a run that ends with one whole segment takes its
files as they are (linked, not copied). A Parquet segment is whole only when its writer closed
(on Ctrl-C, SIGTERM or SIGHUP it does): after a run killed outright its replications run again.
The folder is removed when the run's files are written.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from corridors.errors import InputError, Parameter
from corridors.export import json_text, signals_held
from sim.eventlog import EVENT_FORMATS, EventLogWriter, RecordParts, trains_csv_header
from sim.records import PoolLevel
from sim.tally import NodeTally, Sample, ServiceTally, Tally, WagonTally, WhereTally

__all__ = ["Partial", "RunsKept", "Segment", "check_run", "tally_arrays", "tally_from_arrays"]


def tally_arrays(t: Tally) -> dict[str, Any]:
    """A tally as named arrays (``np.savez``): its names and scalars as JSON text, its samples as arrays."""
    services, nodes = list(t.services), list(t.nodes)
    meta = {
        "replication": t.replication,
        "services": [[n, s.trains, s.on_time, s.moving_h, s.waiting_h, s.processing_h] for n, s in t.services.items()],
        "nodes": [[n, x.waits_h.zeros, x.holds_h.zeros, x.busy_h, x.largest_queue] for n, x in t.nodes.items()],
        "where": [[n, w.trains, list(w.moving_h), list(w.stay_h)] for n, w in t.where.items()],
        "wagons": [[n, w.empty_runs, w.empty_wagon_km, w.wait_h, w.locomotive_wait_h] for n, w in t.wagons.items()],
        "pools": [list(p) for p in t.pools],
    }
    arrays: dict[str, Any] = {"meta": np.array(json_text(meta))}
    arrays |= {f"s{i}": t.services[n].transit_d for i, n in enumerate(services)}
    arrays |= {f"w{i}": t.nodes[n].waits_h.nonzero for i, n in enumerate(nodes)}
    arrays |= {f"h{i}": t.nodes[n].holds_h.nonzero for i, n in enumerate(nodes)}
    return arrays


def tally_from_arrays(arrays: Any) -> Tally:
    meta = json.loads(str(arrays["meta"]))

    def floats(key: str) -> Any:
        return np.asarray(arrays[key], dtype=np.float64)

    return Tally(
        replication=int(meta["replication"]),
        services={
            n: ServiceTally(int(trains), floats(f"s{i}"), int(on_time), float(m), float(w), float(p))
            for i, (n, trains, on_time, m, w, p) in enumerate(meta["services"])
        },
        nodes={
            n: NodeTally(Sample(floats(f"w{i}"), int(zw)), Sample(floats(f"h{i}"), int(zh)), float(busy), int(q))
            for i, (n, zw, zh, busy, q) in enumerate(meta["nodes"])
        },
        where={n: WhereTally(int(k), tuple(map(float, m)), tuple(map(float, s))) for n, k, m, s in meta["where"]},
        wagons={
            n: WagonTally(int(r), float(km), float(w), float(*rest)) for n, r, km, w, *rest in meta.get("wagons", [])
        },
        pools=tuple(
            PoolLevel(str(n), int(g), int(a), int(b), int(w), *map(str, rest))
            for n, g, a, b, w, *rest in meta.get("pools", [])
        ),
    )


class Segment:
    """The record files of consecutive replications, from ``first`` on, written by one run."""

    def __init__(self, folder: Path, index: int, first: int, fmt: str) -> None:
        stem = folder / f"segment-{index:02d}"
        self.events_path = stem.with_name(stem.name + EVENT_FORMATS[fmt].removeprefix("events"))
        self.trains_path = stem.with_name(stem.name + ".trains.csv")
        self.meta_path = stem.with_name(stem.name + ".json")
        self.first = first
        self.count = 0
        self._log = EventLogWriter(self.events_path, fmt, header=first == 0)
        try:
            self._trains = open(self.trains_path, "wb")  # noqa: SIM115 (open across writes; close() closes it)
        except BaseException:
            self._log.close()
            raise
        try:
            if first == 0:
                self._trains.write(trains_csv_header())
            self._commit()
        except BaseException:
            self.close()
            raise

    def write(self, parts: RecordParts) -> None:
        """A replication's records (the next one's: they come in order)."""
        if parts.replication != self.first + self.count:
            raise ValueError(f"replication {parts.replication} written after {self.first + self.count - 1}")
        self._log.write(parts)
        self._trains.write(parts.trains_csv)

    def commit(self) -> None:
        """The replication written last is whole (its tally is kept too)."""
        self.count += 1
        self._commit()

    def _commit(self) -> None:
        self._trains.flush()
        meta = {"first": self.first, "replications": self.count, "events_bytes": self._log.flush()}
        meta["trains_bytes"] = self._trains.tell()
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json_text(meta), encoding="utf-8")
        tmp.replace(self.meta_path)

    def close(self) -> None:
        self._log.close()
        self._trains.close()


def _whole(meta_path: Path, fmt: str) -> dict[str, Any] | None:
    """A segment's JSON if its files hold what it says (a Parquet log needs its footer), else None."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        stem = meta_path.with_suffix("")
        events = stem.with_name(stem.name + EVENT_FORMATS[fmt].removeprefix("events"))
        trains = stem.with_name(stem.name + ".trains.csv")
        if trains.stat().st_size < meta["trains_bytes"]:
            return None
        if fmt == "parquet":
            import pyarrow.parquet as pq

            if pq.ParquetFile(events).num_row_groups < meta["replications"]:
                return None
        elif events.stat().st_size < meta["events_bytes"]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    meta["events"], meta["trains"] = events, trains
    return dict(meta)


#: How a part of a run's key is named when a resume finds it changed.
_SHOWN = {
    "inputs_sha256": "input files",
    "corridors": "corridors version",
    "runs": "runs (scenarios, their inputs, seed or replications)",
    "events": "event format",
}


class _Kept:
    """What a command keeps beside its output folder ``out``, in ``.<out name>.partial``:
    ``run.json`` (what the run is, ``key``) and the tallies of the replications it finished."""

    def __init__(self, out: Path, key: dict[str, Any]) -> None:
        self.out = out
        self.folder = out.parent / f".{out.name}.partial"
        self.key = key

    def _start(self) -> None:
        """A fresh run: anything an earlier one left is removed."""
        self.remove()
        self.folder.mkdir(parents=True)
        (self.folder / "run.json").write_text(json_text(self.key), encoding="utf-8")

    def _check(self) -> None:
        """The interrupted run in the folder is this one (else ``InputError`` says what differs)."""
        check_run(self.folder, self.key, _SHOWN)

    def _save(self, name: str, t: Tally) -> None:
        tmp = self.folder / f"{name}.tmp.npz"
        arrays = tally_arrays(t)
        with signals_held():  # Ctrl-C inside numpy's zip writing would end in a ValueError, not an interrupt
            np.savez(tmp, **arrays)
            tmp.replace(self.folder / f"{name}.npz")

    def _load(self, path: Path) -> Tally:
        try:
            with np.load(path, allow_pickle=False) as arrays:
                return tally_from_arrays(arrays)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            resume = Parameter("resume")
            raise InputError(resume, f": {path} cannot be read ({exc}); run without ", resume) from None

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class RunsKept(_Kept):
    """The finished replications of a command that runs several scenarios or variants (compare,
    sweep): run ``i``'s tally of replication ``r`` in ``tally-III-RRRRRR.npz``."""

    def start(self) -> list[dict[int, Tally]]:
        self._start()
        return []

    def resume(self) -> list[dict[int, Tally]]:
        """Per run, the tallies of the replications an interrupted command finished."""
        self._check()
        done: list[dict[int, Tally]] = []
        for path in sorted(self.folder.glob("tally-[0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9].npz")):
            run, r = (int(part) for part in path.stem.split("-")[1:])
            while len(done) <= run:
                done.append({})
            done[run][r] = self._load(path)
        return done

    def save(self, run: int, t: Tally) -> None:
        self._save(f"tally-{run:03d}-{t.replication:06d}", t)

    def kept(self) -> int:
        """How many replications (of every run) an interrupted command keeps."""
        return len(list(self.folder.glob("tally-*-*.npz"))) - len(list(self.folder.glob("tally-*.tmp.npz")))


class Partial(_Kept):
    """The finished part of a simulate run writing into ``out``, in ``.<out name>.partial`` beside it."""

    def __init__(self, out: Path, key: dict[str, Any]) -> None:
        super().__init__(out, key)
        self.fmt = str(key["events"])
        self._segment: Segment | None = None

    def start(self) -> dict[int, Tally]:
        """A fresh run: anything an earlier one left is removed."""
        self._start()
        return {}

    def _segments(self) -> list[dict[str, Any]]:
        """The whole segments that follow each other from replication 0 (the rest are removed)."""
        kept: list[dict[str, Any]] = []
        for meta_path in sorted(self.folder.glob("segment-[0-9][0-9].json")):
            meta = _whole(meta_path, self.fmt)
            if meta is None or meta["first"] != sum(m["replications"] for m in kept):
                for path in self.folder.glob(meta_path.stem + ".*"):
                    path.unlink()
                continue
            kept.append(meta)
        return kept

    def kept(self) -> int:
        """How many replications an interrupted run keeps (from the first on)."""
        return sum(m["replications"] for m in self._segments()) if self.folder.is_dir() else 0

    def resume(self) -> dict[int, Tally]:
        """The tallies of the replications an interrupted run finished (whose records are all there)."""
        self._check()
        return {r: self._load(self.folder / f"tally-{r:06d}.npz") for r in range(self.kept())}

    def open_segment(self) -> Segment:
        """A new segment for the replications from the last one kept on."""
        segments = self._segments()
        first = sum(m["replications"] for m in segments)
        self._segment = Segment(self.folder, len(segments), first, self.fmt)
        return self._segment

    def save(self, t: Tally) -> None:
        """Keep a finished replication's tally, after its records: then the segment counts it."""
        self._save(f"tally-{t.replication:06d}", t)
        if self._segment is not None and t.replication == self._segment.first + self._segment.count:
            self._segment.commit()

    def join(self, replications: int, events: Path, trains: Path) -> None:
        """The run's event log and trains.csv from the segments (closed first): one whole
        segment is taken as it is (a hard link where the file system allows, else a copy)."""
        if self._segment is not None:
            self._segment.close()
        segments = self._segments()
        if sum(m["replications"] for m in segments) != replications:
            raise RuntimeError(f"the segments in {self.folder} do not hold {replications} replications")
        if len(segments) == 1 and _exact(segments[0], self.fmt):  # nothing written past the last replication
            _link(segments[0]["events"], events)
            _link(segments[0]["trains"], trains)
            return
        with open(trains, "wb") as out:
            for m in segments:
                with open(m["trains"], "rb") as part:
                    out.write(part.read(m["trains_bytes"]))
        if self.fmt == "csv":
            with open(events, "wb") as out:
                for m in segments:
                    with open(m["events"], "rb") as part:
                        out.write(part.read(m["events_bytes"]))
            return
        import pyarrow.parquet as pq

        writer = EventLogWriter(events, "parquet")
        with writer:
            for m in segments:
                log = pq.ParquetFile(m["events"])
                for i in range(m["replications"]):
                    table = log.read_row_group(i)
                    writer.write(RecordParts(m["first"] + i, "parquet", table, b""))

    def close(self) -> None:
        """Close the open segment's files (they stay, for a resumed run)."""
        if self._segment is not None:
            self._segment.close()


def _exact(segment: dict[str, Any], fmt: str) -> bool:
    """Whether a segment's files hold its replications and nothing more."""
    if segment["trains"].stat().st_size != segment["trains_bytes"]:
        return False
    if fmt == "csv":
        return bool(segment["events"].stat().st_size == segment["events_bytes"])
    import pyarrow.parquet as pq

    return bool(pq.ParquetFile(segment["events"]).num_row_groups == segment["replications"])


def _link(source: Path, target: Path) -> None:
    """``target`` as a second name of ``source`` (a copy where the file system cannot link)."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def check_run(folder: Path, key: Mapping[str, Any], shown: Mapping[str, str] | None = None) -> None:
    """The interrupted run kept in ``folder`` (its ``run.json``) is the one ``key`` describes, else an
    ``InputError`` naming ``--resume`` and the keys that differ (by their ``shown`` names)."""
    resume = Parameter("resume")
    try:
        kept = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(resume, f": no interrupted run to finish ({folder} does not exist)") from None
    except (OSError, ValueError) as exc:
        raise InputError(resume, f": {folder}/run.json cannot be read ({exc}); run without ", resume) from None
    if kept != key:
        names = shown or {}
        changed = sorted(names.get(k, k) for k in {*kept, *key} if kept.get(k) != key.get(k))
        raise InputError(
            resume,
            f": the interrupted run in {folder} differs in {', '.join(changed)}; run the same "
            "command as before, or run without ",
            resume,
            " to start again",
        )
