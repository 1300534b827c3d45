"""Global sensitivity of a scenario's outputs to its estimated parameters: Morris screening over
them, then variance-based (Sobol) indices for the few that matter, with SALib.

The model is the simulation itself: a parameter point (``sim.params.apply``) runs ``replications``
replications with the same seeds at every point (common random numbers: what a parameter does
not touch stays the same), on an executor (``sim.executor``), and gives each output (a KPI) one
number. Points and replications go out as jobs and come back in job order, so the indices are
the same whatever the workers or backend.

Outputs (``parse_output``): ``service.NAME.transit_d_mean`` and ``service.NAME.transit_d_p95``
(days, the arrived trains of all replications pooled), ``node.ID.wait_h_mean`` (hours before
service at a node, every visit), and ``compare.WHATIF.service.NAME.transit_d_mean`` (the
what-if's mean transit minus the base's, both at the same parameter point and seeds).

Only parameters that can reach an output are screened (``reaching``): those of the nodes and
legs its trains pass, and the timetables of the services that share a node with them; a change
elsewhere reaches it only through other trains' timing at shared facilities.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shutil
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from corridors.errors import InputError
from corridors.errors import Parameter as Param
from corridors.export import json_text
from sim.checkpoint import check_run
from sim.engine import run_replication
from sim.executor import Executor, executor_for
from sim.limits import check_run_size
from sim.params import Parameter, apply, parameter_space
from sim.runner import Step, run_key
from sim.scenario import Scenario
from sim.tally import tally

__all__ = [
    "METRICS",
    "Output",
    "RunLog",
    "analyse",
    "check_design",
    "parse_output",
    "reaching",
    "sensitivity",
    "top_rows",
]

Floats = npt.NDArray[np.float64]
#: A stage's model: its name ("morris", "sobol", "data") and points (rows) -> one column per output.
Model = Callable[[str, Floats], Floats]

#: What an output may measure, by what it names, with its unit.
METRICS = {
    "service": {"transit_d_mean": "d", "transit_d_p95": "d"},
    "node": {"wait_h_mean": "h"},
    "compare": {"transit_d_mean": "d"},
}
OUTPUT, TRAJECTORIES, TOP, SOBOL = Param("output"), Param("trajectories"), Param("top"), Param("sobol_samples")
LEVELS = 4  # Morris grid levels


@dataclasses.dataclass(frozen=True)
class Output:
    """A KPI of the sensitivity run: ``kind`` service, node or compare; ``name`` the service or
    node; ``metric``; ``whatif`` (compare only) the what-if scenario as given."""

    text: str
    kind: str
    name: str
    metric: str
    whatif: str | None = None

    @property
    def unit(self) -> str:
        return METRICS[self.kind][self.metric]


def parse_output(text: str) -> Output:
    """``service.NAME.transit_d_mean``, ``service.NAME.transit_d_p95``, ``node.ID.wait_h_mean`` or
    ``compare.WHATIF.service.NAME.transit_d_mean``."""
    parts = text.split(".")
    usage = (
        " write service.NAME.transit_d_mean, service.NAME.transit_d_p95, node.ID.wait_h_mean or "
        "compare.WHATIF.service.NAME.transit_d_mean"
    )
    if len(parts) >= 5 and parts[0] == "compare" and parts[-3] == "service":
        whatif = ".".join(parts[1:-3])
        if parts[-1] in METRICS["compare"] and whatif and parts[-2]:
            return Output(text, "compare", parts[-2], parts[-1], whatif)
    if len(parts) == 3 and parts[0] in ("service", "node") and parts[1] and parts[2] in METRICS[parts[0]]:
        name = parts[1].upper() if parts[0] == "node" else parts[1]
        return Output(text, parts[0], name, parts[2])
    raise InputError(OUTPUT, f" {text!r}:{usage}")


def _check_output(out: Output, scenario: Scenario) -> None:
    services = [s.name for s in scenario.services]
    if out.kind == "node" and out.name not in scenario.network.nodes:
        raise InputError(OUTPUT, f" {out.text!r}: {out.name} is not a node of {scenario.name}'s network")
    if out.kind == "node" and not any(out.name in s.node_ids[1:] for s in scenario.services):
        raise InputError(OUTPUT, f" {out.text!r}: no service of {scenario.name} stops at {out.name}")
    if out.kind in ("service", "compare") and out.name not in services:
        shown = ", ".join(services[:8]) + (" …" if len(services) > 8 else "")
        raise InputError(OUTPUT, f" {out.text!r}: {out.name} is not a service of {scenario.name} ({shown})")


def _kind_ident(path: str) -> tuple[str, str]:
    parts = path.split(".")
    return (parts[0], parts[1]) if len(parts) >= 3 else ("", "")


def reaching(
    scenarios: Sequence[Scenario], outputs: Sequence[Output], parameters: Sequence[Parameter]
) -> list[Parameter]:
    """The parameters that can reach the outputs: those of the nodes and legs of the routes of
    the outputs' trains (a node's: of every service stopping there), and the timetables of the
    services that share a node with those routes. A parameter of another kind is kept."""
    nodes: set[str] = set()
    legs: set[str] = set()
    for scenario in scenarios:
        for out in outputs:
            for s in scenario.services:
                if (out.kind != "node" and s.name == out.name) or (out.kind == "node" and out.name in s.node_ids):
                    routes = [(s.node_ids, s.leg_ids)] + ([(s.detour[2], s.detour[3])] if s.detour else [])
                    for n, g in routes:
                        nodes.update(n)
                        legs.update(g)
    services = {s.name for sc in scenarios for s in sc.services if nodes & set(s.node_ids[1:])}
    keep = {"node": nodes, "leg": legs, "service": services}
    return [p for p in parameters if (k := _kind_ident(p.path))[0] not in keep or k[1] in keep[k[0]]]


# --- the method, on any model ---------------------------------------------------------------


def _problem(parameters: Sequence[Parameter]) -> dict[str, Any]:
    return {
        "num_vars": len(parameters),
        "names": [p.path for p in parameters],
        "bounds": [[p.low, p.high] for p in parameters],
    }


def _number(x: Any, digits: int = 6) -> float | None:
    """A finite float rounded to ``digits`` significant digits, or None (JSON has no NaN)."""
    value = float(x)
    if not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def morris_design(parameters: Sequence[Parameter], *, trajectories: int, seed: int) -> Floats:
    """The Morris points: ``trajectories`` × (parameters + 1) rows, one column per parameter."""
    from SALib.sample import morris

    return np.asarray(morris.sample(_problem(parameters), trajectories, num_levels=LEVELS, seed=seed), dtype=float)


def sobol_design(parameters: Sequence[Parameter], *, samples: int, seed: int) -> Floats:
    """Saltelli's points for first- and total-order indices: ``samples`` × (parameters + 2) rows."""
    from SALib.sample import sobol

    problem = _problem(parameters)
    return np.asarray(sobol.sample(problem, samples, calc_second_order=False, seed=seed), dtype=float)


