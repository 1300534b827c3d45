"""HTML reports people can read: report.html for a run, compare.html for what-ifs. Offline, inline SVG."""

from __future__ import annotations

import html
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import folium
import numpy as np

from corridors import Distribution, Network
from corridors.units import HOURS_PER_DAY, HOURS_PER_WEEK, days, hours, per_week
from maps.drives import drives_section
from maps.escape import esc
from maps.network_map import build_network_map
from maps.offline import MapFragment, map_page_head, render_fragment, render_offline
from maps.results import WINDOW_D, Results
from maps.style import page, scroll
from maps.svg import Style, ecdf, lines, service_colours, stacked_bars, time_distance
from maps.tables import table_html
from sim.engine import Replication
from sim.eventlog import EVENTS
from sim.kpis import overload_note, transit_d_per_replication
from sim.model import formation, sections
from sim.runner import RunResult
from sim.scenario import Scenario
from sim.sensitivity_file import SensitivityFile
from sim.summary import RunSummary
from sim.sweep import moved_services
from sim.tables import changed_services, compare_corridor_table, compare_table, kpi_table, sweep_table
from sim.whatif import main_mode

__all__ = ["compare_report", "results_from_run", "run_map", "run_report", "sweep_report"]


def results_from_run(result: RunResult) -> Results:
    """What a map needs from an in-memory run: its summary and the events of the first
    replication's trains that depart within the animation's window (the map draws no others)."""
    rep = result.replications[0]
    ev = rep.event_columns
    departs = ev.event == EVENTS.index("depart")
    early = np.zeros(len(ev.trains), dtype=bool)
    early[ev.train[departs & (ev.time_h <= hours(WINDOW_D))]] = True
    rows = np.flatnonzero(early[ev.train])
    trains, places, legs = ev.trains, ev.places, (*ev.legs, "")
    events = [
        (trains[j], places[p], legs[leg], EVENTS[k], t)
        for j, p, leg, k, t in zip(
            ev.train[rows].tolist(),
            ev.place[rows].tolist(),
            ev.leg[rows].tolist(),
            ev.event[rows].tolist(),
            ev.time_h[rows].tolist(),
            strict=True,
        )
    ]
    return Results(result.summary, events, result.summary.start)


def run_map(result: RunResult, corridors: Sequence[str] | None = None, *, embedded: bool | None = None) -> str:
    """The results map of a run as one offline HTML page, with the scenario's closures and bans.
    The legend starts folded when the page is shown in a frame (a report's), or as ``embedded`` says."""
    return render_offline(_results_map(result, corridors, legend_open=None if embedded is None else not embedded))


def _results_map(result: RunResult, corridors: Sequence[str] | None = None, *, legend_open: bool | None) -> folium.Map:
    return build_network_map(
        result.scenario.network,
        corridors,
        results=results_from_run(result),
        closed=closed_places(result),
        legend_open=legend_open,
    )


def _map_in_page(result: RunResult) -> MapFragment:
    """A run's results map for a page of several (its legend folded): one copy of the map library
    serves them all (``map_page_head``), rather than a whole page in a frame for each."""
    return render_fragment(_results_map(result, legend_open=False))


def _day(scenario: Scenario, hours: float) -> str:
    """The calendar day ``hours`` into a scenario, as ISO text (digits and dashes: safe in HTML)."""
    return scenario.date_at(hours).strftime("%Y-%m-%d")


def closed_places(result: RunResult) -> dict[str, str]:
    """Node and leg ids a scenario closes or bans, with when or why."""
    sc = result.scenario
    net = sc.network
    out: dict[str, list[str]] = defaultdict(list)

    for c in sc.closures:
        ident = c.node or c.leg
        if ident:
            out[ident].append(f"closed {_day(sc, c.start_h)} to {_day(sc, min(c.end_h, sc.horizon_h))}")
    banned = set(sc.banned_countries)
    for node in net.nodes.values():
        if node.id in sc.banned_nodes or banned & {node.country, *node.countries}:
            out[node.id].append("banned: no traffic through it")
    for leg in net.legs.values():
        ends = {*net.nodes[leg.from_id].countries, *net.nodes[leg.to_id].countries}
        through = banned & set(leg.countries) - ends
        into = banned & ends
        if through:
            out[leg.id].append(f"banned: runs through {', '.join(sorted(through))}")
        elif into:
            out[leg.id].append(f"banned: leads into {', '.join(sorted(into))}")
    return {k: "; ".join(v) for k, v in out.items()}


