"""The commands that run the engine: simulate, validate, compare and sweep.

The engine and the reports are imported when a command runs (``corridors list`` stays quick).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corridors.cli.output import STATUS, emit, notice, reps, without_version, wrap, write_pair
from corridors.cli.sensitivity import read_for_report
from corridors.errors import InputError
from corridors.export import check_output_dir
from corridors.loader import load_network
from corridors.tables import render_text
from corridors.units import days

if TYPE_CHECKING:
    from sim.checkpoint import Partial, RunsKept
    from sim.scenario import Scenario
    from sim.summary import RunSummary
    from sim.tally import Tally
    from sim.validate import Target


def simulate(args: argparse.Namespace) -> int:
    from sim.checkpoint import Partial
    from sim.runner import RunWriter, run_key, simulate
    from sim.scenario import load_scenario

    network = load_network(args.network) if args.network else None
    scenario = load_scenario(args.scenario, network=network)
    drives = read_for_report(args.sensitivity)  # a bad file is named before the run, nothing written
    out = Path(args.out) if args.out else Path("out") / scenario.name
    if not args.out:
        out.parent.mkdir(exist_ok=True)
    status = STATUS.progress()
    partial = Partial(out, run_key(scenario, seed=args.seed, replications=args.replications, events=args.events))
    done = partial.resume() if args.resume else None
    writer = RunWriter(
        out,
        scenario,
        events=args.events,
        extra_names=["map.html", "report.html", "summary_services.csv"],
        label="--out ",
        partial=partial,
    )
    _announce(partial, args.replications, resumed=done is not None)
    if done is None:
        done = partial.start()
    # each replication's records are kept as it ends; only the first's stay in memory
    with _keeping(partial, args.replications), writer:
        result = simulate(
            scenario,
            replications=args.replications,
            seed=args.seed,
            workers=args.workers,
            progress=status,
            allow_large=args.allow_large,
            executor=args.executor,
            keep="first",
            on_records=writer.write,
            events=args.events,
            done=done,
            on_tally=partial.save,
        )
        from maps.report import run_map, run_report
        from sim.tables import kpi_csv

        if status:
            status(f"{scenario.name}: writing the map and the report")
        page = run_map(result)  # rendered once: the report shows it in a frame
        extra = {
            "map.html": page,
            "report.html": run_report(result, page, sensitivity=drives),
            "summary_services.csv": kpi_csv(result.summary),  # the key figures, for spreadsheets
        }
        writer.finish(result, argv=["corridors", *sys.argv[1:]], extra=extra)
    files = writer.files
    STATUS.clear()
    if args.json:
        emit({"out": str(out), "files": [f.name for f in files], "summary": result.summary.to_json()})
        return 0
    _print_summary(result.summary, scenario)
    print(f"\nWrote {out}/: {', '.join(f.name for f in files)}")
    return 0


@contextlib.contextmanager
def _keeping(kept: Partial | RunsKept, total: int) -> Iterator[None]:
    """On Ctrl-C, a signal or an error, say how many replications are kept for --resume (or
    remove the folder if none are); when the command ends well, remove it."""
    try:
        yield
    except BaseException:
        STATUS.clear()
        n = kept.kept()
        if n:
            STATUS.note = (
                f"{n} of {total} replications are kept in {kept.folder}: "
                "the same command with --resume finishes the run"
            )
        else:
            kept.remove()
        raise
    kept.remove()


def _key(scenario: Scenario, args: argparse.Namespace) -> dict[str, Any]:
    """What makes one of a command's runs the same run (``sim.runner.run_key``, without an event log)."""
    from sim.runner import run_key

    key = run_key(scenario, seed=args.seed, replications=args.replications, events="none")
    del key["events"]
    return key


def _announce(kept: Partial | RunsKept, total: int, *, resumed: bool) -> None:
    """Say what becomes of an interrupted run's replications: finished now, or discarded."""
    n = kept.kept() if kept.folder.is_dir() else 0
    if resumed:
        notice(f"resuming: {n} of {total} replications kept in {kept.folder}; running the other {total - n}")
    elif n:
        notice(
            f"starting afresh: the {n} replications an interrupted run kept in {kept.folder} are discarded "
            "(--resume finishes such a run)"
        )


def _runs_kept(out: Path, key: dict[str, Any], resume: bool, total: int) -> tuple[RunsKept, list[dict[int, Tally]]]:
    """The finished replications of a compare or sweep writing into ``out`` (with ``resume``: an
    interrupted one's, else none)."""
    from sim.checkpoint import RunsKept

    kept = RunsKept(out, key)
    done = kept.resume() if resume else None
    _announce(kept, total, resumed=done is not None)
    return kept, done if done is not None else kept.start()


