"""The ``corridors`` command: check, list, show, route and export the corridor network."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from corridors import __version__
from corridors.errors import CorridorsError, InputError, printable
from corridors.export import (
    check_output_dir,
    check_output_file,
    json_text,
    network_geojson,
    staged_folder,
    write_json_atomic,
    write_text_atomic,
)
from corridors.loader import load_network
from corridors.model import NODE_KINDS, Network
from corridors.routing import DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY, WEIGHTS, route
from corridors.schema import ESTIMATE
from corridors.summary import PathSummary, node_dict, summarize_corridor, summarize_path

SCHEMA_VERSION = 1


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
        return int(args.run(args))
    except _Stopped as exc:  # SIGTERM or SIGHUP, unwound like Ctrl-C: workers ended, nothing half-written
        _STATUS.clear()
        print(f"corridors: stopped by {signal.Signals(exc.signum).name}; nothing was half-written", file=sys.stderr)
        return 128 + exc.signum
    except CorridorsError as exc:
        _STATUS.clear()
        print(f"corridors: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: whatever was being written is left out whole (atomic writes)
        _STATUS.clear()
        print("corridors: interrupted; nothing was half-written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        _STATUS.clear()
        where = f": {exc.filename}" if exc.filename else ""
        print(f"corridors: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    finally:
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


class _Status:
    """One line on a terminal's standard error that a long run rewrites as it goes (and nothing
    when standard error is not a terminal, so pipes, files and tests see only the results)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.shown = False

    def progress(self) -> Any:
        """The callable to hand to a run, or None off a terminal."""
        self.started = time.monotonic()
        return self if sys.stderr.isatty() else None

    def __call__(self, message: str) -> None:
        line = f"{message} ({time.monotonic() - self.started:.0f} s)"
        width = shutil.get_terminal_size().columns - 1  # one row: a wrapped line could not be cleared
        if len(line) > width:
            line = line[: max(width - 1, 0)] + "…"
        sys.stderr.write(f"\r\x1b[K{line}")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


_STATUS = _Status()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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

    p = command("check", "validate a network folder and print what it holds", _check)
    p.add_argument("path", nargs="?", metavar="PATH", help="network folder or one of its files (default: bundled)")
    command("list", "list the corridors with their length and expected transit time", _list)
    p = command("nodes", "list the nodes (ids for route and --avoid)", _nodes)
    p.add_argument("--country", metavar="CC", help="only nodes in this country, e.g. KZ")
    p.add_argument("--kind", metavar="KIND", help="only nodes of this kind, e.g. border")
    p = command("show", "print a corridor's legs, gauge breaks and totals", _show)
    p.add_argument("name", metavar="NAME", help="corridor name, e.g. northern (see `corridors list`)")
    p = command("route", "find the best routes between two nodes", _route)
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
        "-k", type=_positive_int, default=1, metavar="K", help="how many routes: the best and K-1 alternatives"
    )
    p = command("simulate", "run a scenario (default: the bundled baseline) and write its results", _simulate)
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario file or bundled name (default: baseline)")
    _run_options(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: out/<scenario name>)")
    p = command("validate", "run the baseline and compare it with published figures", _validate)
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario file or bundled name (default: baseline)")
    p.add_argument("--targets", metavar="FILE", help="targets file (default: the bundled calibration targets)")
    _run_options(p)
    p = command("compare", "run a base scenario and what-ifs with common random numbers and compare them", _compare)
    p.add_argument("base", metavar="BASE", help="scenario file or bundled name, e.g. baseline")
    p.add_argument("whatifs", nargs="+", metavar="WHATIF", help="what-if scenarios, e.g. red-sea-closure")
    _run_options(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: out/compare-<base>)")
    p = command("sweep", "run a scenario with one parameter set to several values", _sweep)
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled name, e.g. baseline")
    p.add_argument(
        "--param",
        required=True,
        metavar="PATH",
        help="node.ID.FIELD, leg.ID.FIELD or service.NAME.trains_per_week; durations are scaled",
    )
    p.add_argument("--values", required=True, metavar="A,B,C", help="comma-separated values, e.g. 5,10,20")
    _run_options(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: out/sweep-<scenario>)")
    p = command("map", "write an HTML map of corridors that opens with no network", _map)
    p.add_argument("names", nargs="*", metavar="NAME", help="corridors to draw (default: all)")
    p.add_argument("--all", action="store_true", help="draw every corridor (the default)")
    p.add_argument(
        "--out", metavar="FILE", default="corridors-map.html", help="output file (default corridors-map.html)"
    )
    p.add_argument("--results", metavar="DIR", help="a `corridors simulate` output folder: waiting, traffic, animation")
    p.add_argument("--window-d", type=float, default=60.0, metavar="D", help="days the animation plays (default 60)")
    p = command("export", "write the network as GeoJSON for GIS tools", _export)
    p.add_argument("--geojson", required=True, metavar="FILE", help="output file, e.g. network.geojson")
    return parser


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
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="worker processes (default 1; results do not depend on it)",
    )
    p.add_argument(
        "--allow-large",
        action="store_true",
        help="run beyond the run-size limit (5,000,000 train visits: replications × trains × places), "
        "as far as the machine's memory allows",
    )


