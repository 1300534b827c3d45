"""Why a what-if moved nothing: the constraint that binds instead, read from the base run.

A what-if that changes a facility (more servers, more vessels, a longer wait) and leaves every
train that passes it as it was does so for a reason the base run shows: the trains did not
queue there, the vessels left when a wait ran out rather than when full, nothing passes there.
``unchanged_reasons`` says which, in a sentence per changed node, for ``compare`` to print.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from corridors import Facility, Network
from sim.runner import RunResult
from sim.tally import Sample

__all__ = ["MOVED_D", "changed_nodes", "unchanged_reasons"]

#: A change in a service's mean transit below this many days counts as none.
MOVED_D = 0.1


def changed_nodes(base: Network, other: Network) -> list[str]:
    """The nodes whose facility differs between two networks (a what-if's overrides)."""
    return sorted(
        node_id for node_id, node in base.nodes.items() if node_id in other.nodes and other.nodes[node_id] != node
    )


def _merged(samples: Sequence[Sample]) -> np.ndarray:
    values = [np.zeros(s.zeros) for s in samples] + [s.nonzero for s in samples]
    return np.concatenate(values) if values else np.zeros(0)


def unchanged_reasons(base: RunResult, other: RunResult, moved_d: dict[str, float]) -> list[str]:
    """For a what-if whose changed nodes moved no service that passes them (``moved_d``: service ->
    change in mean transit, days), why not, per changed node; [] when some service moved."""
    nodes = changed_nodes(base.scenario.network, other.scenario.network)
    if not nodes:
        return []
    passing = {n: [s.name for s in base.scenario.services if n in s.node_ids] for n in nodes}
    if any(abs(moved_d.get(name, 0.0)) >= MOVED_D for names in passing.values() for name in names):
        return []
    reasons = []
    for node_id in nodes:
        if not passing[node_id]:
            reasons.append(f"{node_id}: no service of {base.scenario.name} passes it.")
            continue
        f = base.scenario.network.nodes[node_id].facility
        reasons.append(f"{node_id}: {_reason(base, node_id, f)}")
    return reasons


def _reason(base: RunResult, node_id: str, f: Facility | None) -> str:
    tallies = [t.nodes[node_id] for t in base.tallies if node_id in t.nodes]
    holds = _merged([t.holds_h for t in tallies])
    waits = _merged([t.waits_h for t in tallies])
    if f is not None and f.dispatch == "max_wait" and f.max_wait_h and len(holds):
        full = float(np.mean(holds >= f.max_wait_h - 1e-6))
        if full >= 0.5:
            return (
                f"{full:.0%} of the trains there wait the full max wait ({f.max_wait_h:g} h) for a vessel: the "
                "vessels leave when the wait runs out, not when full, so more or bigger vessels do not "
                "shorten it (a shorter max_wait_h would)."
            )
    if len(waits) and float(np.mean(waits)) < 1.0:
        busy = sum(t.busy_h for t in tallies) / max(len(base.tallies), 1)
        window_h = max(base.scenario.end_h, 1.0)
        servers = f.servers if f is not None else 1
        return (
            f"trains hardly queue there (mean wait {float(np.mean(waits)):.2f} h; servers busy "
            f"{busy / (window_h * servers):.0%} of the time): more capacity cannot shorten a wait that is not there."
        )
    if len(holds) and float(np.mean(holds)) >= 1.0:
        return (
            f"the trains there wait {float(np.mean(holds)):.1f} h on average after service (for a vessel, a "
            "sailing or an opening): that wait, not the changed capacity, decides when they leave."
        )
    return "the trains that pass it were not held there in the base run: the time goes elsewhere on their routes."
