"""What-ifs on top of a scenario: parameter overrides on the network, bans, and rerouting."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from corridors import DataError, Distribution, InputError, Network, Node, route
from corridors.loader import SPEED_KPH
from corridors.schema import FIELD_BOUNDS, Record, dispatch_problem

if TYPE_CHECKING:
    from sim.scenario import Closure, Service

__all__ = [
    "LEG_FIELDS",
    "NODE_FIELDS",
    "SERVICE_FIELDS",
    "apply_overrides",
    "apply_service_overrides",
    "main_mode",
    "reroute",
]

#: Service fields an override may set (value) or scale (factor).
SERVICE_FIELDS = ("trains_per_week", "wagons", "teu")

#: Facility fields an override may set (value) or scale (factor).
NODE_FIELDS = (
    "servers",
    "process_h",
    "trains_per_day",
    "yard_capacity_trains",
    "vessels",
    "vessel_capacity_wagons",
    "vessel_capacity_teu",
    "max_wait_h",
    "sailings_per_week",
    "dispatch",
)
#: The facility fields that only a node with vessels has.
VESSEL_FIELDS = frozenset(NODE_FIELDS[4:])
#: Leg fields an override may set (value) or scale (factor).
LEG_FIELDS = ("transit_h", "capacity_trains_per_day", "cost_usd_per_feu")
_INTEGER = {"servers", "yard_capacity_trains", "vessels", "vessel_capacity_wagons", "vessel_capacity_teu"}


def apply_overrides(network: Network, records: Iterable[Record]) -> Network:
    """A copy of ``network`` with each ``[[overrides]]`` record applied.

    An override names a ``node`` (its facility) or a ``leg``, a ``field``, and either ``value``
    (with a ``source``: every number names one) or ``factor`` (a multiplier; for a duration it
    scales min, typical and max). What comes out must pass the network loader's checks: each
    field within ``FIELD_BOUNDS`` (a factor too: factor × the data's value), a leg's speed
    plausible for its mode, and a facility's dispatch rule complete (timetable needs sailings,
    max_wait a maximum wait, vessels to dispatch).
    """
    nodes = dict(network.nodes)
    legs = dict(network.legs)
    touched: dict[str, Record] = {}  # node id -> the last override that changed it
    dispatched: dict[str, Record] = {}  # node id -> the override that set its dispatch rule
    for rec in records:
        node_id = rec.text("node", required=False) or None
        leg_id = rec.text("leg", required=False) or None
        if bool(node_id) == bool(leg_id):
            raise rec.error("node", node_id, "give exactly one of node or leg")
        fields = NODE_FIELDS if node_id else LEG_FIELDS
        field = rec.choice("field", fields)
        assert field is not None
        has_value, has_factor = rec.has("value"), rec.has("factor")
        if has_value == has_factor:
            raise rec.error("factor" if has_factor else "value", None, "give value or factor, not both and not neither")
        if field == "dispatch":
            new: object = rec.choice("value", ("timetable", "when_full", "max_wait"))
            if has_factor:
                raise rec.error("factor", rec.raw("factor"), "dispatch takes a value")
        elif has_value:
            lo, hi = FIELD_BOUNDS[field]
            number = rec.number("value", positive=True, integer=field in _INTEGER, lo=lo, hi=hi)
            rec.sources_of("source")
            new = int(number) if field in _INTEGER and number is not None else number
        else:
            factor = rec.number("factor", positive=True, lo=0, hi=100)
            assert factor is not None
            new = ("factor", factor)
        rec.sources_of("source", required=False)
        rec.text("note", required=False)
        rec.finish()
        if node_id:
            node = nodes.get(node_id)
            if node is None:
                raise rec.error("node", node_id, "is not a node of the network")
            if node.facility is None:
                raise rec.error("node", node_id, "has no facility to change")
            f = node.facility
            if field in VESSEL_FIELDS and not (f.vessel_capacity_wagons or f.vessel_capacity_teu):
                raise rec.error(
                    "field",
                    field,
                    f"does not apply: {node_id} has no vessels (not a ferry terminal or port with sailings)",
                )
            if field == "yard_capacity_trains" and f.dispatch is not None:
                raise rec.error("field", field, f"does not apply: {node_id} moves trains by vessel, not through a yard")
            if field in ("servers", "process_h") and f.process_h is None:
                raise rec.error("field", field, f"does not apply: {node_id} processes no trains")
            current = getattr(node.facility, field)
            value = _changed(rec, field, current, new)
            changes: dict[str, Any] = {field: value}
            nodes[node_id] = dataclasses.replace(node, facility=dataclasses.replace(node.facility, **changes))
            touched[node_id] = rec
            if field == "dispatch":
                dispatched[node_id] = rec
        else:
            assert leg_id is not None
            leg = legs.get(leg_id)
            if leg is None:
                raise rec.error("leg", leg_id, "is not a leg of the network")
            leg_changes: dict[str, Any] = {field: _changed(rec, field, getattr(leg, field), new)}
            changed = dataclasses.replace(leg, **leg_changes)
            if field == "transit_h":
                _check_speed(rec, changed)
            legs[leg_id] = changed
    for node_id, rec in touched.items():
        _check_dispatch(dispatched.get(node_id, rec), nodes[node_id])
    return dataclasses.replace(network, nodes=MappingProxyType(nodes), legs=MappingProxyType(legs))


def _check_speed(rec: Record, leg: Any) -> None:
    """A leg's new transit time must give a speed the loader would accept for its mode."""
    low, high = SPEED_KPH[leg.mode]
    speed = leg.distance_km / leg.transit_h.mean_h
    if not low <= speed <= high:
        key = "factor" if rec.has("factor") else "value"
        raise rec.error(
            key,
            rec.raw(key),
            f"gives leg {leg.id} an average speed of {speed:,.1f} km/h over {leg.distance_km:,.0f} km in "
            f"{leg.transit_h.mean_h:,.1f} h; a {leg.mode} leg should be within {low}-{high} km/h",
        )