def _whole_number(minimum: int) -> Any:
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} must be at least {minimum}")
        return value

    return parse


_seed = _whole_number(0)
_positive_int = _whole_number(1)


def _emit(data: dict[str, Any]) -> None:
    utf8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
    from corridors.export import check_finite

    data = {"schema_version": SCHEMA_VERSION, **data}
    check_finite(data)  # never NaN or Infinity (not JSON): an error naming the field instead
    print(json.dumps(data, ensure_ascii=not utf8, indent=2, allow_nan=False))


# -- commands ---------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    if args.path and args.network:
        raise InputError("give the network folder as PATH or as --network, not both")
    network = load_network(args.path or args.network)
    counts = _provenance_counts(network)
    straight = sorted(leg.id for leg in network.legs.values() if len(leg.path) == 2)
    if args.json:
        _emit(
            {
                "ok": True,
                "path": str(network.root),
                "nodes": len(network.nodes),
                "legs": len(network.legs),
                "corridors": len(network.corridors),
                "sources": len(network.sources),
                "sourced_values": counts["sourced"],
                "estimated_values": counts["estimate"],
            }
        )
        return 0
    _say(f"ok: {network.root}")
    print(
        f"  {len(network.nodes)} nodes, {len(network.legs)} legs, {len(network.corridors)} corridors, "
        f"{len(network.sources)} sources"
    )
    print(f"  values backed by a published source: {counts['sourced']}; marked {ESTIMATE}: {counts['estimate']}")
    print(
        f"  legs drawn along their geometry: {len(network.legs) - len(straight)}; as straight lines: {len(straight)}"
        + (f" ({', '.join(straight)})" if straight else "")
    )
    return 0


def _nodes(args: argparse.Namespace) -> int:
    network = load_network(args.network)
    country = args.country.strip().upper() if args.country else None
    kind = args.kind.strip().lower() if args.kind else None
    countries = sorted({c for n in network.nodes.values() for c in n.countries})
    if country is not None and country not in countries:
        raise InputError(
            f"--country {args.country!r}: no node is in this country; the nodes are in: {', '.join(countries)}"
        )
    kinds = [k for k in NODE_KINDS if any(n.has_kind(k) for n in network.nodes.values())]
    if kind is not None and kind not in kinds:
        raise InputError(
            f"--kind {args.kind!r}: "
            + ("no node is of this kind" if kind in NODE_KINDS else "not a node kind")
            + f"; the kinds are: {', '.join(kinds)}"
        )
    nodes = [
        n
        for n in network.nodes.values()
        if (country is None or country in n.countries) and (kind is None or n.has_kind(kind))
    ]
    if args.json:
        _emit({"nodes": [node_dict(n) for n in nodes]})
        return 0
    table = [["id", "country", "kinds", "name"]]
    table += [[n.id, "/".join(n.countries), "+".join(n.kinds), n.name] for n in nodes]
    _print_table(table, right=set())
    return 0


def _provenance_counts(network: Network) -> dict[str, int]:
    counts = {"sourced": 0, "estimate": 0}
    groups = [n.sources for n in network.nodes.values()]
    groups += [n.facility.sources for n in network.nodes.values() if n.facility]
    groups += [leg.sources for leg in network.legs.values()]
    for sources in groups:
        for keys in sources.values():
            counts["estimate" if set(keys) == {ESTIMATE} else "sourced"] += 1
    return counts


