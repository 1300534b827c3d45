"""Sweeps: run a scenario with one parameter set to each of several values."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from corridors.errors import InputError, Parameter
from corridors.schema import Record
from corridors.units import per_week
from sim.executor import Executor
from sim.limits import check_run_size, run_size
from sim.model import short_pools
from sim.runner import RunResult, Step, simulate
from sim.scenario import Scenario
from sim.spec import (
    LEG_FIELDS,
    MAX_CLOSED_SHARE,
    MAX_POOL_LOCOMOTIVES,
    MAX_POOL_WAGONS,
    MAX_STOPPAGE_RATE_PER_MONTH,
    MAX_STOPPAGES_PER_MONTH,
    MAX_TRAIN_WAGONS,
    NODE_FIELDS,
    SERVICE_FIELDS,
    parse_override,
)
from sim.tally import Tally
from sim.whatif import apply_overrides, apply_service_overrides

__all__ = [
    "base_value",
    "check_values",
    "moved_services",
    "parse_param",
    "point_variant",
    "run_points",
    "sweep",
    "variant",
]

_DURATIONS = {"process_h", "transit_h", "hold_h"}
PARAM, VALUES = Parameter("param"), Parameter("values")
#: The fields a sweep may set, by the first part of its path. A pool is named by its key with a
#: dash (``pool.KZ_DOSTYK-1520.wagons``, ``pool.GE_GARDABANI-locomotives.locomotives``: a path is
#: also a folder name); a train-length limit by its gauge and countries (``limit.1435-CN.max_wagons``);
#: weather by its node.
FIELDS: Mapping[str, tuple[str, ...]] = {
    "node": tuple(f for f in NODE_FIELDS if f != "dispatch"),
    "leg": LEG_FIELDS,
    "service": SERVICE_FIELDS,
    "pool": ("wagons", "locomotives"),
    "limit": ("max_wagons",),
    "weather": ("closed_share", "stoppages_per_month"),
}


def parse_param(text: str) -> tuple[str, str, str]:
    """``node.KZ_ALTYNKOL.trains_per_day``, ``leg.S16.transit_h``, ``service.NAME.trains_per_week``,
    ``pool.KZ_DOSTYK-1520.wagons`` or ``weather.KZ_KURYK.closed_share``."""
    parts = text.split(".")
    if len(parts) != 3 or parts[0] not in FIELDS:
        raise InputError(
            PARAM,
            f" {text!r}: write node.ID.FIELD, leg.ID.FIELD, service.NAME.FIELD, pool.NODE-GAUGE.wagons, "
            "pool.NODE-locomotives.locomotives, limit.GAUGE-COUNTRIES.max_wagons or weather.NODE.FIELD",
        )
    kind, ident, field = parts
    if field not in FIELDS[kind]:
        raise InputError(PARAM, f" {text!r}: a {kind} field is one of {', '.join(FIELDS[kind])}")
    return kind, ident, field


def base_value(scenario: Scenario, kind: str, ident: str, field: str) -> float | None:
    """The parameter's value in the scenario itself (1 for a duration, which a sweep scales);
    None where the data leave it unset."""
    if field in _DURATIONS:
        return 1.0
    if kind == "service":
        for s in scenario.services:
            if s.name == ident and field != "trains_per_week":
                return float(getattr(s, field))
            if s.name == ident and s.trains_per_week:
                return round(s.trains_per_week, 3)
            if s.name == ident and len(s.departures_h) > 1:  # the timetable's rate: 168 h over the mean gap
                gaps_h = (max(s.departures_h) - min(s.departures_h)) / (len(s.departures_h) - 1)
                return round(per_week(1, gaps_h), 3) if gaps_h > 0 else None
        return None
    if (kind, field) in _COUNTED:
        attr, name_of, _most, _what = _COUNTED[kind, field]
        found = [float(getattr(t, field)) for t in getattr(scenario, attr) if name_of(t) == ident]
        return found[0] if found else None
    if kind == "weather":
        tables = [getattr(w, field) for w in scenario.weather if w.node == ident and getattr(w, field) is not None]
        return float(tables[0]) if len(tables) == 1 else None
    if kind == "node":
        node = scenario.network.nodes.get(ident)
        got = getattr(node.facility, field, None) if node is not None and node.facility else None
    else:
        leg = scenario.network.legs.get(ident)
        got = getattr(leg, field, None) if leg is not None else None
    return float(got) if isinstance(got, (int, float)) and not isinstance(got, bool) else None


def variant(scenario: Scenario, kind: str, ident: str, field: str, value: float) -> Scenario:
    """The scenario with one parameter set to ``value`` (a duration is scaled by it)."""
    if kind in ("pool", "weather", "limit"):
        changed = _table_variant(scenario, kind, ident, field, value)
        for node, size, name, parts in short_pools(
            changed.network, changed.services, changed.locomotive_pools, changed.train_limits
        )[:1]:
            raise InputError(
                PARAM,
                f" {kind}.{ident}.{field} = {value:g}: a train of {name} would run in {parts} parts at {node}, "
                f"whose locomotive pool holds {size}",
            )
        return changed
    key = "factor" if field in _DURATIONS else "value"
    rec = Record(
        PARAM,
        f"{kind}.{ident}.{field}",
        {kind: ident, "field": field, key: value, "source": "ESTIMATE"},
        sources=scenario.network.sources,
    )
    override = parse_override(rec, [])  # its source is checked as it is read (the record knows the network's)
    if kind == "service":
        services = {s.name: s for s in scenario.services}
        if ident not in services:
            raise InputError(PARAM, f" service.{ident}: no such service in {scenario.name}")
        apply_service_overrides(services, [override], scenario.start)
        return dataclasses.replace(scenario, services=tuple(services.values()))
    return dataclasses.replace(scenario, network=apply_overrides(scenario.network, [override]))


def _pool_name(key: str) -> str:
    """A pool's name in a path: its key with a dash for the slash (``KZ_DOSTYK-1520``)."""
    return key.replace("/", "-")


