"""Full-process visibility: tickets, opportunities and money rebuilt from events.

Everything here reads only the event log (``docs/event_log.md``), so it works on a
simulated run and on a company's own history alike.

* :func:`ticket_ledger` gives one row per ticket in the column order of
  ``tickets.csv``. Columns the log cannot tell (``min_proficiency``, ``grade``
  and, without an ``engineer_home`` map, ``engineer_region``) are left empty
  (NaN or ""). ``status`` is ``done`` after ``work_finished``, ``unserved`` after
  ``ticket_unserved`` and ``open`` otherwise. ``cost_cents`` is the cost spent for
  a done ticket, the cost committed by the latest booking for an open one, and 0
  for an unserved one. A trailing ``worked_hours`` column holds the hours of
  ``work_finished`` (NaN until then).
* :func:`opportunity_ledger` lists one opportunity's tickets in the order raised.
* :func:`hours_by_engineer_stage` pivots worked hours by engineer and stage.
* :func:`budget_track` follows one rep's budget, committed, spent and left.

Ticket events that leave ``opportunity``, ``rep``, ``region``, ``solution`` or
``stage`` empty inherit them from the ticket's ``ticket_raised`` event (see
:func:`fill_ticket_context`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.eventlog_io import TICKET_KINDS, normalise_events

TICKET_COLUMNS: tuple[str, ...] = (
    "ticket",
    "opportunity",
    "rep",
    "region",
    "solution",
    "stage",
    "activity",
    "min_proficiency",
    "hours",
    "raised_at",
    "requested_start",
    "engineer",
    "engineer_region",
    "grade",
    "channel",
    "booked_start",
    "actual_start",
    "finished_at",
    "delay_hours",
    "delay_class",
    "cost_cents",
    "incentive",
    "rating",
    "status",
    "unserved_reason",
)
CONTEXT_COLUMNS: tuple[str, ...] = ("opportunity", "rep", "region", "solution", "stage")
OPPORTUNITY_LEDGER_COLUMNS: tuple[str, ...] = (
    "ticket",
    "stage",
    "activity",
    "engineer",
    "hours",
    "raised_at",
    "requested_start",
    "booked_start",
    "actual_start",
    "finished_at",
    "delay_hours",
    "delay_class",
    "rating",
    "cost_cents",
    "channel",
    "status",
)
BUDGET_COLUMNS: tuple[str, ...] = (
    "time",
    "kind",
    "ticket",
    "quarter",
    "budget",
    "committed",
    "spent",
    "left",
)


def fill_ticket_context(events: pd.DataFrame) -> pd.DataFrame:
    """Fill empty context fields of ticket events from their raise event.

    Also fills an empty ``engineer`` on ``work_started``, ``work_finished`` and
    ``ticket_rated`` from the ticket's latest booking or start before it.

    Args:
        events: An event table (normalised on the way in).

    Returns:
        A new, normalised event table.
    """
    ev = normalise_events(events)
    is_ticket = ev["kind"].isin(TICKET_KINDS) & (ev["ticket"] >= 0)
    raised = _first_of(ev, "ticket_raised").set_index("ticket")
    for col in CONTEXT_COLUMNS:
        source = ev["ticket"].map(raised[col])
        empty = (ev[col] == "") if col != "opportunity" else (ev[col] < 0)
        take = is_ticket & empty & source.notna()
        ev.loc[take, col] = source[take].astype(ev[col].dtype)
    return _fill_engineer(ev)


def _fill_engineer(ev: pd.DataFrame) -> pd.DataFrame:
    """Carry the latest booked or starting engineer forward within a ticket."""
    assigning = ev["kind"].isin(["ticket_booked", "work_started", "grab_grabbed"])
    known = ev["engineer"].where(assigning & (ev["engineer"] != ""))
    carried = known.groupby(ev["ticket"]).ffill()
    needs = ev["kind"].isin(["work_started", "work_finished", "ticket_rated"])
    take = needs & (ev["engineer"] == "") & carried.notna() & (ev["ticket"] >= 0)
    ev.loc[take, "engineer"] = carried[take].astype(str)
    return ev


def _first_of(ev: pd.DataFrame, kind: str) -> pd.DataFrame:
    """First event of ``kind`` per ticket."""
    rows = ev[(ev["kind"] == kind) & (ev["ticket"] >= 0)]
    return rows.drop_duplicates("ticket", keep="first")


def _last_of(ev: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Last event of ``kind`` per ticket, indexed by ticket."""
    rows = ev[(ev["kind"] == kind) & (ev["ticket"] >= 0)]
    return rows.drop_duplicates("ticket", keep="last").set_index("ticket")


