"""The network commands: check, nodes, list, show, route, map and export."""

from __future__ import annotations

import argparse

from corridors.cli.output import duration, emit, print_table, say
from corridors.errors import InputError
from corridors.export import check_output_file, network_geojson, write_json_atomic, write_text_atomic
from corridors.loader import load_network
from corridors.model import NODE_KINDS
from corridors.routing import DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY, WEIGHTS, route
from corridors.schema import ESTIMATE
from corridors.summary import PathSummary, node_dict, summarize_corridor, summarize_path
from corridors.units import days


def check(args: argparse.Namespace) -> int:
    if args.path and args.network:
        raise InputError("give the network folder as PATH or as --network, not both")
    network = load_network(args.path or args.network)
    counts = network.provenance_counts()  # each value once, where its file writes it
    straight = sorted(leg.id for leg in network.legs.values() if len(leg.path) == 2)
    if args.json:
        emit(
            {
                "ok": True,
                "path": str(network.root),
                "nodes": len(network.nodes),
                "legs": len(network.legs),
                "corridors": len(network.corridors),
                "sources": len(network.sources),
                "values": {"total": sum(counts.values()), **counts},
                # kept from before the three classes: a value citing any published source, ESTIMATE only
                "sourced_values": counts["sourced"] + counts["partly_sourced"],
                "estimated_values": counts["estimate"],
                "straight_legs": straight,
            }
        )
        return 0
    say(f"ok: {network.root}")
    print(
        f"  {len(network.nodes)} nodes, {len(network.legs)} legs, {len(network.corridors)} corridors, "
        f"{len(network.sources)} sources"
    )
    print(f"  values, each counted once where it is written: {sum(counts.values())}")
    print(f"    sourced (published sources only): {counts['sourced']}")
    print(f"    partly sourced (a published source and {ESTIMATE}): {counts['partly_sourced']}")
    print(f"    estimate ({ESTIMATE} only): {counts['estimate']}")
    print(
        f"  legs drawn along their geometry: {len(network.legs) - len(straight)}; as straight lines: {len(straight)}"
        + (f" ({', '.join(straight)})" if straight else "")
    )
    return 0


def nodes(args: argparse.Namespace) -> int:
    network = load_network(args.network)
    country = args.country.strip().upper() if args.country else None
    kind = args.kind.strip().lower() if args.kind else None
    countries = sorted({c for n in network.nodes.values() for c in n.countries})
    if country is not None and country not in countries:
        raise InputError(
            f"--country {args.country!r}: no node is in this country; the nodes are in: {', '.join(countries)}"
        )
    kinds = [k for k in NODE_KINDS if any(n.has_kind(k) for n in network.nodes.values())]
    if kind is not None and kind not in kinds:
        raise InputError(
            f"--kind {args.kind!r}: "
            + ("no node is of this kind" if kind in NODE_KINDS else "not a node kind")
            + f"; the kinds are: {', '.join(kinds)}"
        )
    found = [
        n
        for n in network.nodes.values()
        if (country is None or country in n.countries) and (kind is None or n.has_kind(kind))
    ]
    if args.json:
        emit({"nodes": [node_dict(n) for n in found]})
        return 0
    table = [["id", "country", "kinds", "name"]]
    table += [[n.id, "/".join(n.countries), "+".join(n.kinds), n.name] for n in found]
    print_table(table, right=set())
    return 0


def corridors_list(args: argparse.Namespace) -> int:
    network = load_network(args.network)
    summaries = [(c, summarize_corridor(network, c)) for c in network.corridors.values()]
    rows = []
    for corridor, s in summaries:
        rows.append(
            {
                "name": corridor.name,
                "title": corridor.title,
                "from": corridor.node_ids[0],
                "to": corridor.node_ids[-1],
                "legs": len(corridor.leg_ids),
                "total_distance_km": round(s.total_distance_km, 1),
                "transit_d": {k: round(days(v), 2) for k, v in s.total.to_dict().items()},
            }
        )
    if args.json:
        emit({"corridors": rows})
        return 0
    table = [["name", "from", "to", "legs", "distance", "expected", "range"]]
    for corridor, total in summaries:
        t = total.total
        table.append(
            [
                corridor.name,
                corridor.node_ids[0],
                corridor.node_ids[-1],
                str(len(corridor.leg_ids)),
                f"{total.total_distance_km:,.0f} km",
                f"{days(t.mean_h):.1f} d",
                f"{days(t.min_h):.1f}–{days(t.max_h):.1f} d",
            ]
        )
    print_table(table, right={3, 4, 5, 6})
    print("\nExpected = leg transit means plus mean processing at nodes, without queueing.")
    return 0


def show(args: argparse.Namespace) -> int:
    network = load_network(args.network)
    corridor = network.corridor(args.name)
    s = summarize_corridor(network, corridor)
    if args.json:
        emit({"name": corridor.name, "title": corridor.title, **s.to_dict()})
        return 0
    say(f"{corridor.name}: {corridor.title}")
    _print_path(s)
    return 0


