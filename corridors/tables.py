"""Tables described once and rendered three times: as terminal text and as CSV here, as HTML by the reports.

A ``Table`` holds text cells already formatted (the numbers' format is part of the description,
so the terminal and the HTML page show the same figures); renderers only lay them out and make
them safe for where they go.

>>> t = Table((Column("service", align="left"), Column("mean d")), [Row(("north", "12.45"))])
>>> print(render_text(t))
  service  mean d
  north     12.45
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from corridors.errors import printable
from corridors.export import spreadsheet_text

__all__ = ["Cell", "Column", "CsvValue", "Row", "Table", "clip", "csv_cells", "csv_header", "render_csv", "render_text"]

#: A CSV cell: a number (written unrounded), a text, or None (an empty cell).
CsvValue = float | int | str | None

#: What a table shows for a missing figure; an empty cell in CSV.
DASH = "–"


@dataclass(frozen=True)
class Column:
    """A column: its header, alignment, an optional explanation (a tooltip in HTML), the most
    characters a terminal shows of its cells (``max_chars``: cut at a word, with an ellipsis) and its
    header(s) in CSV (``csv``; default the header): a unit where the cells' text carried it (``on
    time %``), two headers for a range the table shows in one cell (a CI's low and high end)."""

    header: str
    align: Literal["left", "right"] = "right"
    help: str = ""
    max_chars: int | None = None
    csv: tuple[str, ...] = ()

    @property
    def csv_headers(self) -> tuple[str, ...]:
        return self.csv or (self.header,)


@dataclass(frozen=True)
class Cell:
    """A cell's text and what it says at a glance (``tone``: ``"bad"`` or ``"good"``, coloured in HTML);
    ``values``: what a CSV file writes instead of the text, one per CSV header of the column (the
    unrounded figure; a range's two ends; None for an empty cell)."""

    text: str
    tone: Literal["", "bad", "good"] = ""
    values: tuple[CsvValue, ...] | None = None


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


def csv_header(table: Table) -> list[str]:
    """The CSV header row of ``table``: each column's CSV header(s), in the table's order."""
    return [h for c in table.columns for h in c.csv_headers]


def csv_cells(table: Table) -> list[list[CsvValue]]:
    """The rows of ``table`` as CSV cells: a cell's ``values`` where it has them (unrounded figures),
    else its text (a dash or nothing: empty), spread over the column's CSV headers."""
    out = []
    for row in table.rows:
        cells: list[CsvValue] = []
        for cell, column in zip(row.cells, table.columns, strict=True):
            n = len(column.csv_headers)
            if isinstance(cell, Cell) and cell.values is not None:
                if len(cell.values) != n:
                    raise ValueError(f"column {column.header!r}: {len(cell.values)} CSV values for {n} headers")
                cells += cell.values
                continue
            text = cell.text if isinstance(cell, Cell) else cell
            cells += [None if text in ("", DASH) else text] + [None] * (n - 1)
        out.append(cells)
    return out


def render_csv(header: Sequence[str], rows: Iterable[Sequence[CsvValue]]) -> str:
    """A header and rows as CSV text (UTF-8, comma-separated, ``\\n`` line ends): numbers as Python
    writes them (no rounding, no thousands separator), text that a spreadsheet would run as a formula
    with a leading ``'`` (``spreadsheet_text``), None as an empty cell.

    >>> print(render_csv(["service", "mean d"], [["=north", 12.5], ["south", None]]), end="")
    service,mean d
    '=north,12.5
    south,
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([spreadsheet_text(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else spreadsheet_text(v) if isinstance(v, str) else v for v in row])
    return buffer.getvalue()
