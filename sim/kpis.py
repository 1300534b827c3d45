"""KPIs as pure functions of the records: transit distributions, on-time share, throughput,
waiting and utilisation per node, where the days went, cost and CO2 per TEU."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from corridors import Network, summarize_path
from corridors.units import days, per_teu, per_week
from sim.engine import Replication
from sim.eventlog import EVENTS
from sim.scenario import Scenario
from sim.summary import (
    SCHEMA_VERSION,
    DaysPerTrain,
    Flow,
    NodeSummary,
    PoolSummary,
    RollingStockSummary,
    RunSummary,
    ServiceSummary,
    Stats,
    WagonFlow,
    WhereDaysGo,
)
from sim.tally import Sample, Tally

__all__ = [
    "AT_SEA",
    "ci95_of_mean",
    "describe",
    "overload_note",
    "rolling_stock_note",
    "summarize",
    "transit_d_per_replication",
    "visit_times",
]

#: Where the days at sea go in the by-country breakdown.
AT_SEA = "at sea"

# two-sided 95% quantiles of Student's t by degrees of freedom (1..30); 1.96 beyond
_T95 = [
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
]


def _t95(df: int) -> float:
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of already sorted values."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def describe(values: Iterable[float], per_replication_means: Sequence[float] = ()) -> dict[str, Any]:
    """mean, p50, p90, p95, min, max, n, and a 95% confidence interval of the mean across replications."""
    data = sorted(values)
    if not data:
        return {"n": 0, "mean": None, "p50": None, "p90": None, "p95": None, "min": None, "max": None, "ci95": None}
    out: dict[str, Any] = {
        "n": len(data),
        "mean": statistics.fmean(data),
        "p50": _quantile(data, 0.5),
        "p90": _quantile(data, 0.9),
        "p95": _quantile(data, 0.95),
        "min": data[0],
        "max": data[-1],
        "ci95": None,
    }
    ci = ci95_of_mean([m for m in per_replication_means if not math.isnan(m)])
    out["ci95"] = list(ci) if ci else None
    return out


def ci95_of_mean(values: Sequence[float]) -> tuple[float, float] | None:
    """A 95% confidence interval of the mean of ``values`` (Student's t); None for fewer than two."""
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    half = _t95(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean - half, mean + half


def _rounded(d: dict[str, Any], scale: float = 1.0, digits: int = 2) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, float):
            out[k] = round(v / scale, digits)
        elif isinstance(v, list):
            out[k] = [round(x / scale, digits) for x in v]
        else:
            out[k] = v
    return out


def visit_times(reps: Sequence[Replication], places: Iterable[str]) -> dict[tuple[int, str, str], dict[str, float]]:
    """(replication, train, place) -> {event: time_h} for the visits to ``places``: the event
    log's events there (``sim.eventlog``: depart, arrive, start, end, leave, complete)."""
    out: dict[tuple[int, str, str], dict[str, float]] = {}
    wanted = set(places)
    for rep in reps:
        ev = rep.event_columns
        codes = [i for i, p in enumerate(ev.places) if p in wanted]
        rows = np.flatnonzero(np.isin(ev.place, codes))
        columns = (ev.train[rows], ev.place[rows], ev.event[rows], ev.time_h[rows])
        for j, p, k, t in zip(*(c.tolist() for c in columns), strict=True):
            out.setdefault((rep.replication, ev.trains[j], ev.places[p]), {})[EVENTS[k]] = t
    return out


def transit_d_per_replication(tallies: Sequence[Tally], services: set[str]) -> list[list[float]]:
    """Per replication, the transit days of the arrived trains of ``services``."""
    return [[d for name, st in t.services.items() if name in services for d in st.transit_d.tolist()] for t in tallies]


def summarize(scenario: Scenario, tallies: Sequence[Tally], *, seed: int) -> RunSummary:
    """The summary written to summary.json (schema: docs/simulate.md; ``RunSummary.to_json()``),
    from the replications' tallies (``sim.tally``), in replication order."""
    net = scenario.network
    n_reps = len(tallies)
    services: dict[str, ServiceSummary] = {}
    corridor_rep_values: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(n_reps)])
    for service in scenario.services:
        mine = [t.services[service.name] for t in tallies]
        per_rep = [st.transit_d.tolist() for st in mine]
        if service.corridor:
            for r, values in enumerate(per_rep):
                corridor_rep_values[service.corridor][r].extend(values)
        n_trains = sum(st.trains for st in mine)
        n_arrived = sum(len(values) for values in per_rep)
        promised = service.promised_transit_h
        path = summarize_path(net, service.node_ids, service.leg_ids)
        on_time = sum(st.on_time for st in mine) / n_arrived if promised is not None and n_arrived else None
        n_arr = max(n_arrived, 1)
        window_h = service.window_h[1] - service.window_h[0]  # the service's own window

        def mean_d(hours: list[float], n: int = n_arr) -> float:
            return round(days(math.fsum(hours) / n), 2)

        services[service.name] = ServiceSummary(
            corridor=service.corridor,
            route=tuple(service.node_ids),
            trains_per_replication=n_trains / n_reps,
            arrived_per_replication=n_arrived / n_reps,
            in_system_at_horizon_per_replication=(n_trains - n_arrived) / n_reps,
            in_system_share=round((n_trains - n_arrived) / n_trains, 4) if n_trains else 0.0,
            transit_d=_stats(
                [v for values in per_rep for v in values], [statistics.fmean(v) if v else math.nan for v in per_rep]
            ),
            promised_transit_d=round(days(promised), 2) if promised is not None else None,
            on_time_share=round(on_time, 4) if on_time is not None else None,
            throughput=Flow(
                trains_per_week=round(per_week(n_arrived / n_reps, window_h), 2),
                teu_per_week=round(per_week(n_arrived * service.teu / n_reps, window_h), 1),
            ),
            days=DaysPerTrain(
                moving=mean_d([st.moving_h for st in mine]),
                waiting=mean_d([st.waiting_h for st in mine]),
                processing=mean_d([st.processing_h for st in mine]),
            ),
            cost_usd_per_teu=round(per_teu(path.cost_usd_per_feu), 0),
            co2_kg_per_teu=round(path.co2_kg_per_teu, 1),
        )
    corridors = {
        name: _stats([v for vs in per_rep for v in vs], [statistics.fmean(vs) if vs else math.nan for vs in per_rep])
        for name, per_rep in corridor_rep_values.items()
    }
    return RunSummary(
        schema_version=SCHEMA_VERSION,
        scenario=scenario.name,
        start_date=scenario.start.date().isoformat(),
        start=scenario.start.isoformat(timespec="minutes"),
        horizon_h=scenario.horizon_h,
        seed=seed,
        replications=n_reps,
        services=services,
        corridors=corridors,
        nodes=_nodes(net, scenario, tallies),
        legs=_legs(scenario, services),
        where_days_go=_where(net, scenario, tallies),
        rolling_stock=_rolling_stock(scenario, tallies),
    )


