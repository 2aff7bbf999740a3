"""Tests of the ticket, opportunity, hours and budget ledgers."""

import math

import pandas as pd
import pytest

from sim.ledger import (
    OPPORTUNITY_LEDGER_COLUMNS,
    TICKET_COLUMNS,
    budget_track,
    fill_ticket_context,
    hours_by_engineer_stage,
    opportunity_ledger,
    ticket_ledger,
)

OPP = dict(opportunity=7, rep="ra", region="N", solution="A")


def ev(time, kind, ticket=-1, **fields):
    """One event row."""
    return dict(time=time, kind=kind, ticket=ticket, **fields)


def story():
    """One opportunity: Zhang leads, Li visits a site, Wang runs a POC, one fails.

    Later events carry only the ticket id; context comes from the raise event.
    """
    rows = [
        ev(0, "budget_set", rep="ra", amount=250_000_00, value=1, detail="2027Q2"),
        ev(0, "stage_entered", opportunity=7, stage="value"),
        ev(1, "ticket_raised", 1, stage="value", hours=8, value=9, detail="demo",
           **OPP),
        ev(2, "ticket_booked", 1, engineer="zhang", amount=80_000_00, hours=8,
           value=9, detail="direct"),
        ev(3, "ticket_raised", 2, stage="value", hours=4, value=33, detail="visit",
           **OPP),
        ev(4, "grab_posted", 2, hours=4, value=0.5, detail="N|S"),
        ev(5, "ticket_booked", 2, engineer="li", amount=30_000_00, hours=4,
           value=33, detail="grab"),
        ev(9, "work_started", 1, value=0.0, detail="on_time"),
        ev(17, "work_finished", 1, amount=80_000_00, hours=8),
        ev(18, "ticket_rated", 1, value=5),
        ev(40, "work_started", 2, engineer="li", value=7.0, detail="severe"),
        ev(44, "work_finished", 2, engineer="li", amount=32_000_00, hours=4.5),
        ev(45, "ticket_rated", 2, value=3),
        ev(46, "stage_entered", opportunity=7, stage="poc"),
        ev(47, "ticket_raised", 3, stage="poc", hours=40, value=60, detail="poc",
           **OPP),
        ev(48, "ticket_booked", 3, engineer="wang", amount=40_000_00, hours=40,
           value=60, detail="direct"),
        ev(49, "ticket_raised", 4, stage="poc", hours=2, value=70, detail="demo",
           **OPP),
        ev(50, "booking_refused", 4, amount=900_000_00, hours=2, detail="budget"),
        ev(50, "ticket_unserved", 4, detail="budget"),
        ev(61, "work_started", 3, engineer="wang", value=1.0, detail="slight"),
        ev(90, "ticket_raised", 5, stage="poc", hours=3, value=95, detail="demo",
           opportunity=8, rep="rb", region="S", solution="B"),
        ev(91, "ticket_booked", 5, engineer="zhang", amount=5_000_00, hours=3,
           value=95, detail="direct"),
        ev(100, "work_started", 5, value=0.0, detail="on_time"),
        ev(103, "work_finished", 5, amount=5_000_00, hours=3),
    ]
    return pd.DataFrame(rows).assign(seq=range(len(rows)))


def test_context_is_filled_from_the_raise_event():
    filled = fill_ticket_context(story())
    finished = filled[filled["kind"] == "work_finished"].set_index("ticket")
    assert finished.loc[1, "rep"] == "ra" and finished.loc[1, "region"] == "N"
    assert finished.loc[1, "stage"] == "value" and finished.loc[1, "opportunity"] == 7
    assert finished.loc[1, "engineer"] == "zhang"
    assert filled.loc[filled["kind"] == "budget_set", "region"].iloc[0] == ""