def _print_summary(summary: RunSummary, scenario: Scenario) -> None:
    from sim.kpis import overload_note, rolling_stock_note
    from sim.tables import kpi_table

    end = scenario.date_at(scenario.end_h).date()
    print(
        f"Scenario {summary.scenario}: services {scenario.start.date()} to {end}, "
        f"{reps(summary.replications)}, seed {summary.seed}"
    )
    print(render_text(kpi_table(summary)))
    nodes = sorted(summary.nodes.items(), key=lambda item: -item[1].stay_h_mean)
    if nodes:
        print(
            "Longest stays at nodes, beyond service (queue + waiting for a vessel, sailing or opening, or an "
            "administrative hold): " + "; ".join(f"{n} {v.stay_h_mean:.1f} h" for n, v in nodes[:5])
        )
    stuck = {
        n: s.in_system_at_horizon_per_replication
        for n, s in summary.services.items()
        if s.in_system_at_horizon_per_replication
    }
    if stuck:
        print(
            "Still on their way at the horizon (per replication): "
            + ", ".join(f"{n} {v:g}" for n, v in stuck.items())
            + " — transit statistics cover arrived trains only."
        )
    warning = overload_note(summary)
    if warning:
        print(warning)
    wagons = rolling_stock_note(summary)
    if wagons:
        print(wagons)
    print(
        "On time: arrived within the service's promised transit (promised_transit_d in the scenario); "
        "waiting d: queues, vessels, sailings, closures and administrative holds."
    )


def compare(args: argparse.Namespace) -> int:
    from sim.compare import compare
    from sim.kpis import overload_note, rolling_stock_note
    from sim.scenario import load_scenario
    from sim.tables import compare_csv, compare_table

    network = load_network(args.network) if args.network else None
    base = load_scenario(args.base, network=network)
    whatifs = [load_scenario(w, network=network) for w in args.whatifs]
    drives = read_for_report(args.sensitivity)
    out = Path(args.out) if args.out else Path("out") / ("compare-" + "-".join([base.name, *[w.name for w in whatifs]]))
    check_output_dir(out, names=["compare.json", "compare.html", "compare.csv"], label="--out ")
    status = STATUS.progress()
    key = {"command": "compare", "runs": [_key(s, args) for s in (base, *whatifs)]}
    total = args.replications * (1 + len(whatifs))
    kept, done = _runs_kept(out, key, args.resume, total)
    with _keeping(kept, total):
        report, runs = compare(
            base,
            whatifs,
            replications=args.replications,
            seed=args.seed,
            workers=args.workers,
            progress=status,
            allow_large=args.allow_large,
            executor=args.executor,
            done=done,
            on_tally=kept.save,
        )
        from maps.report import compare_report

        if status:
            status("writing the comparison")
        page = compare_report(report, runs, sensitivity=drives)
        path, html_path = write_pair(out, "compare", report, page, csv=compare_csv(report))
    STATUS.clear()
    if args.json:
        emit({"out": str(out), "files": [path.name, html_path.name, "compare.csv"], **without_version(report)})
        return 0
    print(f"Compared with {base.name}: {reps(args.replications)}, seed {args.seed}, common random numbers")
    for w, run in zip(report["whatifs"], runs[1:], strict=True):
        print(f"\n{w['name']}: {w['description']}")
        if w.get("built_on") and w["built_on"] != base.name:
            print(
                f"  note: {w['name']} is built on {w['built_on']}, not on {base.name}: the differences include "
                "what separates the two bases"
            )
        print(render_text(compare_table(w)))
        warning = overload_note(run.summary)
        if warning:
            print(f"  {warning}")
        wagons = rolling_stock_note(run.summary, runs[0].summary)
        if wagons:
            print(f"  {wagons}")
        if w["unchanged"]:
            print("  Why nothing moved:")
            for reason in w["unchanged"]:
                print(wrap(reason))
    print(f"\nWrote {out}/: {path.name}, {html_path.name}, compare.csv")
    return 0


