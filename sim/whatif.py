"""What-ifs on top of a scenario: parameter overrides on the network, bans, and rerouting."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from corridors import DataError, Distribution, InputError, Network, Node, route
from corridors.loader import SPEED_KPH
from corridors.routing import DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY, Route
from corridors.schema import FIELD_BOUNDS, dispatch_problem, with_fit
from corridors.units import days as to_days
from sim.model import Closure, RerouteReason, Service, service_rate, timetable
from sim.spec import INTEGER_FIELDS, LEG_FIELDS, NODE_FIELDS, SERVICE_BOUNDS, SERVICE_FIELDS, OverrideSpec, teu_problem

__all__ = [
    "LEG_FIELDS",
    "NODE_FIELDS",
    "SERVICE_FIELDS",
    "apply_overrides",
    "apply_service_overrides",
    "main_mode",
    "reroute",
]

#: The facility fields of an administrative hold, which any node with a facility may have.
HOLD_FIELDS = frozenset({"hold_probability", "hold_h"})
#: The facility fields that only a node with vessels has (named, not taken by position from
#: ``NODE_FIELDS``, where fields that any facility may have follow them).
VESSEL_FIELDS = frozenset(
    {"vessels", "vessel_capacity_wagons", "vessel_capacity_teu", "max_wait_h", "sailings_per_week", "dispatch"}
)


def apply_overrides(network: Network, overrides: Iterable[OverrideSpec]) -> Network:
    """A copy of ``network`` with each node or leg override applied (``sim.spec.parse_override``).

    An override names a ``node`` (its facility) or a ``leg``, a ``field``, and either a value or
    a factor (a multiplier; for a duration it scales min, typical and max). What comes out must
    pass the network loader's checks: each field within ``FIELD_BOUNDS`` (a factor too: factor ×
    the data's value), a leg's speed plausible for its mode, and a facility's dispatch rule
    complete (timetable needs sailings, max_wait a maximum wait, vessels to dispatch).
    """
    nodes = dict(network.nodes)
    legs = dict(network.legs)
    touched: dict[str, OverrideSpec] = {}  # node id -> the last override that changed it
    dispatched: dict[str, OverrideSpec] = {}  # node id -> the override that set its dispatch rule
    for o in overrides:
        new: object = o.value if o.factor is None else ("factor", o.factor)
        if o.node:
            node = nodes.get(o.node)
            if node is None:
                raise o.where.error("node", o.node, "is not a node of the network")
            f = node.facility
            if f is None:
                raise o.where.error("node", o.node, "has no facility to change")
            if o.field in VESSEL_FIELDS and not (f.vessel_capacity_wagons or f.vessel_capacity_teu):
                raise o.where.error(
                    "field",
                    o.field,
                    f"does not apply: {o.node} has no vessels (not a ferry terminal or port with sailings)",
                )
            if o.field == "yard_capacity_trains" and f.dispatch is not None:
                raise o.where.error(
                    "field", o.field, f"does not apply: {o.node} moves trains by vessel, not through a yard"
                )
            if o.field in ("servers", "process_h") and f.process_h is None:
                raise o.where.error("field", o.field, f"does not apply: {o.node} processes no trains")
            if o.field == "hold_probability" and f.hold_h is None:
                raise o.where.error(
                    "field", o.field, f"does not apply: {o.node} has no administrative hold (hold_h) in the data"
                )
            changes: dict[str, Any] = {o.field: _changed(o, getattr(f, o.field), new)}
            if o.fitted_to:
                changes["notes"] = _fitted_notes(o, f.notes)
            nodes[o.node] = dataclasses.replace(node, facility=dataclasses.replace(f, **changes))
            touched[o.node] = o
            if o.field == "dispatch":
                dispatched[o.node] = o
        else:
            assert o.leg is not None
            leg = legs.get(o.leg)
            if leg is None:
                raise o.where.error("leg", o.leg, "is not a leg of the network")
            leg_changes: dict[str, Any] = {o.field: _changed(o, getattr(leg, o.field), new)}
            if o.fitted_to:
                leg_changes["notes"] = _fitted_notes(o, leg.notes)
            changed = dataclasses.replace(leg, **leg_changes)
            if o.field == "transit_h":
                _check_speed(o, changed)
            legs[o.leg] = changed
    for node_id, o in touched.items():
        _check_dispatch(dispatched.get(node_id, o), nodes[node_id])
    return dataclasses.replace(network, nodes=MappingProxyType(nodes), legs=MappingProxyType(legs))


def _fitted_notes(o: OverrideSpec, notes: Mapping[str, str]) -> Mapping[str, str]:
    """The notes with the changed field's saying what the override's value was fitted to: a new
    value replaces the data's note, a factor (on the data's value) adds to it."""
    mine = with_fit(o.note, o.fitted_to)
    old = notes.get(o.field, "")
    note = mine if o.factor is None or not old else f"{old}; {mine}"
    return MappingProxyType({**notes, o.field: note})


def _check_speed(o: OverrideSpec, leg: Any) -> None:
    """A leg's new transit time must give a speed the loader would accept for its mode."""
    low, high = SPEED_KPH[leg.mode]
    speed = leg.distance_km / leg.transit_h.mean_h
    if not low <= speed <= high:
        raise o.where.error(
            o.key,
            o.given,
            f"gives leg {leg.id} an average speed of {speed:,.1f} km/h over {leg.distance_km:,.0f} km in "
            f"{leg.transit_h.mean_h:,.1f} h; a {leg.mode} leg should be within {low}-{high} km/h",
        )


