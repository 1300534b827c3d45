"""Load a network folder (TOML records and GeoJSON geometry) into a validated ``Network``."""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from corridors.errors import DataError
from corridors.geo import from_geojson_position, geodesic_km, path_km
from corridors.model import (
    DISPATCH_RULES,
    MODES,
    NODE_KINDS,
    Corridor,
    Facility,
    LatLon,
    Leg,
    Network,
    Node,
    WrittenValue,
)
from corridors.schema import FIELD_BOUNDS, Record, Sourced, dispatch_problem

__all__ = ["NETWORK_FILES", "bundled_data_dir", "display_path", "load_network", "read_json", "read_toml"]

#: The files of a network folder; geometry.geojson is optional.
NETWORK_FILES = ("sources.toml", "modes.toml", "nodes.toml", "legs.toml", "corridors.toml")
GEOMETRY_FILE = "geometry.geojson"
#: Plausible average speeds (km/h, stops included) by mode: a leg outside them has a typo.
SPEED_KPH = {"rail": (1, 120), "ferry": (1, 60), "sea": (5, 60), "road": (1, 100)}
#: How far the first or last point of a leg's geometry may lie from its node.
GEOMETRY_END_TOLERANCE_KM = 50.0
#: Upper bounds on the network's numbers, far above any real corridor: they keep every sum and
#: product (costs, CO2, totals) finite and a simulation quick. Durations: at most a year. The
#: facility and leg fields a what-if or a sweep may also set take their bounds from one table,
#: ``FIELD_BOUNDS``, so a value refused here is refused there too.
BOUNDS: Mapping[str, float] = MappingProxyType(
    {
        "cost_usd_per_feu_km": 1_000,
        "co2_kg_per_teu_km": 100,
        "distance_km": 50_000,
        **{field: high for field, (_low, high) in FIELD_BOUNDS.items()},
    }
)


def bundled_data_dir() -> Path:
    """The ``data/`` folder shipped with the package (wheel) or beside it (source checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent / "data"):
        if (candidate / "network").is_dir():
            return candidate
    raise FileNotFoundError(f"bundled data not found beside {here}; reinstall the package")


def load_network(path: str | os.PathLike[str] | None = None) -> Network:
    """Read and validate a network folder; the bundled network when ``path`` is None.

    ``path`` may also be one of the folder's files. Raises ``DataError`` naming the file,
    record, field and value of the first problem found.
    """
    root = Path(path) if path is not None else bundled_data_dir() / "network"
    if str(path).strip() == "":
        raise DataError("(empty path)", None, None, None, "give a network folder")
    if root.is_file():
        if root.name not in (*NETWORK_FILES, GEOMETRY_FILE):
            raise DataError(
                display_path(root),
                None,
                None,
                None,
                "is a file, not a network folder (one holding " + ", ".join(NETWORK_FILES) + ")",
            )
        root = root.parent
    if not root.is_dir():
        raise DataError(display_path(root), None, None, None, "no such network folder")
    return _Loader(root).load()


#: The largest TOML file read (bytes): far above any network or scenario, and a guard against a
#: file that would take minutes to parse.
MAX_TOML_BYTES = 4_000_000
#: The largest GeoJSON file read (bytes).
MAX_JSON_BYTES = 64_000_000
#: The most parts a dotted TOML key (``a.b.c``) or table header may have: the standard library's
#: parser is quadratic in them, so a key of 200,000 parts would hang it.
MAX_KEY_PARTS = 64
#: How deep tables and arrays may nest.
MAX_NESTING = 32

# strings and comments (blanked before counting key parts, so dots in text do not count)
_TOML_TEXT = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*')
_KEY_CHAIN = re.compile(r'[A-Za-z0-9_\-." \t]+')


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A TOML file as a dict; every problem reading it is a ``DataError`` naming the file.

    Refuses, with a message, what would otherwise crash or hang the parser: a missing file, bad
    syntax or encoding, a file over ``MAX_TOML_BYTES``, a dotted key of more than
    ``MAX_KEY_PARTS`` parts, nesting deeper than ``MAX_NESTING``, an integer too long to read.
    """
    path = Path(path)
    shown = display_path(path)
    text = _read_text(path, shown, MAX_TOML_BYTES)
    _check_dotted_keys(text, shown)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(shown, None, None, None, f"TOML syntax error: {exc}") from None
    except RecursionError:
        raise DataError(shown, None, None, None, f"arrays or tables nest more than {MAX_NESTING} deep") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise DataError(shown, None, None, None, f"a value cannot be read: {_number_problem(exc)}") from None
    _check_nesting(data, shown)
    return data


