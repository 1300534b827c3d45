"""Calibration: chosen estimated parameters fitted, within their ranges, to the calibration targets.

**The objective.** A judged target (``kind = "end_to_end"``) is a published range [low, high]:
the spread of the figures its sources give, any of which may be the truth, so every simulated
mean inside it is as good as any other. Its error (``target_error``) is how far the simulated
mean lies outside the range, in widths of the range (0 inside; a range narrower than a tenth of
its upper end counts as that wide, so a single published figure is not a needle). The objective
is the sum of the squared errors of the targets used, plus ``REGULARISATION`` times the sum of
each parameter's squared distance from its data value in widths of its range: moving a parameter
across its whole range costs what leaving one target a tenth of its width outside does, so the
fit moves a parameter only to bring a target in, and where the targets do not decide (every
point inside every range) it stays at the data's value.

**The model.** Each parameter point (``sim.params.apply``) runs ``replications`` replications
with the same seeds (common random numbers): the objective is then a deterministic function of
the parameters, and the optimiser does not chase noise from point to point. Each replication is
a job on an executor (``sim.executor``); results come back in job order, so the fit is the same
whatever the workers or backend. A point's replications run once, however often it is asked for.

**The optimiser.** Nelder-Mead (``scipy.optimize.minimize``, bounded) over the parameters' ranges
scaled to [0, 1], starting from the data's values with a simplex a quarter of each range wide (a
whole unit at least for a count), at most ``budget`` points a fit; then each parameter in turn is
put back at its data value if that does not make the objective worse (the optimiser stops within
a tolerance, and a parameter the targets do not need should not move at all): derivative-free (a simulated
mean moves in small steps even with common random numbers), few points for one to four
parameters, and started at the data it finds the good fit nearest to them.

**Leave-one-target-out.** For each target used, the fit is made again without it (from the
data's values, not from the full fit, which knew that target) and the target's error at that
fit is reported beside its in-sample error: what the other targets say about it. These fits are
jobs on the executor, each running its replications in its worker.

Only the targets the chosen parameters can reach are used: those whose measured trains pass the
parameter's node or leg (for a segment, between its two events). A fitted parameter is no longer
independent evidence for the targets it was fitted to.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from corridors.errors import InputError
from corridors.errors import Parameter as Param
from corridors.units import HOURS_PER_DAY
from sim.engine import run_replication
from sim.executor import Executor, executor_for
from sim.limits import check_run_size
from sim.params import Parameter, apply, parameter_space
from sim.runner import Step
from sim.scenario import Scenario
from sim.sweep import parse_param
from sim.validate import Measure, Target, evaluate

__all__ = ["REGULARISATION", "calibrate", "check_fit", "chosen_parameters", "overlay_toml", "target_error"]

#: Weight of the pull toward the data's values (see the module's docstring).
REGULARISATION = 0.01
#: A range counts as at least this share of its upper end wide.
MIN_WIDTH_SHARE = 0.1
#: The error of a target no train was measured for at a point: ten widths outside.
MISSING_ERROR = 10.0
#: The initial simplex: this share of each range from the data's value.
STEP = 0.25
#: Nelder-Mead stops when the simplex is within 1% of each range and the objective within 1e-4.
XATOL, FATOL = 0.01, 1e-4

PARAM, BUDGET, TARGETS = Param("param"), Param("budget"), Param("targets")
Point = tuple[float, ...]
#: Per judged target: the mean (hours, None when nothing was measured) and how many values.
Measured = list[tuple[float | None, int]]
Floats = npt.NDArray[np.float64]


def target_error(mean_h: float | None, low_h: float, high_h: float) -> float:
    """How far a simulated mean lies outside a published range, in widths of the range (0 inside).

    >>> target_error(15.0, 10.0, 14.0), target_error(12.0, 10.0, 14.0), target_error(None, 1.0, 2.0)
    (0.25, 0.0, 10.0)
    """
    if mean_h is None:
        return MISSING_ERROR
    width = max(high_h - low_h, MIN_WIDTH_SHARE * high_h, 1e-9)
    return max(low_h - mean_h, mean_h - high_h, 0.0) / width


@dataclass(frozen=True)
class _Spec:
    """What a fit needs, wherever it runs: the parameters, the targets' ranges, the run options."""

    paths: tuple[str, ...]
    data: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    integer: tuple[bool, ...]
    #: (low_h, high_h) of every judged target, in order
    ranges: tuple[tuple[float, float], ...]
    seed: int
    replications: int
    budget: int

    def point(self, u: Sequence[float] | Floats) -> Point:
        """The parameter values at ``u`` (each range scaled to [0, 1]): counts whole, others to 6 digits."""
        out = []
        for k, x in enumerate(u):
            value = self.low[k] + min(max(float(x), 0.0), 1.0) * (self.high[k] - self.low[k])
            out.append(float(round(value)) if self.integer[k] else float(f"{value:.6g}"))
        return tuple(out)

    def scaled(self, point: Sequence[float]) -> Floats:
        return np.asarray([(v - lo) / (hi - lo) for v, lo, hi in zip(point, self.low, self.high, strict=True)])

    def objective(self, used: Sequence[int], means: Sequence[float | None], u: Sequence[float] | Floats) -> float:
        """The squared errors of the targets ``used`` plus the pull toward the data's values."""
        misses = math.fsum(target_error(means[i], *self.ranges[i]) ** 2 for i in used)
        pull = float(np.sum((np.asarray(u, dtype=float) - self.scaled(self.data)) ** 2))
        return misses + REGULARISATION * pull