def _check_dispatch(o: OverrideSpec, node: Node) -> None:
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
        raise o.where.error(
            o.key,
            o.given,
            f"leaves {node.id} with dispatch {f.dispatch!r}, which {problem}: trains would wait there for "
            "ever (set that field too, or keep the data's dispatch)",
        )


def apply_service_overrides(services: dict[str, Service], overrides: Iterable[OverrideSpec], start: Any) -> None:
    """Apply the overrides that name a ``service`` (its trains a week, wagons or TEU) in place.

    The result must pass the [[services]] checks: each field within ``SERVICE_BOUNDS`` (factor ×
    the service's value too), and the TEU fitting on the wagons. More or fewer trains a week
    rebuild the service's timetable over its own window and weekdays.
    """
    for o in overrides:
        name = o.service
        assert name is not None
        if name not in services:
            raise o.where.error("service", name, f"is not a service of the scenario ({', '.join(services)})")
        lo, hi = SERVICE_BOUNDS[o.field]
        s = services[name]
        current = {"trains_per_week": service_rate(s), "wagons": float(s.wagons), "teu": s.teu}[o.field]
        number = o.value if o.factor is None else o.factor
        assert isinstance(number, float)
        value = number if o.factor is None else current * number
        if o.field == "wagons":
            value = float(max(1, round(value)))
        if not lo <= value <= hi:
            raise o.where.error(
                o.key,
                number,
                f"gives {name} {o.field} = {value:g} (× its {current:g}); it must be within [{lo:g}, {hi:g}]",
            )
        if o.field == "trains_per_week":
            begin = start + dt.timedelta(hours=s.window_h[0])
            end = start + dt.timedelta(hours=s.window_h[1])
            services[name] = dataclasses.replace(
                s, departures_h=timetable(value, s.weekdays, begin, end, start), trains_per_week=value
            )
            continue
        wagons, teu = (int(value), s.teu) if o.field == "wagons" else (s.wagons, value)
        problem = teu_problem(wagons, teu)
        if problem:
            raise o.where.error(o.key, number, f"gives {name} {teu:g} TEU on {wagons} wagons, which {problem}")
        services[name] = dataclasses.replace(s, wagons=wagons, teu=teu)


