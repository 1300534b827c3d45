"""Error types: every problem with user input is a ``CorridorsError`` that names where it is."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["CorridorsError", "DataError", "InputError", "Parameter", "WorkerLost", "printable", "show_value"]

#: Characters that must never reach a terminal as they are: C0 controls, DEL, C1 controls, and
#: the invisible bidirectional-text controls that can make text read differently from what it is.
UNSAFE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SAFE_WHITESPACE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: How many characters of a bad value a message shows.
VALUE_LIMIT = 60


class Parameter(str):
    """An API parameter named in an error message: it reads as its name (``allow_large``), or as
    ``shown`` where the message needs more (``allow_large=True``). A front end that calls the API
    with options of its own shows the message with its option instead (``CorridorsError.render``).

    >>> Parameter("allow_large", "allow_large=True") + " lifts the limit"
    'allow_large=True lifts the limit'
    """

    name: str

    def __new__(cls, name: str, shown: str = "") -> Parameter:
        self = super().__new__(cls, shown or name)
        self.name = name
        return self


class CorridorsError(Exception):
    """Base class for every error the project raises on bad input.

    Its message is made of ``parts``: text, and ``Parameter``s where it names an API parameter.
    """

    parts: tuple[str, ...] = ()

    def render(self, options: Mapping[str, str] | None = None) -> str:
        """The message, each ``Parameter`` in it shown as ``options`` names it (a command line's
        flags: ``{"avoid": "--avoid"}``), or as the API names it.

        >>> InputError(Parameter("k"), " 0 must be at least 1").render({"k": "-k"})
        '-k 0 must be at least 1'
        """
        if not self.parts:  # a subclass that gave its message whole
            return str(self)
        text = "".join(options.get(p.name, p) if options and isinstance(p, Parameter) else str(p) for p in self.parts)
        return self._printable(text)

    @staticmethod
    def _printable(text: str) -> str:
        return printable(text)


class DataError(CorridorsError, ValueError):
    """A data file (network, geometry, scenario) holds a bad record.

    The message names the file, the record, the field and the bad value:
    ``legs.toml: leg S05: transit_d.max = 3: is below transit_d.min (5)``. ``file`` is a
    ``Parameter`` where the record came from an API argument rather than a file.
    """

    def __init__(
        self,
        file: str,
        record: str | None,
        field: str | None,
        value: Any,
        problem: str,
    ) -> None:
        self.file = file
        self.record = record
        self.field = field
        self.value = value
        self.problem = problem
        parts = [file]
        if record:
            parts.append(f": {record}")
        if field:
            parts.append(f": {field} = {show_value(value)}")
        self.parts = (*parts, ": " + problem)
        super().__init__(self.render())


class InputError(CorridorsError, ValueError):
    """A command-line argument or API argument is bad (unknown corridor, node, option).

    The message may be given in parts, with a ``Parameter`` where it names one:
    ``InputError(Parameter("avoid"), " 'XX' is neither a node id nor a country")``.
    """

    def __init__(self, *message: str) -> None:
        self.parts = message
        super().__init__(self.render())

    @staticmethod
    def _printable(text: str) -> str:
        return printable(text, keep_lines=True)


class WorkerLost(CorridorsError, RuntimeError):
    """A worker process running replications ended without finishing (killed, out of memory).
    What the run finished is kept (``--resume`` finishes it)."""

    def __init__(self, detail: str) -> None:
        self.parts = (f"a worker process ended without finishing its replication ({detail})",)
        super().__init__(self.render())


def printable(text: str, *, keep_lines: bool = False) -> str:
    """``text`` safe to print on a terminal: control and bidi characters shown as escapes.

    >>> printable("Almaty\\x1b]0;x\\x07")
    'Almaty\\\\x1b]0;x\\\\x07'
    """
    pattern = _SAFE_WHITESPACE if keep_lines else UNSAFE_CHARS
    return pattern.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def show_value(value: Any, limit: int = VALUE_LIMIT) -> str:
    """Render a bad value for a message: plain (as the file writes it), strings quoted, long values cut.

    >>> show_value([None, 100])
    '[null, 100]'
    >>> show_value(10**400)
    'a whole number of 401 digits'
    """
    text = printable(_plain(value, depth=0))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _plain(value: Any, depth: int) -> str:
    if isinstance(value, str):
        cut = value if len(value) <= 4 * VALUE_LIMIT else value[: 4 * VALUE_LIMIT]
        return '"' + cut.replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "(missing)" if depth == 0 else "null"
    if isinstance(value, int):
        if abs(value) >= 10**18:
            digits = math.floor(math.log10(abs(value))) + 1
            return f"a whole number of {digits:,} digits" if depth == 0 else "…"
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) < 1e15 and depth == 0:
            return str(int(value))
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return "{ … }"
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, dict) for v in value):
            return "[[ … ]]"
        if depth >= 3:
            return "[…]"
        items: list[str] = []
        size = 0
        for item in value:
            if size > 2 * VALUE_LIMIT:
                items.append("…")
                break
            items.append(_plain(item, depth + 1))
            size += len(items[-1]) + 2
        return "[" + ", ".join(items) + "]"
    return type(value).__name__
