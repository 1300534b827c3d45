"""Wagon pools: trains take platform wagons at a section's start and give them back at its end.

The three-node network (A -1435- B -1520- C, B a gauge change) with fixed times, so that every
figure can be checked by hand: L1 12 h, service at B 4 h, L2 24 h.
"""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w

import sim
from corridors import DataError
from sim.checkpoint import tally_arrays, tally_from_arrays
from sim.engine import run_replication
from sim.model import sections
from sim.records import EmptyRun, PoolLevel, WagonWait, WaitReason
from sim.summary import RunSummary
from sim.tally import tally
from tests.conftest import tiny_records
from tests.test_engine import trace, write_scenario

FIXED = "fixed"


def _network(*, random_service: bool = False) -> dict[str, Any]:
    net = copy.deepcopy(tiny_records())
    if not random_service:
        b = net["nodes.toml"]["nodes"][1]
        b["facility"]["process_h"] = {"min": 4, "typical": 4, "max": 4, "shape": FIXED, "source": ["SRC1"]}
    net["legs.toml"]["legs"][0]["transit_h"] = {"min": 12, "typical": 12, "max": 12, "shape": FIXED, "source": "SRC1"}
    return net


def _pool(node: str, wagons: Any, gauge: Any = 1520) -> dict[str, Any]:
    return {"node": node, "gauge_mm": gauge, "wagons": {"value": wagons, "source": "ESTIMATE"}}


def _scenario(folder: Path, pools: list[dict[str, Any]], *, per_week: float = 28, **more: Any) -> Path:
    extra = {"wagon_pools": pools, **more}
    return write_scenario(folder, _network(), extra, trains_per_week={"value": per_week, "source": "SRC1"})


def test_sections_run_from_a_gauge_change_to_the_next_break() -> None:
    scenario = sim.load_scenario("baseline")
    net = scenario.network
    middle = next(s for s in scenario.services if s.name == "middle-xian-budapest")
    # 1435 to Altynkol; 1520 over the Caspian rail ferry to Poti (the sea leg ends it); 1435 from Constanta
    got = [(middle.node_ids[a], middle.node_ids[b], g) for a, b, g in sections(net, middle.leg_ids)]
    assert got == [
        ("CN_XIAN", "KZ_ALTYNKOL", 1435),
        ("KZ_ALTYNKOL", "GE_POTI", 1520),
        ("RO_CONSTANTA", "HU_BUDAPEST", 1435),
    ]


def test_the_second_train_waits_until_the_first_trains_wagons_are_back(tmp_path: Path) -> None:
    """A pool of 40 and trains of 40: the first takes them at B at 12 h, is served 12-16, reaches C
    at 40; they run back empty in its moving hours on B-C (24 h) and are at B at 64 h, when the
    second train (at B since 18 h) takes them."""
    path = _scenario(tmp_path, [_pool("B", 40)])
    assert trace(path, 2) == [
        ("abc-0001", "A", "depart", 0.0),
        ("abc-0002", "A", "depart", 6.0),
        ("abc-0001", "B", "arrive", 12.0),
        ("abc-0001", "B", "start", 12.0),
        ("abc-0001", "B", "end", 16.0),
        ("abc-0001", "B", "leave", 16.0),
        ("abc-0002", "B", "arrive", 18.0),
        ("abc-0001", "C", "arrive", 40.0),
        ("abc-0001", "C", "complete", 40.0),
        ("abc-0002", "B", "start", 64.0),
        ("abc-0002", "B", "end", 68.0),
        ("abc-0002", "B", "leave", 68.0),
        ("abc-0002", "C", "arrive", 92.0),
        ("abc-0002", "C", "complete", 92.0),
    ]
    scenario = sim.load_scenario(path)
    rep = run_replication(scenario, seed=1, replication=0)
    km = scenario.network.legs["L2"].distance_km
    assert rep.rolling_stock.empty_runs[:2] == (
        EmptyRun("abc", "C", "B", 1520, 40, km, 24.0, 40.0),
        EmptyRun("abc", "C", "B", 1520, 40, km, 24.0, 92.0),
    )
    assert rep.rolling_stock.waits == (
        WagonWait("abc", "abc-0002", "B", 18.0, 64.0),
        WagonWait("abc", "abc-0003", "B", 24.0, 116.0),
        WagonWait("abc", "abc-0004", "B", 30.0, math.inf),  # still waiting at the horizon (144 h)
    )
    assert rep.rolling_stock.wagon_wait_h == {"abc": 46.0 + 92.0 + 114.0}
    v = rep.visits
    second_at_b = (v.train == 1) & (v.place == v.places.index("B"))
    assert v.wait_h[second_at_b].tolist() == [46.0]
    assert v.waited_for[second_at_b].tolist() == [int(WaitReason.WAGONS)]
    assert rep.rolling_stock.pools == (PoolLevel("B", 1520, 40, 0, 3),)  # trains 2, 3 and 4 waited


