"""KPIs as pure functions of the records: transit distributions, on-time share, throughput,
waiting and utilisation per node, where the days went, cost and CO2 per TEU."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from corridors import Network, summarize_path
from corridors.units import HOURS_PER_DAY, days, per_teu, per_week
from sim.engine import Replication
from sim.records import Trains, Visits, stack
from sim.scenario import Scenario
from sim.summary import SCHEMA_VERSION, DaysPerTrain, Flow, NodeSummary, RunSummary, ServiceSummary, Stats, WhereDaysGo

__all__ = [
    "AT_SEA",
    "ci95_of_mean",
    "describe",
    "overload_note",
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
    """(replication, train, place) -> {event: time_h} for the visits to ``places``, from the
    visit records (events named as in the event log: depart, arrive, start, end, leave, complete)."""
    out: dict[tuple[int, str, str], dict[str, float]] = {}
    for rep in reps:
        v, t = rep.visits, rep.trains
        wanted = [v.places.index(p) for p in set(places) if p in v.places]
        for row in np.flatnonzero(np.isin(v.place, wanted)).tolist():
            j, leg_in, leg_out = int(v.train[row]), int(v.leg_in[row]), int(v.leg_out[row])
            times: dict[str, float] = {}
            arrive = float(v.arrive_h[row])
            if leg_in < 0:
                times["depart"] = arrive
            else:
                for name, column in (("arrive", v.arrive_h), ("start", v.start_h), ("end", v.end_h)):
                    if not math.isnan(column[row]):
                        times[name] = float(column[row])
                if leg_out < 0 and t.arrived[j]:
                    times["complete"] = arrive
            if leg_out >= 0 and not math.isnan(v.leave_h[row]) and leg_in >= 0:
                times["leave"] = float(v.leave_h[row])
            out[(rep.replication, t.train[j], v.places[int(v.place[row])])] = times
    return out


def transit_d_per_replication(replications: Sequence[Replication], services: set[str]) -> list[list[float]]:
    """Per replication, the transit days of the arrived trains of ``services``, in their order."""
    out = []
    for rep in replications:
        t = rep.trains
        mask = t.arrived & np.isin(t.service, [t.services.index(s) for s in services if s in t.services])
        out.append((t.transit_h()[mask] / HOURS_PER_DAY).tolist())
    return out


def summarize(scenario: Scenario, replications: Sequence[Replication], *, seed: int) -> RunSummary:
    """The summary written to summary.json (schema: docs/simulate.md; ``RunSummary.to_json()``)."""
    net = scenario.network
    n_reps = len(replications)
    visits, trains = stack([(rep.visits, rep.trains) for rep in replications])
    services: dict[str, ServiceSummary] = {}
    corridor_transits: dict[str, list[float]] = defaultdict(list)
    corridor_rep_means: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(n_reps)])
    transit_h = trains.transit_h()
    for service in scenario.services:
        per_rep = transit_d_per_replication(replications, {service.name})
        if service.corridor:
            for r, values in enumerate(per_rep):
                corridor_rep_means[service.corridor][r].extend(values)
        mine = trains.of_service(service.name)
        arrived = mine & trains.arrived
        n_trains, n_arrived = int(mine.sum()), int(arrived.sum())
        transits = [v for values in per_rep for v in values]
        promised = service.promised_transit_h
        path = summarize_path(net, service.node_ids, service.leg_ids)
        on_time = None
        if promised is not None and n_arrived:
            on_time = int((transit_h[arrived] <= promised).sum()) / n_arrived
        n_arr = max(n_arrived, 1)
        window_h = service.window_h[1] - service.window_h[0]  # the service's own window
        services[service.name] = ServiceSummary(
            corridor=service.corridor,
            route=tuple(service.node_ids),
            trains_per_replication=n_trains / n_reps,
            arrived_per_replication=n_arrived / n_reps,
            in_system_at_horizon_per_replication=(n_trains - n_arrived) / n_reps,
            in_system_share=round((n_trains - n_arrived) / n_trains, 4) if n_trains else 0.0,
            transit_d=_stats(transits, [statistics.fmean(v) if v else math.nan for v in per_rep]),
            promised_transit_d=round(days(promised), 2) if promised is not None else None,
            on_time_share=round(on_time, 4) if on_time is not None else None,
            throughput=Flow(
                trains_per_week=round(per_week(n_arrived / n_reps, window_h), 2),
                teu_per_week=round(per_week(n_arrived * service.teu / n_reps, window_h), 1),
            ),
            days=DaysPerTrain(
                moving=round(days(sum(trains.moving_h[arrived].tolist()) / n_arr), 2),
                waiting=round(days(sum(trains.waiting_h[arrived].tolist()) / n_arr), 2),
                processing=round(days(sum(trains.processing_h[arrived].tolist()) / n_arr), 2),
            ),
            cost_usd_per_teu=round(per_teu(path.cost_usd_per_feu), 0),
            co2_kg_per_teu=round(path.co2_kg_per_teu, 1),
        )
        if service.corridor:
            corridor_transits[service.corridor].extend(transits)
    corridors = {
        name: _stats(values, [statistics.fmean(v) if v else math.nan for v in corridor_rep_means[name]])
        for name, values in corridor_transits.items()
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
        nodes={place: _node(row) for place, row in _nodes(net, scenario, visits, trains, n_reps).items()},
        legs=_legs(scenario, services),
        where_days_go={
            name: WhereDaysGo(row["by_node_h"], row["by_country_h"])
            for name, row in _where(net, scenario, visits, trains).items()
        },
    )


def _stats(values: Iterable[float], per_replication_means: Sequence[float]) -> Stats:
    """``describe``, rounded as summary.json gives it."""
    return Stats.of(_rounded(describe(values, per_replication_means)))


def _node(row: dict[str, Any]) -> NodeSummary:
    """A row of ``_nodes`` as its dataclass."""
    wait, hold = row["wait_h"], row["hold_h"]
    return NodeSummary(
        country=row["country"],
        visits_per_replication=row["visits_per_replication"],
        wait_h=Stats.of(wait) if wait is not None else None,
        hold_h=Stats.of(hold) if hold is not None else None,
        stay_h_mean=row["stay_h_mean"],
        utilisation=row["utilisation"],
        largest_queue=row["largest_queue"],
    )


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


def _by_place_and_rep(
    place: npt.NDArray[np.int32], rep: npt.NDArray[np.int32], values: npt.NDArray[np.float64], reps: list[int]
) -> dict[int, list[list[float]]]:
    """place -> per replication (in ``reps`` order), its values."""
    out: dict[int, list[list[float]]] = {}
    for p in np.unique(place).tolist():
        here = place == p
        out[p] = [values[here & (rep == r)].tolist() for r in reps]
    return out


def _longest_queues(
    group: npt.NDArray[np.int64], times: npt.NDArray[np.float64], deltas: npt.NDArray[np.int64]
) -> dict[int, int]:
    """group -> the most trains waiting at once: by time, a leaving train (-1) before an arriving
    one (+1); every group's changes sum to zero, so one running sum over the sorted groups works."""
    order = np.lexsort((deltas, times, group))
    running = np.cumsum(deltas[order])
    out: dict[int, int] = {}
    for g in np.unique(group).tolist():
        out[g] = max(0, int(running[group[order] == g].max()))
    return out


