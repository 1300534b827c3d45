"""Text from a stranger's files never runs: template syntax, markup and script in every text field.

Every free-text field of the network (node names, notes, corridor titles, source citations,
coordinate notes), of a scenario and a what-if (descriptions, notes) and of a results folder
(``summary.json``'s scenario) gets a payload that would show ``49``, drop a ``{% raw %}`` block,
swallow a ``{# #}`` comment, create a folder through ``cycler.__init__.__globals__.os`` and open
a dialog if any of it reached a template or markup. Every HTML output is built from them; the
payload must appear literally, tagged with the field it came from, and nothing may have run.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import tomllib
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import tomli_w

import corridors
from corridors.cli import main

DATA = Path(corridors.__file__).resolve().parents[1] / "data"
TEXT_FIELDS = {"title", "note", "citation", "description", "coord_quality", "what"}


def payload(tag: str, marker: Path) -> str:
    return (
        f"[{tag}] {{{{ 7*7 }}}}|{{% raw %}}r{{% endraw %}}|{{# c #}}|"
        f"{{{{ cycler.__init__.__globals__.os.mkdir('{marker}') }}}}|<img src=x onerror=alert(1)>|`${{7*7}}`|"
        "</script><script>alert(2)</script>"
    )


def poison(data: Any, marker: Path, tags: Iterator[int], *, names: bool) -> Any:
    """Every free-text string in ``data`` (and node names when ``names``) with a tagged payload appended."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if isinstance(value, str) and (key in TEXT_FIELDS or (names and key == "name")):
                out[key] = f"{value} {payload(f't{next(tags)}', marker)}"
            else:
                out[key] = poison(value, marker, tags, names=names)
        return out
    if isinstance(data, list):
        return [poison(v, marker, tags, names=names) for v in data]
    return data


def shown(page: str) -> str:
    """The text a reader sees: JSON's and JavaScript's \\u escapes decoded, then HTML's entities (twice
    inside a report's map, whose page is an attribute: ``<iframe srcdoc="...">``)."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)
    return html.unescape(html.unescape(text) if "srcdoc=" in page else text)


def untouched_tags(page: str) -> set[str]:
    """The tags in ``page`` whose payload shows literally."""
    return set(re.findall(r"\[(t\d+)\] \{\{ 7\*7 \}\}\|\{% raw %\}r\{% endraw %\}\|\{# c #\}\|", shown(page)))


def compiled_tags(page: str) -> list[str]:
    """Tags followed by anything but the literal payload: a template or the markup ate it."""
    text = shown(page)
    return [m.group(0) for m in re.finditer(r"\[t\d+\] (?!\{\{ 7\*7 \}\}\|\{% raw %\})[^\n]{0,20}", text)]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A poisoned copy of the bundled network, a short poisoned scenario and a what-if on it."""
    root = tmp_path_factory.mktemp("hostile")
    marker = root / "ran"
    tags = count(1)
    net = root / "network"
    net.mkdir()
    for src in (DATA / "network").iterdir():
        if src.suffix == ".toml":
            data = tomllib.loads(src.read_text(encoding="utf-8"))
            names = src.name == "nodes.toml"
            (net / src.name).write_text(tomli_w.dumps(poison(data, marker, tags, names=names)), encoding="utf-8")
        else:
            shutil.copy(src, net / src.name)
    scenario = tomllib.loads((DATA / "scenarios" / "baseline.toml").read_text(encoding="utf-8"))
    scenario["scenario"]["end_date"] = scenario["scenario"]["start_date"].replace(month=2)
    scenario["scenario"]["drain_d"] = 60
    (root / "hostile.toml").write_text(tomli_w.dumps(poison(scenario, marker, tags, names=False)), encoding="utf-8")
    whatif = {
        "scenario": {"name": "hostile-whatif", "base": "hostile.toml", "description": "what if"},
        "overrides": [
            {"node": "KZ_ALTYNKOL", "field": "trains_per_day", "factor": 2, "source": ["ESTIMATE"], "note": "x"},
        ],
    }
    (root / "whatif.toml").write_text(tomli_w.dumps(poison(whatif, marker, tags, names=False)), encoding="utf-8")
    return {
        "root": root,
        "network": net,
        "scenario": root / "hostile.toml",
        "whatif": root / "whatif.toml",
        "sensitivity": sensitivity_file(root, marker, count(5000)),
    }


