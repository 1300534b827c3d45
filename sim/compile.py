"""Compiling a scenario spec against a network: bases merged, overrides, bans and reroutes applied."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

from corridors import DataError, Network, load_network, route
from corridors.units import days, hours
from sim.model import (
    WAGON_MODES,
    CapacityCut,
    Closure,
    LocomotivePool,
    Scenario,
    Service,
    TrainLimit,
    WagonPool,
    Weather,
    service_rate,
    short_pools,
    timetable,
)
from sim.spec import (
    CapacityCutSpec,
    ClosureSpec,
    LocomotivePoolSpec,
    ReroutingSpec,
    ScenarioSpec,
    ServiceSpec,
    SourceRef,
    TrainLimitSpec,
    WagonPoolSpec,
    WeatherSpec,
    Where,
    when,
)
from sim.whatif import apply_overrides, apply_service_overrides, reroute

__all__ = ["DEFAULT_DRAIN_D", "MAX_DEPARTURES", "MAX_WINDOW_D", "compile_scenario"]

#: Days the simulation runs on after the last departure, so that late trains can arrive.
DEFAULT_DRAIN_D = 120
#: The longest departure window a scenario may have (about ten years).
MAX_WINDOW_D = 3660
#: The most departures a scenario may hold, over all its services (checked as they are built).
MAX_DEPARTURES = 2_000_000


def compile_scenario(spec: ScenarioSpec, network: Network | None = None) -> Scenario:
    """The runnable scenario of ``spec`` on ``network`` (None: the spec's own, its base's, or the bundled one).

    Its base is compiled first (on the same ``network`` when one is given). The what-if's
    services replace the base's of the same name (or add to them), its closures, capacity cuts
    and weather add to the base's, ``[[overrides]]`` change facility, leg and service
    parameters, ``[bans]`` keep traffic out of countries and nodes, and services whose route is
    banned or closed for longer than ``[rerouting] closure_threshold_d`` take the best
    remaining route (``sim.whatif.reroute``).
    """
    base = compile_scenario(spec.base, network) if spec.base is not None else None
    start, end = _dates(spec, base)
    if network is None:
        network = (
            base.network
            if base is not None and not spec.network
            else load_network((spec.path.parent / spec.network) if spec.network else None)
        )
    drain_d = spec.drain_d
    if drain_d is None:
        drain_d = days(base.horizon_h - base.end_h) if base is not None else DEFAULT_DRAIN_D
    horizon_h = (end - start).total_seconds() / 3600 + 24 * drain_d
    horizon = start + dt.timedelta(hours=horizon_h)
    _check_sources(spec.source_refs, network.sources)
    network = apply_overrides(network, [o for o in spec.overrides if o.service is None])
    services, closures, cuts = _services(spec, base, network, start, end)
    closures += [_closure(c, network, start, horizon) for c in spec.closures]
    cuts += [_cut(c, network, start, horizon) for c in spec.capacity_cuts]
    weather = [*(base.weather if base else ()), *(_weather(w, network) for w in spec.weather)]
    pools = _pools(spec, base, network)
    engines = _engines(spec, base, network)
    limits = _limits(spec, base, network)
    countries, banned_nodes = _bans(spec, base, network)
    rules = spec.rerouting or ReroutingSpec()  # without a [rerouting] table, closures never reroute
    moved = reroute(
        services,
        network,
        countries=countries,
        nodes=banned_nodes,
        closures=closures,
        threshold_h=None if spec.rerouting is None else 24 * rules.closure_threshold_d,
        by=rules.by,
        file=spec.where.file,
        value_of_time_usd_per_feu_day=rules.value_of_time_usd_per_feu_day,
        start=start,
    )
    _check_engines(spec, engines, limits, moved, network)
    return Scenario(
        name=spec.name,
        description=spec.description,
        start=start,
        end_h=(end - start).total_seconds() / 3600,
        horizon_h=horizon_h,
        network=network,
        services=tuple(moved),
        closures=tuple(closures),
        capacity_cuts=tuple(cuts),
        weather=tuple(weather),
        wagon_pools=pools,
        locomotive_pools=engines,
        train_limits=limits,
        path=spec.path,
        base=base.name if base else None,
        banned_countries=countries,
        banned_nodes=banned_nodes,
        overrides=(*(base.overrides if base else ()), *(o.describe() for o in spec.overrides)),
    )


def _dates(spec: ScenarioSpec, base: Scenario | None) -> tuple[dt.datetime, dt.datetime]:
    """The departure window: the spec's own dates, else its base's."""
    head = spec.where
    if spec.start_date is not None:
        start = spec.start_date
    else:
        assert base is not None  # the spec requires dates without a base
        start = base.start
    if spec.end_date is not None:
        end = spec.end_date
    else:
        assert base is not None
        end = base.start + dt.timedelta(hours=base.end_h)
    if end <= start:
        raise head.error("end_date", when(end), f"must be after start_date ({when(start)})")
    if end - start > dt.timedelta(days=MAX_WINDOW_D):
        raise head.error(
            "end_date",
            when(end),
            f"is {(end - start).days:,} days after start_date ({when(start)}); a scenario's departure window "
            f"is at most {MAX_WINDOW_D:,} days (about ten years)",
        )
    return start, end


def _check_sources(refs: Sequence[SourceRef], known: Mapping[str, str]) -> None:
    for ref in refs:
        for key in ref.keys:
            if key not in known:
                raise ref.where.error(ref.key, key, "is not a source key listed in sources.toml")


def _services(
    spec: ScenarioSpec, base: Scenario | None, network: Network, start: dt.datetime, end: dt.datetime
) -> tuple[list[Service], list[Closure], list[CapacityCut]]:
    """The base's services (in this window) with the spec's own and its service overrides applied,
    and the base's closures and capacity cuts in this window."""
    services: dict[str, Service] = {}
    closures: list[Closure] = []
    cuts: list[CapacityCut] = []
    if base is not None:
        redefined = {s.name for s in spec.services or ()}
        services, closures, cuts = _rebased(base, start, end, spec.where, redefined)
    for own in spec.services or ():
        services[own.name] = _service(own, network, start, end)
        _check_departures(spec.where.file, services)
    apply_service_overrides(services, [o for o in spec.overrides if o.service is not None], start)
    _check_departures(spec.where.file, services)
    return list(services.values()), closures, cuts


