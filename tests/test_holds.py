"""Administrative holds (permits, inspections): a facility's ``hold_probability`` and ``hold_h``.
A held train waits after its service; hand-computed traces, the draws' own streams, the loader's
and the what-ifs' rules, and the bundled hold at Tehran in the baseline's summary and report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import corridors
import sim
from maps.report import run_report
from sim.engine import run_replication
from sim.records import WaitReason
from sim.runner import RunResult
from sim.scenario import load_scenario
from sim.streams import stream
from sim.sweep import parse_param, sweep
from tests.conftest import write_network
from tests.test_engine import exact_network, trace, write_scenario


def fixed(hours: float) -> dict[str, Any]:
    return {"min": hours, "typical": hours, "max": hours, "shape": "fixed", "source": "SRC1"}


def hold(network: dict[str, Any], node_id: str, probability: Any, hold_h: Any) -> dict[str, Any]:
    """``network`` with an administrative hold at ``node_id`` (a key left out when None)."""
    for node in network["nodes.toml"]["nodes"]:
        if node["id"] == node_id:
            f = node.setdefault("facility", {})
            if probability is not None:
                f["hold_probability"] = (
                    probability if isinstance(probability, dict) else {"value": probability, "source": "ESTIMATE"}
                )
            if hold_h is not None:
                f["hold_h"] = hold_h
    return network


def test_a_certain_fixed_hold_delays_each_train_by_exactly_its_hours(tmp_path: Path) -> None:
    """B serves 2 h, then holds every train 5 h: each leaves B 5 h after its service ends and
    reaches C 5 h later than without the hold (the plain trace: B ends at 12, 14, 16; C at 36,
    38, 40). The hold keeps no server: B's service times do not move."""
    rows = trace(write_scenario(tmp_path, hold(exact_network(), "B", 1, fixed(5))))
    at = {(train[-1], place, event): t for train, place, event, t in rows}
    assert [at[(k, "B", "end")] for k in "123"] == [12.0, 14.0, 16.0]
    assert [at[(k, "B", "leave")] for k in "123"] == [17.0, 19.0, 21.0]
    assert [at[(k, "C", "arrive")] for k in "123"] == [41.0, 43.0, 45.0]

    rep = run_replication(load_scenario(tmp_path / "scenario.toml"), seed=1, replication=0)
    v = rep.visits
    at_b = v.place == v.places.index("B")
    first = at_b & (v.train == 0)
    assert v.wait_h[first].tolist() == [5.0] and v.waited_for[first].tolist() == [WaitReason.HOLD]
    second = at_b & (v.train == 1)  # 1 h in the queue, then 5 h held: the hold kept it longest
    assert v.wait_h[second].tolist() == [6.0] and v.waited_for[second].tolist() == [WaitReason.HOLD]
    assert rep.trains.row(0).waiting_h == 5.0


def test_a_hold_shows_in_the_summary_and_where_the_days_go(tmp_path: Path) -> None:
    result = sim.simulate(
        load_scenario(write_scenario(tmp_path, hold(exact_network(), "B", 1, fixed(5)))), replications=1
    )
    b = result.summary.nodes["B"]
    assert b.hold_h is not None and b.hold_h.min == b.hold_h.max == 5.0
    plain = sim.simulate(load_scenario(write_scenario(tmp_path / "plain", exact_network())), replications=1)
    added = result.summary.where_days_go["abc"].by_node_h["B"] - plain.summary.where_days_go["abc"].by_node_h["B"]
    assert added == pytest.approx(5.0)
    assert (result.summary.services["abc"].transit_d.mean or 0) - (
        plain.summary.services["abc"].transit_d.mean or 0
    ) == pytest.approx(5 / 24, abs=0.01)  # the summary's days have two decimals


def test_a_hold_of_probability_zero_changes_nothing(tmp_path: Path) -> None:
    plain = run_replication(load_scenario(write_scenario(tmp_path / "plain", exact_network())), seed=3, replication=1)
    never = hold(exact_network(), "B", 0, {"min": 24, "typical": 48, "max": 96, "source": "SRC1"})
    held = run_replication(load_scenario(write_scenario(tmp_path / "never", never)), seed=3, replication=1)
    assert held.visits == plain.visits and held.trains == plain.trains


def _month(name: str) -> dict[str, Any]:
    """A scenario table whose departures span January 2025."""
    window = {"start_date": _date("2025-01-01"), "end_date": _date("2025-01-31")}
    return {"scenario": {"name": name, **window, "drain_d": 5, "network": "net"}}


def _random_holds(tmp_path: Path, probability: float) -> Path:
    """B holds trains with ``probability`` for 5-50 h; the leg and the service are random too;
    four trains a day for a month."""
    net = exact_network()
    net["legs.toml"]["legs"][0]["transit_h"] = {"min": 8, "typical": 10, "max": 14, "source": "SRC1"}
    net["nodes.toml"]["nodes"][1]["facility"]["process_h"] = {"min": 1, "typical": 2, "max": 4, "source": "SRC1"}
    hold(net, "B", probability, {"min": 5, "typical": 10, "max": 50, "source": "SRC1"})
    return write_scenario(tmp_path, net, _month("random"), trains_per_week={"value": 28, "source": "SRC1"})