def read_json(path: str | os.PathLike[str]) -> Any:
    """A JSON (GeoJSON) file; every problem reading it is a ``DataError`` naming the file.

    Also refuses ``NaN`` and ``Infinity`` (not JSON), numbers too large for a float, a file
    over ``MAX_JSON_BYTES`` and nesting deeper than ``MAX_NESTING``.
    """
    path = Path(path)
    shown = display_path(path)
    text = _read_text(path, shown, MAX_JSON_BYTES)
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise DataError(shown, None, None, None, f"arrays or objects nest more than {MAX_NESTING} deep") from None
    except json.JSONDecodeError as exc:
        raise DataError(shown, None, None, None, f"not valid JSON: {exc}") from None
    except ValueError as exc:  # NaN, Infinity, 1e999, an integer of thousands of digits
        raise DataError(shown, None, None, None, f"not valid JSON: {_number_problem(exc)}") from None
    _check_nesting(data, shown)
    return data


def _read_text(path: Path, shown: str, limit: int) -> str:
    if not path.is_file():
        raise DataError(shown, None, None, None, "file not found")
    try:
        size = path.stat().st_size
        if size > limit:
            raise DataError(shown, None, None, None, f"is {size:,} bytes; a data file may have at most {limit:,}")
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(shown, None, None, None, f"not UTF-8 text: {exc}") from None
    except OSError as exc:
        raise DataError(shown, None, None, None, f"cannot be read: {exc.strerror or exc}") from None


def _check_dotted_keys(text: str, shown: str) -> None:
    """Refuse a dotted key or table header of more than ``MAX_KEY_PARTS`` parts (before parsing)."""
    if text.count(".") < MAX_KEY_PARTS:
        return
    blanked = _TOML_TEXT.sub(lambda m: '""' + "\n" * m.group().count("\n"), text)
    for match in _KEY_CHAIN.finditer(blanked):
        parts = match.group().count(".") + 1
        if parts > MAX_KEY_PARTS:
            line = blanked.count("\n", 0, match.start()) + 1
            raise DataError(
                shown,
                f"line {line}",
                None,
                None,
                f"a dotted key of {parts:,} parts; a key may have at most {MAX_KEY_PARTS}",
            )


def _check_nesting(data: Any, shown: str) -> None:
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_NESTING:
            raise DataError(shown, None, None, None, f"arrays or tables nest more than {MAX_NESTING} deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is too large for a number")
    return value


def _clipped(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number_problem(exc: ValueError) -> str:
    if "digits" in str(exc):  # Python's int-to-str limit
        return f"a whole number of more than {sys.get_int_max_str_digits():,} digits"
    return _short(exc)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:119] + "…"