def _rebased(
    base: Scenario, start: dt.datetime, end: dt.datetime, head: Where, redefined: set[str]
) -> tuple[dict[str, Service], list[Closure], list[CapacityCut]]:
    """The base's services, closures and capacity cuts in a what-if's window.

    Unchanged when the what-if keeps the base's dates. Otherwise every hour is counted from the
    what-if's start, and each service's timetable is built again for the new window (a shorter
    window must not keep the base's departures up to its old end): from the service's own dates
    when it gave them, which must lie within the new window, else over the whole window. The
    services the what-if ``redefined`` (its own [[services]] of the same name) are left to it.
    """
    base_end = base.start + dt.timedelta(hours=base.end_h)
    services = {s.name: s for s in base.services}
    if start == base.start and end == base_end:
        return services, list(base.closures), list(base.capacity_cuts)
    shift = (base.start - start).total_seconds() / 3600
    out: dict[str, Service] = {}
    for name, s in services.items():
        if name in redefined:
            out[name] = s  # replaced by the what-if's own table
            continue
        own_start, own_end = s.dates or (None, None)
        s_start, s_end = own_start or start, own_end or end
        if s_start < start or s_end > end or s_start >= s_end:
            key, date = ("start_date", start) if s_start < start else ("end_date", end)
            raise head.error(
                key,
                when(date),
                f"leaves out the base's service {name}, which runs {when(s_start)} to {when(s_end)}: "
                "move its dates with a [[services]] table of the same name",
            )
        detour = s.detour
        if detour is not None:
            detour = (detour[0] + shift, detour[1] + shift, detour[2], detour[3])
        out[name] = dataclasses.replace(
            s,
            departures_h=timetable(service_rate(s), s.weekdays, s_start, s_end, start),
            window_h=((s_start - start).total_seconds() / 3600, (s_end - start).total_seconds() / 3600),
            detour=detour,
        )
    closures = [dataclasses.replace(c, start_h=c.start_h + shift, end_h=c.end_h + shift) for c in base.closures]
    cuts = [dataclasses.replace(c, start_h=c.start_h + shift, end_h=c.end_h + shift) for c in base.capacity_cuts]
    return out, closures, cuts


def _check_departures(file: str, services: Mapping[str, Service]) -> None:
    """Refuse a scenario whose timetables hold more than ``MAX_DEPARTURES`` trains in all."""
    total = sum(len(s.departures_h) for s in services.values())
    if total > MAX_DEPARTURES:
        big = max(services.values(), key=lambda s: len(s.departures_h))
        raise DataError(
            file,
            f"service {big.name}",
            "trains_per_week",
            round(service_rate(big), 3),
            f"the services depart {total:,} trains in all ({big.name}: {len(big.departures_h):,}); "
            f"a scenario holds at most {MAX_DEPARTURES:,}: fewer trains a week or a shorter window",
        )


