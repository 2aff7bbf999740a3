"""Dispatch policies: how a raised ticket gets an engineer.

A policy is a class with a ``name`` and an ``on_ticket(ticket)`` method,
registered with ``@register``; a scenario picks it by name in
``[dispatch] policy``. Policies use the model's booking desk (search, rank,
book) and grab board (open orders), so a new policy needs no engine change::

    from models.policies import DispatchPolicy, register

    @register
    class OnTimeOnly(DispatchPolicy):
        name = "on_time_only"

        def on_ticket(self, ticket):
            if self.desk.direct_book(ticket, self.on_time_latest(ticket)) != "booked":
                self.desk.unserved(ticket, "no_engineer")

Define it in any module that is imported before the scenario is loaded (a
notebook cell, a test, a script). To make it known to the command line and to
worker processes too, declare the module in the entry-point group
``presales_sim.policies`` of your package; those modules are imported the
first time policy names are looked up::

    [project.entry-points."presales_sim.policies"]
    on_time_only = "mypackage.policies"

Built in:

* ``direct``: the rep books the best engineer free within ``max_wait_hours``
  of the window; failing that, posts a grab order (if grabbing is enabled).
* ``hybrid``: the rep books on time if anyone is free; otherwise the rep
  retries direct booking every ``retry_hours`` until ``hybrid_after_hours``
  working hours after the ticket was raised, then posts a grab order (with the
  default 0, at once); an expired grab order falls back to the best late slot.
* ``grab_first``: every ticket is posted as a grab order first; an expired
  order falls back to the best late slot.
* ``progressive_push``: the rep books on time if anyone is free; otherwise
  posts a grab order pushed in ``[grab] push_waves`` waves that invite the
  next-ranked engineers and widen the regions each wave.
* ``coordinator`` (``models.coordinator``): the baseline the system replaces;
  requests queue at coordinators with limited throughput who know only part
  of the engineer pool.
* ``batch`` (``models.batch_dispatch``): the dispatcher assigns pending
  requests every ``interval_hours`` by solving an assignment problem on
  expected value.

Every policy filters candidates by hard rules (solution, least proficiency,
region scope, free calendar slot, budget) and ranks the rest by
``[dispatch] ranking`` (or, for ``batch``, by expected value).

Under the delay playbook (``delay_grab``) a ticket that cannot be booked on
time is posted as a grab order with the playbook's extra incentive, whatever
the policy.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from models.booking import BOOKED, NO_BUDGET, latest_start

if TYPE_CHECKING:
    from models.presales_model import PresalesModel
    from models.work_order import Ticket

_REGISTRY: dict[str, type[DispatchPolicy]] = {}
PLUGIN_GROUP = "presales_sim.policies"
_plugins_loaded = False
log = logging.getLogger(__name__)


def register(cls: type[DispatchPolicy]) -> type[DispatchPolicy]:
    """Class decorator: make a policy selectable by its ``name``."""
    if not getattr(cls, "name", ""):
        raise ValueError(f"{cls.__name__} needs a non-empty class attribute 'name'")
    _REGISTRY[cls.name] = cls
    return cls


def load_plugins() -> None:
    """Import the modules declared in the ``presales_sim.policies`` group (once)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for point in entry_points(group=PLUGIN_GROUP):
        try:
            point.load()
        except Exception as exc:  # a broken plugin must not stop the built-ins
            log.warning("policy plugin %s failed to load: %s", point.name, exc)


def policy_names() -> list[str]:
    """Names of the registered policies (plugins included)."""
    load_plugins()
    return sorted(_REGISTRY)


def make_policy(name: str, model: PresalesModel) -> DispatchPolicy:
    """The policy registered under ``name``, bound to ``model``."""
    load_plugins()
    try:
        return _REGISTRY[name](model)
    except KeyError:
        raise ValueError(
            f"unknown dispatch policy {name!r}; use one of {', '.join(policy_names())}"
        ) from None


