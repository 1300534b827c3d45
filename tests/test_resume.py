"""An interrupted run keeps what finished; --resume finishes it with the same files as a run
that was never interrupted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sim.runner
from corridors.cli import main
from sim.checkpoint import tally_arrays, tally_from_arrays
from tests.conftest import tiny_records
from tests.test_engine import write_scenario


def _files(folder: Path) -> dict[str, bytes]:
    """A run's files but its manifest (which says when it was made), folium's random element ids blanked."""
    return {
        p.name: re.sub(rb"[0-9a-f]{32}", b"<id>", p.read_bytes())
        for p in sorted(folder.iterdir())
        if p.name != "manifest.json"
    }


def test_an_interrupted_run_is_finished_by_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = str(write_scenario(tmp_path, tiny_records()))  # random service times at B
    run = ["simulate", scenario, "-r", "6", "--seed", "4", "--workers", "1"]
    assert main([*run, "--out", str(tmp_path / "whole")]) == 0
    real = sim.runner.run_replication

    def stopped_at_the_fourth(scenario: sim.Scenario, *, seed: int, replication: int) -> sim.Replication:
        if replication == 3:
            raise KeyboardInterrupt
        return real(scenario, seed=seed, replication=replication)

    monkeypatch.setattr(sim.runner, "run_replication", stopped_at_the_fourth)
    assert main([*run, "--out", str(tmp_path / "part")]) == 130
    err = capsys.readouterr().err
    assert "3 of 6 replications are kept in" in err and "--resume" in err
    assert not (tmp_path / "part").exists() and (tmp_path / ".part.partial").is_dir()

    monkeypatch.setattr(sim.runner, "run_replication", real)
    assert main([*run, "--out", str(tmp_path / "part"), "--seed", "5", "--resume"]) == 1
    assert "differs in seed" in capsys.readouterr().err
    ran: list[int] = []

    def counted(scenario: sim.Scenario, *, seed: int, replication: int) -> sim.Replication:
        ran.append(replication)
        return real(scenario, seed=seed, replication=replication)

    monkeypatch.setattr(sim.runner, "run_replication", counted)
    assert main([*run, "--out", str(tmp_path / "part"), "--resume"]) == 0
    assert ran == [0, 3, 4, 5]  # the first again for the map's records; 1 and 2 were kept
    assert _files(tmp_path / "part") == _files(tmp_path / "whole")
    assert not (tmp_path / ".part.partial").exists()
    assert main([*run, "--out", str(tmp_path / "part"), "--resume"]) == 1
    assert "no interrupted run to finish" in capsys.readouterr().err


def test_a_tally_reads_back_as_it_was(bundled_run: object) -> None:
    result = bundled_run("baseline")  # type: ignore[operator]
    for t in result.tallies:
        back = tally_from_arrays(tally_arrays(t))
        assert back.replication == t.replication and back.where == t.where
        assert back.services.keys() == t.services.keys() and back.nodes.keys() == t.nodes.keys()
        for name, s in t.services.items():
            assert (back.services[name].transit_d == s.transit_d).all() and back.services[name].trains == s.trains
        for name, n in t.nodes.items():
            b = back.nodes[name]
            assert (b.waits_h.nonzero == n.waits_h.nonzero).all() and b.waits_h.zeros == n.waits_h.zeros
            assert (b.busy_h, b.largest_queue) == (n.busy_h, n.largest_queue)


def _interrupt_at(monkeypatch: pytest.MonkeyPatch, replication: int) -> None:
    """Ctrl-C when ``replication`` starts."""
    real = sim.engine.run_replication

    def stopped(scenario: sim.Scenario, **kwargs: int) -> sim.Replication:
        if kwargs["replication"] == replication:
            raise KeyboardInterrupt
        return real(scenario, **kwargs)

    monkeypatch.setattr(sim.runner, "run_replication", stopped)


@pytest.mark.parametrize("events", ["parquet", "csv"])
def test_a_run_interrupted_twice_is_finished_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, events: str
) -> None:
    """Each resumed run writes a segment of its own; the run's files join them, and are the
    files of a run that was never interrupted."""
    scenario = str(write_scenario(tmp_path, tiny_records()))
    run = ["simulate", scenario, "-r", "7", "--seed", "2", "--workers", "1", "--events", events]
    assert main([*run, "--out", str(tmp_path / "whole")]) == 0
    real = sim.runner.run_replication
    _interrupt_at(monkeypatch, 2)
    assert main([*run, "--out", str(tmp_path / "part")]) == 130
    _interrupt_at(monkeypatch, 5)
    assert main([*run, "--out", str(tmp_path / "part"), "--resume"]) == 130
    assert "5 of 7 replications are kept" in capsys.readouterr().err
    partial = tmp_path / ".part.partial"
    assert sorted(p.name for p in partial.glob("segment-*.json")) == ["segment-00.json", "segment-01.json"]
    monkeypatch.setattr(sim.runner, "run_replication", real)
    assert main([*run, "--out", str(tmp_path / "part"), "--resume"]) == 0
    assert _files(tmp_path / "part") == _files(tmp_path / "whole")


def test_records_written_past_the_last_kept_tally_are_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after a replication's records are written but before its tally is kept: the
    replication runs again on --resume, and its records are in the files once."""
    from sim.checkpoint import Partial

    scenario = str(write_scenario(tmp_path, tiny_records()))
    run = ["simulate", scenario, "-r", "5", "--seed", "3", "--workers", "1"]
    assert main([*run, "--out", str(tmp_path / "whole")]) == 0
    real_save = Partial.save

    def save(self: Partial, t: sim.Tally) -> None:
        if t.replication == 3:
            raise KeyboardInterrupt
        real_save(self, t)

    monkeypatch.setattr(Partial, "save", save)
    assert main([*run, "--out", str(tmp_path / "part")]) == 130
    assert "3 of 5 replications are kept" in capsys.readouterr().err
    monkeypatch.setattr(Partial, "save", real_save)
    assert main([*run, "--out", str(tmp_path / "part"), "--resume"]) == 0
    assert _files(tmp_path / "part") == _files(tmp_path / "whole")