def _list(args: argparse.Namespace) -> int:
    network = load_network(args.network)
    summaries = [(c, summarize_corridor(network, c)) for c in network.corridors.values()]
    rows = []
    for corridor, s in summaries:
        rows.append(
            {
                "name": corridor.name,
                "title": corridor.title,
                "from": corridor.node_ids[0],
                "to": corridor.node_ids[-1],
                "legs": len(corridor.leg_ids),
                "total_distance_km": round(s.total_distance_km, 1),
                "transit_d": {k: round(v / 24, 2) for k, v in s.total.to_dict().items()},
            }
        )
    if args.json:
        _emit({"corridors": rows})
        return 0
    table = [["name", "from", "to", "legs", "distance", "expected", "range"]]
    for corridor, total in summaries:
        t = total.total
        table.append(
            [
                corridor.name,
                corridor.node_ids[0],
                corridor.node_ids[-1],
                str(len(corridor.leg_ids)),
                f"{total.total_distance_km:,.0f} km",
                f"{t.mean_h / 24:.1f} d",
                f"{t.min_h / 24:.1f}–{t.max_h / 24:.1f} d",
            ]
        )
    _print_table(table, right={3, 4, 5, 6})
    print("\nExpected = leg transit means plus mean processing at nodes, without queueing.")
    return 0


def _show(args: argparse.Namespace) -> int:
    network = load_network(args.network)
    corridor = network.corridor(args.name)
    s = summarize_corridor(network, corridor)
    if args.json:
        _emit({"name": corridor.name, "title": corridor.title, **s.to_dict()})
        return 0
    _say(f"{corridor.name}: {corridor.title}")
    _print_path(s)
    return 0


def _route(args: argparse.Namespace) -> int:
    network = load_network(args.network)
    avoid = [t.strip() for item in args.avoid for t in item.split(",") if t.strip()]
    routes = route(network, args.origin, args.destination, by=args.by, avoid=avoid, k=args.k)
    if not routes:
        what = f" avoiding {', '.join(avoid)}" if avoid else ""
        raise InputError(f"no route from {args.origin} to {args.destination}{what}")
    summaries = [summarize_path(network, r.node_ids, r.leg_ids) for r in routes]
    if args.json:
        best, *others = [
            {"rank": i + 1, "by": r.by, "weight": r.weight, "weight_unit": WEIGHTS[r.by], **s.to_dict()}
            for i, (r, s) in enumerate(zip(routes, summaries, strict=True))
        ]
        _emit({"from": args.origin, "to": args.destination, "avoid": avoid, **best, "alternatives": others})
        return 0
    for i, (r, s) in enumerate(zip(routes, summaries, strict=True)):
        if i:
            print()
        unit = WEIGHTS[r.by]
        weight = f"{r.weight / 24:.1f} d" if r.by == "time" else f"{r.weight:,.0f} {unit}"
        if r.by == "generalised":
            weight += f" at {DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY:g} USD/FEU a day"
        _say(f"Route {i + 1} of {len(routes)} by {r.by} ({weight}): " + " – ".join(r.node_ids))
        _print_path(s)
    return 0


def _map(args: argparse.Namespace) -> int:
    from maps.network_map import build_network_map
    from maps.offline import render_offline

    if args.all and args.names:
        raise InputError("give corridor names or --all, not both")
    network = load_network(args.network)
    results = None
    if args.results:
        from maps.results import load_results

        if not 0 < args.window_d <= 3660:
            raise InputError(f"--window-d {args.window_d}: must be between 0 and 3660 days")
        results = load_results(args.results, network)
    check_output_file(args.out, label="--out ")
    html = render_offline(build_network_map(network, args.names or None, results=results, window_d=args.window_d))
    path = write_text_atomic(args.out, html)
    if args.json:
        _emit(
            {
                "written": str(path),
                "bytes": len(html.encode("utf-8")),
                "corridors": args.names or list(network.corridors),
            }
        )
    else:
        print(f"wrote {path} ({len(html.encode('utf-8')) / 1e6:.2f} MB): open it in a browser, no network needed")
    return 0


