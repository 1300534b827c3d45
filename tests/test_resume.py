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
