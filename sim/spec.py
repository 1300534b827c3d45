"""Reading a scenario file: TOML to a typed, frozen spec, checked for everything that needs no network.

``parse_scenario`` reads a file (and the bases it names) and refuses what is wrong in the file
itself: a bad type, a value out of bounds, a missing or unknown key, a cycle of bases. What
needs the network (node, leg and corridor ids, source keys, routes, the base's dates) is
checked by ``sim.compile.compile_scenario``, with the file, record and field kept in each
spec's ``where`` so that its messages read the same.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corridors import DataError, Distribution
from corridors.loader import display_path, read_toml
from corridors.routing import DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY
from corridors.schema import FIELD_BOUNDS, Record, Sourced
from corridors.units import HOURS_PER_WEEK, days
from sim.model import WEEKDAYS

__all__ = [
    "LEG_FIELDS",
    "NODE_FIELDS",
    "SERVICE_BOUNDS",
    "SERVICE_FIELDS",
    "BanSpec",
    "CapacityCutSpec",
    "ClosureSpec",
    "LocomotivePoolSpec",
    "OverrideSpec",
    "ReroutingSpec",
    "ScenarioSpec",
    "ServiceSpec",
    "SourceRef",
    "TrainLimitSpec",
    "WagonPoolSpec",
    "WeatherSpec",
    "Where",
    "bundled_scenario",
    "parse_override",
    "parse_scenario",
    "resolve_scenario",
    "teu_problem",
]

#: (low, high) of the service fields a [[services]] table, an override or a sweep may set.
SERVICE_BOUNDS: Mapping[str, tuple[float, float]] = {
    "trains_per_week": (0.001, 1000),
    "headway_h": (HOURS_PER_WEEK / 1000, 24 * 366),
    "wagons": (1, 500),
    "teu": (0.5, 20_000),
    "promised_transit_d": (0.01, 366),
    "value_of_time_usd_per_feu_day": (0.01, 100_000),
}
#: TEU a wagon may carry (a 20 ft box on a short wagon to two 40 ft boxes on a long one).
TEU_PER_WAGON = (0.5, 4.0)
#: The longest a storm stoppage may last, in hours (a year).
MAX_STOPPAGE_H = 24 * 366
#: The largest share of a month's time weather may keep a node closed (a share of 1 would need
#: endless stoppages), and the most stoppages a month that share may take.
MAX_CLOSED_SHARE = 0.95
MAX_STOPPAGES_PER_MONTH = 1000
#: The most stoppages a month a [[weather]] table may give as ``stoppages_per_month``.
MAX_STOPPAGE_RATE_PER_MONTH = 30
#: Years a scenario's dates may fall in: wide enough for any history or plan, and far enough from
#: the calendar's end (9999) that the window, the drain time and the reports' dates stay on it.
YEARS = (1900, 2200)
#: Closures longer than this reroute services when a [rerouting] table leaves it out.
DEFAULT_CLOSURE_THRESHOLD_D = 7.0
#: The gauges a wagon pool may hold (mm): standard and the 1520 mm of the former Soviet railways.
POOL_GAUGES_MM = (1435, 1520)
#: The most wagons a pool may hold (bounds a typo; the largest national fleets are ~10^5).
MAX_POOL_WAGONS = 100_000
#: The most locomotives a pool may hold (bounds a typo; national fleets are ~10^3).
MAX_POOL_LOCOMOTIVES = 10_000
#: The most wagons a train-length limit may give (bounds a typo; the longest trains run ~300).
MAX_TRAIN_WAGONS = 1_000
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
    "background_per_day",
    "background_block",
    "hold_probability",
    "hold_h",
)
#: Leg fields an override may set (value) or scale (factor).
LEG_FIELDS = ("transit_h", "capacity_trains_per_day", "cost_usd_per_feu")
#: Override fields that hold whole numbers.
INTEGER_FIELDS = frozenset(
    {"servers", "yard_capacity_trains", "vessels", "vessel_capacity_wagons", "vessel_capacity_teu"}
)


@dataclass(frozen=True)
class Where:
    """Where a spec was read: file, record and the prefix of its fields, for messages after parsing."""

    file: str
    label: str | None
    prefix: str = ""

    def error(self, key: str, value: Any, problem: str) -> DataError:
        return DataError(self.file, self.label, self.prefix + key, value, problem)


@dataclass(frozen=True)
class SourceRef:
    """Source keys a spec names, checked against the network's sources when it is compiled."""

    where: Where
    key: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class ServiceSpec:
    """A [[services]] table: a corridor (or origin and destination) and a timetable."""

    where: Where
    name: str
    corridor: str | None
    #: run the corridor from its last place to its first (eastbound, for the China-Europe corridors)
    reverse: bool
    origin: str | None
    destination: str | None
    trains_per_week: float
    weekdays: tuple[str, ...]
    wagons: int
    teu: float
    promised_transit_d: float | None
    departure_spread_h: float
    #: the service's own dates (None: the scenario's)
    start_date: dt.datetime | None
    end_date: dt.datetime | None
    sources: Mapping[str, tuple[str, ...]]
    #: field -> (low, high) the file gives beside a value (``min``, ``max``)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class OverrideSpec:
    """An [[overrides]] table: one field of a node's facility, a leg or a service, set or scaled."""

    where: Where
    node: str | None
    leg: str | None
    service: str | None
    field: str
    #: the new value (a number, or a dispatch rule); None when ``factor`` scales the field
    value: float | str | None
    factor: float | None
    #: ``value`` or ``factor`` as written in the file (messages quote it)
    given: Any
    sources: tuple[str, ...]
    #: the calibration targets the new value was fitted to ("V01, V04"; "" if none): the
    #: changed value's note says so, and ``corridors validate`` marks those rows as checking the fit
    fitted_to: str = ""
    note: str = ""

    @property
    def key(self) -> str:
        """The key the change was written under: ``value`` or ``factor``."""
        return "value" if self.factor is None else "factor"

    def describe(self) -> str:
        """The change in words with its sources: ``KZ_ALTYNKOL trains_per_day × 2 (KTZ_2025)``."""
        where = self.node or self.leg or self.service or "?"
        change = f"= {self.given}" if self.factor is None else f"× {self.given}"
        return f"{where} {self.field} {change}" + (f" ({', '.join(self.sources)})" if self.sources else "")


