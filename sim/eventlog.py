"""A compact, append-only event log kept in columns.

Each event is one row of fixed columns (see ``COLUMNS``). The log keeps one
column per field rather than one object per event, and makes no Python object
per field either: times, hours and values go into typed arrays of 8-byte
floats, ids and amounts into arrays of 8-byte integers, and the text columns
hold references to strings the model already has (event kinds, names,
regions, stages), which are shared, not copied. A row costs about 100 bytes
however long the run, so a year of an enterprise-size run stays small; ``seq``
and ``day`` are derived when the log turns into a pandas DataFrame at the end.
The column meanings are documented in ``docs/event_log.md``.
"""

from __future__ import annotations

import math
from array import array

import numpy as np
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
TEXT_COLUMNS = ("kind", "rep", "engineer", "region", "solution", "stage", "detail")
INT_COLUMNS = ("ticket", "opportunity", "amount")
FLOAT_COLUMNS = ("time", "hours", "value")
NAN = math.nan


class EventLog:
    """Events in recording order; times must never decrease."""

    def __init__(self) -> None:
        self._time = array("d")
        self._hours = array("d")
        self._value = array("d")
        self._ticket = array("q")
        self._opportunity = array("q")
        self._amount = array("q")
        self._text: dict[str, list[str]] = {name: [] for name in TEXT_COLUMNS}
        self._last_time = -math.inf

    def __len__(self) -> int:
        return len(self._time)

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
        text = self._text
        text["kind"].append(kind)
        text["rep"].append(rep)
        text["engineer"].append(engineer)
        text["region"].append(region)
        text["solution"].append(solution)
        text["stage"].append(stage)
        text["detail"].append(detail)
        self._time.append(time)
        self._ticket.append(ticket)
        self._opportunity.append(opportunity)
        self._amount.append(int(amount))
        self._hours.append(hours)
        self._value.append(value)

    def count(self, kind: str) -> int:
        """Number of events of one kind."""
        return self._text["kind"].count(kind)

    def nbytes(self) -> int:
        """Bytes held by the columns (strings themselves are shared, not counted)."""
        arrays = [self._time, self._hours, self._value, self._ticket]
        arrays += [self._opportunity, self._amount]
        pointers = sum(8 * len(column) for column in self._text.values())
        return pointers + sum(a.itemsize * len(a) for a in arrays)

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame with the documented column types."""
        time = np.frombuffer(self._time, dtype=np.float64).copy()
        columns = {
            "seq": np.arange(len(time), dtype=np.int64),
            "time": time,
            "day": (time // 24).astype(np.int64),
        }
        for name in COLUMNS[3:]:
            if name in TEXT_COLUMNS:
                column = np.empty(len(time), dtype=object)
                column[:] = self._text[name]
                columns[name] = column
            else:
                dtype = np.float64 if name in FLOAT_COLUMNS else np.int64
                raw = getattr(self, f"_{name}")
                columns[name] = np.frombuffer(raw, dtype=dtype).copy()
        return pd.DataFrame(columns, columns=list(COLUMNS))
