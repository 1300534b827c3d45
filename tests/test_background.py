"""Background traffic: other freight at shared facilities (``Facility.background_per_day``)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import corridors
from sim.engine import run_replication
from sim.scenario import load_scenario
from tests.conftest import tiny_records, write_network
from tests.test_engine import write_scenario


def _with_background(per_day: float, **extra: Any) -> dict[str, Any]:
    records = copy.deepcopy(tiny_records())
    node = next(n for n in records["nodes.toml"]["nodes"] if n["id"] == "B")
    node["facility"]["background_per_day"] = {"value": per_day, "source": ["SRC1"]}
    node["facility"].update(extra)
    return records


def test_other_trains_take_the_servers_and_are_counted(tmp_path: Path) -> None:
    """At a node with servers, other trains a day take servers for a processing time: the
    services' trains wait longer there, on their own random numbers, and the replication
    records how many other trains were served."""
    alone = run_replication(load_scenario(write_scenario(tmp_path / "a", tiny_records())), seed=3, replication=0)
    busy = run_replication(load_scenario(write_scenario(tmp_path / "b", _with_background(12))), seed=3, replication=0)
    assert alone.background == {}
    horizon_d = busy.horizon_h / 24
    assert 0.7 * 12 * horizon_d < busy.background["B"] < 1.3 * 12 * horizon_d
    va, vb = alone.visits, busy.visits
    wait_a = (va.start_h - va.arrive_h)[va.place == va.places.index("B")]
    wait_b = (vb.start_h - vb.arrive_h)[vb.place == vb.places.index("B")]
    assert wait_b.mean() > wait_a.mean()
    # the services' own draws are untouched: the same departures and legs
    assert sorted(va.arrive_h[va.leg_in < 0]) == sorted(vb.arrive_h[vb.leg_in < 0])


def test_background_is_the_same_for_a_seed_and_differs_between_seeds(tmp_path: Path) -> None:
    scenario = load_scenario(write_scenario(tmp_path, _with_background(12)))
    a = run_replication(scenario, seed=5, replication=1)
    b = run_replication(scenario, seed=5, replication=1)
    c = run_replication(scenario, seed=6, replication=1)
    assert a.background == b.background and a.visits == b.visits
    assert a.background != c.background


@pytest.mark.parametrize(
    ("extra", "field", "says"),
    [
        ({"background_block": {"value": 3, "source": ["SRC1"]}}, "background_block", None),
        ({}, "background_per_day", "0.001"),
    ],
)
def test_bad_background_is_refused_naming_the_field(
    tmp_path: Path, extra: dict[str, Any], field: str, says: str | None
) -> None:
    records = copy.deepcopy(tiny_records())
    node = next(n for n in records["nodes.toml"]["nodes"] if n["id"] == "B")
    if field == "background_block":
        node["facility"].update(extra)  # a block without a rate
        expected = "needs background_per_day"
    else:
        node["facility"]["background_per_day"] = {"value": 0, "source": ["SRC1"]}
        expected = "background_per_day"
    write_network(tmp_path / "net", records)
    with pytest.raises(corridors.DataError) as info:
        corridors.load_network(tmp_path / "net")
    assert field in str(info.value) and expected in str(info.value) and "B" in str(info.value)


def test_background_needs_something_to_use(tmp_path: Path) -> None:
    records = copy.deepcopy(tiny_records())
    node = next(n for n in records["nodes.toml"]["nodes"] if n["id"] == "B")
    node["facility"] = {
        "servers": {"value": 1, "source": ["SRC1"]},
        "background_per_day": {"value": 2, "source": ["SRC1"]},
    }
    write_network(tmp_path / "net", records)
    with pytest.raises(corridors.DataError, match="background traffic needs something to use"):
        corridors.load_network(tmp_path / "net")


def test_the_lake_van_ferry_carries_the_lake_s_other_freight(loaded_scenario: Any) -> None:
    """The bundled Van piers: about the published 15,471 wagons a year (10.6 container-flat
    lengths a day each way)."""
    rep = run_replication(loaded_scenario("baseline"), seed=1, replication=0)
    days = rep.horizon_h / 24
    for pier in ("TR_VAN", "TR_TATVAN"):
        assert 0.8 * 10.6 * days < rep.background[pier] < 1.2 * 10.6 * days


def test_a_whatif_that_moves_nothing_says_what_binds(loaded_scenario: Any) -> None:
    import dataclasses

    from sim.compare import compare

    base = loaded_scenario("baseline")
    net = base.network
    altynkol = net.nodes["KZ_ALTYNKOL"]
    assert altynkol.facility is not None
    squeezed = dataclasses.replace(altynkol, facility=dataclasses.replace(altynkol.facility, servers=2))
    fewer = dataclasses.replace(
        base, name="altynkol-two-servers", network=dataclasses.replace(net, nodes={**net.nodes, altynkol.id: squeezed})
    )
    report, _ = compare(base, [loaded_scenario("lake-van-ferry-doubled"), fewer], replications=2)
    van, cut = report["whatifs"]
    assert len(van["unchanged"]) == 1 and van["unchanged"][0].startswith("TR_VAN: ")
    assert "full max wait (24 h)" in van["unchanged"][0]
    assert cut["unchanged"] == []  # half the servers at Altynkol hold its services


def test_unchanged_reasons_name_a_node_nothing_passes(loaded_scenario: Any) -> None:
    import dataclasses

    from sim.binding import unchanged_reasons
    from sim.runner import simulate

    base = loaded_scenario("baseline")
    net = base.network
    idle = next(
        n for n in net.nodes.values() if n.facility is not None and all(n.id not in s.node_ids for s in base.services)
    )
    assert idle.facility is not None
    changed = dataclasses.replace(idle, facility=dataclasses.replace(idle.facility, servers=idle.facility.servers + 1))
    other = dataclasses.replace(base, network=dataclasses.replace(net, nodes={**net.nodes, idle.id: changed}))
    a, b = simulate(base, replications=1), simulate(other, replications=1)
    assert unchanged_reasons(a, b, {}) == [f"{idle.id}: no service of baseline passes it."]


def test_the_report_shows_the_freight_a_run_shares_its_places_with(baseline_run: Any) -> None:
    """report.html lists each place on the services' routes that other freight uses: the rate the
    data give, what the first replication carried, the corridors that share it, the sources."""
    import re

    from maps.report import _shared_facilities

    html = _shared_facilities(baseline_run)
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr><td>([A-Z_]+)</td>.*?</tr>", html)}
    assert set(rows) == {"IR_INCHEH_BORUN", "TR_VAN", "TR_TATVAN", "KZ_AKTAU", "AZ_ALAT"}
    assert "25 wagons in blocks of 28" in rows["KZ_AKTAU"] and "BANKERAZ_ASCO_FERRIES" in rows["AZ_ALAT"]
    assert "10.6 wagons in blocks of 12" in rows["TR_VAN"] and "southern" in rows["TR_VAN"]
    assert "AA_VAN_FERRY_2025" in rows["TR_VAN"] and "<td>1 train</td>" in rows["IR_INCHEH_BORUN"]
    rep = baseline_run.replications[0]
    carried = rep.background["TR_VAN"] / (rep.horizon_h / 168)
    assert f"{carried:,.1f} wagons" in rows["TR_VAN"]


def test_compare_shows_the_wagon_pools_of_base_and_what_if(loaded_scenario: Any) -> None:
    """compare.json carries both runs' rolling stock (summary.json's schema) and compare.html
    shows the pools side by side: with no transit through Russia, Altynkol's pool runs low."""
    from maps.report import compare_report
    from sim.compare import compare

    report, runs = compare(loaded_scenario("baseline"), [loaded_scenario("no-russia-transit")], replications=1)
    rolling = report["whatifs"][0]["rolling_stock"]
    assert set(rolling) == {"base", "whatif"} and "KZ_ALTYNKOL/1520" in rolling["whatif"]["pools"]
    low_base = rolling["base"]["pools"]["KZ_ALTYNKOL/1520"]["lowest_wagons"]
    low_whatif = rolling["whatif"]["pools"]["KZ_ALTYNKOL/1520"]["lowest_wagons"]
    assert low_whatif < low_base
    page = compare_report(report, runs)
    assert "<h3>Rolling stock</h3>" in page and f"<td>{low_whatif:,}</td>" in page