def test_holds_are_drawn_from_streams_of_their_own(tmp_path: Path) -> None:
    """About the probability's share of trains is held, each for a time within the hold's range;
    every other draw (the legs, the service) is what it is without holds, and the same seed gives
    the same holds whether the replications run in this process or in two others."""
    scenario = load_scenario(_random_holds(tmp_path / "held", 0.3))
    one = sim.simulate(scenario, replications=3, seed=11, workers=1)
    two = sim.simulate(scenario, replications=3, seed=11, workers=2)
    for a, b in zip(one.replications, two.replications, strict=True):
        assert a.visits == b.visits and a.trains == b.trains
    other = sim.simulate(scenario, replications=1, seed=12, workers=1).replications[0]
    assert not np.array_equal(other.visits.leave_h, one.replications[0].visits.leave_h)

    none = sim.simulate(load_scenario(_random_holds(tmp_path / "none", 0)), replications=3, seed=11, workers=1)
    shares = []
    for with_hold, without in zip(one.replications, none.replications, strict=True):
        b, b0 = _at(with_hold, "B"), _at(without, "B")
        c, c0 = _at(with_hold, "C"), _at(without, "C")
        assert b.keys() == b0.keys() == c.keys()
        held = 0
        for tid, (arrive, start, end, leave, why) in b.items():
            assert (arrive, end - start) == (b0[tid][0], b0[tid][2] - b0[tid][1])  # the leg's and service's draws
            assert c[tid][0] - leave == pytest.approx(c0[tid][0] - b0[tid][3])  # the next leg's draw
            if why == WaitReason.HOLD:
                held += 1
                assert 5 <= leave - end <= 50
            else:
                assert leave == end
        shares.append(held / len(b))
        # the stream is the hold's own, keyed by the service and the node (sim.streams)
        drawn = stream(11, with_hold.replication, "service", "abc", "hold", "B").random(len(b)) < 0.3
        assert [why == WaitReason.HOLD for _, (*_, why) in sorted(b.items())] == drawn.tolist()
    assert 0.2 < float(np.mean(shares)) < 0.4  # 3 x 120 trains


def _at(rep: sim.Replication, place: str) -> dict[str, tuple[float, float, float, float, int]]:
    """Per train id: its arrival, start, end and leaving at ``place``, and why it waited there."""
    v = rep.visits
    return {
        rep.trains.train[v.train[j]]: (
            float(v.arrive_h[j]),
            float(v.start_h[j]),
            float(v.end_h[j]),
            float(v.leave_h[j]),
            int(v.waited_for[j]),
        )
        for j in np.flatnonzero(v.place == v.places.index(place))
    }


def test_the_share_held_is_the_probability(tmp_path: Path) -> None:
    """Over a month of hourly trains (720, three servers: no queue), the share held is within
    sampling error of 0.3."""
    net = hold(exact_network(), "B", 0.3, fixed(1))
    net["nodes.toml"]["nodes"][1]["facility"]["servers"]["value"] = 3
    rep = run_replication(load_scenario(write_scenario(tmp_path, net, _month("hourly"))), seed=5, replication=0)
    v = rep.visits
    at_b = v.place == v.places.index("B")
    held = v.waited_for[at_b] == WaitReason.HOLD
    assert (v.wait_h[at_b][held] == 1).all() and (v.wait_h[at_b][~held] == 0).all()
    assert at_b.sum() == 720 and abs(float(held.mean()) - 0.3) < 0.06  # 3.5 standard errors


def _date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("probability", "hold_h", "message"),
    [
        (
            1.5,
            fixed(5),
            r"^net/nodes\.toml: node B: facility\.hold_probability\.value = 1\.5: must be within \[0, 1\]$",
        ),
        (
            -0.1,
            fixed(5),
            r"^net/nodes\.toml: node B: facility\.hold_probability\.value = -0\.1: must be within \[0, 1\]$",
        ),
        (
            None,
            fixed(5),
            r"^net/nodes\.toml: node B: facility\.hold_probability = \(missing\): is required with hold_h: an "
            r"administrative hold needs both$",
        ),
        (
            0.2,
            None,
            r"^net/nodes\.toml: node B: facility\.hold_h = \(missing\): is required with hold_probability: an "
            r"administrative hold needs both$",
        ),
        (
            {"value": 0.2},
            fixed(5),
            r"^net/nodes\.toml: node B: facility\.hold_probability\.source = \(missing\): is required: name a "
            r'source key or "ESTIMATE"$',
        ),
        (
            0.2,
            {"min": 9, "typical": 5, "max": 12, "source": "SRC1"},
            r"^net/nodes\.toml: node B: facility\.hold_h\.typical = 5: is outside \[min, max\] = \[9, 12\]$",
        ),
        (
            0.2,
            {"min": 5, "max": 12, "source": "NOPE"},
            r"^net/nodes\.toml: node B: facility\.hold_h\.source = \"NOPE\": is not a source key listed in "
            r"sources\.toml$",
        ),
    ],
)
def test_bad_hold_data_is_one_line_naming_file_record_field_and_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, probability: Any, hold_h: Any, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write_network(tmp_path / "net", hold(exact_network(), "B", probability, hold_h))
    with pytest.raises(corridors.DataError, match=message) as caught:
        corridors.load_network(tmp_path / "net")
    assert "\n" not in str(caught.value)


