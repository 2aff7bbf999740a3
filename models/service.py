"""Service quality: delay classes, the rep's rating and the win probability.

Rating (1-5, rounded): ``rating_base + rating_fit x (proficiency - needed)
- rating_slight [slight] - rating_severe [severe] + noise``.

Win probability: the calibrated base win rate holds for ordinary service (mean
rating ``win_reference_rating``, no delays, nothing unserved); on the logit
scale it moves by ``win_rating`` per rating point above that reference, and
falls by ``win_slight``, ``win_severe`` and ``win_unserved`` per slightly late,
severely late and unserved ticket of the opportunity.

Work duration: an engineer ``f`` proficiency points above the ticket's need
works ``hours x max(0.5, 1 - duration_fit x f)`` (rounded to a quarter hour;
see ``BookingDesk.work_hours``); the default ``duration_fit = 0`` keeps the
requested hours.

So proficiency acts three ways: shorter work (and a smaller bill), a better
rating, and, through the rating, a better chance of winning. Each default's
direction is tested on paired seeds in ``tests/test_directions.py``.
"""

from __future__ import annotations

import math

import numpy as np

from models.scenario import Control, Service

ON_TIME, SLIGHT, SEVERE = "on_time", "slight", "severe"


def delay_class(delay_hours: float, control: Control) -> str:
    """Class of a start ``delay_hours`` working hours after the requested one."""
    if delay_hours >= control.severe_after_hours:
        return SEVERE
    if delay_hours >= control.slight_after_hours and delay_hours > 0:
        return SLIGHT
    return ON_TIME


def rating(fit: int, klass: str, service: Service, rng: np.random.Generator) -> int:
    """The rep's rating of a finished ticket, 1-5."""
    mean = service.rating_base + service.rating_fit * fit
    if klass == SLIGHT:
        mean -= service.rating_slight
    elif klass == SEVERE:
        mean -= service.rating_severe
    value = mean + service.rating_noise * rng.standard_normal()
    return int(min(5, max(1, round(value))))


def win_probability(
    base: float,
    mean_rating: float,
    slight: int,
    severe: int,
    unserved: int,
    service: Service,
) -> float:
    """Chance of winning given the presales service the opportunity got."""
    base = min(max(base, 1e-6), 1 - 1e-6)
    logit = math.log(base / (1 - base))
    if not math.isnan(mean_rating):
        logit += service.win_rating * (mean_rating - service.win_reference_rating)
    logit -= service.win_slight * slight + service.win_severe * severe
    logit -= service.win_unserved * unserved
    return 1 / (1 + math.exp(-logit))