def _export(args: argparse.Namespace) -> int:
    check_output_file(args.geojson, label="--geojson ")
    network = load_network(args.network)
    data = network_geojson(network)
    path = write_json_atomic(args.geojson, data)
    if args.json:
        _emit({"written": str(path), "features": len(data["features"])})
    else:
        _say(f"wrote {path}: {len(network.nodes)} nodes and {len(network.legs)} legs as GeoJSON")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from sim.limits import check_run_size
    from sim.runner import RUN_FILES, simulate, write_run
    from sim.scenario import load_scenario

    network = load_network(args.network) if args.network else None
    scenario = load_scenario(args.scenario, network=network)
    check_run_size([scenario], args.replications, allow_large=args.allow_large)
    out = Path(args.out) if args.out else Path("out") / scenario.name
    check_output_dir(out, names=[*RUN_FILES, "map.html", "report.html"], label="--out ")
    if not args.out:
        out.parent.mkdir(exist_ok=True)
    status = _STATUS.progress()
    result = simulate(
        scenario,
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        progress=status,
        allow_large=args.allow_large,
    )
    from maps.report import run_map, run_report

    if status:
        status(f"{scenario.name}: writing the map, the report and the records")
    extra = {"map.html": run_map(result), "report.html": run_report(result)}
    files = write_run(result, out, argv=["corridors", *sys.argv[1:]], extra=extra)
    _STATUS.clear()
    if args.json:
        _emit({"out": str(out), "files": [f.name for f in files], "summary": result.summary})
        return 0
    _print_summary(result.summary, scenario)
    print(f"\nWrote {out}/: {', '.join(f.name for f in files)}")
    return 0


def _print_summary(summary: dict[str, Any], scenario: Any) -> None:
    end = scenario.date_at(scenario.end_h).date()
    print(
        f"Scenario {summary['scenario']}: services {scenario.start.date()} to {end}, "
        f"{_reps(summary['replications'])}, seed {summary['seed']}"
    )
    table = [["service", "trains/wk", "mean d", "P50", "P95", "95% CI of mean", "on time", "waiting d", "in system"]]
    for name, s in summary["services"].items():
        t = s["transit_d"]
        if t["n"] == 0:
            table.append(
                [
                    name,
                    f"{s['throughput']['trains_per_week']:.1f}",
                    "–",
                    "–",
                    "–",
                    "–",
                    "–",
                    "–",
                    f"{s['in_system_at_horizon_per_replication']:.0f}",
                ]
            )
            continue
        ci = f"{t['ci95'][0]:.2f}–{t['ci95'][1]:.2f}" if t["ci95"] else "–"
        on_time = f"{100 * s['on_time_share']:.1f}%" if s["on_time_share"] is not None else "–"
        table.append(
            [
                name,
                f"{s['throughput']['trains_per_week']:.1f}",
                f"{t['mean']:.2f}",
                f"{t['p50']:.2f}",
                f"{t['p95']:.2f}",
                ci,
                on_time,
                f"{s['days']['waiting']:.2f}",
                f"{s['in_system_at_horizon_per_replication']:.0f}",
            ]
        )
    _print_table(table, right={1, 2, 3, 4, 5, 6, 7, 8})
    nodes = sorted(summary["nodes"].items(), key=lambda item: -item[1]["stay_h_mean"])
    if nodes:
        print(
            "Longest stays at nodes, beyond service (queue + waiting for a vessel, sailing or opening): "
            + "; ".join(f"{n} {v['stay_h_mean']:.1f} h" for n, v in nodes[:5])
        )
    stuck = {
        n: s["in_system_at_horizon_per_replication"]
        for n, s in summary["services"].items()
        if s["in_system_at_horizon_per_replication"]
    }
    if stuck:
        print(
            "Still on their way at the horizon (per replication): "
            + ", ".join(f"{n} {v:g}" for n, v in stuck.items())
            + " — transit statistics cover arrived trains only."
        )
    from sim.kpis import overload_note

    warning = overload_note(summary)
    if warning:
        print(warning)
    print(
        "On time: arrived within the service's promised transit (promised_transit_d in the scenario); "
        "waiting d: queues, vessels, sailings and closures."
    )


def _reps(n: int) -> str:
    return f"{n} replication" + ("" if n == 1 else "s")


def _wrap(text: str) -> str:
    """A long note as an indented paragraph that fits the terminal."""
    width = max(min(shutil.get_terminal_size().columns, 110), 60)
    return textwrap.fill(text, width=width, initial_indent="  ", subsequent_indent="    ")


