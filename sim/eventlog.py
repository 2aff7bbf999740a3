"""A compact, append-only event log kept in columns.

Each event is one row of fixed columns (see ``COLUMNS``). The log keeps one
typed array per column rather than one object per event or per field: times,
hours and values as 8-byte floats, ids and amounts as 8-byte integers, and the
text columns as 4-byte codes into one shared vocabulary of the distinct
strings seen (kinds, names, regions, ...). A row costs about 80 bytes however
long the run, so a year of an enterprise-size run stays small; ``seq`` and
``day`` are derived when the log turns into a pandas DataFrame at the end.
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
        self._text = {name: array("i") for name in TEXT_COLUMNS}
        self._vocab: dict[str, int] = {}
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
        code = self._vocab.setdefault
        text = self._text
        text["kind"].append(code(kind, len(self._vocab)))
        text["rep"].append(code(rep, len(self._vocab)))
        text["engineer"].append(code(engineer, len(self._vocab)))
        text["region"].append(code(region, len(self._vocab)))
        text["solution"].append(code(solution, len(self._vocab)))
        text["stage"].append(code(stage, len(self._vocab)))
        text["detail"].append(code(detail, len(self._vocab)))
        self._time.append(time)
        self._ticket.append(ticket)
        self._opportunity.append(opportunity)
        self._amount.append(int(amount))
        self._hours.append(hours)
        self._value.append(value)

    def count(self, kind: str) -> int:
        """Number of events of one kind."""
        code = self._vocab.get(kind)
        return 0 if code is None else self._text["kind"].count(code)

    def nbytes(self) -> int:
        """Bytes held by the columns (not counting the shared vocabulary)."""
        arrays = [self._time, self._hours, self._value, self._ticket]
        arrays += [self._opportunity, self._amount, *self._text.values()]
        return sum(a.itemsize * len(a) for a in arrays)

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame with the documented column types."""
        words = np.empty(len(self._vocab), dtype=object)
        for word, code in self._vocab.items():
            words[code] = word
        time = np.frombuffer(self._time, dtype=np.float64).copy()
        columns = {
            "seq": np.arange(len(time), dtype=np.int64),
            "time": time,
            "day": (time // 24).astype(np.int64),
        }
        for name in COLUMNS[3:]:
            if name in TEXT_COLUMNS:
                columns[name] = words[np.frombuffer(self._text[name], dtype=np.int32)]
            else:
                dtype = np.float64 if name in FLOAT_COLUMNS else np.int64
                raw = getattr(self, f"_{name}")
                columns[name] = np.frombuffer(raw, dtype=dtype).copy()
        return pd.DataFrame(columns, columns=list(COLUMNS))