def _changed(o: OverrideSpec, current: object, new: object) -> object:
    field = o.field
    rec = o.where
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
    if field in INTEGER_FIELDS:
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
    value_of_time_usd_per_feu_day: float = DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY,
    start: dt.datetime | None = None,
) -> list[Service]:
    """Move services off banned countries and nodes, and off places closed for longer than ``threshold_h``.

    A service that touches one takes the best remaining route between its ends (by ``by``) whose
    main haul goes by the same mode (a sea service stays at sea);
    it keeps its name and timetable and remembers the route it left and why (``rerouted_by``, and
    the places in words in ``reroute_reason``). A service that a ban leaves with no route is a
    ``DataError`` naming it and what cut it off; one that only a closure cuts off keeps its route
    (its trains wait). ``threshold_h`` None: closures never reroute.
    """
    limit = threshold_h if threshold_h is not None else float("inf")
    cut_off = _CutOff(
        countries=frozenset(countries),
        nodes=frozenset(nodes),
        closed_nodes=frozenset(c.node for c in closures if c.node and c.end_h - c.start_h > limit),
        closed_legs=frozenset(c.leg for c in closures if c.leg and c.end_h - c.start_h > limit),
        limit_h=limit,
    )
    out = []
    for service in services:
        causes = cut_off.causes(network, service)
        if not causes:
            out.append(service)
            continue
        why = RerouteReason.BAN if RerouteReason.BAN in causes.values() else RerouteReason.CLOSURE
        cut = "; ".join(causes)
        found = _best_route(network, service, cut_off, by=by, file=file, value_of_time=value_of_time_usd_per_feu_day)
        if found is None and why is RerouteReason.CLOSURE:
            out.append(service)  # only closures cut it off: it keeps its route and waits
            continue
        if found is None:
            origin, destination = service.node_ids[0], service.node_ids[-1]
            raise DataError(
                file,
                f"service {service.name}",
                "route",
                f"{origin} -> {destination}",
                f"no route is left once the bans and closures apply ({cut})",
            )
        if why is RerouteReason.CLOSURE:  # only closures: the trains that would meet one take the detour
            window = _meeting_window(network, service, closures, set(cut_off.closed_nodes), set(cut_off.closed_legs))
            if window[0] > service.window_h[0] or window[1] < service.window_h[1]:
                out.append(
                    dataclasses.replace(
                        service,
                        detour=(window[0], window[1], found.node_ids, found.leg_ids),
                        reroute_reason=f"{cut}; trains leaving {_when(window[0], start)} to "
                        f"{_when(window[1], start)} take the detour",
                        rerouted_by=why,
                    )
                )
                continue
        out.append(
            dataclasses.replace(
                service,
                node_ids=found.node_ids,
                leg_ids=found.leg_ids,
                corridor=None,
                rerouted_from=service.node_ids,
                reroute_reason=cut,
                rerouted_by=why,
            )
        )
    return out


@dataclasses.dataclass(frozen=True)
class _CutOff:
    """What a scenario keeps traffic out of: banned countries and nodes, and long closures."""

    countries: frozenset[str]
    nodes: frozenset[str]
    closed_nodes: frozenset[str]
    closed_legs: frozenset[str]
    limit_h: float

    def causes(self, network: Network, service: Service) -> dict[str, RerouteReason]:
        """Each place on the service's route that is banned or closed, in words, with its kind (in route order)."""
        out: dict[str, RerouteReason] = {}
        days = f"{to_days(self.limit_h):g}"
        for node_id in service.node_ids:
            hit = self.countries & set(network.nodes[node_id].countries)
            if hit:
                out.setdefault(f"{node_id} is in {'/'.join(sorted(hit))}", RerouteReason.BAN)
            if node_id in self.nodes:
                out.setdefault(f"{node_id} is banned", RerouteReason.BAN)
            if node_id in self.closed_nodes:
                out.setdefault(f"{node_id} is closed for more than {days} days", RerouteReason.CLOSURE)
        for leg_id in service.leg_ids:
            hit = self.countries & set(network.legs[leg_id].countries)
            if hit:
                out.setdefault(f"leg {leg_id} crosses {'/'.join(sorted(hit))}", RerouteReason.BAN)
            if leg_id in self.closed_legs:
                out.setdefault(f"leg {leg_id} is closed for more than {days} days", RerouteReason.CLOSURE)
        return out


def _best_route(
    network: Network, service: Service, cut_off: _CutOff, *, by: str, file: str, value_of_time: float
) -> Route | None:
    """The best route between the service's ends that avoids what is cut off, by the same main mode (None: none)."""
    origin, destination = service.node_ids[0], service.node_ids[-1]
    # keep the main haul's mode: a ship goes round the Cape rather than onto a train. First look
    # without the other modes' long hauls, then among every route.
    main = main_mode(network, service.leg_ids)
    long_other = {leg.id for leg in network.legs.values() if leg.mode != main and leg.distance_km > 2500}
    for extra, k in ((long_other, 12), (set(), 60)):
        try:
            options = route(
                network,
                origin,
                destination,
                by=by,
                avoid=[*cut_off.countries, *(cut_off.nodes | cut_off.closed_nodes)],
                avoid_legs=cut_off.closed_legs | extra,
                k=k,
                value_of_time_usd_per_feu_day=value_of_time,
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
            return found[0]
    return None


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
