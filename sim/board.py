"""The daily control board, computed from the event log.

:func:`daily_board` gives one row per day x region x solution with the columns of
``board.csv`` (``docs/event_log.md``). Definitions:

* ``volume``: ``ticket_raised`` events that day.
* ``started``, ``on_time``, ``slight``, ``severe``: ``work_started`` events that
  day, split by their delay class; ``slight_share`` and ``severe_share`` are over
  ``started`` and ``on_time_rate`` is ``on_time / started``.
* ``ratings``: ``ticket_rated`` events that day; ``bad_ratings`` those rated 2 or
  less; ``satisfaction`` the share rated 4 or 5.
* ``busy_hours``: worked hours of ``work_finished`` events, put on the day the
  ticket's work started (the first ``work_started`` of the ticket; the finish day
  when the log has no start), so a job is counted once, on the day it began.
* ``available_hours`` and ``utilisation = busy_hours / available_hours`` come
  from an ``availability`` table (``day, region, solution, available_hours``);
  without one both are NaN. ``busy_hours`` follows the ticket's region unless an
  ``engineer_home`` map is given, in which case it follows the engineer's home
  region, which matches the documented meaning of utilisation when engineers
  work outside their region.
* ``backlog``: tickets raised on or before the day and neither started nor
  unserved by the day's end.
* ``status``: see :class:`StatusRule`.

Rates and shares with a zero denominator are NaN. The grid is full: every day
from the log's first to last (or the days given) for every region and every
solution that any ticket event names, with zero counts where nothing happened.

:func:`engineer_board` gives the same view per day x engineer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.eventlog_io import DELAY_CLASSES, TICKET_KINDS
from sim.ledger import fill_ticket_context

BOARD_COLUMNS: tuple[str, ...] = (
    "day", "region", "solution", "volume", "started", "on_time", "slight",
    "severe", "slight_share", "severe_share", "on_time_rate", "ratings",
    "bad_ratings", "satisfaction", "busy_hours", "available_hours",
    "utilisation", "backlog", "status",
)
ENGINEER_COLUMNS: tuple[str, ...] = (
    "day", "engineer", "started", "on_time", "slight", "severe", "delays",
    "busy_hours", "ratings", "bad_ratings", "mean_rating",
)
STATUSES: tuple[str, ...] = ("normal", "slight", "severe")
KEY = ["region", "solution"]


@dataclass(frozen=True)
class StatusRule:
    """Thresholds that set a board row's dispatch status.

    A row is ``severe`` when it has at least ``severe_count`` severe starts or its
    severe share is above ``severe_share``; otherwise ``slight`` when it has at
    least ``slight_count`` slight starts or its slight share is above
    ``slight_share``; otherwise ``normal``. With the default counts of 1, any
    severe start makes the day severe and any slight start makes it slight; raise
    the counts to let the shares decide.

    Attributes:
        severe_count: Severe starts that make a day severe.
        severe_share: Severe share above which a day is severe.
        slight_count: Slight starts that make a day slight.
        slight_share: Slight share above which a day is slight.
    """

    severe_count: int = 1
    severe_share: float = 0.1
    slight_count: int = 1
    slight_share: float = 0.2

    def classify(self, board: pd.DataFrame) -> pd.Series:
        """Status of each board row.

        Args:
            board: Rows with ``slight``, ``severe`` and their shares.

        Returns:
            ``normal``, ``slight`` or ``severe`` per row.
        """
        severe = (board["severe"] >= self.severe_count) | (
            board["severe_share"] > self.severe_share)
        slight = (board["slight"] >= self.slight_count) | (
            board["slight_share"] > self.slight_share)
        status = np.where(severe, "severe", np.where(slight, "slight", "normal"))
        return pd.Series(status, index=board.index, dtype=object)


def daily_board(
    events: pd.DataFrame,
    availability: pd.DataFrame | None = None,
    status_rule: StatusRule | None = None,
    engineer_home: Mapping[str, str] | None = None,
    days: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Compute the daily control board.

    Args:
        events: The event log.
        availability: Optional ``day, region, solution, available_hours`` table;
            several rows for one cell are summed.
        status_rule: Status thresholds (default :class:`StatusRule`).
        engineer_home: Optional engineer to home region map for ``busy_hours``.
        days: Days to report; default every day from the log's first to last.

    Returns:
        The board with :data:`BOARD_COLUMNS`, ordered by day, region, solution.
    """
    ev = fill_ticket_context(events)
    grid = _grid(ev, days, availability)
    board = pd.DataFrame(index=grid)
    board["volume"] = _count(ev[ev["kind"] == "ticket_raised"], grid)
    board = board.join(_starts(ev, grid))
    board = board.join(_ratings(ev, grid))
    board["busy_hours"] = _busy(ev, grid, engineer_home)
    board["available_hours"] = _available(availability, grid)
    board["utilisation"] = _ratio(board["busy_hours"], board["available_hours"])
    board["backlog"] = _backlog(ev, grid)
    board["status"] = (status_rule or StatusRule()).classify(board)
    return board.reset_index()[list(BOARD_COLUMNS)]


