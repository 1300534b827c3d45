"""Units the project converts between, each defined once: days and hours, rates a week, TEU and FEU."""

from __future__ import annotations

__all__ = ["HOURS_PER_DAY", "HOURS_PER_WEEK", "TEU_PER_FEU", "days", "hours", "per_teu", "per_week"]

HOURS_PER_DAY = 24.0
HOURS_PER_WEEK = 168.0
#: A forty-foot container (FEU) is two twenty-foot equivalent units: a cost per FEU halves per TEU.
TEU_PER_FEU = 2


def days(hours: float) -> float:
    """Hours as days (a transit, a stay, a window)."""
    return hours / HOURS_PER_DAY


def hours(days: float) -> float:
    """Days as hours."""
    return days * HOURS_PER_DAY


def per_week(count: float, hours: float) -> float:
    """``count`` (trains, TEU) over ``hours`` as a rate a week; 0 over no time."""
    return count / (hours / HOURS_PER_WEEK) if hours > 0 else 0.0


def per_teu(per_feu: float) -> float:
    """A figure per FEU (cost) as per TEU."""
    return per_feu / TEU_PER_FEU
