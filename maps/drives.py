""" "What drives this answer": a report's section from a sensitivity run (sensitivity.json).

A run's confidence intervals say how noisy it is; a sensitivity run says how far its answer moves
over the ranges its estimates may take. The section puts the two side by side, per output of the
file, with the parameters that move it most, their sources and what the ranges rest on.

The file may come from anyone: every text in it reaches the page only through ``esc``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from corridors import Network
from maps.escape import esc
from maps.sensitivity import tornado_chart
from maps.style import scroll
from sim.params import Parameter, parameter_space
from sim.scenario import Scenario
from sim.sensitivity_file import Driver, OutputResult, SensitivityFile
from sim.summary import RunSummary, Stats

__all__ = ["drives_section"]

#: How many parameters an output's table and tornado show.
SHOWN = 6


@dataclass(frozen=True)
class _Measured:
    """What this run (or comparison) says of an output: its figure and half its 95% CI, and in
    words (HTML, escaped) how it measured them."""

    value: float | None
    half_ci: float | None
    said: str


def drives_section(
    sensitivity: SensitivityFile,
    scenario: Scenario,
    summary: RunSummary,
    *,
    comparison: Mapping[str, Any] | None = None,
) -> str:
    """The section for a run of ``scenario`` (its ``summary``), or for a comparison whose base
    that is (``comparison``: compare.json's content, for the what-ifs' differences)."""
    now = {p.path: p for p in parameter_space(scenario)}
    body = ["<h2 id='drives'>What drives this answer</h2>", _intro(sensitivity)]
    if sensitivity.scenario != scenario.name:
        body.append(
            f"<p class='bad'>This file is a sensitivity run of <b>{esc(sensitivity.scenario)}</b>, not of "
            f"<b>{esc(scenario.name)}</b>: its figures describe that scenario, a guide to this one only as far as "
            "the two share their parameters and routes.</p>"
        )
    gone = [p for p in sensitivity.parameters if p not in now]
    if gone:
        body.append(
            f"<p class='bad'>{len(gone)} of the file's {len(sensitivity.parameters)} parameters are no longer "
            f"parameters of {esc(scenario.name)} (a node, leg or service renamed or removed, or a value no longer "
            "estimated); they are marked below.</p>"
        )
    for result in sensitivity.outputs:
        measured = _measured(result, summary, comparison)
        drivers = sensitivity.drivers(result, SHOWN)
        body.append(f"<h3>{esc(result.output.text)} <span class='note'>({_label(result)})</span></h3>")
        body.append(f"<p>{_answer(result, measured, sensitivity.sobol_samples)}</p>")
        if drivers:
            rows = [
                {"path": d.effect.path, "mu": d.effect.mu, "mu_star": d.effect.mu_star, "sigma": d.effect.sigma}
                for d in drivers
            ]
            body.append(tornado_chart(rows, unit=result.unit, title=f"What moves {result.output.text}"))
            body.append(_table(drivers, result.unit, now, scenario))
    body.append(
        "<p class='note'>μ*: the mean absolute change of the output when a parameter moves over its whole range "
        "(Morris); σ: how much that change varies (interactions, non-linearity). S1 and ST: the parameter's share "
        "of the output's variance alone and with its interactions (Sobol); sd if pinned: the spread left, on "
        "average, once it is known exactly. A 95% CI of a run narrows with more replications; the spread over the "
        "estimates' ranges narrows only with better estimates.</p>"
    )
    return "".join(body)


def _intro(sensitivity: SensitivityFile) -> str:
    sobol = (
        f"then Sobol indices for the top {len(sensitivity.top)} ({sensitivity.sobol_samples} base samples)"
        if sensitivity.sobol_samples
        else "Morris screening only (no Sobol indices: no spread is estimated)"
    )
    return (
        f"<p>From <code>{esc(sensitivity.source)}</code>, a sensitivity run of {esc(sensitivity.scenario)}: "
        f"{len(sensitivity.parameters)} parameters screened by Morris ({sensitivity.trajectories} trajectories), "
        f"{sobol}; {sensitivity.replications} replication{'' if sensitivity.replications == 1 else 's'} a point, "
        f"seed {sensitivity.seed}, {sensitivity.model_runs:,} model runs. This run's confidence intervals say how "
        "noisy it is; the sensitivity run says how much the answer depends on the estimates. A reader needs both.</p>"
    )


def _half(ci: Sequence[float] | None) -> float | None:
    return None if ci is None else (ci[1] - ci[0]) / 2


def _of_stats(stats: Stats | None, value: float | None, unit: str, replications: int, *, what: str) -> _Measured:
    if stats is None or value is None:
        return _Measured(None, None, f"This run has no {what}")
    half = _half(stats.ci95)
    if half is not None:
        said = f"This run gives {_n(value)} {unit}, 95% CI ±{_n(half)} {unit} over {replications} replications"
    elif what == "P95":
        said = f"This run gives {_n(value)} {unit} (a P95: no confidence interval across replications)"
    else:
        said = f"This run gives {_n(value)} {unit} (no confidence interval: give 2 or more replications)"
    return _Measured(value, half if what != "P95" else None, said)


def _measured(result: OutputResult, summary: RunSummary, comparison: Mapping[str, Any] | None) -> _Measured:
    """This run's figure of ``result``'s output, or the comparison's difference for a compare output."""
    out, unit, reps = result.output, result.unit, summary.replications
    if out.kind == "node":
        node = summary.nodes.get(out.name)
        stats = node.wait_h if node is not None else None
        return _of_stats(stats, stats.mean if stats else None, unit, reps, what=f"waits at {esc(out.name)}")
    service = summary.services.get(out.name)
    if out.kind == "service":
        stats = service.transit_d if service is not None else None
        p95 = out.metric == "transit_d_p95"
        value = (stats.p95 if p95 else stats.mean) if stats is not None else None
        return _of_stats(stats, value, unit, reps, what="P95" if p95 else f"arrived trains of {esc(out.name)}")
    name = esc(result.whatif_name or out.whatif or "")
    if comparison is None:
        return _Measured(
            None,
            None,
            f"This output is {name}'s difference from the base: `corridors compare` with this file shows it beside "
            "the difference the comparison measures",
        )
    w = next((w for w in comparison.get("whatifs", []) if w.get("name") == result.whatif_name), None)
    row = (w or {}).get("services", {}).get(out.name, {})
    delta = row.get("delta", {}).get("transit_d_mean") if row.get("in_whatif") and "delta" in row else None
    if w is None:
        return _Measured(None, None, f"The what-if {name} is not in this comparison")
    if delta is None or delta.get("value") is None:
        return _Measured(None, None, f"This comparison measures no difference for {esc(out.name)} in {name}")
    value, half = float(delta["value"]), _half(delta.get("ci95"))
    ci = f", 95% CI ±{_n(half)} {unit}" if half is not None else " (no confidence interval)"
    said = f"In this comparison {name} changes {esc(out.name)}'s mean transit by {_n(value, signed=True)} {unit}{ci}"
    return _Measured(value, half, said)


