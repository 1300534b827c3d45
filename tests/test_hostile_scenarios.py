"""Hostile scenarios, what-ifs, sweeps and run sizes: each is refused in one line naming what to
change, or runs correctly; nothing else (no MemoryError, OverflowError or traceback) comes out."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corridors
import sim
from corridors.cli import main
from corridors.errors import CorridorsError, DataError, InputError
from corridors.schema import FIELD_BOUNDS
from sim.limits import MAX_REPLICATIONS, MAX_VISITS, TALLY_BYTES, check_run_size, run_size
from sim.scenario import MAX_DEPARTURES, load_scenario
from sim.sweep import sweep
from tests.conftest import tiny_records, write_network

BASE = 'base = "baseline"\n'


def whatif(tmp_path: Path, body: str, head: str = "") -> Path:
    path = tmp_path / "hostile.toml"
    top = body if body.startswith("services") else ""  # a top-level key goes before the tables
    body = "" if top else body
    path.write_text(f'{top}[scenario]\nname = "hostile"\n{BASE}{head}\n{body}', encoding="utf-8")
    return path


def refused(path: Path, *needles: str) -> str:
    with pytest.raises(DataError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message and message.split(": ")[0].endswith("hostile.toml")
    for needle in needles:
        assert needle in message, message
    return message


def override(target: str, field: str, change: str) -> str:
    return f'[[overrides]]\n{target}\nfield = "{field}"\n{change}\nsource = ["ESTIMATE"]\n'


# -- one validator for every way in --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        # a service's trains a week, wagons and TEU keep the [[services]] bounds
        (override('service = "northern-chengdu-lodz"', "trains_per_week", "value = 1e9"), ["value = 1000000000"]),
        (override('service = "other-via-alashankou"', "trains_per_week", "factor = 100"), ["factor = 100", "2690"]),
        (override('service = "northern-chengdu-lodz"', "teu", "value = 1e-10"), ["value = 1e-10", "within"]),
        (override('service = "northern-chengdu-lodz"', "teu", "value = 400"), ["TEU on 51 wagons"]),
        (override('service = "northern-chengdu-lodz"', "wagons", "factor = 0.01"), ["1 wagons", "TEU"]),
        (override('service = "northern-chengdu-lodz"', "wagons", "value = 2.5"), ["whole number"]),
        # a facility's fields keep the network's bounds, factor × the data's value too
        (override('node = "KZ_ALTYNKOL"', "servers", "value = 1000000"), ["value = 1000000", "within [1, 200]"]),
        (override('node = "KZ_ALTYNKOL"', "servers", "factor = 100"), ["factor = 100", "within [1, 200]"]),
        (override('node = "KZ_ALTYNKOL"', "trains_per_day", "value = 1e308"), ["at most 1000"]),
        (override('node = "KZ_ALTYNKOL"', "process_h", "factor = 1e-9"), ["gives process_h", "[0.001, 8784] h"]),
        (override('node = "KZ_AKTAU"', "vessel_capacity_wagons", "value = 1e6"), ["within [1, 10000]"]),
        (override('node = "CN_SHANGHAI"', "sailings_per_week", "factor = 0.001"), ["within [0.01, 1000]"]),
        (override('node = "KZ_ALTYNKOL"', "trains_per_day", "value = inf"), ["finite"]),
        (override('node = "KZ_ALTYNKOL"', "trains_per_day", "value = nan"), ["finite"]),
        # a leg's new transit time must give a speed the loader accepts
        (override('leg = "N02"', "transit_h", "factor = 0.01"), ["average speed", "rail leg"]),
        # a dispatch rule must have what it needs: timetable without sailings strands every train
        (override('node = "KZ_AKTAU"', "dispatch", 'value = "timetable"'), ["needs sailings_per_week"]),
        (override('node = "CN_SHANGHAI"', "dispatch", 'value = "when_full"'), ["needs vessels"]),
        (override('node = "CN_SHANGHAI"', "dispatch", 'value = "max_wait"'), ["needs max_wait_h"]),
        # rerouting's value of time is bounded ("no route is left" otherwise)
        (
            '[rerouting]\nby = "generalised"\n'
            'value_of_time_usd_per_feu_day = { value = 1e308, source = ["ESTIMATE"] }\n',
            ["value_of_time_usd_per_feu_day.value", "at most"],
        ),
        ("services = []\n", ["services = []", "at least one", "leave it out"]),
    ],
)
def test_overrides_keep_the_loaders_bounds(tmp_path: Path, body: str, needles: list[str]) -> None:
    refused(whatif(tmp_path, body), *needles)


def test_a_dispatch_set_with_what_it_needs_is_accepted(tmp_path: Path) -> None:
    path = whatif(
        tmp_path,
        override('node = "KZ_AKTAU"', "dispatch", 'value = "timetable"')
        + override('node = "KZ_AKTAU"', "sailings_per_week", "value = 7"),
    )
    f = load_scenario(path).network.nodes["KZ_AKTAU"].facility
    assert f is not None and (f.dispatch, f.sailings_per_week) == ("timetable", 7)


def test_bounds_of_the_bundled_network_hold(network: corridors.Network) -> None:
    net = network
    for node in net.nodes.values():
        for field, (lo, hi) in FIELD_BOUNDS.items():
            value = getattr(node.facility, field, None) if node.facility else None
            if isinstance(value, (int, float)):
                assert lo <= value <= hi, (node.id, field, value)
    for leg in net.legs.values():
        lo, hi = FIELD_BOUNDS["transit_h"]
        assert lo <= leg.transit_h.min_h and leg.transit_h.max_h <= hi


def _base(tmp_path: Path, services: int = 1, service: dict[str, Any] | None = None, **scenario: Any) -> Path:
    """A scenario on the tiny network (A - B - C) with ``services`` like ``abc`` (changed by ``service``);
    ``scenario`` changes its [scenario] table."""
    write_network(tmp_path / "net", tiny_records())
    data: dict[str, Any] = {
        "scenario": {
            "name": "tiny",
            "start_date": dt.date(2025, 1, 1),
            "end_date": dt.date(2025, 3, 1),
            "drain_d": 10,
            "network": "net",
            **scenario,
        },
        "services": [
            {
                "name": "abc",
                "corridor": "abc",
                "trains_per_week": {"value": 7, "source": "SRC1"},
                "wagons": {"value": 40, "source": "SRC1"},
                "teu": {"value": 80, "source": "SRC1"},
                "promised_transit_d": {"value": 3, "source": "SRC1"},
                **(service or {}),
            }
        ],
    }
    data["services"] += [dict(data["services"][0], name=f"abc{i}") for i in range(1, services)]
    path = tmp_path / "tiny.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def test_a_window_of_centuries_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"end_date = .*2200-01-01.*at most 3,660 days"):
        load_scenario(_base(tmp_path, end_date=dt.date(2200, 1, 1)))


@pytest.mark.parametrize("when", [dt.date(9999, 12, 31), dt.date(3025, 3, 1), dt.date(1, 1, 1)])
def test_a_date_off_the_calendar_is_refused(tmp_path: Path, when: dt.date) -> None:
    """9999-12-31 overflowed Python's calendar when the window and drain time were added."""
    with pytest.raises(DataError, match=r"end_date = .*: must fall in the years 1900 to 2200"):
        load_scenario(_base(tmp_path, end_date=when))