def test_the_loader_reads_a_hold_in_days_with_its_sources(tmp_path: Path) -> None:
    days = {"min": 3, "typical": 14, "max": 28, "source": ["SRC1", "ESTIMATE"], "note": "a fortnight"}
    records = hold(exact_network(), "B", 0.25, None)
    records["nodes.toml"]["nodes"][1]["facility"]["hold_d"] = days
    f = corridors.load_network(write_network(tmp_path / "days", records)).nodes["B"].facility
    assert f is not None and f.hold_probability == 0.25
    assert f.hold_h == corridors.Distribution(72, 336, 672)
    assert f.sources["hold_h"] == ("SRC1", "ESTIMATE") and f.notes["hold_h"] == "a fortnight"


def test_a_what_if_sets_or_scales_a_hold(tmp_path: Path) -> None:
    """``hold_probability = 0`` takes the hold away (the run is the plain one); a factor scales the
    hold's hours; a node without a hold has no probability to set."""
    write_scenario(tmp_path, hold(exact_network(), "B", 1, fixed(5)))

    def what_if(folder: Path, name: str, change: str) -> Path:
        path = folder / f"{name}.toml"
        path.write_text(
            f'[scenario]\nname = "{name}"\nbase = "scenario.toml"\n\n[[overrides]]\nnode = "B"\n{change}\n',
            encoding="utf-8",
        )
        return path

    off = what_if(tmp_path, "off", 'field = "hold_probability"\nvalue = 0\nsource = "ESTIMATE"')
    plain = run_replication(load_scenario(write_scenario(tmp_path / "plain", exact_network())), seed=1, replication=0)
    assert run_replication(load_scenario(off), seed=1, replication=0).visits == plain.visits
    longer = trace(what_if(tmp_path, "longer", 'field = "hold_h"\nfactor = 2'))
    assert [t for _, place, event, t in longer if place == "B" and event == "leave"] == [22.0, 24.0, 26.0]
    write_scenario(tmp_path / "bare", exact_network())
    bare = what_if(tmp_path / "bare", "w", 'field = "hold_probability"\nvalue = 0.5\nsource = "ESTIMATE"')
    with pytest.raises(corridors.DataError, match=r'field = "hold_probability": does not apply: B has no admin'):
        load_scenario(bare)
    assert parse_param("node.IR_TEHRAN.hold_probability") == ("node", "IR_TEHRAN", "hold_probability")


def test_a_sweep_runs_a_hold_probability_from_zero(tmp_path: Path) -> None:
    """A probability swept from 0 (nobody held) to 1 (every train held 5 h); 0 stays refused
    for the other fields, and a probability above 1 is refused as in nodes.toml."""
    scenario = load_scenario(write_scenario(tmp_path, hold(exact_network(), "B", 0.5, fixed(5))))
    data = sweep(scenario, "node.B.hold_probability", [0, 1], replications=1)
    means = [row["services"]["abc"]["transit_d_p50"] for row in data["rows"]]
    assert means[1] - means[0] == pytest.approx(5 / 24, abs=0.01)
    with pytest.raises(corridors.InputError, match=r"0 is not a finite number above 0"):
        sweep(scenario, "node.B.process_h", [0], replications=1)
    with pytest.raises(corridors.DataError, match=r"value = 1\.5: must be within \[0, 1\]"):
        sweep(scenario, "node.B.hold_probability", [1.5], replications=1)


def test_the_baseline_holds_southern_trains_at_tehran(baseline_run: RunResult) -> None:
    """The bundled hold (IR_TEHRAN: permits, A8) holds some southern trains there, for days; the
    summary counts it after service there and in where the days go, and the report says so."""
    tehran = baseline_run.scenario.network.nodes["IR_TEHRAN"].facility
    assert tehran is not None and tehran.hold_probability and tehran.hold_h is not None
    held = 0
    for rep in baseline_run.replications:
        v = rep.visits
        here = (v.place == v.places.index("IR_TEHRAN")) & (v.waited_for == WaitReason.HOLD)
        held += int(here.sum())
        assert ((v.leave_h - v.end_h)[here] >= tehran.hold_h.min_h).all()
        elsewhere = (v.place != v.places.index("IR_TEHRAN")) & (v.waited_for == WaitReason.HOLD)
        assert not elsewhere.any()
    assert held
    node = baseline_run.summary.nodes["IR_TEHRAN"]
    assert node.hold_h is not None and (node.hold_h.max or 0) >= tehran.hold_h.min_h
    assert baseline_run.summary.where_days_go["southern-chengdu-lodz"].by_node_h["IR_TEHRAN"] > 24
    assert "administrative hold at IR_TEHRAN: 25% of trains, held 3–28 d (most likely 14 d)" in run_report(
        baseline_run, map_html=""
    )
