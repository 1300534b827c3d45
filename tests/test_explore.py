"""The what-if explorer: its data (each point as a plain sweep's, the grid, the shared bins), the
command's refusals, the page's escaping, and its slider in Chromium (screenshots at phone and
desktop widths go to ``test-artifacts/``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import corridors
import sim
from corridors.cli import main
from maps.explore import explore_page
from sim.explore import explore, grid_points
from sim.sweep import point_variant, sweep
from tests.conftest import tiny_records, write_network
from tests.test_browser import ARTIFACTS, Page
from tests.test_engine import write_scenario

XSS = '<img src=x onerror="window.__xss=1"> `${alert(2)}` </script>{{ 7*7 }}'


@pytest.fixture
def tiny_scenario(tmp_path: Path) -> sim.Scenario:
    """Three nodes, a train an hour through B (random service times there): B's servers move the queue."""
    return sim.load_scenario(write_scenario(tmp_path, tiny_records()))


def test_each_point_is_the_plain_sweeps(tiny_scenario: sim.Scenario) -> None:
    data = explore(tiny_scenario, ["node.B.servers"], [[1, 3]], replications=2, seed=2)
    plain = sweep(tiny_scenario, "node.B.servers", [1, 3], replications=2, seed=2)
    assert [p["values"] for p in data["points"]] == [[1.0], [3.0]]
    keys = ("transit_d_mean", "transit_d_p50", "transit_d_p95", "trains_per_week")
    keys += ("in_system_at_horizon_per_replication",)
    for point, row in zip(data["points"], plain["rows"], strict=True):
        for name, figures in row["services"].items():
            assert {k: point["services"][name][k] for k in keys} == figures
    abc = [p["services"]["abc"] for p in data["points"]]
    assert abc[0]["transit_d_mean"] > abc[1]["transit_d_mean"]  # one server queues; three hardly do
    assert data["points"][0]["nodes"]["B"]["wait_h_mean"] > data["points"][1]["nodes"]["B"]["wait_h_mean"]
    assert data["params"] == [{"path": "node.B.servers", "values": [1.0, 3.0], "base_value": 2.0, "scales": False}]
    assert data["reference_point"] is None and data["moved"] == ["abc"]
    assert [n["id"] for n in data["nodes"]] == ["B"]  # the places trains stop at (not the ends)


def test_a_grid_over_two_parameters(tiny_scenario: sim.Scenario) -> None:
    params = ["node.B.servers", "node.B.process_h"]
    data = explore(tiny_scenario, params, [[1, 2], [0.5, 1]], replications=2, seed=1)
    assert [p["values"] for p in data["points"]] == [[1, 0.5], [1, 1], [2, 0.5], [2, 1]]
    assert data["reference_point"] == 3  # servers 2 (the data's) and process_h × 1
    for point, where in zip(data["points"], grid_points(params, [[1, 2], [0.5, 1]]), strict=True):
        alone = sim.simulate(point_variant(tiny_scenario, where), replications=2, seed=1)
        assert point["services"]["abc"]["transit_d_mean"] == alone.summary.services["abc"].transit_d.mean
        assert point["nodes"]["B"]["stay_h_mean"] == alone.summary.nodes["B"].stay_h_mean
    # one set of bins per service for every point: the bars compare, and count every arrived train
    (abc,) = data["services"]
    for point in data["points"]:
        figures = point["services"]["abc"]
        assert len(figures["histogram"]) == abc["bins"]["count"] <= 24
        assert sum(figures["histogram"]) == figures["arrived"] > 0
    means = {tuple(p["values"]): p["services"]["abc"]["transit_d_mean"] for p in data["points"]}
    assert means[1, 1] > means[1, 0.5] and means[1, 1] > means[2, 1]