def sweep(args: argparse.Namespace) -> int:
    from maps.report import sweep_report
    from sim.scenario import load_scenario
    from sim.sweep import parse_param, sweep
    from sim.tables import sweep_csv, sweep_table

    _, _, field = parse_param(args.param)
    try:
        values = [float(v) for v in args.values.split(",")]
    except ValueError:
        raise InputError(f"--values {args.values!r}: give numbers separated by commas, e.g. 5,10,20") from None
    zero = field == "hold_probability"  # a probability may be 0: nobody held
    if not values or any(not math.isfinite(v) or v < 0 or (v == 0 and not zero) for v in values):
        shown = "0 or more" if zero else "above 0"
        raise InputError(f"--values {args.values!r}: give one or more finite numbers {shown}")
    network = load_network(args.network) if args.network else None
    scenario = load_scenario(args.scenario, network=network)
    out = Path(args.out) if args.out else Path("out") / f"sweep-{scenario.name}-{args.param}"
    check_output_dir(out, names=["sweep.json", "sweep.html", "sweep.csv"], label="--out ")
    key = {"command": "sweep", "param": args.param, "values": values, **_key(scenario, args)}
    total = args.replications * len(values)
    kept, done = _runs_kept(out, key, args.resume, total)
    with _keeping(kept, total):
        data = sweep(
            scenario,
            args.param,
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
        path, html_path = write_pair(out, "sweep", data, sweep_report(data), csv=sweep_csv(data))
    STATUS.clear()
    if args.json:
        emit({"out": str(out), "files": [path.name, html_path.name, "sweep.csv"], **without_version(data)})
        return 0
    print(f"Sweep of {args.param} on {scenario.name}: {reps(args.replications)} per value, seed {args.seed}")
    table = sweep_table(data)
    if table.rows:
        print(render_text(table))
    else:
        print("  No service's P95 transit or throughput moves over these values.")
    print(f"Wrote {out}/: {path.name}, {html_path.name}, sweep.csv")
    return 0


def validate(args: argparse.Namespace) -> int:
    from sim.runner import simulate
    from sim.scenario import load_scenario
    from sim.tables import validate_table
    from sim.validate import evaluate, load_targets, result_rows

    network = load_network(args.network) if args.network else None
    scenario = load_scenario(args.scenario, network=network)
    targets, skipped = load_targets(args.targets, scenario.network, {s.name: s.node_ids for s in scenario.services})
    result = simulate(
        scenario,
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        progress=STATUS.progress(),
        allow_large=args.allow_large,
        executor=args.executor,
    )
    STATUS.clear()
    every = result_rows(evaluate(targets, result.replications), scenario.network)
    rows = [r for r in every if r["kind"] != "expectation"]
    expectations = [r for r in every if r["kind"] == "expectation"]  # shown, never judged
    failed = [r["id"] for r in rows if r["kind"] == "end_to_end" and not r["passed"]]
    if args.json:
        emit(
            {
                "scenario": scenario.name,
                "replications": args.replications,
                "seed": args.seed,
                "rows": rows,
                "expectations": expectations,
                "skipped": skipped,
                "failed": failed,
                "ok": not failed,
            }
        )
        return 1 if failed else 0
    print(f"Validation of {scenario.name}: {reps(args.replications)}, seed {args.seed}")
    if rows:
        print(render_text(validate_table(rows)))
    for r in rows:
        if r["kind"] == "node":
            print(wrap(f"{r['id']} describes {r['applies_to']}; the model's figure is for the simulated trains there."))
    fitted = [r for r in rows if r["fitted_parameters"]]
    if fitted:
        independent = [r["id"] for r in rows if r["kind"] == "end_to_end" and not r["fitted_parameters"]]
        print(wrap(f"Independent evidence (no parameter was fitted to them): {', '.join(independent) or 'none'}."))
        print(
            wrap(
                "* parameters were fitted to these figures, so the row checks the fit: "
                + "; ".join(f"{r['id']}: {', '.join(r['fitted_parameters'])}" for r in fitted)
            )
        )
    if expectations:
        _print_expectations(expectations)
    if skipped:
        print(f"  Left out (their services are not in this scenario): {', '.join(skipped)}")
    if failed:
        print(f"{len(failed)} end-to-end {'row fails' if len(failed) == 1 else 'rows fail'}: {', '.join(failed)}")
        for r in rows:
            if r["id"] in failed:
                print(wrap(f"{r['id']} ({r['what']}): " + (r["note"] or "") + f" [{', '.join(r['sources'])}]"))
        _print_days_of_failed(targets, failed, result.summary)
        return 1
    print("All end-to-end rows pass.")
    return 0


def _print_expectations(rows: Sequence[dict[str, Any]]) -> None:
    """Expectation rows: the model's figure beside the spread of the published figures, then each
    figure with its status, who gave it and when, and its sources. Never a verdict."""
    from sim.tables import claim_figure, expectation_table

    print("Expectations (not judged; no observed transit among their published figures):")
    print(render_text(expectation_table(rows)))
    for r in rows:
        print(f"  {r['id']} published figures:")
        for c in r["claims"]:
            said = f"{claim_figure(c, r['unit'])} {c['status']}: {c['note']} [{', '.join(c['sources'])}]"
            print(wrap(said, indent=4))
        if r["note"]:
            print(wrap(f"{r['id']}: {r['note']}"))


def _print_days_of_failed(targets: Sequence[Target], failed: list[str], summary: RunSummary) -> None:
    """Where the days of a failing door-to-door row's services go, to show what to look at first."""
    for target in targets:
        if target.id not in failed or target.how.measure != "transit":
            continue
        for name in target.how.services:
            where = summary.where_days_go.get(name)
            if not where:
                continue
            countries = ", ".join(f"{c} {days(h):.1f}" for c, h in where.by_country_h.items())
            stays = sorted(where.by_node_h.items(), key=lambda kv: -kv[1])[:4]
            print(f"  {target.id} {name}, days by country: {countries}")
            print(f"  {' ' * len(target.id)} longest stays: {', '.join(f'{n} {h:.0f} h' for n, h in stays)}")
