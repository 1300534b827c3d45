"""Results on the map: nodes coloured and sized by waiting, traffic on legs, trains moving in time."""

from __future__ import annotations

import csv
import gzip
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium

from corridors import DataError, Network, Node
from corridors.export import unspreadsheet_text
from corridors.loader import read_json
from corridors.units import hours
from maps.elements import DataBlock, Raw, Script
from maps.escape import esc
from sim.summary import RunSummary

__all__ = ["WAIT_COLOURS", "Results", "add_results", "load_results", "static_script", "stay_lines", "wait_radius_px"]

STATIC = Path(__file__).parent / "static"
#: The animation shows the trains that depart within this many days of the start.
WINDOW_D = 60.0
EVENTS = ("depart", "arrive", "start", "end", "leave", "complete")


@dataclass(frozen=True)
class Results:
    """What a map needs from a run: its summary and one replication's event log."""

    summary: RunSummary
    events: list[tuple[str, str, str, str, float]]  # (train, place, leg, event, time_h)
    start_date: str


def load_results(folder: str | Path, network: Network) -> Results:
    """Read summary.json and the first replication of the event log (events.parquet, or
    events.csv.gz; the newer where both are) from a `corridors simulate` folder."""
    root = Path(folder)
    if root.is_file():
        raise DataError(str(root), None, None, None, "is a file: give the folder a `corridors simulate` run wrote")
    if not root.is_dir():
        raise DataError(
            str(root), None, None, None, "no such results folder (give the output folder of a simulate run)"
        )
    summary_path = root / "summary.json"
    shown = str(summary_path)
    if summary_path.is_dir():
        raise DataError(shown, None, None, None, "is a folder, not a file")
    if not summary_path.exists():
        raise DataError(shown, None, None, None, "file not found: is this a `corridors simulate` folder?")
    data = read_json(summary_path)  # NaN, Infinity, deep nesting and huge numbers refused in one line
    summary = RunSummary.from_json(data, source=shown, network=network)  # every field checked
    logs = [p for p in (root / "events.parquet", root / "events.csv.gz") if p.is_file()]
    if not logs:
        raise DataError(
            str(root / "events.parquet"), None, None, None, "file not found: is this a `corridors simulate` folder?"
        )
    path = max(logs, key=lambda p: p.stat().st_mtime)
    rows = _parquet_rows(path) if path.suffix == ".parquet" else _csv_rows(path)
    return Results(summary, _read_events(str(path), rows, network), summary.start)


_COLUMNS = ("replication", "train", "place", "leg", "event", "time_h")
_OLD = "are missing (a folder from an older corridors? run simulate again)"


def _csv_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(record, row) of a gzipped CSV event log; names without the spreadsheet guard."""
    shown = str(path)
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = set(_COLUMNS) - set(reader.fieldnames or [])
            if missing:
                raise DataError(shown, "line 1", "columns", sorted(missing), _OLD)
            for i, row in enumerate(reader, start=2):
                for name in ("train", "place", "leg"):
                    row[name] = unspreadsheet_text(row.get(name) or "")
                yield f"line {i}", row
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(shown, None, None, None, f"not a readable gzip CSV: {exc}") from None


def _parquet_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(record, row) of the first row group (the first replication) of a Parquet event log."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shown = str(path)
    try:
        f = pq.ParquetFile(path)
        missing = set(_COLUMNS) - set(f.schema_arrow.names)
        if missing:
            raise DataError(shown, None, "columns", sorted(missing), _OLD)
        table = f.read_row_group(0, columns=list(_COLUMNS)) if f.num_row_groups else None
    except (OSError, pa.ArrowException) as exc:
        raise DataError(shown, None, None, None, f"not a readable Parquet file: {exc}") from None
    if table is None:
        return
    for i, row in enumerate(table.to_pylist(), start=1):
        yield f"row {i}", row


def _read_events(
    shown: str, rows: Iterable[tuple[str, dict[str, Any]]], network: Network
) -> list[tuple[str, str, str, str, float]]:
    """The first replication's events, every field checked."""
    out: list[tuple[str, str, str, str, float]] = []
    first: object = None
    for record, row in rows:
        rep = row.get("replication")
        first = first if first is not None else rep
        if rep != first:
            continue
        train, place, event, leg = (row.get(k) or "" for k in ("train", "place", "event", "leg"))
        for field, name in (("train", train), ("place", place), ("event", event), ("leg", leg)):
            if not isinstance(name, str):
                raise DataError(shown, record, field, name, "must be text")
        if place not in network.nodes:
            raise DataError(shown, record, "place", place, "is not a node of the network")
        if event not in EVENTS:
            raise DataError(shown, record, "event", event, f"must be one of {', '.join(EVENTS)}")
        if leg and leg not in network.legs:
            raise DataError(shown, record, "leg", leg, "is not a leg of the network")
        value = row.get("time_h")
        try:
            if isinstance(value, bool):
                raise ValueError
            t = float(value if value is not None else "")
        except (TypeError, ValueError):
            raise DataError(shown, record, "time_h", value, "must be a number") from None
        if not math.isfinite(t):
            raise DataError(shown, record, "time_h", t, "must be a finite number")
        out.append((train, place, leg, event, t))
    if not out:
        raise DataError(shown, None, None, None, "holds no events: nothing to show")
    return out


