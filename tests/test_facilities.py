"""Facilities against hand-computed cases."""

from __future__ import annotations

import simpy

from sim.facilities import Cut, FerryLine, Sailings, Station, Windows


def test_windows_merge_and_open_at() -> None:
    w = Windows([(5, 8), (1, 3), (2, 4)])
    assert w.as_list() == [(1, 4), (5, 8)]
    assert [w.open_at(t) for t in (0, 1, 3.9, 4, 6, 8, 9)] == [0, 4, 4, 4, 8, 8, 9]


def test_one_server_is_first_come_first_served() -> None:
    s = Station("B", servers=1)
    assert [s.admit(t, 3) for t in (0, 1, 2)] == [(0, 3), (3, 6), (6, 9)]


def test_parallel_servers() -> None:
    s = Station("B", servers=2)
    assert [s.admit(0, 4) for _ in range(3)] == [(0, 4), (0, 4), (4, 8)]


def test_trains_per_day_cap_spaces_the_starts() -> None:
    s = Station("B", servers=3, trains_per_day=12)  # one start every 2 h
    assert [s.admit(0, 0.5)[0] for _ in range(3)] == [0, 2, 4]


def test_closure_delays_the_start_not_a_service_under_way() -> None:
    s = Station("B", servers=1, closures=Windows([(1, 5)]))
    assert s.admit(0, 3) == (0, 3)  # started before the closure: finishes
    assert s.admit(2, 1) == (5, 6)  # arrives while closed: waits for the opening


def test_capacity_cut_removes_servers_for_a_while() -> None:
    s = Station("B", servers=2, cuts=[Cut(0, 10, 0.5)])
    assert [s.admit(0, 1) for _ in range(2)] == [(0, 1), (1, 2)]
    s = Station("B", servers=2, cuts=[Cut(0, 10, 0.5)])
    assert [s.admit(20, 1) for _ in range(2)] == [(20, 21), (20, 21)]  # after the cut, both again


def test_sailings_fill_in_order_and_split() -> None:
    sail = Sailings("P", headway_h=168, capacity=100, sail_draw=lambda j: [24.0 + j])
    assert sail.book(10, 150) == [(1, 100), (2, 50)]
    assert sail.book(20, 60) == [(2, 50), (3, 10)]
    assert sail.departure_h(3) == 504 and sail.durations(3) == [27.0]


def test_sailings_wait_out_a_storm() -> None:
    sail = Sailings("P", headway_h=24, capacity=10, sail_draw=lambda j: [1.0], stoppages=Windows([(20, 30)]))
    assert sail.departure_h(1) == 30  # the 24 h sailing leaves when the storm ends


def _ferry(
    env: simpy.Environment,
    dispatch: str,
    capacity: float,
    vessels: int = 1,
    stoppages: dict[str, Windows] | None = None,
) -> FerryLine:
    return FerryLine(env, "F", "VAN", "TATVAN", vessels, capacity, dispatch, 24.0, lambda: 3.5, stoppages or {})


def test_max_wait_ferry_splits_a_long_train() -> None:
    env = simpy.Environment()
    line = _ferry(env, "max_wait", 24)
    done, crossing = line.cross("VAN", 51)
    env.run(until=100)
    # 24 wagons at 0 (full), back at 7; 24 at 7 (full), back at 14; the last 3 wait until 0 + 24 h
    assert [(d, u) for _, d, u in line.sailings if _ == "VAN"] == [(0, 24), (7, 24), (24, 3)]
    assert done.value == 27.5 and crossing.parts == 3


def test_when_full_ferry_waits_for_a_full_load() -> None:
    env = simpy.Environment()
    line = _ferry(env, "when_full", 56)
    first, _ = line.cross("VAN", 30)

    def later() -> object:
        yield env.timeout(10)
        line.cross("VAN", 30)

    env.process(later())
    env.run(until=100)
    assert line.sailings[0] == ("VAN", 10, 56)
    assert first.value == 13.5
    assert all(units <= 56 for _, _, units in line.sailings)


def test_far_side_traffic_rides_the_return_trip() -> None:
    env = simpy.Environment()
    line = _ferry(env, "max_wait", 24)
    back, _ = line.cross("TATVAN", 10)
    line.cross("VAN", 24)
    env.run(until=50)
    assert back.value == 7.0  # over at 3.5, back to Van by 7.0 with the 10 wagons


def test_ferry_departure_waits_for_the_weather() -> None:
    env = simpy.Environment()
    line = _ferry(env, "max_wait", 24, stoppages={"VAN": Windows([(0, 48)])})
    done, _ = line.cross("VAN", 24)
    env.run(until=100)
    assert line.sailings[0][1] == 48 and done.value == 51.5


def test_other_freight_fills_the_vessel_and_is_recorded_apart() -> None:
    """Background wagons wait beside a train's and fill the vessel: the train's last part leaves
    when the load is full, not when the max wait runs out; the sailings record the train's
    wagons, the background list the rest."""
    env = simpy.Environment()
    line = _ferry(env, "max_wait", 24)
    done, _ = line.cross("VAN", 27)

    def other_freight() -> object:
        yield env.timeout(10)
        line.cross("VAN", 21, background=True)

    env.process(other_freight())
    env.run(until=100)
    # 24 of the train at 0; its last 3 leave at 10 with 21 other wagons (full), not at 24
    assert [(d, u) for s, d, u in line.sailings if s == "VAN"] == [(0, 24), (10, 3)]
    assert line.background == [("VAN", 10, 21)]
    assert done.value == 13.5
