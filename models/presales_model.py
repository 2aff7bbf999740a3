"""The presales work-order system as one Mesa model.

One step is one simulated day (``sim.clock.DayStepModel``); inside a day,
opportunities, tickets, bookings, grab orders and work run on SimPy event time.
Agents: ``SalesRep`` (pays, books), ``PresalesEngineer`` (works, grabs) and one
``Dispatcher`` (applies playbooks). Every event goes to ``self.log``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from models.agents import Dispatcher, PresalesEngineer, SalesRep
from models.booking import BookingDesk
from models.budget import BudgetAccount, quarterly_budget, to_cents
from models.control import BOARD_TABLE, ENGINEER_TABLE, ControlRoom
from models.demand import DemandSource
from models.grab import GrabBoard
from models.policies import make_policy
from models.service import win_probability
from models.work_order import Opportunity, Ticket
from sim.calendar import BusinessCalendar
from sim.clock import DayStepModel
from sim.eventlog import EventLog

if TYPE_CHECKING:
    from models.scenario import Scenario


def build_calendar(s: Scenario) -> BusinessCalendar:
    """The scenario's business calendar."""
    c = s.calendar
    return BusinessCalendar(
        start=s.scenario.start_date,
        openings=c.working_hours,
        weekdays=c.weekdays,
        holidays=c.holidays,
        timezone=c.timezone,
    )


