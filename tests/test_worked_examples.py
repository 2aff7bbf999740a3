"""The worked examples of DESIGN.md section 1, built through the real model.

Three engineers, Wang, Zhang and Li, all in the North region and all able to
deliver solution A; Zhang is the most expensive. Rep A sells key accounts in
the North with a quarterly quota of 5,000,000, so with the default budget rule
(5% of quota at 100% attainment) rep A's quarterly budget is 250,000.
"""

import math

import pandas as pd
import pytest

from models.budget import BudgetAccount, booking_cost, to_cents
from models.outcomes import budget_table
from models.presales_model import PresalesModel
from models.scenario import scenario_from_dict
from models.work_order import Opportunity, Ticket
from sim.board import daily_board, engineer_board
from sim.eventlog_io import read_event_log, write_event_log
from sim.ledger import hours_by_engineer_stage, opportunity_ledger, ticket_ledger

RATES = {"junior": 500.0, "senior": 800.0, "principal": 1000.0}


def design_scenario(**dispatch):
    """Rep A and the three engineers; Monday 2027-04-05 is day 0 (Q2)."""
    quiet = [0.0] * 12  # no simulated demand: the test raises every ticket
    raw = {
        "scenario": {"name": "design", "start_date": "2027-04-05", "seed": 11},
        "regions": ["North", "South"],
        "solutions": ["A"],
        "grades": [{"name": g, "hourly_rate": r} for g, r in RATES.items()],
        "engineers": {
            "individuals": [
                {
                    "name": "Wang",
                    "region": "North",
                    "grade": "senior",
                    "proficiency": {"A": 4},
                },
                {
                    "name": "Zhang",
                    "region": "North",
                    "grade": "principal",
                    "proficiency": {"A": 5},
                },
                {
                    "name": "Li",
                    "region": "North",
                    "grade": "junior",
                    "proficiency": {"A": 4},
                },
            ]
        },
        "reps": {
            "individuals": [
                {
                    "name": "A",
                    "region": "North",
                    "customer_type": "key_account",
                    "quarterly_quota": 5_000_000.0,
                }
            ]
        },
        "demand": {
            "streams": [
                {
                    "region": "North",
                    "solution": "A",
                    "arrivals_per_month": quiet,
                    "win_rate": 0.5,
                    "deal_value_mu": 11.0,
                    "deal_value_sigma": 0.1,
                    "cycle_days_mu": 4.0,
                    "cycle_days_sigma": 0.1,
                }
            ]
        },
        "dispatch": {"policy": "direct", **dispatch},
        "grab": {"enabled": False},
        "control": {"playbooks": []},
    }
    return scenario_from_dict(raw, source="design example")


def rep_a_opportunity(model: PresalesModel) -> Opportunity:
    """Rep A's opportunity, past qualification, worth 60,000."""
    opp = Opportunity(0, "A", "North", "A", model.now, 60_000.0, 0.5, 30.0)
    model.opportunities[opp.id] = opp
    return opp


def events_of(model: PresalesModel, kind: str) -> pd.DataFrame:
    frame = model.log.to_frame()
    return frame[frame["kind"] == kind]


# -- (a) direct dispatch: the 13:30-14:30 meeting --------------------------------


def book_the_meeting(prebooked: list[str]):
    model = PresalesModel(design_scenario())
    cal = model.calendar
    meeting, hours = 13.5, 1.0  # 13:30 on day 0, for one hour
    for n, name in enumerate(prebooked):
        model.engineers[name].schedule.book(cal.worked(meeting), hours, 900 + n)
    opp = rep_a_opportunity(model)
    ticket = model.raise_ticket(
        opp.id, "A", "North", "A", "value_presentation", "demo", 3, hours, meeting
    )
    return model, ticket


def test_a_rep_books_the_only_free_engineer_at_1330():
    model, ticket = book_the_meeting(prebooked=["Zhang", "Li"])
    # The search finds three suitable engineers ...
    found = model.desk.index.search("A", 3, ["North"])
    assert sorted(e.name for e in found) == ["Li", "Wang", "Zhang"]
    # ... and rep A books Wang's 13:30-14:30 directly on his schedule.
    assert ticket.engineer == "Wang"
    assert ticket.channel == "direct"
    assert ticket.booked_start == 13.5
    wang = model.engineers["Wang"]
    assert wang.schedule.slots() == [(3.5, 4.5, ticket.id)]
    booked = events_of(model, "ticket_booked")
    assert len(booked) == 1
    row = booked.iloc[0]
    assert (row["engineer"], row["rep"], row["detail"]) == ("Wang", "A", "direct")
    assert row["value"] == 13.5
    assert row["amount"] == booking_cost(1.0, to_cents(RATES["senior"]))

    model.horizon_days = 2
    model.run()
    assert ticket.status == "done"
    assert (ticket.actual_start, ticket.finished_at) == (13.5, 14.5)
    assert ticket.delay_class == "on_time" and ticket.delay_hours == 0.0
    started = events_of(model, "work_started").iloc[0]
    assert (started["time"], started["engineer"]) == (13.5, "Wang")
    assert len(events_of(model, "ticket_rated")) == 1
    account = model.reps["A"].account("2027Q2")
    assert account.spent == 80_000 and account.committed == 0