def _iframe(page: str, title: str) -> str:
    return f'<iframe title="{esc(title)}" srcdoc="{html.escape(page, quote=True)}"></iframe>'


def _fmt(value: Any, digits: int = 2, signed: bool = False) -> str:
    if value is None:
        return "–"
    value = round(value, digits) + 0.0  # no "-0.00"
    return f"{value:+,.{digits}f}" if signed else f"{value:,.{digits}f}"


def _transits(result: RunResult) -> dict[str, list[float]]:
    """Per service, the transit days of its arrived trains over every replication."""
    out = {}
    for service in result.scenario.services:
        per_rep = transit_d_per_replication(result.tallies, {service.name})
        if any(per_rep):
            out[service.name] = [d for values in per_rep for d in values]
    return out


def _profiles(result: RunResult, names: Sequence[str]) -> dict[str, list[tuple[float, float, str]]]:
    """Per service: (cumulative km, mean days since departure, node) at every arrival and departure."""
    net = result.scenario.network
    services = {s.name: s for s in result.scenario.services}
    times = _days_since_departure(result.replications[0], names)
    out: dict[str, list[tuple[float, float, str]]] = {}
    for name in names:
        service = services[name]
        km, points = 0.0, [(0.0, 0.0, "")]
        for i, node_id in enumerate(service.node_ids[1:], start=1):
            km += net.legs[service.leg_ids[i - 1]].distance_km
            arrive = times.get((name, node_id, "arrive"))
            if not arrive:
                break
            points.append((km, statistics.fmean(arrive), node_id))
            leave = times.get((name, node_id, "leave"))
            if leave:
                points.append((km, statistics.fmean(leave), ""))
        out[name] = points
    return out


def _days_since_departure(rep: Replication, names: Sequence[str]) -> dict[tuple[str, str, str], list[float]]:
    """(service, place, "arrive" or "leave") -> the days since departure of each such event of
    the services ``names``, in the order of the event log."""
    ev = rep.event_columns
    departed = np.full(len(ev.trains), np.nan)
    departs = ev.event == EVENTS.index("depart")
    departed[ev.train[departs]] = ev.time_h[departs]
    codes = [i for i, n in enumerate(ev.services) if n in names]
    kinds = [EVENTS.index("arrive"), EVENTS.index("leave")]
    rows = np.flatnonzero(np.isin(ev.service, codes) & np.isin(ev.event, kinds) & ~np.isnan(departed[ev.train]))
    key = (ev.service[rows].astype(np.int64) * len(ev.places) + ev.place[rows]) * len(EVENTS) + ev.event[rows]
    rows, key = rows[np.argsort(key, kind="stable")], np.sort(key, kind="stable")
    since_d = (ev.time_h[rows] - departed[ev.train[rows]]) / HOURS_PER_DAY
    starts = np.flatnonzero(np.diff(key)) + 1
    out: dict[tuple[str, str, str], list[float]] = {}
    for group, values in zip(np.split(rows, starts), np.split(since_d, starts), strict=True):
        if len(group):
            r = group[0]
            out[(ev.services[ev.service[r]], ev.places[ev.place[r]], EVENTS[ev.event[r]])] = values.tolist()
    return out


def _top_nodes(by_node_h: dict[str, float], top: int = 6) -> dict[str, float]:
    items = sorted(by_node_h.items(), key=lambda kv: -kv[1])
    out = {k: days(v) for k, v in items[:top]}
    rest = days(sum(v for _, v in items[top:]))
    if rest > 0:
        out["other nodes"] = rest
    return out


