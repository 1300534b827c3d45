"""Folium elements of our own that put text into a page without ever compiling it as a template.

branca compiles every ``Element(text)`` as Jinja2 source, and folium's ``MacroElement.render``
compiles its own output again; text that came from a data file must never take either path.
``Raw`` is placed as it is; ``Script`` and ``Legend`` render to ``Raw`` parts; ``DataBlock`` holds
JSON that the page's scripts read. See docs/security.md for where data meets folium.
"""

from __future__ import annotations

from typing import Any

from branca.element import Element, Figure, MacroElement

from maps.escape import json_for_script

__all__ = ["DataBlock", "Legend", "Raw", "Script"]


class Raw(Element):
    """Markup placed in the page exactly as given: never compiled as a template.

    >>> Raw("<b>{{ 7*7 }}</b>").render()
    '<b>{{ 7*7 }}</b>'
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Raw"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class DataBlock(Raw):
    """A ``<script type="application/json" id=...>`` block: data for the page's scripts, never markup."""

    def __init__(self, block_id: str, data: Any) -> None:
        super().__init__(f'<script type="application/json" id="{block_id}">{json_for_script(data)}</script>')


class _Placed(MacroElement):
    """A map child whose header, html or script part is ``Raw`` text (MacroElement would compile it)."""

    part = "script"

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("a map element must be placed in a figure before it is rendered")
        getattr(figure, self.part).add_child(Raw(self.text), name=self.get_name())
        return ""  # placed in the figure's part, like MacroElement; nothing in the map's own script


class Script(_Placed):
    """JavaScript placed in the page's script after everything added to the map before it."""

    def __init__(self, code: str) -> None:
        super().__init__(code.replace("</script", "<\\/script"))
        self._name = "CorridorsScript"


class Legend(_Placed):
    """A folding legend; ``body`` is markup the caller built with escaped text. The page's script
    (maps/static/ui.js) moves it into a map control, folds it on a narrow map or while a popup is
    open, and opens it at first as ``open_`` says: True, False, or None for open unless the map is
    shown in a frame (a report's)."""

    part = "html"

    def __init__(self, body: str, *, element_id: str, open_: bool | None = True) -> None:
        opened = "" if open_ is False else " open"
        super().__init__(
            f'<details class="corridors-legend" id="{element_id}"{opened}><summary>Legend</summary>{body}</details>'
        )
        self._name = "CorridorsLegend"