def _check_dispatch(rec: Record, node: Node) -> None:
    """After the overrides, a node's dispatch rule must have what it needs (as in nodes.toml)."""
    f = node.facility
    assert f is not None
    problem = dispatch_problem(
        f.dispatch,
        vessel_capacity=bool(f.vessel_capacity_wagons or f.vessel_capacity_teu),
        vessels=bool(f.vessels),
        max_wait_h=f.max_wait_h is not None,
        sailings_per_week=f.sailings_per_week is not None,
    )
    if problem:
        raise rec.error(
            "value" if rec.has("value") else "factor",
            rec.raw("value") if rec.has("value") else rec.raw("factor"),
            f"leaves {node.id} with dispatch {f.dispatch!r}, which {problem}: trains would wait there for "
            "ever (set that field too, or keep the data's dispatch)",
        )


def apply_service_overrides(services: dict[str, Service], records: Iterable[Record], start: Any) -> None:
    """Apply ``[[overrides]]`` records that name a ``service`` (its trains a week, wagons or TEU).

    The result must pass the [[services]] checks: each field within ``SERVICE_BOUNDS`` (factor ×
    the service's value too), and the TEU fitting on the wagons. More or fewer trains a week
    rebuild the service's timetable over its own window and weekdays.
    """
    from sim.scenario import SERVICE_BOUNDS, _rate, teu_problem, timetable

    for rec in records:
        name = rec.text("service")
        if name not in services:
            raise rec.error("service", name, f"is not a service of the scenario ({', '.join(services)})")
        field = rec.choice("field", SERVICE_FIELDS)
        assert field is not None
        lo, hi = SERVICE_BOUNDS[field]
        has_value, has_factor = rec.has("value"), rec.has("factor")
        if has_value == has_factor:
            raise rec.error("factor" if has_factor else "value", None, "give value or factor, not both and not neither")
        if has_value:
            number = rec.number("value", positive=True, lo=lo, hi=hi, integer=field == "wagons")
            rec.sources_of("source")
        else:
            number = rec.number("factor", positive=True, lo=0, hi=100)
            rec.sources_of("source", required=False)
        rec.text("note", required=False)
        rec.finish()
        assert number is not None
        s = services[name]
        current = {
            "trains_per_week": s.trains_per_week or _rate(s),
            "wagons": float(s.wagons),
            "teu": s.teu,
        }[field]
        value = number if has_value else current * number
        if field == "wagons":
            value = float(max(1, round(value)))
        key = "value" if has_value else "factor"
        if not lo <= value <= hi:
            raise rec.error(
                key,
                number,
                f"gives {name} {field} = {value:g} (× its {current:g}); it must be within [{lo:g}, {hi:g}]",
            )
        if field == "trains_per_week":
            begin = start + dt.timedelta(hours=s.window_h[0])
            end = start + dt.timedelta(hours=s.window_h[1])
            services[name] = dataclasses.replace(
                s, departures_h=timetable(value, s.weekdays, begin, end, start), trains_per_week=value
            )
            continue
        wagons, teu = (int(value), s.teu) if field == "wagons" else (s.wagons, value)
        problem = teu_problem(wagons, teu)
        if problem:
            raise rec.error(key, number, f"gives {name} {teu:g} TEU on {wagons} wagons, which {problem}")
        services[name] = dataclasses.replace(s, wagons=wagons, teu=teu)