def _bottlenecks(summary: RunSummary, top: int = 12) -> str:
    nodes = sorted(summary.nodes.items(), key=lambda kv: -kv[1].stay_h_mean)[:top]
    rows = [
        "<tr><th>node</th><th>country</th><th>mean stay h</th><th>queue mean h</th><th>queue P95 h</th>"
        "<th>after service mean h</th><th>utilisation</th><th>largest queue</th></tr>"
    ]
    for node_id, n in nodes:
        wait, hold = n.wait_h, n.hold_h
        util = f"{100 * n.utilisation:.0f}%" if n.utilisation is not None else "–"
        rows.append(
            f"<tr><td>{esc(node_id)}</td><td>{esc(n.country)}</td><td>{n.stay_h_mean:.1f}</td>"
            f"<td>{_fmt(wait.mean if wait else None, 1)}</td><td>{_fmt(wait.p95 if wait else None, 1)}</td>"
            f"<td>{_fmt(hold.mean if hold else None, 1)}</td><td>{util}</td><td>{n.largest_queue}</td></tr>"
        )
    return (
        scroll("<table>" + "".join(rows) + "</table>")
        + "<p class='note'>After service: waiting for a vessel, a sailing, an opening or a yard "
        "track, or held (permits, inspections).</p>"
    )


def _span_d(d: Distribution) -> str:
    """A duration's range in days, with its most likely value: ``3–28 d (most likely 14 d)``."""
    low, mode, high = (f"{days(h):.3g}" for h in (d.min_h, d.mode_h, d.max_h))
    if low == high:
        return f"{low} d"
    return f"{low}–{high} d (most likely {mode} d)"


def _rolling_stock(result: RunResult) -> str:
    """Per corridor: empty wagon-km and runs a week, the waits for wagons and locomotives, the
    lowest stock of the pools its trains take wagons from; then every pool; then where trains
    are re-formed into parts."""
    rolling, sc = result.summary.rolling_stock, result.scenario
    formed = _formation(result)
    if not rolling.pools:
        return "<p class='note'>No wagon or locomotive pools in this scenario: trains never wait for them.</p>" + formed
    pools_of: dict[str, set[str]] = defaultdict(set)
    for s in sc.services:
        for first, _, gauge in sections(sc.network, s.leg_ids):
            key = f"{s.node_ids[first]}/{gauge}"
            if s.corridor and key in rolling.pools:
                pools_of[s.corridor].add(key)
    rows = [
        "<tr><th>corridor</th><th>empty wagon-km a week</th><th>empty runs a week</th>"
        "<th>wait for wagons, h a train</th><th>wait for locomotives, h a train</th>"
        "<th class='l'>lowest stock of its wagon pools (of start)</th></tr>"
    ]
    for name, flow in rolling.corridors.items():
        lows = ", ".join(
            f"{esc(k)} {rolling.pools[k].lowest_wagons:,} of {rolling.pools[k].start_wagons:,}"
            for k in sorted(pools_of[name])
        )
        rows.append(
            f"<tr><td>{esc(name)}</td><td>{flow.empty_wagon_km_per_week:,.0f}</td><td>{flow.empty_runs_per_week:.1f}</td>"
            f"<td>{flow.wagon_wait_h_per_train:.1f}</td><td>{flow.locomotive_wait_h_per_train:.1f}</td>"
            f"<td class='l'>{lows}</td></tr>"
        )
    pool_rows = [
        "<tr><th>pool</th><th class='l'>holds</th><th>at the start</th><th>lowest (any replication)</th>"
        "<th>lowest (mean)</th><th>trains that waited, a replication</th></tr>"
    ]
    for key, pool in rolling.pools.items():
        low = "bad" if pool.trains_waited_per_replication else ""
        pool_rows.append(
            f"<tr><td>{esc(key)}</td><td class='l'>{esc(pool.unit)}</td><td>{pool.start_wagons:,}</td>"
            f"<td class='{low}'>{pool.lowest_wagons:,}</td><td>{pool.lowest_wagons_mean:,.1f}</td>"
            f"<td class='{low}'>{pool.trains_waited_per_replication:,.1f}</td></tr>"
        )
    return (
        scroll("<table>" + "".join(rows) + "</table>")
        + scroll("<table>" + "".join(pool_rows) + "</table>")
        + "<p class='note'>Trains take platform wagons from the pool of the gauge where a section of that gauge "
        "starts and give them back where it ends: to a pool there that is short, or back empty to their own "
        "(the empty runs). A pool below a train's wagons holds the train until enough come back. A locomotive "
        "pool hauls each part of a train from its node to the next pool, gauge change, ferry or destination; "
        "the locomotives run back light.</p>" + formed
    )