class _Runs:
    """The replications at parameter points, each run once (``run`` runs a batch, in order)."""

    def __init__(
        self,
        spec: _Spec,
        run: Callable[[list[tuple[Point, int]]], Iterable[Measured]],
        known: dict[tuple[Point, int], Measured],
    ) -> None:
        self.spec, self.run, self.known = spec, run, known
        self.runs = 0  # replications run here (not found in ``known``)

    def means(self, points: Sequence[Point]) -> list[list[float | None]]:
        """Per point, per judged target, the mean over the point's replications pooled (hours)."""
        todo = list(dict.fromkeys((p, r) for p in points for r in range(self.spec.replications)))
        todo = [job for job in todo if job not in self.known]
        for job, got in zip(todo, self.run(todo), strict=True):
            self.known[job] = got
            self.runs += 1
        out = []
        for p in points:
            reps = [self.known[(p, r)] for r in range(self.spec.replications)]
            pooled: list[float | None] = []
            for i in range(len(self.spec.ranges)):
                n = sum(rep[i][1] for rep in reps)
                total = math.fsum((rep[i][0] or 0.0) * rep[i][1] for rep in reps)
                pooled.append(total / n if n else None)
            out.append(pooled)
        return out


def _fit(spec: _Spec, used: Sequence[int], runs: _Runs) -> dict[str, Any]:
    """Nelder-Mead over the targets ``used`` from the data's values: the best point, its
    objective, the points tried and the judged targets' means there."""
    from scipy.optimize import minimize

    u0 = spec.scaled(spec.data)
    at_data = runs.means([spec.point(u0)])[0]
    if spec.objective(used, at_data, u0) == 0:  # every target inside at the data's values: the least there is
        return {"point": list(spec.point(u0)), "objective": 0.0, "evaluations": 1, "means": at_data}
    simplex = [u0]
    for k in range(len(u0)):
        step = max(STEP, 1.0 / (spec.high[k] - spec.low[k])) if spec.integer[k] else STEP
        vertex = u0.copy()
        vertex[k] += step if u0[k] + step <= 1 else -step
        simplex.append(np.clip(vertex, 0.0, 1.0))
    runs.means([spec.point(u) for u in simplex])  # the first points in one batch
    tried = 0

    def objective(u: Floats) -> float:
        nonlocal tried
        tried += 1
        return spec.objective(used, runs.means([spec.point(u)])[0], u)

    got = minimize(
        objective,
        u0,
        method="Nelder-Mead",
        bounds=[(0.0, 1.0)] * len(u0),
        options={"initial_simplex": np.asarray(simplex), "maxfev": spec.budget, "xatol": XATOL, "fatol": FATOL},
    )
    best_u, best = np.asarray(got.x, dtype=float), float(got.fun)
    for k in range(len(u0)):  # a parameter the targets do not need goes back to the data's value
        back = best_u.copy()
        back[k] = u0[k]
        if back[k] != best_u[k] and (value := objective(back)) <= best:
            best_u, best = back, value
    point = spec.point(best_u)
    return {"point": list(point), "objective": best, "evaluations": tried, "means": runs.means([point])[0]}


