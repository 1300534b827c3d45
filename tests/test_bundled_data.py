"""The bundled network against the published figures it was built from."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import corridors
from corridors.summary import summarize_corridor

DATA = corridors.bundled_data_dir() / "network"


def total_km(network: corridors.Network, name: str) -> float:
    return summarize_corridor(network, name).total_distance_km


@pytest.mark.parametrize(
    ("name", "published_km", "source"),
    [
        ("northern", 9826, "XINHUA_2013_CHENGDU"),
        ("northern-xian-duisburg", 9908, "SHIPHUB_2022"),
        ("northern-chongqing-duisburg", 11179, "CHINADAILY_2013_YXO"),
    ],
)
def test_northern_lengths_match_published(
    network: corridors.Network, name: str, published_km: float, source: str
) -> None:
    assert source in network.sources
    assert total_km(network, name) == pytest.approx(published_km, rel=0.05)


def test_southern_sections_match_published(network: corridors.Network) -> None:
    legs = network.legs
    # Kazakh section Altynkol -> Bolashak: 3,185 km (ORIENT_2022) to 3,450 km (NCA_2022)
    kz = sum(legs[i].distance_km for i in ["S03", "S04", "S05", "S06", "S07"])
    assert 3185 * 0.95 <= kz <= 3450 * 1.05
    # Iranian section Incheh Borun -> Razi: 1,517 km (ORIENT_2022)
    assert sum(legs[i].distance_km for i in ["S11", "S12", "S13"]) == pytest.approx(1517, rel=0.05)
    # Lake Van ferry route 90.6 km (JMEDIAWIKI_VAN), 3.5 h (RAILTURKEY_2018)
    assert legs["S16"].distance_km == pytest.approx(90.6)
    assert legs["S16"].transit_h.mode_h == pytest.approx(3.5)


def test_middle_kazakh_section_matches_published(network: corridors.Network) -> None:
    kz = sum(network.legs[i].distance_km for i in ["S03", "S04", "S05", "M01"])
    assert kz == pytest.approx(3200, rel=0.05)  # TRT_2020


def test_southern_lists_every_leg_and_two_gauge_breaks(network: corridors.Network) -> None:
    s = summarize_corridor(network, "southern")
    expected = [
        "CN_CHENGDU",
        "CN_KHORGOS",
        "KZ_ALTYNKOL",
        "KZ_ALMATY",
        "KZ_SHYMKENT",
        "KZ_BEYNEU",
        "KZ_ZHANAOZEN",
        "KZ_BOLASHAK",
        "TM_SERHETYAKA",
        "TM_ETREK",
        "IR_INCHEH_BORUN",
        "IR_TEHRAN",
        "IR_TABRIZ",
        "IR_RAZI",
        "TR_KAPIKOY",
        "TR_VAN",
        "TR_TATVAN",
        "TR_ANKARA",
        "TR_ISTANBUL",
        "TR_KAPIKULE",
        "HU_BUDAPEST",
        "PL_LODZ",
    ]
    assert [n.id for n in s.nodes] == expected
    assert [(g.node_id, g.from_gauge_mm, g.to_gauge_mm) for g in s.gauge_breaks] == [
        ("KZ_ALTYNKOL", 1435, 1520),
        ("TM_ETREK", 1520, 1435),
    ]
    ferry = [step for step in s.steps if step.leg.mode == "ferry"]
    assert [(f.from_id, f.to_id) for f in ferry] == [("TR_VAN", "TR_TATVAN")]


@pytest.mark.parametrize("name", ["southern", "northern", "middle", "middle-btk", "sea-suez", "sea-cape"])
def test_required_corridors_exist(network: corridors.Network, name: str) -> None:
    assert network.corridor(name).leg_ids


def test_northern_variants(network: corridors.Network) -> None:
    ends = {(c.node_ids[0], c.node_ids[-1]) for c in network.corridors.values() if c.name.startswith("northern")}
    origins = {a for a, _ in ends}
    destinations = {b for _, b in ends}
    assert {"CN_CHENGDU", "CN_XIAN", "CN_CHONGQING"} <= origins
    assert {"PL_LODZ", "DE_DUISBURG", "DE_HAMBURG"} <= destinations


def test_middle_has_both_branches(network: corridors.Network) -> None:
    assert {"GE_POTI", "RO_CONSTANTA", "HU_BUDAPEST"} <= set(network.corridor("middle").node_ids)
    assert {"GE_TBILISI", "TR_KARS", "TR_ISTANBUL"} <= set(network.corridor("middle-btk").node_ids)
    for name in ("middle", "middle-btk"):
        ids = network.corridor(name).node_ids
        assert ids[0] == "CN_XIAN" and {"KZ_ALTYNKOL", "KZ_AKTAU", "AZ_ALAT"} <= set(ids)


def test_sea_routes_differ_and_take_published_times(network: corridors.Network) -> None:
    suez, cape = (summarize_corridor(network, n) for n in ("sea-suez", "sea-cape"))
    assert "EG_SUEZ" in {n.id for n in suez.nodes} and "ZA_CAPE" in {n.id for n in cape.nodes}
    sea_km = {
        name: sum(st.leg.distance_km for st in s.steps if st.leg.mode == "sea")
        for name, s in (("suez", suez), ("cape", cape))
    }
    assert sea_km["suez"] == pytest.approx(19800, rel=0.05)  # 10,600-11,000 nm (OKEANIA_PEM, JIFFA_2023)
    assert sea_km["cape"] == pytest.approx(25700, rel=0.05)  # 13,800-14,000 nm
    sea_d = {
        name: sum(st.leg.transit_h.mode_h for st in s.steps if st.leg.mode == "sea") / 24
        for name, s in (("suez", suez), ("cape", cape))
    }
    assert sea_d["suez"] == pytest.approx(32, abs=0.5)
    assert 7 <= sea_d["cape"] - sea_d["suez"] <= 14


def test_gauge_breaks_only_at_gauge_change_nodes(network: corridors.Network) -> None:
    for corridor in network.corridors.values():
        for g in summarize_corridor(network, corridor).gauge_breaks:
            assert network.nodes[g.node_id].has_kind("gauge_change"), (corridor.name, g)


def test_every_number_names_a_source_or_estimate(network: corridors.Network) -> None:
    """Provenance: every sourced field of every record names known source keys."""
    groups = [(n.id, n.sources) for n in network.nodes.values()]
    groups += [(n.id, n.facility.sources) for n in network.nodes.values() if n.facility]
    groups += [(leg.id, leg.sources) for leg in network.legs.values()]
    for ident, sources in groups:
        for field, keys in sources.items():
            assert keys, (ident, field)
            assert set(keys) <= set(network.sources), (ident, field, keys)
    for leg in network.legs.values():
        for field in ("distance_km", "transit_h", "co2_kg_per_teu_km", "cost_usd_per_feu"):
            assert field in leg.sources, (leg.id, field)


def test_every_number_in_the_files_sits_in_a_sourced_table() -> None:
    """Read the TOML itself: a bare number is only allowed for coordinates and gauge (whose source is given)."""
    bare_ok = {"lat", "lon", "gauge_mm"}
    for name in ("nodes.toml", "legs.toml", "modes.toml"):
        data = tomllib.loads((DATA / name).read_text(encoding="utf-8"))
        for record in next(iter(data.values())):
            _check_numbers(record, bare_ok, f"{name}:{record.get('id', record.get('mode'))}")


def _check_numbers(table: dict[str, object], bare_ok: set[str], where: str) -> None:
    has_source = "source" in table
    for key, value in table.items():
        if isinstance(value, dict):
            _check_numbers(value, set(), f"{where}.{key}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            assert key in bare_ok or has_source, f"{where}.{key} = {value} has no source"


def test_node_ids_and_sources_keep_the_reference_keys(network: corridors.Network) -> None:
    for ident in (
        "CN_CHENGDU",
        "KZ_ALTYNKOL",
        "PL_LODZ",
        "TM_ETREK",
        "IR_INCHEH_BORUN",
        "TR_VAN",
        "KZ_AKTAU",
        "AZ_ALAT",
        "PL_MALASZEWICZE",
        "NL_ROTTERDAM",
        "PL_GDANSK",
    ):
        assert ident in network.nodes
    assert re.fullmatch(r"[A-Z0-9_]+", "".join(network.sources))
    assert "ESTIMATE" in network.sources


def test_load_from_another_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert len(corridors.load_network().corridors) >= 6
