"""Typed, strict reading of one data record: every field checked, every unknown key refused."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from corridors.distributions import SHAPES, Distribution
from corridors.errors import UNSAFE_CHARS, DataError, show_value
from corridors.units import HOURS_PER_DAY

__all__ = ["ESTIMATE", "Record", "Sourced"]

#: The source key that marks a value as the author's estimate rather than a published figure.
ESTIMATE = "ESTIMATE"
#: Identifiers (leg ids, corridor and service names, source keys): letters, digits, ``_ . -``.
IDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
#: Node ids: upper case, so that a lookup that upper-cases what a user typed always finds them.
NODE_ID = re.compile(r"[A-Z][A-Z0-9_]*")
IDENT_MAX_CHARS = 64
#: Free-text fields that may run over several lines (the others must be one line).
PROSE_KEYS = frozenset({"note", "citation", "description", "what", "applies_to", "fitted_to", "title"})
#: No number in a data file is larger than this (a guard for fields without a tighter bound):
#: sums and products of such numbers stay finite, and whole numbers stay exact as floats.
MAX_NUMBER = 1e15
#: The longest duration (hours) a data file may give: a year.
MAX_DURATION_H = 366 * HOURS_PER_DAY


class Sourced:
    """A number (or duration) read from the data with the source keys that back it, and the
    plausible range (``min``, ``max``) the data give for a number (None: not given)."""

    __slots__ = ("note", "range", "sources", "value")

    def __init__(
        self, value: Any, sources: tuple[str, ...], note: str, range: tuple[float, float] | None = None
    ) -> None:
        self.value = value
        self.sources = sources
        self.note = note
        self.range = range


class Record:
    """One record of a data file (a node, a leg, a table inside one).

    Reads fields by name with their expected type and range, and raises a ``DataError``
    naming the file, the record, the field and the value on the first problem. Call
    ``finish()`` at the end: any key that was not read is an unknown key (a typo).
    """

    def __init__(
        self,
        file: str,
        label: str,
        data: Any,
        *,
        sources: Mapping[str, str] | None = None,
        prefix: str = "",
    ) -> None:
        self.file = file
        self.label = label
        self.prefix = prefix
        self.known_sources = sources
        if not isinstance(data, Mapping):
            raise DataError(file, label, prefix.rstrip(".") or None, data, "must be a table")
        self.data: Mapping[str, Any] = data
        self._read: set[str] = set()

    # -- plumbing -------------------------------------------------------------------------

    def error(self, key: str, value: Any, problem: str) -> DataError:
        if value is None and key not in self.data:  # a missing key: was it misspelt?
            import difflib

            unread = [str(k) for k in self.data if k not in self._read and k != key]
            close = difflib.get_close_matches(key, unread, n=1, cutoff=0.6)
            if close:
                problem += f"; the record has {close[0]!r}: a typo of {key!r}?"
        return DataError(self.file, self.label, self.prefix + key, value, problem)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        self._read.add(key)
        return self.data.get(key)

    def finish(self) -> None:
        """Refuse keys that no reader asked for."""
        for key in self.data:
            if key not in self._read:
                expected = ", ".join(sorted(self._read)) or "nothing"
                shown = str(key) if len(str(key)) <= 60 else str(key)[:59] + "…"
                raise DataError(
                    self.file,
                    self.label,
                    self.prefix + shown,
                    self.data[key],
                    f"unknown key (a typo?); this record takes: {expected}",
                )

    def sub(self, key: str) -> Record | None:
        """The table under ``key`` as a record of its own, or None when absent."""
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.error(key, value, "must be a table")
        return Record(self.file, self.label, value, sources=self.known_sources, prefix=f"{self.prefix}{key}.")

    # -- plain values ---------------------------------------------------------------------

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.raw(key)
        if value is None:
            if required:
                raise self.error(key, None, "is required (a string)")
            return default
        if not isinstance(value, str):
            raise self.error(key, value, "must be a string")
        if required and not value.strip():
            raise self.error(key, value, "must not be empty")
        self._check_chars(key, value, lines=key in PROSE_KEYS)
        return value

    def _check_chars(self, key: str, value: str, *, lines: bool = False) -> None:
        """Refuse control characters (C0, DEL, C1) and bidi overrides: they would reach a terminal."""
        for bad in UNSAFE_CHARS.finditer(value):
            if lines and bad.group() in "\n\t":
                continue
            raise self.error(key, value, f"holds the control character U+{ord(bad.group()):04X}; write plain text")

    def ident(self, key: str, *, safe: bool = False, node: bool = False) -> str:
        """An identifier without spaces; with ``safe``, only letters, digits, ``_ . -`` (first a
        letter or digit); with ``node``, a node id: upper-case letters, digits and ``_``, first a
        letter."""
        value = self.text(key)
        if value != value.strip() or any(c.isspace() for c in value):
            raise self.error(key, value, "must be an identifier without spaces")
        if node:
            if not NODE_ID.fullmatch(value) or len(value) > IDENT_MAX_CHARS:
                raise self.error(
                    key,
                    value,
                    "a node id must be upper case: letters A-Z, digits and _, first a letter "
                    f"(such as KZ_ALTYNKOL), at most {IDENT_MAX_CHARS} characters",
                )
        elif safe and (not IDENT.fullmatch(value) or len(value) > IDENT_MAX_CHARS):
            raise self.error(
                key,
                value,
                "must be an identifier: letters, digits, _ . and -, first a letter or digit, "
                f"at most {IDENT_MAX_CHARS} characters",
            )
        return value

    def choice(self, key: str, options: Sequence[str], *, required: bool = True) -> str | None:
        value = self.raw(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or value not in options:
            raise self.error(key, value, f"must be one of: {', '.join(options)}")
        return value

    def choices(self, key: str, options: Sequence[str]) -> tuple[str, ...]:
        value = self.raw(key)
        if not isinstance(value, list) or not value:
            raise self.error(key, value, f"must be a non-empty list of: {', '.join(options)}")
        for item in value:
            if not isinstance(item, str) or item not in options:
                raise self.error(key, item, f"is not one of: {', '.join(options)}")
        if len(set(value)) != len(value):
            raise self.error(key, value, "lists a value twice")
        return tuple(value)

    def strings(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.raw(key)
        if value is None and not required:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, value, "must be a list of strings")
        for item in value:
            self._check_chars(key, item)
        return tuple(value)

    def number(
        self,
        key: str,
        *,
        lo: float | None = None,
        hi: float | None = None,
        positive: bool = False,
        integer: bool = False,
        required: bool = True,
    ) -> float | None:
        value = self.raw(key)
        if value is None:
            if required:
                raise self.error(key, None, "is required (a number)")
            return None
        return self._check_number(key, value, lo=lo, hi=hi, positive=positive, integer=integer)

    def _check_number(
        self,
        key: str,
        value: Any,
        *,
        lo: float | None = None,
        hi: float | None = None,
        positive: bool = False,
        integer: bool = False,
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, value, "must be a number")
        if isinstance(value, int) and abs(value) > MAX_NUMBER:  # before float(): it may not fit one
            raise self.error(key, value, f"is too large (at most {_fmt(hi if hi is not None else MAX_NUMBER)})")
        if not math.isfinite(value):
            raise self.error(key, value, "must be a finite number")
        if abs(value) > MAX_NUMBER:
            raise self.error(key, value, f"is too large (at most {_fmt(hi if hi is not None else MAX_NUMBER)})")
        if integer and value != int(value):
            raise self.error(key, value, "must be a whole number")
        if positive and value <= 0:
            raise self.error(key, value, "must be greater than 0")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            if lo is not None and hi is not None:
                raise self.error(key, value, f"must be within [{_fmt(lo)}, {_fmt(hi)}]")
            if hi is not None and positive:
                raise self.error(key, value, f"must be within (0, {_fmt(hi)}]: above 0, at most {_fmt(hi)}")
            if hi is not None:
                raise self.error(key, value, f"must be at most {_fmt(hi)}")
            raise self.error(key, value, f"must be at least {_fmt(lo)}")
        return float(value)

    # -- sourced values -------------------------------------------------------------------

    def source_keys(self, key: str, value: Any) -> tuple[str, ...]:
        """Check a ``source`` field: a key or a list of keys, all known."""
        keys = [value] if isinstance(value, str) else value
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise self.error(key, value, f'must name a source key or "{ESTIMATE}" (a string or a list of strings)')
        if self.known_sources is not None:
            for k in keys:
                if k not in self.known_sources:
                    raise self.error(key, k, "is not a source key listed in sources.toml")
        return tuple(keys)

    def sources_of(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        """A record-level ``source`` field."""
        value = self.raw(key)
        if value is None:
            if required:
                raise self.error(key, None, f'is required: name a source key or "{ESTIMATE}"')
            return ()
        return self.source_keys(key, value)

    def sourced(
        self,
        key: str,
        *,
        required: bool = True,
        positive: bool = True,
        integer: bool = False,
        lo: float | None = None,
        hi: float | None = None,
    ) -> Sourced | None:
        """A number written as ``{ value = 12, source = ["KEY"], note = "..." }``.

        ``min`` and ``max`` may bound ``value`` (a published range, or an estimate's plausible
        one); they are checked and kept as ``range`` (one left out: ``value`` on that side).
        """
        table = self.raw(key)
        if table is None:
            if required:
                raise self.error(key, None, "is required: { value = ..., source = [...] }")
            return None
        if not isinstance(table, Mapping):
            raise self.error(
                key,
                table,
                f'every number needs a source: write {{ value = {show_value(table)}, source = ["{ESTIMATE}"] }}',
            )
        rec = Record(self.file, self.label, table, sources=self.known_sources, prefix=f"{self.prefix}{key}.")
        value = rec.number("value", positive=positive, integer=integer, lo=lo, hi=hi)
        low = rec.number("min", positive=positive, integer=integer, hi=hi, required=False)
        high = rec.number("max", positive=positive, integer=integer, hi=hi, required=False)
        if low is not None and value is not None and low > value:
            raise rec.error("min", low, f"is above value ({_fmt(value)})")
        if high is not None and value is not None and high < value:
            raise rec.error("max", high, f"is below value ({_fmt(value)})")
        sources = rec.sources_of("source")
        note = with_fit(rec.text("note", required=False), rec.text("fitted_to", required=False))
        rec.finish()
        assert value is not None
        number: float | int = int(value) if integer else value
        bounds = (
            None
            if low is None and high is None
            else (
                low if low is not None else value,
                high if high is not None else value,
            )
        )
        return Sourced(number, sources, note, bounds)

    def duration(
        self, key_h: str, key_d: str, *, required: bool = True, max_h: float = MAX_DURATION_H
    ) -> Sourced | None:
        """A three-point duration in hours (``key_h``) or days (``key_d``), as a Distribution.

        Written ``{ min = 4, typical = 5, max = 7, source = [...] }``; ``typical`` may be left
        out (then the midpoint, said so in the note), ``shape`` is ``pert`` unless given. No
        value may exceed ``max_h`` hours (a year by default).
        """
        has_h, has_d = self.has(key_h), self.has(key_d)
        self._read.update((key_h, key_d))
        if has_h and has_d:
            raise self.error(key_d, self.data[key_d], f"give {key_h} or {key_d}, not both")
        if not (has_h or has_d):
            self.raw(key_h)
            self.raw(key_d)
            if required:
                raise self.error(key_h, None, f"is required (or {key_d})")
            return None
        key = key_h if has_h else key_d
        factor = 1.0 if has_h else HOURS_PER_DAY
        table = self.raw(key)
        if not isinstance(table, Mapping):
            raise self.error(key, table, "must be a table { min = ..., typical = ..., max = ..., source = [...] }")
        rec = Record(self.file, self.label, table, sources=self.known_sources, prefix=f"{self.prefix}{key}.")
        bound = max_h / factor
        low = rec.number("min", positive=True, hi=bound)
        high = rec.number("max", positive=True, hi=bound)
        typical = rec.number("typical", positive=True, hi=bound, required=False)
        shape = rec.choice("shape", SHAPES, required=False) or "pert"
        sources = rec.sources_of("source")
        note = with_fit(rec.text("note", required=False), rec.text("fitted_to", required=False))
        rec.finish()
        assert low is not None and high is not None
        if low > high:
            raise rec.error("min", low, f"is above max ({_fmt(high)})")
        if typical is None:
            typical = (low + high) / 2
            note = (note + "; " if note else "") + "typical taken as the midpoint of min and max"
        elif not low <= typical <= high:
            raise rec.error("typical", typical, f"is outside [min, max] = [{_fmt(low)}, {_fmt(high)}]")
        dist = Distribution(low * factor, typical * factor, high * factor, shape)  # type: ignore[arg-type]
        return Sourced(dist, sources, note)


_FITTED = "fitted to: "
_ID = r"[^\s,;:()]+"
#: "fitted to: V10" or a list, "fitted to: V01, V02, V04"; words after the ids are a remark
_FITTED_IDS = re.compile(re.escape(_FITTED) + rf"({_ID}(?:\s*,\s*{_ID})*)")


def with_fit(note: str, fitted_to: str) -> str:
    """A calibrated value says which published figures it was fitted to (read back by ``fitted_targets``)."""
    if not fitted_to:
        return note
    return (note + "; " if note else "") + _FITTED + fitted_to


def fitted_targets(note: str) -> list[str]:
    """The calibration target ids a value's note says it was fitted to (its ``fitted_to``: one id,
    or several separated by commas).

    >>> fitted_targets("sailing only; fitted to: V01, V02, V04 (a calibration)")
    ['V01', 'V02', 'V04']
    """
    return [i for found in _FITTED_IDS.findall(note) for i in re.split(r"\s*,\s*", found)]


def _fmt(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not -1e9 < value < 1e9:
        return f"{value:,.0f}" if math.isfinite(value) and abs(value) <= MAX_NUMBER else show_value(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return show_value(value) if isinstance(value, str) else str(value)


# -- bounds shared by every way in ------------------------------------------------------------
# The network loader, a what-if's [[overrides]] and `corridors sweep` all set these fields: they
# check them against the same ranges and the same cross-field rules, so a value refused in
# nodes.toml is refused as an override too.

#: (low, high) of each facility and leg field; a duration's min and max, in hours.
FIELD_BOUNDS: Mapping[str, tuple[float, float]] = {
    "servers": (1, 200),
    "process_h": (0.001, 8784),
    "trains_per_day": (0.01, 1000),
    "vessels": (1, 200),
    "vessel_capacity_wagons": (1, 10_000),
    "vessel_capacity_teu": (1, 100_000),
    "max_wait_h": (0.01, 8784),
    "sailings_per_week": (0.01, 1000),
    "fee_usd_per_feu": (0, 1_000_000),
    "yard_capacity_trains": (1, 1000),
    "background_per_day": (0.001, 100_000),
    "background_block": (1, 100_000),
    "hold_probability": (0, 1),
    "hold_h": (0.001, 8784),
    "transit_h": (0.001, 8784),
    "capacity_trains_per_day": (0.01, 1000),
    "cost_usd_per_feu": (0, 1_000_000),
}


def dispatch_problem(
    dispatch: str | None, *, vessel_capacity: bool, vessels: bool, max_wait_h: bool, sailings_per_week: bool
) -> str | None:
    """What a facility's ``dispatch`` rule lacks to work (None: nothing)."""
    if dispatch is None:
        return None
    if not vessel_capacity:
        return "needs vessel_capacity_wagons or vessel_capacity_teu"
    if dispatch == "max_wait" and not max_wait_h:
        return "needs max_wait_h"
    if dispatch == "timetable" and not sailings_per_week:
        return "needs sailings_per_week"
    if dispatch in ("when_full", "max_wait") and not vessels:
        return "needs vessels"
    return None
