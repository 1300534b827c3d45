"""Run replications (in parallel if asked) and write a run's files: event log, trains, summary, manifest."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from corridors import InputError, bundled_data_dir
from corridors.errors import Parameter
from corridors.export import check_output_dir, json_text, staged_folder
from corridors.loader import display_path
from sim.checkpoint import Partial
from sim.engine import Replication, run_replication
from sim.eventlog import EVENT_FORMATS, EventLogWriter, RecordParts, record_parts, trains_csv_header
from sim.executor import Executor, executor_for
from sim.kpis import summarize
from sim.limits import check_run_size
from sim.scenario import Scenario
from sim.summary import RunSummary
from sim.tally import Tally, tally

__all__ = ["KEEP", "RUN_FILES", "RunResult", "RunWriter", "Step", "run_files", "run_key", "simulate", "write_run"]

#: The files ``write_run`` writes (besides its ``extra`` ones), with the event log as Parquet.
RUN_FILES = ("events.parquet", "trains.csv", "summary.json", "manifest.json")


def run_files(events: str = "parquet") -> tuple[str, ...]:
    """The files ``write_run`` writes with the event log as ``events`` (parquet or csv)."""
    if events not in EVENT_FORMATS:
        raise InputError(Parameter("events"), f" ({events!r}) must be one of: {', '.join(EVENT_FORMATS)}")
    return (EVENT_FORMATS[events], *RUN_FILES[1:])


@dataclass
class RunResult:
    """A scenario's run: the records of the replications kept (all of them by default), one
    tally per replication (``sim.tally``), and the summary computed from the tallies."""

    scenario: Scenario
    seed: int
    replications: list[Replication]
    tallies: list[Tally]
    summary: RunSummary


class Step(str):
    """A progress message ("baseline: replication 3/10") that also says how far the run is:
    ``label`` (the run), ``done`` of ``total`` replications."""

    label: str
    done: int
    total: int

    def __new__(cls, label: str, done: int, total: int) -> Step:
        self = super().__new__(cls, f"{label}: replication {done}/{total}")
        self.label, self.done, self.total = label, done, total
        return self


#: Which replications' records ``simulate`` keeps: every one, the first (for a map's animation), none.
KEEP = ("all", "first", "none")


def _replicate(
    scenario: Scenario, job: tuple[int, int, bool, str | None]
) -> tuple[Tally, Replication | None, RecordParts | None]:
    """One replication, wherever it runs: its tally, its records if asked (columns: they pickle
    as arrays), and its share of the record files in format ``parts`` if asked (made here, so that
    the workers, not the parent, build them)."""
    seed, replication, records, parts = job
    rep = run_replication(scenario, seed=seed, replication=replication)
    made = None if parts is None else record_parts(replication, rep.visits, rep.trains, scenario.start, parts)
    return tally(scenario, rep.visits, rep.trains, rep.rolling_stock), rep if records else None, made


def simulate(
    scenario: Scenario,
    *,
    replications: int = 10,
    seed: int = 1,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
    allow_large: bool = False,
    executor: Executor | None = None,
    keep: str = "all",
    on_records: Callable[[RecordParts], None] | None = None,
    events: str = "parquet",
    done: Mapping[int, Tally] | None = None,
    on_tally: Callable[[Tally], None] | None = None,
) -> RunResult:
    """Run ``replications`` replications; the same seed gives the same result wherever they run.

    They run on ``executor`` (``sim.executor``: in this process, local processes, a Dask
    cluster), by default on ``workers`` local processes. Each replication's share of the record
    files (``sim.eventlog.RecordParts``, with the event log as ``events``), made where it ran, is
    handed to ``on_records`` (in replication order) if given, then its tally to ``on_tally``; the
    records themselves are kept in the result as ``keep`` says (``KEEP``): the summary needs only
    the tallies, so ``keep="first"`` runs in memory that does not grow with the records.
    Replications in ``done`` (their tallies, from an interrupted run) are not run again, but for
    records ``keep`` asks for. ``progress``, if given, is told after each replication (a
    ``Step``) and before the summary. The run passes the run-size guard first
    (``sim.limits.check_run_size``; ``allow_large`` lifts its limit).
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InputError(f"replications ({replications!r}) must be a whole number of at least 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed ({seed!r}) must be a whole number of at least 0")
    if keep not in KEEP:
        raise InputError(Parameter("keep"), f" ({keep!r}) must be one of: {', '.join(KEEP)}")
    run_files(events)
    in_flight = executor.workers if executor is not None else workers
    check_run_size([scenario], replications, allow_large=allow_large, keep=keep, in_flight=in_flight)

    def kept(r: int) -> bool:
        return keep == "all" or (keep == "first" and r == 0)

    finished = dict(done or {})
    parts = events if on_records is not None else None
    jobs = [(seed, r, kept(r), None if r in finished else parts) for r in range(replications)]
    jobs = [job for job in jobs if job[1] not in finished or job[2]]
    tell = progress or (lambda _message: None)
    runner = executor or executor_for(workers)
    reps: list[Replication] = []
    tell(Step(scenario.name, len(finished), replications))
    try:
        for (_, r, _, _), (one, rep, made) in zip(jobs, runner.map(_replicate, scenario, jobs), strict=False):
            if r not in finished:
                finished[r] = one
                if made is not None and on_records is not None:
                    on_records(made)
                if on_tally is not None:
                    on_tally(one)
            if rep is not None:
                reps.append(rep)
            tell(Step(scenario.name, len(finished), replications))
    finally:
        if executor is None:
            runner.close()
    tallies = [finished[r] for r in range(replications)]
    tell(f"{scenario.name}: summarising")
    return RunResult(scenario, seed, reps, tallies, summarize(scenario, tallies, seed=seed))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _input_name(path: Path) -> str:
    """An input as the manifest names it: "bundled:" and its place in the bundled data, or its path
    as given (relative to the working folder when inside it), so a shared run does not carry a home folder."""
    try:
        return "bundled:" + path.resolve().relative_to(bundled_data_dir().resolve()).as_posix()
    except ValueError:
        return display_path(path)