def _stats(values: Iterable[float], per_replication_means: Sequence[float]) -> Stats:
    """``describe``, rounded as summary.json gives it."""
    return Stats.of(_rounded(describe(values, per_replication_means)))


def _legs(scenario: Scenario, services: dict[str, ServiceSummary]) -> dict[str, Flow]:
    """Trains and TEU a week over each leg, from the services that run over it."""
    out: dict[str, Flow] = {}
    for service in scenario.services:
        through = services[service.name].throughput
        for leg_id in service.leg_ids:
            row = out.get(leg_id, Flow(0.0, 0.0))
            out[leg_id] = Flow(
                round(row.trains_per_week + through.trains_per_week, 2),
                round(row.teu_per_week + through.teu_per_week, 1),
            )
    return dict(sorted(out.items()))


def describe_sample(sample: Sample, per_replication_means: Sequence[float] = ()) -> dict[str, Any]:
    """``describe`` of the values a ``Sample`` holds (the same figures, without the zeros' list)."""
    n = len(sample)
    if not n:
        return describe(())

    def quantile(q: float) -> float:
        pos = (n - 1) * q
        lo = math.floor(pos)
        low, high = sample.at(lo), sample.at(min(lo + 1, n - 1))
        return low + (high - low) * (pos - lo)

    ci = ci95_of_mean([m for m in per_replication_means if not math.isnan(m)])
    return {
        "n": n,
        "mean": sample.total() / n,
        "p50": quantile(0.5),
        "p90": quantile(0.9),
        "p95": quantile(0.95),
        "min": sample.at(0),
        "max": sample.at(n - 1),
        "ci95": list(ci) if ci else None,
    }


def _sample_stats(per_rep: Sequence[Sample]) -> Stats:
    means = [s.total() / len(s) for s in per_rep if len(s)]
    return Stats.of(_rounded(describe_sample(Sample.merge(per_rep), means)))


