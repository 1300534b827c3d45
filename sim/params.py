"""The parameter space: every value of a scenario a sweep can set, with the range it may take.

A parameter is named by the path ``corridors sweep --param`` takes (``node.ID.FIELD``,
``leg.ID.FIELD``, ``service.NAME.FIELD``, ``pool.NODE-GAUGE.wagons``, ``weather.NODE.FIELD``);
its value is what the sweep sets (``sim.sweep.base_value``: 1 for a duration, which it scales),
its range what a sensitivity run samples and a calibration may move it in. Where the range comes
from, in this order (``Parameter.note`` says which):

1. the data's own ``min`` and ``max`` beside the value (a published range, or an estimate's
   plausible one);
2. for a duration (``process_h``, ``transit_h``, ``hold_h``), whose min, typical and max are the
   spread from train to train, not doubt about the figure: a factor of ``ESTIMATE_FACTOR`` either
   way for an estimate, ``PARTLY_SOURCED_FACTOR`` for a figure partly published;
3. for a number the data give without a range: the same factors around the value;
4. a published figure with no range is held at its value (low = high).

Each range is then kept where the value may go: within the field's bounds (``FIELD_BOUNDS``,
``SERVICE_BOUNDS``, a probability in [0, 1]), counts whole and at least 1, a leg's transit at
speeds its mode allows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from corridors.errors import InputError
from corridors.errors import Parameter as _Arg
from corridors.loader import SPEED_KPH
from corridors.schema import ESTIMATE, FIELD_BOUNDS
from sim.scenario import Scenario
from sim.spec import (
    INTEGER_FIELDS,
    MAX_CLOSED_SHARE,
    MAX_POOL_LOCOMOTIVES,
    MAX_POOL_WAGONS,
    MAX_STOPPAGE_RATE_PER_MONTH,
    MAX_TRAIN_WAGONS,
    SERVICE_BOUNDS,
)
from sim.sweep import FIELDS, base_value, parse_param, variant
from sim.whatif import VESSEL_FIELDS

__all__ = ["ESTIMATE_FACTOR", "PARTLY_SOURCED_FACTOR", "Parameter", "apply", "parameter_space"]

#: An estimate with no range of its own may be this factor too high or too low (0.5-2): the
#: authors' guesses in the bundled data were judged right within a factor of two, and a factor
#: (not a difference) because a sweep scales a duration; the same rule both ways keeps 1 in the
#: middle of the range on a log scale.
ESTIMATE_FACTOR = 2.0
#: A figure partly published (a source and ESTIMATE: a published figure carried over by an
#: assumption) may be this factor off (2/3-1.5): half the estimate's range on a log scale.
PARTLY_SOURCED_FACTOR = 1.5

_VALUES = _Arg("values")
_DURATIONS = frozenset({"process_h", "transit_h", "hold_h"})
#: Counts outside the facility fields that apply rounds to whole numbers.
_COUNTS = frozenset({"wagons", "locomotives", "max_wagons"})
_UNITS = {
    "servers": "servers",
    "trains_per_day": "trains/day",
    "yard_capacity_trains": "trains",
    "vessels": "vessels",
    "vessel_capacity_wagons": "wagons",
    "vessel_capacity_teu": "TEU",
    "max_wait_h": "h",
    "sailings_per_week": "sailings/week",
    "hold_probability": "probability",
    "capacity_trains_per_day": "trains/day",
    "cost_usd_per_feu": "USD/FEU",
    "trains_per_week": "trains/week",
    "wagons": "wagons",
    "teu": "TEU",
    "closed_share": "share of time",
    "stoppages_per_month": "stoppages/month",
}


@dataclass(frozen=True)
class Parameter:
    """One value of a scenario a sweep can set, with its range and provenance.

    >>> p = Parameter("node.B.servers", 2.0, 1.0, 4.0, True, ("ESTIMATE",), "estimate: 0.5-2x", "servers")
    >>> p.integer, p.scales
    (True, False)
    """

    #: ``node.KZ_ALTYNKOL.trains_per_day``, ``leg.S16.transit_h``, ``service.NAME.trains_per_week``
    path: str
    #: its value in the scenario as a sweep sets it (``sim.sweep.base_value``: 1.0 for a duration)
    value: float
    #: the range a sensitivity run samples and a calibration may move it in (the unit of ``value``)
    low: float
    high: float
    #: its data cite ESTIMATE (alone or beside a source)
    estimate: bool
    #: the source keys of the value
    sources: tuple[str, ...]
    #: where the range comes from, in words
    note: str
    #: ``factor``, ``trains/day``, ``h``, ...
    unit: str

    @property
    def integer(self) -> bool:
        """Whether ``apply`` rounds it to a whole number (servers, vessels, wagons, ...)."""
        field = self.path.rsplit(".", 1)[-1]
        return field in INTEGER_FIELDS or field in _COUNTS

    @property
    def scales(self) -> bool:
        """Whether it is a factor on a duration (its value 1) rather than the value itself."""
        return self.path.rsplit(".", 1)[-1] in _DURATIONS


def parameter_space(scenario: Scenario, *, estimates_only: bool = False) -> list[Parameter]:
    """Every value of ``scenario`` that ``sim.sweep`` can set and its data give, with its range.

    In the order of the network's nodes and legs, then the scenario's services, wagon pools and
    weather. ``estimates_only``: only the values whose data cite ESTIMATE.
    """
    out = [p for p in _all(scenario) if p.estimate or not estimates_only]
    return out


def apply(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """``scenario`` with each parameter (a path, as ``parameter_space`` lists) set to its value.

    Each goes through the sweep's checks (``sim.sweep.variant``: the bounds and rules of a
    what-if's ``[[overrides]]``); a duration's value is a factor on it. Counts are rounded to
    whole numbers (at least 1); a value that is not a finite number, or below 0, is refused,
    as is 0 except for a probability. Raises ``InputError`` or ``DataError`` naming the path.
    """
    for path, value in values.items():
        kind, ident, field = parse_param(path)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InputError(_VALUES, f": {path} = {value!r} is not a finite number")
        if value < 0 or (value == 0 and field != "hold_probability"):
            shown = "0 or more" if field == "hold_probability" else "above 0"
            raise InputError(_VALUES, f": {path} = {value!r} must be {shown}")
        number = float(value)
        if field in INTEGER_FIELDS or field in _COUNTS:
            number = float(max(1, round(number)))
        scenario = variant(scenario, kind, ident, field, number)
    return scenario


# -- the listing ------------------------------------------------------------------------------


def _all(scenario: Scenario) -> Iterator[Parameter]:
    net = scenario.network
    for node in net.nodes.values():
        f = node.facility
        if f is None:
            continue
        vessels = bool(f.vessel_capacity_wagons or f.vessel_capacity_teu)
        for field in FIELDS["node"]:
            if getattr(f, field) is None or field not in f.sources:
                continue  # not in the data (a default, such as one server)
            if field in VESSEL_FIELDS and not vessels:
                continue
            unit = _UNITS.get(field) or _background_unit(f, field)
            yield _make(scenario, "node", node.id, field, f.sources[field], f.ranges.get(field), unit)
    for leg in net.legs.values():
        for field in FIELDS["leg"]:
            if getattr(leg, field) is None or field not in leg.sources:
                continue
            yield _make(scenario, "leg", leg.id, field, leg.sources[field], leg.ranges.get(field), _UNITS.get(field))
    for s in scenario.services:
        for field in FIELDS["service"]:
            key = "headway_h" if field == "trains_per_week" and "headway_h" in s.sources else field
            if key not in s.sources:
                continue
            yield _make(scenario, "service", s.name, field, s.sources[key], s.ranges.get(field), _UNITS[field])
    for pool in scenario.wagon_pools:
        if pool.sources:
            name = pool.key.replace("/", "-")
            yield _make(scenario, "pool", name, "wagons", pool.sources, pool.range, "wagons")
    for engines in scenario.locomotive_pools:
        if engines.sources:
            name = engines.key.replace("/", "-")
            yield _make(scenario, "pool", name, "locomotives", engines.sources, engines.range, "locomotives")
    for limit in scenario.train_limits:
        if limit.sources:
            yield _make(scenario, "limit", limit.key, "max_wagons", limit.sources, limit.range, "wagons a train")
    for w in scenario.weather:
        for field in FIELDS["weather"]:
            tables = [t for t in scenario.weather if t.node == w.node and getattr(t, field) is not None]
            if getattr(w, field) is None or field not in w.sources or tables[0] is not w:
                continue  # listed once (a node with two tables of a field cannot be told apart by a path)
            if len(tables) == 1:
                yield _make(scenario, "weather", w.node, field, w.sources[field], w.ranges.get(field), _UNITS[field])


def _background_unit(f: object, field: str) -> str:
    """Background traffic comes in the vessels' unit at a terminal with vessels, else in trains."""
    unit = "TEU" if getattr(f, "vessel_capacity_teu", None) else "wagons" if getattr(f, "dispatch", None) else "trains"
    return f"{unit}/day" if field == "background_per_day" else unit


