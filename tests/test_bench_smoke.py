"""The benchmark code at toy size, and optimisations that must not move results.

No timing is asserted here: timings belong to ``python -m benchmarks.run``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import tomli_w

from benchmarks import bare_simpy, ciw_model, make_enterprise, run
from models import booking
from models.runner import run_scenario
from models.scenario import load_scenario, scenario_from_dict
from sim.eventlog import COLUMNS, EventLog

ROOT = Path(__file__).resolve().parents[1]


def test_peers_simulate_the_same_queue():
    for peer in (bare_simpy, ciw_model):
        waits = peer.simulate(3, 2.0, 1.0, 300, seed=4)
        assert len(waits) >= 290
        assert min(waits) >= 0.0
        assert any(w > 0 for w in waits)


def test_wait_check_flags_agreement_with_erlang_c():
    waits = bare_simpy.simulate(2, 1.0, 1.0, 4000, seed=2)
    check = run.wait_check(waits, 2, 1.0, 1.0)
    assert check["erlang_wait"] == pytest.approx(1 / 3)
    assert check["wait_se"] > 0
    assert set(check) >= {"mean_wait", "p_wait", "erlang_p_wait", "agrees"}


def test_toy_session_builds_every_row():
    rows = run.run_all(run.TOY, runner=run.measure, echo=lambda *a, **k: None)
    names = [r["measurement"] for r in rows]
    assert names[0].startswith("queue")
    assert any(n.startswith("enterprise") for n in names)
    assert any(n.startswith("scaling") for n in names)
    assert any(n.startswith("sweep") for n in names)
    for r in rows:
        assert r["seconds"] > 0 and r["peak_mib"] > 0
        assert r["met"] in ("", "yes", "NO")
    text = run.format_table(rows)
    assert "presales-sim" in text and "Ciw" in text


def test_measurement_runs_in_a_fresh_process():
    spec = {"kind": "simpy", "servers": 2, "load": 0.5, "customers": 200, "seed": 1}
    out = run.measure_in_subprocess(spec)
    assert out["customers"] == 200 and out["peak_mib"] > 0


def test_enterprise_file_is_the_generator_output():
    config = make_enterprise.enterprise()
    engineers = sum(p["count"] for p in config["engineers"]["pools"])
    reps = sum(p["count"] for p in config["reps"]["pools"])
    assert engineers == 10_000 and reps == 2_000
    text = (ROOT / "scenarios" / "enterprise.toml").read_text(encoding="utf-8")
    assert text == make_enterprise.HEADER + tomli_w.dumps(config)
    scenario = load_scenario(ROOT / "scenarios" / "enterprise.toml")
    assert scenario.grab.enabled and scenario.control.playbooks


def _tables(scenario, fast: bool, monkeypatch) -> dict[str, pd.DataFrame]:
    monkeypatch.setattr(booking, "FAST_SEARCH", fast)
    return run_scenario(scenario).tables


@pytest.mark.parametrize(
    "ranking,scope", [("best_fit", "home"), ("cheapest", "all"), ("earliest", "all")]
)
def test_fast_search_leaves_fixed_seed_outputs_unchanged(ranking, scope, monkeypatch):
    scenario = load_scenario(ROOT / "scenarios" / "small.toml")
    scenario.scenario.horizon_days = 40
    scenario.dispatch.ranking = ranking
    scenario.dispatch.region_scope = scope
    fast = _tables(scenario, True, monkeypatch)
    slow = _tables(scenario, False, monkeypatch)
    assert fast.keys() == slow.keys()
    for name in fast:
        pd.testing.assert_frame_equal(fast[name], slow[name], obj=name)


@pytest.mark.parametrize("share", [None, 0.001])
def test_fast_search_unchanged_at_enterprise_shape(share, monkeypatch):
    config = make_enterprise.enterprise(0.02, 45)
    if share is not None:  # tight budgets: refusals walk down the ranking
        config["budget"]["share_of_quota"] = {"key_account": share, "commercial": share}
    scenario = scenario_from_dict(config)
    fast = _tables(scenario, True, monkeypatch)
    slow = _tables(scenario, False, monkeypatch)
    for name in ("tickets", "events", "budgets", "grabs"):
        pd.testing.assert_frame_equal(fast[name], slow[name], obj=name)


def test_compact_event_log_matches_plain_columns():
    log = EventLog()
    plain: dict[str, list] = {name: [] for name in COLUMNS}
    rows = [
        (0.0, "budget_set", {"rep": "r1", "amount": 10**12, "detail": "2027Q1"}),
        (9.5, "ticket_raised", {"ticket": 0, "opportunity": 3, "hours": 2.25}),
        (33.25, "alert", {"region": "North", "value": math.nan, "detail": "delay"}),
        (33.25, "ticket_booked", {"ticket": 0, "engineer": "e", "value": 40.0}),
    ]
    defaults = {
        "ticket": -1,
        "opportunity": -1,
        "rep": "",
        "engineer": "",
        "region": "",
        "solution": "",
        "stage": "",
        "amount": 0,
        "hours": 0.0,
        "value": math.nan,
        "detail": "",
    }
    for i, (time, kind, fields) in enumerate(rows):
        log.record(time, kind, **fields)
        full = {**defaults, **fields}
        plain["seq"].append(i)
        plain["time"].append(time)
        plain["day"].append(int(time // 24))
        plain["kind"].append(kind)
        for name in COLUMNS[4:]:
            plain[name].append(full[name])
    expected = pd.DataFrame(plain, columns=list(COLUMNS)).astype(
        {"seq": "int64", "day": "int64", "ticket": "int64", "amount": "int64"}
    )
    pd.testing.assert_frame_equal(log.to_frame(), expected)
    assert log.count("ticket_booked") == 1 and log.count("nothing") == 0
    assert log.nbytes() <= 104 * len(rows)


def test_schedule_last_end_follows_bookings():
    import random

    from models.schedule import Schedule

    rng = random.Random(3)
    schedule = Schedule()
    booked: list[int] = []
    for ticket in range(300):
        action = rng.random()
        if action < 0.6:
            hours = rng.uniform(0.25, 8)
            schedule.book(schedule.earliest(rng.uniform(0, 200), hours), hours, ticket)
            booked.append(ticket)
        elif action < 0.85 and booked:
            schedule.cancel(booked.pop(rng.randrange(len(booked))))
        else:
            schedule.forget_before(rng.uniform(0, 150))
        slots = schedule.slots()
        assert schedule.last_end == (slots[-1][1] if slots else -math.inf)
