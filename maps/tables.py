"""Tables (``corridors.tables.Table``) as HTML: every cell escaped, tones as classes, notes below."""

from __future__ import annotations

from corridors.tables import Cell, Table
from maps.escape import esc
from maps.style import scroll

__all__ = ["table_html"]


def table_html(table: Table) -> str:
    """``table`` as an HTML ``<table>`` in a box that scrolls sideways on a narrow screen, followed by
    its notes (one ``<p class='note'>`` each).

    >>> from corridors.tables import Column, Row
    >>> html = table_html(Table((Column("node", align="left"), Column("h")), [Row(("<b>", Cell("2.0", "bad")))]))
    >>> print(html.replace("<tr>", "\\n<tr>"))
    <div class='scroll'><table>
    <tr><th>node</th><th>h</th></tr>
    <tr><td>&lt;b&gt;</td><td class='bad'>2.0</td></tr></table></div>
    """
    head = "".join(
        f"<th{_attrs('l' if c.align == 'left' and i else '', c.help)}>{esc(c.header)}</th>"
        for i, c in enumerate(table.columns)
    )
    rows = [f"<tr>{head}</tr>"]
    for row in table.rows:
        cells = []
        for i, (cell, column) in enumerate(zip(row.cells, table.columns, strict=True)):
            text, tone = (cell.text, cell.tone) if isinstance(cell, Cell) else (cell, "")
            classes = " ".join(c for c in (tone, "l" if column.align == "left" and i else "") if c)
            cells.append(f"<td{_attrs(classes, '')}>{esc(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    notes = "".join(f"<p class='note'>{esc(note)}</p>" for note in table.notes)
    return scroll("<table>" + "".join(rows) + "</table>") + notes


def _attrs(classes: str, title: str) -> str:
    return (f" class='{classes}'" if classes else "") + (f" title='{esc(title)}'" if title else "")
