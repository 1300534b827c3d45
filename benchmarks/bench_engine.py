"""Benchmark: one replication of the bundled baseline in the SimPy engine, against a minimal
hand-written heapq event loop of the same trains-through-nodes model, measured in the same run.

    python benchmarks/bench_engine.py [--repeat 3]

The reference walks the same trains over the same routes with the same random draws: FIFO
stations with their servers and trains/day caps, legs as delays. It leaves out what the engine
adds on top (vessels that wait for a load, timetabled sailings, closures, storms): those legs
are plain delays there. It prints trains/s, event-log rows/s and the ratio engine/reference.
Both are timed with the cyclic garbage collector paused, as the engine runs its replications.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import itertools
import platform
import time

from sim.engine import run_replication
from sim.scenario import Scenario, load_scenario
from sim.streams import draw, stream


def reference(scenario: Scenario, seed: int, replication: int) -> tuple[int, int]:
    """Trains through FIFO stations with a heap of (time, seq, train, position); returns (trains, rows)."""
    net = scenario.network
    stations: dict[str, tuple[list[float], float, list[float]]] = {}
    for node in net.nodes.values():
        f = node.facility
        if f is not None and (f.process_h is not None or f.trains_per_day):
            stations[node.id] = ([0.0] * f.servers, 24.0 / f.trains_per_day if f.trains_per_day else 0.0, [-1e18])
    heap: list[tuple[float, int, int, int]] = []
    seq = itertools.count()
    trains: list[tuple[tuple[str, ...], tuple[str, ...], dict[str, list[float]], int]] = []
    for service in scenario.services:
        n = len(service.departures_h)
        draws = {}
        for leg_id in service.leg_ids:
            rng = stream(seed, replication, "service", service.name, "leg", leg_id)
            draws["leg:" + leg_id] = draw(net.legs[leg_id].transit_h, rng, n)
        for node_id in service.node_ids[1:-1]:
            f = net.nodes[node_id].facility
            if f is not None and f.process_h is not None:
                rng = stream(seed, replication, "service", service.name, "node", node_id)
                draws["node:" + node_id] = draw(f.process_h, rng, n)
        for k, t in enumerate(service.departures_h):
            trains.append((service.node_ids, service.leg_ids, draws, k))
            heapq.heappush(heap, (t, next(seq), len(trains) - 1, 0))
    rows = 0
    log: list[tuple[int, str, str, float]] = []
    while heap:
        t, _, tid, i = heapq.heappop(heap)
        nodes, legs, draws, k = trains[tid]
        if i == 0:
            log.append((tid, nodes[0], "depart", t))
        else:
            log.append((tid, nodes[i], "arrive", t))
            if i == len(nodes) - 1:
                log.append((tid, nodes[i], "complete", t))
                continue
            st = stations.get(nodes[i])
            if st is not None:
                free, gap, last = st
                best = min(range(len(free)), key=lambda j: max(t, free[j], last[0] + gap))
                start = max(t, free[best], last[0] + gap)
                service_draws = draws.get("node:" + nodes[i])
                end = start + (service_draws[k] if service_draws else 0.0)
                free[best] = end
                last[0] = start
                log.append((tid, nodes[i], "start", start))
                log.append((tid, nodes[i], "end", end))
                t = end
            log.append((tid, nodes[i], "leave", t))
        heapq.heappush(heap, (t + draws["leg:" + legs[i]][k], next(seq), tid, i + 1))
    rows = len(log)
    return len(trains), rows


def timed(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    paused = gc.isenabled()
    gc.disable()  # as run_replication does, so that both are measured alike
    try:
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out
    finally:
        if paused:
            gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="take the best of this many runs of each (default 5)")
    args = parser.parse_args()
    scenario = load_scenario()
    engine_s = ref_s = float("inf")
    for _ in range(args.repeat):  # interleaved, so that both see the same machine
        t, rep = timed(lambda: run_replication(scenario, seed=1, replication=0))
        engine_s = min(engine_s, t)
        t, ref = timed(lambda: reference(scenario, 1, 0))
        ref_s = min(ref_s, t)
    ref_trains, ref_rows = ref  # type: ignore[misc]
    n_trains, n_rows = len(rep.trains), len(rep.events)  # type: ignore[attr-defined]
    print(f"baseline: one replication, {n_trains} trains, Python {platform.python_version()}")
    print(
        f"  engine (SimPy)    {engine_s:7.3f} s  {n_trains / engine_s:10,.0f} trains/s"
        f"  {n_rows / engine_s:12,.0f} events/s"
    )
    print(
        f"  reference (heapq) {ref_s:7.3f} s  {ref_trains / ref_s:10,.0f} trains/s  {ref_rows / ref_s:12,.0f} events/s"
    )
    print(
        f"  ratio engine/reference: {engine_s / ref_s:.2f}x per replication "
        f"(target: within 3x; one replication under 2 s: {'yes' if engine_s < 2 else 'NO'})"
    )


if __name__ == "__main__":
    main()
