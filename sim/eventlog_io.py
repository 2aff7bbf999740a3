"""Read and normalise event logs, from the simulation or from a company's system.

The schema is the one in ``docs/event_log.md``. :func:`read_event_log` checks a
CSV file row by row and never raises on a bad row: every row that does not fit is
left out of the returned table and reported as a :class:`RowIssue` carrying its
row number (1-based, the header is row 1, so the first data row is row 2; a row
is one CSV record, which is one spreadsheet row even when a quoted field spans
several lines) and the reason. Problems that make the whole file unusable (no
file, no header, a required column missing) raise :class:`EventLogError`.

Required columns are ``time``, ``kind`` and ``ticket``. Every other column is
optional and gets a default when absent: ``seq`` the rank of the row in time
order (ties keep file order), ``day``
``floor(time / 24)``, ``opportunity`` -1, ``amount`` 0, ``hours`` 0.0, ``value``
NaN and the text columns the empty string. Empty cells in an optional column take
the same default. Header names are matched after trimming spaces and lowering
case; columns outside the schema are ignored and reported once, against row 1.
``seq`` values must be unique, and a row whose time is earlier than that of a valid
row with a lower ``seq`` is reported (event times never decrease in seq order).

:func:`normalise_events` brings an in-memory table (for example the one a run
holds) to the same shape without row checks, so the board, ledger and figure code
accept either source.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

EVENT_COLUMNS: tuple[str, ...] = (
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
REQUIRED_COLUMNS: tuple[str, ...] = ("time", "kind", "ticket")
TEXT_COLUMNS: tuple[str, ...] = (
    "kind",
    "rep",
    "engineer",
    "region",
    "solution",
    "stage",
    "detail",
)
INT_DEFAULTS: dict[str, int] = {"ticket": -1, "opportunity": -1, "amount": 0}
FLOAT_DEFAULTS: dict[str, float] = {"hours": 0.0, "value": math.nan}

EVENT_KINDS: frozenset[str] = frozenset(
    {
        "budget_set",
        "opportunity_created",
        "stage_entered",
        "ticket_raised",
        "booking_refused",
        "ticket_booked",
        "grab_posted",
        "grab_invited",
        "grab_clarify",
        "grab_declined",
        "grab_grabbed",
        "grab_confirmed",
        "grab_rejected",
        "grab_expired",
        "work_started",
        "work_finished",
        "ticket_rated",
        "ticket_unserved",
        "alert",
        "playbook_applied",
        "opportunity_closed",
    }
)
TICKET_KINDS: frozenset[str] = frozenset(
    {
        "ticket_raised",
        "booking_refused",
        "ticket_booked",
        "grab_posted",
        "grab_invited",
        "grab_clarify",
        "grab_declined",
        "grab_grabbed",
        "grab_confirmed",
        "grab_rejected",
        "grab_expired",
        "work_started",
        "work_finished",
        "ticket_rated",
        "ticket_unserved",
    }
)
DELAY_CLASSES: tuple[str, ...] = ("on_time", "slight", "severe")
DETAIL_CHOICES: dict[str, frozenset[str]] = {
    "work_started": frozenset(DELAY_CLASSES),
    "ticket_unserved": frozenset(
        {"budget", "no_engineer", "grab_expired", "cancelled"}
    ),
    "alert": frozenset({"delay", "volume", "rating"}),
    "opportunity_closed": frozenset({"won", "lost"}),
}


class EventLogError(ValueError):
    """An event log that cannot be read at all (as opposed to a bad row)."""


@dataclass(frozen=True)
class RowIssue:
    """One problem found in one row of an event-log file.

    Attributes:
        row: 1-based row number; the header is row 1.
        column: The column at fault, or "" when the whole row is at fault.
        reason: What is wrong, in words a user can act on.
    """

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column '{self.column}'" if self.column else "")
        return f"{where}: {self.reason}"


def read_event_log(path: str | Path) -> tuple[pd.DataFrame, list[RowIssue]]:
    """Read an event-log CSV file and check it row by row.

    Args:
        path: The CSV file, written by the simulation or by another system in the
            schema of ``docs/event_log.md``.

    Returns:
        The valid rows as a normalised event table (sorted by ``seq``) and the
        list of issues; every row left out of the table has at least one issue.

    Raises:
        EventLogError: The file is missing or unreadable, has no header, or lacks
            a required column.
    """
    path = Path(path)
    header, records = _read_records(path)
    columns, issues = _match_header(path, header)
    frame, row_numbers, shape_issues = _frame_from_records(columns, records)
    issues += shape_issues
    frame, check_issues = _check_frame(frame, row_numbers)
    issues += check_issues
    issues.sort(key=lambda issue: issue.row)
    return frame, issues


def write_event_log(events: pd.DataFrame, path: str | Path) -> Path:
    """Write an event table as CSV in schema column order.

    Args:
        events: The event table; missing optional columns get their defaults.
        path: Destination file; parent folders are created.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    normalise_events(events).to_csv(path, index=False)
    return path


