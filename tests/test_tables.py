"""One table description, two renderers; library errors that name parameters, not flags."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

import corridors
from corridors.cli import FLAGS, main
from corridors.errors import DataError, InputError, Parameter
from corridors.tables import Cell, Column, Row, Table, render_text
from maps.tables import table_html
from sim.summary import DaysPerTrain, Flow, RunSummary, ServiceSummary, Stats
from sim.tables import (
    changed_services,
    claim_figure,
    compare_corridor_table,
    compare_table,
    expectation_table,
    kpi_table,
    sweep_table,
    validate_table,
)

ROOT = Path(__file__).resolve().parents[1]


def _service(n: int = 10, stuck: float = 0.0, on_time: float | None = 0.5) -> ServiceSummary:
    transit = Stats(n, 12.345, 12.0, 13.9, 14.5, 11.0, 15.0, (12.2, 12.5)) if n else Stats(0, *[None] * 7)
    return ServiceSummary(
        corridor="northern",
        route=("A", "B"),
        trains_per_replication=10.0,
        arrived_per_replication=10.0 - stuck,
        in_system_at_horizon_per_replication=stuck,
        in_system_share=stuck / 10,
        transit_d=transit,
        promised_transit_d=14.0,
        on_time_share=on_time if n else None,
        throughput=Flow(7.0, 700.0),
        days=DaysPerTrain(10.0, 0.125, 2.0),
        cost_usd_per_teu=5664.0,
        co2_kg_per_teu=1436.0,
    )


def _summary(services: dict[str, ServiceSummary]) -> RunSummary:
    return RunSummary(1, "test", "2025-01-01", "2025-01-01T00:00", 100.0, 1, 1, services, {}, {}, {}, {})


def test_text_lays_out_aligns_clips_escapes_and_adds_notes() -> None:
    table = Table(
        [Column("id", align="left"), Column("what", align="left", max_chars=12), Column("d")],
        [Row(["V1", "Chengdu - Lodz by rail", "12.45"]), Row(["V22", "Evil\x1b]0;x\x07", Cell("3.00", "bad")])],
        ["* a note\x1b"],
    )
    assert render_text(table).splitlines() == [
        "  id   what                  d",
        "  V1   Chengdu…          12.45",
        "  V22  Evil\\x1b]0;x\\x07   3.00",
        "  * a note\\x1b",
    ]
    assert "note" not in render_text(table, notes=False)


def test_a_row_must_fill_the_columns() -> None:
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        Table([Column("a"), Column("b"), Column("c")], [Row(["1", "2"])])


def test_html_escapes_every_cell_and_carries_tones_help_and_notes() -> None:
    table = Table(
        [Column("service", align="left"), Column("in system", help="still on the way"), Column("x", align="left")],
        [Row(["<script>", Cell("2.0", "bad"), "{{ 7*7 }}"])],
        ["* <b>rerouted</b>"],
    )
    page = table_html(table)
    assert "<script>" not in page and "&lt;script&gt;" in page and "{{" not in page
    assert "<td class='bad'>2.0</td>" in page and "<th title='still on the way'>in system</th>" in page
    assert "<th class='l'>x</th>" in page  # left-aligned beyond the first column
    assert page.endswith("<p class='note'>* &lt;b&gt;rerouted&lt;/b&gt;</p>")


def test_kpi_table_terminal_and_report_forms() -> None:
    summary = _summary({"north": _service(stuck=0.3), "empty": _service(n=0)})
    short = kpi_table(summary)
    assert [c.header for c in short.columns][-1] == "in system"
    assert short.rows[0].texts() == ["north", "7.0", "12.35", "12.00", "14.50", "12.20–12.50", "50.0%", "0.12", "0"]
    assert short.rows[1].texts() == ["empty", "7.0", "–", "–", "–", "–", "–", "–", "0"]
    full = kpi_table(summary, full=True)
    assert [c.header for c in full.columns][-2:] == ["USD/TEU", "kg CO2/TEU"]
    assert full.rows[0].texts()[-3:] == ["0.3", "5,664", "1,436"]


def test_kpi_table_shows_a_rare_service_with_two_decimals() -> None:
    """Two trains a year is 0.04 a week, not 0.0 (as if it never ran)."""
    rare = dataclasses.replace(_service(), throughput=Flow(0.04, 4.0))
    per_week = [row.texts()[1] for row in kpi_table(_summary({"rare": rare, "north": _service()})).rows]
    assert per_week == ["0.04", "7.0"]


def _whatif() -> dict[str, Any]:
    same = {"transit_d_mean": {"value": 0.0, "ci95": [0.0, 0.0]}, "transit_d_p95": 0.0, "on_time_share": 0.0}
    same |= {"trains_per_week": 0.0, "cost_usd_per_teu": 0.0, "co2_kg_per_teu": 0.0}
    longer = dict(same, transit_d_mean={"value": 11.5, "ci95": [11.26, 11.75]}, on_time_share=-0.309)
    reroute = {"reason": "closed", "from": ["A", "B"], "to": ["A", "C"], "expected_extra_d": 11.7}
    reroute |= {"extra_distance_km": 6524, "extra_cost_usd_per_teu": 586}
    return {
        "services": {
            "north": {
                "in_whatif": True,
                "rerouted": None,
                "base": {"transit_d_mean": 12.45},
                "whatif": {"transit_d_mean": 12.45, "in_system_at_horizon_per_replication": 0},
                "delta": same,
            },
            "sea": {
                "in_whatif": True,
                "rerouted": reroute,
                "base": {"transit_d_mean": 44.99},
                "whatif": {"transit_d_mean": 56.49, "in_system_at_horizon_per_replication": 1.5},
                "delta": longer,
            },
            "gone": {"in_whatif": False},
            "new": {
                "in_whatif": True,
                "in_base": False,
                "rerouted": None,
                "whatif": {"transit_d_mean": 20.0, "in_system_at_horizon_per_replication": 0.5},
            },
        },
        "corridors": {
            "sea-suez": {"base": 44.0, "whatif": 56.0, "delta": {"transit_d_mean": longer["transit_d_mean"]}}
        },
    }


def test_compare_table_stars_reroutes_with_a_note_and_colours_what_moved() -> None:
    table = compare_table(_whatif())
    rows = {r.texts()[0]: r for r in table.rows}
    assert rows["north"].texts()[1:5] == ["12.45", "12.45", "+0.00", "+0.00…+0.00"]
    sea = rows["sea *"]
    assert sea.texts()[3:9] == ["+11.50", "+11.26…+11.75", "+0.00", "-30.9 pt", "+0.0", "1.5"]
    assert sea.cells[3] == Cell("+11.50", "bad", (11.5,)) and sea.cells[8] == Cell("1.5", "bad", (1.5,))
    assert rows["gone"].texts()[:3] == ["gone", "", "not in the what-if"]
    assert rows["new (added)"].texts()[:3] == ["new (added)", "–", "20.00"]
    assert len(table.notes) == 1 and table.notes[0].startswith("* sea rerouted (closed): ")
    assert table.notes[0].endswith("; expected +11.7 d, +6,524 km, +586 USD/TEU")
    assert changed_services(_whatif()) == ["sea"]
    assert compare_corridor_table(_whatif()).rows[0].texts() == [
        "sea-suez",
        "44.00",
        "56.00",
        "+11.50",
        "+11.26…+11.75",
    ]


def test_sweep_table_stars_the_scenarios_own_value() -> None:
    def row(value: float, p95: float) -> dict[str, Any]:
        cells = {"transit_d_p50": 12.0, "transit_d_p95": p95, "trains_per_week": 7.0}
        return {"value": value, "services": {"a": cells | {"in_system_at_horizon_per_replication": 0}}}

    data = {"rows": [row(8, 14.0), row(16, 13.0)], "scales": False, "base_value": 8.0}
    table = sweep_table(data)
    assert [r.texts() for r in table.rows] == [
        ["a", "8*", "12.00", "14.00", "7.0", "0"],
        ["", "16", "12.00", "13.00", "7.0", "0"],
    ]
    assert table.notes == ["* the scenario's own value (8)"]
    assert not sweep_table({**data, "rows": [row(8, 14.0), row(16, 14.0)]}).rows  # nothing moves


def test_validate_table_verdicts() -> None:
    base = {"unit": "d", "observed": [11, 14], "simulated_mean": 12.449, "ci95": [12.42, 12.48]}
    rows = [
        base | {"id": "V01", "what": "door to door", "kind": "end_to_end", "passed": True, "fitted_parameters": []},
        base | {"id": "V05", "what": "a border", "kind": "node", "passed": False, "fitted_parameters": ["x"]},
    ]
    assert [r.texts() for r in validate_table(rows).rows] == [
        ["V01", "door to door", "11–14 d", "12.45 d", "12.42–12.48", "pass"],
        ["V05", "a border", "11–14 d", "12.45 d", "12.42–12.48", "differs*"],
    ]


def test_expectation_table_shows_the_spread_beside_the_model_and_no_verdict() -> None:
    claims = [{"published": [52.0, 60.0], "status": "planned"}, {"published": [23.0, 23.0], "status": "trial"}]
    row = {"id": "V14", "what": "southern", "kind": "expectation", "unit": "d", "spread": [23.0, 60.0]}
    row |= {"simulated_mean": 29.284, "ci95": [28.54, 30.04], "claims": claims}
    table = expectation_table([row, row | {"simulated_mean": None, "ci95": None}])
    assert [c.header for c in table.columns] == ["id", "what", "published", "simulated mean", "95% CI"]
    assert [r.texts() for r in table.rows] == [
        ["V14", "southern", "23–60 d", "29.28 d", "28.54–30.04"],
        ["V14", "southern", "23–60 d", "no trains", "–"],
    ]
    assert [claim_figure(c, "d") for c in claims] == ["52–60 d", "23 d"]


def test_library_errors_name_parameters_and_the_cli_names_its_flags(capsys: pytest.CaptureFixture[str]) -> None:
    net = corridors.load_network()
    with pytest.raises(InputError) as caught:
        corridors.route(net, "CN_CHENGDU", "PL_LODZ", avoid=["XX"])
    assert str(caught.value).startswith("avoid 'XX' is neither a node id nor a country")
    assert caught.value.render(FLAGS).startswith("--avoid 'XX' is neither")
    with pytest.raises(InputError, match=r"^k 0 must be"):
        corridors.route(net, "CN_CHENGDU", "PL_LODZ", k=0)
    assert main(["route", "CN_CHENGDU", "PL_LODZ", "--avoid", "XX"]) == 1
    assert capsys.readouterr().err.startswith("corridors: error: --avoid 'XX' is neither")


def test_a_parameter_in_a_data_error_and_a_value_that_looks_like_one() -> None:
    err = DataError(Parameter("param"), "node.A.servers", "value", 0, "must be at least 1")
    assert str(err) == "param: node.A.servers: value = 0: must be at least 1"
    assert err.render({"param": "--param"}) == "--param: node.A.servers: value = 0: must be at least 1"
    odd = InputError(Parameter("k"), " 'k' is not a number\x1b")  # only the parameter is renamed; text stays escaped
    assert odd.render({"k": "-k"}) == "-k 'k' is not a number\\x1b"


_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+|(?<![\w-])-[rk]\b")


def test_library_code_raises_no_message_that_names_a_flag() -> None:
    """Messages raised below the command line speak of parameters (``avoid``, ``k``, ``allow_large``)."""
    paths = [p for p in (ROOT / "corridors").glob("*.py")] + list((ROOT / "sim").glob("*.py"))
    paths += list((ROOT / "maps").glob("*.py"))
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise):
                for text in (n.value for n in ast.walk(node) if isinstance(n, ast.Constant)):
                    if isinstance(text, str) and _FLAG.search(text):
                        found.append(f"{path.name}: {text}")
    assert not found, found
