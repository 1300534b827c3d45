"""The network map: countries, one layer per corridor, legs by mode and gauge, nodes by kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import folium

from corridors import Distribution, Leg, Network, Node
from corridors.units import days
from maps.basemap import countries
from maps.elements import DataBlock, Legend, Raw, Script
from maps.escape import esc, json_for_script
from maps.results import WAIT_COLOURS, WINDOW_D, Results, add_results, static_script, stay_lines, wait_radius_px

__all__ = [
    "CORRIDOR_COLOURS",
    "KIND_STYLE",
    "MODE_DASH",
    "build_network_map",
    "corridor_colour",
    "node_popup",
    "node_style",
]

#: A colour per corridor, in the network's order (cycled past the last): Paul Tol's colour-blind safe
#: "muted" scheme, then Okabe and Ito's blue and vermillion. Each corridor's swatch is in the layer list.
CORRIDOR_COLOURS = (
    "#332288",
    "#117733",
    "#44aa99",
    "#88ccee",
    "#ddcc77",
    "#cc6677",
    "#aa4499",
    "#882255",
    "#999933",
    "#0072b2",
    "#d55e00",
)
OTHER_LEGS = "#777777"
#: The line's pattern says the mode: rail solid (1435 mm) or dashed (1520 mm, so a gauge break shows),
#: ferry and sea dotted, road dash-dot.
MODE_DASH = {"ferry": "2 6", "sea": "1 7", "road": "12 4 2 4"}
GAUGE_DASH = {1435: None, 1520: "10 6"}
#: A leg several corridors share is drawn once for each, widest first, so each shows as a stripe.
STRIPE_PX = 2.5
KIND_STYLE = {  # (fill colour, radius, label), first matching kind wins
    "gauge_change": ("#762a83", 8, "gauge change"),
    "border": ("#e08214", 6, "border crossing"),
    "ferry_terminal": ("#2166ac", 6, "ferry terminal"),
    "port": ("#01665e", 6, "port"),
    "terminal": ("#000000", 7, "terminal"),
    "junction": ("#9e9e9e", 4, "junction"),
}
SEA = "#d4e6f1"
LAND = "#f4f1ea"
CLOSED = "#c51b7d"  # closures and bans: magenta, apart from the black of terminals


def corridor_colour(network: Network, name: str) -> str:
    """A corridor's colour on every map (by its place in the network, so it keeps it on any map)."""
    return CORRIDOR_COLOURS[list(network.corridors).index(name) % len(CORRIDOR_COLOURS)]


def node_style(node: Node) -> tuple[str, int, str]:
    """Fill colour, radius and legend label for a node, by its most telling kind."""
    for kind, style in KIND_STYLE.items():
        if node.has_kind(kind):
            return style
    return KIND_STYLE["junction"]


def _sources(network: Network, keys: Sequence[str]) -> str:
    return ", ".join(f'<abbr title="{esc(network.sources.get(k, ""))}">{esc(k)}</abbr>' for k in keys)


def _hours(h: float) -> str:
    return f"{h:.1f}&nbsp;h" if h < 48 else f"{days(h):.1f}&nbsp;d"


def _triple(d: Distribution, middle: str = "typical") -> str:
    m = d.mode_h if middle == "typical" else d.mean_h
    return f"min {_hours(d.min_h)} · {middle} {_hours(m)} · max {_hours(d.max_h)}"


def _kinds(node: Node) -> str:
    return ", ".join(KIND_STYLE[k][2] if k in KIND_STYLE else k for k in node.kinds)