def _changed(rec: Record, field: str, current: object, new: object) -> object:
    if not (isinstance(new, tuple) and new and new[0] == "factor"):
        if isinstance(current, Distribution) and isinstance(new, (int, float)):
            raise rec.error("value", new, f"{field} is a duration: scale it with factor")
        return new
    factor = float(new[1])
    if current is None:
        raise rec.error("field", field, "is not set there, so there is nothing to scale: give a value")
    lo, hi = FIELD_BOUNDS.get(field, (0.0, float("inf")))
    if isinstance(current, Distribution):
        scaled_dist = current.scaled(factor)
        if scaled_dist.min_h < lo or scaled_dist.max_h > hi:
            raise rec.error(
                "factor",
                factor,
                f"gives {field} {scaled_dist.min_h:g}-{scaled_dist.max_h:g} h; it must lie within [{lo:g}, {hi:g}] h",
            )
        return scaled_dist
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise rec.error("field", field, "cannot be scaled")
    scaled = current * factor
    if field in _INTEGER:
        scaled = max(1, round(scaled))
    if not lo <= scaled <= hi:
        raise rec.error(
            "factor", factor, f"gives {field} = {scaled:g} (× {current:g}); it must be within [{lo:g}, {hi:g}]"
        )
    return scaled


def main_mode(network: Network, leg_ids: Sequence[str]) -> str:
    """The mode that carries a route the farthest."""
    km: dict[str, float] = {}
    for leg_id in leg_ids:
        leg = network.legs[leg_id]
        km[leg.mode] = km.get(leg.mode, 0.0) + leg.distance_km
    return max(km, key=km.__getitem__)


