"""The CSV files beside the JSON: the reports' tables for spreadsheets, the same columns as the tables,
the figures of the JSON unrounded, and text a spreadsheet would run written as text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from corridors.tables import csv_header
from sim.summary import RunSummary
from sim.tables import compare_csv, compare_table, kpi_table, sweep_csv, sweep_table


def _read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _num(cell: str) -> float | None:
    return None if cell == "" else float(cell)


def test_summary_services_csv_is_the_key_figures_table_with_summary_json_figures(baseline_folder: Path) -> None:
    data = json.loads((baseline_folder / "summary.json").read_text(encoding="utf-8"))
    text = (baseline_folder / "summary_services.csv").read_text(encoding="utf-8")
    table = kpi_table(RunSummary.from_json(data, source="summary.json"), full=True)
    header = next(csv.reader(io.StringIO(text)))
    assert header == csv_header(table)
    assert header[:5] == ["service", "trains/wk", "mean d", "P50 d", "P95 d"]  # the table's columns, in order
    assert len(header) == len(table.columns) + 1  # the CI's two ends are two columns
    rows = _read(text)
    assert [r["service"] for r in rows] == list(data["services"])  # a row per service, in the summary's order
    for r in rows:
        s = data["services"][r["service"]]
        t = s["transit_d"]
        assert _num(r["trains/wk"]) == s["throughput"]["trains_per_week"]
        assert (_num(r["mean d"]), _num(r["P50 d"]), _num(r["P95 d"])) == (t["mean"], t["p50"], t["p95"])
        ci = [_num(r["95% CI of mean low d"]), _num(r["95% CI of mean high d"])]
        assert ci == (t["ci95"] or [None, None])
        share = s["on_time_share"]
        assert _num(r["on time %"]) == (None if share is None else pytest.approx(100 * share))
        assert _num(r["waiting d"]) == s["days"]["waiting"]
        assert _num(r["in system"]) == s["in_system_at_horizon_per_replication"]
        assert (_num(r["USD/TEU"]), _num(r["kg CO2/TEU"])) == (s["cost_usd_per_teu"], s["co2_kg_per_teu"])


def test_compare_csv_has_a_row_per_whatif_and_service_with_the_deltas(
    red_sea_compare: tuple[Path, dict[str, Any]],
) -> None:
    folder, printed = red_sea_compare
    report = json.loads((folder / "compare.json").read_text(encoding="utf-8"))
    assert "compare.csv" in printed["files"]
    text = (folder / "compare.csv").read_text(encoding="utf-8")
    assert text == compare_csv(report)
    header = next(csv.reader(io.StringIO(text)))
    assert header == ["what-if scenario", *csv_header(compare_table(report["whatifs"][0])), "note"]
    rows = _read(text)
    assert [(r["what-if scenario"], r["service"]) for r in rows] == [
        (w["name"], name) for w in report["whatifs"] for name in w["services"]
    ]
    by_service = {r["service"]: r for r in rows}
    for name, row in report["whatifs"][0]["services"].items():
        r, d = by_service[name], row["delta"]
        assert _num(r["base mean d"]) == row["base"]["transit_d_mean"]
        assert _num(r["what-if mean d"]) == row["whatif"]["transit_d_mean"]
        assert _num(r["Δ mean d"]) == d["transit_d_mean"]["value"]
        assert [_num(r["95% CI low d"]), _num(r["95% CI high d"])] == d["transit_d_mean"]["ci95"]
        assert _num(r["Δ USD/TEU"]) == d["cost_usd_per_teu"]
    suez = by_service["sea-suez-chengdu-rotterdam"]  # rerouted round the Cape: why, in the note
    assert suez["note"].startswith("rerouted") and "ZA_CAPE" in suez["note"]
    assert by_service["northern-chengdu-lodz"]["note"] == ""


def _sweep() -> dict[str, Any]:
    def row(value: float, p95: float | None, per_week: float) -> dict[str, Any]:
        cells = {"transit_d_p50": 12.0, "transit_d_p95": p95, "trains_per_week": per_week}
        return {"value": value, "services": {"=a": cells | {"in_system_at_horizon_per_replication": 0.5}}}

    return {"rows": [row(8, 14.123456, 7.25), row(16, None, 0.0)], "scales": False, "base_value": 8.0}


def test_sweep_csv_names_the_service_on_every_row_and_marks_the_scenarios_value() -> None:
    data = _sweep()
    text = sweep_csv(data)
    assert text.splitlines() == [
        ",".join([*csv_header(sweep_table(data)), "the scenario's value"]),
        "'=a,8,12.0,14.123456,7.25,0.5,yes",  # a name a spreadsheet would run is written as text
        "'=a,16,12.0,,0.0,0.5,",  # no trains arrived: an empty cell, not 0
    ]


def test_sweep_command_writes_its_csv_beside_the_json(tmp_path: Path, short_baseline: Path) -> None:
    from tests.conftest import run_cli

    out = tmp_path / "sweep"
    argv = ["sweep", str(short_baseline), "--param", "node.KZ_ALTYNKOL.trains_per_day", "--values", "2,10"]
    printed = run_cli([*argv, "-r", "1", "--out", str(out)])
    assert sorted(p.name for p in out.iterdir()) == ["sweep.csv", "sweep.html", "sweep.json"]
    assert f"Wrote {out}/: sweep.json, sweep.html, sweep.csv" in printed
    data = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert (out / "sweep.csv").read_text(encoding="utf-8") == sweep_csv(data)
