"""Scenarios are parsed into a typed spec, then compiled on a network; reroutes say why as an enum."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

import sim
from corridors import DataError
from corridors.routing import DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY, route
from sim.compile import compile_scenario
from sim.model import RerouteReason
from sim.spec import BanSpec, ReroutingSpec, ScenarioSpec, parse_scenario
from sim.whatif import reroute

ROOT = Path(__file__).resolve().parents[1]


def test_a_whatif_parses_into_a_frozen_spec_with_its_base() -> None:
    spec = parse_scenario("no-russia-transit")
    assert isinstance(spec, ScenarioSpec) and spec.name == "no-russia-transit"
    assert spec.base is not None and spec.base.name == "baseline" and spec.base.base is None
    assert spec.services is not None and [s.name for s in spec.services] == ["other-via-alashankou"]
    assert parse_scenario("red-sea-closure").services is None  # it keeps the base's
    assert isinstance(spec.bans, BanSpec) and "RU" in spec.bans.countries and spec.bans.where.label == "[bans]"
    assert spec.start_date is None and spec.base.start_date is not None  # the base's dates, merged by compile
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]


def test_rerouting_defaults_to_the_one_value_of_time() -> None:
    spec = parse_scenario("red-sea-closure")
    assert spec.rerouting is not None and spec.rerouting.closure_threshold_d == 7
    assert ReroutingSpec().value_of_time_usd_per_feu_day == DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY
    for function in (reroute, route):
        default = inspect.signature(function).parameters["value_of_time_usd_per_feu_day"].default
        assert default == DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY


def test_the_value_of_time_is_written_once() -> None:
    """The code names the constant; the README and docs say its value."""
    for package in ("corridors", "sim", "maps"):
        for path in (ROOT / package).rglob("*.py"):
            for line in path.read_text(encoding="utf-8").splitlines():
                if re.search(r"\b100(\.0)?\b", line) and re.search(r"value.of.time|USD.FEU a day", line, re.I):
                    assert "DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY =" in line, f"{path.name}: {line.strip()}"
    assert f"at {DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY:g} USD per FEU a day" in (ROOT / "README.md").read_text()


def test_load_is_parse_then_compile() -> None:
    loaded = sim.load_scenario("pl-by-border-closure")
    compiled = compile_scenario(parse_scenario("pl-by-border-closure"))
    assert compiled.services == loaded.services and compiled.closures == loaded.closures
    assert compiled.overrides == loaded.overrides and compiled.horizon_h == loaded.horizon_h


def test_reroutes_say_why_as_an_enum() -> None:
    banned = sim.load_scenario("no-russia-transit")
    assert {s.name: s.rerouted_by for s in banned.services if s.rerouted_by} == {
        name: RerouteReason.BAN
        for name in (
            "northern-chengdu-lodz",
            "northern-xian-duisburg",
            "northern-chongqing-duisburg",
            "northern-chengdu-hamburg",
            "northern-duisburg-xian-east",
        )
    }
    closed = {s.name: s for s in sim.load_scenario("red-sea-closure").services}
    suez = closed["sea-suez-chengdu-rotterdam"]
    assert suez.rerouted_by is RerouteReason.CLOSURE and suez.rerouted_from and suez.detour is None
    untouched = [s for s in closed.values() if s.name != suez.name]
    assert all(s.rerouted_by is None and not s.reroute_reason for s in untouched)


def test_a_short_closure_on_part_of_the_window_gives_a_closure_detour() -> None:
    scenario = sim.load_scenario("pl-by-border-closure")
    detours = [s for s in scenario.services if s.detour is not None]
    for s in detours:
        assert s.rerouted_by is RerouteReason.CLOSURE and s.rerouted_from is None
    assert all(s.rerouted_by is None for s in scenario.services if s.detour is None and not s.rerouted_from)


def test_the_spec_needs_no_network_and_compile_names_the_record(tmp_path: Path) -> None:
    """Ids and source keys are the network's business: the spec reads them, compiling refuses them."""
    path = tmp_path / "x.toml"
    path.write_text(
        '[scenario]\nname = "x"\nbase = "baseline"\n[bans]\ncountries = ["XX"]\n'
        '[[closures]]\nnode = "NO_SUCH_NODE"\nstart = 2025-03-01\nend = 2025-03-02\nsource = "NO_SUCH_SOURCE"\n'
    )
    spec = parse_scenario(path)
    assert spec.closures[0].node == "NO_SUCH_NODE" and spec.bans is not None and spec.bans.countries == ("XX",)
    with pytest.raises(DataError, match=r'closure #1: source = "NO_SUCH_SOURCE": is not a source key'):
        compile_scenario(spec)
    path.write_text(path.read_text().replace('source = "NO_SUCH_SOURCE"\n', ""))
    with pytest.raises(DataError, match=r'closure #1: node = "NO_SUCH_NODE": is not a node of the network'):
        sim.load_scenario(path)
    path.write_text(path.read_text().replace("NO_SUCH_NODE", "PL_MALASZEWICZE"))
    with pytest.raises(DataError, match=r'\[bans\]: bans.countries = "XX": is not a country of the network'):
        sim.load_scenario(path)


def test_a_cycle_of_bases_is_refused_while_parsing(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('[scenario]\nname = "a"\nbase = "b.toml"\n')
    (tmp_path / "b.toml").write_text('[scenario]\nname = "b"\nbase = "a.toml"\n')
    with pytest.raises(DataError, match=r"makes a cycle: a\.toml -> b\.toml -> a\.toml"):
        parse_scenario(tmp_path / "a.toml")


def test_an_eastbound_service_runs_its_corridor_backwards() -> None:
    scenario = sim.load_scenario("baseline")
    east = next(s for s in scenario.services if s.name == "northern-duisburg-xian-east")
    corridor = scenario.network.corridors["northern-xian-duisburg"]
    assert east.node_ids == corridor.node_ids[::-1] and east.leg_ids == corridor.leg_ids[::-1]
    assert east.corridor is None  # a corridor's figures are for its own direction


@pytest.mark.parametrize(
    ("service", "says"),
    [
        ('corridor = "northern"\nreverse = "yes"', 'reverse = "yes": must be true or false'),
        ('origin = "CN_XIAN"\ndestination = "PL_LODZ"\nreverse = true', "reverse = true: runs a corridor backwards"),
    ],
)
def test_reverse_is_checked(tmp_path: Path, service: str, says: str) -> None:
    path = tmp_path / "east.toml"
    path.write_text(
        '[scenario]\nname = "east"\nstart_date = 2025-01-01\nend_date = 2025-02-01\n'
        f'[[services]]\nname = "x"\n{service}\n'
        'trains_per_week = { value = 1, source = ["ESTIMATE"] }\n'
        'wagons = { value = 51, source = ["ESTIMATE"] }\nteu = { value = 102, source = ["ESTIMATE"] }\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as info:
        sim.load_scenario(path)
    assert says in str(info.value) and "service x" in str(info.value)
