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

Built in:

* ``direct``: the rep books the best engineer free within ``max_wait_hours``
  of the window; failing that, posts a grab order (if grabbing is enabled).
* ``hybrid``: the rep books on time if anyone is free; otherwise posts a grab
  order at once; an expired grab order falls back to the best late slot.
* ``grab_first``: every ticket is posted as a grab order first; an expired
  order falls back to the best late slot.

Under the delay playbook (``delay_grab``) a ticket that cannot be booked on
time is posted as a grab order with the playbook's extra incentive, whatever
the policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from models.booking import BOOKED, NO_BUDGET, latest_start

if TYPE_CHECKING:
    from models.presales_model import PresalesModel
    from models.work_order import Ticket

_REGISTRY: dict[str, type[DispatchPolicy]] = {}


def register(cls: type[DispatchPolicy]) -> type[DispatchPolicy]:
    """Class decorator: make a policy selectable by its ``name``."""
    if not getattr(cls, "name", ""):
        raise ValueError(f"{cls.__name__} needs a non-empty class attribute 'name'")
    _REGISTRY[cls.name] = cls
    return cls


def policy_names() -> list[str]:
    """Names of the registered policies."""
    return sorted(_REGISTRY)


def make_policy(name: str, model: PresalesModel) -> DispatchPolicy:
    """The policy registered under ``name``, bound to ``model``."""
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

    def on_time_latest(self, ticket: Ticket) -> float:
        """Latest start that still counts as on time, working hours."""
        slack = self.model.scenario.control.slight_after_hours
        return latest_start(self.model, ticket, max(0.0, slack - 1e-9))

    def wait_latest(self, ticket: Ticket) -> float | None:
        """Latest start the rep accepts, working hours (None: any)."""
        return latest_start(
            self.model, ticket, self.model.scenario.dispatch.max_wait_hours
        )

    def post_grab(self, ticket: Ticket) -> bool:
        """Post ``ticket`` as a grab order; False if grabbing is off."""
        m = self.model
        boosted = m.dispatcher.active("delay_grab", ticket.region, ticket.solution)
        if not (m.scenario.grab.enabled or boosted):
            return False
        incentive = m.scenario.grab.incentive
        if boosted:
            incentive = min(1.0, incentive + m.scenario.control.playbook_incentive)
        self.grabs.post(ticket, incentive, on_expire=self.after_grab_expired)
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
        outcome = self.desk.direct_book(ticket, self.on_time_latest(ticket))
        if outcome == BOOKED:
            return
        if outcome == NO_BUDGET:
            self.desk.unserved(ticket, NO_BUDGET)
            return
        self.late_or_grab(ticket)


@register
class Hybrid(DispatchPolicy):
    """Book on time when possible, else post a grab order at once."""

    name = "hybrid"

    def on_ticket(self, ticket: Ticket) -> None:
        outcome = self.desk.direct_book(ticket, self.on_time_latest(ticket))
        if outcome == BOOKED:
            return
        if outcome == NO_BUDGET:
            self.desk.unserved(ticket, NO_BUDGET)
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
