"""The HTML map, without a browser: offline, sized, escaped, drawn from the legs' geometry."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import folium
import pytest

import corridors
from corridors.cli import main
from maps.network_map import _basemap, build_network_map
from maps.offline import VENDOR, OfflineError, external_references, render_offline, without_vendored
from sim.runner import RunResult
from tests.conftest import write_network

TILE_PATTERNS = ("tile.openstreetmap", "{z}/{x}/{y}", "tiles.stadiamaps", "basemaps.cartocdn", "arcgisonline")


@pytest.fixture(scope="module")
def network_html(network: corridors.Network) -> str:
    return render_offline(build_network_map(network))


def test_no_reference_leaves_the_page(network_html: str) -> None:
    assert external_references(without_vendored(network_html)) == []
    assert len(without_vendored(network_html)) < len(network_html) - 100_000  # the libraries were inlined
    assert not any(p in network_html for p in TILE_PATTERNS)
    assert "cdn.jsdelivr" not in network_html and "code.jquery.com" not in network_html


def test_network_map_size_budget(network_html: str) -> None:
    assert len(network_html.encode("utf-8")) < 1.5e6


def other_legs(network: corridors.Network) -> list[corridors.Leg]:
    on = {leg_id for c in network.corridors.values() for leg_id in c.leg_ids}
    return [leg for leg in network.legs.values() if leg.id not in on]


def test_one_path_per_leg_of_each_corridor(network: corridors.Network, network_html: str) -> None:
    others = other_legs(network)
    assert {leg.id for leg in others} >= {"M01k", "M02k", "M06c", "M07c"}  # Kuryk and Batumi are drawn too
    drawn = network_html.count("L.polyline(")
    assert drawn == sum(len(c.leg_ids) for c in network.corridors.values()) + len(others)
    nodes = {n for c in network.corridors.values() for n in c.node_ids} | {
        n for leg in others for n in (leg.from_id, leg.to_id)
    }
    assert network_html.count("L.circleMarker(") == len(nodes)


def polylines(m: folium.Map) -> dict[str, list[list[float]]]:
    """Leg id -> drawn coordinates, for every PolyLine in the map."""
    found: dict[str, list[list[float]]] = {}

    def walk(element: Any) -> None:
        for child in element._children.values():
            if isinstance(child, folium.PolyLine):
                leg = re.search(r"leg-(\S+)", child.options["className"])
                assert leg
                found[leg.group(1)] = child.locations
            walk(child)

    walk(m)
    return found


def test_paths_follow_the_legs_geometry(network: corridors.Network) -> None:
    drawn = polylines(build_network_map(network, ["sea-suez", "sea-cape", "middle"]))
    for leg_id, coords in drawn.items():
        assert [tuple(p) for p in coords] == list(network.legs[leg_id].path)
    suez = [p for leg in ("X02a", "X02b", "X02c") for p in drawn[leg]]
    cape = [p for leg in ("X03a", "X03b") for p in drawn[leg]]
    assert any(27 < lat < 31 and 32 < lon < 34 for lat, lon in suez) and min(lat for lat, _ in cape) < -34
    assert len(drawn["M02"]) > 2  # the Caspian ferry goes round Absheron, not straight


def test_basemap_has_no_ring_across_the_antimeridian() -> None:
    for feature in _basemap()["features"]:
        for polygon in feature["geometry"]["coordinates"]:
            for ring in polygon:
                assert all(abs(b[0] - a[0]) <= 180 for a, b in itertools.pairwise(ring)), feature
    assert "Russia" in {f["properties"]["name"] for f in _basemap()["features"]}


def test_vendored_files_match_their_checksums() -> None:
    lines = (VENDOR / "SHA256SUMS").read_text().splitlines()
    assert len(lines) >= 5
    for line in lines:
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_an_unknown_library_is_refused() -> None:
    m = folium.Map(tiles=None)
    from folium import plugins

    plugins.Fullscreen().add_to(m)  # links a library that is not vendored
    with pytest.raises(OfflineError, match="unknown"):
        render_offline(m)


def xss_network(tmp_path: Path, tiny: dict[str, Any]) -> Path:
    tiny["nodes.toml"]["nodes"][1]["name"] = '<img src=x onerror="window.__xss=1"> `${alert(2)}`'
    return write_network(tmp_path / "net", tiny)


def test_backslashes_in_names_do_not_break_the_page(tmp_path: Path, tiny: dict[str, Any]) -> None:
    tiny["nodes.toml"]["nodes"][1]["name"] = r"Aktau \x port C:\users \1"
    net = corridors.load_network(write_network(tmp_path / "net", tiny))
    html = without_vendored(render_offline(build_network_map(net)))
    blocks = re.findall(r'<script type="application/json" id="([\w-]+)">(.*?)</script>', html, re.S)
    labels = [json.loads(text) for name, text in blocks if name.startswith("corridors-labels-")]
    assert r"Aktau \x port C:\users \1" in [label[2] for label in labels[0]]  # JSON data, for JSON.parse
    markup = re.sub(r'<script type="application/json".*?</script>', "", html, flags=re.S)
    assert "\\x" not in markup and "Aktau &#92;x port C:&#92;users &#92;1" in markup


def test_names_from_data_files_are_escaped(tmp_path: Path, tiny: dict[str, Any]) -> None:
    net = corridors.load_network(xss_network(tmp_path, tiny))
    html = render_offline(build_network_map(net))
    page = without_vendored(html)
    assert "<img src=x" not in page and 'onerror="' not in page and "${alert" not in page
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt; &#96;&#36;&#123;alert(2)&#125;&#96;" in html


def test_map_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.html"
    assert main(["map", "southern", "northern", "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.count("L.polyline(") == 21 + 7
    assert main(["map", "nowhere", "--out", str(tmp_path / "x.html")]) == 1
    assert "unknown corridor 'nowhere'" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


@pytest.fixture
def run_folder(baseline_folder: Path) -> Path:
    """``corridors simulate -r 1``'s folder for the baseline (the session's: read it, copy it to change it)."""
    return baseline_folder


def test_simulate_writes_a_results_map(run_folder: Path) -> None:
    html = (run_folder / "map.html").read_text(encoding="utf-8")
    assert len(html.encode("utf-8")) < 5e6
    assert external_references(without_vendored(html)) == []
    assert re.search(r'id="corridors-anim-map_\w+"', html) and "Stay at nodes (results)" in html
    assert "<title>corridors: results of baseline" in html


def test_the_manifest_names_bundled_inputs_without_a_home_folder(run_folder: Path) -> None:
    import json

    names = set(json.loads((run_folder / "manifest.json").read_text())["inputs_sha256"])
    assert {"bundled:scenarios/baseline.toml", "bundled:network/legs.toml", "bundled:network/nodes.toml"} <= names
    assert not any(name.startswith("/") for name in names)


def test_map_with_results_from_a_folder(run_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.html"
    assert main(["map", "--results", str(run_folder), "--window-d", "30", "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    data = re.search(r'id="corridors-anim-map_\w+">(.*?)</script>', html, re.S)
    assert data
    import json

    anim = json.loads(data.group(1))
    assert anim["window_h"] == 30 * 24 and 0 < len(anim["trains"]) <= 1500
    assert all(seg[0] <= 30 * 24 for train in anim["trains"] for seg in train)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            lambda s: s["nodes"].update({"NOWHERE": {"wait_h": {"mean": 1, "p95": 2}}}),
            'summary.json: node NOWHERE: nodes = "NOWHERE": is not a node of the network',
        ),
        (
            lambda s: s["legs"]["S01"].update(trains_per_week="many"),
            'leg S01: trains_per_week = "many": must be a finite',
        ),
        (lambda s: s.pop("legs"), "summary.json: legs = (missing): is missing"),
    ],
)
def test_results_from_a_stranger_are_checked(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, needle: str
) -> None:
    import json
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    summary = json.loads((folder / "summary.json").read_text())
    change(summary)
    (folder / "summary.json").write_text(json.dumps(summary))
    assert main(["map", "--results", str(folder), "--out", str(tmp_path / "m.html")]) == 1
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "m.html").exists()


def test_results_events_are_checked(run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gzip
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    with gzip.open(folder / "events.csv.gz", "wt") as f:
        f.write("replication,train,place,leg,event,time_h,time\n0,t1,<script>,N01,arrive,1.0,x\n")
    assert main(["map", "--results", str(folder), "--out", str(tmp_path / "m.html")]) == 1
    assert 'events.csv.gz: line 2: place = "<script>": is not a node of the network' in capsys.readouterr().err
    with gzip.open(folder / "events.csv.gz", "wt") as f:
        f.write("replication,train,place,leg,event,time_h,time\n0,t1,KZ_DOSTYK,<b>N01,arrive,1.0,x\n")
    assert main(["map", "--results", str(folder), "--out", str(tmp_path / "m.html")]) == 1
    assert 'events.csv.gz: line 2: leg = "<b>N01": is not a leg of the network' in capsys.readouterr().err
    with gzip.open(folder / "events.csv.gz", "wt") as f:  # a folder from before the log named legs
        f.write("replication,train,place,event,time_h,time\n0,t1,KZ_DOSTYK,arrive,1.0,x\n")
    assert main(["map", "--results", str(folder), "--out", str(tmp_path / "m.html")]) == 1
    assert 'columns = ["leg"]: are missing (a folder from an older corridors?' in capsys.readouterr().err


def test_a_parquet_event_log_is_checked(run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The default event log, events.parquet, meets the same checks as the CSV one (and a file
    that is not Parquet at all is one line too)."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    (folder / "events.csv.gz").unlink(missing_ok=True)
    good = pq.read_table(folder / "events.parquet")
    assert main(["map", "--results", str(folder), "--out", str(tmp_path / "ok.html")]) == 0
    rows = good.slice(0, 3).to_pylist()
    rows[1]["place"] = "<script>"
    pq.write_table(pa.Table.from_pylist(rows), folder / "events.parquet")
    assert main(["map", "--results", str(folder), "--out", str(tmp_path / "m.html")]) == 1
    assert 'events.parquet: row 2: place = "<script>": is not a node of the network' in capsys.readouterr().err
    rows[1]["place"], rows[1]["time_h"] = rows[0]["place"], float("nan")
    pq.write_table(pa.Table.from_pylist(rows), folder / "events.parquet")
    assert main(["map", "--results", str(folder), "--out", str(tmp_path / "m.html")]) == 1
    assert "events.parquet: row 2: time_h = nan: must be a finite number" in capsys.readouterr().err
    (folder / "events.parquet").write_bytes(b"PAR1 not really")
    assert main(["map", "--results", str(folder), "--out", str(tmp_path / "m.html")]) == 1
    err = capsys.readouterr().err
    assert "events.parquet: not a readable Parquet file" in err and "Traceback" not in err
    assert not (tmp_path / "m.html").exists()


def test_results_for_some_corridors_show_only_theirs(
    run_folder: Path, tmp_path: Path, network: corridors.Network
) -> None:
    import json

    out = tmp_path / "m.html"
    assert main(["map", "southern", "--results", str(run_folder), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="corridors-anim-map_\w+">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    southern = network.corridor("southern")
    assert "wait-PL_MALASZEWICZE" not in html and "wait-KZ_ALTYNKOL" in html
    on_route = {tuple(network.nodes[n].latlon) for n in southern.node_ids}
    assert {(round(a, 3), round(b, 3)) for a, b in data["nodes"]} <= {(round(a, 3), round(b, 3)) for a, b in on_route}


def test_empty_event_log_is_an_error(run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gzip
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    with gzip.open(folder / "events.csv.gz", "wt") as f:
        f.write("replication,train,service,place,leg,event,time_h,time\n")
    assert main(["map", "--results", str(folder), "--out", str(tmp_path / "m.html")]) == 1
    assert "holds no events" in capsys.readouterr().err


def test_closures_and_bans_are_drawn_with_what_closes_them(network: corridors.Network) -> None:
    m = build_network_map(
        network,
        closed={"YE_BAB_EL_MANDEB": "closed 2025-01-01 to 2026-01-01", "N08": "banned: runs through RU"},
        legend_open=False,
    )
    page = render_offline(m)
    assert "Closures and bans" in page and "closed or banned" in page  # its layer and its legend line
    assert "closed-YE_BAB_EL_MANDEB" in page and "closed-N08" in page
    assert "closed 2025-01-01 to 2026-01-01" in page and "banned: runs through RU" in page
    assert re.search(r'<details class="corridors-legend" id="[\w-]+">', page)  # folded, for a report's frame
    plain = render_offline(build_network_map(network))
    assert "Closures and bans" not in plain and re.search(r'<details class="corridors-legend" id="[\w-]+" open>', plain)


def test_a_whatif_map_marks_its_bans_and_closures(bundled_run: Callable[[str], RunResult]) -> None:
    from maps.report import closed_places

    run = bundled_run("no-russia-transit")
    closed = closed_places(run)
    net = run.scenario.network
    assert {"KZRU_BORDER", "RUBY_BORDER"} <= set(closed)
    assert all("RU" in {net.nodes[k].country, *net.nodes[k].countries} for k in closed if k in net.nodes)
    assert closed["RUBY_BORDER"] == "banned: no traffic through it"
    into_ru = [leg for leg, why in closed.items() if leg in net.legs and why == "banned: leads into RU"]
    assert into_ru and all("RU" not in net.legs[leg].countries for leg in into_ru)  # e.g. Dostyk to the RU border
    red_sea = closed_places(bundled_run("red-sea-closure"))
    assert red_sea == {"YE_BAB_EL_MANDEB": "closed 2025-01-01 to 2026-05-01"}


def test_rendered_markup_is_kept_as_it_is_and_the_page_is_folium_s_own(
    baseline_run: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The results map with branca's re-compilation of rendered markup left out is the page folium
    itself renders (element ids aside), and rendering leaves branca as it found it."""
    import contextlib

    import branca.element

    import maps.offline
    from maps.report import run_map

    real = branca.element.Template
    ours = run_map(baseline_run)
    assert branca.element.Template is real
    monkeypatch.setattr(maps.offline, "_rendered_markup_verbatim", contextlib.nullcontext)
    folium_s = run_map(baseline_run)

    def ids(page: str) -> str:
        return re.sub(r"[0-9a-f]{32}", "<id>", page)

    assert ids(ours) == ids(folium_s)
