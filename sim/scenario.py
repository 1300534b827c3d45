"""Scenarios: services, closures, capacity cuts and weather, read from TOML and checked against a network."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corridors import DataError, Distribution, Network, load_network, route
from corridors.loader import display_path, read_toml
from corridors.schema import Record

__all__ = [
    "CapacityCut",
    "Closure",
    "Scenario",
    "Service",
    "Weather",
    "bundled_scenario",
    "load_scenario",
    "resolve_scenario",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_DRAIN_D = 120
#: The longest departure window a scenario may have (about ten years).
MAX_WINDOW_D = 3660
#: The most departures a scenario may hold, over all its services (checked as they are built).
MAX_DEPARTURES = 2_000_000
#: (low, high) of the service fields a [[services]] table, an override or a sweep may set.
SERVICE_BOUNDS: Mapping[str, tuple[float, float]] = {
    "trains_per_week": (0.001, 1000),
    "headway_h": (168 / 1000, 24 * 366),
    "wagons": (1, 500),
    "teu": (0.5, 20_000),
    "promised_transit_d": (0.01, 366),
    "value_of_time_usd_per_feu_day": (0.01, 100_000),
}
#: TEU a wagon may carry (a 20 ft box on a short wagon to two 40 ft boxes on a long one).
TEU_PER_WAGON = (0.5, 4.0)
#: The longest a storm stoppage may last, in hours (a year).
MAX_STOPPAGE_H = 24 * 366


@dataclass(frozen=True)
class Service:
    """Trains on one route: when they leave, how big they are, what was promised."""

    name: str
    node_ids: tuple[str, ...]
    leg_ids: tuple[str, ...]
    departures_h: tuple[float, ...]
    wagons: int
    teu: float
    window_h: tuple[float, float] = (0.0, 0.0)
    promised_transit_h: float | None = None
    departure_spread_h: float = 0.0
    corridor: str | None = None
    rerouted_from: tuple[str, ...] | None = None
    reroute_reason: str = ""
    #: (from_h, to_h, node_ids, leg_ids): trains leaving in that window take this route instead
    detour: tuple[float, float, tuple[str, ...], tuple[str, ...]] | None = None
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    #: the timetable's inputs, so that a what-if can rebuild it (another window, more trains)
    trains_per_week: float = 0.0
    weekdays: tuple[str, ...] = ()
    #: the service's own start and end dates where it gives them (None: the scenario's)
    dates: tuple[dt.datetime | None, dt.datetime | None] | None = None


@dataclass(frozen=True)
class Closure:
    """Nothing starts service at ``node`` (or enters ``leg``) from ``start_h`` to ``end_h``."""

    start_h: float
    end_h: float
    node: str | None = None
    leg: str | None = None


@dataclass(frozen=True)
class CapacityCut:
    """Servers and the trains/day cap at ``node`` multiplied by ``factor`` from ``start_h`` to ``end_h``."""

    node: str
    start_h: float
    end_h: float
    factor: float


@dataclass(frozen=True)
class Weather:
    """Storms that stop departures from a ferry terminal or port in some months of the year."""

    node: str
    months: tuple[int, ...]
    stoppages_per_month: float
    stoppage_h: Distribution


@dataclass(frozen=True)
class Scenario:
    """A network, the services on it, and what disturbs them, in hours from ``start``.

    Services depart until ``end_h``; the simulation runs on to ``horizon_h`` so that late trains
    can arrive (a train still running then is reported as in the system, not lost).
    """

    name: str
    description: str
    start: dt.datetime
    end_h: float
    horizon_h: float
    network: Network
    services: tuple[Service, ...]
    closures: tuple[Closure, ...] = ()
    capacity_cuts: tuple[CapacityCut, ...] = ()
    weather: tuple[Weather, ...] = ()
    path: Path | None = None
    base: str | None = None
    banned_countries: tuple[str, ...] = ()
    banned_nodes: tuple[str, ...] = ()
    #: what the scenario's [[overrides]] (and its base's) change, in words, with their sources
    overrides: tuple[str, ...] = ()

    def hours(self, when: dt.datetime) -> float:
        """Hours since the scenario start (the engine's one clock)."""
        return (when - self.start).total_seconds() / 3600

    def date_at(self, hours: float) -> dt.datetime:
        """The date and time ``hours`` after the scenario start."""
        return self.start + dt.timedelta(hours=hours)


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


def load_scenario(
    path: str | Path | None = None, *, network: Network | None = None, _chain: tuple[Path, ...] = ()
) -> Scenario:
    """Read and check a scenario: a file, a bundled name such as ``baseline``, or (None) the baseline.

    A scenario may name a ``base`` scenario and change it: its services replace the base's of
    the same name (or add to them), its closures, capacity cuts and weather add to the base's,
    ``[[overrides]]`` change facility and leg parameters, ``[bans]`` keep traffic out of
    countries and nodes, and services whose route is banned or closed for longer than
    ``[rerouting] closure_threshold_d`` take the best remaining route.
    """
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
    base: Scenario | None = None
    if base_name:
        base_path = _base_path(path, base_name, head)
        chain = (*_chain, path.resolve())
        if base_path.resolve() in chain:
            raise head.error("base", base_name, "makes a cycle: " + " -> ".join(p.name for p in (*chain, base_path)))
        base = load_scenario(base_path, network=network, _chain=chain)
    start = _datetime(head, "start_date") if head.has("start_date") or base is None else base.start
    head.raw("start_date")
    if head.has("end_date") or base is None:
        end = _datetime(head, "end_date")
    else:
        end = base.start + dt.timedelta(hours=base.end_h)
    head.raw("end_date")
    if end <= start:
        raise head.error("end_date", _when(end), f"must be after start_date ({_when(start)})")
    if end - start > dt.timedelta(days=MAX_WINDOW_D):
        raise head.error(
            "end_date",
            _when(end),
            f"is {(end - start).days:,} days after start_date ({_when(start)}); a scenario's departure window "
            f"is at most {MAX_WINDOW_D:,} days (about ten years)",
        )
    drain = head.number("drain_d", lo=0, hi=3650, required=False)
    net_path = head.text("network", required=False)
    head.finish()
    if network is None:
        network = (
            base.network
            if base is not None and not net_path
            else load_network((path.parent / net_path) if net_path else None)
        )
    if drain is None:
        drain = (base.horizon_h - base.end_h) / 24 if base is not None else DEFAULT_DRAIN_D
    horizon_h = (end - start).total_seconds() / 3600 + 24 * drain
    known = network.sources
    top.known_sources = known

    def records(key: str, label: str) -> list[Record]:
        raw = top.raw(key)
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise DataError(shown, None, key, raw, f"must be an array of tables: write [[{key}]]")
        return [Record(shown, f"{label} #{i}", r, sources=known) for i, r in enumerate(raw, start=1)]

    from sim.whatif import apply_overrides, apply_service_overrides, reroute

    overrides = records("overrides", "override")
    described = (*(base.overrides if base else ()), *(_describe_override(r.data) for r in overrides))
    network = apply_overrides(network, [r for r in overrides if not r.has("service")])
    raw_services = top.raw("services")
    services: dict[str, Service] = {}
    inherited_closures: list[Closure] = []
    inherited_cuts: list[CapacityCut] = []
    if base is not None:
        redefined = (
            {r.get("name") for r in raw_services if isinstance(r, dict)} if isinstance(raw_services, list) else set()
        )
        services, inherited_closures, inherited_cuts = _rebased(base, start, end, head, redefined)
    seen: set[str] = set()
    if (
        (raw_services is None and base is None)
        or (raw_services is not None and not isinstance(raw_services, list))
        or raw_services == []
    ):
        problem = "must list at least one [[services]] table"
        if base is not None:
            problem += " (leave it out to keep the base's services)"
        raise DataError(shown, None, "services", raw_services, problem)
    for i, raw in enumerate(raw_services or [], start=1):
        rec = Record(shown, f"service #{i}", raw, sources=known)
        service = _service(rec, network, start, end)
        if service.name in seen:
            raise DataError(shown, f"service {service.name}", "name", service.name, "duplicate service name")
        seen.add(service.name)
        services[service.name] = service
        _check_departures(shown, services)
    apply_service_overrides(services, [r for r in overrides if r.has("service")], start)
    _check_departures(shown, services)
    horizon = start + dt.timedelta(hours=horizon_h)
    closures = [
        *inherited_closures,
        *(_closure(r, network, start, horizon) for r in records("closures", "closure")),
    ]
    cuts = [
        *inherited_cuts,
        *(_cut(r, network, start, horizon) for r in records("capacity_cuts", "capacity cut")),
    ]
    weather = [*(base.weather if base else ()), *(_weather(r, network) for r in records("weather", "weather"))]
    bans_rec = top.sub("bans")
    countries: tuple[str, ...] = base.banned_countries if base else ()
    banned_nodes: tuple[str, ...] = base.banned_nodes if base else ()
    if bans_rec is not None:
        bans_rec.label = "[bans]"
        extra_countries = bans_rec.strings("countries", required=False)
        for code in extra_countries:
            if code not in network.countries:
                raise bans_rec.error("countries", code, "is not a country of the network")
        extra_nodes = bans_rec.strings("nodes", required=False)
        for node_id in extra_nodes:
            if node_id not in network.nodes:
                raise bans_rec.error("nodes", node_id, "is not a node of the network")
        bans_rec.text("note", required=False)
        bans_rec.finish()
        countries = tuple(dict.fromkeys((*countries, *extra_countries)))
        banned_nodes = tuple(dict.fromkeys((*banned_nodes, *extra_nodes)))
    rules = top.sub("rerouting")
    threshold_d: float | None = None
    by = "time"
    value_of_time = 100.0
    if rules is not None:
        rules.label = "[rerouting]"
        threshold_d = rules.number("closure_threshold_d", lo=0, hi=3660, required=False)
        threshold_d = 7.0 if threshold_d is None else threshold_d
        by = rules.choice("by", ("time", "distance", "cost", "generalised"), required=False) or by
        lo, hi = SERVICE_BOUNDS["value_of_time_usd_per_feu_day"]
        vot = rules.sourced("value_of_time_usd_per_feu_day", required=False, lo=lo, hi=hi)
        value_of_time = float(vot.value) if vot is not None else value_of_time
        rules.text("note", required=False)
        rules.finish()
    top.finish()
    moved = reroute(
        list(services.values()),
        network,
        countries=countries,
        nodes=banned_nodes,
        closures=closures,
        threshold_h=None if threshold_d is None else 24 * threshold_d,
        by=by,
        file=shown,
        value_of_time_usd_per_feu_day=value_of_time,
        start=start,
    )
    return Scenario(
        name=name,
        description=description,
        start=start,
        end_h=(end - start).total_seconds() / 3600,
        horizon_h=horizon_h,
        network=network,
        services=tuple(moved),
        closures=tuple(closures),
        capacity_cuts=tuple(cuts),
        weather=tuple(weather),
        path=path,
        base=base.name if base else None,
        banned_countries=countries,
        banned_nodes=banned_nodes,
        overrides=described,
    )


def _rebased(
    base: Scenario, start: dt.datetime, end: dt.datetime, head: Record, redefined: set[Any]
) -> tuple[dict[str, Service], list[Closure], list[CapacityCut]]:
    """The base's services, closures and capacity cuts in a what-if's window.

    Unchanged when the what-if keeps the base's dates. Otherwise every hour is counted from the
    what-if's start, and each service's timetable is built again for the new window (a shorter
    window must not keep the base's departures up to its old end): from the service's own dates
    when it gave them, which must lie within the new window, else over the whole window. The
    services the what-if ``redefined`` (its own [[services]] of the same name) are left to it.
    """
    base_end = base.start + dt.timedelta(hours=base.end_h)
    services = {s.name: s for s in base.services}
    if start == base.start and end == base_end:
        return services, list(base.closures), list(base.capacity_cuts)
    shift = (base.start - start).total_seconds() / 3600
    out: dict[str, Service] = {}
    for name, s in services.items():
        if name in redefined:
            out[name] = s  # replaced by the what-if's own table below
            continue
        own_start, own_end = s.dates or (None, None)
        s_start, s_end = own_start or start, own_end or end
        if s_start < start or s_end > end or s_start >= s_end:
            key, when = ("start_date", start) if s_start < start else ("end_date", end)
            raise head.error(
                key,
                _when(when),
                f"leaves out the base's service {name}, which runs {_when(s_start)} to {_when(s_end)}: "
                "move its dates with a [[services]] table of the same name",
            )
        per_week = s.trains_per_week or _rate(s)
        detour = s.detour
        if detour is not None:
            detour = (detour[0] + shift, detour[1] + shift, detour[2], detour[3])
        out[name] = dataclasses.replace(
            s,
            departures_h=timetable(per_week, s.weekdays, s_start, s_end, start),
            window_h=((s_start - start).total_seconds() / 3600, (s_end - start).total_seconds() / 3600),
            detour=detour,
        )
    closures = [dataclasses.replace(c, start_h=c.start_h + shift, end_h=c.end_h + shift) for c in base.closures]
    cuts = [dataclasses.replace(c, start_h=c.start_h + shift, end_h=c.end_h + shift) for c in base.capacity_cuts]
    return out, closures, cuts


def _rate(service: Service) -> float:
    """Trains a week of a service built without its timetable's inputs: its departures over its window."""
    window_h = service.window_h[1] - service.window_h[0]
    return len(service.departures_h) * 168 / window_h if window_h > 0 else 0.0


def _check_departures(file: str, services: Mapping[str, Service]) -> None:
    """Refuse a scenario whose timetables hold more than ``MAX_DEPARTURES`` trains in all."""
    total = sum(len(s.departures_h) for s in services.values())
    if total > MAX_DEPARTURES:
        big = max(services.values(), key=lambda s: len(s.departures_h))
        raise DataError(
            file,
            f"service {big.name}",
            "trains_per_week",
            round(big.trains_per_week or _rate(big), 3),
            f"the services depart {total:,} trains in all ({big.name}: {len(big.departures_h):,}); "
            f"a scenario holds at most {MAX_DEPARTURES:,}: fewer trains a week or a shorter window",
        )


def _describe_override(data: Any) -> str:
    where = data.get("node") or data.get("leg") or data.get("service") or "?"
    change = f"= {data['value']}" if "value" in data else f"× {data.get('factor')}"
    source = data.get("source")
    sources = ", ".join(source) if isinstance(source, list) else (source or "")
    return f"{where} {data.get('field')} {change}" + (f" ({sources})" if sources else "")


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


#: Years a scenario's dates may fall in: wide enough for any history or plan, and far enough from
#: the calendar's end (9999) that the window, the drain time and the reports' dates stay on it.
YEARS = (1900, 2200)


def _datetime(rec: Record, key: str, *, required: bool = True) -> dt.datetime:
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


def _when(value: dt.datetime) -> str:
    return value.date().isoformat() if value.time() == dt.time() else value.isoformat(timespec="minutes")


def _service(rec: Record, network: Network, start: dt.datetime, end: dt.datetime) -> Service:
    name = _name(rec, "name")
    rec.label = f"service {name}"
    sources: dict[str, tuple[str, ...]] = {}
    corridor_name = rec.text("corridor", required=False) or None
    origin = rec.text("origin", required=False) or None
    destination = rec.text("destination", required=False) or None
    if corridor_name is not None:
        if origin or destination:
            raise rec.error("origin", origin or destination, "give corridor, or origin and destination, not both")
        if corridor_name not in network.corridors:
            raise rec.error(
                "corridor", corridor_name, f"is not a corridor of the network ({', '.join(network.corridors)})"
            )
        corridor = network.corridors[corridor_name]
        node_ids, leg_ids = corridor.node_ids, corridor.leg_ids
    else:
        if not origin or not destination:
            raise rec.error("corridor", None, "is required (or origin and destination, routed by expected time)")
        for key, node in (("origin", origin), ("destination", destination)):
            if node not in network.nodes:
                raise rec.error(key, node, "is not a node of the network")
        found = route(network, origin, destination)
        if not found:
            raise rec.error("destination", destination, f"cannot be reached from {origin}")
        node_ids, leg_ids = found[0].node_ids, found[0].leg_ids
    if rec.has("trains_per_week") == rec.has("headway_h"):
        rec.raw("headway_h")
        raise rec.error(
            "trains_per_week", rec.raw("trains_per_week"), "give trains_per_week or headway_h, not both and not neither"
        )
    per_week = rec.sourced("trains_per_week", lo=_lo("trains_per_week"), hi=_hi("trains_per_week"), required=False)
    headway = rec.sourced("headway_h", lo=_lo("headway_h"), hi=_hi("headway_h"), required=False)
    if per_week is not None:
        sources["trains_per_week"] = per_week.sources
        trains_per_week = float(per_week.value)
    else:
        assert headway is not None
        sources["headway_h"] = headway.sources
        trains_per_week = 168.0 / float(headway.value)
    weekdays = rec.strings("weekdays", required=False)
    if weekdays and headway is not None:
        raise rec.error("weekdays", list(weekdays), "goes with trains_per_week, not with headway_h")
    for day in weekdays:
        if day not in WEEKDAYS:
            raise rec.error("weekdays", day, f"must be among {', '.join(WEEKDAYS)}")
    if len(set(weekdays)) != len(weekdays):
        twice = next(d for d in weekdays if weekdays.count(d) > 1)
        raise rec.error("weekdays", twice, "is listed twice: name each day once")
    wagons = rec.sourced("wagons", integer=True, lo=_lo("wagons"), hi=_hi("wagons"))
    teu = rec.sourced("teu", lo=_lo("teu"), hi=_hi("teu"))
    assert wagons is not None and teu is not None
    problem = teu_problem(int(wagons.value), float(teu.value))
    if problem:
        raise rec.error("teu.value", teu.value, problem)
    sources["wagons"], sources["teu"] = wagons.sources, teu.sources
    promised = rec.sourced(
        "promised_transit_d", required=False, lo=_lo("promised_transit_d"), hi=_hi("promised_transit_d")
    )
    if promised is not None:
        sources["promised_transit_d"] = promised.sources
    spread = rec.sourced("departure_spread_h", required=False, positive=False, lo=0, hi=168)
    s_start = _datetime(rec, "start_date") if rec.has("start_date") else start
    rec.raw("start_date")
    s_end = _datetime(rec, "end_date") if rec.has("end_date") else end
    rec.raw("end_date")
    rec.text("note", required=False)
    rec.finish()
    if s_end <= s_start:
        raise rec.error("end_date", _when(s_end), f"must be after start_date ({_when(s_start)})")
    if s_start < start or s_end > end:
        raise rec.error(
            "start_date" if s_start < start else "end_date",
            _when(s_start if s_start < start else s_end),
            f"must lie within the scenario's {_when(start)} to {_when(end)}",
        )
    departures = timetable(trains_per_week, weekdays, s_start, s_end, start)
    return Service(
        name=name,
        node_ids=node_ids,
        leg_ids=leg_ids,
        departures_h=departures,
        wagons=int(wagons.value),
        teu=float(teu.value),
        window_h=((s_start - start).total_seconds() / 3600, (s_end - start).total_seconds() / 3600),
        promised_transit_h=float(promised.value) * 24 if promised else None,
        departure_spread_h=float(spread.value) if spread else 0.0,
        corridor=corridor_name,
        sources=sources,
        trains_per_week=trains_per_week,
        weekdays=weekdays,
        dates=(
            s_start if rec.has("start_date") else None,
            s_end if rec.has("end_date") else None,
        ),
    )


def _lo(key: str) -> float:
    return SERVICE_BOUNDS[key][0]


def _hi(key: str) -> float:
    return SERVICE_BOUNDS[key][1]


def teu_problem(wagons: int, teu: float) -> str | None:
    """Why ``teu`` does not fit on ``wagons`` wagons (None: it fits)."""
    lo, hi = TEU_PER_WAGON
    if not lo * wagons <= teu <= hi * wagons:
        return f"does not fit on {wagons} wagons ({lo:g} to {hi:g} TEU a wagon)"
    return None


def timetable(
    per_week: float, weekdays: tuple[str, ...], s_start: dt.datetime, s_end: dt.datetime, origin: dt.datetime
) -> tuple[float, ...]:
    """Departure times in hours since ``origin``: evenly spaced, or spread over the given weekdays."""
    first = (s_start - origin).total_seconds() / 3600
    last = (s_end - origin).total_seconds() / 3600
    if not weekdays:
        headway = 168 / per_week
        n = int((last - first) / headway - 1e-9) + 1
        return tuple(first + i * headway for i in range(n) if first + i * headway < last)
    # weekdays: per_week trains spread evenly over those days, departing through each day
    days = sorted(WEEKDAYS.index(d) for d in weekdays)
    per_day = per_week / len(days)
    out: list[float] = []
    day = s_start.replace(hour=0, minute=0, second=0, microsecond=0)
    carry = 0.0
    while day < s_end:
        if day.weekday() in days:
            carry += per_day
            count = int(carry + 1e-9)
            carry -= count
            for k in range(count):
                t = (day - origin).total_seconds() / 3600 + 24 * (k + 0.5) / count
                if first <= t < last:
                    out.append(t)
        day += dt.timedelta(days=1)
    return tuple(out)


def _place(rec: Record, network: Network) -> tuple[str | None, str | None]:
    node = rec.text("node", required=False) or None
    leg = rec.text("leg", required=False) or None
    if bool(node) == bool(leg):
        raise rec.error("node", node, "give exactly one of node or leg")
    if node and node not in network.nodes:
        raise rec.error("node", node, "is not a node of the network")
    if leg and leg not in network.legs:
        raise rec.error("leg", leg, "is not a leg of the network")
    return node, leg


def _window(rec: Record, start: dt.datetime, horizon: dt.datetime) -> tuple[float, float]:
    a = _datetime(rec, "start")
    b = _datetime(rec, "end")
    if b <= a:
        raise rec.error("end", _when(b), f"must be after start ({_when(a)})")
    if b <= start or a >= horizon:
        raise rec.error(
            "start", _when(a), f"the window lies outside the simulated time ({_when(start)} to {_when(horizon)})"
        )
    return (a - start).total_seconds() / 3600, (b - start).total_seconds() / 3600


def _closure(rec: Record, network: Network, start: dt.datetime, horizon: dt.datetime) -> Closure:
    node, leg = _place(rec, network)
    a, b = _window(rec, start, horizon)
    rec.sources_of("source", required=False)
    rec.text("note", required=False)
    rec.finish()
    return Closure(start_h=a, end_h=b, node=node, leg=leg)


def _cut(rec: Record, network: Network, start: dt.datetime, horizon: dt.datetime) -> CapacityCut:
    node, _ = _place(rec, network)
    if node is None:
        raise rec.error("leg", rec.data.get("leg"), "capacity cuts apply to nodes")
    f = network.nodes[node].facility
    if f is None or (f.process_h is None and not f.trains_per_day):
        raise rec.error("node", node, "has no servers or trains/day cap to cut (its facility has none)")
    a, b = _window(rec, start, horizon)
    factor = rec.number("factor")
    assert factor is not None
    if not 0 < factor <= 10:
        raise rec.error("factor", factor, "must be above 0 and at most 10 (use a closure to stop a node)")
    rec.sources_of("source", required=False)
    rec.text("note", required=False)
    rec.finish()
    return CapacityCut(node=node, start_h=a, end_h=b, factor=factor)


def _weather(rec: Record, network: Network) -> Weather:
    node, _ = _place(rec, network)
    if node is None:
        raise rec.error("leg", rec.data.get("leg"), "weather applies to ports and ferry terminals (nodes)")
    if not (network.nodes[node].has_kind("port") or network.nodes[node].has_kind("ferry_terminal")):
        raise rec.error("node", node, "is not a port or ferry terminal: weather stops vessels, not trains")
    months_raw: Any = rec.raw("months")
    if (
        not isinstance(months_raw, list)
        or not months_raw
        or not all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in months_raw)
    ):
        raise rec.error("months", months_raw, "must list months as numbers 1-12")
    per_month = rec.sourced("stoppages_per_month", lo=0, hi=30)
    stoppage = rec.duration("stoppage_h", "stoppage_d")
    assert per_month is not None and stoppage is not None
    if stoppage.value.max_h > MAX_STOPPAGE_H:
        key = "stoppage_h" if rec.has("stoppage_h") else "stoppage_d"
        shown_max = stoppage.value.max_h if key == "stoppage_h" else stoppage.value.max_h / 24
        raise rec.error(f"{key}.max", shown_max, f"a stoppage lasts at most {MAX_STOPPAGE_H:,} hours (a year)")
    rec.text("note", required=False)
    rec.finish()
    return Weather(
        node=node, months=tuple(months_raw), stoppages_per_month=float(per_month.value), stoppage_h=stoppage.value
    )
