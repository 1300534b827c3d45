"""Benchmark: one replication of the bundled baseline in the SimPy engine, against a hand-written
heapq event loop of the same model that builds the same records, measured in the same run.

    python benchmarks/bench_engine.py [--repeat 5]

The reference (``reference``) walks the same trains over the same routes with the same random
draws (``sim.streams``): the same departures (spread, window), FIFO stations with their servers
and trains/day caps computed on arrival, legs as delays, timetabled liner sailings (booked in
time order, split over sailings with room, each sailing's durations drawn once), ferries whose
vessels leave when full or after a maximum wait and wait out storms (the same storm draws),
splitting trains over vessels, and administrative holds after service (the same draws). Its
clock is the engine's (an event due at ``t`` is pushed for ``now + (t - now)``, as a SimPy
``Timeout``), so equal times order alike. It builds the same columns (``sim.records.Visits``:
per train per node the legs in and out, arrive, start, end, leave, hours waited and why;
``sim.records.Trains``), arrived trains in the order they arrived, then those still in the
system cut at the horizon, and the ferries' sailings. It has no closures, capacity cuts, line
capacities, yards, detours, wagon or locomotive pools or train limits (it refuses a scenario
with any of them): the comparison runs the baseline without its pools and limits, and the
engine's time with them is printed beside it, as what they add.

The benchmark asserts that the reference's records equal the engine's (all of them), then prints
the engine's time per replication, trains/s and visit rows/s, the ratio engine/reference (the
target: at most 1.25x), and the ratio to the old, smaller reference (``small_reference``:
stations and delays only, ferries and liners as delays, an event log and no records). All are
timed with the cyclic garbage collector paused, as the engine runs its replications,
interleaved, best of N.
"""

from __future__ import annotations

import argparse
import calendar
import dataclasses
import datetime as dt
import gc
import heapq
import itertools
import math
import platform
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from sim.engine import run_replication
from sim.facilities import Windows
from sim.records import Trains, Visits, WaitReason
from sim.scenario import Scenario, Service, load_scenario
from sim.streams import draw, stream

INF = float("inf")
NAN = math.nan
QUEUE, SAILING, VESSEL = int(WaitReason.QUEUE), int(WaitReason.SAILING), int(WaitReason.VESSEL)
HOLD = int(WaitReason.HOLD)


class _Train:
    """A train of the reference: where it is, its clock, totals and visit records (as ``sim.places.Train``)."""

    __slots__ = ("arrive", "due", "end", "i", "k", "left", "moving", "parts", "processing", "route", "start")
    __slots__ += ("t", "tid", "waiting", "waits", "leaving")

    def __init__(self, route: _RefRoute, k: int, t: float) -> None:
        n = len(route.nodes)
        self.route, self.k, self.t, self.i = route, k, t, 0
        self.tid = f"{route.name}-{k + 1:04d}"
        self.arrive, self.start, self.end, self.left = [NAN] * n, [NAN] * n, [NAN] * n, [NAN] * n
        self.arrive[0] = t
        self.waits: list[tuple[int, float, int, float]] = []
        self.moving = self.waiting = self.processing = 0.0
        self.parts = 0
        self.due = False  # the loop has reached the train's clock for what it does next
        self.leaving = True  # next: the move off node i (else: arriving at node i)


