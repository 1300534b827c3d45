"""Calibration: measures over the records, compared with published targets."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corridors import DataError, Network, bundled_data_dir
from corridors.loader import display_path, read_toml
from corridors.schema import ESTIMATE, Record, fitted_targets
from corridors.units import HOURS_PER_DAY
from sim.engine import Replication
from sim.kpis import ci95_of_mean, visit_times

__all__ = ["Claim", "Target", "TargetResult", "evaluate", "load_targets"]

MEASURES = ("transit", "segment", "dwell", "difference")
#: end_to_end rows are judged (a miss fails the run); node rows describe other traffic and are
#: shown; expectation rows set published claims (announced, planned, target or trial figures)
#: beside the model and are never judged.
KINDS = ("end_to_end", "node", "expectation")
#: What a published figure of an expectation row is: a figure stated by an operator, an official
#: or the press (claim), a launch-time estimate or schedule (planned), a goal set or agreed
#: (target), or a trial run's time as reported, without the dates or records that would make it
#: an observation (trial). None of them is an observed transit.
CLAIM_STATUSES = ("claim", "planned", "target", "trial")
EVENTS = ("depart", "arrive", "start", "end", "leave", "complete")
#: The widest published range a target may give, in hours (ten years).
MAX_RANGE_H = 10 * 366 * HOURS_PER_DAY


@dataclass(frozen=True)
class Measure:
    measure: str
    services: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    start: tuple[str, str] | None = None
    stop: tuple[str, str] | None = None
    exclude: tuple[tuple[str, str, str], ...] = ()
    a: Measure | None = None
    b: Measure | None = None


@dataclass(frozen=True)
class Claim:
    """One published figure of an expectation row: a value (``low_h == high_h``) or a range, in
    hours, with its status (``CLAIM_STATUSES``), its sources and who said it when (``note``)."""

    low_h: float
    high_h: float
    status: str
    sources: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Target:
    """A published figure as a range, in hours, and how to measure it in the simulation.

    An expectation row (``kind == "expectation"``) holds its published figures in ``claims``;
    its range is then their spread (the lowest low to the highest high), and it is never judged.
    """

    id: str
    what: str
    kind: str
    how: Measure
    low_h: float
    high_h: float
    unit: str
    sources: tuple[str, ...]
    note: str
    applies_to: str
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class TargetResult:
    target: Target
    mean_h: float | None
    ci95_h: tuple[float, float] | None
    n: int

    @property
    def passed(self) -> bool:
        """The simulated mean lies within the published range (an expectation row's spread, which
        judges nothing: ``result_rows`` leaves it out for such rows)."""
        return self.mean_h is not None and self.target.low_h <= self.mean_h <= self.target.high_h


def default_targets() -> Path:
    return bundled_data_dir() / "calibration" / "targets.toml"


def load_targets(
    path: str | Path | None, network: Network, services: Sequence[str] | Mapping[str, Sequence[str]]
) -> tuple[list[Target], list[str]]:
    """Read a targets file, checking every service, node and event it names.

    ``services`` maps the scenario's service names to their routes (node ids). Returns the
    targets and, for the bundled targets file only, the ids of rows left out because they name
    services the scenario does not have (your own targets file must name existing services).
    """
    bundled = path is None
    path = Path(path) if path is not None else default_targets()
    routes = services if isinstance(services, Mapping) else {name: () for name in services}
    shown = display_path(path)
    if not path.is_file():
        raise DataError(shown, None, None, None, "targets file not found")
    data = read_toml(path)
    rows = data.get("targets")
    if set(data) - {"targets"} or not isinstance(rows, list) or not rows:
        raise DataError(shown, None, None, None, "must hold [[targets]] records and nothing else")
    out = []
    skipped: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(rows, start=1):
        rec = Record(shown, f"target #{i}", raw, sources=network.sources)
        ident = rec.ident("id", safe=True)
        rec.label = f"target {ident}"
        if ident in seen:
            raise rec.error("id", ident, "duplicate: another target has this id")
        seen.add(ident)
        if bundled and _names_missing_services(raw, routes):
            skipped.append(ident)
            continue
        what = rec.text("what")
        kind = rec.choice("kind", KINDS) or "end_to_end"
        how = _measure(rec, network, routes, top=True)
        claims: tuple[Claim, ...] = ()
        if kind == "expectation":
            for key in ("range_h", "range_d", "source"):
                if rec.has(key):
                    raise rec.error(
                        key,
                        rec.data[key],
                        "an expectation row gives its published figures as [[targets.claims]], "
                        "each with its own value or range and source",
                    )
            claims, unit = _claims(rec)
            low_h, high_h = min(c.low_h for c in claims), max(c.high_h for c in claims)
            sources = tuple(dict.fromkeys(k for c in claims for k in c.sources))
        else:
            if rec.has("claims"):
                raise rec.error("claims", rec.data["claims"], 'only kind = "expectation" rows take claims')
            low_h, high_h, unit = _range(rec)
            sources = rec.sources_of("source")
        note = rec.text("note", required=False)
        applies = rec.text("applies_to", required=False)
        rec.finish()
        out.append(Target(ident, what, kind, how, low_h, high_h, unit, sources, note, applies, claims))
    return out, skipped


def _range(rec: Record) -> tuple[float, float, str]:
    """A row's published range, in hours, and the unit it was given in: ``range_h`` or ``range_d``."""
    has_h, has_d = rec.has("range_h"), rec.has("range_d")
    if has_h == has_d:
        raise rec.error(
            "range_d" if has_d else "range_h",
            rec.data.get("range_d"),
            "give range_h or range_d (a [low, high] pair), not both and not neither",
        )
    key = "range_h" if has_h else "range_d"
    rec.raw("range_h" if key == "range_d" else "range_d")
    low_h, high_h = _pair(rec, key)
    return low_h, high_h, key[-1]


