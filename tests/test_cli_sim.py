"""`corridors simulate` and `corridors validate` from the command line."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

import corridors
from corridors.cli import main
from tests.test_engine import exact_network, write_scenario


def test_simulate_writes_its_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_scenario(tmp_path, exact_network())
    out = tmp_path / "run"
    assert main(["simulate", str(scenario), "-r", "2", "--seed", "3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "abc" in text and "Wrote" in text
    assert sorted(p.name for p in out.iterdir()) == [
        "events.parquet",
        "manifest.json",
        "map.html",
        "report.html",
        "summary.json",
        "summary_services.csv",
        "trains.csv",
    ]
    summary = json.loads((out / "summary.json").read_text())
    transit = summary["services"]["abc"]["transit_d"]
    assert {"mean", "p50", "p95", "ci95"} <= set(transit)
    # train k leaves at k - 1 h and queues at B behind the others: transit 36 + (k - 1) h, k = 1..24
    assert transit["mean"] == round((36 + 11.5) / 24, 2) and transit["max"] == round((36 + 23) / 24, 2)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["replications"] == 2
    assert any(k.endswith("scenario.toml") for k in manifest["inputs_sha256"])
    assert {"python", "simpy", "numpy", "corridors"} <= set(manifest["versions"])
    import pyarrow.parquet as pq

    log = pq.read_table(out / "events.parquet")
    assert log.num_rows == 2 * 24 * 7 and log.column_names == [
        "replication",
        "train",
        "service",
        "place",
        "leg",
        "event",
        "time_h",
        "time",
    ]
    first = log.slice(0, 1).to_pylist()[0]
    assert first["event"] == "depart" and first["place"] == "A" and first["leg"] == "L1"
    assert str(first["time"]) == "2025-01-01 00:00:00" and first["time_h"] == 0.0
    with open(out / "trains.csv") as f:
        trains = list(csv.DictReader(f))
    assert len(trains) == 2 * 24 and trains[0]["status"] == "arrived"
    csv_out = tmp_path / "csv"
    assert main(["simulate", str(scenario), "-r", "2", "--seed", "3", "--events", "csv", "--out", str(csv_out)]) == 0
    with gzip.open(csv_out / "events.csv.gz", "rt") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == log.num_rows and rows[0]["time"] == "2025-01-01T00:00"
    assert [(r["train"], r["place"], r["leg"], r["event"], float(r["time_h"])) for r in rows] == [
        (r["train"], r["place"], r["leg"], r["event"], round(r["time_h"], 4)) for r in log.to_pylist()
    ]


def test_simulate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_scenario(tmp_path, exact_network())
    assert main(["simulate", str(scenario), "-r", "1", "--out", str(tmp_path / "o"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["services"]["abc"]["transit_d"]["mean"] > 0


def test_bad_scenario_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_scenario(tmp_path, exact_network(), corridor="nowhere")
    out = tmp_path / "run"
    assert main(["simulate", str(scenario), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert 'scenario.toml: service abc: corridor = "nowhere"' in err and "Traceback" not in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unknown_bundled_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "no-such-scenario"]) == 1
    err = capsys.readouterr().err
    assert "no bundled scenario of that name; bundled: " in err and "baseline" in err and "red-sea-closure" in err
    assert "did you mean" not in err
    assert main(["simulate", "basline"]) == 1
    assert "did you mean baseline?" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["simulate", "-r", "0"], ["simulate", "--seed", "-1"], ["validate", "-r", "x"]])
def test_bad_run_options_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_validate_reports_every_row_and_fails_on_an_end_to_end_miss(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], short_baseline: Path
) -> None:
    """On the baseline's first month: the rows are about reporting, not about a whole year."""
    targets = tmp_path / "targets.toml"
    targets.write_text("""
[[targets]]
id = "T1"
what = "Northern door to door"
kind = "end_to_end"
measure = "transit"
services = ["northern-chengdu-lodz"]
range_d = [11, 14]
source = ["XINHUA_2013_CHENGDU"]

[[targets]]
id = "T2"
what = "An impossible figure"
kind = "end_to_end"
measure = "transit"
services = ["northern-chengdu-lodz"]
range_d = [1, 2]
source = ["ESTIMATE"]
""")
    assert main(["validate", str(short_baseline), "--targets", str(targets), "-r", "1", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in data["rows"]] == ["T1", "T2"]
    assert [r["passed"] for r in data["rows"]] == [True, False] and data["failed"] == ["T2"]
    assert main(["validate", str(short_baseline), "--targets", str(targets), "-r", "1"]) == 1
    text = capsys.readouterr().out
    assert "1 end-to-end row fails: T2" in text and "T2 (An impossible figure)" in text
    # the failing row shows where its trains' days go: by country, and the longest stays
    days = next(line for line in text.splitlines() if line.startswith("  T2 northern-chengdu-lodz, days by country:"))
    assert "KZ" in days and "RU" in days and "BY" in days and "T1 " not in text.split("fails: T2")[1]
    assert "longest stays: " in text and "KZ_DOSTYK" in text.split("longest stays: ")[1]


def test_validate_bad_targets_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    targets = tmp_path / "targets.toml"
    targets.write_text(
        '[[targets]]\nid = "T1"\nwhat = "x"\nkind = "end_to_end"\nmeasure = "transit"\n'
        'services = ["nope"]\nrange_d = [1, 2]\nsource = ["ESTIMATE"]\n'
    )
    assert main(["validate", "--targets", str(targets), "-r", "1"]) == 1
    assert 'target T1: services = "nope": is not a service of the scenario' in capsys.readouterr().err


def test_simulate_writes_a_readable_report(baseline_folder: Path) -> None:
    from maps.offline import external_references

    page = (baseline_folder / "report.html").read_text(encoding="utf-8")
    for heading in (
        "Key figures",
        "Transit-time distributions",
        "Time against distance",
        "Where the days went",
        "Bottlenecks",
        "Route map",
        "Assumptions and sources",
    ):
        assert heading in page
    assert page.count("<svg") >= 3
    assert external_references(page.split("<iframe")[0]) == []


def test_ctrl_c_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.runner

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.runner, "_manifest", interrupted)  # after the log, trains and summary are written
    scenario = write_scenario(tmp_path, exact_network())
    out = tmp_path / "runs" / "run"
    assert main(["simulate", str(scenario), "--out", str(out)]) == 130
    err = capsys.readouterr().err
    kept = f"{out.parent / '.run.partial'}: the same command with --resume finishes the run)"
    assert err == f"corridors: interrupted; nothing was half-written (10 of 10 replications are kept in {kept}\n"
    assert not out.exists() and [p.name for p in (tmp_path / "runs").iterdir()] == [".run.partial"]  # no staging


