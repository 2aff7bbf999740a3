"""Direct dispatch: search engineers, book a slot, charge the rep, do the work.

A rep searches engineers by solution, least proficiency and region scope, sees
each one's earliest free slot for the ticket's window, ranks them and books the
first one the budget allows. Each refusal for budget is recorded and the rep
moves on to the next (cheaper or later) engineer.

Money follows ``[pricing]`` (see ``models.pricing``) and ``[budget]``: a booking
commits its cost to the rep's quarter; one that overdraws the budget within
``overdraft_share`` is approved after ``approval_hours``, so its work cannot
start sooner; with ``rollover`` the first booking of a new quarter carries over
what the rep's previous quarter left. A booked ticket may be cancelled before
work starts (``[demand] cancel_probability`` or :meth:`BookingDesk.cancel`),
which frees the slot and releases the commitment. With ``[service]
duration_fit`` a better-fitting engineer needs fewer hours.
"""

from __future__ import annotations

import heapq
import math
import operator
from collections import defaultdict
from typing import TYPE_CHECKING

from models.budget import BudgetAccount, BudgetRefused
from models.pricing import PriceList
from models.service import ON_TIME, SEVERE, delay_class, rating
from models.work_order import DONE, UNSERVED, Ticket

if TYPE_CHECKING:
    from models.agents import PresalesEngineer, SalesRep
    from models.presales_model import PresalesModel

BOOKED, NO_SLOT, NO_BUDGET = "booked", "no_engineer", "budget"
_CLASS_RANK = {ON_TIME: 0, "slight": 1, SEVERE: 2}
_NAME = operator.attrgetter("name")
# Find the best offer without ranking every candidate (results are identical;
# switch off to compare).
FAST_SEARCH = True
# Rankings whose order is groups of equal proficiency and rate, then start and
# name (the others fall back to ranking every candidate).
_FAST_RANKINGS = ("best_fit", "cheapest", "earliest")


class EngineerIndex:
    """Engineers by solution, then by home region, sorted by proficiency."""

    def __init__(self, engineers: list[PresalesEngineer]) -> None:
        table: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for e in engineers:
            for solution in e.proficiency:
                table[solution][e.region].append(e)
        for by_region in table.values():
            for group in by_region.values():
                group.sort(key=lambda e, s=None: e.name)
        self._table = table
        self._buckets: dict[tuple[str, bool], list] = {}

    def buckets(self, solution: str, rate_first: bool = False) -> list:
        """Engineers of ``solution`` in groups of equal proficiency and rate.

        Each group is ``(proficiency, rate_cents, {region: engineers by name})``
        (the search adds merged lists under tuples of regions);
        groups come best proficiency then lowest rate first (lowest rate then
        best proficiency with ``rate_first``), the order in which the rankings
        compare engineers before their start times. Built on first use, after
        the price list has set every engineer's rate.
        """
        cached = self._buckets.get((solution, rate_first))
        if cached is not None:
            return cached
        groups: dict[tuple[int, int], dict[str, list]] = {}
        for region, engineers in self._table.get(solution, {}).items():
            for e in engineers:
                key = (e.proficiency[solution], e.rate_cents)
                groups.setdefault(key, {}).setdefault(region, []).append(e)
        if rate_first:
            order = sorted(groups, key=lambda k: (k[1], -k[0]))
        else:
            order = sorted(groups, key=lambda k: (-k[0], k[1]))
        built = [(prof, rate, groups[(prof, rate)]) for prof, rate in order]
        self._buckets[(solution, rate_first)] = built
        return built

    def search(
        self, solution: str, min_proficiency: int, regions: list[str]
    ) -> list[PresalesEngineer]:
        """Engineers covering ``solution`` at ``min_proficiency`` or better."""
        by_region = self._table.get(solution, {})
        found: list[PresalesEngineer] = []
        for region in regions:
            found += [
                e
                for e in by_region.get(region, ())
                if e.proficiency[solution] >= min_proficiency
            ]
        return found


