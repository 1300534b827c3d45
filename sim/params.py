"""The scenario's uncertain parameters: each with its value, a plausible range and its sources.

A parameter is named as a sweep names it (``node.KZ_ALTYNKOL.process_h``, ``leg.S05.transit_h``,
``service.NAME.trains_per_week``); durations are factors on the data's values (1 = as written).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from corridors import Network
from corridors.loader import SPEED_KPH
from corridors.schema import ESTIMATE, FIELD_BOUNDS, Record
from sim.scenario import Scenario
from sim.spec import INTEGER_FIELDS, OverrideSpec, parse_override
from sim.sweep import PARAM, base_value, parse_param
from sim.whatif import apply_overrides, apply_service_overrides

__all__ = ["Parameter", "apply", "parameter_space"]

#: Durations vary as factors on the data's values within this range.
FACTOR_RANGE = (0.5, 2.0)
#: Counts and rates vary within this share of their value either way.
COUNT_RANGE = (0.5, 2.0)
_DURATIONS = ("process_h", "hold_h")
_COUNTS = ("servers", "trains_per_day", "vessels", "max_wait_h", "sailings_per_week", "background_per_day")


@dataclass(frozen=True)
class Parameter:
    """One uncertain number of a scenario: its path, value, range, whether it is an estimate,
    its sources and note, and its unit (``×`` for a factor on a duration)."""

    path: str
    value: float
    low: float
    high: float
    estimate: bool
    sources: tuple[str, ...]
    note: str
    unit: str


def parameter_space(scenario: Scenario, *, estimates_only: bool = False) -> list[Parameter]:
    """The parameters of the nodes and legs the scenario's services pass, in a stable order."""
    net = scenario.network
    nodes = sorted({n for s in scenario.services for n in s.node_ids})
    legs = sorted({leg for s in scenario.services for leg in s.leg_ids})
    out: list[Parameter] = []
    for node_id in nodes:
        f = net.nodes[node_id].facility
        if f is None:
            continue
        for field in (*_DURATIONS, *_COUNTS):
            if getattr(f, field, None) is None or (field == "servers" and f.process_h is None):
                continue
            out.append(_parameter(net, "node", node_id, field, scenario))
    for leg_id in legs:
        out.append(_parameter(net, "leg", leg_id, "transit_h", scenario))
    out = [p for p in out if p.low < p.high]
    return [p for p in out if p.estimate] if estimates_only else out


def _parameter(net: Network, kind: str, ident: str, field: str, scenario: Scenario) -> Parameter:
    value = base_value(scenario, kind, ident, field) or 0.0
    record = net.nodes[ident].facility if kind == "node" else net.legs[ident]
    sources = tuple(getattr(record, "sources", {}).get(field, ()))
    note = getattr(record, "notes", {}).get(field, "")
    if field == "transit_h":
        leg = net.legs[ident]
        slow, fast = SPEED_KPH[leg.mode]
        low = max(FACTOR_RANGE[0], leg.distance_km / (leg.transit_h.mean_h * fast) * 1.01)
        high = min(FACTOR_RANGE[1], leg.distance_km / (leg.transit_h.mean_h * slow) * 0.99)
        return Parameter(f"leg.{ident}.{field}", 1.0, low, high, ESTIMATE in sources, sources, note, "×")
    if field in _DURATIONS:
        low, high = FACTOR_RANGE
        return Parameter(f"node.{ident}.{field}", 1.0, low, high, ESTIMATE in sources, sources, note, "×")
    lo, hi = FIELD_BOUNDS[field]
    low, high = max(lo, value * COUNT_RANGE[0]), min(hi, value * COUNT_RANGE[1])
    if field in INTEGER_FIELDS:
        low, high = max(lo, round(low)), round(high)
    unit = {"trains_per_day": "trains/day", "max_wait_h": "h", "sailings_per_week": "/week"}.get(field, "")
    return Parameter(f"node.{ident}.{field}", value, low, high, ESTIMATE in sources, sources, note, unit)


def apply(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """The scenario with each parameter set to its value (a duration scaled by its factor)."""
    network_overrides: list[OverrideSpec] = []
    service_overrides: list[OverrideSpec] = []
    for path, value in values.items():
        kind, ident, field = parse_param(path)
        key = "factor" if field in (*_DURATIONS, "transit_h") else "value"
        given = round(value) if field in INTEGER_FIELDS else float(value)
        rec = Record(
            PARAM,
            path,
            {kind: ident, "field": field, key: given, "source": "ESTIMATE"},
            sources=scenario.network.sources,
        )
        override = parse_override(rec, [])
        (service_overrides if kind == "service" else network_overrides).append(override)
    out = scenario
    if network_overrides:
        out = dataclasses.replace(out, network=apply_overrides(out.network, network_overrides))
    if service_overrides:
        services = {s.name: s for s in out.services}
        apply_service_overrides(services, service_overrides, out.start)
        out = dataclasses.replace(out, services=tuple(services.values()))
    return out
