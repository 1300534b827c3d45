"""The inline-SVG charts of the reports."""

from __future__ import annotations

import itertools
import re
from typing import Any

from maps.svg import OTHER, PALETTE, stacked_bars


def test_stacked_bars_keep_a_colour_per_part_and_say_which() -> None:
    rows = {
        "a": {"KZ": 5.0, "CN": 3.0, "other nodes": 1.0},
        "b": {"CN": 4.0, "KZ": 0.2},
    }
    svg = stacked_bars(rows, unit="d", title="Days")
    by_part: dict[str, set[str]] = {}
    for colour, part in re.findall(r'fill="(#[0-9a-f]+)"><title>[ab]: (\S+)', svg):
        by_part.setdefault(part, set()).add(colour)
    # colours go by size over all rows (CN 7 d, KZ 5.2 d); a part has the same colour in every row
    assert by_part["CN"] == {PALETTE[0]} and by_part["KZ"] == {PALETTE[1]}
    assert by_part["other"] == {OTHER}  # "other nodes" is grey, with the rest
    legend = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="11" height="11" fill="(#[0-9a-f]+)"/>', svg)
    assert legend == [PALETTE[0], PALETTE[1], OTHER]
    labels = re.findall(r'fill="#fff">([^<]+)</text>', svg)
    assert "KZ" in labels and labels.count("KZ") == 1  # b's KZ sliver is too narrow for its name
    assert "9.0 d" in svg and "4.2 d" in svg


def _label_boxes(svg: str) -> dict[str, tuple[float, float, float, float]]:
    """The time-distance labels drawn, with the box each covers (as the chart reckons it)."""
    from maps.svg import LABEL_PX_PER_CHAR

    boxes = {}
    for label, x, y in re.findall(r'<text data-label="([A-Z_]+)" x="([\d.]+)" y="([\d.]+)"', svg):
        left, baseline = float(x), float(y)
        boxes[label] = (left, baseline - 9, left + LABEL_PX_PER_CHAR * len(label), baseline + 1)
    return boxes


def _segments(svg: str) -> list[tuple[float, float, float, float]]:
    out = []
    for points in re.findall(r'<polyline class="series"[^>]* points="([^"]+)"', svg):
        xy = [tuple(map(float, p.split(","))) for p in points.split()]
        out += [(a[0], a[1], b[0], b[1]) for a, b in itertools.pairwise(xy)]
    return out


def test_time_distance_names_a_stop_once_beside_its_line_and_never_on_top_of_another() -> None:
    from maps.svg import _crosses, _overlaps, time_distance

    profiles = {
        "a": [(0.0, 0.0, ""), (1000.0, 2.0, "TR_VAN"), (1000.0, 5.0, ""), (2000.0, 7.0, "")],
        "b": [(0.0, 0.0, ""), (1000.0, 2.1, "TR_VAN"), (1000.0, 5.1, ""), (1010.0, 5.2, "GE_POTI"), (1010.0, 8.0, "")],
        "c": [(0.0, 0.0, ""), (1005.0, 2.0, "KZ_AKTAU"), (1005.0, 5.0, ""), (2000.0, 6.0, "")],
    }
    svg = time_distance(profiles, title="t")
    boxes = _label_boxes(svg)
    assert svg.count('data-label="TR_VAN"') == 1 and {"GE_POTI", "KZ_AKTAU"} <= set(boxes)
    # KZ_AKTAU stops at the same place and height as TR_VAN: its name moves aside, not on top
    assert not any(_overlaps(a, b) for a in boxes.values() for b in boxes.values() if a is not b)
    segments = _segments(svg)
    assert not [(k, s) for k, box in boxes.items() for s in segments if _crosses(s, box)]


def test_time_distance_labels_of_the_baseline_are_crossed_by_no_line(baseline_run: Any) -> None:
    """The report's time-distance chart of the bundled baseline: every name of a stop clear of the lines."""
    from maps.report import _profiles
    from maps.svg import _crosses, time_distance
    from sim.whatif import main_mode

    sc = baseline_run.scenario
    rail = [s.name for s in sc.services if s.corridor and main_mode(sc.network, s.leg_ids) != "sea"]
    profiles = _profiles(baseline_run, rail)
    svg = time_distance(profiles, title="t")
    boxes = _label_boxes(svg)
    long_stops = {a[2] for p in profiles.values() for a, b in itertools.pairwise(p) if a[2] and b[1] - a[1] > 0.75}
    assert set(boxes) == long_stops and {"GE_AKHALKALAKI", "KZ_AKTAU", "GE_POTI"} <= long_stops  # each named
    segments = _segments(svg)
    assert not [k for k, box in boxes.items() if any(_crosses(s, box) for s in segments)]


def test_lines_span_the_values_and_mark_the_scenarios_own() -> None:
    from maps.svg import lines

    svg = lines({"a": [(6.0, 10.0), (8.0, 11.0), (20.0, None)]}, x_label="x", y_label="y", title="t", x_mark=10.0)
    ticks = re.findall(r'font-size="11" text-anchor="middle">([\d.]+)</text>', svg)
    assert ticks == ["5", "10", "15", "20"]  # not from 0
    assert 'data-mark="scenario"' in svg
    assert svg.count("<circle") == 2  # the value without a figure has no point (not a 0)