def _pair(rec: Record, key: str) -> tuple[float, float]:
    """The [low, high] pair under ``key`` (``range_h`` or ``range_d``), in hours."""
    pair = rec.raw(key)
    factor = 1.0 if key.endswith("_h") else HOURS_PER_DAY
    top = MAX_RANGE_H / factor
    if (
        not isinstance(pair, list)
        or len(pair) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)
        or not all(-1 < v <= top for v in pair)  # big integers compare safely; NaN and inf fail
        or not 0 <= pair[0] <= pair[1]
    ):
        raise rec.error(key, pair, f"must be [low, high] finite numbers with 0 <= low <= high <= {top:g}")
    return float(pair[0]) * factor, float(pair[1]) * factor


#: The fields a claim may give its figure in: a single value or a [low, high] range, hours or days.
CLAIM_FIGURES = ("value_d", "range_d", "value_h", "range_h")


def _claims(rec: Record) -> tuple[tuple[Claim, ...], str]:
    """An expectation row's ``[[targets.claims]]``, and the unit they are all given in."""
    raw = rec.raw("claims")
    if not isinstance(raw, list) or not raw:
        raise rec.error(
            "claims",
            raw,
            "an expectation row needs one or more [[targets.claims]]: { value_d or range_d, status, source, note }",
        )
    claims: list[Claim] = []
    unit = ""
    for j, item in enumerate(raw):
        sub = Record(rec.file, rec.label, item, sources=rec.known_sources, prefix=f"{rec.prefix}claims[{j}].")
        given = [k for k in CLAIM_FIGURES if sub.has(k)]
        if not given:
            figure = "the published figure as value_d, range_d ([low, high]), value_h or range_h"
            raise sub.error("value_d", None, f"is required: {figure}")
        if len(given) > 1:
            both = f"not both {given[0]} and {given[1]}"
            raise sub.error(given[1], sub.data[given[1]], f"give one figure a claim, {both}")
        key = given[0]
        if key.startswith("range_"):
            low_h, high_h = _pair(sub, key)
        else:
            factor = 1.0 if key.endswith("_h") else HOURS_PER_DAY
            value = sub.number(key, lo=0, hi=MAX_RANGE_H / factor)
            assert value is not None
            low_h = high_h = value * factor
        if unit and key[-1] != unit:
            first = "the row's first claim is in " + ("hours" if unit == "h" else "days")
            raise sub.error(key, sub.data[key], f"{first}: give every claim in the same unit")
        unit = key[-1]
        status = sub.choice("status", CLAIM_STATUSES) or ""
        sources = sub.sources_of("source")
        if ESTIMATE in sources:
            raise sub.error("source", ESTIMATE, "a published figure names where it was published, not ESTIMATE")
        note = sub.text("note")
        sub.finish()
        claims.append(Claim(low_h, high_h, status, sources, note))
    return tuple(claims), unit