def analyse(
    parameters: Sequence[Parameter],
    model: Model,
    outputs: Sequence[str],
    *,
    trajectories: int = 4,
    top: int = 5,
    sobol_samples: int = 32,
    seed: int = 1,
) -> dict[str, Any]:
    """Morris over ``parameters``, then Sobol over the ``top`` of them by μ* (for several outputs:
    by μ* as a share of the output's largest), on ``model``. Per output: the value at the data's
    values, the Morris rows (μ, μ*, σ in the output's unit over each parameter's whole range) and
    the Sobol rows (first- and total-order indices, their 95% intervals, the variance and what
    pinning each parameter would leave of the spread)."""
    _check_sizes(trajectories, top, sobol_samples)
    if not parameters:
        raise InputError(OUTPUT, ": no parameter can reach the outputs (nothing to screen)")
    from SALib.analyze import morris as morris_analysis

    data = model("data", np.asarray([[p.value for p in parameters]], dtype=float))[0]
    x = morris_design(parameters, trajectories=trajectories, seed=seed)
    y = model("morris", x)
    problem = _problem(parameters)
    results: dict[str, Any] = {}
    scores = np.zeros(len(parameters))
    for j, name in enumerate(outputs):
        got = morris_analysis.analyze(problem, x, y[:, j], num_levels=LEVELS, seed=seed)
        mu_star = np.ma.filled(got["mu_star"], np.nan).astype(float)
        rows = [
            {
                "path": p.path,
                "mu": _number(np.ma.filled(got["mu"], np.nan)[i]),
                "mu_star": _number(mu_star[i]),
                "sigma": _number(got["sigma"][i]),
                "mu_star_conf": _number(np.ma.filled(got["mu_star_conf"], np.nan)[i]),
            }
            for i, p in enumerate(parameters)
        ]
        ranked = np.nan_to_num(mu_star)
        order = sorted(range(len(rows)), key=lambda i: (-ranked[i], i))
        largest = float(ranked.max(initial=0.0))
        if largest > 0:
            scores = np.maximum(scores, ranked / largest)
        results[name] = {"at_data_values": _number(data[j]), "morris": [rows[i] for i in order], "sobol": None}
    chosen = sorted(range(len(parameters)), key=lambda i: (-scores[i], i))[: min(top, len(parameters))]
    chosen = [i for i in chosen if scores[i] > 0]
    top_params = [parameters[i] for i in chosen]
    runs = {"data": 1, "morris": len(x), "sobol": 0}
    if sobol_samples and top_params:
        xs = sobol_design(top_params, samples=sobol_samples, seed=seed)
        full = np.tile(np.asarray([p.value for p in parameters], dtype=float), (len(xs), 1))
        full[:, chosen] = xs
        ys = model("sobol", full)
        runs["sobol"] = len(xs)
        for j, name in enumerate(outputs):
            results[name]["sobol"] = _sobol_rows(top_params, ys[:, j], seed)
    return {"points": runs, "top": [p.path for p in top_params], "results": results}


