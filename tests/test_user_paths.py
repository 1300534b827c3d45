"""What a new user runs into: output files, odd paths, encodings, the API's arguments."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import corridors
from corridors.cli import main
from tests.conftest import one_leg_geometry, write_network


def test_export_refuses_a_folder_or_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--geojson", str(tmp_path)]) == 1
    assert "exists and is not a regular file" in capsys.readouterr().err
    assert main(["export", "--geojson", os.devnull]) == 1
    assert "is not a regular file" in capsys.readouterr().err
    assert main(["export", "--geojson", str(tmp_path / "missing" / "net.geojson")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_export_writes_a_readable_file_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.geojson"
    real.write_text("old")
    link = tmp_path / "link.geojson"
    link.symlink_to(real)
    assert main(["export", "--geojson", str(link)]) == 0
    assert link.is_symlink() and json.loads(real.read_text())["type"] == "FeatureCollection"
    assert real.stat().st_mode & stat.S_IROTH or os.umask(0o022) & 0o004
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.geojson", "real.geojson"]


def test_network_option_must_be_a_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("hello")
    assert main(["list", "--network", str(readme)]) == 1
    assert "README.md: is a file, not a network folder" in capsys.readouterr().err
    assert main(["list", "--network", ""]) == 1
    assert "give a network folder" in capsys.readouterr().err
    assert main(["list", "--network", str(tmp_path)]) == 1
    assert "sources.toml: file not found: the network folder" in capsys.readouterr().err


def test_check_takes_network_too(tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    path = write_network(tmp_path / "net", tiny)
    assert main(["check", "--network", str(path)]) == 0
    assert "as straight lines: 2 (L1, L2)" in capsys.readouterr().out


def test_byte_order_mark_is_accepted(tmp_path: Path, tiny: dict[str, Any]) -> None:
    path = write_network(tmp_path / "net", tiny)
    modes = path / "modes.toml"
    modes.write_bytes(b"\xef\xbb\xbf" + modes.read_bytes())
    assert corridors.load_network(path).legs


def test_empty_nodes_file(tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    tiny["nodes.toml"] = ""
    assert main(["check", str(write_network(tmp_path / "net", tiny))]) == 1
    assert "nodes.toml: holds no [[nodes]] records" in capsys.readouterr().err


def test_misspelt_table_name(tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    tiny["legs.toml"] = {"leg": tiny["legs.toml"]["legs"]}
    assert main(["check", str(write_network(tmp_path / "net", tiny))]) == 1
    err = capsys.readouterr().err
    assert "legs.toml: unknown top-level key 'leg' (a typo?); this file holds [[legs]] records" in err
    assert "{'id'" not in err


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"distance_km": {"value": 38000, "source": "SRC1"}}, "gives an average speed of 2,923.1 km/h"),
        ({"transit_h": {"min": 1, "max": 1.7, "source": "SRC1"}}, "a rail leg should be within 1-120 km/h"),
    ],
)
def test_implausible_speed_is_an_error(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str], change: dict[str, Any], needle: str
) -> None:
    tiny["legs.toml"]["legs"][0].update(change)
    if "transit_h" in change:
        tiny["legs.toml"]["legs"][0]["distance_km"] = {"value": 3800, "source": "SRC1"}
    assert main(["check", str(write_network(tmp_path / "net", tiny))]) == 1
    err = capsys.readouterr().err
    assert "legs.toml: leg L1:" in err and needle in err


def test_given_distance_shorter_than_geometry(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tiny["geometry.geojson"] = one_leg_geometry("L1", [[80.0, 44.0], [80.5, 46.0], [81.0, 44.0]])
    assert main(["check", str(write_network(tmp_path / "net", tiny))]) == 1
    assert "distance_km.value = 100: is shorter than the leg's own geometry" in capsys.readouterr().err


def test_avoid_a_transit_country_of_a_leg(network: corridors.Network) -> None:
    assert "RS" in network.countries
    routes = corridors.route(network, "CN_CHENGDU", "PL_LODZ", avoid=["RU", "RS"], k=3)
    assert routes and all("S20a" not in r.leg_ids for r in routes)
    s = corridors.summarize_corridor(network, "southern")
    assert s.countries.index("TR") < s.countries.index("BG") < s.countries.index("RS") < s.countries.index("HU")


def test_repeated_avoid_options_all_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "CN_CHENGDU", "PL_LODZ", "--by", "cost", "--avoid", "YE", "--avoid", "RU", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["avoid"] == ["YE", "RU"]
    assert "EG_SUEZ" not in [n["id"] for n in data["nodes"]]


def test_node_ids_in_any_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "cn_chengdu", "ir_tehran"]) == 0
    assert "KZ_ALTYNKOL" in capsys.readouterr().out


def test_nodes_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nodes", "--country", "kz", "--kind", "gauge_change", "--json"]) == 0
    ids = [n["id"] for n in json.loads(capsys.readouterr().out)["nodes"]]
    assert ids == ["KZ_ALTYNKOL", "KZ_DOSTYK"]
    assert main(["nodes"]) == 0
    assert "PL_MALASZEWICZE" in capsys.readouterr().out


def test_unknown_node_does_not_dump_every_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "CN_CHENGDU", "NOWHERE"]) == 1
    err = capsys.readouterr().err
    assert "`corridors nodes` shows them all" in err and "AZ_ALAT" not in err


def test_api_arguments_give_project_errors(network: corridors.Network) -> None:
    with pytest.raises(corridors.InputError):
        corridors.route(network, "CN_CHENGDU", "PL_LODZ", k="2")  # type: ignore[arg-type]
    with pytest.raises(corridors.InputError, match="joins CN_CHENGDU and CN_KHORGOS"):
        corridors.summarize_path(network, ["CN_CHENGDU", "PL_LODZ"], ["S01"])
    with pytest.raises(corridors.InputError):
        corridors.summarize_path(network, ["CN_CHENGDU"], [])
    best = corridors.route(network, "CN_CHENGDU", "PL_LODZ", avoid="RU,BY")[0]  # a string is split on commas
    assert "RUBY_BORDER" not in best.node_ids


def test_output_in_a_non_utf8_terminal() -> None:
    env = dict(os.environ, PYTHONIOENCODING="cp1252")
    for argv in (["show", "northern"], ["list", "--json"]):
        proc = subprocess.run([sys.executable, "-m", "corridors.cli", *argv], capture_output=True, env=env, check=False)
        assert proc.returncode == 0, proc.stderr
        assert b"Traceback" not in proc.stderr
    data = json.loads(proc.stdout.decode("cp1252"))
    assert "Łódź" in data["corridors"][0]["title"]
