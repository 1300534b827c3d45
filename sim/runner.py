"""Run replications (in parallel if asked) and write a run's files: event log, trains, summary, manifest."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import gzip
import hashlib
import json
import math
import multiprocessing
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from corridors import InputError, bundled_data_dir
from corridors.loader import display_path
from sim.engine import Replication, run_replication
from sim.kpis import summarize
from sim.records import Event, TrainRecord
from sim.scenario import Scenario

__all__ = ["RunResult", "simulate", "write_run"]

_SCENARIO: Scenario | None = None  # set in the parent before forking workers


@dataclass
class RunResult:
    """Replications of one scenario and the summary computed from their records."""

    scenario: Scenario
    seed: int
    replications: list[Replication]
    summary: dict[str, Any]


def _one(args: tuple[int, int]) -> tuple[Replication, list[tuple[Any, ...]]]:
    """One replication in a worker, its events sent back as columns (a third of the pickling)."""
    seed, replication = args
    assert _SCENARIO is not None
    rep = run_replication(_SCENARIO, seed=seed, replication=replication)
    columns = list(zip(*rep.events, strict=True))
    rep.events = []
    return rep, columns


def _whole(sent: tuple[Replication, list[tuple[Any, ...]]]) -> Replication:
    rep, columns = sent
    rep.events = list(map(Event._make, zip(*columns, strict=True)))
    return rep


def simulate(
    scenario: Scenario,
    *,
    replications: int = 10,
    seed: int = 1,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Run ``replications`` replications; the same seed gives the same result whatever ``workers`` is.

    ``progress``, if given, is told after each replication and before the summary.
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InputError(f"replications ({replications!r}) must be a whole number of at least 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed ({seed!r}) must be a whole number of at least 0")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers ({workers!r}) must be a whole number of at least 1")
    jobs = [(seed, r) for r in range(replications)]
    workers = max(1, min(workers, replications))
    tell = progress or (lambda _message: None)
    reps: list[Replication] = []
    if workers == 1 or "fork" not in multiprocessing.get_all_start_methods():
        for s, r in jobs:
            reps.append(run_replication(scenario, seed=s, replication=r))
            tell(f"{scenario.name}: replication {len(reps)}/{replications}")
    else:
        global _SCENARIO
        _SCENARIO = scenario
        frozen_here = gc.get_freeze_count() == 0  # a caller's own freeze is theirs to undo
        if frozen_here:
            gc.freeze()  # the workers' collector leaves the parent's objects alone (no copy-on-write)
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                for sent in pool.map(_one, jobs):
                    reps.append(_whole(sent))
                    tell(f"{scenario.name}: replication {len(reps)}/{replications}")
        finally:
            _SCENARIO = None
            if frozen_here:
                gc.unfreeze()
    tell(f"{scenario.name}: summarising")
    return RunResult(scenario, seed, reps, summarize(scenario, reps, seed=seed))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _input_name(path: Path) -> str:
    """An input as the manifest names it: "bundled:" and its place in the bundled data, or its path
    as given (relative to the working folder when inside it), so a shared run does not carry a home folder."""
    try:
        return "bundled:" + path.resolve().relative_to(bundled_data_dir().resolve()).as_posix()
    except ValueError:
        return display_path(path)


def _manifest(result: RunResult, argv: list[str] | None) -> dict[str, Any]:
    scenario = result.scenario
    inputs: dict[str, str] = {}
    if scenario.path is not None:
        inputs[_input_name(scenario.path)] = _sha256(scenario.path)
    root = scenario.network.root
    if root is not None:
        for path in sorted(root.iterdir()):
            if path.is_file():
                inputs[_input_name(path)] = _sha256(path)
    versions = {"python": platform.python_version()}
    for package in ("corridors", "simpy", "numpy", "geopy", "folium"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "schema_version": 1,
        "scenario": scenario.name,
        "seed": result.seed,
        "replications": len(result.replications),
        "streams": "numpy SeedSequence(entropy=seed, spawn_key=(replication, blake2b(component names)))",
        "inputs_sha256": inputs,
        "versions": versions,
        "command": argv,  # None when run from the Python API
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


_NEEDS_QUOTES = re.compile(r'[,"\r\n]|^\s|\s$')  # what csv.writer would quote


def _minute_clock(start: dt.datetime) -> Callable[[float], str]:
    """Hours since ``start`` as the calendar minute they fall in ("2025-01-01T02:03"), each minute
    formatted once (a run's log has a million events and far fewer distinct minutes)."""
    clock: dict[int, str] = {}

    def when(hours: float) -> str:
        minute = math.floor(round(hours * 60.0, 6))  # 2.05 h is 02:03, whatever the float error
        text = clock.get(minute)
        if text is None:
            text = clock[minute] = (start + dt.timedelta(minutes=minute)).isoformat(timespec="minutes")
        return text

    return when


def write_run(
    result: RunResult,
    out_dir: str | os.PathLike[str],
    *,
    argv: list[str] | None = None,
    extra: dict[str, str] | None = None,
) -> list[Path]:
    """Write the run's files into ``out_dir``, all or nothing (through a temporary folder).

    ``extra`` maps further file names to their text (the CLI adds ``map.html``).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create {parent}: {exc.strerror or exc}") from None
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    start = result.scenario.start
    try:
        with gzip.open(tmp / "events.csv.gz", "wt", newline="", encoding="utf-8", compresslevel=5) as f:
            w = csv.writer(f)
            w.writerow([*Event._fields, "time"])
            when = _minute_clock(start)
            for rep in result.replications:
                events = sorted(rep.events, key=lambda e: (e.time_h, e.train))
                names = {e.train for e in events} | {e.place for e in events}
                if any(_NEEDS_QUOTES.search(name) for name in names):
                    w.writerows(
                        (e.replication, e.train, e.place, e.event, round(e.time_h, 4), when(e.time_h)) for e in events
                    )
                else:  # the same bytes as csv.writer, twice as fast: nothing here needs quoting
                    f.write(
                        "".join(
                            [
                                f"{e.replication},{e.train},{e.place},{e.event},{round(e.time_h, 4)!r},"
                                f"{when(e.time_h)}\r\n"
                                for e in events
                            ]
                        )
                    )
        with open(tmp / "trains.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow([*TrainRecord._fields, "transit_d"])
            for rep in result.replications:
                for t in rep.trains:
                    transit = round((t.arrive_h - t.depart_h) / 24, 4) if t.arrive_h is not None else ""
                    w.writerow(
                        [*(round(v, 4) if isinstance(v, float) else ("" if v is None else v) for v in t), transit]
                    )
        (tmp / "summary.json").write_text(json.dumps(result.summary, indent=1) + "\n", encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(_manifest(result, argv), indent=1) + "\n", encoding="utf-8")
        for name, text in (extra or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
        out.mkdir(exist_ok=True)
        written = []
        for path in sorted(tmp.iterdir()):
            target = out / path.name
            os.replace(path, target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
