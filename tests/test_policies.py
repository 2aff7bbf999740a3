"""Dispatch policies: each policy's rules, the registry, and the comparison.

Runs use ``scenarios/small.toml`` (two regions, ten engineers) with a short
horizon; every check here is exact (no statistical tolerance).
"""

import itertools
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from models.batch_dispatch import best_assignment
from models.cli import main
from models.compare import (
    POLICY_OUTCOMES,
    compare_policies,
    format_policy_table,
    policy_variant,
)
from models.policies import DispatchPolicy, policy_names, register
from models.presales_model import PresalesModel
from models.scenario import scenario_from_dict
from sim.overrides import apply_overrides

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "small.toml"


def small(overrides: dict | None = None, days: int = 30) -> dict:
    """The small scenario as a dict, with unlimited budget and more demand."""
    raw = tomllib.loads(SMALL.read_text(encoding="utf-8"))
    base = {
        "scenario.horizon_days": days,
        "budget.unlimited": True,
        "demand.scale": 3.0,
    }
    return apply_overrides(raw, {**base, **(overrides or {})}, allow_new=True)


def run(config: dict, seed: int = 1) -> PresalesModel:
    model = PresalesModel(scenario_from_dict(config), seed)
    model.run()
    return model


def events(model: PresalesModel, kind: str):
    frame = model.log.to_frame()
    return frame[frame["kind"] == kind]


# -- registry ------------------------------------------------------------------


def test_builtin_policies_are_registered():
    for name in (
        "coordinator",
        "direct",
        "batch",
        "hybrid",
        "grab_first",
        "progressive_push",
    ):
        assert name in policy_names()


def test_a_user_policy_is_selected_by_name_without_engine_changes():
    @register
    class NeverGrab(DispatchPolicy):
        name = "test_never_grab"

        def on_ticket(self, ticket):
            if self.desk.direct_book(ticket, self.wait_latest(ticket)) != "booked":
                self.desk.unserved(ticket, "no_engineer")

    model = run(small({"dispatch.policy": "test_never_grab"}, days=15))
    assert isinstance(model.policy, NeverGrab)
    assert len(model.grabs.orders) == 0
    assert model.count_status("done") > 0


def test_policies_declared_as_entry_points_are_loaded(monkeypatch):
    import models.policies as policies

    class Point:
        name = "plugin"

        def load(self):
            @register
            class FromPlugin(DispatchPolicy):
                name = "test_from_plugin"

                def on_ticket(self, ticket):
                    self.desk.unserved(ticket, "no_engineer")

    class Broken:
        name = "broken"

        def load(self):
            raise ImportError("no such module")

    monkeypatch.setattr(policies, "_plugins_loaded", False)
    monkeypatch.setattr(policies, "entry_points", lambda group: [Broken(), Point()])
    assert "test_from_plugin" in policy_names()
    model = run(small({"dispatch.policy": "test_from_plugin"}, days=5))
    assert model.tickets and all(t.status for t in model.tickets.values())


def test_an_unknown_policy_is_a_scenario_error():
    with pytest.raises(ValueError, match="unknown policy 'nope'"):
        scenario_from_dict(small({"dispatch.policy": "nope"}))


def test_weighted_ranking_follows_its_weights():
    def first_offers(weights: dict) -> list:
        config = small(
            {"dispatch.ranking": "weighted", "dispatch.weights": weights}, days=6
        )
        model = PresalesModel(scenario_from_dict(config), 1)
        model.run()
        out = []
        for t in list(model.tickets.values())[:20]:
            offers = model.desk.offers(t, None)
            out.append([(start, e) for start, e in offers])
        assert sum(len(offers) >= 3 for offers in out) >= 5, "too few offers"
        return model, out

    # Price alone: cheapest first.
    model, lists = first_offers({"fit": 0, "price": 5, "wait": 0, "load": 0})
    for offers in lists:
        rates = [e.rate_cents for _, e in offers]
        assert rates == sorted(rates)
    # Fit alone: most proficient first.
    model, lists = first_offers({"fit": 1, "price": 0, "wait": 0, "load": 0})
    tickets = list(model.tickets.values())[:20]
    for t, offers in zip(tickets, lists, strict=True):
        profs = [e.proficiency[t.solution] for _, e in offers]
        assert profs == sorted(profs, reverse=True)
    # Waiting alone: earliest first.
    model, lists = first_offers({"fit": 0, "price": 0, "wait": 1, "load": 0})
    for offers in lists:
        starts = [start for start, _ in offers]
        assert starts == sorted(starts)