@pytest.mark.parametrize(
    "prebooked, chosen",
    [
        ([], "Zhang"),
        (["Zhang"], "Li"),
        (["Zhang", "Wang"], "Li"),
        (["Zhang", "Li"], "Wang"),
    ],
)
def test_a_the_booking_follows_who_is_free(prebooked, chosen):
    # Best fit first (Zhang, proficiency 5), then the cheaper of Li and Wang.
    _, ticket = book_the_meeting(prebooked)
    assert ticket.engineer == chosen
    assert ticket.booked_start == 13.5


def test_a_nobody_free_means_a_late_slot():
    model, ticket = book_the_meeting(prebooked=["Zhang", "Li", "Wang"])
    # Everyone is busy 13:30-14:30: the rep takes the best slot at 14:30
    # (within the default 24 working hours of acceptable wait).
    assert ticket.engineer == "Zhang"
    assert ticket.booked_start == 14.5


def test_zhang_is_the_most_expensive():
    model = PresalesModel(design_scenario())
    rates = {name: e.rate_cents for name, e in model.engineers.items()}
    assert max(rates, key=rates.get) == "Zhang"
    assert rates == {"Wang": 80_000, "Zhang": 100_000, "Li": 50_000}


# -- (b) user pays: 250,000 budget, 100,000 committed, 50,000 spent --------------


def test_b_budget_account_by_itself():
    account = BudgetAccount("2027Q2", to_cents(250_000))
    for booked in (40_000, 60_000, 50_000):  # three engineers' Q2 time
        account.commit(to_cents(booked))
    account.spend(to_cents(50_000))  # the finished part
    assert account.committed == to_cents(100_000)
    assert account.spent == to_cents(50_000)
    assert account.taken == to_cents(150_000)
    assert account.left == to_cents(100_000)


def book_directly(model, engineer: str, hours: float, requested: float):
    """Rep A books ``engineer`` at the first free slot from ``requested``.

    Returns the ticket and whether the booking desk accepted the booking.
    """
    ticket = Ticket(
        len(model.tickets),
        0,
        "A",
        "North",
        "A",
        "value_presentation",
        "poc",
        3,
        hours,
        model.now,
        requested,
    )
    model.tickets[ticket.id] = ticket
    model.opportunities[0].tickets.append(ticket.id)
    model.opportunities[0].open_tickets += 1
    e = model.engineers[engineer]
    start_w = e.schedule.earliest(model.calendar.worked(requested), hours)
    return ticket, model.desk.book(ticket, e, start_w, "direct", 0.0)


def test_b_budget_taken_and_left_in_the_model():
    model = PresalesModel(design_scenario())
    rep_a_opportunity(model)
    later = 21 * 24.0 + 9  # Monday 2027-04-26, still Q2
    zhang, _ = book_directly(model, "Zhang", 50.0, 9.0)  # 50,000, starts at once
    book_directly(model, "Wang", 50.0, later)  # 40,000
    book_directly(model, "Li", 120.0, later)  # 60,000
    account = model.reps["A"].account("2027Q2")
    assert account.budget == to_cents(250_000)
    assert (account.committed, account.spent) == (to_cents(150_000), 0)

    for _ in range(10):  # Zhang's 50 h end on day 8 (Tuesday 11:00)
        model.step()
    assert zhang.status == "done"
    assert zhang.finished_at == 8 * 24.0 + 11
    assert account.spent == to_cents(50_000)
    assert account.committed == to_cents(100_000)
    assert account.taken == to_cents(150_000)
    assert account.left == to_cents(100_000)
    row = budget_table(model).set_index(["rep", "quarter"]).loc[("A", "2027Q2")]
    assert row["taken_cents"] == 15_000_000 and row["left_cents"] == 10_000_000
    opened = events_of(model, "budget_set")
    assert list(opened["amount"]) == [25_000_000]
    assert list(opened["detail"]) == ["2027Q2"] and list(opened["value"]) == [2.0]
    spent = events_of(model, "work_finished")["amount"].sum()
    assert spent == 5_000_000


