"""The README stays true: its Python example prints what it says, its commands are the CI's."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

import sim
from sim.runner import RunResult

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_python_examples_print_what_the_readme_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, baseline_run: RunResult
) -> None:
    """The examples run as written, except that ``sim.simulate`` called exactly as the session's
    ``baseline_run`` was (the bundled baseline, 2 replications, seed 1) returns that run instead of
    simulating the same year again; any other call simulates."""
    monkeypatch.chdir(tmp_path)
    simulate = sim.simulate
    shared: list[RunResult] = []

    def simulate_once(scenario: sim.Scenario, **options: object) -> RunResult:
        if options == {"replications": 2, "seed": 1} and scenario == baseline_run.scenario:
            shared.append(baseline_run)
            return baseline_run
        return simulate(scenario, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(sim, "simulate", simulate_once)
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 2
    for code in blocks:
        expected = [line[2:] for line in code.splitlines() if line.startswith("# ")]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
        assert out.getvalue().splitlines() == expected
    assert (tmp_path / "out" / "api-run" / "summary.json").is_file()
    assert shared, "the README no longer simulates the baseline as the session does: update simulate_once"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest -q"
    assert command in README and command in ci


def test_readme_error_example_is_real(tmp_path: Path) -> None:
    from corridors.cli import main

    match = re.search(
        r"corridors: error: my-network/(legs\.toml: leg S05: transit_d\.min = 5: is above max \(3\))", README
    )
    assert match
    import shutil

    import corridors

    net = tmp_path / "my-network"
    shutil.copytree(corridors.bundled_data_dir() / "network", net)
    legs = net / "legs.toml"
    text = legs.read_text(encoding="utf-8")
    start = text.index('id = "S05"')
    line_start = text.index("transit_d = ", start)
    line_end = text.index("\n", line_start)
    legs.write_text(
        text[:line_start] + 'transit_d = { min = 5, max = 3, source = ["ESTIMATE"] }' + text[line_end:],
        encoding="utf-8",
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["check", str(net)]) == 1
    assert match.group(1) in err.getvalue()


def test_the_files_the_readme_says_a_run_writes_are_the_files_it_writes(
    baseline_folder: Path, red_sea_compare: tuple[Path, dict[str, object]]
) -> None:
    """The README's "Wrote" lines of simulate and compare list what the commands write, in their order."""
    written = ", ".join(sorted(p.name for p in baseline_folder.iterdir()))
    assert f"Wrote out/baseline/: {written}\n" in README
    files = red_sea_compare[1]["files"]
    assert isinstance(files, list) and sorted(files) == sorted(p.name for p in red_sea_compare[0].iterdir())
    assert f"Wrote out/compare-baseline-red-sea-closure/: {', '.join(files)}\n" in README
