"""Tests of the experiment harness: overrides, seeds, resume, sweeps, staffing."""

import heapq
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiment import (
    ReplicationError,
    Target,
    Variant,
    compare,
    run_experiment,
    staffing_search,
    sweep,
    sweep_variants,
)
from sim.overrides import (
    OverrideError,
    apply_overrides,
    content_hash,
    get_path,
    parse_assignment,
)
from sim.queueing import least_servers
from sim.seeds import replication_seed
from sim.store import ResultStore

ROOT = Path(__file__).resolve().parents[1]

CONFIG = {
    "grab": {"incentive": 0.2, "widen": ["north"]},
    "engineers": {"pools": [{"name": "a", "count": 5}, {"name": "b", "count": 3}]},
    "policy": {"name": "direct"},
}

CALLS: list[tuple[float, int]] = []


def toy_runner(config: dict, seed: np.random.SeedSequence) -> dict[str, float]:
    """Toy runner: outcomes driven by config plus common noise."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=4)
    pools = config["engineers"]["pools"]
    CALLS.append((config["grab"]["incentive"], int(seed.spawn_key[0])))
    return {"y": 10 * config["grab"]["incentive"] + float(noise[0]),
            "staff": float(sum(p["count"] for p in pools)) + float(noise[1]),
            "hybrid": float(config["policy"]["name"] == "hybrid")}


def failing_runner(config: dict, seed: np.random.SeedSequence) -> dict[str, float]:
    """Toy runner that always fails."""
    raise ZeroDivisionError("boom")


def mmc_runner(config: dict, seed: np.random.SeedSequence) -> dict[str, float]:
    """Simulate an M/M/c queue (FCFS) and report waiting outcomes after warm-up."""
    q = config["queue"]
    rng = np.random.default_rng(seed)
    n = q["customers"]
    arrivals = np.cumsum(rng.exponential(1.0 / q["arrival_rate"], n)).tolist()
    services = rng.exponential(1.0 / q["service_rate"], n).tolist()
    free = [0.0] * q["servers"]
    waits = np.empty(n)
    for i in range(n):
        start = max(heapq.heappop(free), arrivals[i])
        waits[i] = start - arrivals[i]
        heapq.heappush(free, start + services[i])
    kept = waits[q["warmup"]:]
    return {"within": float(np.mean(kept <= q["within"])),
            "mean_wait": float(kept.mean())}


# ---------------------------------------------------------------- overrides


def test_apply_overrides_on_a_deep_copy():
    changed = apply_overrides(CONFIG, {"grab.incentive": 0.5,
                                       "engineers.pools[0].count": 12,
                                       "engineers.pools[-1].name": "z",
                                       "policy.name": "hybrid"})
    assert changed["grab"]["incentive"] == 0.5
    assert changed["engineers"]["pools"][0]["count"] == 12
    assert changed["engineers"]["pools"][1]["name"] == "z"
    assert CONFIG["grab"]["incentive"] == 0.2
    assert CONFIG["engineers"]["pools"][0]["count"] == 5
    assert get_path(changed, "policy.name") == "hybrid"
    changed["grab"]["widen"].append("south")
    assert CONFIG["grab"]["widen"] == ["north"]


@pytest.mark.parametrize("path,needle", [
    ("grab.incentiv", "no key 'incentiv' in grab, which is a table with keys: "
                      "incentive, widen"),
    ("engineers.pools[2].count", "index 2 out of range, engineers.pools is a list "
                                 "of length 2"),
    ("grab.incentive.x", "grab.incentive is a float (0.2), not a table"),
    ("policy[0]", "policy is a table with keys: name, not a list"),
    ("grab..x", "malformed"),
])
def test_bad_paths_name_the_path_and_what_exists(path, needle):
    with pytest.raises(OverrideError) as info:
        apply_overrides(CONFIG, {path: 1})
    assert needle in str(info.value)
    assert path in str(info.value)
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)


def test_allow_new_and_parse_assignment():
    changed = apply_overrides(CONFIG, {"run.warmup_days": 5}, allow_new=True)
    assert changed["run"] == {"warmup_days": 5}
    assert parse_assignment("grab.incentive=0.5") == ("grab.incentive", 0.5)
    assert parse_assignment("policy.name=hybrid") == ("policy.name", "hybrid")
    assert parse_assignment("a.b = [1, 2]") == ("a.b", [1, 2])
    with pytest.raises(OverrideError):
        parse_assignment("no equals sign")


def test_content_hash_is_canonical():
    reordered = {"policy": {"name": "direct"}, "engineers": CONFIG["engineers"],
                 "grab": {"widen": ["north"], "incentive": 0.2}}
    assert content_hash(CONFIG) == content_hash(reordered)
    assert content_hash({"x": np.float64(0.5)}) == content_hash({"x": 0.5})
    assert content_hash({"x": 1}) != content_hash({"x": 1.0})
    # Pinned: a change here would orphan every result store already on disk.
    assert content_hash({"x": 1, "b": [1.5, "z", None, True]}) == (
        "0865bb0264f8a906ecd2617ec87c56842d98cc95cbc2dac43ebed12eae144de8")
    assert len(content_hash(CONFIG)) == 64


# ---------------------------------------------------------------- seeds, CRN


def run(**kwargs) -> pd.DataFrame:
    options = {"replications": 3, "base_seed": 11, "executor": "serial",
               "progress": False}
    options.update(kwargs)
    return run_experiment(toy_runner, CONFIG, **options)


def test_replication_seed_is_spawn_child():
    child = np.random.SeedSequence(11).spawn(5)[4]
    assert (replication_seed(11, 4).generate_state(4) == child.generate_state(4)).all()


def test_replication_k_does_not_depend_on_replication_count():
    three, six = run(replications=3), run(replications=6)
    assert list(six["replication"]) == list(range(6))
    pd.testing.assert_frame_equal(three, six.iloc[:3], check_dtype=True)
    assert six["y"].nunique() == 6  # replications differ from one another


def test_common_random_numbers_across_variants():
    variants = [Variant("baseline"), Variant("more", {"grab.incentive": 0.4})]
    frame = run(variants=variants, replications=5)
    diff = compare(frame, "baseline", ["y", "staff"])
    y = diff.set_index("outcome").loc["y"]
    assert y["diff"] == pytest.approx(2.0)
    assert y["half_width"] == pytest.approx(0.0, abs=1e-12)  # same noise
    assert bool(y["significant"])
    staff = diff.set_index("outcome").loc["staff"]
    assert staff["diff"] == 0.0 and not bool(staff["significant"])
    with pytest.raises(ValueError, match="baseline"):
        compare(frame, "nope")


def test_table_shape_and_errors(capsys):
    frame = run(replications=2, progress=True)
    assert list(frame.columns) == ["variant", "replication", "scenario_hash", "y",
                                   "staff", "hybrid"]
    assert frame.attrs["outcomes"] == ["y", "staff", "hybrid"]
    assert set(frame["variant"]) == {"baseline"}
    assert "replications" in capsys.readouterr().err
    with pytest.raises(ValueError, match="duplicate"):
        run(variants=[Variant("a"), Variant("a")])
    with pytest.raises(OverrideError):
        run(variants=[Variant("a", {"grab.nope": 1})])
    with pytest.raises(ReplicationError, match="'baseline' replication 0 failed"):
        run_experiment(failing_runner, CONFIG, executor="serial", progress=False)


def test_store_skips_stored_replications(tmp_path):
    store = ResultStore(tmp_path)
    CALLS.clear()
    first = run(replications=3, store=store)
    assert len(CALLS) == 3
    CALLS.clear()
    second = run(replications=5, store=store)
    assert sorted(k for _, k in CALLS) == [3, 4]
    pd.testing.assert_frame_equal(second, run(replications=5))
    pd.testing.assert_frame_equal(first, second.iloc[:3])
    assert len(store.load_all()) == 5
    CALLS.clear()
    run(replications=5, store=store, base_seed=12)
    assert len(CALLS) == 5  # another seed is another experiment


# ---------------------------------------------------------------- subprocesses

SCRIPT = textwrap.dedent('''
    import os, sys, time
    import numpy as np
    from sim.experiment import Variant, run_experiment
    from sim.store import ResultStore

    def slow_runner(config, seed):
        rng = np.random.default_rng(seed)
        time.sleep(config["sleep"])
        with open(os.environ["CALLS_FILE"], "a") as handle:
            handle.write("x\\n")
        return {"y": config["x"] + rng.normal(), "z": rng.uniform()}

    if __name__ == "__main__":
        mode, out = sys.argv[1], sys.argv[2]
        store = ResultStore(sys.argv[3]) if len(sys.argv) > 3 else None
        config = {"x": 1.0, "sleep": 0.0 if mode == "fast" else 0.1,
                  "labels": {"b": 1, "a": 2, "c": 3}}
        variants = [Variant("baseline"), Variant("x2", {"x": 2.0})]
        frame = run_experiment(slow_runner, config, variants, replications=12,
                               base_seed=5, executor="serial", store=store,
                               progress=False)
        frame.to_parquet(out)
''')


def _run_script(tmp_path: Path, *args: str, hashseed: str = "0", wait: bool = True):
    script = tmp_path / "experiment_script.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONHASHSEED=hashseed, CALLS_FILE=str(
        tmp_path / f"calls-{len(list(tmp_path.glob('calls-*')))}.txt"),
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, str(script), *args]
    if not wait:
        return subprocess.Popen(command, cwd=ROOT, env=env)
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=120)
    return None


def test_results_do_not_depend_on_pythonhashseed(tmp_path):
    _run_script(tmp_path, "fast", str(tmp_path / "a.parquet"), hashseed="1")
    _run_script(tmp_path, "fast", str(tmp_path / "b.parquet"), hashseed="4242")
    first = pd.read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(first, pd.read_parquet(tmp_path / "b.parquet"))
    assert first["y"].nunique() == len(first) == 24


def test_resume_after_sigkill(tmp_path):
    store_dir = tmp_path / "store"
    process = _run_script(tmp_path, "slow", str(tmp_path / "killed.parquet"),
                          str(store_dir), wait=False)
    deadline = time.monotonic() + 60
    while len(list(store_dir.rglob("rep-*.parquet"))) < 5:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no results stored in time"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    stored = len(list(store_dir.rglob("rep-*.parquet")))
    assert 5 <= stored < 24
    _run_script(tmp_path, "slow", str(tmp_path / "resumed.parquet"), str(store_dir))
    resumed_calls = (tmp_path / "calls-1.txt").read_text().count("x")
    assert resumed_calls == 24 - stored  # nothing stored was run again
    _run_script(tmp_path, "fast", str(tmp_path / "clean.parquet"))
    resumed = pd.read_parquet(tmp_path / "resumed.parquet")
    clean = pd.read_parquet(tmp_path / "clean.parquet")
    assert not (tmp_path / "killed.parquet").exists()
    assert resumed[["variant", "replication"]].value_counts().max() == 1
    assert len(resumed) == 24
    # The clean run has another sleep setting, hence another scenario hash.
    pd.testing.assert_frame_equal(resumed.drop(columns="scenario_hash"),
                                  clean.drop(columns="scenario_hash"))
    store = ResultStore(store_dir)
    store.clean_temp(min_age_seconds=0)
    assert len(store.load_all()) == 24
    assert not list(store_dir.rglob(".tmp-*"))


# ---------------------------------------------------------------- sweeps


def test_sweep_grid_names_and_columns():
    frame = sweep(toy_runner, CONFIG, grid={"grab.incentive": [0.0, 0.5],
                                            "policy.name": ["direct", "hybrid"]},
                  replications=2, executor="serial", progress=False)
    names = list(dict.fromkeys(frame["variant"]))
    assert names == ["grab.incentive=0.0,policy.name=direct",
                     "grab.incentive=0.0,policy.name=hybrid",
                     "grab.incentive=0.5,policy.name=direct",
                     "grab.incentive=0.5,policy.name=hybrid"]
    assert list(frame.columns[:5]) == ["variant", "grab.incentive", "policy.name",
                                       "replication", "scenario_hash"]
    assert frame.attrs["swept"] == ["grab.incentive", "policy.name"]
    hybrid = frame[frame["policy.name"] == "hybrid"]
    assert (hybrid["hybrid"] == 1.0).all() and len(hybrid) == 4


def test_sweep_points():
    points = [{"engineers.pools[0].count": 8}, {"policy.name": "hybrid"}]
    frame = sweep(toy_runner, CONFIG, points=points, replications=2,
                  executor="serial", progress=False)
    assert list(dict.fromkeys(frame["variant"])) == ["engineers.pools[0].count=8",
                                                      "policy.name=hybrid"]
    assert frame["engineers.pools[0].count"].tolist()[:2] == [8, 8]
    assert pd.isna(frame["engineers.pools[0].count"].iloc[2])
    with pytest.raises(ValueError):
        sweep_variants(points=[{"a": 1}, {"a": 1}])
    with pytest.raises(ValueError):
        sweep_variants()


# ---------------------------------------------------------------- staffing

QUEUE = {"queue": {"arrival_rate": 4.0, "service_rate": 1.0, "servers": 1,
                   "customers": 4000, "warmup": 500, "within": 0.25}}


def test_staffing_search_agrees_with_erlang_c():
    targets = [Target("within", ">=", 0.88), Target("mean_wait", "<=", 0.1)]
    found = staffing_search(mmc_runner, QUEUE, "queue.servers", [5, 6, 7, 8, 9],
                            targets, replications=8, base_seed=3,
                            executor="serial", progress=False)
    expected = least_servers(4.0, 1.0, target=0.88, within=0.25, max_mean_wait=0.1)
    assert found.least_headcount == expected == 7
    assert found.least == {"queue.servers": 7}
    assert "7" in found.statement
    curve = found.curve[found.curve["outcome"] == "within"]
    assert curve["headcount"].tolist() == [5, 6, 7, 8, 9]
    assert curve["mean"].is_monotonic_increasing
    assert set(found.checks.columns) >= {"headcount", "target", "bound", "met"}
    assert len(found.checks) == 10


def test_staffing_search_states_when_nothing_meets_the_targets():
    found = staffing_search(mmc_runner, QUEUE, ["queue.servers"], [[5], [6]],
                            [Target("within", ">=", 0.999)], replications=3,
                            executor="serial", progress=False)
    assert found.least_headcount is None and found.least is None
    assert found.statement.startswith("No candidate headcount (5 to 6)")
    with pytest.raises(ValueError, match="unknown outcomes"):
        staffing_search(mmc_runner, QUEUE, "queue.servers", [5],
                        [Target("revenue", ">=", 1.0)], replications=2,
                        executor="serial", progress=False)
    with pytest.raises(ValueError):
        Target("within", ">", 0.5)
