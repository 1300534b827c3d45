"""The HTML map in a real headless Chromium (Debian's), driven by Playwright.

Skips with a reason when Playwright or Chromium is missing; CI installs both, so these run there.
The browser is the session's (``browser`` in conftest.py); each page opens in a fresh context.
Screenshots go to ``test-artifacts/`` (or $CORRIDORS_ARTIFACTS) for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import corridors
from maps.network_map import build_network_map
from maps.offline import render_offline
from tests.test_maps import xss_network

PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(os.environ.get("CORRIDORS_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))


class Page:
    """A page opened from a file, recording console errors, page errors and any request out."""

    def __init__(
        self, browser: Any, path: Path, viewport: tuple[int, int] = (1400, 900), *, phone: bool = False
    ) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.outside: list[str] = []
        if phone:  # a phone's viewport, touch and all
            self.page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        else:
            self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))

        def guard(route: Any) -> None:
            url = route.request.url
            if url.startswith(("file:", "data:", "blob:", "about:")):
                route.continue_()
            else:
                self.outside.append(url)
                route.abort()

        self.page.route("**/*", guard)
        self.page.goto(path.as_uri())
        self.page.wait_for_timeout(500)

    def clean(self) -> None:
        assert self.console_errors == [] and self.page_errors == [] and self.outside == [], (
            self.console_errors,
            self.page_errors,
            self.outside,
        )


@pytest.fixture(scope="module")
def network_page(browser: Any, tmp_path_factory: pytest.TempPathFactory, network: corridors.Network) -> Iterator[Page]:
    path = tmp_path_factory.mktemp("map") / "corridors.html"
    path.write_text(render_offline(build_network_map(network)), encoding="utf-8")
    page = Page(browser, path)
    yield page
    page.page.close()


def test_opens_with_no_errors_and_no_requests(network_page: Page) -> None:
    network_page.clean()
    ARTIFACTS.mkdir(exist_ok=True)
    network_page.page.screenshot(path=str(ARTIFACTS / "network-map.png"))
    assert (ARTIFACTS / "network-map.png").stat().st_size > 10_000


def test_drawn_routes_and_markers_match_the_data(network_page: Page, network: corridors.Network) -> None:
    from tests.test_maps import other_legs

    others = other_legs(network)
    legs = network_page.page.locator("path.corridors-leg").count()
    nodes = network_page.page.locator("path.corridors-node").count()
    assert legs == sum(len(c.leg_ids) for c in network.corridors.values()) + len(others)
    assert nodes == len(
        {n for c in network.corridors.values() for n in c.node_ids}
        | {n for leg in others for n in (leg.from_id, leg.to_id)}
    )


def test_unticking_a_corridor_hides_exactly_its_paths(network_page: Page, network: corridors.Network) -> None:
    page = network_page.page
    before = page.locator("path.corridors-leg").count()
    label = page.locator(".leaflet-control-layers-overlays label", has_text="middle-btk")
    label.hover()  # Leaflet ignores a click in the tick the pointer enters its layer list
    page.wait_for_timeout(50)
    label.locator("input").uncheck()
    assert page.locator("path.corridor-middle-btk").count() == 0
    assert page.locator("path.corridors-leg").count() == before - len(network.corridor("middle-btk").leg_ids)
    label.locator("input").check()
    assert page.locator("path.corridors-leg").count() == before


def test_a_popup_opens_with_the_right_text(network_page: Page) -> None:
    page = network_page.page
    page.locator("path.node-KZ_ALTYNKOL").first.click(force=True)
    choice = page.locator(".corridors-choice", has_text="KZ_ALTYNKOL")  # Khorgos is next to it
    if choice.count():
        choice.click()
        page.wait_for_timeout(300)  # the list fades out
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=3000)
    text = popup.inner_text()
    assert "Altynkol" in text and "border crossing, gauge change" in text and "trains/day" in text
    assert "KTZ_2026_ALTYNKOL" in text
    network_page.clean()


def test_a_hostile_node_name_runs_nothing(browser: Any, tmp_path: Path, tiny: dict[str, Any]) -> None:
    net = corridors.load_network(xss_network(tmp_path, tiny))
    path = tmp_path / "xss.html"
    path.write_text(render_offline(build_network_map(net)), encoding="utf-8")
    page = Page(browser, path)
    page.page.locator("path.node-B").first.click(force=True)
    page.page.locator(".leaflet-popup-content").wait_for(timeout=3000)
    assert "<img src=x" in page.page.locator(".leaflet-popup-content").inner_text()  # shown as text
    page.page.locator("path.node-B").first.hover(force=True)
    page.page.wait_for_timeout(300)
    assert page.page.evaluate("window.__xss") is None
    page.clean()
    page.page.close()


def test_results_map_animation_clock_advances(browser: Any, baseline_folder: Path) -> None:
    page = Page(browser, baseline_folder / "map.html")
    clock = page.page.locator(".corridors-clock")
    before = clock.inner_text()
    page.page.locator(".corridors-play").click()
    page.page.wait_for_timeout(1500)
    after = clock.inner_text()
    assert before.startswith("2025-01-01 00:00") and after != before
    assert page.page.evaluate("window.corridorsAnimation.trains") > 100
    page.page.locator("path.wait-GE_GARDABANI").first.dispatch_event("click")
    popup = page.page.locator(".leaflet-popup-content").inner_text()
    assert "queue before service" in popup and "processing a train" in popup
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "results-map.png"))
    page.clean()
    page.page.close()


def test_run_report_opens_with_no_errors_and_no_requests(browser: Any, baseline_folder: Path) -> None:
    page = Page(browser, baseline_folder / "report.html")
    page.page.wait_for_timeout(800)
    assert page.page.locator("svg").count() >= 3
    assert page.page.frame_locator("iframe").locator("path.corridors-leg").count() > 40  # the map inside works
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    page.clean()
    page.page.close()


def test_compare_report_opens_with_no_errors_and_no_requests(
    browser: Any, red_sea_compare: tuple[Path, dict[str, Any]]
) -> None:
    page = Page(browser, red_sea_compare[0] / "compare.html")
    page.page.wait_for_timeout(800)
    assert "sea-suez-chengdu-rotterdam" in page.page.locator("table").first.inner_text()
    assert page.page.locator("iframe").count() == 0  # the maps are in the page, sharing one Leaflet
    boxes = page.page.locator(".corridors-mapbox")
    assert boxes.count() == 2  # the base's map and the what-if's
    for i in range(2):
        assert boxes.nth(i).locator("path.corridors-leg").count() > 40
        assert boxes.nth(i).locator(".corridors-anim .corridors-play").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
    page.clean()
    page.page.close()


# -- the report pages on a phone and on a desktop ----------------------------------------------------


@pytest.fixture(scope="module")
def sweep_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sweep.html of a sweep whose parameter moves two services (its figures made up)."""
    from maps.report import sweep_report

    def figures(p95: float | None, per_week: float) -> dict[str, Any]:
        return {"transit_d_p50": 20.0, "transit_d_p95": p95, "trains_per_week": per_week}

    rows = [
        {
            "value": v,
            "services": {"middle-btk-xian-budapest": figures(40 - v, 6.0), "other-via-altynkol": figures(9, v)},
        }
        for v in (6.0, 8.0, 10.0, 20.0)
    ]
    for r in rows:
        r["services"] = {k: {**x, "in_system_at_horizon_per_replication": 0.0} for k, x in r["services"].items()}
    data = {"param": "node.KZ_ALTYNKOL.trains_per_day", "scenario": "baseline", "scales": False, "base_value": 10.0}
    data |= {"replications": 2, "seed": 1, "rows": rows}
    path = tmp_path_factory.mktemp("sweep") / "sweep.html"
    path.write_text(sweep_report(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sensitivity_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sensitivity.html of a made-up screening with long parameter paths, sources and notes."""
    from maps.sensitivity import sensitivity_report

    paths = [f"service.other-via-altynkol-{i}.trains_per_week" for i in range(10)]
    rows = [
        {"path": p, "mu": 1.0 - i / 5, "mu_star": 10.0 - i, "sigma": 2.0, "mu_star_conf": 0.1}
        for i, p in enumerate(paths)
    ]
    parameters = [
        {
            "path": p,
            "value": 20,
            "low": 10,
            "high": 30,
            "unit": "trains/week",
            "estimate": True,
            "sources": ["KTZ_2026_ALTYNKOL", "ESTIMATE"],
            "note": "the data's min-max " * 8,
        }
        for p in paths
    ]
    data = {
        "scenario": "baseline",
        "method": {"morris": {"trajectories": 2, "points": 22}, "sobol": {"samples": 0, "points": 0}, "model_runs": 22},
        "parameters": parameters,
        "top": [],
        "replications": 1,
        "seed": 1,
        "outputs": [{"output": "service.southern-chengdu-lodz.transit_d_mean", "unit": "d"}],
        "results": {
            "service.southern-chengdu-lodz.transit_d_mean": {"at_data_values": 36.7, "morris": rows, "sobol": None}
        },
    }
    path = tmp_path_factory.mktemp("sens") / "sensitivity.html"
    path.write_text(sensitivity_report(data), encoding="utf-8")
    return path


def _report_pages(request: pytest.FixtureRequest, name: str) -> Path:
    if name == "report":
        return request.getfixturevalue("baseline_folder") / "report.html"
    if name == "compare":
        return request.getfixturevalue("red_sea_compare")[0] / "compare.html"
    return request.getfixturevalue(f"{name}_page")


@pytest.mark.parametrize("name", ["report", "compare", "sweep", "sensitivity"])
@pytest.mark.parametrize("size", [(390, 844), (1440, 900)])
def test_a_report_page_never_scrolls_sideways(
    browser: Any, request: pytest.FixtureRequest, name: str, size: tuple[int, int]
) -> None:
    """On a phone as on a desktop the page is as wide as the window: wide tables scroll inside
    their box, charts scale down (to a floor, then scroll in theirs)."""
    page = Page(browser, _report_pages(request, name), viewport=size)
    widths = page.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1] == size[0], widths
    assert page.page.evaluate("document.querySelector('meta[name=viewport]').content") == (
        "width=device-width, initial-scale=1"
    )
    loose = page.page.evaluate("[...document.querySelectorAll('table')].filter(t => !t.closest('.scroll')).length")
    assert loose == 0  # every table in a box that scrolls
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / f"{name}-{size[0]}.png"), full_page=True)
    page.clean()
    page.page.close()


_STYLES = """[...document.querySelectorAll('svg [data-service]')].map(e => [
    e.getAttribute('data-service'), getComputedStyle(e).stroke, e.getAttribute('stroke-dasharray') || '',
    e.closest('figure').querySelector('title').textContent])"""


@pytest.mark.parametrize("name", ["report", "compare", "sweep"])
def test_a_service_has_one_colour_in_every_chart_of_a_page(
    browser: Any, request: pytest.FixtureRequest, name: str
) -> None:
    page = Page(browser, _report_pages(request, name))
    marks = page.page.evaluate(_STYLES)
    colours: dict[str, set[str]] = {}
    charts: dict[str, set[str]] = {}
    for service, colour, _, chart in marks:
        colours.setdefault(service, set()).add(colour)
        charts.setdefault(service, set()).add(chart)
    assert colours and all(len(c) == 1 for c in colours.values()), colours
    assert len({next(iter(c)) for c in colours.values()}) == len(colours)  # and no two services share one
    assert max(len(c) for c in charts.values()) >= 2  # the same service drawn in several charts
    if name == "compare":  # the base solid, the what-if dashed, in the same hue
        lines = [m for m in marks if m[0] == "sea-suez-chengdu-rotterdam"]
        assert {bool(dash) for _, _, dash, _ in lines} == {True, False}
    page.clean()
    page.page.close()


def test_table_headers_align_with_their_cells(browser: Any, baseline_folder: Path) -> None:
    """In every table of report.html (Assumptions and sources among them) a column's header is
    aligned as its cells are."""
    page = Page(browser, baseline_folder / "report.html")
    wrong = page.page.evaluate(
        """[...document.querySelectorAll('table')].flatMap(t => {
            const head = t.rows[0], row = t.rows[1];
            if (!row || head.cells.length !== row.cells.length) return [];
            return [...head.cells].flatMap((th, i) => {
                const a = getComputedStyle(th).textAlign, b = getComputedStyle(row.cells[i]).textAlign;
                return a === b ? [] : [th.textContent + ': ' + a + ' over ' + b];
            });
        })"""
    )
    assert wrong == []


#: What a control box and an open popup's box may share: nothing.
OVERLAPS = """(sel) => {
  const boxes = (q) => [...document.querySelectorAll(q)].map(e => [e, e.getBoundingClientRect()])
    .filter(([, r]) => r.width && r.height);
  const hit = (a, b) => !(a.right <= b.left || a.left >= b.right || a.bottom <= b.top || a.top >= b.bottom);
  const out = [];
  for (const [e, r] of boxes(sel)) {
    for (const [c, q] of boxes(".leaflet-control")) {
      if (c !== e && hit(r, q)) { out.push([e.className, c.className]); }
    }
  }
  return out;
}"""


def centre(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_play_is_tappable_on_a_phone(browser: Any, baseline_folder: Path) -> None:
    """At 390x844 the element at play's centre is play itself (no legend, scale or layer list over
    it), a tap starts the animation, and no two controls overlap."""
    page = Page(browser, baseline_folder / "map.html", phone=True)
    p = page.page
    x, y = centre(p, ".corridors-play")
    assert 0 < x < PHONE["width"] and 0 < y < PHONE["height"]
    assert p.evaluate(f"document.elementFromPoint({x}, {y}).className") == "corridors-play"
    assert p.evaluate("document.querySelector('.corridors-legend').open") is False  # folded on a phone
    assert "leaflet-control-layers-expanded" not in (p.locator(".leaflet-control-layers").get_attribute("class") or "")
    assert p.evaluate(OVERLAPS, ".leaflet-control") == []
    before = p.locator(".corridors-clock").inner_text()
    p.touchscreen.tap(x, y)
    p.wait_for_timeout(1200)
    assert p.locator(".corridors-clock").inner_text() != before
    p.locator(".corridors-legend summary").tap()  # the legend opens, and still leaves play alone
    p.wait_for_timeout(200)
    assert p.evaluate("document.querySelector('.corridors-legend').open") is True
    assert p.evaluate(f"document.elementFromPoint({x}, {y}).className") == "corridors-play"
    assert p.evaluate(OVERLAPS, ".leaflet-control") == []
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "results-map-phone.png"))
    page.clean()
    p.close()


def test_a_node_popup_fits_a_phone(browser: Any, baseline_folder: Path) -> None:
    """At 390 px a tap on Altynkol, where Dostyk and Khorgos crowd it, asks which place was meant;
    Altynkol's popup then lies inside the viewport, clear of every control."""
    page = Page(browser, baseline_folder / "map.html", phone=True)
    p = page.page
    p.touchscreen.tap(*centre(p, "path.node-KZ_ALTYNKOL"))
    p.wait_for_timeout(400)
    choices = p.locator(".corridors-choice")
    assert choices.count() >= 2 and "KZ_ALTYNKOL" in " ".join(choices.all_inner_texts())
    p.touchscreen.tap(*centre(p, ".corridors-choice:has-text('KZ_ALTYNKOL')"))
    p.wait_for_timeout(800)  # the popup opens and the map pans it into view
    assert "Altynkol" in p.locator(".leaflet-popup-content").inner_text()
    box = p.locator(".leaflet-popup").bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"] and box["y"] + box["height"] <= PHONE["height"]
    assert p.evaluate(OVERLAPS, ".leaflet-popup") == []
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "results-map-phone-popup.png"))
    page.clean()
    p.close()


