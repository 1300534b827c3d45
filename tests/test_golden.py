"""A golden summary of the bundled baseline at a fixed seed: any change to the numbers shows here.

After a deliberate change to the engine or the data, regenerate with
``CORRIDORS_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`` and say why in the commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sim.runner import simulate
from sim.scenario import load_scenario

GOLDEN = Path(__file__).parent / "golden" / "baseline_seed1_r2.json"


def figures() -> dict[str, Any]:
    result = simulate(load_scenario(), replications=2, seed=1)
    return {
        name: {
            "transit_d": {k: s["transit_d"][k] for k in ("n", "mean", "p50", "p95", "min", "max")},
            "days": s["days"],
            "in_system": s["in_system_at_horizon_per_replication"],
        }
        for name, s in result.summary["services"].items()
    }


def test_baseline_golden_summary() -> None:
    got = figures()
    if os.environ.get("CORRIDORS_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert got == json.loads(GOLDEN.read_text(encoding="utf-8"))
