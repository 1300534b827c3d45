"""What-if explorer data: a sweep of one parameter, or a grid over two, reduced per point to what
an explorer page shows — each service's key figures and transit-time histogram (bins shared by
every point, so bars compare), and each node's mean wait and hold.

The points run through ``sim.sweep.run_points``: the same checks, run-size guard, seeds (common
random numbers: what a change does not touch stays the same) and resume as ``corridors sweep``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from corridors.errors import InputError, Parameter
from corridors.tables import Column, Row, Table
from sim.executor import Executor
from sim.runner import RunResult
from sim.scenario import Scenario
from sim.sweep import base_value, check_values, parse_param, run_points
from sim.tally import Tally

__all__ = ["MAX_BINS", "SCHEMA_VERSION", "explore", "explore_data", "explore_table", "grid_points", "moved_services"]

DASH = "–"

SCHEMA_VERSION = 1
#: The most bars a service's transit histogram has.
MAX_BINS = 24
_PARAM, _VALUES = Parameter("param"), Parameter("values")
_DURATIONS = {"process_h", "transit_h", "hold_h"}
_NICE_WIDTHS_D = (0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0)


def grid_points(params: Sequence[str], values: Sequence[Sequence[float]]) -> list[dict[str, float]]:
    """Every combination of the parameters' values, the last parameter changing fastest: point
    ``i * len(values[1]) + j`` sets the first parameter to ``values[0][i]``, the second to ``values[1][j]``.

    >>> grid_points(["node.B.servers", "leg.L1.transit_h"], [[1, 2], [0.5, 1]])[1]
    {'node.B.servers': 1, 'leg.L1.transit_h': 1}
    """
    return [dict(zip(params, combo, strict=True)) for combo in itertools.product(*values)]


def _check(params: Sequence[str], values: Sequence[Sequence[float]]) -> None:
    if not 1 <= len(params) <= 2:
        raise InputError(_PARAM, f": give one or two parameters, not {len(params)}")
    if len(values) != len(params):
        raise InputError(_VALUES, f": {len(values)} lists of values for {len(params)} parameters")
    if len(set(params)) != len(params):
        raise InputError(_PARAM, f" {params[0]!r} is given twice: a grid needs two different parameters")
    for param, vals in zip(params, values, strict=True):
        parse_param(param)
        if len(vals) < 2:
            raise InputError(_VALUES, f" of {param}: give at least 2 values for a slider to choose from")
        check_values(param, vals)
        if len(set(vals)) != len(vals):
            raise InputError(_VALUES, f" of {param}: a value is given twice")


def explore(
    scenario: Scenario,
    params: Sequence[str],
    values: Sequence[Sequence[float]],
    *,
    replications: int = 5,
    seed: int = 1,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
    allow_large: bool = False,
    executor: Executor | None = None,
    done: Sequence[Mapping[int, Tally]] = (),
    on_tally: Callable[[int, Tally], None] | None = None,
) -> dict[str, Any]:
    """Run the scenario at every point of ``params`` × ``values`` (``grid_points``) with the same seed
    and return explore.json's content (docs/json.md): per point, each service's key figures and
    transit histogram, and each node's mean wait, hold and stay.

    One or two parameters (paths as ``corridors params`` lists them), each with at least two
    different values; ``done`` and ``on_tally`` as for ``sim.sweep.run_points``.
    """
    _check(params, values)
    values = [[float(v) for v in vals] for vals in values]
    results = run_points(
        scenario,
        grid_points(params, values),
        replications=replications,
        seed=seed,
        workers=workers,
        progress=progress,
        allow_large=allow_large,
        executor=executor,
        done=done,
        on_tally=on_tally,
    )
    return explore_data(scenario, params, values, results, replications=replications, seed=seed)


def explore_data(
    scenario: Scenario,
    params: Sequence[str],
    values: Sequence[Sequence[float]],
    results: Sequence[RunResult],
    *,
    replications: int,
    seed: int,
) -> dict[str, Any]:
    """explore.json's content from the runs of ``grid_points(params, values)``, in that order."""
    net = scenario.network
    names = list(results[0].summary.services)
    transits = [{n: _transit_d(r, n) for n in names} for r in results]
    bins = {n: _bins([t[n] for t in transits]) for n in names}
    visited = {n for r in results for n in r.summary.nodes}
    node_ids = [n for n in net.nodes if n in visited]
    base = []
    for param in params:
        kind, ident, field = parse_param(param)
        base.append(base_value(scenario, kind, ident, field))
    points = []
    for result, transit in zip(results, transits, strict=True):
        s = result.summary
        points.append(
            {
                "services": {n: _service(s.services[n], transit[n], bins[n]) for n in names},
                "nodes": {n: _node(s.nodes.get(n)) for n in node_ids},
            }
        )
    reference = _reference(values, base)
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "scenario": scenario.name,
        "replications": replications,
        "seed": seed,
        "params": [
            {"path": p, "values": list(v), "base_value": b, "scales": parse_param(p)[2] in _DURATIONS}
            for p, v, b in zip(params, values, base, strict=True)
        ],
        "reference_point": reference,
        "services": [
            {
                "name": n,
                "corridor": results[0].summary.services[n].corridor,
                "promised_transit_d": results[0].summary.services[n].promised_transit_d,
                "bins": bins[n],
            }
            for n in names
        ],
        "nodes": [
            {
                "id": n,
                "name": net.nodes[n].name,
                "country": net.nodes[n].country,
                "lat": net.nodes[n].lat,
                "lon": net.nodes[n].lon,
            }
            for n in node_ids
        ],
        "points": [
            {"values": list(combo), **point} for combo, point in zip(itertools.product(*values), points, strict=True)
        ],
    }
    data["moved"] = moved_services(data)
    return data


