"""Property tests: random malformed records never crash the loader with anything but DataError."""

from __future__ import annotations

import contextlib
import copy
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corridors
from corridors.export import json_text, network_geojson
from tests.conftest import tiny_records, write_network

TOML_SCALARS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12),
    st.booleans(),
    # hostile: huge and non-finite numbers, control and bidi characters
    st.integers(-(10**400), 10**400),
    st.floats(),
    st.sampled_from([1e306, 1e308, 10**309, 5e-324, "\x1b]0;x\x07", "\u202e", "a\nb", "lower_case"]),
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
FILES = ["nodes.toml", "legs.toml", "corridors.toml", "sources.toml", "modes.toml"]
KEYS = [
    "id",
    "name",
    "country",
    "lat",
    "lon",
    "kinds",
    "coord_source",
    "facility",
    "from",
    "to",
    "mode",
    "gauge_mm",
    "distance_km",
    "transit_h",
    "transit_d",
    "circuity",
    "nodes",
    "citation",
    "source",
    "value",
    "min",
    "max",
    "typical",
    "process_h",
    "servers",
    "dispatch",
    "note",
    "co2_kg_per_teu_km",
    "cost_usd_per_feu_km",
]


def _mutate(records: dict[str, Any], file: str, index: int, path: list[str], value: Any, action: str) -> None:
    table = next(iter(records[file]))
    rows = records[file][table]
    target = rows[index % len(rows)]
    for key in path[:-1]:
        nxt = target.get(key)
        if not isinstance(nxt, dict):
            break
        target = nxt
    key = path[-1]
    if action == "delete":
        target.pop(key, None)
    else:
        target[key] = value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.lists(
        st.tuples(
            st.sampled_from(FILES),
            st.integers(0, 5),
            st.lists(st.sampled_from(KEYS), min_size=1, max_size=3),
            TOML_VALUES,
            st.sampled_from(["set", "set", "delete"]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_random_changes_give_only_data_errors(changes: list[tuple[str, int, list[str], Any, str]]) -> None:
    records = copy.deepcopy(tiny_records())
    for change in changes:
        _mutate(records, *change)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_network(Path(tmp) / "net", records)
        try:
            net = corridors.load_network(path)
        except corridors.DataError as exc:
            assert str(exc).split(":")[0].endswith(".toml") or "geojson" in str(exc)
            return
        # what loads is consistent, and every output of it finite
        for leg in net.legs.values():
            assert leg.distance_km > 0 and leg.transit_h.min_h > 0
            assert leg.from_id in net.nodes and leg.to_id in net.nodes
        json_text(network_geojson(net))
        for corridor in net.corridors.values():
            json_text(corridors.summarize_corridor(net, corridor).to_dict())


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=200), file=st.sampled_from(FILES))
def test_random_text_files_give_only_data_errors(text: str, file: str) -> None:
    records: dict[str, Any] = copy.deepcopy(tiny_records())
    records[file] = text
    with tempfile.TemporaryDirectory() as tmp:
        path = write_network(Path(tmp) / "net", records)
        with contextlib.suppress(corridors.DataError):
            corridors.load_network(path)


@settings(max_examples=150, deadline=None)
@given(data=TOML_VALUES)
def test_random_geometry_gives_only_data_errors(data: Any) -> None:
    import json

    records: dict[str, Any] = copy.deepcopy(tiny_records())
    records["geometry.geojson"] = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [data, {"type": "Feature", "properties": {"leg": "L1", "source": "SRC1"}, "geometry": data}],
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = write_network(Path(tmp) / "net", records)
        with contextlib.suppress(corridors.DataError):
            corridors.load_network(path)
