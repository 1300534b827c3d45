"""Time distributions built from sourced minimum, typical and maximum values."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

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
    >>> round(d.mean_h, 2)
    40.0
    >>> 24 <= d.sample(random.Random(1)) <= 72
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

    def sample(self, rng: random.Random) -> float:
        """Draw one duration in hours from ``rng`` (never a global random state)."""
        lo, mode, hi = self.min_h, self.mode_h, self.max_h
        if self.shape == "fixed" or hi == lo:
            return mode
        if self.shape == "pert":
            span = hi - lo
            alpha = 1 + 4 * (mode - lo) / span
            beta = 1 + 4 * (hi - mode) / span
            return lo + rng.betavariate(alpha, beta) * span
        if self.shape == "triangular":
            return rng.triangular(lo, hi, mode)
        return rng.uniform(lo, hi)

    def scaled(self, factor: float) -> Distribution:
        """The same shape with every value multiplied by ``factor``."""
        return Distribution(self.min_h * factor, self.mode_h * factor, self.max_h * factor, self.shape)
