"""Tests of sim.executors: serial, local processes and a loopback Dask cluster."""

import numpy as np
import pandas as pd
import pytest

from sim.executors import (
    DaskExecutor,
    Executor,
    ProcessExecutor,
    SerialExecutor,
    make_executor,
)
from sim.experiment import Variant, run_experiment

CONFIG = {"level": {"x": 1.0}, "noise": 0.5}
VARIANTS = [Variant("baseline"), Variant("high", {"level.x": 3.0})]


def draw(task: int) -> tuple[int, float]:
    """Toy task: a value drawn from the task's own stream."""
    return task, float(np.random.default_rng(task).normal())


def fail_on_three(task: int) -> int:
    """Toy task that fails for one input."""
    if task == 3:
        raise RuntimeError("task three failed")
    return task


def noisy_runner(config: dict, seed: np.random.SeedSequence) -> dict[str, float]:
    """Toy runner: config level plus noise from the replication's stream."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, config["noise"], size=10)
    return {"y": config["level"]["x"] + float(noise.mean()),
            "peak": float(noise.max())}


@pytest.fixture(scope="module")
def dask_executor():
    pytest.importorskip("distributed")
    with DaskExecutor(n_workers=2) as executor:
        yield executor


@pytest.fixture(scope="module")
def process_executor():
    with ProcessExecutor(workers=2) as executor:
        yield executor


def test_serial_map_and_protocol():
    executor = make_executor("serial")
    assert isinstance(executor, Executor)
    assert list(executor.map_unordered(draw, range(3))) == [draw(k) for k in range(3)]


def test_processes_give_the_same_results(process_executor):
    assert isinstance(process_executor, Executor)
    got = sorted(process_executor.map_unordered(draw, range(20)))
    assert got == [draw(k) for k in range(20)]


def test_processes_propagate_errors(process_executor):
    with pytest.raises(RuntimeError, match="task three"):
        list(process_executor.map_unordered(fail_on_three, range(8)))
    # The pool is still usable afterwards.
    assert sorted(process_executor.map_unordered(draw, range(2))) == [draw(0), draw(1)]


def test_dask_gives_the_same_results(dask_executor):
    assert "127.0.0.1" in dask_executor.client.scheduler.address
    got = sorted(dask_executor.map_unordered(draw, range(20)))
    assert got == [draw(k) for k in range(20)]
    with pytest.raises(RuntimeError, match="task three"):
        list(dask_executor.map_unordered(fail_on_three, range(8)))


def test_experiment_identical_across_executors(process_executor, dask_executor):
    def run(executor):
        return run_experiment(noisy_runner, CONFIG, VARIANTS, replications=5,
                              base_seed=7, executor=executor, progress=False)

    serial = run(SerialExecutor())
    pd.testing.assert_frame_equal(serial, run(process_executor))
    pd.testing.assert_frame_equal(serial, run(dask_executor))
    assert len(serial) == 10


def test_make_executor_names():
    with make_executor("processes", workers=1) as executor:
        assert isinstance(executor, ProcessExecutor) and executor.workers == 1
    with pytest.raises(ValueError, match="serial, processes, dask"):
        make_executor("threads")