class _RefRoute:
    """A service's route for the reference: per node index the move off it and the station at it."""

    def __init__(self, scenario: Scenario, service: Service, seed: int, rep: int, shared: dict[str, Any]) -> None:
        net = scenario.network
        self.name, self.nodes, self.legs = service.name, service.node_ids, service.leg_ids
        self.wagons, self.teu = service.wagons, service.teu
        n = len(service.departures_h)
        self.draws = {
            leg: draw(net.legs[leg].transit_h, stream(seed, rep, "service", service.name, "leg", leg), n)
            for leg in service.leg_ids
        }
        node_draws = {}
        self.holds: dict[int, list[float]] = {}  # node index -> each train's administrative hold (hours)
        for i, node_id in enumerate(service.node_ids[1:-1], start=1):
            f = net.nodes[node_id].facility
            if f is not None and f.process_h is not None:
                node_draws[node_id] = draw(f.process_h, stream(seed, rep, "service", service.name, "node", node_id), n)
            if f is not None and f.hold_h is not None and f.hold_probability:
                held = stream(seed, rep, "service", service.name, "hold", node_id).random(n) < f.hold_probability
                hours = draw(f.hold_h, stream(seed, rep, "service", service.name, "hold", node_id, "h"), n)
                self.holds[i] = [h if b else 0.0 for h, b in zip(hours, held.tolist(), strict=True)]
        # moves[i]: ("line", draws, None), ("ferry", _Ferry, None) or ("liner", liner, None);
        # stations[i]: (station, draws) or None
        self.moves: list[tuple[str, Any, Any]] = []
        self.stations: list[tuple[list[Any], list[float] | None] | None] = []
        for i, node_id in enumerate(service.node_ids):
            st = shared["stations"].get(node_id)
            self.stations.append((st, node_draws.get(node_id)) if st is not None and i > 0 else None)
            if node_id in shared["held"] and st is None:
                raise NotImplementedError(f"{node_id}: a node held by storms without servers")
            if i == len(service.leg_ids):
                break
            leg = net.legs[service.leg_ids[i]]
            liner = _liner(scenario, seed, rep, service, i, shared)
            if liner is not None:
                self.moves.append(("liner", liner, None))
            else:
                ferry = _ferry(scenario, leg, seed, rep, shared) if leg.mode == "ferry" else None
                self.moves.append(("ferry", ferry, None) if ferry else ("line", self.draws[leg.id], None))


class _Ferry:
    """Vessels on a ferry leg (as ``sim.facilities.FerryLine``): at home a vessel leaves when full,
    or (``max_wait``) when the first unit waiting has waited ``max_wait_h``; at the far side it
    takes what is waiting and sails back at once; departures wait out storms; a train is split
    over vessels and lands with its last unit."""

    def __init__(self, scenario: Scenario, leg: Any, home: str, f: Any, seed: int, rep: int, loop: Any) -> None:
        self.home = home
        self.wagons = bool(f.vessel_capacity_wagons)
        self.capacity = f.vessel_capacity_wagons or f.vessel_capacity_teu or 1
        self.max_wait = f.max_wait_h if f.dispatch == "max_wait" else None
        self.rng, self.transit, self.buffer = stream(seed, rep, "ferry", leg.id), leg.transit_h, []
        far = leg.to_id if home == leg.from_id else leg.from_id
        self.queues: dict[str, deque[list[Any]]] = {home: deque(), far: deque()}
        self.storms = {side: _storms(scenario, seed, rep, side) for side in (home, far)}
        self.idle = f.vessels  # vessels waiting at home
        self.heap, self.seq, self.finished = loop
        self.deadline = -INF
        self.leg_id = leg.id
        self.sailings: list[tuple[str, float, float]] = []  # (from side, departure, units), as the engine's

    def board(self, tr: _Train, now: float) -> None:
        """Queue the train's units at its side (it goes on when its last unit lands)."""
        side = tr.route.nodes[tr.i]
        units = tr.route.wagons if self.wagons else tr.route.teu
        self.queues[side].append([now, units, [units, 0.0, 0, -INF, tr]])  # crossing: total, landed, parts, sailed
        if side == self.home:
            self.dispatch(now)

    def dispatch(self, now: float) -> None:
        """Send idle vessels from home while one may leave; else wake at the first unit's deadline."""
        queue = self.queues[self.home]
        while self.idle and queue:
            deadline = queue[0][0] + self.max_wait if self.max_wait is not None else INF
            if sum(u for _, u, _ in queue) < self.capacity - 1e-9 and now < deadline:
                if deadline < INF and deadline != self.deadline:
                    self.deadline = deadline
                    heapq.heappush(self.heap, (now + (deadline - now), next(self.seq), (self.wake, None)))
                return
            self.idle -= 1
            self.sail(self.home, now)

    def wake(self, _: None, now: float) -> None:
        self.dispatch(now)

    def other_freight(self, side: str, units: float, now: float) -> None:
        """Other freight's units queue at ``side`` (as ``FerryLine.cross(..., background=True)``)."""
        self.queues[side].append([now, units, [units, 0.0, 0, -INF, None]])
        if side == self.home:
            self.dispatch(now)

    def sail(self, side: str, now: float) -> None:
        """A vessel ready to load at ``side``: once the storms there are over."""
        opens = self.storms[side].open_at(now)
        if opens > now:
            heapq.heappush(self.heap, (now + (opens - now), next(self.seq), (self.load, side)))
        else:
            self.load(side, now)

    def load(self, side: str, now: float) -> None:
        """Take what waits at ``side`` (up to the vessel's room) and sail."""
        load, room, queue = [], self.capacity, self.queues[side]
        while queue and room > 1e-9:
            _, units, crossing = queue[0]
            take = min(units, room)
            room -= take
            load.append((take, crossing))
            crossing[2] += 1
            crossing[3] = now
            if take >= units - 1e-9:
                queue.popleft()
            else:
                queue[0][1] = units - take
        self.sailings.append((side, now, sum(u for u, crossing in load if crossing[4] is not None)))
        if not self.buffer:
            self.buffer.extend(reversed(draw(self.transit, self.rng, 1024)))
        heapq.heappush(self.heap, (now + self.buffer.pop(), next(self.seq), (self.land, (side, load))))

    def land(self, what: tuple[str, list[tuple[float, list[Any]]]], now: float) -> None:
        side, load = what
        for units, crossing in load:
            crossing[1] += units
            if crossing[4] is None:  # other freight: nobody walks on
                continue
            if crossing[1] >= crossing[0] - 1e-9:
                _landed(crossing, now)
                _walk(crossing[4], now, self.heap, self.seq, self.finished)
        if side == self.home:  # now at the far side: back at once with what waits there
            self.sail(next(s for s in self.queues if s != self.home), now)
        else:
            self.idle += 1
            self.dispatch(now)


