"""The parameter space: every listed path set through the sweep's machinery, ranges kept where
the values may go, the command's table and JSON, and its error path."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from types import MappingProxyType

import pytest

import corridors
import sim
from corridors.cli import main
from sim.limits import run_size
from sim.params import ESTIMATE_FACTOR, PARTLY_SOURCED_FACTOR, Parameter, apply, parameter_space
from sim.sweep import base_value, parse_param

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _set(scenario: sim.Scenario, p: Parameter) -> float:
    """What ``p`` is in ``scenario`` as the sweep reads it; for a duration, its mean in hours."""
    kind, ident, field = parse_param(p.path)
    if p.scales:
        place = scenario.network.nodes[ident].facility if kind == "node" else scenario.network.legs[ident]
        return float(getattr(place, field).mean_h)
    got = base_value(scenario, kind, ident, field)
    assert got is not None
    return got


def test_every_parameter_round_trips_at_both_ends_of_its_range(baseline_scenario: sim.Scenario) -> None:
    """Setting low or high gives a scenario that runs (its size can be counted) and holds that
    value (a duration: its mean times the factor); the sweep parses every path."""
    params = parameter_space(baseline_scenario)
    assert len(params) == len({p.path for p in params}) > 200
    for p in params:
        assert parse_param(p.path)
        assert p.low <= p.value <= p.high, p
        assert base_value(baseline_scenario, *parse_param(p.path)) == p.value
        before = _set(baseline_scenario, p)
        for end in (p.low, p.high):
            changed = apply(baseline_scenario, {p.path: end})
            assert run_size(changed).visits > 0
            want = before * end if p.scales else end
            assert _set(changed, p) == pytest.approx(want, rel=1e-9), (p.path, end)


@pytest.mark.parametrize("end", ["low", "high"])
def test_every_estimate_at_one_end_at_once_runs(baseline_scenario: sim.Scenario, end: str) -> None:
    """All the estimates set together (as a sensitivity sample sets them) make a scenario the engine runs."""
    from sim.runner import run_replication

    values = {p.path: getattr(p, end) for p in parameter_space(baseline_scenario, estimates_only=True)}
    rep = run_replication(apply(baseline_scenario, values), seed=1, replication=0)
    assert len(rep.visits) > 0


def test_counts_stay_whole_and_probabilities_within_0_and_1(baseline_scenario: sim.Scenario) -> None:
    params = parameter_space(baseline_scenario)
    counts = [p for p in params if p.integer]
    assert {p.path.rsplit(".", 1)[-1] for p in counts} >= {"servers", "vessels", "wagons", "vessel_capacity_wagons"}
    for p in counts:
        assert all(x == int(x) and x >= 1 for x in (p.value, p.low, p.high)), p
    servers = next(p for p in counts if p.path == "node.KZ_ALTYNKOL.servers")
    changed = apply(baseline_scenario, {servers.path: 5.4, "pool.KZ_DOSTYK-1520.wagons": 9000.6})
    facility = changed.network.nodes["KZ_ALTYNKOL"].facility
    assert facility is not None and facility.servers == 5 and isinstance(facility.servers, int)
    assert next(p.wagons for p in changed.wagon_pools if p.key == "KZ_DOSTYK/1520") == 9001
    shares = [p for p in params if p.unit in ("probability", "share of time")]
    assert shares and all(0 <= p.low <= p.high <= 1 for p in shares)


def test_estimates_only_lists_the_estimates_each_with_a_range(baseline_scenario: sim.Scenario) -> None:
    every = parameter_space(baseline_scenario)
    estimates = parameter_space(baseline_scenario, estimates_only=True)
    assert estimates == [p for p in every if p.estimate] and 0 < len(estimates) < len(every)
    assert all("ESTIMATE" in p.sources for p in estimates)
    assert all(p.low < p.high for p in estimates), [p.path for p in estimates if p.low >= p.high]
    published = [p for p in every if not p.estimate and "without a range" in p.note]
    assert published and all(p.low == p.value == p.high for p in published)
    tehran = next(p for p in estimates if p.path == "node.IR_TEHRAN.hold_probability")
    assert (tehran.value, tehran.low, tehran.high, tehran.note) == (0.25, 0.05, 0.75, "the data's min-max")


def test_the_default_rules_where_the_data_give_no_range(baseline_scenario: sim.Scenario) -> None:
    """Without the data's min and max, an estimate takes 1/2-2x, a partly sourced value 2/3-1.5x;
    a duration's factor takes the rule whatever its min and max (its spread, not a range)."""
    node = baseline_scenario.network.nodes["KZ_ALTYNKOL"]
    assert node.facility is not None
    bare = dataclasses.replace(node, facility=dataclasses.replace(node.facility, ranges=MappingProxyType({})))
    nodes = {**baseline_scenario.network.nodes, "KZ_ALTYNKOL": bare}
    scenario = dataclasses.replace(
        baseline_scenario, network=dataclasses.replace(baseline_scenario.network, nodes=MappingProxyType(nodes))
    )
    by_path = {p.path: p for p in parameter_space(scenario)}
    servers, fee_free = by_path["node.KZ_ALTYNKOL.servers"], by_path["node.KZ_ALTYNKOL.process_h"]
    assert (servers.low, servers.high) == (4 / ESTIMATE_FACTOR, 4 * ESTIMATE_FACTOR)
    assert "estimate without a range" in servers.note
    assert fee_free.unit == "factor" and fee_free.value == 1.0
    assert (fee_free.low, fee_free.high) == (round(1 / PARTLY_SOURCED_FACTOR, 6), PARTLY_SOURCED_FACTOR)
    assert by_path["node.KZ_ALTYNKOL.trains_per_day"].low == by_path["node.KZ_ALTYNKOL.trains_per_day"].high == 10


