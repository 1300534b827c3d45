"""What a run has finished, kept on disk as it goes, so that an interrupted run can be finished
(``corridors simulate --resume``) with the same final numbers as an uninterrupted one.

A run writing into ``out/`` keeps, beside it in ``.out.partial/``: ``run.json`` (what the run
is: scenario, inputs' hashes, seed, replications, event format), and for each finished
replication its tally (``tally-NNNNNN.npz``: numbers and names only, read back without
unpickling anything) and its record files (``events-NNNNNN.*``, ``trains-NNNNNN.csv``). The
folder is removed when the run's files are written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from corridors.errors import InputError, Parameter
from corridors.export import json_text
from sim.eventlog import EVENT_FORMATS
from sim.tally import NodeTally, Sample, ServiceTally, Tally, WhereTally

__all__ = ["Partial", "tally_arrays", "tally_from_arrays"]


def tally_arrays(t: Tally) -> dict[str, Any]:
    """A tally as named arrays (``np.savez``): its names and scalars as JSON text, its samples as arrays."""
    services, nodes = list(t.services), list(t.nodes)
    meta = {
        "replication": t.replication,
        "services": [[n, s.trains, s.on_time, s.moving_h, s.waiting_h, s.processing_h] for n, s in t.services.items()],
        "nodes": [[n, x.waits_h.zeros, x.holds_h.zeros, x.busy_h, x.largest_queue] for n, x in t.nodes.items()],
        "where": [[n, w.trains, list(w.moving_h), list(w.stay_h)] for n, w in t.where.items()],
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
    )


class Partial:
    """The finished part of a run writing into ``out``, in ``.<out name>.partial`` beside it."""

    def __init__(self, out: Path, key: dict[str, Any]) -> None:
        self.out = out
        self.folder = out.parent / f".{out.name}.partial"
        self.key = key

    def start(self) -> dict[int, Tally]:
        """A fresh run: anything an earlier one left is removed."""
        self.remove()
        self.folder.mkdir(parents=True)
        (self.folder / "run.json").write_text(json_text(self.key), encoding="utf-8")
        return {}

    def resume(self) -> dict[int, Tally]:
        """The tallies of the replications an interrupted run finished (whose files are all there)."""
        shown = str(self.folder)
        resume = Parameter("resume")
        try:
            key = json.loads((self.folder / "run.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(resume, f": no interrupted run to finish ({shown} does not exist)") from None
        except (OSError, ValueError) as exc:
            raise InputError(resume, f": {shown}/run.json cannot be read ({exc}); run without ", resume) from None
        if key != self.key:
            changed = sorted(k for k in {*key, *self.key} if key.get(k) != self.key.get(k))
            raise InputError(
                resume,
                f": the interrupted run in {shown} differs in {', '.join(changed)}; run the same "
                "command as before, or run without ",
                resume,
                " to start again",
            )
        done: dict[int, Tally] = {}
        for path in sorted(self.folder.glob("tally-*.npz")):
            r = int(path.stem.split("-")[1])
            if not all(p.exists() for p in self.parts(r)):
                continue
            try:
                with np.load(path, allow_pickle=False) as arrays:
                    done[r] = tally_from_arrays(arrays)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise InputError(resume, f": {path} cannot be read ({exc}); run without ", resume) from None
        return done

    def parts(self, r: int) -> tuple[Path, Path]:
        """Replication ``r``'s event log and trains rows."""
        fmt = self.key["events"]
        suffix = EVENT_FORMATS[fmt].removeprefix("events")
        return self.folder / f"events-{r:06d}{suffix}", self.folder / f"trains-{r:06d}.csv"

    def save(self, t: Tally) -> None:
        """Keep a finished replication's tally (after its record files: a tally means all is there)."""
        tmp = self.folder / f"tally-{t.replication:06d}.tmp.npz"
        np.savez(tmp, **tally_arrays(t))
        tmp.replace(self.folder / f"tally-{t.replication:06d}.npz")

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
