"""Calibration targets' expectation rows: published claims shown beside the model, never judged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import corridors
from corridors import DataError
from corridors.cli import main
from sim.validate import Claim, Target, load_targets
from tests.test_engine import exact_network, write_scenario

SERVICES = {"northern-chengdu-lodz": ()}

ROW = """[[targets]]
id = "E1"
what = "Northern door to door, as announced"
kind = "expectation"
measure = "transit"
services = ["northern-chengdu-lodz"]
note = "no observed transit"
"""

CLAIM = """
[[targets.claims]]
{figure}
status = "{status}"
source = {source}
note = "{note}"
"""


def claim(
    figure: str = "range_d = [52, 60]",
    status: str = "planned",
    source: str = '["KTZ_ASTANATIMES_2025"]',
    note: str = "KTZ at the launch, March 2025",
) -> str:
    return CLAIM.format(figure=figure, status=status, source=source, note=note)


def load(tmp_path: Path, body: str, network: corridors.Network) -> list[Target]:
    path = tmp_path / "targets.toml"
    path.write_text(body, encoding="utf-8")
    targets, skipped = load_targets(path, network, SERVICES)
    assert skipped == []
    return list(targets)


def test_an_expectation_row_reads_its_claims_in_order(tmp_path: Path, network: corridors.Network) -> None:
    body = ROW + claim() + claim("value_d = 23", "trial", '"FITZINFO_2025"', "a trial, undated")
    (target,) = load(tmp_path, body, network)
    assert target.kind == "expectation" and target.unit == "d"
    assert target.claims == (
        Claim(52 * 24, 60 * 24, "planned", ("KTZ_ASTANATIMES_2025",), "KTZ at the launch, March 2025"),
        Claim(23 * 24, 23 * 24, "trial", ("FITZINFO_2025",), "a trial, undated"),
    )
    # the spread of the claims, and their sources in order, each once
    assert (target.low_h, target.high_h) == (23 * 24, 60 * 24)
    assert target.sources == ("KTZ_ASTANATIMES_2025", "FITZINFO_2025")


def test_claims_may_be_an_inline_array_and_in_hours(tmp_path: Path, network: corridors.Network) -> None:
    body = ROW + 'claims = [{ value_h = 30, status = "target", source = "FITZINFO_2025", note = "n" }]\n'
    (target,) = load(tmp_path, body, network)
    assert target.unit == "h" and (target.low_h, target.high_h) == (30, 30)


BAD = [
    (ROW, "target E1: claims = (missing): an expectation row needs one or more [[targets.claims]]"),
    (ROW + "claims = []\n", "target E1: claims = []: an expectation row needs one or more"),
    (ROW + 'range_d = [40, 60]\nsource = ["ESTIMATE"]\n' + claim(), "target E1: range_d = [40, 60]: an expectation"),
    (ROW + 'source = ["KTZ_ASTANATIMES_2025"]\n' + claim(), 'target E1: source = ["KTZ_ASTANATIMES_2025"]: an'),
    (ROW + claim(status="rumour"), 'target E1: claims[0].status = "rumour": must be one of: claim, planned'),
    (ROW + claim(source='["NO_SUCH_KEY"]'), 'claims[0].source = "NO_SUCH_KEY": is not a source key'),
    (ROW + claim(source='["ESTIMATE"]'), 'claims[0].source = "ESTIMATE": a published figure names where'),
    (ROW + claim(figure=""), "target E1: claims[0].value_d = (missing): is required: the published figure"),
    (ROW + claim(figure="value_d = 40\nrange_d = [1, 2]"), "claims[0].range_d = [1, 2]: give one figure a claim"),
    (ROW + claim(figure="range_d = [60, 52]"), "claims[0].range_d = [60, 52]: must be [low, high]"),
    (ROW + claim(figure="value_d = -3"), "claims[0].value_d = -3: must be within [0, 3660]"),
    (ROW + claim(figure='value_d = "40"'), 'claims[0].value_d = "40": must be a number'),
    (ROW + claim() + claim(figure="value_h = 30"), "claims[1].value_h = 30: the row's first claim is in days"),
    (ROW + claim().replace('note = "KTZ at the launch, March 2025"\n', ""), "claims[0].note = (missing): is"),
    (ROW + claim() + "said_by = 'KTZ'\n", 'claims[0].said_by = "KTZ": unknown key'),
    (ROW + 'claims = ["52-60 d"]\n', 'target E1: claims[0] = "52-60 d": must be a table'),
    (
        ROW.replace('kind = "expectation"', 'kind = "end_to_end"')
        + 'range_d = [1, 2]\nsource = "ESTIMATE"\n'
        + claim(),
        'target E1: claims = [[ … ]]: only kind = "expectation" rows take claims',
    ),
]


@pytest.mark.parametrize(("body", "needle"), BAD, ids=[needle.split(": ", 1)[-1][:40] for _, needle in BAD])
def test_bad_expectation_rows_are_one_line_naming_the_field(
    tmp_path: Path, network: corridors.Network, body: str, needle: str
) -> None:
    with pytest.raises(DataError) as info:
        load(tmp_path, body, network)
    message = str(info.value)
    assert "targets.toml: target E1: " in message and "\n" not in message
    assert needle in message


def far_off_targets(tmp_path: Path, kind: str) -> Path:
    """The exact network's trains take 1.5 to 2.5 days; the published figures say 100 to 200."""
    figures = 'range_d = [100, 200]\nsource = ["SRC1"]\n' if kind != "expectation" else ""
    body = f"""[[targets]]
id = "FAR"
what = "A to C, as announced"
kind = "{kind}"
measure = "transit"
services = ["abc"]
{figures}
[[targets]]
id = "NEAR"
what = "A to C, as observed"
kind = "end_to_end"
measure = "transit"
services = ["abc"]
range_d = [1, 3]
source = ["SRC1"]
"""
    if kind == "expectation":
        body = body.replace(
            '\n[[targets]]\nid = "NEAR"',
            '\n[[targets.claims]]\nrange_d = [100, 150]\nstatus = "planned"\nsource = ["SRC1"]\n'
            'note = "at the launch"\n'
            '\n[[targets.claims]]\nvalue_d = 200\nstatus = "claim"\nsource = ["SRC1"]\nnote = "in other reports"\n'
            '\n[[targets]]\nid = "NEAR"',
        )
    path = tmp_path / f"{kind}.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_an_expectation_never_fails_validate_even_far_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_scenario(tmp_path, exact_network())
    # the same figures as a judged row fail: the model is indeed far off
    assert main(["validate", str(scenario), "--targets", str(far_off_targets(tmp_path, "end_to_end")), "-r", "1"]) == 1
    assert "1 end-to-end row fails: FAR" in capsys.readouterr().out
    targets = far_off_targets(tmp_path, "expectation")
    assert main(["validate", str(scenario), "--targets", str(targets), "-r", "1"]) == 0
    text = capsys.readouterr().out
    assert "All end-to-end rows pass." in text and "FAIL" not in text and "fails" not in text
    table, _, rest = text.partition("Expectations (not judged")
    assert "  NEAR " in table and "FAR" not in table  # judged rows and expectations apart
    far = next(line for line in rest.splitlines() if line.startswith("  FAR "))
    assert far.index("100–200 d") < far.index("1.98 d")  # the spread, then the model's mean
    assert "    100–150 d planned: at the launch [SRC1]" in rest and "    200 d claim: in other reports [SRC1]" in rest