def _rolling_stock(scenario: Scenario, tallies: Sequence[Tally]) -> RollingStockSummary:
    """The wagon pools: per service that takes wagons from one, per corridor of those (sums a
    week; the wait per train over all their trains), and each pool's lowest stock."""
    n_reps = max(len(tallies), 1)
    weekly: dict[str, tuple[float, float, float, float, float]] = {}  # wagon-km, runs a week; waits h, trains
    for service in scenario.services:
        rows = [t.wagons[service.name] for t in tallies if service.name in t.wagons]
        if not rows:
            continue
        window_h = service.window_h[1] - service.window_h[0]
        trains = sum(t.services[service.name].trains for t in tallies if service.name in t.services)
        weekly[service.name] = (
            per_week(math.fsum(r.empty_wagon_km for r in rows) / n_reps, window_h),
            per_week(sum(r.empty_runs for r in rows) / n_reps, window_h),
            math.fsum(r.wait_h for r in rows),
            float(trains),
            math.fsum(r.locomotive_wait_h for r in rows),
        )
    by_corridor: dict[str, list[tuple[float, float, float, float, float]]] = defaultdict(list)
    for service in scenario.services:
        if service.corridor and service.name in weekly:
            by_corridor[service.corridor].append(weekly[service.name])

    def flow(parts: Sequence[tuple[float, float, float, float, float]]) -> WagonFlow:
        km, runs, wait_h, trains, engine_h = (math.fsum(p[k] for p in parts) for k in range(5))
        per_train = (lambda h: round(h / trains, 2)) if trains else (lambda h: 0.0)
        return WagonFlow(round(km, 0), round(runs, 2), per_train(wait_h), per_train(engine_h))

    lows: dict[str, list[int]] = defaultdict(list)
    waited: dict[str, int] = defaultdict(int)
    first: dict[str, PoolSummary] = {}
    for t in tallies:
        for p in t.pools:
            key = f"{p.node}/{p.gauge_mm if p.unit == 'wagons' else p.unit}"
            lows[key].append(p.lowest_wagons)
            waited[key] += p.trains_waited
            first.setdefault(key, PoolSummary(p.node, p.gauge_mm, p.start_wagons, 0, 0.0, 0.0, p.unit))
    pools = {
        key: dataclasses.replace(
            pool,
            lowest_wagons=min(lows[key]),
            lowest_wagons_mean=round(statistics.fmean(lows[key]), 2),
            trains_waited_per_replication=round(waited[key] / n_reps, 2),
        )
        for key, pool in sorted(first.items())
    }
    return RollingStockSummary(
        {name: flow([w]) for name, w in weekly.items()},
        {name: flow(parts) for name, parts in sorted(by_corridor.items())},
        pools,
    )


def _nodes(net: Network, scenario: Scenario, tallies: Sequence[Tally]) -> dict[str, NodeSummary]:
    """Per node: the wait before service, the hold after it (a vessel, a timetable, a closure at a
    pass-through), utilisation and the largest queue (trains waiting at once, before or after service)."""
    n_reps = len(tallies)
    out: dict[str, NodeSummary] = {}
    for place in sorted({p for t in tallies for p in t.nodes}):
        rows = [t.nodes[place] for t in tallies if place in t.nodes]
        node = net.nodes[place]
        servers = node.facility.servers if node.facility else 1
        waits = [r.waits_h for r in rows]
        holds = [r.holds_h for r in rows]
        n_waits, n_holds = sum(map(len, waits)), sum(map(len, holds))
        longest = max(r.largest_queue for r in rows)
        wait = _sample_stats(waits) if n_waits else None
        held = n_holds and max(h.at(len(h) - 1) for h in holds if len(h)) > 1e-9
        hold = _sample_stats(holds) if held else None
        if wait is None and hold is None and not longest:
            continue  # a pass-through nobody waited at (trains all still waiting at the horizon do count)
        busy = math.fsum(r.busy_h for r in rows)
        out[place] = NodeSummary(
            country=node.country,
            visits_per_replication=(n_waits or n_holds) / n_reps,
            wait_h=wait,
            hold_h=hold,
            stay_h_mean=round((wait.mean or 0.0 if wait else 0.0) + (hold.mean or 0.0 if hold else 0.0), 2),
            utilisation=round(busy / (servers * scenario.end_h * n_reps), 4) if n_waits else None,
            largest_queue=longest,
        )
    return out


