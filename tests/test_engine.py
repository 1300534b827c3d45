"""The engine on a three-node corridor with deterministic times, invariants over seeds, determinism."""

from __future__ import annotations

import copy
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridors import DataError
from sim.engine import run_replication
from sim.runner import simulate
from sim.scenario import load_scenario
from tests.conftest import tiny_records, write_network


def fixed(hours: float) -> dict[str, Any]:
    return {"min": hours, "typical": hours, "max": hours, "shape": "fixed", "source": "SRC1"}


def exact_network() -> dict[str, Any]:
    """A (terminal) --L1 10 h--> B (1 server, 2 h) --L2 24 h--> C, every time fixed."""
    r = tiny_records()
    r["legs.toml"]["legs"][0]["transit_h"] = fixed(10)
    r["legs.toml"]["legs"][1].pop("transit_d")
    r["legs.toml"]["legs"][1]["transit_h"] = fixed(24)
    b = r["nodes.toml"]["nodes"][1]
    b["facility"] = {"servers": {"value": 1, "source": "SRC1"}, "process_h": fixed(2)}
    return r


def write_scenario(folder: Path, network: dict[str, Any], extra: dict[str, Any] | None = None, **service: Any) -> Path:
    write_network(folder / "net", network)
    data: dict[str, Any] = {
        "scenario": {
            "name": "test",
            "start_date": _date("2025-01-01"),
            "end_date": _date("2025-01-02"),
            "drain_d": 5,
            "network": "net",
        },
        "services": [
            {
                "name": "abc",
                "corridor": "abc",
                "trains_per_week": {"value": 168, "source": "SRC1"},
                "wagons": {"value": 40, "source": "SRC1"},
                "teu": {"value": 80, "source": "SRC1"},
                **service,
            }
        ],
    }
    data["services"][0] = {k: v for k, v in data["services"][0].items() if v is not None}
    data.update(extra or {})
    path = folder / "scenario.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def _date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(text)


def trace(path: Path, n: int = 3) -> list[tuple[str, str, str, float]]:
    rep = run_replication(load_scenario(path), seed=1, replication=0)
    keep = {f"abc-{k:04d}" for k in range(1, n + 1)}
    return sorted(
        ((e.train, e.place, e.event, round(e.time_h, 6)) for e in rep.events if e.train in keep),
        key=lambda row: (row[3], row[0], row[1]),
    )


def test_exact_trace_on_three_nodes(tmp_path: Path) -> None:
    rows = trace(write_scenario(tmp_path, exact_network()))
    assert rows == [
        ("abc-0001", "A", "depart", 0.0),
        ("abc-0002", "A", "depart", 1.0),
        ("abc-0003", "A", "depart", 2.0),
        ("abc-0001", "B", "arrive", 10.0),
        ("abc-0001", "B", "start", 10.0),
        ("abc-0002", "B", "arrive", 11.0),
        ("abc-0001", "B", "end", 12.0),
        ("abc-0001", "B", "leave", 12.0),
        ("abc-0002", "B", "start", 12.0),
        ("abc-0003", "B", "arrive", 12.0),
        ("abc-0002", "B", "end", 14.0),
        ("abc-0002", "B", "leave", 14.0),
        ("abc-0003", "B", "start", 14.0),
        ("abc-0003", "B", "end", 16.0),
        ("abc-0003", "B", "leave", 16.0),
        ("abc-0001", "C", "arrive", 36.0),
        ("abc-0001", "C", "complete", 36.0),
        ("abc-0002", "C", "arrive", 38.0),
        ("abc-0002", "C", "complete", 38.0),
        ("abc-0003", "C", "arrive", 40.0),
        ("abc-0003", "C", "complete", 40.0),
    ]


def test_node_closure_holds_trains(tmp_path: Path) -> None:
    closure = {
        "closures": [{"node": "B", "start": _date("2025-01-01"), "end": _date("2025-01-01"), "note": "placeholder"}]
    }
    closure["closures"][0]["end"] = __import__("datetime").datetime(2025, 1, 1, 20)
    rows = trace(write_scenario(tmp_path, exact_network(), closure))
    starts = [t for train, place, event, t in rows if place == "B" and event == "start"]
    assert starts == [20.0, 22.0, 24.0]


def test_leg_closure_holds_trains_at_the_node(tmp_path: Path) -> None:
    import datetime as dt

    extra = {"closures": [{"leg": "L2", "start": dt.datetime(2025, 1, 1), "end": dt.datetime(2025, 1, 2)}]}
    rows = trace(write_scenario(tmp_path, exact_network(), extra))
    leaves = [t for _, place, event, t in rows if place == "B" and event == "leave"]
    assert leaves == [24.0, 24.0, 24.0]


