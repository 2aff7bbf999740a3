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

With ``confirm_timeout_hours`` set, the rep's reply takes an exponential time
(mean ``confirm_hours``); a lock the rep has not confirmed within the timeout
lapses (``grab_rejected`` with detail ``timeout``) and the order reopens.

*Progressive push* (``waves > 1``, used by the ``progressive_push`` policy)
invites in waves ``wave_hours`` apart instead of all at once: wave ``k`` (from
0) searches the home region plus the next regions in scenario order, widening
evenly so that the last wave covers every invited region, and invites the next
``ceil(max_invites / waves)`` engineers by rank not yet invited.

A filled order records what the rep paid (``cost``, cents, uplift included)
and the hours credited to the engineer (``credited_hours``: the work's hours
times ``1 + uplift``).
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
    waves: int = 1
    cost: int = 0
    credited_hours: float = 0.0


class GrabBoard:
    """Posts grab orders and runs each one to fill or expiry."""

    def __init__(self, model: PresalesModel) -> None:
        self.model = model
        self.orders: list[GrabOrder] = []

    def post(
        self,
        ticket: Ticket,
        incentive: float,
        on_expire: Callable[[Ticket], None],
        waves: int = 1,
    ) -> GrabOrder:
        """Post ``ticket`` as an open order with ``incentive`` uplift.

        Args:
            ticket: The ticket nobody could be booked for.
            incentive: Uplift credited and paid, 0.5 = +50%.
            on_expire: Called with the ticket if the order expires unfilled.
            waves: Invitation waves (1 invites everyone at once).
        """
        m = self.model
        g = m.scenario.grab
        regions = list(m.scenario.regions) if g.widen_to == "all" else [ticket.region]
        order = GrabOrder(
            ticket,
            incentive,
            regions,
            m.now,
            m.calendar.add(m.now, g.deadline_hours),
            waves=max(1, int(waves)),
        )
        self.orders.append(order)
        self.model.log_ticket(
            "grab_posted",
            ticket,
            hours=ticket.hours,
            value=incentive,
            detail="|".join(regions),
        )
        m.env.process(self._run(order, on_expire))
        return order

    def _invitees(self, order: GrabOrder, cap: bool = True) -> list[PresalesEngineer]:
        """Engineers able to take the order, by rank (home region first)."""
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
        return found[: m.scenario.grab.max_invites] if cap else found

    def _waves(self, order: GrabOrder) -> list[tuple[float, list[PresalesEngineer]]]:
        """``(working-hour offset, invitees)`` of each wave, widening the scope."""
        if order.waves == 1:
            return [(0.0, self._invitees(order))]
        m = self.model
        g = m.scenario.grab
        ranked = self._invitees(order, cap=False)
        per_wave = -(-g.max_invites // order.waves)
        regions = sorted(order.regions, key=lambda r: r != order.ticket.region)
        extra = len(regions) - 1
        invited: set[str] = set()
        out = []
        for k in range(order.waves):
            scope = set(regions[: 1 + -(-k * extra // (order.waves - 1))])
            wave = [e for e in ranked if e.region in scope and e.name not in invited][
                :per_wave
            ]
            invited.update(e.name for e in wave)
            out.append((k * g.wave_hours, wave))
        return out

    def _plan(self, order: GrabOrder) -> list[tuple[float, str, PresalesEngineer]]:
        """Calendar times at which invitees are invited, clarify and decide."""
        m = self.model
        g = m.scenario.grab
        steps = []
        for offset, wave in self._waves(order):
            posted = m.now if not offset else m.calendar.add(m.now, offset)
            for e in wave:
                if order.waves == 1:
                    order.invited += 1
                    self.model.log_ticket("grab_invited", order.ticket, engineer=e.name)
                else:
                    steps.append((posted, "invite", e))
                respond = m.random_gen.exponential(g.response_mean_hours)
                if m.random_gen.random() < g.clarify_probability:
                    steps.append((m.calendar.add(posted, respond), "clarify", e))
                    respond += g.clarify_hours
                steps.append((m.calendar.add(posted, respond), "decide", e))
        order_of = {"invite": 0, "clarify": 1, "decide": 2}
        steps.sort(key=lambda s: (s[0], order_of[s[1]], s[2].name))
        return steps

    def _run(self, order: GrabOrder, on_expire: Callable[[Ticket], None]):
        m = self.model
        for when, what, engineer in self._plan(order):
            if when >= order.deadline:
                break
            if when > m.now:
                yield m.env.timeout(when - m.now)
            if what == "invite":
                order.invited += 1
                self.model.log_ticket(
                    "grab_invited", order.ticket, engineer=engineer.name
                )
                continue
            if what == "clarify":
                order.clarified += 1
                self.model.log_ticket(
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
        self.model.log_ticket("grab_expired", order.ticket)
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
        self.model.log_ticket("grab_declined", t, engineer=e.name)
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
        self.model.log_ticket("grab_grabbed", t, engineer=e.name)
        reply, timed_out = g.confirm_hours, False
        if g.confirm_timeout_hours is not None:
            reply = m.random_gen.exponential(g.confirm_hours) if reply > 0 else 0.0
            timed_out = reply > g.confirm_timeout_hours
            reply = min(reply, g.confirm_timeout_hours)
        confirm_at = m.calendar.add(m.now, reply)
        if confirm_at > m.now:
            yield m.env.timeout(confirm_at - m.now)
        e.schedule.cancel(t.id)
        if timed_out:
            self.model.log_ticket("grab_rejected", t, engineer=e.name, detail="timeout")
            return False
        now_w = m.calendar.worked(m.now)
        if slot < now_w:
            slot = e.schedule.earliest(now_w, t.hours)
        if m.random_gen.random() < g.confirm_probability and m.desk.book(
            t, e, slot, "grab", order.incentive
        ):
            order.outcome, order.filled_at = "filled", m.now
            order.cost = t.cost
            order.credited_hours = t.hours * (1 + order.incentive)
            self.model.log_ticket("grab_confirmed", t, engineer=e.name)
            return True
        self.model.log_ticket("grab_rejected", t, engineer=e.name)
        return False