def _main(result: OutputResult) -> list[str]:
    """The parameters most of the output's Sobol spread comes from (by ST): at most three, each
    at least 40% of the largest."""
    scores = [(i.path, i.st or 0.0) for i in result.sobol.indices] if result.sobol else []
    top = max((s for _, s in scores), default=0.0)
    return [p for p, s in scores if top > 0 and s >= 0.4 * top][:3]


def _movers(result: OutputResult) -> list[tuple[str, float]]:
    """The parameters that move the output most over their ranges (Morris μ*): at most three,
    each at least 40% of the largest."""
    scores = [(e.path, e.mu_star or 0.0) for e in result.morris]
    top = max((s for _, s in scores), default=0.0)
    return [(p, s) for p, s in scores if top > 0 and s >= 0.4 * top][:3]


def _answer(result: OutputResult, measured: _Measured, samples: int) -> str:
    """The sentences a reader needs: this run's noise, then how far the output moves over the
    estimates' ranges and because of which, then which of the two is the larger."""
    unit = result.unit
    parts = [measured.said + "."]
    if result.at_data_values is not None:
        parts.append(f"The sensitivity run measured {_n(result.at_data_values)} {unit} at the data's values.")
    sobol = result.sobol if result.sobol and result.sobol.indices else None
    varied = {i.path for i in sobol.indices} if sobol else set()
    estimates = 0.0  # how far the estimates move it: the Sobol sd, or μ* where Sobol did not look
    if sobol is not None:
        if round(sobol.sd, 2) > 0:
            names = " and ".join(f"<b>{esc(p)}</b>" for p in _main(result))
            parts.append(
                f"Over the estimates' ranges the output spreads by <b>sd {_n(sobol.sd)} {unit}</b> (the "
                f"{len(varied)} parameters given Sobol indices, varied together), most of it from {names}."
            )
        else:
            parts.append(f"The {len(varied)} parameters given Sobol indices barely move it (sd {_n(sobol.sd)} {unit}).")
        estimates = sobol.sd
    movers = _movers(result)
    extra = [(p, m) for p, m in movers if p not in varied]
    if extra:
        shown = [f"<b>{esc(p)}</b> (μ* {_n(m)} {unit})" for p, m in extra]
        moves = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]
        if sobol is not None:
            parts.append(f"Morris screening also finds {moves} moving it, which the Sobol stage did not vary.")
        else:
            parts.append(
                f"Over the estimates' ranges (Morris screening only: no spread estimated), what moves it most is "
                f"{moves}."
            )
    # a parameter whose effect is even over its range, of size μ*, spreads the output by μ*/√12
    even_sd = movers[0][1] / math.sqrt(12) if movers else 0.0
    if round(even_sd, 2) > 0 and even_sd > 2 * estimates:
        lead = f"<b>{esc(movers[0][0])}</b> alone"
        if sobol is not None:
            parts.append(
                f"Morris screening says more: {lead} moves it by μ* {_n(movers[0][1])} {unit} over its range, an sd "
                f"of about {_n(even_sd)} {unit} were its effect even; the Sobol spread, from {samples} base samples, "
                "is likely too low (more samples sharpen it)."
            )
        else:
            parts.append(
                f"Were its effect even over its range, {lead} would spread it by an sd of about {_n(even_sd)} {unit}."
            )
        estimates = even_sd
    half = measured.half_ci
    if half is not None and (sobol is not None or movers):
        if estimates > 2 * half:
            parts.append(
                "<b>The estimates, not the replications, make this answer uncertain</b>: better figures for these "
                "parameters narrow it more than more replications would."
            )
        elif estimates * 2 < half:
            parts.append(
                "<b>The run's noise is the larger part</b>: more replications narrow this answer more than better "
                "estimates would."
            )
        else:
            parts.append("<b>The run's noise and the estimates matter about equally</b> here.")
    return " ".join(parts)


