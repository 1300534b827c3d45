"""What-if scenarios: a base and its changes, overrides, bans and rerouting, and comparisons."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sim
from corridors import DataError
from corridors.cli import main
from sim.scenario import bundled_scenario

WHATIFS = [
    "red-sea-closure",
    "pl-by-border-closure",
    "caspian-winter-storms",
    "altynkol-doubled",
    "middle-corridor-digitised",
    "lake-van-ferry-out",
    "no-russia-transit",
    "southern-demand-x10",
    "malaszewicze-yard-full",
]


@pytest.mark.parametrize("name", WHATIFS)
def test_bundled_whatifs_load_with_a_description(name: str, loaded_scenario: Callable[[str], sim.Scenario]) -> None:
    scenario = loaded_scenario(name)
    assert scenario.base == "baseline" and scenario.description
    assert "#" in bundled_scenario(name).read_text().splitlines()[0]  # the facts behind it come first


def test_overrides_change_the_network(loaded_scenario: Callable[[str], sim.Scenario]) -> None:
    base, doubled = loaded_scenario("baseline"), loaded_scenario("altynkol-doubled")
    a, b = base.network.nodes["KZ_ALTYNKOL"].facility, doubled.network.nodes["KZ_ALTYNKOL"].facility
    assert a is not None and b is not None
    assert (b.servers, b.trains_per_day) == (2 * a.servers, 2 * (a.trains_per_day or 0))
    digitised = loaded_scenario("middle-corridor-digitised").network.nodes["KZ_AKTAU"].facility
    assert digitised is not None and digitised.process_h is not None
    assert digitised.process_h.mode_h == pytest.approx(base.network.nodes["KZ_AKTAU"].facility.process_h.mode_h / 2)  # type: ignore[union-attr]


def test_a_whatif_inherits_and_replaces_services(loaded_scenario: Callable[[str], sim.Scenario]) -> None:
    base, more = loaded_scenario("baseline"), loaded_scenario("southern-demand-x10")
    assert [s.name for s in more.services] == [s.name for s in base.services]
    south = {s.name: s for s in more.services}["southern-chengdu-lodz"]
    assert len(south.departures_h) == pytest.approx(
        10 * len({s.name: s for s in base.services}["southern-chengdu-lodz"].departures_h), rel=0.1
    )
    assert more.start == base.start and more.horizon_h == base.horizon_h


def test_no_russia_reroutes_every_northern_service_and_says_why(
    loaded_scenario: Callable[[str], sim.Scenario],
) -> None:
    scenario = loaded_scenario("no-russia-transit")
    for service in scenario.services:
        if service.name.startswith("northern"):
            assert service.rerouted_from and "RU" in service.reroute_reason
            assert not {"KZRU_BORDER", "RUBY_BORDER"} & set(service.node_ids)


def test_red_sea_closure_sends_ships_round_the_cape(loaded_scenario: Callable[[str], sim.Scenario]) -> None:
    moved = {s.name: s for s in loaded_scenario("red-sea-closure").services}["sea-suez-chengdu-rotterdam"]
    assert moved.node_ids == ("CN_CHENGDU", "CN_SHANGHAI", "ZA_CAPE", "NL_ROTTERDAM")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[scenario]\nname = "x"\nbase = "nothing-like-it"\n', 'base = "nothing-like-it": no such scenario'),
        (
            '[scenario]\nname = "x"\nbase = "baseline"\n[[overrides]]\nnode = "ZZ"\nfield = "servers"\nfactor = 2\n',
            'override #1 (node ZZ, servers): node = "ZZ": is not a node',
        ),
        (
            '[scenario]\nname = "x"\nbase = "baseline"\n[[overrides]]\nnode = "KZ_ALTYNKOL"\n'
            'field = "speed"\nfactor = 2\n',
            'field = "speed": must be one of',
        ),
        (
            '[scenario]\nname = "x"\nbase = "baseline"\n[[overrides]]\nnode = "KZ_ALTYNKOL"\nfield = "servers"\n'
            "value = 9\n",
            "source = (missing)",
        ),
        (
            '[scenario]\nname = "x"\nbase = "baseline"\n[[overrides]]\nnode = "KZ_ALTYNKOL"\nfield = "trains_per_day"\n'
            'value = -3\nsource = ["ESTIMATE"]\n',
            "value = -3: must be greater than 0",
        ),
        (
            '[scenario]\nname = "x"\nbase = "baseline"\n[bans]\ncountries = ["RU", "KZ"]\n',
            "service northern-chengdu-lodz: route",
        ),
        (
            '[scenario]\nname = "x"\nbase = "baseline"\n[bans]\ncountries = ["XX"]\n',
            'countries = "XX": is not a country',
        ),
    ],
)
def test_bad_whatifs_are_named(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(DataError) as info:
        sim.load_scenario(write(tmp_path, "x", text))
    assert needle in str(info.value) and "x.toml" in str(info.value)


def test_a_cycle_of_bases_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a", '[scenario]\nname = "a"\nbase = "b.toml"\n')
    write(tmp_path, "b", '[scenario]\nname = "b"\nbase = "a.toml"\n')
    with pytest.raises(DataError, match="makes a cycle"):
        sim.load_scenario(tmp_path / "a.toml")


def test_compare_red_sea_with_common_random_numbers(red_sea_compare: tuple[Path, dict[str, Any]]) -> None:
    out, data = red_sea_compare
    row = data["whatifs"][0]["services"]["sea-suez-chengdu-rotterdam"]
    delta = row["delta"]["transit_d_mean"]
    assert 7 <= delta["value"] <= 14 and delta["ci95"][0] > 0
    assert row["rerouted"]["to"][2] == "ZA_CAPE"
    untouched = data["whatifs"][0]["services"]["northern-chengdu-lodz"]["delta"]["transit_d_mean"]
    assert untouched["value"] == 0 and untouched["ci95"] == [0, 0]  # the same random numbers
    assert json.loads((out / "compare.json").read_text())["base"] == "baseline"


def test_compare_writes_a_report_that_needs_no_network(red_sea_compare: tuple[Path, dict[str, Any]]) -> None:
    from maps.offline import external_references, without_vendored

    page = (red_sea_compare[0] / "compare.html").read_text(encoding="utf-8")
    assert "red-sea-closure" in page and "<svg" in page and "Route map of the base" in page
    assert len(page.encode("utf-8")) < 3e6  # two maps sharing one copy of the map library
    assert external_references(without_vendored(page)) == []  # the report and its maps, libraries aside


def test_sweep_over_a_service_frequency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], short_baseline: Path
) -> None:
    """Over the baseline's first month (each value is a run)."""
    out = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                str(short_baseline),
                "--param",
                "service.southern-chengdu-lodz.trains_per_week",
                "--values",
                "0.25,1,2",
                "-r",
                "1",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["base_value"] == pytest.approx(0.038, abs=0.001) and data["scales"] is False
    weekly = [r["services"]["southern-chengdu-lodz"]["trains_per_week"] for r in data["rows"]]
    assert weekly == sorted(weekly) and weekly[-1] > 1.5
    page = (out / "sweep.html").read_text()
    assert "<svg" in page and "southern-chengdu-lodz" in page


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--param", "node.KZ_ALTYNKOL", "--values", "1"], "write node.ID.FIELD"),
        (["--param", "node.KZ_ALTYNKOL.speed", "--values", "1"], "a node field is one of"),
        (["--param", "node.KZ_ALTYNKOL.servers", "--values", "two"], "give numbers separated by commas"),
        (["--param", "node.ZZ.servers", "--values", "2"], 'node = "ZZ": is not a node'),
        (["--param", "service.nope.trains_per_week", "--values", "2"], "no such service"),
    ],
)
def test_sweep_mistakes(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    assert main(["sweep", "baseline", *argv, "-r", "1", "--out", str(tmp_path / "x")]) == 1
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_service_overrides_and_their_mistakes(tmp_path: Path, loaded_scenario: Callable[[str], sim.Scenario]) -> None:
    base = {s.name: s for s in loaded_scenario("baseline").services}
    more = {s.name: s for s in loaded_scenario("southern-demand-x10").services}
    assert len(more["southern-chengdu-lodz"].departures_h) == pytest.approx(
        10 * len(base["southern-chengdu-lodz"].departures_h), rel=0.1
    )
    text = (
        '[scenario]\nname = "x"\nbase = "baseline"\n[[overrides]]\nservice = "southern-chengdu-lodzz"\n'
        'field = "trains_per_week"\nfactor = 2\n'
    )
    with pytest.raises(DataError, match='service = "southern-chengdu-lodzz": is not a service'):
        sim.load_scenario(write(tmp_path, "x", text))


def test_rerouting_by_generalised_cost(tmp_path: Path) -> None:
    text = (
        '[scenario]\nname = "x"\nbase = "baseline"\n[bans]\ncountries = ["RU"]\n[rerouting]\n'
        'by = "generalised"\nvalue_of_time_usd_per_feu_day = { value = 100, source = ["ESTIMATE"] }\n'
        '[[services]]\nname = "other-via-alashankou"\norigin = "CN_XIAN"\ndestination = "KZ_DOSTYK"\n'
        'trains_per_week = { value = 43, source = ["ESTIMATE"] }\nwagons = { value = 51, source = ["ESTIMATE"] }\n'
        'teu = { value = 102, source = ["ESTIMATE"] }\n'
    )
    scenario = sim.load_scenario(write(tmp_path, "x", text))
    moved = {s.name: s for s in scenario.services}["northern-chengdu-lodz"]
    assert moved.rerouted_from and "KZRU_BORDER" not in moved.node_ids


def test_a_short_closure_detours_only_the_trains_that_would_meet_it(tmp_path: Path) -> None:
    text = (
        '[scenario]\nname = "x"\nbase = "baseline"\n[[closures]]\nnode = "KZ_AKTAU"\nstart = 2025-03-01\n'
        "end = 2025-04-12\n[rerouting]\nclosure_threshold_d = 7\n"
    )
    scenario = sim.load_scenario(write(tmp_path, "x", text))
    service = {s.name: s for s in scenario.services}["middle-btk-xian-budapest"]
    assert service.detour is not None and service.rerouted_from is None
    lo, hi, nodes, _ = service.detour
    assert 0 < lo < 24 * 59 < hi < 24 * 101 and "KZ_AKTAU" not in nodes
    rep = sim.run_replication(scenario, seed=1, replication=0)
    via_aktau = {e.train for e in rep.events if e.place == "KZ_AKTAU" and e.train.startswith("middle-btk")}
    departures = {e.train: e.time_h for e in rep.events if e.event == "depart" and e.train.startswith("middle-btk")}
    assert all(not lo <= departures[t] <= hi for t in via_aktau)  # in the window, nobody goes to Aktau
    assert len(via_aktau) > 0.7 * len(departures)  # out of it, they do


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ('node = "KZ_ALTYNKOL"\nfield = "vessels"\nvalue = 3\nsource = ["ESTIMATE"]', "has no vessels"),
        ('node = "KZ_ALTYNKOL"\nfield = "dispatch"\nvalue = "timetable"', "has no vessels"),
        ('node = "KZ_ALTYNKOL"\nfield = "servers"\nvalue = 1000000000\nsource = ["ESTIMATE"]', "must be within"),
    ],
)
def test_overrides_that_cannot_apply_are_refused(tmp_path: Path, override: str, needle: str) -> None:
    text = f'[scenario]\nname = "x"\nbase = "baseline"\n[[overrides]]\n{override}\n'
    with pytest.raises(DataError, match=needle):
        sim.load_scenario(write(tmp_path, "x", text))