def test_b_exactly_what_is_left_is_accepted_one_cent_more_refused():
    model = PresalesModel(design_scenario())
    rep_a_opportunity(model)
    book_directly(model, "Zhang", 150.0, 9.0)  # 150,000 of 250,000
    account = model.reps["A"].account("2027Q2")
    assert account.left == 10_000_000
    # Li costs 50,000.00 cents an hour; 200.00002 h cost 10,000,001 cents.
    _, accepted = book_directly(model, "Li", 200.00002, 9.0)
    assert not accepted
    refused = events_of(model, "booking_refused")
    assert list(refused["amount"]) == [10_000_001]
    assert list(refused["engineer"]) == ["Li"]
    assert account.left == 10_000_000 and model.reps["A"].refusals == 1
    assert len(model.engineers["Li"].schedule) == 0
    _, accepted = book_directly(model, "Li", 200.0, 9.0)
    assert accepted
    assert account.left == 0 and account.taken == account.budget


def test_b_policy_leaves_a_ticket_unserved_when_nobody_is_affordable():
    model = PresalesModel(design_scenario())
    opp = rep_a_opportunity(model)
    book_directly(model, "Zhang", 240.0, 9.0)  # 240,000: 10,000 left
    # 21 h of even the cheapest engineer (Li) cost 10,500 > 10,000 left.
    ticket = model.raise_ticket(
        opp.id, "A", "North", "A", "bid_preparation", "bid", 3, 21.0, 9.0
    )
    assert ticket.status == "unserved" and ticket.unserved_reason == "budget"
    refused = events_of(model, "booking_refused")
    assert sorted(refused["engineer"]) == ["Li", "Wang"]  # Zhang is busy
    assert model.reps["A"].account("2027Q2").left == to_cents(10_000)


# -- (c) full-process visibility: the opportunity ledger -------------------------

OPP = dict(opportunity=7, rep="A", region="North", solution="A")
# The DESIGN example: Zhang led the effort (80 h over value presentation, bid
# preparation and bidding), Li a 32 h site visit and Wang a 40 h proof of
# concept. Four dispatches fell in value presentation (Zhang's two demos, Li's
# visit, Wang's PoC); two were badly late and one slightly late, all there.
DISPATCHES = [
    # engineer, stage, activity, hours, raised at, delay (working h), rating
    ("Zhang", "value_presentation", "demo", 12.0, 10.0, 0.0, 4),
    ("Zhang", "value_presentation", "demo", 12.0, 40.0, 10.0, 4),
    ("Li", "value_presentation", "site visit", 32.0, 60.0, 16.0, 3),
    ("Wang", "value_presentation", "proof of concept", 40.0, 80.0, 3.0, 4),
    ("Zhang", "bid_preparation", "bid preparation", 40.0, 400.0, 0.0, 4),
    ("Zhang", "bidding", "bid defence", 16.0, 600.0, 0.0, 4),
]


def delay_class(delay: float) -> str:
    """Default control thresholds: slight from 1 h, severe from 8 h."""
    return "severe" if delay >= 8 else "slight" if delay >= 1 else "on_time"


def opportunity_log() -> pd.DataFrame:
    rows = [
        dict(time=0.0, kind="opportunity_created", value=60_000.0, **OPP),
        dict(time=5.0, kind="stage_entered", stage="value_presentation", **OPP),
        dict(time=390.0, kind="stage_entered", stage="bid_preparation", **OPP),
        dict(time=590.0, kind="stage_entered", stage="bidding", **OPP),
    ]
    for n, (eng, stage, act, hours, raised, delay, rating) in enumerate(DISPATCHES):
        rows += dispatch_rows(n, OPP, eng, stage, act, hours, raised, delay, rating)
    # Another opportunity in the South that Zhang also served: not rep A's.
    other = dict(opportunity=8, rep="B", region="South", solution="A")
    rows += dispatch_rows(
        99, other, "Zhang", "bid_preparation", "bid preparation", 6.0, 20.0, 9.0, 2
    )
    frame = pd.DataFrame(rows).sort_values("time", kind="stable")
    return frame.assign(seq=range(len(frame))).reset_index(drop=True)


