"""Benchmark: the whole pipeline of `corridors simulate` on the bundled baseline, measured in one run.

    python benchmarks/bench_pipeline.py [--large 1000] [--parallel 100] [--dask 20]

1. `simulate -r 10` (one worker, in this process): the share of the wall time spent in the
   replications themselves (the engine), against everything else (tallies, the event log, the
   trains table, the summary, the map and the report). Target: at least 60%.
2. `simulate -r PARALLEL` with one worker and with every core, each in a fresh process: wall
   time, speed-up (target on 2 cores: at least 1.7x) and peak memory; the two summaries must be
   byte for byte the same.
3. `simulate -r LARGE` with every core: peak memory (target: well under 2 GiB).
4. The same DASK replications on local processes and on a 2-worker Dask LocalCluster: equal
   summaries, and the cluster's overhead.

Peak memory is the largest resident set of the command's processes (the parent's, or a
worker's, whichever is larger), as the kernel reports it for finished child processes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sim.runner
from corridors.cli import main as cli


def _engine_share(replications: int, out: Path) -> tuple[float, float]:
    """(wall s, engine s) of `corridors simulate -r N --workers 1` in this process."""
    engine = [0.0]
    real = sim.runner.run_replication

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            engine[0] += time.perf_counter() - t0

    sim.runner.run_replication = timed  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli(["simulate", "-r", str(replications), "--workers", "1", "--quiet", "--out", str(out)])
        wall = time.perf_counter() - t0
    finally:
        sim.runner.run_replication = real  # type: ignore[assignment]
    assert code == 0
    return wall, engine[0]


_WRAPPER = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run([sys.executable, "-m", "corridors.cli", *sys.argv[1:]], check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _run(argv: list[str]) -> tuple[float, float]:
    """(wall s, peak resident MiB) of `corridors ARGV` in a fresh process: the largest of the
    command's and its workers' peaks (measured by a wrapper process whose only children they are)."""
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *argv, "--quiet"], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), int(out[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", type=int, default=10, help="replications of the end-to-end share (default 10)")
    parser.add_argument("--parallel", type=int, default=100, help="replications of the speed-up (default 100)")
    parser.add_argument("--large", type=int, default=1000, help="replications of the memory run (default 1000)")
    parser.add_argument("--dask", type=int, default=20, help="replications on the Dask cluster (default 20)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"baseline, Python {sys.version.split()[0]}, {cores} cores")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wall, engine = _engine_share(args.engine, root / "share")
        share = engine / wall
        print(
            f"  simulate -r {args.engine} (1 worker): {wall:.1f} s, replications {engine:.1f} s = {100 * share:.0f}% "
            f"of the wall time (target: at least 60%: {'yes' if share >= 0.6 else 'NO'})"
        )
        one, rss_one = _run(["simulate", "-r", str(args.parallel), "--workers", "1", "--out", str(root / "one")])
        every, rss_every = _run(["simulate", "-r", str(args.parallel), "--out", str(root / "every")])
        same = (root / "one" / "summary.json").read_bytes() == (root / "every" / "summary.json").read_bytes()
        speedup = one / every
        print(f"  simulate -r {args.parallel}: 1 worker {one:.1f} s ({rss_one:.0f} MiB peak)")
        print(
            f"  simulate -r {args.parallel}: {cores} workers {every:.1f} s ({rss_every:.0f} MiB peak), "
            f"speed-up {speedup:.2f}x (target on 2 cores: at least 1.7x: {'yes' if speedup >= 1.7 else 'NO'}); "
            f"summary.json {'identical' if same else 'DIFFERENT'}"
        )
        wall, rss = _run(["simulate", "-r", str(args.large), "--allow-large", "--out", str(root / "large")])
        print(
            f"  simulate -r {args.large}: {cores} workers {wall:.0f} s, peak memory {rss:.0f} MiB "
            f"(target: well under 2048 MiB: {'yes' if rss < 1536 else 'NO'})"
        )
        local, _ = _run(["simulate", "-r", str(args.dask), "--out", str(root / "local")])
        dask, _ = _run(["simulate", "-r", str(args.dask), "--scheduler", "local", "--out", str(root / "dask")])
        same = (root / "local" / "summary.json").read_bytes() == (root / "dask" / "summary.json").read_bytes()
        print(
            f"  simulate -r {args.dask}: local processes {local:.1f} s, Dask LocalCluster of {cores} workers "
            f"{dask:.1f} s (overhead {dask / local:.2f}x, cluster start included); "
            f"summary.json {'identical' if same else 'DIFFERENT'}"
        )
        if not same:
            raise SystemExit("the Dask run differs from the local one")


if __name__ == "__main__":
    main()