@dataclass(frozen=True)
class ClosureSpec:
    """A [[closures]] table: a node or a leg closed from ``start`` to ``end``."""

    where: Where
    node: str | None
    leg: str | None
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class CapacityCutSpec:
    """A [[capacity_cuts]] table: a node's servers and trains/day cap scaled by ``factor`` for a while."""

    where: Where
    node: str
    start: dt.datetime
    end: dt.datetime
    factor: float


@dataclass(frozen=True)
class WeatherSpec:
    """A [[weather]] table: storms that stop sailings from a port or ferry terminal in some months,
    ``stoppages_per_month`` of them or (None then) as many as close it ``closed_share`` of the time."""

    where: Where
    node: str
    months: tuple[int, ...]
    stoppages_per_month: float | None
    #: None only with ``problem``
    stoppage_h: Distribution | None
    #: the first problem in the fields after ``node``: the compiler raises it once the node has
    #: passed its check (a port or ferry terminal), so that problems come in the order of the fields
    problem: DataError | None = None
    closed_share: float | None = None
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class WagonPoolSpec:
    """A [[wagon_pools]] table: platform wagons of one gauge based at a node at the start."""

    where: Where
    node: str
    gauge_mm: int
    wagons: int
    sources: tuple[str, ...] = ()
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class LocomotivePoolSpec:
    """A [[locomotive_pools]] table: locomotives based at a node at the start."""

    where: Where
    node: str
    locomotives: int
    sources: tuple[str, ...] = ()
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class TrainLimitSpec:
    """A [[train_limits]] table: the longest train, in wagons, on the lines of one gauge in some countries."""

    where: Where
    gauge_mm: int
    countries: tuple[str, ...]
    max_wagons: int
    sources: tuple[str, ...] = ()
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class BanSpec:
    """The [bans] table: countries and nodes no service may touch."""

    where: Where
    countries: tuple[str, ...]
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class ReroutingSpec:
    """The [rerouting] table: closures longer than the threshold reroute services too."""

    closure_threshold_d: float = DEFAULT_CLOSURE_THRESHOLD_D
    by: str = "time"
    value_of_time_usd_per_feu_day: float = DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY


