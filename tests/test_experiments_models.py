"""Experiments on the real model: reproducibility, common random numbers,
executors, configs with dates, pool paths and staffing against Erlang C."""

import datetime as dt
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.cell_outcomes import CELL_OUTCOMES, cell_outcome_name, outcomes_by_cell
from models.erlang_reference import (
    erlang_point,
    erlang_reference,
    queue_parameters,
)
from models.experiments import (
    compare,
    describe_pools,
    load_config,
    parse_target,
    parse_variant,
    pool_paths,
    split_headcount,
    staff,
    sweep,
)
from models.runner import replication_outcomes
from sim.executors import DaskExecutor
from sim.overrides import content_hash
from sim.queueing import UnstableQueueError, least_servers
from sim.seeds import replication_seed

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small.toml"
ERLANG = ROOT / "scenarios" / "erlang_staffing.toml"
SHORT = {"scenario.horizon_days": 20}
VARIANTS = {"direct": {"dispatch.policy": "direct"}}


@pytest.fixture(scope="module")
def dask_executor():
    pytest.importorskip("distributed")
    with DaskExecutor(n_workers=2) as executor:
        yield executor


@pytest.fixture(scope="module")
def reference():
    """Four serial replications of the baseline and one variant."""
    return compare(SMALL, VARIANTS, replications=4, executor="serial", overrides=SHORT)


# ---------------------------------------------------------------- configs


def test_config_keeps_dates_through_hash_and_pickle():
    config = load_config(ROOT / "scenarios" / "crm_calibrated.toml")
    assert isinstance(config["scenario"]["start_date"], dt.date)
    assert all(isinstance(d, dt.date) for d in config["calendar"]["holidays"])
    digest = content_hash(config)
    assert content_hash(pickle.loads(pickle.dumps(config))) == digest
    cloudpickle = pytest.importorskip("cloudpickle")
    assert content_hash(cloudpickle.loads(cloudpickle.dumps(config))) == digest
    moved = load_config(ROOT / "scenarios" / "crm_calibrated.toml")
    moved["calendar"]["holidays"][0] = dt.date(2027, 1, 2)
    assert content_hash(moved) != digest


def test_config_is_completed_so_defaults_can_be_overridden():
    config = load_config(SMALL)
    assert config["dispatch"]["policy"] == "hybrid"  # small.toml has no [dispatch]
    assert config["calendar"]["working_hours"] == [[9.0, 12.0], [13.0, 18.0]]
    assert load_config(SMALL, complete=False).get("dispatch") is None


# ---------------------------------------------------------------- reproducibility


def test_replications_differ(reference):
    base = reference.results[reference.results["variant"] == "baseline"]
    assert base["tickets"].nunique() > 1 or base["presales_cost"].nunique() > 1
    assert list(base["replication"]) == [0, 1, 2, 3]


def test_replication_k_is_the_same_whatever_the_count(reference):
    fewer = compare(SMALL, VARIANTS, replications=2, executor="serial", overrides=SHORT)
    head = reference.results[reference.results["replication"] < 2]
    pd.testing.assert_frame_equal(
        fewer.results.reset_index(drop=True), head.reset_index(drop=True)
    )


def test_common_random_numbers_pair_the_variants(reference):
    same = compare(
        SMALL,
        {"renamed": {"scenario.description": "same model, other words"}},
        replications=3,
        executor="serial",
        overrides=SHORT,
    )
    outcomes = same.results.attrs["outcomes"]
    base = same.results[same.results["variant"] == "baseline"][outcomes]
    other = same.results[same.results["variant"] == "renamed"][outcomes]
    np.testing.assert_array_equal(base.to_numpy(), other.to_numpy())
    diffs = same.differences.dropna(subset=["diff"])
    assert (diffs["diff"] == 0).all() and not diffs["significant"].any()


def test_same_results_on_processes_and_dask(reference, dask_executor):
    assert "127.0.0.1" in dask_executor.client.scheduler.address
    on_processes = compare(
        SMALL,
        VARIANTS,
        replications=4,
        executor="processes",
        workers=2,
        overrides=SHORT,
    )
    on_dask = compare(
        SMALL, VARIANTS, replications=4, executor=dask_executor, overrides=SHORT
    )
    pd.testing.assert_frame_equal(on_processes.results, reference.results)
    pd.testing.assert_frame_equal(on_dask.results, reference.results)
    pd.testing.assert_frame_equal(on_dask.summary, reference.summary)


def test_comparison_tables(reference):
    assert list(dict.fromkeys(reference.summary["variant"])) == ["baseline", "direct"]
    assert {"mean", "half_width", "ci_low", "ci_high", "n"} <= set(
        reference.summary.columns
    )
    diffs = reference.differences
    assert set(diffs["variant"]) == {"direct"}
    assert {"diff", "ci_low", "ci_high", "significant"} <= set(diffs.columns)
    ranked = reference.ranking[reference.ranking["outcome"] == "presales_cost"]
    assert ranked["better"].iloc[0] == "lower"
    assert ranked["mean"].is_monotonic_increasing


def test_warmup_is_excluded_from_outcomes():
    runs = sweep(
        SMALL,
        grid={"scenario.warmup_days": [0, 10]},
        replications=2,
        executor="serial",
        overrides=SHORT,
    )
    tickets = runs.table[runs.table["outcome"] == "tickets"].set_index(
        "scenario.warmup_days"
    )["mean"]
    assert tickets[10] < tickets[0]


