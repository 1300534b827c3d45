"""Random streams: one per replication and component, keyed by names, never a global RNG.

A stream is a numpy Generator seeded from (seed, replication, component key), where the key is
a stable hash of names such as ``("service", "northern", "leg", "N03")``. So the same seed gives
the same numbers in any order and in any process, and two scenarios that share a service and a
place draw the same numbers there (common random numbers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from corridors import Distribution

__all__ = ["draw", "stream"]


def _key(parts: Sequence[str]) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def stream(seed: int, replication: int, *parts: str) -> np.random.Generator:
    """The generator for one component of one replication."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(replication, _key(parts))))


def draw(dist: Distribution, rng: np.random.Generator, n: int) -> list[float]:
    """``n`` durations in hours from ``dist``, as Python floats (kept out of the SimPy clock as numpy)."""
    lo, mode, hi = dist.min_h, dist.mode_h, dist.max_h
    if n == 0:
        return []
    if dist.shape == "fixed" or hi == lo:
        return [mode] * n
    if dist.shape == "pert":
        span = hi - lo
        a = 1 + 4 * (mode - lo) / span
        b = 1 + 4 * (hi - mode) / span
        values = lo + rng.beta(a, b, n) * span
    elif dist.shape == "triangular":
        values = rng.triangular(lo, mode, hi, n) if lo < hi else np.full(n, mode)
    else:
        values = rng.uniform(lo, hi, n)
    return [float(v) for v in values]