@dataclass(frozen=True)
class ScenarioSpec:
    """A scenario file as written: what it sets, what it leaves to its ``base``, and where each part was read."""

    path: Path
    where: Where
    name: str
    description: str
    base: ScenarioSpec | None
    #: None: the base's
    start_date: dt.datetime | None
    end_date: dt.datetime | None
    drain_d: float | None
    #: a network folder relative to the file (None: the base's, else the bundled one)
    network: str | None
    #: None: the base's services
    services: tuple[ServiceSpec, ...] | None
    overrides: tuple[OverrideSpec, ...] = ()
    closures: tuple[ClosureSpec, ...] = ()
    capacity_cuts: tuple[CapacityCutSpec, ...] = ()
    weather: tuple[WeatherSpec, ...] = ()
    wagon_pools: tuple[WagonPoolSpec, ...] = ()
    locomotive_pools: tuple[LocomotivePoolSpec, ...] = ()
    train_limits: tuple[TrainLimitSpec, ...] = ()
    bans: BanSpec | None = None
    rerouting: ReroutingSpec | None = None
    source_refs: tuple[SourceRef, ...] = ()


def bundled_scenario(name: str = "baseline") -> Path:
    """Path of a scenario shipped in ``data/scenarios``."""
    from corridors import bundled_data_dir

    return bundled_data_dir() / "scenarios" / f"{name}.toml"


