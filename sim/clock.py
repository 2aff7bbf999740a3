"""A Mesa model whose step is one simulated day, driven by a SimPy clock.

Inside a day everything is event-driven: agents start SimPy processes and wait
on timeouts measured in calendar hours. ``step`` advances the SimPy
environment to the next midnight and then lets the subclass close the day
(collect data, look for surges), so Mesa's own tools (``DataCollector``, batch
runs) see one step per day.
"""

from __future__ import annotations

import mesa
import numpy as np
import simpy

from sim.calendar import HOURS_PER_DAY, BusinessCalendar


class DayStepModel(mesa.Model):
    """Base class: a SimPy environment, a business calendar and one generator.

    Args:
        calendar: The business calendar that working-hour arithmetic uses.
        horizon_days: Number of days ``run`` simulates.
        seed: Seed of the model's numpy ``Generator``; an int or a
            ``numpy.random.SeedSequence``. Every random draw in the model comes
            from ``self.random_gen``.
    """

    def __init__(
        self,
        calendar: BusinessCalendar,
        horizon_days: int,
        seed: int | np.random.SeedSequence,
    ) -> None:
        if seed is None:
            raise ValueError("a seed is required: pass an int or a SeedSequence")
        sequence = (
            seed
            if isinstance(seed, np.random.SeedSequence)
            else (np.random.SeedSequence(int(seed)))
        )
        mesa_seed = int(sequence.generate_state(1)[0])
        super().__init__(seed=mesa_seed)
        self.random_gen = np.random.default_rng(sequence)
        self.env = simpy.Environment()
        self.calendar = calendar
        self.horizon_days = int(horizon_days)
        self.day = 0

    @property
    def now(self) -> float:
        """Current time in calendar hours since the start."""
        return self.env.now

    def step(self) -> None:
        """Simulate one day, then close it."""
        self.env.run(until=(self.day + 1) * HOURS_PER_DAY)
        self.close_day(self.day)
        self.day += 1
        if self.day >= self.horizon_days:
            self.running = False

    def close_day(self, day: int) -> None:
        """Hook called at the end of each simulated day."""

    def run(self, progress=None) -> None:
        """Step until the horizon; ``progress`` is called with each finished day."""
        while self.running and self.day < self.horizon_days:
            self.step()
            if progress is not None:
                progress(self.day)
