"""Where replications run does not change a number: in this process, in local worker processes
and on a Dask cluster (a 2-worker LocalCluster, started for real), the same seed gives the same
records and the same summary."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import sim
from corridors import InputError
from sim.executor import DaskCluster, InProcess, LocalProcesses, executor_for
from sim.runner import RunResult
from tests.conftest import kept_one, tiny_records
from tests.test_engine import write_scenario


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[DaskCluster]:
    cluster = DaskCluster("local", workers=2)
    try:
        yield cluster
    finally:
        cluster.close()


def _same(a: RunResult, b: RunResult) -> None:
    assert a.summary == b.summary
    for x, y in zip(a.replications, b.replications, strict=True):
        assert x.visits == y.visits and x.trains == y.trains and x.sailings == y.sailings


def test_every_backend_gives_the_same_run(tmp_path: Path, dask_cluster: DaskCluster) -> None:
    scenario = sim.load_scenario(write_scenario(tmp_path, tiny_records()))  # random service times at B
    runs = [
        sim.simulate(scenario, replications=5, seed=7, executor=backend)
        for backend in (InProcess(), LocalProcesses(2), dask_cluster)
    ]
    _same(runs[0], runs[1])
    _same(runs[0], runs[2])
    assert sim.simulate(scenario, replications=5, seed=8).summary != runs[0].summary  # the seed matters


def test_the_baseline_on_a_dask_cluster_is_the_baseline(baseline_run: RunResult, dask_cluster: DaskCluster) -> None:
    assert dask_cluster.workers == 2
    _same(baseline_run, sim.simulate(baseline_run.scenario, replications=2, seed=1, executor=dask_cluster))


def test_a_scheduler_that_cannot_be_reached_is_one_error() -> None:
    with pytest.raises(InputError, match=r"cannot reach the Dask scheduler 'tcp://127\.0\.0\.1:9'"):
        DaskCluster("tcp://127.0.0.1:9", connect_timeout_s=0.5)


def test_workers_are_checked() -> None:
    with pytest.raises(InputError, match=r"workers \(0\) must be a whole number"):
        executor_for(0)
    assert isinstance(executor_for(1), InProcess) and isinstance(executor_for(3), LocalProcesses)


def test_ctrl_c_on_a_local_cluster_is_one_line(tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches every process of the group: the cluster's processes ignore
    it and this one stops them, with one line on standard error and what finished kept."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "corridors.cli", "simulate", "-r", "60", "--scheduler", "local", "--out", str(out)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal's job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal starts it
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        deadline = time.monotonic() + 90
        while not kept_one(tmp_path / ".run.partial" / "segment-00.json"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr
    assert stderr.startswith("corridors: interrupted; nothing was half-written (") and stderr.count("\n") == 1, stderr
    assert "replications are kept in" in stderr and not out.exists()
