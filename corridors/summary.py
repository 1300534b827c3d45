"""Totals along a path of legs: distance, expected transit, gauge breaks, cost, CO2 — and their JSON form."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from corridors.errors import InputError
from corridors.model import Corridor, Leg, Network, Node
from corridors.units import days

__all__ = ["GaugeBreak", "PathSummary", "Span", "node_dict", "summarize_corridor", "summarize_path"]


@dataclass(frozen=True)
class Span:
    """A duration in hours: the sum of minima, of means and of maxima along a path."""

    min_h: float
    mean_h: float
    max_h: float

    def __add__(self, other: Span) -> Span:
        return Span(self.min_h + other.min_h, self.mean_h + other.mean_h, self.max_h + other.max_h)

    def to_dict(self) -> dict[str, float]:
        return {"min": round(self.min_h, 2), "mean": round(self.mean_h, 2), "max": round(self.max_h, 2)}


_ZERO = Span(0.0, 0.0, 0.0)


@dataclass(frozen=True)
class GaugeBreak:
    """Where a path changes rail gauge."""

    node_id: str
    from_gauge_mm: int
    to_gauge_mm: int


@dataclass(frozen=True)
class Step:
    """One leg of a path, in the direction of travel."""

    leg: Leg
    from_id: str
    to_id: str


@dataclass(frozen=True)
class PathSummary:
    """A path through the network and its totals.

    ``moving`` sums the legs' transit-time distributions; ``processing`` sums the mean
    processing at every node between the ends (no queueing: the simulation adds that).
    """

    nodes: tuple[Node, ...]
    steps: tuple[Step, ...]
    total_distance_km: float
    moving: Span
    processing: Span
    cost_usd_per_feu: float
    co2_kg_per_teu: float
    gauge_breaks: tuple[GaugeBreak, ...]

    @property
    def total(self) -> Span:
        return self.moving + self.processing

    @property
    def countries(self) -> tuple[str, ...]:
        """Countries passed (at nodes and along legs), in order, each once."""
        passed = list(self.nodes[0].countries)
        for step, node in zip(self.steps, self.nodes[1:], strict=True):
            passed += step.leg.countries
            passed += node.countries
        return tuple(dict.fromkeys(passed))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form shared by ``show`` and ``route`` (see docs/json.md)."""
        return {
            "nodes": [
                {
                    **node_dict(n),
                    "process_h_mean": round(n.expected_process_h, 2) if 0 < i < len(self.nodes) - 1 else 0.0,
                }
                for i, n in enumerate(self.nodes)
            ],
            "legs": [
                {
                    "id": s.leg.id,
                    "from": s.from_id,
                    "to": s.to_id,
                    "mode": s.leg.mode,
                    "gauge_mm": s.leg.gauge_mm,
                    "distance_km": s.leg.distance_km,
                    "distance_computed": s.leg.distance_computed,
                    "transit_h": Span(s.leg.transit_h.min_h, s.leg.transit_h.mean_h, s.leg.transit_h.max_h).to_dict(),
                    "cost_usd_per_feu": s.leg.cost_usd_per_feu,
                    "co2_kg_per_teu": round(s.leg.co2_kg_per_teu, 1),
                    "countries": list(s.leg.countries),
                }
                for s in self.steps
            ],
            "gauge_breaks": [
                {"node": g.node_id, "from_gauge_mm": g.from_gauge_mm, "to_gauge_mm": g.to_gauge_mm}
                for g in self.gauge_breaks
            ],
            "countries": list(self.countries),
            "total_distance_km": round(self.total_distance_km, 1),
            "moving_h": self.moving.to_dict(),
            "processing_h": self.processing.to_dict(),
            "transit_h": self.total.to_dict(),
            "transit_d": {k: round(days(v), 2) for k, v in self.total.to_dict().items()},
            "cost_usd_per_feu": round(self.cost_usd_per_feu),
            "co2_kg_per_teu": round(self.co2_kg_per_teu, 1),
        }


def node_dict(node: Node) -> dict[str, Any]:
    """A node's JSON form: id, name, country, kinds, lat, lon."""
    return {
        "id": node.id,
        "name": node.name,
        "country": node.country,
        "kinds": list(node.kinds),
        "lat": node.lat,
        "lon": node.lon,
    }


def summarize_path(network: Network, node_ids: Sequence[str], leg_ids: Sequence[str]) -> PathSummary:
    """Totals for the path visiting ``node_ids`` over ``leg_ids`` (one leg fewer than nodes)."""
    if len(leg_ids) != len(node_ids) - 1 or not leg_ids:
        raise InputError(f"a path has one leg fewer than nodes, got {len(node_ids)} nodes and {len(leg_ids)} legs")
    nodes = tuple(network.node(n) for n in node_ids)
    for i, leg_id in enumerate(leg_ids):
        if leg_id not in network.legs:
            raise InputError(f"unknown leg {leg_id!r}")
        leg = network.legs[leg_id]
        if {leg.from_id, leg.to_id} != {node_ids[i], node_ids[i + 1]}:
            raise InputError(
                f"leg {leg_id} joins {leg.from_id} and {leg.to_id}, not {node_ids[i]} and {node_ids[i + 1]}"
            )
    steps = tuple(Step(network.legs[leg_id], node_ids[i], node_ids[i + 1]) for i, leg_id in enumerate(leg_ids))
    moving = _ZERO
    for step in steps:
        t = step.leg.transit_h
        moving = moving + Span(t.min_h, t.mean_h, t.max_h)
    processing = _ZERO
    fees = 0.0
    for node in nodes[1:-1]:
        facility = node.facility
        if facility is None:
            continue
        if facility.process_h is not None:
            p = facility.process_h
            processing = processing + Span(p.min_h, p.mean_h, p.max_h)
        fees += facility.fee_usd_per_feu or 0.0
    breaks = []
    for before, after in itertools.pairwise(steps):
        g1, g2 = before.leg.gauge_mm, after.leg.gauge_mm
        if g1 is not None and g2 is not None and g1 != g2:
            breaks.append(GaugeBreak(before.to_id, g1, g2))
    return PathSummary(
        nodes=nodes,
        steps=steps,
        total_distance_km=sum(s.leg.distance_km for s in steps),
        moving=moving,
        processing=processing,
        cost_usd_per_feu=sum(s.leg.cost_usd_per_feu for s in steps) + fees,
        co2_kg_per_teu=sum(s.leg.co2_kg_per_teu for s in steps),
        gauge_breaks=tuple(breaks),
    )


def summarize_corridor(network: Network, corridor: Corridor | str) -> PathSummary:
    """Totals along a named corridor."""
    if isinstance(corridor, str):
        corridor = network.corridor(corridor)
    return summarize_path(network, corridor.node_ids, corridor.leg_ids)
