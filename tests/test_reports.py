"""The inline-SVG charts of the reports."""

from __future__ import annotations

import re

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


def test_time_distance_names_a_stop_once_and_never_on_top_of_another() -> None:
    from maps.svg import time_distance

    profiles = {
        "a": [(0.0, 0.0, ""), (1000.0, 2.0, "TR_VAN"), (1000.0, 5.0, ""), (2000.0, 7.0, "")],
        "b": [(0.0, 0.0, ""), (1000.0, 2.1, "TR_VAN"), (1000.0, 5.1, ""), (1010.0, 5.2, "GE_POTI"), (1010.0, 8.0, "")],
        "c": [(0.0, 0.0, ""), (1005.0, 2.0, "KZ_AKTAU"), (1005.0, 5.0, ""), (2000.0, 6.0, "")],
    }
    svg = time_distance(profiles, title="t")
    labels = re.findall(r'font-size="10" fill="#[0-9a-f]+">([A-Z_]+)</text>', svg)
    assert labels.count("TR_VAN") == 1 and "GE_POTI" in labels
    assert "KZ_AKTAU" not in labels  # at the same place and height as TR_VAN's label