def _formation(result: RunResult) -> str:
    """Where the scenario's train-length limits split a service's trains ("" without any)."""
    sc = result.scenario
    rows = []
    for s in sc.services:
        for first, last, gauge, parts in formation(sc.network, s.leg_ids, s.wagons, sc.train_limits):
            if parts > 1:
                rows.append(
                    f"<tr><td>{esc(s.name)}</td><td class='l'>{esc(s.node_ids[first])} to {esc(s.node_ids[last])}</td>"
                    f"<td>{gauge}</td><td>{s.wagons}</td><td>{parts}</td></tr>"
                )
    if not rows:
        return ""
    return (
        "<h3>Train formation</h3>"
        + scroll(
            "<table><tr><th>service</th><th class='l'>section</th><th>gauge, mm</th><th>wagons</th>"
            "<th>runs as trains</th></tr>" + "".join(rows) + "</table>"
        )
        + "<p class='note'>Where the lines of a section take "
        "shorter trains than the service runs (<code>[[train_limits]]</code>), its trains are re-formed at the "
        "section's start into parts; each part needs its own locomotive where a pool hauls it and its own path "
        "where a line is gated.</p>"
    )


def _compare_rolling_stock(rolling: dict[str, Any]) -> str:
    """A what-if's wagon pools beside the base's: empty wagon-km a week, and per pool its lowest
    stock and the trains that waited for its wagons ("" without pools)."""
    base, whatif = rolling.get("base") or {}, rolling.get("whatif") or {}
    if not base.get("pools") and not whatif.get("pools"):
        return ""

    def km(side: dict[str, Any]) -> float:
        return sum(float(f["empty_wagon_km_per_week"]) for f in side.get("services", {}).values())

    rows = [
        "<tr><th>pool</th><th>at the start</th><th>lowest, base</th><th>lowest, what-if</th>"
        "<th>trains that waited a replication, what-if</th></tr>"
    ]
    for key in dict.fromkeys((*base.get("pools", {}), *whatif.get("pools", {}))):
        b, x = base.get("pools", {}).get(key), whatif.get("pools", {}).get(key)
        start = int((x or b or {}).get("start_wagons", 0))
        low_b = f"{int(b['lowest_wagons']):,}" if b else "–"
        low_x = f"{int(x['lowest_wagons']):,}" if x else "–"
        waited = float(x["trains_waited_per_replication"]) if x else 0.0
        rows.append(
            f"<tr><td>{esc(key)}</td><td>{start:,}</td><td>{low_b}</td><td>{low_x}</td>"
            f"<td class='{'bad' if waited else ''}'>{waited:,.1f}</td></tr>"
        )
    return (
        f"<h3>Rolling stock</h3><p>Empty wagon-km a week: {km(base):,.0f} in the base, {km(whatif):,.0f} in the "
        "what-if.</p>" + scroll("<table>" + "".join(rows) + "</table>")
    )