def test_a_segment_left_without_its_footer_runs_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed outright leaves a Parquet segment without its footer: --resume runs its
    replications again (their tallies are not trusted without their records)."""
    scenario = str(write_scenario(tmp_path, tiny_records()))
    run = ["simulate", scenario, "-r", "4", "--seed", "6", "--workers", "1"]
    assert main([*run, "--out", str(tmp_path / "whole")]) == 0
    real = sim.runner.run_replication
    _interrupt_at(monkeypatch, 3)
    assert main([*run, "--out", str(tmp_path / "part")]) == 130
    segment = tmp_path / ".part.partial" / "segment-00.parquet"
    segment.write_bytes(segment.read_bytes()[:-100])  # as if the writer never closed it
    ran: list[int] = []

    def counted(scenario: sim.Scenario, *, seed: int, replication: int) -> sim.Replication:
        ran.append(replication)
        return real(scenario, seed=seed, replication=replication)

    monkeypatch.setattr(sim.runner, "run_replication", counted)
    assert main([*run, "--out", str(tmp_path / "part"), "--resume"]) == 0
    assert ran == [0, 1, 2, 3]
    assert _files(tmp_path / "part") == _files(tmp_path / "whole")


@pytest.mark.parametrize("command", ["compare", "sweep"])
def test_compare_and_sweep_are_finished_by_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """compare and sweep keep each finished replication of each of their runs; --resume runs
    only the rest (and the first of a compare's runs again, for its map) and writes the same files."""
    scenario = str(write_scenario(tmp_path, tiny_records()))
    faster = tmp_path / "faster.toml"
    faster.write_text(
        '[scenario]\nname = "faster"\nbase = "scenario.toml"\ndescription = "B with twice the servers"\n'
        '[[overrides]]\nnode = "B"\nfield = "servers"\nfactor = 2\n',
        encoding="utf-8",
    )
    if command == "compare":
        run = ["compare", scenario, str(faster), "-r", "3", "--seed", "2", "--workers", "1"]
    else:
        run = ["sweep", scenario, "--param", "node.B.servers", "--values", "1,3", "-r", "3", "--seed", "2"]
        run += ["--workers", "1"]
    assert main([*run, "--out", str(tmp_path / "whole")]) == 0
    real = sim.runner.run_replication
    calls: list[int] = []

    def fourth_stops(scenario: sim.Scenario, **kwargs: int) -> sim.Replication:
        calls.append(kwargs["replication"])
        if len(calls) == 5:  # the second run's second replication
            raise KeyboardInterrupt
        return real(scenario, **kwargs)

    monkeypatch.setattr(sim.runner, "run_replication", fourth_stops)
    assert main([*run, "--out", str(tmp_path / "part")]) == 130
    assert "4 of 6 replications are kept in" in capsys.readouterr().err
    assert not (tmp_path / "part").exists() and (tmp_path / ".part.partial").is_dir()
    ran: list[int] = []

    def counted(scenario: sim.Scenario, **kwargs: int) -> sim.Replication:
        ran.append(kwargs["replication"])
        return real(scenario, **kwargs)

    monkeypatch.setattr(sim.runner, "run_replication", counted)
    assert main([*run, "--out", str(tmp_path / "part"), "--seed", "3", "--resume"]) == 1
    assert "differs in " + ("runs" if command == "compare" else "seed") in capsys.readouterr().err
    assert main([*run, "--out", str(tmp_path / "part"), "--resume"]) == 0
    assert ran == ([0, 0, 1, 2] if command == "compare" else [1, 2])  # the first runs again for its map
    assert _files(tmp_path / "part") == _files(tmp_path / "whole")
    assert not (tmp_path / ".part.partial").exists()
