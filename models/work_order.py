"""Work orders (tickets) and the opportunities that raise them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

DONE = "done"
UNSERVED = "unserved"


@dataclass(slots=True)
class Ticket:
    """One use of a presales engineer: a work order.

    Times are calendar hours since the start; ``hours`` and ``delay_hours`` are
    working hours; ``cost`` is in cents.
    """

    id: int
    opportunity: int
    rep: str
    region: str
    solution: str
    stage: str
    activity: str
    min_proficiency: int
    hours: float
    raised_at: float
    requested_start: float
    engineer: str = ""
    engineer_region: str = ""
    grade: str = ""
    channel: str = ""
    booked_start: float = math.nan
    actual_start: float = math.nan
    finished_at: float = math.nan
    delay_hours: float = math.nan
    delay_class: str = ""
    cost: int = 0
    incentive: float = 0.0
    rating: float = math.nan
    status: str = ""
    unserved_reason: str = ""
    quarter: str = ""
    fit: int = 0


@dataclass(slots=True)
class Opportunity:
    """A sales opportunity moving through the sales stages."""

    id: int
    rep: str
    region: str
    solution: str
    created_at: float
    deal_value: float
    base_win_rate: float
    cycle_days: float
    tickets: list[int] = field(default_factory=list)
    open_tickets: int = 0
    cycle_over: bool = False
    closed_at: float = math.nan
    win_probability: float = math.nan
    outcome: str = ""
    revenue: float = 0.0