# --- jobs, wherever they run ------------------------------------------------------------------

Shared = tuple[Scenario, tuple[Target, ...]]


def _replicate(shared: Shared, job: tuple[tuple[tuple[str, float], ...], int, int]) -> Measured:
    """One replication at one parameter point, reduced to each judged target's mean and count."""
    scenario, targets = shared
    values, seed, replication = job
    rep = run_replication(apply(scenario, dict(values)), seed=seed, replication=replication)
    return [(r.mean_h, r.n) for r in evaluate(targets, [rep])]


def _in_process(shared: Shared, spec: _Spec) -> Callable[[list[tuple[Point, int]]], Iterable[Measured]]:
    def run(jobs: list[tuple[Point, int]]) -> Iterable[Measured]:
        for point, r in jobs:
            yield _replicate(shared, (tuple(zip(spec.paths, point, strict=True)), spec.seed, r))

    return run


def _fit_job(shared: Shared, job: tuple[_Spec, tuple[int, ...], tuple[Any, ...]]) -> dict[str, Any]:
    """A leave-one-out fit in a worker: its replications run there (those ``known`` are not run)."""
    spec, used, known = job
    runs = _Runs(spec, _in_process(shared, spec), {k: v for k, v in known})
    return _fit(spec, used, runs) | {"runs": runs.runs}


# --- what is fitted to what ----------------------------------------------------------------------


def chosen_parameters(scenario: Scenario, paths: Sequence[str], *, allow_sourced: bool = False) -> list[Parameter]:
    """The parameters ``paths`` name (``sim.params.parameter_space``), each once: a node's or a
    leg's value (an ``[[overrides]]`` sets it), with a range to fit it in, and an estimate unless
    ``allow_sourced``. Raises ``InputError`` naming the path."""
    import difflib

    if not paths:
        raise InputError(PARAM, ": give at least one parameter to fit (the parameter space lists them)")
    space = {p.path: p for p in parameter_space(scenario)}
    chosen: dict[str, Parameter] = {}
    for text in paths:
        kind, ident, field = parse_param(text)
        if kind not in ("node", "leg"):
            raise InputError(
                PARAM, f" {text!r}: a calibration fits a node's or a leg's value (node.ID.FIELD, leg.ID.FIELD)"
            )
        path = f"{kind}.{ident.upper() if kind == 'node' else ident}.{field}"
        p = space.get(path)
        if p is None:
            close = difflib.get_close_matches(path, list(space), n=2, cutoff=0.8)
            hint = f"; did you mean {' or '.join(close)}?" if close else " (`corridors params` lists them)"
            raise InputError(PARAM, f" {text!r}: not a parameter of {scenario.name}{hint}")
        if not p.estimate and not allow_sourced:
            raise InputError(
                PARAM,
                f" {path}: a published value ({', '.join(p.sources)}), not an estimate; ",
                Param("allow_sourced"),
                " fits it all the same",
            )
        if not p.high > p.low:
            raise InputError(PARAM, f" {path}: no range to fit it in ({p.note})")
        chosen.setdefault(path, p)
    return list(chosen.values())


def _covered(
    how: Measure, routes: Mapping[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]
) -> tuple[set[str], set[str]]:
    """The nodes and legs whose values a target's measure can feel: its services' routes (for a
    segment, from its first event's place to its second's), a dwell's nodes."""
    nodes: set[str] = set(how.nodes)
    legs: set[str] = set()
    for part in (how.a, how.b):
        if part is not None:
            more_nodes, more_legs = _covered(part, routes)
            nodes |= more_nodes
            legs |= more_legs
    for name in how.services:
        for route_nodes, route_legs in routes.get(name, []):
            a, b = 0, len(route_nodes) - 1
            if how.start and how.stop and how.start[0] in route_nodes and how.stop[0] in route_nodes:
                a, b = route_nodes.index(how.start[0]), route_nodes.index(how.stop[0])
            nodes.update(route_nodes[a : b + 1])
            legs.update(route_legs[a:b])
    return nodes, legs