def _background(scenario: Scenario, node: Any, seed: int, rep: int, shared: dict[str, Any]) -> None:
    """Other freight at ``node`` (as ``_Model._background``): blocks at random, into its ferry
    line's queue or onto its servers, each arrival scheduling the next."""
    f = node.facility
    block = f.background_block or 1.0
    gap_h = 24.0 * block / f.background_per_day
    rng, gaps = stream(seed, rep, "background", node.id), []
    heap, seq, _ = shared["loop"]
    ends = [
        leg for leg in scenario.network.legs.values() if leg.mode == "ferry" and node.id in (leg.from_id, leg.to_id)
    ]
    ferry = next((x for x in (_ferry(scenario, leg, seed, rep, shared) for leg in ends) if x is not None), None)
    station = shared["stations"].get(node.id)
    if ferry is None and (station is None or f.process_h is None):
        return
    service, times = stream(seed, rep, "background", node.id, "service"), []

    def gap() -> float:
        if not gaps:
            gaps.extend(reversed(rng.exponential(gap_h, 1024).tolist()))
        return float(gaps.pop())

    def arrive(_: None, now: float) -> None:
        if ferry is not None:
            ferry.other_freight(node.id, block, now)
        else:
            if not times:
                times.extend(reversed(draw(f.process_h, service, 1024)))
            _admit(station, now, times.pop())
        heapq.heappush(heap, (now + gap(), next(seq), (arrive, None)))

    heapq.heappush(heap, (0.0 + gap(), next(seq), (arrive, None)))


def _landed(crossing: list[Any], landed: float) -> None:
    """A train's last unit landed: its wait for the vessel, the crossing, the far side."""
    tr = crossing[4]
    tr.parts += crossing[2]
    sailed = crossing[3]
    tr.left[tr.i] = sailed
    if sailed > tr.t:
        tr.waiting += sailed - tr.t
        tr.waits.append((tr.i, sailed - tr.t, VESSEL, sailed))
        tr.t = sailed
    tr.moving += landed - sailed
    tr.t = landed
    tr.i += 1
    tr.arrive[tr.i] = landed
    tr.leaving = False