# -- coordinator -----------------------------------------------------------------


def test_coordinator_books_only_engineers_it_knows():
    config = small(
        {
            "dispatch.policy": "coordinator",
            "dispatch.coordinator.per_region": 2,
            "dispatch.coordinator.known_home_share": 0.5,
            "dispatch.coordinator.known_other_share": 0.3,
        }
    )
    for seed in (1, 2, 3):
        model = run(config, seed)
        policy = model.policy
        everyone = set(model.engineers)
        assert any(known != everyone for known in policy.known.values())
        booked = [t for t in model.tickets.values() if t.engineer]
        assert booked, "the coordinators booked nobody"
        for t in booked:
            assert t.channel == "coordinator"
            assert t.engineer in policy.known[policy.handled_by[t.id]]
        # A coordinator serves requests of its own region only.
        for t in model.tickets.values():
            assert policy.handled_by[t.id].startswith(f"{t.region}-coordinator-")


def test_coordinator_who_knows_nobody_serves_nobody():
    config = small(
        {
            "dispatch.policy": "coordinator",
            "dispatch.coordinator.known_home_share": 0.0,
            "dispatch.coordinator.known_other_share": 0.0,
        },
        days=10,
    )
    model = run(config)
    assert model.tickets
    assert all(not t.engineer for t in model.tickets.values())
    reasons = {t.unserved_reason for t in model.tickets.values() if t.status}
    assert reasons == {"no_engineer"}


def test_slower_coordinators_respond_later():
    def mean_wait(hours: float) -> float:
        model = run(
            small(
                {
                    "dispatch.policy": "coordinator",
                    "dispatch.coordinator.handling_hours": hours,
                }
            )
        )
        booked = events(model, "ticket_booked")
        raised = events(model, "ticket_raised").set_index("ticket")["time"]
        return float((booked["time"].to_numpy() - raised[booked["ticket"]]).mean())

    assert mean_wait(2.0) > mean_wait(0.1)


# -- optimised batch ---------------------------------------------------------------


def brute_force(value: np.ndarray, idle: np.ndarray) -> float:
    """Best total value over every partial one-to-one assignment."""
    n, m = value.shape
    best = -math.inf
    for choice in itertools.product(range(-1, m), repeat=n):
        used = [c for c in choice if c >= 0]
        if len(used) != len(set(used)):
            continue
        if any(c >= 0 and np.isnan(value[i, c]) for i, c in enumerate(choice)):
            continue
        total = sum(idle[i] if c < 0 else value[i, c] for i, c in enumerate(choice))
        best = max(best, total)
    return best


def total(value, idle, pairs) -> float:
    chosen = dict(pairs)
    return sum(
        value[i, chosen[i]] if i in chosen else idle[i] for i in range(len(idle))
    )


def test_batch_assignment_hand_checked():
    # Greedy would give row 0 column 0 (10) and row 1 column 1 (1): 11.
    # The optimum crosses over: 8 + 9 = 17.
    value = np.array([[10.0, 8.0], [9.0, 1.0]])
    assert sorted(best_assignment(value)) == [(0, 1), (1, 0)]
    # Three requests, two engineers: the least valuable request waits.
    value = np.array([[5.0, 4.0], [6.0, np.nan], [1.0, 1.0]])
    assert sorted(best_assignment(value)) == [(0, 1), (1, 0)]
    # Negative value: waiting (0) beats serving, unless waiting costs more.
    value = np.array([[-3.0]])
    assert best_assignment(value) == []
    assert best_assignment(value, np.array([-4.0])) == [(0, 0)]
    # Nothing allowed: nothing assigned.
    assert best_assignment(np.full((2, 2), np.nan)) == []


def test_batch_assignment_equals_brute_force_on_small_cases():
    rng = np.random.default_rng(11)
    for _ in range(300):
        n, m = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        value = np.round(rng.normal(2.0, 4.0, size=(n, m)), 1)
        value[rng.random((n, m)) < 0.3] = np.nan
        idle = np.round(rng.normal(-1.0, 2.0, size=n), 1)
        pairs = best_assignment(value, idle)
        rows = [i for i, _ in pairs]
        cols = [j for _, j in pairs]
        assert len(set(rows)) == len(rows) and len(set(cols)) == len(cols)
        assert all(not np.isnan(value[i, j]) for i, j in pairs)
        assert total(value, idle, pairs) == pytest.approx(brute_force(value, idle))


