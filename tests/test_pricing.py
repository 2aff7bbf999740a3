"""Pricing tiers and budget rules: hand-computed costs and budget conservation.

Money is integer cents throughout, so every comparison here is exact.
"""

import datetime as dt
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from models.budget import BudgetAccount, BudgetRefused
from models.presales_model import PresalesModel
from models.pricing import (
    flat_cost,
    list_rates,
    surge_cost,
    surge_factor,
    tier_hours,
    tiered_cost,
)
from models.scenario import ScenarioError, scenario_from_dict
from sim.overrides import apply_overrides

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "small.toml"
TIERS = [(0.0, 1.0), (40.0, 0.9), (120.0, 0.8)]


def small(overrides: dict | None = None, days: int = 40) -> dict:
    raw = tomllib.loads(SMALL.read_text(encoding="utf-8"))
    base = {"scenario.horizon_days": days, "demand.scale": 2.0}
    return apply_overrides(raw, {**base, **(overrides or {})}, allow_new=True)


def run(config: dict, seed: int = 1) -> PresalesModel:
    model = PresalesModel(scenario_from_dict(config), seed)
    model.run()
    return model


# -- tiers by hand -------------------------------------------------------------


def test_flat_cost_by_hand():
    assert flat_cost(2.5, 4_000) == 10_000  # 2.5 h at 40.00
    assert flat_cost(2.5, 4_000, 0.5) == 15_000  # grabbed at +50%
    assert flat_cost(8.0, 6_500, 1.0) == 104_000  # +100%: paid double


@pytest.mark.parametrize(
    "already, hours, expected_hours",
    [
        (0.0, 10.0, 10.0),  # all in the first band
        (35.0, 10.0, 5 * 1.0 + 5 * 0.9),  # straddles 40
        (30.0, 100.0, 10 * 1.0 + 80 * 0.9 + 10 * 0.8),  # three bands
        (200.0, 4.0, 4 * 0.8),  # all in the last band
        (40.0, 2.0, 2 * 0.9),  # starts exactly on a band edge
    ],
)
def test_tier_hours_by_hand(already, hours, expected_hours):
    assert float(tier_hours(already, hours, TIERS)) == pytest.approx(expected_hours)


def test_tiered_cost_by_hand():
    # 10 h after 35 booked, at 40.00: (5 x 1.0 + 5 x 0.9) x 40.00 = 380.00.
    assert tiered_cost(10.0, 4_000, 35.0, TIERS) == 38_000
    # Same with +50% uplift: 570.00.
    assert tiered_cost(10.0, 4_000, 35.0, TIERS, 0.5) == 57_000
    # Hours before the first band pay the list rate: 10 x 1 + 10 x 0.5 = 15 h.
    assert tiered_cost(20.0, 1_000, 0.0, [(10.0, 0.5)]) == 15_000
    # Rounded once, half to even: 1 h x 0.9 x 12.35 = 11.115 -> 11.12.
    assert tiered_cost(1.0, 1_235, 50.0, TIERS) == 1_112


def test_surge_factor_and_cost_by_hand():
    assert surge_factor(0.5, 0.7, 1.0, 1.5) == 1.0  # below the threshold
    assert surge_factor(0.85, 0.7, 1.0, 1.5) == pytest.approx(1.15)
    assert surge_factor(1.0, 0.5, 2.0, 1.5) == 1.5  # capped
    # 4 h at 40.00 x 1.15 = 184.00; with +50% uplift 276.00.
    assert surge_cost(4.0, 4_000, 1.15) == 18_400
    assert surge_cost(4.0, 4_000, 1.15, 0.5) == 27_600


def test_rate_cards_and_resource_factors():
    config = small(
        {
            "grades": [
                {"name": "junior", "hourly_rate": 80.0},
                {"name": "senior", "hourly_rate": 150.0, "resource_type": "architect"},
            ],
            "pricing.rate_card": "premium",
            "pricing.rate_cards": {"premium": {"junior": 90.0}},
            "pricing.resource_factor": {"architect": 1.2},
        }
    )
    rates = list_rates(scenario_from_dict(config))
    assert rates == {"junior": 9_000, "senior": 18_000}  # 150 x 1.2 = 180.00
    model = PresalesModel(scenario_from_dict(config), 1)
    assert {e.grade: e.rate_cents for e in model.engineers.values()} == rates


def test_pricing_mistakes_are_reported():
    bad = small(
        {
            "pricing.rate_card": "gold",
            "pricing.rate_cards": {"silver": {"guru": 1.0}},
            "pricing.resource_factor": {"robot": 2.0},
            "pricing.tiers": [
                {"from_hours": 10, "factor": 1.0},
                {"from_hours": 5, "factor": 0.9},
            ],
        }
    )
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(bad)
    text = str(caught.value)
    for part in ("'gold'", "'guru'", "'robot'", "pricing.tiers"):
        assert part in text


# -- tiers in the model ------------------------------------------------------------


def _booked_in_order(model):
    """Tickets in booking order (the event log's order)."""
    frame = model.log.to_frame()
    booked = frame[frame["kind"] == "ticket_booked"]
    return [model.tickets[i] for i in booked["ticket"]]


@pytest.mark.parametrize("scheme", ["flat", "tiered"])
def test_every_booking_costs_what_its_tier_says(scheme):
    model = run(small({"pricing.scheme": scheme, "budget.unlimited": True}))
    volume = defaultdict(float)
    checked = 0
    for t in _booked_in_order(model):
        rate = model.engineers[t.engineer].rate_cents
        if scheme == "flat":
            expected = flat_cost(t.hours, rate, t.incentive)
        else:
            expected = tiered_cost(
                t.hours, rate, volume[(t.rep, t.quarter)], TIERS, t.incentive
            )
        volume[(t.rep, t.quarter)] += t.hours
        assert t.cost == expected
        checked += 1
    assert checked > 50
    if scheme == "tiered":
        assert max(volume.values()) > 40, "no rep reached the discount band"


