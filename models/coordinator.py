"""The coordinator baseline: the process the work-order system replaces.

Reps do not book engineers themselves. Each request goes to a coordinator of
the ticket's region (``[dispatch.coordinator] per_region`` of them; a request
joins the shortest queue). A coordinator handles one request at a time, first
come first served, taking an exponential time of mean ``handling_hours``
working hours per request, so coordinators have limited throughput.

A coordinator knows only part of the engineer pool: each engineer of the
coordinator's region with probability ``known_home_share`` and each engineer
of another region with probability ``known_other_share``, drawn once per run
from the policy's own random stream. When a request's turn comes, the
coordinator searches the engineers it knows (any region) by the same hard
rules as a rep (solution, least proficiency, free slot within the rep's
acceptable wait, budget) and books the best by ``[dispatch] ranking``. If
nobody it knows is free, the ticket goes unserved (``no_engineer``), or is
posted as a grab order when ``grab_fallback`` is on.

The policy keeps ``known`` (coordinator -> engineer names) and
``handled_by`` (ticket -> coordinator) for inspection and tests.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.booking import BOOKED, NO_BUDGET, NO_SLOT, EngineerIndex
from models.policies import DispatchPolicy, register

if TYPE_CHECKING:
    import simpy

    from models.presales_model import PresalesModel
    from models.work_order import Ticket

_RNG_TAG = 1


@dataclass
class Coordinator:
    """One coordinator: a region, the engineers it knows and its queue."""

    name: str
    region: str
    known: frozenset[str]
    index: EngineerIndex
    queue: deque = field(default_factory=deque)
    busy: bool = False
    wakeup: simpy.Event | None = None
    handled: int = 0

    @property
    def load(self) -> int:
        """Requests waiting or in hand."""
        return len(self.queue) + int(self.busy)


@register
class CoordinatorDispatch(DispatchPolicy):
    """Requests queue at coordinators who know part of the pool."""

    name = "coordinator"

    def __init__(self, model: PresalesModel) -> None:
        super().__init__(model)
        self.settings = model.scenario.dispatch.coordinator
        self.rng = self.private_rng(_RNG_TAG)
        self.coordinators: dict[str, list[Coordinator]] = {}
        self.known: dict[str, frozenset[str]] = {}
        self.handled_by: dict[int, str] = {}
        engineers = sorted(model.engineers.values(), key=lambda e: e.name)
        for region in model.scenario.regions:
            desk = []
            for k in range(self.settings.per_region):
                c = self._make(f"{region}-coordinator-{k + 1}", region, engineers)
                desk.append(c)
                self.known[c.name] = c.known
                model.env.process(self._serve(c))
            self.coordinators[region] = desk

    def _make(self, name: str, region: str, engineers: list) -> Coordinator:
        s = self.settings
        shares = [
            s.known_home_share if e.region == region else s.known_other_share
            for e in engineers
        ]
        draws = self.rng.random(len(engineers))
        known = [e for e, u, p in zip(engineers, draws, shares, strict=True) if u < p]
        return Coordinator(
            name, region, frozenset(e.name for e in known), EngineerIndex(known)
        )

    def on_ticket(self, ticket: Ticket) -> None:
        desk = self.coordinators[ticket.region]
        c = min(desk, key=lambda c: c.load)
        c.queue.append(ticket)
        self.handled_by[ticket.id] = c.name
        if c.wakeup is not None and not c.wakeup.triggered:
            c.wakeup.succeed()

    def _serve(self, c: Coordinator):
        m = self.model
        while True:
            if not c.queue:
                c.wakeup = m.env.event()
                yield c.wakeup
                c.wakeup = None
            ticket = c.queue.popleft()
            c.busy = True
            handling = self.rng.exponential(self.settings.handling_hours)
            done_at = m.calendar.add(m.now, handling)
            if done_at > m.now:
                yield m.env.timeout(done_at - m.now)
            c.busy = False
            c.handled += 1
            self._dispatch(c, ticket)

    def _dispatch(self, c: Coordinator, ticket: Ticket) -> None:
        outcome = self.desk.direct_book(
            ticket,
            self.wait_latest(ticket),
            channel="coordinator",
            widen=True,
            index=c.index,
        )
        if outcome == BOOKED:
            return
        if outcome == NO_BUDGET:
            self.desk.unserved(ticket, NO_BUDGET)
            return
        if self.settings.grab_fallback and self.post_grab(ticket):
            return
        self.desk.unserved(ticket, NO_SLOT)
