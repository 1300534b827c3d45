"""The bad-input table: each broken network gets one clear message naming file, record, field, value."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import corridors
from corridors.cli import main
from tests.conftest import one_leg_geometry, write_network

Change = Callable[[dict[str, Any]], None]


def node(r: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(n for n in r["nodes.toml"]["nodes"] if n["id"] == ident)


def leg(r: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(n for n in r["legs.toml"]["legs"] if n["id"] == ident)


def _set(getter: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Change:
    def change(r: dict[str, Any]) -> None:
        getter(r)[key] = value

    return change


def _dup_node(r: dict[str, Any]) -> None:
    r["nodes.toml"]["nodes"].append(dict(node(r, "C"), name="Another C"))


def _no_leg_corridor(r: dict[str, Any]) -> None:
    r["corridors.toml"]["corridors"][0]["nodes"] = ["A", "C"]


def _drop_source(r: dict[str, Any]) -> None:
    del leg(r, "L1")["distance_km"]["source"]


def _bare_number(r: dict[str, Any]) -> None:
    leg(r, "L1")["distance_km"] = 100


def _syntax(r: dict[str, Any]) -> None:
    r["legs.toml"] = '[[legs]]\nid = "L1"\nfrom = "A"\nto = \n'


def _gauge_break(r: dict[str, Any]) -> None:
    node(r, "B")["kinds"] = ["border"]


# (case id, change, file, record, field, value shown)
CASES: list[tuple[str, Change, str, str, str, str]] = [
    ("unknown node in leg", _set(lambda r: leg(r, "L2"), "to", "ZZ"), "legs.toml", "leg L2", "to", '"ZZ"'),
    (
        "unknown node in corridor",
        lambda r: r["corridors.toml"]["corridors"][0].update(nodes=["A", "B", "QQ"]),
        "corridors.toml",
        "corridor abc",
        "nodes",
        '"QQ"',
    ),
    ("duplicate id", _dup_node, "nodes.toml", "node C", "id", '"C"'),
    ("latitude out of range", _set(lambda r: node(r, "A"), "lat", 95.5), "nodes.toml", "node A", "lat", "95.5"),
    ("longitude out of range", _set(lambda r: node(r, "C"), "lon", -181), "nodes.toml", "node C", "lon", "-181"),
    (
        "negative distance",
        _set(lambda r: leg(r, "L1"), "distance_km", {"value": -5, "source": "SRC1"}),
        "legs.toml",
        "leg L1",
        "distance_km.value",
        "-5",
    ),
    (
        "zero time",
        _set(lambda r: leg(r, "L1"), "transit_h", {"min": 0, "max": 3, "source": "SRC1"}),
        "legs.toml",
        "leg L1",
        "transit_h.min",
        "0",
    ),
    (
        "min above max",
        _set(lambda r: leg(r, "L1"), "transit_h", {"min": 5, "max": 3, "source": "SRC1"}),
        "legs.toml",
        "leg L1",
        "transit_h.min",
        "5",
    ),
    (
        "min above max in a facility",
        lambda r: node(r, "B")["facility"].update(process_h={"min": 9, "max": 3, "source": "SRC1"}),
        "nodes.toml",
        "node B",
        "facility.process_h.min",
        "9",
    ),
    ("unknown mode", _set(lambda r: leg(r, "L1"), "mode", "rial"), "legs.toml", "leg L1", "mode", '"rial"'),
    (
        "unknown kind",
        _set(lambda r: node(r, "A"), "kinds", ["terminus"]),
        "nodes.toml",
        "node A",
        "kinds",
        '"terminus"',
    ),
    ("gauge break without a gauge-change node", _gauge_break, "legs.toml", "leg L2", "gauge_mm", "1520"),
    ("corridor nodes without a leg", _no_leg_corridor, "corridors.toml", "corridor abc", "nodes", '"A -> C"'),
    ("missing source", _drop_source, "legs.toml", "leg L1", "distance_km.source", "(missing)"),
    ("number without a source", _bare_number, "legs.toml", "leg L1", "distance_km", "100"),
    (
        "unknown source key",
        _set(lambda r: node(r, "A"), "coord_source", ["NOPE_2020"]),
        "nodes.toml",
        "node A",
        "coord_source",
        '"NOPE_2020"',
    ),
    ("unknown key (typo)", _set(lambda r: leg(r, "L1"), "distance_kms", 3), "legs.toml", "leg L1", "distance_kms", "3"),
    (
        "unknown key in a facility",
        lambda r: node(r, "B")["facility"].update(servrs={"value": 2, "source": "SRC1"}),
        "nodes.toml",
        "node B",
        "facility.servrs",
        "",
    ),
    ("wrong type", _set(lambda r: node(r, "A"), "lat", "44N"), "nodes.toml", "node A", "lat", '"44N"'),
]


@pytest.mark.parametrize(
    ("change", "file", "record", "field", "value"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_network_is_named_precisely(
    tmp_path: Path,
    tiny: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    change: Change,
    file: str,
    record: str,
    field: str,
    value: str,
) -> None:
    change(tiny)
    path = write_network(tmp_path / "net", tiny)
    assert main(["check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    message = err.strip()
    assert "\n" not in message and "Traceback" not in message
    assert f"{file}: {record}: {field} = {value}" in message, message


def test_the_tiny_network_is_valid(tmp_path: Path, tiny: dict[str, Any]) -> None:
    assert main(["check", str(write_network(tmp_path / "net", tiny))]) == 0


def test_toml_syntax_error_names_file_and_line(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    _syntax(tiny)
    assert main(["check", str(write_network(tmp_path / "net", tiny))]) == 1
    err = capsys.readouterr().err
    assert "legs.toml: TOML syntax error" in err and "line 4" in err


def test_missing_file_is_named(tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    del tiny["modes.toml"]
    assert main(["check", str(write_network(tmp_path / "net", tiny))]) == 1
    assert "modes.toml: file not found" in capsys.readouterr().err


def test_geometry_that_misses_its_nodes(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tiny["geometry.geojson"] = one_leg_geometry("L1", [[80.0, 44.0], [81.0, 44.0], [90.0, 10.0]])
    assert main(["check", str(write_network(tmp_path / "net", tiny))]) == 1
    err = capsys.readouterr().err
    assert "geometry.geojson: feature L1: geometry.coordinates = [90.0, 10.0]" in err
    assert "from node B" in err


def test_geometry_for_an_unknown_leg(tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    tiny["geometry.geojson"] = one_leg_geometry("L9", [[80.0, 44.0], [81.0, 44.0]])
    assert main(["check", str(write_network(tmp_path / "net", tiny))]) == 1
    assert 'feature L9: properties.leg = "L9": is not a leg in legs.toml' in capsys.readouterr().err


def test_api_raises_the_project_error(tmp_path: Path, tiny: dict[str, Any]) -> None:
    leg(tiny, "L1")["mode"] = "zeppelin"
    with pytest.raises(corridors.DataError) as info:
        corridors.load_network(write_network(tmp_path / "net", tiny))
    assert info.value.field == "mode" and info.value.value == "zeppelin" and info.value.record == "leg L1"


def test_console_script_exits_1_without_traceback(tmp_path: Path, tiny: dict[str, Any]) -> None:
    node(tiny, "A")["lat"] = 123
    path = write_network(tmp_path / "net", tiny)
    proc = subprocess.run(
        [sys.executable, "-m", "corridors.cli", "check", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "nodes.toml: node A: lat = 123: must be within [-90, 90]" in proc.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["route", "CN_CHENGDU"],
        ["show"],
        ["route", "A", "B", "-k", "0"],
        ["route", "A", "B", "--by", "speed"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["show", "nothern"], "unknown corridor 'nothern'; did you mean northern"),
        (["route", "CN_CHENGDU", "PL_LODX"], "unknown node 'PL_LODX'; did you mean PL_LODZ"),
        (["route", "CN_CHENGDU", "PL_LODZ", "--avoid", "XX"], "--avoid 'XX' is neither a node id nor a country"),
        (["route", "CN_CHENGDU", "PL_LODZ", "--avoid", "CN"], "the origin CN_CHENGDU (CN) is among the avoided"),
        (["route", "CN_CHENGDU", "PL_LODZ", "--avoid", "PL_MALASZEWICZE,TR,RO,NL,ZA"], "no route from CN_CHENGDU"),
        (["check", "/nonexistent/net"], "no such network folder"),
    ],
)
def test_bad_arguments_exit_1(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_export_to_an_unwritable_place_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file-not-dir"
    target.write_text("x")
    assert main(["export", "--geojson", str(target / "net.geojson")]) == 1
    assert "error" in capsys.readouterr().err
    assert target.read_text() == "x"