def _nodes(net: Network, scenario: Scenario, visits: Visits, trains: Trains, n_reps: int) -> dict[str, Any]:
    """Per node: the wait before service, the hold after it (a vessel, a timetable, a closure at a
    pass-through), utilisation and the largest queue (trains waiting at once, before or after service)."""
    v = visits
    reps = sorted(set(v.replication.tolist()))
    horizon = scenario.horizon_h
    inner = v.leg_in >= 0  # the origin is where a train starts, not a place it waits at
    served = inner & ~np.isnan(v.start_h) & ~np.isnan(v.arrive_h)
    waits = _by_place_and_rep(v.place[served], v.replication[served], (v.start_h - v.arrive_h)[served], reps)
    # server-hours within the services' departure window (a service under way at the horizon runs to it)
    ends = np.where(np.isnan(v.end_h), horizon, v.end_h)
    busy_h = np.maximum(0.0, np.minimum(ends, scenario.end_h) - np.maximum(v.start_h, 0.0))
    since = np.where(np.isnan(v.end_h), v.arrive_h, v.end_h)
    held = inner & (v.leg_out >= 0) & ~np.isnan(v.leave_h) & ~np.isnan(since)
    holds = _by_place_and_rep(v.place[held], v.replication[held], (v.leave_h - since)[held], reps)
    complete = (v.leg_out < 0) & trains.arrived[v.train]
    queued = inner & ~np.isnan(v.arrive_h) & ~complete
    leave = np.where(np.isnan(v.leave_h), horizon, v.leave_h)
    after = queued & ~np.isnan(v.end_h)
    group = v.replication.astype(np.int64) * len(v.places) + v.place
    times = np.concatenate(
        [v.arrive_h[queued], np.where(np.isnan(v.start_h), leave, v.start_h)[queued], v.end_h[after], leave[after]]
    )
    deltas = np.concatenate(
        [np.ones(queued.sum()), -np.ones(queued.sum()), np.ones(after.sum()), -np.ones(after.sum())]
    )
    groups = np.concatenate([group[queued], group[queued], group[after], group[after]])
    longest: dict[str, int] = defaultdict(int)
    for g, most in _longest_queues(groups, times, deltas.astype(np.int64)).items():
        name = v.places[g % len(v.places)]
        longest[name] = max(longest[name], most)

    def stats(per_rep: list[list[float]]) -> dict[str, Any]:
        return _rounded(describe([x for xs in per_rep for x in xs], [statistics.fmean(xs) for xs in per_rep if xs]))

    out: dict[str, Any] = {}
    names = {v.places[p] for p in (*waits, *holds)} | set(longest)
    for place in sorted(names):
        p = v.places.index(place)
        node = net.nodes[place]
        servers = node.facility.servers if node.facility else 1
        w = waits.get(p)
        h = holds.get(p)
        n_visits = sum(len(xs) for xs in (w or h or []))
        hold = stats(h) if h and any(x > 1e-9 for xs in h for x in xs) else None
        wait = stats(w) if w else None
        if wait is None and hold is None and not longest.get(place):
            continue  # a pass-through nobody waited at (trains all still waiting at the horizon do count)
        busy = math.fsum(busy_h[served & (v.place == p)].tolist())
        out[place] = {
            "country": node.country,
            "visits_per_replication": n_visits / n_reps,
            "wait_h": wait,
            "hold_h": hold,
            "stay_h_mean": round((wait["mean"] if wait else 0.0) + (hold["mean"] if hold else 0.0), 2),
            "utilisation": round(busy / (servers * scenario.end_h * n_reps), 4) if w else None,
            "largest_queue": longest.get(place, 0),
        }
    return out


