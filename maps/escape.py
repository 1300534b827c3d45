"""Escaping text from data files for HTML that folium places inside JavaScript template literals."""

from __future__ import annotations

import html

__all__ = ["esc"]


def esc(value: object) -> str:
    """HTML-escape ``value`` and neutralise what would break out of a JS template literal.

    >>> esc('<img src=x onerror=alert(1)> `${x}` C:\\x')
    '&lt;img src=x onerror=alert(1)&gt; &#96;&#36;{x}&#96; C:&#92;x'
    """
    text = html.escape(str(value), quote=True)
    return text.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")