def node_popup(network: Network, node: Node) -> str:
    """A node's kind, country, coordinates and facility figures, each with its sources."""
    rows = [
        f"<b>{esc(node.name)}</b> <small><code>{esc(node.id)}</code></small><br>{esc(_kinds(node))} · "
        f"{esc('/'.join(node.countries))}",
        f"<small>{node.lat:.4f}, {node.lon:.4f} ({_sources(network, node.sources.get('lat', ()))})</small>",
    ]
    f = node.facility
    if f is not None:
        items: list[tuple[str, str, str]] = []
        if f.servers:
            items.append(("servers", str(f.servers), "servers"))
        if f.process_h:
            items.append(("processing a train", _triple(f.process_h), "process_h"))
        if f.trains_per_day:
            items.append(("trains/day", f"{f.trains_per_day:g}", "trains_per_day"))
        if f.yard_capacity_trains:
            items.append(("yard", f"{f.yard_capacity_trains} trains", "yard_capacity_trains"))
        if f.vessels:
            items.append(("vessels", str(f.vessels), "vessels"))
        if f.vessel_capacity_wagons:
            items.append(("vessel capacity", f"{f.vessel_capacity_wagons} wagons", "vessel_capacity_wagons"))
        if f.vessel_capacity_teu:
            items.append(("vessel capacity", f"{f.vessel_capacity_teu} TEU", "vessel_capacity_teu"))
        if f.dispatch:
            items.append(("dispatch", esc(f.dispatch.replace("_", " ")), ""))
        if f.max_wait_h:
            items.append(("max wait", _hours(f.max_wait_h), "max_wait_h"))
        if f.sailings_per_week:
            items.append(("sailings/week", f"{f.sailings_per_week:g}", "sailings_per_week"))
        if f.hold_h is not None and f.hold_probability is not None:
            items.append(("administrative hold", f"{100 * f.hold_probability:.0f}% of trains", "hold_probability"))
            items.append(("held for", _triple(f.hold_h), "hold_h"))
        if f.observed_dwell_h:
            items.append(("observed stay, all traffic", _triple(f.observed_dwell_h), "observed_dwell_h"))
        table = "".join(
            f"<tr><td>{label}</td><td>{value}</td><td><small>{_sources(network, f.sources.get(key, ()))}"
            f"</small></td></tr>"
            for label, value, key in items
        )
        rows.append(f'<table class="corridors-facts">{table}</table>')
    return "<br>".join(rows)


def leg_popup(network: Network, leg: Leg, corridor_names: Sequence[str]) -> str:
    """A leg's ends, mode, gauge, distance, transit range, cost and CO2, with sources and note."""
    a, b = network.nodes[leg.from_id], network.nodes[leg.to_id]
    gauge = f"{leg.gauge_mm} mm" if leg.gauge_mm else "–"
    computed = " (computed from its geometry)" if leg.distance_computed else ""
    note = leg.notes.get("leg", "")
    return (
        f"<b>{esc(a.name)} – {esc(b.name)}</b> <small><code>{esc(leg.id)}</code></small><br>"
        f"{esc(leg.mode)} · gauge {esc(gauge)} · {leg.distance_km:,.0f}&nbsp;km{computed} "
        f"<small>({_sources(network, leg.sources.get('distance_km', ()))})</small><br>"
        f"transit {_triple(leg.transit_h, 'mean')} <small>({_sources(network, leg.sources.get('transit_h', ()))})"
        f"</small><br>"
        f"cost ≈ {leg.cost_usd_per_feu:,.0f} USD/FEU · CO2 ≈ {leg.co2_kg_per_teu:,.0f} kg/TEU<br>"
        + (f"<small>{esc(note)}</small><br>" if note else "")
        + f"<small>corridors: {esc(', '.join(corridor_names) or '–')}</small>"
    )