def _shared_facilities(result: RunResult) -> str:
    """Per place on the services' routes that other freight uses too (``background_per_day``):
    that freight as the data give it and as the first replication carried it, and the corridors
    and services that share the place with it."""
    sc = result.scenario
    net: Network = sc.network
    sharing: dict[str, list[str]] = defaultdict(list)
    for s in sc.services:
        for node_id in s.node_ids:
            f = net.nodes[node_id].facility
            if f is not None and f.background_per_day:
                sharing[node_id].append(s.corridor or s.name)
    if not sharing:
        return "<p class='note'>No other freight is modelled at the places these services use.</p>"
    rep = result.replications[0] if result.replications else None
    weeks = rep.horizon_h / HOURS_PER_WEEK if rep is not None else 0.0
    rows = [
        "<tr><th>place</th><th>other freight a day (data)</th><th>carried a week (replication 1)</th>"
        "<th class='l'>shared with</th><th class='l'>sources</th></tr>"
    ]
    for node_id, users in sharing.items():
        f = net.nodes[node_id].facility
        assert f is not None and f.background_per_day
        unit = ("wagons" if f.vessel_capacity_wagons else "TEU") if f.dispatch else "trains"
        block = f" in blocks of {f.background_block:g}" if f.background_block else ""
        carried = rep.background.get(node_id) if rep is not None else None
        shown = f"{carried / weeks:,.1f} {unit}" if carried is not None and weeks else "–"
        backing = dict.fromkeys((*f.sources.get("background_per_day", ()), *f.sources.get("background_block", ())))
        rate = f"{f.background_per_day:g} {unit[:-1] if f.background_per_day == 1 else unit}"
        rows.append(
            f"<tr><td>{esc(node_id)}</td><td>{rate}{block}</td><td>{shown}</td>"
            f"<td class='l note'>{esc(', '.join(dict.fromkeys(users)))}</td>"
            f"<td class='l note'>{esc(', '.join(backing))}</td></tr>"
        )
    return (
        scroll("<table>" + "".join(rows) + "</table>")
        + "<p class='note'>Other freight arrives at random (blocks on a stream "
        "of its own) and takes the same vessels or servers as the trains modelled here: at a ferry it fills the "
        "vessels beside them, at servers it takes a server for a processing time. Its units are the "
        "facility's: a vessel's wagons (or TEU), or trains at servers.</p>"
    )


def _assumptions(result: RunResult) -> str:
    sc = result.scenario
    net: Network = sc.network
    parts = [f"<p>{esc(sc.description)}</p>" if sc.description else ""]
    rows = [
        "<tr><th>service</th><th class='l'>route</th><th>trains/wk</th><th>wagons</th><th>TEU</th>"
        "<th class='l'>sources</th></tr>"
    ]
    keys: set[str] = set()
    for s in sc.services:
        sources = sorted({k for ks in s.sources.values() for k in ks})
        keys.update(sources)
        route = s.corridor or (" – ".join(s.node_ids[:1] + s.node_ids[-1:]))
        moved = f" <span class='bad'>rerouted: {esc(s.reroute_reason)}</span>" if s.rerouted_from else ""
        rate = per_week(len(s.departures_h), max(s.window_h[1] - s.window_h[0], 1))
        rows.append(
            f"<tr><td>{esc(s.name)}</td><td class='note'>{esc(route)}{moved}</td><td>{rate:.1f}</td>"
            f"<td>{s.wagons}</td><td>{s.teu:g}</td><td class='note'>{esc(', '.join(sources))}</td></tr>"
        )
    parts.append(scroll("<table>" + "".join(rows) + "</table>"))

    changes = [
        f"closed {esc(c.node or c.leg or '')}: {_day(sc, c.start_h)} to {_day(sc, c.end_h)}" for c in sc.closures
    ]
    changes += [
        f"capacity × {c.factor:g} at {esc(c.node)}: {_day(sc, c.start_h)} to {_day(sc, c.end_h)}"
        for c in sc.capacity_cuts
    ]
    changes += [
        f"storms at {esc(w.node)} in months {', '.join(map(str, w.months))}: "
        + (
            f"closed {100 * w.closed_share:.0f}% of the time"
            if w.closed_share is not None
            else f"{w.stoppages_per_month or 0:g} a month"
        )
        + f", {_span_d(w.stoppage_h)} each"
        for w in sc.weather
    ]
    for node_id in dict.fromkeys(n for s in sc.services for n in s.node_ids[1:-1]):
        f = net.nodes[node_id].facility
        if f is not None and f.hold_h is not None and f.hold_probability:
            backing = dict.fromkeys((*f.sources.get("hold_probability", ()), *f.sources.get("hold_h", ())))
            changes.append(
                f"administrative hold at {esc(node_id)}: {100 * f.hold_probability:.0f}% of trains, held "
                f"{_span_d(f.hold_h)} ({esc(', '.join(backing))})"
            )
    changes += [f"wagon pool {esc(p.key)}: {p.wagons:,} wagons" for p in sc.wagon_pools]
    changes += [f"override: {esc(o)}" for o in sc.overrides]
    if sc.banned_countries or sc.banned_nodes:
        changes.append("no traffic through " + esc(", ".join((*sc.banned_countries, *sc.banned_nodes))))
    if changes:
        parts.append("<ul>" + "".join(f"<li>{c}</li>" for c in changes) + "</ul>")
    cited = sorted(keys)
    parts.append(
        "<p class='note'>Sources of the services' figures: "
        + "; ".join(f"<b>{esc(k)}</b>: {esc(net.sources.get(k, ''))}" for k in cited)
        + ". Every figure of the network names "
        "its source in the data files, or is marked ESTIMATE.</p>"
    )
    return "".join(parts)


