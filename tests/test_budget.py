"""User pays: booking costs, quarterly budgets and the account, in integer cents."""

import pytest

from models.budget import (
    BudgetAccount,
    BudgetRefused,
    booking_cost,
    quarterly_budget,
    to_cents,
)


def test_to_cents_is_exact_for_decimal_prices():
    assert to_cents(80.0) == 8000
    assert to_cents(19.99) == 1999  # 19.99 is 19.98999... in binary
    assert to_cents(0.1 + 0.2) == 30
    assert to_cents(0.125) == 12  # half to even
    assert to_cents(0.375) == 38  # half to even
    assert isinstance(to_cents(1.5), int)


@pytest.mark.parametrize(
    "hours, rate_cents, incentive, expected",
    [
        (2.5, 15_000, 0.0, 37_500),  # 2.5 h at 150.00
        (8.0, 8_000, 0.0, 64_000),  # a day at 80.00
        (2.5, 15_000, 0.5, 56_250),  # grabbed at +50%: 375.00 x 1.5
        (8.0, 8_000, 0.3, 83_200),  # +30%: 640.00 x 1.3
        (3.0, 10_001, 0.1, 33_003),  # 330.033 -> 330.03
        (0.25, 12_345, 0.0, 3_086),  # 30.8625 -> 30.86
        (1 / 3, 9_000, 0.0, 3_000),  # a third of an hour at 90.00
        (24.0, 25_000, 1.0, 1_200_000),  # +100%: paid double
    ],
)
def test_booking_cost_by_hand(hours, rate_cents, incentive, expected):
    cost = booking_cost(hours, rate_cents, incentive)
    assert cost == expected
    assert isinstance(cost, int)


def test_quarterly_budget_formula_by_hand():
    # quota x share x clip(1 + weight x (attainment - 1), floor, cap), in cents.
    assert quarterly_budget(400_000, 1.0, 0.05, 0.5, 0.5, 1.5) == 2_000_000  # 20,000.00
    # 300,000 x 0.03 x (1 + 0.5 x -0.2) = 9,000 x 0.9 = 8,100.00
    assert quarterly_budget(300_000, 0.8, 0.03, 0.5, 0.5, 1.5) == 810_000
    # 1 + 0.5 x (3 - 1) = 2 is capped at 1.5: 100,000 x 0.1 x 1.5 = 15,000.00
    assert quarterly_budget(100_000, 3.0, 0.1, 0.5, 0.5, 1.5) == 1_500_000
    # 1 + 2 x (0 - 1) = -1 is floored at 0.6: 100,000 x 0.1 x 0.6 = 6,000.00
    assert quarterly_budget(100_000, 0.0, 0.1, 2.0, 0.6, 1.5) == 600_000
    # Weight 0: attainment does not matter.
    assert quarterly_budget(50_000, 0.3, 0.04, 0.0, 0.5, 1.5) == 200_000


def test_design_example_taken_and_left():
    # Rep A's Q2 budget 250,000: 100,000 booked and 50,000 already spent.
    account = BudgetAccount("2027Q2", to_cents(250_000))
    account.commit(to_cents(60_000))
    account.commit(to_cents(40_000))
    account.commit(to_cents(50_000))
    account.spend(to_cents(50_000))
    assert account.committed == 10_000_000
    assert account.spent == 5_000_000
    assert account.taken == 15_000_000
    assert account.left == 10_000_000


def test_booking_costing_exactly_what_is_left_is_accepted():
    account = BudgetAccount("2027Q1", 1_000_000)
    account.commit(600_001)
    assert account.left == 399_999
    assert account.can_afford(399_999)
    account.commit(399_999)
    assert account.left == 0
    assert account.refusals == 0
    with pytest.raises(BudgetRefused):
        account.commit(1)
    assert account.refusals == 1
    assert account.committed == 1_000_000


def test_one_cent_more_than_left_is_refused():
    account = BudgetAccount("2027Q1", 1_000_000)
    account.commit(600_001)
    assert not account.can_afford(400_000)
    with pytest.raises(BudgetRefused, match="400000"):
        account.commit(400_000)
    assert (account.committed, account.spent, account.left) == (600_001, 0, 399_999)
    assert account.refusals == 1


def test_spend_and_release_move_money():
    account = BudgetAccount("2027Q3", 500_000)
    account.commit(200_000)
    account.commit(100_000)
    account.spend(200_000)
    account.release(100_000)
    assert (account.committed, account.spent, account.taken) == (0, 200_000, 200_000)
    assert account.left == 300_000


def test_unlimited_account_accepts_anything():
    account = BudgetAccount("2027Q1", 0, unlimited=True)
    account.commit(10**12)
    assert account.refusals == 0
    assert account.can_afford(10**15)
