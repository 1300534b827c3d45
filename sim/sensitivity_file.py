"""sensitivity.json read back as typed records, every field checked (``read_sensitivity``).

``corridors sensitivity`` writes the file (docs/json.md); a report reads it to say what drives
an answer. The file may come from anyone: a bad field is a ``DataError`` naming the file, the
record, the field and the value, in one line; keys the schema does not know are ignored.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from corridors import DataError, InputError
from corridors.errors import UNSAFE_CHARS
from corridors.loader import display_path, read_json
from sim.sensitivity import Output, parse_output

__all__ = [
    "SCHEMA_VERSION",
    "Driver",
    "Effect",
    "Index",
    "OutputResult",
    "ScreenedParameter",
    "SensitivityFile",
    "Spread",
    "read_sensitivity",
]

#: The schema of sensitivity.json this program reads (and ``corridors sensitivity`` writes).
SCHEMA_VERSION = 1

_T = TypeVar("_T")
_MISSING = "is missing (written by an older or another program?)"


@dataclass(frozen=True)
class ScreenedParameter:
    """A parameter the run screened: its value, the range sampled (the unit of ``value``; a
    factor on a duration), its sources and where the range comes from."""

    path: str
    value: float
    low: float
    high: float
    unit: str
    estimate: bool
    sources: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Effect:
    """Morris figures of one parameter, in the output's unit over the parameter's whole range."""

    path: str
    mu: float | None
    mu_star: float | None
    sigma: float | None
    mu_star_conf: float | None


@dataclass(frozen=True)
class Index:
    """Sobol indices of one parameter (shares of the output's variance) with the half-widths of
    their 95% intervals, and the output's sd left once the parameter is known exactly."""

    path: str
    s1: float | None
    s1_conf: float | None
    st: float | None
    st_conf: float | None
    sd_if_pinned: float | None


@dataclass(frozen=True)
class Spread:
    """The output over the top parameters' ranges (varied together): its variance, its sd, and
    each top parameter's indices, largest ``st`` first."""

    variance: float
    sd: float
    indices: tuple[Index, ...]


@dataclass(frozen=True)
class Driver:
    """A parameter with what it does to one output: its Morris figures, its Sobol indices (None
    where it had none)."""

    parameter: ScreenedParameter
    effect: Effect
    index: Index | None


@dataclass(frozen=True)
class OutputResult:
    """One output of the file: what it measures (``output``), its unit, the what-if scenario's
    name for a ``compare.`` output, its value at the data's values, the Morris rows (largest μ*
    first) and the Sobol spread (None with Morris only)."""

    output: Output
    unit: str
    whatif_name: str | None
    at_data_values: float | None
    morris: tuple[Effect, ...]
    sobol: Spread | None


@dataclass(frozen=True)
class SensitivityFile:
    """What a sensitivity run found, as sensitivity.json gives it (docs/json.md)."""

    #: the file, as errors and pages name it
    source: str
    scenario: str
    whatifs: tuple[str, ...]
    outputs: tuple[OutputResult, ...]
    replications: int
    seed: int
    trajectories: int
    sobol_samples: int
    model_runs: int
    parameters: Mapping[str, ScreenedParameter]
    top: tuple[str, ...]

    @classmethod
    def from_json(cls, data: object, *, source: str) -> SensitivityFile:
        """Read sensitivity.json's content (``data``, parsed JSON), checking every field;
        ``source`` names the file in errors."""
        return _Reader(source).read(data)

    def drivers(self, result: OutputResult, n: int = 8) -> list[Driver]:
        """The ``n`` parameters that move ``result`` most (by μ*), with their Sobol indices."""
        sobol = {i.path: i for i in result.sobol.indices} if result.sobol else {}
        return [Driver(self.parameters[e.path], e, sobol.get(e.path)) for e in result.morris[:n]]


def read_sensitivity(path: str | os.PathLike[str]) -> SensitivityFile:
    """A sensitivity.json file (``corridors sensitivity``'s), every field checked; a problem is a
    ``DataError`` naming the file (not found, not JSON, a bad field)."""
    path = Path(path)
    shown = display_path(path)
    if path.is_dir():
        raise DataError(shown, None, None, None, "is a folder: give the sensitivity.json file in it")
    return SensitivityFile.from_json(read_json(path), source=shown)


class _Reader:
    """Reads sensitivity.json's parts; every error names ``file``."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, record: str | None, field: str, value: Any, problem: str) -> DataError:
        return DataError(self.file, record, field, value, problem)

    def get(self, record: str | None, row: Mapping[str, Any], key: str, prefix: str = "") -> Any:
        if key not in row:
            raise self.fail(record, prefix + key, None, _MISSING)
        return row[key]

    def table(self, record: str | None, field: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(record, field, value, "must be an object")
        return value

    def rows(self, record: str | None, field: str, value: Any, read: Callable[[str, Any], _T]) -> tuple[_T, ...]:
        """A list, each item read by ``read(its field, item)``."""
        if not isinstance(value, list):
            raise self.fail(record, field, value, "must be a list")
        return tuple(read(f"{field}[{i}]", item) for i, item in enumerate(value))

    def text(self, record: str | None, field: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(record, field, value, "must be a text")
        if UNSAFE_CHARS.search(value):  # what the loaders refuse in any text
            raise self.fail(record, field, value, "holds a control character; write plain text")
        return value

    def number(self, record: str | None, field: str, value: Any, *, low: float | None = None) -> float:
        """A finite number (not below ``low`` where given)."""
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        try:
            number = float(value) if ok else math.nan
        except OverflowError:
            number = math.nan
        if not math.isfinite(number) or (low is not None and number < low):
            raise self.fail(
                record, field, value, "must be a finite number" + ("" if low is None else f", {low:g} or more")
            )
        return number

    def optional(self, record: str | None, field: str, value: Any, *, low: float | None = None) -> float | None:
        """A number, or null (an index that could not be computed)."""
        return None if value is None else self.number(record, field, value, low=low)

    def whole(self, record: str | None, field: str, value: Any, least: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not least <= value < 2**63:
            raise self.fail(record, field, value, f"must be a whole number of at least {least}")
        return value

    def flag(self, record: str | None, field: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(record, field, value, "must be true or false")
        return value

    def read(self, data: object) -> SensitivityFile:
        if not isinstance(data, dict):
            raise DataError(self.file, None, None, data, "must be a JSON object (sensitivity.json)")
        version = self.get(None, data, "schema_version")
        if version != SCHEMA_VERSION or isinstance(version, bool):
            raise self.fail(None, "schema_version", version, f"must be {SCHEMA_VERSION} (written by another program?)")
        method = self.table(None, "method", self.get(None, data, "method"))
        morris = self.table(None, "method.morris", self.get(None, method, "morris", "method."))
        sobol = self.table(None, "method.sobol", self.get(None, method, "sobol", "method."))
        parameters = self.rows(None, "parameters", self.get(None, data, "parameters"), self.parameter)
        by_path = {p.path: p for p in parameters}
        if len(by_path) != len(parameters):
            twice = next(p.path for p in parameters if sum(q.path == p.path for q in parameters) > 1)
            raise self.fail(f"parameter {twice}", "path", twice, "is listed twice")
        whatifs = self.rows(None, "whatifs", self.get(None, data, "whatifs"), lambda f, v: self.text(None, f, v))
        outputs = self.outputs(data, whatifs, by_path)
        top = self.rows(None, "top", self.get(None, data, "top"), lambda f, v: self.known(None, f, v, by_path))
        return SensitivityFile(
            self.file,
            self.text(None, "scenario", self.get(None, data, "scenario")),
            whatifs,
            outputs,
            self.whole(None, "replications", self.get(None, data, "replications"), 1),
            self.whole(None, "seed", self.get(None, data, "seed"), 0),
            self.whole(None, "method.morris.trajectories", self.get(None, morris, "trajectories", "method.morris."), 2),
            self.whole(None, "method.sobol.samples", self.get(None, sobol, "samples", "method.sobol."), 0),
            self.whole(None, "method.model_runs", self.get(None, method, "model_runs", "method."), 0),
            by_path,
            top,
        )

    def known(self, record: str | None, field: str, value: Any, parameters: Mapping[str, ScreenedParameter]) -> str:
        """A parameter path the file lists among its parameters."""
        path = self.text(record, field, value)
        if path not in parameters:
            raise self.fail(record, field, path, "is not among the file's parameters")
        return path

    def parameter(self, field: str, value: Any) -> ScreenedParameter:
        row = self.table(None, field, value)
        path = self.text(None, f"{field}.path", self.get(None, row, "path", f"{field}."))
        record = f"parameter {path}"

        def get(key: str) -> Any:
            return self.get(record, row, key)

        value_, low, high = (self.number(record, k, get(k)) for k in ("value", "low", "high"))
        if not low <= high:
            raise self.fail(record, "low", low, f"is above high ({high:g})")
        return ScreenedParameter(
            path,
            value_,
            low,
            high,
            self.text(record, "unit", get("unit")),
            self.flag(record, "estimate", get("estimate")),
            self.rows(record, "sources", get("sources"), lambda f, v: self.text(record, f, v)),
            self.text(record, "note", get("note")),
        )

    def outputs(
        self, data: Mapping[str, Any], whatifs: Sequence[str], parameters: Mapping[str, ScreenedParameter]
    ) -> tuple[OutputResult, ...]:
        """Each output with its result; a ``compare.`` output's what-if named by ``whatifs`` (in
        the order the outputs first name them)."""
        listed = self.rows(None, "outputs", self.get(None, data, "outputs"), self.output)
        texts = [o.text for o, _ in listed]
        if len(set(texts)) != len(texts):
            twice = next(t for t in texts if texts.count(t) > 1)
            raise self.fail(f"output {twice}", "output", twice, "is listed twice")
        given = list(dict.fromkeys(o.whatif for o, _ in listed if o.whatif is not None))
        if len(given) != len(whatifs):
            raise self.fail(None, "whatifs", list(whatifs), f"must name the {len(given)} what-ifs the outputs compare")
        names = dict(zip(given, whatifs, strict=True))
        results = self.table(None, "results", self.get(None, data, "results"))
        return tuple(
            self.result(
                o,
                unit,
                names.get(o.whatif or ""),
                self.get(f"output {o.text}", results, o.text, "results."),
                parameters,
            )
            for o, unit in listed
        )

    def output(self, field: str, value: Any) -> tuple[Output, str]:
        row = self.table(None, field, value)
        text = self.text(None, f"{field}.output", self.get(None, row, "output", f"{field}."))
        try:
            out = parse_output(text)
        except InputError:
            raise self.fail(None, f"{field}.output", text, "is not an output corridors sensitivity measures") from None
        unit = self.get(f"output {text}", row, "unit")
        if unit != out.unit:
            raise self.fail(f"output {text}", "unit", unit, f'must be "{out.unit}"')
        return out, out.unit

    def result(
        self,
        out: Output,
        unit: str,
        whatif_name: str | None,
        value: Any,
        parameters: Mapping[str, ScreenedParameter],
    ) -> OutputResult:
        record = f"output {out.text}"
        row = self.table(record, "results", value)
        data_value = self.optional(
            record,
            "at_data_values",
            self.get(record, row, "at_data_values"),
        )

        def effect(field: str, item: Any) -> Effect:
            r = self.table(record, field, item)
            path = self.known(record, f"{field}.path", self.get(record, r, "path", f"{field}."), parameters)
            mu, mu_star, sigma, conf = (
                self.optional(record, f"{field}.{k}", self.get(record, r, k, f"{field}."), low=lo)
                for k, lo in (("mu", None), ("mu_star", 0.0), ("sigma", 0.0), ("mu_star_conf", 0.0))
            )
            return Effect(path, mu, mu_star, sigma, conf)

        morris = self.rows(record, "morris", self.get(record, row, "morris"), effect)
        sobol = self.get(record, row, "sobol")
        return OutputResult(
            out,
            unit,
            whatif_name,
            data_value,
            morris,
            None if sobol is None else self.spread(record, sobol, parameters),
        )

    def spread(self, record: str, value: Any, parameters: Mapping[str, ScreenedParameter]) -> Spread:
        row = self.table(record, "sobol", value)

        def index(field: str, item: Any) -> Index:
            r = self.table(record, field, item)
            path = self.known(record, f"{field}.path", self.get(record, r, "path", f"{field}."), parameters)
            s1, s1_conf, st, st_conf, pinned = (
                self.optional(record, f"{field}.{k}", self.get(record, r, k, f"{field}."), low=lo)
                for k, lo in (("s1", None), ("s1_conf", 0.0), ("st", None), ("st_conf", 0.0), ("sd_if_pinned", 0.0))
            )
            return Index(path, s1, s1_conf, st, st_conf, pinned)

        return Spread(
            self.number(record, "sobol.variance", self.get(record, row, "variance", "sobol."), low=0.0),
            self.number(record, "sobol.sd", self.get(record, row, "sd", "sobol."), low=0.0),
            self.rows(record, "sobol.indices", self.get(record, row, "indices", "sobol."), index),
        )
