"""``corridors sensitivity``: which estimated parameters move an output (Morris, then Sobol)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corridors.cli.output import STATUS, emit, notice, reps, without_version, wrap, write_pair
from corridors.export import check_output_dir
from corridors.loader import load_network

if TYPE_CHECKING:
    from sim.sensitivity_file import SensitivityFile

__all__ = ["read_for_report", "register", "report_option", "run"]

Adder = Callable[[argparse.ArgumentParser], None]


def register(command: Callable[..., argparse.ArgumentParser], run_options: Adder, resume_option: Adder) -> None:
    """Add the ``sensitivity`` command with the parser's ``command`` helper and its shared options."""
    p = command(
        "sensitivity",
        "which estimated parameters move an output: Morris screening, then Sobol indices of the top ones",
        run,
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled name, e.g. baseline")
    p.add_argument(
        "--output",
        action="append",
        required=True,
        metavar="KPI",
        help="service.NAME.transit_d_mean, service.NAME.transit_d_p95, node.ID.wait_h_mean or "
        "compare.WHATIF.service.NAME.transit_d_mean (may repeat)",
    )
    p.add_argument("-o", "--out", metavar="DIR", help="output folder (default: out/sensitivity-<scenario>)")
    run_options(p)
    p.set_defaults(replications=2)
    p.add_argument("--trajectories", type=int, default=4, metavar="N", help="Morris trajectories (default 4)")
    p.add_argument("--top", type=int, default=5, metavar="K", help="parameters given Sobol indices (default 5)")
    p.add_argument(
        "--sobol-samples",
        type=int,
        default=32,
        metavar="N",
        help="Sobol base samples, a power of 2 (default 32; 0: Morris only)",
    )
    p.add_argument(
        "--every-parameter",
        action="store_true",
        help="screen every estimated parameter, not only those of the places the output's trains pass",
    )
    resume_option(p)


def report_option(p: argparse.ArgumentParser) -> None:
    """``--sensitivity FILE`` of the commands that write a report (simulate, compare)."""
    p.add_argument(
        "--sensitivity",
        metavar="FILE",
        help="a sensitivity.json (from `corridors sensitivity`): the report says what drives the answer",
    )


def read_for_report(path: str | None) -> SensitivityFile | None:
    """The ``--sensitivity`` file, read and checked before any run (None without the option)."""
    from sim.sensitivity_file import read_sensitivity

    return None if path is None else read_sensitivity(path)


def run(args: argparse.Namespace) -> int:
    from maps.sensitivity import sensitivity_report
    from sim.runner import run_key
    from sim.scenario import load_scenario
    from sim.sensitivity import RunLog, check_design, parse_output, sensitivity

    for text in args.output:
        parse_output(text)  # a bad --output is named before anything is loaded
    network = load_network(args.network) if args.network else None
    scenario = load_scenario(args.scenario, network=network)
    sizes = {"trajectories": args.trajectories, "top": args.top, "sobol_samples": args.sobol_samples}
    check_design(scenario, args.output, **sizes)  # before the output folder is touched
    out = Path(args.out) if args.out else Path("out") / f"sensitivity-{scenario.name}"
    check_output_dir(out, names=["sensitivity.json", "sensitivity.html"], label="--out ")
    options = ("output", "replications", "seed", "trajectories", "top", "sobol_samples", "every_parameter")
    key = {
        "command": "sensitivity",
        **{k: getattr(args, k) for k in options},
        **run_key(scenario, seed=args.seed, replications=args.replications, events="none"),
    }
    log = RunLog(out, key)
    done = start_log(log, resume=args.resume)
    with _keeping(log):
        data = sensitivity(
            scenario,
            args.output,
            replications=args.replications,
            seed=args.seed,
            trajectories=args.trajectories,
            top=args.top,
            sobol_samples=args.sobol_samples,
            every_parameter=args.every_parameter,
            workers=args.workers,
            executor=args.executor,
            progress=STATUS.progress(),
            allow_large=args.allow_large,
            done=done,
            on_run=log.save,
        )
        path, html_path = write_pair(out, "sensitivity", data, sensitivity_report(data))
    STATUS.clear()
    if args.json:
        emit({"out": str(out), "files": [path.name, html_path.name], **without_version(data)})
        return 0
    _print(data)
    print(f"Wrote {path} and {html_path.name}")
    return 0


def _print(data: dict[str, Any]) -> None:
    from sim.sensitivity import top_rows

    method = data["method"]
    samples = method["sobol"]["samples"]
    sobol = f"Sobol indices for the top {len(data['top'])} ({samples} samples)" if samples else "no Sobol indices"
    print(
        f"Sensitivity of {data['scenario']}: {_count(len(data['parameters']), 'estimated parameter')} screened "
        f"(Morris, {method['morris']['trajectories']} trajectories), {sobol}; {reps(data['replications'])} a point, "
        f"seed {data['seed']}, common random numbers: {method['model_runs']:,} model runs"
    )
    for o in data["outputs"]:
        result = data["results"][o["output"]]
        unit = o["unit"]
        print(f"\n{o['output']}: {_fmt(result['at_data_values'])} {unit} at the data's values")
        sobol = result["sobol"]
        if sobol:
            print(f"  spread over the parameters' ranges: sd {_fmt(sobol['sd'])} {unit}")
        for row in top_rows(data, o["output"]):
            line = f"  {row['path']:<34} μ* {_fmt(row['mu_star']):>8} {unit}"
            if row.get("st") is not None:
                line += f"  S1 {_fmt(row['s1'])}  ST {_fmt(row['st'])}  sd if pinned {_fmt(row['sd_if_pinned'])} {unit}"
            print(line)
            sources = ", ".join(row["sources"]) or "no source"
            print(wrap(f"[{sources}] {row['note']}".rstrip(), indent=4))
    print(
        "\nμ*: mean absolute change of the output over a parameter's whole range (Morris); S1, ST: first- and "
        "total-order shares of the output's variance (Sobol); sd if pinned: the spread left, on average, "
        "once the parameter is known exactly."
    )


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def _announce(log: Any, *, resumed: bool) -> None:
    n = log.kept() if log.folder.is_dir() else 0
    if resumed:
        notice(f"resuming: {n} model runs kept in {log.folder}; running the rest")
    elif n:
        notice(
            f"starting afresh: the {n} model runs an interrupted run kept in {log.folder} are discarded "
            "(--resume finishes such a run)"
        )


def start_log(log: Any, *, resume: bool) -> Any:
    """The model runs an interrupted run kept (``resume``), else a fresh log's none; said either way."""
    done = log.resume() if resume else None
    _announce(log, resumed=done is not None)
    return log.start() if done is None else done


@contextlib.contextmanager
def _keeping(log: Any) -> Iterator[None]:
    """On Ctrl-C, a signal or an error, say how many model runs are kept for --resume (or remove
    the folder if none are); when the command ends well, remove it."""
    try:
        yield
    except BaseException:
        STATUS.clear()
        n = log.kept()
        if n:
            STATUS.note = f"{n} model runs are kept in {log.folder}: the same command with --resume finishes the run"
        else:
            log.remove()
        raise
    log.remove()
