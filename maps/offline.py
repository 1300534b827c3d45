"""Render a folium map as one self-contained HTML file: libraries inlined, nothing fetched."""

from __future__ import annotations

import base64
import contextlib
import re
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import branca.element
import folium
from branca.element import CssLink, JavascriptLink

__all__ = [
    "MapFragment",
    "OfflineError",
    "external_references",
    "map_page_head",
    "render_fragment",
    "render_offline",
    "without_vendored",
]

VENDOR = Path(__file__).parent / "vendor"

#: folium's resource names -> the vendored file that replaces the CDN link.
INLINE_JS = {"leaflet": "leaflet-1.9.4/leaflet.js", "jquery": "jquery-3.7.1/jquery.min.js"}
INLINE_CSS = {"leaflet_css": "leaflet-1.9.4/leaflet.css"}
#: Libraries folium links by default that these maps never use (no Icon markers): dropped.
UNUSED = {
    "bootstrap",
    "awesome_markers",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers_font_css",
    "awesome_markers_css",
    "awesome_rotate_css",
}


class OfflineError(RuntimeError):
    """A map would need the network: an unknown library, or a reference left to the outside."""


def _css_with_data_uris(css: str, folder: Path) -> str:
    def inline(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith(("data:", "#")):
            return match.group(0)
        data = (folder / ref).read_bytes()
        mime = "image/png" if ref.endswith(".png") else "application/octet-stream"
        return f"url(data:{mime};base64,{base64.b64encode(data).decode('ascii')})"

    return re.sub(r"url\(([^)]+)\)", inline, css)


def _script(text: str) -> str:
    return "<script>" + text.replace("</script", "<\\/script") + "</script>"


class _Verbatim:
    """Stands in for a Jinja template made of markup already rendered: renders it unchanged."""

    module = types.SimpleNamespace()  # no macros

    def __init__(self, source: str) -> None:
        self.source = source

    def render(self, *_args: Any, **_kwargs: Any) -> str:
        return self.source


@contextlib.contextmanager
def _rendered_markup_verbatim() -> Iterator[None]:
    """While a page renders, branca wraps each element's rendered markup (its header, html and
    script parts, a popup's) in a new ``Element`` that compiles it as a template again; here that
    markup stays as it is. Nothing a data file put into the page is ever template source, and
    the results map renders 4x faster (0.18 s to 0.04 s; its 700 compilations were 80% of it).
    The page is the same (``tests/test_maps.py`` compares it with folium's own render)."""
    module: Any = branca.element
    real = module.Template
    module.Template = _Verbatim
    try:
        yield
    finally:
        module.Template = real


def render_offline(m: folium.Map) -> str:
    """The map's HTML with every library inlined from the vendored copies.

    Raises ``OfflineError`` for a library it does not know and if any ``src=`` or ``href=``
    other than a ``data:`` URI or an anchor is left in the page.
    """
    with _rendered_markup_verbatim():
        html = m.get_root().render()
    inlined: list[str] = []

    def placeholder(content: str) -> str:
        inlined.append(content)
        return f"<!--vendored:{len(inlined) - 1}-->"

    for name, child in list(cast(Any, m.get_root()).header._children.items()):
        if isinstance(child, JavascriptLink):
            tag = f'<script src="{child.url}"></script>'
            if name in UNUSED:
                html = html.replace(tag, "")
            elif name in INLINE_JS:
                html = html.replace(tag, placeholder(_script((VENDOR / INLINE_JS[name]).read_text(encoding="utf-8"))))
            else:
                raise OfflineError(f"unknown script {name!r} ({child.url}): vendor it or drop it")
        elif isinstance(child, CssLink):
            tag = f'<link rel="stylesheet" href="{child.url}"/>'
            if name in UNUSED:
                html = html.replace(tag, "")
            elif name in INLINE_CSS:
                path = VENDOR / INLINE_CSS[name]
                css = _css_with_data_uris(path.read_text(encoding="utf-8"), path.parent)
                html = html.replace(tag, placeholder("<style>" + css + "</style>"))
            else:
                raise OfflineError(f"unknown stylesheet {name!r} ({child.url}): vendor it or drop it")
    # the page itself (everything but the vendored libraries' code) must not refer outside
    left = external_references(html)
    if left:
        raise OfflineError(f"the page still refers to the outside: {', '.join(sorted(set(left))[:5])}")
    for i, content in enumerate(inlined):
        html = html.replace(f"<!--vendored:{i}-->", content, 1)
    return html


@dataclass(frozen=True)
class MapFragment:
    """A map rendered for a page that holds several (compare.html): ``shared`` is what any map on
    the page may share, by name (the libraries, inlined once, and the maps' own style sheet,
    scripts and country data), and ``body`` the map's own markup and script, to place where it
    shows. ``map_page_head`` writes the shared parts of a page's maps, each once."""

    shared: dict[str, str]
    body: str


#: Header parts that belong to a whole page of one map, not to a map placed in another page: the
#: meta tag and title, and folium's own style for the map's element (full page size).
_PAGE_ONLY = {"meta_http", "corridors_title"}


def render_fragment(m: folium.Map) -> MapFragment:
    """The map as a fragment of a page: its element in a ``corridors-mapbox`` box and its script,
    with the libraries and shared parts apart (``MapFragment``), never compiled as a template.

    Raises ``OfflineError`` like ``render_offline``.
    """
    root = cast(Any, m.get_root())
    with _rendered_markup_verbatim():
        for child in list(root._children.values()):
            child.render()
        shared: dict[str, str] = {}
        for name, child in list(root.header._children.items()):
            if isinstance(child, JavascriptLink):
                if name in INLINE_JS:
                    shared[name] = _script((VENDOR / INLINE_JS[name]).read_text(encoding="utf-8"))
                elif name not in UNUSED:
                    raise OfflineError(f"unknown script {name!r} ({child.url}): vendor it or drop it")
            elif isinstance(child, CssLink):
                if name in INLINE_CSS:
                    path = VENDOR / INLINE_CSS[name]
                    shared[name] = (
                        "<style>" + _css_with_data_uris(path.read_text(encoding="utf-8"), path.parent) + "</style>"
                    )
                elif name not in UNUSED:
                    raise OfflineError(f"unknown stylesheet {name!r} ({child.url}): vendor it or drop it")
            elif name not in _PAGE_ONLY and name != m.get_name():
                shared[name] = child.render()
        body = f'<div class="corridors-mapbox">{root.html.render()}</div><script>{root.script.render()}</script>'
    own = [text for name, text in shared.items() if name not in INLINE_JS and name not in INLINE_CSS]
    left = external_references(body + "".join(own))
    if left:
        raise OfflineError(f"the map still refers to the outside: {', '.join(sorted(set(left))[:5])}")
    return MapFragment(shared, body)


def map_page_head(fragments: Sequence[MapFragment]) -> str:
    """The head markup a page of these maps needs: each shared part once (the first map's order).

    Raises ``ValueError`` if two maps give different text under one name.
    """
    parts: dict[str, str] = {}
    for fragment in fragments:
        for name, text in fragment.shared.items():
            if parts.setdefault(name, text) != text:
                raise ValueError(f"two maps on a page differ in their shared part {name!r}")
    css = [t for n, t in parts.items() if n in INLINE_CSS]  # the libraries' style first: ours overrides it
    return "".join(css + [t for n, t in parts.items() if n not in INLINE_CSS])


def without_vendored(html: str) -> str:
    """The page with the vendored libraries' code taken out (their own strings are not the page's)."""
    for rel in (*INLINE_JS.values(),):
        html = html.replace(_script((VENDOR / rel).read_text(encoding="utf-8")), "<script></script>")
    for rel in INLINE_CSS.values():
        path = VENDOR / rel
        html = html.replace(_css_with_data_uris(path.read_text(encoding="utf-8"), path.parent), "")
    return html


def external_references(html: str) -> list[str]:
    """Every ``src=``/``href=`` value that is not a data: URI or an anchor."""
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    return [r for r in refs if not r.startswith(("data:", "#"))]