def test_a_leg_factor_is_kept_to_its_modes_speeds(baseline_scenario: sim.Scenario) -> None:
    """No range asks the sweep for a transit the loader would refuse as too fast or too slow."""
    for p in parameter_space(baseline_scenario):
        if p.path.startswith("leg.") and p.scales:
            leg = baseline_scenario.network.legs[parse_param(p.path)[1]]
            low, high = corridors.loader.SPEED_KPH[leg.mode]
            for factor in (p.low, p.high):
                assert low <= leg.distance_km / (leg.transit_h.mean_h * factor) <= high + 1e-6, p.path


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"node.KZ_ALTYNKOL.servers": math.nan}, "is not a finite number"),
        ({"node.KZ_ALTYNKOL.trains_per_day": -1.0}, "must be above 0"),
        ({"node.IR_TEHRAN.hold_probability": 1.5}, r"must be within \[0, 1\]"),
        ({"node.KZ_ALTYNKOL.colour": 1.0}, "a node field is one of"),
        ({"pool.KZ_NOWHERE-1520.wagons": 10.0}, "no such wagon pool"),
        ({"weather.KZ_KURYK.closed_share": 0.99}, "must be within"),
    ],
)
def test_apply_refuses_a_bad_value_naming_it(
    baseline_scenario: sim.Scenario, values: dict[str, float], message: str
) -> None:
    with pytest.raises(corridors.CorridorsError, match=message):
        apply(baseline_scenario, values)


def test_apply_sets_several_at_once_and_leaves_the_rest(baseline_scenario: sim.Scenario) -> None:
    changed = apply(
        baseline_scenario,
        {
            "weather.KZ_KURYK.closed_share": 0.4,
            "service.northern-chengdu-lodz.wagons": 45,
            "leg.S03.transit_h": 2.0,
        },
    )
    assert [w.closed_share for w in changed.weather if w.node == "KZ_KURYK"] == [0.4]
    assert next(s.wagons for s in changed.services if s.name == "northern-chengdu-lodz") == 45
    assert changed.network.legs["S03"].transit_h == baseline_scenario.network.legs["S03"].transit_h.scaled(2.0)
    assert changed.network.legs["S04"] == baseline_scenario.network.legs["S04"]
    assert apply(baseline_scenario, {}) is baseline_scenario


def test_params_json_is_valid_and_complete(capsys: pytest.CaptureFixture[str], baseline_scenario: sim.Scenario) -> None:
    assert main(["params", "--estimates", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1 and data["scenario"] == "baseline" and data["estimates_only"] is True
    want = parameter_space(baseline_scenario, estimates_only=True)
    assert [p["path"] for p in data["parameters"]] == [p.path for p in want]
    first = data["parameters"][0]
    assert set(first) == {"path", "value", "low", "high", "unit", "estimate", "sources", "note"}
    assert all(p["estimate"] for p in data["parameters"])


def test_params_table_says_what_the_readme_shows(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's sample lines are lines the command prints (its `…` stands for the rows left out)."""
    block = re.search(r"```console\n\$ corridors params --estimates\n(.*?)```", README, re.S)
    assert block
    assert main(["params", "--estimates"]) == 0
    out = capsys.readouterr().out.splitlines()
    shown = [line for line in block.group(1).splitlines() if line.strip() != "…"]
    assert shown and all(line in out for line in shown), [line for line in shown if line not in out]


def test_params_error_is_one_paragraph(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params", "no-such-scenario"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no such scenario file" in captured.err and "Traceback" not in captured.err
    assert captured.err.count("\n") == 1