#: Mean stay at a node -> colour: a sequential red scale, apart from every node kind's colour (the
#: border crossings' orange among them) and from the magenta of closures.
WAIT_COLOURS = [
    ("under 2 h", "#fee0d2"),
    ("2-12 h", "#fcbba1"),
    ("12-48 h", "#fb6a4a"),
    ("2-7 days", "#cb181d"),
    ("a week and more", "#67000d"),
]
#: A stay's circle at zoom 4 (it grows ×√2 a zoom level, and never shrinks inside a ring round the node).
WAIT_RADIUS_PX = (5.0, 1.6, 24.0)  # base, × √hours, largest
WAIT_RING_PX = 11.0


def _wait_colour(hours: float) -> str:
    for limit, (_, colour) in zip((2, 12, 48, 168), WAIT_COLOURS, strict=False):
        if hours < limit:
            return colour
    return WAIT_COLOURS[-1][1]


def wait_radius_px(stay_h: float) -> float:
    """The radius of a node's stay circle at zoom 4, in pixels."""
    base, per_sqrt_h, largest = WAIT_RADIUS_PX
    return round(min(base + per_sqrt_h * math.sqrt(max(stay_h, 0.0)), largest), 1)


def stay_lines(results: Results, node_id: str) -> str:
    """A node's results for its popups ("" when the run has none for it): mean stay, queue, what came
    after service, utilisation and the largest queue."""
    summary = results.summary
    row = summary.nodes.get(node_id)
    if row is None:
        return ""
    wait, hold, stay = row.wait_h, row.hold_h, row.stay_h_mean
    lines = [f"<b>Results ({esc(summary.scenario)})</b>: mean stay beyond service {stay:.1f} h"]
    if wait and wait.mean is not None and wait.p95 is not None:
        lines.append(f"queue before service: mean {wait.mean:.1f} h, P95 {wait.p95:.1f} h")
    if hold and hold.mean is not None and hold.p95 is not None:
        lines.append(
            f"after service (a vessel, sailing, opening or hold): mean {hold.mean:.1f} h, P95 {hold.p95:.1f} h"
        )
    if row.utilisation is not None:
        lines.append(f"utilisation {100 * row.utilisation:.0f}%")
    queue = row.largest_queue
    if queue:
        lines.append(f"largest queue {queue} train{'s' if queue != 1 else ''}")
    return "<br>".join(lines)


#: The animation's code and style, shared by every map on a page (placed once in its head).
ANIMATION_CSS = (
    "<style>.corridors-anim{background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;"
    "font:12px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);box-sizing:border-box}"
    ".corridors-anim input[type=range]{width:240px;vertical-align:middle;margin:0 8px}"
    ".corridors-anim button,.corridors-anim select{font:12px sans-serif}"
    ".corridors-anim .corridors-play{min-width:64px}"
    ".corridors-anim .corridors-label{display:block;color:#555}"
    ".corridors-narrow .corridors-anim input[type=range]{display:block;width:100%;margin:6px 0;box-sizing:border-box}"
    ".corridors-narrow .corridors-anim .corridors-play{min-height:36px;min-width:80px;font-size:14px}"
    ".corridors-narrow .corridors-anim .corridors-clock{display:block;margin-top:4px}</style>"
)


