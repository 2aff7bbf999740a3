"""Tests of reading event logs written by the simulation or by another system."""

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.eventlog_io import (
    EVENT_COLUMNS,
    EventLogError,
    normalise_events,
    read_event_log,
    write_event_log,
)

HEADER = ",".join(EVENT_COLUMNS)


def write(tmp_path, text, name="events.csv"):
    """Write CSV text to a file and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_round_trip_of_a_simulated_log(tmp_path):
    events = pd.DataFrame([
        dict(seq=0, time=1.0, kind="ticket_raised", ticket=1, region="N",
             solution="A", hours=4.0, value=10.0, detail="demo"),
        dict(seq=1, time=30.0, kind="work_started", ticket=1, engineer="e1",
             value=0.5, detail="on_time"),
        dict(seq=2, time=31.0, kind="alert", region="N", solution="A", value=4.0,
             detail="volume"),
    ])
    path = write_event_log(events, tmp_path / "out" / "events.csv")
    read, issues = read_event_log(path)
    assert issues == []
    assert list(read.columns) == list(EVENT_COLUMNS)
    assert list(read["day"]) == [0, 1, 1]
    assert list(read["ticket"]) == [1, 1, -1]
    assert read["amount"].dtype == "int64" and read["hours"].dtype == float
    pd.testing.assert_frame_equal(read, normalise_events(events))


def test_bad_rows_are_reported_by_number_and_left_out(tmp_path):
    lines = [
        HEADER,  # row 1
        "0,1.0,0,ticket_raised,1,5,r,,N,A,value,0,4,10,demo",  # row 2: fine
        "1,2.0,0,work_started,1,5,r,e,N,A,value,0,0,0.5,late",  # row 3: detail
        "2,abc,0,ticket_raised,2,5,r,,N,A,value,0,4,10,demo",  # row 4: time
        "3,30.0,0,ticket_raised,3,5,r,,N,A,value,0,4,10,demo",  # row 5: day
        "4,31.0,1,ticket_rated,1,5,r,e,N,A,value,0,0,7,",  # row 6: rating
        "5,32.0,1,tea_break,1,5,r,e,N,A,value,0,0,,",  # row 7: kind
        "6,33.0,1,work_finished,1,5,r,e,N,A,value,1.5,-2,,",  # row 8: two faults
        "7,34.0,1,ticket_raised,4",  # row 9: too short
        "8,35.0,1,work_started,-1,5,r,e,N,A,value,0,0,0,on_time",  # row 10: ticket
        "8,36.0,1,ticket_raised,6,5,r,,N,A,value,0,1,40,demo",  # row 11: seq twice
        "10,40.0,1,ticket_raised,8,,,,N,A,,,,,",  # row 12: fine, defaults
        "11,20.0,0,ticket_raised,7,5,r,,N,A,value,0,1,40,demo",  # row 13: goes back
    ]
    events, issues = read_event_log(write(tmp_path, "\n".join(lines) + "\n"))
    by_row = {}
    for issue in issues:
        by_row.setdefault(issue.row, []).append(issue)
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    assert by_row[3][0].column == "detail" and "late" in by_row[3][0].reason
    assert by_row[4][0].column == "time" and "not a number" in by_row[4][0].reason
    assert by_row[5][0].column == "day"
    assert by_row[6][0].column == "value"
    assert by_row[7][0].column == "kind" and "tea_break" in by_row[7][0].reason
    assert {i.column for i in by_row[8]} == {"amount", "hours"}
    assert "fields" in by_row[9][0].reason
    assert by_row[10][0].column == "ticket"
    assert by_row[11][0].column == "seq" and "twice" in by_row[11][0].reason
    assert by_row[13][0].column == "seq" and "back" in by_row[13][0].reason
    assert str(by_row[4][0]).startswith("row 4, column 'time':")
    assert list(events["ticket"]) == [1, 8]
    last = events.iloc[-1]
    assert (last["opportunity"], last["amount"], last["hours"]) == (-1, 0, 0.0)
    assert math.isnan(last["value"]) and last["rep"] == ""


def test_company_log_with_few_columns_gets_defaults(tmp_path):
    text = ("Kind , TIME,ticket,Region,note\n"
            "ticket_raised,50,2,West,x\n"
            "ticket_raised,3,1,West,y\n")
    events, issues = read_event_log(write(tmp_path, text))
    assert [(i.row, i.column) for i in issues] == [(1, "note")]
    assert list(events["ticket"]) == [1, 2]  # seq follows time without a seq column
    assert list(events["seq"]) == [0, 1]
    assert list(events["day"]) == [0, 2]
    assert list(events["solution"]) == ["", ""]


def test_byte_order_mark_and_blank_lines_are_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("time,kind,ticket\n\n1,ticket_raised,1\n".encode("utf-8-sig"))
    events, issues = read_event_log(path)
    assert issues == [] and len(events) == 1


def test_missing_file_is_fatal_and_named(tmp_path):
    with pytest.raises(EventLogError, match="nope.csv.*does not exist"):
        read_event_log(tmp_path / "nope.csv")


def test_missing_required_column_names_file_column_and_fix(tmp_path):
    path = write(tmp_path, "time,kind\n1,ticket_raised\n", name="mine.csv")
    with pytest.raises(EventLogError) as caught:
        read_event_log(path)
    message = str(caught.value)
    assert "mine.csv" in message and "'ticket'" in message and "add" in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_empty_file_is_fatal(tmp_path, text):
    with pytest.raises(EventLogError, match="header"):
        read_event_log(write(tmp_path, text))


def test_duplicate_header_is_fatal(tmp_path):
    with pytest.raises(EventLogError, match="twice"):
        read_event_log(write(tmp_path, "time,kind,ticket,time\n1,alert,-1,1\n"))


def test_undecodable_file_is_fatal(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("time,kind,ticket\n1,ticket_raised,1,\xe9\n".encode("latin-1"))
    with pytest.raises(EventLogError, match="UTF-8"):
        read_event_log(path)


def test_normalise_requires_the_required_columns():
    with pytest.raises(EventLogError, match="ticket"):
        normalise_events(pd.DataFrame({"time": [1.0], "kind": ["alert"]}))


def test_extreme_numbers_are_reported_not_raised(tmp_path):
    text = ("seq,time,kind,ticket,amount,value,hours\n"
            "1e30,1,ticket_raised,1,0,,\n"
            "2,1e400,ticket_raised,2,0,,\n"
            "3,2,ticket_raised,3,inf,,\n"
            "4,3,ticket_raised,4,nan,,\n"
            "5,3,ticket_raised,5,0,inf,\n"
            "6,4,ticket_raised,6,0,,\n")
    events, issues = read_event_log(write(tmp_path, text))
    assert [(i.row, i.column) for i in issues] == [
        (2, "seq"), (3, "time"), (4, "amount"), (5, "amount"), (6, "value")]
    assert list(events["ticket"]) == [6]


CELLS = ["", "1", "-1", "2.5", "x", "1e999", "nan", "ticket_raised", "work_started",
         "on_time", "alert", "volume", "5", '"a,b"', " 3 "]


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(CELLS), min_size=4, max_size=6),
                max_size=12))
def test_any_rows_are_either_kept_or_reported(tmp_path, rows):
    header = "seq,time,kind,ticket,detail"
    text = "\n".join([header, *(",".join(row) for row in rows)]) + "\n"
    events, issues = read_event_log(write(tmp_path, text))
    data = [row for row in rows if any(cell.strip() for cell in row)]
    reported = {issue.row for issue in issues}
    assert len(events) + len(reported) == len(data)
    assert all(2 <= row <= len(rows) + 1 for row in reported)


def test_reader_agrees_with_the_simulation_log_writer(tmp_path):
    from sim.eventlog import COLUMNS, EventLog

    assert tuple(COLUMNS) == EVENT_COLUMNS
    log = EventLog()
    log.record(1.0, "ticket_raised", ticket=1, region="N", solution="A", hours=4.0,
               value=9.0, detail="demo")
    log.record(30.0, "work_started", ticket=1, engineer="e1", value=0.0,
               detail="on_time")
    log.record(34.0, "work_finished", ticket=1, engineer="e1", amount=500, hours=4.0)
    frame = log.to_frame()
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    read, issues = read_event_log(path)
    assert issues == []
    pd.testing.assert_frame_equal(read, normalise_events(frame))


def test_times_beyond_a_century_are_reported_not_used(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "seq,time,kind,ticket,region,solution\n"
        "0,1.0,ticket_raised,1,N,A\n"
        "1,10000000,ticket_raised,2,N,A\n"
    )
    events, issues = read_event_log(path)
    assert list(events["ticket"]) == [1]
    assert [(i.row, i.column) for i in issues] == [(3, "time")]
