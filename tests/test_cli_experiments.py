"""The compare, sweep and staff commands: outputs, reports, bad arguments,
Dask against local, hash-seed independence and resuming after a kill."""

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from models.cli import main
from models.experiment_inputs import code_fingerprint, open_store
from models.experiments import compare
from sim.executors import DaskExecutor

ROOT = Path(__file__).resolve().parents[1]
SMALL = str(ROOT / "scenarios" / "small.toml")
ERLANG = str(ROOT / "scenarios" / "erlang_staffing.toml")
QUICK = ["--days", "20", "--replications", "2", "--quiet"]
COMMAND = Path(sys.executable).with_name("presales-sim")


@pytest.fixture(scope="module")
def scheduler():
    """Address of a loopback Dask cluster shared by this module's tests."""
    pytest.importorskip("distributed")
    with DaskExecutor(n_workers=2) as executor:
        yield executor.client.scheduler.address


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def shell(*args, env=None, wait=True):
    command = [str(COMMAND), *map(str, args)]
    if not wait:
        return subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    return subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_compare_prints_tables_and_writes_a_report(tmp_path, capsys, caplog):
    report = tmp_path / "report" / "policies.md"
    code, out, err = run(
        capsys,
        "compare",
        SMALL,
        *QUICK,
        "--executor",
        "serial",
        "--variant",
        "direct:dispatch.policy=direct",
        "--variant",
        "rich:grab.incentive=1.0,budget.share_of_quota.commercial=0.1",
        "--store",
        tmp_path / "store",
        "--report",
        report,
        "--table",
        tmp_path / "summary.csv",
        "--raw",
        tmp_path / "raw.csv",
    )
    assert code == 0, err
    for heading in ("Means", "Differences from the baseline", "Ranking"):
        assert heading in out
    assert "on_time_share" in out and "±" in out
    text = report.read_text()
    assert "## Differences from the baseline" in text
    for png in ("means.png", "differences.png"):
        assert f"policies_figures/{png}" in text
        assert (report.parent / "policies_figures" / png).stat().st_size > 1000
    raw = pd.read_csv(tmp_path / "raw.csv")
    assert sorted(set(raw["variant"])) == ["baseline", "direct", "rich"]
    assert len(raw) == 6
    assert len(open_store(tmp_path / "store").load_all()) == 6
    assert (tmp_path / "store" / f"model-{code_fingerprint()}").is_dir()
    with caplog.at_level(logging.INFO, logger="sim.experiment"):
        code, out, err = run(
            capsys,
            "compare",
            SMALL,
            *QUICK,
            "--executor",
            "serial",
            "--variant",
            "direct:dispatch.policy=direct",
            "--variant",
            "rich:grab.incentive=1.0,budget.share_of_quota.commercial=0.1",
            "--store",
            tmp_path / "store",
            "--raw",
            tmp_path / "again.csv",
        )
    assert code == 0
    assert "6 of 6 replications already stored" in caplog.text
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again.csv"), raw)


def test_sweep_grid_and_points(tmp_path, capsys):
    code, out, err = run(
        capsys,
        "sweep",
        SMALL,
        *QUICK,
        "--executor",
        "serial",
        "--no-store",
        "--grid",
        "grab.incentive=0.2,0.8",
        "--grid",
        "dispatch.policy=direct,hybrid",
        "--table",
        tmp_path / "grid.csv",
        "--report",
        tmp_path / "grid.md",
    )
    assert code == 0, err
    table = pd.read_csv(tmp_path / "grid.csv")
    assert list(table.columns[:3]) == ["grab.incentive", "dispatch.policy", "variant"]
    assert table["variant"].nunique() == 4
    assert "grab.incentive=0.8,dispatch.policy=hybrid" in out
    assert (tmp_path / "grid_figures" / "sweep.png").exists()
    code, out, err = run(
        capsys,
        "sweep",
        SMALL,
        *QUICK,
        "--executor",
        "serial",
        "--no-store",
        "--points",
        "engineers.pools[0].count=1,engineers.pools[2].count=1",
        "--points",
        "engineers.pools[0].count=5",
        "--outcomes",
        "fill_rate",
    )
    assert code == 0, err
    assert "engineers.pools[0].count=5" in out and "fill_rate" in out


def test_staff_on_the_queue_scenario_shows_erlang_c(tmp_path, capsys):
    code, out, err = run(
        capsys,
        "staff",
        ERLANG,
        "--region",
        "Hub",
        "--candidates",
        "4,6",
        "--target",
        "on_time_share.Hub.S>=0.9",
        "--days",
        "20",
        "--replications",
        "2",
        "--quiet",
        "--executor",
        "serial",
        "--no-store",
        "--outcomes",
        "mean_delay_hours",
        "--report",
        tmp_path / "staff.md",
    )
    assert code == 0, err
    assert "on_time_share.Hub.S (Erlang C)" in out and "0.691" in out
    assert "Erlang C least headcount: 5" in out
    text = (tmp_path / "staff.md").read_text()
    assert "Erlang C (M/M/c) reference: least headcount 5" in text
    assert (tmp_path / "staff_figures" / "staffing_curve.png").exists()
    code, out, err = run(capsys, "staff", SMALL, "--list-pools")
    assert code == 0 and "engineers.pools[3].count" in out