def add_results(
    m: folium.Map,
    network: Network,
    results: Results,
    *,
    nodes: Iterable[str] | None = None,
    legs: Iterable[str] | None = None,
    window_d: float = WINDOW_D,
    step_h: float = 2.0,
    max_trains: int = 1500,
    node_popup: Callable[[Network, Node], str] = lambda network, node: "",
) -> None:
    """Add the stay at nodes, traffic on legs and one replication's trains to a network map.

    Only ``nodes`` and ``legs`` (those drawn) are shown, and only trains whose route lies on them.
    ``node_popup`` gives a node's facility popup, which the results extend (the network map's).
    The stay circles lie under the node markers (pane ``waits``), so a node's kind still shows.
    """
    summary = results.summary
    node_set = set(nodes) if nodes is not None else set(network.nodes)
    leg_set = set(legs) if legs is not None else set(network.legs)
    folium.map.CustomPane("waits", z_index=440).add_to(m)  # under the nodes (450), over the lines (400)
    waits = folium.FeatureGroup(name="Stay at nodes (results)", show=True)
    for node_id, row in summary.nodes.items():
        if node_id not in node_set:
            continue
        node = network.nodes[node_id]
        stay = row.stay_h_mean
        colour = _wait_colour(stay)
        popup = node_popup(network, node) + "<hr>" + stay_lines(results, node_id)
        marker = folium.CircleMarker(
            location=node.latlon,
            radius=wait_radius_px(stay),
            color="#67000d" if stay >= 12 else "#cb181d",
            weight=1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.75,
            popup=folium.Popup(popup, max_width=440),
            tooltip=f"{esc(node.name)}: stays {stay:.1f} h on average beyond service",
            class_name=f"corridors-wait wait-{esc(node.id)}",
        )
        marker.options["pane"] = "waits"
        marker.options["baseRadius"] = wait_radius_px(stay)  # the page scales it with the zoom
        marker.options["minRadius"] = WAIT_RING_PX
        marker.add_to(waits)
    waits.add_to(m)
    traffic = folium.FeatureGroup(name="Traffic on legs (results)", show=False)
    for leg_id, flow in summary.legs.items():
        if leg_id not in leg_set:
            continue
        leg = network.legs[leg_id]
        trains = flow.trains_per_week
        folium.PolyLine(
            [list(p) for p in leg.path],
            color="#5e3c99",
            weight=2 + 1.2 * math.sqrt(trains),
            opacity=0.45,
            tooltip=f"{esc(leg_id)}: {trains:.1f} trains and {flow.teu_per_week:,.0f} TEU a week "
            "(line width grows with trains a week)",
            class_name=f"corridors-traffic traffic-{esc(leg_id)}",
        ).add_to(traffic)
    traffic.add_to(m)
    folium.map.CustomPane("trains", z_index=460).add_to(m)
    data = _animation_data(
        network, results.events, hours(window_d), step_h, max_trains, results.start_date, node_set, leg_set
    )
    data["label"] = f"{summary.scenario}, replication 1"
    root: Any = m.get_root()
    block = f"corridors-anim-{m.get_name()}"
    root.html.add_child(DataBlock(block, data))
    root.header.add_child(Raw(ANIMATION_CSS), name="corridors_anim_css")
    root.header.add_child(Raw(static_script("animation.js")), name="corridors_anim_js")
    Script(f'corridorsAnimate({m.get_name()}, "{block}");').add_to(m)


def static_script(name: str) -> str:
    """One of our own scripts in maps/static/, as a ``<script>`` element."""
    return "<script>" + (STATIC / name).read_text(encoding="utf-8").replace("</script", "<\\/script") + "</script>"


def _animation_data(
    network: Network,
    events: Iterable[tuple[str, str, str, str, float]],
    window_h: float,
    step_h: float,
    max_trains: int,
    start_date: str,
    node_set: set[str],
    leg_set: set[str],
) -> dict[str, Any]:
    """Per train, segments [t0, t1, kind, ref, dir]: at a node (kind 0) or along a leg (kind 1)."""
    by_train: dict[str, list[tuple[float, int, str, str, str]]] = defaultdict(list)
    order = {e: i for i, e in enumerate(EVENTS)}
    for train, place, leg, event, t in events:
        by_train[train].append((t, order[event], place, event, leg))
    node_index: dict[str, int] = {}
    leg_index: dict[str, int] = {}
    nodes: list[list[float]] = []
    legs: list[list[list[float]]] = []
    legs_ids: list[str] = []

    def node_ref(node_id: str) -> int:
        if node_id not in node_index:
            node_index[node_id] = len(nodes)
            lat, lon = network.nodes[node_id].latlon
            nodes.append([round(lat, 3), round(lon, 3)])
        return node_index[node_id]

    def leg_ref(leg_id: str, a: str) -> tuple[int, int] | None:
        """The leg a train arrived over (from ``a``), and its direction."""
        leg = network.legs.get(leg_id)
        if leg is None or a not in (leg.from_id, leg.to_id):
            return None
        if leg.id not in leg_index:
            leg_index[leg.id] = len(legs)
            legs_ids.append(leg.id)
            legs.append([[round(lat, 3), round(lon, 3)] for lat, lon in leg.path])
        return leg_index[leg.id], (1 if leg.from_id == a else -1)

    trains: list[list[list[float]]] = []
    for train in sorted(by_train):
        rows = sorted(by_train[train])
        if rows[0][0] > window_h or any(place not in node_set for _, _, place, _, _ in rows):
            continue  # not in the window, or its route leaves the corridors drawn
        segs: list[list[float]] = []
        here, since = rows[0][2], rows[0][0]
        for t, _, place, event, leg_id in rows[1:]:
            if event == "arrive" and place != here:
                ref = leg_ref(leg_id, here)
                if ref is not None and legs_ids[ref[0]] in leg_set:
                    segs.append([round(since, 2), round(t, 2), 1, ref[0], ref[1]])
                here, since = place, t
            elif event in ("leave", "complete"):
                if t > since:
                    segs.append([round(since, 2), round(t, 2), 0, node_ref(place), 0])
                since = t
        if segs and segs[0][0] <= window_h:
            trains.append([s for s in segs if s[0] <= window_h])
    total = len(trains)
    if total > max_trains:  # downsample evenly, so the file stays small (the page says so)
        stride = total / max_trains
        trains = [trains[int(i * stride)] for i in range(max_trains)]
    return {
        "total_trains": total,
        "start_date": start_date,
        "window_h": window_h,
        "step_h": step_h,
        "nodes": nodes,
        "legs": legs,
        "trains": trains,
    }