def _clip(text: str, width: int) -> str:
    """``text`` cut at a word to fit ``width`` characters, with an ellipsis when cut."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if text[width - 1] != " ":  # a word runs on past the cut: leave it out whole
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-(") + "…"


def _signed(value: float | None, digits: int = 2, plain: bool = False) -> str:
    """A difference for a table: signed, no "-0.00", a dash when missing."""
    if value is None:
        return "–"
    value = round(value, digits) + 0.0
    return f"{value:,.{digits}f}" if plain else f"{value:+,.{digits}f}"


def _write_pair(out: Path, stem: str, data: dict[str, Any], page: str) -> tuple[Path, Path]:
    """``stem``.json and ``stem``.html into ``out``: both new, or (on any failure) both as they were
    (and no ``out`` folder if there was none)."""
    with staged_folder(out, label="--out ") as tmp:
        (tmp / f"{stem}.json").write_text(json_text(data), encoding="utf-8")
        (tmp / f"{stem}.html").write_text(page, encoding="utf-8")
    return out / f"{stem}.json", out / f"{stem}.html"


def _without_version(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "schema_version"}


def _compare(args: argparse.Namespace) -> int:
    from sim.compare import change_note, compare
    from sim.kpis import overload_note
    from sim.scenario import load_scenario

    network = load_network(args.network) if args.network else None
    base = load_scenario(args.base, network=network)
    whatifs = [load_scenario(w, network=network) for w in args.whatifs]
    out = Path(args.out) if args.out else Path("out") / ("compare-" + "-".join([base.name, *[w.name for w in whatifs]]))
    check_output_dir(out, names=["compare.json", "compare.html"], label="--out ")
    status = _STATUS.progress()
    report, runs = compare(
        base,
        whatifs,
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        progress=status,
        allow_large=args.allow_large,
    )
    from maps.report import compare_report

    if status:
        status("writing the comparison")
    path, html_path = _write_pair(out, "compare", report, compare_report(report, runs))
    _STATUS.clear()
    if args.json:
        _emit({"out": str(out), "files": [path.name, html_path.name], **_without_version(report)})
        return 0
    print(f"Compared with {base.name}: {_reps(args.replications)}, seed {args.seed}, common random numbers")
    for w, run in zip(report["whatifs"], runs[1:], strict=True):
        print(f"\n{w['name']}: {w['description']}")
        if w.get("built_on") and w["built_on"] != base.name:
            print(
                f"  note: {w['name']} is built on {w['built_on']}, not on {base.name}: the differences include "
                "what separates the two bases"
            )
        head = [
            "service",
            "base mean d",
            "what-if",
            "Δ mean d",
            "95% CI",
            "Δ P95 d",
            "Δ on time",
            "Δ trains/wk",
            "in system",
            "Δ USD/TEU",
            "Δ kg CO2/TEU",
        ]
        table = [head]
        notes = []
        for name, row in w["services"].items():
            if not row["in_whatif"]:
                table.append([name, "", "not in the what-if", *[""] * (len(head) - 3)])
                continue
            x = row["whatif"]
            if row.get("in_base") is False:
                table.append(
                    [
                        f"{name} (added)",
                        "–",
                        _signed(x["transit_d_mean"], plain=True),
                        *[""] * 5,
                        f"{x['in_system_at_horizon_per_replication']:g}",
                        "",
                        "",
                    ]
                )
                continue
            d = row["delta"]
            mean = d["transit_d_mean"]
            ci = f"{_signed(mean['ci95'][0])}…{_signed(mean['ci95'][1])}" if mean["ci95"] else "–"
            on_time = f"{_signed(100 * d['on_time_share'], 1)} pt" if d["on_time_share"] is not None else "–"
            table.append(
                [
                    name + (" *" if row["rerouted"] or row.get("redefined") else ""),
                    _signed(row["base"]["transit_d_mean"], plain=True),
                    _signed(x["transit_d_mean"], plain=True),
                    _signed(mean["value"]),
                    ci,
                    _signed(d["transit_d_p95"]),
                    on_time,
                    _signed(d["trains_per_week"], 1),
                    f"{x['in_system_at_horizon_per_replication']:.1f}",
                    _signed(d["cost_usd_per_teu"], 0),
                    _signed(d["co2_kg_per_teu"], 0),
                ]
            )
            note = change_note(row)
            if note:
                notes.append(f"  * {name} {note}")
        _print_table(table, right=set(range(1, len(head))))
        for note in notes:
            print(note)
        warning = overload_note(run.summary)
        if warning:
            print(f"  {warning}")
    print(f"\nWrote {path} and {html_path.name}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    import math

    from maps.report import sweep_report
    from sim.scenario import load_scenario
    from sim.sweep import moved_services, parse_param, sweep

    parse_param(args.param)
    try:
        values = [float(v) for v in args.values.split(",")]
    except ValueError:
        raise InputError(f"--values {args.values!r}: give numbers separated by commas, e.g. 5,10,20") from None
    if not values or any(not math.isfinite(v) or v <= 0 for v in values):
        raise InputError(f"--values {args.values!r}: give one or more finite numbers above 0")
    network = load_network(args.network) if args.network else None
    scenario = load_scenario(args.scenario, network=network)
    out = Path(args.out) if args.out else Path("out") / f"sweep-{scenario.name}-{args.param}"
    check_output_dir(out, names=["sweep.json", "sweep.html"], label="--out ")
    data = sweep(
        scenario,
        args.param,
        values,
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        progress=_STATUS.progress(),
        allow_large=args.allow_large,
    )
    path, html_path = _write_pair(out, "sweep", data, sweep_report(data))
    _STATUS.clear()
    if args.json:
        _emit({"out": str(out), "files": [path.name, html_path.name], **_without_version(data)})
        return 0
    print(f"Sweep of {args.param} on {scenario.name}: {_reps(args.replications)} per value, seed {args.seed}")
    moved = moved_services(data)
    base = data.get("base_value")
    table = [
        ["service", "× the data's value" if data["scales"] else "value", "P50 d", "P95 d", "trains/wk", "in system"]
    ]
    for n in moved:
        for k, r in enumerate(data["rows"]):
            x = r["services"][n]
            table.append(
                [
                    n if k == 0 else "",
                    f"{r['value']:g}" + ("*" if base is not None and abs(r["value"] - base) < 1e-9 else ""),
                    _signed(x["transit_d_p50"], plain=True),
                    _signed(x["transit_d_p95"], plain=True),
                    f"{x['trains_per_week']:.1f}",
                    f"{x['in_system_at_horizon_per_replication']:g}",
                ]
            )
    if moved:
        _print_table(table, right=set(range(1, 6)))
        if base is not None:
            print(f"  * the scenario's own value ({base:g}{'×' if data['scales'] else ''})")
    else:
        print("  No service's P95 transit or throughput moves over these values.")
    print(f"Wrote {path} and {html_path.name}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from sim.runner import simulate
    from sim.scenario import load_scenario
    from sim.validate import evaluate, load_targets, result_rows

    network = load_network(args.network) if args.network else None
    scenario = load_scenario(args.scenario, network=network)
    targets, skipped = load_targets(args.targets, scenario.network, {s.name: s.node_ids for s in scenario.services})
    result = simulate(
        scenario,
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        progress=_STATUS.progress(),
        allow_large=args.allow_large,
    )
    _STATUS.clear()
    rows = result_rows(evaluate(targets, result.replications), scenario.network)
    failed = [r["id"] for r in rows if r["kind"] == "end_to_end" and not r["passed"]]
    if args.json:
        _emit(
            {
                "scenario": scenario.name,
                "replications": args.replications,
                "seed": args.seed,
                "rows": rows,
                "skipped": skipped,
                "failed": failed,
                "ok": not failed,
            }
        )
        return 1 if failed else 0
    print(f"Validation of {scenario.name}: {_reps(args.replications)}, seed {args.seed}")
    table = [["id", "what", "published", "simulated mean", "95% CI", "result"]]
    for r in rows:
        unit = r["unit"]
        obs = f"{r['observed'][0]:g}–{r['observed'][1]:g} {unit}"
        sim = f"{r['simulated_mean']:.2f} {unit}" if r["simulated_mean"] is not None else "no trains"
        ci = f"{r['ci95'][0]:.2f}–{r['ci95'][1]:.2f}" if r["ci95"] else "–"
        verdict = (
            ("pass" if r["passed"] else "FAIL")
            if r["kind"] == "end_to_end"
            else ("within" if r["passed"] else "differs")
        ) + ("*" if r["fitted_parameters"] else "")
        table.append([r["id"], _clip(r["what"], 60), obs, sim, ci, verdict])
    _print_table(table, right={2, 3, 4})
    for r in rows:
        if r["kind"] == "node":
            print(
                _wrap(f"{r['id']} describes {r['applies_to']}; the model's figure is for the simulated trains there.")
            )
    fitted = [r for r in rows if r["fitted_parameters"]]
    if fitted:
        independent = [r["id"] for r in rows if r["kind"] == "end_to_end" and not r["fitted_parameters"]]
        print(_wrap(f"Independent evidence (no parameter was fitted to them): {', '.join(independent)}."))
        print(
            _wrap(
                "* parameters were fitted to these figures, so the row checks the fit: "
                + "; ".join(f"{r['id']}: {', '.join(r['fitted_parameters'])}" for r in fitted)
            )
        )
    if skipped:
        print(f"  Left out (their services are not in this scenario): {', '.join(skipped)}")
    if failed:
        print(f"{len(failed)} end-to-end {'row fails' if len(failed) == 1 else 'rows fail'}: {', '.join(failed)}")
        for r in rows:
            if r["id"] in failed:
                print(_wrap(f"{r['id']} ({r['what']}): " + (r["note"] or "") + f" [{', '.join(r['sources'])}]"))
        _print_days_of_failed(targets, failed, result.summary)
        return 1
    print("All end-to-end rows pass.")
    return 0


def _print_days_of_failed(targets: Any, failed: list[str], summary: dict[str, Any]) -> None:
    """Where the days of a failing door-to-door row's services go, to show what to look at first."""
    for target in targets:
        if target.id not in failed or target.how.measure != "transit":
            continue
        for name in target.how.services:
            days = summary["where_days_go"].get(name)
            if not days:
                continue
            countries = ", ".join(f"{c} {h / 24:.1f}" for c, h in days["by_country_h"].items())
            stays = sorted(days["by_node_h"].items(), key=lambda kv: -kv[1])[:4]
            print(f"  {target.id} {name}, days by country: {countries}")
            print(f"  {' ' * len(target.id)} longest stays: {', '.join(f'{n} {h:.0f} h' for n, h in stays)}")