def _storms(scenario: Scenario, seed: int, rep: int, node: str) -> Windows:
    """Storm windows at a node (as the engine draws them: ``sim.streams``, month by month, every
    [[weather]] table of the node on its own stream; a ``closed_share`` at its steady rate, the
    run of listed months opening with the storms under way)."""
    windows: list[tuple[float, float]] = []
    for nth, weather in enumerate(w for w in scenario.weather if w.node == node):
        rng = stream(seed, rep, "weather", node, *((str(nth),) if nth else ()))
        share, stoppage = weather.closed_share, weather.stoppage_h
        per_h = -math.log1p(-share) / stoppage.mean_h if share is not None else 0.0
        month = dt.datetime(scenario.start.year, scenario.start.month, 1)
        before = False
        while scenario.hours(month) < scenario.horizon_h:
            days = calendar.monthrange(month.year, month.month)[1]
            t0, listed = scenario.hours(month), month.month in weather.months
            if listed and share is not None and not before:
                for _ in range(int(rng.poisson(per_h * stoppage.max_h))):
                    begin = t0 - float(rng.uniform(0, stoppage.max_h))
                    end = begin + draw(stoppage, rng, 1)[0]
                    if end > t0:
                        windows.append((t0, end))
            if listed:
                mean = per_h * 24 * days if share is not None else weather.stoppages_per_month or 0.0
                for _ in range(int(rng.poisson(mean))):
                    begin = t0 + float(rng.uniform(0, 24 * days))
                    windows.append((begin, begin + draw(stoppage, rng, 1)[0]))
            before = listed
            month = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1)
    return Windows(windows)


def _ferry(scenario: Scenario, leg: Any, seed: int, rep: int, shared: dict[str, Any]) -> _Ferry | None:
    """The ferry line of a leg with vessels at either end (as ``_Model.ferry``), or None."""
    if leg.id not in shared["ferries"]:
        shared["ferries"][leg.id] = None
        for home in (leg.from_id, leg.to_id):
            f = scenario.network.nodes[home].facility
            if f and f.dispatch in ("when_full", "max_wait") and f.vessels:
                shared["ferries"][leg.id] = _Ferry(scenario, leg, home, f, seed, rep, shared["loop"])
                break
    return shared["ferries"][leg.id]


def _liner(scenario: Scenario, seed: int, rep: int, service: Service, i: int, shared: dict[str, Any]) -> Any:
    """The timetabled sailings from node ``i`` over its water legs (as ``_Model.liner``), or None."""
    net = scenario.network
    nodes, legs = service.node_ids, service.leg_ids
    chain = []
    for step, leg_id in enumerate(legs[i:]):
        leg = net.legs[leg_id]
        if leg.mode not in ("sea", "ferry") or (chain and leg.mode != chain[0].mode):
            break
        chain.append(leg)
        f = net.nodes[nodes[i + step + 1]].facility
        if f is not None and f.process_h is not None:
            break
    f = net.nodes[nodes[i]].facility
    if not chain or f is None or f.dispatch != "timetable" or not f.sailings_per_week:
        return None
    if nodes[i] in shared["held"]:
        raise NotImplementedError(f"{nodes[i]}: sailings held by storms")
    key = (nodes[i], chain[0].id)
    if key not in shared["liners"]:
        rngs = [stream(seed, rep, "sailing", nodes[i], leg.id) for leg in chain]
        capacity = float(f.vessel_capacity_teu or f.vessel_capacity_wagons or 1e9)
        # headway, capacity, loaded per sailing, draws per leg (blocks of 256), the legs
        shared["liners"][key] = [168.0 / f.sailings_per_week, capacity, {}, rngs, [[] for _ in chain], chain]
    return shared["liners"][key]


def _admit(station: list[Any], t: float, service_h: float) -> tuple[float, float]:
    """FIFO servers computed on arrival, with a trains-a-day spacing (``Station.admit``'s common path)."""
    free, gap, last = station
    best = min(range(len(free)), key=free.__getitem__)
    start = max(max(t, last + gap), free[best])
    station[2] = start
    free[best] = end = start + service_h
    return start, end


