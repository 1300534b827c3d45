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
    """``n`` durations in hours from ``dist``, as Python floats (kept out of the SimPy clock as numpy).

    The sampler itself is ``Distribution.draw``, so the model and the engine draw the same way.
    """
    return dist.draw(rng, n)