def test_surge_prices_rise_with_the_regions_load():
    config = small(
        {
            "pricing.scheme": "surge",
            "pricing.surge_threshold": 0.1,
            "pricing.surge_slope": 2.0,
            "budget.unlimited": True,
            "demand.scale": 4.0,
        }
    )
    model = run(config)
    factors = []
    for t in model.tickets.values():
        if not t.engineer:
            continue
        rate = model.engineers[t.engineer].rate_cents
        factors.append(t.cost / flat_cost(t.hours, rate, t.incentive))
    assert min(factors) >= 1.0 - 1e-3
    assert max(factors) <= 1.5 + 1e-3
    assert max(factors) > 1.01, "no surge at all; raise the demand"


# -- budget rules ------------------------------------------------------------------


def test_overdraft_account_by_hand():
    a = BudgetAccount("2027Q1", 10_000, overdraft=5_000)
    a.commit(8_000)
    assert a.left == 2_000 and not a.needs_approval(2_000)
    assert a.needs_approval(3_000) and a.can_afford(7_000)
    a.commit(7_000)
    assert a.left == -5_000
    with pytest.raises(BudgetRefused):
        a.commit(1)


def test_rollover_moves_what_is_left():
    q1 = BudgetAccount("2027Q1", 10_000)
    q1.commit(3_000)
    q1.spend(2_000)
    q2 = BudgetAccount("2027Q2", 10_000)
    q2.carried_in += q1.carry_out()
    assert q1.left == 0 and q1.carried_out == 7_000
    assert q2.left == 17_000
    q1.release(1_000)  # a late cancellation stays in the closed quarter
    assert q1.left == 1_000
    assert q1.budget + q2.budget == q1.taken + q2.taken + q1.left + q2.left


def _check_conservation(model):
    """Per account: committed and spent match the tickets; money is conserved."""
    per = defaultdict(lambda: {"spent": 0, "committed": 0, "released": 0})
    for t in model.tickets.values():
        if not t.engineer or not t.rep:
            continue
        slot = per[(t.rep, t.quarter)]
        if t.status == "done":
            slot["spent"] += t.cost
        elif t.unserved_reason == "cancelled":
            slot["released"] += t.cost
        else:
            slot["committed"] += t.cost
    carried_in = carried_out = 0
    for rep in model.reps.values():
        budgets = sum(a.budget for a in rep.accounts.values())
        taken = sum(a.taken for a in rep.accounts.values())
        left = sum(a.left for a in rep.accounts.values())
        assert budgets == taken + left
        for quarter, a in rep.accounts.items():
            want = per.get((rep.name, quarter), {"spent": 0, "committed": 0})
            assert a.spent == want["spent"]
            assert a.committed == want["committed"]
            assert a.left >= -a.overdraft
            carried_in += a.carried_in
            carried_out += a.carried_out
    assert carried_in == carried_out
    return per


def test_budget_is_conserved_under_cancellations_and_rollover():
    config = small(
        {
            "demand.cancel_probability": 0.3,
            "budget.rollover": "rollover",
            "budget.share_of_quota": {"key_account": 0.03, "commercial": 0.02},
        },
        days=120,
    )
    config["scenario"]["start_date"] = dt.date(2027, 2, 15)  # spans Q1 -> Q2
    for seed in (1, 2):
        model = run(config, seed)
        per = _check_conservation(model)
        cancelled = [
            t for t in model.tickets.values() if t.unserved_reason == "cancelled"
        ]
        assert cancelled, "no cancellation happened"
        assert sum(p["released"] for p in per.values()) > 0
        for t in cancelled:
            engineer = model.engineers[t.engineer]
            assert t.id not in [slot[2] for slot in engineer.schedule.slots()]
            assert t.actual_start != t.actual_start  # never started
        moved = [
            a.carried_in
            for rep in model.reps.values()
            for a in rep.accounts.values()
            if a.carried_in
        ]
        assert moved, "nothing rolled over"


def test_reset_lapses_and_overdraft_waits_for_approval():
    config = small(
        {
            "budget.overdraft_share": 0.5,
            "budget.approval_hours": 6.0,
            "budget.share_of_quota": {"key_account": 0.01, "commercial": 0.01},
        },
        days=60,
    )
    model = run(config)
    _check_conservation(model)
    overdrawn = [
        a for rep in model.reps.values() for a in rep.accounts.values() if a.overdrafts
    ]
    assert overdrawn, "no overdraft was needed; tighten the budget"
    assert any(a.left < 0 for a in overdrawn)
    assert all(a.carried_in == 0 for a in overdrawn)  # reset: nothing carried


def test_overdraft_bookings_start_after_approval():
    config = small(
        {
            "budget.overdraft_share": 1.0,
            "budget.approval_hours": 8.0,
            "budget.share_of_quota": {"key_account": 0.005, "commercial": 0.005},
        },
        days=30,
    )
    model = run(config)
    cal = model.calendar
    frame = model.log.to_frame()
    booked = frame[frame["kind"] == "ticket_booked"].set_index("ticket")
    late = 0
    for rep in model.reps.values():
        for quarter, account in rep.accounts.items():
            running = 0
            mine = [
                t
                for t in _booked_in_order(model)
                if t.rep == rep.name and t.quarter == quarter
            ]
            for t in mine:
                running += t.cost
                if running > account.budget:
                    at = booked.loc[t.id, "time"]
                    assert cal.between(at, t.booked_start) >= 8.0 - 1e-9
                    late += 1
    assert late > 0