def dispatch_rows(ticket, opp, engineer, stage, activity, hours, raised, delay, rating):
    """The events of one work order, from raising to rating."""
    requested = raised + 4.0
    start = requested + delay
    cost = booking_cost(hours, to_cents(RATES["senior"]))
    common = dict(ticket=ticket, stage=stage, **opp)
    return [
        dict(
            time=raised,
            kind="ticket_raised",
            hours=hours,
            value=requested,
            detail=activity,
            **common,
        ),
        dict(
            time=raised + 0.5,
            kind="ticket_booked",
            engineer=engineer,
            amount=cost,
            hours=hours,
            value=start,
            detail="direct",
            **common,
        ),
        dict(
            time=start,
            kind="work_started",
            engineer=engineer,
            value=delay,
            detail=delay_class(delay),
            **common,
        ),
        dict(
            time=start + hours,
            kind="work_finished",
            engineer=engineer,
            amount=cost,
            hours=hours,
            **common,
        ),
        dict(
            time=start + hours,
            kind="ticket_rated",
            engineer=engineer,
            value=float(rating),
            **common,
        ),
    ]


def test_c_log_fits_the_documented_schema(tmp_path):
    path = write_event_log(opportunity_log(), tmp_path / "events.csv")
    events, issues = read_event_log(path)
    assert issues == []
    assert len(events) == len(opportunity_log())
    ledger = ticket_ledger(events)
    assert set(ledger["status"]) == {"done"}


def test_c_hours_by_engineer_and_stage():
    hours = hours_by_engineer_stage(opportunity_log(), opportunity=7)
    assert list(hours.index) == ["Zhang", "Wang", "Li"]
    assert list(hours.columns) == [
        "value_presentation",
        "bid_preparation",
        "bidding",
        "total",
    ]
    assert hours.loc["Zhang"].tolist() == [24.0, 40.0, 16.0, 80.0]
    assert hours.loc["Wang"].tolist() == [40.0, 0.0, 0.0, 40.0]
    assert hours.loc["Li"].tolist() == [32.0, 0.0, 0.0, 32.0]
    everyone = hours_by_engineer_stage(opportunity_log())
    assert everyone.loc["Zhang", "total"] == 86.0  # with the South bid


def test_c_delays_by_class_and_stage_and_ratings():
    ledger = opportunity_ledger(opportunity_log(), 7)
    assert len(ledger) == 6
    assert list(ledger["engineer"]) == [d[0] for d in DISPATCHES]
    counts = ledger.groupby(["stage", "delay_class"]).size().to_dict()
    assert counts == {
        ("value_presentation", "on_time"): 1,
        ("value_presentation", "severe"): 2,
        ("value_presentation", "slight"): 1,
        ("bid_preparation", "on_time"): 1,
        ("bidding", "on_time"): 1,
    }
    late = ledger[ledger["delay_class"] != "on_time"]
    assert set(late["stage"]) == {"value_presentation"}
    assert sorted(late["engineer"]) == ["Li", "Wang", "Zhang"]
    ratings = ledger.groupby("engineer")["rating"].agg(["min", "max"])
    assert ratings.loc["Zhang"].tolist() == [4.0, 4.0]  # satisfactory
    assert ratings.loc["Wang"].tolist() == [4.0, 4.0]  # satisfactory
    assert ratings.loc["Li"].tolist() == [3.0, 3.0]  # average
    assert ledger["hours"].sum() == 152.0
    assert (ledger["status"] == "done").all()


def test_c_board_shows_the_late_dispatches():
    events = opportunity_log()
    board = daily_board(events)
    north = board[(board["region"] == "North") & (board["solution"] == "A")]
    assert north[["started", "on_time", "slight", "severe"]].sum().tolist() == [
        6,
        3,
        1,
        2,
    ]
    assert north["ratings"].sum() == 6 and north["bad_ratings"].sum() == 0
    severe_days = north.loc[north["severe"] > 0, "day"].tolist()
    assert north.set_index("day").loc[severe_days, "status"].eq("severe").all()
    south = board[board["region"] == "South"]
    assert south["severe"].sum() == 1 and south["bad_ratings"].sum() == 1

    per_engineer = (
        engineer_board(events)
        .groupby("engineer")[["started", "slight", "severe", "delays", "busy_hours"]]
        .sum()
    )
    assert per_engineer.loc["Zhang"].tolist() == [5, 0, 2, 2, 86.0]
    assert per_engineer.loc["Li"].tolist() == [1, 0, 1, 1, 32.0]
    assert per_engineer.loc["Wang"].tolist() == [1, 1, 0, 1, 40.0]
    rated = engineer_board(events).dropna(subset=["mean_rating"])
    assert not math.isnan(rated["mean_rating"].mean())
