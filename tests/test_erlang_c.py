"""The engine as an M/M/c queue (scenarios/erlang_c.toml) against Erlang C.

The scenario is M/M/5 at 80% load served round the clock in order of arrival,
so a ticket's delay in working hours is its wait in queue. Each seed gives one
replication of 30 days; its first 2 days (the warm-up, about 100 mean service
times) are left out so the empty start does not bias the waits downwards.
"""

from pathlib import Path

import numpy as np
import pytest

from models.runner import run_scenario
from models.scenario import load_scenario
from sim.queueing import erlang_c, mmc_mean_wait, mmc_wait_within

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "erlang_c.toml"
SEEDS = range(12)


@pytest.fixture(scope="module")
def replications():
    """Per seed: mean wait, share that waited, share served within 0.5 h."""
    scenario = load_scenario(SCENARIO)
    warm = scenario.scenario.warmup_days * 24.0
    rows = []
    for seed in SEEDS:
        result = run_scenario(scenario, seed)
        tickets = result.tables["tickets"]
        board = result.tables["board"]
        served = tickets[
            (tickets["raised_at"] >= warm) & tickets["actual_start"].notna()
        ]
        wait = served["delay_hours"].to_numpy()
        late_board = board[board["day"] >= scenario.scenario.warmup_days]
        rows.append(
            (
                wait.mean(),
                (wait > 0).mean(),
                (wait <= 0.5).mean(),
                late_board["busy_hours"].sum() / late_board["available_hours"].sum(),
                len(served),
            )
        )
    return scenario, np.array(rows)


def queue_parameters(scenario):
    (stream,) = scenario.demand.queue
    servers = sum(p.count for p in scenario.engineers.pools)
    return stream.rate_per_hour, 1.0 / stream.hours_mean, servers


def test_scenario_is_the_textbook_queue(replications):
    scenario, rows = replications
    lam, mu, c = queue_parameters(scenario)
    assert (lam, mu, c) == (4.0, 1.0, 5)
    assert scenario.dispatch.max_wait_hours == float("inf")  # any wait accepted
    assert scenario.budget.unlimited and not scenario.grab.enabled
    assert scenario.control.playbooks == []
    # About 4 x 24 x 28 = 2,688 customers per replication after the warm-up.
    assert rows[:, 4].min() > 2_400


def within_three_standard_errors(values: np.ndarray, expected: float) -> None:
    """The mean over independent replications is within 3 standard errors.

    Tolerance: 3 standard errors of the mean of 12 replications (a two-sided
    test at about the 0.3% level if the engine is right); the standard error
    must itself be under 10% of the expected value, so the check has power.
    """
    mean = values.mean()
    se = values.std(ddof=1) / np.sqrt(len(values))
    assert se < 0.1 * expected, f"too noisy to judge: se {se:.4f}"
    assert abs(mean - expected) <= 3 * se, (
        f"simulated {mean:.4f} +- {se:.4f} vs Erlang C {expected:.4f}"
    )


def test_mean_wait_matches_erlang_c(replications):
    scenario, rows = replications
    lam, mu, c = queue_parameters(scenario)
    expected = mmc_mean_wait(lam, mu, c)
    assert expected == pytest.approx(0.5541, abs=1e-4)
    within_three_standard_errors(rows[:, 0], expected)


def test_probability_of_waiting_matches_erlang_c(replications):
    scenario, rows = replications
    lam, mu, c = queue_parameters(scenario)
    expected = erlang_c(c, lam / mu)
    within_three_standard_errors(rows[:, 1], expected)


def test_share_served_within_half_an_hour(replications):
    scenario, rows = replications
    lam, mu, c = queue_parameters(scenario)
    expected = mmc_wait_within(lam, mu, c, 0.5)  # 1 - C exp(-(c mu - lam) t)
    within_three_standard_errors(rows[:, 2], expected)


def test_utilisation_is_the_offered_load_per_engineer(replications):
    scenario, rows = replications
    lam, mu, c = queue_parameters(scenario)
    # Booked hours over available hours after the warm-up; 12 x 28 days of
    # 120 available hours each make the mean good to well within 0.03.
    assert rows[:, 3].mean() == pytest.approx(lam / (mu * c), abs=0.03)
