"""Sensitivity: the method against a model whose indices are known analytically, the same indices
on every backend, resume, and the command."""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from corridors import InputError
from corridors.cli import main
from sim.executor import DaskCluster, InProcess, LocalProcesses
from sim.params import Parameter
from sim.sensitivity import RunLog, analyse, parse_output, sensitivity
from tests.conftest import tiny_records
from tests.test_engine import write_scenario

# --- the method on a linear model: y = sum a_i x_i, x_i uniform on [low_i, high_i] ---------------

A = np.array([4.0, -2.0, 1.0, 0.0, 0.5])
LOW = np.array([0.0, 1.0, -1.0, 0.0, 2.0])
HIGH = np.array([1.0, 3.0, 1.0, 5.0, 6.0])


def _toy() -> list[Parameter]:
    return [
        Parameter(f"toy.x{i}.v", float((lo + hi) / 2), float(lo), float(hi), True, ("SRC",), "", "")
        for i, (lo, hi) in enumerate(zip(LOW, HIGH, strict=True))
    ]


def _linear(stage: str, x: Any) -> Any:
    return (x @ A)[:, None]


def test_morris_and_sobol_give_the_known_indices_of_a_linear_model() -> None:
    got = analyse(_toy(), _linear, ["y"], trajectories=10, top=3, sobol_samples=1024, seed=3)
    result = got["results"]["y"]
    rng = HIGH - LOW
    # Morris: every elementary effect of a linear model is a_i x (high - low), exactly
    morris = {r["path"]: r for r in result["morris"]}
    for i in range(len(A)):
        row = morris[f"toy.x{i}.v"]
        assert row["mu_star"] == pytest.approx(abs(A[i]) * rng[i], rel=1e-6, abs=1e-9)
        assert row["mu"] == pytest.approx(A[i] * rng[i], rel=1e-6, abs=1e-9)
        assert row["sigma"] == pytest.approx(0.0, abs=1e-6)
    # the top three by mu*: x0 (4), x1 (4), x4 (2); x3 has no effect and x2 (2) ties x4 by order
    assert set(got["top"]) == {"toy.x0.v", "toy.x1.v", "toy.x2.v"} or set(got["top"]) == {
        "toy.x0.v",
        "toy.x1.v",
        "toy.x4.v",
    }
    assert result["at_data_values"] == pytest.approx(float(((LOW + HIGH) / 2) @ A))
    # Sobol over the top three (the others held at their values): S_i = a_i^2 var_i / sum
    chosen = [int(p.split(".")[1][1:]) for p in got["top"]]
    var = A[chosen] ** 2 * rng[chosen] ** 2 / 12
    sobol = {r["path"]: r for r in result["sobol"]["indices"]}
    assert result["sobol"]["variance"] == pytest.approx(var.sum(), rel=0.1)
    for i, v in zip(chosen, var, strict=True):
        row = sobol[f"toy.x{i}.v"]
        assert row["s1"] == pytest.approx(v / var.sum(), abs=0.05)
        assert row["st"] == pytest.approx(v / var.sum(), abs=0.05)
        assert row["sd_if_pinned"] == pytest.approx(math.sqrt(var.sum() - v), rel=0.1)


def test_a_parameter_without_effect_is_not_given_sobol_indices() -> None:
    got = analyse(_toy(), _linear, ["y"], trajectories=4, top=5, sobol_samples=16, seed=1)
    assert "toy.x3.v" not in got["top"] and len(got["top"]) == 4
    assert got["points"] == {"data": 1, "morris": 4 * 6, "sobol": 16 * (4 + 2)}


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"trajectories": 1}, "trajectories"),
        ({"top": 0}, "top"),
        ({"sobol_samples": 12}, "sobol_samples"),
    ],
)
def test_bad_method_options_name_themselves(options: dict[str, int], named: str) -> None:
    with pytest.raises(InputError, match=named):
        analyse(_toy(), _linear, ["y"], **options)


def test_outputs_are_parsed() -> None:
    assert parse_output("service.abc.transit_d_p95").metric == "transit_d_p95"
    assert parse_output("node.kz_altynkol.wait_h_mean").name == "KZ_ALTYNKOL"
    c = parse_output("compare.my.whatif.toml.service.abc.transit_d_mean")
    assert (c.kind, c.whatif, c.name) == ("compare", "my.whatif.toml", "abc")
    for bad in ("service.abc", "service.abc.cost", "leg.L1.transit_h", "compare.x.node.B.wait_h_mean"):
        with pytest.raises(InputError, match="output"):
            parse_output(bad)


# --- on the simulation ---------------------------------------------------------------------------


def _estimated_records() -> dict[str, Any]:
    """The tiny network with B's servers and processing and L1's transit as estimates (a published
    value without a range is held at its value, so it would not vary)."""
    records = tiny_records()
    b = records["nodes.toml"]["nodes"][1]["facility"]
    b["servers"]["source"] = "ESTIMATE"
    b["process_h"]["source"] = ["ESTIMATE"]
    records["legs.toml"]["legs"][0]["transit_h"]["source"] = "ESTIMATE"
    return records


