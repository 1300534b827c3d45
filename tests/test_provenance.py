"""`corridors check` counts each sourced value once, where its file writes it, in three classes:
sourced (published sources only), partly sourced (a source and ESTIMATE), estimate (ESTIMATE only)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

import corridors
from corridors.cli import main
from corridors.model import WrittenValue
from tests.conftest import one_leg_geometry, write_network


def _node(ident: str, lon: float, source: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "name": ident,
        "country": "KZ",
        "lat": 44.0,
        "lon": lon,
        "coord_source": source,
        "kinds": ["junction"],
        **extra,
    }


def _leg(ident: str, a: str, b: str) -> dict[str, Any]:
    return {
        "id": ident,
        "from": a,
        "to": b,
        "mode": "rail",
        "gauge_mm": 1435,
        "distance_km": {"value": 100, "source": ["SRC1"]},
        "transit_h": {"min": 2, "max": 4, "source": ["ESTIMATE"]},
    }


def three_legs() -> dict[str, Any]:
    """A – B – C – D by three rail legs that all take the rail mode's cost and CO2 rates."""
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
                    "cost_usd_per_feu_km": {"value": 1.0, "source": ["SRC1"]},  # sourced
                    "co2_kg_per_teu_km": {"value": 0.3, "source": ["SRC1", "ESTIMATE"]},  # partly sourced
                    "circuity": {"value": 1.1, "source": ["ESTIMATE"]},  # estimate
                }
            ]
        },
        "nodes.toml": {
            "nodes": [
                _node("A", 80.0, ["SRC1"]),
                _node(
                    "B",
                    81.0,
                    ["SRC1"],
                    facility={
                        "servers": {"value": 2, "source": ["SRC1"]},
                        "process_h": {"min": 1, "max": 3, "source": ["SRC1", "ESTIMATE"]},
                    },
                ),
                _node("C", 82.0, ["ESTIMATE"]),
                _node("D", 83.0, ["ESTIMATE"]),
            ]
        },
        "legs.toml": {"legs": [_leg("L1", "A", "B"), _leg("L2", "B", "C"), _leg("L3", "C", "D")]},
        "corridors.toml": {"corridors": [{"name": "ad", "title": "A to D", "nodes": ["A", "B", "C", "D"]}]},
    }


# modes: cost 1 sourced, CO2 1 partly, circuity 1 estimate; positions: 2 sourced, 2 estimates;
# B's facility: servers sourced, process_h partly; legs: 3 distances sourced, 3 transits estimates
THREE_LEGS_COUNTS = {"sourced": 1 + 2 + 1 + 3, "partly_sourced": 1 + 1, "estimate": 1 + 2 + 3}


def test_a_mode_value_used_by_three_legs_counts_once(tmp_path: Path) -> None:
    network = corridors.load_network(write_network(tmp_path / "net", three_legs()))
    # every leg takes the mode's CO2 rate and names its sources ...
    assert all(leg.sources["co2_kg_per_teu_km"] == ("SRC1", "ESTIMATE") for leg in network.legs.values())
    assert all(leg.sources["cost_usd_per_feu"] == ("SRC1",) for leg in network.legs.values())
    # ... but the rate is written once, in modes.toml, and counted there only
    co2 = [w for w in network.written if w.field == "co2_kg_per_teu_km"]
    assert co2 == [WrittenValue("modes.toml", "mode rail", "co2_kg_per_teu_km", ("SRC1", "ESTIMATE"))]
    assert [w.record for w in network.written if w.field.startswith("cost")] == ["mode rail"]
    assert network.provenance_counts() == THREE_LEGS_COUNTS
    assert len(network.written) == sum(THREE_LEGS_COUNTS.values()) == 15


def test_a_nodes_position_is_one_value(tmp_path: Path) -> None:
    network = corridors.load_network(write_network(tmp_path / "net", three_legs()))
    positions = [w for w in network.written if w.field == "coord_source"]
    assert [w.record for w in positions] == ["node A", "node B", "node C", "node D"]