def display_path(path: Path) -> str:
    """A path as a message shows it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class _ModeDefaults:
    cost_usd_per_feu_km: Sourced
    co2_kg_per_teu_km: Sourced
    circuity: Sourced


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.sources: dict[str, str] = {}
        self.written: list[WrittenValue] = []

    def _wrote(self, rec: Record, key: str, item: Sourced | tuple[str, ...] | None) -> None:
        """Note a sourced value where its file writes it (``Network.written``)."""
        if item is None:
            return
        sources = item if isinstance(item, tuple) else item.sources
        self.written.append(WrittenValue(Path(rec.file).name, rec.label, rec.prefix + key, sources))

    # -- files ----------------------------------------------------------------------------

    def _toml(self, name: str, table: str) -> list[Any]:
        path = self.root / name
        shown = display_path(path)
        if not path.is_file():
            raise DataError(
                shown,
                None,
                None,
                None,
                f"file not found: the network folder {display_path(self.root)} needs " + ", ".join(NETWORK_FILES),
            )
        data = read_toml(path)
        for key in data:
            if key != table:
                raise DataError(
                    shown,
                    None,
                    None,
                    None,
                    f"unknown top-level key {_clipped(key)!r} (a typo?); this file holds [[{table}]] records",
                )
        records = data.get(table, [])
        if not isinstance(records, list):
            raise DataError(shown, None, None, None, f"{table} must be an array of tables: write [[{table}]]")
        if not records and table in ("sources", "nodes", "legs"):
            raise DataError(shown, None, None, None, f"holds no [[{table}]] records")
        return records

    def _records(self, name: str, table: str, label: str) -> list[Record]:
        shown = display_path(self.root / name)
        known = None if table == "sources" else self.sources
        out: list[Record] = []
        seen: set[str] = set()
        key = "name" if table == "corridors" else ("mode" if table == "modes" else "id")
        for index, data in enumerate(self._toml(name, table), start=1):
            first = Record(shown, f"{label} #{index}", data, sources=known)
            ident = first.ident(key, safe=True, node=table == "nodes")
            if ident in seen:
                raise DataError(shown, f"{label} {ident}", key, ident, f"duplicate {key}: another {label} has it")
            seen.add(ident)
            out.append(Record(shown, f"{label} {ident}", data, sources=known))
        return out

    # -- records --------------------------------------------------------------------------

    def load(self) -> Network:
        for rec in self._records("sources.toml", "sources", "source"):
            self.sources[rec.ident("id", safe=True)] = rec.text("citation")
            rec.finish()
        modes = self._modes()
        nodes = {rec.ident("id"): self._node(rec) for rec in self._records("nodes.toml", "nodes", "node")}
        geometry = self._geometry(nodes)
        legs: dict[str, Leg] = {}
        for rec in self._records("legs.toml", "legs", "leg"):
            leg = self._leg(rec, nodes, modes, geometry)
            legs[leg.id] = leg
        self._unused_geometry(geometry, legs)
        self._check_gauges(nodes, legs)
        corridors = {}
        for rec in self._records("corridors.toml", "corridors", "corridor"):
            corridor = self._corridor(rec, nodes, legs)
            corridors[corridor.name] = corridor
        return Network(
            nodes=MappingProxyType(nodes),
            legs=MappingProxyType(legs),
            corridors=MappingProxyType(corridors),
            sources=MappingProxyType(self.sources),
            root=self.root,
            written=tuple(self.written),
        )

    def _modes(self) -> dict[str, _ModeDefaults]:
        modes: dict[str, _ModeDefaults] = {}
        for rec in self._records("modes.toml", "modes", "mode"):
            mode = rec.choice("mode", MODES)
            assert mode is not None
            cost = rec.sourced("cost_usd_per_feu_km", hi=BOUNDS["cost_usd_per_feu_km"])
            co2 = rec.sourced("co2_kg_per_teu_km", hi=BOUNDS["co2_kg_per_teu_km"])
            circuity = rec.sourced("circuity", lo=1.0, hi=3.0)
            rec.text("note", required=False)
            rec.finish()
            assert cost and co2 and circuity
            self._wrote(rec, "cost_usd_per_feu_km", cost)
            self._wrote(rec, "co2_kg_per_teu_km", co2)
            self._wrote(rec, "circuity", circuity)
            modes[mode] = _ModeDefaults(cost, co2, circuity)
        return modes

    def _node(self, rec: Record) -> Node:
        sources: dict[str, tuple[str, ...]] = {}
        notes: dict[str, str] = {}
        ident = rec.ident("id", node=True)
        name = rec.text("name")
        country = _country(rec, "country", rec.text("country"))
        countries = tuple(_country(rec, "countries", c) for c in rec.strings("countries", required=False))
        if countries and country not in countries:
            raise rec.error("countries", list(countries), f"must include country ({country})")
        lat = rec.number("lat", lo=-90, hi=90)
        lon = rec.number("lon", lo=-180, hi=180)
        sources["lat"] = sources["lon"] = rec.sources_of("coord_source")
        self._wrote(rec, "coord_source", sources["lat"])  # one position: lat and lon together
        quality = rec.text("coord_quality", required=False)
        if quality:
            notes["coord_quality"] = quality
        kinds = rec.choices("kinds", NODE_KINDS)
        note = rec.text("note", required=False)
        if note:
            notes["node"] = note
        facility_rec = rec.sub("facility")
        facility = self._facility(facility_rec) if facility_rec else None
        rec.finish()
        assert lat is not None and lon is not None
        return Node(
            id=ident,
            name=name,
            country=country,
            countries=countries,
            lat=lat,
            lon=lon,
            kinds=kinds,
            facility=facility,
            sources=MappingProxyType(sources),
            notes=MappingProxyType(notes),
        )

    def _facility(self, rec: Record) -> Facility:
        sources: dict[str, tuple[str, ...]] = {}
        notes: dict[str, str] = {}
        ranges: dict[str, tuple[float, float]] = {}
        values: dict[str, Any] = {}

        def keep(key: str, item: Sourced | None) -> None:
            if item is None:
                return
            self._wrote(rec, key if rec.has(key) else key.removesuffix("_h") + "_d", item)  # process_d: as written
            values[key] = item.value
            sources[key] = item.sources
            if item.note:
                notes[key] = item.note
            if item.range is not None:
                ranges[key] = item.range

        keep("servers", rec.sourced("servers", required=False, integer=True, hi=BOUNDS["servers"]))
        keep("process_h", rec.duration("process_h", "process_d", required=False))
        keep("trains_per_day", rec.sourced("trains_per_day", required=False, hi=BOUNDS["trains_per_day"]))
        keep("vessels", rec.sourced("vessels", required=False, integer=True, hi=BOUNDS["vessels"]))
        keep(
            "vessel_capacity_wagons",
            rec.sourced("vessel_capacity_wagons", required=False, integer=True, hi=BOUNDS["vessel_capacity_wagons"]),
        )
        keep(
            "vessel_capacity_teu",
            rec.sourced("vessel_capacity_teu", required=False, integer=True, hi=BOUNDS["vessel_capacity_teu"]),
        )
        keep("max_wait_h", rec.sourced("max_wait_h", required=False, hi=BOUNDS["max_wait_h"]))
        keep("sailings_per_week", rec.sourced("sailings_per_week", required=False, hi=BOUNDS["sailings_per_week"]))
        keep("fee_usd_per_feu", rec.sourced("fee_usd_per_feu", required=False, hi=BOUNDS["fee_usd_per_feu"]))
        keep(
            "yard_capacity_trains",
            rec.sourced("yard_capacity_trains", required=False, integer=True, hi=BOUNDS["yard_capacity_trains"]),
        )
        keep("background_per_day", rec.sourced("background_per_day", required=False, hi=BOUNDS["background_per_day"]))
        keep("background_block", rec.sourced("background_block", required=False, hi=BOUNDS["background_block"]))
        keep(
            "hold_probability",
            rec.sourced("hold_probability", required=False, positive=False, lo=0, hi=BOUNDS["hold_probability"]),
        )
        keep("hold_h", rec.duration("hold_h", "hold_d", required=False))
        keep("observed_dwell_h", rec.duration("observed_dwell_h", "observed_dwell_d", required=False))
        dispatch = rec.choice("dispatch", DISPATCH_RULES, required=False)
        note = rec.text("note", required=False)
        if note:
            notes["facility"] = note
        rec.finish()
        problem = dispatch_problem(  # the same rule a what-if's override of `dispatch` meets
            dispatch,
            vessel_capacity="vessel_capacity_wagons" in values or "vessel_capacity_teu" in values,
            vessels="vessels" in values,
            max_wait_h="max_wait_h" in values,
            sailings_per_week="sailings_per_week" in values,
        )
        if problem:
            raise rec.error("dispatch", dispatch, problem)
        if "background_block" in values and "background_per_day" not in values:
            raise rec.error("background_block", values["background_block"], "needs background_per_day")
        if "background_per_day" in values and dispatch == "timetable":
            raise rec.error(
                "background_per_day",
                values["background_per_day"],
                "background traffic is modelled at ferry terminals (dispatch when_full or max_wait) and at "
                "servers, not yet on timetabled sailings",
            )
        if "background_per_day" in values and dispatch is None and "process_h" not in values:
            raise rec.error(
                "background_per_day",
                values["background_per_day"],
                "background traffic needs something to use: vessels (dispatch) or servers with a process_h",
            )
        if ("hold_probability" in values) != ("hold_h" in values):
            duration = "hold_d" if rec.has("hold_d") else "hold_h"
            given, missing = (
                ("hold_probability", "hold_h") if "hold_probability" in values else (duration, "hold_probability")
            )
            raise rec.error(missing, None, f"is required with {given}: an administrative hold needs both")
        if "yard_capacity_trains" in values and dispatch is not None:
            raise rec.error(
                "yard_capacity_trains",
                values["yard_capacity_trains"],
                "a yard is for trains on rails: not at a node "
                "with vessels (a ferry terminal's or a port's capacity is its vessels and sailings)",
            )
        return Facility(
            dispatch=dispatch,
            sources=MappingProxyType(sources),
            notes=MappingProxyType(notes),
            ranges=MappingProxyType(ranges),
            **values,
        )

    def _geometry(self, nodes: Mapping[str, Node]) -> dict[str, tuple[tuple[LatLon, ...], tuple[str, ...]]]:
        path = self.root / GEOMETRY_FILE
        if not path.is_file():
            return {}
        shown = display_path(path)
        data = read_json(path)
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            raise DataError(
                shown,
                None,
                "type",
                data.get("type") if isinstance(data, dict) else data,
                "must be a GeoJSON FeatureCollection",
            )
        features = data.get("features")
        if not isinstance(features, list):
            raise DataError(shown, None, "features", features, "must be a list of features")
        out: dict[str, tuple[tuple[LatLon, ...], tuple[str, ...]]] = {}
        for index, feature in enumerate(features, start=1):
            label = f"feature #{index}"
            if not isinstance(feature, dict):
                raise DataError(shown, label, None, None, "must be a GeoJSON Feature object")
            props = feature.get("properties")
            leg_id = props.get("leg") if isinstance(props, dict) else None
            if not isinstance(leg_id, str) or not leg_id:
                raise DataError(shown, label, "properties.leg", leg_id, "must name the leg this line draws")
            Record(shown, label, props, prefix="properties.").ident("leg", safe=True)
            label = f"feature {leg_id}"
            if leg_id in out:
                raise DataError(shown, label, "properties.leg", leg_id, "duplicate: another feature draws this leg")
            rec = Record(shown, label, props, sources=self.sources, prefix="properties.")
            rec.ident("leg")
            sources = rec.sources_of("source")
            rec.strings("via", required=False)
            rec.finish()
            self._wrote(rec, "source", sources)
            geom = feature.get("geometry")
            if not isinstance(geom, dict) or geom.get("type") != "LineString":
                raise DataError(
                    shown,
                    label,
                    "geometry.type",
                    geom.get("type") if isinstance(geom, dict) else geom,
                    "must be LineString",
                )
            coords = geom.get("coordinates")
            if not isinstance(coords, list) or len(coords) < 2:
                raise DataError(shown, label, "geometry.coordinates", coords, "must list at least two positions")
            points: list[LatLon] = []
            for i, pos in enumerate(coords):
                field = f"geometry.coordinates[{i}]"
                if (
                    not isinstance(pos, list)
                    or len(pos) not in (2, 3)
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)
                ):
                    raise DataError(shown, label, field, pos, "must be [lon, lat]")
                lat, lon = from_geojson_position(pos)
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise DataError(
                        shown,
                        label,
                        field,
                        pos,
                        "is out of range: [lon, lat] with lon in [-180, 180] and lat in [-90, 90]",
                    )
                points.append((lat, lon))
            out[leg_id] = (tuple(points), sources)
        return out

    def _leg(
        self,
        rec: Record,
        nodes: Mapping[str, Node],
        modes: Mapping[str, _ModeDefaults],
        geometry: Mapping[str, tuple[tuple[LatLon, ...], tuple[str, ...]]],
    ) -> Leg:
        sources: dict[str, tuple[str, ...]] = {}
        notes: dict[str, str] = {}
        ranges: dict[str, tuple[float, float]] = {}
        ident = rec.ident("id", safe=True)
        ends = []
        for key in ("from", "to"):
            node_id = rec.ident(key, node=True)
            if node_id not in nodes:
                raise rec.error(key, node_id, "is not a node in nodes.toml")
            ends.append(nodes[node_id])
        start, end = ends
        if start.id == end.id:
            raise rec.error("to", end.id, "is the same node as from")
        mode = rec.choice("mode", MODES)
        assert mode is not None
        gauge = rec.number("gauge_mm", integer=True, lo=500, hi=2000, required=False)
        if mode == "rail" and gauge is None:
            raise rec.error("gauge_mm", None, "is required for a rail leg")
        if mode in ("sea", "road") and gauge is not None:
            raise rec.error("gauge_mm", gauge, f"does not apply to a {mode} leg")
        transit = rec.duration("transit_h", "transit_d")
        assert transit is not None
        self._wrote(rec, "transit_h" if rec.has("transit_h") else "transit_d", transit)
        sources["transit_h"] = transit.sources
        if transit.note:
            notes["transit_h"] = transit.note
        default = modes.get(mode)

        # geometry: the feature for this leg (oriented from -> to), else a straight line
        path: tuple[LatLon, ...] = (start.latlon, end.latlon)
        if ident in geometry:
            drawn, geo_sources = geometry[ident]
            path = self._oriented(ident, drawn, start, end)
            sources["path"] = geo_sources

        distance = rec.sourced("distance_km", required=False, hi=BOUNDS["distance_km"])
        circuity = rec.sourced("circuity", required=False, lo=1.0, hi=3.0)
        if distance is not None and circuity is not None:
            raise rec.error("circuity", circuity.value, "give distance_km or circuity, not both")
        self._wrote(rec, "distance_km", distance)  # a computed distance is written nowhere:
        self._wrote(rec, "circuity", circuity)  # its circuity and its line are counted where they are
        computed = distance is None
        if distance is None:
            if circuity is None:
                if default is None:
                    raise rec.error(
                        "distance_km", None, f"is required (no circuity default for mode {mode} in modes.toml)"
                    )
                circuity = default.circuity
            distance_km = round(path_km(path) * circuity.value, 1)
            sources["distance_km"] = tuple(dict.fromkeys(circuity.sources + sources.get("path", ("ESTIMATE",))))
            notes["distance_km"] = f"geodesic length of the leg's geometry x circuity {circuity.value:g}" + (
                f" ({circuity.note})" if circuity.note else ""
            )
        else:
            distance_km = float(distance.value)
            sources["distance_km"] = distance.sources
            if distance.note:
                notes["distance_km"] = distance.note
            if distance.range is not None:
                ranges["distance_km"] = distance.range

        own_co2 = rec.sourced("co2_kg_per_teu_km", required=False, hi=BOUNDS["co2_kg_per_teu_km"])
        self._wrote(rec, "co2_kg_per_teu_km", own_co2)  # the mode's, when the leg takes it, is the mode's
        co2 = own_co2 or (default.co2_kg_per_teu_km if default else None)
        if co2 is None:
            raise rec.error("co2_kg_per_teu_km", None, f"is required (no default for mode {mode} in modes.toml)")
        sources["co2_kg_per_teu_km"] = co2.sources
        cost = rec.sourced("cost_usd_per_feu", required=False, hi=BOUNDS["cost_usd_per_feu"])
        self._wrote(rec, "cost_usd_per_feu", cost)
        if cost is not None:
            cost_usd = float(cost.value)
            sources["cost_usd_per_feu"] = cost.sources
            if cost.range is not None:
                ranges["cost_usd_per_feu"] = cost.range
        elif default is not None:
            rate = default.cost_usd_per_feu_km
            cost_usd = round(rate.value * distance_km, 0)
            sources["cost_usd_per_feu"] = rate.sources
            notes["cost_usd_per_feu"] = f"{mode} rate {rate.value:g} USD/FEU-km x distance"
            if rate.range is not None:  # the rate's range over this distance
                ranges["cost_usd_per_feu"] = (
                    round(rate.range[0] * distance_km, 0),
                    round(rate.range[1] * distance_km, 0),
                )
        else:
            raise rec.error("cost_usd_per_feu", None, f"is required (no default for mode {mode} in modes.toml)")
        countries = tuple(_country(rec, "countries", c) for c in rec.strings("countries", required=False))
        if path != (start.latlon, end.latlon):
            drawn_km = path_km(path)
            if distance is not None and distance_km < 0.8 * drawn_km:
                raise rec.error(
                    "distance_km.value",
                    distance.value,
                    f"is shorter than the leg's own geometry ({drawn_km:,.0f} km): check the number or the waypoints",
                )
        speed = distance_km / transit.value.mean_h
        low, high = SPEED_KPH[mode]
        if not low <= speed <= high:
            shown_speed = f"{speed:,.1f}" if speed < 1e6 else "over 1,000,000"
            raise rec.error(
                "distance_km" if distance is not None else "transit_h",
                distance_km if distance is not None else round(transit.value.mean_h, 2),
                f"gives an average speed of {shown_speed} km/h over {distance_km:,.0f} km in "
                f"{transit.value.mean_h:,.1f} h; a {mode} leg should be within {low}-{high} km/h",
            )
        capacity = rec.sourced("capacity_trains_per_day", required=False, hi=BOUNDS["capacity_trains_per_day"])
        self._wrote(rec, "capacity_trains_per_day", capacity)
        if capacity is not None:
            sources["capacity_trains_per_day"] = capacity.sources
            if capacity.range is not None:
                ranges["capacity_trains_per_day"] = capacity.range
        leg_sources = rec.sources_of("source", required=False)
        if leg_sources:
            sources["leg"] = leg_sources
        note = rec.text("note", required=False)
        if note:
            notes["leg"] = note
        rec.finish()
        return Leg(
            id=ident,
            from_id=start.id,
            to_id=end.id,
            mode=mode,
            gauge_mm=int(gauge) if gauge is not None else None,
            distance_km=distance_km,
            transit_h=transit.value,
            path=path,
            cost_usd_per_feu=cost_usd,
            co2_kg_per_teu_km=float(co2.value),
            distance_computed=computed,
            circuity=float(circuity.value) if computed and circuity else None,
            capacity_trains_per_day=float(capacity.value) if capacity else None,
            countries=countries,
            sources=MappingProxyType(sources),
            notes=MappingProxyType(notes),
            ranges=MappingProxyType(ranges),
        )

    def _oriented(self, leg_id: str, drawn: tuple[LatLon, ...], start: Node, end: Node) -> tuple[LatLon, ...]:
        shown = display_path(self.root / GEOMETRY_FILE)
        forward = geodesic_km(drawn[0], start.latlon) + geodesic_km(drawn[-1], end.latlon)
        backward = geodesic_km(drawn[0], end.latlon) + geodesic_km(drawn[-1], start.latlon)
        points = drawn if forward <= backward else tuple(reversed(drawn))
        for point, node, which in ((points[0], start, "first"), (points[-1], end, "last")):
            gap = geodesic_km(point, node.latlon)
            if gap > GEOMETRY_END_TOLERANCE_KM:
                raise DataError(
                    shown,
                    f"feature {leg_id}",
                    "geometry.coordinates",
                    [point[1], point[0]],
                    f"the {which} point is {gap:.0f} km from node {node.id}; a leg's line must "
                    f"start and end within {GEOMETRY_END_TOLERANCE_KM:.0f} km of its nodes",
                )
        # the ends are the nodes themselves; the drawn interior points are the waypoints
        return (start.latlon, *points[1:-1], end.latlon)

    def _unused_geometry(self, geometry: Mapping[str, Any], legs: Mapping[str, Leg]) -> None:
        for leg_id in geometry:
            if leg_id not in legs:
                raise DataError(
                    display_path(self.root / GEOMETRY_FILE),
                    f"feature {leg_id}",
                    "properties.leg",
                    leg_id,
                    "is not a leg in legs.toml",
                )

    def _check_gauges(self, nodes: Mapping[str, Node], legs: Mapping[str, Leg]) -> None:
        """A node where rail gauges differ must be a gauge_change node."""
        shown = display_path(self.root / "legs.toml")
        first_gauge: dict[str, Leg] = {}
        for leg in legs.values():
            if leg.gauge_mm is None:
                continue
            for node_id in (leg.from_id, leg.to_id):
                other = first_gauge.setdefault(node_id, leg)
                if other.gauge_mm != leg.gauge_mm and not nodes[node_id].has_kind("gauge_change"):
                    raise DataError(
                        shown,
                        f"leg {leg.id}",
                        "gauge_mm",
                        leg.gauge_mm,
                        f"differs from leg {other.id} ({other.gauge_mm} mm) at node {node_id}, which is "
                        "not a gauge_change node: a gauge break needs one",
                    )

    def _corridor(self, rec: Record, nodes: Mapping[str, Node], legs: Mapping[str, Leg]) -> Corridor:
        name = rec.ident("name", safe=True)
        title = rec.text("title")
        node_ids = rec.strings("nodes")
        note = rec.text("note", required=False)
        rec.finish()
        if len(node_ids) < 2:
            raise rec.error("nodes", list(node_ids), "must list at least two nodes")
        for node_id in node_ids:
            if node_id not in nodes:
                hint = " (node ids are upper case)" if node_id.upper() in nodes else ""
                raise rec.error("nodes", node_id, f"is not a node in nodes.toml{hint}")
        if len(set(node_ids)) != len(node_ids):
            twice = next(n for n in node_ids if node_ids.count(n) > 1)
            raise rec.error("nodes", twice, "appears twice: a corridor visits each node once")
        leg_ids = []
        for a, b in itertools.pairwise(node_ids):
            between = [leg.id for leg in legs.values() if {leg.from_id, leg.to_id} == {a, b}]
            if not between:
                raise rec.error("nodes", f"{a} -> {b}", "no leg in legs.toml joins these consecutive nodes")
            if len(between) > 1:
                raise rec.error(
                    "nodes",
                    f"{a} -> {b}",
                    f"ambiguous: legs {', '.join(between)} all join these nodes; put a node between them",
                )
            leg_ids.append(between[0])
        return Corridor(name=name, title=title, node_ids=node_ids, leg_ids=tuple(leg_ids), note=note)


def _country(rec: Record, key: str, code: str) -> str:
    if len(code) != 2 or not code.isascii() or not code.isalpha() or not code.isupper():
        raise rec.error(key, code, "must be a two-letter ISO 3166 country code such as KZ")
    return code
