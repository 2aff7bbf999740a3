"""Business calendars: arithmetic in working hours.

Simulated time runs in *calendar hours* since the scenario's start date at
00:00 local time. Work is measured in *working hours*: only the hours inside
the calendar's openings (working hours on working weekdays that are not
holidays) count. The calendar maps between the two clocks:

* ``worked(t)`` is the number of working hours between the start and
  calendar time ``t``; it is continuous and non-decreasing.
* ``at(w)`` is the calendar time at which ``w`` working hours have elapsed. At
  the seam between two openings the same ``w`` is both the end of one opening
  and the start of the next; ``at`` returns the start of the next opening (the
  moment work can begin) and ``at_end`` the end of the previous one (the moment
  work finishes).

A booking of ``h`` working hours starting at working time ``w`` occupies the
half-open interval ``[w, w + h)``; it is the same booking whether it spans a
night, a weekend or a holiday.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

HOURS_PER_DAY = 24.0


@dataclass
class BusinessCalendar:
    """Working hours, weekdays and holidays, from a start date onward.

    Args:
        start: The date at whose midnight calendar time 0 lies.
        openings: The day's working periods as ``(from_hour, to_hour)`` pairs,
            e.g. ``[(9, 12), (13, 18)]``; ``[(0, 24)]`` is round the clock.
        weekdays: Working weekdays, Monday = 0 ... Sunday = 6.
        holidays: Dates on which nobody works.
        timezone: Name of the time zone the hours are local to (a label: all
            simulated times are local times in it).
    """

    start: dt.date
    openings: Sequence[tuple[float, float]] = ((9.0, 12.0), (13.0, 18.0))
    weekdays: Iterable[int] = (0, 1, 2, 3, 4)
    holidays: Iterable[dt.date] = ()
    timezone: str = "UTC"
    _starts: list[float] = field(default_factory=list, init=False, repr=False)
    _ends: list[float] = field(default_factory=list, init=False, repr=False)
    _cum: list[float] = field(default_factory=list, init=False, repr=False)
    _days_built: int = field(default=0, init=False, repr=False)
    # The last ``worked`` query and its answer: the model asks for the
    # working time of "now" many times at the same instant.
    _memo: tuple[float, float] = field(
        default=(-1.0, 0.0), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.openings = tuple(sorted((float(a), float(b)) for a, b in self.openings))
        self.weekdays = frozenset(int(d) for d in self.weekdays)
        self.holidays = frozenset(self.holidays)
        _check_openings(self.openings)
        if not self.weekdays:
            raise ValueError("a business calendar needs at least one working weekday")
        self._extend(366)

    # -- building -------------------------------------------------------------

    def _extend(self, days: int) -> None:
        """Lay out openings for ``days`` more days."""
        total = (
            self._cum[-1] + (self._ends[-1] - self._starts[-1]) if self._cum else 0.0
        )
        first = self._days_built
        for day in range(first, first + days):
            if not self.is_working_day(day):
                continue
            base = day * HOURS_PER_DAY
            for a, b in self.openings:
                self._starts.append(base + a)
                self._ends.append(base + b)
                self._cum.append(total)
                total += b - a
        self._days_built = first + days
        if not self._starts:
            self._extend(366)

    def _cover_time(self, t: float) -> None:
        while t >= (self._days_built - 1) * HOURS_PER_DAY:
            self._extend(366)

    def _cover_work(self, w: float) -> None:
        while w >= self._cum[-1] + (self._ends[-1] - self._starts[-1]):
            self._extend(366)

    # -- queries --------------------------------------------------------------

    def date_of(self, day: int) -> dt.date:
        """The calendar date of simulated day ``day``."""
        return self.start + dt.timedelta(days=int(day))

    def is_working_day(self, day: int) -> bool:
        """Whether simulated day ``day`` has any working hours."""
        date = self.date_of(day)
        return date.weekday() in self.weekdays and date not in self.holidays

    def hours_per_working_day(self) -> float:
        """Working hours in one working day."""
        return sum(b - a for a, b in self.openings)

    def worked(self, t: float) -> float:
        """Working hours elapsed between calendar time 0 and ``t``."""
        memo = self._memo
        if t == memo[0]:
            return memo[1]
        if t <= 0:
            return 0.0
        self._cover_time(t)
        i = bisect.bisect_right(self._starts, t) - 1
        if i < 0:
            return 0.0
        w = self._cum[i] + min(t, self._ends[i]) - self._starts[i]
        self._memo = (t, w)
        return w

    def at(self, w: float) -> float:
        """Calendar time at which work ``w`` hours in can start."""
        w = max(0.0, w)
        self._cover_work(w)
        i = bisect.bisect_right(self._cum, w) - 1
        return self._starts[i] + (w - self._cum[i])

    def at_end(self, w: float) -> float:
        """Calendar time at which work ending ``w`` hours in finishes."""
        if w <= 0:
            return self._starts[0]
        self._cover_work(w)
        i = bisect.bisect_left(self._cum, w) - 1
        return self._starts[i] + (w - self._cum[i])

    def next_open(self, t: float) -> float:
        """``t`` if the calendar is open then, else the start of the next opening."""
        return self.at(self.worked(t))

    def is_open(self, t: float) -> bool:
        """Whether ``t`` lies inside an opening (start included, end excluded)."""
        self._cover_time(t)
        i = bisect.bisect_right(self._starts, t) - 1
        return i >= 0 and t < self._ends[i]

    def add(self, t: float, hours: float) -> float:
        """Calendar time at which ``hours`` of work started at ``t`` finish.

        Never earlier than ``t``: no work (``hours == 0``) finishes at once.
        """
        return max(t, self.at_end(self.worked(t) + hours))

    def between(self, t0: float, t1: float) -> float:
        """Working hours from ``t0`` to ``t1`` (negative if ``t1`` is earlier)."""
        return self.worked(t1) - self.worked(t0)

    def available_on(self, day: int) -> float:
        """Working hours in simulated day ``day``."""
        return self.hours_per_working_day() if self.is_working_day(day) else 0.0


def _check_openings(openings: Sequence[tuple[float, float]]) -> None:
    previous_end = 0.0
    for a, b in openings:
        if not 0.0 <= a < b <= HOURS_PER_DAY:
            raise ValueError(
                f"working period ({a}, {b}) must satisfy 0 <= from < to <= 24"
            )
        if a < previous_end:
            raise ValueError(f"working period ({a}, {b}) overlaps the one before it")
        previous_end = b