def _where(net: Network, scenario: Scenario, tallies: Sequence[Tally]) -> dict[str, WhereDaysGo]:
    """Mean hours per train spent at each node (waiting and service) and in each country (nodes
    and legs), over the arrived trains that took their service's route."""
    out: dict[str, WhereDaysGo] = {}
    for service in scenario.services:
        rows = [t.where[service.name] for t in tallies if service.name in t.where]
        n = sum(r.trains for r in rows)
        if not n:
            continue
        at_node: dict[str, float] = defaultdict(float)
        in_country: dict[str, float] = defaultdict(float)
        m = len(service.node_ids)
        for i, node_id in enumerate(service.node_ids[1:], start=1):
            leg = net.legs[service.leg_ids[i - 1]]
            ends = [net.nodes[service.node_ids[i - 1]].country, *leg.countries, net.nodes[node_id].country]
            countries = [AT_SEA] if leg.mode == "sea" else list(dict.fromkeys(ends))
            moving = math.fsum(r.moving_h[i - 1] for r in rows)
            for c in countries:
                in_country[c] += moving / len(countries)
            if i < m - 1:
                stay = math.fsum(r.stay_h[i - 1] for r in rows)
                at_node[node_id] += stay
                in_country[net.nodes[node_id].country] += stay
        out[service.name] = WhereDaysGo(
            {k: round(x / n, 2) for k, x in at_node.items() if x > 0},
            {k: round(x / n, 2) for k, x in in_country.items()},
        )
    return out


def overload_note(summary: RunSummary, *, share: float = 0.05) -> str | None:
    """A warning when more than ``share`` of a service's trains are still on their way at the
    horizon: its transit figures then cover only the trains that arrived, and the network is
    overloaded; names the worst queues. None when nothing is stuck."""
    stuck = {name: s.in_system_share for name, s in summary.services.items() if s.in_system_share > share}
    if not stuck:
        return None
    names = sorted(stuck, key=lambda n: -stuck[n])
    shown = ", ".join(f"{n} {100 * stuck[n]:.0f}%" for n in names[:4]) + (
        f" and {len(names) - 4} more" if len(names) > 4 else ""
    )
    waits = {n: (v.wait_h.mean or 0.0, v.utilisation) for n, v in summary.nodes.items() if v.wait_h}
    queues = sorted(waits.items(), key=lambda kv: -kv[1][0])[:3]
    where = "; ".join(
        f"{n} (mean wait {mean:,.0f} h" + (f", utilisation {100 * util:.0f}%" if util is not None else "") + ")"
        for n, (mean, util) in queues
        if mean >= 1
    )
    return (
        f"Overloaded: share of trains still on their way at the horizon — {shown}. Their transit "
        "figures cover only the trains that arrived, so they understate the delay"
        + (f"; the longest queues: {where}" if where else "")
        + "."
    )


def _few(x: float) -> str:
    """A count or hours that may be small: 0.2, 3.5, 1,234."""
    return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"


def rolling_stock_note(summary: RunSummary, base: RunSummary | None = None) -> str | None:
    """The wagon pools in a line: empty wagon-km a week (and the base's), the services that
    waited longest for wagons, and the pools that ran dry. None without pools."""
    rolling = summary.rolling_stock
    if not rolling.pools:
        return None

    def km(s: RunSummary) -> float:
        return math.fsum(f.empty_wagon_km_per_week for f in s.rolling_stock.services.values())

    parts = [f"empty wagon-km a week {km(summary):,.0f}" + (f" (base {km(base):,.0f})" if base else "")]
    waits = sorted(
        ((n, f.wagon_wait_h_per_train) for n, f in rolling.services.items() if f.wagon_wait_h_per_train > 0),
        key=lambda kv: -kv[1],
    )
    if waits:
        parts.append("waited for wagons: " + ", ".join(f"{n} {_few(h)} h a train" for n, h in waits[:4]))
    engines = sorted(
        ((n, f.locomotive_wait_h_per_train) for n, f in rolling.services.items() if f.locomotive_wait_h_per_train > 0),
        key=lambda kv: -kv[1],
    )
    if engines:
        parts.append("waited for locomotives: " + ", ".join(f"{n} {_few(h)} h a train" for n, h in engines[:4]))
    short = [
        f"{k} ({_few(p.trains_waited_per_replication)} trains a replication, lowest {p.lowest_wagons:,} of "
        f"{p.start_wagons:,})"
        for k, p in rolling.pools.items()
        if p.trains_waited_per_replication
    ]
    if short:
        parts.append("pools that ran short: " + ", ".join(short))
    return "Rolling stock: " + "; ".join(parts) + "."