def _service_styles(names: Iterable[str]) -> dict[str, Style]:
    """Each service's style for every chart of a page: its own colour, solid."""
    return {name: Style(colour, service=name) for name, colour in service_colours(names).items()}


def _pair_styles(names: Iterable[str]) -> dict[str, Style]:
    """A comparison's styles: "NAME (base)" solid and "NAME (what-if)" dashed, in the service's colour."""
    out = {}
    for name, colour in service_colours(names).items():
        out[f"{name} (base)"] = Style(colour, service=name)
        out[f"{name} (what-if)"] = Style(colour, dashed=True, service=name)
    return out


def _left_out(result: RunResult, shown: Mapping[str, object], *, rail_only: bool = False) -> str:
    """A note naming the services a chart leaves out, and why ("" when it shows them all)."""
    sc = result.scenario
    why: dict[str, list[str]] = defaultdict(list)
    for s in sc.services:
        if s.name in shown:
            continue
        if not s.corridor:
            reason = "routed from an origin to a destination, not on a named corridor"
        elif rail_only and main_mode(sc.network, s.leg_ids) == "sea":
            reason = "by sea (the chart is of rail services)"
        else:
            reason = "no train arrived"
        why[reason].append(s.name)
    if not why:
        return ""
    said = "; ".join(f"{esc(', '.join(names))}: {esc(reason)}" for reason, names in why.items())
    return f"<p class='note left-out'>Not drawn: {said}. Their figures are in the tables.</p>"


def run_report(result: RunResult, map_html: str | None = None, *, sensitivity: SensitivityFile | None = None) -> str:
    """report.html for one run; ``map_html``: its results map, if already rendered (``run_map``);
    ``sensitivity``: a sensitivity run's findings, for a "What drives this answer" section."""
    summary, sc = result.summary, result.scenario
    named = [s.name for s in sc.services if s.corridor]
    rail = [s.name for s in sc.services if s.corridor and main_mode(sc.network, s.leg_ids) != "sea"]
    styles = _service_styles(s.name for s in sc.services)  # one colour per service, in every chart
    transits = {k: v for k, v in _transits(result).items() if k in named}
    body = [
        f"<h1>corridors: {esc(sc.name)}</h1>",
        f"<p>Services from {esc(summary.start_date)} for {days(sc.end_h):.0f} days, {summary.replications} "
        f"replications, seed {summary.seed}. Transit statistics cover trains that arrived.</p>",
        "<h2>Key figures</h2>",
        *([f"<p class='bad'><b>{esc(w)}</b></p>"] if (w := overload_note(summary)) else []),
        table_html(kpi_table(summary, full=True)),
        "<p class='note'>On time: arrived within the service's promised transit (<code>promised_transit_d</code> "
        "in the scenario).</p>",
        drives_section(sensitivity, sc, summary) if sensitivity is not None else "",
        "<h2>Transit-time distributions</h2>",
        ecdf(transits, x_label="transit, days", title="Share of trains arriving within x days", styles=styles),
        _left_out(result, transits),
        "<h2>Time against distance</h2><p class='note'>Cumulative distance against cumulative time for the "
        "first replication's rail services (means); the steep steps are stops at borders, gauge changes, ports "
        "and ferries.</p>",
        time_distance(profiles := _profiles(result, rail), title="Time-distance", styles=styles),
        _left_out(result, {k: v for k, v in profiles.items() if len(v) > 1}, rail_only=True),
        "<h2>Where the days went</h2>",
        "<h3>Days by country</h3>",
        stacked_bars(
            {
                name: {k: days(v) for k, v in row.by_country_h.items()}
                for name, row in summary.where_days_go.items()
                if name in named
            },
            unit="d",
            title="Days by country",
        ),
        "<h3>Days at nodes</h3>",
        stacked_bars(
            {
                name: _top_nodes(row.by_node_h)
                for name, row in summary.where_days_go.items()
                if name in named and row.by_node_h
            },
            unit="d",
            title="Days at nodes",
        ),
        "<p class='note'>The first chart splits each service's days by country (legs shared among the "
        "countries they touch, days at sea apart); the second shows the days spent at nodes (queue, service, "
        "waiting for a vessel or an opening, administrative holds), the largest named.</p>",
        "<h2>Bottlenecks</h2>",
        _bottlenecks(summary),
        "<h2>Rolling stock</h2>",
        _rolling_stock(result),
        "<h2>Shared with other freight</h2>",
        _shared_facilities(result),
        "<h2>Route map</h2>",
        _iframe(map_html if map_html is not None else run_map(result), "route map"),
        "<h2>Assumptions and sources</h2>",
        _assumptions(result),
    ]
    return page(f"corridors: {sc.name}", "".join(body))


