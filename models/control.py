"""Real-time control: the daily board, surge alerts and playbooks.

Each simulated day the control room counts, per region x solution, the tickets
raised (volume), the starts and how many were late (slight or severe), and the
ratings and how many were bad (2 or less). At the day's close each count is
tested against its trailing baseline by ``sim.surge``; an alert puts the
matching playbook in force for ``playbook_days`` days:

* delay surge -> ``delay_grab``: tickets that cannot be booked on time are
  posted as grab orders with an extra incentive instead of being booked late;
* volume surge -> ``volume_widen``: reps search every region, not just their own;
* bad-rating surge -> ``rating_upgrade``: the least proficiency accepted rises
  by one.

Utilisation of a region x solution is the productive hours of the engineers
based in that region who cover that solution over their available hours; an
absent engineer (``[[engineers.absences]]``) is neither available nor busy.

Every alert has an id (its order among alerts, 0 first); the
``playbook_applied`` event it triggers carries that id in ``value``. A day is
tested at its close, so the ``alert`` and ``playbook_applied`` events of day
``d`` are stamped at midnight, ``24 (d + 1)``: in the log they fall on day
``d + 1``, the first day the playbook is in force; it stays in force through
day ``d + playbook_days`` (``in_force_until`` in the alerts table). The board
rows go to the Mesa ``DataCollector`` table ``board`` (one row per day x region
x solution) and ``engineers`` (one row per day x engineer with any activity
that day: a booking, a start, a rating or booked hours), so
``model.datacollector.get_table_dataframe("board")`` gives the live board.

A planted quality drop (``[[service.quality_drops]]``) lowers the rating of work
started in its region x solution on its days: the job's fit term is lowered by
``points / rating_fit``, so the mean rating falls by ``points``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

from sim.surge import Alert, SurgeDetector, SurgeRule

if TYPE_CHECKING:
    from models.presales_model import PresalesModel
    from models.work_order import Ticket

PLAYBOOK_FOR = {
    "delay": "delay_grab",
    "volume": "volume_widen",
    "rating": "rating_upgrade",
}
_METRICS = (
    "volume",
    "started",
    "on_time",
    "slight",
    "severe",
    "ratings",
    "bad_ratings",
    "good_ratings",
    "slight_share",
    "severe_share",
    "on_time_rate",
    "satisfaction",
    "busy_hours",
    "available_hours",
    "utilisation",
    "backlog",
    "status",
)
BOARD_TABLE = ("day", "region", "solution", *_METRICS)
ENGINEER_TABLE = ("day", "engineer", "region", "grade", *_METRICS)
ALERT_TABLE = (
    "alert",
    "day",
    "region",
    "solution",
    "signal",
    "count",
    "baseline",
    "p_value",
    "playbook",
    "in_force_until",
)
# Board figures computed from a cell's or engineer's counts and hours.
FIGURES = (
    "slight_share",
    "severe_share",
    "on_time_rate",
    "satisfaction",
    "busy_hours",
    "available_hours",
    "utilisation",
    "status",
)
COUNTERS = (
    "volume",
    "started",
    "on_time",
    "slight",
    "severe",
    "ratings",
    "bad_ratings",
    "good_ratings",
)


_NO_COUNTS = dict.fromkeys(COUNTERS, 0)  # read only


class _Hours(dict):
    """Busy and available hours by engineer name; names not listed are idle."""

    __slots__ = ("idle",)

    def __missing__(self, name: str) -> tuple[float, float]:
        return self.idle


class ControlRoom:
    """Counts the day's signals, raises alerts and applies playbooks."""

    def __init__(self, model: PresalesModel) -> None:
        self.model = model
        c = model.scenario.control
        rule = SurgeRule(window=c.window_days, alpha=c.alpha, min_count=c.min_count)
        self.detectors = {signal: SurgeDetector(rule) for signal in PLAYBOOK_FOR}
        self.today: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(COUNTERS, 0)
        )
        self.by_engineer: dict[str, dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(COUNTERS, 0)
        )
        self.rows: list[dict] = []
        self.alerts: list[dict] = []
        self.backlog: dict[tuple[str, str], int] = defaultdict(int)
        self._coverage = self._engineers_by_cell()
        self._on_schedule: dict[str, set[int]] = {}
        self._active: list = []  # engineers with slots at today's close
        self._busy_day = None
        self._busy_cells: dict[tuple[str, str], list[float]] = {}
        self._spans: dict[tuple[float, int], float] = {}
        self._rank = {name: i for i, name in enumerate(model.engineers)}

    def _engineers_by_cell(self):
        cells = defaultdict(list)
        for e in self.model.engineers.values():
            for solution in e.proficiency:
                cells[(e.region, solution)].append(e)
        return cells

    def note_raised(self, t: Ticket) -> None:
        """A ticket was raised."""
        self.today[(t.region, t.solution)]["volume"] += 1
        self.backlog[(t.region, t.solution)] += 1

    def note_start(self, t: Ticket) -> None:
        """Work on a ticket started (its delay class is known)."""
        for counts in self._counters(t):
            counts["started"] += 1
            counts[t.delay_class] += 1
        self.backlog[(t.region, t.solution)] -= 1
        drop = self._quality_drop(t.region, t.solution)
        if drop:
            t.fit -= drop / self.model.scenario.service.rating_fit

    def _counters(self, t: Ticket) -> tuple[dict[str, int], dict[str, int]]:
        """Today's counters of the ticket's cell and of its engineer."""
        return self.today[(t.region, t.solution)], self.by_engineer[t.engineer]

    def _quality_drop(self, region: str, solution: str) -> float:
        """Rating points lost by work starting now in the region x solution."""
        day = int(self.model.now // 24)
        return sum(
            q.points
            for q in self.model.scenario.service.quality_drops
            if q.region == region
            and q.solution == solution
            and q.start_day <= day < q.start_day + q.days
        )

    def note_unserved(self, t: Ticket) -> None:
        """A ticket ended without service."""
        self.backlog[(t.region, t.solution)] -= 1

    def note_rating(self, t: Ticket) -> None:
        """A finished ticket was rated."""
        for counts in self._counters(t):
            counts["ratings"] += 1
            counts["bad_ratings"] += int(t.rating <= 2)
            counts["good_ratings"] += int(t.rating >= 4)

    def close_day(self, day: int) -> None:
        """Write the day's board rows, test for surges, apply playbooks."""
        m = self.model
        w0 = m.calendar.worked(day * 24.0)
        w1 = m.calendar.worked((day + 1) * 24.0)
        hours = self._engineer_hours(w0, w1)
        for region in m.scenario.regions:
            for solution in m.scenario.solutions:
                key = (region, solution)
                counts = self.today.get(key) or dict.fromkeys(COUNTERS, 0)
                busy, available = self._hours(key, hours)
                row = self._row(counts, busy, available)
                row.update(day=day, region=region, solution=solution)
                row["backlog"] = self.backlog[key]
                row = {name: row[name] for name in BOARD_TABLE}
                self.rows.append(row)
                m.datacollector.add_table_row("board", row)
                self._test(day, key, counts)
        self._engineer_rows(day, w1, hours)
        self.today.clear()
        self.by_engineer.clear()

    def _engineer_hours(self, w0: float, w1: float) -> dict[str, tuple[float, float]]:
        """Busy and available working hours of each engineer in ``[w0, w1)``.

        Engineers with nothing booked and no absence are left out of the
        mapping, which gives them ``(0.0, w1 - w0)``.
        """
        hours = _Hours()
        absences = self.model.absences
        span = w1 - w0
        hours.idle = (0.0, span)
        self._active = []
        empty = -math.inf  # a schedule's last_end when nothing is booked
        for e in self.model.engineers.values():
            if e.schedule.last_end == empty and e.name not in absences:
                continue  # nothing booked, nobody away: idle
            self._active.append(e)
            if e.name not in absences:  # nobody away: the below with away = 0
                hours[e.name] = (e.schedule.booked_between(w0, w1), span)
                continue
            away = self._absent(e.name, w0, w1)
            busy = e.schedule.booked_between(w0, w1) - away
            hours[e.name] = (busy, (w1 - w0) - away)
        return hours

    def _absent(self, engineer: str, w0: float, w1: float) -> float:
        """Working hours of ``engineer``'s absences inside ``[w0, w1)``."""
        return sum(
            max(0.0, min(w1, b) - max(w0, a))
            for a, b in self.model.absences.get(engineer, ())
        )

    def _hours(self, key, hours) -> tuple[float, float]:
        engineers = self._coverage.get(key, [])
        if engineers and not self.model.absences:
            return self._fast_hours(key, hours, len(engineers))
        busy = sum(hours[e.name][0] for e in engineers)
        return busy, sum(hours[e.name][1] for e in engineers)

    def _fast_hours(self, key, hours, count: int) -> tuple[float, float]:
        """``_hours`` without absences, adding only what is not zero.

        Busy hours of the engineers with something booked are added in the
        same order as ``_hours`` adds everyone's (adding 0.0 changes no sum,
        so the result is the same float); every engineer's available hours
        are the day's span, added ``count`` times as ``_hours`` would.
        """
        if self._busy_day is not hours:
            self._busy_day = hours
            self._busy_cells = defaultdict(list)
            for e in self._active:
                busy = hours[e.name][0]
                if busy:
                    for solution in e.proficiency:
                        self._busy_cells[(e.region, solution)].append(busy)
        span = hours.idle[1]
        available = self._spans.get((span, count))
        if available is None:
            available = 0
            for _ in range(count):
                available += span
            self._spans[(span, count)] = available
        return sum(self._busy_cells.get(key, ()), 0.0), available

    def _engineer_rows(self, day: int, w1: float, hours) -> None:
        """Per-engineer board rows of engineers with activity today.

        The day's rows are appended straight to the columns of the Mesa table
        ``engineers`` (what ``add_table_row`` does row by row, without its
        per-row checks: every row has every column).
        """
        m = self.model
        table = m.datacollector.tables["engineers"]
        rows = []
        # Engineers with slots (all among today's active ones) or activity, in
        # the order of m.engineers; the others get no row.
        names = {e.name for e in self._active if len(e.schedule)}
        names.update(self.by_engineer)
        for name in [n for n in self._on_schedule if n not in names]:
            del self._on_schedule[name]
        for name in sorted(names, key=self._rank.__getitem__):
            e = m.engineers[name]
            ids = e.schedule.ticket_ids()
            booked = len(ids - self._on_schedule.get(e.name, set()))
            self._on_schedule[e.name] = ids
            counts = self.by_engineer.get(e.name)
            busy, available = hours[e.name]
            if not (booked or counts or busy > 0):
                continue
            c = counts or _NO_COUNTS
            figures = self._figures(c, busy, available)
            rows.append(
                (
                    day,
                    e.name,
                    e.region,
                    e.grade,
                    booked,
                    c["started"],
                    c["on_time"],
                    c["slight"],
                    c["severe"],
                    c["ratings"],
                    c["bad_ratings"],
                    c["good_ratings"],
                    *figures[:7],
                    e.schedule.tickets_from(w1),
                    figures[7],
                )
            )
        if rows:
            columns = zip(*rows, strict=True)
            for name, values in zip(ENGINEER_TABLE, columns, strict=True):
                table[name].extend(values)

    def _row(self, counts, busy, available) -> dict:
        """Board figures of one cell or engineer (without key and backlog)."""
        figures = self._figures(counts, busy, available)
        return {**counts, **dict(zip(FIGURES, figures, strict=True))}

    def _figures(self, counts, busy, available) -> tuple:
        """The values of ``FIGURES`` for ``counts`` and the hours."""
        c = self.model.scenario.control
        started = counts["started"]
        ratings = counts["ratings"]
        late_share = (counts["slight"] + counts["severe"]) / started if started else 0.0
        severe_share = counts["severe"] / started if started else 0.0
        status = "normal"
        if counts["severe"] and severe_share >= c.severe_status_share:
            status = "severe"
        elif late_share >= c.slight_status_share and (
            counts["slight"] or counts["severe"]
        ):
            status = "slight"
        return (
            counts["slight"] / started if started else 0.0,
            severe_share,
            counts["on_time"] / started if started else float("nan"),
            counts["good_ratings"] / ratings if ratings else float("nan"),
            busy,
            available,
            busy / available if available else float("nan"),
            status,
        )

    def _test(self, day: int, key, counts) -> None:
        observed = {
            "volume": (counts["volume"], None),
            "delay": (counts["slight"] + counts["severe"], counts["started"]),
            "rating": (counts["bad_ratings"], counts["ratings"]),
        }
        for signal, (count, trials) in observed.items():
            alert = self.detectors[signal].observe(day, key, count, trials)
            if alert is not None:
                self._raise(day, key, signal, alert)

    def _raise(self, day: int, key, signal: str, alert: Alert) -> None:
        m = self.model
        region, solution = key
        alert_id = len(self.alerts)
        playbook = PLAYBOOK_FOR[signal]
        applied = playbook in m.scenario.control.playbooks
        count = alert.count
        self.alerts.append(
            {
                "alert": alert_id,
                "day": day,
                "region": region,
                "solution": solution,
                "signal": signal,
                "count": count,
                "baseline": alert.baseline_rate,
                "p_value": alert.p_value,
                "playbook": playbook if applied else "",
                "in_force_until": day + m.scenario.control.playbook_days
                if applied
                else -1,
            }
        )
        m.log.record(
            m.now, "alert", region=region, solution=solution, value=count, detail=signal
        )
        if applied:
            m.dispatcher.apply(
                playbook, region, solution, m.scenario.control.playbook_days
            )
            m.log.record(
                m.now,
                "playbook_applied",
                region=region,
                solution=solution,
                value=alert_id,
                detail=playbook,
            )