def test_partly_sourced_is_its_own_class(tmp_path: Path) -> None:
    network = corridors.load_network(write_network(tmp_path / "net", three_legs()))
    process = next(w for w in network.written if w.field == "facility.process_h")
    assert process.record == "node B" and process.provenance == "partly_sourced"
    assert WrittenValue("f", "r", "x", ("SRC1",)).provenance == "sourced"
    assert WrittenValue("f", "r", "x", ("ESTIMATE", "SRC1")).provenance == "partly_sourced"
    assert WrittenValue("f", "r", "x", ("ESTIMATE",)).provenance == "estimate"
    assert WrittenValue("f", "r", "x", ("ESTIMATE", "ESTIMATE")).provenance == "estimate"


def test_a_legs_own_rate_counts_as_the_legs_and_the_modes_still_once(tmp_path: Path) -> None:
    records = three_legs()
    records["legs.toml"]["legs"][0]["co2_kg_per_teu_km"] = {"value": 0.2, "source": ["ESTIMATE"]}
    network = corridors.load_network(write_network(tmp_path / "net", records))
    co2 = [(w.record, w.provenance) for w in network.written if w.field == "co2_kg_per_teu_km"]
    assert co2 == [("mode rail", "partly_sourced"), ("leg L1", "estimate")]
    assert network.provenance_counts() == {**THREE_LEGS_COUNTS, "estimate": THREE_LEGS_COUNTS["estimate"] + 1}


def test_a_computed_distance_counts_its_line_not_itself(tmp_path: Path) -> None:
    """A distance computed from a leg's line and the mode's circuity is written nowhere: the line
    (geometry.geojson) and the circuity (modes.toml) count, each once."""
    records = three_legs()
    del records["legs.toml"]["legs"][2]["distance_km"]
    records["geometry.geojson"] = one_leg_geometry("L3", [[82.0, 44.0], [82.5, 44.1], [83.0, 44.0]])
    network = corridors.load_network(write_network(tmp_path / "net", records))
    assert network.legs["L3"].distance_computed
    assert [(w.record, w.field) for w in network.written if w.record.endswith("L3")] == [
        ("feature L3", "properties.source"),
        ("leg L3", "transit_h"),
    ]
    assert network.provenance_counts() == {**THREE_LEGS_COUNTS, "sourced": THREE_LEGS_COUNTS["sourced"] - 1} | {
        "estimate": THREE_LEGS_COUNTS["estimate"] + 1
    }


def test_check_prints_and_emits_the_three_classes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_network(tmp_path / "net", three_legs())
    assert main(["check", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "  values, each counted once where it is written: 15\n" in out
    assert "    sourced (published sources only): 7\n" in out
    assert "    partly sourced (a published source and ESTIMATE): 2\n" in out
    assert "    estimate (ESTIMATE only): 6\n" in out
    assert main(["check", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["values"] == {"total": 15, **THREE_LEGS_COUNTS}
    assert data["sourced_values"] == 7 + 2 and data["estimated_values"] == 6
    assert data["straight_legs"] == ["L1", "L2", "L3"]


def test_the_bundled_network_counts_each_value_once(network: corridors.Network) -> None:
    places = [(w.file, w.record, w.field) for w in network.written]
    assert len(places) == len(set(places))
    modes = [w for w in network.written if w.file == "modes.toml"]
    assert len(modes) == 3 * 4  # cost, CO2 and circuity of rail, ferry, sea and road
    legs = tomllib.loads((corridors.bundled_data_dir() / "network" / "legs.toml").read_text("utf-8"))["legs"]
    for field in ("co2_kg_per_teu_km", "cost_usd_per_feu", "distance_km"):  # written by some legs only
        written = {w.record for w in network.written if w.file == "legs.toml" and w.field == field}
        assert written == {"leg " + leg["id"] for leg in legs if field in leg}
    assert sum(network.provenance_counts().values()) == len(network.written)
