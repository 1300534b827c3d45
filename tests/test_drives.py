"""'What drives this answer': a sensitivity.json given to simulate and compare (``--sensitivity``)
puts the parameters that move each output, their sources and the run's noise beside them into
report.html and compare.html; the file is read strictly, and its text reaches the page escaped."""

from __future__ import annotations

import contextlib
import copy
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

import sim
from corridors import DataError
from corridors.cli import main
from sim.executor import InProcess
from sim.sensitivity import sensitivity
from sim.sensitivity_file import SensitivityFile, read_sensitivity
from tests.test_engine import write_scenario
from tests.test_sensitivity import _estimated_records

SECTION = "What drives this answer"
SLOW = (
    '[scenario]\nname = "slow"\nbase = "scenario.toml"\n\n[[overrides]]\nleg = "L2"\nfield = "transit_h"\nfactor = 2\n'
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny network with estimates, a what-if that doubles L2's day, and a sensitivity run of
    both (Morris and a few Sobol samples) written as ``corridors sensitivity`` writes it."""
    root = tmp_path_factory.mktemp("drives")
    base = write_scenario(root, _estimated_records())
    base.write_text(base.read_text(encoding="utf-8").replace("drain_d = 5", "drain_d = 20"), encoding="utf-8")
    whatif = root / "slow.toml"
    whatif.write_text(SLOW + 'source = ["ESTIMATE"]\n', encoding="utf-8")
    outputs = [
        "service.abc.transit_d_mean",
        "node.B.wait_h_mean",
        f"compare.{whatif}.service.abc.transit_d_mean",
    ]
    data = sensitivity(
        sim.load_scenario(base),
        outputs,
        executor=InProcess(),
        estimates_only=False,
        replications=1,
        trajectories=2,
        top=2,
        sobol_samples=4,
        seed=3,
    )
    (root / "sensitivity.json").write_text(json.dumps(data), encoding="utf-8")
    return {"root": root, "base": base, "whatif": whatif, "file": root / "sensitivity.json"}


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _text(page: str) -> str:
    """What a reader sees of the section: tags and charts out, entities decoded."""
    start = page.index(f"<h2 id='drives'>{SECTION}")
    section = page[start : page.index("<h2>", start + 10)] if "<h2>" in page[start + 10 :] else page[start:]
    section = re.sub(r"<svg.*?</svg>", " [chart] ", section, flags=re.S)
    section = re.sub(r"</?(p|tr|td|th|h2|h3|table)\b[^>]*>", " ", section)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", section)))


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "sensitivity.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_the_file_reads_back_as_typed_records(tiny: dict[str, Path]) -> None:
    got = read_sensitivity(tiny["file"])
    assert got.scenario == "test" and got.whatifs == ("slow",)
    assert [o.output.text for o in got.outputs][:2] == ["service.abc.transit_d_mean", "node.B.wait_h_mean"]
    compare = got.outputs[2]
    assert compare.output.kind == "compare" and compare.whatif_name == "slow" and compare.unit == "d"
    assert got.outputs[0].sobol is not None and got.outputs[0].sobol.indices
    drivers = got.drivers(got.outputs[0], 3)
    assert drivers[0].parameter.path == drivers[0].effect.path and "ESTIMATE" in drivers[0].parameter.sources
    l2 = next(e for e in got.outputs[0].morris if e.path == "leg.L2.transit_h")
    assert l2.mu_star == pytest.approx(1.5, rel=1e-6)  # L2's fixed day over its 0.5-2 factor


def test_simulate_says_what_drives_the_answer(tiny: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, _, err = _cli(
        ["simulate", str(tiny["base"]), "-r", "3", "--sensitivity", str(tiny["file"]), "--out", str(out)]
    )
    assert code == 0, err
    text = _text((out / "report.html").read_text(encoding="utf-8"))
    assert "a sensitivity run of test" in text and "[chart]" in text
    for name in ("node.B.process_h", "leg.L2.transit_h", "leg.L1.transit_h"):
        assert name in text
    assert "ESTIMATE: Authors' estimate" in text  # the source's citation from the network's sources.toml
    # the sentence: this run's noise, then the spread over the estimates and where it comes from
    assert re.search(r"This run gives [\d.]+ d, 95% CI ±[\d.]+ d over 3 replications", text)
    assert re.search(r"the output spreads by sd [\d.]+ d .* most of it from", text)
    assert "service.abc.transit_d_mean" in text and "node.B.wait_h_mean" in text
    assert "slow's difference from the base" in text  # a compare output, in a single run's report
    assert "not of" not in text and "no longer" not in text


def test_without_the_flag_there_is_no_section(tiny: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _cli(["simulate", str(tiny["base"]), "-r", "1", "--out", str(out)])[0] == 0
    assert SECTION not in (out / "report.html").read_text(encoding="utf-8")


def test_compare_speaks_to_the_whatifs_difference(tiny: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    argv = ["compare", str(tiny["base"]), str(tiny["whatif"]), "-r", "2", "--sensitivity", str(tiny["file"])]
    code, _, err = _cli([*argv, "--out", str(out)])
    assert code == 0, err
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert page.index(SECTION) < page.index("<h2>slow</h2>")
    text = _text(page)
    # L2 takes a day; the what-if doubles it: every train is one day slower, exactly
    assert "In this comparison slow changes abc's mean transit by +1.00 d, 95% CI ±0.00 d" in text
    assert "leg.L2.transit_h" in text


def test_another_scenario_and_parameters_gone_are_said(tiny: dict[str, Path], tmp_path: Path) -> None:
    data = json.loads(tiny["file"].read_text(encoding="utf-8"))
    data["scenario"] = "elsewhere"
    gone = {**data["parameters"][0], "path": "node.Z.servers", "sources": ["NOT_A_KEY"]}
    data["parameters"].append(gone)
    mean = data["results"]["service.abc.transit_d_mean"]
    mean["morris"].insert(0, {"path": "node.Z.servers", "mu": -9.0, "mu_star": 9.0, "sigma": 1.0, "mu_star_conf": 1})
    out = tmp_path / "run"
    code, _, err = _cli(
        ["simulate", str(tiny["base"]), "-r", "1", "--sensitivity", str(_write(tmp_path, data)), "--out", str(out)]
    )
    assert code == 0, err
    text = _text((out / "report.html").read_text(encoding="utf-8"))
    assert "a sensitivity run of elsewhere, not of test" in text
    assert "1 of the file's 5 parameters are no longer parameters of test" in text
    assert "node.Z.servers (no longer a parameter of test)" in text
    assert "NOT_A_KEY (not in the network's sources)" in text
    assert "no confidence interval: give 2 or more replications" in text


def _valid(tiny: dict[str, Path]) -> dict[str, Any]:
    return json.loads(tiny["file"].read_text(encoding="utf-8"))  # type: ignore[no-any-return]


MEAN = "service.abc.transit_d_mean"
BAD: dict[str, tuple[Any, str, str]] = {
    # case: (change, what the message names, the value shown)
    "schema": (lambda d: d.__setitem__("schema_version", 2), "schema_version = 2", "must be 1"),
    "scenario not text": (lambda d: d.__setitem__("scenario", ["x"]), 'scenario = ["x"]', "must be a text"),
    "replications zero": (lambda d: d.__setitem__("replications", 0), "replications = 0", "at least 1"),
    "parameter low above high": (
        lambda d: d["parameters"][0].update(low=5, high=1),
        "parameter {p0}: low = 5",
        "is above high",
    ),
    "parameter note a number": (lambda d: d["parameters"][0].update(note=3), "parameter {p0}: note = 3", "a text"),
    "sources not a list": (lambda d: d["parameters"][0].update(sources="SRC1"), 'sources = "SRC1"', "must be a list"),
    "control character": (
        lambda d: d["parameters"][0].update(note="x\x1b]0;HACKED\x07"),
        "parameter {p0}: note",
        "control character",
    ),
    "mu_star a text": (
        lambda d: d["results"][MEAN]["morris"][1].update(mu_star="big"),
        f'output {MEAN}: morris[1].mu_star = "big"',
        "finite number",
    ),
    "mu_star negative": (
        lambda d: d["results"][MEAN]["morris"][0].update(mu_star=-1),
        f"output {MEAN}: morris[0].mu_star = -1",
        "0 or more",
    ),
    "unknown path": (
        lambda d: d["results"][MEAN]["sobol"]["indices"][0].update(path="node.Q.x"),
        f'output {MEAN}: sobol.indices[0].path = "node.Q.x"',
        "not among the file's parameters",
    ),
    "sd missing": (lambda d: d["results"][MEAN]["sobol"].pop("sd"), f"output {MEAN}: sobol.sd", "is missing"),
    "result missing": (lambda d: d["results"].pop(MEAN), f"output {MEAN}: results.{MEAN}", "is missing"),
    "bad output": (
        lambda d: d["outputs"][0].update(output="service.abc.speed"),
        'outputs[0].output = "service.abc.speed"',
        "not an output",
    ),
    "wrong unit": (lambda d: d["outputs"][1].update(unit="d"), 'output node.B.wait_h_mean: unit = "d"', 'must be "h"'),
    "whatifs short": (lambda d: d.__setitem__("whatifs", []), "whatifs = []", "must name the 1 what-ifs"),
    "not an object": (lambda d: d["method"].__setitem__("sobol", None), "method.sobol", "must be an object"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_field_names_file_record_field_and_value(tiny: dict[str, Path], case: str) -> None:
    data = _valid(tiny)
    change, named, problem = BAD[case]
    change(data)
    with pytest.raises(DataError) as got:
        SensitivityFile.from_json(data, source="runs/sensitivity.json")
    message = str(got.value)
    assert message.startswith("runs/sensitivity.json: ") and "\n" not in message
    assert named.format(p0=data["parameters"][0]["path"]) in message and problem in message, message


def test_unknown_keys_are_ignored(tiny: dict[str, Path]) -> None:
    data = _valid(tiny)
    data["later"] = {"anything": 1}
    data["parameters"][0]["later"] = [1]
    data["results"][MEAN]["morris"][0]["later"] = None
    assert SensitivityFile.from_json(data, source="s.json") == SensitivityFile.from_json(_valid(tiny), source="s.json")


@pytest.mark.parametrize(
    ("command", "content", "says"),
    [
        ("simulate", None, "file not found"),
        ("simulate", "{not json", "not valid JSON"),
        ("compare", '{"schema_version": 7}', "schema_version = 7"),
        ("compare", "[1, 2]", "must be a JSON object"),
    ],
    ids=["missing", "not JSON", "another schema", "a list"],
)
def test_bad_files_are_one_line_and_nothing_is_written(
    tiny: dict[str, Path], tmp_path: Path, command: str, content: str | None, says: str
) -> None:
    path = tmp_path / "given.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    runs = [str(tiny["base"])] + ([str(tiny["whatif"])] if command == "compare" else [])
    out = tmp_path / "out"
    code, printed, err = _cli([command, *runs, "--sensitivity", str(path), "--out", str(out)])
    assert code == 1 and printed == ""
    assert err.startswith("corridors: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "given.json" in err and says in err, err
    assert not out.exists()


def test_hostile_text_reaches_the_page_escaped(tiny: dict[str, Path], tmp_path: Path) -> None:
    evil = "<img src=x onerror=alert(1)>{{ 7*7 }}{% raw %}</script><script>alert(2)</script>"
    data = copy.deepcopy(_valid(tiny))
    data["scenario"] = evil
    for p in data["parameters"]:
        p.update(note=evil, unit=evil, sources=[evil, "ESTIMATE"])
    out = tmp_path / "run"
    code, _, err = _cli(
        ["simulate", str(tiny["base"]), "-r", "1", "--sensitivity", str(_write(tmp_path, data)), "--out", str(out)]
    )
    assert code == 0, err
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "alert(2)</script>" not in page and "{{" not in page and "{%" not in page
    assert _text(page).count(evil) >= 4  # shown literally: scenario, unit, source key, note


def test_the_reports_take_the_file_as_an_option(tiny: dict[str, Path]) -> None:
    """The API: run_report and compare_report take ``sensitivity=`` (a ``SensitivityFile``)."""
    from maps.report import compare_report, run_report
    from sim.compare import compare

    file = read_sensitivity(tiny["file"])
    base, whatif = sim.load_scenario(tiny["base"]), sim.load_scenario(tiny["whatif"])
    report, runs = compare(base, [whatif], replications=2, seed=1)
    assert SECTION in compare_report(report, runs, sensitivity=file)
    assert SECTION not in compare_report(report, runs)
    assert SECTION in run_report(runs[0], "<p>map</p>", sensitivity=file)