def _make(
    scenario: Scenario,
    kind: str,
    ident: str,
    field: str,
    sources: tuple[str, ...],
    given: tuple[float, float] | None,
    unit: str | None,
) -> Parameter:
    value = base_value(scenario, kind, ident, field)
    assert value is not None, f"{kind}.{ident}.{field} has no value to set"
    estimate = ESTIMATE in sources
    partly = estimate and any(k != ESTIMATE for k in sources)
    if field in _DURATIONS:
        value, unit = 1.0, "factor"
    factor = PARTLY_SOURCED_FACTOR if partly else ESTIMATE_FACTOR
    if given is not None and field not in _DURATIONS:
        low, high = given
        note = "the data's min-max"
    elif estimate:
        low, high = value / factor, value * factor
        which = "partly sourced" if partly else "estimate"
        note = f"{which} without a range of its own: {1 / factor:.2g}-{factor:g}x its value"
    else:
        low = high = value
        note = "published, without a range: held at its value"
    low, high, kept = _kept(scenario, kind, ident, field, value, low, high)
    if kept:
        note += f"; {kept}"
    return Parameter(
        path=f"{kind}.{ident}.{field}",
        value=value,
        low=low,
        high=high,
        estimate=estimate,
        sources=tuple(sources),
        note=note,
        unit=unit or field,
    )


