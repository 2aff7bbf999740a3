"""Tests of sim.queueing against hand-computed and exact values."""

import math
from fractions import Fraction

import pytest
from scipy.stats import poisson

from sim.queueing import (
    UnstableQueueError,
    erlang_b,
    erlang_c,
    least_servers,
    mmc_mean_wait,
    mmc_wait_within,
    offered_load,
)


def exact_erlang_c(c: int, load: int) -> Fraction:
    """Erlang C from its textbook definition, in exact rational arithmetic."""
    a = Fraction(load)
    terms = [a**k / math.factorial(k) for k in range(c)]
    top = a**c / math.factorial(c) * Fraction(c, 1) / (c - a)
    return top / (sum(terms) + top)


def test_hand_computed_values():
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    # Erlang B tables: 5 servers, 2 Erlangs -> 3.67 %; 10 servers, 5 Erlangs -> 1.84 %.
    assert erlang_b(5, 2.0) == pytest.approx(0.0366972, rel=1e-5)
    assert erlang_b(10, 5.0) == pytest.approx(0.0183846, rel=1e-4)


@pytest.mark.parametrize("c,load", [(2, 1), (5, 4), (11, 10), (30, 25), (60, 59)])
def test_erlang_c_matches_exact_rational(c, load):
    assert erlang_c(c, float(load)) == pytest.approx(float(exact_erlang_c(c, load)),
                                                     rel=1e-12)


def test_mean_wait_and_service_level_by_hand():
    # M/M/1, lambda 0.5, mu 1: Wq = rho / (mu - lambda) = 1.
    assert mmc_mean_wait(0.5, 1.0, 1) == pytest.approx(1.0)
    # M/M/2, lambda 1, mu 1: C = 1/3, Wq = C / (2 - 1).
    assert mmc_mean_wait(1.0, 1.0, 2) == pytest.approx(1 / 3)
    assert mmc_wait_within(1.0, 1.0, 2, 0.0) == pytest.approx(2 / 3)
    assert mmc_wait_within(1.0, 1.0, 2, 1.0) == pytest.approx(1 - math.exp(-1) / 3)
    assert offered_load(6.0, 2.0) == 3.0


def test_large_server_counts_are_stable():
    c, load = 10_000, 9_900.0
    pmf, cdf = poisson.pmf(c, load), poisson.cdf(c - 1, load)
    tail = pmf / (1 - load / c)
    assert erlang_c(c, load) == pytest.approx(tail / (cdf + tail), rel=1e-9)
    assert erlang_b(c, load) == pytest.approx(pmf / poisson.cdf(c, load), rel=1e-9)
    near = erlang_c(c, 9_999.9)
    assert 0.99 < near < 1.0
    wait = mmc_mean_wait(9_999.9, 1.0, c)
    assert math.isfinite(wait) and wait > 0


@pytest.mark.parametrize("c,load", [(1, 1.0), (4, 4.0), (4, 7.5), (10_000, 10_000.0)])
def test_unstable_queue_raises_and_never_returns_a_wait(c, load):
    with pytest.raises(UnstableQueueError, match="unstable"):
        erlang_c(c, load)
    with pytest.raises(ValueError):
        mmc_mean_wait(load, 1.0, c)
    with pytest.raises(UnstableQueueError):
        mmc_wait_within(load, 1.0, c, 1.0)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        erlang_c(0, 0.5)
    with pytest.raises(ValueError):
        erlang_c(2.5, 0.5)
    with pytest.raises(ValueError):
        mmc_mean_wait(-1.0, 1.0, 2)
    with pytest.raises(ValueError):
        least_servers(1.0, 1.0)
    with pytest.raises(ValueError):
        least_servers(1.0, 1.0, target=1.0)


def test_least_servers_is_least():
    lam, mu = 4.0, 1.0
    c = least_servers(lam, mu, target=0.8)  # P(no wait) >= 0.8
    assert c == 7
    assert erlang_c(c, 4.0) <= 0.2 < erlang_c(c - 1, 4.0)
    c = least_servers(lam, mu, target=0.88, within=0.25)
    assert mmc_wait_within(lam, mu, c, 0.25) >= 0.88
    assert mmc_wait_within(lam, mu, c - 1, 0.25) < 0.88
    c = least_servers(lam, mu, max_mean_wait=0.1)
    assert mmc_mean_wait(lam, mu, c) <= 0.1 < mmc_mean_wait(lam, mu, c - 1)
    assert least_servers(0.5, 1.0, target=0.1) == 1


def test_least_servers_large_and_capped():
    c = least_servers(9_000.0, 1.0, target=0.8, within=0.01)
    assert c > 9_000
    assert mmc_wait_within(9_000.0, 1.0, c, 0.01) >= 0.8
    assert mmc_wait_within(9_000.0, 1.0, c - 1, 0.01) < 0.8
    with pytest.raises(ValueError, match="no server count"):
        least_servers(100.0, 1.0, target=0.5, max_servers=50)
