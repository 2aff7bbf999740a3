"""Optimised batch dispatch: assign pending requests by expected value.

Requests are not booked as they come. Every ``[dispatch.batch] interval_hours``
working hours the dispatcher takes the pending requests and, for each, the
``candidates`` best-ranked engineers with a free slot within the rep's
acceptable wait whose cost the rep's budget allows (the same hard rules as
direct booking). Assigning request ``i`` to engineer ``j`` at that engineer's
earliest free slot is worth

    value(i, j) = deal value x (P(win | served by j) - P(win | unserved))
                  - cost(i, j)

where both win probabilities come from ``models.service.win_probability``
applied to that ticket alone: served, with the expected rating of ``j``
(``rating_base + rating_fit x fit`` less the delay penalty of the slot's delay
class) and the slot's delay class; unserved, with one unserved ticket. A
ticket with no opportunity is worth ``no_deal_value`` minus its cost.

Each round solves the assignment problem (``scipy.optimize
linear_sum_assignment``) that maximises the total value, where a request may
also stay unassigned and wait for the next round. Waiting is worth less than
any of the request's options (its lowest value less one), so the dispatcher
serves every request it can, even one whose value is negative, and uses the
values to decide who gets which engineer. Booked engineers' schedules change,
so rounds repeat on the rest until nothing more can be booked.
A request with no feasible engineer falls back as a direct booking would: a
late slot, else a grab order, else unserved; one whose engineers are all
beyond the budget is tried by direct booking so that refusals are recorded.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linear_sum_assignment

from models.booking import _CLASS_RANK, BOOKED, NO_BUDGET
from models.policies import DispatchPolicy, register
from models.service import SEVERE, SLIGHT, delay_class, win_probability

if TYPE_CHECKING:
    from models.agents import PresalesEngineer
    from models.presales_model import PresalesModel
    from models.work_order import Ticket


def best_assignment(
    value: np.ndarray, idle: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Rows to distinct columns maximising total value; rows may stay idle.

    Args:
        value: ``value[i, j]`` of giving row ``i`` (a request) column ``j``
            (an engineer); NaN where not allowed.
        idle: Value of leaving row ``i`` unassigned (default 0 for all).

    Returns:
        ``(row, column)`` pairs, each row and column at most once, maximising
        the sum of chosen values plus the idle values of the rows left out. A
        pair worth no more than idling is left out.
    """
    value = np.asarray(value, dtype=float)
    n, m = value.shape
    if n == 0 or m == 0:
        return []
    idle = np.zeros(n) if idle is None else np.asarray(idle, dtype=float)
    allowed = ~np.isnan(value)
    gain = np.where(allowed, value - idle[:, None], -np.inf)
    cost = np.full((n, m + n), np.inf)
    cost[:, :m] = np.where(allowed, -gain, np.inf)
    cost[np.arange(n), m + np.arange(n)] = 0.0
    rows, cols = linear_sum_assignment(cost)
    return [
        (int(i), int(j))
        for i, j in zip(rows, cols, strict=True)
        if j < m and allowed[i, j] and gain[i, j] > 0
    ]


