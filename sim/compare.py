"""Compare scenarios run with common random numbers: paired differences per service, with CIs."""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from corridors import summarize_path
from corridors.units import days, per_teu
from sim.binding import unchanged_reasons
from sim.executor import Executor
from sim.kpis import ci95_of_mean, transit_d_per_replication
from sim.limits import check_run_size
from sim.runner import RunResult, simulate
from sim.scenario import Scenario
from sim.summary import ServiceSummary
from sim.tally import Tally

__all__ = ["change_note", "compare", "compare_results"]


def _rep_means(result: RunResult, service: str) -> list[float]:
    """Mean transit (days) of a service's arrived trains, per replication (NaN when none arrived)."""
    per_rep = transit_d_per_replication(result.tallies, {service})
    return [statistics.fmean(values) if values else math.nan for values in per_rep]


def _paired(base: list[float], other: list[float]) -> dict[str, Any]:
    diffs = [b - a for a, b in zip(base, other, strict=True) if not (math.isnan(a) or math.isnan(b))]
    if not diffs:
        return {"value": None, "ci95": None}
    ci = ci95_of_mean(diffs)
    return {"value": round(statistics.fmean(diffs), 3), "ci95": [round(v, 3) for v in ci] if ci else None}


def _figures(s: ServiceSummary, *, in_system: bool = True) -> dict[str, Any]:
    """The figures of one service's summary that a comparison shows."""
    out: dict[str, Any] = {
        "transit_d_mean": s.transit_d.mean,
        "transit_d_p95": s.transit_d.p95,
        "on_time_share": s.on_time_share,
        "trains_per_week": s.throughput.trains_per_week,
    }
    if in_system:
        out["in_system_at_horizon_per_replication"] = s.in_system_at_horizon_per_replication
    return out


def _redefined(base: Any, whatif: Any) -> list[str]:
    """Whether a what-if gave a service another route of its own (not a reroute): its transit is
    then measured between other places. More trains or other train sizes are the change itself."""
    return ["route"] if base.node_ids != whatif.node_ids else []


def _minus(a: Any, b: Any, digits: int = 3) -> float | None:
    return round(b - a, digits) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None


def _corridor_means(result: RunResult) -> dict[str, list[float]]:
    """Mean transit (days) per corridor, per replication, over the services still on that corridor."""
    on = {s.name: s.corridor for s in result.scenario.services if s.corridor}
    out: dict[str, list[float]] = {}
    for corridor in sorted(set(on.values())):
        per_rep = transit_d_per_replication(result.tallies, {s for s, c in on.items() if c == corridor})
        out[corridor] = [statistics.fmean(values) if values else math.nan for values in per_rep]
    return out


def _corridors(base: RunResult, other: RunResult) -> dict[str, Any]:
    """Per corridor of the base: the what-if minus the base (services rerouted off it no longer count)."""
    a, b = _corridor_means(base), _corridor_means(other)
    out = {}
    for name, base_means in a.items():
        other_means = b.get(name, [math.nan] * len(base_means))
        out[name] = {
            "base": _mean(base_means),
            "whatif": _mean(other_means),
            "delta": {"transit_d_mean": _paired(base_means, other_means)},
        }
    return out


def _mean(values: list[float]) -> float | None:
    kept = [v for v in values if not math.isnan(v)]
    return round(statistics.fmean(kept), 3) if kept else None


def compare_results(base: RunResult, others: Sequence[RunResult]) -> dict[str, Any]:
    """Per what-if and per service of the base: the what-if minus the base (schema in docs/json.md)."""
    out: dict[str, Any] = {
        "schema_version": 1,
        "base": base.scenario.name,
        "replications": len(base.tallies),
        "seed": base.seed,
        "whatifs": [],
    }
    for other in others:
        services: dict[str, Any] = {}
        by_name = {s.name: s for s in other.scenario.services}
        for service in base.scenario.services:
            b = base.summary.services[service.name]
            if service.name not in by_name:
                services[service.name] = {"in_whatif": False}
                continue
            w = other.summary.services[service.name]
            moved = by_name[service.name]
            rerouted: dict[str, Any] | None = None
            if moved.detour is not None:
                lo, hi, nodes, _legs = moved.detour
                rerouted = {
                    "from": list(service.node_ids),
                    "to": list(nodes),
                    "reason": moved.reroute_reason,
                    "departures_h": [round(lo, 1), round(hi, 1)],
                    "expected_extra_d": None,
                    "extra_distance_km": None,
                    "extra_cost_usd_per_teu": None,
                }
            elif moved.rerouted_from:
                net = other.scenario.network
                old = summarize_path(base.scenario.network, service.node_ids, service.leg_ids)
                new = summarize_path(net, moved.node_ids, moved.leg_ids)
                rerouted = {
                    "from": list(moved.rerouted_from),
                    "to": list(moved.node_ids),
                    "reason": moved.reroute_reason,
                    "expected_extra_d": round(days(new.total.mean_h - old.total.mean_h), 2),
                    "extra_distance_km": round(new.total_distance_km - old.total_distance_km),
                    "extra_cost_usd_per_teu": round(per_teu(new.cost_usd_per_feu - old.cost_usd_per_feu)),
                }
            redefined: dict[str, Any] | None = None
            if rerouted is None:
                what = _redefined(service, moved)
                if what:
                    redefined = {"what": what, "from": list(service.node_ids), "to": list(moved.node_ids)}
            services[service.name] = {
                "in_whatif": True,
                "base": _figures(b, in_system=False),
                "whatif": _figures(w),
                "delta": {
                    "transit_d_mean": _paired(_rep_means(base, service.name), _rep_means(other, service.name)),
                    "transit_d_p95": _minus(b.transit_d.p95, w.transit_d.p95),
                    "on_time_share": _minus(b.on_time_share, w.on_time_share, 4),
                    "trains_per_week": _minus(b.throughput.trains_per_week, w.throughput.trains_per_week, 2),
                    "cost_usd_per_teu": _minus(b.cost_usd_per_teu, w.cost_usd_per_teu, 0),
                    "co2_kg_per_teu": _minus(b.co2_kg_per_teu, w.co2_kg_per_teu, 1),
                },
                "rerouted": rerouted,
                "redefined": redefined,
            }
        base_names = {s.name for s in base.scenario.services}
        for added in other.scenario.services:
            if added.name not in base_names:
                x = other.summary.services[added.name]
                services[added.name] = {"in_base": False, "in_whatif": True, "whatif": _figures(x)}
        out["whatifs"].append(_whatif(base, other, services))
    return out


