"""An engineer's schedule: booked slots on the working-time axis.

Slots are half-open intervals ``[start, end)`` in working hours since the
scenario start (see ``sim.calendar``): a slot ending at 14.0 and another
starting at 14.0 are back to back, not overlapping.
"""

from __future__ import annotations

import bisect
import math


class DoubleBookingError(ValueError):
    """A booking would overlap a slot already on the schedule."""


class Schedule:
    """Booked slots of one engineer, kept sorted by start.

    Attributes:
        last_end: End of the last slot (``-inf`` when none is booked): the
            schedule is free from then on. Searches read it to skip
            :meth:`earliest` for engineers with nothing booked that late.
    """

    __slots__ = ("_starts", "_ends", "_tickets", "last_end")

    def __init__(self) -> None:
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._tickets: list[int] = []
        self.last_end = -math.inf

    def __len__(self) -> int:
        return len(self._starts)

    def slots(self) -> list[tuple[float, float, int]]:
        """The booked ``(start, end, ticket)`` slots in order."""
        return list(zip(self._starts, self._ends, self._tickets, strict=True))

    def ticket_ids(self) -> set[int]:
        """Tickets with a slot on the schedule (absences, negative ids, left out)."""
        return {t for t in self._tickets if t >= 0}

    def tickets_from(self, w: float) -> int:
        """Number of ticket slots starting at or after working time ``w``."""
        i = bisect.bisect_left(self._starts, w)
        return sum(1 for t in self._tickets[i:] if t >= 0)

    def is_free(self, start: float, end: float) -> bool:
        """Whether ``[start, end)`` overlaps no booked slot."""
        i = bisect.bisect_right(self._starts, start)
        if i > 0 and self._ends[i - 1] > start:
            return False
        return i >= len(self._starts) or self._starts[i] >= end

    def earliest(self, start: float, hours: float, latest: float | None = None):
        """Earliest ``s >= start`` with ``[s, s + hours)`` free, or None.

        Args:
            start: Earliest acceptable start, working hours.
            hours: Length of the slot, working hours.
            latest: Latest acceptable start; None accepts any.
        """
        i = bisect.bisect_right(self._starts, start)
        s = start
        if i > 0 and self._ends[i - 1] > s:
            s = self._ends[i - 1]
        while i < len(self._starts) and self._starts[i] < s + hours:
            s = max(s, self._ends[i])
            i += 1
        if latest is not None and s > latest:
            return None
        return s

    def book(self, start: float, hours: float, ticket: int) -> None:
        """Add the slot ``[start, start + hours)``; refuse any overlap."""
        end = start + hours
        if not self.is_free(start, end):
            raise DoubleBookingError(
                f"ticket {ticket}: slot [{start}, {end}) overlaps a booked slot"
            )
        i = bisect.bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)
        self._tickets.insert(i, ticket)
        self.last_end = self._ends[-1]

    def cancel(self, ticket: int) -> bool:
        """Remove the slot of ``ticket``; False if it was not booked."""
        try:
            i = self._tickets.index(ticket)
        except ValueError:
            return False
        del self._starts[i], self._ends[i], self._tickets[i]
        self.last_end = self._ends[-1] if self._ends else -math.inf
        return True

    def booked_between(self, start: float, end: float) -> float:
        """Booked working hours inside ``[start, end)``."""
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        total = 0.0
        while i < len(self._starts) and self._starts[i] < end:
            total += max(0.0, min(end, self._ends[i]) - max(start, self._starts[i]))
            i += 1
        return total

    def forget_before(self, w: float) -> None:
        """Drop slots that ended at or before working time ``w``."""
        if not self._ends or self._ends[0] > w:
            return  # nothing ended yet (the common case at the day's close)
        i = bisect.bisect_right(self._ends, w)
        if i:
            del self._starts[:i], self._ends[:i], self._tickets[:i]
            if not self._ends:
                self.last_end = -math.inf