class BookingDesk:
    """Books engineers for tickets and carries booked work to its end."""

    def __init__(self, model: PresalesModel) -> None:
        self.model = model
        self.index = EngineerIndex(list(model.engineers.values()))
        self.pricing = PriceList(model)
        rates = [e.rate_cents for e in model.engineers.values()]
        self._top_rate = max(1, max(rates, default=1))
        self._opened: set[tuple[str, str]] = set()

    # -- search and rank -------------------------------------------------------

    def scope(self, ticket: Ticket, widen: bool = False) -> list[str]:
        """Regions a rep searches for ``ticket`` (widened by playbook or policy)."""
        m = self.model
        wide = (
            widen
            or m.scenario.dispatch.region_scope == "all"
            or (m.dispatcher.active("volume_widen", ticket.region, ticket.solution))
        )
        return list(m.scenario.regions) if wide else [ticket.region]

    def needed_proficiency(self, ticket: Ticket) -> int:
        """Least proficiency accepted, raised by the rating playbook."""
        raise_by = self.model.dispatcher.active(
            "rating_upgrade", ticket.region, ticket.solution
        )
        return min(5, ticket.min_proficiency + int(raise_by))

    def offers(
        self,
        ticket: Ticket,
        latest_w: float | None,
        regions: list[str] | None = None,
        index: EngineerIndex | None = None,
    ):
        """Ranked ``(start_w, engineer)`` offers with a free slot for ``ticket``.

        Args:
            ticket: The ticket to staff.
            latest_w: Latest acceptable start, working hours (None: any).
            regions: Regions searched; default the rep's scope.
            index: Engineers searched; default everyone (a coordinator passes
                the part of the pool it knows).
        """
        m = self.model
        regions = regions or self.scope(ticket)
        need = self.needed_proficiency(ticket)
        w_req = max(m.calendar.worked(ticket.requested_start), m.calendar.worked(m.now))
        ranking = m.scenario.dispatch.ranking
        now_w = m.calendar.worked(m.now)
        found = []
        for e in (index or self.index).search(ticket.solution, need, regions):
            start = e.schedule.earliest(w_req, ticket.hours, latest_w)
            if start is None:
                continue
            klass = delay_class(start - w_req, m.scenario.control)
            if ranking == "weighted":
                key = self._weighted_key(start - w_req, e, ticket, now_w)
            else:
                key = self._key(ranking, klass, start, e, ticket, now_w)
            found.append((key, start, e))
        found.sort(key=lambda item: item[0])
        return [(start, e) for _, start, e in found]

    def _weighted_key(
        self, wait: float, e: PresalesEngineer, ticket: Ticket, now_w: float
    ) -> tuple:
        """Rank by a weighted score (higher is better), then by name.

        ``score = fit x (proficiency - need) - price x rate / top rate
        - wait x hours after the window opens - load x own load``.
        """
        w = self.model.scenario.dispatch.weights
        score = (
            w.fit * (e.proficiency[ticket.solution] - ticket.min_proficiency)
            - w.price * e.rate_cents / self._top_rate
            - w.wait * wait
            - (w.load * e.load(now_w) if w.load else 0.0)
        )
        return (-score, e.name)

    def ranked_offers(
        self,
        ticket: Ticket,
        latest_w: float | None,
        regions: list[str] | None = None,
        index: EngineerIndex | None = None,
    ):
        """The offers of :meth:`offers` in the same order, computed lazily.

        The best offer is found without ranking every candidate (see
        :meth:`best_offer`); the full ranking is computed only if the caller
        asks for a second offer (after a refusal for budget). With
        ``FAST_SEARCH`` off, or a ranking outside ``best_fit``, ``cheapest``
        and ``earliest``, this is :meth:`offers`.
        """
        ranking = self.model.scenario.dispatch.ranking
        if not FAST_SEARCH or ranking not in _FAST_RANKINGS:
            yield from self.offers(ticket, latest_w, regions, index)
            return
        best = self.best_offer(ticket, latest_w, regions, index)
        if best is None:
            return
        yield best
        yield from self.offers(ticket, latest_w, regions, index)[1:]

    def best_offer(
        self,
        ticket: Ticket,
        latest_w: float | None,
        regions: list[str] | None = None,
        index: EngineerIndex | None = None,
    ):
        """The first of :meth:`offers` (None if there is none), found fast.

        Candidates come in groups of equal proficiency and rate, in ranking
        order, and within a group by name, so a group's best is the first
        engineer free right at the requested start, or else its earliest
        start; the search stops at the first group whose best cannot be beaten
        (on time for ``best_fit`` and ``cheapest``, free at the requested
        start for ``earliest``). At ordinary loads it checks a few engineers,
        not the whole pool. Not for ``least_loaded``, whose order changes with
        every booking.
        """
        m = self.model
        ranking = m.scenario.dispatch.ranking
        regions = regions or self.scope(ticket)
        need = self.needed_proficiency(ticket)
        cal = m.calendar
        w_req = max(cal.worked(ticket.requested_start), cal.worked(m.now))
        hours = ticket.hours
        control = m.scenario.control
        by_start = ranking == "earliest"
        best = None
        buckets = (index or self.index).buckets(ticket.solution, ranking == "cheapest")
        for b, (prof, _rate, by_region) in enumerate(buckets):
            if prof < need:
                continue
            members = _members(by_region, regions)
            top = None
            if latest_w is None or w_req <= latest_w:
                # The first engineer by name free right at w_req is the best.
                end = w_req + hours
                for e in members:
                    schedule = e.schedule
                    if schedule.last_end <= w_req or schedule.is_free(w_req, end):
                        top = (w_req, e)
                        break
            if top is None:
                # Nobody free at w_req: the earliest start, then the name.
                for e in members:
                    start = e.schedule.earliest(w_req, hours, latest_w)
                    if start is not None and (top is None or start < top[0]):
                        top = (start, e)
            if top is None:
                continue
            start = top[0]
            if by_start:
                key = (start, b)
                done = start == w_req
            else:
                key = (_CLASS_RANK[delay_class(start - w_req, control)], b)
                done = key[0] == 0
            if best is None or key < best[0]:
                best = (key, top)
            if done:
                break
        return None if best is None else best[1]

    @staticmethod
    def _key(
        ranking: str,
        klass: str,
        start: float,
        e: PresalesEngineer,
        ticket: Ticket,
        now_w: float,
    ) -> tuple:
        prof = e.proficiency[ticket.solution]
        if ranking == "earliest":
            return (start, -prof, e.rate_cents, e.name)
        if ranking == "cheapest":
            rest = (e.rate_cents, -prof)
        elif ranking == "least_loaded":
            rest = (e.load(now_w), -prof)
        else:
            rest = (-prof, e.rate_cents)
        return (_CLASS_RANK[klass], *rest, start, e.name)

    # -- booking ---------------------------------------------------------------

    def direct_book(
        self,
        ticket: Ticket,
        latest_w: float | None,
        channel: str = "direct",
        widen: bool = False,
        index: EngineerIndex | None = None,
    ) -> str:
        """Book the best affordable offer; BOOKED, NO_SLOT or NO_BUDGET."""
        regions = self.scope(ticket, widen)
        found = False
        for start_w, engineer in self.ranked_offers(ticket, latest_w, regions, index):
            found = True
            if self.book(ticket, engineer, start_w, channel, 0.0):
                return BOOKED
        return NO_BUDGET if found else NO_SLOT

    def book(
        self,
        ticket: Ticket,
        engineer: PresalesEngineer,
        start_w: float,
        channel: str,
        incentive: float,
    ) -> bool:
        """Charge the rep and put the slot on the schedule; False if refused."""
        m = self.model
        hours = self.work_hours(ticket, engineer)
        quarter = m.quarter_of(m.now)
        cost = self.pricing.quote(ticket, engineer, hours, incentive, quarter)
        rep = m.reps.get(ticket.rep)
        if rep is not None:
            account = self.account(rep, quarter)
            try:
                if account.can_afford(cost) and account.needs_approval(cost):
                    start_w = self._after_approval(engineer, start_w, hours)
                    account.overdrafts += 1
                account.commit(cost)
            except BudgetRefused:
                rep.refusals += 1
                m.log_ticket(
                    "booking_refused",
                    ticket,
                    engineer=engineer.name,
                    amount=cost,
                    hours=ticket.hours,
                    detail="budget",
                )
                return False
        ticket.hours = hours
        engineer.schedule.book(start_w, hours, ticket.id)
        self.pricing.note_booked(ticket, hours, quarter)
        self._note_booking(ticket, engineer, start_w, channel, incentive, cost, quarter)
        return True

    def work_hours(self, ticket: Ticket, engineer: PresalesEngineer) -> float:
        """Hours ``engineer`` needs for ``ticket`` (fewer with better fit)."""
        per_point = self.model.scenario.service.duration_fit
        if not per_point:
            return ticket.hours
        fit = engineer.proficiency[ticket.solution] - ticket.min_proficiency
        factor = max(0.5, 1.0 - per_point * fit)
        return max(0.25, round(ticket.hours * factor * 4) / 4)

    def account(self, rep: SalesRep, quarter: str) -> BudgetAccount:
        """``rep``'s account of ``quarter`` with the overdraft and rollover rules.

        On first use the account gets its overdraft limit and, under rollover,
        what the rep's latest earlier quarter left.
        """
        account = rep.account(quarter)
        if (rep.name, quarter) in self._opened:
            return account
        self._opened.add((rep.name, quarter))
        b = self.model.scenario.budget
        account.overdraft = round(account.budget * b.overdraft_share)
        if b.rollover == "rollover":
            earlier = [q for q in rep.accounts if q < quarter]
            if earlier:
                account.carried_in += rep.accounts[max(earlier)].carry_out()
        return account

    def _after_approval(
        self, engineer: PresalesEngineer, start_w: float, hours: float
    ) -> float:
        """Earliest free start no sooner than the overdraft approval arrives."""
        m = self.model
        approved = m.calendar.worked(m.now) + m.scenario.budget.approval_hours
        if start_w >= approved:
            return start_w
        return engineer.schedule.earliest(approved, hours)

    def cancel(self, ticket: Ticket) -> bool:
        """Cancel a booked ticket before its work starts; False if too late.

        Frees the engineer's slot, releases the commitment and ends the ticket
        unserved (reason ``cancelled``).
        """
        m = self.model
        started = not math.isnan(ticket.actual_start)
        if ticket.status or not ticket.engineer or started:
            return False
        engineer = m.engineers[ticket.engineer]
        engineer.schedule.cancel(ticket.id)
        rep = m.reps.get(ticket.rep)
        if rep is not None:
            rep.account(ticket.quarter).release(ticket.cost)
        self.pricing.note_released(ticket, ticket.hours, ticket.quarter)
        self.unserved(ticket, "cancelled")
        return True

    def _note_booking(
        self,
        ticket: Ticket,
        engineer: PresalesEngineer,
        start_w: float,
        channel: str,
        incentive: float,
        cost: int,
        quarter: str,
    ) -> None:
        m = self.model
        ticket.engineer, ticket.engineer_region = engineer.name, engineer.region
        ticket.grade, ticket.channel = engineer.grade, channel
        ticket.booked_start = m.calendar.at(start_w)
        ticket.cost, ticket.incentive, ticket.quarter = cost, incentive, quarter
        ticket.fit = engineer.proficiency[ticket.solution] - ticket.min_proficiency
        m.log_ticket(
            "ticket_booked",
            ticket,
            engineer=engineer.name,
            amount=cost,
            hours=ticket.hours,
            value=ticket.booked_start,
            detail=channel,
        )
        m.at(ticket.booked_start, self._start_work, ticket, engineer, start_w)
        p_cancel = m.scenario.demand.cancel_probability
        if p_cancel and m.random_gen.random() < p_cancel:
            lead = ticket.booked_start - m.now
            m.at(m.now + m.random_gen.uniform(0.0, 1.0) * lead, self.cancel, ticket)

    # -- carrying out the work -------------------------------------------------

    def _start_work(
        self, ticket: Ticket, engineer: PresalesEngineer, start_w: float
    ) -> None:
        m = self.model
        if ticket.status:
            return
        w_req = m.calendar.worked(ticket.requested_start)
        ticket.actual_start = m.now
        ticket.delay_hours = max(0.0, start_w - w_req)
        ticket.delay_class = delay_class(ticket.delay_hours, m.scenario.control)
        m.control.note_start(ticket)
        m.log_ticket(
            "work_started",
            ticket,
            engineer=engineer.name,
            value=ticket.delay_hours,
            detail=ticket.delay_class,
        )
        m.at(
            m.calendar.at_end(start_w + ticket.hours),
            self._finish_work,
            ticket,
            engineer,
        )

    def _finish_work(self, ticket: Ticket, engineer: PresalesEngineer) -> None:
        m = self.model
        ticket.finished_at = m.now
        rep = m.reps.get(ticket.rep)
        if rep is not None:
            rep.account(ticket.quarter).spend(ticket.cost)
        m.log_ticket(
            "work_finished",
            ticket,
            engineer=engineer.name,
            amount=ticket.cost,
            hours=ticket.hours,
        )
        if ticket.opportunity >= 0:
            ticket.rating = rating(
                ticket.fit, ticket.delay_class, m.scenario.service, m.random_gen
            )
            m.control.note_rating(ticket)
            m.log_ticket(
                "ticket_rated", ticket, engineer=engineer.name, value=ticket.rating
            )
        self.end(ticket, DONE)

    def unserved(self, ticket: Ticket, reason: str) -> None:
        """End ``ticket`` unserved for ``reason``."""
        m = self.model
        ticket.unserved_reason = reason
        m.log_ticket(
            "ticket_unserved",
            ticket,
            hours=ticket.hours,
            detail=reason,
        )
        self.end(ticket, UNSERVED)

    def end(self, ticket: Ticket, status: str) -> None:
        """Mark ``ticket`` terminal and tell its opportunity."""
        if ticket.status:
            raise RuntimeError(f"ticket {ticket.id} ended twice")
        ticket.status = status
        self.model.ticket_ended(ticket)


def _members(by_region: dict, regions: list[str]) -> list:
    """Engineers of one group in the searched regions, by name.

    Merged lists are kept in the group under the regions' tuple (a search
    covers the home region or a widened scope, so there are few of them).
    """
    key = tuple(regions)
    merged = by_region.get(key)
    if merged is None:
        lists = [by_region[r] for r in regions if r in by_region]
        if len(lists) < 2:
            merged = lists[0] if lists else []
        else:
            merged = list(heapq.merge(*lists, key=_NAME))
        by_region[key] = merged
    return merged


def latest_start(model: PresalesModel, ticket: Ticket, wait: float | None):
    """Latest acceptable start, working hours, for a wait of ``wait`` hours."""
    if wait is None:
        return None
    base = max(
        model.calendar.worked(ticket.requested_start), model.calendar.worked(model.now)
    )
    return base + wait if math.isfinite(wait) else None
