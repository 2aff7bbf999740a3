"""Tests of the daily control board on a hand-built log and on random logs."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.board import BOARD_COLUMNS, StatusRule, daily_board, engineer_board

NORTH = dict(opportunity=10, rep="r1", region="N", solution="A", stage="value")
SOUTH = dict(opportunity=11, rep="r2", region="S", solution="B", stage="bid")


def ev(time, kind, ticket=-1, **fields):
    """One event row."""
    return dict(time=time, kind=kind, ticket=ticket, **fields)


def hand_log():
    """Five tickets over three days in two regions (see the expected values)."""
    rows = [
        ev(1, "ticket_raised", 1, hours=4, value=10, detail="demo", **NORTH),
        ev(3, "ticket_raised", 2, hours=3, value=20, detail="poc", **NORTH),
        ev(5, "ticket_raised", 3, hours=6, value=40, detail="bid", **SOUTH),
        ev(10, "work_started", 1, engineer="e1", value=0.0, detail="on_time", **NORTH),
        ev(14, "work_finished", 1, engineer="e1", amount=400, hours=4, **NORTH),
        ev(15, "ticket_rated", 1, engineer="e1", value=5, **NORTH),
        ev(26, "ticket_raised", 4, hours=2, value=30, detail="demo", **SOUTH),
        ev(28, "ticket_unserved", 4, detail="budget", **SOUTH),
        ev(30, "work_started", 2, engineer="e2", value=2.0, detail="slight", **NORTH),
        ev(50, "work_finished", 2, engineer="e2", amount=300, hours=3, **NORTH),
        ev(52, "ticket_rated", 2, engineer="e2", value=2, **NORTH),
        ev(53, "work_started", 3, engineer="e2", value=10.0, detail="severe", **SOUTH),
        ev(56, "work_finished", 3, engineer="e2", amount=600, hours=6, **SOUTH),
        ev(57, "ticket_rated", 3, engineer="e2", value=4, **SOUTH),
        ev(60, "ticket_raised", 5, hours=2, value=70, detail="demo", **NORTH),
    ]
    return pd.DataFrame(rows).assign(seq=range(len(rows)))


def cell(board, day, region, solution):
    """The board row of one cell."""
    rows = board[(board["day"] == day) & (board["region"] == region)
                 & (board["solution"] == solution)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_board_has_the_documented_columns_and_a_full_grid():
    board = daily_board(hand_log())
    assert list(board.columns) == list(BOARD_COLUMNS)
    assert len(board) == 3 * 2 * 2  # days 0-2, regions N S, solutions A B
    quiet = cell(board, 1, "N", "B")
    assert quiet["volume"] == quiet["started"] == quiet["ratings"] == 0
    assert quiet["backlog"] == 0 and quiet["status"] == "normal"
    assert math.isnan(quiet["on_time_rate"]) and math.isnan(quiet["satisfaction"])


def test_board_values_computed_by_hand():
    board = daily_board(hand_log())
    day0 = cell(board, 0, "N", "A")
    # Tickets 1 and 2 raised; 1 started on time and was rated 5; 2 still waits.
    assert (day0["volume"], day0["started"], day0["on_time"]) == (2, 1, 1)
    assert day0["on_time_rate"] == 1.0 and day0["satisfaction"] == 1.0
    assert (day0["busy_hours"], day0["backlog"], day0["status"]) == (4.0, 1, "normal")
    day1 = cell(board, 1, "N", "A")
    # Ticket 2 started slightly late on day 1 and finished on day 2 (3 hours).
    assert (day1["volume"], day1["started"], day1["slight"]) == (0, 1, 1)
    assert day1["slight_share"] == 1.0 and day1["on_time_rate"] == 0.0
    assert (day1["busy_hours"], day1["backlog"], day1["status"]) == (3.0, 0, "slight")
    day2 = cell(board, 2, "N", "A")
    # Ticket 2 rated 2 on day 2 (bad); ticket 5 raised and waiting.
    assert (day2["ratings"], day2["bad_ratings"], day2["satisfaction"]) == (1, 1, 0.0)
    assert (day2["volume"], day2["backlog"], day2["busy_hours"]) == (1, 1, 0.0)
    south0, south1 = cell(board, 0, "S", "B"), cell(board, 1, "S", "B")
    # Ticket 3 waits from day 0; ticket 4 is raised and unserved on day 1.
    assert (south0["volume"], south0["backlog"]) == (1, 1)
    assert (south1["volume"], south1["backlog"]) == (1, 1)
    south2 = cell(board, 2, "S", "B")
    assert (south2["severe"], south2["severe_share"], south2["status"]) == (
        1, 1.0, "severe")
    assert (south2["busy_hours"], south2["satisfaction"]) == (6.0, 1.0)
    assert board["available_hours"].isna().all()
    assert board["utilisation"].isna().all()


def test_utilisation_from_availability():
    availability = pd.DataFrame({
        "day": [0, 0, 1], "region": ["N", "N", "N"], "solution": ["A", "A", "A"],
        "available_hours": [4.0, 4.0, 0.0]})
    board = daily_board(hand_log(), availability=availability)
    assert cell(board, 0, "N", "A")["available_hours"] == 8.0
    assert cell(board, 0, "N", "A")["utilisation"] == 0.5
    assert math.isnan(cell(board, 1, "N", "A")["utilisation"])  # zero available
    assert cell(board, 2, "S", "B")["available_hours"] == 0.0


def test_engineer_home_moves_busy_hours():
    board = daily_board(hand_log(), engineer_home={"e2": "N"})
    assert cell(board, 2, "S", "B")["busy_hours"] == 0.0
    assert cell(board, 2, "N", "B")["busy_hours"] == 6.0


def test_status_rule_thresholds_are_parameters():
    lenient = StatusRule(severe_count=2, severe_share=1.0, slight_count=2,
                         slight_share=1.0)
    board = daily_board(hand_log(), status_rule=lenient)
    assert set(board["status"]) == {"normal"}
    by_share = StatusRule(severe_count=99, severe_share=0.5)
    board = daily_board(hand_log(), status_rule=by_share)
    assert cell(board, 2, "S", "B")["status"] == "severe"


def test_days_can_be_given():
    board = daily_board(hand_log(), days=[1, 2, 3, 4])
    assert sorted(board["day"].unique()) == [1, 2, 3, 4]
    # Ticket 5 was raised on day 2 and never started: still waiting on day 4.
    assert cell(board, 4, "N", "A")["backlog"] == 1
    # Ticket 2, raised on day 0 (before the first day shown), started on day 1.
    assert cell(board, 1, "N", "A")["backlog"] == 0


def test_engineer_board_by_hand():
    board = engineer_board(hand_log())
    assert len(board) == 3 * 2
    e2 = board[board["engineer"] == "e2"].set_index("day")
    assert list(e2["started"]) == [0, 1, 1]
    assert list(e2["delays"]) == [0, 1, 1]
    assert list(e2["busy_hours"]) == [0.0, 3.0, 6.0]
    assert list(e2["ratings"]) == [0, 0, 2] and e2.loc[2, "bad_ratings"] == 1
    assert e2.loc[2, "mean_rating"] == 3.0 and math.isnan(e2.loc[0, "mean_rating"])


def test_empty_log_gives_empty_board():
    empty = pd.DataFrame(columns=["time", "kind", "ticket"])
    assert daily_board(empty).empty
    assert engineer_board(empty).empty


@st.composite
def random_logs(draw):
    """A random but well-formed log of tickets over a few days."""
    rows = []
    for ticket in range(draw(st.integers(0, 25))):
        raised = draw(st.floats(0, 200, allow_nan=False))
        place = dict(region=draw(st.sampled_from("NSE")),
                     solution=draw(st.sampled_from("AB")))
        rows.append(ev(raised, "ticket_raised", ticket, **place))
        fate = draw(st.sampled_from(["open", "unserved", "started", "done"]))
        later = raised + draw(st.floats(0, 60, allow_nan=False))
        if fate == "unserved":
            rows.append(ev(later, "ticket_unserved", ticket, detail="no_engineer"))
        elif fate in ("started", "done"):
            cls = draw(st.sampled_from(["on_time", "slight", "severe"]))
            rows.append(ev(later, "work_started", ticket, engineer="e", detail=cls))
        if fate == "done":
            rows.append(ev(later + 5, "work_finished", ticket, hours=5.0))
            rows.append(ev(later + 6, "ticket_rated", ticket,
                           value=draw(st.integers(1, 5))))
    frame = pd.DataFrame(rows, columns=["time", "kind", "ticket", "region",
                                        "solution", "engineer", "detail", "hours",
                                        "value"])
    return frame.sort_values("time", kind="stable").reset_index(drop=True)


@settings(max_examples=60, deadline=None)
@given(random_logs())
def test_board_invariants_on_random_logs(log):
    board = daily_board(log)
    starts = log[log["kind"] == "work_started"]
    assert (board["on_time"] + board["slight"] + board["severe"]
            == board["started"]).all()
    assert board["volume"].sum() == (log["kind"] == "ticket_raised").sum()
    assert board["started"].sum() == len(starts)
    assert board["busy_hours"].sum() == pytest.approx(
        log.loc[log["kind"] == "work_finished", "hours"].sum())
    assert (board["backlog"] >= 0).all()
    assert (board["bad_ratings"] <= board["ratings"]).all()
    rates = board["on_time_rate"].dropna()
    assert ((rates >= 0) & (rates <= 1)).all()
    assert board["on_time_rate"].isna().equals(board["started"] == 0)
    if len(log):
        days = int(np.floor(log["time"].max() / 24)) - int(
            np.floor(log["time"].min() / 24)) + 1
        tickets = log[log["kind"] == "ticket_raised"]
        assert len(board) == days * tickets["region"].nunique() * tickets[
            "solution"].nunique()
        last = board[board["day"] == board["day"].max()]
        ended = log[log["kind"].isin(["work_started", "ticket_unserved"])]
        assert last["backlog"].sum() == len(tickets) - ended["ticket"].nunique()
