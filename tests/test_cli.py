"""The command line: text output, --json schemas, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from corridors.cli import main


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_show_northern_json(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "show", "northern")
    assert data["schema_version"] == 1
    assert data["name"] == "northern"
    assert data["legs"][0]["from"] == "CN_CHENGDU" and data["legs"][-1]["to"] == "PL_LODZ"
    for leg in data["legs"]:
        assert {"from", "to", "mode", "gauge_mm", "distance_km", "transit_h"} <= set(leg)
    assert abs(data["total_distance_km"] - 9826) / 9826 <= 0.05
    assert data["total_distance_km"] == pytest.approx(sum(leg["distance_km"] for leg in data["legs"]))


def test_show_southern_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "southern"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") > 20
    for node in ("KZ_ALTYNKOL", "KZ_BOLASHAK", "TM_ETREK", "IR_RAZI", "TR_VAN", "TR_TATVAN", "TR_KAPIKULE"):
        assert node in out
    assert "Gauge breaks: KZ_ALTYNKOL 1435→1520 mm; TM_ETREK 1520→1435 mm" in out


def test_route_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "route", "CN_CHENGDU", "PL_LODZ", "--avoid", "RU,BY", "-k", "2")
    assert data["nodes"][0] == {**data["nodes"][0], "id": "CN_CHENGDU", "country": "CN"}
    assert all({"id", "country"} <= set(n) for n in data["nodes"])
    assert not {"RU", "BY"} & {n["country"] for n in data["nodes"]}
    assert data["total_distance_km"] > 0
    assert len(data["alternatives"]) == 1 and data["alternatives"][0]["rank"] == 2


def test_route_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "CN_CHENGDU", "IR_TEHRAN"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Route 1 of 1 by time")
    assert "KZ_ALTYNKOL – KZ_ALMATY" in out


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "list")
    names = [c["name"] for c in data["corridors"]]
    assert {"southern", "northern", "middle", "sea-suez", "sea-cape"} <= set(names)
    assert main(["list"]) == 0
    assert "northern" in capsys.readouterr().out


def test_check_bundled(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "check")
    assert data["ok"] and data["legs"] > 40 and data["estimated_values"] > 0 and data["sourced_values"] > 0


def test_export_geojson(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sub").mkdir()
    out = tmp_path / "sub" / "network.geojson"
    assert main(["export", "--geojson", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["type"] == "FeatureCollection"
    kinds = {f["geometry"]["type"] for f in data["features"]}
    assert kinds == {"Point", "LineString"}
    point = next(f for f in data["features"] if f["properties"]["id"] == "PL_LODZ")
    assert point["geometry"]["coordinates"] == [19.542, 51.7246]  # GeoJSON order: [lon, lat]
    leg = next(f for f in data["features"] if f["properties"]["id"] == "S16")
    assert leg["properties"]["mode"] == "ferry" and "southern" in leg["properties"]["corridors"]
    for f in data["features"]:
        for value in f["properties"].values():
            assert value is None or isinstance(value, (str, int, float, bool))
    assert [p.name for p in out.parent.iterdir()] == ["network.geojson"]


def test_a_bare_command_lists_what_it_can_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    text = capsys.readouterr().out
    assert all(command in text for command in ("simulate", "validate", "compare", "sweep", "map", "route"))


def test_a_node_on_a_border_lists_both_countries(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nodes", "--country", "KZ"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "KZRU_BORDER" in line)
    assert line.split()[1] == "KZ/RU"