def test_desktop_popup_is_clear_of_the_legend_and_layer_list(network_page: Page) -> None:
    """Poti's popup on the desktop: the legend folds and the layer list collapses, so neither covers it."""
    p = network_page.page
    p.locator("path.node-GE_POTI").first.click(force=True)
    p.wait_for_timeout(800)
    text = p.locator(".leaflet-popup-content").inner_text()
    assert "Poti" in text or "Here are" in text
    assert p.evaluate(OVERLAPS, ".leaflet-popup") == []
    p.keyboard.press("Escape")


def test_corridor_colours_and_swatches(network_page: Page, network: corridors.Network) -> None:
    """Each corridor has its own colour on the map and its swatch in the layer list."""
    from maps.network_map import corridor_colour

    p = network_page.page
    colours = {name: corridor_colour(network, name) for name in network.corridors}
    assert len(set(colours.values())) == len(colours)
    for name, colour in colours.items():
        label = p.locator(".leaflet-control-layers-overlays label", has_text=name).first
        assert label.locator(".corridors-swatch").count() == 1
        drawn = p.locator(f"path.corridor-{name}").first.get_attribute("stroke")
        assert drawn == colour, name


def test_place_names_show_without_colliding(network_page: Page) -> None:
    p = network_page.page
    shown = p.evaluate(
        """[...document.querySelectorAll('.corridors-place')].filter(e => e.style.visibility !== 'hidden')
           .map(e => { const r = e.getBoundingClientRect();
                       return [e.textContent, r.left, r.top, r.right, r.bottom]; })"""
    )
    names = [s[0] for s in shown]
    assert {"Dostyk", "Budapest BILK"} <= set(names)
    for i, a in enumerate(shown):
        for b in shown[i + 1 :]:
            assert a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2], (a[0], b[0])


def test_compare_page_with_three_whatifs(browser: Any, three_whatifs_compare: Path) -> None:
    """compare.html for three what-ifs: four maps (the base's once, then each what-if's), one copy of
    Leaflet among them, every map drawn, and the page under its 5 MB budget."""
    from maps.offline import INLINE_JS, VENDOR

    html = three_whatifs_compare.read_text(encoding="utf-8")
    assert len(html.encode("utf-8")) < 5e6
    leaflet = (VENDOR / INLINE_JS["leaflet"]).read_text(encoding="utf-8")[:2000]
    assert html.count(leaflet) == 1 and "srcdoc" not in html
    page = Page(browser, three_whatifs_compare)
    boxes = page.page.locator(".corridors-mapbox")
    assert boxes.count() == 4
    for i in range(4):
        assert boxes.nth(i).locator("path.corridors-leg").count() > 40
        assert boxes.nth(i).locator("path.corridors-wait").count() > 10
    page.page.locator(".corridors-mapbox").nth(3).scroll_into_view_if_needed()
    page.page.wait_for_timeout(300)
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "compare-three.png"))
    page.clean()
    page.page.close()
