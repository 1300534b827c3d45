"""Routing over the leg graph: by time, distance and cost, k alternatives, avoidance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import corridors
from corridors import route
from corridors.summary import summarize_path
from tests.conftest import write_network


def test_chengdu_tehran_goes_via_altynkol_bolashak_etrek(network: corridors.Network) -> None:
    best = route(network, "CN_CHENGDU", "IR_TEHRAN")[0]
    for via in ("KZ_ALTYNKOL", "KZ_BOLASHAK", "TM_ETREK"):
        assert via in best.node_ids
    assert best.node_ids[0] == "CN_CHENGDU" and best.node_ids[-1] == "IR_TEHRAN"


def test_avoiding_russia(network: corridors.Network) -> None:
    routes = route(network, "CN_CHENGDU", "PL_LODZ", avoid=["RU"], k=3)
    assert routes
    for r in routes:
        assert all("RU" not in network.nodes[n].countries for n in r.node_ids)


def test_without_avoidance_the_fastest_is_northern(network: corridors.Network) -> None:
    best = route(network, "CN_CHENGDU", "PL_LODZ")[0]
    assert best.node_ids == network.corridor("northern").node_ids


def test_avoiding_a_node(network: corridors.Network) -> None:
    r = route(network, "CN_XIAN", "HU_BUDAPEST", avoid=["GE_POTI", "GE_BATUMI", "RU"])[0]
    assert "GE_AKHALKALAKI" in r.node_ids


def test_cheapest_is_by_sea(network: corridors.Network) -> None:
    best = route(network, "CN_CHENGDU", "PL_LODZ", by="cost")[0]
    assert "CN_SHANGHAI" in best.node_ids


def test_shortest_by_distance_is_no_longer_than_any_corridor(network: corridors.Network) -> None:
    best = route(network, "CN_CHENGDU", "PL_LODZ", by="distance")[0]
    for name in ("northern", "southern"):
        assert best.weight <= summarize_path(network, *_corridor_path(network, name)).total_distance_km + 1e-6


def _corridor_path(network: corridors.Network, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    c = network.corridor(name)
    return c.node_ids, c.leg_ids


@pytest.mark.parametrize("by", ["time", "distance", "cost"])
def test_k_alternatives_are_distinct_loop_free_and_sorted(network: corridors.Network, by: str) -> None:
    routes = route(network, "CN_CHENGDU", "PL_LODZ", by=by, k=5)
    assert len(routes) == 5
    assert len({r.leg_ids for r in routes}) == 5
    weights = [r.weight for r in routes]
    assert weights == sorted(weights)
    for r in routes:
        assert len(set(r.node_ids)) == len(r.node_ids)
        for i, leg_id in enumerate(r.leg_ids):
            assert {network.legs[leg_id].from_id, network.legs[leg_id].to_id} == {r.node_ids[i], r.node_ids[i + 1]}


def test_time_weight_counts_legs_and_intermediate_processing(tmp_path: Path, tiny: dict[str, Any]) -> None:
    net = corridors.load_network(write_network(tmp_path / "net", tiny))
    r = route(net, "A", "C")[0]
    # L1 PERT (10, 12, 20) mean 13; B processing PERT (2, 4, 12) mean 5; L2 fixed 24
    assert r.weight == pytest.approx(13 + 5 + 24)
    assert r.node_ids == ("A", "B", "C") and r.leg_ids == ("L1", "L2")
    back = route(net, "C", "A")[0]
    assert back.leg_ids == ("L2", "L1") and back.weight == pytest.approx(r.weight)


def test_computed_distance_is_geodesic_times_circuity(tmp_path: Path, tiny: dict[str, Any]) -> None:
    net = corridors.load_network(write_network(tmp_path / "net", tiny))
    l2 = net.legs["L2"]
    assert l2.distance_computed and l2.circuity == 1.1
    # B (44N 81E) to C (45N 81E): 111.1 km along the meridian on WGS-84
    assert l2.distance_km == pytest.approx(111.1 * 1.1, abs=0.3)


def test_fewer_routes_than_asked_when_fewer_exist(tmp_path: Path, tiny: dict[str, Any]) -> None:
    net = corridors.load_network(write_network(tmp_path / "net", tiny))
    assert len(route(net, "A", "C", k=4)) == 1
    assert route(net, "A", "C", avoid=["B"]) == []
