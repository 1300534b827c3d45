"""The typed summary: summary.json read back is the same summary, and its keys are the documented ones."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from corridors import DataError
from corridors.export import json_text
from sim.runner import RunResult
from sim.summary import RunSummary, Stats

ROOT = Path(__file__).resolve().parents[1]
#: Objects whose keys are names (services, corridors, node and leg ids, countries), not fields.
NAMED = {"services", "corridors", "nodes", "legs", "where_days_go", "by_node_h", "by_country_h", "pools"}


def test_summary_json_read_back_is_the_same_summary(baseline_run: RunResult) -> None:
    summary = baseline_run.summary
    assert RunSummary.from_json(summary.to_json(), source="summary.json") == summary
    written = json.loads(json_text(summary.to_json()))  # as the file holds it
    network = baseline_run.scenario.network
    assert RunSummary.from_json(written, source="summary.json", network=network) == summary
    assert json_text(RunSummary.from_json(written, source="x").to_json()) == json_text(summary.to_json())


def _fields(data: Any, named: bool = False) -> set[str]:
    """Every field name at any depth of summary.json (the keys of named objects are skipped)."""
    if isinstance(data, list):
        return set().union(*(_fields(v) for v in data))
    if not isinstance(data, dict):
        return set()
    keys = set() if named else set(data)
    return keys.union(*(_fields(v, named=not named and k in NAMED) for k, v in data.items()))


def test_summary_json_keys_are_the_documented_schema(baseline_run: RunResult) -> None:
    doc = (ROOT / "docs" / "simulate.md").read_text(encoding="utf-8")
    section = doc.split("## `summary.json` (schema_version 1)", 1)[1].split("\n## ", 1)[0]
    section = "\n".join(line for line in section.splitlines() if line.startswith(("- ", "  ")))  # the list
    documented = set(re.findall(r"`([a-z][a-z0-9_]*)(?:\.<[a-z]+>)?`", section)) | {"schema_version"}
    data = baseline_run.summary.to_json()
    assert _fields(data) == documented
    top = "schema_version scenario start_date start horizon_h seed replications services corridors nodes legs"
    assert list(data) == [*top.split(), "where_days_go", "rolling_stock"]  # in the documented order


def test_a_summary_without_trains_reads_back() -> None:
    empty = Stats(0, None, None, None, None, None, None, None)
    assert Stats.of(empty.to_json()) == empty


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda s: s.__setitem__("schema_version", 2), "schema_version = 2: must be 1"),
        (lambda s: s.pop("seed"), "seed = (missing): is missing"),
        (lambda s: _service(s)["transit_d"].__setitem__("p90", "slow"), 'transit_d.p90 = "slow": must be a finite'),
        (lambda s: _service(s)["transit_d"].__setitem__("ci95", [1]), "transit_d.ci95 = [1]: must be null or"),
        (lambda s: _service(s)["days"].pop("moving"), "days.moving = (missing)"),
        (lambda s: _service(s).__setitem__("route", "A-B"), 'route = "A-B": must be a list'),
        (lambda s: s["where_days_go"].__setitem__("x", {"by_node_h": {}, "by_country_h": {"CN": -1}}), "CN = -1"),
    ],
)
def test_every_field_is_checked_in_one_line(baseline_run: RunResult, change: Any, says: str) -> None:
    data = json.loads(json_text(baseline_run.summary.to_json()))
    change(data)
    with pytest.raises(DataError) as caught:
        RunSummary.from_json(data, source="run/summary.json")
    message = str(caught.value)
    assert message.startswith("run/summary.json: ") and says in message and "\n" not in message


def _service(data: dict[str, Any]) -> dict[str, Any]:
    return data["services"]["northern-chengdu-lodz"]  # type: ignore[no-any-return]
