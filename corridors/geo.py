"""Geodesy on (lat, lon) paths, and the one place where GeoJSON's [lon, lat] order is flipped."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from geopy.distance import geodesic

__all__ = ["from_geojson_position", "geodesic_km", "path_km", "to_geojson_position"]

LatLon = tuple[float, float]


@functools.lru_cache(maxsize=1 << 16)
def geodesic_km(a: LatLon, b: LatLon) -> float:
    """Geodesic (WGS-84 ellipsoid) distance between two (lat, lon) points in km.

    Remembered for the process: loading a network measures every segment of its geometry (about
    a quarter of a second for the bundled one), and a network loaded again measures none.

    >>> round(geodesic_km((51.7246, 19.542), (52.0264, 23.5298)))
    277
    """
    return float(geodesic(a, b).km)


def path_km(path: Sequence[LatLon]) -> float:
    """Length of a polyline of (lat, lon) points along the ellipsoid, in km."""
    return sum(geodesic_km(path[i], path[i + 1]) for i in range(len(path) - 1))


def to_geojson_position(point: LatLon, *, digits: int = 5) -> list[float]:
    """(lat, lon) → GeoJSON's [lon, lat]."""
    lat, lon = point
    return [round(lon, digits), round(lat, digits)]


def from_geojson_position(position: Iterable[float]) -> LatLon:
    """GeoJSON's [lon, lat] → (lat, lon)."""
    lon, lat = list(position)[:2]
    return (float(lat), float(lon))