def test_batch_policy_books_in_rounds_and_ends_every_ticket():
    config = small({"dispatch.policy": "batch"}, days=20)
    model = run(config)
    booked = events(model, "ticket_booked")
    assert set(booked["detail"]) <= {"batch", "grab", "direct"}
    assert (booked["detail"] == "batch").sum() > 0
    assert model.policy.rounds > 0
    # Batch bookings happen on the dispatcher's clock, never when raised.
    raised = events(model, "ticket_raised").set_index("ticket")["time"]
    batch = booked[booked["detail"] == "batch"]
    assert (batch["time"].to_numpy() > raised[batch["ticket"]].to_numpy()).all()
    # Every ticket raised early enough was booked or ended; none is stuck.
    early = [t for t in model.tickets.values() if t.raised_at < (20 - 5) * 24]
    assert all(t.status or t.engineer for t in early)
    assert all(t.raised_at >= (20 - 5) * 24 for t in model.policy.pending)


@pytest.mark.parametrize("ranking", ["best_fit", "cheapest", "earliest"])
def test_batch_candidates_are_the_desks_top_offers(ranking):
    config = small(
        {
            "dispatch.policy": "batch",
            "dispatch.ranking": ranking,
            "dispatch.batch.candidates": 3,
            "demand.scale": 6.0,
        },
        days=12,
    )
    model = PresalesModel(scenario_from_dict(config), 2)
    model.run()
    policy, desk = model.policy, model.desk
    checked = 0
    for t in model.tickets.values():
        for latest in (None, model.calendar.worked(model.now) + 8.0):
            want = desk.offers(t, latest)[:3]
            assert policy.candidates(t, latest) == want
            checked += bool(want)
    assert checked > 20


def test_batch_value_prefers_the_better_fit_at_equal_cost():
    model = PresalesModel(scenario_from_dict(small({"dispatch.policy": "batch"})), 1)
    model.run()
    policy = model.policy
    t = next(t for t in model.tickets.values() if t.opportunity >= 0)
    engineers = sorted(
        (e for e in model.engineers.values() if t.solution in e.proficiency),
        key=lambda e: e.proficiency[t.solution],
    )
    low, high = engineers[0], engineers[-1]
    start = model.calendar.worked(t.requested_start)
    assert high.proficiency[t.solution] > low.proficiency[t.solution]
    assert policy.value(t, high, start, 10_000) > policy.value(t, low, start, 10_000)
    # A late start is worth less than an on-time one.
    assert policy.value(t, high, start + 20, 10_000) < policy.value(
        t, high, start, 10_000
    )


# -- hybrid threshold ----------------------------------------------------------------


@pytest.mark.parametrize("after", [0.0, 3.0, 6.5])
def test_hybrid_switches_to_grabbing_exactly_after_its_threshold(after):
    config = small(
        {
            "dispatch.policy": "hybrid",
            "dispatch.hybrid_after_hours": after,
            "demand.scale": 6.0,
            "control.playbooks": [],
        }
    )
    model = run(config)
    cal = model.calendar
    posted = events(model, "grab_posted")
    assert len(posted) > 0, "no grab order was posted; raise the demand"

    def switch(t):
        return cal.add(t.raised_at, after) if after else t.raised_at

    for ticket_id, at in zip(posted["ticket"], posted["time"], strict=True):
        assert at == pytest.approx(switch(model.tickets[ticket_id]), abs=1e-9)
    # No ticket was posted before its threshold nor booked directly after it.
    booked = events(model, "ticket_booked")
    direct = booked[booked["detail"] == "direct"]
    grabbed = set(posted["ticket"])
    for ticket_id, at in zip(direct["ticket"], direct["time"], strict=True):
        if ticket_id in grabbed:
            continue
        assert at <= switch(model.tickets[ticket_id]) + 1e-9


# -- progressive push and grab timeouts ------------------------------------------------