def compare_report(
    report: dict[str, Any], runs: Sequence[RunResult], *, sensitivity: SensitivityFile | None = None
) -> str:
    """compare.html: what-ifs against the base, with the same random numbers; ``sensitivity``: a
    sensitivity run's findings, for a "What drives this answer" section."""
    base = runs[0]
    body = [
        f"<h1>corridors: what-ifs against {esc(report['base'])}</h1>",
        f"<p>{report['replications']} replications each, seed {report['seed']}, common random numbers: "
        "what a change does not touch stays exactly the same. Differences are what-if minus base, with a 95% "
        "confidence interval paired over replications.</p>",
    ]
    if sensitivity is not None:
        body.append(drives_section(sensitivity, base.scenario, base.summary, comparison=report))
    base_transits = _transits(base)
    names = [s.name for run in runs for s in run.scenario.services]
    styles = _pair_styles(names)  # a service's colour is the same in every chart of the page
    maps = [_map_in_page(base)]  # the base's map once, above the what-ifs: each what-if's map is compared with it
    body.append(
        f"<h2 id='base-map'>Route map of the base: {esc(base.scenario.name)}</h2>{maps[0].body}"
        "<p class='note'>Each what-if's own map is in its section below.</p>"
    )
    for w, run in zip(report["whatifs"], runs[1:], strict=True):
        body.append(f"<h2>{esc(w['name'])}</h2><p>{esc(w['description'])}</p>")
        changed = changed_services(w)
        body.append(table_html(compare_table(w)))
        body.append(
            "<p class='note'>Red or green: the 95% confidence interval of the difference leaves out zero. "
            "On time: arrived within the service's promised transit.</p>"
        )
        warning = overload_note(run.summary)
        if warning:
            body.append(f"<p class='bad'><b>{esc(warning)}</b></p>")
        if w.get("unchanged"):
            items = "".join(f"<li>{esc(reason)}</li>" for reason in w["unchanged"])
            body.append(f"<h3>Why nothing moved</h3><ul class='why'>{items}</ul>")
        body.append(_compare_rolling_stock(w.get("rolling_stock") or {}))
        body.append("<h3>By corridor</h3>" + table_html(compare_corridor_table(w)))
        if changed:
            shown = changed[:6]
            other = _transits(run)
            series = {}
            for name in shown:
                series[f"{name} (base)"] = base_transits.get(name, [])
                series[f"{name} (what-if)"] = other.get(name, [])
            body.append("<h3>Transit-time distributions of the services that changed</h3>")
            body.append(ecdf(series, x_label="transit, days", title="base against what-if", styles=styles))
            if len(changed) > len(shown):
                body.append(
                    f"<p class='note left-out'>Not drawn: {esc(', '.join(changed[len(shown) :]))} (the charts show "
                    f"the first {len(shown)} services that changed; the table has them all).</p>"
                )
            body.append("<p class='note'>Solid: the base; dashed: the what-if, in the service's colour.</p>")
            profiles = {f"{n} (base)": p for n, p in _profiles(base, shown).items()}
            profiles.update({f"{n} (what-if)": p for n, p in _profiles(run, shown).items()})
            ordered = {k: profiles[k] for n in shown for k in (f"{n} (base)", f"{n} (what-if)") if k in profiles}
            body.append("<h3>Time against distance</h3>" + time_distance(ordered, title="time-distance", styles=styles))
        else:
            body.append("<p>No service's mean transit changed beyond its 95% confidence interval.</p>")
        body.append("<h3>Bottlenecks in the what-if</h3>" + _bottlenecks(run.summary, 8))
        maps.append(_map_in_page(run))
        body.append(
            f"<h3>Route map of the what-if: {esc(w['name'])}</h3>{maps[-1].body}"
            "<p class='note'>Closed and banned places are drawn in magenta; rerouted services follow their new "
            "route. The base's map is <a href='#base-map'>above the what-ifs</a>.</p>"
        )
        body.append("<h3>Assumptions and sources of the what-if</h3>" + _assumptions(run))
    return page(f"corridors: what-ifs against {report['base']}", "".join(body), map_page_head(maps))


