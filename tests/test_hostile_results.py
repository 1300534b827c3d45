"""A results folder from a stranger: `map --results` refuses what it cannot draw in one line, exit 1."""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w

import corridors
from corridors.cli import main

DATA = Path(corridors.__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("results")
    scenario = tomllib.loads((DATA / "scenarios" / "baseline.toml").read_text(encoding="utf-8"))
    scenario["scenario"]["end_date"] = scenario["scenario"]["start_date"].replace(month=2)
    (root / "short.toml").write_text(tomli_w.dumps(scenario), encoding="utf-8")
    assert main(["simulate", str(root / "short.toml"), "-r", "1", "--out", str(root / "run")]) == 0
    return root / "run"


def _first(summary: dict[str, Any], key: str) -> dict[str, Any]:
    return next(iter(summary[key].values()))  # type: ignore[no-any-return]


CASES: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "hold_h not an object": (lambda s: _first(s, "nodes").__setitem__("hold_h", [1, 2]), "hold_h"),
    "stay not a number": (lambda s: _first(s, "nodes").__setitem__("stay_h_mean", "long"), "stay_h_mean"),
    "stay null": (lambda s: _first(s, "nodes").__setitem__("stay_h_mean", None), None),
    "utilisation negative": (lambda s: _first(s, "nodes").__setitem__("utilisation", -0.5), "utilisation"),
    "largest queue a fraction": (lambda s: _first(s, "nodes").__setitem__("largest_queue", 1.5), "largest_queue"),
    "negative trains (sqrt)": (lambda s: _first(s, "legs").__setitem__("trains_per_week", -1), "trains_per_week"),
    "scenario not text": (lambda s: s.__setitem__("scenario", {"a": 1}), "scenario"),
    "scenario sets a terminal's title": (lambda s: s.__setitem__("scenario", "x\x1b]0;HACKED\x07"), "scenario"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_summary_is_one_line(
    run_dir: Path, tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    change, field = CASES[case]
    change(summary)
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    code = main(["map", "--results", str(folder), "--out", str(tmp_path / "m.html")])
    err = capsys.readouterr().err
    if field is None:  # a value the map can do without: drawn
        assert code == 0 and (tmp_path / "m.html").exists()
        return
    assert code == 1, err
    assert err.count("\n") == 1 and "summary.json" in err and field in err and "Traceback" not in err
    assert not (tmp_path / "m.html").exists()


@pytest.mark.parametrize(
    "text, says",
    [
        ("[" * 200_000 + "]" * 200_000, "nest more than"),
        ('{"services": ' + "9" * 5001 + "}", "not valid JSON"),
        ('{"services": NaN}', "not valid JSON"),
        ("\udcff", "not UTF-8"),
    ],
    ids=["deep", "long integer", "NaN", "not UTF-8"],
)
def test_unreadable_summary_is_one_line(
    run_dir: Path, tmp_path: Path, text: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    (folder / "summary.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    assert main(["map", "--results", str(folder), "--out", str(tmp_path / "m.html")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and "Traceback" not in err and len(err) < 400


def test_summary_that_is_a_folder(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    (folder / "summary.json").unlink()
    (folder / "summary.json").mkdir()
    assert main(["map", "--results", str(folder), "--out", str(tmp_path / "m.html")]) == 1
    assert "is a folder" in capsys.readouterr().err


# --- a sensitivity.json from a stranger (simulate and compare --sensitivity) ------------------------

_SENSITIVITY = {
    "schema_version": 1,
    "scenario": "baseline",
    "whatifs": [],
    "outputs": [{"output": "service.southern-chengdu-lodz.transit_d_mean", "unit": "d"}],
    "replications": 1,
    "seed": 1,
    "method": {"morris": {"trajectories": 2}, "sobol": {"samples": 0}, "model_runs": 3},
    "parameters": [
        {
            "path": "node.KZ_ALTYNKOL.servers",
            "value": 2,
            "low": 1,
            "high": 4,
            "unit": "servers",
            "estimate": True,
            "sources": ["ESTIMATE"],
            "note": "n",
        }
    ],
    "top": [],
    "results": {
        "service.southern-chengdu-lodz.transit_d_mean": {
            "at_data_values": 30,
            "morris": [{"path": "node.KZ_ALTYNKOL.servers", "mu": 1, "mu_star": 1, "sigma": 0, "mu_star_conf": 0}],
            "sobol": None,
        }
    },
}


def _changed(change: Callable[[dict[str, Any]], Any]) -> str:
    data = json.loads(json.dumps(_SENSITIVITY))
    change(data)
    return json.dumps(data)


_RESULT = _SENSITIVITY["results"]["service.southern-chengdu-lodz.transit_d_mean"]  # type: ignore[index]
SENSITIVITY_CASES: dict[str, tuple[str | None, str]] = {
    "missing": (None, "file not found"),
    "empty": ("", "not valid JSON"),
    "deep": ("[" * 200_000 + "]" * 200_000, "nest more than"),
    "NaN": ('{"schema_version": NaN}', "not valid JSON"),
    "not UTF-8": ("\udcff", "not UTF-8"),
    "a summary.json": ('{"schema_version": 1, "services": {}}', "method = (missing): is missing"),
    "another schema": (_changed(lambda d: d.update(schema_version="1")), 'schema_version = "1"'),
    "note an object": (
        _changed(lambda d: d["parameters"][0].update(note={"html": "<b>"})),
        "parameter node.KZ_ALTYNKOL.servers: note = { … }",
    ),
    "title-setting note": (_changed(lambda d: d["parameters"][0].update(note="x\x1b]0;HACKED\x07")), "note"),
    "huge number": (_changed(lambda d: d["parameters"][0].update(high=10**400)), "high = a whole number of 401 digits"),
    "mu_star a list": (
        _changed(lambda d: d["results"][next(iter(d["results"]))]["morris"][0].update(mu_star=[1])),
        "morris[0].mu_star = [1]",
    ),
    "output unknown": (_changed(lambda d: d["outputs"][0].update(output="leg.L1.transit_h")), "outputs[0].output"),
}


@pytest.mark.parametrize("command", ["simulate", "compare"])
@pytest.mark.parametrize("case", list(SENSITIVITY_CASES))
def test_hostile_sensitivity_file_is_one_line_and_nothing_is_written(
    tmp_path: Path, case: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text, says = SENSITIVITY_CASES[case]
    path = tmp_path / "sensitivity.json"
    if text is not None:
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
    runs = ["baseline"] + (["altynkol-doubled"] if command == "compare" else [])
    out = tmp_path / "out"
    assert main([command, *runs, "-r", "1", "--sensitivity", str(path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sensitivity.json" in err and says in err, err
    assert "Traceback" not in err and "\x1b" not in err and len(err) < 400
    assert not out.exists()


def test_a_sensitivity_file_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sens").mkdir()
    assert main(["simulate", "--sensitivity", str(tmp_path / "sens"), "--out", str(tmp_path / "out")]) == 1
    assert "is a folder" in capsys.readouterr().err and not (tmp_path / "out").exists()
