"""Service grabbing: open orders that invited engineers may grab.

When a rep cannot book a suitable engineer, the rep posts an open order with
the ticket's skill, window and an incentive uplift, and invites engineers from
a widened scope. Each invited engineer looks at the order after an exponential
response time (mean ``response_mean_hours`` working hours); with probability
``clarify_probability`` the engineer first asks the rep to clarify, which costs
``clarify_hours``. Then the engineer decides by a logit choice:

    u = intercept + appetite_i + incentive x uplift + fit x (proficiency - need)
        - load x own_load - distance x [other region] - grade x grade_rank

and grabs with probability ``1 / (1 + exp(-u))`` if a slot is free no later
than the rep's acceptable wait. ``appetite_i`` is each engineer's own taste,
normal with sd ``heterogeneity``. The first grab locks the order; the rep
confirms after ``confirm_hours`` with probability ``confirm_probability`` (and
only if the budget allows the uplifted cost), otherwise rejects, which reopens
the order to the remaining invitees. An order unfilled at its deadline expires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from models.agents import PresalesEngineer
    from models.presales_model import PresalesModel
    from models.work_order import Ticket


@dataclass
class GrabOrder:
    """One open order and what became of it."""

    ticket: Ticket
    incentive: float
    regions: list[str]
    posted_at: float
    deadline: float
    invited: int = 0
    clarified: int = 0
    grabbed_by: list[str] = field(default_factory=list)
    filled_at: float = math.nan
    outcome: str = "open"


class GrabBoard:
    """Posts grab orders and runs each one to fill or expiry."""

    def __init__(self, model: PresalesModel) -> None:
        self.model = model
        self.orders: list[GrabOrder] = []

    def post(
        self, ticket: Ticket, incentive: float, on_expire: Callable[[Ticket], None]
    ) -> GrabOrder:
        """Post ``ticket`` as an open order with ``incentive`` uplift."""
        m = self.model
        g = m.scenario.grab
        regions = list(m.scenario.regions) if g.widen_to == "all" else [ticket.region]
        order = GrabOrder(
            ticket, incentive, regions, m.now, m.calendar.add(m.now, g.deadline_hours)
        )
        self.orders.append(order)
        self._log(
            "grab_posted",
            ticket,
            hours=ticket.hours,
            value=incentive,
            detail="|".join(regions),
        )
        m.env.process(self._run(order, on_expire))
        return order

    def _invitees(self, order: GrabOrder) -> list[PresalesEngineer]:
        m = self.model
        t = order.ticket
        need = m.desk.needed_proficiency(t)
        found = m.desk.index.search(t.solution, need, order.regions)
        found.sort(
            key=lambda e: (
                e.region != t.region,
                -e.proficiency[t.solution],
                e.rate_cents,
                e.name,
            )
        )
        return found[: m.scenario.grab.max_invites]

    def _plan(self, order: GrabOrder) -> list[tuple[float, str, PresalesEngineer]]:
        """Calendar times at which invitees clarify and decide, in order."""
        m = self.model
        g = m.scenario.grab
        steps = []
        for e in self._invitees(order):
            order.invited += 1
            self._log("grab_invited", order.ticket, engineer=e.name)
            respond = m.random_gen.exponential(g.response_mean_hours)
            if m.random_gen.random() < g.clarify_probability:
                steps.append((m.calendar.add(m.now, respond), "clarify", e))
                respond += g.clarify_hours
            steps.append((m.calendar.add(m.now, respond), "decide", e))
        steps.sort(key=lambda s: (s[0], s[1] == "decide", s[2].name))
        return steps

    def _run(self, order: GrabOrder, on_expire: Callable[[Ticket], None]):
        m = self.model
        for when, what, engineer in self._plan(order):
            if when >= order.deadline:
                break
            if when > m.now:
                yield m.env.timeout(when - m.now)
            if what == "clarify":
                order.clarified += 1
                self._log(
                    "grab_clarify",
                    order.ticket,
                    engineer=engineer.name,
                    hours=m.scenario.grab.clarify_hours,
                )
                continue
            slot = self._decide(order, engineer)
            if slot is None:
                continue
            filled = yield from self._lock_and_confirm(order, engineer, slot)
            if filled:
                return
        if order.deadline > m.now:
            yield m.env.timeout(order.deadline - m.now)
        order.outcome = "expired"
        self._log("grab_expired", order.ticket)
        on_expire(order.ticket)

    def _decide(self, order: GrabOrder, e: PresalesEngineer) -> float | None:
        """The slot ``e`` grabs, or None if ``e`` is busy or declines."""
        m = self.model
        t = order.ticket
        latest = m.policy.wait_latest(t)
        start = max(m.calendar.worked(t.requested_start), m.calendar.worked(m.now))
        slot = e.schedule.earliest(start, t.hours, latest)
        if slot is not None and m.random_gen.random() < self.accept_probability(
            order, e
        ):
            return slot
        self._log("grab_declined", t, engineer=e.name)
        return None

    def accept_probability(self, order: GrabOrder, e: PresalesEngineer) -> float:
        """Chance that ``e`` grabs ``order`` (the logit choice model)."""
        m = self.model
        c = m.scenario.grab.choice
        t = order.ticket
        u = (
            c.intercept
            + e.appetite
            + c.incentive * order.incentive
            + c.fit * (e.proficiency[t.solution] - t.min_proficiency)
            - c.load * e.load(m.calendar.worked(m.now))
            - c.distance * (e.region != t.region)
            - c.grade * e.grade_rank
        )
        return 1.0 / (1.0 + math.exp(-u))

    def _lock_and_confirm(self, order: GrabOrder, e: PresalesEngineer, slot: float):
        m = self.model
        g = m.scenario.grab
        t = order.ticket
        e.schedule.book(slot, t.hours, t.id)
        order.grabbed_by.append(e.name)
        self._log("grab_grabbed", t, engineer=e.name)
        confirm_at = m.calendar.add(m.now, g.confirm_hours)
        if confirm_at > m.now:
            yield m.env.timeout(confirm_at - m.now)
        e.schedule.cancel(t.id)
        now_w = m.calendar.worked(m.now)
        if slot < now_w:
            slot = e.schedule.earliest(now_w, t.hours)
        if m.random_gen.random() < g.confirm_probability and m.desk.book(
            t, e, slot, "grab", order.incentive
        ):
            order.outcome, order.filled_at = "filled", m.now
            self._log("grab_confirmed", t, engineer=e.name)
            return True
        self._log("grab_rejected", t, engineer=e.name)
        return False

    def _log(self, kind: str, t: Ticket, **fields) -> None:
        m = self.model
        m.log.record(
            m.now,
            kind,
            ticket=t.id,
            opportunity=t.opportunity,
            rep=t.rep,
            region=t.region,
            solution=t.solution,
            stage=t.stage,
            **fields,
        )
