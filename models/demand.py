"""Simulated demand: opportunities arriving and raising tickets by stage.

Opportunity streams (calibrated or explicit): on each working day a stream of
region x solution brings a Poisson number of new opportunities, with mean
``arrivals_per_month[month] x scale x 12 / working days per year``, at times
spread uniformly over the day's working hours. Each gets a rep of its region
(uniformly), a deal value and a cycle length in calendar days, each lognormal or,
when the stream gives quantiles, the inverse of their piecewise-linear CDF at
one uniform draw (one draw each, value first, so paired runs keep common random
numbers); it spends ``share_of_cycle`` of the cycle in each stage, and on entering
a stage raises each of the stage's activities with its probability. A ticket's
hours are the activity's hours x (deal value / reference) ** elasticity,
rounded to a quarter hour; its window opens a uniform 4-24 working hours
(``lead_hours_min``-``lead_hours_max``) after it is raised. A planted surge
(``[[demand.surges]]``) multiplies one stream's daily rate by its ``factor``
from ``start_day`` for ``days`` days. With ``random_stream = "own"`` every
demand draw comes from a generator of its own (derived from the model's seed),
so demand does not depend on what dispatch and control draw.

Queue streams (``mode = "queue"``): tickets arrive as a Poisson process in
calendar time with exponential work, requested to start at once; they belong
to no opportunity and no rep (no budget), the textbook M/M/c set-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.scenario import Stream
from models.work_order import Opportunity

if TYPE_CHECKING:
    from models.presales_model import PresalesModel

# Shortest sales cycle, calendar days: a same-day deal still passes every stage.
# Real exports have cycles of a day or two (the bundled one: 13% under 5 days).
MIN_CYCLE_DAYS = 1.0


def quantile_draw(quantiles: list[float], u: float) -> float:
    """The value at probability ``u`` of a piecewise-linear empirical CDF.

    Args:
        quantiles: Values at the evenly spaced probabilities 0, 1/(n-1), ..., 1
            (non-decreasing, at least two).
        u: A probability in [0, 1], usually one uniform draw.

    Returns:
        The inverse CDF at ``u``: linear interpolation between the two
        quantiles whose probabilities enclose ``u``.
    """
    position = u * (len(quantiles) - 1)
    k = min(int(position), len(quantiles) - 2)
    low, high = quantiles[k], quantiles[k + 1]
    return low + (position - k) * (high - low)


def _draw(
    rng: np.random.Generator, quantiles: list[float], mu: float, sigma: float
) -> float:
    """One draw: inverse CDF of the quantiles from one uniform, else lognormal."""
    if quantiles:
        return quantile_draw(quantiles, float(rng.random()))
    return float(rng.lognormal(mu, sigma))


class DemandSource:
    """Starts the SimPy processes that generate opportunities or tickets."""

    def __init__(self, model: PresalesModel) -> None:
        self.model = model
        self.reps_by_region: dict[str, list[str]] = {}
        for rep in model.reps.values():
            self.reps_by_region.setdefault(rep.region, []).append(rep.name)
        self.next_opportunity = 0
        d = model.scenario.demand
        self.rng = model.random_gen
        if d.random_stream == "own":
            seq = model.random_gen.bit_generator.seed_seq
            child = np.random.SeedSequence(
                seq.entropy, spawn_key=(*seq.spawn_key, 0xDE3A)
            )
            self.rng = np.random.default_rng(child)
        if d.mode == "queue":
            for stream in d.queue:
                model.env.process(self._queue_arrivals(stream))
        else:
            model.env.process(self._daily_arrivals())

    # -- opportunity streams -------------------------------------------------

    def _daily_rate(self, stream: Stream, day: int) -> float:
        m = self.model
        month = m.calendar.date_of(day).month
        working_days = 52.0 * len(m.scenario.calendar.weekdays)
        per_month = stream.arrivals_per_month[month - 1] * m.scenario.demand.scale
        for surge in m.scenario.demand.surges:
            if (
                surge.region == stream.region
                and surge.solution == stream.solution
                and surge.start_day <= day < surge.start_day + surge.days
            ):
                per_month *= surge.factor
        return per_month * 12.0 / working_days

    def _daily_arrivals(self):
        m = self.model
        rng = self.rng
        while True:
            day = int(m.now // 24)
            if m.calendar.is_working_day(day):
                w0 = m.calendar.worked(day * 24.0)
                length = m.calendar.worked((day + 1) * 24.0) - w0
                arrivals = []
                for stream in m.scenario.demand.streams:
                    n = rng.poisson(self._daily_rate(stream, day))
                    for offset in rng.uniform(0.0, length, size=n):
                        arrivals.append((m.calendar.at(w0 + offset), stream))
                arrivals.sort(key=lambda a: a[0])
                for when, stream in arrivals:
                    if when > m.now:
                        yield m.env.timeout(when - m.now)
                    self._open(stream)
            yield m.env.timeout((day + 1) * 24.0 - m.now)

    def _open(self, stream: Stream) -> None:
        m = self.model
        rng = self.rng
        reps = self.reps_by_region[stream.region]
        rep = reps[int(rng.integers(len(reps)))]
        value = _draw(
            rng, stream.deal_value_quantiles, stream.deal_value_mu,
            stream.deal_value_sigma,
        )
        cycle = max(
            MIN_CYCLE_DAYS,
            _draw(
                rng, stream.cycle_days_quantiles, stream.cycle_days_mu,
                stream.cycle_days_sigma,
            ),
        )
        opp = Opportunity(
            self.next_opportunity,
            rep,
            stream.region,
            stream.solution,
            m.now,
            round(value, 2),
            stream.win_rate,
            cycle,
        )
        self.next_opportunity += 1
        m.opportunities[opp.id] = opp
        m.log.record(
            m.now,
            "opportunity_created",
            opportunity=opp.id,
            rep=rep,
            region=opp.region,
            solution=opp.solution,
            value=opp.deal_value,
        )
        m.env.process(self._lifecycle(opp))

    def _lifecycle(self, opp: Opportunity):
        m = self.model
        start = m.now
        elapsed = 0.0
        for stage in m.scenario.demand.stages:
            at = start + elapsed * opp.cycle_days * 24.0
            if at > m.now:
                yield m.env.timeout(at - m.now)
            m.log.record(
                m.now,
                "stage_entered",
                opportunity=opp.id,
                rep=opp.rep,
                region=opp.region,
                solution=opp.solution,
                stage=stage.name,
            )
            for activity in stage.activities:
                if self.rng.random() < activity.probability:
                    self._raise(opp, stage.name, activity)
            elapsed += stage.share_of_cycle
        end = start + opp.cycle_days * 24.0
        if end > m.now:
            yield m.env.timeout(end - m.now)
        opp.cycle_over = True
        m.close_if_done(opp)

    def _raise(self, opp: Opportunity, stage: str, activity) -> None:
        m = self.model
        d = m.scenario.demand
        size = (opp.deal_value / d.reference_deal_value) ** d.hours_elasticity
        hours = max(0.5, round(activity.hours * size * 4) / 4)
        lead = self.rng.uniform(d.lead_hours_min, d.lead_hours_max)
        requested = m.calendar.at(m.calendar.worked(m.now) + lead)
        m.raise_ticket(
            opp.id,
            opp.rep,
            opp.region,
            opp.solution,
            stage,
            activity.name,
            activity.min_proficiency,
            hours,
            requested,
        )

    # -- queue streams -------------------------------------------------------

    def _queue_arrivals(self, stream):
        m = self.model
        rng: np.random.Generator = self.rng
        while True:
            yield m.env.timeout(rng.exponential(1.0 / stream.rate_per_hour))
            hours = float(rng.exponential(stream.hours_mean))
            m.raise_ticket(
                -1,
                "",
                stream.region,
                stream.solution,
                "",
                "request",
                stream.min_proficiency,
                hours,
                m.now,
            )
