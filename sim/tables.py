"""The tables of a run, a comparison, a sweep and a validation, described once from their results.

Pure functions from a summary, a comparison report, sweep data or validation rows to a
``corridors.tables.Table``; the command line renders them as text (``corridors.tables.render_text``)
and the HTML reports as HTML (``maps.tables.table_html``), so both show the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from corridors.tables import Cell, Column, CsvValue, Row, Table, csv_cells, csv_header, render_csv
from sim.compare import change_note
from sim.summary import RunSummary
from sim.sweep import moved_services

__all__ = [
    "changed_services",
    "claim_figure",
    "compare_corridor_table",
    "compare_csv",
    "compare_table",
    "expectation_table",
    "kpi_csv",
    "kpi_table",
    "sweep_csv",
    "sweep_table",
    "validate_table",
]

DASH = "–"


def _signed(value: float | None, digits: int = 2, plain: bool = False) -> str:
    """A figure for a table: signed (unless ``plain``), no "-0.00", a dash when missing."""
    if value is None:
        return DASH
    value = round(value, digits) + 0.0
    return f"{value:,.{digits}f}" if plain else f"{value:+,.{digits}f}"


def _per_week(value: float) -> str:
    """Trains a week: one decimal, two for a service of fewer than one train in ten weeks (0.04, not 0.0)."""
    return f"{value:.2f}" if 0 < value < 0.095 else f"{value:.1f}"


def _service() -> Column:
    return Column("service", align="left")


def _v(text: str, *values: CsvValue, tone: Any = "") -> Cell:
    """A cell that shows ``text`` and writes ``values`` (unrounded) in CSV."""
    return Cell(text, tone, values)


def kpi_table(summary: RunSummary, *, full: bool = False) -> Table:
    """A run's key figures per service: trains a week, transit mean, P50, P95 and the 95% CI of its
    mean, on-time share, days waiting and trains still on their way at the horizon. ``full`` (a
    report's form) adds cost and CO2 per TEU and gives the trains in the system unrounded."""
    columns = [
        _service(),
        Column("trains/wk"),
        Column("mean d"),
        Column("P50", csv=("P50 d",)),
        Column("P95", csv=("P95 d",)),
        Column("95% CI of mean", csv=("95% CI of mean low d", "95% CI of mean high d")),
        Column("on time", csv=("on time %",)),
        Column("waiting d"),
        Column("in system", help="trains still on their way at the horizon, per replication"),
    ]
    if full:
        columns += [Column("USD/TEU"), Column("kg CO2/TEU")]
    rows = []
    for name, s in summary.services.items():
        t = s.transit_d
        stuck = s.in_system_at_horizon_per_replication
        per_week = _v(_per_week(s.throughput.trains_per_week), s.throughput.trains_per_week)
        in_system = _v(f"{stuck:g}" if full else f"{stuck:.0f}", stuck)
        costs = [
            _v(_signed(s.cost_usd_per_teu, 0, plain=True), s.cost_usd_per_teu),
            _v(_signed(s.co2_kg_per_teu, 0, plain=True), s.co2_kg_per_teu),
        ]
        if t.n == 0 or t.mean is None or t.p50 is None or t.p95 is None:
            rows.append(Row([name, per_week, *[DASH] * 6, in_system, *(costs if full else [])]))
            continue
        ci = _v(f"{t.ci95[0]:.2f}–{t.ci95[1]:.2f}", *t.ci95) if t.ci95 else DASH
        share = s.on_time_share
        on_time = _v(f"{100 * share:.1f}%", round(100 * share, 9)) if share is not None else DASH
        cells: list[Cell | str] = [name, per_week, _v(f"{t.mean:.2f}", t.mean), _v(f"{t.p50:.2f}", t.p50)]
        cells += [_v(f"{t.p95:.2f}", t.p95), ci, on_time]
        cells += [_v(f"{s.days.waiting:.2f}", s.days.waiting), in_system, *(costs if full else [])]
        rows.append(Row(cells))
    return Table(columns, rows)


def compare_table(whatif: dict[str, Any]) -> Table:
    """One what-if's services against the base (a comparison report's ``whatifs`` entry): base and
    what-if mean transit, the difference with its paired 95% CI, and the differences in P95, on-time
    share, throughput, cost and CO2. A rerouted or redefined service is starred, with a note saying why."""
    columns = [
        _service(),
        Column("base mean d"),
        Column("what-if", help="the what-if's mean transit, days", csv=("what-if mean d",)),
        Column("Δ mean d", help="what-if minus base; coloured when its 95% CI leaves out zero"),
        Column("95% CI", help="of the difference, paired over replications", csv=("95% CI low d", "95% CI high d")),
        Column("Δ P95 d"),
        Column("Δ on time", csv=("Δ on time pt",)),
        Column("Δ trains/wk"),
        Column(
            "in system",
            help="trains of the what-if still on their way at the horizon, per replication: "
            "their transit is not in the means",
        ),
        Column("Δ USD/TEU"),
        Column("Δ kg CO2/TEU"),
    ]
    blank = [""] * (len(columns) - 3)
    rows, notes = [], []
    for name, row in whatif["services"].items():
        if not row["in_whatif"]:
            rows.append(Row([name, "", "not in the what-if", *blank]))
            continue
        x = row["whatif"]
        stuck = x["in_system_at_horizon_per_replication"]
        if row.get("in_base") is False:
            mean_d = _signed(x["transit_d_mean"], plain=True)
            rows.append(Row([f"{name} (added)", DASH, mean_d, *[""] * 5, f"{stuck:g}", "", ""]))
            continue
        d = row["delta"]
        mean = d["transit_d_mean"]
        ci = _v(f"{_signed(mean['ci95'][0])}…{_signed(mean['ci95'][1])}", *mean["ci95"]) if mean["ci95"] else DASH
        lo, hi = mean["ci95"] or (0.0, 0.0)
        tone: Any = ("bad" if lo > 0 else "good") if (lo > 0 or hi < 0) and not row.get("redefined") else ""
        share = d["on_time_share"]
        on_time = _v(f"{_signed(100 * share, 1)} pt", round(100 * share, 9)) if share is not None else DASH
        rows.append(
            Row(
                [
                    _v(name + (" *" if row["rerouted"] or row.get("redefined") else ""), name),
                    _v(_signed(row["base"]["transit_d_mean"], plain=True), row["base"]["transit_d_mean"]),
                    _v(_signed(x["transit_d_mean"], plain=True), x["transit_d_mean"]),
                    _v(_signed(mean["value"]), mean["value"], tone=tone),
                    ci,
                    _v(_signed(d["transit_d_p95"]), d["transit_d_p95"]),
                    on_time,
                    _v(_signed(d["trains_per_week"], 1), d["trains_per_week"]),
                    _v(f"{stuck:.1f}".removesuffix(".0"), stuck, tone="bad" if stuck else ""),  # 0, 4.5, 900.3
                    _v(_signed(d["cost_usd_per_teu"], 0), d["cost_usd_per_teu"]),
                    _v(_signed(d["co2_kg_per_teu"], 0), d["co2_kg_per_teu"]),
                ]
            )
        )
        note = change_note(row)
        if note:
            notes.append(f"* {name} {note}")
    return Table(columns, rows, notes)


def changed_services(whatif: dict[str, Any]) -> list[str]:
    """The services of the base whose mean transit a what-if moves beyond its paired 95% CI."""
    out = []
    for name, row in whatif["services"].items():
        if not row["in_whatif"] or row.get("in_base") is False:
            continue
        mean = row["delta"]["transit_d_mean"]
        lo, hi = mean["ci95"] or (0.0, 0.0)
        if (lo > 0 or hi < 0) and abs(mean["value"] or 0) > 0.005:
            out.append(name)
    return out


def compare_corridor_table(whatif: dict[str, Any]) -> Table:
    """One what-if's corridors against the base: mean transit and the difference with its 95% CI."""
    columns = [Column("corridor", align="left"), Column("base mean d"), Column("what-if")]
    columns += [Column("Δ mean d"), Column("95% CI")]
    rows = []
    for name, c in whatif.get("corridors", {}).items():
        m = c["delta"]["transit_d_mean"]
        ci = f"{_signed(m['ci95'][0])}…{_signed(m['ci95'][1])}" if m["ci95"] else DASH
        rows.append(
            Row([name, _signed(c["base"], plain=True), _signed(c["whatif"], plain=True), _signed(m["value"]), ci])
        )
    return Table(columns, rows)


def sweep_table(data: dict[str, Any]) -> Table:
    """A sweep's services that the parameter moves, a row per value: P50 and P95 transit, trains a
    week and trains still on their way at the horizon. The scenario's own value is starred. No rows
    when nothing moves."""
    base = data.get("base_value")
    columns = [_service(), Column("× the data's value" if data["scales"] else "value")]
    columns += [Column("P50 d"), Column("P95 d"), Column("trains/wk"), Column("in system")]
    rows = []
    for n in moved_services(data):
        for k, r in enumerate(data["rows"]):
            x = r["services"][n]
            stuck = x["in_system_at_horizon_per_replication"]
            rows.append(
                Row(
                    [
                        _v(n if k == 0 else "", n),
                        _v(f"{r['value']:g}" + ("*" if _is_base(r["value"], base) else ""), r["value"]),
                        _v(_signed(x["transit_d_p50"], plain=True), x["transit_d_p50"]),
                        _v(_signed(x["transit_d_p95"], plain=True), x["transit_d_p95"]),
                        _v(_per_week(x["trains_per_week"]), x["trains_per_week"]),
                        _v(f"{stuck:g}", stuck),
                    ]
                )
            )
    notes = [f"* the scenario's own value ({base:g}{'×' if data['scales'] else ''})"] if base is not None else []
    return Table(columns, rows, notes)


def _is_base(value: float, base: float | None) -> bool:
    return base is not None and abs(value - base) < 1e-9


def kpi_csv(summary: RunSummary) -> str:
    """summary_services.csv: the report's key figures table (``kpi_table(full=True)``), a row per
    service, its figures unrounded; a CI's two ends and the on-time share in % as columns of their own."""
    table = kpi_table(summary, full=True)
    return render_csv(csv_header(table), csv_cells(table))


def compare_csv(report: dict[str, Any]) -> str:
    """compare.csv: every what-if's table of differences (``compare_table``) in one sheet, a row per
    what-if and service: the what-if's name, the table's columns unrounded, and why a starred service
    changed (its note, else empty)."""
    header = ["what-if scenario", *csv_header(compare_table({"services": {}})), "note"]
    rows: list[list[CsvValue]] = []
    for w in report["whatifs"]:
        cells = csv_cells(compare_table(w))
        for (_, row), values in zip(w["services"].items(), cells, strict=True):
            note = change_note(row) if row["in_whatif"] and row.get("in_base") is not False else ""
            rows.append([w["name"], *values, note or None])
    return render_csv(header, rows)


def sweep_csv(data: dict[str, Any]) -> str:
    """sweep.csv: the sweep's table (``sweep_table``), a row per service it moves and value, with the
    service named on every row, the figures unrounded and "yes" in a last column on the scenario's own value."""
    table = sweep_table(data)
    base = data.get("base_value")
    values = [r["value"] for n in moved_services(data) for r in data["rows"]]
    rows = [[*cells, "yes" if _is_base(v, base) else None] for cells, v in zip(csv_cells(table), values, strict=True)]
    return render_csv([*csv_header(table), "the scenario's value"], rows)


def validate_table(rows: Sequence[dict[str, Any]]) -> Table:
    """Validation rows (``sim.validate.result_rows``): each target's published range, the simulated
    mean with its 95% CI, and the verdict (``*``: parameters were fitted to the figure)."""
    columns = [Column("id", align="left"), Column("what", align="left", max_chars=60), Column("published")]
    columns += [Column("simulated mean"), Column("95% CI"), Column("result", align="left")]
    out = []
    for r in rows:
        unit = r["unit"]
        obs = f"{r['observed'][0]:g}–{r['observed'][1]:g} {unit}"
        mean = f"{r['simulated_mean']:.2f} {unit}" if r["simulated_mean"] is not None else "no trains"
        ci = f"{r['ci95'][0]:.2f}–{r['ci95'][1]:.2f}" if r["ci95"] else DASH
        if r["kind"] == "end_to_end":
            verdict = "pass" if r["passed"] else "FAIL"
        else:
            verdict = "within" if r["passed"] else "differs"
        out.append(Row([r["id"], r["what"], obs, mean, ci, verdict + ("*" if r["fitted_parameters"] else "")]))
    return Table(columns, out)


def claim_figure(claim: dict[str, Any], unit: str) -> str:
    """A published figure of an expectation row (a ``claims`` entry of ``sim.validate.result_rows``):
    "23 d", or "52–60 d" for a range."""
    low, high = claim["published"]
    return f"{low:g} {unit}" if low == high else f"{low:g}–{high:g} {unit}"


def expectation_table(rows: Sequence[dict[str, Any]]) -> Table:
    """Expectation rows (``sim.validate.result_rows``, kind "expectation"): the spread of their
    published figures beside the simulated mean with its 95% CI. No verdict: they are not judged."""
    columns = [Column("id", align="left"), Column("what", align="left", max_chars=60)]
    columns += [Column("published", help="the lowest to the highest published figure")]
    columns += [Column("simulated mean"), Column("95% CI")]
    out = []
    for r in rows:
        unit = r["unit"]
        spread = f"{r['spread'][0]:g}–{r['spread'][1]:g} {unit}"
        mean = f"{r['simulated_mean']:.2f} {unit}" if r["simulated_mean"] is not None else "no trains"
        ci = f"{r['ci95'][0]:.2f}–{r['ci95'][1]:.2f}" if r["ci95"] else DASH
        out.append(Row([r["id"], r["what"], spread, mean, ci]))
    return Table(columns, out)
