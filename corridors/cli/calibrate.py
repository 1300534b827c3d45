"""``corridors calibrate``: chosen estimated parameters fitted to the calibration targets, with
leave-one-target-out errors, written as a scenario overlay."""

from __future__ import annotations

import argparse
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from corridors.cli.output import STATUS, emit, print_table, reps, without_version, wrap
from corridors.cli.sensitivity import _keeping, start_log  # the same run log, kept and resumed alike
from corridors.errors import DataError
from corridors.export import check_output_dir, json_text, staged_folder
from corridors.loader import display_path, load_network
from corridors.tables import clip

__all__ = ["register", "run"]

Adder = Callable[[argparse.ArgumentParser], None]
FILES = ("calibration.json", "overlay.toml")


def register(command: Callable[..., argparse.ArgumentParser], run_options: Adder, resume_option: Adder) -> None:
    """Add the ``calibrate`` command with the parser's ``command`` helper and its shared options."""
    p = command(
        "calibrate",
        "fit estimated parameters to the calibration targets; write them as a scenario overlay, with "
        "each target's error in-sample and when left out of the fit",
        run,
    )
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario file or bundled name (default: baseline)")
    p.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="PATH",
        help="a node's or leg's estimated value, as `corridors params --estimates` lists it, e.g. "
        "node.KZRU_BORDER.process_h (may repeat)",
    )
    p.add_argument("--targets", metavar="FILE", help="targets file (default: the bundled calibration targets)")
    p.add_argument("--allow-sourced", action="store_true", help="also fit values that cite only published sources")
    p.add_argument("--budget", type=int, default=40, metavar="N", help="at most N parameter points a fit (default 40)")
    p.add_argument("-o", "--out", metavar="DIR", help="output folder (default: out/calibrate-<scenario>)")
    run_options(p)
    p.set_defaults(replications=2)
    resume_option(p)


def run(args: argparse.Namespace) -> int:
    from sim.calibrate import calibrate, check_fit, overlay_toml
    from sim.runner import run_key
    from sim.scenario import load_scenario
    from sim.sensitivity import RunLog
    from sim.validate import default_targets

    network = load_network(args.network) if args.network else None
    scenario = load_scenario(args.scenario, network=network)
    options = {k: getattr(args, k) for k in ("targets", "allow_sourced", "budget", "replications", "seed")}
    check_fit(scenario, args.param, **options)  # everything it would refuse, before the folder is touched
    out = Path(args.out) if args.out else Path("out") / f"calibrate-{scenario.name}"
    check_output_dir(out, names=FILES, label="--out ")
    targets_path = Path(args.targets) if args.targets else default_targets()
    try:
        targets_sha256 = hashlib.sha256(targets_path.read_bytes()).hexdigest()
    except OSError:
        raise DataError(display_path(targets_path), None, None, None, "targets file not found") from None
    key = {
        "command": "calibrate",
        **{k: getattr(args, k) for k in ("param", "allow_sourced", "budget", "replications", "seed")},
        "targets_sha256": targets_sha256,
        **run_key(scenario, seed=args.seed, replications=args.replications, events="none"),
    }
    log = RunLog(out, key)
    done = start_log(log, resume=args.resume)
    with _keeping(log):
        data = calibrate(
            scenario,
            args.param,
            targets=args.targets,
            allow_sourced=args.allow_sourced,
            replications=args.replications,
            seed=args.seed,
            budget=args.budget,
            workers=args.workers,
            executor=args.executor,
            progress=STATUS.progress(),
            allow_large=args.allow_large,
            done=done,
            on_run=log.save,
        )
        overlay = overlay_toml(data, base=_base(scenario.path, out), network=_relative(args.network, out))
        with staged_folder(out, label="--out ") as tmp:
            (tmp / "calibration.json").write_text(json_text(data), encoding="utf-8")
            (tmp / "overlay.toml").write_text(overlay, encoding="utf-8")
    STATUS.clear()
    if args.json:
        emit({"out": str(out), "files": list(FILES), **without_version(data)})
        return 0
    _print(data, out)
    return 0


def _base(path: Path | None, out: Path) -> str:
    """The scenario as the overlay's ``base``: its bundled name, or its path from the output folder."""
    from sim.spec import bundled_scenario

    if path is None:
        return "baseline"
    if path.resolve() == bundled_scenario(path.stem).resolve():
        return path.stem
    return _relative(path, out) or str(path)


def _relative(path: str | os.PathLike[str] | None, out: Path) -> str | None:
    """``path`` as seen from the folder ``out`` (absolute where no relative path leads there)."""
    if path is None:
        return None
    try:
        return Path(os.path.relpath(Path(path).resolve(), out.resolve())).as_posix()
    except ValueError:  # another drive
        return str(Path(path).resolve())


def _print(data: dict[str, Any], out: Path) -> None:
    method = data["method"]
    used = data["targets_used"]
    print(
        f"Calibration of {data['scenario']}: {len(data['parameters'])} parameters fitted to {', '.join(used)} "
        f"({reps(data['replications'])} a point, seed {data['seed']}, common random numbers): "
        f"{method['model_runs']:,} model runs"
    )
    rows = [["parameter", "data", "fitted", "range", "fitted to"]]
    for p in data["parameters"]:
        unit = "×" if p["unit"] == "factor" else f" {p['unit']}"
        span = f"{p['low']:g}–{p['high']:g}{unit}"
        rows.append([p["path"], f"{p['before']:g}", f"{p['after']:g}", span, ", ".join(p["fitted_to"]) or "–"])
    print_table(rows, {1, 2})
    objective = data["objective"]
    print(f"Objective: {objective['before']:g} at the data's values, {objective['after']:g} fitted")
    rows = [["id", "what", "published", "data", "fitted", "left out", "error: data", "fitted", "left out"]]
    for t in data["targets"]:
        if not t["used"]:
            continue
        mean, error = t["simulated_mean"], t["error"]
        low, high = t["observed"]
        published = f"{low:g}–{high:g} {t['unit']}" if low != high else f"{low:g} {t['unit']}"
        rows.append(
            [t["id"], clip(t["what"], 40), published]
            + [_figure(mean[k], t["unit"]) for k in ("before", "in_sample", "leave_one_out")]
            + [_figure(error[k]) for k in ("before", "in_sample", "leave_one_out")]
        )
    print_table(rows, set(range(2, 9)))
    unused = [t["id"] for t in data["targets"] if not t["used"]]
    if unused:
        print(wrap(f"Not used (no fitted parameter reaches them, or nothing was measured): {', '.join(unused)}."))
    print(
        wrap(
            "Error: how far the simulated mean lies outside the published range, in widths of the range (0 "
            "inside). Left out: the target at the fit made without it, which is what the other targets say "
            "about it. A fitted value is no longer independent evidence for the targets it was fitted to: "
            f"`corridors validate {out / 'overlay.toml'}` marks them pass*."
        )
    )
    print(f"Wrote {out}/: {', '.join(FILES)}")


def _figure(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.2f} {unit}" if unit else f"{value:.2f}"