def _reach(scenario: Scenario, targets: Sequence[Target], chosen: Sequence[Parameter]) -> list[list[str]]:
    """Per target, the chosen parameters that can reach it (their node or leg is on its trains' way)."""
    routes = {
        s.name: [(s.node_ids, s.leg_ids)] + ([(s.detour[2], s.detour[3])] if s.detour else [])
        for s in scenario.services
    }
    out = []
    for t in targets:
        nodes, legs = _covered(t.how, routes)
        where = {"node": nodes, "leg": legs}
        out.append([p.path for p in chosen if p.path.split(".")[1] in where[p.path.split(".")[0]]])
    return out


# --- the run -------------------------------------------------------------------------------------


def check_fit(
    scenario: Scenario,
    params: Sequence[str],
    *,
    targets: str | None = None,
    allow_sourced: bool = False,
    budget: int = 40,
    replications: int = 2,
    seed: int = 1,
) -> None:
    """What ``calibrate`` would refuse, checked before anything runs or is written: the options,
    the parameters, the targets file, and that a judged target reaches each parameter."""
    _prepare(scenario, params, targets, allow_sourced, budget, replications, seed)


def _prepare(
    scenario: Scenario,
    params: Sequence[str],
    targets: str | None,
    allow_sourced: bool,
    budget: int,
    replications: int,
    seed: int,
) -> tuple[list[Parameter], tuple[Target, ...], list[list[str]]]:
    _check_options(replications, seed, budget)
    chosen = chosen_parameters(scenario, params, allow_sourced=allow_sourced)
    from sim.validate import load_targets

    loaded, _ = load_targets(targets, scenario.network, {s.name: s.node_ids for s in scenario.services})
    judged = tuple(t for t in loaded if t.kind == "end_to_end")
    if not judged:
        raise InputError(TARGETS, ": no end_to_end target to fit to (node and expectation rows are not judged)")
    reach = _reach(scenario, judged, chosen)
    for p in chosen:
        if not any(p.path in paths for paths in reach):
            raise InputError(PARAM, f" {p.path}: no judged target's trains pass it, so nothing can fit it")
    return chosen, judged, reach


