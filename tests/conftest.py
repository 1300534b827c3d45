"""Shared fixtures: the bundled network and a tiny hand-checkable network written to disk."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w

import corridors


@pytest.fixture(scope="session")
def network() -> corridors.Network:
    return corridors.load_network()


def tiny_records() -> dict[str, Any]:
    """Three nodes A – B – C; A–B is 1435 mm, B–C is 1520 mm, B is a border and gauge change."""
    return {
        "sources.toml": {
            "sources": [
                {"id": "SRC1", "citation": "A published source"},
                {"id": "ESTIMATE", "citation": "Authors' estimate"},
            ]
        },
        "modes.toml": {
            "modes": [
                {
                    "mode": "rail",
                    "cost_usd_per_feu_km": {"value": 1.0, "source": "SRC1"},
                    "co2_kg_per_teu_km": {"value": 0.3, "source": "SRC1"},
                    "circuity": {"value": 1.1, "source": "ESTIMATE"},
                }
            ]
        },
        "nodes.toml": {
            "nodes": [
                {
                    "id": "A",
                    "name": "Alpha",
                    "country": "CN",
                    "lat": 44.0,
                    "lon": 80.0,
                    "coord_source": "SRC1",
                    "kinds": ["terminal"],
                },
                {
                    "id": "B",
                    "name": "Beta",
                    "country": "KZ",
                    "lat": 44.0,
                    "lon": 81.0,
                    "coord_source": "SRC1",
                    "kinds": ["border", "gauge_change"],
                    "facility": {
                        "servers": {"value": 2, "source": "SRC1"},
                        "process_h": {"min": 2, "typical": 4, "max": 12, "source": ["SRC1"]},
                    },
                },
                {
                    "id": "C",
                    "name": "Gamma",
                    "country": "KZ",
                    "lat": 45.0,
                    "lon": 81.0,
                    "coord_source": "ESTIMATE",
                    "kinds": ["terminal"],
                },
            ]
        },
        "legs.toml": {
            "legs": [
                {
                    "id": "L1",
                    "from": "A",
                    "to": "B",
                    "mode": "rail",
                    "gauge_mm": 1435,
                    "distance_km": {"value": 100, "source": "SRC1"},
                    "transit_h": {"min": 10, "typical": 12, "max": 20, "source": "SRC1"},
                },
                {
                    "id": "L2",
                    "from": "B",
                    "to": "C",
                    "mode": "rail",
                    "gauge_mm": 1520,
                    "transit_d": {"min": 1, "typical": 1, "max": 1, "shape": "fixed", "source": "ESTIMATE"},
                },
            ]
        },
        "corridors.toml": {"corridors": [{"name": "abc", "title": "A to C", "nodes": ["A", "B", "C"]}]},
    }


def write_network(path: Path, records: dict[str, Any]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, data in records.items():
        if isinstance(data, str):
            (path / name).write_text(data, encoding="utf-8")
        elif name.endswith(".geojson"):
            (path / name).write_text(json.dumps(data), encoding="utf-8")
        else:
            (path / name).write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def one_leg_geometry(leg: str, coordinates: list[list[float]]) -> dict[str, Any]:
    """A geometry.geojson drawing one leg through [lon, lat] positions."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"leg": leg, "source": "ESTIMATE"},
                "geometry": {"type": "LineString", "coordinates": coordinates},
            }
        ],
    }


@pytest.fixture
def tiny(tmp_path: Path) -> dict[str, Any]:
    """Records of the tiny network, to change before writing them with ``write_network``."""
    return copy.deepcopy(tiny_records())
