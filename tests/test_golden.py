"""A golden summary of the bundled baseline at a fixed seed: any change to the numbers shows here.

The file names the numpy version it was made with: numpy's generators may change their
streams between versions (the project pins no numpy), so on another numpy the figures are
compared with a looser tolerance, and a failure says so. On the same numpy they must agree to
within float noise.

After a deliberate change to the engine or the data, regenerate with
``CORRIDORS_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`` and say why in the commit.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from sim.runner import RunResult

GOLDEN = Path(__file__).parent / "golden" / "baseline_seed1_r2.json"

#: (relative, absolute) tolerances: on the numpy the file was made with, and on any other.
SAME_NUMPY = (1e-9, 1e-9)
OTHER_NUMPY = (0.05, 0.5)  # days, or trains for counts: the same model, other random numbers


def figures(result: RunResult) -> dict[str, Any]:
    return {
        name: {
            "transit_d": {k: getattr(s.transit_d, k) for k in ("n", "mean", "p50", "p95", "min", "max")},
            "days": s.days.to_json(),
            "in_system": s.in_system_at_horizon_per_replication,
        }
        for name, s in result.summary.services.items()
    }


def differences(got: Any, want: Any, rel: float, abs_: float, where: str = "") -> list[str]:
    """Where ``got`` and ``want`` differ beyond the tolerances, one line each."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = [f"{where}/{k}: missing" for k in sorted(want.keys() - got.keys())]
        out += [f"{where}/{k}: not in the golden file" for k in sorted(got.keys() - want.keys())]
        for k in sorted(want.keys() & got.keys()):
            out += differences(got[k], want[k], rel, abs_, f"{where}/{k}")
        return out
    numbers = (int, float)
    if isinstance(want, numbers) and isinstance(got, numbers) and not isinstance(got, bool):
        return [] if math.isclose(got, want, rel_tol=rel, abs_tol=abs_) else [f"{where}: {got} (golden {want})"]
    return [] if got == want else [f"{where}: {got!r} (golden {want!r})"]


def test_baseline_golden_summary(baseline_run: RunResult) -> None:
    assert (baseline_run.seed, len(baseline_run.replications)) == (1, 2)
    got = figures(baseline_run)
    if os.environ.get("CORRIDORS_UPDATE_GOLDEN"):
        made = {"made_with": {"numpy": np.__version__}, "services": got}
        GOLDEN.write_text(json.dumps(made, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    made_with = golden["made_with"]["numpy"]
    same = made_with == np.__version__
    rel, abs_ = SAME_NUMPY if same else OTHER_NUMPY
    wrong = differences(got, golden["services"], rel, abs_)
    if same:
        note = f"on numpy {np.__version__}, the version the golden file was made with (rel {rel}, abs {abs_})"
    else:
        note = (
            f"on numpy {np.__version__}, but the golden file was made with numpy {made_with}: compared with a "
            f"looser tolerance (rel {rel}, abs {abs_}) because the random streams may differ between versions"
        )
    assert not wrong, f"the baseline's figures differ from {GOLDEN.name} {note}:\n" + "\n".join(wrong)


def test_differences_name_the_place_and_both_values() -> None:
    want = {"a": {"mean": 1.0, "n": 3}, "b": 2.0}
    assert differences({"a": {"mean": 1.0 + 1e-12, "n": 3}, "b": 2.0}, want, *SAME_NUMPY) == []
    assert differences({"a": {"mean": 1.1, "n": 3}, "c": 1}, want, *SAME_NUMPY) == [
        "/b: missing",
        "/c: not in the golden file",
        "/a/mean: 1.1 (golden 1.0)",
    ]
    assert differences({"a": {"mean": 1.04, "n": 3}, "b": 2.0}, want, *OTHER_NUMPY) == []