def test_ticket_ledger_rebuilds_each_ticket():
    ledger = ticket_ledger(story(), engineer_home={"zhang": "N", "li": "S"})
    assert list(ledger.columns) == [*TICKET_COLUMNS, "worked_hours"]
    assert list(ledger["ticket"]) == [1, 2, 3, 4, 5]
    t = ledger.set_index("ticket")
    assert list(t["status"]) == ["done", "done", "open", "unserved", "done"]
    assert list(t["engineer"]) == ["zhang", "li", "wang", "", "zhang"]
    assert list(t["engineer_region"]) == ["N", "S", "", "", "N"]
    assert list(t["delay_class"]) == ["on_time", "severe", "slight", "", "on_time"]
    assert list(t["cost_cents"]) == [80_000_00, 32_000_00, 40_000_00, 0, 5_000_00]
    assert t.loc[2, "channel"] == "grab" and t.loc[2, "incentive"] == 0.5
    assert (t.loc[2, "raised_at"], t.loc[2, "requested_start"]) == (3, 33)
    assert (t.loc[2, "actual_start"], t.loc[2, "finished_at"]) == (40, 44)
    assert (t.loc[2, "delay_hours"], t.loc[2, "rating"]) == (7.0, 3.0)
    assert t.loc[2, "worked_hours"] == 4.5 and t.loc[2, "hours"] == 4
    assert t.loc[4, "unserved_reason"] == "budget"
    assert math.isnan(t.loc[3, "finished_at"]) and math.isnan(t.loc[3, "rating"])


def test_opportunity_ledger_lists_tickets_in_order():
    ledger = opportunity_ledger(story(), 7)
    assert list(ledger.columns) == list(OPPORTUNITY_LEDGER_COLUMNS)
    assert list(ledger["ticket"]) == [1, 2, 3, 4]
    assert list(ledger["stage"]) == ["value", "value", "poc", "poc"]
    assert list(ledger["hours"]) == [8.0, 4.5, 40.0, 2.0]  # worked, else requested
    assert list(ledger["rating"].fillna(0)) == [5, 3, 0, 0]
    assert opportunity_ledger(story(), 999).empty


def test_hours_by_engineer_and_stage():
    table = hours_by_engineer_stage(story())
    assert list(table.columns) == ["value", "poc", "total"]
    assert list(table.index) == ["zhang", "li"]
    assert table.loc["zhang", "value"] == 8.0 and table.loc["zhang", "poc"] == 3.0
    assert table.loc["li", "total"] == 4.5
    only = hours_by_engineer_stage(story(), opportunity=7)
    assert only.loc["zhang", "total"] == 8.0


def test_budget_track_follows_committed_spent_and_left():
    track = budget_track(story(), "ra")
    assert list(track["kind"]) == [
        "budget_set", "ticket_booked", "ticket_booked", "work_finished",
        "work_finished", "ticket_booked", "ticket_unserved"]
    last = track.iloc[-1]
    assert last["budget"] == 250_000_00
    assert last["committed"] == 40_000_00  # Wang's POC, booked, not finished
    assert last["spent"] == 80_000_00 + 32_000_00
    assert last["left"] == 250_000_00 - 40_000_00 - 112_000_00
    after_li = track.iloc[4]
    assert after_li["committed"] == 0 and after_li["spent"] == 112_000_00


def test_budget_unserved_releases_and_new_quarter_opens_a_fresh_account():
    rows = [
        ev(0, "budget_set", rep="r", amount=1000, detail="Q1"),
        ev(1, "ticket_raised", 1, rep="r"),
        ev(2, "ticket_booked", 1, rep="r", amount=300),
        ev(3, "ticket_booked", 1, rep="r", amount=200),
        ev(4, "ticket_unserved", 1, detail="no_engineer"),
        ev(5, "ticket_raised", 2, rep="r"),
        ev(6, "ticket_booked", 2, amount=100),
        ev(7, "work_finished", 2, amount=120),
        ev(8, "ticket_raised", 3, rep="r"),
        ev(9, "ticket_booked", 3, amount=50),
        ev(10, "budget_set", rep="r", amount=2000, detail="Q2"),
        ev(11, "work_finished", 3, amount=50),
        ev(12, "ticket_raised", 4, rep="r"),
        ev(13, "ticket_booked", 4, amount=400),
    ]
    track = budget_track(pd.DataFrame(rows), "r")
    # Ticket 3 was booked in Q1: finishing in Q2 charges Q1, not the Q2 account.
    assert list(track["committed"]) == [0, 300, 200, 0, 100, 0, 50, 0, 0, 400]
    assert list(track["spent"]) == [0, 0, 0, 0, 0, 120, 120, 0, 0, 0]
    assert list(track["left"]) == [1000, 700, 800, 1000, 900, 880, 830, 2000, 2000,
                                   1600]
    assert list(track["quarter"])[-3:] == ["Q2", "Q2", "Q2"]


@pytest.mark.parametrize("fn", [ticket_ledger, hours_by_engineer_stage])
def test_empty_log(fn):
    assert fn(pd.DataFrame(columns=["time", "kind", "ticket"])).empty