def test_a_pair_of_reports_is_written_both_or_neither(tmp_path: Path) -> None:
    from corridors import InputError
    from corridors.export import write_texts_atomic

    first, second = tmp_path / "a.json", tmp_path / "a.html"
    write_texts_atomic({first: "old json", second: "old html"})
    with pytest.raises(InputError, match="cannot write"):
        write_texts_atomic({first: "new json", tmp_path / "no-such-folder" / "a.html": "new html"})
    assert first.read_text() == "old json" and sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "a.json"]


def test_clip_cuts_at_a_word() -> None:
    from corridors.cli import _clip

    assert _clip("aaaa bbbb cccc", 10) == "aaaa bbbb…"
    assert _clip("aaaa bbbbbb cccc", 10) == "aaaa…"
    assert _clip("short", 10) == "short"


def test_validate_says_which_rows_parameters_were_fitted_to(network: corridors.Network) -> None:
    from sim.validate import fitted_parameters

    fitted = fitted_parameters(network)
    assert "M02 transit_h" in fitted["V10"] and "KZ_AKTAU process_h" in fitted["V10"]
    assert set(fitted) == {"V10", "V15", "V15c", "V16"}  # the rest are checked against independent facts


def test_validate_marks_rows_that_parameters_were_fitted_to(capsys: pytest.CaptureFixture[str]) -> None:
    # V14, the southern row, is an expectation: not judged. -r 3: V17 is measured on the southern
    # trains, two a year (one replication's two give 17.07 d against 13-17 d)
    assert main(["validate", "-r", "3"]) == 0
    text = capsys.readouterr().out
    v10 = next(line for line in text.splitlines() if line.startswith("  V10 "))
    v01 = next(line for line in text.splitlines() if line.startswith("  V01 "))
    assert v10.endswith("pass*") and v01.endswith("pass")
    flat = " ".join(text.split())  # notes are wrapped to the terminal
    assert "* parameters were fitted to these figures" in flat and "V10: KZ_AKTAU process_h" in flat
    assert "Independent evidence (no parameter was fitted to them): V01, V02, V04, V17, V18." in flat
    judged, _, expectations = text.partition("Expectations (not judged")
    assert "  V14 " not in judged and expectations.splitlines()[2].startswith("  V14 ")
    assert "  V14 published figures:" in expectations and "All end-to-end rows pass." in expectations


def test_the_event_log_quotes_names_that_need_it(tmp_path: Path) -> None:
    import dataclasses

    from sim.runner import simulate, write_run
    from sim.scenario import load_scenario

    result = simulate(load_scenario(write_scenario(tmp_path, exact_network())), replications=1)
    plain = write_run(result, tmp_path / "plain", events="csv")
    rep = result.replications[0]
    odd = tuple('B, "the border"' if p == "B" else p for p in rep.visits.places)
    renamed = dataclasses.replace(rep, visits=dataclasses.replace(rep.visits, places=odd))
    quoted = dataclasses.replace(result, replications=[renamed])
    write_run(quoted, tmp_path / "quoted", events="csv")

    def rows(folder: Path) -> list[dict[str, str]]:
        with gzip.open(folder / "events.csv.gz", "rt", newline="") as f:
            return list(csv.DictReader(f))

    fast, slow = rows(tmp_path / "plain"), rows(tmp_path / "quoted")
    assert len(fast) == len(slow) == len(rep.events) and plain
    assert {r["place"] for r in slow} == {"A", 'B, "the border"', "C"}
    assert [{**r, "place": "B" if r["place"].startswith("B,") else r["place"]} for r in slow] == fast