@pytest.mark.parametrize(
    "args,needle",
    [
        (["compare", SMALL], "needs at least one --variant"),
        (["compare", SMALL, "--variant", "x:grab.incentiv=0.3"], "--variant"),
        (["compare", SMALL, "--variant", "x:grab.incentive=7"], "variant 'x'"),
        (["compare", SMALL, "--variant", "baseline:grab.incentive=0.3"], "reserved"),
        (
            ["compare", SMALL, "--variant", "x:grab.incentive=0.3", "--set", "nope=1"],
            "--set 'nope=1'",
        ),
        (
            [
                "compare",
                SMALL,
                "--variant",
                "x:grab.incentive=0.3",
                "--replications",
                "1",
            ],
            "--replications 1",
        ),
        (
            [
                "compare",
                SMALL,
                "--variant",
                "x:grab.incentive=0.3",
                "--executor",
                "serial",
                "--dask-address",
                "tcp://127.0.0.1:1",
            ],
            "--dask-address needs --executor",
        ),
        (
            [
                "compare",
                SMALL,
                "--variant",
                "x:grab.incentive=0.3",
                "--outcomes",
                "zzz",
            ],
            "--outcomes",
        ),
        (["compare", "missing.toml", "--variant", "x:a=1"], "file not found"),
        (["sweep", SMALL], "--grid"),
        (["sweep", SMALL, "--grid", "grab.incentive"], "--grid 'grab.incentive'"),
        (["staff", SMALL, "--target", "on_time_share>=0.9"], "--candidates"),
        (
            ["staff", SMALL, "--candidates", "2,x", "--target", "on_time_share>=0.9"],
            "--candidates",
        ),
        (["staff", SMALL, "--candidates", "2", "--target", "ontime>=0.9"], "--target"),
        (
            ["staff", SMALL, "--candidates", "2", "--target", "on_time_share>0.9"],
            "--target",
        ),
        (
            [
                "staff",
                SMALL,
                "--region",
                "Mars",
                "--candidates",
                "2",
                "--target",
                "on_time_share>=0.9",
            ],
            "--region 'Mars'",
        ),
        (
            [
                "staff",
                SMALL,
                "--headcount-path",
                "grab.incentive",
                "--candidates",
                "2",
                "--target",
                "on_time_share>=0.9",
            ],
            "--headcount-path",
        ),
    ],
)
def test_bad_arguments_exit_2_naming_the_option(capsys, args, needle):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["compare", SMALL, "--executor", "bogus"])
    assert stop.value.code == 2
    assert "--executor" in capsys.readouterr().err


def test_dask_run_gives_the_same_table_as_a_local_one(tmp_path, capsys, scheduler):
    tables = {}
    for name, extra in (
        ("serial", ["--executor", "serial"]),
        ("dask", ["--executor", "dask", "--dask-address", scheduler]),
    ):
        code, out, err = run(
            capsys,
            "compare",
            SMALL,
            *QUICK,
            *extra,
            "--no-store",
            "--variant",
            "grab_first:dispatch.policy=grab_first",
            "--table",
            tmp_path / f"{name}.csv",
            "--raw",
            tmp_path / f"{name}_raw.csv",
        )
        assert code == 0, err
        tables[name] = (tmp_path / f"{name}.csv").read_text()
        tables[name + "_raw"] = (tmp_path / f"{name}_raw.csv").read_text()
    assert tables["dask"] == tables["serial"]
    assert tables["dask_raw"] == tables["serial_raw"]


def test_results_do_not_depend_on_the_hash_seed(tmp_path):
    outputs = []
    for hash_seed in ("0", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        target = tmp_path / f"raw-{hash_seed}.csv"
        done = shell(
            "compare",
            SMALL,
            *QUICK,
            "--executor",
            "serial",
            "--no-store",
            "--variant",
            "wide:dispatch.region_scope=all",
            "--raw",
            target,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(target.read_text())
    assert outputs[0] == outputs[1]


def test_a_killed_run_resumes_with_every_result_once(tmp_path):
    store = tmp_path / "store"
    variant = "direct:dispatch.policy=direct"
    command = [
        "compare",
        SMALL,
        "--days",
        "30",
        "--replications",
        "6",
        "--quiet",
        "--executor",
        "serial",
        "--variant",
        variant,
        "--store",
        store,
    ]
    process = shell(*command, wait=False)
    deadline = time.monotonic() + 120
    while len(list(store.rglob("rep-*.parquet"))) < 3:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "nothing stored in time"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    stored = len(list(store.rglob("rep-*.parquet")))
    assert 3 <= stored < 12
    resumed = shell("-v", *command, "--raw", tmp_path / "resumed.csv")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{stored} of 12 replications already stored" in resumed.stderr
    results = open_store(store).load_all()
    assert len(results) == 12
    assert results[["variant", "replication"]].value_counts().max() == 1
    open_store(store).clean_temp(min_age_seconds=0)
    assert not list(store.rglob(".tmp-*"))
    clean = compare(
        SMALL,
        [variant],
        replications=6,
        executor="serial",
        overrides={"scenario.horizon_days": 30},
    )
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "resumed.csv"),
        clean.results,
        check_exact=False,
        rtol=1e-12,
    )
