"""What the ``corridors`` command prints: the status line, JSON, tables and notes, and the files it writes."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from corridors.errors import printable
from corridors.export import json_text, staged_folder
from corridors.tables import Column, Row, Table, render_text
from corridors.units import days

SCHEMA_VERSION = 1


class Status:
    """Progress on a terminal's standard error: a bar (tqdm: replications done, rate, time left)
    while replications run, one line that a long run rewrites for its other steps; nothing when
    standard error is not a terminal or with ``--quiet``, so pipes, files and tests see only the
    results."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.shown = False
        self.bar: Any = None
        self.quiet = False
        self.note = ""

    def take_note(self) -> str:
        """What a stopped command adds to its one line (what it kept), once: " (…)" or ""."""
        note, self.note = self.note, ""
        return f" ({note})" if note else ""

    def progress(self) -> Any:
        """The callable to hand to a run, or None off a terminal (or when quiet)."""
        self.started = time.monotonic()
        return self if sys.stderr.isatty() and not self.quiet else None

    def __call__(self, message: str) -> None:
        total, done, label = getattr(message, "total", 0), getattr(message, "done", 0), getattr(message, "label", "")
        if total:
            if self.bar is None or self.bar.total != total or self.bar.desc != printable(label):
                self.clear()
                from tqdm import tqdm

                sized = _terminal_columns() > 0  # a terminal that reports no size gets a bar of 80 columns
                self.bar = tqdm(
                    total=total,
                    desc=printable(label),
                    unit="rep",
                    file=sys.stderr,
                    leave=False,
                    dynamic_ncols=sized,
                    ncols=None if sized else 80,
                )
            self.bar.update(done - self.bar.n)
            if done == total:
                self.bar.refresh()  # the last count, even when it came sooner than the bar redraws
            return
        self._close_bar()
        line = f"{printable(message)} ({time.monotonic() - self.started:.0f} s)"
        width = shutil.get_terminal_size().columns - 1  # one row: a wrapped line could not be cleared
        if len(line) > width:
            line = line[: max(width - 1, 0)] + "…"
        sys.stderr.write(f"\r\x1b[K{line}")
        sys.stderr.flush()
        self.shown = True

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def clear(self) -> None:
        self._close_bar()
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


def _terminal_columns() -> int:
    """The width standard error's terminal reports (0 when it reports none, as some do)."""
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 0


def notice(text: str) -> None:
    """A line on standard error about what a command does with earlier work (not with --quiet)."""
    if not STATUS.quiet:
        STATUS.clear()
        print(f"corridors: {text}", file=sys.stderr)


STATUS = Status()


def emit(data: dict[str, Any]) -> None:
    """Print ``data`` as the command's JSON (with its schema version)."""
    utf8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
    from corridors.export import check_finite

    data = {"schema_version": SCHEMA_VERSION, **data}
    check_finite(data)  # never NaN or Infinity (not JSON): an error naming the field instead
    print(json.dumps(data, ensure_ascii=not utf8, indent=2, allow_nan=False))


def say(text: str) -> None:
    """Print a line of text that may hold what a data file says: control characters escaped."""
    print(printable(text))


def print_table(rows: list[list[str]], right: set[int]) -> None:
    """Print a header row and rows, the columns in ``right`` aligned right."""
    columns = [Column(h, align="right" if i in right else "left") for i, h in enumerate(rows[0])]
    print(render_text(Table(columns, [Row(r) for r in rows[1:]])))


def wrap(text: str, *, indent: int = 2) -> str:
    """A long note as an indented paragraph that fits the terminal (its further lines two more in)."""
    width = max(min(shutil.get_terminal_size().columns, 110), 60)
    return textwrap.fill(text, width=width, initial_indent=" " * indent, subsequent_indent=" " * (indent + 2))


def reps(n: int) -> str:
    return f"{n} replication" + ("" if n == 1 else "s")


def duration(hours: float) -> str:
    return f"{hours:.1f} h" if hours < 48 else f"{days(hours):.1f} d"


def write_pair(out: Path, stem: str, data: dict[str, Any], page: str, *, csv: str | None = None) -> tuple[Path, Path]:
    """``stem``.json and ``stem``.html (and ``stem``.csv, given ``csv``) into ``out``: all new, or (on
    any failure) all as they were (and no ``out`` folder if there was none)."""
    with staged_folder(out, label="--out ") as tmp:
        (tmp / f"{stem}.json").write_text(json_text(data), encoding="utf-8")
        (tmp / f"{stem}.html").write_text(page, encoding="utf-8")
        if csv is not None:
            (tmp / f"{stem}.csv").write_text(csv, encoding="utf-8", newline="")
    return out / f"{stem}.json", out / f"{stem}.html"


def without_version(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "schema_version"}