def routes(args: argparse.Namespace) -> int:
    network = load_network(args.network)
    avoid = [t.strip() for item in args.avoid for t in item.split(",") if t.strip()]
    found = route(network, args.origin, args.destination, by=args.by, avoid=avoid, k=args.k)
    if not found:
        what = f" avoiding {', '.join(avoid)}" if avoid else ""
        raise InputError(f"no route from {args.origin} to {args.destination}{what}")
    summaries = [summarize_path(network, r.node_ids, r.leg_ids) for r in found]
    if args.json:
        best, *others = [
            {"rank": i + 1, "by": r.by, "weight": r.weight, "weight_unit": WEIGHTS[r.by], **s.to_dict()}
            for i, (r, s) in enumerate(zip(found, summaries, strict=True))
        ]
        emit({"from": args.origin, "to": args.destination, "avoid": avoid, **best, "alternatives": others})
        return 0
    for i, (r, s) in enumerate(zip(found, summaries, strict=True)):
        if i:
            print()
        unit = WEIGHTS[r.by]
        weight = f"{days(r.weight):.1f} d" if r.by == "time" else f"{r.weight:,.0f} {unit}"
        if r.by == "generalised":
            weight += f" at {DEFAULT_VALUE_OF_TIME_USD_PER_FEU_DAY:g} USD/FEU a day"
        say(f"Route {i + 1} of {len(found)} by {r.by} ({weight}): " + " – ".join(r.node_ids))
        _print_path(s)
    return 0


def network_map(args: argparse.Namespace) -> int:
    from maps.network_map import build_network_map
    from maps.offline import render_offline

    if args.all and args.names:
        raise InputError("give corridor names or --all, not both")
    network = load_network(args.network)
    results = None
    if args.results:
        from maps.results import load_results

        if not 0 < args.window_d <= 3660:
            raise InputError(f"--window-d {args.window_d}: must be between 0 and 3660 days")
        results = load_results(args.results, network)
    check_output_file(args.out, label="--out ")
    html = render_offline(build_network_map(network, args.names or None, results=results, window_d=args.window_d))
    path = write_text_atomic(args.out, html)
    if args.json:
        emit(
            {
                "written": str(path),
                "bytes": len(html.encode("utf-8")),
                "corridors": args.names or list(network.corridors),
            }
        )
    else:
        print(f"wrote {path} ({len(html.encode('utf-8')) / 1e6:.2f} MB): open it in a browser, no network needed")
    return 0


def export(args: argparse.Namespace) -> int:
    check_output_file(args.geojson, label="--geojson ")
    network = load_network(args.network)
    data = network_geojson(network)
    path = write_json_atomic(args.geojson, data)
    if args.json:
        emit({"written": str(path), "features": len(data["features"])})
    else:
        say(f"wrote {path}: {len(network.nodes)} nodes and {len(network.legs)} legs as GeoJSON")
    return 0


def _print_path(s: PathSummary) -> None:
    table = [["#", "from", "to", "mode", "gauge", "distance", "transit min–max", "expected"]]
    for i, step in enumerate(s.steps, start=1):
        leg = step.leg
        t = leg.transit_h
        computed = "*" if leg.distance_computed else ""
        span = f"{t.min_h:.1f}–{t.max_h:.1f} h" if t.max_h < 48 else f"{days(t.min_h):.1f}–{days(t.max_h):.1f} d"
        table.append(
            [
                str(i),
                step.from_id,
                step.to_id,
                leg.mode,
                f"{leg.gauge_mm}" if leg.gauge_mm else "–",
                f"{leg.distance_km:,.0f} km{computed}",
                span,
                duration(t.mean_h),
            ]
        )
    print_table(table, right={0, 5, 6, 7})
    stops = [f"{n.id} {duration(n.expected_process_h)}" for n in s.nodes[1:-1] if n.expected_process_h > 0]
    if any(step.leg.distance_computed for step in s.steps):
        print("  * distance computed from the leg's geometry × circuity factor")
    if s.gauge_breaks:
        say("Gauge breaks: " + "; ".join(f"{g.node_id} {g.from_gauge_mm}→{g.to_gauge_mm} mm" for g in s.gauge_breaks))
    else:
        print("Gauge breaks: none")
    if stops:
        say("Processing at nodes (mean, no queueing): " + ", ".join(stops))
    total = s.total
    say(
        f"Total: {s.total_distance_km:,.0f} km; moving {duration(s.moving.mean_h)}, "
        f"processing {duration(s.processing.mean_h)}; expected {days(total.mean_h):.1f} d "
        f"(range {days(total.min_h):.1f}–{days(total.max_h):.1f} d, no queueing)"
    )
    say(
        f"Countries: {' – '.join(s.countries)}; cost ≈ {s.cost_usd_per_feu:,.0f} USD/FEU; "
        f"CO2 ≈ {s.co2_kg_per_teu:,.0f} kg/TEU"
    )
