"""Tests of sim.stats: t intervals, paired differences, summaries, ranking."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.stats import (
    mean_ci,
    one_sided_bound,
    paired_difference,
    rank_variants,
    summarise,
)

# Student t quantiles from a printed table.
T_975_5 = 2.570582
T_95_5 = 2.015048


def test_mean_ci_six_values_by_hand():
    # 1..6: mean 3.5, s^2 = 17.5 / 5 = 3.5.
    result = mean_ci([1, 2, 3, 4, 5, 6])
    assert result.n == 6
    assert result.mean == pytest.approx(3.5)
    assert result.half_width == pytest.approx(T_975_5 * math.sqrt(3.5) / math.sqrt(6),
                                              rel=1e-6)
    assert result.half_width == pytest.approx(1.963318, rel=1e-5)
    assert result.low == pytest.approx(3.5 - result.half_width)


def test_mean_ci_edge_cases():
    assert mean_ci([4.0]) == (4.0, math.inf, 1)
    empty = mean_ci([])
    assert math.isnan(empty.mean) and math.isnan(empty.half_width) and empty.n == 0
    assert mean_ci([2.0, 2.0, 2.0]) == (2.0, 0.0, 3)
    assert mean_ci([1.0, float("nan"), 3.0]).n == 2
    assert mean_ci(iter([1.0, 3.0])).mean == 2.0
    with pytest.raises(ValueError):
        mean_ci([1.0, 2.0], confidence=1.0)


def test_one_sided_bound_by_hand():
    half = T_95_5 * math.sqrt(3.5) / math.sqrt(6)
    assert one_sided_bound(range(1, 7), "lower") == pytest.approx(3.5 - half, rel=1e-6)
    assert one_sided_bound(range(1, 7), "upper") == pytest.approx(3.5 + half, rel=1e-6)
    assert one_sided_bound([1.0], "lower") == -math.inf
    with pytest.raises(ValueError):
        one_sided_bound([1.0, 2.0], "left")


def test_paired_difference_constructed_case():
    base = np.array([10.0, 50.0, 20.0, 90.0, 30.0, 70.0])  # large spread
    diffs = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0])  # s^2 = 4 / 5
    result = paired_difference(base + diffs, base)
    assert result.mean == pytest.approx(2.0)
    assert result.half_width == pytest.approx(T_975_5 * math.sqrt(0.8) / math.sqrt(6),
                                              rel=1e-6)
    assert result.significant and result.n == 6
    mean, half_width, significant, n = paired_difference(base, base)
    assert (mean, half_width, significant, n) == (0.0, 0.0, False, 6)


def test_paired_difference_not_significant_and_nan_pairs():
    result = paired_difference([1.0, -1.0, 1.0, -1.0, np.nan], [0.0] * 5)
    assert result.n == 4 and not result.significant
    assert result.low < 0 < result.high
    with pytest.raises(ValueError):
        paired_difference([1.0, 2.0], [1.0])


def _results() -> pd.DataFrame:
    rows = []
    for k in range(4):
        rows.append(("a", k, 1.0 + k, 10.0))
        rows.append(("b", k, 3.0 + k, 10.0))
        rows.append(("c", k, 1.5 + k + (0.5 if k % 2 else -0.5), 10.0))
    return pd.DataFrame(rows, columns=["variant", "replication", "y", "z"])


def test_summarise_tidy_table():
    table = summarise(_results(), by=["variant"])
    assert list(table.columns) == ["variant", "outcome", "mean", "half_width",
                                   "ci_low", "ci_high", "n"]
    assert len(table) == 6
    row = table[(table.variant == "b") & (table.outcome == "y")].iloc[0]
    assert row["mean"] == pytest.approx(4.5) and row["n"] == 4
    assert row["ci_low"] == pytest.approx(4.5 - row["half_width"])
    z_rows = table[table.outcome == "z"]
    assert (z_rows["half_width"] == 0).all()


def test_rank_variants_pairs_on_replications():
    ranked = rank_variants(_results(), "y")
    assert list(ranked["variant"]) == ["b", "c", "a"]
    assert list(ranked["rank"]) == [1, 2, 3]
    assert ranked["tied_with_best"].tolist() == [True, False, False]
    lowest = rank_variants(_results(), "y", higher_is_better=False)
    assert lowest["variant"].iloc[0] == "a"
    # c - a is 0, 1, 0, 1: not distinguishable from the best.
    assert bool(lowest.set_index("variant").loc["c", "tied_with_best"])


samples = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=30)


@settings(max_examples=60, deadline=None)
@given(samples, st.floats(0.5, 0.99))
def test_interval_contains_mean_and_is_finite(values, confidence):
    result = mean_ci(values, confidence)
    assert result.n == len(values)
    assert result.mean == pytest.approx(float(np.mean(values)), abs=1e-9)
    assert 0.0 <= result.half_width < math.inf
    assert result.low <= result.mean <= result.high


@settings(max_examples=60, deadline=None)
@given(samples, st.floats(-100, 100), st.floats(0.1, 10))
def test_interval_shift_and_scale(values, shift, scale):
    base = mean_ci(values)
    moved = mean_ci([scale * v + shift for v in values])
    assert moved.half_width == pytest.approx(scale * base.half_width, rel=1e-6,
                                             abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(samples, st.integers(2, 6))
def test_repeated_data_half_width_shrinks_like_one_over_sqrt_n(values, times):
    once = mean_ci(values)
    tiled = mean_ci(values * times)
    n = len(values)
    if once.half_width == 0:
        assert tiled.half_width == 0
        return
    # Repeating the data m times keeps the spread, so s -> s * sqrt(m(n-1)/(mn-1))
    # and the half-width falls by about sqrt(m), up to the t quantiles.
    from scipy.stats import t

    ratio = (t.ppf(0.975, times * n - 1) / t.ppf(0.975, n - 1)
             * math.sqrt(times * (n - 1) / (times * n - 1)) / math.sqrt(times))
    slack = 1e-9 * (1.0 + max(abs(v) for v in values))  # rounding in near-ties
    assert tiled.half_width == pytest.approx(once.half_width * ratio, rel=1e-6,
                                             abs=slack)
    assert tiled.half_width <= once.half_width / math.sqrt(times) + slack


@settings(max_examples=40, deadline=None)
@given(samples)
def test_higher_confidence_is_wider(values):
    assert mean_ci(values, 0.99).half_width >= mean_ci(values, 0.9).half_width
