"""A compact, append-only event log kept in columns.

Each event is one row of fixed columns (see ``COLUMNS``); the log keeps one
Python list per column rather than one object per event, so a year of an
enterprise-size run stays small, and turns into a pandas DataFrame at the end.
The column meanings are documented in ``docs/event_log.md``.
"""

from __future__ import annotations

import math

import pandas as pd

COLUMNS = (
    "seq",
    "time",
    "day",
    "kind",
    "ticket",
    "opportunity",
    "rep",
    "engineer",
    "region",
    "solution",
    "stage",
    "amount",
    "hours",
    "value",
    "detail",
)
NAN = math.nan


class EventLog:
    """Events in recording order; times must never decrease."""

    def __init__(self) -> None:
        self._cols: dict[str, list] = {name: [] for name in COLUMNS}
        self._last_time = -math.inf

    def __len__(self) -> int:
        return len(self._cols["seq"])

    def record(
        self,
        time: float,
        kind: str,
        *,
        ticket: int = -1,
        opportunity: int = -1,
        rep: str = "",
        engineer: str = "",
        region: str = "",
        solution: str = "",
        stage: str = "",
        amount: int = 0,
        hours: float = 0.0,
        value: float = NAN,
        detail: str = "",
    ) -> None:
        """Append one event; ``time`` is in calendar hours since the start."""
        if time < self._last_time:
            raise ValueError(
                f"event {kind!r} at time {time} is earlier than the last event "
                f"at {self._last_time}; events must be recorded in time order"
            )
        self._last_time = time
        c = self._cols
        c["seq"].append(len(c["seq"]))
        c["time"].append(time)
        c["day"].append(int(time // 24))
        c["kind"].append(kind)
        c["ticket"].append(ticket)
        c["opportunity"].append(opportunity)
        c["rep"].append(rep)
        c["engineer"].append(engineer)
        c["region"].append(region)
        c["solution"].append(solution)
        c["stage"].append(stage)
        c["amount"].append(int(amount))
        c["hours"].append(hours)
        c["value"].append(value)
        c["detail"].append(detail)

    def count(self, kind: str) -> int:
        """Number of events of one kind."""
        return sum(1 for k in self._cols["kind"] if k == kind)

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame with the documented column types."""
        frame = pd.DataFrame(self._cols, columns=list(COLUMNS))
        return frame.astype(
            {
                "seq": "int64",
                "time": "float64",
                "day": "int64",
                "ticket": "int64",
                "opportunity": "int64",
                "amount": "int64",
                "hours": "float64",
                "value": "float64",
            }
        )