# -- text output --------------------------------------------------------------------------------


def _duration(hours: float) -> str:
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _print_path(s: PathSummary) -> None:
    table = [["#", "from", "to", "mode", "gauge", "distance", "transit min–max", "expected"]]
    for i, step in enumerate(s.steps, start=1):
        leg = step.leg
        t = leg.transit_h
        computed = "*" if leg.distance_computed else ""
        span = f"{t.min_h:.1f}–{t.max_h:.1f} h" if t.max_h < 48 else f"{t.min_h / 24:.1f}–{t.max_h / 24:.1f} d"
        table.append(
            [
                str(i),
                step.from_id,
                step.to_id,
                leg.mode,
                f"{leg.gauge_mm}" if leg.gauge_mm else "–",
                f"{leg.distance_km:,.0f} km{computed}",
                span,
                _duration(t.mean_h),
            ]
        )
    _print_table(table, right={0, 5, 6, 7})
    stops = [f"{n.id} {_duration(n.expected_process_h)}" for n in s.nodes[1:-1] if n.expected_process_h > 0]
    if any(step.leg.distance_computed for step in s.steps):
        print("  * distance computed from the leg's geometry × circuity factor")
    if s.gauge_breaks:
        _say("Gauge breaks: " + "; ".join(f"{g.node_id} {g.from_gauge_mm}→{g.to_gauge_mm} mm" for g in s.gauge_breaks))
    else:
        print("Gauge breaks: none")
    if stops:
        _say("Processing at nodes (mean, no queueing): " + ", ".join(stops))
    total = s.total
    _say(
        f"Total: {s.total_distance_km:,.0f} km; moving {_duration(s.moving.mean_h)}, "
        f"processing {_duration(s.processing.mean_h)}; expected {total.mean_h / 24:.1f} d "
        f"(range {total.min_h / 24:.1f}–{total.max_h / 24:.1f} d, no queueing)"
    )
    _say(
        f"Countries: {' – '.join(s.countries)}; cost ≈ {s.cost_usd_per_feu:,.0f} USD/FEU; "
        f"CO2 ≈ {s.co2_kg_per_teu:,.0f} kg/TEU"
    )


def _say(text: str) -> None:
    """Print a line of text that may hold what a data file says: control characters escaped."""
    print(printable(text))


def _print_table(rows: list[list[str]], right: set[int]) -> None:
    rows = [[printable(cell) for cell in row] for row in rows]  # names come from files a stranger may write
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for _r, row in enumerate(rows):
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        print("  " + "  ".join(cells).rstrip())


def main_exit() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    main_exit()