def _basemap() -> dict[str, Any]:
    """Natural Earth countries as GeoJSON: rings across 180° unwrapped, Antarctica left out. Lakes
    (Lake Van among them) and the Suez Canal are holes in their countries (data/basemap/README.md)."""
    features = []
    for country in countries():
        if country.name == "Antarctica":
            continue
        polygons = [[[[round(x, 2), round(y, 2)] for x, y in ring] for ring in poly] for poly in country.polygons]
        features.append(
            {
                "type": "Feature",
                "properties": {"name": country.name},
                "geometry": {"type": "MultiPolygon", "coordinates": polygons},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _legend_html(results: bool = False, closed: bool = False) -> str:
    """The legend's sections (two columns on a wide map, so it stays low)."""
    sections: list[list[str]] = []
    lines = ["<b>Legs</b>", "<small>colour: the corridor (its swatch in the layer list)</small>"]
    ink = "#444444"
    for label, style in (
        ("rail, 1435 mm", "solid"),
        ("rail, 1520 mm", "dashed"),
        ("ferry, sea", "dotted"),
        ("road", "dashed"),
    ):
        width = "2px" if label == "road" else "3px"
        lines.append(f'<span class="sw" style="border-top:{width} {style} {ink}"></span>{label}')
    lines.append(
        '<span class="sw" style="height:8px;background:linear-gradient(#332288 0 2px,#117733 2px 6px,#332288 6px)">'
        "</span>shared by corridors: stripes"
    )
    if closed:
        lines.append(
            f'<span class="sw" style="border-top:4px dashed {CLOSED}"></span>closed or banned '
            f'<span class="dot" style="border:3px solid {CLOSED};width:10px;height:10px;background:none"></span>'
        )
    sections.append(lines)
    lines = ["<b>Nodes</b>"]
    for colour, radius, label in KIND_STYLE.values():
        size = 2 * radius
        lines.append(f'<span class="dot" style="background:{colour};width:{size}px;height:{size}px"></span>{label}')
    sections.append(lines)
    if results:
        lines = ["<b>Results: mean stay at a node</b>"]
        lines.append(
            "<small>queue + waiting for a vessel, sailing or opening, or a hold: a circle under the node, "
            "larger with the stay and as you zoom in</small>"
        )
        for (hours, colour), stay in zip(WAIT_COLOURS, (1, 6, 24, 96, 200), strict=True):
            size = round(wait_radius_px(stay))
            lines.append(
                f'<span class="dot" style="background:{colour};width:{size}px;height:{size}px;border-color:#cb181d">'
                f"</span>{hours}"
            )
        lines.append(
            '<span class="sw" style="border-top:6px solid #5e3c99;opacity:.45"></span>traffic (layer, off at first): '
            "width grows with trains a week"
        )
        lines.append(
            '<span class="dot" style="background:#1f4e9c;width:8px;height:8px"></span>train moving '
            '<span class="dot" style="background:#c51b7d;width:8px;height:8px"></span>at a node'
        )
        sections.append(lines)
    sections[-1].append("<small>Countries and lakes: Natural Earth. Every figure names its source.</small>")
    return "".join(f'<div class="lg">{"<br>".join(lines)}</div>' for lines in sections)


CSS = f"""
.folium-map.leaflet-container {{ background: {SEA}; }}
.corridors-mapbox {{ position: relative; height: 600px; border: 1px solid #ccc; margin-bottom: 10px; }}
.corridors-mapbox .folium-map {{ position: absolute; top: 0; bottom: 0; left: 0; right: 0; }}
.corridors-legend-box {{ background: rgba(255,255,255,.94); border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
  font: 11px/1.35 sans-serif; }}
.corridors-legend {{ padding: 5px 9px; max-width: 250px; overflow-y: auto; }}
.corridors-legend .lg {{ break-inside: avoid; margin-bottom: 4px; }}
.corridors-wide .corridors-legend[open] {{ columns: 2 215px; column-gap: 14px; max-width: 470px; }}
.corridors-legend[open] summary {{ column-span: all; }}
.corridors-chooser .corridors-zoom-in {{ font-weight: bold; background: #e8eef8; }}
.corridors-chooser button {{ display: block; width: 100%; text-align: left; margin: 5px 0 0; padding: 7px 8px;
  font: 12px sans-serif; background: #f4f4f4; border: 1px solid #ccc; border-radius: 3px; cursor: pointer; }}
.corridors-legend summary {{ cursor: pointer; font-weight: bold; padding: 3px 0; }}
.corridors-legend .sw {{ display: inline-block; width: 28px; margin: 0 6px 3px 0; vertical-align: middle; }}
.corridors-legend .dot {{ display: inline-block; border-radius: 50%; margin: 0 6px 0 0; vertical-align: middle;
  border: 1px solid #333; }}
.corridors-swatch {{ display: inline-block; width: 18px; height: 5px; margin: 0 5px 2px 1px; vertical-align: middle;
  border-radius: 1px; }}
.corridors-place {{ font: 600 11px/16px sans-serif; color: #1a1a1a; white-space: nowrap; pointer-events: none;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; }}
table.corridors-facts td {{ padding: 1px 6px 1px 0; vertical-align: top; }}
.leaflet-popup-content {{ overflow-wrap: break-word; }}
.leaflet-control-layers-expanded {{ font: 12px/1.4 sans-serif; }}
.leaflet-control-layers-list {{ overflow-y: auto; }}
.leaflet-interactive:focus {{ outline: none; }}
"""
#: The countries' style (land) and the lakes' (water), for the page's script.
BASEMAP_STYLE = {"fillColor": LAND, "color": "#b9b4a8", "weight": 0.6, "fillOpacity": 1}
WATER_STYLE = {"fillColor": SEA, "color": SEA, "weight": 0, "fillOpacity": 1}
#: Which nodes get a place name, and in which order they claim room (endpoints first).
LABEL_RANK = {"endpoint": 0, "gauge_change": 1, "port": 2, "ferry_terminal": 2, "border": 3}


def _labels(network: Network, names: Sequence[str], shown: set[str]) -> list[list[Any]]:
    """[lat, lon, name] of the main nodes drawn (corridor ends, gauge changes, ports, ferry terminals,
    borders), most important first: the page shows each where it collides with none before it."""
    ends = {n for name in names for n in (network.corridors[name].node_ids[0], network.corridors[name].node_ids[-1])}
    uses = {n: sum(n in network.corridors[name].node_ids for name in names) for n in shown}
    ranked = []
    for node_id in shown:
        node = network.nodes[node_id]
        ranks = [LABEL_RANK[k] for k in node.kinds if k in LABEL_RANK] + ([0] if node_id in ends else [])
        if ranks:
            ranked.append((min(ranks), -uses[node_id], node.name, node))
    ranked.sort(key=lambda r: r[:3])
    return [[round(node.lat, 4), round(node.lon, 4), _short(node.name)] for *_, node in ranked]


def _short(name: str) -> str:
    """A place name for the map: the name without what follows its first bracket or comma."""
    return name.split(" (")[0].split(", ")[0].strip() or name


def build_network_map(
    network: Network,
    corridors: Sequence[str] | None = None,
    *,
    results: Results | None = None,
    window_d: float = WINDOW_D,
    closed: Mapping[str, str] | None = None,
    legend_open: bool | None = True,
) -> folium.Map:
    """A folium map of the network: one layer per corridor (all when ``corridors`` is None).

    With ``results`` (from `corridors simulate`): the stay at nodes, traffic on legs, and trains
    moving over the first ``window_d`` days of one replication, for the corridors drawn.
    ``closed`` maps node and leg ids to what closes or bans them (a scenario's closures), drawn
    in their own layer. ``legend_open`` False starts the legend folded; None: folded inside a frame
    (a report's), open otherwise. On a narrow map (a phone's) the legend and the layer list start
    folded whatever it says.
    """
    names = list(corridors) if corridors else list(network.corridors)
    for name in names:
        network.corridor(name)  # an InputError for an unknown name
    m = folium.Map(tiles=None, location=[42, 60], zoom_start=3, attributionControl=False)
    root = cast(Any, m.get_root())
    title = "corridors: " + (f"results of {results.summary.scenario}, " if results else "") + ", ".join(names)
    root.header.add_child(Raw(f"<title>{esc(title)}</title>"), name="corridors_title")
    root.header.add_child(Raw(f"<style>{CSS}</style>"), name="corridors_css")
    root.header.add_child(Raw(static_script("ui.js")), name="corridors_ui_js")
    root.header.add_child(DataBlock("corridors-basemap", _basemap()), name="corridors_basemap")
    folium.map.CustomPane("basemap", z_index=350).add_to(m)
    folium.map.CustomPane("nodes", z_index=450).add_to(m)  # markers stay above the lines, whatever is re-ticked
    folium.map.CustomPane("labels", z_index=455).add_to(m)
    countries_layer = folium.FeatureGroup(name="Countries", show=True)  # the page's script draws them
    countries_layer.add_to(m)
    on_corridors: dict[str, list[str]] = {}
    for corridor in network.corridors.values():
        for leg_id in corridor.leg_ids:
            on_corridors.setdefault(leg_id, []).append(corridor.name)
    drawn_on = {leg_id: [n for n in names if leg_id in network.corridors[n].leg_ids] for leg_id in on_corridors}
    bounds: list[tuple[float, float]] = []  # the view opens on the land routes (sea lanes: when alone)
    sea_bounds: list[tuple[float, float]] = []
    for name in names:
        corridor = network.corridors[name]
        colour = corridor_colour(network, name)
        group = folium.FeatureGroup(
            name=f'<span class="corridors-swatch" style="background:{colour}"></span>'
            f'<span title="{esc(corridor.title)}">{esc(name)}</span>',
            show=True,
        )
        for leg_id in corridor.leg_ids:
            leg = network.legs[leg_id]
            sharing = drawn_on.get(leg_id, [name])
            stripes = len(sharing) - 1 - sharing.index(name)  # the first drawn is widest, under the others
            _draw_leg(network, leg, on_corridors.get(leg_id, []), name, colour, stripes).add_to(group)
            (bounds if leg.mode != "sea" else sea_bounds).extend(leg.path)
        group.add_to(m)
    shown = {n for name in names for n in network.corridors[name].node_ids}
    if not corridors:  # the whole network: legs on no corridor too (branches such as Kuryk and Batumi)
        others = [leg for leg in network.legs.values() if leg.id not in on_corridors]
        if others:
            group = folium.FeatureGroup(
                name=f'<span class="corridors-swatch" style="background:{OTHER_LEGS}"></span>other legs', show=True
            )
            for leg in others:
                _draw_leg(network, leg, [], "other", OTHER_LEGS, 0).add_to(group)
                shown |= {leg.from_id, leg.to_id}
            group.add_to(m)
    nodes_group = folium.FeatureGroup(name="Nodes", show=True)
    for node in network.nodes.values():
        if node.id not in shown:
            continue
        colour, radius, _ = node_style(node)
        popup = node_popup(network, node)
        if results is not None and stay_lines(results, node.id):
            popup += "<hr>" + stay_lines(results, node.id)
        marker = folium.CircleMarker(
            location=node.latlon,
            radius=radius,
            color="#ffffff" if not node.has_kind("gauge_change") else "#000000",
            weight=2 if node.has_kind("gauge_change") else 1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.95,
            popup=folium.Popup(popup, max_width=440),
            tooltip=f"{esc(node.name)} ({esc(node.id)})",
            class_name=f"corridors-node node-{esc(node.id)}",
        )
        marker.options["pane"] = "nodes"  # folium does not pass `pane` on for vector markers
        marker.add_to(nodes_group)
    nodes_group.add_to(m)
    places = folium.FeatureGroup(name="Place names", show=True)  # the page's script fills it
    places.add_to(m)
    labels_id = f"corridors-labels-{m.get_name()}"
    root.html.add_child(DataBlock(labels_id, _labels(network, names, shown)), name=labels_id)
    if results is not None:
        legs_drawn = {leg_id for name in names for leg_id in network.corridors[name].leg_ids}
        add_results(m, network, results, nodes=shown, legs=legs_drawn, window_d=window_d, node_popup=node_popup)
    if closed:
        _draw_closed(m, network, closed)
    legend_id = f"corridors-legend-{m.get_name()}"
    Legend(_legend_html(results is not None, bool(closed)), element_id=legend_id, open_=legend_open).add_to(m)
    Script(f"L.control.scale({{imperial: false, maxWidth: 160}}).addTo({m.get_name()});").add_to(m)
    layer_control = folium.LayerControl(collapsed=True)
    layer_control.add_to(m)
    bounds = bounds or sea_bounds
    view = None
    if bounds:
        lats = [p[0] for p in bounds]
        lons = [p[1] for p in bounds]
        view = [[min(lats), min(lons)], [max(lats), max(lons)]]
    config = {
        "legend": legend_id,
        "legendOpen": legend_open,
        "basemap": "corridors-basemap",
        "basemapStyle": BASEMAP_STYLE,
        "waterStyle": WATER_STYLE,
        "labels": labels_id,
        "bounds": view,  # the page fits the view at once (folium's fit_bounds animates after load)
    }
    Script(
        f"corridorsMap({m.get_name()}, {layer_control.get_name()}, {countries_layer.get_name()}, "
        f"{places.get_name()}, {json_for_script(config)});"
    ).add_to(m)
    return m


def _draw_closed(m: folium.Map, network: Network, closed: Mapping[str, str]) -> None:
    """Closed or banned nodes (a ring) and legs (a dashed line over them), with what closes them."""
    group = folium.FeatureGroup(name="Closures and bans", show=True)
    for ident, why in closed.items():
        if ident in network.legs:
            leg = network.legs[ident]
            folium.PolyLine(
                [list(p) for p in leg.path],
                color=CLOSED,
                weight=6,
                opacity=0.85,
                dash_array="8 8",
                tooltip=f"{esc(ident)}: {esc(why)}",
                class_name=f"corridors-closed closed-{esc(ident)}",
            ).add_to(group)
        elif ident in network.nodes:
            ring = folium.CircleMarker(
                location=network.nodes[ident].latlon,
                radius=13,
                color=CLOSED,
                weight=3,
                fill=False,
                tooltip=f"{esc(network.nodes[ident].name)} ({esc(ident)}): {esc(why)}",
                class_name=f"corridors-closed closed-{esc(ident)}",
            )
            ring.options["pane"] = "nodes"
            ring.add_to(group)
    group.add_to(m)


def _draw_leg(
    network: Network, leg: Leg, corridor_names: list[str], group: str, colour: str, stripes: int
) -> folium.PolyLine:
    """A leg in its corridor's colour, its pattern by mode and gauge; ``stripes``: how many corridors
    drawn after this one share it (this line is that much wider, so theirs show on top of it)."""
    dash = GAUGE_DASH.get(leg.gauge_mm or 0, "10 6") if leg.mode == "rail" else MODE_DASH.get(leg.mode)
    base = 3.5 if leg.mode == "rail" else 3.0
    return folium.PolyLine(
        locations=[list(p) for p in leg.path],
        color=colour,
        weight=base + STRIPE_PX * stripes,
        opacity=0.95,
        dash_array=dash,
        popup=folium.Popup(leg_popup(network, leg, corridor_names), max_width=440),
        tooltip=f"{esc(group)} · {esc(leg.id)}: {esc(network.nodes[leg.from_id].name)} – "
        f"{esc(network.nodes[leg.to_id].name)} ({leg.distance_km:,.0f} km)",
        class_name=f"corridors-leg corridor-{esc(group)} leg-{esc(leg.id)}",
    )