def sweep_report(data: dict[str, Any]) -> str:
    """sweep.html: P50/P95 transit and throughput against the swept parameter, for the services it moves."""
    rows = data["rows"]
    moved = moved_services(data)
    label = data["param"] + (" (× the data's values)" if data["scales"] else "")
    body = [
        f"<h1>corridors: sweep of {esc(data['param'])} on {esc(data['scenario'])}</h1>",
        f"<p>{data['replications']} replications per value, seed {data['seed']} (the same random numbers "
        "for every value).</p>",
    ]
    if not moved:
        body.append("<p>No service's P95 transit or throughput moves over these values.</p>")
    else:
        # a service's colour is the same in both charts, and as in the scenario's report.html
        colours = service_colours([*rows[0]["services"], *moved])
        base = data.get("base_value")
        mark_label = f"the scenario's value ({base:g})" if base is not None else ""
        p: dict[str, list[tuple[float, float | None]]] = {}
        styles: dict[str, Style] = {}
        for n in moved[:5]:  # P50 solid and P95 dashed, in the service's colour
            p[f"{n} P50"] = [(r["value"], r["services"][n]["transit_d_p50"]) for r in rows]
            p[f"{n} P95"] = [(r["value"], r["services"][n]["transit_d_p95"]) for r in rows]
            styles[f"{n} P50"] = Style(colours[n], service=n)
            styles[f"{n} P95"] = Style(colours[n], dashed=True, service=n)
        body.append(
            "<h2>Transit time</h2>"
            + lines(
                p,
                x_label=label,
                y_label="days",
                title="P50 and P95 transit",
                styles=styles,
                x_mark=base,
                x_mark_label=mark_label,
            )
            + "<p class='note'>Solid: P50; dashed: P95. A value where no train of a service arrived has no point.</p>"
        )
        t: dict[str, list[tuple[float, float | None]]] = {
            n: [(r["value"], r["services"][n]["trains_per_week"]) for r in rows] for n in moved[:8]
        }
        tstyles = {n: Style(colours[n], service=n) for n in moved[:8]}
        body.append(
            "<h2>Throughput</h2>"
            + lines(
                t,
                x_label=label,
                y_label="trains a week",
                title="throughput",
                styles=tstyles,
                x_mark=base,
                x_mark_label=mark_label,
            )
        )
        if len(moved) > 5:
            body.append(
                f"<p class='note left-out'>Not drawn in the transit chart: {esc(', '.join(moved[5:]))}"
                + (f"; in the throughput chart: {esc(', '.join(moved[8:]))}" if len(moved) > 8 else "")
                + " (the charts show the first services the parameter moves; the table has them all).</p>"
            )
    if moved:
        body.append("<h2>Figures</h2>" + table_html(sweep_table(data)))
    return page(f"corridors: sweep {data['param']}", "".join(body))
