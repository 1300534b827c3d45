"""sensitivity.html: which estimated parameters move an output, offline, with inline SVG charts.

Every name, source and note comes from data files: it reaches the page only through ``esc``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from maps.escape import esc
from maps.style import page, scroll, wide
from maps.svg import PALETTE
from sim.sensitivity import top_rows

__all__ = ["mu_sigma_chart", "sensitivity_report", "tornado_chart"]

W, LABEL, BAR_H = 860, 260, 18


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def tornado_chart(rows: Sequence[Mapping[str, Any]], *, unit: str, title: str) -> str:
    """One bar per parameter, longest first: how far the output moves, on average, over the
    parameter's range (Morris μ*), coloured by the sign of its mean effect (μ), σ as a whisker."""
    top = max((max(r["mu_star"] or 0.0, (r["mu_star"] or 0.0) + (r["sigma"] or 0.0) / 2) for r in rows), default=1.0)
    top = top or 1.0
    # the labels' room: about 6.3 px a character at 11 px, at least the default
    label = max(LABEL, max((6.3 * len(str(r["path"])) + 12 for r in rows), default=0.0))
    width_px = W - LABEL + label
    span = width_px - label - 90
    parts = []
    for i, r in enumerate(rows):
        y = 8 + (BAR_H + 6) * i
        width = span * (r["mu_star"] or 0.0) / top
        colour = PALETTE[1] if (r["mu"] or 0.0) >= 0 else PALETTE[0]
        whisker = span * (r["sigma"] or 0.0) / 2 / top
        parts.append(f'<text x="{label - 6}" y="{y + 13}" font-size="11" text-anchor="end">{esc(r["path"])}</text>')
        parts.append(
            f'<rect x="{label}" y="{y}" width="{width:.1f}" height="{BAR_H}" fill="{colour}">'
            f"<title>{esc(r['path'])}: μ* {_num(r['mu_star'])} {esc(unit)}, σ {_num(r['sigma'])}</title></rect>"
        )
        parts.append(
            f'<line x1="{label + width:.1f}" y1="{y + BAR_H / 2}" x2="{label + width + whisker:.1f}" '
            f'y2="{y + BAR_H / 2}" stroke="#333"/>'
        )
        parts.append(
            f'<text x="{label + width + whisker + 4:.1f}" y="{y + 13}" font-size="10">'
            f"{_num(r['mu_star'])} {esc(unit)}</text>"
        )
    height = 16 + (BAR_H + 6) * len(rows) + 18
    parts.append(
        f'<text x="{label}" y="{height - 6}" font-size="10" fill="#555">red: the output rises with the parameter; '
        "blue: it falls; whisker: σ/2 (interactions and non-linearity)</text>"
    )
    return wide(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width_px:.0f} {height}" width="{width_px:.0f}" '
        f'height="{height}" role="img"><title>{esc(title)}</title>' + "".join(parts) + "</svg>"
    )


def mu_sigma_chart(rows: Sequence[Mapping[str, Any]], *, unit: str, title: str, labelled: int = 8) -> str:
    """Morris μ* (x) against σ (y) for every parameter screened; the ``labelled`` largest named."""
    h, left, bottom, pad = 340, 60, 40, 16
    x_max = max((r["mu_star"] or 0.0 for r in rows), default=0.0) * 1.1 or 1.0
    y_max = max((r["sigma"] or 0.0 for r in rows), default=0.0) * 1.1 or 1.0
    span_x, span_y = W - left - 200, h - bottom - pad

    def xy(r: Mapping[str, Any]) -> tuple[float, float]:
        return left + span_x * (r["mu_star"] or 0.0) / x_max, h - bottom - span_y * (r["sigma"] or 0.0) / y_max

    parts = [
        f'<line x1="{left}" y1="{h - bottom}" x2="{left + span_x}" y2="{h - bottom}" stroke="#333"/>',
        f'<line x1="{left}" y1="{pad}" x2="{left}" y2="{h - bottom}" stroke="#333"/>',
        f'<text x="{left + span_x / 2}" y="{h - 8}" font-size="12" text-anchor="middle">μ*, {esc(unit)}</text>',
        f'<text x="14" y="{h / 2}" font-size="12" transform="rotate(-90 14 {h / 2})" text-anchor="middle">'
        f"σ, {esc(unit)}</text>",
    ]
    for i in range(6):
        parts.append(
            f'<text x="{left + span_x * i / 5:.1f}" y="{h - bottom + 15}" font-size="10" text-anchor="middle">'
            f"{x_max * i / 5:.3g}</text>"
        )
        parts.append(
            f'<text x="{left - 5}" y="{h - bottom - span_y * i / 5 + 4:.1f}" font-size="10" text-anchor="end">'
            f"{y_max * i / 5:.3g}</text>"
        )
    for i, r in enumerate(rows):
        x, y = xy(r)
        colour = PALETTE[1] if i < labelled else "#999"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"><title>{esc(r["path"])}: μ* '
            f"{_num(r['mu_star'])}, σ {_num(r['sigma'])}</title></circle>"
        )
        if i < labelled:
            parts.append(f'<text x="{x + 6:.1f}" y="{y - 4:.1f}" font-size="10">{esc(r["path"])}</text>')
    return wide(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img">'
        f"<title>{esc(title)}</title>" + "".join(parts) + "</svg>"
    )