def _kept(
    scenario: Scenario, kind: str, ident: str, field: str, value: float, low: float, high: float
) -> tuple[float, float, str]:
    """The range kept where the value may go, and in words what that changed ("" if nothing)."""
    said = []
    if kind == "leg" and field == "transit_h":  # a factor: the speeds the loader allows the mode
        leg = scenario.network.legs[ident]
        slow, fast = SPEED_KPH[leg.mode]
        speed = leg.distance_km / leg.transit_h.mean_h
        lo_ok, hi_ok = speed / fast, speed / slow
        lo_ok, hi_ok = math.ceil(lo_ok * 1000) / 1000, math.floor(hi_ok * 1000) / 1000
        if low < lo_ok or high > hi_ok:
            said.append(f"kept to {leg.mode} speeds ({slow}-{fast} km/h)")
        low, high = max(low, lo_ok), min(high, hi_ok)
    bounds = _bounds(scenario, kind, ident, field)
    if bounds is not None and (low < bounds[0] or high > bounds[1]):
        said.append(f"kept within [{bounds[0]:g}, {bounds[1]:g}]")
        low, high = max(low, bounds[0]), min(high, bounds[1])
    if field in INTEGER_FIELDS or field in _COUNTS:
        low, high = float(max(1, math.ceil(low - 1e-9))), float(max(1, math.floor(high + 1e-9)))
        low, high = min(low, value), max(high, value)
    return round(low, 6), round(high, 6), ", ".join(said)


def _bounds(scenario: Scenario, kind: str, ident: str, field: str) -> tuple[float, float] | None:
    """Where a value (or, for a duration, a factor on it) may go by the checks its file meets."""
    if field in _DURATIONS:
        place = scenario.network.nodes[ident].facility if kind == "node" else scenario.network.legs[ident]
        dist = getattr(place, field)
        lo, hi = FIELD_BOUNDS[field]
        return lo / dist.min_h if dist.min_h > 0 else 0.0, hi / dist.max_h
    if kind == "service":
        return SERVICE_BOUNDS[field]
    if kind == "pool":
        return (1, MAX_POOL_WAGONS if field == "wagons" else MAX_POOL_LOCOMOTIVES)
    if kind == "limit":
        return (1, MAX_TRAIN_WAGONS)
    if kind == "weather":
        return (0.0, MAX_CLOSED_SHARE) if field == "closed_share" else (0.0, MAX_STOPPAGE_RATE_PER_MONTH)
    return FIELD_BOUNDS.get(field)