def _route(spec: ServiceSpec, network: Network) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A service's places and legs: its corridor's, or the quickest route between its ends."""
    rec = spec.where
    if spec.corridor is not None:
        if spec.corridor not in network.corridors:
            raise rec.error(
                "corridor", spec.corridor, f"is not a corridor of the network ({', '.join(network.corridors)})"
            )
        corridor = network.corridors[spec.corridor]
        if spec.reverse:
            return corridor.node_ids[::-1], corridor.leg_ids[::-1]
        return corridor.node_ids, corridor.leg_ids
    assert spec.origin is not None and spec.destination is not None
    for key, node in (("origin", spec.origin), ("destination", spec.destination)):
        if node not in network.nodes:
            raise rec.error(key, node, "is not a node of the network")
    found = route(network, spec.origin, spec.destination)
    if not found:
        raise rec.error("destination", spec.destination, f"cannot be reached from {spec.origin}")
    return found[0].node_ids, found[0].leg_ids


def _service(spec: ServiceSpec, network: Network, start: dt.datetime, end: dt.datetime) -> Service:
    rec = spec.where
    node_ids, leg_ids = _route(spec, network)
    s_start, s_end = spec.start_date or start, spec.end_date or end
    if s_end <= s_start:
        raise rec.error("end_date", when(s_end), f"must be after start_date ({when(s_start)})")
    if s_start < start or s_end > end:
        raise rec.error(
            "start_date" if s_start < start else "end_date",
            when(s_start if s_start < start else s_end),
            f"must lie within the scenario's {when(start)} to {when(end)}",
        )
    return Service(
        name=spec.name,
        node_ids=node_ids,
        leg_ids=leg_ids,
        departures_h=timetable(spec.trains_per_week, spec.weekdays, s_start, s_end, start),
        wagons=spec.wagons,
        teu=spec.teu,
        window_h=((s_start - start).total_seconds() / 3600, (s_end - start).total_seconds() / 3600),
        promised_transit_h=hours(spec.promised_transit_d) if spec.promised_transit_d is not None else None,
        departure_spread_h=spec.departure_spread_h,
        corridor=None if spec.reverse else spec.corridor,  # a corridor's figures are for its own direction
        sources=spec.sources,
        ranges=spec.ranges,
        trains_per_week=spec.trains_per_week,
        weekdays=spec.weekdays,
        dates=(spec.start_date, spec.end_date),
    )


def _place(where: Where, network: Network, node: str | None, leg: str | None) -> None:
    if node and node not in network.nodes:
        raise where.error("node", node, "is not a node of the network")
    if leg and leg not in network.legs:
        raise where.error("leg", leg, "is not a leg of the network")


def _window(
    where: Where, a: dt.datetime, b: dt.datetime, start: dt.datetime, horizon: dt.datetime
) -> tuple[float, float]:
    if b <= start or a >= horizon:
        raise where.error(
            "start", when(a), f"the window lies outside the simulated time ({when(start)} to {when(horizon)})"
        )
    return (a - start).total_seconds() / 3600, (b - start).total_seconds() / 3600


def _closure(spec: ClosureSpec, network: Network, start: dt.datetime, horizon: dt.datetime) -> Closure:
    _place(spec.where, network, spec.node, spec.leg)
    a, b = _window(spec.where, spec.start, spec.end, start, horizon)
    return Closure(start_h=a, end_h=b, node=spec.node, leg=spec.leg)


def _cut(spec: CapacityCutSpec, network: Network, start: dt.datetime, horizon: dt.datetime) -> CapacityCut:
    _place(spec.where, network, spec.node, None)
    f = network.nodes[spec.node].facility
    if f is None or (f.process_h is None and not f.trains_per_day):
        raise spec.where.error("node", spec.node, "has no servers or trains/day cap to cut (its facility has none)")
    a, b = _window(spec.where, spec.start, spec.end, start, horizon)
    return CapacityCut(node=spec.node, start_h=a, end_h=b, factor=spec.factor)


def _weather(spec: WeatherSpec, network: Network) -> Weather:
    _place(spec.where, network, spec.node, None)
    node = network.nodes[spec.node]
    if not (node.has_kind("port") or node.has_kind("ferry_terminal")):
        raise spec.where.error("node", spec.node, "is not a port or ferry terminal: weather stops vessels, not trains")
    if spec.problem is not None:
        raise spec.problem
    assert spec.stoppage_h is not None
    return Weather(
        node=spec.node,
        months=spec.months,
        stoppages_per_month=spec.stoppages_per_month,
        stoppage_h=spec.stoppage_h,
        closed_share=spec.closed_share,
        sources=spec.sources,
        ranges=spec.ranges,
    )


def _pools(spec: ScenarioSpec, base: Scenario | None, network: Network) -> tuple[WagonPool, ...]:
    """The base's wagon pools, with the spec's own added (one at the same node and gauge replaces the base's)."""
    pools = {(p.node, p.gauge_mm): p for p in (base.wagon_pools if base else ())}
    own: set[tuple[str, int]] = set()
    for p in spec.wagon_pools:
        if (p.node, p.gauge_mm) in own:
            raise p.where.error("node", p.node, f"has two {p.gauge_mm} mm pools in this file: give one")
        own.add((p.node, p.gauge_mm))
        pools[(p.node, p.gauge_mm)] = _pool(p, network)
    return tuple(pools.values())


def _pool(spec: WagonPoolSpec, network: Network) -> WagonPool:
    _place(spec.where, network, spec.node, None)
    gauges = sorted(
        {
            leg.gauge_mm
            for leg in network.legs.values()
            if spec.node in (leg.from_id, leg.to_id) and leg.mode in WAGON_MODES and leg.gauge_mm is not None
        }
    )
    if spec.gauge_mm not in gauges:
        met = f"its rail legs are {', '.join(map(str, gauges))} mm" if gauges else "no rail leg meets it"
        raise spec.where.error("gauge_mm", spec.gauge_mm, f"matches no rail leg at {spec.node} ({met})")
    return WagonPool(node=spec.node, gauge_mm=spec.gauge_mm, wagons=spec.wagons, sources=spec.sources, range=spec.range)


def _engines(spec: ScenarioSpec, base: Scenario | None, network: Network) -> tuple[LocomotivePool, ...]:
    """The base's locomotive pools, with the spec's own added (one at the same node replaces the base's)."""
    pools = {p.node: p for p in (base.locomotive_pools if base else ())}
    own: set[str] = set()
    for p in spec.locomotive_pools:
        if p.node in own:
            raise p.where.error("node", p.node, "has two locomotive pools in this file: give one")
        own.add(p.node)
        pools[p.node] = _engine(p, network)
    return tuple(pools.values())


def _engine(spec: LocomotivePoolSpec, network: Network) -> LocomotivePool:
    _place(spec.where, network, spec.node, None)
    if not any(spec.node in (leg.from_id, leg.to_id) and leg.mode == "rail" for leg in network.legs.values()):
        raise spec.where.error("node", spec.node, "has no rail leg: a locomotive pool hauls trains on rail")
    return LocomotivePool(spec.node, spec.locomotives, spec.sources, spec.range)


def _check_engines(
    spec: ScenarioSpec,
    engines: tuple[LocomotivePool, ...],
    limits: tuple[TrainLimit, ...],
    services: Sequence[Service],
    network: Network,
) -> None:
    """Every train can be hauled: a locomotive pool holds at least the parts a train runs in there."""
    where = {p.node: p.where for p in spec.locomotive_pools}
    for node, size, name, parts in short_pools(network, services, engines, limits)[:1]:
        raise where.get(node, spec.where).error(
            "locomotives",
            size,
            f"is fewer than the {parts} locomotives a train of {name} needs at {node} "
            f"(it runs there in {parts} parts): give at least {parts}",
        )


def _limits(spec: ScenarioSpec, base: Scenario | None, network: Network) -> tuple[TrainLimit, ...]:
    """The base's train-length limits, with the spec's own added (one of the same gauge and
    countries replaces the base's)."""
    limits = {(t.gauge_mm, t.countries): t for t in (base.train_limits if base else ())}
    known = {node.country for node in network.nodes.values()} | {
        c for leg in network.legs.values() for c in leg.countries
    }
    for t in spec.train_limits:
        _limit(t, known)
        limits[(t.gauge_mm, t.countries)] = TrainLimit(t.gauge_mm, t.countries, t.max_wagons, t.sources, t.range)
    return tuple(limits.values())


def _limit(spec: TrainLimitSpec, known: set[str]) -> None:
    for country in spec.countries:
        if country not in known:
            raise spec.where.error("countries", country, "is no country of the network's nodes or legs")


def _bans(spec: ScenarioSpec, base: Scenario | None, network: Network) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The countries and nodes banned: the base's and the spec's own."""
    countries: tuple[str, ...] = base.banned_countries if base else ()
    nodes: tuple[str, ...] = base.banned_nodes if base else ()
    bans = spec.bans
    if bans is None:
        return countries, nodes
    for code in bans.countries:
        if code not in network.countries:
            raise bans.where.error("countries", code, "is not a country of the network")
    for node_id in bans.nodes:
        if node_id not in network.nodes:
            raise bans.where.error("nodes", node_id, "is not a node of the network")
    return tuple(dict.fromkeys((*countries, *bans.countries))), tuple(dict.fromkeys((*nodes, *bans.nodes)))