def _grid(
    ev: pd.DataFrame, days: Iterable[int] | None, availability: pd.DataFrame | None
) -> pd.MultiIndex:
    """Full day x region x solution index."""
    tickets = ev[ev["kind"].isin(TICKET_KINDS)]
    regions, solutions = set(tickets["region"]), set(tickets["solution"])
    if availability is not None:
        regions |= set(availability["region"].astype(str))
        solutions |= set(availability["solution"].astype(str))
    if days is None:
        days = range(int(ev["day"].min()), int(ev["day"].max()) + 1) if len(ev) else []
    names = ["day", *KEY]
    levels = [sorted(set(days)), sorted(regions), sorted(solutions)]
    return pd.MultiIndex.from_product(levels, names=names)


def _count(rows: pd.DataFrame, grid: pd.MultiIndex) -> pd.Series:
    """Rows per grid cell."""
    counts = rows.groupby(list(grid.names)).size()
    return counts.reindex(grid, fill_value=0).astype("int64")


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Numerator over denominator, NaN where the denominator is 0 or NaN."""
    den = denominator.astype(float)
    return numerator.astype(float) / den.where(den > 0)


def _starts(ev: pd.DataFrame, grid: pd.MultiIndex) -> pd.DataFrame:
    """Started, delay-class counts, shares and on-time rate per cell."""
    starts = ev[ev["kind"] == "work_started"]
    out = pd.DataFrame(index=grid)
    out["started"] = _count(starts, grid)
    for cls in DELAY_CLASSES:
        out[cls] = _count(starts[starts["detail"] == cls], grid)
    out["slight_share"] = _ratio(out["slight"], out["started"])
    out["severe_share"] = _ratio(out["severe"], out["started"])
    out["on_time_rate"] = _ratio(out["on_time"], out["started"])
    return out


def _ratings(ev: pd.DataFrame, grid: pd.MultiIndex) -> pd.DataFrame:
    """Ratings, bad ratings and satisfaction per cell."""
    rated = ev[ev["kind"] == "ticket_rated"]
    out = pd.DataFrame(index=grid)
    out["ratings"] = _count(rated, grid)
    out["bad_ratings"] = _count(rated[rated["value"] <= 2], grid)
    good = _count(rated[rated["value"] >= 4], grid)
    out["satisfaction"] = _ratio(good, out["ratings"])
    return out


def work_with_start_day(ev: pd.DataFrame) -> pd.DataFrame:
    """``work_finished`` events with ``day`` replaced by the start day.

    Args:
        ev: A normalised event table.

    Returns:
        The finish events, each on the day its ticket's work first started (its
        own day when the log has no start for the ticket).
    """
    starts = ev[ev["kind"] == "work_started"].drop_duplicates("ticket")
    start_day = starts.set_index("ticket")["day"]
    work = ev[ev["kind"] == "work_finished"].copy()
    work["day"] = work["ticket"].map(start_day).fillna(work["day"]).astype("int64")
    return work


def _busy(
    ev: pd.DataFrame, grid: pd.MultiIndex, engineer_home: Mapping[str, str] | None
) -> pd.Series:
    """Worked hours per cell, on the start day."""
    work = work_with_start_day(ev)
    if engineer_home is not None:
        home = work["engineer"].map(dict(engineer_home))
        work["region"] = home.fillna(work["region"]).astype(str)
    hours = work.groupby(list(grid.names))["hours"].sum()
    return hours.reindex(grid, fill_value=0.0).astype(float)


def _available(availability: pd.DataFrame | None, grid: pd.MultiIndex) -> pd.Series:
    """Available hours per cell, NaN without an availability table."""
    if availability is None:
        return pd.Series(np.nan, index=grid)
    table = availability.astype({"region": str, "solution": str})
    hours = table.groupby(list(grid.names))["available_hours"].sum()
    return hours.reindex(grid, fill_value=0.0).astype(float)


def _backlog(ev: pd.DataFrame, grid: pd.MultiIndex) -> pd.Series:
    """Tickets raised and neither started nor unserved at each day's end."""
    raised = ev[ev["kind"] == "ticket_raised"].drop_duplicates("ticket")
    ended = ev[ev["kind"].isin(["work_started", "ticket_unserved"])]
    end_day = ended.groupby("ticket")["day"].min()
    opened = raised.assign(step=1)
    closed = raised.assign(day=raised["ticket"].map(end_day), step=-1).dropna(
        subset=["day"])
    steps = pd.concat([opened, closed]).astype({"day": "int64"})
    if not len(grid):
        return pd.Series(0, index=grid, dtype="int64")
    day_values = grid.get_level_values("day")
    first, last = int(day_values.min()), int(day_values.max())
    steps = steps[steps["day"] <= last].assign(day=lambda t: t["day"].clip(first))
    full = pd.MultiIndex.from_product(
        [range(first, last + 1), *grid.levels[1:]], names=grid.names)
    per_day = steps.groupby(list(grid.names))["step"].sum().reindex(full, fill_value=0)
    backlog = per_day.groupby(level=KEY).cumsum()
    return backlog.reindex(grid).astype("int64")


