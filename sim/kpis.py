"""KPIs as pure functions of the records: transit distributions, on-time share, throughput,
waiting and utilisation per node, where the days went, cost and CO2 per TEU."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from corridors import Network, summarize_path
from corridors.units import days, per_teu, per_week
from sim.engine import Replication
from sim.records import Event
from sim.scenario import Scenario
from sim.summary import SCHEMA_VERSION, DaysPerTrain, Flow, NodeSummary, RunSummary, ServiceSummary, Stats, WhereDaysGo

__all__ = ["AT_SEA", "ci95_of_mean", "describe", "node_visits", "overload_note", "summarize"]

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


def node_visits(events: Iterable[Event]) -> dict[tuple[int, str, str], dict[str, float]]:
    """(replication, train, place) -> {event: time_h} from the flat event log."""
    visits: dict[tuple[int, str, str], dict[str, float]] = defaultdict(dict)
    for e in events:
        visits[(e.replication, e.train, e.place)][e.event] = e.time_h
    return visits


def summarize(scenario: Scenario, replications: Sequence[Replication], *, seed: int) -> RunSummary:
    """The summary written to summary.json (schema: docs/simulate.md; ``RunSummary.to_json()``)."""
    net = scenario.network
    n_reps = len(replications)
    services: dict[str, ServiceSummary] = {}
    corridor_transits: dict[str, list[float]] = defaultdict(list)
    corridor_rep_means: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(n_reps)])
    for service in scenario.services:
        per_rep: list[list[float]] = []
        trains = [t for rep in replications for t in rep.trains if t.service == service.name]
        arrived = [t for t in trains if t.arrive_h is not None]
        for r, rep in enumerate(replications):
            values = [
                days(t.arrive_h - t.depart_h)
                for t in rep.trains
                if t.service == service.name and t.arrive_h is not None
            ]
            per_rep.append(values)
            if service.corridor:
                corridor_rep_means[service.corridor][r].extend(values)
        transits = [v for values in per_rep for v in values]
        promised = service.promised_transit_h
        path = summarize_path(net, service.node_ids, service.leg_ids)
        on_time = None
        if promised is not None and arrived:
            on_time = sum(1 for t in arrived if (t.arrive_h or 0) - t.depart_h <= promised) / len(arrived)
        n_arr = max(len(arrived), 1)
        window_h = service.window_h[1] - service.window_h[0]  # the service's own window
        services[service.name] = ServiceSummary(
            corridor=service.corridor,
            route=tuple(service.node_ids),
            trains_per_replication=len(trains) / n_reps,
            arrived_per_replication=len(arrived) / n_reps,
            in_system_at_horizon_per_replication=(len(trains) - len(arrived)) / n_reps,
            in_system_share=round((len(trains) - len(arrived)) / len(trains), 4) if trains else 0.0,
            transit_d=_stats(transits, [statistics.fmean(v) if v else math.nan for v in per_rep]),
            promised_transit_d=round(days(promised), 2) if promised is not None else None,
            on_time_share=round(on_time, 4) if on_time is not None else None,
            throughput=Flow(
                trains_per_week=round(per_week(len(arrived) / n_reps, window_h), 2),
                teu_per_week=round(per_week(len(arrived) * service.teu / n_reps, window_h), 1),
            ),
            days=DaysPerTrain(
                moving=round(days(sum(t.moving_h or 0.0 for t in arrived) / n_arr), 2),
                waiting=round(days(sum(t.waiting_h or 0.0 for t in arrived) / n_arr), 2),
                processing=round(days(sum(t.processing_h or 0.0 for t in arrived) / n_arr), 2),
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
    visits = node_visits(e for rep in replications for e in rep.events)
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
        nodes={place: _node(row) for place, row in _nodes(net, scenario, replications, visits).items()},
        legs=_legs(scenario, services),
        where_days_go={
            name: WhereDaysGo(row["by_node_h"], row["by_country_h"])
            for name, row in _where(net, scenario, visits).items()
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


def _nodes(
    net: Network,
    scenario: Scenario,
    replications: Sequence[Replication],
    visits: dict[tuple[int, str, str], dict[str, float]],
) -> dict[str, Any]:
    """Per node: the wait before service, the hold after it (a vessel, a timetable, a closure at a
    pass-through), utilisation and the largest queue (trains waiting at once, before or after service)."""
    n_reps = len(replications)
    rep_index = {rep.replication: i for i, rep in enumerate(replications)}
    waits: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(n_reps)])
    holds: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(n_reps)])
    busy: dict[str, float] = defaultdict(float)
    queue_events: dict[tuple[int, str], list[tuple[float, int]]] = defaultdict(list)
    for (rep, _train, place), ev in visits.items():
        r = rep_index[rep]
        if "start" in ev and "arrive" in ev:
            waits[place][r].append(ev["start"] - ev["arrive"])
            # server-hours within the services' departure window (a service under way at the horizon runs to it)
            busy[place] += max(0.0, min(ev.get("end", scenario.horizon_h), scenario.end_h) - max(ev["start"], 0.0))
        if "leave" in ev:
            since = ev.get("end", ev.get("arrive"))
            if since is not None:
                holds[place][r].append(ev["leave"] - since)
        if "arrive" in ev and "complete" not in ev:  # waiting at once: for service, then for a vessel or an opening
            horizon = scenario.horizon_h
            queue_events[(rep, place)] += [(ev["arrive"], 1), (ev.get("start", ev.get("leave", horizon)), -1)]
            if "end" in ev:
                queue_events[(rep, place)] += [(ev["end"], 1), (ev.get("leave", horizon), -1)]
    longest: dict[str, int] = defaultdict(int)
    for (_rep, place), changes in queue_events.items():
        length = 0
        for _, delta in sorted(changes):  # by time, a leaving train (-1) before an arriving one (+1)
            length += delta
            longest[place] = max(longest[place], length)

    def stats(per_rep: list[list[float]]) -> dict[str, Any]:
        return _rounded(describe([v for vs in per_rep for v in vs], [statistics.fmean(vs) for vs in per_rep if vs]))

    out: dict[str, Any] = {}
    for place in sorted(set(waits) | set(holds) | set(longest)):
        node = net.nodes[place]
        servers = node.facility.servers if node.facility else 1
        w = waits.get(place)
        h = holds.get(place)
        n_visits = sum(len(vs) for vs in (w or h or []))
        hold = stats(h) if h and any(v > 1e-9 for vs in h for v in vs) else None
        wait = stats(w) if w else None
        if wait is None and hold is None and not longest.get(place):
            continue  # a pass-through nobody waited at (trains all still waiting at the horizon do count)
        out[place] = {
            "country": node.country,
            "visits_per_replication": n_visits / n_reps,
            "wait_h": wait,
            "hold_h": hold,
            "stay_h_mean": round((wait["mean"] if wait else 0.0) + (hold["mean"] if hold else 0.0), 2),
            "utilisation": round(busy[place] / (servers * scenario.end_h * n_reps), 4) if w else None,
            "largest_queue": longest.get(place, 0),
        }
    return out


def _where(net: Network, scenario: Scenario, visits: dict[tuple[int, str, str], dict[str, float]]) -> dict[str, Any]:
    """Mean hours per train spent at each node (waiting and service) and in each country (nodes and legs)."""
    out: dict[str, Any] = {}
    by_train: dict[tuple[int, str], dict[str, dict[str, float]]] = defaultdict(dict)
    for (rep, train, place), ev in visits.items():
        by_train[(rep, train)][place] = ev
    trains_of: dict[str, list[dict[str, dict[str, float]]]] = defaultdict(list)
    for (_rep, train), places in by_train.items():
        trains_of[train.rsplit("-", 1)[0]].append(places)  # a train is "<service>-<number>"
    for service in scenario.services:
        at_node: dict[str, float] = defaultdict(float)
        in_country: dict[str, float] = defaultdict(float)
        count = 0
        for places in trains_of.get(service.name, ()):
            if "complete" not in places.get(service.node_ids[-1], {}):
                continue
            if any(n not in places for n in service.node_ids):
                continue  # a train that took a detour
            count += 1
            previous_leave = places[service.node_ids[0]]["depart"]
            for i, node_id in enumerate(service.node_ids[1:], start=1):
                ev = places.get(node_id, {})
                arrive = ev.get("arrive", previous_leave)
                leg = net.legs[service.leg_ids[i - 1]]
                ends = [net.nodes[service.node_ids[i - 1]].country, *leg.countries, net.nodes[node_id].country]
                countries = [AT_SEA] if leg.mode == "sea" else list(dict.fromkeys(ends))
                for c in countries:
                    in_country[c] += (arrive - previous_leave) / len(countries)
                leave = ev.get("leave", ev.get("end", ev.get("complete", arrive)))
                if i < len(service.node_ids) - 1:
                    at_node[node_id] += leave - arrive
                    in_country[net.nodes[node_id].country] += leave - arrive
                previous_leave = leave
        if count:
            out[service.name] = {
                "by_node_h": {k: round(v / count, 2) for k, v in at_node.items() if v > 0},
                "by_country_h": {k: round(v / count, 2) for k, v in in_country.items()},
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