def test_progressive_push_invites_in_widening_waves():
    config = small(
        {
            "dispatch.policy": "progressive_push",
            "grab.push_waves": 2,
            "grab.wave_hours": 3.0,
            "grab.max_invites": 6,
            "demand.scale": 6.0,
            "control.playbooks": [],
        }
    )
    model = run(config)
    cal = model.calendar
    assert model.grabs.orders
    invited = events(model, "grab_invited")
    grabbed = events(model, "grab_grabbed")
    for order in model.grabs.orders:
        assert order.waves == 2
        mine = invited[invited["ticket"] == order.ticket.id]
        second = cal.add(order.posted_at, 3.0)
        first = mine[mine["time"] < second - 1e-9]
        # Wave 1: the home region only, at posting time, at most 3 (6 / 2).
        assert (first["time"] == order.posted_at).all()
        assert len(first) <= 3
        homes = {model.engineers[e].region for e in first["engineer"]}
        assert homes <= {order.ticket.region}
        # Wave 2 goes out at its time, or when a lock then pending lapses.
        later = mine[mine["time"] >= second - 1e-9]
        locks = grabbed[grabbed["ticket"] == order.ticket.id]["time"]
        on_time = np.isclose(later["time"], second)
        assert on_time.all() or (locks < later["time"].min()).any()
        assert len(later) <= 3
        assert not set(first["engineer"]) & set(later["engineer"])


def test_a_lock_the_rep_does_not_confirm_in_time_reopens_the_order():
    config = small(
        {
            "dispatch.policy": "grab_first",
            "grab.confirm_hours": 4.0,
            "grab.confirm_timeout_hours": 0.5,
        },
        days=20,
    )
    model = run(config)
    rejected = events(model, "grab_rejected")
    assert (rejected["detail"] == "timeout").sum() > 0
    confirmed = events(model, "grab_confirmed")
    grabbed = events(model, "grab_grabbed")
    # Every confirmation came within the timeout of its lock.
    cal = model.calendar
    for ticket_id, at in zip(confirmed["ticket"], confirmed["time"], strict=True):
        lock = grabbed[grabbed["ticket"] == ticket_id]["time"].max()
        assert cal.between(lock, at) <= 0.5 + 1e-9
    for order in model.grabs.orders:
        if order.outcome == "filled":
            t = order.ticket
            assert order.cost == t.cost > 0
            assert order.credited_hours == pytest.approx(
                t.hours * (1 + order.incentive)
            )


# -- comparison ------------------------------------------------------------------------


def test_compare_policies_gives_one_row_per_policy_with_intervals():
    config = small({"scenario.horizon_days": 20})
    table = compare_policies(
        config,
        ["direct", "direct:cheapest", "coordinator", "batch"],
        replications=2,
        executor="serial",
    )
    assert list(table.index) == ["direct", "direct:cheapest", "coordinator", "batch"]
    for key, _, _ in POLICY_OUTCOMES:
        assert key in table.columns and f"{key}_hw" in table.columns
    assert (table["n"] == 2).all()
    runs = table.attrs["replications"]
    # Common random numbers: every policy sees the same demand per replication.
    raised = runs.pivot(index="replication", columns="variant", values="tickets")
    assert (raised.nunique(axis=1) == 1).all()
    # The same policy and seed give the same result (paired replications).
    again = compare_policies(config, ["direct"], replications=2, executor="serial")
    first = runs[runs["variant"] == "direct"].reset_index(drop=True)
    second = again.attrs["replications"]
    assert first["won_revenue"].tolist() == second["won_revenue"].tolist()
    text = format_policy_table(table)
    assert "coordinator" in text and "±" in text


def test_policy_variant_names_policy_and_ranking():
    assert policy_variant("direct:earliest").overrides == {
        "dispatch.policy": "direct",
        "dispatch.ranking": "earliest",
    }
    with pytest.raises(ValueError, match="unknown ranking"):
        policy_variant("direct:fastest")
    with pytest.raises(ValueError, match="unknown dispatch policy"):
        policy_variant("teleport")


def test_policies_command_prints_the_table(tmp_path, capsys):
    out = tmp_path / "policies.csv"
    status = main(
        [
            "policies",
            str(SMALL),
            "--replications",
            "2",
            "--days",
            "15",
            "--policy",
            "direct",
            "--policy",
            "hybrid",
            "--pricing",
            "surge",
            "--incentive",
            "0.8",
            "--set",
            "budget.rollover=rollover",
            "--executor",
            "serial",
            "--quiet",
            "--versus",
            "direct",
            "--csv",
            str(out),
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "hybrid" in printed and "win rate" in printed
    assert "paired differences from direct" in printed
    assert out.exists()
    assert main(["policies", str(SMALL), "--policy", "nope", "--quiet"]) == 2
