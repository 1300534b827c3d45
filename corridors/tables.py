"""Tables described once and rendered twice: as terminal text here, as HTML by the reports.

A ``Table`` holds text cells already formatted (the numbers' format is part of the description,
so the terminal and the HTML page show the same figures); renderers only lay them out and make
them safe for where they go.

>>> t = Table((Column("service", align="left"), Column("mean d")), [Row(("north", "12.45"))])
>>> print(render_text(t))
  service  mean d
  north     12.45
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from corridors.errors import printable

__all__ = ["Cell", "Column", "Row", "Table", "clip", "render_text"]


@dataclass(frozen=True)
class Column:
    """A column: its header, alignment, an optional explanation (a tooltip in HTML) and the most
    characters a terminal shows of its cells (``max_chars``: cut at a word, with an ellipsis)."""

    header: str
    align: Literal["left", "right"] = "right"
    help: str = ""
    max_chars: int | None = None


@dataclass(frozen=True)
class Cell:
    """A cell's text and what it says at a glance (``tone``: ``"bad"`` or ``"good"``, coloured in HTML)."""

    text: str
    tone: Literal["", "bad", "good"] = ""


@dataclass(frozen=True)
class Row:
    """One row: a cell (or its text) per column."""

    cells: Sequence[Cell | str]

    def texts(self) -> list[str]:
        return [c.text if isinstance(c, Cell) else c for c in self.cells]


@dataclass(frozen=True)
class Table:
    """Columns, rows and notes (footnotes shown under the table)."""

    columns: Sequence[Column]
    rows: Sequence[Row]
    notes: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row.cells) != len(self.columns):
                raise ValueError(f"a row has {len(row.cells)} cells for {len(self.columns)} columns")


def clip(text: str, width: int) -> str:
    """``text`` cut at a word to fit ``width`` characters, with an ellipsis when cut.

    >>> clip("Chengdu - Lodz by the Northern route", 20)
    'Chengdu - Lodz by…'
    """
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if text[width - 1] != " ":  # a word runs on past the cut: leave it out whole
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-(") + "…"


def render_text(table: Table, *, notes: bool = True) -> str:
    """The table as terminal lines: a header row, columns two spaces apart, each line indented two
    spaces; control characters shown escaped (names come from files a stranger may write); then
    the notes, one an indented line."""
    rows = [[c.header for c in table.columns]]
    for given in table.rows:
        texts = given.texts()
        rows.append(
            [t if c.max_chars is None else clip(t, c.max_chars) for t, c in zip(texts, table.columns, strict=True)]
        )
    shown = [[printable(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in shown) for i in range(len(table.columns))]
    lines = []
    for row in shown:
        cells = [
            cell.rjust(widths[i]) if table.columns[i].align == "right" else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    if notes:
        lines += ["  " + printable(note) for note in table.notes]
    return "\n".join(lines)
