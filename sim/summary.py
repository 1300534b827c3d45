"""A run's summary as frozen dataclasses: what ``sim.kpis.summarize`` returns and summary.json holds.

Each class's ``to_json()`` gives its part of summary.json (schema_version 1, docs/simulate.md):
the same keys in the same order, the numbers as ``summarize`` rounded them.
``RunSummary.from_json(data, source=...)`` reads one back, from this program or from a results
folder someone else wrote: every field is checked, and a bad one is a ``DataError`` naming the
file, the record, the field and the value, in one line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from corridors import DataError, Network
from corridors.errors import UNSAFE_CHARS

__all__ = [
    "SCHEMA_VERSION",
    "DaysPerTrain",
    "Flow",
    "NodeSummary",
    "PoolSummary",
    "RollingStockSummary",
    "RunSummary",
    "ServiceSummary",
    "Stats",
    "WagonFlow",
    "WhereDaysGo",
]

#: The schema summary.json is written in (docs/simulate.md).
SCHEMA_VERSION = 1

_T = TypeVar("_T")
_START = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?")
_MISSING = "is missing (written by an older or another program?)"


@dataclass(frozen=True)
class Stats:
    """A distribution as summary.json gives it: count, mean, quantiles, extremes (None when
    ``n`` is 0) and a 95% confidence interval of the mean across replications (None with fewer
    than two replications that have values)."""

    n: int
    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    min: float | None
    max: float | None
    ci95: tuple[float, float] | None

    @classmethod
    def of(cls, described: Mapping[str, Any]) -> Stats:
        """From ``sim.kpis.describe`` (rounded or not)."""
        ci = described["ci95"]
        return cls(
            described["n"],
            described["mean"],
            described["p50"],
            described["p90"],
            described["p95"],
            described["min"],
            described["max"],
            (ci[0], ci[1]) if ci else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "mean": self.mean,
            "p50": self.p50,
            "p90": self.p90,
            "p95": self.p95,
            "min": self.min,
            "max": self.max,
            "ci95": list(self.ci95) if self.ci95 else None,
        }


@dataclass(frozen=True)
class Flow:
    """Trains and TEU a week: a service's arrived trains over its window, or a leg's traffic."""

    trains_per_week: float
    teu_per_week: float

    def to_json(self) -> dict[str, Any]:
        return {"trains_per_week": self.trains_per_week, "teu_per_week": self.teu_per_week}


@dataclass(frozen=True)
class DaysPerTrain:
    """Mean days per arrived train moving, waiting (queues, vessels, closures) and in processing."""

    moving: float
    waiting: float
    processing: float

    def to_json(self) -> dict[str, Any]:
        return {"moving": self.moving, "waiting": self.waiting, "processing": self.processing}


@dataclass(frozen=True)
class ServiceSummary:
    """One service: its trains, transit distribution (arrived trains only), on-time share,
    throughput, days per train, cost and CO2 per TEU."""

    corridor: str | None
    route: tuple[str, ...]
    trains_per_replication: float
    arrived_per_replication: float
    in_system_at_horizon_per_replication: float
    in_system_share: float
    transit_d: Stats
    promised_transit_d: float | None
    on_time_share: float | None
    throughput: Flow
    days: DaysPerTrain
    cost_usd_per_teu: float
    co2_kg_per_teu: float

    def to_json(self) -> dict[str, Any]:
        return {
            "corridor": self.corridor,
            "route": list(self.route),
            "trains_per_replication": self.trains_per_replication,
            "arrived_per_replication": self.arrived_per_replication,
            "in_system_at_horizon_per_replication": self.in_system_at_horizon_per_replication,
            "in_system_share": self.in_system_share,
            "transit_d": self.transit_d.to_json(),
            "promised_transit_d": self.promised_transit_d,
            "on_time_share": self.on_time_share,
            "throughput": self.throughput.to_json(),
            "days": self.days.to_json(),
            "cost_usd_per_teu": self.cost_usd_per_teu,
            "co2_kg_per_teu": self.co2_kg_per_teu,
        }


@dataclass(frozen=True)
class NodeSummary:
    """One node: visits, the wait before service and the hold after it (hours; None where
    nobody waited), mean stay, utilisation (None without servers) and the largest queue."""

    country: str
    visits_per_replication: float
    wait_h: Stats | None
    hold_h: Stats | None
    stay_h_mean: float
    utilisation: float | None
    largest_queue: int

    def to_json(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "visits_per_replication": self.visits_per_replication,
            "wait_h": self.wait_h.to_json() if self.wait_h else None,
            "hold_h": self.hold_h.to_json() if self.hold_h else None,
            "stay_h_mean": self.stay_h_mean,
            "utilisation": self.utilisation,
            "largest_queue": self.largest_queue,
        }


@dataclass(frozen=True)
class WhereDaysGo:
    """Mean hours per train at each node (waiting and service) and in each country."""

    by_node_h: dict[str, float]
    by_country_h: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {"by_node_h": dict(self.by_node_h), "by_country_h": dict(self.by_country_h)}


@dataclass(frozen=True)
class WagonFlow:
    """A service's (or a corridor's) pooled wagons: empty wagon-km and empty runs a week (over the
    service's window), and the mean hours a train waited for wagons, and for locomotives."""

    empty_wagon_km_per_week: float
    empty_runs_per_week: float
    wagon_wait_h_per_train: float
    locomotive_wait_h_per_train: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "empty_wagon_km_per_week": self.empty_wagon_km_per_week,
            "empty_runs_per_week": self.empty_runs_per_week,
            "wagon_wait_h_per_train": self.wagon_wait_h_per_train,
            "locomotive_wait_h_per_train": self.locomotive_wait_h_per_train,
        }


