"""Calibration: a fit whose answer is known, leave-one-target-out, the same fit on every backend,
resume, the overlay it writes (which validate reads), and bad input."""

from __future__ import annotations

import contextlib
import io
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import corridors
import sim
from corridors import InputError
from corridors.cli import main
from sim.calibrate import calibrate, overlay_toml, target_error
from sim.executor import DaskCluster, InProcess, LocalProcesses
from sim.sensitivity import RunLog
from tests.conftest import tiny_records
from tests.test_engine import write_scenario

# The tiny network (A -L1- B -L2- C, a train an hour) with L1's and L2's transit as estimates. L1's
# mean transit at the data's value is 12.6 h over these replications: T1 (A to B in 20-21 h) wants
# its factor near 1.6, which T2 (A to C in 60-70 h, 59.9 h at the data) then also takes.
TARGETS = """
[[targets]]
id = "T1"
what = "A to B"
kind = "end_to_end"
measure = "segment"
services = ["abc"]
from = { place = "A", event = "depart" }
to = { place = "B", event = "arrive" }
range_h = [20, 21]
source = ["SRC1"]

[[targets]]
id = "T2"
what = "A to C"
kind = "end_to_end"
measure = "transit"
services = ["abc"]
range_h = [60, 70]
source = ["SRC1"]

[[targets]]
id = "N1"
what = "a node row, never fitted"
kind = "node"
measure = "dwell"
nodes = ["B"]
range_h = [1, 2]
source = ["SRC1"]
"""
PARAMS = ["leg.L1.transit_h", "leg.L2.transit_h"]
OPTIONS: dict[str, Any] = {"replications": 2, "seed": 1, "budget": 30}


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = tiny_records()
    records["legs.toml"]["legs"][0]["transit_h"]["source"] = "ESTIMATE"
    path = write_scenario(tmp_path_factory.mktemp("cal"), records)
    path.write_text(path.read_text(encoding="utf-8").replace("drain_d = 5", "drain_d = 20"), encoding="utf-8")
    (path.parent / "targets.toml").write_text(TARGETS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def in_process(toy: Path) -> dict[str, Any]:
    targets = str(toy.parent / "targets.toml")
    return calibrate(sim.load_scenario(toy), PARAMS, targets=targets, executor=InProcess(), **OPTIONS)


def test_the_error_is_the_distance_outside_the_range_in_widths() -> None:
    assert target_error(25.0, 20.0, 30.0) == 0.0
    assert target_error(32.0, 20.0, 30.0) == pytest.approx(0.2)
    assert target_error(18.0, 20.0, 30.0) == pytest.approx(0.2)
    assert target_error(11.0, 10.0, 10.0) == pytest.approx(1.0)  # a single figure: a tenth of itself wide


def test_the_fit_lands_inside_the_range(in_process: dict[str, Any]) -> None:
    targets = {t["id"]: t for t in in_process["targets"]}
    assert in_process["targets_used"] == ["T1", "T2"] and "N1" not in targets  # node rows are not judged
    t1 = targets["T1"]
    assert t1["error"]["before"] > 3 and t1["error"]["in_sample"] == 0
    assert 20 <= t1["simulated_mean"]["in_sample"] <= 21
    params = {p["path"]: p for p in in_process["parameters"]}
    l1, l2 = params["leg.L1.transit_h"], params["leg.L2.transit_h"]
    assert 1.5 < l1["after"] < 1.7 and l1["fitted_to"] == ["T1", "T2"]
    assert l2["after"] == 1.0 and l2["fitted_to"] == ["T2"]  # T2 did not need it moved: back at the data's value
    assert in_process["objective"]["after"] < 0.01 < in_process["objective"]["before"]
    assert in_process["method"]["model_runs"] > 0
    json.dumps(in_process, allow_nan=False)


def test_leave_one_target_out_says_what_the_other_targets_say(in_process: dict[str, Any]) -> None:
    targets = {t["id"]: t for t in in_process["targets"]}
    # without T1 only T2 is fitted, and it was nearly met at the data: nothing tells L1 to go to 1.6
    assert targets["T1"]["error"]["leave_one_out"] > 3
    assert in_process["parameters"][0]["leave_one_out"]["T1"] < 1.1
    # without T2, T1 still puts L1 near 1.6, and T2 then passes: the other target predicts it
    assert targets["T2"]["error"]["leave_one_out"] == 0
    assert targets["T2"]["simulated_mean"]["leave_one_out"] > 60


def test_workers_do_not_change_the_fit(toy: Path, in_process: dict[str, Any]) -> None:
    targets = str(toy.parent / "targets.toml")
    two = calibrate(sim.load_scenario(toy), PARAMS, targets=targets, executor=LocalProcesses(2), **OPTIONS)
    assert two == in_process


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[DaskCluster]:
    cluster = DaskCluster("local", workers=2)
    try:
        yield cluster
    finally:
        cluster.close()


def test_a_dask_cluster_gives_the_same_fit(toy: Path, in_process: dict[str, Any], dask_cluster: DaskCluster) -> None:
    targets = str(toy.parent / "targets.toml")
    on_dask = calibrate(sim.load_scenario(toy), PARAMS, targets=targets, executor=dask_cluster, **OPTIONS)
    assert on_dask == in_process


class _Stop(Exception):
    pass


@pytest.mark.parametrize("stop_in", ["fit", "leave-one-target-out"])
def test_an_interrupted_fit_resumes_to_the_same_result(
    tmp_path: Path, toy: Path, in_process: dict[str, Any], stop_in: str
) -> None:
    scenario, targets = sim.load_scenario(toy), str(toy.parent / "targets.toml")
    log = RunLog(tmp_path / "out", {"test": 1})
    log.start()

    def stop_midway(message: str) -> None:
        if stop_in in message and getattr(message, "done", 0) == (10 if stop_in == "fit" else 1):
            raise _Stop

    with pytest.raises(_Stop):
        calibrate(
            scenario, PARAMS, targets=targets, executor=InProcess(), progress=stop_midway, on_run=log.save, **OPTIONS
        )
    assert log.kept() > 0
    ran: list[str] = []
    resumed = calibrate(
        scenario,
        PARAMS,
        targets=targets,
        executor=InProcess(),
        done=log.resume(),
        on_run=lambda stage, *_: ran.append(stage),
        **OPTIONS,
    )
    assert resumed == in_process
    assert ran.count("loo") == (2 if stop_in == "fit" else 1)


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_the_command_writes_an_overlay_that_validates(tmp_path: Path, toy: Path, in_process: dict[str, Any]) -> None:
    out, targets = tmp_path / "cal", str(toy.parent / "targets.toml")
    argv = ["calibrate", str(toy), *(a for p in PARAMS for a in ("--param", p)), "--targets", targets]
    code, printed, err = _cli([*argv, "-r", "2", "--budget", "30", "--workers", "1", "--out", str(out)])
    assert code == 0, err
    flat = " ".join(printed.split())
    assert "fitted to T1, T2" in flat and "marks them pass*" in flat
    data = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert data == in_process | {"targets_file": targets}
    overlay = tomllib.loads((out / "overlay.toml").read_text(encoding="utf-8"))
    assert (out / overlay["scenario"]["base"]).resolve() == toy.resolve()  # the scenario, from the overlay's folder
    l1 = overlay["overrides"][0]
    assert l1["leg"] == "L1" and l1["field"] == "transit_h" and l1["fitted_to"] == "T1, T2"
    assert l1["source"] == ["ESTIMATE"] and l1["factor"] == data["parameters"][0]["after"]
    assert sorted(p.name for p in out.iterdir()) == ["calibration.json", "overlay.toml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal"]  # no run log left beside it
    # validate reads the overlay: the rows it was fitted to check the fit, naming its parameters
    code, printed, err = _cli(["validate", str(out / "overlay.toml"), "--targets", targets, "-r", "2", "--json"])
    assert code == 0, err
    rows = {r["id"]: r for r in json.loads(printed)["rows"]}
    assert rows["T1"]["passed"] and rows["T1"]["fitted_parameters"] == ["L1 transit_h"]
    assert rows["T2"]["fitted_parameters"] == ["L1 transit_h", "L2 transit_h"]
    assert rows["N1"]["fitted_parameters"] == []


def _tree(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_the_bundled_baseline_calibrates_and_nothing_is_written_to_data(tmp_path: Path) -> None:
    data_dir = corridors.bundled_data_dir()
    before = _tree(data_dir)
    out = tmp_path / "cal"
    argv = ["calibrate", "--param", "node.kzru_border.process_h", "-r", "1", "--workers", "1", "--out", str(out)]
    code, _, err = _cli(argv)
    assert code == 0, err
    data = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert data["targets_used"] == ["V01", "V02", "V04"]  # the northern rows: its trains pass that border
    assert all(t["error"]["leave_one_out"] is not None for t in data["targets"] if t["used"])
    overlay = (out / "overlay.toml").read_text(encoding="utf-8")
    assert 'base = "baseline"' in overlay and 'fitted_to = "V01, V02, V04"' in overlay
    assert _tree(data_dir) == before


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--param", "leg.NOPE.transit_h"], "--param 'leg.NOPE.transit_h': not a parameter of test"),
        (["--param", "leg.L1.transit"], "--param 'leg.L1.transit'"),
        (["--param", "service.abc.trains_per_week"], "--param 'service.abc.trains_per_week': a calibration fits"),
        (["--param", "leg.L1.cost_usd_per_feu", "--allow-sourced"], "leg.L1.cost_usd_per_feu: no range"),
        (
            ["--param", "node.B.process_h"],
            "node.B.process_h: a published value (SRC1), not an estimate; --allow-sourced",
        ),
        (["--param", "leg.L1.transit_h", "--budget", "1"], "--budget (1) must be"),
        (["--param", "leg.L1.transit_h", "--targets", "nope.toml"], "nope.toml: targets file not found"),
    ],
)
def test_bad_input_is_one_line_naming_the_argument(tmp_path: Path, toy: Path, argv: list[str], named: str) -> None:
    out = tmp_path / "cal"
    code, printed, err = _cli(["calibrate", str(toy), *argv, "--workers", "1", "--out", str(out)])
    assert code == 1 and printed == ""
    assert err.startswith("corridors: error: ") and named in err and "Traceback" not in err, err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_param_no_target_reaches_is_refused(tmp_path: Path, toy: Path) -> None:
    only_t1 = tmp_path / "t1.toml"
    only_t1.write_text(TARGETS.split('[[targets]]\nid = "T2"')[0], encoding="utf-8")
    with pytest.raises(InputError, match=r"leg\.L2\.transit_h: no judged target's trains pass it"):
        calibrate(sim.load_scenario(toy), PARAMS, targets=str(only_t1), executor=InProcess(), **OPTIONS)


