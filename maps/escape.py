"""Making text from data files inert in HTML: escaped for markup, JavaScript template literals and templates."""

from __future__ import annotations

import html
import json
import re
from typing import Any

__all__ = ["esc", "json_for_script"]

#: Beyond HTML's own escapes: what would break out of a JS template literal (folium places popups and
#: tooltips inside backquotes) and the braces that open template syntax (``{{``, ``{%``, ``{#``), so
#: escaped text stays inert even where folium/branca compile their output as a template again.
_INERT = str.maketrans({"\\": "&#92;", "`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;"})


def esc(value: object) -> str:
    """HTML-escape ``value`` so it shows literally wherever a map or report places it.

    >>> esc('<img src=x onerror=alert(1)> `${x}` C:\\\\x {{ 7*7 }}')
    '&lt;img src=x onerror=alert(1)&gt; &#96;&#36;&#123;x&#125;&#96; C:&#92;x &#123;&#123; 7*7 &#125;&#125;'
    """
    return html.escape(str(value), quote=True).translate(_INERT)


def json_for_script(data: Any) -> str:
    """``data`` as JSON for a ``<script type="application/json">`` block: finite numbers only, and no
    character that could close the block or open markup or a template (``< > &`` anywhere, braces inside
    strings, written as ``\\u`` escapes, which ``JSON.parse`` reads back unchanged).

    >>> print(json_for_script({"name": "</script>{{ 7*7 }}", "n": [1, {}]}))
    {"name":"\\u003c/script\\u003e\\u007b\\u007b 7*7 \\u007d\\u007d","n":[1,{}]}
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    text = _JSON_STRING.sub(lambda m: m.group(0).replace("{", "\\u007b").replace("}", "\\u007d"), text)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
