"""Hostile input: files built to crash, hang or deceive get one clear message and exit 1, never a
traceback, an infinity in the output or an escape sequence on the terminal."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

import corridors
from corridors.cli import _print_table, main
from corridors.errors import UNSAFE_CHARS, DataError, InputError, printable, show_value
from corridors.export import json_text
from corridors.loader import MAX_KEY_PARTS, MAX_TOML_BYTES, read_json, read_toml
from sim.validate import load_targets
from tests.conftest import one_leg_geometry, write_network


def node(r: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(n for n in r["nodes.toml"]["nodes"] if n["id"] == ident)


def leg(r: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(n for n in r["legs.toml"]["legs"] if n["id"] == ident)


def check_fails(tmp_path: Path, records: dict[str, Any], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    """`corridors check` on the records: exit 1, one line on stderr holding every needle."""
    assert main(["check", str(write_network(tmp_path / "net", records))]) == 1
    captured = capsys.readouterr()
    err = captured.err
    assert captured.out == ""
    assert err.startswith("corridors: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


def append(records: dict[str, Any], file: str, text: str) -> None:
    """Write the file's records as TOML, with ``text`` after them."""
    import tomli_w

    records[file] = tomli_w.dumps(records[file]) + text


# -- files that crash or hang a parser ---------------------------------------------------------