def ticket_ledger(
    events: pd.DataFrame, engineer_home: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per ticket, rebuilt from the event log.

    Args:
        events: The event log.
        engineer_home: Optional engineer id to home region map, used to fill
            ``engineer_region``.

    Returns:
        A table with the ``tickets.csv`` columns plus ``worked_hours``, one row
        per ticket that has a ``ticket_raised`` event, ordered by ticket id.
    """
    ev = fill_ticket_context(events)
    raised = _first_of(ev, "ticket_raised").set_index("ticket").sort_index()
    out = pd.DataFrame(index=raised.index)
    for col in CONTEXT_COLUMNS:
        out[col] = raised[col]
    out["activity"] = raised["detail"]
    out["min_proficiency"] = np.nan
    out["hours"] = raised["hours"]
    out["raised_at"] = raised["time"]
    out["requested_start"] = raised["value"]
    _add_assignment(out, ev, engineer_home)
    _add_outcome(out, ev)
    out = out.reset_index()
    return out[[*TICKET_COLUMNS, "worked_hours"]]


def _add_assignment(
    out: pd.DataFrame, ev: pd.DataFrame, engineer_home: Mapping[str, str] | None
) -> None:
    """Engineer, channel, booked start and incentive columns."""
    booked = _last_of(ev, "ticket_booked")
    started = _last_of(ev, "work_started")
    engineer = started["engineer"].reindex(out.index)
    engineer = engineer.where(engineer.notna() & (engineer != ""))
    out["engineer"] = engineer.fillna(booked["engineer"].reindex(out.index)).fillna("")
    home = dict(engineer_home or {})
    out["engineer_region"] = out["engineer"].map(lambda e: home.get(e, ""))
    out["grade"] = ""
    out["channel"] = booked["detail"].reindex(out.index).fillna("")
    out["booked_start"] = booked["value"].reindex(out.index)
    out["incentive"] = _last_of(ev, "grab_posted")["value"].reindex(out.index)
    out["_committed"] = booked["amount"].reindex(out.index).fillna(0)


def _add_outcome(out: pd.DataFrame, ev: pd.DataFrame) -> None:
    """Start, finish, delay, cost, rating and status columns."""
    started = _last_of(ev, "work_started")
    finished = _last_of(ev, "work_finished")
    unserved = _last_of(ev, "ticket_unserved")
    out["actual_start"] = started["time"].reindex(out.index)
    out["finished_at"] = finished["time"].reindex(out.index)
    out["delay_hours"] = started["value"].reindex(out.index)
    out["delay_class"] = started["detail"].reindex(out.index).fillna("")
    out["rating"] = _last_of(ev, "ticket_rated")["value"].reindex(out.index)
    out["unserved_reason"] = unserved["detail"].reindex(out.index).fillna("")
    done = out.index.isin(finished.index)
    lost = out.index.isin(unserved.index) & ~done
    out["status"] = np.where(done, "done", np.where(lost, "unserved", "open"))
    spent = finished["amount"].reindex(out.index)
    cost = spent.where(done, out.pop("_committed").where(~lost, 0))
    out["cost_cents"] = cost.fillna(0).astype("int64")
    out["worked_hours"] = finished["hours"].reindex(out.index)


def opportunity_ledger(events: pd.DataFrame, opportunity: int) -> pd.DataFrame:
    """One opportunity's tickets in the order they were raised.

    ``hours`` is the worked hours for a finished ticket and the requested hours
    otherwise.

    Args:
        events: The event log.
        opportunity: The opportunity id.

    Returns:
        A table with :data:`OPPORTUNITY_LEDGER_COLUMNS`, ordered by raise time and
        ticket id; empty when the opportunity raised no tickets.
    """
    tickets = ticket_ledger(events)
    mine = tickets[tickets["opportunity"] == opportunity].copy()
    mine["hours"] = mine["worked_hours"].fillna(mine["hours"])
    mine = mine.sort_values(["raised_at", "ticket"], kind="stable")
    return mine[list(OPPORTUNITY_LEDGER_COLUMNS)].reset_index(drop=True)


def hours_by_engineer_stage(
    events: pd.DataFrame, opportunity: int | None = None
) -> pd.DataFrame:
    """Worked hours pivoted by engineer (rows) and stage (columns).

    Hours are those of ``work_finished`` events. Stages are ordered by their first
    appearance in the log; engineers by total hours, largest first. A ``total``
    column ends the table.

    Args:
        events: The event log.
        opportunity: Restrict to one opportunity; None for all.

    Returns:
        The pivot, zeros where an engineer worked nothing in a stage.
    """
    ev = fill_ticket_context(events)
    work = ev[ev["kind"] == "work_finished"]
    if opportunity is not None:
        work = work[work["opportunity"] == opportunity]
    stage_order = list(dict.fromkeys(ev.loc[ev["stage"] != "", "stage"]))
    table = work.pivot_table(
        index="engineer",
        columns="stage",
        values="hours",
        aggfunc="sum",
        fill_value=0.0,
    )
    table = table.reindex(columns=[s for s in stage_order if s in table.columns])
    table["total"] = table.sum(axis=1)
    table = table.sort_values("total", ascending=False, kind="stable")
    table.columns.name = "stage"
    return table.astype(float)


def budget_track(events: pd.DataFrame, rep: str) -> pd.DataFrame:
    """One rep's budget, committed, spent and left after each money event.

    Each ``budget_set`` opens a quarter's account, which becomes the one shown.
    A ticket's money belongs to the account open when it was booked:
    ``ticket_booked`` commits its amount there (a rebooking of the same ticket
    replaces the earlier commitment), ``work_finished`` moves it from committed
    to spent in that same account (even when the work ends in a later quarter),
    and ``ticket_unserved`` releases it. ``left = budget - committed - spent``
    of the shown account.

    Args:
        events: The event log.
        rep: The rep id.

    Returns:
        A table with :data:`BUDGET_COLUMNS`, one row per money event of the rep.
    """
    ev = fill_ticket_context(events)
    kinds = ["budget_set", "ticket_booked", "work_finished", "ticket_unserved"]
    mine = ev[(ev["rep"] == rep) & ev["kind"].isin(kinds)]
    accounts: dict[str, dict[str, int]] = {"": _account(0)}
    current = ""
    open_: dict[int, tuple[str, int]] = {}
    rows = []
    for row in mine.itertuples(index=False):
        if row.kind == "budget_set":
            current = str(row.detail)
            accounts[current] = _account(int(row.amount))
        else:
            _apply_money(accounts, current, open_, row)
        a = accounts[current]
        left = a["budget"] - a["committed"] - a["spent"]
        rows.append(
            (
                row.time,
                row.kind,
                row.ticket,
                current,
                a["budget"],
                a["committed"],
                a["spent"],
                left,
            )
        )
    return pd.DataFrame(rows, columns=list(BUDGET_COLUMNS))


def _account(budget: int) -> dict[str, int]:
    return {"budget": budget, "committed": 0, "spent": 0}


def _apply_money(
    accounts: dict[str, dict[str, int]],
    current: str,
    open_: dict[int, tuple[str, int]],
    row,
) -> None:
    """Update the accounts with one ticket money event."""
    quarter, amount = open_.pop(row.ticket, (current, 0))
    accounts[quarter]["committed"] -= amount
    if row.kind == "ticket_booked":
        open_[row.ticket] = (current, int(row.amount))
        accounts[current]["committed"] += int(row.amount)
    elif row.kind == "work_finished":
        accounts[quarter]["spent"] += int(row.amount)