def reroute(
    services: Sequence[Service],
    network: Network,
    *,
    countries: Sequence[str],
    nodes: Sequence[str],
    closures: Sequence[Closure],
    threshold_h: float | None,
    by: str,
    file: str,
    value_of_time_usd_per_feu_day: float = 100.0,
    start: dt.datetime | None = None,
) -> list[Service]:
    """Move services off banned countries and nodes, and off places closed for longer than ``threshold_h``.

    A service that touches one takes the best remaining route between its ends (by ``by``) whose
    main haul goes by the same mode (a sea service stays at sea);
    it keeps its name and timetable and remembers the route it left and why. A service that a
    ban leaves with no route is a ``DataError`` naming it and what cut it off; one that only a
    closure cuts off keeps its route (its trains wait). ``threshold_h`` None: closures never
    reroute.
    """
    banned_countries = set(countries)
    limit = threshold_h if threshold_h is not None else float("inf")
    closed_nodes = {c.node for c in closures if c.node and c.end_h - c.start_h > limit}
    closed_legs = {c.leg for c in closures if c.leg and c.end_h - c.start_h > limit}
    avoid_nodes = set(nodes) | closed_nodes
    out = []
    for service in services:
        reasons = []
        for node_id in service.node_ids:
            node = network.nodes[node_id]
            hit = banned_countries & set(node.countries)
            if hit:
                reasons.append(f"{node_id} is in {'/'.join(sorted(hit))}")
            if node_id in nodes:
                reasons.append(f"{node_id} is banned")
            if node_id in closed_nodes:
                reasons.append(f"{node_id} is closed for more than {limit / 24:g} days")
        for leg_id in service.leg_ids:
            hit = banned_countries & set(network.legs[leg_id].countries)
            if hit:
                reasons.append(f"leg {leg_id} crosses {'/'.join(sorted(hit))}")
            if leg_id in closed_legs:
                reasons.append(f"leg {leg_id} is closed for more than {limit / 24:g} days")
        if not reasons:
            out.append(service)
            continue
        origin, destination = service.node_ids[0], service.node_ids[-1]
        cut = "; ".join(dict.fromkeys(reasons))
        # keep the main haul's mode: a ship goes round the Cape rather than onto a train. First look
        # without the other modes' long hauls, then among every route.
        main = main_mode(network, service.leg_ids)
        long_other = {leg.id for leg in network.legs.values() if leg.mode != main and leg.distance_km > 2500}
        found = []
        for extra, k in ((long_other, 12), (set(), 60)):
            try:
                options = route(
                    network,
                    origin,
                    destination,
                    by=by,
                    avoid=[*banned_countries, *avoid_nodes],
                    avoid_legs=closed_legs | extra,
                    k=k,
                    value_of_time_usd_per_feu_day=value_of_time_usd_per_feu_day,
                )
            except InputError as exc:
                raise DataError(
                    file,
                    f"service {service.name}",
                    "route",
                    " – ".join(service.node_ids[:1]),
                    f"cannot be rerouted: {exc}",
                ) from None
            found = [r for r in options if main_mode(network, r.leg_ids) == main][:1]
            if found:
                break
        banned_here = any("is in" in r or "banned" in r or "crosses" in r for r in reasons)
        if not found and not banned_here:
            out.append(service)  # only closures cut it off: it keeps its route and waits
            continue
        if not found:
            raise DataError(
                file,
                f"service {service.name}",
                "route",
                f"{origin} -> {destination}",
                f"no route is left once the bans and closures apply ({cut})",
            )
        if not banned_here:  # only closures: the trains that would meet one take the detour
            window = _meeting_window(network, service, closures, closed_nodes, closed_legs)
            if window[0] > service.window_h[0] or window[1] < service.window_h[1]:
                out.append(
                    dataclasses.replace(
                        service,
                        detour=(window[0], window[1], found[0].node_ids, found[0].leg_ids),
                        reroute_reason=f"{cut}; trains leaving {_when(window[0], start)} to "
                        f"{_when(window[1], start)} take the detour",
                    )
                )
                continue
        out.append(
            dataclasses.replace(
                service,
                node_ids=found[0].node_ids,
                leg_ids=found[0].leg_ids,
                corridor=None,
                rerouted_from=service.node_ids,
                reroute_reason=cut,
            )
        )
    return out


def _when(hours: float, start: dt.datetime | None) -> str:
    if start is None:
        return f"hour {hours:.0f}"
    return (start + dt.timedelta(hours=hours)).strftime("%Y-%m-%d %H:00")


def _meeting_window(
    network: Network, service: Service, closures: Sequence[Closure], closed_nodes: set[str], closed_legs: set[str]
) -> tuple[float, float]:
    """Departure hours of the trains that would reach a long closure on the service's route while it lasts."""
    from corridors import summarize_path

    lo, hi = float("inf"), float("-inf")
    for i, node_id in enumerate(service.node_ids):
        leg_id = service.leg_ids[i] if i < len(service.leg_ids) else None
        hits = [
            c
            for c in closures
            if (c.node == node_id and node_id in closed_nodes)
            or (leg_id is not None and c.leg == leg_id and leg_id in closed_legs)
        ]
        if not hits:
            continue
        offset = 0.0
        if i:
            offset = summarize_path(network, service.node_ids[: i + 1], service.leg_ids[:i]).total.mean_h
        for c in hits:
            lo = min(lo, c.start_h - offset - 48.0)  # a margin: trains run late
            hi = max(hi, c.end_h - offset)
    return lo, hi