def resolve_scenario(name: str | Path | None) -> Path:
    """A scenario file: the given path, or a bundled scenario's name (``baseline``), or the baseline."""
    if name is None:
        return bundled_scenario()
    path = Path(name)
    if path.is_dir():
        raise DataError(display_path(path), None, None, None, "is a folder, not a scenario file")
    if path.suffix == ".toml" or path.exists() or "/" in str(name):
        return path
    bundled = bundled_scenario(str(name))
    if bundled.is_file():
        return bundled
    known = sorted(p.stem for p in bundled.parent.glob("*.toml"))
    close = difflib.get_close_matches(str(name), known, n=2, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise DataError(
        str(name),
        None,
        None,
        None,
        f"no such scenario file, and no bundled scenario of that name; {hint}bundled: {', '.join(known)}",
    )


def parse_scenario(path: str | Path | None = None, *, _chain: tuple[Path, ...] = ()) -> ScenarioSpec:
    """Read a scenario file (a path, a bundled name, or None for the baseline) and the bases it names."""
    path = resolve_scenario(path)
    shown = display_path(path)
    if not path.is_file():
        raise DataError(shown, None, None, None, "scenario file not found")
    top = Record(shown, "scenario file", read_toml(path))
    head = top.sub("scenario")
    if head is None:
        raise DataError(shown, None, "scenario", None, "is required: a [scenario] table with name and dates")
    head.label = "[scenario]"
    name = _name(head, "name")
    description = head.text("description", required=False)
    base_name = head.text("base", required=False)
    base: ScenarioSpec | None = None
    if base_name:
        base_path = _base_path(path, base_name, head)
        chain = (*_chain, path.resolve())
        if base_path.resolve() in chain:
            raise head.error("base", base_name, "makes a cycle: " + " -> ".join(p.name for p in (*chain, base_path)))
        base = parse_scenario(base_path, _chain=chain)
    start = _datetime(head, "start_date") if head.has("start_date") or base is None else None
    head.raw("start_date")
    end = _datetime(head, "end_date") if head.has("end_date") or base is None else None
    head.raw("end_date")
    drain = head.number("drain_d", lo=0, hi=3650, required=False)
    network = head.text("network", required=False) or None
    head.finish()
    refs: list[SourceRef] = []
    overrides = tuple(parse_override(r, refs) for r in _records(top, "overrides", "override"))
    services = _services(top, refs, has_base=base is not None)
    closures = tuple(_closure(r, refs) for r in _records(top, "closures", "closure"))
    cuts = tuple(_cut(r, refs) for r in _records(top, "capacity_cuts", "capacity cut"))
    weather = tuple(_weather(r, refs) for r in _records(top, "weather", "weather"))
    pools = tuple(_pool(r, refs) for r in _records(top, "wagon_pools", "wagon pool"))
    engines = tuple(_engines(r, refs) for r in _records(top, "locomotive_pools", "locomotive pool"))
    limits = tuple(_limit(r, refs) for r in _records(top, "train_limits", "train limit"))
    bans = _bans(top)
    rerouting = _rerouting(top, refs)
    top.finish()
    return ScenarioSpec(
        path=path,
        where=Where(shown, head.label, head.prefix),
        name=name,
        description=description,
        base=base,
        start_date=start,
        end_date=end,
        drain_d=drain,
        network=network,
        services=services,
        overrides=overrides,
        closures=closures,
        capacity_cuts=cuts,
        weather=weather,
        wagon_pools=pools,
        locomotive_pools=engines,
        train_limits=limits,
        bans=bans,
        rerouting=rerouting,
        source_refs=tuple(refs),
    )


def _records(top: Record, key: str, label: str) -> list[Record]:
    raw = top.raw(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DataError(top.file, None, key, raw, f"must be an array of tables: write [[{key}]]")
    return [Record(top.file, f"{label} #{i}", r) for i, r in enumerate(raw, start=1)]


def _services(top: Record, refs: list[SourceRef], *, has_base: bool) -> tuple[ServiceSpec, ...] | None:
    raw_services = top.raw("services")
    if (
        (raw_services is None and not has_base)
        or (raw_services is not None and not isinstance(raw_services, list))
        or raw_services == []
    ):
        problem = "must list at least one [[services]] table"
        if has_base:
            problem += " (leave it out to keep the base's services)"
        raise DataError(top.file, None, "services", raw_services, problem)
    if raw_services is None:
        return None
    out: list[ServiceSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_services, start=1):
        service = _service(Record(top.file, f"service #{i}", raw), refs)
        if service.name in seen:
            raise DataError(top.file, f"service {service.name}", "name", service.name, "duplicate service name")
        seen.add(service.name)
        out.append(service)
    return tuple(out)


def _ref(rec: Record, key: str, got: Sourced | None, refs: list[SourceRef]) -> Sourced | None:
    """Note the source keys of a sourced value for the check against the network."""
    if got is not None:
        refs.append(SourceRef(Where(rec.file, rec.label, f"{rec.prefix}{key}."), "source", got.sources))
    return got


def _sources_of(rec: Record, refs: list[SourceRef], *, required: bool = True) -> tuple[str, ...]:
    keys = rec.sources_of("source", required=required)
    if keys:
        refs.append(SourceRef(Where(rec.file, rec.label, rec.prefix), "source", keys))
    return keys


def _service(rec: Record, refs: list[SourceRef]) -> ServiceSpec:
    name = _name(rec, "name")
    rec.label = f"service {name}"
    sources: dict[str, tuple[str, ...]] = {}
    corridor = rec.text("corridor", required=False) or None
    origin = rec.text("origin", required=False) or None
    destination = rec.text("destination", required=False) or None
    if corridor is not None and (origin or destination):
        raise rec.error("origin", origin or destination, "give corridor, or origin and destination, not both")
    if corridor is None and (not origin or not destination):
        raise rec.error("corridor", None, "is required (or origin and destination, routed by expected time)")
    reverse = rec.raw("reverse")
    if reverse is not None and not isinstance(reverse, bool):
        raise rec.error("reverse", reverse, "must be true or false")
    if reverse and corridor is None:
        raise rec.error(
            "reverse", reverse, "runs a corridor backwards: give corridor (origin and destination set the way)"
        )
    if rec.has("trains_per_week") == rec.has("headway_h"):
        rec.raw("headway_h")
        raise rec.error(
            "trains_per_week", rec.raw("trains_per_week"), "give trains_per_week or headway_h, not both and not neither"
        )
    per_week = _ref(rec, "trains_per_week", rec.sourced("trains_per_week", **_bounds("trains_per_week")), refs)
    headway = _ref(rec, "headway_h", rec.sourced("headway_h", **_bounds("headway_h")), refs)
    ranges: dict[str, tuple[float, float]] = {}
    if per_week is not None:
        sources["trains_per_week"] = per_week.sources
        trains_per_week = float(per_week.value)
        if per_week.range is not None:
            ranges["trains_per_week"] = per_week.range
    else:
        assert headway is not None
        sources["headway_h"] = headway.sources
        trains_per_week = HOURS_PER_WEEK / float(headway.value)
        if headway.range is not None:  # the longest headway is the fewest trains
            ranges["trains_per_week"] = (HOURS_PER_WEEK / headway.range[1], HOURS_PER_WEEK / headway.range[0])
    weekdays = _weekdays(rec, headway is not None)
    wagons = _ref(rec, "wagons", rec.sourced("wagons", integer=True, **_bounds("wagons", required=True)), refs)
    teu = _ref(rec, "teu", rec.sourced("teu", **_bounds("teu", required=True)), refs)
    assert wagons is not None and teu is not None
    problem = teu_problem(int(wagons.value), float(teu.value))
    if problem:
        raise rec.error("teu.value", teu.value, problem)
    sources["wagons"], sources["teu"] = wagons.sources, teu.sources
    for key, item in (("wagons", wagons), ("teu", teu)):
        if item.range is not None:
            ranges[key] = item.range
    promised = _ref(rec, "promised_transit_d", rec.sourced("promised_transit_d", **_bounds("promised_transit_d")), refs)
    if promised is not None:
        sources["promised_transit_d"] = promised.sources
    spread = _ref(
        rec, "departure_spread_h", rec.sourced("departure_spread_h", required=False, positive=False, lo=0, hi=168), refs
    )
    s_start = _datetime(rec, "start_date") if rec.has("start_date") else None
    rec.raw("start_date")
    s_end = _datetime(rec, "end_date") if rec.has("end_date") else None
    rec.raw("end_date")
    rec.text("note", required=False)
    rec.finish()
    return ServiceSpec(
        where=Where(rec.file, rec.label, rec.prefix),
        name=name,
        corridor=corridor,
        reverse=bool(reverse),
        origin=origin,
        destination=destination,
        trains_per_week=trains_per_week,
        weekdays=weekdays,
        wagons=int(wagons.value),
        teu=float(teu.value),
        promised_transit_d=float(promised.value) if promised else None,
        departure_spread_h=float(spread.value) if spread else 0.0,
        start_date=s_start,
        end_date=s_end,
        sources=sources,
        ranges=ranges,
    )


def _bounds(key: str, *, required: bool = False) -> dict[str, Any]:
    lo, hi = SERVICE_BOUNDS[key]
    return {"lo": lo, "hi": hi, "required": required}


def _weekdays(rec: Record, headway: bool) -> tuple[str, ...]:
    weekdays = rec.strings("weekdays", required=False)
    if weekdays and headway:
        raise rec.error("weekdays", list(weekdays), "goes with trains_per_week, not with headway_h")
    for day in weekdays:
        if day not in WEEKDAYS:
            raise rec.error("weekdays", day, f"must be among {', '.join(WEEKDAYS)}")
    if len(set(weekdays)) != len(weekdays):
        twice = next(d for d in weekdays if weekdays.count(d) > 1)
        raise rec.error("weekdays", twice, "is listed twice: name each day once")
    return weekdays


def teu_problem(wagons: int, teu: float) -> str | None:
    """Why ``teu`` does not fit on ``wagons`` wagons (None: it fits)."""
    lo, hi = TEU_PER_WAGON
    if not lo * wagons <= teu <= hi * wagons:
        return f"does not fit on {wagons} wagons ({lo:g} to {hi:g} TEU a wagon)"
    return None


def parse_override(rec: Record, refs: list[SourceRef]) -> OverrideSpec:
    """An [[overrides]] record (or a sweep's ``--param``): what it changes, and to what.

    Bounds that need no network are checked here (a value within ``FIELD_BOUNDS`` or
    ``SERVICE_BOUNDS``, a factor within (0, 100]); the rest when it is applied.
    """
    if rec.has("service"):
        service = rec.text("service")
        field = rec.choice("field", SERVICE_FIELDS)
        assert field is not None
        bounds = SERVICE_BOUNDS[field]
        node = leg = None
    else:
        service = None
        node = rec.text("node", required=False) or None
        leg = rec.text("leg", required=False) or None
        if bool(node) == bool(leg):
            raise rec.error("node", node, "give exactly one of node or leg")
        field = rec.choice("field", NODE_FIELDS if node else LEG_FIELDS)
        assert field is not None
        bounds = FIELD_BOUNDS.get(field, (0.0, float("inf")))
    target = f"service {service}" if service else f"node {node}" if node else f"leg {leg}"
    if rec.label.startswith("override"):  # so a bad value's message says what it was for
        rec.label = f"{rec.label} ({target}, {field})"
    has_value, has_factor = rec.has("value"), rec.has("factor")
    if has_value == has_factor:
        raise rec.error("factor" if has_factor else "value", None, "give value or factor, not both and not neither")
    positive = field != "hold_probability"  # a probability of 0: no train held there
    value: float | str | None = None
    factor: float | None = None
    if field == "dispatch":
        value = rec.choice("value", ("timetable", "when_full", "max_wait"))
        if has_factor:
            raise rec.error("factor", rec.raw("factor"), "dispatch takes a value")
    elif has_value:
        integer = field in INTEGER_FIELDS or (service is not None and field == "wagons")
        number = rec.number("value", positive=positive, integer=integer, lo=bounds[0], hi=bounds[1])
        assert number is not None
        value = int(number) if field in INTEGER_FIELDS else number
    else:
        factor = rec.number("factor", positive=True, lo=0, hi=100)
    sources = _sources_of(rec, refs, required=has_value and field != "dispatch")
    given = rec.raw("value" if has_value else "factor")
    note = rec.text("note", required=False)
    fitted_to = rec.text("fitted_to", required=False)
    if fitted_to and service is not None:
        raise rec.error("fitted_to", fitted_to, "marks a fitted value of the network (a node's or a leg's)")
    rec.finish()
    return OverrideSpec(
        where=Where(rec.file, rec.label, rec.prefix),
        node=node,
        leg=leg,
        service=service,
        field=field,
        value=value,
        factor=factor,
        given=given,
        sources=sources,
        fitted_to=fitted_to,
        note=note,
    )


def _place(rec: Record) -> tuple[str | None, str | None]:
    node = rec.text("node", required=False) or None
    leg = rec.text("leg", required=False) or None
    if bool(node) == bool(leg):
        raise rec.error("node", node, "give exactly one of node or leg")
    return node, leg


def _window(rec: Record) -> tuple[dt.datetime, dt.datetime]:
    a = _datetime(rec, "start")
    b = _datetime(rec, "end")
    if b <= a:
        raise rec.error("end", when(b), f"must be after start ({when(a)})")
    return a, b


def _closure(rec: Record, refs: list[SourceRef]) -> ClosureSpec:
    node, leg = _place(rec)
    a, b = _window(rec)
    _sources_of(rec, refs, required=False)
    rec.text("note", required=False)
    rec.finish()
    return ClosureSpec(where=Where(rec.file, rec.label, rec.prefix), node=node, leg=leg, start=a, end=b)


def _cut(rec: Record, refs: list[SourceRef]) -> CapacityCutSpec:
    node, _ = _place(rec)
    if node is None:
        raise rec.error("leg", rec.data.get("leg"), "capacity cuts apply to nodes")
    a, b = _window(rec)
    factor = rec.number("factor")
    assert factor is not None
    if not 0 < factor <= 10:
        raise rec.error("factor", factor, "must be above 0 and at most 10 (use a closure to stop a node)")
    _sources_of(rec, refs, required=False)
    rec.text("note", required=False)
    rec.finish()
    return CapacityCutSpec(where=Where(rec.file, rec.label, rec.prefix), node=node, start=a, end=b, factor=factor)


def _weather(rec: Record, refs: list[SourceRef]) -> WeatherSpec:
    node, _ = _place(rec)
    if node is None:
        raise rec.error("leg", rec.data.get("leg"), "weather applies to ports and ferry terminals (nodes)")
    try:
        return _storms(rec, node, refs)
    except DataError as problem:
        return WeatherSpec(Where(rec.file, rec.label, rec.prefix), node, (), 0.0, None, problem=problem)


def _storms(rec: Record, node: str, refs: list[SourceRef]) -> WeatherSpec:
    months_raw: Any = rec.raw("months")
    if (
        not isinstance(months_raw, list)
        or not months_raw
        or not all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in months_raw)
    ):
        raise rec.error("months", months_raw, "must list months as numbers 1-12")
    if rec.has("stoppages_per_month") == rec.has("closed_share"):
        for key in ("closed_share", "stoppage_h", "stoppage_d"):  # read: not offered as a typo of the field
            rec.raw(key)
        raise rec.error(
            "stoppages_per_month",
            rec.raw("stoppages_per_month"),
            "give stoppages_per_month or closed_share, not both and not neither",
        )
    per_month = _ref(
        rec,
        "stoppages_per_month",
        rec.sourced("stoppages_per_month", required=False, lo=0, hi=MAX_STOPPAGE_RATE_PER_MONTH),
        refs,
    )
    share = _ref(rec, "closed_share", rec.sourced("closed_share", required=False, hi=MAX_CLOSED_SHARE), refs)
    key = "stoppage_h" if rec.has("stoppage_h") else "stoppage_d"
    stoppage = _ref(rec, key, rec.duration("stoppage_h", "stoppage_d"), refs)
    assert stoppage is not None
    if stoppage.value.max_h > MAX_STOPPAGE_H:
        shown_max = stoppage.value.max_h if key == "stoppage_h" else days(stoppage.value.max_h)
        raise rec.error(f"{key}.max", shown_max, f"a stoppage lasts at most {MAX_STOPPAGE_H:,} hours (a year)")
    if share is not None:
        count = -math.log1p(-float(share.value)) * 24 * 31 / stoppage.value.mean_h
        if count > MAX_STOPPAGES_PER_MONTH:
            raise rec.error(
                "closed_share.value",
                share.value,
                f"in stoppages of {stoppage.value.mean_h:g} h on average takes about {count:,.0f} stoppages a "
                f"month; at most {MAX_STOPPAGES_PER_MONTH:,}: give longer stoppages ({key})",
            )
    rec.text("note", required=False)
    rec.finish()
    given = {"stoppages_per_month": per_month, "closed_share": share}
    return WeatherSpec(
        where=Where(rec.file, rec.label, rec.prefix),
        node=node,
        months=tuple(months_raw),
        stoppages_per_month=float(per_month.value) if per_month is not None else None,
        stoppage_h=stoppage.value,
        closed_share=float(share.value) if share is not None else None,
        sources={k: v.sources for k, v in given.items() if v is not None},
        ranges={k: v.range for k, v in given.items() if v is not None and v.range is not None},
    )


def _pool(rec: Record, refs: list[SourceRef]) -> WagonPoolSpec:
    node = rec.text("node")
    gauge = rec.number("gauge_mm", integer=True)
    if gauge not in POOL_GAUGES_MM:
        raise rec.error("gauge_mm", rec.raw("gauge_mm"), f"must be one of {', '.join(map(str, POOL_GAUGES_MM))}")
    rec.label = f"wagon pool {node}/{int(gauge)}"
    wagons = _ref(rec, "wagons", rec.sourced("wagons", integer=True, lo=1, hi=MAX_POOL_WAGONS), refs)
    assert wagons is not None
    rec.text("note", required=False)
    rec.finish()
    where = Where(rec.file, rec.label, rec.prefix)
    return WagonPoolSpec(
        where=where,
        node=node,
        gauge_mm=int(gauge),
        wagons=int(wagons.value),
        sources=wagons.sources,
        range=wagons.range,
    )


def _engines(rec: Record, refs: list[SourceRef]) -> LocomotivePoolSpec:
    node = rec.text("node")
    rec.label = f"locomotive pool {node}"
    got = _ref(rec, "locomotives", rec.sourced("locomotives", integer=True, lo=1, hi=MAX_POOL_LOCOMOTIVES), refs)
    assert got is not None
    rec.text("note", required=False)
    rec.finish()
    where = Where(rec.file, rec.label, rec.prefix)
    return LocomotivePoolSpec(where, node, int(got.value), got.sources, got.range)


def _limit(rec: Record, refs: list[SourceRef]) -> TrainLimitSpec:
    gauge = rec.number("gauge_mm", integer=True)
    if gauge not in POOL_GAUGES_MM:
        raise rec.error("gauge_mm", rec.raw("gauge_mm"), f"must be one of {', '.join(map(str, POOL_GAUGES_MM))}")
    countries = rec.strings("countries")
    if not countries:
        raise rec.error("countries", [], "must name at least one country")
    rec.label = f"train limit {int(gauge)} mm {','.join(countries)}"
    got = _ref(rec, "max_wagons", rec.sourced("max_wagons", integer=True, lo=1, hi=MAX_TRAIN_WAGONS), refs)
    assert got is not None
    rec.text("note", required=False)
    rec.finish()
    where = Where(rec.file, rec.label, rec.prefix)
    return TrainLimitSpec(where, int(gauge), countries, int(got.value), got.sources, got.range)


def _bans(top: Record) -> BanSpec | None:
    rec = top.sub("bans")
    if rec is None:
        return None
    rec.label = "[bans]"
    countries = rec.strings("countries", required=False)
    nodes = rec.strings("nodes", required=False)
    rec.text("note", required=False)
    rec.finish()
    return BanSpec(where=Where(rec.file, rec.label, rec.prefix), countries=countries, nodes=nodes)


def _rerouting(top: Record, refs: list[SourceRef]) -> ReroutingSpec | None:
    rec = top.sub("rerouting")
    if rec is None:
        return None
    rec.label = "[rerouting]"
    threshold_d = rec.number("closure_threshold_d", lo=0, hi=3660, required=False)
    by = rec.choice("by", ("time", "distance", "cost", "generalised"), required=False)
    lo, hi = SERVICE_BOUNDS["value_of_time_usd_per_feu_day"]
    key = "value_of_time_usd_per_feu_day"
    vot = _ref(rec, key, rec.sourced(key, required=False, lo=lo, hi=hi), refs)
    rec.text("note", required=False)
    rec.finish()
    default = ReroutingSpec()
    return ReroutingSpec(
        closure_threshold_d=default.closure_threshold_d if threshold_d is None else threshold_d,
        by=by or default.by,
        value_of_time_usd_per_feu_day=float(vot.value) if vot is not None else default.value_of_time_usd_per_feu_day,
    )


def _base_path(path: Path, base: str, head: Record) -> Path:
    """A base scenario: a file relative to this one, or a bundled name."""
    candidate = path.parent / base
    if candidate.is_file():
        return candidate
    if candidate.with_suffix(".toml").is_file():
        return candidate.with_suffix(".toml")
    bundled = bundled_scenario(base)
    if bundled.is_file():
        return bundled
    raise head.error("base", base, "no such scenario (a file beside this one, or a bundled name)")


def _datetime(rec: Record, key: str) -> dt.datetime:
    value = rec.raw(key)
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None)
    elif isinstance(value, dt.date):
        value = dt.datetime(value.year, value.month, value.day)
    else:
        raise rec.error(key, value, "must be a TOML date such as 2025-01-01 (no quotes)")
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise rec.error(key, value, f"must fall in the years {YEARS[0]} to {YEARS[1]}")
    return value


def _name(rec: Record, key: str) -> str:
    """A name that is also safe as a file or folder name."""
    value = rec.ident(key)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value) or ".." in value:
        raise rec.error(key, value, "must be letters, digits, '-', '_' or '.' (it names files and folders)")
    return value


def when(value: dt.datetime) -> str:
    """A date as ISO text, with the time of day only when it has one."""
    return value.date().isoformat() if value.time() == dt.time() else value.isoformat(timespec="minutes")