def _where(net: Network, scenario: Scenario, visits: Visits, trains: Trains) -> dict[str, Any]:
    """Mean hours per train spent at each node (waiting and service) and in each country (nodes
    and legs), over the arrived trains that took their service's route."""
    v = visits
    first = np.searchsorted(v.train, np.arange(len(trains)))
    count = np.diff(np.append(first, len(v.train)))
    # when a train left each place: onto the next leg, else after service, else when it arrived
    left = np.where(np.isnan(v.leave_h), np.where(np.isnan(v.end_h), v.arrive_h, v.end_h), v.leave_h)
    out: dict[str, Any] = {}
    for service in scenario.services:
        m = len(service.node_ids)
        route = np.asarray([v.places.index(n) for n in service.node_ids])
        candidates = np.flatnonzero(trains.of_service(service.name) & trains.arrived & (count == m))
        rows = first[candidates][:, None] + np.arange(m)[None, :]
        rows = rows[(v.place[rows] == route[None, :]).all(axis=1)] if len(rows) else rows
        if not len(rows):
            continue
        arrive, leave = v.arrive_h[rows], left[rows]
        leave[:, 0] = arrive[:, 0]  # from the departure: a wait at the origin counts on the first leg
        at_node: dict[str, float] = defaultdict(float)
        in_country: dict[str, float] = defaultdict(float)
        for i, node_id in enumerate(service.node_ids[1:], start=1):
            leg = net.legs[service.leg_ids[i - 1]]
            ends = [net.nodes[service.node_ids[i - 1]].country, *leg.countries, net.nodes[node_id].country]
            countries = [AT_SEA] if leg.mode == "sea" else list(dict.fromkeys(ends))
            moving = math.fsum((arrive[:, i] - leave[:, i - 1]).tolist())
            for c in countries:
                in_country[c] += moving / len(countries)
            if i < m - 1:
                stay = math.fsum((leave[:, i] - arrive[:, i]).tolist())
                at_node[node_id] += stay
                in_country[net.nodes[node_id].country] += stay
        n = len(rows)
        out[service.name] = {
            "by_node_h": {k: round(x / n, 2) for k, x in at_node.items() if x > 0},
            "by_country_h": {k: round(x / n, 2) for k, x in in_country.items()},
        }
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
