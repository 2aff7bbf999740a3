"""The agents: sales reps, presales engineers and the dispatcher."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from models.budget import BudgetAccount
from models.schedule import Schedule

if TYPE_CHECKING:
    from models.presales_model import PresalesModel


class SalesRep(mesa.Agent):
    """A sales rep: owns opportunities and pays for presales time.

    Args:
        quarterly_quota: Sales quota per quarter, currency units.
        attainment: Quota attainment, 1.0 = 100%.
    """

    def __init__(
        self,
        model: PresalesModel,
        name: str,
        region: str,
        customer_type: str,
        quarterly_quota: float,
        attainment: float,
    ) -> None:
        super().__init__(model)
        self.name = name
        self.region = region
        self.customer_type = customer_type
        self.quarterly_quota = quarterly_quota
        self.attainment = attainment
        self.accounts: dict[str, BudgetAccount] = {}
        self.refusals = 0

    def account(self, quarter: str) -> BudgetAccount:
        """The budget account of ``quarter``, opened on first use."""
        account = self.accounts.get(quarter)
        if account is None:
            account = self.model.open_budget(self, quarter)
            self.accounts[quarter] = account
        return account


class PresalesEngineer(mesa.Agent):
    """A presales engineer with a grade, a home region and proficiencies.

    Args:
        proficiency: Proficiency 1-5 per solution covered.
        rate_cents: Price of one working hour, cents (from the grade).
        grade_rank: 0 for the cheapest grade, rising with the rate.
        appetite: This engineer's own taste for grab orders (logit shift).
    """

    def __init__(
        self,
        model: PresalesModel,
        name: str,
        region: str,
        grade: str,
        proficiency: dict[str, int],
        rate_cents: int,
        grade_rank: int,
        appetite: float,
    ) -> None:
        super().__init__(model)
        self.name = name
        self.region = region
        self.grade = grade
        self.proficiency = dict(proficiency)
        self.rate_cents = rate_cents
        self.grade_rank = grade_rank
        self.appetite = appetite
        self.schedule = Schedule()

    def load(self, now_w: float, horizon_hours: float = 40.0) -> float:
        """Share of the next ``horizon_hours`` working hours already booked."""
        return (
            self.schedule.booked_between(now_w, now_w + horizon_hours) / horizon_hours
        )


class Dispatcher(mesa.Agent):
    """The dispatcher: watches the control board and applies playbooks.

    It holds the playbooks in force per region x solution; dispatch policies
    consult it for widened scopes, raised proficiency and grab boosts.
    """

    def __init__(self, model: PresalesModel) -> None:
        super().__init__(model)
        self.in_force: dict[tuple[str, str, str], int] = {}

    def active(self, playbook: str, region: str, solution: str) -> bool:
        """Whether ``playbook`` is in force for the region x solution today."""
        until = self.in_force.get((playbook, region, solution))
        return until is not None and self.model.day <= until

    def apply(self, playbook: str, region: str, solution: str, days: int) -> None:
        """Put ``playbook`` in force for ``days`` days from tomorrow."""
        self.in_force[(playbook, region, solution)] = self.model.day + days
