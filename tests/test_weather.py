"""Weather at ports and ferry terminals: stoppages a month, or a share of the time closed
(``closed_share``), each table of a node on a stream of its own and adding to the others."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import corridors
import sim
from corridors import Distribution
from sim.engine import _Model
from sim.facilities import Windows
from sim.model import Weather
from sim.streams import draw, stream

PERT_1_16_D = Distribution(24, 120, 384)


def storms(scenario: sim.Scenario, node: str, seed: int = 1, rep: int = 0) -> list[tuple[float, float]]:
    """The stoppage windows the engine draws for ``node`` in one replication (merged)."""
    windows = _Model(scenario, seed, rep).storms.get(node)
    return windows.as_list() if windows is not None else []


def closed_share(windows: list[tuple[float, float]], a: float, b: float) -> float:
    return sum(max(0.0, min(end, b) - max(start, a)) for start, end in windows) / (b - a)


def with_weather(scenario: sim.Scenario, *weather: Weather) -> sim.Scenario:
    return dataclasses.replace(scenario, weather=weather)


def test_stoppages_a_month_are_drawn_as_they_always_were(baseline_scenario: sim.Scenario) -> None:
    """A table with stoppages_per_month draws what the engine drew before closed_share existed:
    the same stream, month by month, a Poisson count, then a start and a length each."""
    w = Weather("KZ_AKTAU", (11, 12, 1, 2, 3), 0.4, Distribution(24, 72, 120))
    sc = with_weather(baseline_scenario, w)
    for rep in range(3):
        rng = stream(1, rep, "weather", "KZ_AKTAU")
        expected = []
        month = dt.datetime(sc.start.year, sc.start.month, 1)
        while sc.hours(month) < sc.horizon_h:
            if month.month in w.months:
                days = calendar.monthrange(month.year, month.month)[1]
                for _ in range(int(rng.poisson(0.4))):
                    begin = sc.hours(month) + float(rng.uniform(0, 24 * days))
                    expected.append((begin, begin + draw(w.stoppage_h, rng, 1)[0]))
            month = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1)
        assert storms(sc, "KZ_AKTAU", rep=rep) == Windows(expected).as_list()


@pytest.mark.parametrize("stoppage_h", [Distribution.fixed(24), PERT_1_16_D], ids=["a day", "1-16 days"])
def test_a_closed_share_closes_the_node_that_share_of_its_months(
    baseline_scenario: sim.Scenario, stoppage_h: Distribution
) -> None:
    """Closed half of November and December whether a stoppage lasts a day or about a week (mean
    over 150 replications, within 0.03), from the first hour of November on; never in summer."""
    sc = with_weather(baseline_scenario, Weather("KZ_KURYK", (11, 12), None, stoppage_h, closed_share=0.5))
    nov, jan = sc.hours(dt.datetime(2025, 11, 1)), sc.hours(dt.datetime(2026, 1, 1))
    first_week = (nov, nov + 24 * 7)
    summer = (sc.hours(dt.datetime(2025, 6, 1)), sc.hours(dt.datetime(2025, 9, 1)))
    shares, early, off = [], [], []
    for rep in range(150):
        windows = storms(sc, "KZ_KURYK", rep=rep)
        shares.append(closed_share(windows, nov, jan))
        early.append(closed_share(windows, *first_week))
        off.append(closed_share(windows, *summer))
    assert abs(float(np.mean(shares)) - 0.5) < 0.03
    assert abs(float(np.mean(early)) - 0.5) < 0.06  # storms already under way on 1 November
    assert max(off) == 0.0


def test_weather_tables_of_a_node_add_up_each_on_its_own_stream(baseline_scenario: sim.Scenario) -> None:
    """A second table at a node adds its stoppages and keeps the first's (a what-if on top of a
    base shares the base's draws); two equal tables do not draw the same storms."""
    first = Weather("KZ_AKTAU", (1, 2, 3), 0.4, Distribution(24, 72, 120))
    second = Weather("KZ_AKTAU", (1, 2, 3), 0.4, Distribution(24, 72, 120))
    for rep in range(5):
        alone = storms(with_weather(baseline_scenario, first), "KZ_AKTAU", rep=rep)
        both = storms(with_weather(baseline_scenario, first, second), "KZ_AKTAU", rep=rep)
        covered = Windows(both)
        assert all(covered.open_at(a) >= b for a, b in alone)  # every stoppage of the first is still there
        hours = sum(b - a for a, b in both)
        assert hours >= sum(b - a for a, b in alone)
    totals = [
        (
            sum(b - a for a, b in storms(with_weather(baseline_scenario, first), "KZ_AKTAU", rep=rep)),
            sum(b - a for a, b in storms(with_weather(baseline_scenario, first, second), "KZ_AKTAU", rep=rep)),
        )
        for rep in range(20)
    ]
    assert sum(both > alone for alone, both in totals) >= 5  # the second table's own storms


