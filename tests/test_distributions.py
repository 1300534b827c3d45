"""Three-point distributions and the one sampler the engine draws with (``sim.streams.draw``).

The draws are checked against the analytic moments of each shape, and the PERT shape against
its beta distribution's CDF, with tolerances of several standard errors at fixed seeds.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from corridors import Distribution
from sim.streams import draw, stream

N = 200_000


def test_pert_mean_is_weighted_three_point() -> None:
    assert Distribution(24, 36, 72).mean_h == pytest.approx((24 + 4 * 36 + 72) / 6)


@pytest.mark.parametrize(
    ("shape", "mean", "variance"),
    [
        ("triangular", (2 + 5 + 11) / 3, (4 + 25 + 121 - 10 - 22 - 55) / 18),
        ("uniform", (2 + 11) / 2, 81 / 12),
        ("fixed", 5.0, 0.0),
        # beta(a, b) on [2, 11] with a = 1 + 4 * 3 / 9 and b = 1 + 4 * 6 / 9
        ("pert", (2 + 20 + 11) / 6, (7 / 3) * (11 / 3) / (36 * 7) * 81),
    ],
)
def test_analytic_moments_by_shape(shape: str, mean: float, variance: float) -> None:
    d = Distribution(2, 5, 11, shape)  # type: ignore[arg-type]
    assert d.mean_h == pytest.approx(mean)
    assert d.variance_h == pytest.approx(variance)


@pytest.mark.parametrize("shape", ["pert", "triangular", "uniform"])
@pytest.mark.parametrize("bounds", [(2, 5, 11), (24, 26, 72), (0, 0, 10), (3, 9, 9)])
def test_engine_draws_have_the_analytic_mean_and_variance(shape: str, bounds: tuple[float, float, float]) -> None:
    d = Distribution(*bounds, shape)  # type: ignore[arg-type]
    x = np.array(draw(d, stream(7, 0, "test", shape, *map(str, bounds)), N))
    assert d.min_h <= x.min() and x.max() <= d.max_h
    sd = math.sqrt(d.variance_h)
    assert abs(x.mean() - d.mean_h) < 5 * sd / math.sqrt(N)  # five standard errors
    # the sample variance's standard error is below sd**2 * sqrt(2 / N) for these light-tailed shapes
    assert x.var(ddof=1) == pytest.approx(d.variance_h, rel=5 * math.sqrt(2 / N) * 1.5)


def _beta_cdf(a: float, b: float, grid: np.ndarray) -> np.ndarray:
    """The beta(a, b) CDF at ``grid`` (in [0, 1]) by the trapezoid rule on a fine mesh."""
    mesh = np.linspace(0, 1, 200_001)
    pdf = mesh ** (a - 1) * (1 - mesh) ** (b - 1)
    cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2)])
    return np.interp(grid, mesh, cdf / cdf[-1])


@pytest.mark.parametrize("bounds", [(2, 5, 11), (24, 26, 72), (10, 30, 30)])
def test_pert_draws_follow_the_beta_shape(bounds: tuple[float, float, float]) -> None:
    """Kolmogorov–Smirnov distance to the PERT beta CDF, and skewness, against their analytic values."""
    lo, mode, hi = bounds
    d = Distribution(lo, mode, hi)
    x = np.sort(np.array(draw(d, stream(11, 0, "pert-shape", *map(str, bounds)), N)))
    a, b = 1 + 4 * (mode - lo) / (hi - lo), 1 + 4 * (hi - mode) / (hi - lo)
    cdf = _beta_cdf(a, b, (x - lo) / (hi - lo))
    ks = max(np.max(np.arange(1, N + 1) / N - cdf), np.max(cdf - np.arange(N) / N))
    assert ks < 1.95 / math.sqrt(N)  # the 0.1% critical value
    skew = float(np.mean((x - x.mean()) ** 3) / x.std() ** 3)
    analytic = 2 * (b - a) * math.sqrt(a + b + 1) / ((a + b + 2) * math.sqrt(a * b))
    assert skew == pytest.approx(analytic, abs=0.03)
    # PERT puts more weight on the mode than the triangular shape does
    assert d.variance_h < Distribution(lo, mode, hi, "triangular").variance_h


def test_the_engine_draws_through_the_model_sampler() -> None:
    d = Distribution(1, 2, 9)
    assert draw(d, stream(3, 1, "x"), 50) == d.draw(stream(3, 1, "x"), 50)
    assert draw(d, stream(3, 1, "x"), 5) == draw(d, stream(3, 1, "x"), 5)  # same stream, same numbers
    assert draw(d, stream(3, 1, "x"), 5) != draw(d, stream(3, 2, "x"), 5)  # another replication, others
    assert draw(d, stream(3, 1, "x"), 0) == []
    assert all(type(v) is float for v in draw(d, stream(3, 1, "x"), 5))  # not numpy floats in the clock


def test_fixed_always_gives_its_value() -> None:
    assert draw(Distribution.fixed(4.5), stream(0, 0, "x"), 3) == [4.5, 4.5, 4.5]
    assert draw(Distribution(6, 6, 6, "pert"), stream(0, 0, "x"), 2) == [6, 6]


def test_the_model_has_no_second_sampler() -> None:
    """One sampler: the stdlib-based ``sample`` was replaced by the numpy ``draw`` the engine uses."""
    assert not hasattr(Distribution, "sample")


@pytest.mark.parametrize("args", [(5, 4, 9), (1, 10, 9), (-1, 0, 2)])
def test_refuses_unordered_or_negative(args: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError, match="min_h <= mode_h <= max_h"):
        Distribution(*args)


@given(
    lo=st.floats(0, 100),
    span=st.floats(0, 100),
    frac=st.floats(0, 1),
    seed=st.integers(0, 2**32),
    shape=st.sampled_from(["pert", "triangular", "uniform", "fixed"]),
)
def test_draws_stay_within_bounds(lo: float, span: float, frac: float, seed: int, shape: str) -> None:
    d = Distribution(lo, lo + span * frac, lo + span, shape)  # type: ignore[arg-type]
    for x in draw(d, stream(seed, 0, "bounds"), 64):
        assert d.min_h - 1e-9 <= x <= d.max_h + 1e-9
    assert d.min_h - 1e-9 <= d.mean_h <= d.max_h + 1e-9
    assert d.variance_h >= 0