def _transit_d(result: RunResult, name: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Every arrived train's transit, days, over the point's replications."""
    parts = [t.services[name].transit_d for t in result.tallies if name in t.services]
    return np.concatenate(parts) if parts else np.empty(0)


def _bins(samples: Sequence[np.ndarray[Any, np.dtype[np.float64]]]) -> dict[str, float | int]:
    """Bins shared by every point of one service: a round width, at most ``MAX_BINS`` of them over
    the range of all the points' transits."""
    filled = [s for s in samples if len(s)]
    if not filled:
        return {"start_d": 0.0, "width_d": 1.0, "count": 1}
    lo = min(float(s.min()) for s in filled)
    hi = max(float(s.max()) for s in filled)
    width = next((w for w in _NICE_WIDTHS_D if (hi - math.floor(lo / w) * w) / w < MAX_BINS), _NICE_WIDTHS_D[-1])
    start = math.floor(lo / width) * width
    count = max(1, min(MAX_BINS, math.floor((hi - start) / width) + 1))
    return {"start_d": round(start, 6), "width_d": width, "count": count}


def _service(s: Any, transit_d: np.ndarray[Any, np.dtype[np.float64]], bins: Mapping[str, float]) -> dict[str, Any]:
    t = s.transit_d
    edges = bins["start_d"] + bins["width_d"] * np.arange(int(bins["count"]) + 1)
    counts, _ = np.histogram(np.clip(transit_d, edges[0], edges[-1]), bins=edges)
    return {
        "trains_per_week": s.throughput.trains_per_week,
        "arrived": t.n,
        "transit_d_mean": t.mean,
        "transit_d_p50": t.p50,
        "transit_d_p95": t.p95,
        "transit_d_ci95": list(t.ci95) if t.ci95 else None,
        "on_time_share": s.on_time_share,
        "waiting_d": s.days.waiting,
        "in_system_at_horizon_per_replication": s.in_system_at_horizon_per_replication,
        "histogram": [int(c) for c in counts],
    }


def _node(n: Any) -> dict[str, Any] | None:
    if n is None:
        return None  # not visited at this point
    return {
        "wait_h_mean": n.wait_h.mean if n.wait_h else None,
        "hold_h_mean": n.hold_h.mean if n.hold_h else None,
        "stay_h_mean": n.stay_h_mean,
        "visits_per_replication": n.visits_per_replication,
    }


def _reference(values: Sequence[Sequence[float]], base: Sequence[float | None]) -> int | None:
    """The point where every parameter has the scenario's own value, if the values include it."""
    at = []
    for vals, b in zip(values, base, strict=True):
        found = [i for i, v in enumerate(vals) if b is not None and abs(v - b) < 1e-9]
        if not found:
            return None
        at.append(found[0])
    return at[0] * len(values[1]) + at[1] if len(at) == 2 else at[0]


def moved_services(data: Mapping[str, Any], *, days: float = 0.05, per_week: float = 0.05) -> list[str]:
    """The services whose mean or P95 transit, or throughput, moves over the points."""
    moved = []
    for svc in data["services"]:
        name = svc["name"]
        rows = [p["services"][name] for p in data["points"]]

        def spread(key: str, rows: list[dict[str, Any]] = rows) -> float:
            got = [r[key] for r in rows if r[key] is not None]
            return max(got) - min(got) if got else 0.0

        if max(spread("transit_d_mean"), spread("transit_d_p95")) > days or spread("trains_per_week") > per_week:
            moved.append(name)
    return moved


def explore_table(data: Mapping[str, Any], *, services: int = 4) -> Table:
    """The services the values move (the first ``services``), a row per point: mean and P95 transit,
    trains a week and the on-time share; the scenario's own values starred."""
    params = data["params"]
    columns = [Column("service", align="left")]
    columns += [Column(p["path"].rsplit(".", 1)[-1] + (" ×" if p["scales"] else "")) for p in params]
    columns += [Column("mean d"), Column("P95 d"), Column("trains/wk"), Column("on time")]
    rows = []
    for name in data["moved"][:services]:
        for k, point in enumerate(data["points"]):
            s = point["services"][name]
            cells = [name if k == 0 else ""]
            for p, v in zip(params, point["values"], strict=True):
                own = p["base_value"] is not None and abs(v - p["base_value"]) < 1e-9
                cells.append(f"{v:g}" + ("*" if own else ""))
            share = s["on_time_share"]
            cells += [_d(s["transit_d_mean"]), _d(s["transit_d_p95"]), f"{s['trains_per_week']:.1f}"]
            cells.append(DASH if share is None else f"{100 * share:.1f}%")
            rows.append(Row(cells))
    notes = ["* the scenario's own value"] if any(p["base_value"] is not None for p in params) else []
    if len(data["moved"]) > services:
        notes.append(f"{len(data['moved']) - services} more services move: explore.html shows them all")
    return Table(columns, rows, notes)


def _d(x: float | None) -> str:
    return DASH if x is None else f"{x:.2f}"