def _names_missing_services(raw: Any, routes: Mapping[str, Sequence[str]]) -> bool:
    """Whether a raw target row (or its a/b parts) names a service the scenario lacks."""
    if not isinstance(raw, Mapping):
        return False
    names = raw.get("services")
    if isinstance(names, list) and any(isinstance(n, str) and n not in routes for n in names):
        return True
    return any(_names_missing_services(raw.get(k), routes) for k in ("a", "b"))


def _measure(rec: Record, network: Network, services: Mapping[str, Sequence[str]], *, top: bool = False) -> Measure:
    measure = rec.choice("measure", MEASURES)
    if measure == "difference":
        subs = []
        for key in ("a", "b"):
            sub = rec.sub(key)
            if sub is None:
                raise rec.error(key, None, "is required for a difference: a table with its own measure")
            subs.append(_measure(sub, network, services))
            sub.finish()
        return Measure("difference", a=subs[0], b=subs[1])
    names = rec.strings("services", required=measure != "dwell")
    for name in names:
        if name not in services:
            raise rec.error("services", name, "is not a service of the scenario")
    nodes = rec.strings("nodes", required=measure == "dwell")
    for node in nodes:
        if node not in network.nodes:
            raise rec.error("nodes", node, "is not a node of the network")

    def point(key: str) -> tuple[str, str]:
        sub = rec.sub(key)
        if sub is None:
            raise rec.error(key, None, "is required: { place = ..., event = ... }")
        place = sub.text("place")
        event = sub.choice("event", EVENTS)
        sub.finish()
        if place not in network.nodes:
            raise sub.error("place", place, "is not a node of the network")
        return place, event or "arrive"

    start = stop = None
    excluded: list[tuple[str, str, str]] = []
    if measure == "segment":
        start, stop = point("from"), point("to")
        for name in names:
            route = list(services.get(name, ()))
            if not route:
                continue
            for key, (place, _) in (("from", start), ("to", stop)):
                if place not in route:
                    raise rec.error(f"{key}.place", place, f"is not on the route of service {name}")
            if route.index(start[0]) > route.index(stop[0]):
                raise rec.error("to.place", stop[0], f"comes before {start[0]} on the route of service {name}")
        raw = rec.raw("exclude") or []
        if not isinstance(raw, list):
            raise rec.error("exclude", raw, "must be a list of { place, from, to }")
        for j, item in enumerate(raw):
            sub = Record(rec.file, rec.label, item, prefix=f"{rec.prefix}exclude[{j}].")
            place = sub.text("place")
            a, b = sub.choice("from", EVENTS), sub.choice("to", EVENTS)
            sub.finish()
            excluded.append((place, a or "", b or ""))
    return Measure(measure or "transit", tuple(names), tuple(nodes), start, stop, tuple(excluded))


def _values(
    how: Measure,
    reps: Sequence[Replication],
    visits: Mapping[tuple[int, str, str], dict[str, float]],
) -> list[list[float]]:
    """Per replication, the measured values in hours."""
    out: list[list[float]] = []
    for rep in reps:
        values: list[float] = []
        if how.measure == "transit":
            values = [
                t.arrive_h - t.depart_h for t in rep.trains if t.service in how.services and t.arrive_h is not None
            ]
        elif how.measure == "dwell":
            for (r, _train, place), ev in visits.items():
                if r == rep.replication and place in how.nodes and "arrive" in ev:
                    left = ev.get("leave", ev.get("end"))
                    if left is not None:
                        values.append(left - ev["arrive"])
        elif how.measure == "segment":
            assert how.start and how.stop
            for t in rep.trains:
                if t.service not in how.services or t.arrive_h is None:
                    continue
                a = visits.get((rep.replication, t.train, how.start[0]), {}).get(how.start[1])
                b = visits.get((rep.replication, t.train, how.stop[0]), {}).get(how.stop[1])
                if a is None or b is None:
                    continue
                span = b - a
                for place, e1, e2 in how.exclude:
                    ev = visits.get((rep.replication, t.train, place), {})
                    if e1 in ev and e2 in ev:
                        span -= ev[e2] - ev[e1]
                values.append(span)
        out.append(values)
    return out