def _sobol_rows(parameters: Sequence[Parameter], y: Floats, seed: int) -> dict[str, Any]:
    from SALib.analyze import sobol

    variance = float(np.var(y, ddof=1)) if len(y) > 1 else 0.0
    if not variance > 0:  # nothing moves the output: no shares to give
        return {"variance": 0.0, "sd": 0.0, "indices": []}
    got = sobol.analyze(_problem(parameters), y, calc_second_order=False, seed=seed)
    rows = []
    order = sorted(range(len(parameters)), key=lambda i: -float(np.nan_to_num(got["ST"][i])))
    for i in order:
        p = parameters[i]
        s1, st = float(got["S1"][i]), float(got["ST"][i])
        rows.append(
            {
                "path": p.path,
                "s1": _number(s1),
                "s1_conf": _number(got["S1_conf"][i]),
                "st": _number(st),
                "st_conf": _number(got["ST_conf"][i]),
                # pinning it removes its first-order share of the variance on average (at most its total share)
                "sd_if_pinned": _number(math.sqrt(variance * (1 - min(max(s1, 0.0), 1.0)))),
            }
        )
    return {"variance": _number(variance), "sd": _number(math.sqrt(variance)), "indices": rows}


# --- the simulation as the model -------------------------------------------------------------

Pieces = dict[str, Any]
Job = tuple[int, tuple[tuple[str, float], ...], int, int, tuple[str, ...], tuple[str, ...]]


def _replicate(shared: Sequence[Scenario], job: Job) -> Pieces:
    """One replication at one parameter point, wherever it runs, reduced to what the outputs need:
    per service its arrived trains' transit days, per node the sum and count of its waits."""
    which, values, seed, replication, services, nodes = job
    scenario = apply(shared[which], dict(values)) if values else shared[which]
    rep = run_replication(scenario, seed=seed, replication=replication)
    t = tally(scenario, rep.visits, rep.trains, rep.rolling_stock)
    out: Pieces = {}
    for name in services:
        st = t.services.get(name)
        out["s:" + name] = st.transit_d.tolist() if st is not None else []
    for node in nodes:
        nt = t.nodes.get(node)
        out["n:" + node] = [nt.waits_h.total(), len(nt.waits_h)] if nt is not None else [0.0, 0]
    return out