def normalise_events(events: pd.DataFrame) -> pd.DataFrame:
    """Bring an in-memory event table to the schema shape.

    Adds missing optional columns with their defaults, fills empty cells, sets
    the column types, and sorts stably by ``seq``. Rows are not otherwise checked.

    Args:
        events: An event table with at least the required columns.

    Returns:
        A new table with exactly :data:`EVENT_COLUMNS`, index reset.

    Raises:
        EventLogError: A required column is missing.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in events.columns]
    if missing:
        raise EventLogError(
            f"the events table has no column '{missing[0]}'; it is required "
            f"(required: {', '.join(REQUIRED_COLUMNS)})"
        )
    out = pd.DataFrame(index=events.index)
    out["time"] = pd.to_numeric(events["time"]).astype(float)
    for name in EVENT_COLUMNS:
        if name != "time":
            out[name] = _normal_column(events, name, out["time"])
    out = out.sort_values("seq", kind="stable").reset_index(drop=True)
    return out[list(EVENT_COLUMNS)]


def _normal_column(events: pd.DataFrame, name: str, time: pd.Series) -> pd.Series:
    """Return column ``name`` of ``events`` filled and typed, or its default."""
    present = name in events.columns
    col = events[name] if present else pd.Series(np.nan, index=events.index)
    if name == "seq":
        order = np.argsort(time.to_numpy(), kind="stable")
        rank = np.empty(len(order), dtype="int64")
        rank[order] = np.arange(len(order))
        fallback = pd.Series(rank, index=events.index)
        return col.fillna(fallback).astype("int64") if present else fallback
    if name == "day":
        return col.fillna(np.floor(time / 24.0)).astype("int64")
    if name in INT_DEFAULTS:
        return pd.to_numeric(col).fillna(INT_DEFAULTS[name]).astype("int64")
    if name in FLOAT_DEFAULTS:
        return pd.to_numeric(col).fillna(FLOAT_DEFAULTS[name]).astype(float)
    return col.where(col.notna(), "").astype(str)


def _read_records(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Read the header and the numbered data records of a CSV file."""
    if not path.is_file():
        raise EventLogError(
            f"event log '{path}' does not exist or is not a file; "
            "check the path (relative paths start at the working directory)"
        )
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(enumerate(csv.reader(handle), start=1))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EventLogError(
            f"event log '{path}' cannot be read as UTF-8 CSV ({exc}); "
            "export it again as comma-separated UTF-8 text"
        ) from exc
    if not rows or not any(cell.strip() for cell in rows[0][1]):
        raise EventLogError(
            f"event log '{path}' is empty or has no header row; the first row must "
            f"name the columns, at least {', '.join(REQUIRED_COLUMNS)}"
        )
    return rows[0][1], rows[1:]


def _match_header(path: Path, header: list[str]) -> tuple[list[str], list[RowIssue]]:
    """Normalise header names and check required columns."""
    columns = [name.strip().lower() for name in header]
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            raise EventLogError(
                f"event log '{path}' has no column '{name}', which is required; "
                f"add a '{name}' column (see docs/event_log.md) or rename the "
                "column that holds it"
            )
    issues = [
        RowIssue(1, name, "column is not in the event-log schema and is ignored")
        for name in columns
        if name not in EVENT_COLUMNS
    ]
    seen: set[str] = set()
    for name in columns:
        if name in seen and name in EVENT_COLUMNS:
            raise EventLogError(
                f"event log '{path}' names column '{name}' twice; keep one of them"
            )
        seen.add(name)
    return columns, issues