def test_a_pool_with_room_for_two_trains_holds_nobody(tmp_path: Path) -> None:
    rep = run_replication(sim.load_scenario(_scenario(tmp_path, [_pool("B", 400)])), seed=1, replication=0)
    assert rep.rolling_stock.wagon_wait_h == {"abc": 0.0}
    assert not (rep.visits.waited_for == int(WaitReason.WAGONS)).any()
    assert rep.rolling_stock.pools[0].lowest_wagons < 400


def test_wagons_given_back_where_a_pool_is_short_stay_there(tmp_path: Path) -> None:
    """Westbound abc takes B's 40 wagons at 12 h; eastbound cba takes C's 40 at its departure (0 h)
    and gives them back at B after its service there (24-28 h), where B lacks 40: they stay (no
    empty run). At C at 40 h abc's wagons stay in turn, as C lacks the 40 it lent to B."""
    east = {
        "name": "cba",
        "corridor": "abc",
        "reverse": True,
        "trains_per_week": {"value": 7, "source": "SRC1"},
        "wagons": {"value": 40, "source": "SRC1"},
        "teu": {"value": 80, "source": "SRC1"},
    }
    path = _scenario(tmp_path, [_pool("B", 40), _pool("C", 40)], per_week=7)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data["services"].append(east)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    rep = run_replication(sim.load_scenario(path), seed=1, replication=0)
    assert rep.rolling_stock.empty_runs == ()
    assert rep.rolling_stock.wagon_wait_h == {"abc": 0.0, "cba": 0.0}
    assert rep.rolling_stock.pools == (PoolLevel("B", 1520, 40, 0, 0), PoolLevel("C", 1520, 40, 0, 0))


def test_the_same_seed_gives_the_same_wagons(tmp_path: Path) -> None:
    pools = [_pool("B", 80)]
    path = write_scenario(
        tmp_path, _network(random_service=True), {"wagon_pools": pools}, trains_per_week={"value": 56, "source": "SRC1"}
    )
    scenario = sim.load_scenario(path)
    one, two = (run_replication(scenario, seed=7, replication=3) for _ in range(2))
    assert one.rolling_stock == two.rolling_stock and one.rolling_stock.empty_runs
    assert sum(one.rolling_stock.wagon_wait_h.values()) > 0
    other = run_replication(scenario, seed=8, replication=3)
    assert other.rolling_stock != one.rolling_stock  # the draws do change them


def test_the_summary_counts_empty_wagon_km_waits_and_the_lowest_stock(tmp_path: Path) -> None:
    scenario = sim.load_scenario(_scenario(tmp_path, [_pool("B", 40)]))
    result = sim.simulate(scenario, replications=2, seed=1)
    rolling = result.summary.rolling_stock
    reps = result.replications
    km = scenario.network.legs["L2"].distance_km
    runs = [len(r.rolling_stock.empty_runs) for r in reps]
    weeks = 24 / 168  # the service's one-day window
    flow = rolling.services["abc"]
    assert flow.empty_runs_per_week == round(sum(runs) / 2 / weeks, 2)
    assert flow.empty_wagon_km_per_week == round(40 * km * sum(runs) / 2 / weeks, 0)
    trains = sum(len(r.trains) for r in reps)
    wait_h = sum(r.rolling_stock.wagon_wait_h["abc"] for r in reps)
    assert flow.wagon_wait_h_per_train == round(wait_h / trains, 2) and flow.wagon_wait_h_per_train > 0
    assert rolling.corridors["abc"] == flow
    pool = rolling.pools["B/1520"]
    assert (pool.start_wagons, pool.lowest_wagons, pool.lowest_wagons_mean) == (40, 0, 0.0)
    assert pool.trains_waited_per_replication == 3.0  # of the day's four trains, all but the first
    data = result.summary.to_json()
    assert RunSummary.from_json(data, source="summary.json") == result.summary
    del data["rolling_stock"]  # a summary written before wagon pools
    assert RunSummary.from_json(data, source="old.json").rolling_stock.pools == {}