def test_sweep_over_points_gives_one_tidy_table(reference):
    points = [{"engineers.pools[0].count": 1}, {"engineers.pools[0].count": 6}]
    runs = sweep(
        SMALL, points=points, replications=2, executor="serial", overrides=SHORT
    )
    assert runs.paths == ["engineers.pools[0].count"]
    assert list(runs.table.columns[:2]) == ["engineers.pools[0].count", "variant"]
    assert len(runs.table) == 2 * len(runs.results.attrs["outcomes"])


# ---------------------------------------------------------------- parsing, pools


def test_parse_variant_and_target():
    variant = parse_variant("cheap:pricing.scheme=tiered,grab.incentive=0.25")
    assert variant.name == "cheap"
    assert variant.overrides == {"pricing.scheme": "tiered", "grab.incentive": 0.25}
    assert parse_variant("grab.incentive=0.5").name == "grab.incentive=0.5"
    target = parse_target("win_rate>=60%@0.9")
    assert (target.outcome, target.op, target.threshold, target.confidence) == (
        "win_rate",
        ">=",
        0.6,
        0.9,
    )
    with pytest.raises(ValueError, match="must look like"):
        parse_target("win_rate > 0.6")


def test_pool_paths_by_region_solution_grade():
    config = load_config(ROOT / "scenarios" / "crm_calibrated.toml")
    pools = describe_pools(config)
    paths = pool_paths(config, region="Central", solution="GTK")
    for path in paths:
        row = pools[pools["path"] == path].iloc[0]
        assert row["region"] == "Central" and "GTK" in row["solutions"].split(",")
    assert pool_paths(config, region="Central", solution="GTK", grade="senior") == [
        p for p in paths if pools.set_index("path").loc[p, "grade"] == "senior"
    ]
    assert len(pool_paths(config)) == len(pools)
    assert pool_paths(config, region="Nowhere") == []


def test_split_headcount():
    assert split_headcount(10, [3, 2]) == [6, 4]
    assert split_headcount(7, [3, 2, 1]) == [4, 2, 1]
    assert split_headcount(3, [0, 0]) == [2, 1]
    assert sum(split_headcount(11, [5, 3, 1])) == 11
    with pytest.raises(ValueError):
        split_headcount(-1, [1])


def test_outcomes_by_cell_add_to_the_key_outcomes():
    config = load_config(SMALL)
    config["scenario"]["horizon_days"] = 30
    seed = replication_seed(5, 1)
    plain = replication_outcomes(config, seed)
    cells = outcomes_by_cell(config, replication_seed(5, 1))
    assert {k: cells[k] for k in plain} == pytest.approx(plain, nan_ok=True)
    names = {
        cell_outcome_name(o, r, s)
        for o in CELL_OUTCOMES
        for r in ("North", "South")
        for s in ("A", "B")
    }
    assert set(cells) - set(plain) == names
    assert 0 <= cells["on_time_share.North.A"] <= 1
    assert np.isnan(cells["fill_rate.North.B"])  # no demand there


# ---------------------------------------------------------------- Erlang C


def test_queue_scenario_reads_as_mmc():
    q = queue_parameters(load_config(ERLANG))
    assert (q.arrival_rate, q.service_rate, q.servers, q.within) == (1.5, 0.5, 5, 1.0)
    assert q.exact and q.note == ""
    with pytest.raises(ValueError, match="not a queue-mode"):
        queue_parameters(load_config(SMALL))


def test_erlang_reference_reports_or_raises_when_unstable():
    config = load_config(ERLANG)
    curve = erlang_reference(config, ["engineers.pools[0].count"], [[2], [3], [4]])
    assert curve["status"].tolist() == ["unstable", "unstable", "stable"]
    assert curve.loc[:1, "on_time_share"].isna().all()
    assert 0 < curve.loc[2, "on_time_share"] < 1
    with pytest.raises(UnstableQueueError):
        erlang_point(1.5, 0.5, 3, 1.0, on_unstable="raise")


def test_staffing_search_agrees_with_erlang_c():
    """Offered load 3 Erlangs: on time within 1 h is 0.913 with 5, 0.978 with 6."""
    found = staff(
        ERLANG,
        [4, 5, 6, 7],
        ["on_time_share>=0.93"],
        replications=4,
        executor="serial",
    )
    expected = least_servers(1.5, 0.5, target=0.93, within=1.0)
    assert expected == 6
    assert found.least_headcount == found.erlang_least_headcount == expected
    sim = found.curve[found.curve["outcome"] == "on_time_share"]
    assert sim["headcount"].tolist() == [4, 5, 6, 7]
    theory = found.erlang.set_index("headcount")["on_time_share"]
    gaps = (sim.set_index("headcount")["mean"] - theory).abs()
    assert (gaps < 0.04).all(), gaps
    assert "6" in found.statement


def test_staffing_of_a_non_queue_scenario_has_no_erlang_reference():
    found = staff(
        SMALL,
        [4, 6],
        ["on_time_share>=0.5"],
        region="North",
        solution="A",
        replications=2,
        executor="serial",
        overrides=SHORT,
    )
    assert found.paths == ["engineers.pools[0].count", "engineers.pools[1].count"]
    assert found.erlang is None and "not a queue-mode" in found.erlang_note
    counts = found.checks[found.paths].to_numpy().tolist()
    assert counts == [[2, 2], [4, 2]]
    with pytest.raises(ValueError, match="unknown outcomes"):
        staff(SMALL, [4], ["no_such>=1"], replications=2, executor="serial")