def test_closure_past_the_horizon_leaves_trains_in_the_system(tmp_path: Path) -> None:
    import datetime as dt

    extra = {"closures": [{"node": "B", "start": dt.datetime(2025, 1, 1), "end": dt.datetime(2026, 1, 1)}]}
    rep = run_replication(load_scenario(write_scenario(tmp_path, exact_network(), extra)), seed=1, replication=0)
    assert len(rep.trains) == 24
    assert {t.status for t in rep.trains} == {"in_system"}
    assert all(t.arrive_h is None for t in rep.trains)


def ferry_network() -> dict[str, Any]:
    """A --rail--> B (ferry terminal, 1 vessel of 24 wagons, max wait 24 h) ==ferry==> C."""
    r = exact_network()
    nodes = r["nodes.toml"]["nodes"]
    nodes[1]["kinds"] = ["ferry_terminal"]
    nodes[1]["facility"] = {
        "servers": {"value": 1, "source": "SRC1"},
        "process_h": fixed(1),
        "vessels": {"value": 1, "source": "SRC1"},
        "vessel_capacity_wagons": {"value": 24, "source": "SRC1"},
        "dispatch": "max_wait",
        "max_wait_h": {"value": 24, "source": "SRC1"},
    }
    legs = r["legs.toml"]["legs"]
    legs[1].update(mode="ferry", gauge_mm=1435, distance_km={"value": 90, "source": "SRC1"}, transit_h=fixed(3.5))
    r["modes.toml"]["modes"].append(dict(r["modes.toml"]["modes"][0], mode="ferry"))
    return r


def test_a_train_longer_than_the_ferry_is_split_and_arrives_whole(tmp_path: Path) -> None:
    path = write_scenario(
        tmp_path,
        ferry_network(),
        trains_per_week={"value": 1, "source": "SRC1"},
        wagons={"value": 51, "source": "SRC1"},
    )
    rep = run_replication(load_scenario(path), seed=1, replication=0)
    (train,) = rep.trains
    assert train.ferry_parts == 3
    # ready at B at 11; sails 11 (24), 18 (24), then 11 + 24 = 35 (3 wagons); lands 38.5
    assert [(dep, units) for _, side, dep, units in rep.sailings if side == "B"] == [(11, 24), (18, 24), (35, 3)]
    assert train.arrive_h == 38.5


def test_largest_queue_counts_trains_waiting_for_a_vessel(tmp_path: Path) -> None:
    # a train an hour, each one vessel-load; the one vessel is back every 7 h (3.5 h each way):
    # trains are ready at 11..34 h and sail at 11, 18, 25, 32, ... so at 34 h twenty are waiting
    path = write_scenario(tmp_path, ferry_network(), wagons={"value": 24, "source": "SRC1"})
    node = simulate(load_scenario(path), replications=1, seed=1).summary.nodes["B"]
    assert node.wait_h is not None and node.wait_h.max == 0  # no queue for the loading berth
    assert node.largest_queue == 20


def test_a_node_where_every_train_is_stuck_at_the_horizon_still_has_its_row(tmp_path: Path) -> None:
    import datetime as dt

    extra = {"closures": [{"node": "B", "start": dt.datetime(2025, 1, 1), "end": dt.datetime(2026, 1, 1)}]}
    summary = simulate(load_scenario(write_scenario(tmp_path, exact_network(), extra)), replications=1).summary
    assert summary.nodes["B"].largest_queue == 24 and summary.nodes["B"].wait_h is None
    from sim.kpis import overload_note

    note = overload_note(summary)
    assert note is not None and note.startswith("Overloaded:") and "abc 100%" in note
    assert (
        overload_note(simulate(load_scenario(write_scenario(tmp_path / "ok", exact_network())), replications=1).summary)
        is None
    )


def test_the_event_log_clock_is_not_a_minute_early() -> None:
    import datetime as dt

    import numpy as np

    from sim.eventlog import _minutes

    start = dt.datetime(2025, 1, 1)

    def when(hours: float) -> str:
        return str(_minutes(start, np.array([hours]))[0])

    assert when(2.05) == "2025-01-01T02:03"  # 2.05 * 60 is 122.99999999999999 in floats
    assert when(0) == "2025-01-01T00:00" and when(24.999) == "2025-01-02T00:59"
    minutes = np.arange(0, 200000, 7)
    assert _minutes(start, minutes / 60).tolist() == [  # every whole minute, given in hours, is that minute
        (start + dt.timedelta(minutes=int(m))).isoformat(timespec="minutes") for m in minutes
    ]