def test_a_tally_keeps_its_wagons_through_a_checkpoint(tmp_path: Path) -> None:
    scenario = sim.load_scenario(_scenario(tmp_path, [_pool("B", 40)]))
    rep = run_replication(scenario, seed=1, replication=0)
    t = tally(scenario, rep.visits, rep.trains, rep.rolling_stock)
    arrays = {k: np.asarray(v) for k, v in tally_arrays(t).items()}
    back = tally_from_arrays(arrays)
    assert back.wagons == t.wagons and back.pools == t.pools and t.wagons["abc"].empty_runs > 0


def test_a_whatif_inherits_adds_and_replaces_pools(tmp_path: Path) -> None:
    base = _scenario(tmp_path, [_pool("B", 40)])
    whatif = tmp_path / "more.toml"
    whatif.write_text(
        tomli_w.dumps(
            {"scenario": {"name": "more", "base": "scenario.toml"}, "wagon_pools": [_pool("B", 80), _pool("C", 5)]}
        ),
        encoding="utf-8",
    )
    same = tmp_path / "same.toml"
    same.write_text(tomli_w.dumps({"scenario": {"name": "same", "base": "scenario.toml"}}), encoding="utf-8")
    assert [(p.node, p.gauge_mm, p.wagons) for p in sim.load_scenario(base).wagon_pools] == [("B", 1520, 40)]
    assert [(p.node, p.gauge_mm, p.wagons) for p in sim.load_scenario(same).wagon_pools] == [("B", 1520, 40)]
    pools = sim.load_scenario(whatif).wagon_pools
    assert [(p.node, p.gauge_mm, p.wagons) for p in pools] == [("B", 1520, 80), ("C", 1520, 5)]


@pytest.mark.parametrize(
    ("pool", "says"),
    [
        (_pool("X", 40), 'wagon pool X/1520: node = "X": is not a node of the network'),
        (_pool("A", 40), "wagon pool A/1520: gauge_mm = 1520: matches no rail leg at A (its rail legs are 1435 mm)"),
        (_pool("B", 40, gauge=1000), "wagon pool #1: gauge_mm = 1000: must be one of 1435, 1520"),
        (_pool("B", 0), "wagon pool B/1520: wagons.value = 0"),
        (_pool("B", 2.5), "wagon pool B/1520: wagons.value = 2.5"),
        ({"node": "B", "gauge_mm": 1520, "wagons": 40}, "wagon pool B/1520: wagons = 40: every number needs a source"),
        ({**_pool("B", 40), "gague_mm": 1}, "gague_mm"),
    ],
)
def test_bad_pools_name_file_record_field_and_value(tmp_path: Path, pool: dict[str, Any], says: str) -> None:
    path = _scenario(tmp_path, [pool])
    with pytest.raises(DataError) as info:
        sim.load_scenario(path)
    message = str(info.value)
    assert "scenario.toml" in message and says in message and "\n" not in message


def test_two_pools_of_one_gauge_at_a_node_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"wagon pool B/1520: node = \"B\": has two 1520 mm pools"):
        sim.load_scenario(_scenario(tmp_path, [_pool("B", 40), _pool("B", 50)]))


def test_the_baseline_is_not_short_of_wagons(loaded_scenario: Any) -> None:
    scenario = loaded_scenario("baseline")
    assert {p.key for p in scenario.wagon_pools} == {
        "KZ_DOSTYK/1520",
        "KZ_ALTYNKOL/1520",
        "PL_MALASZEWICZE/1520",
        "AZ_ALAT/1520",
    }
    rep = run_replication(scenario, seed=1, replication=0)
    assert sum(rep.rolling_stock.wagon_wait_h.values()) == 0
    assert all(p.lowest_wagons > 0 and not p.trains_waited for p in rep.rolling_stock.pools)


def test_the_report_has_a_rolling_stock_section(tmp_path: Path) -> None:
    from maps.report import run_report

    scenario = sim.load_scenario(_scenario(tmp_path, [_pool("B", 40)]))
    page = run_report(sim.simulate(scenario, replications=1, seed=1), map_html="")
    section = page.split("<h2>Rolling stock</h2>", 1)[1].split("<h2>", 1)[0]
    assert "<td>abc</td>" in section and "B/1520 0 of 40" in section and "class='bad'>3.0<" in section