def _table(rows: Sequence[Mapping[str, Any]], unit: str) -> str:
    head = (
        "<tr><th>parameter</th><th>value</th><th>range</th><th>μ* "
        f"{esc(unit)}</th><th>σ {esc(unit)}</th><th>S1 (95%)</th><th>ST (95%)</th><th>sd if pinned "
        f"{esc(unit)}</th><th class='l'>sources</th><th class='l'>note</th></tr>"
    )
    body = []
    for r in rows:
        s1 = "–" if r["s1"] is None else f"{_num(r['s1'])} ± {_num(r['s1_conf'])}"
        st = "–" if r["st"] is None else f"{_num(r['st'])} ± {_num(r['st_conf'])}"
        body.append(
            f"<tr><td>{esc(r['path'])}</td><td>{r['value']:g} {esc(r['unit'])}</td>"
            f"<td>{r['low']:g}–{r['high']:g}</td><td>{_num(r['mu_star'])}</td><td>{_num(r['sigma'])}</td>"
            f"<td>{s1}</td><td>{st}</td><td>{_num(r['sd_if_pinned'])}</td>"
            f"<td class='note'>{esc(', '.join(r['sources']) or 'no source')}</td>"
            f"<td class='note'>{esc(r['note'])}</td></tr>"
        )
    return scroll(f"<table>{head}{''.join(body)}</table>")


def sensitivity_report(data: Mapping[str, Any]) -> str:
    """sensitivity.html from ``sensitivity.json``'s content (``sim.sensitivity.sensitivity``)."""
    method = data["method"]
    body = [
        f"<h1>corridors: sensitivity of {esc(data['scenario'])}</h1>",
        f"<p>{len(data['parameters'])} estimated parameters screened by Morris "
        f"({method['morris']['trajectories']} trajectories, {method['morris']['points']} points), then Sobol "
        f"indices for the top {len(data['top'])} ({method['sobol']['samples']} base samples, "
        f"{method['sobol']['points']} points); {data['replications']} replications a point, seed {data['seed']}, "
        f"the same random numbers at every point: {method['model_runs']:,} model runs in all. Each parameter "
        "varies uniformly over its range; the others stay at the data's values.</p>",
    ]
    for o in data["outputs"]:
        name, unit = o["output"], o["unit"]
        result = data["results"][name]
        rows = top_rows(data, name, n=12)
        body.append(f"<h2>{esc(name)}</h2>")
        body.append(f"<p>{_num(result['at_data_values'])} {esc(unit)} at the data's values.")
        sobol = result["sobol"]
        if sobol and sobol["indices"]:
            body.append(
                f" Over the top parameters' ranges the output spreads with a standard deviation of "
                f"{_num(sobol['sd'])} {esc(unit)}.</p>"
            )
        else:
            body.append("</p>")
        body.append("<h3>What moves it (Morris μ*)</h3>")
        body.append(tornado_chart(rows, unit=unit, title=f"Morris mu* of {name}"))
        body.append("<h3>Effect against interaction (μ*–σ)</h3>")
        morris = [{**r} for r in result["morris"]]
        body.append(mu_sigma_chart(morris, unit=unit, title=f"Morris mu* and sigma of {name}"))
        body.append(
            "<p class='note'>Far right: a parameter that moves the output a lot; high up: its effect depends on "
            "the other parameters or is not linear.</p>"
        )
        body.append("<h3>The top parameters, their sources, and what narrowing each would buy</h3>")
        body.append(_table(rows, unit))
        body.append(
            "<p class='note'>μ*: the mean absolute change of the output when the parameter moves over its whole "
            "range; σ: how much that change varies. S1: the share of the output's variance the parameter "
            "explains alone, which pinning it to its true value removes on average; ST: its share with its "
            "interactions, at most what narrowing it can remove. sd if pinned: the standard deviation left, on "
            "average, once the parameter is known exactly.</p>"
        )
    return page(f"corridors: sensitivity of {data['scenario']}", "".join(body))