def _quantile(values: Sequence[float], q: float) -> float:
    data = sorted(values)
    if not data:
        return math.nan
    pos = (len(data) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _kpi(out: Output, base: Sequence[Pieces], whatif: Sequence[Pieces]) -> float:
    """An output's value at one point from its replications in the base (and in its what-if)."""

    def transit(pieces: Sequence[Pieces], metric: str) -> float:
        days = [d for p in pieces for d in p["s:" + out.name]]
        if not days:
            return math.nan
        return statistics.fmean(days) if metric == "transit_d_mean" else _quantile(days, 0.95)

    if out.kind == "service":
        return transit(base, out.metric)
    if out.kind == "node":
        count = sum(p["n:" + out.name][1] for p in base)
        return math.fsum(p["n:" + out.name][0] for p in base) / count if count else math.nan
    return transit(whatif, out.metric) - transit(base, out.metric)


class RunLog:
    """The finished replications of a sensitivity run writing into ``out``, kept beside it in
    ``.<out name>.partial/`` as they finish: ``run.json`` (what the run is) and, per design (its
    points' hash), ``STAGE-HASH.jsonl``, a line per replication with what it gave."""

    def __init__(self, out: Path, key: dict[str, Any]) -> None:
        self.folder = out.parent / f".{out.name}.partial"
        self.key = key
        self._files: dict[str, Any] = {}

    def start(self) -> dict[str, dict[int, Pieces]]:
        """A fresh run: anything an earlier one left is removed."""
        self.remove()
        self.folder.mkdir(parents=True)
        (self.folder / "run.json").write_text(json_text(self.key), encoding="utf-8")
        return {}

    def resume(self) -> dict[str, dict[int, Pieces]]:
        """Per design, the replications an interrupted run finished (by job number)."""
        check_run(self.folder, self.key)
        done: dict[str, dict[int, Pieces]] = {}
        for path in sorted(self.folder.glob("*.jsonl")):
            got = done.setdefault(path.stem, {})
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    got[int(row["job"])] = dict(row["pieces"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short when the run was killed: that replication runs again
        return done

    def save(self, design: str, job: int, pieces: Pieces) -> None:
        if design not in self._files:
            self._files[design] = open(self.folder / f"{design}.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        f = self._files[design]
        f.write(json.dumps({"job": job, "pieces": pieces}, allow_nan=False) + "\n")
        f.flush()

    def kept(self) -> int:
        """How many replications an interrupted run keeps."""
        self.close()
        total = 0
        for path in self.folder.glob("*.jsonl"):
            total += sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.endswith("}"))
        return total

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def sensitivity(
    scenario: Scenario,
    outputs: Sequence[str],
    *,
    whatifs: Mapping[str, Scenario] | None = None,
    estimates_only: bool = True,
    every_parameter: bool = False,
    replications: int = 2,
    seed: int = 1,
    trajectories: int = 4,
    top: int = 5,
    sobol_samples: int = 32,
    workers: int = 1,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
    allow_large: bool = False,
    done: Mapping[str, Mapping[int, Pieces]] | None = None,
    on_run: Callable[[str, int, Pieces], None] | None = None,
) -> dict[str, Any]:
    """Morris screening of ``scenario``'s parameters (``sim.params.parameter_space``; only the
    estimates unless ``estimates_only`` is false; only those reaching the outputs unless
    ``every_parameter``), then Sobol indices of the ``top`` ones, for each of ``outputs``.

    Each parameter point runs ``replications`` replications with seeds ``seed``, 0, 1, … (the
    same at every point); the what-ifs of ``compare.`` outputs are loaded by name unless given
    in ``whatifs``. They run on ``executor`` (default: ``workers`` local processes); ``done``
    (per design, the replications an interrupted run finished) are not run again, and
    ``on_run(design, job, pieces)`` is told of each one that finishes. ``progress`` is told
    after each (a ``Step``). The result is ``sensitivity.json``'s content (docs/json.md).
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InputError(Param("replications"), f" ({replications!r}) must be a whole number of at least 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(Param("seed"), f" ({seed!r}) must be a whole number of at least 0")
    if not outputs:
        raise InputError(OUTPUT, ": give at least one output")
    parsed = list({o.text: o for o in map(parse_output, outputs)}.values())
    names = [o.text for o in parsed]
    scenarios, which = _scenarios(scenario, parsed, whatifs or {})
    space = parameter_space(scenario, estimates_only=estimates_only)
    screened = space if every_parameter else reaching(scenarios, parsed, space)
    screened = [p for p in screened if p.high > p.low]
    # a what-if takes the point's values except where it sets a parameter itself
    base_values = {p.path: p.value for p in parameter_space(scenario)}
    own = [{p.path for p in parameter_space(w) if p.value == base_values.get(p.path)} for w in scenarios]
    in_flight = executor.workers if executor is not None else workers
    check_run_size(scenarios, replications, allow_large=allow_large, at_once=False, keep="none", in_flight=in_flight)
    runner = executor or executor_for(workers)
    key = run_key(scenario, seed=seed, replications=replications, events="none")
    model = _SimulationModel(
        scenarios,
        parsed,
        [p.path for p in screened],
        own,
        which=which,
        replications=replications,
        seed=seed,
        runner=runner,
        design_key=key,
        done=done or {},
        on_run=on_run,
        progress=progress,
    )

    try:
        result = analyse(
            screened, model, names, trajectories=trajectories, top=top, sobol_samples=sobol_samples, seed=seed
        )
    finally:
        if executor is None:
            runner.close()
    options = {"replications": replications, "seed": seed, "trajectories": trajectories}
    options |= {"sobol_samples": sobol_samples, "estimates_only": estimates_only, "every_parameter": every_parameter}
    return _json(scenario, scenarios, parsed, screened, len(space), result, model.runs, options)


def _check_sizes(trajectories: int, top: int, sobol_samples: int) -> None:
    if isinstance(trajectories, bool) or not isinstance(trajectories, int) or trajectories < 2:
        raise InputError(TRAJECTORIES, f" ({trajectories!r}) must be a whole number of at least 2")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise InputError(TOP, f" ({top!r}) must be a whole number of at least 1")
    ok = isinstance(sobol_samples, int) and not isinstance(sobol_samples, bool)
    if not ok or (sobol_samples != 0 and (sobol_samples < 2 or sobol_samples & (sobol_samples - 1))):
        raise InputError(SOBOL, f" ({sobol_samples!r}) must be a power of 2 (e.g. 32), or 0 for Morris only")


def check_design(
    scenario: Scenario, outputs: Sequence[str], *, trajectories: int, top: int, sobol_samples: int
) -> None:
    """What a run would refuse, checked before anything is written: the design's sizes, and each
    output against the scenario (its service or node there; a what-if it names loads)."""
    _check_sizes(trajectories, top, sobol_samples)
    _scenarios(scenario, [parse_output(text) for text in outputs], {})


def _scenarios(
    scenario: Scenario, outputs: Sequence[Output], whatifs: Mapping[str, Scenario]
) -> tuple[list[Scenario], dict[str, int]]:
    """The base and the what-ifs the outputs name (loaded on the base's network unless given),
    and per output the scenario it is measured in (the base but for a compare's what-if)."""
    scenarios, by_whatif, which = [scenario], {}, {}
    for out in outputs:
        _check_output(out, scenario)
        which[out.text] = 0
        if out.kind != "compare" or out.whatif is None:
            continue
        if out.whatif not in by_whatif:
            from sim.scenario import load_scenario

            given = whatifs.get(out.whatif)
            try:
                w = given if given is not None else load_scenario(out.whatif, network=scenario.network)
            except InputError as exc:
                raise InputError(OUTPUT, f" {out.text!r}: {exc}") from None
            by_whatif[out.whatif] = len(scenarios)
            scenarios.append(w)
        _check_output(out, scenarios[by_whatif[out.whatif]])
        which[out.text] = by_whatif[out.whatif]
    return scenarios, which


def _json(
    scenario: Scenario,
    scenarios: Sequence[Scenario],
    parsed: Sequence[Output],
    screened: Sequence[Parameter],
    in_space: int,
    result: Mapping[str, Any],
    model_runs: int,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """``sensitivity.json``'s content (docs/json.md)."""
    replications, seed, trajectories = options["replications"], options["seed"], options["trajectories"]
    sobol_samples, estimates_only, every_parameter = (
        options["sobol_samples"],
        options["estimates_only"],
        options["every_parameter"],
    )
    return {
        "schema_version": 1,
        "scenario": scenario.name,
        "whatifs": [s.name for s in scenarios[1:]],
        "outputs": [{"output": o.text, "unit": o.unit} for o in parsed],
        "replications": replications,
        "seed": seed,
        "method": {
            "morris": {"trajectories": trajectories, "levels": LEVELS, "points": result["points"]["morris"]},
            "sobol": {"samples": sobol_samples, "second_order": False, "points": result["points"]["sobol"]},
            "model_runs": model_runs,
            "estimates_only": estimates_only,
            "every_parameter": every_parameter,
        },
        "parameters_in_space": in_space,
        "parameters": [_parameter_json(p) for p in screened],
        "top": result["top"],
        "results": result["results"],
    }


def _parameter_json(p: Parameter) -> dict[str, Any]:
    return {
        "path": p.path,
        "value": _number(p.value),
        "low": _number(p.low),
        "high": _number(p.high),
        "unit": p.unit,
        "estimate": p.estimate,
        "sources": list(p.sources),
        "note": p.note,
    }


def top_rows(data: Mapping[str, Any], output: str, n: int = 8) -> list[dict[str, Any]]:
    """The ``n`` parameters that move ``output`` most (by μ*), each with its Morris and Sobol
    figures (None where it had no Sobol index), value, range, unit, sources and note."""
    result = data["results"][output]
    sobol = {r["path"]: r for r in (result["sobol"] or {}).get("indices", [])}
    params = {p["path"]: p for p in data["parameters"]}
    rows = []
    for m in result["morris"][:n]:
        s = sobol.get(m["path"], {})
        rows.append(
            {
                **params[m["path"]],
                **m,
                "s1": s.get("s1"),
                "st": s.get("st"),
                "s1_conf": s.get("s1_conf"),
                "st_conf": s.get("st_conf"),
                "sd_if_pinned": s.get("sd_if_pinned"),
            }
        )
    return rows


class _SimulationModel:
    """The simulation as ``analyse``'s model: a stage's points -> replications as jobs on the
    executor (those ``done`` skipped, each new one told to ``on_run``) -> one value per output."""

    def __init__(
        self,
        scenarios: Sequence[Scenario],
        outputs: Sequence[Output],
        names: Sequence[str],
        own: Sequence[set[str]],
        *,
        which: Mapping[str, int],
        replications: int,
        seed: int,
        runner: Executor,
        design_key: Mapping[str, Any],
        done: Mapping[str, Mapping[int, Pieces]],
        on_run: Callable[[str, int, Pieces], None] | None,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.scenarios, self.outputs, self.names, self.own = tuple(scenarios), outputs, names, own
        self.which, self.replications, self.seed, self.runner = which, replications, seed, runner
        self.key, self.done, self.on_run = design_key, done, on_run
        self.tell = progress or (lambda _m: None)
        self.services = tuple(sorted({o.name for o in outputs if o.kind != "node"}))
        self.nodes = tuple(sorted({o.name for o in outputs if o.kind == "node"}))
        self.runs = 0

    def _jobs(self, x: Floats) -> list[Job]:
        jobs: list[Job] = []
        for row in x:
            point = tuple((n, float(v)) for n, v in zip(self.names, row, strict=True))
            for s in range(len(self.scenarios)):
                values = point if s == 0 else tuple((n, v) for n, v in point if n in self.own[s])
                jobs.extend((s, values, self.seed, r, self.services, self.nodes) for r in range(self.replications))
        return jobs

    def __call__(self, stage: str, x: Floats) -> Floats:
        jobs = self._jobs(x)
        design = f"{stage}-" + hashlib.sha256(json_text([self.key, stage, jobs]).encode()).hexdigest()[:16]
        finished = dict(self.done.get(design, {}))
        todo = [i for i in range(len(jobs)) if i not in finished]
        label = {"data": "at the data's values", "morris": "Morris screening", "sobol": "Sobol indices"}[stage]
        step = f"{self.scenarios[0].name}: {label}"
        self.tell(Step(step, len(finished), len(jobs)))
        for i, pieces in zip(todo, self.runner.map(_replicate, self.scenarios, [jobs[i] for i in todo]), strict=True):
            finished[i] = pieces
            if self.on_run is not None:
                self.on_run(design, i, pieces)
            self.tell(Step(step, len(finished), len(jobs)))
        self.runs += len(jobs)
        per_point = len(self.scenarios) * self.replications
        y = np.empty((len(x), len(self.outputs)))
        for i in range(len(x)):
            block = [finished[i * per_point + k] for k in range(per_point)]
            runs = [block[k * self.replications : (k + 1) * self.replications] for k in range(len(self.scenarios))]
            for j, out in enumerate(self.outputs):
                y[i, j] = _kpi(out, runs[0], runs[self.which[out.text]])
        bad = [(out.text, i) for j, out in enumerate(self.outputs) for i in range(len(x)) if not math.isfinite(y[i, j])]
        if bad:
            raise InputError(
                OUTPUT,
                f" {bad[0][0]!r}: no train it measures arrived (or none waited there) at {len(bad)} of the "
                f"{len(x)} points of the {label} stage; give more replications (",
                Param("replications"),
                ") or a longer scenario",
            )
        return y
