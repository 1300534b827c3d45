"""Time distributions built from sourced minimum, typical and maximum values, and their one sampler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["SHAPES", "Distribution"]

Shape = Literal["pert", "triangular", "uniform", "fixed"]
SHAPES: tuple[Shape, ...] = ("pert", "triangular", "uniform", "fixed")


@dataclass(frozen=True)
class Distribution:
    """A duration in hours between ``min_h`` and ``max_h`` with its most likely value ``mode_h``.

    ``pert`` (the default) is a beta distribution with weight 4 on the mode, the usual
    choice for expert three-point estimates; ``triangular`` and ``uniform`` are there for
    data that says so; ``fixed`` always gives ``mode_h`` (for exact tests).

    >>> d = Distribution(min_h=24, mode_h=36, max_h=72)
    >>> round(d.mean_h, 2), round(d.variance_h, 2)
    (40.0, 73.14)
    >>> draws = d.draw(np.random.default_rng(1), 3)
    >>> all(24 <= x <= 72 for x in draws)
    True
    """

    min_h: float
    mode_h: float
    max_h: float
    shape: Shape = "pert"

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"shape (={self.shape!r}) must be one of {', '.join(SHAPES)}")
        if not 0 <= self.min_h <= self.mode_h <= self.max_h:
            raise ValueError(f"need 0 <= min_h <= mode_h <= max_h, got {self.min_h}, {self.mode_h}, {self.max_h}")

    @classmethod
    def fixed(cls, hours: float) -> Distribution:
        """A duration that is always ``hours``."""
        return cls(min_h=hours, mode_h=hours, max_h=hours, shape="fixed")

    def _pert_ab(self) -> tuple[float, float]:
        """The beta parameters of the PERT shape (they sum to 6)."""
        span = self.max_h - self.min_h
        return 1 + 4 * (self.mode_h - self.min_h) / span, 1 + 4 * (self.max_h - self.mode_h) / span

    @property
    def mean_h(self) -> float:
        """Expected value in hours."""
        lo, mode, hi = self.min_h, self.mode_h, self.max_h
        if self.shape == "pert":
            return (lo + 4 * mode + hi) / 6
        if self.shape == "triangular":
            return (lo + mode + hi) / 3
        if self.shape == "uniform":
            return (lo + hi) / 2
        return mode

    @property
    def variance_h(self) -> float:
        """Variance in hours squared (0 for ``fixed`` and for a single value)."""
        lo, mode, hi = self.min_h, self.mode_h, self.max_h
        if self.shape == "fixed" or hi == lo:
            return 0.0
        if self.shape == "pert":
            a, b = self._pert_ab()
            return a * b / ((a + b) ** 2 * (a + b + 1)) * (hi - lo) ** 2
        if self.shape == "triangular":
            m, h = mode - lo, hi - lo  # measured from min: the same variance, with no cancellation below 0
            return (m * m - m * h + h * h) / 18
        return (hi - lo) ** 2 / 12

    def draw(self, rng: np.random.Generator, n: int) -> list[float]:
        """``n`` durations in hours from ``rng`` (never a global random state), as Python floats.

        This is the project's one sampler: the engine draws through it (``sim.streams.draw``).
        Changing the numpy calls here changes every simulated number (and the golden test).
        """
        lo, mode, hi = self.min_h, self.mode_h, self.max_h
        if n == 0:
            return []
        if self.shape == "fixed" or hi == lo:
            return [mode] * n
        if self.shape == "pert":
            a, b = self._pert_ab()
            values = lo + rng.beta(a, b, n) * (hi - lo)
        elif self.shape == "triangular":
            values = rng.triangular(lo, mode, hi, n)
        else:
            values = rng.uniform(lo, hi, n)
        return [float(v) for v in values]

    def scaled(self, factor: float) -> Distribution:
        """The same shape with every value multiplied by ``factor``."""
        return Distribution(self.min_h * factor, self.mode_h * factor, self.max_h * factor, self.shape)