#: The counts a scenario's tables hold, by (kind, field): the scenario's attribute, a table's name
#: in a path, the most it may be, and what it is called.
_COUNTED: Mapping[tuple[str, str], tuple[str, Callable[[Any], str], int, str]] = {
    ("pool", "wagons"): ("wagon_pools", lambda p: _pool_name(p.key), MAX_POOL_WAGONS, "wagon pool"),
    ("pool", "locomotives"): ("locomotive_pools", lambda p: _pool_name(p.key), MAX_POOL_LOCOMOTIVES, "locomotive pool"),
    ("limit", "max_wagons"): ("train_limits", lambda t: t.key, MAX_TRAIN_WAGONS, "train limit"),
}


def _table_variant(scenario: Scenario, kind: str, ident: str, field: str, value: float) -> Scenario:
    """A wagon pool's wagons or a node's weather share or rate set to ``value``, checked as its file's would be."""
    rec = Record(PARAM, f"{kind}.{ident}.{field}", {"value": value})
    if (kind, field) in _COUNTED:
        attr, name_of, most, what = _COUNTED[kind, field]
        tables = getattr(scenario, attr)
        found = [t for t in tables if name_of(t) == ident]
        if not found:
            known = ", ".join(name_of(t) for t in tables) or "none"
            raise InputError(PARAM, f" {kind}.{ident}: no such {what} in {scenario.name} ({known})")
        number = rec.number("value", positive=True, hi=most)
        assert number is not None
        count = max(1, round(number))
        new: dict[str, Any] = {
            attr: tuple(dataclasses.replace(t, **{field: count}) if t is found[0] else t for t in tables)
        }
        return dataclasses.replace(scenario, **new)
    tables = [w for w in scenario.weather if w.node == ident and getattr(w, field) is not None]
    if len(tables) != 1:
        problem = "no weather table" if not tables else f"{len(tables)} weather tables"
        raise InputError(PARAM, f" weather.{ident}.{field}: {scenario.name} has {problem} with {field} at {ident}")
    (table,) = tables
    if field == "closed_share":
        share = rec.number("value", positive=True, hi=MAX_CLOSED_SHARE)
        assert share is not None
        count = -math.log1p(-share) * 24 * 31 / table.stoppage_h.mean_h
        if count > MAX_STOPPAGES_PER_MONTH:
            raise rec.error(
                "value", value, f"takes about {count:,.0f} stoppages a month; at most {MAX_STOPPAGES_PER_MONTH:,}"
            )
    else:
        rec.number("value", positive=True, hi=MAX_STOPPAGE_RATE_PER_MONTH)
    changes: dict[str, Any] = {field: float(value)}
    changed = dataclasses.replace(table, **changes)
    return dataclasses.replace(scenario, weather=tuple(changed if w is table else w for w in scenario.weather))


def check_values(param: str, values: Sequence[float]) -> None:
    """Refuse an empty list, or a value that is not a finite number above 0 (a probability may be 0)."""
    _, _, field = parse_param(param)
    if not values:
        raise InputError(VALUES, ": give at least one value")
    zero = field == "hold_probability"  # a probability may be 0: nobody held
    for value in values:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
            or (value == 0 and not zero)
        ):
            raise InputError(VALUES, f": {value!r} is not a finite number " + ("0 or more" if zero else "above 0"))