def _whatif(base: RunResult, other: RunResult, services: dict[str, Any]) -> dict[str, Any]:
    """A what-if's part of the comparison: its services' rows, its corridors, why nothing moved
    (if nothing did), and both runs' rolling stock."""
    moved_d = {name: s["delta"]["transit_d_mean"]["value"] or 0.0 for name, s in services.items() if "delta" in s}
    return {
        "name": other.scenario.name,
        "description": other.scenario.description,
        "built_on": other.scenario.base,
        "services": services,
        "corridors": _corridors(base, other),
        "unchanged": unchanged_reasons(base, other, moved_d),
        "rolling_stock": {
            "base": base.summary.rolling_stock.to_json(),
            "whatif": other.summary.rolling_stock.to_json(),
        },
    }


def compare(
    base: Scenario,
    whatifs: Sequence[Scenario],
    *,
    replications: int = 10,
    seed: int = 1,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
    allow_large: bool = False,
    executor: Executor | None = None,
    done: Sequence[Mapping[int, Tally]] = (),
    on_tally: Callable[[int, Tally], None] | None = None,
) -> tuple[dict[str, Any], list[RunResult]]:
    """Run the base and every what-if with the same seed (common random numbers) and compare them.

    The runs pass the run-size guard first (``sim.limits.check_run_size``; ``allow_large`` lifts
    its limit, not the machine's memory). They run on ``executor`` (``sim.executor``), by
    default on ``workers`` local processes; each run keeps the records of its first replication.
    ``done[i]``: the tallies run ``i`` (0 the base, then the what-ifs) finished before (an
    interrupted command's); ``on_tally(i, tally)`` is told of each replication that finishes.
    """
    in_flight = executor.workers if executor is not None else workers
    check_run_size([base, *whatifs], replications, allow_large=allow_large, keep="first", in_flight=in_flight)
    runs = [
        simulate(
            s,
            replications=replications,
            seed=seed,
            workers=workers,
            progress=progress,
            allow_large=True,  # all of them passed the guard above
            executor=executor,
            keep="first",  # the maps' animation; the comparison needs only the tallies
            done=done[i] if i < len(done) else None,
            on_tally=None if on_tally is None else functools.partial(on_tally, i),
        )
        for i, s in enumerate((base, *whatifs))
    ]
    return compare_results(runs[0], runs[1:]), runs


def _route_change(before: Sequence[str], after: Sequence[str]) -> str:
    if (before[0], before[-1]) != (after[0], after[-1]):
        return f"now {after[0]} to {after[-1]}, was {before[0]} to {before[-1]}"
    new = [n for n in after[1:-1] if n not in before]
    shown = ", ".join(new[:4]) + (f" and {len(new) - 4} more" if len(new) > 4 else "")
    return f"now via {shown}" if new else "same places, other legs"


def change_note(row: dict[str, Any]) -> str | None:
    """One line on what a what-if did to a service of the base: rerouted (why, where) or redefined."""
    r = row.get("rerouted")
    if r:
        note = f"rerouted ({r['reason']}): {_route_change(r['from'], r['to'])}"
        if r.get("departures_h"):
            note += f", for departures between {r['departures_h'][0]:g} h and {r['departures_h'][1]:g} h"
        elif r.get("expected_extra_d") is not None:
            note += (
                f"; expected {r['expected_extra_d']:+.1f} d, {r['extra_distance_km']:+,} km, "
                f"{r['extra_cost_usd_per_teu']:+,} USD/TEU"
            )
        return note
    d = row.get("redefined")
    if d:
        return (
            f"given another route by the what-if: {_route_change(d['from'], d['to'])}; not a like-for-like difference"
        )
    return None