def sensitivity_file(root: Path, marker: Path, tags: Iterator[int]) -> Path:
    """A hand-written sensitivity.json of the baseline whose every free text (scenario, what-if,
    parameter paths, units, source keys, notes) carries a tagged payload."""
    mean = "service.southern-chengdu-lodz.transit_d_mean"
    delta = "compare.hostile-whatif.service.southern-chengdu-lodz.transit_d_mean"
    paths = ["node.KZ_ALTYNKOL.process_h", f"node.X.{payload(f't{next(tags)}', marker)}"]
    params = [
        {
            "path": path,
            "value": 1,
            "low": 0.5,
            "high": 2,
            "unit": payload(f"t{next(tags)}", marker),
            "estimate": True,
            "sources": [payload(f"t{next(tags)}", marker), "ESTIMATE"],
            "note": payload(f"t{next(tags)}", marker),
        }
        for path in paths
    ]
    morris = [
        {"path": p, "mu": 2.0, "mu_star": 2.0 - i, "sigma": 0.5, "mu_star_conf": 0.1} for i, p in enumerate(paths)
    ]
    sobol = {
        "variance": 4.0,
        "sd": 2.0,
        "indices": [
            {"path": p, "s1": 0.5, "s1_conf": 0.1, "st": 0.6, "st_conf": 0.1, "sd_if_pinned": 1.4} for p in paths
        ],
    }
    data = {
        "schema_version": 1,
        "scenario": payload(f"t{next(tags)}", marker),
        "whatifs": [payload(f"t{next(tags)}", marker)],
        "outputs": [{"output": mean, "unit": "d"}, {"output": delta, "unit": "d"}],
        "replications": 1,
        "seed": 1,
        "method": {"morris": {"trajectories": 2}, "sobol": {"samples": 4}, "model_runs": 10},
        "parameters": params,
        "top": paths,
        "results": {out: {"at_data_values": 30.0, "morris": morris, "sobol": sobol} for out in (mean, delta)},
    }
    path = root / "sensitivity.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(*args: str) -> None:
    assert main(list(args)) == 0, args


