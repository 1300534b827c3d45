"""``corridors explore``: a sweep of one parameter, or a grid over two, written as one offline HTML
page whose sliders pick the value (explore.html) and the same figures as JSON (explore.json)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from corridors.cli.output import STATUS, emit, reps, without_version, write_pair
from corridors.cli.runs import _keeping, _key, _runs_kept
from corridors.errors import InputError
from corridors.export import check_output_dir
from corridors.loader import load_network
from corridors.tables import render_text

__all__ = ["register", "run"]

Adder = Callable[[argparse.ArgumentParser], None]
FILES = ("explore.json", "explore.html")
#: The most points a grid may have (the page holds every one).
MAX_POINTS = 400


def register(command: Callable[..., argparse.ArgumentParser], run_options: Adder, resume_option: Adder) -> None:
    """Add the ``explore`` command with the parser's ``command`` helper and its shared options."""
    p = command(
        "explore",
        "run a sweep (or a grid over two parameters) and write an offline HTML page whose sliders show "
        "each value's key figures, transit distributions and node waits",
        run,
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled name, e.g. altynkol-doubled")
    p.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="PATH",
        help="a path `corridors params` lists (node.ID.FIELD, leg.ID.FIELD, service.NAME.FIELD, ...); "
        "give it twice for a grid over two parameters (the second takes --values2)",
    )
    p.add_argument("--values", required=True, metavar="A,B,C", help="the first parameter's values, e.g. 10,14,20,28")
    p.add_argument("--values2", metavar="X,Y", help="the second parameter's values")
    run_options(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: out/explore-<scenario>)")
    resume_option(p)


def _numbers(flag: str, text: str, param: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InputError(f"{flag} {text!r}: give numbers separated by commas, e.g. 10,14,20") from None
    if len(values) < 2:
        raise InputError(f"{flag} {text!r}: give at least 2 values of {param} for the slider to choose from")
    if any(not math.isfinite(v) for v in values):
        raise InputError(f"{flag} {text!r}: give finite numbers")
    return values


def run(args: argparse.Namespace) -> int:
    from maps.explore import explore_page
    from sim.explore import explore, explore_table
    from sim.scenario import load_scenario
    from sim.sweep import parse_param

    params: list[str] = args.param
    if len(params) > 2:
        raise InputError(f"--param is given {len(params)} times: an explorer takes one parameter, or two for a grid")
    if len(params) == 2 and args.values2 is None:
        raise InputError(f"--param {params[1]}: a second parameter takes its values with --values2, e.g. --values2 1,2")
    if len(params) == 1 and args.values2 is not None:
        raise InputError("--values2 is for a second --param: give one, or leave --values2 out")
    for param in params:
        parse_param(param)
    values = [_numbers("--values", args.values, params[0])]
    if len(params) == 2:
        values.append(_numbers("--values2", args.values2, params[1]))
    points = math.prod(len(v) for v in values)
    if points > MAX_POINTS:
        raise InputError(f"--values and --values2 make {points} points; an explorer holds at most {MAX_POINTS}")
    network = load_network(args.network) if args.network else None
    scenario = load_scenario(args.scenario, network=network)
    out = Path(args.out) if args.out else Path("out") / f"explore-{scenario.name}"
    if not args.out:
        out.parent.mkdir(exist_ok=True)
    check_output_dir(out, names=FILES, label="--out ")
    key = {"command": "explore", "param": params, "values": values, **_key(scenario, args)}
    total = args.replications * points
    kept, done = _runs_kept(out, key, args.resume, total)
    with _keeping(kept, total):
        data = explore(
            scenario,
            params,
            values,
            replications=args.replications,
            seed=args.seed,
            workers=args.workers,
            progress=STATUS.progress(),
            allow_large=args.allow_large,
            executor=args.executor,
            done=done,
            on_tally=kept.save,
        )
        page = explore_page(data, scenario.network)
        path, html_path = write_pair(out, "explore", data, page)
    STATUS.clear()
    if args.json:
        emit({"out": str(out), "files": [path.name, html_path.name], **without_version(data)})
        return 0
    what = " × ".join(f"{p} ({len(v)} values)" for p, v in zip(params, values, strict=True))
    print(f"Explorer of {what} on {scenario.name}: {reps(args.replications)} per point, seed {args.seed}")
    table = explore_table(data)
    if table.rows:
        print(render_text(table))
    else:
        print("  No service's mean or P95 transit or throughput moves over these values.")
    size = html_path.stat().st_size
    print(f"Wrote {path} and {html_path.name} ({size / 1000:,.0f} kB): open it in a browser, no network needed")
    return 0
