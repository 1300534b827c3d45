"""The ``corridors`` command: parses its arguments, calls the API and prints.

The commands live in ``network`` (check, nodes, list, show, route, map, export), ``runs``
(simulate, validate, compare, sweep), ``params``, ``sensitivity`` and ``calibrate``; what they print, in ``output``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from corridors import __version__
from corridors.cli import calibrate, explore, network, params, runs, sensitivity
from corridors.cli.output import SCHEMA_VERSION, STATUS
from corridors.cli.output import emit as _emit  # noqa: F401 (a name the tests import from here)
from corridors.cli.output import print_table as _print_table  # noqa: F401
from corridors.errors import CorridorsError, printable
from corridors.routing import WEIGHTS
from corridors.tables import clip as _clip  # noqa: F401

__all__ = ["SCHEMA_VERSION", "main", "main_exit"]

#: How the command line names the API parameters that error messages mention.
FLAGS = {
    "allow_large": "--allow-large",
    "allow_sourced": "--allow-sourced",
    "avoid": "--avoid",
    "budget": "--budget",
    "by": "--by",
    "k": "-k",
    "output": "--output",
    "param": "--param",
    "replications": "-r",
    "resume": "--resume",
    "sobol_samples": "--sobol-samples",
    "targets": "--targets",
    "top": "--top",
    "trajectories": "--trajectories",
    "values": "--values",
    "workers": "--workers",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 bad data or input, 2 usage, 130 Ctrl-C,
    143 SIGTERM, 129 SIGHUP)."""
    parser = _parser()
    if not (sys.argv[1:] if argv is None else argv):  # a bare `corridors`: what it can do (still exit 2: no command)
        parser.print_help()
        return 2
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # never a traceback for a character the terminal lacks
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    previous = _catch_stop_signals()
    try:
        STATUS.quiet = bool(getattr(args, "quiet", False))
        if hasattr(args, "scheduler"):  # a command that runs replications: where they run
            from sim.executor import executor_for

            args.executor = executor_for(args.workers, args.scheduler)
        return int(args.run(args))
    except _Stopped as exc:  # SIGTERM or SIGHUP, unwound like Ctrl-C: workers ended, nothing half-written
        STATUS.clear()
        print(
            f"corridors: stopped by {signal.Signals(exc.signum).name}; nothing was half-written{STATUS.take_note()}",
            file=sys.stderr,
        )
        return 128 + exc.signum
    except CorridorsError as exc:
        STATUS.clear()
        print(f"corridors: error: {exc.render(FLAGS)}{STATUS.take_note()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: whatever was being written is left out whole (atomic writes)
        STATUS.clear()
        print(f"corridors: interrupted; nothing was half-written{STATUS.take_note()}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        STATUS.clear()
        where = f": {exc.filename}" if exc.filename else ""
        print(f"corridors: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    finally:
        if getattr(args, "executor", None) is not None:
            args.executor.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the run is so that it unwinds as Ctrl-C does."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


def _stop(signum: int, _frame: Any) -> None:
    for other in (signal.SIGINT, *_STOP_SIGNALS):  # once stopping, a second signal cannot cut the clean-up short
        signal.signal(other, signal.SIG_IGN)
    raise _Stopped(signum)


def _catch_stop_signals() -> dict[int, Any]:
    """Turn SIGTERM and SIGHUP into ``_Stopped`` for this run; returns the handlers to put back."""
    import threading

    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for signum in (signal.SIGINT, *_STOP_SIGNALS):
        previous[signum] = signal.getsignal(signum)
    for signum in _STOP_SIGNALS:
        signal.signal(signum, _stop)
    return {k: v for k, v in previous.items() if v is not None}


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="corridors",
        description="Freight corridors between China, Central Asia, the Middle East and Europe: the network, "
        "routes, simulation of container trains, what-ifs, and offline HTML maps and reports.",
        epilog="Exit codes: 0 ok, 1 bad data or input, 2 usage, 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP. "
        "Every command takes --json.",
    )
    parser.add_argument("--version", action="version", version=f"corridors {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, run: Any, network: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if network:
            p.add_argument("--network", metavar="DIR", help="network folder (default: the bundled network)")
        p.add_argument("--json", action="store_true", help="print JSON (schema: docs/json.md in the project)")
        p.set_defaults(run=run)
        return p

    p = command("check", "validate a network folder and print what it holds", network.check)
    p.add_argument("path", nargs="?", metavar="PATH", help="network folder or one of its files (default: bundled)")
    command("list", "list the corridors with their length and expected transit time", network.corridors_list)
    p = command("nodes", "list the nodes (ids for route and --avoid)", network.nodes)
    p.add_argument("--country", metavar="CC", help="only nodes in this country, e.g. KZ")
    p.add_argument("--kind", metavar="KIND", help="only nodes of this kind, e.g. border")
    p = command("show", "print a corridor's legs, gauge breaks and totals", network.show)
    p.add_argument("name", metavar="NAME", help="corridor name, e.g. northern (see `corridors list`)")
    p = command("route", "find the best routes between two nodes", network.routes)
    p.add_argument("origin", metavar="FROM", help="node id, e.g. CN_CHENGDU")
    p.add_argument("destination", metavar="TO", help="node id, e.g. PL_LODZ")
    p.add_argument(
        "--by",
        choices=list(WEIGHTS),
        default="time",
        help="optimise expected time (default), distance, cost, or generalised cost (cost + time x value of time)",
    )
    p.add_argument(
        "--avoid",
        action="append",
        default=[],
        metavar="LIST",
        help="country codes and node ids to avoid, comma-separated, e.g. RU,BY (may repeat)",
    )
    p.add_argument(
        "-k", type=_routes, default=1, metavar="K", help="how many routes: the best and K-1 alternatives (at most 50)"
    )
    p = command("simulate", "run a scenario (default: the bundled baseline) and write its results", runs.simulate)
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario file or bundled name (default: baseline)")
    _run_options(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: out/<scenario name>)")
    _resume_option(p)
    sensitivity.report_option(p)
    p.add_argument(
        "--events",
        choices=("parquet", "csv"),
        default="parquet",
        help="the event log as events.parquet (default; pandas, polars, DuckDB read it) or events.csv.gz",
    )
    p = command("validate", "run the baseline and compare it with published figures", runs.validate)
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario file or bundled name (default: baseline)")
    p.add_argument("--targets", metavar="FILE", help="targets file (default: the bundled calibration targets)")
    _run_options(p)
    p = command("compare", "run a base scenario and what-ifs with common random numbers and compare them", runs.compare)
    p.add_argument("base", metavar="BASE", help="scenario file or bundled name, e.g. baseline")
    p.add_argument("whatifs", nargs="+", metavar="WHATIF", help="what-if scenarios, e.g. red-sea-closure")
    _run_options(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: out/compare-<base>)")
    _resume_option(p)
    sensitivity.report_option(p)
    p = command("sweep", "run a scenario with one parameter set to several values", runs.sweep)
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled name, e.g. baseline")
    p.add_argument(
        "--param",
        required=True,
        metavar="PATH",
        help="a path `corridors params` lists: node.ID.FIELD, leg.ID.FIELD, service.NAME.FIELD, "
        "pool.NODE-GAUGE.wagons or weather.NODE.FIELD; durations are scaled",
    )
    p.add_argument("--values", required=True, metavar="A,B,C", help="comma-separated values, e.g. 5,10,20")
    _run_options(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: out/sweep-<scenario>)")
    _resume_option(p)
    p = command("params", "list a scenario's parameters: the values a sweep sets, with their ranges", params.params)
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario file or bundled name (default: baseline)")
    p.add_argument("--estimates", action="store_true", help="only the values whose data cite ESTIMATE")
    sensitivity.register(command, _run_options, _resume_option)
    calibrate.register(command, _run_options, _resume_option)
    explore.register(command, _run_options, _resume_option)
    p = command("map", "write an HTML map of corridors that opens with no network", network.network_map)
    p.add_argument("names", nargs="*", metavar="NAME", help="corridors to draw (default: all)")
    p.add_argument("--all", action="store_true", help="draw every corridor (the default)")
    p.add_argument(
        "--out", metavar="FILE", default="corridors-map.html", help="output file (default corridors-map.html)"
    )
    p.add_argument("--results", metavar="DIR", help="a `corridors simulate` output folder: waiting, traffic, animation")
    p.add_argument("--window-d", type=float, default=60.0, metavar="D", help="days the animation plays (default 60)")
    p = command("export", "write the network as GeoJSON for GIS tools", network.export)
    p.add_argument("--geojson", required=True, metavar="FILE", help="output file, e.g. network.geojson")
    return parser


def _resume_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--resume",
        action="store_true",
        help="finish a run that was interrupted (Ctrl-C, a signal, a lost worker): the same command with --resume",
    )


def _run_options(p: argparse.ArgumentParser) -> None:
    most = 100_000  # sim.limits.MAX_REPLICATIONS, without importing the engine to parse the arguments

    def replications(text: str) -> int:
        value = int(_positive_int(text))
        if value > most:
            raise argparse.ArgumentTypeError(f"{value} is more than {most:,}, the most a run takes")
        return value

    p.add_argument(
        "--replications",
        "-r",
        type=replications,
        default=10,
        metavar="R",
        help="independent replications (default 10, at most 100,000)",
    )
    p.add_argument("--seed", type=_seed, default=1, metavar="S", help="random seed (default 1)")
    cores = os.cpu_count() or 1
    p.add_argument(
        "--workers",
        type=_workers,
        default=cores,
        metavar="N",
        help=f"worker processes (default: all cores, {cores} here; results do not depend on it)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar (there is none off a terminal)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the replications on a Dask cluster: a scheduler's address (tcp://HOST:8786), or "
        "'local' to start one of --workers processes here; needs corridors[dask]",
    )
    p.add_argument(
        "--allow-large",
        action="store_true",
        help="run beyond the run-size limit (50,000,000 train visits: replications × trains × places), "
        "as far as the machine's memory allows",
    )


def _whole_number(minimum: int, maximum: int) -> Any:
    """An argparse type: a whole number from ``minimum`` to ``maximum`` (a long one is shown cut)."""

    def parse(text: str) -> int:
        shown = text if len(text) <= 24 else f"{text[:20]}… ({len(text)} characters)"
        try:
            value = int(text) if len(text) <= 40 else None
        except ValueError:
            value = None
        if value is None:
            raise argparse.ArgumentTypeError(f"{shown!r} is not a whole number of at most {maximum:,}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} must be at least {minimum}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"{shown} is more than {maximum:,}")
        return value

    return parse


_seed = _whole_number(0, 2**63 - 1)
_positive_int = _whole_number(1, 2**63 - 1)
_routes = _whole_number(1, 50)
_workers = _whole_number(1, 256)


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, like every other error (exit code 2), pointing to the help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {printable(message)} (see `{self.prog} --help`)\n")


def main_exit() -> None:
    """Console-script entry point."""
    sys.exit(main())