def _places(how: Measure) -> set[str]:
    """The places whose visits a measure reads."""
    places = set(how.nodes) | {p for p, _, _ in how.exclude}
    places |= {how.start[0]} if how.start else set()
    places |= {how.stop[0]} if how.stop else set()
    for part in (how.a, how.b):
        if part is not None:
            places |= _places(part)
    return places


def evaluate(targets: Sequence[Target], reps: Sequence[Replication]) -> list[TargetResult]:
    """Measure every target over the replications: the mean, and a 95% CI across replications."""
    visits = visit_times(reps, {place for target in targets for place in _places(target.how)})
    results = []
    for target in targets:
        how = target.how
        if how.measure == "difference":
            assert how.a and how.b
            per_a = _values(how.a, reps, visits)
            per_b = _values(how.b, reps, visits)
            per = [
                [statistics.fmean(b) - statistics.fmean(a)] if a and b else []
                for a, b in zip(per_a, per_b, strict=True)
            ]
        else:
            per = _values(how, reps, visits)
        pooled = [v for values in per for v in values]
        rep_means = [statistics.fmean(v) for v in per if v]
        mean = statistics.fmean(pooled) if pooled else None
        results.append(TargetResult(target, mean, ci95_of_mean(rep_means), len(pooled)))
    return results


def fitted_parameters(network: Network) -> dict[str, list[str]]:
    """Per target id, the network's parameters fitted to it ("M02 transit_h"), from their
    ``fitted_to`` in the data: a row they were fitted to checks the fit, not independent evidence."""
    out: dict[str, list[str]] = {}
    notes = [(node.id, node.notes) for node in network.nodes.values()]
    notes += [(node.id, node.facility.notes) for node in network.nodes.values() if node.facility]
    notes += [(leg.id, leg.notes) for leg in network.legs.values()]
    for where, fields in notes:
        for field, note in fields.items():
            for target_id in fitted_targets(note):
                out.setdefault(target_id, []).append(f"{where} {field}")
    return out


def _shown(low_h: float, high_h: float, scale: float) -> list[float]:
    """A published [low, high] in the row's unit (``scale`` hours to the unit)."""
    return [round(low_h / scale, 2), round(high_h / scale, 2)]


def result_rows(results: Sequence[TargetResult], network: Network | None = None) -> list[dict[str, Any]]:
    """The JSON form of a validation (with ``network``: the parameters fitted to each row).

    An expectation row has no ``observed`` range and no ``passed``: it gives the ``spread`` of its
    published figures ([lowest, highest]) and each of its ``claims`` (``published`` [low, high],
    equal for a single figure; ``status``, ``sources``, ``note``).
    """
    fitted = fitted_parameters(network) if network is not None else {}
    rows = []
    for r in results:
        t = r.target
        scale = HOURS_PER_DAY if t.unit == "d" else 1.0
        simulated: dict[str, Any] = {
            "simulated_mean": round(r.mean_h / scale, 2) if r.mean_h is not None else None,
            "ci95": [round(v / scale, 2) for v in r.ci95_h] if r.ci95_h else None,
            "n": r.n,
        }
        about = {
            "applies_to": t.applies_to or None,
            "sources": list(t.sources),
            "note": t.note or None,
            "fitted_parameters": fitted.get(t.id, []),
        }
        head = {"id": t.id, "what": t.what, "kind": t.kind, "unit": t.unit}
        published = _shown(t.low_h, t.high_h, scale)
        if t.kind == "expectation":
            claims = [
                {"published": _shown(c.low_h, c.high_h, scale), "status": c.status}
                | {"sources": list(c.sources), "note": c.note}
                for c in t.claims
            ]
            rows.append(head | simulated | {"spread": published, "claims": claims} | about)
        else:
            rows.append(head | {"observed": published} | simulated | {"passed": r.passed} | about)
    return rows
