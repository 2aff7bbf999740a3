"""Outcomes of one replication per region x solution, for staffing a cell.

Leadership staffs a region x solution against that cell's service, not the
company-wide average. :func:`outcomes_by_cell` is a runner for experiments (see
:mod:`sim.experiment`) that returns the key outcomes of
:func:`models.runner.replication_outcomes` plus, for every region x solution of
the scenario, outcomes named ``<outcome>.<region>.<solution>``:

* ``on_time_share``: share of started tickets that started on time;
* ``fill_rate``: share of ended tickets served (tickets still open at the
  horizon are left out, as in the company-wide ``fill_rate``);
* ``mean_delay_hours``: mean start delay of started tickets (working hours);
* ``win_rate``: share of closed opportunities won.

Like the key outcomes, they leave out tickets raised and opportunities created
during the warm-up (``scenario.warmup_days``). A cell with nothing to count
gives NaN, which the statistics drop.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from models.outcomes import fill_rate, on_time_share, win_rate
from models.runner import run_scenario
from models.scenario import scenario_from_dict

__all__ = ["CELL_OUTCOMES", "cell_outcome_name", "outcomes_by_cell"]

CELL_OUTCOMES = ("on_time_share", "fill_rate", "mean_delay_hours", "win_rate")
"""Outcomes reported per region x solution."""


def cell_outcome_name(outcome: str, region: str, solution: str) -> str:
    """Return the name of a cell's outcome, e.g. ``on_time_share.East.GTX``."""
    return f"{outcome}.{region}.{solution}"


def _cell_values(tickets: pd.DataFrame, closed: pd.DataFrame) -> dict[str, float]:
    started = tickets[tickets["delay_class"] != ""]
    delays = pd.to_numeric(started["delay_hours"], errors="coerce").dropna()
    return {
        "on_time_share": on_time_share(started),
        "fill_rate": fill_rate(tickets),
        "mean_delay_hours": float(delays.mean()) if len(delays) else math.nan,
        "win_rate": win_rate(closed),
    }


def outcomes_by_cell(
    config: dict[str, Any], seed: np.random.SeedSequence
) -> dict[str, float]:
    """Run one replication; key outcomes plus outcomes per region x solution.

    Args:
        config: A scenario config (plain nested dict).
        seed: The replication's seed sequence.

    Returns:
        Outcome name to value; cell outcomes are named by
        :func:`cell_outcome_name`.
    """
    scenario = scenario_from_dict(config, source="<experiment config>")
    result = run_scenario(scenario, seed)
    warm = scenario.scenario.warmup_days * 24.0
    tickets = result.tables["tickets"]
    tickets = tickets[tickets["raised_at"] >= warm]
    opportunities = result.tables["opportunities"]
    if not opportunities.empty:
        opportunities = opportunities[
            (opportunities["created_at"] >= warm)
            & opportunities["outcome"].isin(["won", "lost"])
        ]
    outcomes = dict(result.outcomes)
    for region in scenario.regions:
        for solution in scenario.solutions:
            mine = tickets[
                (tickets["region"] == region) & (tickets["solution"] == solution)
            ]
            closed = (
                opportunities[
                    (opportunities["region"] == region)
                    & (opportunities["solution"] == solution)
                ]
                if not opportunities.empty
                else opportunities
            )
            if closed.empty:
                closed = pd.DataFrame({"outcome": pd.Series(dtype=str)})
            for name, value in _cell_values(mine, closed).items():
                outcomes[cell_outcome_name(name, region, solution)] = value
    return outcomes