def run_quiet(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--param", "node.B.nonsense", "--values", "1,2"], "a node field is one of"),
        (["--param", "node.B.servers", "--values", "2"], "give at least 2 values of node.B.servers"),
        (["--param", "node.B.servers", "--values", "1,x"], "give numbers separated by commas"),
        (["--param", "node.B.servers", "--values", "1,2", "--values2", "1,2"], "--values2 is for a second --param"),
        (
            ["--param", "node.B.servers", "--param", "node.B.process_h", "--values", "1,2"],
            "a second parameter takes its values with --values2",
        ),
        (
            ["--param", "node.B.servers", "--param", "node.B.process_h", "--values", "1,2", "--values2", "1"],
            "--values2 '1': give at least 2 values of node.B.process_h",
        ),
        (["--param", "node.B.servers", "--values", "1,1"], "a value is given twice"),
        (["--param", "node.B.servers", "--values", "1,-2"], "is not a finite number above 0"),
        (["--param", "node.NOWHERE.servers", "--values", "1,2"], "NOWHERE"),
    ],
)
def test_bad_input_is_one_paragraph_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    scenario = str(write_scenario(tmp_path, tiny_records()))
    out = tmp_path / "out"
    argv = ["explore", scenario, *extra, "-r", "1", "--workers", "1", "--out", str(out)]
    code, printed, err = run_quiet(argv, capsys)
    assert code == 1 and printed == ""
    assert err.startswith("corridors: error: ") and err.count("\n") == 1 and said in err, err
    assert not out.exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_the_command_writes_the_page_and_its_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = str(write_scenario(tmp_path, tiny_records()))
    out = tmp_path / "ex"
    argv = ["explore", scenario, "--param", "node.B.servers", "--values", "1,2,3", "-r", "2", "--workers", "1"]
    code, printed, _ = run_quiet([*argv, "--out", str(out)], capsys)
    assert code == 0
    assert printed.startswith("Explorer of node.B.servers (3 values) on test: 2 replications per point, seed 1\n")
    assert "  abc " in printed and "2*" in printed and "* the scenario's own value" in printed
    assert f"Wrote {out / 'explore.json'} and explore.html (" in printed
    data = json.loads((out / "explore.json").read_text(encoding="utf-8"))
    assert data["schema_version"] == 1 and data["reference_point"] == 1 and len(data["points"]) == 3
    page = (out / "explore.html").read_text(encoding="utf-8")
    assert "<meta name='viewport'" in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    code, printed, _ = run_quiet([*argv, "--out", str(tmp_path / "j"), "--json"], capsys)
    assert code == 0 and json.loads(printed)["files"] == ["explore.json", "explore.html"]


def hostile_scenario(tmp_path: Path) -> sim.Scenario:
    records = tiny_records()
    records["nodes.toml"]["nodes"][1]["name"] = XSS
    write_network(tmp_path / "net", records)
    return sim.load_scenario(write_scenario(tmp_path, records))


def test_a_hostile_node_name_is_text_on_the_page(tmp_path: Path) -> None:
    scenario = hostile_scenario(tmp_path)
    data = explore(scenario, ["node.B.servers"], [[1, 2]], replications=1)
    page = explore_page(data, scenario.network)
    assert "<img src=x" not in page and "</script>{{" not in page and "${alert" not in page
    block = page.split("<script type='application/json' id='explore-data'>")[1].split("</script>")[0]
    assert json.loads(block)["nodes"][0]["name"] == XSS  # JSON data, read back as it was


def test_the_slider_changes_the_table_and_the_map(browser: Any, tmp_path: Path) -> None:
    scenario = hostile_scenario(tmp_path)
    data = explore(scenario, ["node.B.servers"], [[1, 2, 3]], replications=2)
    path = tmp_path / "explore.html"
    path.write_text(explore_page(data, scenario.network), encoding="utf-8")
    page = Page(browser, path)
    table, circle = page.page.locator("#explore-kpi tbody"), page.page.locator("circle.node-B")
    value = page.page.locator("#explore-value-0")
    assert value.inner_text() == "2 (the scenario's own value)"
    before, radius = table.inner_text(), circle.get_attribute("r")
    page.page.locator("#explore-slider-0").fill("0")  # one server at B: trains queue
    assert value.inner_text() == "1"
    after = table.inner_text()
    assert after != before and "abc" in after
    assert float(circle.get_attribute("r") or 0) > float(radius or 0)
    tip = circle.locator("title").text_content() or ""
    assert tip.startswith(f"B ({XSS}): stays ")  # the hostile name, as text
    assert page.page.evaluate("window.__xss") is None
    page.clean()
    page.page.close()


def test_screenshots_of_the_bundled_explorer(browser: Any, tmp_path: Path, short_baseline: Path) -> None:
    """The explorer of a month of the baseline, at a phone's width and a desktop's, for a person to look at."""
    scenario = sim.load_scenario(short_baseline)
    data = explore(scenario, ["node.KZ_DOSTYK.trains_per_day"], [[11, 14, 20]], replications=1, workers=2)
    path = tmp_path / "explore.html"
    path.write_text(explore_page(data, corridors.load_network()), encoding="utf-8")
    assert path.stat().st_size < 3_000_000
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in ((390, 844), (1440, 900)):
        page = Page(browser, path)
        page.page.set_viewport_size({"width": width, "height": height})
        page.page.locator("#explore-slider-0").fill("0")
        assert page.page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than a phone
        page.page.screenshot(path=str(ARTIFACTS / f"explore-{width}.png"))
        page.clean()
        page.page.close()
