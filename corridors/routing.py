"""Routing over the leg graph: best and k alternative routes by time, distance or cost, with avoidance."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from corridors.errors import InputError, Parameter
from corridors.model import Leg, Network
from corridors.units import HOURS_PER_DAY

__all__ = ["WEIGHTS", "Route", "resolve_avoid", "route"]

#: What a route can be optimised for, and the unit of its weight.
WEIGHTS = {"time": "h", "distance": "km", "cost": "USD/FEU", "generalised": "USD/FEU"}
#: The default value of a day in transit for the generalised cost (USD per FEU per day): an estimate.
DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY = 100.0


@dataclass(frozen=True)
class Route:
    """One route: the nodes visited, the legs taken, and its total weight in the unit of ``by``."""

    node_ids: tuple[str, ...]
    leg_ids: tuple[str, ...]
    weight: float
    by: str


def resolve_avoid(network: Network, avoid: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """Split avoid tokens into country codes and node ids; unknown tokens are an ``InputError``."""
    if isinstance(avoid, str):
        avoid = avoid.split(",")
    countries, nodes = set(), set()
    known_countries = network.countries
    for raw in avoid:
        if not isinstance(raw, str):
            raise InputError(Parameter("avoid"), f": {raw!r} is not a country code or node id")
        token = raw.strip()
        if not token:
            continue
        if token.upper() in network.nodes:
            nodes.add(token.upper())
        elif token.upper() in known_countries:
            countries.add(token.upper())
        else:
            raise InputError(
                Parameter("avoid"),
                f" {token!r} is neither a node id nor a country on the network "
                f"(countries: {', '.join(sorted(known_countries))})",
            )
    return frozenset(countries), frozenset(nodes)


def route(
    network: Network,
    origin: str,
    destination: str,
    *,
    by: str = "time",
    avoid: Iterable[str] = (),
    avoid_legs: Iterable[str] = (),
    k: int = 1,
    value_of_time_usd_per_feu_day: float = DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY,
) -> list[Route]:
    """The ``k`` best loop-free routes from ``origin`` to ``destination``, best first.

    ``by`` is ``time`` (expected leg transit plus mean processing at the nodes passed),
    ``distance``, ``cost``, or ``generalised``: cost plus expected days times
    ``value_of_time_usd_per_feu_day``. ``avoid_legs`` lists leg ids no route may take (a closed line).
    ``avoid`` lists country codes and node ids that no route may
    touch. Returns fewer than ``k`` routes (or none) when fewer exist.
    """
    if by not in WEIGHTS:
        raise InputError(Parameter("by"), f" {by!r} must be one of: {', '.join(WEIGHTS)}")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InputError(Parameter("k"), f" {k!r} must be a whole number of at least 1")
    start, end = network.node(str(origin).upper()), network.node(str(destination).upper())
    if start.id == end.id:
        raise InputError(f"origin and destination are the same node ({origin})")
    countries, avoided_nodes = resolve_avoid(network, avoid)
    banned = {n.id for n in network.nodes.values() if n.id in avoided_nodes or countries & set(n.countries)}
    for node, role in ((start, "origin"), (end, "destination")):
        if node.id in banned:
            raise InputError(f"the {role} {node.id} ({node.country}) is among the avoided countries or nodes")

    adjacency: dict[str, list[tuple[Leg, str]]] = {n: [] for n in network.nodes}
    closed_legs = set(avoid_legs)
    for leg in sorted(network.legs.values(), key=lambda leg: leg.id):
        if countries & set(leg.countries) or leg.id in closed_legs:
            continue
        adjacency[leg.from_id].append((leg, leg.to_id))
        adjacency[leg.to_id].append((leg, leg.from_id))

    per_hour = value_of_time_usd_per_feu_day / HOURS_PER_DAY

    def step_weight(leg: Leg, to_id: str) -> float:
        node = network.nodes[to_id]
        hours = leg.transit_h.mean_h
        fee = 0.0
        if to_id != end.id and node.facility is not None:
            hours += node.expected_process_h
            fee = node.facility.fee_usd_per_feu or 0.0
        if by == "time":
            return hours
        if by == "distance":
            return leg.distance_km
        if by == "cost":
            return leg.cost_usd_per_feu + fee
        return leg.cost_usd_per_feu + fee + per_hour * hours

    def path_weight(nodes: tuple[str, ...], legs: tuple[str, ...]) -> float:
        return sum(step_weight(network.legs[leg_id], nodes[i + 1]) for i, leg_id in enumerate(legs))

    first = _dijkstra(adjacency, start.id, end.id, step_weight, frozenset(banned), frozenset())
    if first is None:
        return []
    found = [first]
    candidates: list[tuple[float, tuple[str, ...], tuple[str, ...]]] = []
    seen = {first[1]}
    while len(found) < k:
        nodes, legs = found[-1]
        for j in range(len(nodes) - 1):
            root_nodes, root_legs = nodes[: j + 1], legs[:j]
            cut_legs = frozenset(p[1][j] for p in found if p[0][: j + 1] == root_nodes and len(p[1]) > j)
            spur = _dijkstra(
                adjacency, nodes[j], end.id, step_weight, frozenset(banned) | frozenset(root_nodes[:-1]), cut_legs
            )
            if spur is None:
                continue
            full = (root_nodes[:-1] + spur[0], root_legs + spur[1])
            if full[1] in seen:
                continue
            seen.add(full[1])
            heapq.heappush(candidates, (path_weight(*full), full[1], full[0]))
        if not candidates:
            break
        _, best_legs, best_nodes = heapq.heappop(candidates)
        found.append((best_nodes, best_legs))
    return [Route(nodes, legs, round(path_weight(nodes, legs), 3), by) for nodes, legs in found]


def _dijkstra(
    adjacency: dict[str, list[tuple[Leg, str]]],
    source: str,
    target: str,
    weight: Callable[[Leg, str], float],
    banned_nodes: frozenset[str],
    banned_legs: frozenset[str],
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    counter = itertools.count()
    best = {source: 0.0}
    back: dict[str, tuple[str, str]] = {}
    heap = [(0.0, next(counter), source)]
    done: set[str] = set()
    while heap:
        cost, _, here = heapq.heappop(heap)
        if here in done:
            continue
        done.add(here)
        if here == target:
            nodes, legs = [target], []
            while nodes[-1] != source:
                prev, leg_id = back[nodes[-1]]
                nodes.append(prev)
                legs.append(leg_id)
            return tuple(reversed(nodes)), tuple(reversed(legs))
        for leg, there in adjacency[here]:
            if there in banned_nodes or leg.id in banned_legs or there in done:
                continue
            new = cost + weight(leg, there)
            if new < best.get(there, float("inf")):
                best[there] = new
                back[there] = (here, leg.id)
                heapq.heappush(heap, (new, next(counter), there))
    return None
