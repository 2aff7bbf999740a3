"""Working-hour arithmetic of sim.calendar.BusinessCalendar.

Day 0 is Monday 2027-01-04; the default openings are 9-12 and 13-18 (8 working
hours a day, a lunch break 12-13), Monday to Friday.
"""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.calendar import BusinessCalendar

MONDAY = dt.date(2027, 1, 4)


def office(**kwargs) -> BusinessCalendar:
    return BusinessCalendar(start=MONDAY, **kwargs)


def hour(day: int, clock: float) -> float:
    """Calendar hours of ``clock`` o'clock on simulated day ``day``."""
    return day * 24.0 + clock


def test_worked_counts_only_openings():
    cal = office()
    assert cal.worked(hour(0, 9)) == 0.0
    assert cal.worked(hour(0, 10.5)) == 1.5
    assert cal.worked(hour(0, 12.5)) == 3.0  # lunch adds nothing
    assert cal.worked(hour(0, 14)) == 4.0
    assert cal.worked(hour(0, 23)) == 8.0
    assert cal.worked(hour(1, 10)) == 9.0
    assert cal.hours_per_working_day() == 8.0


def test_lunch_break_is_skipped():
    cal = office()
    # One hour before lunch, one after.
    assert cal.add(hour(0, 11), 2) == hour(0, 14)
    assert cal.between(hour(0, 11.5), hour(0, 13.5)) == 1.0


def test_work_runs_over_night_and_weekend():
    cal = office()
    # Friday (day 4) 17:00 + 3 h: 1 h on Friday, 2 h on Monday (day 7).
    assert cal.add(hour(4, 17), 3) == hour(7, 11)
    assert cal.worked(hour(6, 15)) == cal.worked(hour(4, 18)) == 40.0
    assert not cal.is_working_day(5) and not cal.is_working_day(6)
    assert cal.available_on(5) == 0.0 and cal.available_on(7) == 8.0


def test_holiday_is_skipped():
    tuesday = MONDAY + dt.timedelta(days=1)
    cal = office(holidays=[tuesday])
    assert not cal.is_working_day(1)
    # Monday 17:00 + 2 h finishes on Wednesday 10:00, not Tuesday.
    assert cal.add(hour(0, 17), 2) == hour(2, 10)
    assert cal.worked(hour(1, 15)) == 8.0
    assert cal.at(8.0) == hour(2, 9)


def test_request_out_of_hours_waits_for_next_opening():
    cal = office()
    assert cal.next_open(hour(0, 20)) == hour(1, 9)  # evening
    assert cal.next_open(hour(0, 12.5)) == hour(0, 13)  # lunch
    assert cal.next_open(hour(5, 10)) == hour(7, 9)  # Saturday
    assert cal.next_open(hour(0, 7)) == hour(0, 9)  # before opening
    assert cal.next_open(hour(0, 10)) == hour(0, 10)  # already open
    # A 1 h job asked for on Saturday finishes Monday 10:00.
    assert cal.add(hour(5, 10), 1) == hour(7, 10)


def test_seams_at_starts_next_opening_and_at_end_closes_previous():
    cal = office()
    # 3 working hours in is both 12:00 (end of the morning) and 13:00.
    assert cal.at(3.0) == hour(0, 13)
    assert cal.at_end(3.0) == hour(0, 12)
    # 8 hours in: the start of Tuesday, or the end of Monday.
    assert cal.at(8.0) == hour(1, 9)
    assert cal.at_end(8.0) == hour(0, 18)
    # 40 hours in: Monday of the next week, or Friday evening.
    assert cal.at(40.0) == hour(7, 9)
    assert cal.at_end(40.0) == hour(4, 18)
    # Inside an opening both agree.
    assert cal.at(1.5) == cal.at_end(1.5) == hour(0, 10.5)
    assert cal.at(0.0) == hour(0, 9)


def test_is_open_includes_start_and_excludes_end():
    cal = office()
    assert cal.is_open(hour(0, 9))
    assert not cal.is_open(hour(0, 12))
    assert cal.is_open(hour(0, 13))
    assert not cal.is_open(hour(0, 18))
    assert not cal.is_open(hour(5, 10))


def test_round_the_clock_calendar_is_identity():
    cal = office(openings=[(0, 24)], weekdays=range(7))
    for t in (0.0, 5.25, 24.0, 100.5, 1000.0):
        assert cal.worked(t) == t
        assert cal.at(t) == t
    assert cal.add(30.0, 12.5) == 42.5


def test_far_future_is_laid_out_on_demand():
    cal = office()
    # Five years on: 52 weeks a year of 40 h, give or take the extra days.
    t = cal.at(10_000.0)
    assert cal.worked(t) == pytest.approx(10_000.0)
    assert t > 365 * 24 * 4


@pytest.mark.parametrize(
    "openings", [[(9, 12), (11, 18)], [(9, 25)], [(10, 9)]], ids=str
)
def test_bad_openings_are_refused(openings):
    with pytest.raises(ValueError):
        office(openings=openings)


def test_no_weekday_is_refused():
    with pytest.raises(ValueError):
        office(weekdays=[])


# -- properties -----------------------------------------------------------------

calendars = st.builds(
    lambda split, lunch, days, holiday_offsets: BusinessCalendar(
        start=MONDAY,
        openings=[(8.0, split), (split + lunch, 18.0)],
        weekdays=days,
        holidays=[MONDAY + dt.timedelta(days=d) for d in holiday_offsets],
    ),
    st.sampled_from([11.0, 12.0, 12.5]),
    st.sampled_from([0.5, 1.0, 2.0]),
    st.sets(st.integers(0, 6), min_size=1),
    st.lists(st.integers(0, 60), max_size=5),
)
work_hours = st.floats(0.0, 2000.0, allow_nan=False)
times = st.floats(0.0, 24.0 * 400, allow_nan=False)
# Positive durations: add(t, 0) out of hours gives the end of the previous
# opening, before t (a degenerate case the model does not rely on).
durations = st.floats(0.01, 300.0, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(calendars, work_hours)
def test_worked_inverts_at_and_at_end(cal, w):
    assert cal.worked(cal.at(w)) == pytest.approx(w, abs=1e-9)
    assert cal.worked(cal.at_end(w)) == pytest.approx(w, abs=1e-9)
    assert cal.at_end(w) <= cal.at(w)


@settings(max_examples=100, deadline=None)
@given(calendars, times, times, durations, durations)
def test_add_is_monotone(cal, t1, t2, h1, h2):
    t1, t2 = sorted((t1, t2))
    h1, h2 = sorted((h1, h2))
    assert cal.add(t1, h1) <= cal.add(t2, h1)
    assert cal.add(t1, h1) <= cal.add(t1, h2)


@settings(max_examples=100, deadline=None)
@given(calendars, times, durations)
def test_between_undoes_add(cal, t, h):
    end = cal.add(t, h)
    assert cal.between(t, end) == pytest.approx(h, abs=1e-9)
    assert end >= t


@settings(max_examples=100, deadline=None)
@given(calendars, times)
def test_next_open_is_open_and_not_earlier(cal, t):
    opened = cal.next_open(t)
    assert opened >= t - 1e-9  # the round trip through worked() may lose an ulp
    assert cal.is_open(opened)
    assert cal.between(t, opened) == pytest.approx(0.0, abs=1e-9)
