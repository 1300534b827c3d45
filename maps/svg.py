"""Small inline-SVG charts for the HTML reports: no library, nothing fetched."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

from maps.escape import esc

__all__ = ["PALETTE", "ecdf", "stacked_bars", "time_distance"]

PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
    "#393b79",
    "#637939",
]
W, H, LEFT, RIGHT, TOP, BOTTOM = 860, 320, 60, 250, 16, 40
OTHER = "#bbbbbb"  # the parts without a colour of their own


def _nice(top: float) -> float:
    if top <= 0:
        return 1.0
    step = float(10 ** math.floor(math.log10(top)))
    for m in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if top <= m * step:
            return m * step
    return 10.0 * step


def _axes(x_max: float, y_max: float, x_label: str, y_label: str, y_fmt: str = "{:g}") -> list[str]:
    out = [
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#333"/>',
    ]
    for i in range(6):
        x = LEFT + (W - LEFT - RIGHT) * i / 5
        y = H - BOTTOM - (H - TOP - BOTTOM) * i / 5
        out.append(
            f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" font-size="11" text-anchor="middle">{x_max * i / 5:g}</text>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{y_fmt.format(y_max * i / 5)}</text>"
        )
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#eee"/>')
    out.append(
        f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 6}" font-size="12" text-anchor="middle">{esc(x_label)}</text>'
    )
    out.append(
        f'<text x="14" y="{(TOP + H - BOTTOM) / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {(TOP + H - BOTTOM) / 2})">{esc(y_label)}</text>'
    )
    return out


def _legend(names: Sequence[str], pairs: bool = False) -> list[str]:
    out = []
    for i, name in enumerate(names):
        y = TOP + 14 * i + 8
        colour = PALETTE[(i // 2 if pairs else i) % len(PALETTE)]
        dash = ' stroke-dasharray="5 3"' if pairs and i % 2 else ""
        out.append(
            f'<line x1="{W - RIGHT + 10}" y1="{y}" x2="{W - RIGHT + 28}" y2="{y}" stroke="{colour}"{dash} '
            f'stroke-width="3"/><text x="{W - RIGHT + 32}" y="{y + 4}" font-size="11">{esc(name)}</text>'
        )
    return out


def _svg(parts: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">'
        f"<title>{esc(title)}</title>" + "".join(parts) + "</svg>"
    )


def ecdf(series: Mapping[str, Sequence[float]], *, x_label: str, title: str) -> str:
    """Empirical distribution functions, one line per series (share of values at or below x)."""
    series = {k: sorted(v) for k, v in series.items() if v}
    x_max = _nice(max((v[-1] for v in series.values()), default=1.0))
    parts = _axes(x_max, 1.0, x_label, "share of trains", "{:.0%}")
    for i, (_, values) in enumerate(series.items()):
        n = len(values)
        step = max(1, n // 400)  # downsample long series
        pts = [(values[j], (j + 1) / n) for j in range(0, n, step)] + [(values[-1], 1.0)]
        d = " ".join(
            f"{LEFT + (W - LEFT - RIGHT) * x / x_max:.1f},{H - BOTTOM - (H - TOP - BOTTOM) * y:.1f}" for x, y in pts
        )
        parts.append(f'<polyline fill="none" stroke="{PALETTE[i % len(PALETTE)]}" stroke-width="2" points="{d}"/>')
    parts += _legend(list(series))
    return _svg(parts, title)


def time_distance(profiles: Mapping[str, Sequence[tuple[float, float, str]]], *, title: str) -> str:
    """Cumulative distance (x, km) against cumulative time (y, days): flat runs are stops at nodes."""
    x_max = _nice(max((p[-1][0] for p in profiles.values() if p), default=1.0))
    y_max = _nice(max((p[-1][1] for p in profiles.values() if p), default=1.0))
    parts = _axes(x_max, y_max, "distance from origin, km", "time since departure, days")
    placed: list[tuple[float, float, float]] = []  # labels drawn: x, y, width (a place is named once)
    named: set[str] = set()
    for i, (_, points) in enumerate(profiles.items()):
        colour = PALETTE[i % len(PALETTE)]
        d = " ".join(
            f"{LEFT + (W - LEFT - RIGHT) * km / x_max:.1f},{H - BOTTOM - (H - TOP - BOTTOM) * day / y_max:.1f}"
            for km, day, _ in points
        )
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{d}"/>')
        for (km, day, label), (_, next_day, _) in itertools.pairwise(points):
            if label and next_day - day > 0.75 and label not in named:  # name the long stops, once
                x = LEFT + (W - LEFT - RIGHT) * km / x_max + 4
                y = H - BOTTOM - (H - TOP - BOTTOM) * (day + next_day) / 2 / y_max
                width = 6.0 * len(label)
                if any(abs(y - py) < 11 and x < px + pw and px < x + width for px, py, pw in placed):
                    continue  # it would overprint another label
                placed.append((x, y, width))
                named.add(label)
                parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" fill="{colour}">{esc(label)}</text>')
    parts += _legend(list(profiles))
    return _svg(parts, title)


def stacked_bars(rows: Mapping[str, Mapping[str, float]], *, unit: str, title: str) -> str:
    """One horizontal bar per row, split into its parts, with a legend: a part keeps its colour in
    every row (the largest parts get colours; the rest share grey, "others")."""
    totals = {k: sum(v.values()) for k, v in rows.items()}
    x_max = _nice(max(totals.values(), default=1.0))
    size: dict[str, float] = {}
    for parts_ in rows.values():
        for key, value in parts_.items():
            size[key] = size.get(key, 0.0) + value
    keys = sorted((k for k in size if not k.startswith("other")), key=lambda k: -size[k])[: len(PALETTE)]
    colour_of = {key: PALETTE[i] for i, key in enumerate(keys)}
    out = []
    for i, (name, parts_) in enumerate(rows.items()):
        y = 6 + 22 * i
        x = 200.0
        out.append(f'<text x="196" y="{y + 14}" font-size="11" text-anchor="end">{esc(name)}</text>')
        for key, value in parts_.items():  # in the row's own order (the route's, for days by country)
            width = (W - 200 - 60) * value / x_max
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{max(width, 0):.1f}" height="16" fill="{colour_of.get(key, OTHER)}">'
                f"<title>{esc(name)}: {esc(key)} {value:.1f} {esc(unit)}</title></rect>"
            )
            if width > 6 * len(key) + 6:  # the name only where it fits
                out.append(f'<text x="{x + 3:.1f}" y="{y + 12}" font-size="10" fill="#fff">{esc(key)}</text>')
            x += width
        out.append(f'<text x="{x + 4:.1f}" y="{y + 12}" font-size="10">{totals[name]:.1f} {esc(unit)}</text>')
    entries = [(key, colour_of[key]) for key in keys]
    if len(size) > len(keys):
        entries.append(("others", OTHER))
    y = 6 + 22 * len(rows) + 10
    x = 200.0
    for key, colour in entries:
        width = 16 + 6.2 * len(key) + 14
        if x + width > W:
            x, y = 200.0, y + 16
        out.append(f'<rect x="{x:.1f}" y="{y}" width="11" height="11" fill="{colour}"/>')
        out.append(f'<text x="{x + 15:.1f}" y="{y + 10}" font-size="10">{esc(key)}</text>')
        x += width
    height = y + 20
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height}" width="{W}" height="{height}" '
        f'role="img"><title>{esc(title)}</title>' + "".join(out) + "</svg>"
    )


def lines(
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    x_label: str,
    y_label: str,
    title: str,
    pairs: bool = False,
) -> str:
    """Line chart with markers, one line per series; ``pairs``: series 2k and 2k+1 share a colour,
    the second dashed (P50 and P95 of one service)."""
    xs = [x for pts in series.values() for x, _ in pts]
    ys = [y for pts in series.values() for _, y in pts]
    x_lo = min(xs, default=0.0)
    x_max = _nice(max(xs, default=1.0) - min(0.0, x_lo))
    y_max = _nice(max(ys, default=1.0))
    parts = _axes(x_max, y_max, x_label, y_label)
    for i, (_, pts) in enumerate(series.items()):
        colour = PALETTE[(i // 2 if pairs else i) % len(PALETTE)]
        dash = ' stroke-dasharray="6 4"' if pairs and i % 2 else ""
        xy = [(LEFT + (W - LEFT - RIGHT) * x / x_max, H - BOTTOM - (H - TOP - BOTTOM) * y / y_max) for x, y in pts]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} '
            f'points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in xy)}"/>'
        )
        parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>' for a, b in xy]
    parts += _legend(list(series), pairs)
    return _svg(parts, title)
