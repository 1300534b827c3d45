"""The Natural Earth 1:50m basemap: water where ships sail, land where trains run, and its size."""

from __future__ import annotations

import json

import pytest

from corridors import bundled_data_dir
from maps.basemap import countries, country_at

BASEMAP = bundled_data_dir() / "basemap" / "countries-50m-region.json"
#: The file and its points: what every map inlines (the 1:110m file was 108 kB, 10,587 points).
MAX_FILE_BYTES = 300_000
MAX_POINTS = 30_000


def test_the_basemap_stays_within_its_budget() -> None:
    assert BASEMAP.stat().st_size < MAX_FILE_BYTES
    topo = json.loads(BASEMAP.read_text(encoding="utf-8"))
    assert sum(len(arc) for arc in topo["arcs"]) < MAX_POINTS
    drawn = sum(len(ring) for c in countries() for polygon in c.polygons for ring in polygon)
    assert drawn < 1.5 * MAX_POINTS  # shared borders are drawn once per country


@pytest.mark.parametrize(
    ("lat", "lon", "name"),
    [
        (30.05, 31.24, "Egypt"),  # Cairo
        (30.45, 32.15, "Egypt"),  # west of the canal, by Ismailia
        (30.60, 32.45, "Egypt"),  # Sinai, east of the canal
        (30.60, 32.30, None),  # the canal at Ismailia
        (30.85, 32.32, None),  # the canal at El Qantara
        (30.33, 32.40, None),  # the Great Bitter Lake
        (29.50, 32.60, None),  # the Gulf of Suez (land at 1:110m)
        (28.50, 33.00, None),
        (38.65, 42.90, None),  # Lake Van
        (38.85, 43.25, None),  # its north-east arm, towards Erciş
        (38.50, 43.40, "Turkey"),  # Van, on the shore
        (38.40, 42.10, "Turkey"),  # Bitlis
        (41.10, 29.06, None),  # the Bosporus
        (40.00, 45.00, "Armenia"),
        (40.35, 45.30, None),  # Lake Sevan
        (42.00, 51.00, None),  # the Caspian
        (64.00, 177.00, "Russia"),  # Chukotka, across 180°
        (65.00, -175.00, "Russia"),
    ],
)
def test_land_and_water(lat: float, lon: float, name: str | None) -> None:
    assert country_at(lat, lon) == name


def test_every_country_keeps_its_name() -> None:
    names = [c.name for c in countries()]
    assert len(names) == len(set(names)) >= 175  # islands far from the network may be dropped
    assert {"Turkey", "Egypt", "Kazakhstan", "China", "Netherlands", "South Africa"} <= set(names)