def test_an_added_service_shows_in_the_comparison(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], short_baseline: Path
) -> None:
    """A what-if of the baseline's first month that adds a service."""
    text = (
        f'[scenario]\nname = "more"\nbase = "{short_baseline.as_posix()}"\n[[services]]\nname = "new-xian-tbilisi"\n'
        'origin = "CN_XIAN"\ndestination = "GE_TBILISI"\ntrains_per_week = { value = 2, source = ["ESTIMATE"] }\n'
        'wagons = { value = 51, source = ["ESTIMATE"] }\nteu = { value = 102, source = ["ESTIMATE"] }\n'
    )
    path = write(tmp_path, "more", text)
    assert main(["compare", str(short_baseline), str(path), "-r", "1", "--out", str(tmp_path / "c")]) == 0
    assert "new-xian-tbilisi (added)" in capsys.readouterr().out


def test_a_service_the_whatif_redefines_is_flagged_not_judged(tmp_path: Path) -> None:
    from sim.compare import change_note, compare
    from tests.test_engine import exact_network, write_scenario

    base_path = write_scenario(tmp_path, exact_network())
    whatif = tmp_path / "shorter.toml"
    whatif.write_text(
        '[scenario]\nname = "shorter"\nbase = "scenario.toml"\n'
        '[[services]]\nname = "abc"\norigin = "A"\ndestination = "B"\n'
        'trains_per_week = { value = 168, source = "SRC1" }\n'
        'wagons = { value = 40, source = "SRC1" }\nteu = { value = 80, source = "SRC1" }\n'
    )
    report, runs = compare(sim.load_scenario(base_path), [sim.load_scenario(whatif)], replications=2)
    row = report["whatifs"][0]["services"]["abc"]
    assert row["rerouted"] is None
    assert row["redefined"] == {"what": ["route"], "from": ["A", "B", "C"], "to": ["A", "B"]}
    assert row["delta"]["transit_d_mean"]["value"] < 0  # shorter, but not better: it goes elsewhere
    assert change_note(row) == (
        "given another route by the what-if: now A to B, was A to C; not a like-for-like difference"
    )
    from maps.report import compare_report

    page = compare_report(report, runs)
    assert "in system</th>" in page and "given another route by the what-if: now A to B" in page
    assert "class='good'" not in page.split("Route maps")[0]  # a redefined service is not an improvement
    untouched = compare(sim.load_scenario(base_path), [sim.load_scenario(base_path)], replications=1)[0]
    assert untouched["whatifs"][0]["services"]["abc"]["redefined"] is None


def test_more_trains_are_the_change_not_a_redefinition(tmp_path: Path) -> None:
    from sim.compare import compare
    from tests.test_engine import exact_network, write_scenario

    base_path = write_scenario(tmp_path, exact_network())
    more = tmp_path / "more.toml"
    more.write_text(
        '[scenario]\nname = "more"\nbase = "scenario.toml"\n'
        '[[overrides]]\nservice = "abc"\nfield = "trains_per_week"\nfactor = 2\n'
    )
    report, _ = compare(sim.load_scenario(base_path), [sim.load_scenario(more)], replications=1)
    row = report["whatifs"][0]["services"]["abc"]
    assert row["redefined"] is None and row["delta"]["trains_per_week"] > 0
