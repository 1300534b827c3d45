"""The SimPy engine: one replication of a scenario, trains walking their routes through facilities."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import functools
import gc
import heapq
import itertools
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy
from simpy.events import NORMAL, URGENT

from corridors import Distribution, Leg, Node
from sim.eventlog import EventColumns, event_columns, event_rows
from sim.facilities import Cut, FerryLine, Sailings, Station, Wagons, Windows, Yard
from sim.model import formation, leg_parts, traction
from sim.places import (
    CLOCK_SLACK_H,
    AdminHold,
    ClosedLeg,
    Ferry,
    Held,
    Line,
    Liner,
    Place,
    Served,
    Train,
    WagonReturn,
    WagonTake,
    YardEntry,
)
from sim.records import EmptyRun, Event, PoolLevel, RollingStock, Trains, Visits, WagonWait, WaitReason
from sim.scenario import Scenario, Service, Weather
from sim.streams import draw, stream

__all__ = ["Replication", "run_replication"]

VESSEL_DISPATCH = ("when_full", "max_wait")


_Step = tuple[Place, bool, bool, Callable[[Train], None]]  # a place, whether shared, whether it waits, its pass_


@dataclass(frozen=True)
class _Route:
    """A service's route resolved to the places its trains visit, looked up once per service.

    ``steps[i]`` is what a train meets from node ``i`` on: a closed leg, a full yard ahead, the
    move (a line, a ferry or a liner's voyage, which brings it to a later node), and what it meets
    there (servers, or a closure that may hold it) unless that is the end of the route.
    """

    steps: tuple[tuple[_Step, ...], ...]


@dataclass
class Replication:
    """What one replication produced: its visit records and trains (columns, ``sim.records``),
    and ferry sailings. ``events`` is the event log, a view of the visit records."""

    replication: int
    seed: int
    visits: Visits
    trains: Trains
    sailings: list[tuple[str, str, float, float]]  # (leg, from side, departure_h, units), by leg
    horizon_h: float
    #: Other freight handled at each node with background traffic (``Facility.background_per_day``):
    #: units carried away by its vessels, or trains its servers took.
    background: dict[str, float] = dataclasses.field(default_factory=dict)
    #: The wagon pools: empty runs, hours waited for wagons, lowest stocks (``Scenario.wagon_pools``).
    rolling_stock: RollingStock = dataclasses.field(default_factory=RollingStock)

    @functools.cached_property
    def event_columns(self) -> EventColumns:
        """The event log by time as columns (``sim.eventlog``), built on first use."""
        return event_columns(self.visits, self.trains)

    @functools.cached_property
    def events(self) -> list[Event]:
        """The event log by time as rows, built on first use."""
        return event_rows(self.event_columns)


def _background_freight(
    env: simpy.Environment, gap: Callable[[], float], arrive: Callable[[], object]
) -> Generator[simpy.Event, Any, None]:
    """Other freight arriving ``gap()`` hours apart, each block handed to ``arrive``."""
    while True:
        yield env.timeout(gap())
        arrive()


class _Model:
    def __init__(self, scenario: Scenario, seed: int, replication: int) -> None:
        self.scenario = scenario
        self.net = scenario.network
        self.seed = seed
        self.rep = replication
        self.env = simpy.Environment()
        self.finished: list[tuple[Train, Service]] = []
        node_closures: dict[str, list[tuple[float, float]]] = {}
        leg_closures: dict[str, list[tuple[float, float]]] = {}
        for c in scenario.closures:
            target = node_closures if c.node else leg_closures
            target.setdefault(c.node or c.leg or "", []).append((c.start_h, c.end_h))
        self.node_closed = {k: Windows(v) for k, v in node_closures.items()}
        self.leg_closed = {k: Windows(v) for k, v in leg_closures.items()}
        storms: dict[str, list[tuple[float, float]]] = {}
        for j, w in enumerate(scenario.weather):  # a node's tables add up, each on a stream of its own
            nth = sum(v.node == w.node for v in scenario.weather[:j])
            storms.setdefault(w.node, []).extend(self._storms(w, nth))
        self.storms = {node: Windows(windows) for node, windows in storms.items()}
        cuts: dict[str, list[Cut]] = {}
        for cut in scenario.capacity_cuts:
            cuts.setdefault(cut.node, []).append(Cut(cut.start_h, cut.end_h, cut.factor))
        self.stations: dict[str, Station] = {}
        for node in self.net.nodes.values():
            f = node.facility
            if f is None or (f.process_h is None and not f.trains_per_day):
                continue
            self.stations[node.id] = Station(
                node.id, f.servers, f.trains_per_day, self.node_closed.get(node.id), cuts.get(node.id, ())
            )
        self.yards = {
            node.id: Yard(self.env, node.id, node.facility.yard_capacity_trains)
            for node in self.net.nodes.values()
            if node.facility is not None and node.facility.yard_capacity_trains
        }
        self.ferries: dict[str, FerryLine] = {}
        self.background_trains: dict[str, int] = {}  # other trains served at a node's servers
        self.gates: dict[str, Station] = {}
        self._open_trains: dict[str, tuple[Train, Service]] = {}
        self.sailings: dict[tuple[str, str], Sailings] = {}
        self.pools = {
            (p.node, p.gauge_mm): Wagons(self.env, p.node, p.gauge_mm, p.wagons) for p in scenario.wagon_pools
        }
        self.empty_runs: list[EmptyRun] = []
        self.pooled: set[str] = set()  # services whose trains take wagons from a pool
        self.engines = {
            p.node: Wagons(self.env, p.node, 0, p.locomotives, unit="locomotives") for p in scenario.locomotive_pools
        }
        self.light_runs: list[EmptyRun] = []
        self.hauled: set[str] = set()  # services whose trains take locomotives from a pool

    # -- components built on first use ---------------------------------------------------------

    def _storms(self, weather: Weather, nth: int) -> list[tuple[float, float]]:
        """The stoppages of one [[weather]] table (the ``nth`` of its node), month by month.

        With ``stoppages_per_month``, that many a listed month on average. With ``closed_share``,
        stoppages begin at a steady rate in the listed months, -ln(1 - share) / the mean stoppage
        an hour, so that with overlaps merged the node is closed that share of the time whatever
        the stoppages' length; a run of listed months starts with the storms already under way
        then (those begun up to a longest stoppage before), and a stoppage may run on past it.
        """
        rng = stream(self.seed, self.rep, "weather", weather.node, *((str(nth),) if nth else ()))
        windows: list[tuple[float, float]] = []
        start = self.scenario.start
        month = dt.datetime(start.year, start.month, 1)
        share, stoppage_h = weather.closed_share, weather.stoppage_h
        per_h = -math.log1p(-share) / stoppage_h.mean_h if share is not None else 0.0
        before = False  # whether the month before was a listed one
        while self.scenario.hours(month) < self.scenario.horizon_h:
            days = calendar.monthrange(month.year, month.month)[1]
            begin_h = self.scenario.hours(month)
            listed = month.month in weather.months
            if listed and share is not None and not before:
                lead_h = stoppage_h.max_h
                for _ in range(int(rng.poisson(per_h * lead_h))):
                    begin = begin_h - float(rng.uniform(0, lead_h))
                    end = begin + draw(stoppage_h, rng, 1)[0]
                    if end > begin_h:
                        windows.append((begin_h, end))
            if listed:
                mean = per_h * 24 * days if share is not None else weather.stoppages_per_month or 0.0
                for _ in range(int(rng.poisson(mean))):
                    begin = begin_h + float(rng.uniform(0, 24 * days))
                    windows.append((begin, begin + draw(stoppage_h, rng, 1)[0]))
            before = listed
            month = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1)
        return windows

    def stoppages(self, node_id: str) -> Windows:
        windows = self.storms.get(node_id, Windows()).as_list() + self.node_closed.get(node_id, Windows()).as_list()
        return Windows(windows)

    def ferry(self, leg: Leg) -> FerryLine | None:
        if leg.mode != "ferry":
            return None
        if leg.id in self.ferries:
            return self.ferries[leg.id]
        for home, far in ((leg.from_id, leg.to_id), (leg.to_id, leg.from_id)):
            f = self.net.nodes[home].facility
            if f and f.dispatch in VESSEL_DISPATCH and f.vessels:
                unit = "wagons" if f.vessel_capacity_wagons else "teu"
                capacity = f.vessel_capacity_wagons or f.vessel_capacity_teu or 1
                rng = stream(self.seed, self.rep, "ferry", leg.id)
                buffer: list[float] = []

                def sail_h(rng: np.random.Generator = rng, buffer: list[float] = buffer) -> float:
                    if not buffer:
                        buffer.extend(reversed(draw(leg.transit_h, rng, 1024)))
                    return buffer.pop()

                line = FerryLine(
                    self.env,
                    leg.id,
                    home,
                    far,
                    f.vessels,
                    capacity,
                    f.dispatch or "when_full",
                    f.max_wait_h,
                    sail_h,
                    {home: self.stoppages(home), far: self.stoppages(far)},
                    unit=unit,
                )
                self.ferries[leg.id] = line
                return line
        return None

    def _gate(self, leg: Leg) -> Station | None:
        """The entry gate of a leg whose line capacity (trains a day) is set, shared by every service."""
        if not leg.capacity_trains_per_day:
            return None
        if leg.id not in self.gates:
            self.gates[leg.id] = Station(leg.id, 1, leg.capacity_trains_per_day, self.leg_closed.get(leg.id))
        return self.gates[leg.id]

    def liner(self, node: Node, chain: tuple[Leg, ...]) -> Sailings | None:
        f = node.facility
        if f is None or f.dispatch != "timetable" or not f.sailings_per_week:
            return None
        key = (node.id, chain[0].id)
        if key not in self.sailings:
            rngs = [stream(self.seed, self.rep, "sailing", node.id, leg.id) for leg in chain]
            cache: list[list[float]] = [[] for _ in chain]

            def sail_draw(j: int) -> list[float]:
                for k, leg in enumerate(chain):
                    while len(cache[k]) <= j:
                        cache[k].extend(draw(leg.transit_h, rngs[k], 256))
                return [cache[k][j] for k in range(len(chain))]

            capacity = float(f.vessel_capacity_teu or f.vessel_capacity_wagons or 1e9)
            self.sailings[key] = Sailings(
                node.id, 168.0 / f.sailings_per_week, capacity, sail_draw, self.stoppages(node.id)
            )
        return self.sailings[key]

    # -- trains ---------------------------------------------------------------------------------

    def start(self) -> None:
        for service in self.scenario.services:
            _Departures(self, service)
        for node in self.net.nodes.values():
            if node.facility is not None and node.facility.background_per_day:
                self._background(node)

    def _background(self, node: Node) -> None:
        """Other freight at ``node`` (``Facility.background_per_day``): blocks that arrive at
        random and wait for the vessels of its ferry line, or take one of its servers."""
        f = node.facility
        assert f is not None and f.background_per_day
        block = f.background_block or 1.0
        gap_h = 24.0 * block / f.background_per_day
        rng = stream(self.seed, self.rep, "background", node.id)
        gaps: list[float] = []

        def gap() -> float:
            if not gaps:
                gaps.extend(reversed(rng.exponential(gap_h, 1024).tolist()))
            return gaps.pop()

        ends = (leg for leg in self.net.legs.values() if leg.mode == "ferry" and node.id in (leg.from_id, leg.to_id))
        line = next((line for line in map(self.ferry, ends) if line is not None), None)
        if line is not None:
            self.env.process(_background_freight(self.env, gap, lambda: line.cross(node.id, block, background=True)))
            return
        station, process_h = self.stations.get(node.id), f.process_h
        if station is None or process_h is None:
            return
        service = stream(self.seed, self.rep, "background", node.id, "service")
        times: list[float] = []

        def serve() -> None:
            if not times:
                times.extend(reversed(draw(process_h, service, 1024)))
            station.admit(self.env.now, times.pop())
            self.background_trains[node.id] = self.background_trains.get(node.id, 0) + 1

        self.env.process(_background_freight(self.env, gap, serve))

    def timetable(self, service: Service) -> list[tuple[float, int, Service, _Route]]:
        """The service's departures in timetable order: (time, train number, service, route) each
        (the service itself, or its detour for a train that departs in the detour's window)."""
        n = len(service.departures_h)
        draws: dict[str, list[float]] = {}
        self._add_draws(service, draws, n)
        offsets = [0.0] * n
        if service.departure_spread_h:
            rng = stream(self.seed, self.rep, "service", service.name, "departure")
            offsets = [float(x) for x in rng.uniform(0, service.departure_spread_h, n)]
        last = service.window_h[1] - 1e-6 if service.window_h[1] > service.window_h[0] else float("inf")
        times = sorted((min(t + offsets[k], max(t, last)), k) for k, t in enumerate(service.departures_h))
        plan = self._plan(service, draws)
        if service.detour is None:
            return [(t, k, service, plan) for t, k in times]
        lo, hi, nodes, legs = service.detour
        other = dataclasses.replace(service, node_ids=nodes, leg_ids=legs, detour=None)
        self._add_draws(other, draws, n)
        detour = self._plan(other, draws)
        return [(t, k, other, detour) if lo <= t <= hi else (t, k, service, plan) for t, k in times]

    def _add_draws(self, service: Service, draws: dict[str, list[float]], n: int) -> None:
        """Draws for the places of a route not drawn yet (streams are keyed by place, so shared ones agree)."""
        for leg_id in service.leg_ids:
            if "leg:" + leg_id not in draws:
                rng = stream(self.seed, self.rep, "service", service.name, "leg", leg_id)
                draws["leg:" + leg_id] = draw(self.net.legs[leg_id].transit_h, rng, n)
        for node_id in service.node_ids[1:-1]:
            f = self.net.nodes[node_id].facility
            if f is not None and f.process_h is not None and "node:" + node_id not in draws:
                rng = stream(self.seed, self.rep, "service", service.name, "node", node_id)
                draws["node:" + node_id] = draw(f.process_h, rng, n)
            if f is not None and f.hold_h is not None and f.hold_probability and "hold:" + node_id not in draws:
                draws["hold:" + node_id] = self._holds(service.name, node_id, f.hold_probability, f.hold_h, n)

    def _holds(self, name: str, node_id: str, probability: float, hold_h: Distribution, n: int) -> list[float]:
        """Each of a service's ``n`` trains' administrative hold at a node, in hours (0: not held):
        whether it is held and for how long drawn from two streams of their own, so that a
        what-if changing the one keeps the other's draws (and every other draw)."""
        held = stream(self.seed, self.rep, "service", name, "hold", node_id).random(n) < probability
        hours = draw(hold_h, stream(self.seed, self.rep, "service", name, "hold", node_id, "h"), n)
        return [h if b else 0.0 for h, b in zip(hours, held.tolist(), strict=True)]

    def _plan(self, service: Service, draws: dict[str, list[float]]) -> _Route:
        """The places of each leg of the route and of the node after it."""
        nodes, legs = service.node_ids, service.leg_ids
        stock = self._stock_places(service)
        parts = stock.parts
        departures: list[tuple[Place, ...]] = []
        aheads: list[int] = []
        arrivals: list[tuple[Place, ...]] = [()] * len(nodes)
        for i, leg_id in enumerate(legs):
            leg = self.net.legs[leg_id]
            chain = self._voyage(i, nodes, legs)
            sailings = self.liner(self.net.nodes[nodes[i]], chain) if chain else None
            ferry = None if sailings else self.ferry(leg)
            move: Place
            if sailings is not None:
                move, ahead = Liner(sailings, self.node_closed.get), i + len(chain)
            elif ferry is not None:
                move, ahead = Ferry(ferry), i + 1
            else:
                move, ahead = Line(draws["leg:" + leg_id], self._gate(leg), parts[i]), i + 1
            closed = self.leg_closed.get(leg_id)
            aheads.append(ahead)
            yard = self.yards.get(nodes[ahead])
            departures.append(
                (
                    *((ClosedLeg(closed),) if closed else ()),
                    *((YardEntry(yard, ahead),) if yard is not None else ()),
                    move,
                )
            )
            nxt = nodes[i + 1]
            station = self.stations.get(nxt)
            held = self.node_closed.get(nxt) or self.storms.get(nxt)
            if station is not None:
                arrivals[i + 1] = (Served(station, draws.get("node:" + nxt)),)
            elif held:
                arrivals[i + 1] = (Held(held),)
            if "hold:" + nxt in draws:  # an administrative hold, after the service
                arrivals[i + 1] += (AdminHold(draws["hold:" + nxt]),)
        last = len(nodes) - 1
        steps = []
        for i, places in enumerate(departures):
            arrival = arrivals[aheads[i]] if aheads[i] < last else ()
            visited = (*places, *arrival)
            if stock:  # wagons and locomotives from pools
                visited = _stock_steps(i, aheads[i], places, arrival, stock)
            steps.append(tuple((p, p.shared, p.waits, p.pass_) for p in visited))  # read once, not per train
        return _Route(tuple(steps))

    def _stock_places(self, service: Service) -> _Stock:
        """Where a train of ``service`` takes wagons and locomotives from pools and gives them
        back, and the parts it runs in on each leg (``sim.model.formation``)."""
        stock = _Stock()
        legs, nodes = service.leg_ids, service.node_ids
        limits = self.scenario.train_limits
        formed = formation(self.net, legs, service.wagons, limits)
        stock.parts = leg_parts(self.net, legs, service.wagons, limits)

        def km(first: int, last: int) -> float:
            return math.fsum(self.net.legs[leg_id].distance_km for leg_id in legs[first:last])

        for first, last, gauge, _n in formed if self.pools else ():
            pool = self.pools.get((nodes[first], gauge))
            if pool is None:
                continue
            here = self.pools.get((nodes[last], gauge))
            stock.takes[first] = WagonTake(pool, first)
            stock.gives[last] = WagonReturn(first, here, service.name, km(first, last), self.empty_runs)
            self.pooled.add(service.name)
        for first, last in traction(self.net, nodes, legs, set(self.engines)) if self.engines else ():
            stock.couple[first] = WagonTake(self.engines[nodes[first]], first, stock.parts[first])
            stock.uncouple[last] = WagonReturn(
                first, None, service.name, km(first, last), self.light_runs, "locomotives"
            )
            self.hauled.add(service.name)
        return stock

    def _rolling_stock(self, trains: list[tuple[Train, Service]]) -> RollingStock:
        """What the wagon and locomotive pools did: the empty and light runs, the hours each
        service waited for wagons and for locomotives (up to the horizon), and each pool's lowest
        stock."""
        horizon = self.scenario.horizon_h
        whys = {int(WaitReason.WAGONS): "wagons", int(WaitReason.LOCOMOTIVES): "locomotives"}
        waits: dict[str, list[WagonWait]] = {"wagons": [], "locomotives": []}
        for train, service in trains:
            for i, waited_h, reason, until in train.waits:
                if reason in whys:
                    row = WagonWait(service.name, train.tid, service.node_ids[i], until - waited_h, until)
                    waits[whys[reason]].append(row)
        for pool in (*self.pools.values(), *self.engines.values()):  # still waiting at the horizon
            for tid, (i, since) in pool.pending.items():
                service = self._open_trains[tid][1]
                waits[pool.unit].append(WagonWait(service.name, tid, service.node_ids[i], since, math.inf))

        def hours(unit: str, names: set[str]) -> dict[str, float]:
            out = dict.fromkeys(sorted(names), 0.0)
            for w in waits[unit]:
                if w.from_h < horizon:
                    out[w.service] += min(w.until_h, horizon) - w.from_h
            return out

        pools = tuple(
            PoolLevel(p.node_id, p.gauge_mm, p.start_wagons, p.lowest, p.waited, p.unit)
            for p in (*self.pools.values(), *self.engines.values())
        )
        return RollingStock(
            tuple(self.empty_runs),
            hours("wagons", self.pooled),
            pools,
            tuple(waits["wagons"]),
            hours("locomotives", self.hauled),
            tuple(self.light_runs),
        )

    def _voyage(self, i: int, nodes: tuple[str, ...], legs: tuple[str, ...]) -> tuple[Leg, ...]:
        """The water legs (sea or ferry) from leg ``i`` to the next node with a facility; () if not water."""
        chain: list[Leg] = []
        for step, leg_id in enumerate(legs[i:]):
            leg = self.net.legs[leg_id]
            if leg.mode not in ("sea", "ferry") or (chain and leg.mode != chain[0].mode):
                break
            chain.append(leg)
            f = self.net.nodes[nodes[i + step + 1]].facility
            if f is not None and f.process_h is not None:
                break
        return tuple(chain)

    def run(self) -> Replication:
        self.start()
        horizon = self.scenario.horizon_h
        self._run_until(horizon)
        still = [self._open_trains[tid] for tid in sorted(self._open_trains)]
        visits, trains = _Columns(self.scenario, self.rep, horizon).of(self.finished, still)
        sailings = [  # by leg, whenever its ferry line was first used
            (leg, side, dep, units) for leg, line in sorted(self.ferries.items()) for side, dep, units in line.sailings
        ]
        background: dict[str, float] = {k: float(v) for k, v in self.background_trains.items()}
        for line in self.ferries.values():
            for side, _dep, units in line.background:
                background[side] = background.get(side, 0.0) + units
        rolling = self._rolling_stock(self.finished + still)
        return Replication(
            self.rep, self.seed, visits, trains, sailings, horizon, dict(sorted(background.items())), rolling
        )

    def _run_until(self, horizon: float) -> None:
        """``env.run(until=horizon)`` with ``Environment.step`` inlined: the same events in the same
        order (measured: the run about 5% faster, a call less per event). SimPy's ``until`` is an
        urgent event at the horizon, which stops the run before the events at that time; nothing
        is urgent there (urgent events, the start of a process or a walk, are pushed for now), so
        the run stops at the first event at or past the horizon."""
        env = self.env
        queue: list[Any] = env._queue
        pop = heapq.heappop
        while queue and queue[0][0] < horizon:
            env._now, _, _, event = pop(queue)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                raise event._value  # a failed event nobody waited on, as Environment.step raises it
        env._now = horizon


@dataclass
class _Stock:
    """A service's places for its pools (by node index of its route): where a train takes wagons
    (a section's first node, before its service there) and gives them back (the section's last,
    after its service), where it couples locomotives (after its service, before it leaves) and
    uncouples them (on arrival); and the parts it runs in on each leg."""

    takes: dict[int, Place] = dataclasses.field(default_factory=dict)
    gives: dict[int, Place] = dataclasses.field(default_factory=dict)
    couple: dict[int, Place] = dataclasses.field(default_factory=dict)
    uncouple: dict[int, Place] = dataclasses.field(default_factory=dict)
    parts: list[int] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.takes or self.gives or self.couple or self.uncouple)


def _stock_steps(
    i: int, ahead: int, places: tuple[Place, ...], arrival: tuple[Place, ...], stock: _Stock
) -> tuple[Place, ...]:
    """Step ``i``'s places (from node ``i`` to node ``ahead``) with the pools' (``_Stock``): at the
    origin the wagons are taken first; the locomotives are coupled before the train leaves node
    ``i`` and uncoupled on arrival at ``ahead``; there the wagons are taken before its service,
    given back right after it (the containers are off them), before an administrative hold."""
    origin = (stock.takes[0],) if i == 0 and 0 in stock.takes else ()
    couple = (stock.couple[i],) if i in stock.couple else ()
    uncouple = (stock.uncouple[ahead],) if ahead in stock.uncouple else ()
    at = (stock.takes[ahead],) if ahead in stock.takes else ()
    served, held = arrival[:1], arrival[1:]
    back = (stock.gives[ahead],) if ahead in stock.gives else ()
    return (*origin, *couple, *places, *uncouple, *at, *served, *back, *held)


class _Departures:
    """A service's trains departing in timetable order, by engine callbacks as a ``_Walk`` (what
    was a SimPy process with a ``Timeout`` per departure): it starts as a process would (an
    urgent event at time 0, when the service's places are built, in the order of the services,
    so the ferries' vessel processes are created in the same order), then is pushed on the
    engine's queue for each later departure time as that ``Timeout`` was."""

    __slots__ = ("callbacks", "model", "n", "times")

    _ok = True  # read by Environment.step

    def __init__(self, model: _Model, service: Service) -> None:
        self.model = model
        self.n = 0
        self.times: list[tuple[float, int, Service, _Route]] = []
        env = model.env
        self.callbacks: Any = (lambda _: self.depart(service),)
        queue: list[Any] = env._queue
        heapq.heappush(queue, (env._now, URGENT, next(env._eid), self))

    def depart(self, service: Service) -> None:
        """First call: the timetable, and the trains that leave at time 0."""
        self.times = self.model.timetable(service)
        self.next(woken=False)

    def next(self, woken: bool = True) -> None:
        """Start the trains due now (``woken``: the first is the one the engine woke this for,
        whatever its time's rounding), then wait for the next departure time."""
        env, times = self.model.env, self.times
        while self.n < len(times):
            t, k, service, route = times[self.n]
            if not woken and t > env._now:
                self.callbacks = _NEXT
                queue: list[Any] = env._queue
                heapq.heappush(queue, (env._now + (t - env._now), NORMAL, next(env._eid), self))
                return
            woken = False
            _Walk(self.model, service, k, route)
            self.n += 1


_NEXT = (_Departures.next,)  # the callbacks of a _Departures on the engine's queue


class _Walk:
    """A train walking its route, driven by engine callbacks instead of a SimPy process.

    The walk itself is what the engine's queue holds when the train waits for the engine's clock:
    it has the two attributes ``Environment.step`` reads (``callbacks``, ``_ok``) and is pushed
    with the (time, priority, event id) a ``Timeout`` would get, so that the order of events at
    equal times is the one a process had. That saves a ``Timeout``, a ``Process._resume`` and a
    generator resume per engine event of a train, and the train's process and its start and end
    events (measured on the baseline: the engine about 1.5x faster). A place that ``waits`` is still a generator
    (``Place.visit``), stepped here as ``Process._resume`` would (``_drive``).
    """

    __slots__ = ("callbacks", "due", "env", "j", "last", "model", "places", "service", "steps", "train")

    _ok = True  # read by Environment.step: a walk never fails

    def __init__(self, model: _Model, service: Service, k: int, route: _Route) -> None:
        env = self.env = model.env
        self.model, self.service, self.steps = model, service, route.steps
        tid = f"{service.name}-{k + 1:04d}"
        self.train = Train(
            env, rep=model.rep, tid=tid, k=k, nodes=service.node_ids, wagons=service.wagons, teu=service.teu
        )
        self.last = len(service.node_ids) - 1
        self.places: tuple[_Step, ...] = self.steps[0] if self.last else ()
        self.j = 0  # the next place of ``places`` to visit
        self.due = False  # the engine has reached the train's clock for the place ``j``
        model._open_trains[tid] = (self.train, service)
        # starts as a process would: an urgent event now (Initialize)
        self.callbacks: Any = _WALK
        queue: list[Any] = env._queue
        heapq.heappush(queue, (env._now, URGENT, next(env._eid), self))

    def walk(self) -> None:
        """Visit places until one needs the engine (then return, resumed by it), or arrive.

        The position (``places``, ``j``) and ``due`` are kept in locals and written back only
        when the walk stops, and the place's ``pass_`` comes bound from the route (measured: the
        walk about 20% faster than with attributes and lookups per place).
        """
        train, env = self.train, self.env
        now = env._now  # the engine's clock does not move during a callback
        places, j, due = self.places, self.j, self.due
        self.due = False
        while True:
            while j < len(places):
                place, shared, waits, pass_ = places[j]
                if shared:  # the clock rule (see sim.places): the engine reaches the train's time
                    if not due and train.t > now:
                        self._at(places, j, train.t)
                        return
                    due = False
                    assert now - train.t <= CLOCK_SLACK_H * (1.0 + train.t), (train.tid, now, train.t)
                j += 1
                if waits or train.slots:
                    self.places, self.j = places, j
                    if self._drive(place.visit(train), None):
                        return
                else:
                    pass_(train)
            if train.i >= self.last:
                break
            places, j = self.steps[train.i], 0
        if not due and train.t > now:  # at the destination, when the train arrives
            self._at(places, j, train.t)
            return
        if train.slots:
            self.places, self.j = places, j
            if self._drive(train.release_at(self.last, train.t), None):
                return
        del self.model._open_trains[train.tid]
        self.model.finished.append((train, self.service))

    def _at(self, places: tuple[_Step, ...], j: int, t: float) -> None:
        """Stop at ``places[j]`` (or the destination) until the engine's clock reaches the train's,
        ``t``: pushed as ``yield env.timeout(t - env.now)`` would be."""
        env = self.env
        self.places, self.j, self.due = places, j, True
        self.callbacks = _WALK
        queue: list[Any] = env._queue
        heapq.heappush(queue, (env._now + (t - env._now), NORMAL, next(env._eid), self))

    def _drive(self, visit: Generator[simpy.Event, Any, None], value: Any) -> bool:
        """Step a visit's generator as ``Process._resume`` does; True while it waits on an event."""
        while True:
            try:
                event = visit.send(value)
            except StopIteration:
                return False
            callbacks: list[Any] | None = event.callbacks
            if callbacks is not None:
                callbacks.append(lambda fired: self._resumed(visit, fired))
                return True
            value = event._value  # already processed

    def _resumed(self, visit: Generator[simpy.Event, Any, None], fired: simpy.Event) -> None:
        """The event a visit waits on fired (none fails in this model, so none is thrown in)."""
        if not self._drive(visit, fired._value):
            self.walk()


_WALK = (_Walk.walk,)  # the callbacks of a walk on the engine's queue: Environment.step calls walk(walk)


class _Columns:
    """The visit and train columns of a replication, from its trains' own records: arrived trains
    in the order they arrived, then those still in the system at the horizon (times a train
    computed ahead of the horizon did not happen)."""

    def __init__(self, scenario: Scenario, rep: int, horizon_h: float) -> None:
        net = scenario.network
        self.rep = rep
        self.horizon_h = horizon_h
        self.places = tuple(net.nodes)
        self.legs = tuple(net.legs)
        self.services = tuple(dict.fromkeys(s.name for s in scenario.services))
        self.place_at = {p: i for i, p in enumerate(self.places)}
        self.leg_at = {leg: i for i, leg in enumerate(self.legs)}
        self.routes: dict[int, tuple[list[int], list[int], list[int]]] = {}
        self.service_at = {name: i for i, name in enumerate(self.services)}

    def _route(self, service: Service) -> tuple[list[int], list[int], list[int]]:
        """A route's places and the legs into and out of each, as indices (once per service: keyed by
        the service's identity, which its trains share, not by its route, a tuple of tens of names
        to hash per train; the services outlive this)."""
        key = id(service)
        if key not in self.routes:
            legs = [self.leg_at[leg] for leg in service.leg_ids]
            self.routes[key] = ([self.place_at[p] for p in service.node_ids], [-1, *legs], [*legs, -1])
        return self.routes[key]

    def _cut(self, train: Train) -> int:
        """Cut a train still in the system at the horizon: the nodes it reached by then."""
        horizon, nan = self.horizon_h, math.nan
        n = max(i for i, t in enumerate(train.arrive) if i == 0 or t <= horizon) + 1
        for col in (train.arrive, train.start, train.end, train.left):
            col[:] = [x if x <= horizon else nan for x in col[:n]]
        return n

    def of(self, finished: list[tuple[Train, Service]], still: list[tuple[Train, Service]]) -> tuple[Visits, Trains]:
        trains = finished + still
        counts = [len(s.node_ids) for _, s in finished] + [self._cut(t) for t, _ in still]
        total = sum(counts)
        routes = [self._route(s) for _, s in trains]
        chain = itertools.chain.from_iterable

        def floats(column: str) -> npt.NDArray[np.float64]:
            return np.fromiter(chain(getattr(t, column) for t, _ in trains), np.float64, total)

        def ints(part: int) -> npt.NDArray[np.int32]:
            return np.fromiter(chain(r[part][:n] for r, n in zip(routes, counts, strict=True)), np.int32, total)

        leg_out = ints(2)
        ends = np.cumsum(counts) - 1
        for j, (n, (_, _, out)) in enumerate(zip(counts, routes, strict=True)):
            if n < len(out):  # cut short: the leg it was to take next
                leg_out[ends[j]] = out[n - 1]
        wait_h, why = self._waits(trains, counts, total)
        visits = Visits(
            replication=np.full(total, self.rep, np.int32),
            train=np.repeat(np.arange(len(trains), dtype=np.int32), counts),
            place=ints(0),
            leg_in=ints(1),
            leg_out=leg_out,
            arrive_h=floats("arrive"),
            start_h=floats("start"),
            end_h=floats("end"),
            leave_h=floats("left"),
            wait_h=wait_h,
            units=np.repeat(np.asarray([t.wagons for t, _ in trains], np.int32), counts),
            waited_for=why,
            places=self.places,
            legs=self.legs,
        )
        return visits, self._trains(finished, still)

    def _waits(
        self, trains: list[tuple[Train, Service]], counts: list[int], total: int
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
        """Hours waited at each visit (up to the horizon), and what kept the train there longest."""
        wait_h = np.zeros(total)
        why = np.zeros(total, np.int8)
        longest = np.zeros(total)
        first = 0
        for (train, _), n in zip(trains, counts, strict=True):
            for i, hours, reason, until in train.waits:
                if i >= n:
                    continue
                if until > self.horizon_h:
                    hours -= until - self.horizon_h
                    if hours <= 0:
                        continue
                wait_h[first + i] += hours
                if hours > longest[first + i]:
                    longest[first + i], why[first + i] = hours, reason
            first += n
        return wait_h, why

    def _trains(self, finished: list[tuple[Train, Service]], still: list[tuple[Train, Service]]) -> Trains:
        nan = math.nan
        rows = [
            (
                self.rep,
                t.tid,
                self.service_at[s.name],
                t.arrive[0],
                t.t,
                True,
                t.wagons,
                t.teu,
                t.moving_h,
                t.waiting_h,
                t.processing_h,
                t.parts,
                self.place_at[s.node_ids[-1]],
            )
            for t, s in finished
        ]
        for t, s in still:
            last = s.node_ids[len(t.arrive) - 1]
            rows.append(
                (
                    self.rep,
                    t.tid,
                    self.service_at[s.name],
                    t.arrive[0],
                    nan,
                    False,
                    t.wagons,
                    t.teu,
                    nan,
                    nan,
                    nan,
                    0,
                    self.place_at[last],
                )
            )
        return Trains.from_rows(rows, self.services, self.places)


def run_replication(scenario: Scenario, *, seed: int, replication: int) -> Replication:
    """Run one replication of ``scenario``: same (seed, replication), same records, in any process.

    The cyclic garbage collector is paused while it runs: a replication allocates a million
    short-lived objects, and collections sweeping over them cost about a third of the run time
    (reference counting still frees them; the cycles SimPy leaves are collected afterwards).
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return _Model(scenario, seed, replication).run()
    finally:
        if paused:
            gc.enable()
