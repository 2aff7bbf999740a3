"""Directions of the behavioural defaults, on paired seeds.

Each test runs ``scenarios/small.toml`` (short horizon) under two settings
that differ in one assumption, for the same replication seeds (common random
numbers), and checks the direction of the effect on an outcome. Tolerance:
the paired mean difference over the replications must have the expected sign
and its 95% confidence interval must exclude zero (``sim.stats``), unless a
test states an exact, per-seed check instead.
"""

import tomllib
from pathlib import Path

import numpy as np

from models.runner import run_scenario
from models.scenario import scenario_from_dict
from sim.overrides import apply_overrides
from sim.seeds import replication_seed
from sim.stats import paired_difference

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "small.toml"
REPLICATIONS = 6
# Sales cycles of about 15 days, so that many opportunities close in 40 days.
SHORT_CYCLES = {f"demand.streams[{i}].cycle_days_mu": 2.7 for i in (0, 1)}


def config(overrides: dict) -> dict:
    raw = tomllib.loads(SMALL.read_text(encoding="utf-8"))
    base = {"scenario.horizon_days": 40, "control.playbooks": []}
    return apply_overrides(raw, {**base, **overrides}, allow_new=True)


_RUNS: dict[str, list[dict]] = {}


def outcomes(overrides: dict, replications: int = REPLICATIONS) -> list[dict]:
    """Key outcomes of replications ``0..replications-1`` (memoised)."""
    key = f"{sorted(overrides.items())!r}/{replications}"
    if key not in _RUNS:
        scenario = config(overrides)
        _RUNS[key] = [
            run_scenario(
                scenario_from_dict(scenario), replication_seed(2027, k)
            ).outcomes
            for k in range(replications)
        ]
    return _RUNS[key]


def pair(low: dict, high: dict, key: str, replications: int = REPLICATIONS):
    """Paired difference ``high - low`` of outcome ``key``."""
    a = [o[key] for o in outcomes(high, replications)]
    b = [o[key] for o in outcomes(low, replications)]
    return paired_difference(a, b)


def assert_rises(diff, what: str) -> None:
    assert diff.mean > 0 and diff.significant, f"{what}: {diff}"


def assert_falls(diff, what: str) -> None:
    assert diff.mean < 0 and diff.significant, f"{what}: {diff}"


def test_more_incentive_gives_more_and_faster_grabs_at_higher_cost():
    base = {"dispatch.policy": "grab_first", "budget.unlimited": True}
    low = {**base, "grab.incentive": 0.0}
    high = {**base, "grab.incentive": 1.0}
    runs_low, runs_high = outcomes(low), outcomes(high)

    def diff(key):
        return paired_difference(
            [o[key] for o in runs_high], [o[key] for o in runs_low]
        )

    assert_rises(diff("grab_fill_rate"), "grab fill rate")
    assert_falls(diff("mean_hours_to_grab"), "time to fill")
    assert_rises(diff("incentive_paid"), "incentive paid")
    # Dearer per filled order, not only in total.
    per_low = [o["presales_cost"] / max(1.0, o["tickets_done"]) for o in runs_low]
    per_high = [o["presales_cost"] / max(1.0, o["tickets_done"]) for o in runs_high]
    assert_rises(paired_difference(per_high, per_low), "cost per served ticket")


def test_fewer_engineers_give_more_delay():
    raw = tomllib.loads(SMALL.read_text(encoding="utf-8"))
    pools = len(raw["engineers"]["pools"])
    base = {"budget.unlimited": True, "demand.scale": 2.0}
    fewer = {**base, **{f"engineers.pools[{i}].count": 1 for i in range(pools)}}
    assert_rises(pair(fewer, base, "on_time_share"), "on-time share")
    assert_falls(pair(fewer, base, "mean_delay_hours"), "mean delay")


def test_tighter_budgets_give_more_refusals():
    loose = {"budget.share_of_quota": {"key_account": 0.05, "commercial": 0.03}}
    tight = {"budget.share_of_quota": {"key_account": 0.01, "commercial": 0.006}}
    assert_rises(pair(loose, tight, "budget_refusals"), "refusals")
    assert_rises(pair(loose, tight, "unserved_for_budget"), "unserved for budget")


def test_better_fit_gives_better_ratings():
    raw = tomllib.loads(SMALL.read_text(encoding="utf-8"))
    base = {"budget.unlimited": True}
    better = dict(base)
    for i, pool in enumerate(raw["engineers"]["pools"]):
        better[f"engineers.pools[{i}].proficiency"] = {
            s: min(5, p + 1) for s, p in pool["proficiency"].items()
        }
    assert_rises(pair(base, better, "mean_rating"), "mean rating")


def test_better_fit_shortens_work_when_duration_depends_on_fit():
    base = {"budget.unlimited": True}
    faster = {**base, "service.duration_fit": 0.2}
    assert_falls(pair(base, faster, "presales_cost"), "presales cost")


def test_more_severe_delays_lower_the_win_rate():
    # Only the severe threshold differs, and the ranking ignores delay
    # classes, so both runs book the same slots from the same random draws
    # and every opportunity's win probability can only fall: an exact check
    # per seed (no statistical tolerance), plus a strict fall over all seeds.
    base = {
        "dispatch.ranking": "earliest",
        "budget.unlimited": True,
        "demand.scale": 3.0,
        **SHORT_CYCLES,
    }
    strict = {**base, "control.severe_after_hours": 1.5}
    runs_base, runs_strict = outcomes(base), outcomes(strict)
    for o_base, o_strict in zip(runs_base, runs_strict, strict=True):
        assert o_strict["tickets"] == o_base["tickets"]
        assert o_strict["opportunities_closed"] == o_base["opportunities_closed"]
        assert o_strict["severe_delays"] > o_base["severe_delays"]
        assert o_strict["win_rate"] <= o_base["win_rate"]
        assert o_strict["won_revenue"] <= o_base["won_revenue"]
    assert sum(o["win_rate"] for o in runs_strict) < sum(
        o["win_rate"] for o in runs_base
    )


def test_slower_coordinators_give_more_delay():
    base = {
        "dispatch.policy": "coordinator",
        "budget.unlimited": True,
        "demand.scale": 2.0,
    }
    slow = {**base, "dispatch.coordinator.handling_hours": 4.0}
    assert_rises(pair(base, slow, "mean_response_hours"), "response time")


def test_overdraft_gives_fewer_refusals():
    tight = {"budget.share_of_quota": {"key_account": 0.01, "commercial": 0.006}}
    overdraft = {**tight, "budget.overdraft_share": 1.0}
    assert_falls(pair(tight, overdraft, "budget_refusals"), "refusals")


def test_surge_pricing_costs_more_under_load():
    base = {"budget.unlimited": True, "demand.scale": 3.0}
    surge = {
        **base,
        "pricing.scheme": "surge",
        "pricing.surge_threshold": 0.1,
        "pricing.surge_slope": 2.0,
    }
    runs_flat, runs_surge = outcomes(base, 4), outcomes(surge, 4)
    # Bookings are the same under both (prices do not steer an unlimited
    # budget), so the cost can only rise: exact per seed.
    for a, b in zip(runs_flat, runs_surge, strict=True):
        assert b["presales_cost"] >= a["presales_cost"]
    assert np.mean([o["presales_cost"] for o in runs_surge]) > np.mean(
        [o["presales_cost"] for o in runs_flat]
    )