def test_largest_queue_at_a_station(tmp_path: Path) -> None:
    # arrivals at 10..33 h, one server of 2 h: started by 33 h are those due at 10, 12, ..., 32
    node = simulate(load_scenario(write_scenario(tmp_path, exact_network())), replications=1, seed=1).summary.nodes
    assert node["B"].largest_queue == 12
    # busy from 10 h (the first start) to the end of the 24 h departure window: 14 of 24 server-hours
    assert node["B"].utilisation == round(14 / 24, 4)


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_is_told_of_each_replication_and_changes_nothing(tmp_path: Path, workers: int) -> None:
    scenario = load_scenario(write_scenario(tmp_path, exact_network()))
    told: list[str] = []
    with_progress = simulate(scenario, replications=3, seed=2, workers=workers, progress=told.append)
    assert told == [f"test: replication {k}/3" for k in range(4)] + ["test: summarising"]
    assert [(m.label, m.done, m.total) for m in told[:4]] == [("test", k, 3) for k in range(4)]  # type: ignore[attr-defined]
    assert with_progress.summary == simulate(scenario, replications=3, seed=2).summary


def scenario_for_invariants(tmp_path: Path) -> Path:
    r = ferry_network()
    for leg in r["legs.toml"]["legs"]:
        leg["transit_h"] = {"min": 2, "typical": 4, "max": 12, "source": "SRC1"}
    r["legs.toml"]["legs"][0]["transit_h"] = {"min": 5, "typical": 10, "max": 30, "source": "SRC1"}
    fac = r["nodes.toml"]["nodes"][1]["facility"]
    fac["process_h"] = {"min": 0.5, "typical": 1, "max": 4, "source": "SRC1"}
    fac["servers"] = {"value": 2, "source": "SRC1"}
    fac["vessels"] = {"value": 2, "source": "SRC1"}
    return write_scenario(
        tmp_path,
        r,
        trains_per_week={"value": 60, "source": "SRC1"},
        wagons={"value": 30, "source": "SRC1"},
        departure_spread_h={"value": 3, "source": "SRC1"},
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), replication=st.integers(0, 50))
def test_invariants_over_seeds(tmp_path: Path, seed: int, replication: int) -> None:
    scenario = load_scenario(scenario_for_invariants(tmp_path))
    rep = run_replication(scenario, seed=seed, replication=replication)
    departed = {e.train for e in rep.events if e.event == "depart"}
    arrived = {e.train for e in rep.events if e.event == "complete"}
    in_system = {t.train for t in rep.trains if t.status == "in_system"}
    assert departed == arrived | in_system and not arrived & in_system
    visits: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for e in rep.events:
        visits[(e.train, e.place)][e.event] = e.time_h
    busy: list[tuple[float, int]] = []
    for (_, place), ev in visits.items():
        order = [ev[k] for k in ("arrive", "start", "end", "leave") if k in ev]
        assert order == sorted(order)  # no negative wait anywhere
        if place == "B" and "start" in ev:
            busy += [(ev["start"], 1), (ev["end"], -1)]
    level = peak = 0
    for _, delta in sorted(busy, key=lambda x: (x[0], x[1])):
        level += delta
        peak = max(peak, level)
    assert peak <= 2  # never more trains in service than servers
    assert all(0 <= units <= 24 for *_, units in rep.sailings)  # ferry loads within capacity (empty returns)
    assert all(units > 0 for _, side, _, units in rep.sailings if side == "B")  # never leaves home empty
    for t in rep.trains:
        if t.status == "arrived":
            last_sailing = max(dep for (_, side, dep, _) in rep.sailings if side == "B")
            assert t.arrive_h is not None and t.arrive_h >= visits[(t.train, "B")]["leave"] + 2
            assert last_sailing >= visits[(t.train, "B")]["leave"]
    again = run_replication(scenario, seed=seed, replication=replication)
    assert again.events == rep.events and again.trains == rep.trains


def test_same_seed_same_results_whatever_the_workers(tmp_path: Path) -> None:
    scenario = load_scenario(scenario_for_invariants(tmp_path))
    one = simulate(scenario, replications=3, seed=5, workers=1)
    two = simulate(scenario, replications=3, seed=5, workers=2)
    assert one.summary == two.summary
    assert [r.events for r in one.replications] == [r.events for r in two.replications]
    other = simulate(scenario, replications=3, seed=6, workers=1)
    assert other.summary != one.summary


