"""An engineer's schedule: half-open slots, gap search, no double booking."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.schedule import DoubleBookingError, Schedule


def schedule_of(*slots: tuple[float, float]) -> Schedule:
    s = Schedule()
    for i, (start, hours) in enumerate(slots):
        s.book(start, hours, i)
    return s


def test_back_to_back_slots_are_fine():
    s = schedule_of((10.0, 4.0))
    s.book(14.0, 2.0, 1)  # starts where the first ends
    s.book(8.0, 2.0, 2)  # ends where the first starts
    assert s.slots() == [(8.0, 10.0, 2), (10.0, 14.0, 0), (14.0, 16.0, 1)]


@pytest.mark.parametrize(
    "start, hours",
    [(13.0, 2.0), (9.0, 2.0), (11.0, 1.0), (9.0, 6.0), (10.0, 4.0), (13.99, 0.5)],
)
def test_overlap_is_refused(start, hours):
    s = schedule_of((10.0, 4.0))
    with pytest.raises(DoubleBookingError):
        s.book(start, hours, 9)
    assert s.slots() == [(10.0, 14.0, 0)]


def test_is_free_uses_half_open_intervals():
    s = schedule_of((10.0, 4.0))
    assert s.is_free(14.0, 15.0)
    assert s.is_free(9.0, 10.0)
    assert not s.is_free(13.5, 14.5)
    assert not s.is_free(9.5, 10.5)


def test_earliest_finds_the_first_gap_that_fits():
    s = schedule_of((10.0, 2.0), (13.0, 2.0), (18.0, 1.0))
    # Gaps: [12, 13) of 1 h and [15, 18) of 3 h.
    assert s.earliest(0.0, 1.0) == 0.0
    assert s.earliest(9.5, 1.0) == 12.0
    assert s.earliest(9.5, 1.5) == 15.0
    assert s.earliest(11.0, 3.0) == 15.0
    assert s.earliest(11.0, 3.5) == 19.0
    assert s.earliest(16.0, 2.0) == 16.0
    assert s.earliest(16.5, 2.0) == 19.0


def test_earliest_respects_the_latest_start():
    s = schedule_of((10.0, 2.0))
    assert s.earliest(10.5, 1.0, latest=12.0) == 12.0
    assert s.earliest(10.5, 1.0, latest=11.99) is None
    assert s.earliest(8.0, 3.0, latest=8.0) is None


def test_cancel_frees_the_slot():
    s = schedule_of((10.0, 2.0), (12.0, 2.0))
    assert s.cancel(0)
    assert not s.cancel(0)
    assert s.earliest(9.0, 3.0) == 9.0
    s.book(9.0, 3.0, 5)
    assert len(s) == 2


def test_booked_between_clips_slots():
    s = schedule_of((10.0, 2.0), (13.0, 2.0))
    assert s.booked_between(11.0, 14.0) == 2.0
    assert s.booked_between(0.0, 100.0) == 4.0
    assert s.booked_between(12.0, 13.0) == 0.0


def test_forget_before_drops_only_finished_slots():
    s = schedule_of((10.0, 2.0), (12.0, 2.0), (15.0, 1.0))
    s.forget_before(12.0)
    assert [t for _, _, t in s.slots()] == [1, 2]
    s.forget_before(15.5)
    assert [t for _, _, t in s.slots()] == [2]


# -- random book / cancel sequences -------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("book"),
            st.integers(0, 80).map(lambda q: q / 4),
            st.integers(1, 24).map(lambda q: q / 4),
        ),
        st.tuples(
            st.just("earliest"),
            st.integers(0, 80).map(lambda q: q / 4),
            st.integers(1, 24).map(lambda q: q / 4),
        ),
        st.tuples(st.just("cancel"), st.integers(0, 40), st.just(0.0)),
    ),
    max_size=60,
)


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@settings(max_examples=150, deadline=None)
@given(operations)
def test_random_sequences_never_double_book(ops):
    s = Schedule()
    model: dict[int, tuple[float, float]] = {}  # ticket -> [start, end)
    for n, (op, x, hours) in enumerate(ops):
        if op == "book":
            free = not any(overlaps((x, x + hours), iv) for iv in model.values())
            assert s.is_free(x, x + hours) == free
            if free:
                s.book(x, hours, n)
                model[n] = (x, x + hours)
            else:
                with pytest.raises(DoubleBookingError):
                    s.book(x, hours, n)
        elif op == "earliest":
            found = s.earliest(x, hours)
            assert found >= x
            assert not any(
                overlaps((found, found + hours), iv) for iv in model.values()
            )
            # Nothing earlier fits: the only candidates are x and slot ends.
            candidates = [x] + [end for _, end in model.values() if end > x]
            earlier = [
                c
                for c in candidates
                if c < found
                and not any(overlaps((c, c + hours), iv) for iv in model.values())
            ]
            assert earlier == []
        else:
            tickets = sorted(model)
            if tickets:
                ticket = tickets[int(x) % len(tickets)]
                assert s.cancel(ticket)
                del model[ticket]
        slots = s.slots()
        assert sorted((a, b) for a, b, _ in slots) == sorted(model.values())
        for (a0, b0, _), (a1, _b1, _) in zip(slots, slots[1:], strict=False):
            assert a0 < b0 <= a1