def engineer_board(
    events: pd.DataFrame, days: Iterable[int] | None = None
) -> pd.DataFrame:
    """Per-engineer daily board.

    ``started`` and the delay classes count ``work_started`` that day; ``delays``
    is ``slight + severe``; ``busy_hours`` are worked hours on the day work
    started (as in :func:`daily_board`); ``ratings``, ``bad_ratings`` (2 or less)
    and ``mean_rating`` (NaN without ratings) come from ``ticket_rated`` that day.
    Every engineer named by a booking, start, finish or rating appears on every
    day.

    Args:
        events: The event log.
        days: Days to report; default every day from the log's first to last.

    Returns:
        A table with :data:`ENGINEER_COLUMNS`, ordered by day and engineer.
    """
    ev = fill_ticket_context(events)
    named = ev["kind"].isin(
        ["ticket_booked", "work_started", "work_finished", "ticket_rated"])
    engineers = sorted(set(ev.loc[named & (ev["engineer"] != ""), "engineer"]))
    if days is None:
        days = range(int(ev["day"].min()), int(ev["day"].max()) + 1) if len(ev) else []
    grid = pd.MultiIndex.from_product(
        [sorted(set(days)), engineers], names=["day", "engineer"])
    out = _starts(ev, grid).drop(columns=["slight_share", "severe_share",
                                          "on_time_rate"])
    out["delays"] = out["slight"] + out["severe"]
    work = work_with_start_day(ev)
    out["busy_hours"] = work.groupby(["day", "engineer"])["hours"].sum().reindex(
        grid, fill_value=0.0)
    out = out.join(_ratings(ev, grid).drop(columns="satisfaction"))
    rated = ev[ev["kind"] == "ticket_rated"]
    out["mean_rating"] = rated.groupby(["day", "engineer"])["value"].mean().reindex(
        grid)
    return out.reset_index()[list(ENGINEER_COLUMNS)]