def test_a_weekday_listed_twice_is_refused(tmp_path: Path) -> None:
    path = _base(tmp_path, service={"weekdays": ["mon", "mon"]})
    with pytest.raises(DataError, match=r'service abc: weekdays = "mon": is listed twice'):
        load_scenario(path)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("services = []\n", "services = []: must list at least one"),
        ("", "services = (missing)"),
    ],
)
def test_a_scenario_without_services_is_refused(tmp_path: Path, line: str, needle: str) -> None:
    (tmp_path / "x.toml").write_text(
        f'{line}[scenario]\nname = "x"\nstart_date = 2025-01-01\nend_date = 2025-02-01\n', encoding="utf-8"
    )
    with pytest.raises(DataError, match=needle.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_scenario(tmp_path / "x.toml")


def test_a_promise_or_a_storm_beyond_reason_is_refused(tmp_path: Path) -> None:
    path = _base(tmp_path, service={"promised_transit_d": {"value": 1e308, "source": "SRC1"}})
    with pytest.raises(DataError, match=r"promised_transit_d.value = 1e\+308: is too large \(at most 366\)"):
        load_scenario(path)
    (tmp_path / "storm.toml").write_text(
        '[scenario]\nname = "storm"\nbase = "tiny.toml"\n[[weather]]\nnode = "B"\nmonths = [1]\n'
        'stoppages_per_month = { value = 1, source = "SRC1" }\n'
        'stoppage_d = { min = 1, max = 1e300, source = "SRC1" }\n',
        encoding="utf-8",
    )
    _base(tmp_path)
    with pytest.raises(DataError, match="is not a port or ferry terminal"):
        load_scenario(tmp_path / "storm.toml")


def test_a_whatif_that_shortens_the_window_rebuilds_the_timetable(tmp_path: Path) -> None:
    path = whatif(tmp_path, "", head="end_date = 2025-07-01\n")
    scenario = load_scenario(path)
    end_h = scenario.end_h
    northern = {s.name: s for s in scenario.services}["northern-chengdu-lodz"]
    assert max(northern.departures_h) < end_h == 181 * 24
    assert len(northern.departures_h) == pytest.approx(10.2 * 181 / 7, abs=1)
    result = sim.simulate(scenario, replications=1, seed=1)
    assert result.summary.services["northern-chengdu-lodz"].throughput.trains_per_week == pytest.approx(10.2, abs=0.2)


def test_a_whatif_that_moves_the_start_counts_its_hours_from_it(
    tmp_path: Path, baseline_scenario: sim.Scenario
) -> None:
    path = whatif(
        tmp_path,
        '[[closures]]\nnode = "PL_MALASZEWICZE"\nstart = 2025-09-12\nend = 2025-09-14\n',
        head="start_date = 2025-07-01\n",
    )
    scenario = load_scenario(path)
    base = baseline_scenario
    shift = (scenario.start - base.start).total_seconds() / 3600
    assert scenario.closures[-1].start_h == (dt.datetime(2025, 9, 12) - scenario.start).total_seconds() / 3600
    for before, after in zip(base.closures, scenario.closures, strict=False):
        assert after.start_h == before.start_h - shift
    for s in scenario.services:
        assert min(s.departures_h) >= 0 and max(s.departures_h) < scenario.end_h


def test_a_whatif_window_must_keep_a_service_with_its_own_dates(tmp_path: Path) -> None:
    _base(tmp_path, service={"start_date": dt.date(2025, 2, 1)})
    (tmp_path / "short.toml").write_text(
        '[scenario]\nname = "short"\nbase = "tiny.toml"\nend_date = 2025-01-20\n', encoding="utf-8"
    )
    with pytest.raises(
        DataError,
        match=r"short.toml: \[scenario\]: scenario.end_date = \"2025-01-20\": leaves out the base's service abc",
    ):
        load_scenario(tmp_path / "short.toml")


def test_a_service_with_its_own_start_runs_to_the_whatifs_end(tmp_path: Path) -> None:
    _base(tmp_path, service={"start_date": dt.date(2025, 2, 1)})
    (tmp_path / "long.toml").write_text(
        '[scenario]\nname = "long"\nbase = "tiny.toml"\nend_date = 2025-04-01\n', encoding="utf-8"
    )
    (service,) = load_scenario(tmp_path / "long.toml").services
    assert service.window_h == (31 * 24, (31 + 28 + 31) * 24)
    assert len(service.departures_h) == 28 + 31 and max(service.departures_h) < service.window_h[1]


def test_too_many_departures_are_refused_while_loading(tmp_path: Path) -> None:
    path = _base(
        tmp_path,
        services=6,
        service={"trains_per_week": {"value": 1000, "source": "SRC1"}},
        end_date=dt.date(2034, 12, 31),
    )
    started = time.monotonic()
    with pytest.raises(DataError, match=f"at most {MAX_DEPARTURES:,}"):
        load_scenario(path)
    assert time.monotonic() - started < 30


def test_sweep_values_keep_the_bounds(baseline_scenario: sim.Scenario) -> None:
    base = baseline_scenario
    for param, value, needle in [
        ("service.northern-chengdu-lodz.trains_per_week", 1e308, "at most 1000"),
        ("node.KZ_ALTYNKOL.servers", 1e308, "at most 200"),
        ("node.KZ_ALTYNKOL.trains_per_day", float("inf"), "not a finite number"),
        ("leg.S16.transit_h", 1e308, "factor = 1e+308: is too large (at most 100)"),
    ]:
        with pytest.raises(CorridorsError, match=re.escape(needle)):
            sweep(base, param, [value], replications=1)


# -- the run-size guard ----------------------------------------------------------------------------


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    started = time.monotonic()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: usage
        code = int(exc.code or 0)
    assert time.monotonic() - started < 20
    err = capsys.readouterr().err.strip()
    return code, err


def test_an_absurd_replication_count_is_a_usage_error_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    for extra in ([], ["--allow-large"]):
        started = time.monotonic()
        code, err = _cli(["simulate", "-r", "99999999999", *extra], capsys)
        assert time.monotonic() - started < 1
        assert code == 2 and "99999999999 is more than 100,000" in err


def test_the_cli_and_the_guard_agree_on_the_most_replications() -> None:
    import inspect

    from corridors import cli

    assert f"most = {MAX_REPLICATIONS:_}" in inspect.getsource(cli._run_options)


@pytest.mark.parametrize(
    "command",
    [["simulate", "--out", "never"], ["validate"], ["compare", "baseline", "red-sea-closure", "--out", "never"]],
)
def test_a_run_beyond_the_limit_names_its_knobs(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _cli([*command, "-r", "1300"], capsys)  # 1,300 x 45,652 visits: beyond the limit
    assert code == 1 and "\n" not in err and "Traceback" not in err
    assert not Path("never").exists()
    for needle in ("-r 1300", "365-day window", "trains_per_week", "northern-xian-duisburg", "--allow-large"):
        assert needle in err, err


def test_a_sweep_beyond_the_limit_names_its_knobs(capsys: pytest.CaptureFixture[str]) -> None:
    values = ",".join(str(v) for v in range(1, 41))
    code, err = _cli(
        ["sweep", "baseline", "--param", "node.KZ_ALTYNKOL.trains_per_day", "--values", values, "-r", "40"], capsys
    )
    assert code == 1 and "× 40 runs" in err and "--allow-large" in err


def test_allow_large_does_not_allow_beyond_memory(
    capsys: pytest.CaptureFixture[str], baseline_scenario: sim.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sim.limits, "_memory_bytes", lambda: 2 * 10**9)  # a machine of 2 GB
    code, err = _cli(["simulate", "-r", "99999", "--allow-large"], capsys)
    assert code == 1 and "too large for this machine" in err and "\n" not in err
    scenario = baseline_scenario
    with pytest.raises(InputError, match="even with allow_large=True"):
        check_run_size([scenario], 10, allow_large=True, memory_bytes=10**6)
    assert check_run_size([scenario], 10) == 10 * run_size(scenario).visits


def test_the_limit_counts_vessel_loads(tmp_path: Path, baseline_scenario: sim.Scenario) -> None:
    path = whatif(tmp_path, override('node = "CN_SHANGHAI"', "vessel_capacity_teu", "value = 1"))
    heavy = run_size(load_scenario(path))
    light = run_size(baseline_scenario)
    assert heavy.visits > light.visits + 100 * 100  # two sea services, 100 TEU a train, a sailing each
    assert MAX_VISITS * TALLY_BYTES <= 10**9  # the most a run asks for unasked keeps its tallies under 1 GB


def test_bad_sweep_values_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    for values in ("nan", "inf", "1e999"):
        code, err = _cli(
            ["sweep", "baseline", "--param", "node.KZ_ALTYNKOL.trains_per_day", "--values", values], capsys
        )
        assert code == 1 and "finite numbers above 0" in err
    code, err = _cli(
        ["sweep", "baseline", "--param", "service.northern-chengdu-lodz.trains_per_week", "--values", "1e308"], capsys
    )
    assert code == 1 and "--param: service.northern-chengdu-lodz.trains_per_week: value = 1e+308" in err


# -- strict JSON out ------------------------------------------------------------------------------


def _strict(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def test_compare_and_summary_hold_no_nan_or_infinity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _base(tmp_path)
    (tmp_path / "extreme.toml").write_text(
        '[scenario]\nname = "extreme"\nbase = "tiny.toml"\n'
        + override('node = "B"', "process_h", "factor = 100")
        + override('leg = "L1"', "cost_usd_per_feu", "value = 1000000")
        + override('service = "abc"', "trains_per_week", "factor = 0.01"),
        encoding="utf-8",
    )
    out = tmp_path / "cmp"
    code = main(["compare", str(base), str(tmp_path / "extreme.toml"), "-r", "1", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    report = _strict((out / "compare.json").read_text())
    row = report["whatifs"][0]["services"]["abc"]
    assert row["delta"]["transit_d_mean"]["ci95"] is None  # one replication: no interval
    code = main(["simulate", str(tmp_path / "extreme.toml"), "-r", "1", "--out", str(tmp_path / "run")])
    assert code == 0
    _strict((tmp_path / "run" / "summary.json").read_text())


# -- property: only the project's own errors ------------------------------------------------------

SCALARS = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1e-300, 1e-10, 0.5, 2, 100, 1e9, 1e308, -1]),
    st.text(max_size=8),
    st.sampled_from(["A", "B", "C", "L1", "L2", "abc", "timetable", "max_wait", "mon", "ESTIMATE", "SRC1"]),
    st.booleans(),
    st.dates(dt.date(1900, 1, 1), dt.date(2200, 1, 1)),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.fixed_dictionaries({"value": SCALARS, "source": st.just("SRC1")}),
    st.fixed_dictionaries({"min": SCALARS, "typical": SCALARS, "max": SCALARS, "source": st.just("SRC1")}),
)
NUMBERS = st.one_of(st.sampled_from([0.5, 1, 2, 3, 7, 24, 100, 1000, 1e-300, 1e308, 0, -1]), st.floats(0.001, 1e4))
SOURCED = st.fixed_dictionaries({"value": NUMBERS, "source": st.just("SRC1")})
SCENARIO_KEYS = ["start_date", "end_date", "drain_d", "description"]
SERVICE_KEYS = [
    "trains_per_week",
    "headway_h",
    "weekdays",
    "wagons",
    "teu",
    "promised_transit_d",
    "departure_spread_h",
    "start_date",
    "end_date",
    "corridor",
    "origin",
    "destination",
]
OVERRIDE_FIELDS = [
    "servers",
    "process_h",
    "trains_per_day",
    "dispatch",
    "transit_h",
    "trains_per_week",
    "wagons",
    "teu",
]
TABLES = ["closures", "capacity_cuts", "weather"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    head=st.dictionaries(st.sampled_from(SCENARIO_KEYS), SCALARS, max_size=2),
    service=st.dictionaries(st.sampled_from(SERVICE_KEYS), st.one_of(SOURCED, VALUES), max_size=3),
    overrides=st.lists(
        st.tuples(
            st.sampled_from([("node", "B"), ("leg", "L1"), ("leg", "L2"), ("service", "abc"), ("node", "A")]),
            st.sampled_from(OVERRIDE_FIELDS),
            st.sampled_from(["value", "factor"]),
            st.one_of(NUMBERS, NUMBERS, SCALARS),
        ),
        max_size=3,
    ),
    extra=st.dictionaries(
        st.sampled_from(TABLES),
        st.lists(
            st.dictionaries(
                st.sampled_from(["node", "leg", "start", "end", "factor", "months", "stoppages_per_month"]),
                VALUES,
                max_size=5,
            ),
            max_size=2,
        ),
        max_size=2,
    ),
    rerouting=st.one_of(st.none(), st.dictionaries(st.sampled_from(["closure_threshold_d", "by"]), SCALARS)),
)
def test_random_scenarios_give_only_the_projects_errors(
    head: dict[str, Any],
    service: dict[str, Any],
    overrides: list[tuple[tuple[str, str], str, str, Any]],
    extra: dict[str, Any],
    rerouting: dict[str, Any] | None,
) -> None:
    records = copy.deepcopy(tiny_records())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_network(root / "net", records)
        base: dict[str, Any] = {
            "scenario": {
                "name": "tiny",
                "start_date": dt.date(2025, 1, 1),
                "end_date": dt.date(2025, 1, 15),
                "drain_d": 5,
                "network": "net",
            },
            "services": [
                {
                    "name": "abc",
                    "corridor": "abc",
                    "trains_per_week": {"value": 7, "source": "SRC1"},
                    "wagons": {"value": 40, "source": "SRC1"},
                    "teu": {"value": 80, "source": "SRC1"},
                }
            ],
        }
        if "trains_per_week" in service or "headway_h" in service:
            base["services"][0].pop("trains_per_week")
        base["services"][0].update(service)
        (root / "base.toml").write_text(tomli_w.dumps(base), encoding="utf-8")
        data: dict[str, Any] = {"scenario": {"name": "hostile", "base": "base.toml", **head}}
        data["overrides"] = [
            {kind: ident, "field": field, key: value, "source": "SRC1"}
            for (kind, ident), field, key, value in overrides
        ]
        data.update(extra)
        if rerouting is not None:
            data["rerouting"] = rerouting
        (root / "hostile.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
        try:
            scenario = load_scenario(root / "hostile.toml")
            check_run_size([scenario], 1, limit=20_000)
            result = sim.simulate(scenario, replications=1, seed=1)
        except CorridorsError as exc:
            assert str(exc)  # (a value holding a line break is shown as it is: show_value)
            return
        json.dumps(result.summary.to_json(), allow_nan=False)  # finite numbers only


def test_the_api_passes_the_same_guard(baseline_scenario: sim.Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """``sim.simulate`` refuses what the command line refuses, unless ``allow_large`` is given."""
    base = baseline_scenario
    monkeypatch.setattr(sim.limits, "_memory_bytes", lambda: 24 * 2**30)  # this machine's, on any machine
    started = time.monotonic()
    with pytest.raises(CorridorsError, match="allow_large=True"):
        sim.simulate(base, replications=1300, keep="first")
    with pytest.raises(CorridorsError, match="too large for this machine"):  # every record kept: 39 GB
        sim.simulate(base, replications=1000, allow_large=True)
    assert time.monotonic() - started < 5