@dataclass(frozen=True)
class PoolSummary:
    """A wagon pool: its node and gauge, its stock at the start, the lowest it fell to in any
    replication, the mean over replications of each one's lowest, and the trains that waited
    for its wagons (per replication). A locomotive pool the same, with ``unit`` "locomotives"
    and ``gauge_mm`` 0 (its counts are locomotives)."""

    node: str
    gauge_mm: int
    start_wagons: int
    lowest_wagons: int
    lowest_wagons_mean: float
    trains_waited_per_replication: float
    unit: str = "wagons"

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "gauge_mm": self.gauge_mm,
            "unit": self.unit,
            "start_wagons": self.start_wagons,
            "lowest_wagons": self.lowest_wagons,
            "lowest_wagons_mean": self.lowest_wagons_mean,
            "trains_waited_per_replication": self.trains_waited_per_replication,
        }


@dataclass(frozen=True)
class RollingStockSummary:
    """The wagon pools (``[[wagon_pools]]``): per service whose trains take wagons from a pool,
    per corridor of those, and per pool (keyed ``NODE/GAUGE``). Empty without pools."""

    services: dict[str, WagonFlow] = field(default_factory=dict)
    corridors: dict[str, WagonFlow] = field(default_factory=dict)
    pools: dict[str, PoolSummary] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "services": {k: v.to_json() for k, v in self.services.items()},
            "corridors": {k: v.to_json() for k, v in self.corridors.items()},
            "pools": {k: v.to_json() for k, v in self.pools.items()},
        }


@dataclass(frozen=True)
class RunSummary:
    """The KPIs of a run (summary.json)."""

    schema_version: int
    scenario: str
    start_date: str
    start: str
    horizon_h: float
    seed: int
    replications: int
    services: dict[str, ServiceSummary]
    corridors: dict[str, Stats]
    nodes: dict[str, NodeSummary]
    legs: dict[str, Flow]
    where_days_go: dict[str, WhereDaysGo]
    rolling_stock: RollingStockSummary = field(default_factory=RollingStockSummary)

    def to_json(self) -> dict[str, Any]:
        """summary.json's content."""
        return {
            "schema_version": self.schema_version,
            "scenario": self.scenario,
            "start_date": self.start_date,
            "start": self.start,
            "horizon_h": self.horizon_h,
            "seed": self.seed,
            "replications": self.replications,
            "services": {k: v.to_json() for k, v in self.services.items()},
            "corridors": {k: v.to_json() for k, v in self.corridors.items()},
            "nodes": {k: v.to_json() for k, v in self.nodes.items()},
            "legs": {k: v.to_json() for k, v in self.legs.items()},
            "where_days_go": {k: v.to_json() for k, v in self.where_days_go.items()},
            "rolling_stock": self.rolling_stock.to_json(),
        }

    @classmethod
    def from_json(cls, data: object, *, source: str, network: Network | None = None) -> RunSummary:
        """Read summary.json's content (``data``, parsed JSON), checking every field.

        ``source`` names the file in errors. With ``network``, the node and leg ids must be the
        network's. A ``stay_h_mean`` of null is taken as the mean wait plus the mean hold (what
        it is). Keys the schema does not know are ignored (a later version may add fields); a
        summary without ``rolling_stock`` (written before wagon pools) reads as having none.
        """
        return _Reader(source).summary(data, network)


