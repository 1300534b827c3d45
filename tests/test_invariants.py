"""Invariants of what the engine runs, on one replication of the bundled baseline and of every
bundled what-if (the session's runs, see ``conftest.py``).

Each check reads only the records a run hands out (event log, per-train table, ferry sailings)
and the scenario's own data, so it holds whatever the engine's insides look like:

- every train that departed has arrived or is in the system at the horizon, and every
  timetabled departure departed;
- per train, moving + waiting + processing = transit, each part at least 0, and the moving time
  within the sums of its legs' minimum and maximum transit times;
- no time runs backwards for a train, and its places follow its route;
- stations serve trains in the order they arrive (first come, first served; a train that found
  a wagon pool short joins the queue when it has its wagons);
- no ferry sailing carries more than a vessel holds, and what sails is what the trains brought;
  liners carry no more than their sailings can hold.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise

import pytest

from sim.engine import Replication
from sim.records import Event
from sim.runner import RunResult
from sim.scenario import Scenario
from tests.conftest import BUNDLED_SCENARIOS

EPS_H = 1e-6  # hours: float noise over sums of a year's worth of hours
VESSEL_DISPATCH = ("when_full", "max_wait")  # the dispatch rules of ferry terminals (data/README.md)

pytestmark = pytest.mark.parametrize("name", BUNDLED_SCENARIOS)


@dataclass
class Trip:
    """One train's events in the order it logged them."""

    events: list[Event]

    @property
    def places(self) -> list[str]:
        """The places it passed, each once, in order."""
        out: list[str] = []
        for e in self.events:
            if not out or out[-1] != e.place:
                out.append(e.place)
        return out

    def first(self, place: str, event: str) -> float | None:
        return next((e.time_h for e in self.events if e.place == place and e.event == event), None)


_TRIPS: dict[int, dict[str, Trip]] = {}


def trips(rep: Replication) -> dict[str, Trip]:
    """Each train's events, grouped once per replication."""
    if id(rep) not in _TRIPS:
        grouped: dict[str, Trip] = defaultdict(lambda: Trip([]))
        for e in rep.events:
            grouped[e.train].events.append(e)
        _TRIPS[id(rep)] = dict(grouped)
    return _TRIPS[id(rep)]


def runs(bundled_run: Callable[[str], RunResult], name: str) -> Iterator[tuple[Scenario, Replication]]:
    result = bundled_run(name)
    assert result.replications, name
    for rep in result.replications:
        yield result.scenario, rep


def test_every_departed_train_arrives_or_is_in_the_system(name: str, bundled_run: Callable[[str], RunResult]) -> None:
    for scenario, rep in runs(bundled_run, name):
        departed = [e.train for e in rep.events if e.event == "depart"]
        assert len(departed) == len(set(departed)), "a train departed twice"
        records = {t.train: t for t in rep.trains}
        assert len(records) == len(rep.trains), "a train has two rows"
        assert set(departed) == set(records), "departed trains and the trains table disagree"
        completed = {e.train: e.time_h for e in rep.events if e.event == "complete"}
        for t in rep.trains:
            if t.status == "arrived":
                assert t.arrive_h is not None and completed[t.train] == t.arrive_h <= rep.horizon_h, t
                assert t.last_place == trips(rep)[t.train].events[-1].place, t
            else:
                assert t.status == "in_system" and t.train not in completed, t
                assert t.arrive_h is None and t.moving_h is None and t.waiting_h is None, t
        timetabled = {s.name: len(s.departures_h) for s in scenario.services}
        per_service: dict[str, int] = defaultdict(int)
        for t in rep.trains:
            per_service[t.service] += 1
        assert per_service == timetabled, "every timetabled departure departs, once"


def test_moving_waiting_and_processing_add_up_to_transit(name: str, bundled_run: Callable[[str], RunResult]) -> None:
    for scenario, rep in runs(bundled_run, name):
        net = scenario.network
        legs: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for leg in net.legs.values():
            for a, b in ((leg.from_id, leg.to_id), (leg.to_id, leg.from_id)):
                legs[a, b].append((leg.transit_h.min_h, leg.transit_h.max_h))
        for t in rep.trains:
            if t.status != "arrived":
                continue
            assert t.arrive_h is not None and t.moving_h is not None
            assert t.waiting_h is not None and t.processing_h is not None
            parts = t.moving_h + t.waiting_h + t.processing_h
            assert math.isclose(parts, t.arrive_h - t.depart_h, rel_tol=1e-9, abs_tol=EPS_H), t
            assert min(t.moving_h, t.waiting_h, t.processing_h) >= -EPS_H, t
            route = trips(rep)[t.train].places
            bounds = [legs[a, b] for a, b in pairwise(route)]
            assert all(bounds), f"{t.train} went between places no leg joins: {route}"
            low = sum(min(lo for lo, _ in b) for b in bounds)
            high = sum(max(hi for _, hi in b) for b in bounds)
            assert low - EPS_H <= t.moving_h <= high + EPS_H, (t, low, high)