def test_common_random_numbers_across_scenarios(tmp_path: Path) -> None:
    """A change at the ferry leaves the draws on the first leg untouched."""
    base = load_scenario(scenario_for_invariants(tmp_path / "a"))
    r = ferry_network()
    r["nodes.toml"]["nodes"][1]["facility"]["vessels"] = {"value": 3, "source": "SRC1"}
    changed_path = scenario_for_invariants(tmp_path / "b")
    write_network(tmp_path / "b" / "net", _with_vessels(tmp_path / "b", 3))
    changed = load_scenario(changed_path)
    a = run_replication(base, seed=3, replication=0)
    b = run_replication(changed, seed=3, replication=0)
    first_leg = {e.train: e.time_h for e in a.events if e.place == "B" and e.event == "arrive"}
    assert first_leg == {e.train: e.time_h for e in b.events if e.place == "B" and e.event == "arrive"}
    assert a.sailings != b.sailings


def _with_vessels(folder: Path, vessels: int) -> dict[str, Any]:
    import tomllib

    records: dict[str, Any] = {}
    for name in ("sources.toml", "modes.toml", "nodes.toml", "legs.toml", "corridors.toml"):
        records[name] = tomllib.loads((folder / "net" / name).read_text())
    records["nodes.toml"]["nodes"][1]["facility"]["vessels"] = {"value": vessels, "source": "SRC1"}
    return copy.deepcopy(records)


@pytest.mark.parametrize(
    ("service", "extra", "needle"),
    [
        ({"corridor": "nope"}, {}, 'service abc: corridor = "nope": is not a corridor'),
        ({"weekdays": ["mon", "funday"]}, {}, 'weekdays = "funday"'),
        ({"trains_per_week": {"value": -1, "source": "SRC1"}}, {}, "trains_per_week.value = -1"),
        (
            {},
            {"closures": [{"node": "ZZ", "start": _date("2025-01-01"), "end": _date("2025-01-02")}]},
            'closure #1: node = "ZZ": is not a node',
        ),
        (
            {},
            {"closures": [{"node": "B", "start": _date("2025-01-05"), "end": _date("2025-01-02")}]},
            "closure #1: end = ",
        ),
        (
            {},
            {"capacity_cuts": [{"node": "B", "start": _date("2025-01-01"), "end": _date("2025-01-02"), "factor": -1}]},
            "factor = -1",
        ),
        ({}, {"typo": 1}, "scenario file: typo = 1: unknown key"),
    ],
)
def test_bad_scenarios_are_named(tmp_path: Path, service: dict[str, Any], extra: dict[str, Any], needle: str) -> None:
    path = write_scenario(tmp_path, exact_network(), extra, **service)
    with pytest.raises(DataError) as info:
        load_scenario(path)
    assert needle in str(info.value) and "scenario.toml" in str(info.value)


def test_line_capacity_spaces_trains_entering_a_leg(tmp_path: Path) -> None:
    r = exact_network()
    r["nodes.toml"]["nodes"][1].pop("facility")  # B: a plain junction
    r["legs.toml"]["legs"][1]["capacity_trains_per_day"] = {"value": 4, "source": "SRC1"}  # one every 6 h
    rows = trace(write_scenario(tmp_path, r, headway_h={"value": 1, "source": "SRC1"}, trains_per_week=None), n=3)
    leaves = [t for _, place, event, t in rows if place == "B" and event == "leave"]
    assert leaves == [10.0, 16.0, 22.0]


def test_headway_or_trains_per_week_not_both(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, exact_network(), headway_h={"value": 2, "source": "SRC1"})
    with pytest.raises(DataError, match="give trains_per_week or headway_h"):
        load_scenario(path)


def test_headway_sets_the_timetable(tmp_path: Path) -> None:
    scenario = load_scenario(
        write_scenario(tmp_path, exact_network(), headway_h={"value": 6, "source": "SRC1"}, trains_per_week=None)
    )
    assert scenario.services[0].departures_h == (0.0, 6.0, 12.0, 18.0)


def test_python_api_gives_the_cli_summary(tmp_path: Path) -> None:
    import json

    import sim
    from corridors.cli import main

    path = write_scenario(tmp_path, exact_network())
    result = sim.simulate(sim.load_scenario(path), replications=2, seed=4)
    assert main(["simulate", str(path), "-r", "2", "--seed", "4", "--out", str(tmp_path / "o")]) == 0
    assert json.loads((tmp_path / "o" / "summary.json").read_text()) == json.loads(json.dumps(result.summary.to_json()))
