"""User pays: each rep's quarterly presales budget, in integer cents.

A booking *commits* its cost to the quarter in which it is booked; finished
work moves the cost from committed to *spent*; a cancelled booking releases
its commitment. ``taken = committed + spent`` and ``left = budget - taken``.
A booking is accepted when its cost is at most what is left, so a booking that
costs exactly what is left is accepted and leaves 0.

Two rules can soften the hard block. An *overdraft* (``overdraft`` cents,
approved after a delay) lets ``left`` go down to ``-overdraft``. A *rollover*
moves what is left at a quarter's end into the rep's next quarter: the old
account records it as ``carried_out`` and the new one as ``carried_in``, so
``left = budget + carried_in - carried_out - taken`` and, over a rep's
quarters, the sum of budgets equals spent + committed + what is left in the
last quarter plus whatever lapsed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction


def to_cents(amount: float) -> int:
    """Currency units to integer cents, rounding half to even."""
    return round(Fraction(amount) * 100)


def booking_cost(hours: float, rate_cents: int, incentive: float = 0.0) -> int:
    """Cost in cents of ``hours`` working hours at ``rate_cents`` per hour.

    A grabbed order is paid with its incentive uplift: +50% is ``0.5``. The
    result is exact (rounded half to even); bookings in whole quarter hours,
    the usual case, take an integer-only path to the same value.
    """
    uplift = _uplift(incentive)
    quarters = hours * 4
    if quarters.is_integer():
        numerator = int(quarters) * rate_cents * uplift.numerator
        return _round_half_even(numerator, 4 * uplift.denominator)
    # Any other float is exactly n / d (d a power of two): the same exact
    # value as round(Fraction(hours) * rate_cents * uplift), in integers.
    n, d = hours.as_integer_ratio()
    return _round_half_even(n * rate_cents * uplift.numerator, d * uplift.denominator)


@functools.lru_cache(maxsize=256)
def _uplift(incentive: float) -> Fraction:
    return 1 + Fraction(incentive).limit_denominator(10_000)


def _round_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to an integer, ties to even."""
    whole, rest = divmod(numerator, denominator)
    twice = 2 * rest
    if twice > denominator or (twice == denominator and whole % 2):
        whole += 1
    return whole


def quarterly_budget(
    quota: float,
    attainment: float,
    share: float,
    weight: float,
    floor: float,
    cap: float,
) -> int:
    """A rep's quarterly budget in cents from quota and attainment.

    ``budget = quota x share x clip(1 + weight x (attainment - 1), floor, cap)``;
    it depends on customer type (through ``share``), quota and attainment only.
    """
    factor = min(cap, max(floor, 1 + weight * (attainment - 1)))
    return to_cents(quota * share * factor)


class BudgetRefused(ValueError):
    """A booking costs more than what is left of the budget."""


@dataclass
class BudgetAccount:
    """One rep's budget for one quarter."""

    quarter: str
    budget: int
    committed: int = 0
    spent: int = 0
    refusals: int = 0
    unlimited: bool = False
    overdraft: int = 0
    carried_in: int = 0
    carried_out: int = 0
    overdrafts: int = 0

    @property
    def taken(self) -> int:
        """Committed plus spent, in cents."""
        return self.committed + self.spent

    @property
    def left(self) -> int:
        """What can still be booked without approval, in cents."""
        return self.budget + self.carried_in - self.carried_out - self.taken

    def can_afford(self, cost: int) -> bool:
        """Whether a booking of ``cost`` cents fits what is left (or the overdraft)."""
        return self.unlimited or cost <= self.left + self.overdraft

    def needs_approval(self, cost: int) -> bool:
        """Whether a booking of ``cost`` cents would overdraw the budget."""
        return not self.unlimited and cost > self.left

    def carry_out(self) -> int:
        """Close the quarter for rollover: what is left moves out, in cents."""
        amount = max(0, self.left)
        self.carried_out += amount
        return amount

    def commit(self, cost: int) -> None:
        """Take ``cost`` cents for a booking, or raise ``BudgetRefused``."""
        if not self.can_afford(cost):
            self.refusals += 1
            raise BudgetRefused(
                f"{self.quarter}: booking costs {cost} cents but {self.left} are left"
            )
        self.committed += cost

    def spend(self, cost: int) -> None:
        """Move ``cost`` cents of finished work from committed to spent."""
        self.committed -= cost
        self.spent += cost

    def release(self, cost: int) -> None:
        """Give back the commitment of a cancelled booking."""
        self.committed -= cost