@pytest.fixture(scope="module")
def tiny_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_scenario(tmp_path_factory.mktemp("sens"), _estimated_records())
    text = path.read_text(encoding="utf-8").replace("drain_d = 5", "drain_d = 20")  # every train arrives
    path.write_text(text, encoding="utf-8")
    return path


OPTIONS: dict[str, Any] = {
    "estimates_only": False,
    "replications": 2,
    "trajectories": 3,
    "top": 2,
    "sobol_samples": 8,
    "seed": 5,
}
OUTPUTS = ["service.abc.transit_d_mean", "service.abc.transit_d_p95", "node.B.wait_h_mean"]


@pytest.fixture(scope="module")
def in_process(tiny_scenario: Path) -> dict[str, Any]:
    return sensitivity(sim.load_scenario(tiny_scenario), OUTPUTS, executor=InProcess(), **OPTIONS)


def test_the_simulation_gives_indices_for_every_output(in_process: dict[str, Any]) -> None:
    assert [o["output"] for o in in_process["outputs"]] == OUTPUTS
    assert {p["path"] for p in in_process["parameters"]} == {
        "node.B.process_h",
        "node.B.servers",
        "leg.L1.transit_h",
        "leg.L2.transit_h",
    }
    runs = in_process["method"]["model_runs"]
    assert runs == 2 * (1 + 3 * 5 + 8 * (2 + 2))
    mean = in_process["results"]["service.abc.transit_d_mean"]
    # L2 takes exactly a day (fixed): over its factor range 0.5-2 it adds 1.5 days, whatever else is
    l2 = next(r for r in mean["morris"] if r["path"] == "leg.L2.transit_h")
    assert l2["mu_star"] == pytest.approx(1.5, rel=1e-6)
    assert mean["sobol"]["indices"]
    json.dumps(in_process, allow_nan=False)


def test_workers_do_not_change_the_indices(tiny_scenario: Path, in_process: dict[str, Any]) -> None:
    two = sensitivity(sim.load_scenario(tiny_scenario), OUTPUTS, executor=LocalProcesses(2), **OPTIONS)
    assert two == in_process


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[DaskCluster]:
    cluster = DaskCluster("local", workers=2)
    try:
        yield cluster
    finally:
        cluster.close()


def test_a_dask_cluster_gives_the_same_indices(
    tiny_scenario: Path, in_process: dict[str, Any], dask_cluster: DaskCluster
) -> None:
    assert dask_cluster.workers == 2
    on_dask = sensitivity(sim.load_scenario(tiny_scenario), OUTPUTS, executor=dask_cluster, **OPTIONS)
    assert on_dask == in_process


class _Stop(Exception):
    pass


def test_an_interrupted_run_resumes_to_the_same_indices(
    tmp_path: Path, tiny_scenario: Path, in_process: dict[str, Any]
) -> None:
    scenario = sim.load_scenario(tiny_scenario)
    log = RunLog(tmp_path / "out", {"test": 1})
    log.start()
    seen = []

    def stop_midway(message: str) -> None:
        seen.append(message)
        if getattr(message, "done", 0) == 20 and "Morris" in message:
            raise _Stop

    with pytest.raises(_Stop):
        sensitivity(scenario, OUTPUTS, executor=InProcess(), progress=stop_midway, on_run=log.save, **OPTIONS)
    assert log.kept() == 2 + 20
    ran: list[int] = []
    done = log.resume()
    resumed = sensitivity(
        scenario, OUTPUTS, executor=InProcess(), done=done, on_run=lambda *_: ran.append(1), **OPTIONS
    )
    assert resumed == in_process
    assert len(ran) == in_process["method"]["model_runs"] - 22
    with pytest.raises(InputError, match="resume"):
        RunLog(tmp_path / "out", {"test": 2}).resume()


