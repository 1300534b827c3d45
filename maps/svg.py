"""Small inline-SVG charts for the HTML reports: no library, nothing fetched."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from maps.escape import esc
from maps.style import wide

__all__ = ["PALETTE", "Style", "ecdf", "lines", "service_colours", "stacked_bars", "time_distance"]

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
    "#843c39",
    "#7b4173",
    "#8c6d31",
    "#6baed6",
]
W, H, LEFT, RIGHT, TOP, BOTTOM = 640, 320, 60, 16, 16, 40  # line charts; their legends are HTML beside them
W_BARS = 860  # stacked bars, with their names and legend inside
OTHER = "#bbbbbb"  # the parts without a colour of their own
LABEL_PX_PER_CHAR = 6.4  # a label's width at font-size 10 (upper-case ids), a little generous


@dataclass(frozen=True)
class Style:
    """How a chart draws one series: its colour, solid or dashed, and the service it shows (written
    as ``data-service`` on its line and legend entry, so a page's charts can be checked to agree)."""

    colour: str
    dashed: bool = False
    service: str = ""


def service_colours(names: Iterable[str]) -> dict[str, str]:
    """One colour per service for a whole page, the palette's colours in the services' order: every
    chart of the page draws a service in its colour.

    >>> service_colours(["north", "middle", "north"])
    {'north': '#1f77b4', 'middle': '#d62728'}
    """
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(dict.fromkeys(names))}