def test_toml_nested_500_deep(tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    append(tiny, "nodes.toml", "x = " + "[" * 500 + "]" * 500 + "\n")
    check_fails(tmp_path, tiny, capsys, "nodes.toml: ", "nest more than 32 deep")


def test_toml_inline_tables_nested_deep(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    append(tiny, "legs.toml", "x = " + "{a = " * 500 + "1" + "}" * 500 + "\n")
    check_fails(tmp_path, tiny, capsys, "legs.toml: ", "nest more than 32 deep")


def test_nesting_within_the_parser_but_too_deep(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    append(tiny, "nodes.toml", "x = " + "[" * 40 + "]" * 40 + "\n")
    check_fails(tmp_path, tiny, capsys, "nodes.toml: ", "nest more than 32 deep")


def test_geojson_nested_200000_deep(tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    tiny["geometry.geojson"] = '{"type": "FeatureCollection", "features": ' + "[" * 200_000 + "]" * 200_000 + "}"
    check_fails(tmp_path, tiny, capsys, "geometry.geojson: ", "nest more than 32 deep")


def test_integer_of_5001_digits(tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    tiny["legs.toml"] = (
        '[[legs]]\nid = "L1"\nfrom = "A"\nto = "B"\nmode = "rail"\ngauge_mm = 1435\n'
        f'distance_km = {{ value = {"1" * 5001}, source = "SRC1" }}\n'
    )
    err = check_fails(tmp_path, tiny, capsys, "legs.toml: ", "a whole number of more than 4,300 digits")
    assert len(err) < 200 and "set_int_max_str_digits" not in err


def test_geojson_integer_of_5001_digits(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tiny["geometry.geojson"] = json.dumps(one_leg_geometry("L1", [[80.0, 44.0], [81.0, 44.0]])).replace(
        "81.0", "1" * 5001
    )
    check_fails(tmp_path, tiny, capsys, "geometry.geojson: ", "more than 4,300 digits")


def test_a_date_where_a_number_belongs(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tiny["nodes.toml"] = tiny_toml_with(tiny, "nodes.toml", "lat = 44.0", "lat = 9999-12-31", count=1)
    check_fails(tmp_path, tiny, capsys, "nodes.toml: node A: lat = 9999-12-31: must be a number")


def tiny_toml_with(records: dict[str, Any], file: str, old: str, new: str, count: int = -1) -> str:
    import tomli_w

    text = tomli_w.dumps(records[file])
    assert old in text
    return text.replace(old, new, count)


def test_dotted_key_of_200000_parts_is_refused_quickly(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    append(tiny, "corridors.toml", "a" + ".a" * 200_000 + " = 1\n")
    started = time.monotonic()
    check_fails(tmp_path, tiny, capsys, "corridors.toml: line ", "a dotted key of 200,001 parts")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "text",
    [
        "[" + ".".join(["a"] * 1000) + "]\n",  # a table header
        "x = { " + ".".join(['"q"'] * 1000) + " = 1 }\n",  # quoted parts inside an inline table
    ],
)
def test_long_dotted_keys_in_headers_and_inline_tables(tmp_path: Path, text: str) -> None:
    path = tmp_path / "x.toml"
    path.write_text(text)
    with pytest.raises(DataError, match="a dotted key of 1,000 parts"):
        read_toml(path)


def test_dots_in_strings_and_numbers_are_not_key_parts(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    dots = "." * 5 * MAX_KEY_PARTS
    path.write_text(
        f'note = "{dots}"\nlit = \'{dots}\'\nml = """\n{dots}\n"""\n# {dots}\n'
        f"xs = [{', '.join(['1.5'] * 5 * MAX_KEY_PARTS)}]\na.b.c = 1\n"
    )
    data = read_toml(path)
    assert data["note"] == dots and data["a"] == {"b": {"c": 1}} and len(data["xs"]) == 5 * MAX_KEY_PARTS


def test_oversized_file(tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    append(tiny, "sources.toml", "# " + "x" * MAX_TOML_BYTES + "\n")
    check_fails(tmp_path, tiny, capsys, "sources.toml: is ", "bytes; a data file may have at most 4,000,000")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_geojson_refuses_non_finite_numbers(tmp_path: Path, literal: str) -> None:
    path = tmp_path / "g.geojson"
    path.write_text(json.dumps(one_leg_geometry("L1", [[80.0, 44.0], [81.0, 44.0]])).replace("81.0", literal))
    with pytest.raises(DataError, match="not valid JSON"):
        read_json(path)


# -- numbers that overflow ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            lambda r: r["modes.toml"]["modes"][0].update(cost_usd_per_feu_km={"value": 1e306, "source": "SRC1"}),
            "mode rail: cost_usd_per_feu_km.value = 1e+306: is too large (at most 1000)",
        ),
        (
            lambda r: r["modes.toml"]["modes"][0].update(co2_kg_per_teu_km={"value": 1e300, "source": "SRC1"}),
            "co2_kg_per_teu_km.value = 1e+300",
        ),
        (
            lambda r: node(r, "B")["facility"].update(servers={"value": 100_000_000, "source": "SRC1"}),
            "node B: facility.servers.value = 100000000: must be within (0, 200]",
        ),
        (
            lambda r: node(r, "B")["facility"].update(servers={"value": 1e308, "source": "SRC1"}),
            "node B: facility.servers.value = 1e+308: is too large",
        ),
        (
            lambda r: node(r, "B")["facility"].update(trains_per_day={"value": 1e12, "source": "SRC1"}),
            "facility.trains_per_day.value = 1000000000000",
        ),
        (
            lambda r: node(r, "B")["facility"].update(fee_usd_per_feu={"value": 1e20, "source": "SRC1"}),
            "facility.fee_usd_per_feu.value = 1e+20",
        ),
        (
            lambda r: node(r, "B")["facility"].update(process_h={"min": 1, "max": 1e300, "source": "SRC1"}),
            "facility.process_h.max = 1e+300: is too large (at most 8784)",
        ),
        (
            lambda r: leg(r, "L2").update(transit_d={"min": 1, "max": 400, "source": "SRC1"}),
            "leg L2: transit_d.max = 400: must be within (0, 366]",
        ),
        (
            lambda r: leg(r, "L1").update(distance_km={"value": 10**308, "source": "SRC1"}),
            "leg L1: distance_km.value = a whole number of 309 digits: is too large",
        ),
        (
            lambda r: leg(r, "L1").update(cost_usd_per_feu={"value": 1e306, "source": "SRC1"}),
            "leg L1: cost_usd_per_feu.value = 1e+306",
        ),
        (
            lambda r: leg(r, "L1").update(capacity_trains_per_day={"value": 1e306, "source": "SRC1"}),
            "leg L1: capacity_trains_per_day.value = 1e+306",
        ),
        (
            lambda r: leg(r, "L1").update(distance_km={"value": 100, "max": 1e306, "source": "SRC1"}),
            "leg L1: distance_km.max = 1e+306",
        ),
        (
            lambda r: leg(r, "L1").update(transit_h={"min": 5e-324, "max": 5e-324, "source": "SRC1"}),
            "gives an average speed of over 1,000,000 km/h",
        ),
        (lambda r: node(r, "A").update(lat=math.inf), "node A: lat = inf: must be a finite number"),
        (lambda r: node(r, "A").update(lon=math.nan), "node A: lon = nan: must be a finite number"),
    ],
)
def test_numbers_have_sane_bounds(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str], change: Any, needle: str
) -> None:
    change(tiny)
    check_fails(tmp_path, tiny, capsys, needle)


def test_the_largest_allowed_numbers_stay_finite_in_every_output(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    mode = tiny["modes.toml"]["modes"][0]
    mode["cost_usd_per_feu_km"] = {"value": 1000, "source": "SRC1"}
    mode["co2_kg_per_teu_km"] = {"value": 100, "source": "SRC1"}
    node(tiny, "B")["facility"].update(
        servers={"value": 200, "source": "SRC1"}, fee_usd_per_feu={"value": 1_000_000, "source": "SRC1"}
    )
    leg(tiny, "L1").update(
        distance_km={"value": 50_000, "source": "SRC1"},
        transit_h={"min": 8784, "max": 8784, "source": "SRC1"},
    )
    path = str(write_network(tmp_path / "net", tiny))
    for argv in (["show", "abc", "--json"], ["route", "a", "c", "--json"], ["list", "--json"], ["nodes", "--json"]):
        assert main([*argv, "--network", path]) == 0
        text = capsys.readouterr().out
        assert "Infinity" not in text and "NaN" not in text
        json.loads(text)
    assert main(["show", "abc", "--network", path]) == 0
    assert "inf" not in capsys.readouterr().out
    out = tmp_path / "n.geojson"
    assert main(["export", "--geojson", str(out), "--network", path]) == 0
    assert "Infinity" not in out.read_text()


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_json_text_refuses_non_finite_numbers(bad: float) -> None:
    with pytest.raises(InputError, match=r"cannot write JSON: rows\[1\]\.x is .*not a finite number"):
        json_text({"rows": [{"x": 1.0}, {"x": bad}]})
    assert json_text({"x": 1.5}) == '{\n "x": 1.5\n}\n'


def test_emit_refuses_non_finite_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    from corridors.cli import _emit

    with pytest.raises(InputError, match="total is inf"):
        _emit({"total": math.inf})
    assert capsys.readouterr().out == ""


# -- targets files -----------------------------------------------------------------------------

TARGET = """[[targets]]
id = "{ident}"
what = "Northern door to door"
kind = "end_to_end"
measure = "transit"
services = ["northern-chengdu-lodz"]
range_d = {pair}
source = ["ESTIMATE"]
"""


@pytest.mark.parametrize(
    ("ident", "pair", "needle"),
    [
        ("T1", "[0, inf]", "range_d = [0, inf]: must be [low, high] finite numbers"),
        ("T1", "[nan, 2]", "range_d = [nan, 2]: must be"),
        ("T1", "[0, 1e400]", "range_d = [0, inf]"),
        ("T1", "[0, " + "9" * 309 + "]", "range_d = [0, …]: must be"),
        ("T1", "[0, 1e300]", "<= 3660"),
        ("T1", "[0, " + "9" * 5001 + "]", "more than 4,300 digits"),
        ("T/../1", "[1, 2]", 'id = "T/../1": must be an identifier'),
        ("T1\\u001b[2J", "[1, 2]", "control character U+001B"),
    ],
)
def test_targets_ranges_are_finite_and_ids_safe(
    tmp_path: Path, network: corridors.Network, ident: str, pair: str, needle: str
) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(TARGET.format(ident=ident, pair=pair))
    with pytest.raises(DataError) as info:
        load_targets(path, network, {"northern-chengdu-lodz": ()})
    assert needle in str(info.value) and "\x1b" not in str(info.value)


def test_targets_file_nested_deep(tmp_path: Path, network: corridors.Network) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(TARGET.format(ident="T1", pair="[1, 2]") + "x = " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(DataError, match=r"targets\.toml: arrays or tables nest more than 32 deep"):
        load_targets(path, network, {"northern-chengdu-lodz": ()})


def test_validate_with_a_hostile_targets_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "targets.toml"
    path.write_text("a" + ".a" * 200_000 + " = 1\n")
    assert main(["validate", "--targets", str(path), "-r", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a dotted key of 200,001 parts" in err


def test_scenario_files_go_through_the_safe_reader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[scenario]\n" + "x = " + "[" * 500 + "]" * 500 + "\n")
    assert main(["simulate", str(path), "-r", "1", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nest more than 32 deep" in err


# -- ids and names -----------------------------------------------------------------------------


def _rename_node(r: dict[str, Any], old: str, new: str) -> None:
    node(r, old)["id"] = new
    for item in r["legs.toml"]["legs"]:
        for key in ("from", "to"):
            if item[key] == old:
                item[key] = new
    r["corridors.toml"]["corridors"][0]["nodes"] = [new if n == old else n for n in ["A", "B", "C"]]


@pytest.mark.parametrize("bad", ["a", "Kz_altynkol", "1A", "A-B", "A.B", "_A", "Ä", "A" * 65])
def test_node_ids_must_be_upper_case(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    _rename_node(tiny, "A", bad)
    check_fails(tmp_path, tiny, capsys, "nodes.toml: node #1: id = ", "node id must be upper case")


def test_leg_ends_that_are_not_node_ids(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    leg(tiny, "L1")["from"] = "a"
    check_fails(tmp_path, tiny, capsys, 'legs.toml: leg L1: from = "a": a node id must be upper case')


def test_corridor_naming_a_node_in_lower_case(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tiny["corridors.toml"]["corridors"][0]["nodes"] = ["a", "B", "C"]
    check_fails(tmp_path, tiny, capsys, 'nodes = "a": is not a node in nodes.toml (node ids are upper case)')


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda r: leg(r, "L1").update(id="../L1"), 'legs.toml: leg #1: id = "../L1": must be an identifier'),
        (lambda r: leg(r, "L1").update(id="-L1"), 'id = "-L1": must be an identifier'),
        (lambda r: leg(r, "L1").update(id="L" * 65), "at most 64 characters"),
        (
            lambda r: r["corridors.toml"]["corridors"][0].update(name="a/b"),
            'corridors.toml: corridor #1: name = "a/b": must be an identifier',
        ),
        (
            lambda r: r["sources.toml"]["sources"][0].update(id="SRC<1>"),
            'sources.toml: source #1: id = "SRC<1>": must be an identifier',
        ),
    ],
)
def test_other_ids_have_a_safe_character_set(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str], change: Any, needle: str
) -> None:
    change(tiny)
    check_fails(tmp_path, tiny, capsys, needle)


def test_geometry_leg_ids_have_a_safe_character_set(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tiny["geometry.geojson"] = one_leg_geometry("L1\x1b[2J" + "x" * 300, [[80.0, 44.0], [81.0, 44.0]])
    err = check_fails(tmp_path, tiny, capsys, "geometry.geojson: feature #1: properties.leg = ")
    assert "\x1b" not in err and len(err) < 300


def test_lower_case_from_the_command_line_still_finds_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "cn_chengdu", "pl_lodz", "--avoid", "ru,by"]) == 0
    assert "CN_CHENGDU" in capsys.readouterr().out


def test_bundled_ids_follow_the_rules(network: corridors.Network) -> None:
    import re

    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", n) for n in network.nodes)
    safe = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
    assert all(safe.fullmatch(x) for x in [*network.legs, *network.corridors, *network.sources])


# -- control characters ------------------------------------------------------------------------

CONTROLS = ["\x1b]0;pwned\x07", "\x9b2J", "\x7f", "\u202eevil", "\u2066x\u2069", "\x00", "a\nb"]


@pytest.mark.parametrize("bad", CONTROLS)
def test_names_with_control_characters_are_refused(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    node(tiny, "A")["name"] = "Alpha" + bad
    err = check_fails(tmp_path, tiny, capsys, "nodes.toml: node A: name = ", "holds the control character U+")
    assert not UNSAFE_CHARS.search(err.rstrip("\n"))


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r["corridors.toml"]["corridors"][0].update(title="A to C\x1b[31m"),
        lambda r: node(r, "A").update(coord_quality="\x1b[2J"),
        lambda r: r["sources.toml"]["sources"][0].update(citation="Cited\u202e"),
        lambda r: leg(r, "L1").update(note="\x07"),
        lambda r: leg(r, "L1").update(countries=["K\x1bZ"]),
        lambda r: r["corridors.toml"]["corridors"][0].update(nodes=["A\x1b", "B", "C"]),
    ],
)
def test_every_text_field_refuses_control_characters(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str], change: Any
) -> None:
    change(tiny)
    err = check_fails(tmp_path, tiny, capsys)
    assert "\x1b" not in err and "\u202e" not in err and "\x07" not in err


def test_notes_may_run_over_lines(tmp_path: Path, tiny: dict[str, Any]) -> None:
    leg(tiny, "L1")["note"] = "first line\n\tsecond line"
    net = corridors.load_network(write_network(tmp_path / "net", tiny))
    assert net.legs["L1"].notes["leg"] == "first line\n\tsecond line"


def test_unknown_keys_with_control_characters_are_shown_escaped(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    node(tiny, "A")["\x1b]0;x\x07" + "k" * 200] = 1
    err = check_fails(tmp_path, tiny, capsys, "node A: \\x1b]0;x\\x07kkk")
    assert "\x1b" not in err and len(err) < 500


def test_tables_escape_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    _print_table([["id", "name"], ["A", "Alpha\x1b]0;t\x07"], ["B", "\u202eBeta\x9b"]], right=set())
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\x9b" not in out and "\x07" not in out
    assert "Alpha\\x1b]0;t\\x07" in out and "\\u202eBeta\\x9b" in out


def test_printable() -> None:
    assert printable("a\x1bb\x85c\u200fd\te\nf") == "a\\x1bb\\x85c\\u200fd\\x09e\\x0af"
    assert printable("a\tb\nc\x1b", keep_lines=True) == "a\tb\nc\\x1b"
    assert printable("Łódź – Алматы") == "Łódź – Алматы"


# -- messages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ([None, 100], "[null, 100]"),
        (None, "(missing)"),
        (10**308, "a whole number of 309 digits"),
        (-(10**5000), "a whole number of 5,001 digits"),
        ([1, 10**400], "[1, …]"),
        (math.inf, "inf"),
        (1e306, "1e+306"),
        (2.5, "2.5"),
        (3.0, "3"),
        ("x" * 200, '"' + "x" * 58 + "…"),
        ([[[[[1]]]]], "[[[[…]]]]"),
        ({"a": 1}, "{ … }"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_values_in_messages_are_plain_and_clipped(value: Any, shown: str) -> None:
    assert show_value(value) == shown
    assert len(show_value(value)) <= 60


def test_geometry_coordinates_with_null(
    tmp_path: Path, tiny: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tiny["geometry.geojson"] = one_leg_geometry("L1", [[80.0, 44.0], [None, 100]])  # type: ignore[list-item]
    check_fails(tmp_path, tiny, capsys, "geometry.coordinates[1] = [null, 100]: must be [lon, lat]")


def test_a_long_input_error_is_clipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "x" * 5000]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 300


# -- nodes --country / --kind ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--country", "XX"], "--country 'XX': no node is in this country; the nodes are in: AZ, BY, CN"),
        (["--kind", "bordr"], "--kind 'bordr': not a node kind; the kinds are: terminal, border"),
    ],
)
def test_nodes_filter_naming_nothing_is_an_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    assert main(["nodes", *argv]) == 1
    captured = capsys.readouterr()
    assert needle in captured.err and captured.out == ""


def test_nodes_filters_accept_any_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nodes", "--country", "kz", "--kind", "Border"]) == 0
    out = capsys.readouterr().out
    assert "KZ_DOSTYK" in out and "CN_CHENGDU" not in out
