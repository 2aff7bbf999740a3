"""The integer fast path of booking_cost equals exact rational arithmetic."""

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from models.budget import booking_cost


def exact(hours: float, rate_cents: int, incentive: float) -> int:
    uplift = 1 + Fraction(incentive).limit_denominator(10_000)
    return round(Fraction(hours) * rate_cents * uplift)


@given(
    quarters=st.integers(0, 4_000),
    rate_cents=st.integers(0, 10_000_000),
    incentive=st.floats(0.0, 1.0),
)
def test_quarter_hours_match_exact_rounding(quarters, rate_cents, incentive):
    hours = quarters / 4
    assert booking_cost(hours, rate_cents, incentive) == exact(
        hours, rate_cents, incentive
    )


@given(
    hours=st.floats(0.0, 500.0),
    rate_cents=st.integers(0, 1_000_000),
    incentive=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
)
def test_any_hours_match_exact_rounding(hours, rate_cents, incentive):
    assert booking_cost(hours, rate_cents, incentive) == exact(
        hours, rate_cents, incentive
    )


def test_ties_go_to_even():
    # 0.25 h x 2 cents = 0.5 cent -> 0; 0.75 h x 2 cents = 1.5 cents -> 2.
    assert booking_cost(0.25, 2) == 0
    assert booking_cost(0.75, 2) == 2
