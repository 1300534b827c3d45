"""What a trial of the simulation by a new user turned up, kept fixed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import sim
from corridors import DataError, InputError
from corridors.cli import main
from sim.engine import run_replication
from sim.scenario import load_scenario
from tests.test_engine import _date, exact_network, write_scenario


def scenario_error(
    tmp_path: Path, extra: dict[str, Any] | None = None, network: dict[str, Any] | None = None, **service: Any
) -> str:
    path = write_scenario(tmp_path, network or exact_network(), extra, **service)
    with pytest.raises(DataError) as info:
        load_scenario(path)
    return str(info.value)


def test_a_scenario_name_cannot_walk_out_of_the_output_folder(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, exact_network())
    path.write_text(path.read_text().replace('name = "test"', 'name = "../../escape"'))
    with pytest.raises(DataError, match="it names files and folders"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("service", "extra", "needle"),
    [
        (
            {"headway_h": {"value": 12, "source": "SRC1"}, "trains_per_week": None, "weekdays": ["mon"]},
            None,
            'weekdays = ["mon"]: goes with trains_per_week',
        ),
        ({"start_date": _date("2026-03-01"), "end_date": _date("2026-04-01")}, None, "must lie within the scenario's"),
        (
            {"wagons": {"value": 500, "source": "SRC1"}, "teu": {"value": 1.5, "source": "SRC1"}},
            None,
            "does not fit on 500 wagons",
        ),
        (
            {},
            {
                "weather": [
                    {
                        "node": "C",
                        "months": [1],
                        "stoppages_per_month": {"value": 1, "source": "SRC1"},
                        "stoppage_h": {"min": 1, "max": 2, "source": "SRC1"},
                    }
                ]
            },
            "is not a port or ferry terminal",
        ),
        (
            {},
            {"capacity_cuts": [{"node": "C", "start": _date("2025-01-01"), "end": _date("2025-01-02"), "factor": 0.5}]},
            "has no servers or trains/day cap to cut",
        ),
        (
            {},
            {"closures": [{"node": "B", "start": _date("2030-01-01"), "end": _date("2030-02-01")}]},
            "lies outside the simulated time",
        ),
        (
            {},
            {"closures": [{"node": "B", "strat": _date("2025-01-01"), "end": _date("2025-01-02")}]},
            "the record has 'strat': a typo of 'start'?",
        ),
        (
            {},
            {"closures": [{"node": "B", "start": _date("2025-01-05"), "end": _date("2025-01-02")}]},
            'end = "2025-01-02": must be after start (2025-01-05)',
        ),
    ],
)
def test_scenario_mistakes_are_refused(
    tmp_path: Path, service: dict[str, Any], extra: dict[str, Any] | None, needle: str
) -> None:
    assert needle in scenario_error(tmp_path, extra, **service)


def test_bundled_names_work_in_the_api_and_folders_are_refused(tmp_path: Path) -> None:
    assert sim.load_scenario("baseline").name == "baseline"
    with pytest.raises(DataError, match="is a folder, not a scenario file"):
        sim.load_scenario(tmp_path)
    with pytest.raises(InputError, match="workers"):
        sim.simulate(sim.load_scenario(write_scenario(tmp_path, exact_network())), workers=0)


def test_nothing_is_logged_past_the_horizon_and_stuck_trains_say_where(tmp_path: Path) -> None:
    extra = {"closures": [{"node": "B", "start": dt.datetime(2025, 1, 1), "end": dt.datetime(2027, 1, 1)}]}
    scenario = load_scenario(write_scenario(tmp_path, exact_network(), extra))
    rep = run_replication(scenario, seed=1, replication=0)
    assert max(e.time_h for e in rep.events) <= scenario.horizon_h
    assert {e.event for e in rep.events if e.place == "B"} == {"arrive"}
    stuck = rep.trains[0]
    assert stuck.status == "in_system" and stuck.last_place == "B" and stuck.moving_h is None


def test_departure_spread_stays_in_the_service_window(tmp_path: Path) -> None:
    scenario = load_scenario(
        write_scenario(tmp_path, exact_network(), departure_spread_h={"value": 48, "source": "SRC1"})
    )
    rep = run_replication(scenario, seed=2, replication=0)
    assert max(e.time_h for e in rep.events if e.event == "depart") < 24


def test_throughput_is_over_the_service_window(tmp_path: Path) -> None:
    path = write_scenario(
        tmp_path,
        exact_network(),
        trains_per_week={"value": 7, "source": "SRC1"},
        start_date=_date("2025-01-01"),
        end_date=_date("2025-01-02"),
    )
    path.write_text(path.read_text().replace("end_date = 2025-01-02\ndrain_d", "end_date = 2025-03-01\ndrain_d"))
    result = sim.simulate(load_scenario(path), replications=1, seed=1)
    assert result.summary.services["abc"].throughput.trains_per_week == 7.0


def test_a_closed_pass_through_shows_as_a_hold(tmp_path: Path) -> None:
    r = exact_network()
    r["nodes.toml"]["nodes"][1].pop("facility")
    extra = {"closures": [{"node": "B", "start": dt.datetime(2025, 1, 1), "end": dt.datetime(2025, 1, 2)}]}
    result = sim.simulate(load_scenario(write_scenario(tmp_path, r, extra)), replications=1, seed=1)
    b = result.summary.nodes["B"]
    assert b.wait_h is None and b.hold_h is not None and b.hold_h.max == 14.0 and b.stay_h_mean > 0


def test_days_at_sea_are_not_given_to_countries(baseline_run: sim.RunResult) -> None:
    by_country = baseline_run.summary.where_days_go["sea-suez-chengdu-rotterdam"].by_country_h
    assert by_country["at sea"] > 24 * 25 and by_country.get("YE", 0) < 24


def write_targets(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(body)
    return path


TARGET = """[[targets]]
id = "{id}"
what = "x"
kind = "end_to_end"
measure = "segment"
services = ["northern-chengdu-lodz"]
from = {{ place = "{a}", event = "arrive" }}
to = {{ place = "{b}", event = "arrive" }}
range_d = {range}
source = ["ESTIMATE"]
"""


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (TARGET.format(id="T", a="CN_ALASHANKOU", b="PL_MALASZEWICZE", range="[-3, 14]"), "0 <= low <= high"),
        (
            TARGET.format(id="T", a="PL_MALASZEWICZE", b="CN_ALASHANKOU", range="[1, 14]"),
            "comes before PL_MALASZEWICZE",
        ),
        (TARGET.format(id="T", a="TR_VAN", b="PL_LODZ", range="[1, 14]"), 'from.place = "TR_VAN": is not on the route'),
        (TARGET.format(id="T", a="CN_ALASHANKOU", b="PL_LODZ", range="[1, 14]") * 2, 'id = "T": duplicate'),
    ],
)
def test_target_mistakes_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, needle: str
) -> None:
    assert main(["validate", "--targets", str(write_targets(tmp_path, body)), "-r", "1"]) == 1
    assert needle in capsys.readouterr().err


def test_default_targets_leave_out_rows_for_services_a_scenario_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = sim.scenario.bundled_scenario()
    text = baseline.read_text()
    cut = text.index('[[services]]\nname = "northern-xian-duisburg"')
    mine = tmp_path / "mine.toml"
    mine.write_text(text[:cut].replace('name = "baseline"', 'name = "mine"'))
    code = main(["validate", str(mine), "-r", "1", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and "V02" in data["skipped"] and [r["id"] for r in data["rows"]][:1] == ["V01"]


def test_simulate_takes_a_network_folder(tmp_path: Path, short_baseline: Path) -> None:
    from corridors import bundled_data_dir

    network = bundled_data_dir() / "network"
    argv = ["simulate", str(short_baseline), "-r", "1", "--network", str(network), "--out", str(tmp_path / "o")]
    assert main(argv) == 0
    assert (tmp_path / "o" / "summary.json").is_file()
