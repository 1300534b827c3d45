"""The network as a GeoJSON FeatureCollection for GIS tools (QGIS, kepler.gl)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from corridors.errors import InputError
from corridors.geo import to_geojson_position
from corridors.model import Network

__all__ = ["network_geojson", "write_json_atomic", "write_text_atomic"]


def network_geojson(network: Network) -> dict[str, Any]:
    """Nodes as Points and legs as LineStrings, with flat properties (one value per column)."""
    on_corridors: dict[str, list[str]] = {}
    for corridor in network.corridors.values():
        for leg_id in corridor.leg_ids:
            on_corridors.setdefault(leg_id, []).append(corridor.name)
    features: list[dict[str, Any]] = []
    for node in network.nodes.values():
        facility = node.facility
        props: dict[str, Any] = {
            "feature": "node",
            "id": node.id,
            "name": node.name,
            "country": node.country,
            "kinds": ",".join(node.kinds),
            "process_h_mean": round(node.expected_process_h, 2),
            "servers": facility.servers if facility else None,
            "trains_per_day": facility.trains_per_day if facility else None,
            "coord_source": ",".join(node.sources.get("lat", ())),
        }
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": to_geojson_position(node.latlon)},
                "properties": props,
            }
        )
    for leg in network.legs.values():
        props = {
            "feature": "leg",
            "id": leg.id,
            "from": leg.from_id,
            "to": leg.to_id,
            "mode": leg.mode,
            "gauge_mm": leg.gauge_mm,
            "distance_km": leg.distance_km,
            "distance_computed": leg.distance_computed,
            "transit_h_min": round(leg.transit_h.min_h, 2),
            "transit_h_mean": round(leg.transit_h.mean_h, 2),
            "transit_h_max": round(leg.transit_h.max_h, 2),
            "cost_usd_per_feu": leg.cost_usd_per_feu,
            "co2_kg_per_teu_km": leg.co2_kg_per_teu_km,
            "corridors": ",".join(on_corridors.get(leg.id, [])),
            "countries": ",".join(leg.countries),
            "sources": ",".join(dict.fromkeys(k for keys in leg.sources.values() for k in keys)),
        }
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [to_geojson_position(p) for p in leg.path]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def json_text(data: Any) -> str:
    """JSON as the project writes it to files: UTF-8 text, indented, one trailing newline.

    Never writes ``NaN`` or ``Infinity`` (not JSON): a value that is not a finite number is an
    ``InputError`` naming where it is.
    """
    check_finite(data)
    return json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def check_finite(data: Any, where: str = "") -> None:
    """Raise an ``InputError`` naming the first number in ``data`` that is not finite (NaN, ±inf)."""
    stack: list[tuple[Any, str]] = [(data, where)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(
                f"cannot write JSON: {path or 'the value'} is {value}, not a finite number "
                "(a result too large to compute?)"
            )
        if isinstance(value, Mapping):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in reversed(list(value.items())))
        elif isinstance(value, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(value))))


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    """Write JSON to ``path`` through a temporary file, so a failure leaves nothing half-written."""
    return write_text_atomic(path, json_text(data))


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file, so a failure leaves nothing half-written.

    Refuses (``InputError``) a path that is a folder or a device, or whose folder does not exist.
    """
    target = Path(path)
    if not str(path).strip():
        raise InputError("the output file name is empty")
    if target.exists() and not target.is_file():
        raise InputError(f"{target}: exists and is not a regular file; give a file name")
    target = target.resolve() if target.is_symlink() else target
    if not target.parent.is_dir():
        raise InputError(f"{target}: the folder {target.parent} does not exist")
    write_texts_atomic({target: text})
    return target


def write_texts_atomic(files: Mapping[Path, str]) -> None:
    """Write several files that belong together: every one to a temporary file first, then all
    renamed at once, so a failure or Ctrl-C leaves the old set, not a mix of old and new."""
    staged: list[tuple[str, Path]] = []
    target = Path()
    umask = os.umask(0)
    os.umask(umask)
    try:
        for target, text in files.items():
            if target.exists() and not target.is_file():
                raise InputError(f"{target}: exists and is not a regular file; give a file name")
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((tmp, target))
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(tmp, 0o666 & ~umask)
        for tmp, target in staged:
            os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"{target}: cannot write: {exc.strerror or exc}") from None
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
