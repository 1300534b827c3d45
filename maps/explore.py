"""explore.html: an offline what-if explorer. Sliders pick a point of a sweep or a two-parameter
grid; the key figures, the transit histograms and the map of node waits follow at once.

The page is one file with no library and no network: the static parts (the table's service names,
the histogram frames, the map's countries, legs and node circles) are drawn here, text from data
escaped; the numbers of every point sit in a ``<script type="application/json">`` block that
``maps/static/explore.js`` reads and shows with ``textContent``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from corridors import Network
from maps.basemap import countries
from maps.escape import esc, json_for_script
from maps.results import WAIT_COLOURS
from maps.style import CSS
from maps.svg import PALETTE

__all__ = ["explore_page"]

SCRIPT = Path(__file__).parent / "static" / "explore.js"
#: The map's width in SVG units; its height follows the network's bounds.
MAP_W = 900.0
#: Degrees of margin around the nodes drawn.
MARGIN_DEG = 2.0
#: The histograms' frame, in SVG units.
HIST_W, HIST_LEFT, HIST_RIGHT, BAR_BOTTOM = 260.0, 8.0, 252.0, 86.0
#: How the page draws: the waits' colour classes (the results map's), circle sizes, histogram frame.
LOOK = {
    "wait_limits_h": [2, 12, 48, 168],
    "wait_colours": [colour for _, colour in WAIT_COLOURS],
    "radius_min": 3.0,
    "radius_per_sqrt_h": 1.6,
    "radius_max": 22.0,
    "bar_bottom": BAR_BOTTOM,
    "bar_height": 72.0,
    "top_nodes": 8,
    "map_labels": 4,
}

EXTRA_CSS = """
body { max-width: 1400px; }
.explore-controls { display: flex; flex-wrap: wrap; gap: 4px 32px; margin: 12px 0; padding: 6px 0;
  position: sticky; top: 0; z-index: 2; background: #fff; border-bottom: 1px solid #ddd; }
.explore-param { flex: 1 1 320px; min-width: 0; }
.explore-param label { display: block; font-weight: 600; overflow-wrap: anywhere; }
.explore-param input[type=range] { width: 100%; margin: 6px 0 2px; }
.explore-param output { font-size: 16px; }
.ticks { display: flex; justify-content: space-between; font-size: 11px; color: #555; }
.ticks .own { color: #000; font-weight: 700; }
.scroll { overflow-x: auto; max-width: 100%; }
.explore-main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 0 28px; }
.explore-map svg { width: 100%; height: auto; background: #eef4f8; border: 1px solid #ccc; }
.hists { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 10px 16px; }
.hists figure { margin: 0; } .hists figcaption { font-size: 12px; overflow-wrap: anywhere; }
.hists svg { width: 100%; height: auto; }
.hist-mean { font-size: 11px; color: #333; }
.moved td:first-child { font-weight: 600; }
@media (max-width: 800px) {
  body { margin: 8px auto; padding: 0 8px; }
  .explore-main { grid-template-columns: minmax(0, 1fr); }
}
"""


def explore_page(data: Mapping[str, Any], network: Network) -> str:
    """explore.html for ``data`` (``sim.explore.explore``'s result); ``network``: the scenario's, for the map."""
    params = data["params"]
    reference = data["reference_point"]
    names = [s["name"] for s in data["services"]]
    moved = set(data["moved"])
    order = sorted(range(len(names)), key=lambda i: names[i] not in moved)  # the services that move first
    against = "the scenario's own values" if reference is not None else "the first point"
    what = " and ".join(esc(p["path"]) for p in params)
    body = [
        "<h1>corridors: what-if explorer</h1>",
        f"<p><b>{esc(data['scenario'])}</b>: {what} over {len(data['points'])} points, "
        f"{data['replications']} replication{_s(data['replications'])} each, seed {data['seed']}, "
        "common random numbers (what a value does not touch stays the same). Everything was computed "
        "beforehand: the page needs no server and no network.</p>",
        "<noscript><p class='bad'>The sliders need JavaScript; explore.json holds the same figures.</p></noscript>",
        "<div class='explore-controls'>",
        *(_slider(j, p) for j, p in enumerate(params)),
        "</div>",
        "<div class='explore-main'><div>",
        "<h2>Key figures</h2>",
        _kpi_table(names, order, moved, against),
        f"<p class='note'>Δ mean: against {against}. Bold: the services these values move. On time: arrived within "
        "the service's promised transit. Waiting d: queues, vessels, sailings, closures and holds.</p>",
        "</div><div class='explore-map'>",
        "<h2>Where trains wait</h2>",
        _map(data["nodes"], network),
        "<p class='note'>Circles: each node's mean stay beyond service (queue before it and hold after it), sized "
        "and coloured as on the results map (" + ", ".join(esc(label) for label, _ in WAIT_COLOURS) + ").</p>",
        "<h3>Longest stays</h3><ol id='explore-top-waits'></ol>",
        "</div></div>",
        "<h2>Transit-time distributions</h2>",
        f"<p class='note'>Share of arrived trains by transit time, the bins the same at every point; the grey "
        f"outline is {against}.</p>",
        "<div class='hists'>",
        *(_histogram(i, data["services"][i], names[i] in moved) for i in order if _arrives(data, names[i])),
        "</div>",
        f"<script type='application/json' id='explore-data'>{json_for_script(dict(data))}</script>",
        f"<script type='application/json' id='explore-look'>{json_for_script(LOOK)}</script>",
        f"<script>{_script()}</script>",
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>corridors: explorer of {esc(data['scenario'])}</title><style>{CSS}{EXTRA_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _script() -> str:
    text = SCRIPT.read_text(encoding="utf-8")
    assert "</" not in text, "explore.js must not close its script element"
    return text


def _arrives(data: Mapping[str, Any], name: str) -> bool:
    return any(p["services"][name]["arrived"] > 0 for p in data["points"])


def _number(value: float, scales: bool) -> str:
    return f"{value:g}" + ("×" if scales else "")


def _slider(j: int, param: Mapping[str, Any]) -> str:
    values, base = param["values"], param["base_value"]
    own = [i for i, v in enumerate(values) if base is not None and abs(v - base) < 1e-9]
    start = own[0] if own else 0
    ticks = "".join(
        f"<span class='own' title=\"the scenario's own value\">▲{_number(v, param['scales'])}</span>"
        if i in own
        else f"<span>{_number(v, param['scales'])}</span>"
        for i, v in enumerate(values)
    )
    if base is None:
        said = "the data leave it unset"
    else:
        said = f"the scenario's own value: {_number(base, param['scales'])}" + ("" if own else " (not among these)")
    return (
        f"<div class='explore-param'><label for='explore-slider-{j}'>{esc(param['path'])}"
        + (" (× the data's value)" if param["scales"] else "")
        + f"</label><output id='explore-value-{j}' for='explore-slider-{j}'>{_number(values[start], param['scales'])}"
        f"</output><input type='range' class='explore-slider' id='explore-slider-{j}' min='0' "
        f"max='{len(values) - 1}' step='1' value='{start}' aria-describedby='explore-ticks-{j}'>"
        f"<div class='ticks' id='explore-ticks-{j}'>{ticks}</div><div class='note'>{esc(said)}</div></div>"
    )


_HEADERS = (
    ("trains/wk", "trains arrived a week"),
    ("mean d", "mean transit, days"),
    ("Δ mean d", "mean transit minus the reference point's"),
    ("P50", "median transit, days"),
    ("P95", "95th percentile of transit, days"),
    ("95% CI of mean", "across replications"),
    ("on time", "arrived within the promised transit"),
    ("waiting d", "days per train in queues, for vessels, sailings, closures and holds"),
)


def _kpi_table(names: Sequence[str], order: Sequence[int], moved: set[str], against: str) -> str:
    head = "<th>service</th>" + "".join(f"<th title='{esc(h)}'>{esc(t)}</th>" for t, h in _HEADERS)
    # the services that move first; data-i: the service's place in the data, which the script reads
    rows = []
    for i in order:
        cls = " class='moved'" if names[i] in moved else ""
        rows.append(f"<tr{cls} data-i='{i}'><td>{esc(names[i])}</td>" + "<td></td>" * len(_HEADERS) + "</tr>")
    return (
        f"<div class='scroll'><table id='explore-kpi' aria-label='key figures against {esc(against)}'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _histogram(i: int, service: Mapping[str, Any], moved: bool) -> str:
    bins = service["bins"]
    count, start, width = int(bins["count"]), float(bins["start_d"]), float(bins["width_d"])
    step = (HIST_RIGHT - HIST_LEFT) / count
    bottom = BAR_BOTTOM
    colour = PALETTE[0] if moved else "#7f7f7f"
    bars, ghosts = [], []
    for k in range(count):
        x = HIST_LEFT + k * step
        bars.append(
            f"<rect class='bar' x='{x + 0.5:.1f}' y='{bottom}' width='{max(step - 1, 0.5):.1f}' height='0' "
            f"fill='{colour}'/>"
        )
        ghosts.append(
            f"<rect class='ghost' x='{x + 0.5:.1f}' y='{bottom}' width='{max(step - 1, 0.5):.1f}' height='0' "
            "fill='none' stroke='#888' stroke-width='0.8'/>"
        )
    end = start + width * count
    promised = service.get("promised_transit_d")
    mark = ""
    if promised is not None and start <= promised <= end:
        x = HIST_LEFT + (promised - start) / width * step
        mark = (
            f"<line x1='{x:.1f}' y1='10' x2='{x:.1f}' y2='{bottom}' stroke='#b2182b' stroke-dasharray='3 2'>"
            f"<title>promised transit {promised:g} d</title></line>"
        )
    axis = (
        f"<line x1='{HIST_LEFT}' y1='{bottom}' x2='{HIST_RIGHT}' y2='{bottom}' stroke='#333'/>"
        f"<text x='{HIST_LEFT}' y='{bottom + 12}' font-size='10'>{start:g} d</text>"
        f"<text x='{HIST_RIGHT}' y='{bottom + 12}' font-size='10' text-anchor='end'>{end:g} d</text>"
    )
    return (
        f"<figure id='explore-hist-{i}'><figcaption>{esc(service['name'])} · "
        "<span class='hist-mean'></span></figcaption>"
        f"<svg viewBox='0 0 {HIST_W:g} 102' role='img'><title>transit of {esc(service['name'])}, days</title>"
        f"{''.join(bars)}{''.join(ghosts)}{mark}{axis}</svg></figure>"
    )


class _Projection:
    """Equirectangular over the nodes' bounds (longitudes shrunk by the cosine of the middle latitude)."""

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        lats, lons = zip(*points, strict=True) if points else ((0.0,), (0.0,))
        self.lat0, self.lat1 = min(lats) - MARGIN_DEG, max(lats) + MARGIN_DEG
        self.lon0, self.lon1 = min(lons) - MARGIN_DEG, max(lons) + MARGIN_DEG
        self.shrink = math.cos(math.radians((self.lat0 + self.lat1) / 2))
        self.scale = MAP_W / max((self.lon1 - self.lon0) * self.shrink, 1e-6)
        self.height = (self.lat1 - self.lat0) * self.scale

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.shrink * self.scale, (self.lat1 - lat) * self.scale

    def near(self, lat: float, lon: float, margin: float = 15.0) -> bool:
        return bool(self.lat0 - margin <= lat <= self.lat1 + margin and self.lon0 - margin <= lon <= self.lon1 + margin)


def _path(points: Sequence[tuple[float, float]], proj: _Projection, closed: bool) -> str:
    """An SVG path through (lat, lon) points, dropping those under a unit from the last kept."""
    out: list[tuple[float, float]] = []
    for lat, lon in points:
        x, y = proj.xy(lat, lon)
        if not out or abs(x - out[-1][0]) + abs(y - out[-1][1]) >= 1.0:
            out.append((x, y))
    if len(out) < 2:
        return ""
    d = "M" + "L".join(f"{x:.0f},{y:.0f}" for x, y in out)
    return d + ("Z" if closed else "")


def _map(nodes: Sequence[Mapping[str, Any]], network: Network) -> str:
    proj = _Projection([(n["lat"], n["lon"]) for n in nodes])
    land = []
    for country in countries():
        x0, y0, x1, y1 = country.bbox
        if x1 < proj.lon0 - 10 or x0 > proj.lon1 + 10 or y1 < proj.lat0 - 10 or y0 > proj.lat1 + 10:
            continue
        for polygon in country.polygons:
            for ring in polygon:
                d = _path([(lat, lon) for lon, lat in ring], proj, closed=True)
                if d:
                    land.append(d)
    legs = []
    for leg in network.legs.values():
        if any(proj.near(lat, lon) for lat, lon in leg.path):
            d = _path(leg.path, proj, closed=False)
            if d:
                legs.append(d)
    circles = []
    for i, n in enumerate(nodes):
        x, y = proj.xy(n["lat"], n["lon"])
        circles.append(
            f"<circle id='explore-node-{i}' class='explore-node node-{esc(n['id'])}' cx='{x:.1f}' cy='{y:.1f}' "
            f"r='2' fill='{WAIT_COLOURS[0][1]}' stroke='#333' stroke-width='0.8' fill-opacity='0.85'>"
            f"<title>{esc(n['id'])}</title></circle>"
        )
    return (
        f"<svg viewBox='0 0 {MAP_W:g} {proj.height:.0f}' role='img' aria-label='mean stay at nodes'>"
        f"<path d='{''.join(land)}' fill='#fbfbf8' stroke='#b8b8b8' stroke-width='0.6' fill-rule='evenodd'/>"
        f"<path d='{''.join(legs)}' fill='none' stroke='#8aa1b5' stroke-width='1.2'/>"
        f"{''.join(circles)}<g id='explore-labels' font-size='18' paint-order='stroke' stroke='#fff' "
        "stroke-width='3'></g></svg>"
    )