@pytest.fixture(scope="module")
def outputs(hostile: dict[str, Path]) -> dict[str, Path]:
    """Every HTML output of the command line, built from the poisoned inputs."""
    root, net = hostile["root"], str(hostile["network"])
    run("map", "--all", "--network", net, "--out", str(root / "network.html"))
    run("map", "northern", "southern", "--network", net, "--out", str(root / "two.html"))
    drives = str(hostile["sensitivity"])
    run(
        "simulate",
        str(hostile["scenario"]),
        "--network",
        net,
        "-r",
        "1",
        "--sensitivity",
        drives,
        "--out",
        str(root / "run"),
    )
    summary = json.loads((root / "run" / "summary.json").read_text(encoding="utf-8"))
    summary["scenario"] = payload("t9999", root / "ran")  # a results folder from a stranger
    (root / "run" / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    run("map", "--results", str(root / "run"), "--network", net, "--out", str(root / "results.html"))
    compare = root / "compare"
    run(
        "compare", str(hostile["scenario"]), str(hostile["whatif"]), "--network", net, "-r", "1",
        "--sensitivity", drives, "--out", str(compare),
    )  # fmt: skip
    sweep = root / "sweep"
    run(
        "sweep", str(hostile["scenario"]), "--network", net, "--param", "node.KZ_ALTYNKOL.trains_per_day",
        "--values", "8,16", "-r", "1", "--out", str(sweep),
    )  # fmt: skip
    explorer = root / "explore"
    run(
        "explore", str(hostile["scenario"]), "--network", net, "--param", "node.KZ_ALTYNKOL.trains_per_day",
        "--values", "8,16", "-r", "1", "--out", str(explorer),
    )  # fmt: skip
    return {
        "map --all": root / "network.html",
        "map NAMES": root / "two.html",
        "simulate map.html": root / "run" / "map.html",
        "simulate report.html": root / "run" / "report.html",
        "map --results": root / "results.html",
        "compare.html": compare / "compare.html",
        "sweep.html": sweep / "sweep.html",
        "explore.html": explorer / "explore.html",
    }


def test_nothing_ran(outputs: dict[str, Path], hostile: dict[str, Path]) -> None:
    assert not (hostile["root"] / "ran").exists()


@pytest.mark.parametrize(
    "name",
    [
        "map --all",
        "map NAMES",
        "simulate map.html",
        "simulate report.html",
        "map --results",
        "compare.html",
        "explore.html",
    ],
)
def test_every_payload_shows_literally(outputs: dict[str, Path], name: str) -> None:
    page = outputs[name].read_text(encoding="utf-8")
    assert compiled_tags(page) == []
    assert "<img src=x" not in page and "alert(2)</script>" not in page
    shown = untouched_tags(page)
    assert len(shown) >= 5, f"{name}: the poisoned fields are not on the page at all"


def test_sweep_page_is_inert(outputs: dict[str, Path]) -> None:
    page = outputs["sweep.html"].read_text(encoding="utf-8")
    assert compiled_tags(page) == [] and "<img src=x" not in page


def test_each_kind_of_field_reaches_the_maps_literally(outputs: dict[str, Path], hostile: dict[str, Path]) -> None:
    """A node name, a leg note, a corridor title, a source citation, and a results folder's scenario."""
    net = hostile["network"]
    wanted = {
        "node name": tomllib.loads((net / "nodes.toml").read_text(encoding="utf-8"))["nodes"][0]["name"],
        "corridor title": tomllib.loads((net / "corridors.toml").read_text(encoding="utf-8"))["corridors"][0]["title"],
        "leg note": next(
            leg["note"]
            for leg in tomllib.loads((net / "legs.toml").read_text(encoding="utf-8"))["legs"]
            if "note" in leg
        ),
        "source citation": next(
            src["citation"]
            for src in tomllib.loads((net / "sources.toml").read_text(encoding="utf-8"))["sources"]
            if src["id"] == "ESTIMATE"
        ),
    }
    page = shown(outputs["map --all"].read_text(encoding="utf-8"))
    for field, text in wanted.items():
        tag = re.search(r"\[(t\d+)\]", text)
        assert tag is not None and f"[{tag.group(1)}] {{{{ 7*7 }}}}" in page, field
    results = shown(outputs["map --results"].read_text(encoding="utf-8"))
    assert "[t9999] {{ 7*7 }}|{% raw %}r{% endraw %}" in results


def test_scenario_text_reaches_the_reports_literally(outputs: dict[str, Path], hostile: dict[str, Path]) -> None:
    for name, source in (("simulate report.html", "scenario"), ("compare.html", "whatif")):
        description = tomllib.loads(hostile[source].read_text(encoding="utf-8"))["scenario"]["description"]
        tag = re.search(r"\[(t\d+)\]", description)
        assert tag is not None
        page = shown(outputs[name].read_text(encoding="utf-8"))
        assert f"[{tag.group(1)}] {{{{ 7*7 }}}}|{{% raw %}}" in page, name


@pytest.mark.parametrize("name", ["simulate report.html", "compare.html"])
def test_a_sensitivity_files_text_reaches_the_reports_literally(outputs: dict[str, Path], name: str) -> None:
    """What drives this answer: every text of a stranger's sensitivity.json shows literally."""
    page = outputs[name].read_text(encoding="utf-8")
    assert "What drives this answer" in page
    tags = {f"t{i}" for i in range(5000, 5009)}  # a path; two parameters' unit, source, note; scenario; what-if
    assert tags <= untouched_tags(page) and compiled_tags(page) == []


def test_in_a_browser_no_dialog_opens(outputs: dict[str, Path], browser: Any) -> None:
    dialogs: list[str] = []
    for name, path in outputs.items():
        page = browser.new_page()
        page.on("dialog", lambda d, name=name: (dialogs.append(f"{name}: {d.message}"), d.dismiss()))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))  # noqa: B023 - read before the next page
        page.goto(path.as_uri())  # returns after the load event: the page's own images have failed by then
        for popup in page.locator(".corridors-node").all()[:5]:  # popups render their HTML when opened
            popup.click(force=True)
        page.wait_for_timeout(150)  # for an image a popup's HTML would fail to load
        assert errors == [], (name, errors)
        page.close()
    assert dialogs == []


def test_no_template_is_built_from_text_outside_the_inert_elements() -> None:
    """The project compiles no template of its own: no ``Element(...)``, ``Template(...)`` or
    ``_template`` anywhere in maps/ but the inert elements, which render without compiling."""
    import ast

    maps_dir = Path(corridors.__file__).resolve().parents[1] / "maps"
    found = []
    for path in sorted(maps_dir.glob("*.py")):
        if path.name == "elements.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in {"Element", "Template", "Html", "IFrame"}:
                    found.append(f"{path.name}:{node.lineno} {name}(...)")
            if isinstance(node, ast.Name) and node.id in {"_template", "MacroElement"}:
                found.append(f"{path.name}:{node.lineno} {node.id}")
            if isinstance(node, ast.Attribute) and node.attr == "_template":
                found.append(f"{path.name}:{node.lineno} ._template")
    assert found == []
