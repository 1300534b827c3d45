"""A yard of finite tracks blocks the line behind it when full: hand-computed cases, the loader's
and the what-if's rules, and the bundled what-if that uses it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import corridors
from sim.engine import run_replication
from sim.kpis import summarize
from sim.runner import RunResult
from sim.scenario import load_scenario
from tests.conftest import write_network
from tests.test_engine import exact_network, trace, write_scenario


def yard(network: dict[str, Any], node_id: str, capacity: int) -> dict[str, Any]:
    for node in network["nodes.toml"]["nodes"]:
        if node["id"] == node_id:
            node.setdefault("facility", {})["yard_capacity_trains"] = {"value": capacity, "source": "SRC1"}
    return network


def test_a_full_yard_at_the_destination_holds_trains_where_they_are(tmp_path: Path) -> None:
    """C holds one train: the next leaves B only when the one before has arrived (and left) C.

    Trains leave A hourly and are served 2 h at B, as in the plain trace (B ends at 12, 14, 16);
    the leg to C takes 24 h, so train k reaches C at 12 + 24 k instead of 34 + 2 k."""
    rows = trace(write_scenario(tmp_path, yard(exact_network(), "C", 1)))
    leave_b = [t for (train, place, event, t) in rows if place == "B" and event == "leave"]
    arrive_c = [t for (train, place, event, t) in rows if place == "C" and event == "arrive"]
    ends_b = [t for (train, place, event, t) in rows if place == "B" and event == "end"]
    assert ends_b == [12.0, 14.0, 16.0]  # service as before: the yard holds trains after it
    assert leave_b == [12.0, 36.0, 60.0]
    assert arrive_c == [36.0, 60.0, 84.0]


def test_a_full_yard_midway_holds_trains_at_the_node_before_it(tmp_path: Path) -> None:
    """B (one server, 2 h) holds one train in its yard, counted from leaving A to leaving B:
    train k departs at k - 1 but may leave A only at 12 (k - 1), reaching B at 10 + 12 (k - 1)."""
    rows = trace(write_scenario(tmp_path, yard(exact_network(), "B", 1)))
    arrive_b = [t for (train, place, event, t) in rows if place == "B" and event == "arrive"]
    departs = [t for (train, place, event, t) in rows if place == "A" and event == "depart"]
    assert departs == [0.0, 1.0, 2.0]
    assert arrive_b == [10.0, 22.0, 34.0]
    rep = run_replication(load_scenario(write_scenario(tmp_path / "again", yard(exact_network(), "B", 1))), seed=1,
                          replication=0)  # fmt: skip
    first_three = sorted((t for t in rep.trains if t.status == "arrived"), key=lambda t: t.train)[:3]
    assert [t.waiting_h for t in first_three] == [0.0, 11.0, 22.0]  # held at A before the leg


def test_a_yard_big_enough_changes_nothing(tmp_path: Path) -> None:
    plain = trace(write_scenario(tmp_path / "plain", exact_network()), n=10)
    roomy = trace(write_scenario(tmp_path / "roomy", yard(exact_network(), "C", 1000)), n=10)
    assert roomy == plain


def test_the_loader_reads_and_bounds_a_yard(tmp_path: Path, tiny: dict[str, Any]) -> None:
    net = corridors.load_network(write_network(tmp_path / "ok", yard(tiny, "C", 12)))
    assert net.nodes["C"].facility is not None and net.nodes["C"].facility.yard_capacity_trains == 12
    with pytest.raises(corridors.DataError, match=r"node C: facility.yard_capacity_trains.value = 0"):
        corridors.load_network(write_network(tmp_path / "zero", yard(tiny, "C", 0)))


def test_the_bundled_what_if_holds_trains_at_brest(bundled_run: Callable[[str], RunResult]) -> None:
    """Małaszewicze's yard full: trains wait at Brest, on the Belarusian side, the services
    through Małaszewicze take longer, and services that share no place with them are as they
    were (those that do, such as the trains sharing the Chinese-Kazakh border with the eastbound
    trains, may move) (the session's runs: replication 0 of each)."""
    baseline = bundled_run("baseline")
    base = summarize(baseline.scenario, baseline.tallies[:1], seed=1)
    full = bundled_run("malaszewicze-yard-full").summary
    assert full.replications == base.replications == 1
    held = full.nodes["BY_BREST"].hold_h
    assert held is not None and held.p95 is not None and held.p95 > 1.0
    before = base.nodes["BY_BREST"].hold_h if "BY_BREST" in base.nodes else None
    assert (before.mean if before and before.mean else 0.0) < (held.mean or 0.0)
    routes = {s.name: set(s.node_ids) for s in baseline.scenario.services}
    through = {name for name, places in routes.items() if "PL_MALASZEWICZE" in places}
    shared = set().union(*(routes[name] for name in through))
    assert through >= {"northern-chengdu-lodz", "northern-duisburg-xian-east"}
    for name, row in full.services.items():
        delta = (row.transit_d.mean or 0.0) - (base.services[name].transit_d.mean or 0.0)
        if name in through:
            assert delta > 0, name
        elif not routes[name] & shared:
            assert delta == 0, name