class _Faults:
    """Per-row fault messages of one column; the first fault of a row wins."""

    def __init__(self, size: int):
        self.mask = np.zeros(size, dtype=bool)
        self.text = np.empty(size, dtype=object)

    def add(self, where, template: str, values=None) -> None:
        """Flag rows in ``where``; ``{}`` in the template takes the row's value."""
        take = np.asarray(where, dtype=bool) & ~self.mask
        self.mask |= take
        shown = None if values is None else np.asarray(values, dtype=object)
        for position in np.flatnonzero(take):
            value = "" if shown is None else shown[position]
            self.text[position] = template.format(value)

    def clear(self, where: np.ndarray) -> None:
        """Drop the faults of rows in ``where`` (already reported elsewhere)."""
        self.mask &= ~where


def _frame_from_records(
    columns: list[str], records: list[tuple[int, list[str]]]
) -> tuple[pd.DataFrame, np.ndarray, list[RowIssue]]:
    """Build a text frame of the schema columns, reporting ragged records."""
    issues: list[RowIssue] = []
    kept: list[list[str]] = []
    numbers: list[int] = []
    width = len(columns)
    for number, fields in records:
        if not "".join(fields).strip():
            continue
        if len(fields) != width:
            issues.append(
                RowIssue(
                    number, "", f"has {len(fields)} fields, the header has {width}"
                )
            )
            continue
        kept.append(fields)
        numbers.append(number)
    frame = pd.DataFrame(kept, columns=columns, dtype=object)
    frame = frame[[c for c in columns if c in EVENT_COLUMNS]]
    frame = frame.apply(lambda col: col.str.strip()).astype(object)
    return frame.reset_index(drop=True), np.asarray(numbers, dtype=int), issues


def _check_frame(
    text: pd.DataFrame, numbers: np.ndarray
) -> tuple[pd.DataFrame, list[RowIssue]]:
    """Parse and check every column; drop and report rows that fail."""
    issues: list[RowIssue] = []
    parsed: dict[str, pd.Series] = {}
    bad = np.zeros(len(text), dtype=bool)
    unparsed: dict[str, np.ndarray] = {}
    for name in EVENT_COLUMNS:
        if name in text.columns:
            parsed[name], faults = _parse_column(name, text[name])
            unparsed[name] = _record(issues, numbers, name, faults)
            bad |= unparsed[name]
    frame = pd.DataFrame(parsed, index=text.index)
    for name, faults in _row_rules(frame, bad).items():
        faults.clear(unparsed.get(name, np.zeros(len(text), dtype=bool)))
        bad |= _record(issues, numbers, name, faults)
    return normalise_events(frame.loc[~bad]), issues


def _record(
    issues: list[RowIssue], numbers: np.ndarray, column: str, faults: _Faults
) -> np.ndarray:
    """Append an issue per faulty row; return the fault mask."""
    for position in np.flatnonzero(faults.mask):
        issues.append(RowIssue(int(numbers[position]), column, faults.text[position]))
    return faults.mask


def _parse_column(name: str, text: pd.Series) -> tuple[pd.Series, _Faults]:
    """Parse one text column; return values and per-row faults."""
    faults = _Faults(len(text))
    if name in TEXT_COLUMNS:
        return text.astype(str), faults
    empty = (text == "").to_numpy()
    numbers = pd.to_numeric(text.where(~empty), errors="coerce").astype(float)
    values = numbers.to_numpy()
    faults.add(np.isnan(values) & ~empty, "'{}' is not a number", text)
    faults.add(np.isinf(values), "is not finite")
    if name == "time":
        faults.add(empty, "is empty; every event needs a time")
    if name in ("time", "hours"):
        faults.add(values < 0, "is negative")
    if name in ("seq", "day", "ticket", "opportunity", "amount"):
        fraction = ~np.isnan(values) & (values != np.round(values))
        faults.add(fraction, "'{}' is not a whole number", text)
        faults.add(np.abs(values) > 2**53, "is too large")
    return numbers.where(~faults.mask), faults


