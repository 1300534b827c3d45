"""Small folium elements of our own: a script that runs after the map and its layers exist."""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template

__all__ = ["Script"]


class Script(MacroElement):
    """JavaScript placed in the page's script after everything added to the map before it."""

    _template = Template("""{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}""")

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "CorridorsScript"
        self.code = code