def test_validate_json_lists_expectations_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_scenario(tmp_path, exact_network())
    targets = far_off_targets(tmp_path, "expectation")
    assert main(["validate", str(scenario), "--targets", str(targets), "-r", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["failed"] == []
    assert [r["id"] for r in data["rows"]] == ["NEAR"] and [r["id"] for r in data["expectations"]] == ["FAR"]
    (far,) = data["expectations"]
    assert list(far) == [
        "id",
        "what",
        "kind",
        "unit",
        "simulated_mean",
        "ci95",
        "n",
        "spread",
        "claims",
        "applies_to",
        "sources",
        "note",
        "fitted_parameters",
    ]
    assert far["kind"] == "expectation" and far["unit"] == "d" and far["spread"] == [100, 200]
    assert far["simulated_mean"] == data["rows"][0]["simulated_mean"] == round((36 + 11.5) / 24, 2)
    assert far["claims"] == [
        {"published": [100, 150], "status": "planned", "sources": ["SRC1"], "note": "at the launch"},
        {"published": [200, 200], "status": "claim", "sources": ["SRC1"], "note": "in other reports"},
    ]
    assert "observed" not in far and "passed" not in far  # an expectation is neither observed nor judged
    assert far["sources"] == ["SRC1"] and far["note"] is None and far["fitted_parameters"] == []


def test_the_bundled_southern_row_is_an_expectation_with_every_published_figure(network: corridors.Network) -> None:
    from sim.scenario import load_scenario

    scenario = load_scenario(network=network)
    targets, _ = load_targets(None, network, {s.name: s.node_ids for s in scenario.services})
    v14 = next(t for t in targets if t.id == "V14")
    assert v14.kind == "expectation" and v14.how.services == ("southern-chengdu-lodz",)
    figures = [(c.low_h / 24, c.high_h / 24, c.status) for c in v14.claims]
    assert figures == [(52, 60, "planned"), (40, 40, "claim"), (23, 23, "trial"), (18, 25, "target")]
    assert all(c.sources and "ESTIMATE" not in c.sources for c in v14.claims)
    assert {t.kind for t in targets} == {"end_to_end", "node", "expectation"}
