"""Error types: every problem with user input is a ``CorridorsError`` that names where it is."""

from __future__ import annotations

from typing import Any

__all__ = ["CorridorsError", "DataError", "InputError", "show_value"]


class CorridorsError(Exception):
    """Base class for every error the project raises on bad input."""


class DataError(CorridorsError, ValueError):
    """A data file (network, geometry, scenario) holds a bad record.

    The message names the file, the record, the field and the bad value:
    ``legs.toml: leg S05: transit_d.max = 3: is below transit_d.min (5)``.
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
            parts.append(record)
        if field:
            parts.append(f"{field} = {show_value(value)}")
        super().__init__(": ".join(parts) + ": " + problem)


class InputError(CorridorsError, ValueError):
    """A command-line argument or API argument is bad (unknown corridor, node, option)."""


def show_value(value: Any, limit: int = 80) -> str:
    """Render a bad value for a message: strings quoted, long values cut."""
    if isinstance(value, str):
        text = '"' + value.replace('"', '\\"') + '"'
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "(missing)"
    elif isinstance(value, dict):
        text = "{ … }"
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        text = "[[ … ]]"
    elif isinstance(value, list) and all(isinstance(v, (str, int, float, bool)) for v in value):
        import json

        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = repr(value) if not isinstance(value, (int, float)) else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
