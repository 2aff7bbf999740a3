"""Pricing tiers: what one booking costs the rep, in integer cents.

The *list rate* of an engineer is the hourly rate of the engineer's grade on
the scenario's rate card (``[pricing] rate_card``; the ``[[grades]]`` rates when
none is named), times the factor of the grade's resource type
(``resource_factor``). On top of the list rate, ``[pricing] scheme`` sets how a
booking of ``h`` working hours is charged:

* ``flat``: ``h x rate``.
* ``tiered``: volume bands of the hours the rep has booked this quarter. With
  ``already`` hours booked, the booking covers ``[already, already + h)`` on
  that axis and each hour pays the factor of the band it falls in (hours
  before the first band pay factor 1). With bands ``0 -> 1.0, 40 -> 0.9``, a
  10-hour booking after 35 hours costs ``(5 x 1.0 + 5 x 0.9) x rate``.
* ``surge``: ``h x rate x min(cap, 1 + slope x max(0, u - threshold))`` where
  ``u`` is the utilisation of the engineer's home region: the booked share of
  its engineers' next ``surge_window_hours`` working hours, measured once per
  simulated day at the day's first quote (prices are posted daily).

A grabbed order pays its incentive uplift on top: ``x (1 + uplift)``. Every
cost is rounded once, half to even, to whole cents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

from models.budget import booking_cost, to_cents

if TYPE_CHECKING:
    from models.agents import PresalesEngineer
    from models.presales_model import PresalesModel
    from models.scenario import Scenario
    from models.work_order import Ticket


def _exact(x: float) -> Fraction:
    return Fraction(x).limit_denominator(1_000_000)


def flat_cost(hours: float, rate_cents: int, incentive: float = 0.0) -> int:
    """Cost in cents of ``hours`` at ``rate_cents`` per hour, with uplift."""
    return booking_cost(hours, rate_cents, incentive)


def tier_hours(
    already: float, hours: float, tiers: Sequence[tuple[float, float]]
) -> Fraction:
    """Hours weighted by the factor of the volume band each one falls in.

    Args:
        already: Hours the rep booked earlier this quarter.
        hours: Hours of this booking.
        tiers: ``(from_hours, factor)`` bands, ``from_hours`` rising; hours
            below the first band pay factor 1.

    Returns:
        The sum over bands of (hours of the booking inside the band) x factor.
    """
    lo, hi = _exact(already), _exact(already) + _exact(hours)
    bands = [(Fraction(0), Fraction(1))] if not tiers or tiers[0][0] > 0 else []
    bands += [(_exact(start), _exact(factor)) for start, factor in tiers]
    total = Fraction(0)
    for i, (start, factor) in enumerate(bands):
        end = bands[i + 1][0] if i + 1 < len(bands) else hi
        overlap = min(hi, end) - max(lo, start)
        if overlap > 0:
            total += overlap * factor
    return total


def tiered_cost(
    hours: float,
    rate_cents: int,
    already: float,
    tiers: Sequence[tuple[float, float]],
    incentive: float = 0.0,
) -> int:
    """Cost in cents of a booking under volume tiers (see :func:`tier_hours`)."""
    weighted = tier_hours(already, hours, tiers)
    return round(weighted * rate_cents * (1 + _exact(incentive)))


def surge_factor(
    utilisation: float, threshold: float, slope: float, cap: float
) -> float:
    """Rate multiplier at ``utilisation``: ``min(cap, 1 + slope x excess)``."""
    return min(cap, 1.0 + slope * max(0.0, utilisation - threshold))


def surge_cost(
    hours: float, rate_cents: int, factor: float, incentive: float = 0.0
) -> int:
    """Cost in cents of a booking at a surge ``factor``."""
    return round(_exact(hours) * rate_cents * _exact(factor) * (1 + _exact(incentive)))


def list_rates(scenario: Scenario) -> dict[str, int]:
    """List rate in cents per grade: rate card x resource-type factor."""
    p = scenario.pricing
    card = p.rate_cards.get(p.rate_card, {}) if p.rate_card else {}
    rates = {}
    for g in scenario.grades:
        rate = card.get(g.name, g.hourly_rate)
        factor = p.resource_factor.get(g.resource_type, 1.0)
        rates[g.name] = to_cents(_exact(rate) * _exact(factor))
    return rates


class PriceList:
    """Quotes bookings for one model under its pricing scheme.

    On creation it sets every engineer's ``rate_cents`` to the list rate, so
    rankings by price see the rate card in force.
    """

    def __init__(self, model: PresalesModel) -> None:
        self.model = model
        self.pricing = model.scenario.pricing
        rates = list_rates(model.scenario)
        self.by_region: dict[str, list[PresalesEngineer]] = defaultdict(list)
        for e in model.engineers.values():
            e.rate_cents = rates[e.grade]
            self.by_region[e.region].append(e)
        self.tiers = [(t.from_hours, t.factor) for t in self.pricing.tiers]
        self.volume: dict[tuple[str, str], float] = defaultdict(float)
        self._surge: dict[str, float] = {}
        self._surge_day = -1

    def quote(
        self,
        ticket: Ticket,
        engineer: PresalesEngineer,
        hours: float,
        incentive: float,
        quarter: str,
    ) -> int:
        """Cost in cents of booking ``engineer`` for ``hours`` on ``ticket``."""
        scheme = self.pricing.scheme
        rate = engineer.rate_cents
        if scheme == "tiered":
            already = self.volume[(ticket.rep, quarter)]
            return tiered_cost(hours, rate, already, self.tiers, incentive)
        if scheme == "surge":
            factor = self.surge(engineer.region)
            return surge_cost(hours, rate, factor, incentive)
        return flat_cost(hours, rate, incentive)

    def surge(self, region: str) -> float:
        """Today's surge multiplier of ``region``."""
        m = self.model
        if self._surge_day != m.day:
            self._surge_day = m.day
            self._surge = {r: self._factor(r) for r in self.by_region}
        return self._surge.get(region, 1.0)

    def utilisation(self, region: str) -> float:
        """Booked share of ``region``'s next ``surge_window_hours`` working hours."""
        engineers = self.by_region.get(region, [])
        if not engineers:
            return 0.0
        window = self.pricing.surge_window_hours
        now_w = self.model.calendar.worked(self.model.now)
        booked = sum(
            e.schedule.booked_between(now_w, now_w + window) for e in engineers
        )
        return booked / (window * len(engineers))

    def _factor(self, region: str) -> float:
        p = self.pricing
        return surge_factor(
            self.utilisation(region), p.surge_threshold, p.surge_slope, p.surge_cap
        )

    def note_booked(self, ticket: Ticket, hours: float, quarter: str) -> None:
        """Count a booking's hours into the rep's quarterly volume."""
        self.volume[(ticket.rep, quarter)] += hours

    def note_released(self, ticket: Ticket, hours: float, quarter: str) -> None:
        """Take a cancelled booking's hours out of the rep's volume."""
        self.volume[(ticket.rep, quarter)] -= hours