def test_no_time_runs_backwards_for_a_train(name: str, bundled_run: Callable[[str], RunResult]) -> None:
    for scenario, rep in runs(bundled_run, name):
        routes = {s.name: s.node_ids for s in scenario.services}
        detours = {s.name: s.detour[2] for s in scenario.services if s.detour is not None}
        for t in rep.trains:
            trip = trips(rep)[t.train]
            times = [e.time_h for e in trip.events]
            assert all(a <= b for a, b in pairwise(times)), (t.train, trip.events)
            assert trip.events[0].event == "depart" and trip.events[0].time_h == t.depart_h, t.train
            assert (trip.events[-1].event == "complete") == (t.status == "arrived"), t.train
            assert times[-1] <= rep.horizon_h
            places = trip.places
            assert places in (
                list(routes[t.service][: len(places)]),
                list(detours.get(t.service, ())[: len(places)]),
            ), f"{t.train} left its route: {places}"


def test_stations_serve_trains_in_the_order_they_arrive(name: str, bundled_run: Callable[[str], RunResult]) -> None:
    for _, rep in runs(bundled_run, name):
        visits: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
        with_wagons = {(w.train, w.place): w.until_h for w in rep.rolling_stock.waits}
        for train, trip in trips(rep).items():
            for place in {e.place for e in trip.events if e.event == "start"}:
                arrived, started = trip.first(place, "arrive"), trip.first(place, "start")
                assert arrived is not None and started is not None and arrived <= started, (train, place)
                arrived = with_wagons.get((train, place), arrived)
                assert arrived <= started, (train, place)
                visits[place].append((arrived, started, train))
        assert visits, "no station served a train"
        for place, served in visits.items():
            served.sort()  # by arrival (trains arriving together may go in either order)
            for (a1, s1, t1), (a2, s2, t2) in pairwise(served):
                assert s1 <= s2, f"{place}: {t2} arrived at {a2:.3f} h after {t1} ({a1:.3f} h) but started first"


def test_ferries_and_liners_carry_what_they_hold(name: str, bundled_run: Callable[[str], RunResult]) -> None:
    for scenario, rep in runs(bundled_run, name):
        net = scenario.network
        records = {t.train: t for t in rep.trains}
        sailed: dict[tuple[str, str], float] = defaultdict(float)
        for leg_id, side, departure_h, units in rep.sailings:
            leg = net.legs[leg_id]
            home = next(
                f
                for f in (net.nodes[leg.from_id].facility, net.nodes[leg.to_id].facility)
                if f is not None and f.vessels and f.dispatch in VESSEL_DISPATCH
            )
            capacity = home.vessel_capacity_wagons or home.vessel_capacity_teu or 1
            assert 0 <= units <= capacity + 1e-9, (leg_id, side, departure_h, units, capacity)
            assert 0 <= departure_h <= rep.horizon_h
            sailed[leg_id, side] += units
        # conservation: what sailed from a side is what the trains that crossed from it brought
        for leg_id, side in {(leg, side) for leg, side, _, _ in rep.sailings}:
            leg = net.legs[leg_id]
            other = leg.to_id if side == leg.from_id else leg.from_id
            by_wagons = any(
                f is not None and f.vessels and f.vessel_capacity_wagons
                for f in (net.nodes[leg.from_id].facility, net.nodes[leg.to_id].facility)
            )
            landed = pending = 0.0
            for train, trip in trips(rep).items():
                places = trip.places
                if side not in places:
                    continue
                i = places.index(side)
                t = records[train]
                units = t.wagons if by_wagons else t.teu
                if i + 1 < len(places) and places[i + 1] == other:
                    landed += units
                elif i + 1 == len(places) and t.status == "in_system":
                    pending += units  # queued at the horizon, or at sea
            assert landed - EPS_H <= sailed[leg_id, side] <= landed + pending + EPS_H, (leg_id, side, landed, pending)
        # liners: by any departure time, no more has left a port than its sailings so far could hold
        for node in net.nodes.values():
            f = node.facility
            if f is None or f.dispatch != "timetable" or not f.sailings_per_week:
                continue
            headway_h = 168.0 / f.sailings_per_week
            capacity = float(f.vessel_capacity_teu or f.vessel_capacity_wagons or 1e9)
            left = sorted(
                (e.time_h, records[e.train].teu) for e in rep.events if e.place == node.id and e.event == "leave"
            )
            total = 0.0
            for time_h, teu in left:
                total += teu
                assert total <= capacity * (math.floor(time_h / headway_h) + 1) + EPS_H, (node.id, time_h, total)