def test_the_stormy_what_if_adds_to_the_baselines_storms(loaded_scenario: object) -> None:
    load = loaded_scenario  # type: ignore[assignment]
    base, stormy = load("baseline"), load("caspian-winter-storms")  # type: ignore[operator]
    for rep in range(3):
        alone = storms(base, "KZ_AKTAU", rep=rep)
        covered = Windows(storms(stormy, "KZ_AKTAU", rep=rep))
        assert all(covered.open_at(a) >= b for a, b in alone)


def test_the_baseline_closes_the_caspian_ports_as_published(baseline_scenario: sim.Scenario) -> None:
    shares = {(w.node, w.months): w.closed_share for w in baseline_scenario.weather}
    assert shares[("KZ_KURYK", (11, 12))] == 0.5  # C7 / F4.1: Kuryk closed about half of Nov-Dec
    assert shares[("KZ_AKTAU", (11, 12))] == 0.33  # F4.2: the crossing stopped 16 of 48 days (2016)


def _scenario(tmp_path: Path, weather: str) -> Path:
    path = tmp_path / "w.toml"
    path.write_text(
        f'[scenario]\nname = "w"\nbase = "baseline"\n\n[[weather]]\nnode = "KZ_KURYK"\nmonths = [11, 12]\n{weather}\n',
        encoding="utf-8",
    )
    return path


DAYS = 'stoppage_d = { min = 1, typical = 5, max = 16, source = ["ESTIMATE"] }'


@pytest.mark.parametrize(
    ("weather", "message"),
    [
        (
            'closed_share = { value = 0.5, source = ["ESTIMATE"] }\n'
            'stoppages_per_month = { value = 1, source = ["ESTIMATE"] }\n' + DAYS,
            r"^w\.toml: weather #1: stoppages_per_month = \{ … \}: give stoppages_per_month or closed_share, not "
            r"both and not neither$",
        ),
        (
            DAYS,
            r"^w\.toml: weather #1: stoppages_per_month = \(missing\): give stoppages_per_month or closed_share, "
            r"not both and not neither$",
        ),
        (
            'closed_share = { value = 1, source = ["ESTIMATE"] }\n' + DAYS,
            r"^w\.toml: weather #1: closed_share\.value = 1: must be within \(0, 0\.95\]: above 0, at most 0\.95$",
        ),
        (
            'closed_share = { value = 0, source = ["ESTIMATE"] }\n' + DAYS,
            r"^w\.toml: weather #1: closed_share\.value = 0: must be greater than 0$",
        ),
        (
            "closed_share = { value = 0.5 }\n" + DAYS,
            r'^w\.toml: weather #1: closed_share\.source = \(missing\): is required: name a source key or "ESTIMATE"$',
        ),
        (
            'closed_share = { value = 0.5, source = ["NOPE"] }\n' + DAYS,
            r'^w\.toml: weather #1: closed_share\.source = "NOPE": is not a source key listed in sources\.toml$',
        ),
        (
            'closed_share = { value = 0.9, source = ["ESTIMATE"] }\n'
            'stoppage_h = { min = 0.1, max = 2, source = ["ESTIMATE"] }',
            r"^w\.toml: weather #1: closed_share\.value = 0\.9: in stoppages of 1\.05 h on average takes about "
            r"1,632 stoppages a month; at most 1,000: give longer stoppages \(stoppage_h\)$",
        ),
    ],
)
def test_bad_weather_is_one_line_naming_file_record_field_and_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, weather: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(corridors.DataError, match=message) as caught:
        sim.load_scenario(_scenario(tmp_path, weather))
    assert "\n" not in str(caught.value)


def test_a_closed_share_reads_with_its_sources(tmp_path: Path) -> None:
    sc = sim.load_scenario(_scenario(tmp_path, 'closed_share = { value = 0.4, source = ["ESTIMATE"] }\n' + DAYS))
    w = sc.weather[-1]
    assert (w.node, w.months, w.closed_share, w.stoppages_per_month) == ("KZ_KURYK", (11, 12), 0.4, None)
    assert w.stoppage_h == PERT_1_16_D