def test_a_compare_output_is_the_whatif_minus_the_base(tmp_path: Path) -> None:
    base_path = write_scenario(tmp_path, tiny_records())
    text = base_path.read_text(encoding="utf-8").replace("drain_d = 5", "drain_d = 20")  # every train arrives
    base_path.write_text(text, encoding="utf-8")
    whatif = tmp_path / "slow.toml"
    whatif.write_text(
        '[scenario]\nname = "slow"\nbase = "scenario.toml"\n\n[[overrides]]\nleg = "L2"\nfield = "transit_h"\n'
        'factor = 2\nsource = ["ESTIMATE"]\n',
        encoding="utf-8",
    )
    base = sim.load_scenario(base_path)
    got = sensitivity(
        base,
        [f"compare.{whatif}.service.abc.transit_d_mean"],
        executor=InProcess(),
        **{**OPTIONS, "sobol_samples": 0},
    )
    result = got["results"][f"compare.{whatif}.service.abc.transit_d_mean"]
    # the what-if doubles L2's day; the base's L2 factor scales both, so the delta is 1 day x the factor
    assert result["at_data_values"] == pytest.approx(1.0, rel=1e-6)
    l2 = next(r for r in result["morris"] if r["path"] == "leg.L2.transit_h")
    assert l2["mu_star"] == pytest.approx(1.5, rel=1e-6)
    assert result["sobol"] is None


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_the_command_writes_json_and_an_offline_page(tmp_path: Path, tiny_scenario: Path) -> None:
    out = tmp_path / "sens"
    argv = ["sensitivity", str(tiny_scenario), "--output", "service.abc.transit_d_mean", "-o", str(out)]
    code, printed, err = _cli([*argv, "-r", "1", "--trajectories", "2", "--top", "1", "--sobol-samples", "4"])
    assert code == 0, err
    assert "leg.L2.transit_h" in printed and "[ESTIMATE]" in printed
    data = json.loads((out / "sensitivity.json").read_text(encoding="utf-8"))
    # B's two servers take a train an hour for 2-12 h each: its processing time moves the mean most
    assert data["schema_version"] == 1 and data["top"] == ["node.B.process_h"]
    page = (out / "sensitivity.html").read_text(encoding="utf-8")
    assert "<svg" in page and "leg.L2.transit_h" in page and "ESTIMATE" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sens"]  # nothing kept beside it


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--output", "service.nope.transit_d_mean"], "--output 'service.nope.transit_d_mean'"),
        (["--output", "service.abc.speed"], "--output 'service.abc.speed'"),
        (["--output", "service.abc.transit_d_mean", "--sobol-samples", "10"], "--sobol-samples"),
        (["--output", "service.abc.transit_d_mean", "--trajectories", "0"], "--trajectories"),
    ],
)
def test_bad_input_is_one_line_naming_the_argument(
    tmp_path: Path, tiny_scenario: Path, argv: list[str], named: str
) -> None:
    out = tmp_path / "sens"
    code, printed, err = _cli(["sensitivity", str(tiny_scenario), *argv, "-o", str(out)])
    assert code == 1 and printed == ""
    assert err.startswith("corridors: error: ") and named in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_hostile_names_reach_the_page_escaped() -> None:
    from maps.sensitivity import sensitivity_report

    evil = "<img src=x onerror=alert(1)>{{ 7*7 }}"
    row = {"path": "node.X.process_h", "mu": 1.0, "mu_star": 1.0, "sigma": 0.1, "mu_star_conf": 0.1}
    data = {
        "scenario": evil,
        "method": {"morris": {"trajectories": 2, "points": 3}, "sobol": {"samples": 0, "points": 0}, "model_runs": 6},
        "parameters": [
            {
                "path": "node.X.process_h",
                "value": 1,
                "low": 0.5,
                "high": 2,
                "unit": evil,
                "estimate": True,
                "sources": [evil],
                "note": evil,
            }
        ],
        "top": [],
        "replications": 1,
        "seed": 1,
        "outputs": [{"output": evil, "unit": "d"}],
        "results": {evil: {"at_data_values": 1.0, "morris": [row], "sobol": None}},
    }
    page = sensitivity_report(data)
    assert "<img" not in page and "{{" not in page


def test_a_morris_only_run_says_it_has_no_sobol_indices(tmp_path: Path, tiny_scenario: Path) -> None:
    argv = ["sensitivity", str(tiny_scenario), "--output", "service.abc.transit_d_mean", "-o", str(tmp_path / "m")]
    code, printed, err = _cli([*argv, "-r", "1", "--trajectories", "2", "--sobol-samples", "0"])
    assert code == 0, err
    assert "(Morris, 2 trajectories), no Sobol indices;" in printed and "0 samples" not in printed


@pytest.mark.parametrize(
    "bad",
    [
        ["--output", "service.nope.transit_d_mean"],
        ["--output", "service.abc.transit_d_mean", "--trajectories", "1"],
        ["--output", "compare.missing.toml.service.abc.transit_d_mean"],
    ],
)
def test_a_refused_run_leaves_the_output_folder_alone(tmp_path: Path, tiny_scenario: Path, bad: list[str]) -> None:
    """Everything a run would refuse is checked before the folder is touched: an interrupted run's
    kept work there (another run's, or one to resume) survives a mistyped command."""
    out = tmp_path / "sens"
    kept = out.parent / ".sens.partial"
    kept.mkdir(parents=True)
    (kept / "run.json").write_text("{}", encoding="utf-8")
    code, _printed, err = _cli(["sensitivity", str(tiny_scenario), *bad, "-o", str(out)])
    assert code == 1 and err.count("\n") == 1, err
    assert (kept / "run.json").read_text(encoding="utf-8") == "{}"
    assert not out.exists()