def _inputs(scenario: Scenario) -> dict[str, str]:
    """The SHA-256 of the scenario's file and of every file of its network folder, by name."""
    inputs: dict[str, str] = {}
    if scenario.path is not None:
        inputs[_input_name(scenario.path)] = _sha256(scenario.path)
    root = scenario.network.root
    if root is not None:
        for path in sorted(root.iterdir()):
            if path.is_file():
                inputs[_input_name(path)] = _sha256(path)
    return inputs


def run_key(scenario: Scenario, *, seed: int, replications: int, events: str) -> dict[str, Any]:
    """What makes a run the same run (for ``--resume``): its inputs, seed, replications, event
    format and the package's version."""
    try:
        version = metadata.version("corridors")
    except metadata.PackageNotFoundError:
        version = "not installed"
    return {
        "scenario": scenario.name,
        "inputs_sha256": _inputs(scenario),
        "seed": seed,
        "replications": replications,
        "events": events,
        "corridors": version,
    }


def _manifest(result: RunResult, argv: list[str] | None) -> dict[str, Any]:
    scenario = result.scenario
    inputs = _inputs(scenario)
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
        "replications": len(result.tallies),
        "streams": "numpy SeedSequence(entropy=seed, spawn_key=(replication, blake2b(component names)))",
        "inputs_sha256": inputs,
        "versions": versions,
        "command": argv,  # None when run from the Python API
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


class _RecordFiles:
    """A run's event log and trains.csv, written in a folder one replication after another."""

    def __init__(self, folder: Path, events: str) -> None:
        self._log = EventLogWriter(folder / EVENT_FORMATS[events], events)
        self._trains = open(folder / "trains.csv", "wb")  # noqa: SIM115 (closed by __exit__)
        self._trains.write(trains_csv_header())

    def write(self, parts: RecordParts) -> None:
        self._log.write(parts)
        self._trains.write(parts.trains_csv)

    def __enter__(self) -> _RecordFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self._log.close()
        self._trains.close()


class RunWriter:
    """A run's folder, written while the run goes on: each replication's records are appended
    as they come (``add``), so none need be kept; ``finish`` adds the summary, the manifest and
    any ``extra`` files. All or nothing: the files replace their namesakes in ``out_dir`` when the
    ``with`` block ends without an error (files already there that a run does not write are
    kept), and on an error, Ctrl-C or a signal the folder is left as it was.

    Text cells of the CSV files that a spreadsheet would run as a formula are written with a
    leading ``'`` (see ``spreadsheet_text``).
    """

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        scenario: Scenario,
        *,
        events: str = "parquet",
        extra_names: Sequence[str] = (),
        label: str = "",
        partial: Partial | None = None,
    ) -> None:
        self.out = Path(out_dir)
        self.partial = partial
        self.names = sorted([*run_files(events), *extra_names])
        check_output_dir(self.out, names=self.names, label=label)
        self.scenario = scenario
        self.events = events
        self.label = label
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> RunWriter:
        with contextlib.ExitStack() as stack:
            tmp = stack.enter_context(staged_folder(self.out, label=self.label))
            self._tmp = tmp
            if self.partial is None:
                self._records: Any = stack.enter_context(_RecordFiles(tmp, self.events))
            else:
                self._records = self.partial.open_segment()
                stack.callback(self.partial.close)
            self._stack = stack.pop_all()
        return self

    def add(self, rep: Replication) -> None:
        """Append one replication's events and trains."""
        self.write(record_parts(rep.replication, rep.visits, rep.trains, self.scenario.start, self.events))

    def write(self, parts: RecordParts) -> None:
        """Append one replication's records as made where it ran (``sim.eventlog.record_parts``);
        with ``partial``, into its segment, where they stay until ``finish``."""
        self._records.write(parts)

    def finish(self, result: RunResult, *, argv: list[str] | None = None, extra: dict[str, str] | None = None) -> None:
        """Write the summary (never NaN or Infinity), the manifest and the ``extra`` files."""
        if self.partial is not None:
            names = run_files(self.events)
            self.partial.join(len(result.tallies), self._tmp / names[0], self._tmp / names[1])
        files = {
            "summary.json": json_text(result.summary.to_json()),
            "manifest.json": json_text(_manifest(result, argv)),
        }
        for name, text in {**files, **(extra or {})}.items():
            (self._tmp / name).write_text(text, encoding="utf-8")

    @property
    def files(self) -> list[Path]:
        return [self.out / name for name in self.names]

    def __exit__(self, *exc: Any) -> None:
        self._stack.__exit__(*exc)


def write_run(
    result: RunResult,
    out_dir: str | os.PathLike[str],
    *,
    argv: list[str] | None = None,
    extra: dict[str, str] | None = None,
    events: str = "parquet",
) -> list[Path]:
    """Write a run's files into ``out_dir`` (see ``RunWriter``): the records of the replications
    it kept, its summary and manifest, and ``extra`` files by name (the CLI adds ``map.html``).
    ``events``: the event log as ``parquet`` (events.parquet) or ``csv`` (events.csv.gz)."""
    with RunWriter(out_dir, result.scenario, events=events, extra_names=list(extra or {})) as writer:
        for rep in result.replications:
            writer.add(rep)
        writer.finish(result, argv=argv, extra=extra)
    return writer.files
