"""Empirical demand distributions: inverse-CDF draws and scenario checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from models.demand import _draw, quantile_draw
from models.scenario import QUANTILE_COUNT, ScenarioError, load_scenario

PROBABILITIES = np.linspace(0.0, 1.0, QUANTILE_COUNT)
KS_ALPHA = 0.01  # the draws fail the KS test in about one seed in a hundred


def piecewise_cdf(quantiles: np.ndarray):
    """The CDF that rises linearly from each quantile to the next."""

    def cdf(x):
        return np.interp(x, quantiles, PROBABILITIES, left=0.0, right=1.0)

    return cdf


def test_draws_follow_the_piecewise_linear_cdf():
    # Two humps, like the deal sizes of a series with a cheap and a dear product.
    rng = np.random.default_rng(20270104)
    data = np.concatenate([rng.normal(60, 8, 600), rng.normal(3300, 400, 400)])
    quantiles = np.quantile(data, PROBABILITIES)
    draws = np.array([
        _draw(rng, list(quantiles), 0.0, 1.0) for _ in range(4000)
    ])
    test = stats.kstest(draws, piecewise_cdf(quantiles))
    assert test.pvalue > KS_ALPHA, test
    # Each quantile comes back within 2.5 percentage points of its probability.
    share_below = (draws[:, None] <= quantiles[None, 1:-1]).mean(axis=0)
    assert np.abs(share_below - PROBABILITIES[1:-1]).max() < 0.025


def test_one_uniform_per_draw():
    quantiles = list(np.linspace(1.0, 41.0, QUANTILE_COUNT))
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    drawn = [_draw(a, quantiles, 0.0, 1.0) for _ in range(10)]
    uniforms = b.random(10)
    assert drawn == pytest.approx(1.0 + 40.0 * uniforms)
    assert a.random() == b.random()  # both generators at the same place


def test_end_points_and_midpoints():
    q = [1.0, 2.0, 4.0]
    assert quantile_draw(q, 0.0) == 1.0
    assert quantile_draw(q, 1.0) == 4.0
    assert quantile_draw(q, 0.25) == pytest.approx(1.5)
    assert quantile_draw(q, 0.75) == pytest.approx(3.0)


rising = st.lists(
    st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False),
    min_size=QUANTILE_COUNT, max_size=QUANTILE_COUNT,
).map(sorted)


@settings(max_examples=200, deadline=None)
@given(rising, st.floats(0.0, 1.0, exclude_max=False))
def test_draws_stay_within_the_first_and_last_quantile(quantiles, u):
    value = quantile_draw(quantiles, u)
    assert quantiles[0] <= value <= quantiles[-1]


@settings(max_examples=50, deadline=None)
@given(rising, st.integers(0, 2**32 - 1))
def test_seeded_draws_stay_within_the_quantiles(quantiles, seed):
    rng = np.random.default_rng(seed)
    for _ in range(20):
        assert quantiles[0] <= _draw(rng, quantiles, 0.0, 1.0) <= quantiles[-1]


STREAM = """
regions = ["East"]
solutions = ["GTX"]
grades = [{{ name = "junior", hourly_rate = 25.0 }}]
[[engineers.pools]]
region = "East"
grade = "junior"
count = 1
proficiency = {{ GTX = 3 }}
[[reps.pools]]
region = "East"
count = 1
customer_type = "commercial"
quarterly_quota = 10000
[[demand.streams]]
region = "East"
solution = "GTX"
arrivals_per_month = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
win_rate = 0.5
deal_value_mu = 7.0
deal_value_sigma = 1.0
cycle_days_mu = 3.0
cycle_days_sigma = 1.0
deal_value_quantiles = {values}
"""


def problems_of(tmp_path, values: list[float]) -> list[str]:
    path = tmp_path / "s.toml"
    path.write_text(STREAM.format(values=values), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    return err.value.problems


def test_quantiles_are_checked(tmp_path):
    field = "demand.streams[0].deal_value_quantiles"
    short = problems_of(tmp_path, [1.0, 2.0])
    assert short == [f"{field}: 2 values; give exactly 41 (the quantiles at "
                     "probabilities 0, 0.025, ..., 1) or none to use the lognormal"]
    falling = list(range(1, 42))
    falling[10] = 5
    assert problems_of(tmp_path, falling) == [
        f"{field}: value 10 (5) is below value 9 (10); quantiles must not "
        "decrease, sort them"]
    zero = list(range(0, 41))
    assert problems_of(tmp_path, zero)[0].startswith(f"{field}[0]: input should "
                                                     "be greater than 0")


def test_valid_quantiles_load(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(STREAM.format(values=list(range(1, 42))), encoding="utf-8")
    stream = load_scenario(path).demand.streams[0]
    assert stream.deal_value_quantiles == list(range(1, 42))
    assert stream.cycle_days_quantiles == []