def test_an_override_says_what_it_was_fitted_to(tmp_path: Path, toy: Path) -> None:
    def overlay(extra: str) -> Path:
        path = toy.parent / f"o{len(list(toy.parent.glob('o*.toml')))}.toml"
        path.write_text(
            f'[scenario]\nname = "o"\nbase = "scenario.toml"\n\n[[overrides]]\n{extra}\nsource = ["ESTIMATE"]\n',
            encoding="utf-8",
        )
        return path

    from sim.validate import fitted_parameters

    scaled = sim.load_scenario(overlay('leg = "L1"\nfield = "transit_h"\nfactor = 1.2\nfitted_to = "T1, T2"'))
    assert fitted_parameters(scaled.network) == {"T1": ["L1 transit_h"], "T2": ["L1 transit_h"]}
    assert fitted_parameters(sim.load_scenario(overlay('leg = "L1"\nfield = "transit_h"\nfactor = 1.2')).network) == {}
    with pytest.raises(corridors.DataError, match="fitted_to"):
        sim.load_scenario(overlay('service = "abc"\nfield = "wagons"\nvalue = 30\nfitted_to = "T1"'))


def test_the_overlay_escapes_what_it_quotes() -> None:
    data = {
        "scenario": "s",
        "replications": 1,
        "seed": 1,
        "targets_used": ["T1"],
        "parameters": [
            {
                "path": "node.X.servers",
                "unit": "servers",
                "low": 1,
                "high": 4,
                "before": 2,
                "after": 3,
                "fitted_to": ["T1"],
                "sources": ['EVIL"\n[x]'],
                "note": 'a "quoted"\\ note\x07',
            }
        ],
    }
    parsed = tomllib.loads(overlay_toml(data, base='we"ird', network=None))
    assert parsed["scenario"]["base"] == 'we"ird' and "x" not in parsed
    assert parsed["overrides"][0]["value"] == 3 and parsed["overrides"][0]["source"] == ["ESTIMATE", 'EVIL"\n[x]']
    assert parsed["overrides"][0]["note"].endswith("the data's value 2")


def test_a_refused_fit_leaves_an_interrupted_one_alone(tmp_path: Path, toy: Path) -> None:
    """A targets file that does not parse is refused before the output folder is touched."""
    kept = tmp_path / ".cal.partial"
    kept.mkdir()
    (kept / "run.json").write_text("{}", encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[targets]]\nid = 3\n", encoding="utf-8")
    argv = ["calibrate", str(toy), "--param", "leg.L1.transit_h", "--targets", str(bad), "--out", str(tmp_path / "cal")]
    code, _printed, err = _cli(argv)
    assert code == 1 and "bad.toml" in err, err
    assert (kept / "run.json").read_text(encoding="utf-8") == "{}"
