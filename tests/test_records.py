"""The engine's records as columns: one row per train per place visited, one row per train, and
the event log as their view. Checked on the session's runs of bundled scenarios and on a small
network where every time is known."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.eventlog import event_columns, event_rows
from sim.records import Trains, Visits, WaitReason, stack
from sim.runner import RunResult
from tests.test_engine import exact_network, write_scenario

EPS_H = 1e-6


def _rows_of(visits: Visits, j: int) -> np.ndarray:
    return np.flatnonzero(visits.train == j)


@pytest.mark.parametrize("name", ["baseline", "caspian-winter-storms", "malaszewicze-yard-full", "red-sea-closure"])
def test_each_visit_names_the_legs_its_train_took(name: str, bundled_run: Callable[[str], RunResult]) -> None:
    result = bundled_run(name)
    net = result.scenario.network
    for rep in result.replications:
        v, t = rep.visits, rep.trains
        assert len(t) and len(v) >= 2 * len(t)
        assert (np.diff(v.train) >= 0).all(), "each train's visits are together, in route order"
        first = np.searchsorted(v.train, np.arange(len(t)))
        assert (v.leg_in[first] == -1).all(), "a train's first visit is its origin"
        for j in range(0, len(t), max(1, len(t) // 300)):  # a few hundred trains of every service
            rows = _rows_of(v, j)
            places = [v.places[p] for p in v.place[rows]]
            for a, b in itertools.pairwise(rows):
                assert v.leg_out[a] == v.leg_in[b] >= 0, (t.train[j], places)
                leg = net.legs[v.legs[v.leg_in[b]]]
                assert {leg.from_id, leg.to_id} == {v.places[v.place[a]], v.places[v.place[b]]}
            service = next(s for s in result.scenario.services if s.name == t.services[t.service[j]])
            assert places == list(service.node_ids[: len(places)]) or service.detour is not None
            assert t.train[j].startswith(service.name + "-")
            assert (v.units[rows] == service.wagons).all()
            if t.arrived[j]:
                assert v.leg_out[rows[-1]] == -1 and places[-1] == t.places[t.last_place[j]]
                assert math.isclose(v.wait_h[rows].sum(), t.waiting_h[j], rel_tol=1e-9, abs_tol=EPS_H)
                assert math.isclose(v.arrive_h[rows[-1]], t.arrive_h[j])
            assert v.arrive_h[rows[0]] == t.depart_h[j]


@pytest.mark.parametrize("name", ["baseline", "pl-by-border-closure", "malaszewicze-yard-full"])
def test_why_a_train_waited(name: str, bundled_run: Callable[[str], RunResult]) -> None:
    """Every visit with waiting hours says why, none without; and each reason shows where its
    mechanism is: queues at servers, vessels at ferry terminals, timetabled sailings at ports,
    a closed border, a full yard ahead at Brest."""
    rep = bundled_run(name).replications[0]
    v = rep.visits
    assert ((v.wait_h > 0) == (v.waited_for != WaitReason.NONE)).all()
    assert (v.wait_h >= 0).all()
    seen = {(v.places[p], WaitReason(w)) for p, w in zip(v.place.tolist(), v.waited_for.tolist(), strict=True)}
    net = bundled_run(name).scenario.network
    for place, why in seen:
        f = net.nodes[place].facility
        if why is WaitReason.QUEUE:
            assert f is not None and (f.process_h is not None or f.trains_per_day), place
        if why is WaitReason.VESSEL:
            assert f is not None and f.dispatch in ("when_full", "max_wait"), place
        if why is WaitReason.SAILING:
            assert f is not None and f.dispatch == "timetable", place
    reasons = {why for _, why in seen}
    assert {WaitReason.QUEUE, WaitReason.VESSEL, WaitReason.SAILING} <= reasons
    if name == "pl-by-border-closure":
        closed = {c.node for c in bundled_run(name).scenario.closures}
        assert {place for place, why in seen if why is WaitReason.CLOSURE} & closed
    if name == "malaszewicze-yard-full":
        assert ("BY_BREST", WaitReason.YARD) in seen


def test_the_event_log_is_a_view_of_the_visits(bundled_run: Callable[[str], RunResult]) -> None:
    rep = bundled_run("baseline").replications[0]
    v, t = rep.visits, rep.trains
    events = rep.events
    times = [e.time_h for e in events]
    assert times == sorted(times)
    counts = {kind: sum(1 for e in events if e.event == kind) for kind in ("depart", "start", "end", "complete")}
    assert counts["depart"] == len(t)
    assert counts["complete"] == int(t.arrived.sum())
    assert counts["start"] == counts["end"] == int((~np.isnan(v.start_h)).sum())
    inner = v.leg_in >= 0
    assert sum(1 for e in events if e.event == "arrive") == int((inner & ~np.isnan(v.arrive_h)).sum())
    net = bundled_run("baseline").scenario.network
    for e in events[:: max(1, len(events) // 2000)]:
        assert e.service == e.train.rsplit("-", 1)[0]
        if e.event in ("arrive", "depart", "leave"):
            assert e.place in (net.legs[e.leg].from_id, net.legs[e.leg].to_id), e
        else:
            assert e.leg == "", e


def test_records_on_a_network_where_every_time_is_known(tmp_path: Path) -> None:
    """A --L1 10 h--> B (1 server, 2 h) --L2 24 h--> C, a train an hour: the second train queues
    an hour at B behind the first, the third two hours …"""
    scenario = sim.load_scenario(write_scenario(tmp_path, exact_network()))
    rep = sim.run_replication(scenario, seed=1, replication=0)
    v, t = rep.visits, rep.trains
    assert v.places == tuple(scenario.network.nodes) and v.legs == tuple(scenario.network.legs)
    first = _rows_of(v, t.train.index("abc-0001"))
    assert [v.places[p] for p in v.place[first]] == ["A", "B", "C"]
    assert [v.legs[x] if x >= 0 else None for x in v.leg_in[first]] == [None, "L1", "L2"]
    assert [v.legs[x] if x >= 0 else None for x in v.leg_out[first]] == ["L1", "L2", None]
    assert v.arrive_h[first].tolist() == [0.0, 10.0, 36.0]
    assert v.start_h[first][1] == 10.0 and v.end_h[first][1] == 12.0 and v.leave_h[first][1] == 12.0
    assert math.isnan(v.start_h[first][0]) and math.isnan(v.leave_h[first][2])
    second = _rows_of(v, t.train.index("abc-0002"))
    assert v.start_h[second][1] == 12.0 and v.wait_h[second][1] == 1.0
    assert v.waited_for[second][1] == WaitReason.QUEUE and v.waited_for[second][0] == WaitReason.NONE
    assert stack([(v, t)])[0] == v


def test_a_train_cut_at_the_horizon_keeps_what_happened(tmp_path: Path) -> None:
    """The horizon falls while trains are on L2: their visits stop at B, and their last place is B."""
    scenario = dataclasses.replace(sim.load_scenario(write_scenario(tmp_path, exact_network())), horizon_h=30.0)
    rep = sim.run_replication(scenario, seed=1, replication=0)
    v, t = rep.visits, rep.trains
    stuck = np.flatnonzero(~t.arrived)
    assert len(stuck) and not t.arrived.any()
    for j in stuck.tolist():
        rows = _rows_of(v, j)
        assert (np.nan_to_num(v.arrive_h[rows], nan=0) <= 30.0).all()
        assert (np.nan_to_num(v.leave_h[rows], nan=0) <= 30.0).all()
        assert t.places[t.last_place[j]] == v.places[v.place[rows[-1]]]
        if v.places[v.place[rows[-1]]] == "B":
            assert v.leg_out[rows[-1]] == v.legs.index("L2")
    assert all(e.time_h <= 30.0 for e in event_rows(event_columns(v, t)))


def test_stacking_replications_points_visits_at_their_trains(baseline_run: RunResult) -> None:
    parts = [(rep.visits, rep.trains) for rep in baseline_run.replications]
    visits, trains = stack(parts)
    assert len(visits) == sum(len(v) for v, _ in parts) and len(trains) == sum(len(t) for _, t in parts)
    assert (visits.replication == trains.replication[visits.train]).all()
    second = parts[1][1]
    assert trains.train[len(parts[0][1])] == second.train[0]
    assert isinstance(trains, Trains) and next(iter(trains)) == next(iter(parts[0][1]))


def test_the_results_map_draws_the_leg_a_train_took(tmp_path: Path) -> None:
    """The animation takes each move's leg from the record, never from the two nodes it joins."""
    from corridors.loader import load_network
    from maps.results import _animation_data
    from tests.conftest import write_network

    net = load_network(write_network(tmp_path / "net", exact_network()))
    log = [
        ("abc-0001", "A", "L1", "depart", 0.0),
        ("abc-0001", "B", "L1", "arrive", 10.0),
        ("abc-0001", "B", "", "start", 10.0),
        ("abc-0001", "B", "", "end", 12.0),
        ("abc-0001", "B", "L2", "leave", 12.0),
        ("abc-0001", "C", "L2", "arrive", 36.0),
        ("abc-0001", "C", "", "complete", 36.0),
    ]
    data = _animation_data(net, log, 100.0, 1.0, 10, "2025-01-01", {"A", "B", "C"}, {"L1", "L2"})
    (segments,) = data["trains"]
    assert [s[2] for s in segments] == [1, 0, 1]  # along L1, at B, along L2
    assert [s[:2] for s in segments] == [[0.0, 10.0], [10.0, 12.0], [12.0, 36.0]]
    assert data["legs"][segments[0][3]] == [[round(a, 3), round(b, 3)] for a, b in net.legs["L1"].path]
    assert data["legs"][segments[2][3]] == [[round(a, 3), round(b, 3)] for a, b in net.legs["L2"].path]
    wrong = [(t, p, "L2" if p == "B" and e == "arrive" else leg, e, h) for t, p, leg, e, h in log]
    data = _animation_data(net, wrong, 100.0, 1.0, 10, "2025-01-01", {"A", "B", "C"}, {"L1", "L2"})
    assert [s[2] for s in data["trains"][0]] == [0, 1], "a leg that does not join the places is not drawn"