def _sail(tr: _Train, liner: list[Any]) -> None:
    """Book the train on the first sailings with room (split if need be) and sail with its last part."""
    headway, capacity, loaded, rngs, cache, chain = liner
    j = max(0, int(tr.t // headway))
    while j * headway < tr.t:
        j += 1
    booked, left = [], tr.route.teu
    while left > 1e-9:
        room = capacity - loaded.get(j, 0.0)
        if room > 1e-9:
            take = min(room, left)
            loaded[j] = loaded.get(j, 0.0) + take
            booked.append(j)
            left -= take
        j += 1
    tr.parts += len(booked)
    j = booked[-1]
    departure = j * headway
    tr.left[tr.i] = departure
    if departure > tr.t:
        tr.waiting += departure - tr.t
        tr.waits.append((tr.i, departure - tr.t, SAILING, departure))
        tr.t = departure
    for s, leg in enumerate(chain):
        while len(cache[s]) <= j:
            cache[s].extend(draw(leg.transit_h, rngs[s], 256))
        tr.t += cache[s][j]
        tr.moving += cache[s][j]
        tr.i += 1
        tr.arrive[tr.i] = tr.t
        if s + 1 < len(chain):  # a waypoint of the voyage
            tr.left[tr.i] = tr.t


def _walk(tr: _Train, now: float, heap: list[Any], seq: Iterator[int], finished: list[_Train]) -> None:
    """Move the train on until it must wait for the loop's clock (at servers, sailings, the destination)."""
    route, last = tr.route, len(tr.route.nodes) - 1
    while True:
        i = tr.i
        if not tr.leaving:  # arriving at node i
            at = route.stations[i] if i < last else None
            if at is not None or i == last:
                if not tr.due and tr.t > now:
                    tr.due = True
                    heapq.heappush(heap, (now + (tr.t - now), next(seq), tr))
                    return
                tr.due = False
            if i == last:
                finished.append(tr)
                return
            if at is not None:
                station, service = at
                start, end = _admit(station, tr.t, service[tr.k] if service else 0.0)
                tr.start[i], tr.end[i] = start, end
                if start > tr.t:
                    tr.waiting += start - tr.t
                    tr.waits.append((i, start - tr.t, QUEUE, start))
                tr.processing += end - start
                tr.t = end
            hold = route.holds.get(i)
            if hold is not None and hold[tr.k] > 0:  # an administrative hold, after the service
                until = tr.t + hold[tr.k]
                tr.waiting += until - tr.t
                tr.waits.append((i, until - tr.t, HOLD, until))
                tr.t = until
            tr.leaving = True
        kind, what, _ = route.moves[i]
        if kind == "liner":
            if not tr.due and tr.t > now:
                tr.due = True
                heapq.heappush(heap, (now + (tr.t - now), next(seq), tr))
                return
            tr.due = False
            _sail(tr, what)
        elif kind == "ferry":
            if not tr.due and tr.t > now:
                tr.due = True
                heapq.heappush(heap, (now + (tr.t - now), next(seq), tr))
                return
            tr.due = False
            what.board(tr, now)
            return  # on when its last unit lands (_Ferry.land)
        else:  # a line
            tr.left[i] = tr.t
            hours = what[tr.k]
            tr.t += hours
            tr.moving += hours
            tr.i = i + 1
            tr.arrive[i + 1] = tr.t
        tr.leaving = False


def reference(scenario: Scenario, seed: int, replication: int) -> tuple[Visits, Trains, list[Any]]:
    """One replication of the reference: its visit and train columns, and the ferries' sailings."""
    net = scenario.network
    if scenario.closures or scenario.capacity_cuts or any(s.detour for s in scenario.services):
        raise NotImplementedError("the reference has no closures, capacity cuts or detours")
    if any(leg.capacity_trains_per_day for leg in net.legs.values()):
        raise NotImplementedError("the reference has no line capacities")
    if scenario.wagon_pools or scenario.locomotive_pools:
        raise NotImplementedError("the reference has no wagon or locomotive pools")
    if scenario.train_limits:
        raise NotImplementedError("the reference runs every train whole (no train limits)")
    heap: list[tuple[float, int, Any]] = []
    seq = itertools.count()
    finished: list[_Train] = []
    held = {w.node for w in scenario.weather}
    shared: dict[str, Any] = {"stations": {}, "liners": {}, "ferries": {}, "held": held, "loop": (heap, seq, finished)}
    for node in net.nodes.values():
        f = node.facility
        if f is not None and f.yard_capacity_trains:
            raise NotImplementedError("the reference has no yards")
        if f is not None and (f.process_h is not None or f.trains_per_day):
            # free per server, spacing, last start
            shared["stations"][node.id] = [
                [0.0] * f.servers,
                24.0 / f.trains_per_day if f.trains_per_day else 0.0,
                -INF,
            ]
    for service in scenario.services:
        route = _RefRoute(scenario, service, seed, replication, shared)
        n = len(service.departures_h)
        offsets = [0.0] * n
        if service.departure_spread_h:
            rng = stream(seed, replication, "service", service.name, "departure")
            offsets = [float(x) for x in rng.uniform(0, service.departure_spread_h, n)]
        lo, hi = service.window_h
        last = hi - 1e-6 if hi > lo else INF
        times = sorted((min(t + offsets[k], max(t, last)), k) for k, t in enumerate(service.departures_h))
        heapq.heappush(heap, (0.0 + times[0][0], next(seq), (route, times, 0)))
    for node in net.nodes.values():
        if node.facility is not None and node.facility.background_per_day:
            _background(scenario, node, seed, replication, shared)
    horizon = scenario.horizon_h
    running: list[_Train] = []
    while heap:
        now, _, what = heapq.heappop(heap)
        if now >= horizon:
            break
        if isinstance(what, _Train):
            _walk(what, now, heap, seq, finished)
            continue
        if len(what) == 2:  # a ferry's: (what to do, its argument)
            what[0](what[1], now)
            continue
        route, times, j = what  # a service's next departures (those at this time)
        while j < len(times) and times[j][0] <= now:
            tr = _Train(route, times[j][1], now)
            running.append(tr)
            _walk(tr, now, heap, seq, finished)
            j += 1
        if j < len(times):  # the time as the engine's source reaches it: now + (t - now)
            heapq.heappush(heap, (now + (times[j][0] - now), next(seq), (route, times, j)))
    done = set(map(id, finished))
    still = sorted((tr for tr in running if id(tr) not in done), key=lambda tr: tr.tid)
    ferries = sorted((f.leg_id, f) for f in shared["ferries"].values() if f is not None)
    sailings = [(leg_id, *s) for leg_id, f in ferries for s in f.sailings]
    return (*_columns(scenario, replication, finished, still), sailings)


def _cut(times: list[float], n: int, horizon: float | None) -> list[float]:
    """The first ``n`` times; with a horizon (a train still in the system), NaN for those after it."""
    return times[:n] if horizon is None else [x if x <= horizon else NAN for x in times[:n]]


def _columns(scenario: Scenario, rep: int, finished: list[_Train], still: list[_Train]) -> tuple[Visits, Trains]:
    """The visit and train columns (as ``sim.engine`` builds them): arrived trains in the order they
    arrived, then those still in the system at the horizon, cut there."""
    net, horizon = scenario.network, scenario.horizon_h
    places, legs = tuple(net.nodes), tuple(net.legs)
    services = tuple(dict.fromkeys(s.name for s in scenario.services))
    place_at, leg_at = {p: i for i, p in enumerate(places)}, {leg: i for i, leg in enumerate(legs)}
    cols: list[list[Any]] = [[] for _ in Visits.FIELDS]
    rows = []
    for j, tr in enumerate(finished + still):
        route, arrived = tr.route, j < len(finished)
        n = len(route.nodes)
        if not arrived:  # the nodes it reached by the horizon
            n = max(i for i, t in enumerate(tr.arrive) if i == 0 or t <= horizon) + 1
        wait_h, why, longest = [0.0] * n, [0] * n, [0.0] * n
        for i, hours, reason, until in tr.waits:
            if i >= n:
                continue
            if until > horizon:
                hours -= until - horizon
                if hours <= 0:
                    continue
            wait_h[i] += hours
            if hours > longest[i]:
                longest[i], why[i] = hours, reason
        leg_ids = [leg_at[leg] for leg in route.legs]
        parts = (
            [rep] * n,
            [j] * n,
            [place_at[p] for p in route.nodes[:n]],
            [-1, *leg_ids][:n],
            [*leg_ids, -1][:n],
            *(_cut(col, n, None if arrived else horizon) for col in (tr.arrive, tr.start, tr.end, tr.left)),
            wait_h,
            [route.wagons] * n,
            why,
        )
        for col, part in zip(cols, parts, strict=True):
            col.extend(part)
        service = services.index(route.name)
        if arrived:
            rows.append(
                (
                    rep,
                    tr.tid,
                    service,
                    tr.arrive[0],
                    tr.t,
                    True,
                    route.wagons,
                    route.teu,
                    tr.moving,
                    tr.waiting,
                    tr.processing,
                    tr.parts,
                    place_at[route.nodes[-1]],
                )
            )
        else:
            rows.append(
                (
                    rep,
                    tr.tid,
                    service,
                    tr.arrive[0],
                    NAN,
                    False,
                    route.wagons,
                    route.teu,
                    NAN,
                    NAN,
                    NAN,
                    0,
                    place_at[route.nodes[n - 1]],
                )
            )
    visits = Visits.from_columns(cols, places, legs)
    return visits, Trains.from_rows(rows, services, places)


def small_reference(scenario: Scenario, seed: int, replication: int) -> tuple[int, int]:
    """The old, smaller reference: trains through FIFO stations with a heap of (time, seq, train, position),
    an event log of tuples, no records; returns (trains, rows)."""
    net = scenario.network
    stations: dict[str, tuple[list[float], float, list[float]]] = {}
    for node in net.nodes.values():
        f = node.facility
        if f is not None and (f.process_h is not None or f.trains_per_day):
            stations[node.id] = ([0.0] * f.servers, 24.0 / f.trains_per_day if f.trains_per_day else 0.0, [-1e18])
    heap: list[tuple[float, int, int, int]] = []
    seq = itertools.count()
    trains: list[tuple[tuple[str, ...], tuple[str, ...], dict[str, list[float]], int]] = []
    for service in scenario.services:
        n = len(service.departures_h)
        draws = {}
        for leg_id in service.leg_ids:
            rng = stream(seed, replication, "service", service.name, "leg", leg_id)
            draws["leg:" + leg_id] = draw(net.legs[leg_id].transit_h, rng, n)
        for node_id in service.node_ids[1:-1]:
            f = net.nodes[node_id].facility
            if f is not None and f.process_h is not None:
                rng = stream(seed, replication, "service", service.name, "node", node_id)
                draws["node:" + node_id] = draw(f.process_h, rng, n)
        for k, t in enumerate(service.departures_h):
            trains.append((service.node_ids, service.leg_ids, draws, k))
            heapq.heappush(heap, (t, next(seq), len(trains) - 1, 0))
    rows = 0
    log: list[tuple[int, str, str, float]] = []
    while heap:
        t, _, tid, i = heapq.heappop(heap)
        nodes, legs, draws, k = trains[tid]
        if i == 0:
            log.append((tid, nodes[0], "depart", t))
        else:
            log.append((tid, nodes[i], "arrive", t))
            if i == len(nodes) - 1:
                log.append((tid, nodes[i], "complete", t))
                continue
            st = stations.get(nodes[i])
            if st is not None:
                free, gap, last = st
                best = min(range(len(free)), key=lambda j: max(t, free[j], last[0] + gap))
                start = max(t, free[best], last[0] + gap)
                service_draws = draws.get("node:" + nodes[i])
                end = start + (service_draws[k] if service_draws else 0.0)
                free[best] = end
                last[0] = start
                log.append((tid, nodes[i], "start", start))
                log.append((tid, nodes[i], "end", end))
                t = end
            log.append((tid, nodes[i], "leave", t))
        heapq.heappush(heap, (t + draws["leg:" + legs[i]][k], next(seq), tid, i + 1))
    rows = len(log)
    return len(trains), rows


def by_train(visits: Visits, trains: Trains) -> dict[str, tuple[Any, list[tuple[Any, ...]]]]:
    """Each train's row and its visit rows (NaN as None), by train id."""
    out: dict[str, tuple[Any, list[tuple[Any, ...]]]] = {tid: (trains.row(j), []) for j, tid in enumerate(trains.train)}
    cols = [getattr(visits, f).tolist() for f in Visits.FIELDS]
    for row in zip(*cols, strict=True):
        out[trains.train[row[1]]][1].append(tuple(None if x != x else x for x in row[2:]))
    return out


def check(scenario: Scenario, seed: int, replication: int) -> None:
    """Assert that the reference's records are the engine's: visits, trains, sailings (on a difference,
    the first train that differs)."""
    rep = run_replication(scenario, seed=seed, replication=replication)
    visits, trains, sailings = reference(scenario, seed, replication)
    if not (visits == rep.visits and trains == rep.trains):
        engine, ref = by_train(rep.visits, rep.trains), by_train(visits, trains)
        assert engine.keys() == ref.keys(), "the same trains"
        first = next((tid for tid in engine if engine[tid] != ref[tid]), None)
        raise AssertionError(f"records differ: train {first}" if first else "records differ: the order of the trains")
    assert sailings == rep.sailings, "the ferries' sailings differ"


def timed(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    paused = gc.isenabled()
    gc.disable()  # as run_replication does, so that both are measured alike
    try:
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out
    finally:
        if paused:
            gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="take the best of this many runs of each (default 5)")
    args = parser.parse_args()
    pooled = load_scenario()
    # the reference has no wagon or locomotive pools and runs every train whole
    scenario = dataclasses.replace(pooled, wagon_pools=(), locomotive_pools=(), train_limits=())
    check(scenario, 1, 0)
    best = {"engine": math.inf, "reference": math.inf, "small": math.inf, "pooled": math.inf}
    runs = {
        "engine": lambda: run_replication(scenario, seed=1, replication=0),
        "reference": lambda: reference(scenario, 1, 0),
        "small": lambda: small_reference(scenario, 1, 0),
        "pooled": lambda: run_replication(pooled, seed=1, replication=0),
    }
    for _ in range(args.repeat):  # interleaved, so that all see the same machine
        for name, fn in runs.items():
            gc.collect()
            t, _ = timed(fn)
            best[name] = min(best[name], t)
    rep = run_replication(scenario, seed=1, replication=0)
    n_trains, n_rows = len(rep.trains), len(rep.visits)
    print(
        "baseline without its wagon and locomotive pools and train limits: one replication, "
        f"{n_trains} trains, {n_rows} visit rows, Python {platform.python_version()}"
    )
    print(f"  records: the reference's equal the engine's (visits, trains, sailings: {len(rep.sailings)})")
    for name, label in (
        ("engine", "engine (SimPy)"),
        ("reference", "reference (heapq)"),
        ("small", "old small reference"),
    ):
        s = best[name]
        print(f"  {label:20} {s:7.3f} s  {n_trains / s:10,.0f} trains/s  {n_rows / s:12,.0f} visit rows/s")
    ratio = best["engine"] / best["reference"]
    print(
        f"  ratio engine/reference: {ratio:.2f}x per replication "
        f"(target: at most 1.25x: {'yes' if ratio <= 1.25 else 'NO'})"
    )
    print(f"  ratio engine/old small reference: {best['engine'] / best['small']:.2f}x")
    extra = best["pooled"] / best["engine"] - 1
    print(
        f"  the engine with the baseline's pools and train limits: {best['pooled']:.3f} s "
        f"({100 * extra:+.0f}%; the reference has none)"
    )


if __name__ == "__main__":
    main()
