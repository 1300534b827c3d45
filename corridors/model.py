"""The static network: frozen nodes, facilities, legs and corridors, checked at construction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from corridors.distributions import Distribution
from corridors.errors import InputError
from corridors.schema import ESTIMATE

__all__ = [
    "DISPATCH_RULES",
    "MODES",
    "NODE_KINDS",
    "PROVENANCE",
    "Corridor",
    "Facility",
    "Leg",
    "Network",
    "Node",
    "WrittenValue",
]

NODE_KINDS = ("terminal", "border", "gauge_change", "port", "ferry_terminal", "junction")
MODES = ("rail", "ferry", "sea", "road")
DISPATCH_RULES = ("timetable", "when_full", "max_wait")
#: How a value's sources back it: published sources only, a published source and ESTIMATE,
#: ESTIMATE only.
PROVENANCE = ("sourced", "partly_sourced", "estimate")

Sources = Mapping[str, tuple[str, ...]]
Notes = Mapping[str, str]
#: field -> (low, high): the plausible range the data give beside a value (``min``, ``max``)
Ranges = Mapping[str, tuple[float, float]]
LatLon = tuple[float, float]

_EMPTY: Mapping[str, tuple[str, ...]] = MappingProxyType({})
_NO_NOTES: Mapping[str, str] = MappingProxyType({})
_NO_RANGES: Ranges = MappingProxyType({})


@dataclass(frozen=True)
class Facility:
    """What a train meets at a node: servers, a processing time, caps, vessels.

    ``process_h`` is the time one server spends on one train (inspection, transshipment,
    loading), without queueing. ``observed_dwell_h`` is what published sources report as
    the whole stay at the node, queueing included: a calibration target, not an input.
    ``yard_capacity_trains`` is how many trains the node's yard holds, counted from when they
    leave for it until they leave it: when it is full, the next train waits where it is.
    ``background_per_day`` is other freight that uses the facility, besides the scenario's
    services: at a vessel terminal, units (wagons or TEU, the vessels' unit) a day that wait for
    its vessels beside the trains' and fill them; at servers, trains a day that take a server
    for a processing time. It comes in blocks of ``background_block`` units (1 by default; one
    train at servers) at random (a Poisson process).
    ``hold_probability`` and ``hold_h`` are an administrative hold (permits, inspections): each
    train is held there with that probability, after its service, for a time drawn from
    ``hold_h``; both are given or neither.
    ``ranges`` holds, per field, the plausible range the data give beside its value (``min`` and
    ``max`` of a number; a duration's min and max are its spread, not a range of its value).
    """

    servers: int = 1
    process_h: Distribution | None = None
    trains_per_day: float | None = None
    vessels: int | None = None
    vessel_capacity_wagons: int | None = None
    vessel_capacity_teu: int | None = None
    dispatch: str | None = None
    max_wait_h: float | None = None
    sailings_per_week: float | None = None
    fee_usd_per_feu: float | None = None
    yard_capacity_trains: int | None = None
    background_per_day: float | None = None
    background_block: float | None = None
    hold_probability: float | None = None
    hold_h: Distribution | None = None
    observed_dwell_h: Distribution | None = None
    sources: Sources = field(default_factory=lambda: _EMPTY, compare=False)
    notes: Notes = field(default_factory=lambda: _NO_NOTES, compare=False)
    ranges: Ranges = field(default_factory=lambda: _NO_RANGES, compare=False)

    @property
    def expected_process_h(self) -> float:
        """Mean processing time in hours (0 when the facility has none)."""
        return self.process_h.mean_h if self.process_h else 0.0


@dataclass(frozen=True)
class Node:
    """A place on the network: terminal, border, gauge change, port, ferry terminal, junction."""

    id: str
    name: str
    country: str
    lat: float
    lon: float
    kinds: tuple[str, ...]
    countries: tuple[str, ...] = ()
    facility: Facility | None = None
    sources: Sources = field(default_factory=lambda: _EMPTY, compare=False)
    notes: Notes = field(default_factory=lambda: _NO_NOTES, compare=False)

    def __post_init__(self) -> None:
        if not -90 <= self.lat <= 90:
            raise ValueError(f"lat (={self.lat}) must be within [-90, 90]")
        if not -180 <= self.lon <= 180:
            raise ValueError(f"lon (={self.lon}) must be within [-180, 180]")
        if not self.countries:
            object.__setattr__(self, "countries", (self.country,))

    @property
    def latlon(self) -> LatLon:
        """(lat, lon) in degrees."""
        return (self.lat, self.lon)

    def has_kind(self, kind: str) -> bool:
        """Whether this node is of ``kind`` (a node may be several kinds at once)."""
        return kind in self.kinds

    @property
    def expected_process_h(self) -> float:
        """Mean processing time at this node's facility in hours (0 without one)."""
        return self.facility.expected_process_h if self.facility else 0.0


@dataclass(frozen=True)
class Leg:
    """A link between two nodes, usable in both directions.

    ``path`` is the leg's geometry as (lat, lon) points from ``from_id`` to ``to_id``.
    ``distance_km`` is given in the data or computed as the geodesic length of ``path``
    times ``circuity`` (then ``distance_computed`` is true). ``countries`` lists countries the
    leg crosses between its end nodes (transit countries), for avoidance. ``ranges``: the
    plausible ranges the data give beside its numbers (``distance_km``, ``cost_usd_per_feu``, …;
    a computed cost takes its mode rate's range times the distance).
    """

    id: str
    from_id: str
    to_id: str
    mode: str
    gauge_mm: int | None
    distance_km: float
    transit_h: Distribution
    path: tuple[LatLon, ...]
    cost_usd_per_feu: float
    co2_kg_per_teu_km: float
    distance_computed: bool = False
    circuity: float | None = None
    capacity_trains_per_day: float | None = None
    countries: tuple[str, ...] = ()
    sources: Sources = field(default_factory=lambda: _EMPTY, compare=False)
    notes: Notes = field(default_factory=lambda: _NO_NOTES, compare=False)
    ranges: Ranges = field(default_factory=lambda: _NO_RANGES, compare=False)

    @property
    def co2_kg_per_teu(self) -> float:
        """CO2 for one TEU over the whole leg, in kg."""
        return self.co2_kg_per_teu_km * self.distance_km


@dataclass(frozen=True)
class Corridor:
    """A named route: an ordered list of nodes and the legs that join them."""

    name: str
    title: str
    node_ids: tuple[str, ...]
    leg_ids: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class WrittenValue:
    """A value with the source keys it cites, where a network file writes it.

    Each is written once however many records use it: a mode's cost rate is one value in
    ``modes.toml``, not one per leg that takes it (the legs' ``sources`` repeat its keys).
    ``record`` names the record (``mode rail``, ``node KZ_DOSTYK``, ``leg S03``, ``feature S03``
    for a leg's line in ``geometry.geojson``), ``field`` the key (``facility.process_h``).
    """

    file: str
    record: str
    field: str
    sources: tuple[str, ...]

    @property
    def provenance(self) -> str:
        """``sourced`` (published sources only), ``partly_sourced`` (a source and ESTIMATE) or
        ``estimate`` (ESTIMATE only)."""
        if ESTIMATE not in self.sources:
            return "sourced"
        return "estimate" if all(key == ESTIMATE for key in self.sources) else "partly_sourced"


@dataclass(frozen=True)
class Network:
    """Nodes, legs, corridors and the sources behind their numbers.

    ``written`` lists every sourced value as its file writes it (``WrittenValue``), for
    counting provenance; a network built in code rather than loaded may leave it empty.
    """

    nodes: Mapping[str, Node]
    legs: Mapping[str, Leg]
    corridors: Mapping[str, Corridor]
    sources: Mapping[str, str]
    root: Path | None = None
    written: tuple[WrittenValue, ...] = field(default=(), compare=False, repr=False)

    def node(self, node_id: str) -> Node:
        """The node ``node_id`` (any case); an ``InputError`` naming close matches when unknown."""
        found = self.nodes.get(node_id) or self.nodes.get(str(node_id).upper())
        if found is None:
            raise InputError(_unknown("node", node_id, self.nodes, "corridors nodes"))
        return found

    def corridor(self, name: str) -> Corridor:
        """The corridor ``name``; an ``InputError`` listing the names when unknown."""
        try:
            return self.corridors[name]
        except KeyError:
            raise InputError(_unknown("corridor", name, self.corridors, "corridors list")) from None

    def provenance_counts(self) -> dict[str, int]:
        """How many written values are of each ``PROVENANCE`` class, each value counted once."""
        counts = dict.fromkeys(PROVENANCE, 0)
        for value in self.written:
            counts[value.provenance] += 1
        return counts

    @property
    def countries(self) -> frozenset[str]:
        """Every country code a node is in or a leg crosses."""
        return frozenset(c for node in self.nodes.values() for c in node.countries) | frozenset(
            c for leg in self.legs.values() for c in leg.countries
        )


def _unknown(what: str, key: str, known: Mapping[str, object], listing: str) -> str:
    import difflib

    close = difflib.get_close_matches(str(key).upper() if what == "node" else str(key), list(known), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    shown = str(key) if len(str(key)) <= 60 else str(key)[:59] + "…"
    return f"unknown {what} {shown!r}; {hint}`{listing}` shows them all"