def _row_rules(frame: pd.DataFrame, bad: np.ndarray) -> dict[str, _Faults]:
    """Checks that involve several columns or the kind of the event."""
    kind = frame["kind"]
    faults = _Faults(len(frame))
    faults.add(kind == "", "is empty; every event needs a kind")
    faults.add(~kind.isin(EVENT_KINDS), "'{}' is not an event kind of the schema", kind)
    rules = {
        "kind": faults,
        "time": _time_rule(frame),
        "ticket": _ticket_rule(frame),
        "detail": _detail_rule(frame),
        "value": _rating_rule(frame),
    }
    if "day" in frame.columns:
        rules["day"] = _day_rule(frame)
    if "seq" in frame.columns:
        others = np.logical_or.reduce([f.mask for f in rules.values()])
        rules["seq"] = _seq_rule(frame, bad | others)
    return rules


# Latest time believed, calendar hours from the log's start (about 100 years):
# a later one is a typo that would stretch the board over centuries.
MAX_TIME_HOURS = 24.0 * 366 * 100


def _time_rule(frame: pd.DataFrame) -> _Faults:
    """Times must lie within a century of the log's start, not before it."""
    faults = _Faults(len(frame))
    time = frame["time"]
    faults.add(
        (time > MAX_TIME_HOURS) | (time < 0),
        "{} is not between 0 and 876,000 hours (100 years) from the start",
        time.astype(str),
    )
    return faults


def _ticket_rule(frame: pd.DataFrame) -> _Faults:
    """Ticket events need a ticket id of 0 or more."""
    faults = _Faults(len(frame))
    wrong = frame["kind"].isin(TICKET_KINDS) & ~(frame["ticket"] >= 0)
    faults.add(wrong, "a {} event needs a ticket id >= 0", frame["kind"])
    return faults


def _detail_rule(frame: pd.DataFrame) -> _Faults:
    """Kinds whose detail is one of a fixed set must use it."""
    faults = _Faults(len(frame))
    detail = frame.get("detail", pd.Series("", index=frame.index))
    for kind, choices in DETAIL_CHOICES.items():
        wrong = (frame["kind"] == kind) & ~detail.isin(choices)
        allowed = ", ".join(sorted(choices))
        faults.add(wrong, "'{}' is not one of " + f"{allowed} for {kind}", detail)
    return faults


def _rating_rule(frame: pd.DataFrame) -> _Faults:
    """Ratings are whole numbers from 1 to 5."""
    faults = _Faults(len(frame))
    value = frame.get("value", pd.Series(np.nan, index=frame.index))
    wrong = (frame["kind"] == "ticket_rated") & ~value.isin([1, 2, 3, 4, 5])
    faults.add(wrong, "a rating must be a whole number from 1 to 5")
    return faults


def _day_rule(frame: pd.DataFrame) -> _Faults:
    """A given day must equal floor(time / 24)."""
    faults = _Faults(len(frame))
    expected = np.floor(frame["time"] / 24.0)
    wrong = frame["day"].notna() & frame["time"].notna() & (frame["day"] != expected)
    shown = (
        [
            f"{d:.0f} (expected {e:.0f})"
            for d, e in zip(frame["day"], expected, strict=True)
        ]
        if wrong.any()
        else None
    )
    faults.add(wrong, "day {} does not match time", shown)
    return faults


def _seq_rule(frame: pd.DataFrame, bad: np.ndarray) -> _Faults:
    """Seq values are unique and event times never decrease in seq order."""
    faults = _Faults(len(frame))
    seq = frame["seq"]
    faults.add(seq.isna() & ~bad, "is empty; give every row a seq or drop the column")
    dup = (seq.notna() & seq.duplicated(keep="first")).to_numpy()
    faults.add(dup, "seq {:.0f} is used twice", seq)
    ok = ~bad & seq.notna().to_numpy() & ~dup
    ordered = frame.loc[ok, ["seq", "time"]].sort_values("seq", kind="stable")
    earlier = ordered["time"].cummax().shift(fill_value=-math.inf)
    back = frame.index.isin(ordered.index[ordered["time"] < earlier])
    faults.add(back, "time goes back: an event with a lower seq happens later")
    return faults
