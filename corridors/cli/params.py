"""The ``params`` command: the parameter space of a scenario, as a table or JSON."""

from __future__ import annotations

import argparse

from corridors.cli.output import emit, print_table, say
from corridors.loader import load_network
from corridors.schema import ESTIMATE


def params(args: argparse.Namespace) -> int:
    from sim.params import parameter_space
    from sim.scenario import load_scenario

    network = load_network(args.network) if args.network else None
    scenario = load_scenario(args.scenario, network=network)
    found = parameter_space(scenario, estimates_only=args.estimates)
    if args.json:
        emit(
            {
                "scenario": scenario.name,
                "estimates_only": args.estimates,
                "parameters": [
                    {
                        "path": p.path,
                        "value": p.value,
                        "low": p.low,
                        "high": p.high,
                        "unit": p.unit,
                        "estimate": p.estimate,
                        "sources": list(p.sources),
                        "note": p.note,
                    }
                    for p in found
                ],
            }
        )
        return 0
    rows = [["path", "value", "low–high", "unit", "data", "sources"]]
    for p in found:
        data = "sourced" if not p.estimate else "partly" if set(p.sources) - {ESTIMATE} else "estimate"
        rows.append(
            [p.path, _number(p.value), f"{_number(p.low)}–{_number(p.high)}", p.unit, data, ", ".join(p.sources)]
        )
    print_table(rows, right={1, 2})
    estimates = sum(p.estimate for p in found)
    print()
    say(
        f"{len(found)} parameters of {scenario.name}"
        + ("" if args.estimates else f", {estimates} of them estimates (ESTIMATE alone or beside a source)")
        + "; a duration's is a factor on it (1: the data's)."
    )
    print("Set one with `corridors sweep SCENARIO --param PATH`; the ranges' reasons: --json (note).")
    return 0


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
