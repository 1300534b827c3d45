"""Train formation and locomotive pools: trains re-form into parts where the lines take shorter
trains, and each part is hauled by a locomotive from a pool that runs back light.

The three-node network of tests/test_wagons.py (A -1435- B -1520- C; B a border in KZ) with fixed
times: L1 12 h, service at B 4 h, L2 24 h; trains of 40 wagons every 6 h.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import sim
from corridors import DataError
from sim.engine import run_replication
from sim.model import formation
from sim.records import PoolLevel, WaitReason
from tests.test_engine import trace, write_scenario
from tests.test_wagons import _network


def _engines(node: str, locomotives: int) -> dict[str, Any]:
    return {"node": node, "locomotives": {"value": locomotives, "source": "ESTIMATE"}}


def _limit(gauge: int, countries: list[str], wagons: int) -> dict[str, Any]:
    return {"gauge_mm": gauge, "countries": countries, "max_wagons": {"value": wagons, "source": "ESTIMATE"}}


def _scenario(
    folder: Path, *, engines: list[dict[str, Any]], limits: list[dict[str, Any]] | None = None, gate: bool = False
) -> Path:
    network = _network()
    if gate:
        network["legs.toml"]["legs"][1]["capacity_trains_per_day"] = {"value": 2, "source": "SRC1"}  # one every 12 h
    extra = {"locomotive_pools": engines, "train_limits": limits or []}
    return write_scenario(folder, network, extra, trains_per_week={"value": 28, "source": "SRC1"})


def test_the_baseline_re_forms_trains_where_europes_lines_take_shorter_ones() -> None:
    scenario = sim.load_scenario("baseline")
    by_name = {s.name: s for s in scenario.services}
    xian = by_name["northern-xian-duisburg"]
    got = [
        (xian.node_ids[a], parts)
        for a, _b, _g, parts in formation(scenario.network, xian.leg_ids, 51, scenario.train_limits)
    ]
    # 55 a train in China (since 2022), no published limit on 1520 mm, 41-55 on the EU network
    assert got == [("CN_XIAN", 1), ("KZ_DOSTYK", 1), ("PL_MALASZEWICZE", 2)]
    whole = formation(scenario.network, xian.leg_ids, 46, scenario.train_limits)
    assert [parts for *_, parts in whole] == [1, 1, 1]
    # sixty wagons would not fit China's 55 either
    assert [parts for *_, parts in formation(scenario.network, xian.leg_ids, 60, scenario.train_limits)] == [2, 1, 2]


def test_the_second_train_waits_for_the_locomotive_to_come_back_light(tmp_path: Path) -> None:
    """One locomotive at B: the first train couples it when it leaves B (16 h) and reaches C at
    40 h; the locomotive runs back light in the train's moving hours (24 h) and is at B at 64 h,
    when the second train (served 18-22 h) leaves."""
    path = _scenario(tmp_path, engines=[_engines("B", 1)])
    rows = trace(path, 2)
    assert ("abc-0001", "B", "leave", 16.0) in rows
    assert ("abc-0002", "B", "end", 22.0) in rows
    assert ("abc-0002", "B", "leave", 64.0) in rows
    assert ("abc-0002", "C", "arrive", 88.0) in rows
    rep = run_replication(sim.load_scenario(path), seed=1, replication=0)
    v = rep.visits
    second_at_b = (v.train == 1) & (v.place == v.places.index("B"))
    assert v.waited_for[second_at_b].tolist() == [int(WaitReason.LOCOMOTIVES)]
    assert v.wait_h[second_at_b].tolist() == [42.0]
    runs = rep.rolling_stock.light_runs
    assert [(r.from_place, r.to_place, r.wagons, r.hours, r.at_h) for r in runs[:2]] == [
        ("C", "B", 1, 24.0, 40.0),
        ("C", "B", 1, 24.0, 88.0),
    ]
    assert rep.rolling_stock.locomotive_wait_h["abc"] > 42.0  # the third and fourth train wait longer
    assert rep.rolling_stock.wagon_wait_h == {}  # no wagon pool: nobody waits for wagons
    assert PoolLevel("B", 0, 1, 0, 3, "locomotives") in rep.rolling_stock.pools


def test_a_train_split_in_two_takes_two_locomotives(tmp_path: Path) -> None:
    """Trains of 40 on a 1520 mm line in KZ that takes 20: two parts, two locomotives. With two at B
    the second train waits as with one locomotive for whole trains; with four nobody waits."""
    limit = [_limit(1520, ["KZ"], 20)]
    two = _scenario(tmp_path / "two", engines=[_engines("B", 2)], limits=limit)
    assert ("abc-0002", "B", "leave", 64.0) in trace(two, 2)
    four = _scenario(tmp_path / "four", engines=[_engines("B", 4)], limits=limit)
    rows = trace(four, 2)
    assert ("abc-0002", "B", "leave", 22.0) in rows
    waited = {
        n: run_replication(sim.load_scenario(p), seed=1, replication=0).rolling_stock
        for n, p in (("two", two), ("four", four))
    }
    assert 0 < waited["four"].locomotive_wait_h["abc"] < waited["two"].locomotive_wait_h["abc"]  # the third waits
    assert {r.wagons for r in waited["four"].light_runs} == {2}
    assert next(p for p in waited["four"].pools if p.unit == "locomotives").lowest_wagons == 0


def test_a_split_train_enters_a_gated_line_once_for_each_part(tmp_path: Path) -> None:
    """A line from B that takes a train every 12 h: a train of two parts leaves when its second
    part may enter, 12 h after its first."""
    whole = _scenario(tmp_path / "whole", engines=[], gate=True)
    split = _scenario(tmp_path / "split", engines=[], limits=[_limit(1520, ["KZ"], 20)], gate=True)
    assert ("abc-0001", "B", "leave", 16.0) in trace(whole, 1)
    assert ("abc-0001", "B", "leave", 28.0) in trace(split, 1)


def test_the_summary_and_report_show_locomotive_pools(tmp_path: Path) -> None:
    path = _scenario(tmp_path, engines=[_engines("B", 1)], limits=[_limit(1435, ["CN"], 10)])
    # 40 wagons in four parts on A-B (A has no pool); B's stretch to C runs whole
    from maps.report import run_report

    result = sim.simulate(sim.load_scenario(path), replications=2, seed=1)
    rolling = result.summary.rolling_stock
    assert rolling.pools["B/locomotives"].unit == "locomotives"
    assert rolling.pools["B/locomotives"].trains_waited_per_replication > 0
    assert rolling.services["abc"].locomotive_wait_h_per_train > 0
    assert rolling.services["abc"].wagon_wait_h_per_train == 0
    html = run_report(result, map_html="")
    assert "B/locomotives" in html and "wait for locomotives" in html
    assert "Train formation" in html  # the four parts on A-B


def test_a_pool_too_small_for_a_trains_parts_is_refused(tmp_path: Path) -> None:
    path = _scenario(tmp_path, engines=[_engines("B", 1)], limits=[_limit(1520, ["KZ"], 20)])
    with pytest.raises(DataError) as err:
        sim.load_scenario(path)
    text = str(err.value)
    assert "scenario.toml" in text and "locomotive pool B" in text and "locomotives = 1" in text
    assert "the 2 locomotives a train of abc needs at B" in text


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda e, t: t.update(countries=["XX"]), 'countries = "XX": is no country of the network'),
        (lambda e, t: t.update(gauge_mm=1000), "gauge_mm = 1000: must be one of 1435, 1520"),
        (lambda e, t: t["max_wagons"].update(value=0), "max_wagons"),
        (lambda e, t: e.update(node="NOWHERE"), 'node = "NOWHERE"'),
        (lambda e, t: e["locomotives"].update(value=-1), "locomotives"),
    ],
)
def test_bad_formation_tables_name_the_field_and_value(tmp_path: Path, change: Any, says: str) -> None:
    engines, limit = _engines("B", 1), _limit(1520, ["KZ"], 60)
    change(engines, limit)
    with pytest.raises(DataError) as err:
        sim.load_scenario(_scenario(tmp_path, engines=[engines], limits=[limit]))
    assert says in str(err.value) and "scenario.toml" in str(err.value)


def test_the_same_seed_gives_the_same_locomotive_waits(tmp_path: Path) -> None:
    net = _network(random_service=True)
    extra = {"locomotive_pools": [_engines("B", 2)], "train_limits": [_limit(1520, ["KZ"], 30)]}
    path = write_scenario(tmp_path, net, extra, trains_per_week={"value": 28, "source": "SRC1"})
    scenario = sim.load_scenario(path)
    a, b = (run_replication(scenario, seed=7, replication=1) for _ in range(2))
    assert a.rolling_stock.locomotive_wait_h == b.rolling_stock.locomotive_wait_h
    assert a.rolling_stock.light_runs == b.rolling_stock.light_runs
    assert math.isfinite(sum(a.rolling_stock.locomotive_wait_h.values()))


def test_a_sweep_sets_locomotives_and_train_limits_and_refuses_an_unhaulable_train(tmp_path: Path) -> None:
    from corridors.errors import InputError
    from sim.sweep import base_value, variant

    scenario = sim.load_scenario(_scenario(tmp_path, engines=[_engines("B", 2)], limits=[_limit(1520, ["KZ"], 40)]))
    assert base_value(scenario, "pool", "B-locomotives", "locomotives") == 2.0
    assert base_value(scenario, "limit", "1520-KZ", "max_wagons") == 40.0
    more = variant(scenario, "pool", "B-locomotives", "locomotives", 5.4)
    assert [p.locomotives for p in more.locomotive_pools] == [5]
    halves = variant(scenario, "limit", "1520-KZ", "max_wagons", 20)
    assert [t.max_wagons for t in halves.train_limits] == [20]
    with pytest.raises(InputError, match="would run in 4 parts at B, whose locomotive pool holds 2"):
        variant(scenario, "limit", "1520-KZ", "max_wagons", 10)
    with pytest.raises(InputError, match="no such locomotive pool"):
        variant(scenario, "pool", "A-locomotives", "locomotives", 3)