class _Reader:
    """Reads summary.json's parts; every error names ``file``."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, record: str | None, field: str, value: Any, problem: str) -> DataError:
        return DataError(self.file, record, field, value, problem)

    def number(self, record: str | None, field: str, value: Any, *, signed: bool = False) -> float:
        """A finite number (not below 0 unless ``signed``: times, shares and counts never are)."""
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or (value < 0 and not signed)
        ):
            raise self.fail(record, field, value, "must be a finite number" + ("" if signed else ", 0 or more"))
        return float(value)

    def optional(self, record: str | None, field: str, value: Any) -> float | None:
        return None if value is None else self.number(record, field, value)

    def whole(self, record: str | None, field: str, value: Any, what: str, top: int = 10**9) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < top:
            raise self.fail(record, field, value, f"must be a whole number of {what}")
        return value

    def text(self, record: str | None, field: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(record, field, value, "must be a text")
        if UNSAFE_CHARS.search(value):  # what the loaders refuse in any text
            raise self.fail(record, field, value, "holds a control character; write plain text")
        return value

    def table(self, record: str | None, field: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(record, field, value, "must be an object")
        return value

    def get(self, record: str | None, row: Mapping[str, Any], key: str, prefix: str = "") -> Any:
        if key not in row:
            raise self.fail(record, prefix + key, None, _MISSING)
        return row[key]

    def keyed(self, kind: str, field: str, value: Any, read: Callable[[str, Any], _T]) -> dict[str, _T]:
        """An object of rows keyed by name (plain text), each read by ``read``."""
        return {
            self.text(f"{kind} {name}", field, name): read(f"{kind} {name}", row)
            for name, row in self.table(None, field, value).items()
        }

    def stats(self, record: str, field: str, value: Any) -> Stats:
        """A distribution: its figures are numbers, or null all together when ``n`` is 0."""
        row = self.table(record, field, value)
        n = self.whole(record, f"{field}.n", self.get(record, row, "n", f"{field}."), "values")
        f: list[float | None] = []
        for key in _FIGURES:
            got = self.get(record, row, key, f"{field}.")
            f.append(self.number(record, f"{field}.{key}", got) if got is not None or n else None)
        if not n and any(v is not None for v in f):
            raise self.fail(record, f"{field}.n", n, "does not match the figures (null only with n = 0)")
        ci = self.get(record, row, "ci95", f"{field}.")
        if ci is not None and (not isinstance(ci, list) or len(ci) != 2 or not n):
            raise self.fail(record, f"{field}.ci95", ci, "must be null or [low, high] (with n above 0)")
        low, high = (self.number(record, f"{field}.ci95", v, signed=True) for v in ci or (0, 0))  # may be below 0
        return Stats(n, f[0], f[1], f[2], f[3], f[4], f[5], (low, high) if ci is not None else None)

    def flow(self, record: str, row: Any, field: str) -> Flow:
        row = self.table(record, field, row)
        return Flow(*self.numbers(record, row, field, _FLOW))

    def numbers(self, record: str, row: dict[str, Any], field: str, keys: tuple[str, ...]) -> list[float]:
        return [self.number(record, f"{field}.{k}", self.get(record, row, k, f"{field}.")) for k in keys]

    def hours(self, record: str, field: str, value: Any) -> dict[str, float]:
        return {
            self.text(record, field, k): self.number(record, f"{field}.{k}", v)
            for k, v in self.table(record, field, value).items()
        }

    def node(self, record: str, row: dict[str, Any]) -> NodeSummary:
        """A node's row (what a map draws of it is checked already)."""
        wait, hold = (None if row.get(k) is None else self.stats(record, k, row[k]) for k in ("wait_h", "hold_h"))
        for key in ("wait_h", "hold_h", "utilisation"):
            self.get(record, row, key)
        stay = row.get("stay_h_mean")  # null: taken as what it is, the mean wait plus the mean hold
        util = row["utilisation"]
        return NodeSummary(
            self.text(record, "country", self.get(record, row, "country")),
            self.number(record, "visits_per_replication", self.get(record, row, "visits_per_replication")),
            wait,
            hold,
            float(stay)
            if stay is not None
            else (wait.mean or 0.0 if wait else 0.0) + (hold.mean or 0.0 if hold else 0.0),
            None if util is None else float(util),
            self.whole(record, "largest_queue", self.get(record, row, "largest_queue"), "trains"),
        )

    def service(self, record: str, row: Any) -> ServiceSummary:
        row = self.table(record, "services", row)

        def get(key: str) -> Any:
            return self.get(record, row, key)

        corridor, route = get("corridor"), get("route")
        if not isinstance(route, list):
            raise self.fail(record, "route", route, "must be a list of node ids")
        promised, on_time = get("promised_transit_d"), get("on_time_share")
        days = self.table(record, "days", get("days"))
        return ServiceSummary(
            None if corridor is None else self.text(record, "corridor", corridor),
            tuple(self.text(record, "route", r) for r in route),
            self.number(record, "trains_per_replication", get("trains_per_replication")),
            self.number(record, "arrived_per_replication", get("arrived_per_replication")),
            self.number(record, "in_system_at_horizon_per_replication", get("in_system_at_horizon_per_replication")),
            self.number(record, "in_system_share", get("in_system_share")),
            self.stats(record, "transit_d", get("transit_d")),
            self.optional(record, "promised_transit_d", promised),
            self.optional(record, "on_time_share", on_time),
            self.flow(record, get("throughput"), "throughput"),
            DaysPerTrain(*self.numbers(record, days, "days", _DAYS)),
            self.number(record, "cost_usd_per_teu", get("cost_usd_per_teu")),
            self.number(record, "co2_kg_per_teu", get("co2_kg_per_teu")),
        )

    def where(self, record: str, row: Any) -> WhereDaysGo:
        row = self.table(record, "where_days_go", row)
        by_node, by_country = (self.hours(record, k, self.get(record, row, k)) for k in ("by_node_h", "by_country_h"))
        return WhereDaysGo(by_node, by_country)

    def summary(self, data: object, network: Network | None) -> RunSummary:
        """First what a map draws, checked as results folders always were; then the rest."""
        if not isinstance(data, dict):
            raise DataError(self.file, None, None, data, "must be a JSON object")
        self.drawn(data, network)
        version = self.get(None, data, "schema_version")
        if version != SCHEMA_VERSION:
            raise self.fail(None, "schema_version", version, f"must be {SCHEMA_VERSION} (written by another program?)")
        start_date = self.text(None, "start_date", data["start_date"])
        if not _START.fullmatch(start_date):
            raise self.fail(None, "start_date", start_date, "must be a date such as 2025-01-01")
        return RunSummary(
            SCHEMA_VERSION,
            self.text(None, "scenario", self.get(None, data, "scenario")),
            start_date,
            self.text(None, "start", self.get(None, data, "start")),
            self.number(None, "horizon_h", self.get(None, data, "horizon_h")),
            self.whole(None, "seed", self.get(None, data, "seed"), "at least 0", 2**63),
            self.whole(None, "replications", self.get(None, data, "replications"), "replications"),
            self.keyed("service", "services", data["services"], self.service),
            self.keyed("corridor", "corridors", self.get(None, data, "corridors"), self.corridor),
            {node_id: self.node(f"node {node_id}", row) for node_id, row in data["nodes"].items()},
            {leg_id: self.flow(f"leg {leg_id}", row, "legs") for leg_id, row in data["legs"].items()},
            self.keyed("service", "where_days_go", self.get(None, data, "where_days_go"), self.where),
            self.rolling(data.get("rolling_stock")),
        )

    def rolling(self, value: Any) -> RollingStockSummary:
        """The ``rolling_stock`` part (absent: no pools)."""
        if value is None:
            return RollingStockSummary()
        row = self.table(None, "rolling_stock", value)
        services, corridors, pools = (
            self.get(None, row, k, "rolling_stock.") for k in ("services", "corridors", "pools")
        )
        return RollingStockSummary(
            self.keyed("service", "rolling_stock.services", services, self.wagon_flow),
            self.keyed("corridor", "rolling_stock.corridors", corridors, self.wagon_flow),
            self.keyed("wagon pool", "rolling_stock.pools", pools, self.pool),
        )

    def wagon_flow(self, record: str, row: Any) -> WagonFlow:
        row = self.table(record, "rolling_stock", row)
        locomotive_h = row.get("locomotive_wait_h_per_train", 0.0)  # absent before locomotive pools
        km, runs, wait_h = self.numbers(record, row, "rolling_stock", _WAGON_FLOW)
        return WagonFlow(
            km, runs, wait_h, self.number(record, "rolling_stock.locomotive_wait_h_per_train", locomotive_h)
        )

    def pool(self, record: str, row: Any) -> PoolSummary:
        row = self.table(record, "rolling_stock.pools", row)

        def get(key: str) -> Any:
            return self.get(record, row, key)

        start = self.whole(record, "start_wagons", get("start_wagons"), "wagons")
        lowest = self.whole(record, "lowest_wagons", get("lowest_wagons"), "wagons")
        mean = self.number(record, "lowest_wagons_mean", get("lowest_wagons_mean"))
        if lowest > mean or mean > start:
            raise self.fail(
                record,
                "lowest_wagons_mean",
                mean,
                f"must lie between lowest_wagons ({lowest}) and start_wagons ({start})",
            )
        return PoolSummary(
            self.text(record, "node", get("node")),
            self.whole(record, "gauge_mm", get("gauge_mm"), "millimetres"),
            start,
            lowest,
            mean,
            self.number(record, "trains_waited_per_replication", get("trains_waited_per_replication")),
            self.unit(record, row.get("unit", "wagons")),
        )

    def unit(self, record: str, value: Any) -> str:
        if value not in ("wagons", "locomotives"):
            raise self.fail(record, "unit", value, 'must be "wagons" or "locomotives"')
        return str(value)

    def corridor(self, record: str, row: Any) -> Stats:
        return self.stats(record, "transit_d", row)

    def drawn(self, summary: dict[str, Any], network: Network | None) -> None:
        """What ``map --results`` draws, checked (and its errors worded) as they always were."""
        for key in ("services", "nodes", "legs", "start_date"):
            self.get(None, summary, key)
        for key in ("services", "nodes", "legs"):
            self.table(None, key, summary[key])
        for node_id, row in summary["nodes"].items():
            record = f"node {node_id}"
            if network is not None and node_id not in network.nodes:
                raise self.fail(record, "nodes", node_id, "is not a node of the network")
            self.text(record, "nodes", node_id)
            self.table(record, "nodes", row)
            for part in ("wait_h", "hold_h"):  # queue before service; after it (a vessel, sailing, opening, hold)
                hours = row.get(part)
                if hours is None:
                    continue
                self.table(record, part, hours)
                for k in ("mean", "p95"):
                    self.number(record, f"{part}.{k}", hours.get(k))
            for k in ("stay_h_mean", "utilisation"):
                if row.get(k) is not None:
                    self.number(record, k, row.get(k))
            queue = row.get("largest_queue")
            if queue is not None:
                self.whole(record, "largest_queue", queue, "trains")
        for leg_id, row in summary["legs"].items():
            record = f"leg {leg_id}"
            if network is not None and leg_id not in network.legs:
                raise self.fail(record, "legs", leg_id, "is not a leg of the network")
            self.text(record, "legs", leg_id)
            self.table(record, "legs", row)
            for k in _FLOW:
                self.number(record, k, row.get(k))
        self.text(None, "scenario", summary.get("scenario", ""))
        start = summary.get("start", summary["start_date"])
        if not isinstance(start, str) or not _START.fullmatch(start):
            raise self.fail(None, "start", start, "must be a date such as 2025-01-01 or 2025-01-01T06:00")


_FIGURES = ("mean", "p50", "p90", "p95", "min", "max")
_FLOW = ("trains_per_week", "teu_per_week")
_DAYS = ("moving", "waiting", "processing")
_WAGON_FLOW = ("empty_wagon_km_per_week", "empty_runs_per_week", "wagon_wait_h_per_train")
