import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corridors import Distribution


def test_pert_mean_is_weighted_three_point() -> None:
    assert Distribution(24, 36, 72).mean_h == pytest.approx((24 + 4 * 36 + 72) / 6)


@pytest.mark.parametrize(
    ("shape", "mean"),
    [("triangular", (2 + 5 + 11) / 3), ("uniform", (2 + 11) / 2), ("fixed", 5.0), ("pert", (2 + 20 + 11) / 6)],
)
def test_means_by_shape(shape: str, mean: float) -> None:
    assert Distribution(2, 5, 11, shape).mean_h == pytest.approx(mean)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", ["pert", "triangular", "uniform"])
def test_sample_mean_converges_to_mean(shape: str) -> None:
    d = Distribution(2, 5, 11, shape)  # type: ignore[arg-type]
    rng = random.Random(7)
    draws = [d.sample(rng) for _ in range(20000)]
    assert statistics.fmean(draws) == pytest.approx(d.mean_h, rel=0.02)
    assert min(draws) >= 2 and max(draws) <= 11


def test_same_seed_same_draws() -> None:
    d = Distribution(1, 2, 9)
    assert [d.sample(random.Random(3)) for _ in range(3)] == [d.sample(random.Random(3)) for _ in range(3)]


def test_fixed_always_gives_its_value() -> None:
    assert Distribution.fixed(4.5).sample(random.Random(0)) == 4.5


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
def test_samples_stay_within_bounds(lo: float, span: float, frac: float, seed: int, shape: str) -> None:
    d = Distribution(lo, lo + span * frac, lo + span, shape)  # type: ignore[arg-type]
    x = d.sample(random.Random(seed))
    assert d.min_h - 1e-9 <= x <= d.max_h + 1e-9
    assert d.min_h - 1e-9 <= d.mean_h <= d.max_h + 1e-9