class PresalesModel(DayStepModel):
    """The whole system on simulated demand.

    Args:
        scenario: A validated scenario.
        seed: Overrides the scenario's seed (an int or a SeedSequence).
    """

    def __init__(
        self, scenario: Scenario, seed: int | np.random.SeedSequence | None = None
    ) -> None:
        super().__init__(
            build_calendar(scenario),
            scenario.scenario.horizon_days,
            scenario.scenario.seed if seed is None else seed,
        )
        self.scenario = scenario
        self.log = EventLog()
        self.tickets: dict[int, Ticket] = {}
        self.opportunities: dict[int, Opportunity] = {}
        self.reps: dict[str, SalesRep] = {}
        self.engineers: dict[str, PresalesEngineer] = {}
        self.ended = {"done": 0, "unserved": 0}
        self._make_reps()
        self._make_engineers()
        self.absences = self._plant_absences()
        self.dispatcher = Dispatcher(self)
        self.desk = BookingDesk(self)
        self.grabs = GrabBoard(self)
        self.control = ControlRoom(self)
        self.policy = make_policy(scenario.dispatch.policy, self)
        self.demand = DemandSource(self)
        self._open_quarter(0.0)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "tickets_raised": lambda m: len(m.tickets),
                "tickets_done": lambda m: m.count_status("done"),
                "tickets_unserved": lambda m: m.count_status("unserved"),
                "grab_orders": lambda m: len(m.grabs.orders),
                "alerts": lambda m: len(m.control.alerts),
            },
            tables={"board": list(BOARD_TABLE), "engineers": list(ENGINEER_TABLE)},
        )

    # -- agents --------------------------------------------------------------

    def _make_reps(self) -> None:
        s = self.scenario.reps
        for i, pool in enumerate(s.pools):
            for k in range(pool.count):
                self._add_rep(f"{pool.region}-rep{i}-{k + 1}", pool)
        for rep in s.individuals:
            self._add_rep(rep.name, rep)

    def _add_rep(self, name: str, spec) -> None:
        self.reps[name] = SalesRep(
            self,
            name,
            spec.region,
            spec.customer_type,
            spec.quarterly_quota,
            spec.attainment,
        )

    def _make_engineers(self) -> None:
        grades = sorted(self.scenario.grades, key=lambda g: (g.hourly_rate, g.name))
        rank = {g.name: i for i, g in enumerate(grades)}
        rate = {g.name: to_cents(g.hourly_rate) for g in grades}
        sd = self.scenario.grab.choice.heterogeneity
        specs = []
        for i, pool in enumerate(self.scenario.engineers.pools):
            for k in range(pool.count):
                specs.append((f"{pool.region}-{pool.grade}-p{i}-{k + 1}", pool))
        specs += [(e.name, e) for e in self.scenario.engineers.individuals]
        appetites = (
            self.random_gen.normal(0.0, sd, size=len(specs))
            if sd
            else ([0.0] * len(specs))
        )
        for (name, spec), appetite in zip(specs, appetites, strict=True):
            self.engineers[name] = PresalesEngineer(
                self,
                name,
                spec.region,
                spec.grade,
                spec.proficiency,
                rate[spec.grade],
                rank[spec.grade],
                float(appetite),
            )

    def _plant_absences(self) -> dict[str, list[tuple[float, float]]]:
        """Block the schedules of engineers planted as absent.

        Each ``[[engineers.absences]]`` entry takes the first ``count``
        engineers (by name) of its region and grade and books their whole
        working time from ``start_day`` for ``days`` days, so nobody can book
        them then. Returns each absent engineer's ``(start, end)`` spans in
        working hours (merged where entries overlap).
        """
        spans: dict[str, list[tuple[float, float]]] = {}
        for a in self.scenario.engineers.absences:
            chosen = sorted(
                name
                for name, e in self.engineers.items()
                if e.region == a.region and a.grade in ("", e.grade)
            )[: a.count]
            w0 = self.calendar.worked(a.start_day * 24.0)
            w1 = self.calendar.worked((a.start_day + a.days) * 24.0)
            for name in chosen:
                spans.setdefault(name, []).append((w0, w1))
        merged: dict[str, list[tuple[float, float]]] = {}
        slot_id = -1  # absence slots carry negative ticket ids
        for name, items in sorted(spans.items()):
            out: list[tuple[float, float]] = []
            for a, b in sorted(items):
                if out and a <= out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], b))
                else:
                    out.append((a, b))
            for a, b in out:
                if b > a:
                    slot_id -= 1
                    self.engineers[name].schedule.book(a, b - a, slot_id)
            merged[name] = out
        return merged

    # -- time and money ------------------------------------------------------

    def log_ticket(self, kind: str, t: Ticket, **fields) -> None:
        """Record event ``kind`` about ticket ``t`` now, with its context."""
        self.log.record(
            self.now,
            kind,
            ticket=t.id,
            opportunity=t.opportunity,
            rep=t.rep,
            region=t.region,
            solution=t.solution,
            stage=t.stage,
            **fields,
        )

    def at(self, when: float, action, *args) -> None:
        """Call ``action(*args)`` at calendar time ``when`` (not before now)."""
        event = self.env.timeout(max(0.0, when - self.env.now))
        event.callbacks.append(lambda _event: action(*args))

    def quarter_of(self, t: float) -> str:
        """Label of the calendar quarter containing time ``t``, e.g. 2027Q1."""
        date = self.calendar.start + dt.timedelta(hours=t)
        return f"{date.year}Q{(date.month - 1) // 3 + 1}"

    def open_budget(self, rep: SalesRep, quarter: str) -> BudgetAccount:
        """A rep's account for ``quarter``, sized by the budget rule."""
        b = self.scenario.budget
        if b.unlimited:
            return BudgetAccount(quarter, 0, unlimited=True)
        cents = quarterly_budget(
            rep.quarterly_quota,
            rep.attainment,
            b.share_of_quota[rep.customer_type],
            b.attainment_weight,
            b.min_factor,
            b.max_factor,
        )
        self.log.record(
            self.now,
            "budget_set",
            rep=rep.name,
            region=rep.region,
            amount=cents,
            value=float(quarter[-1]),
            detail=quarter,
        )
        return BudgetAccount(quarter, cents)

    # -- tickets and opportunities ---------------------------------------------

    def raise_ticket(
        self,
        opportunity: int,
        rep: str,
        region: str,
        solution: str,
        stage: str,
        activity: str,
        min_proficiency: int,
        hours: float,
        requested_start: float,
    ) -> Ticket:
        """Create a ticket now and hand it to the dispatch policy."""
        t = Ticket(
            len(self.tickets),
            opportunity,
            rep,
            region,
            solution,
            stage,
            activity,
            min_proficiency,
            hours,
            self.now,
            requested_start,
        )
        self.tickets[t.id] = t
        if opportunity >= 0:
            opp = self.opportunities[opportunity]
            opp.tickets.append(t.id)
            opp.open_tickets += 1
        self.control.note_raised(t)
        self.log.record(
            self.now,
            "ticket_raised",
            ticket=t.id,
            opportunity=opportunity,
            rep=rep,
            region=region,
            solution=solution,
            stage=stage,
            hours=hours,
            value=requested_start,
            detail=activity,
        )
        self.policy.on_ticket(t)
        return t

    def ticket_ended(self, t: Ticket) -> None:
        """Bookkeeping when a ticket ends (done or unserved)."""
        self.ended[t.status] += 1
        if t.status == "unserved":
            self.control.note_unserved(t)
        if t.opportunity >= 0:
            opp = self.opportunities[t.opportunity]
            opp.open_tickets -= 1
            self.close_if_done(opp)

    def close_if_done(self, opp: Opportunity) -> None:
        """Win or lose ``opp`` once its cycle is over and its tickets ended."""
        if not opp.cycle_over or opp.open_tickets or opp.outcome:
            return
        tickets = [self.tickets[i] for i in opp.tickets]
        ratings = [t.rating for t in tickets if not math.isnan(t.rating)]
        p = win_probability(
            opp.base_win_rate,
            float(np.mean(ratings)) if ratings else math.nan,
            sum(t.delay_class == "slight" for t in tickets),
            sum(t.delay_class == "severe" for t in tickets),
            sum(t.status == "unserved" for t in tickets),
            self.scenario.service,
        )
        won = self.random_gen.random() < p
        opp.win_probability, opp.closed_at = p, self.now
        opp.outcome = "won" if won else "lost"
        opp.revenue = opp.deal_value if won else 0.0
        self.log.record(
            self.now,
            "opportunity_closed",
            opportunity=opp.id,
            rep=opp.rep,
            region=opp.region,
            solution=opp.solution,
            value=opp.revenue,
            detail=opp.outcome,
        )

    def count_status(self, status: str) -> int:
        """Number of tickets that ended with ``status``."""
        return self.ended.get(status, 0)

    # -- the day's close -----------------------------------------------------

    def _open_quarter(self, t: float) -> None:
        """Open every rep's budget account for the quarter starting at ``t``."""
        quarter = self.quarter_of(t)
        for rep in self.reps.values():
            rep.account(quarter)

    def close_day(self, day: int) -> None:
        """Board, surge tests and playbooks; then forget finished slots."""
        if self.quarter_of((day + 1) * 24.0) != self.quarter_of(day * 24.0):
            self._open_quarter((day + 1) * 24.0)
        self.control.close_day(day)
        self.datacollector.collect(self)
        done_w = self.calendar.worked((day + 1) * 24.0)
        empty = -math.inf  # a schedule's last_end when nothing is booked
        for e in self.engineers.values():
            schedule = e.schedule
            if schedule.last_end != empty:
                schedule.forget_before(done_w)