class DispatchPolicy:
    """Base class of dispatch policies."""

    name: ClassVar[str] = ""

    def __init__(self, model: PresalesModel) -> None:
        self.model = model
        self.desk = model.desk
        self.grabs = model.grabs

    def on_ticket(self, ticket: Ticket) -> None:
        """Called once when ``ticket`` is raised."""
        raise NotImplementedError

    # -- helpers shared by policies -------------------------------------------

    def private_rng(self, tag: int) -> np.random.Generator:
        """A generator of this policy's own, derived from the model's seed.

        Draws from it leave the model's stream (demand, ratings, grabs)
        untouched, so a policy's randomness does not shift everyone else's.
        """
        seq = self.model.random_gen.bit_generator.seed_seq
        child = np.random.SeedSequence(
            seq.entropy, spawn_key=(*seq.spawn_key, 0x70C7, int(tag))
        )
        return np.random.default_rng(child)

    def on_time_latest(self, ticket: Ticket) -> float:
        """Latest start that still counts as on time, working hours."""
        slack = self.model.scenario.control.slight_after_hours
        return latest_start(self.model, ticket, max(0.0, slack - 1e-9))

    def settled_on_time(self, ticket: Ticket) -> bool:
        """Book ``ticket`` on time if anyone affordable is free.

        Returns True when the ticket is settled: booked, or ended unserved
        because no free engineer fitted the rep's budget. False means nobody
        was free on time and the policy decides what comes next.
        """
        outcome = self.desk.direct_book(ticket, self.on_time_latest(ticket))
        if outcome == NO_BUDGET:
            self.desk.unserved(ticket, NO_BUDGET)
        return outcome in (BOOKED, NO_BUDGET)

    def wait_latest(self, ticket: Ticket) -> float | None:
        """Latest start the rep accepts, working hours (None: any)."""
        return latest_start(
            self.model, ticket, self.model.scenario.dispatch.max_wait_hours
        )

    def post_grab(self, ticket: Ticket, waves: int = 1) -> bool:
        """Post ``ticket`` as a grab order; False if grabbing is off."""
        m = self.model
        boosted = m.dispatcher.active("delay_grab", ticket.region, ticket.solution)
        if not (m.scenario.grab.enabled or boosted):
            return False
        incentive = m.scenario.grab.incentive
        if boosted:
            incentive = min(1.0, incentive + m.scenario.control.playbook_incentive)
        self.grabs.post(ticket, incentive, self.after_grab_expired, waves)
        return True

    def after_grab_expired(self, ticket: Ticket) -> None:
        """An expired grab order falls back to the best late slot."""
        outcome = self.desk.direct_book(ticket, self.wait_latest(ticket))
        if outcome != BOOKED:
            self.desk.unserved(ticket, "grab_expired")

    def late_or_grab(self, ticket: Ticket) -> None:
        """On-time booking failed: grab (under playbook) or book late."""
        m = self.model
        if m.dispatcher.active("delay_grab", ticket.region, ticket.solution):
            if self.post_grab(ticket):
                return
        outcome = self.desk.direct_book(ticket, self.wait_latest(ticket))
        if outcome == BOOKED:
            return
        if not self.post_grab(ticket):
            self.desk.unserved(ticket, outcome)


@register
class DirectBooking(DispatchPolicy):
    """Reps book the best engineer free within their acceptable wait."""

    name = "direct"

    def on_ticket(self, ticket: Ticket) -> None:
        if self.settled_on_time(ticket):
            return
        self.late_or_grab(ticket)


@register
class Hybrid(DispatchPolicy):
    """Book on time when possible, else grab (at once or after a threshold)."""

    name = "hybrid"

    def on_ticket(self, ticket: Ticket) -> None:
        if self.settled_on_time(ticket):
            return
        after = self.model.scenario.dispatch.hybrid_after_hours
        if after > 0:
            switch_at = self.model.calendar.add(ticket.raised_at, after)
            self.model.env.process(self._retry_then_grab(ticket, switch_at))
            return
        if not self.post_grab(ticket):
            self.late_or_grab(ticket)

    def _retry_then_grab(self, ticket: Ticket, switch_at: float):
        """Retry direct booking until ``switch_at``, then post a grab order."""
        m = self.model
        step = m.scenario.dispatch.retry_hours
        while True:
            retry_at = min(m.calendar.add(m.now, step), switch_at)
            if retry_at > m.now:
                yield m.env.timeout(retry_at - m.now)
            if m.now >= switch_at:
                break
            if self.settled_on_time(ticket):
                return
        if not self.post_grab(ticket):
            self.late_or_grab(ticket)


@register
class GrabFirst(DispatchPolicy):
    """Post every ticket as a grab order; fall back to direct booking."""

    name = "grab_first"

    def on_ticket(self, ticket: Ticket) -> None:
        if not self.post_grab(ticket):
            self.late_or_grab(ticket)


@register
class ProgressivePush(DispatchPolicy):
    """Book on time when possible, else push a grab order out in waves."""

    name = "progressive_push"

    def on_ticket(self, ticket: Ticket) -> None:
        if self.settled_on_time(ticket):
            return
        if not self.post_grab(ticket, self.model.scenario.grab.push_waves):
            self.late_or_grab(ticket)


# Policies defined in their own modules register themselves on import.
from models import batch_dispatch, coordinator  # noqa: E402, F401