def calibrate(
    scenario: Scenario,
    params: Sequence[str],
    *,
    targets: str | None = None,
    allow_sourced: bool = False,
    replications: int = 2,
    seed: int = 1,
    budget: int = 40,
    workers: int = 1,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
    allow_large: bool = False,
    done: Mapping[str, Mapping[int, dict[str, Any]]] | None = None,
    on_run: Callable[[str, int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Fit ``params`` (paths, as ``corridors params`` lists them) of ``scenario`` to the judged
    targets of ``targets`` (a file; default the bundled calibration targets) that they reach,
    then again without each of those targets in turn (leave-one-target-out).

    Each point runs ``replications`` replications with seeds ``seed``, 0, 1, …; a fit tries at
    most ``budget`` points. They run on ``executor`` (default: ``workers`` local processes);
    ``done`` (per stage, ``fit`` and ``loo``, what an interrupted run finished, as ``on_run``
    was told of it) is not run again; ``progress`` is told after each replication of the fit
    and each leave-one-out fit (a ``Step``). The result is ``calibration.json``'s content
    (docs/json.md); ``overlay_toml`` turns it into a scenario file.
    """
    chosen, judged, reach = _prepare(scenario, params, targets, allow_sourced, budget, replications, seed)
    spec = _Spec(
        paths=tuple(p.path for p in chosen),
        data=tuple(p.value for p in chosen),
        low=tuple(p.low for p in chosen),
        high=tuple(p.high for p in chosen),
        integer=tuple(p.integer for p in chosen),
        ranges=tuple((t.low_h, t.high_h) for t in judged),
        seed=seed,
        replications=replications,
        budget=budget,
    )
    in_flight = executor.workers if executor is not None else workers
    check_run_size([scenario], replications, allow_large=allow_large, at_once=False, keep="none", in_flight=in_flight)
    runner = executor or executor_for(workers)
    try:
        data = _run(scenario, spec, chosen, judged, reach, runner, done or {}, on_run, progress)
    finally:
        if executor is None:
            runner.close()
    return {"schema_version": 1, "scenario": scenario.name, "targets_file": targets, **data}


def _check_options(replications: int, seed: int, budget: int) -> None:
    for name, value, least in (("replications", replications, 1), ("seed", seed, 0), ("budget", budget, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise InputError(Param(name), f" ({value!r}) must be a whole number of at least {least}")
    if budget > 10_000:
        raise InputError(BUDGET, f" ({budget}) must be at most 10,000 points a fit")


def _run(
    scenario: Scenario,
    spec: _Spec,
    chosen: Sequence[Parameter],
    judged: tuple[Target, ...],
    reach: Sequence[Sequence[str]],
    runner: Executor,
    done: Mapping[str, Mapping[int, dict[str, Any]]],
    on_run: Callable[[str, int, dict[str, Any]], None] | None,
    progress: Callable[[str], None] | None,
) -> dict[str, Any]:
    tell = progress or (lambda _m: None)
    shared: Shared = (scenario, judged)
    known: dict[tuple[Point, int], Measured] = {}
    for piece in done.get("fit", {}).values():
        known[(tuple(piece["point"]), piece["replication"])] = [(m, n) for m, n in piece["targets"]]
    step = f"{scenario.name}: fit"
    total = (spec.budget + len(spec.paths) + 2) * spec.replications  # at most; the bar ends full
    logged = len(done.get("fit", {}))

    def on_executor(jobs: list[tuple[Point, int]]) -> Iterable[Measured]:
        nonlocal logged
        payload = [(tuple(zip(spec.paths, p, strict=True)), spec.seed, r) for p, r in jobs]
        for (p, r), got in zip(jobs, runner.map(_replicate, shared, payload), strict=True):
            if on_run is not None:
                on_run("fit", logged, {"point": list(p), "replication": r, "targets": [list(x) for x in got]})
            logged += 1
            tell(Step(step, min(len(known) + 1, total), total))
            yield got

    runs = _Runs(spec, on_executor, known)
    u0 = spec.scaled(spec.data)
    before = runs.means([spec.point(u0)])[0]
    used = [i for i, paths in enumerate(reach) if paths and before[i] is not None]
    full = _fit(spec, used, runs)
    tell(Step(step, total, total))
    loo = _leave_one_out(runner, shared, spec, used, known, done.get("loo", {}), on_run, tell)
    model_runs = len(known) + sum(int(r["runs"]) for r in loo)
    stages = {"before": before, "full": full, "loo": dict(zip(used, loo, strict=True))}
    return _json(spec, chosen, judged, reach, stages, model_runs)


def _leave_one_out(
    runner: Executor,
    shared: Shared,
    spec: _Spec,
    used: Sequence[int],
    known: Mapping[tuple[Point, int], Measured],
    done: Mapping[int, dict[str, Any]],
    on_run: Callable[[str, int, dict[str, Any]], None] | None,
    tell: Callable[[str], None],
) -> list[dict[str, Any]]:
    """The fit without each target used, in turn: jobs on the executor, in the order of ``used``."""
    cache = tuple(known.items())
    jobs = [(spec, tuple(j for j in used if j != i), cache) for i in used]
    results = {k: dict(v) for k, v in done.items() if 0 <= k < len(jobs)}
    todo = [k for k in range(len(jobs)) if k not in results]
    label = "leave-one-target-out fits"
    tell(Step(label, len(results), len(jobs)))
    for k, got in zip(todo, runner.map(_fit_job, shared, [jobs[k] for k in todo]), strict=True):
        results[k] = got
        if on_run is not None:
            on_run("loo", k, got)
        tell(Step(label, len(results), len(jobs)))
    return [results[k] for k in range(len(jobs))]


# --- what it writes ------------------------------------------------------------------------------


def _number(x: float | None, digits: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else float(f"{x:.{digits}g}")


def _json(
    spec: _Spec,
    chosen: Sequence[Parameter],
    judged: Sequence[Target],
    reach: Sequence[Sequence[str]],
    stages: Mapping[str, Any],
    model_runs: int,
) -> dict[str, Any]:
    """``calibration.json``'s content after its head (docs/json.md)."""
    before, full, loo = stages["before"], stages["full"], stages["loo"]
    used = list(loo)
    parameters = [
        {
            "path": p.path,
            "unit": p.unit,
            "low": p.low,
            "high": p.high,
            "before": spec.data[k],
            "after": full["point"][k],
            "fitted_to": [judged[i].id for i in used if p.path in reach[i]],
            "leave_one_out": {judged[i].id: loo[i]["point"][k] for i in used},
            "estimate": p.estimate,
            "sources": list(p.sources),
            "note": p.note,
        }
        for k, p in enumerate(chosen)
    ]
    rows = []
    for i, t in enumerate(judged):
        scale = HOURS_PER_DAY if t.unit == "d" else 1.0
        means = {
            "before": before[i],
            "in_sample": full["means"][i],
            "leave_one_out": loo[i]["means"][i] if i in loo else None,
        }
        why = (
            None
            if i in loo
            else "no chosen parameter reaches it"
            if not reach[i]
            else "no train measured at the data's values"
        )
        rows.append(
            {
                "id": t.id,
                "what": t.what,
                "unit": t.unit,
                "observed": [_number(t.low_h / scale), _number(t.high_h / scale)],
                "used": i in loo,
                "not_used_because": why,
                "reached_by": list(reach[i]),
                "simulated_mean": {k: None if m is None else _number(m / scale, 4) for k, m in means.items()},
                "error": {
                    k: None if k == "leave_one_out" and i not in loo else _number(target_error(m, t.low_h, t.high_h), 4)
                    for k, m in means.items()
                },
            }
        )
    return {
        "replications": spec.replications,
        "seed": spec.seed,
        "method": {
            "optimiser": "Nelder-Mead (scipy.optimize.minimize, bounded)",
            "budget": spec.budget,
            "regularisation": REGULARISATION,
            "evaluations": {"fit": full["evaluations"], "leave_one_out": [loo[i]["evaluations"] for i in used]},
            "model_runs": model_runs,
        },
        "targets_used": [judged[i].id for i in used],
        "objective": {
            "before": _number(spec.objective(used, before, spec.scaled(spec.data))),
            "after": _number(full["objective"]),
        },
        "parameters": parameters,
        "targets": rows,
    }


def overlay_toml(data: Mapping[str, Any], *, base: str, network: str | None = None) -> str:
    """``data`` (what ``calibrate`` returns) as a scenario file: ``base`` (a bundled scenario's
    name, or a path from the file's folder) with an ``[[overrides]]`` per fitted parameter (a
    ``factor`` on a duration, else a ``value``), its sources with ESTIMATE first, and
    ``fitted_to`` naming the targets it was fitted to (``corridors validate`` then marks them)."""
    ids = ", ".join(data["targets_used"]) or "no target"
    paths = ", ".join(p["path"] for p in data["parameters"])
    head = [
        f"# corridors calibrate: {paths} of {data['scenario']} fitted to {ids}",
        f"# ({data['replications']} replications a point, seed {data['seed']}; calibration.json beside this file).",
        "# A fitted value is no longer independent evidence for the targets it was fitted to:",
        "# `corridors validate` with this file marks those rows pass*.",
        "",
        "[scenario]",
        f"name = {_toml_string(data['scenario'] + '-calibrated')}",
        f"base = {_toml_string(base)}",
        f"description = {_toml_string(data['scenario'] + ' with ' + paths + ' fitted to ' + ids)}",
    ]
    if network is not None:
        head.append(f"network = {_toml_string(network)}")
    for p in data["parameters"]:
        kind, ident, field = p["path"].split(".")
        scales = p["unit"] == "factor"
        after = p["after"]
        number = repr(float(after)) if scales or not float(after).is_integer() else str(int(after))
        sources = ["ESTIMATE", *(k for k in p["sources"] if k != "ESTIMATE")]
        kept = "the fit kept the data's value" if p["after"] == p["before"] else f"the data's value {p['before']:g}"
        note = f"fitted by corridors calibrate within {p['low']:g}-{p['high']:g} ({p['note']}); {kept}"
        head += ["", "[[overrides]]", f"{kind} = {_toml_string(ident)}", f"field = {_toml_string(field)}"]
        head.append(f"{'factor' if scales else 'value'} = {number}")
        head.append(f"source = [{', '.join(_toml_string(k) for k in sources)}]")
        if p["fitted_to"]:
            head.append(f"fitted_to = {_toml_string(', '.join(p['fitted_to']))}")
        head.append(f"note = {_toml_string(note)}")
    return "\n".join(head) + "\n"


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'
