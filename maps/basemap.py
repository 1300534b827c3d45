"""The Natural Earth country basemap: decode the bundled TopoJSON and find the country at a point."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from corridors import bundled_data_dir

__all__ = ["Country", "countries", "country_at", "decode_arcs", "ring_of"]

Ring = tuple[tuple[float, float], ...]  # GeoJSON positions (lon, lat), as the source file has them


@dataclass(frozen=True)
class Country:
    """One country: its name and polygons, each a tuple of rings (outer first, then holes).

    Rings that cross the 180° meridian (Chukotka, Fiji) are unwrapped to longitudes in
    [0, 360) so that they neither draw as stripes nor swallow the other side of the world.
    """

    name: str
    polygons: tuple[tuple[Ring, ...], ...]
    wraps: bool
    bbox: tuple[float, float, float, float]

    def contains(self, lat: float, lon: float) -> bool:
        """Whether (lat, lon) lies inside this country (even-odd rule over all rings)."""
        for x in (lon, lon + 360) if self.wraps else (lon,):
            x0, y0, x1, y1 = self.bbox
            if not (x0 <= x <= x1 and y0 <= lat <= y1):
                continue
            for rings in self.polygons:
                if _inside(x, lat, rings):
                    return True
        return False


def _inside(x: float, y: float, rings: tuple[Ring, ...]) -> bool:
    inside = False
    for ring in rings:
        j = len(ring) - 1
        for i in range(len(ring)):
            xi, yi = ring[i]
            xj, yj = ring[j]
            if (yi > y) != (yj > y) and x < xi + (y - yi) * (xj - xi) / (yj - yi):
                inside = not inside
            j = i
    return inside


def decode_arcs(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """A TopoJSON's arcs as (lon, lat) points: quantised and delta-encoded in the file."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_of(arcs: list[list[tuple[float, float]]], indices: list[int]) -> list[tuple[float, float]]:
    """A ring joined from arcs by index (a negative index ``~i``: arc ``i`` reversed)."""
    out: list[tuple[float, float]] = []
    for i in indices:
        seg = arcs[i] if i >= 0 else arcs[~i][::-1]
        out.extend(seg[1:] if out else seg)
    return out


@cache
def countries(path: Path | None = None) -> tuple[Country, ...]:
    """Decode ``countries-50m-region.json`` (TopoJSON: quantised, delta-encoded arcs) into countries."""
    path = path or bundled_data_dir() / "basemap" / "countries-50m-region.json"
    topo = json.loads(path.read_text(encoding="utf-8"))
    arcs = decode_arcs(topo)

    def ring(indices: list[int]) -> list[tuple[float, float]]:
        return ring_of(arcs, indices)

    result = []
    for geom in topo["objects"]["countries"]["geometries"]:
        if geom["type"] == "Polygon":
            polys = [[ring(r) for r in geom["arcs"]]]
        elif geom["type"] == "MultiPolygon":
            polys = [[ring(r) for r in poly] for poly in geom["arcs"]]
        else:
            continue
        wraps = any(abs(b[0] - a[0]) > 180 for p in polys for r in p for a, b in itertools.pairwise(r))
        if wraps:
            polys = [[[(x + 360 if x < 0 else x, y) for x, y in r] for r in p] for p in polys]
        xs = [x for p in polys for r in p for x, _ in r]
        ys = [y for p in polys for r in p for _, y in r]
        result.append(
            Country(
                name=(geom.get("properties") or {}).get("name", str(geom.get("id"))),
                polygons=tuple(tuple(tuple(r) for r in p) for p in polys),
                wraps=wraps,
                bbox=(min(xs), min(ys), max(xs), max(ys)),
            )
        )
    return tuple(result)


def country_at(lat: float, lon: float) -> str | None:
    """The name of the country at (lat, lon), or None at sea."""
    for country in countries():
        if country.contains(lat, lon):
            return country.name
    return None
