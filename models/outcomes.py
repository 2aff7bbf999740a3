"""Tables and key outcomes of a finished run.

``tables(model)`` gives the per-ticket, per-opportunity, board, alert and budget
tables (columns as in ``docs/event_log.md``); ``key_outcomes`` reduces them to
the figures planners compare. Money in outcomes is in currency units; the
tables keep integer cents. A warm-up excludes tickets raised and opportunities
created before it from outcomes (they still run in the model). Tickets still
open when the horizon ends (``tickets_open``) are neither filled nor unserved:
``fill_rate`` is done over ended tickets. Budget figures (``budget_*``) cover
every quarter's accounts, warm-up included: budgets are set per quarter, not
per day.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.ledger import TICKET_COLUMNS as LEDGER_TICKET_COLUMNS

if TYPE_CHECKING:
    from models.presales_model import PresalesModel

# The tickets table has the ledger's columns (docs/event_log.md).
TICKET_COLUMNS = list(LEDGER_TICKET_COLUMNS)
# Ticket attributes behind the columns whose names differ.
_TICKET_FIELD = {"ticket": "id", "cost_cents": "cost"}


def ticket_table(model: PresalesModel) -> pd.DataFrame:
    """One row per ticket."""
    if not model.tickets:
        return pd.DataFrame(columns=TICKET_COLUMNS)
    fields = [_TICKET_FIELD.get(name, name) for name in TICKET_COLUMNS]
    values = map(operator.attrgetter(*fields), model.tickets.values())
    return pd.DataFrame.from_records(list(values), columns=TICKET_COLUMNS)


def opportunity_table(model: PresalesModel, tickets: pd.DataFrame) -> pd.DataFrame:
    """One row per opportunity with its presales service and result."""
    rows = []
    for o in model.opportunities.values():
        rows.append(
            {
                "opportunity": o.id,
                "rep": o.rep,
                "region": o.region,
                "solution": o.solution,
                "created_at": o.created_at,
                "closed_at": o.closed_at,
                "deal_value": o.deal_value,
                "base_win_rate": o.base_win_rate,
                "win_probability": o.win_probability,
                "outcome": o.outcome or "open",
                "revenue": o.revenue,
            }
        )
    opps = pd.DataFrame(
        rows,
        columns=[
            "opportunity",
            "rep",
            "region",
            "solution",
            "created_at",
            "closed_at",
            "deal_value",
            "base_win_rate",
            "win_probability",
            "outcome",
            "revenue",
        ],
    )
    if opps.empty or tickets.empty:
        return opps
    t = tickets[tickets["opportunity"] >= 0]
    # Flags summed per opportunity (vectorised: no Python call per group).
    t = t.assign(
        _unserved=(t["status"] == "unserved").astype("int64"),
        _slight=(t["delay_class"] == "slight").astype("int64"),
        _severe=(t["delay_class"] == "severe").astype("int64"),
        _done_hours=t["hours"].where(t["status"] == "done", 0.0),
    )
    per = t.groupby("opportunity").agg(
        tickets=("ticket", "size"),
        tickets_unserved=("_unserved", "sum"),
        slight=("_slight", "sum"),
        severe=("_severe", "sum"),
        mean_rating=("rating", "mean"),
        presales_cost_cents=("cost_cents", "sum"),
        presales_hours=("_done_hours", "sum"),
    )
    opps = opps.merge(per, left_on="opportunity", right_index=True, how="left")
    fill = {
        "tickets": 0,
        "tickets_unserved": 0,
        "slight": 0,
        "severe": 0,
        "presales_cost_cents": 0,
        "presales_hours": 0.0,
    }
    return opps.fillna(fill).astype({k: "int64" for k in fill if k != "presales_hours"})


def budget_table(model: PresalesModel) -> pd.DataFrame:
    """One row per rep x quarter: budget, committed, spent, left, refusals."""
    rows = []
    for rep in model.reps.values():
        for quarter, a in sorted(rep.accounts.items()):
            rows.append(
                {
                    "rep": rep.name,
                    "region": rep.region,
                    "customer_type": rep.customer_type,
                    "quarter": quarter,
                    "budget_cents": a.budget,
                    "committed_cents": a.committed,
                    "spent_cents": a.spent,
                    "taken_cents": a.taken,
                    "left_cents": a.left,
                    "refusals": a.refusals,
                    "unlimited": a.unlimited,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "rep",
            "region",
            "customer_type",
            "quarter",
            "budget_cents",
            "committed_cents",
            "spent_cents",
            "taken_cents",
            "left_cents",
            "refusals",
            "unlimited",
        ],
    )


def grab_table(model: PresalesModel) -> pd.DataFrame:
    """One row per grab order."""
    rows = [
        {
            "ticket": g.ticket.id,
            "region": g.ticket.region,
            "solution": g.ticket.solution,
            "incentive": g.incentive,
            "posted_at": g.posted_at,
            "deadline": g.deadline,
            "invited": g.invited,
            "clarified": g.clarified,
            "grabs": len(g.grabbed_by),
            "filled_at": g.filled_at,
            "outcome": g.outcome,
            "hours_to_fill": model.calendar.between(g.posted_at, g.filled_at)
            if g.outcome == "filled"
            else math.nan,
            "incentive_cents": _incentive_cents(g),
            "cost_cents": g.cost,
            "credited_hours": g.credited_hours,
        }
        for g in model.grabs.orders
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "ticket",
            "region",
            "solution",
            "incentive",
            "posted_at",
            "deadline",
            "invited",
            "clarified",
            "grabs",
            "filled_at",
            "outcome",
            "hours_to_fill",
            "incentive_cents",
            "cost_cents",
            "credited_hours",
        ],
    )


def _incentive_cents(order) -> int:
    t = order.ticket
    if order.outcome != "filled" or t.channel != "grab" or not t.cost:
        return 0
    return round(t.cost * order.incentive / (1 + order.incentive))


def tables(model: PresalesModel) -> dict[str, pd.DataFrame]:
    """Every output table of a finished run, by name."""
    tickets = ticket_table(model)
    return {
        "events": model.log.to_frame(),
        "tickets": tickets,
        "opportunities": opportunity_table(model, tickets),
        "board": pd.DataFrame(model.control.rows),
        "alerts": pd.DataFrame(
            model.control.alerts,
            columns=[
                "alert",
                "day",
                "region",
                "solution",
                "signal",
                "count",
                "playbook",
            ],
        ),
        "budgets": budget_table(model),
        "grabs": grab_table(model),
    }


def key_outcomes(model: PresalesModel, t: dict[str, pd.DataFrame]) -> dict[str, float]:
    """The headline figures of one run (counts, shares, hours, currency)."""
    warm = model.scenario.scenario.warmup_days * 24.0
    tk = t["tickets"][t["tickets"]["raised_at"] >= warm]
    ops = t["opportunities"]
    ops = ops[ops["created_at"] >= warm] if not ops.empty else ops
    closed = ops[ops["outcome"].isin(["won", "lost"])] if not ops.empty else ops
    started = tk[tk["delay_class"] != ""]
    grabs = t["grabs"]
    grabs = grabs[grabs["posted_at"] >= warm] if not grabs.empty else grabs
    budgets = t["budgets"]
    limited = budgets[~budgets["unlimited"]] if not budgets.empty else budgets
    won = float(closed["revenue"].sum()) if not closed.empty else 0.0
    cost = float(tk["cost_cents"].sum()) / 100
    warm_day = model.scenario.scenario.warmup_days
    board = t["board"]
    board = board[board["day"] >= warm_day] if not board.empty else board
    alerts = t["alerts"]
    alerts = alerts[alerts["day"] >= warm_day] if len(alerts) else alerts
    events = t["events"]
    refused = (events["kind"] == "booking_refused") & (events["time"] >= warm)
    out = {
        "tickets": len(tk),
        "tickets_done": int((tk["status"] == "done").sum()),
        "tickets_unserved": int((tk["status"] == "unserved").sum()),
        "tickets_open": int((tk["status"] == "").sum()),
        "fill_rate": fill_rate(tk),
        "on_time_share": on_time_share(started),
        "slight_delays": int((started["delay_class"] == "slight").sum()),
        "severe_delays": int((started["delay_class"] == "severe").sum()),
        "mean_delay_hours": _mean(started["delay_hours"]),
        "mean_response_hours": _mean(
            _working(model, tk["raised_at"], tk["actual_start"])
        ),
        "mean_lead_hours": _mean(_working(model, tk["raised_at"], tk["finished_at"])),
        "grab_orders": len(grabs),
        "grab_fill_rate": _share((grabs["outcome"] == "filled").sum(), len(grabs)),
        "mean_hours_to_grab": _mean(grabs["hours_to_fill"]) if len(grabs) else math.nan,
        "incentive_paid": float(grabs["incentive_cents"].sum()) / 100
        if len(grabs)
        else 0.0,
        "budget_total": float(limited["budget_cents"].sum()) / 100,
        "budget_taken": float(limited["taken_cents"].sum()) / 100,
        "budget_spent": float(limited["spent_cents"].sum()) / 100,
        "budget_left": float(limited["left_cents"].sum()) / 100,
        "budget_refusals": int(refused.sum()),
        "unserved_for_budget": int((tk["unserved_reason"] == "budget").sum()),
        "utilisation": _share(board["busy_hours"].sum(), board["available_hours"].sum())
        if not board.empty
        else math.nan,
        "mean_rating": _mean(tk["rating"]),
        "satisfaction": _share((tk["rating"] >= 4).sum(), tk["rating"].notna().sum()),
        "opportunities": len(ops),
        "opportunities_closed": len(closed),
        "win_rate": win_rate(closed),
        "won_revenue": won,
        "presales_cost": cost,
        "cost_to_revenue": cost / won if won else math.nan,
        "alerts": len(alerts),
        "playbooks_applied": int((alerts["playbook"] != "").sum())
        if len(alerts)
        else 0,
    }
    return {k: float(v) for k, v in out.items()}


def _share(part, whole) -> float:
    return float(part) / float(whole) if whole else math.nan


def fill_rate(tickets: pd.DataFrame) -> float:
    """Served share of the tickets that ended (open ones left out)."""
    status = tickets["status"]
    return _share((status == "done").sum(), status.isin(["done", "unserved"]).sum())


def on_time_share(started: pd.DataFrame) -> float:
    """On-time share of tickets whose work started."""
    return _share((started["delay_class"] == "on_time").sum(), len(started))


def win_rate(closed: pd.DataFrame) -> float:
    """Won share of closed opportunities."""
    return _share((closed["outcome"] == "won").sum(), len(closed))


def _mean(values) -> float:
    values = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    return float(values.mean()) if len(values) else math.nan


def _working(model: PresalesModel, t0: pd.Series, t1: pd.Series) -> np.ndarray:
    cal = model.calendar
    return np.array(
        [cal.between(a, b) if b == b else math.nan for a, b in zip(t0, t1, strict=True)]
    )