def _label(result: OutputResult) -> str:
    """What an output measures, in words (escaped)."""
    out, name = result.output, esc(result.output.name)
    if out.kind == "node":
        return f"mean wait before service at {name}, hours"
    if out.kind == "compare":
        return f"{esc(result.whatif_name or out.whatif or '')}'s mean transit of {name} minus the base's, days"
    return f"{'P95' if out.metric == 'transit_d_p95' else 'mean'} transit of {name}, days"


def _sources(keys: Sequence[str], network: Network) -> str:
    if not keys:
        return "no source"
    return "; ".join(
        f"<b>{esc(k)}</b>: {esc(network.sources[k])}"
        if k in network.sources
        else f"<b>{esc(k)}</b> (not in the network's sources)"
        for k in keys
    )


def _table(drivers: Sequence[Driver], unit: str, now: Mapping[str, Parameter], scenario: Scenario) -> str:
    u = esc(unit)
    head = (
        f"<tr><th>parameter</th><th>value</th><th>range</th><th>μ* {u}</th><th>σ {u}</th><th>S1</th><th>ST</th>"
        f"<th>sd if pinned {u}</th><th class='l'>sources</th><th class='l'>range from</th></tr>"
    )
    rows = []
    for d in drivers:
        p, e, i = d.parameter, d.effect, d.index
        current = now.get(p.path)
        if current is None:
            name = f"{esc(p.path)} <span class='bad'>(no longer a parameter of {esc(scenario.name)})</span>"
        elif abs(current.value - p.value) > 1e-5 * max(abs(p.value), 1.0):
            name = f"{esc(p.path)} <span class='bad'>(the data now give {current.value:g})</span>"
        else:
            name = esc(p.path)
        rows.append(
            f"<tr><td>{name}</td><td>{p.value:g} {esc(p.unit)}</td><td>{p.low:.4g}–{p.high:.4g}</td>"
            f"<td>{_n(e.mu_star)}</td><td>{_n(e.sigma)}</td><td>{_n(i.s1 if i else None)}</td>"
            f"<td>{_n(i.st if i else None)}</td><td>{_n(i.sd_if_pinned if i else None)}</td>"
            f"<td class='note'>{_sources(p.sources, scenario.network)}</td><td class='note'>{esc(p.note)}</td></tr>"
        )
    return scroll(f"<table>{head}{''.join(rows)}</table>")


def _n(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "–"
    value = round(value, 2) + 0.0  # no "-0.00"
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"