def _styles(names: Sequence[str], styles: Mapping[str, Style] | None, pairs: bool = False) -> list[Style]:
    """A style per series: as given, else the palette's colours in turn (``pairs``: two series a colour,
    the second dashed)."""
    out = []
    for i, name in enumerate(names):
        if styles is not None and name in styles:
            out.append(styles[name])
        else:
            out.append(Style(PALETTE[(i // 2 if pairs else i) % len(PALETTE)], dashed=pairs and i % 2 == 1))
    return out


def _nice(top: float) -> float:
    if top <= 0:
        return 1.0
    step = float(10 ** math.floor(math.log10(top)))
    for m in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if top <= m * step:
            return m * step
    return 10.0 * step


def _ticks(low: float, high: float, n: int = 5) -> list[float]:
    """Round tick values spanning ``low``–``high`` (about ``n`` steps of 1, 2, 2.5 or 5 × a power of 10).

    >>> _ticks(6, 20)
    [5.0, 10.0, 15.0, 20.0]
    >>> _ticks(0.04, 1)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    if high <= low:
        low, high = (low - 1, high + 1) if low else (0.0, 1.0)
    raw = (high - low) / n
    power = float(10 ** math.floor(math.log10(raw)))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if raw <= m * power)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(k * step, 12) + 0.0 for k in range(first, last + 1)]


def _axes(x_ticks: Sequence[float], y_max: float, x_label: str, y_label: str, y_fmt: str = "{:g}") -> list[str]:
    """Axes, grid lines and labels; the x axis runs from the first tick to the last."""
    x_lo, x_hi = x_ticks[0], x_ticks[-1]
    out = [
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#333"/>',
    ]
    for tick in x_ticks:
        x = LEFT + (W - LEFT - RIGHT) * (tick - x_lo) / (x_hi - x_lo)
        out.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" font-size="11" text-anchor="middle">{tick:g}</text>')
    for i in range(6):
        y = H - BOTTOM - (H - TOP - BOTTOM) * i / 5
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


def _even(x_max: float) -> list[float]:
    return [x_max * i / 5 for i in range(6)]


def _service(style: Style) -> str:
    return f' data-service="{esc(style.service)}"' if style.service else ""


def _dash(style: Style) -> str:
    return ' stroke-dasharray="6 4"' if style.dashed else ""


def _legend(names: Sequence[str], styles: Sequence[Style]) -> str:
    """The legend as HTML (it wraps and reads at full size on a phone): a line sample per series."""
    out = []
    for name, style in zip(names, styles, strict=True):
        out.append(
            f'<span class="key"><svg viewBox="0 0 24 8" width="24" height="8" aria-hidden="true">'
            f'<line class="legend" x1="0" y1="4" x2="24" y2="4" stroke="{style.colour}"{_dash(style)}'
            f'{_service(style)} stroke-width="3"/></svg>{esc(name)}</span>'
        )
    return f"<div class='legend'>{''.join(out)}</div>"


def _line(name: str, style: Style, points: Sequence[tuple[float, float]]) -> str:
    """A series' polyline, with its name as a tooltip."""
    d = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return (
        f'<polyline class="series" fill="none" stroke="{style.colour}" stroke-width="2"{_dash(style)}'
        f'{_service(style)} points="{d}"><title>{esc(name)}</title></polyline>'
    )


def _svg(parts: list[str], title: str, legend: str = "") -> str:
    """A line chart and its legend, side by side where the page is wide enough, else one above the other."""
    return (
        "<figure class='chart'><div class='plot'>"
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">'
        f"<title>{esc(title)}</title>" + "".join(parts) + f"</svg></div>{legend}</figure>"
    )


def ecdf(
    series: Mapping[str, Sequence[float]], *, x_label: str, title: str, styles: Mapping[str, Style] | None = None
) -> str:
    """Empirical distribution functions, one line per series (share of values at or below x);
    ``styles``: each series' colour and dash by name (else the palette's in turn)."""
    series = {k: sorted(v) for k, v in series.items() if v}
    x_max = _nice(max((v[-1] for v in series.values()), default=1.0))
    parts = _axes(_even(x_max), 1.0, x_label, "share of trains", "{:.0%}")
    drawn = _styles(list(series), styles)
    for (name, values), style in zip(series.items(), drawn, strict=True):
        n = len(values)
        step = max(1, n // 400)  # downsample long series
        pts = [(values[j], (j + 1) / n) for j in range(0, n, step)] + [(values[-1], 1.0)]
        xy = [(LEFT + (W - LEFT - RIGHT) * x / x_max, H - BOTTOM - (H - TOP - BOTTOM) * y) for x, y in pts]
        parts.append(_line(name, style, xy))
    return _svg(parts, title, _legend(list(series), drawn))


Box = tuple[float, float, float, float]  # left, top, right, bottom, px


def _crosses(segment: tuple[float, float, float, float], box: Box) -> bool:
    """Whether a line segment passes through a box (Liang–Barsky clipping)."""
    x0, y0, x1, y1 = segment
    left, top, right, bottom = box
    dx, dy = x1 - x0, y1 - y0
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, x0 - left), (dx, right - x0), (-dy, y0 - top), (dy, bottom - y0)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo > hi:
            return False
    return True


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _place_label(
    anchor: tuple[float, float], width: float, segments: Sequence[tuple[float, float, float, float]], taken: list[Box]
) -> Box | None:
    """Where a label of ``width`` px beside ``anchor`` is crossed by the fewest lines and covers no
    other label: right of the point, then left, then a line higher or lower (at most three). None
    when every place covers another label."""
    ax, ay = anchor
    best: tuple[int, Box] | None = None
    for dy in (0, -12, 12, -24, 24, -36, 36):
        for x in (ax + 5, ax - 5 - width):
            box = (x, ay + dy - 8, x + width, ay + dy + 3)
            if box[0] < LEFT + 2 or box[2] > W - 2 or box[1] < TOP - 4 or box[3] > H - BOTTOM - 2:
                continue
            if any(_overlaps(box, other) for other in taken):
                continue
            crossings = sum(1 for s in segments if _crosses(s, box))
            if crossings == 0:
                return box
            if best is None or crossings < best[0]:
                best = (crossings, box)
    return best[1] if best else None


def time_distance(
    profiles: Mapping[str, Sequence[tuple[float, float, str]]],
    *,
    title: str,
    styles: Mapping[str, Style] | None = None,
) -> str:
    """Cumulative distance (x, km) against cumulative time (y, days): flat runs are stops at nodes.
    The long stops are named once each, where the fewest lines cross the name (and with a white halo);
    ``styles``: each series' colour and dash by name (else the palette's in turn)."""
    x_max = _nice(max((p[-1][0] for p in profiles.values() if p), default=1.0))
    y_max = _nice(max((p[-1][1] for p in profiles.values() if p), default=1.0))
    parts = _axes(_even(x_max), y_max, "distance from origin, km", "time since departure, days")
    drawn = _styles(list(profiles), styles)

    def xy(km: float, day: float) -> tuple[float, float]:
        return LEFT + (W - LEFT - RIGHT) * km / x_max, H - BOTTOM - (H - TOP - BOTTOM) * day / y_max

    segments = []
    for (name, points), style in zip(profiles.items(), drawn, strict=True):
        pts = [xy(km, day) for km, day, _ in points]
        parts.append(_line(name, style, pts))
        segments += [(a[0], a[1], b[0], b[1]) for a, b in itertools.pairwise(pts)]
    taken: list[Box] = []
    named: set[str] = set()
    for (_, points), style in zip(profiles.items(), drawn, strict=True):
        for (km, day, label), (_, next_day, _) in itertools.pairwise(points):
            if not label or next_day - day <= 0.75 or label in named:  # name the long stops, once
                continue
            x, _ = xy(km, day)
            _, y = xy(km, (day + next_day) / 2)
            box = _place_label((x, y), LABEL_PX_PER_CHAR * len(label), segments, taken)
            if box is None:
                continue  # every place would overprint another label
            taken.append(box)
            named.add(label)
            parts.append(
                f'<text data-label="{esc(label)}" x="{box[0]:.1f}" y="{box[3] - 2:.1f}" font-size="10" '
                f'fill="{style.colour}" stroke="#fff" stroke-width="3" stroke-linejoin="round" '
                f'paint-order="stroke">{esc(label)}</text>'
            )
    return _svg(parts, title, _legend(list(profiles), drawn))


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
            width = (W_BARS - 200 - 60) * value / x_max
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
        if x + width > W_BARS:
            x, y = 200.0, y + 16
        out.append(f'<rect x="{x:.1f}" y="{y}" width="11" height="11" fill="{colour}"/>')
        out.append(f'<text x="{x + 15:.1f}" y="{y + 10}" font-size="10">{esc(key)}</text>')
        x += width
    height = y + 20
    return wide(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W_BARS} {height}" width="{W_BARS}" height="{height}" '
        f'role="img"><title>{esc(title)}</title>' + "".join(out) + "</svg>"
    )


def lines(
    series: Mapping[str, Sequence[tuple[float, float | None]]],
    *,
    x_label: str,
    y_label: str,
    title: str,
    pairs: bool = False,
    styles: Mapping[str, Style] | None = None,
    x_mark: float | None = None,
    x_mark_label: str = "",
) -> str:
    """Line chart with markers, one line per series (a point without a value is left out); the
    x axis spans the values (round ticks around them, not from 0). ``pairs``: series 2k and 2k+1
    share a colour, the second dashed (P50 and P95 of one service), unless ``styles`` gives each
    series' style by name. ``x_mark``: a value marked by a vertical line, ``x_mark_label`` beside it
    (the scenario's own value in a sweep)."""
    xs = [x for pts in series.values() for x, _ in pts] + ([x_mark] if x_mark is not None else [])
    ys = [y for pts in series.values() for _, y in pts if y is not None]
    ticks = _ticks(min(xs, default=0.0), max(xs, default=1.0))
    x_lo, x_hi = ticks[0], ticks[-1]
    y_max = _nice(max(ys, default=1.0))
    parts = _axes(ticks, y_max, x_label, y_label)

    def px(x: float) -> float:
        return LEFT + (W - LEFT - RIGHT) * (x - x_lo) / (x_hi - x_lo)

    if x_mark is not None:
        x = px(x_mark)
        parts.append(
            f'<line data-mark="scenario" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}" stroke="#555" '
            f'stroke-dasharray="2 3"/><text x="{x + 4:.1f}" y="{TOP + 10}" font-size="10" fill="#555" stroke="#fff" '
            f'stroke-width="3" paint-order="stroke">'
            f"{esc(x_mark_label or f'{x_mark:g}')}</text>"
        )
    drawn = _styles(list(series), styles, pairs)
    for (name, pts), style in zip(series.items(), drawn, strict=True):
        xy = [(px(x), H - BOTTOM - (H - TOP - BOTTOM) * y / y_max) for x, y in pts if y is not None]
        parts.append(_line(name, style, xy))
        parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{style.colour}"/>' for a, b in xy]
    return _svg(parts, title, _legend(list(series), drawn))
