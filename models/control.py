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
based in that region who cover that solution over their available hours.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sim.surge import SurgeDetector, SurgeRule

if TYPE_CHECKING:
    from models.presales_model import PresalesModel
    from models.work_order import Ticket

PLAYBOOK_FOR = {
    "delay": "delay_grab",
    "volume": "volume_widen",
    "rating": "rating_upgrade",
}
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
        self.rows: list[dict] = []
        self.alerts: list[dict] = []
        self.backlog: dict[tuple[str, str], int] = defaultdict(int)
        self._coverage = self._engineers_by_cell()

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
        counts = self.today[(t.region, t.solution)]
        counts["started"] += 1
        counts[t.delay_class] += 1
        self.backlog[(t.region, t.solution)] -= 1

    def note_unserved(self, t: Ticket) -> None:
        """A ticket ended without service."""
        self.backlog[(t.region, t.solution)] -= 1

    def note_rating(self, t: Ticket) -> None:
        """A finished ticket was rated."""
        counts = self.today[(t.region, t.solution)]
        counts["ratings"] += 1
        counts["bad_ratings"] += int(t.rating <= 2)
        counts["good_ratings"] += int(t.rating >= 4)

    def close_day(self, day: int) -> None:
        """Write the day's board rows, test for surges, apply playbooks."""
        m = self.model
        w0 = m.calendar.worked(day * 24.0)
        w1 = m.calendar.worked((day + 1) * 24.0)
        for region in m.scenario.regions:
            for solution in m.scenario.solutions:
                key = (region, solution)
                counts = self.today.get(key) or dict.fromkeys(COUNTERS, 0)
                busy, available = self._hours(key, w0, w1)
                self.rows.append(self._row(day, key, counts, busy, available))
                self._test(day, key, counts)
        self.today.clear()

    def _hours(self, key, w0: float, w1: float) -> tuple[float, float]:
        engineers = self._coverage.get(key, [])
        busy = sum(e.schedule.booked_between(w0, w1) for e in engineers)
        return busy, (w1 - w0) * len(engineers)

    def _row(self, day, key, counts, busy, available) -> dict:
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
        return {
            "day": day,
            "region": key[0],
            "solution": key[1],
            **counts,
            "slight_share": counts["slight"] / started if started else 0.0,
            "severe_share": severe_share,
            "on_time_rate": counts["on_time"] / started if started else float("nan"),
            "satisfaction": counts["good_ratings"] / ratings
            if ratings
            else float("nan"),
            "busy_hours": busy,
            "available_hours": available,
            "utilisation": busy / available if available else float("nan"),
            "backlog": self.backlog[key],
            "status": status,
        }

    def _test(self, day: int, key, counts) -> None:
        observed = {
            "volume": (counts["volume"], None),
            "delay": (counts["slight"] + counts["severe"], counts["started"]),
            "rating": (counts["bad_ratings"], counts["ratings"]),
        }
        for signal, (count, trials) in observed.items():
            alert = self.detectors[signal].observe(day, key, count, trials)
            if alert is not None:
                self._raise(day, key, signal, count)

    def _raise(self, day: int, key, signal: str, count: int) -> None:
        m = self.model
        region, solution = key
        alert_id = len(self.alerts)
        playbook = PLAYBOOK_FOR[signal]
        applied = playbook in m.scenario.control.playbooks
        self.alerts.append(
            {
                "alert": alert_id,
                "day": day,
                "region": region,
                "solution": solution,
                "signal": signal,
                "count": count,
                "playbook": playbook if applied else "",
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