def point_variant(scenario: Scenario, point: Mapping[str, float]) -> Scenario:
    """The scenario with each parameter of ``point`` (path -> value) set in turn (``variant``)."""
    for param, value in point.items():
        scenario = variant(scenario, *parse_param(param), value)
    return scenario


def run_points(
    scenario: Scenario,
    points: Sequence[Mapping[str, float]],
    *,
    replications: int = 5,
    seed: int = 1,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
    allow_large: bool = False,
    executor: Executor | None = None,
    done: Sequence[Mapping[int, Tally]] = (),
    on_tally: Callable[[int, Tally], None] | None = None,
) -> list[RunResult]:
    """Run the scenario at each point (a path -> value mapping: one parameter for a sweep, two for
    a grid) with the same seed, so every point shares its random numbers; the runs keep no records.

    Every point passes the checks of a what-if's ``[[overrides]]`` before anything runs, and all
    of them together the run-size guard (``sim.limits.check_run_size``; ``allow_large`` lifts its
    limit). ``done[i]``: the tallies the run of point ``i`` finished before (an interrupted
    command's); ``on_tally(i, tally)`` is told of each replication that finishes.
    """
    for point in points:
        for param, value in point.items():
            check_values(param, [value])
    # every point checked and sized before anything runs; the variants are built again one at a time
    sizes = [run_size(point_variant(scenario, point)) for point in points]
    in_flight = executor.workers if executor is not None else workers
    check_run_size(sizes, replications, allow_large=allow_large, at_once=False, keep="none", in_flight=in_flight)
    results = []
    for i, point in enumerate(points):
        label = ", ".join(f"{param} = {value:g}" for param, value in point.items())
        results.append(
            simulate(
                point_variant(scenario, point),
                replications=replications,
                seed=seed,
                workers=workers,
                progress=_prefixed(progress, f"{label}, "),
                allow_large=True,  # every point passed the guard above
                executor=executor,
                keep="none",  # the summaries and tallies are enough
                done=done[i] if i < len(done) else None,
                on_tally=None if on_tally is None else functools.partial(on_tally, i),
            )
        )
    return results


def sweep(
    scenario: Scenario,
    param: str,
    values: Sequence[float],
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
    """Run every value with the same seed; per value and service: mean, P50 and P95 transit, throughput.

    Every value passes the checks of a what-if's ``[[overrides]]`` before anything runs, and the
    whole sweep the run-size guard (``sim.limits.check_run_size``; ``allow_large`` lifts its limit).
    ``done[i]``: the tallies the run of value ``i`` finished before (an interrupted command's);
    ``on_tally(i, tally)`` is told of each replication that finishes.
    """
    kind, ident, field = parse_param(param)
    check_values(param, values)
    results = run_points(
        scenario,
        [{param: value} for value in values],
        replications=replications,
        seed=seed,
        workers=workers,
        progress=progress,
        allow_large=allow_large,
        executor=executor,
        done=done,
        on_tally=on_tally,
    )
    rows = [
        {
            "value": value,
            "services": {
                name: {
                    "transit_d_mean": s.transit_d.mean,
                    "transit_d_p50": s.transit_d.p50,
                    "transit_d_p95": s.transit_d.p95,
                    "trains_per_week": s.throughput.trains_per_week,
                    "in_system_at_horizon_per_replication": s.in_system_at_horizon_per_replication,
                }
                for name, s in result.summary.services.items()
            },
        }
        for value, result in zip(values, results, strict=True)
    ]
    return {
        "schema_version": 1,
        "scenario": scenario.name,
        "param": param,
        "scales": field in _DURATIONS,
        "base_value": base_value(scenario, kind, ident, field),
        "replications": replications,
        "seed": seed,
        "rows": rows,
    }


def _prefixed(progress: Callable[[str], None] | None, prefix: str) -> Callable[[str], None] | None:
    if progress is None:
        return None
    tell = progress

    def prefixed(message: str) -> None:
        tell(
            Step(prefix + message.label, message.done, message.total) if isinstance(message, Step) else prefix + message
        )

    return prefixed


def moved_services(data: dict[str, Any], *, days: float = 0.05, per_week: float = 0.05) -> list[str]:
    """The services of a sweep whose P95 transit or throughput moves over the values."""
    rows = data["rows"]
    names = list(rows[0]["services"]) if rows else []

    def spread(name: str, key: str) -> float:
        values = [r["services"][name][key] for r in rows if r["services"][name][key] is not None]
        return max(values) - min(values) if values else 0.0

    return [n for n in names if spread(n, "transit_d_p95") > days or spread(n, "trains_per_week") > per_week]