@register
class BatchDispatch(DispatchPolicy):
    """Assign pending requests in rounds by solving an assignment problem."""

    name = "batch"

    def __init__(self, model: PresalesModel) -> None:
        super().__init__(model)
        self.settings = model.scenario.dispatch.batch
        self.pending: list[Ticket] = []
        self.rounds = 0
        model.env.process(self._clock())

    def on_ticket(self, ticket: Ticket) -> None:
        self.pending.append(ticket)

    def _clock(self):
        m = self.model
        while True:
            at = m.calendar.add(m.now, self.settings.interval_hours)
            yield m.env.timeout(max(0.0, at - m.now))
            if self.pending:
                self.assign()

    # -- one batch -------------------------------------------------------------

    def assign(self) -> None:
        """Assign the pending requests now, in rounds.

        Fallbacks (late slots, grab orders, refusals) wait until the rounds
        are over, so that no round works from a schedule that changed under it.
        """
        tickets, self.pending = self.pending, []
        rows: list[tuple[Ticket, list]] = []
        fallback: list[tuple[Ticket, str]] = []
        for t in tickets:
            if t.status or t.engineer:
                continue
            options = self._options(t)
            if isinstance(options, str):
                fallback.append((t, options))
            else:
                rows.append((t, options))
        while rows:
            self.rounds += 1
            booked, refused = self._round(rows)
            if not booked:
                break
            rest = []
            for i, (t, options) in enumerate(rows):
                if t.engineer:
                    continue
                options = [o for o in options if (i, o[1].name) not in refused]
                if not options or any(e.name in booked for _, e, _ in options):
                    options = self._options(t)
                    if isinstance(options, str):
                        fallback.append((t, options))
                        continue
                rest.append((t, options))
            rows = rest
        self.pending.extend(t for t, _ in rows)
        for t, why in fallback:
            self._fall_back(t, why)

    def _options(self, t: Ticket) -> list | str:
        """Affordable ``(start_w, engineer, value)`` options of ``t``.

        Returns ``"no_slot"`` if no engineer is free within the rep's wait and
        ``"budget"`` if the budget allows none of those who are.
        """
        offers = self.candidates(t, self.wait_latest(t))
        if not offers:
            return "no_slot"
        m = self.model
        quarter = m.quarter_of(m.now)
        rep = m.reps.get(t.rep)
        account = self.desk.account(rep, quarter) if rep is not None else None
        options = []
        for start_w, e in offers:
            hours = self.desk.work_hours(t, e)
            cost = self.desk.pricing.quote(t, e, hours, 0.0, quarter)
            if account is not None and not account.can_afford(cost):
                continue
            options.append((start_w, e, self.value(t, e, start_w, cost)))
        return options or "budget"

    def candidates(self, t: Ticket, latest_w: float | None) -> list:
        """The first ``candidates`` of the desk's ranked offers for ``t``.

        Under the ``best_fit`` and ``cheapest`` rankings engineers are visited
        in groups of equal proficiency and rate, best group first, and the
        search stops once enough on-time offers are found: those outrank every
        later group, so the result equals ``desk.offers(t, latest_w)[:k]``
        without computing every engineer's free slot.
        """
        desk, m = self.desk, self.model
        k = self.settings.candidates
        ranking = m.scenario.dispatch.ranking
        if ranking not in ("best_fit", "cheapest"):
            return desk.offers(t, latest_w)[:k]
        regions = desk.scope(t)
        need = desk.needed_proficiency(t)
        cal = m.calendar
        w_req = max(cal.worked(t.requested_start), cal.worked(m.now))
        control = m.scenario.control
        found, on_time = [], 0
        groups = desk.index.buckets(t.solution, ranking == "cheapest")
        for b, (prof, _rate, by_region) in enumerate(groups):
            if prof < need:
                continue
            for region in regions:
                for e in by_region.get(region, ()):
                    start = e.schedule.earliest(w_req, t.hours, latest_w)
                    if start is None:
                        continue
                    klass = _CLASS_RANK[delay_class(start - w_req, control)]
                    on_time += klass == 0
                    found.append(((klass, b, start, e.name), start, e))
            if on_time >= k:
                break
        found.sort(key=lambda item: item[0])
        return [(start, e) for _, start, e in found[:k]]

    def _fall_back(self, t: Ticket, why: str) -> None:
        """Serve ``t`` outside the assignment: late slot, grab order or unserved."""
        if t.status or t.engineer:
            return
        if why == "budget":
            # Direct booking records the refusals (and books further down
            # the ranking if someone there is affordable).
            outcome = self.desk.direct_book(t, self.wait_latest(t), channel="batch")
            if outcome == BOOKED:
                return
            if outcome == NO_BUDGET:
                self.desk.unserved(t, NO_BUDGET)
                return
        self.late_or_grab(t)

    def _round(self, rows: list[tuple[Ticket, list]]):
        """Solve one assignment problem and book it.

        Returns:
            The names of the engineers booked, and the ``(row, engineer)``
            pairs the budget refused.
        """
        columns: dict[str, int] = {}
        engineers: list[PresalesEngineer] = []
        for _, options in rows:
            for _, e, _ in options:
                if e.name not in columns:
                    columns[e.name] = len(engineers)
                    engineers.append(e)
        value = np.full((len(rows), len(engineers)), np.nan)
        start = np.zeros_like(value)
        idle = np.zeros(len(rows))
        for i, (_, options) in enumerate(rows):
            for start_w, e, v in options:
                value[i, columns[e.name]] = v
                start[i, columns[e.name]] = start_w
            idle[i] = min(0.0, min(v for _, _, v in options)) - 1.0
        booked: set[str] = set()
        refused: set[tuple[int, str]] = set()
        for i, j in best_assignment(value, idle):
            t, e = rows[i][0], engineers[j]
            if self.desk.book(t, e, float(start[i, j]), "batch", 0.0):
                booked.add(e.name)
            else:
                refused.add((i, e.name))
        return booked, refused

    def value(
        self, t: Ticket, e: PresalesEngineer, start_w: float, cost_cents: int
    ) -> float:
        """Expected value of serving ``t`` by ``e`` from ``start_w`` (currency)."""
        m = self.model
        cost = cost_cents / 100
        opp = m.opportunities.get(t.opportunity) if t.opportunity >= 0 else None
        if opp is None:
            return self.settings.no_deal_value - cost
        svc = m.scenario.service
        delay = start_w - m.calendar.worked(t.requested_start)
        klass = delay_class(max(0.0, delay), m.scenario.control)
        fit = e.proficiency[t.solution] - t.min_proficiency
        rating = svc.rating_base + svc.rating_fit * fit
        rating -= svc.rating_slight if klass == SLIGHT else 0.0
        rating -= svc.rating_severe if klass == SEVERE else 0.0
        rating = min(5.0, max(1.0, rating))
        served = win_probability(
            opp.base_win_rate,
            rating,
            int(klass == SLIGHT),
            int(klass == SEVERE),
            0,
            svc,
        )
        unserved = win_probability(opp.base_win_rate, math.nan, 0, 0, 1, svc)
        return opp.deal_value * (served - unserved) - cost
