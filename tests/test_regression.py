"""``presales-sim regress``: baselines, the comparison rules and exit codes.

Most tests build their own cases file and baselines in a temporary folder, so
they hold whatever the model does today; one checks a case of the committed
``regress/cases.toml`` against the committed baselines.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import tomli_w

from models.cli import main
from models.regression import (
    Guard,
    baselines_text,
    compare_outcome,
    load_baselines,
    load_cases,
)
from sim.stats import Interval

ROOT = Path(__file__).resolve().parents[1]
BASE_OVERRIDES = {
    "scenario.horizon_days": 30,
    "dispatch.policy": "grab_first",
    "grab.incentive": 0.2,
}
GUARDED = {
    "grab_orders": "two_sided",
    "incentive_paid": "two_sided",
    "utilisation": "two_sided",
    "fill_rate": {"rule": "higher_is_better", "min_tolerance": 0.01},
}


def write_cases(folder: Path, overrides=None, copies=(), **changes) -> Path:
    """Write a cases file on a copy of ``scenarios/small.toml``.

    The case is ``small_grab``; ``copies`` names further cases identical to it.
    """
    case = {
        "name": "small_grab",
        "scenario": "small.toml",
        "replications": 4,
        "base_seed": 3,
        "pins": ["tickets", "grab_orders"],
        "overrides": {**BASE_OVERRIDES, **(overrides or {})},
        "outcomes": GUARDED,
    }
    case.update(changes)
    path = folder / "cases.toml"
    cases = [case, *({**case, "name": name} for name in copies)]
    path.write_text(tomli_w.dumps({"confidence": 0.95, "case": cases}))
    return path


def regress(capsys, *args) -> tuple[int, str, str]:
    code = main(["regress", "--executor", "serial", "--quiet", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def accepted(tmp_path_factory) -> Path:
    """A folder with small.toml, a cases file and baselines accepted from it."""
    folder = tmp_path_factory.mktemp("regress")
    shutil.copy(ROOT / "scenarios" / "small.toml", folder / "small.toml")
    cases = write_cases(folder)
    assert (
        main(
            [
                "regress",
                "--cases",
                str(cases),
                "--accept",
                "--quiet",
                "--executor",
                "serial",
            ]
        )
        == 0
    )
    return folder


@pytest.fixture
def folder(accepted, tmp_path) -> Path:
    """A private copy of the accepted folder."""
    target = tmp_path / "regress"
    shutil.copytree(accepted, target)
    return target


def test_unchanged_model_passes_and_accept_is_stable(folder, capsys):
    before = (folder / "baselines.json").read_text()
    code, out, _ = regress(capsys, "--cases", folder / "cases.toml")
    assert code == 0, out
    assert "passed: 1 case(s)" in out
    assert "REGRESSED" not in out and "MOVED" not in out
    code, out, _ = regress(capsys, "--cases", folder / "cases.toml", "--accept")
    assert code == 0
    assert (folder / "baselines.json").read_text() == before
    document = json.loads(before)
    entry = document["cases"]["small_grab"]
    assert set(entry["outcomes"]) == set(GUARDED)
    assert set(entry["pins"]) == {"tickets", "grab_orders"}
    assert isinstance(entry["pins"]["tickets"], int)


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        ({"dispatch.policy": "direct"}, "grab_orders"),
        ({"grab.incentive": 1.0}, "incentive_paid"),
        (
            {"engineers.pools[0].count": 15, "engineers.pools[2].count": 15},
            "utilisation",
        ),
    ],
    ids=["policy", "incentive", "engineers"],
)
def test_changed_policy_parameter_fails_naming_the_outcome(
    folder, capsys, change, outcome
):
    write_cases(folder, overrides=change)
    code, out, _ = regress(capsys, "--cases", folder / "cases.toml")
    assert code == 1, out
    assert f"small_grab: {outcome} regressed" in out
    assert "FAILED" in out and "presales-sim regress --accept" in out
    row = next(line for line in out.splitlines() if f" {outcome} " in line)
    assert row.rstrip().endswith("REGRESSED")


def test_a_moved_pin_fails(folder, capsys):
    path = folder / "baselines.json"
    document = json.loads(path.read_text())
    document["cases"]["small_grab"]["pins"]["tickets"] += 1
    path.write_text(json.dumps(document))
    code, out, _ = regress(capsys, "--cases", folder / "cases.toml")
    assert code == 1
    assert "small_grab: pin moved: tickets" in out
    assert "regressed" not in out


def test_accept_of_one_case_keeps_the_others(folder, capsys):
    document = json.loads((folder / "baselines.json").read_text())
    cases = write_cases(folder, copies=["other"])
    code, _, err = regress(capsys, "--cases", cases)
    assert code == 2 and "no baseline for case(s) other" in err
    code, out, _ = regress(capsys, "--cases", cases, "--accept", "--case", "other")
    assert code == 0, out
    updated = json.loads((folder / "baselines.json").read_text())
    assert updated["cases"]["small_grab"] == document["cases"]["small_grab"]
    assert (
        updated["cases"]["other"]["outcomes"]
        == (document["cases"]["small_grab"]["outcomes"])
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"outcomes": {"no_such_outcome": "two_sided"}}, "no_such_outcome"),
        ({"overrides": {"grab.incentve": 0.3}}, "grab.incentve"),
        ({"replications": 5}, "replications 4 -> 5"),
        ({"outcomes": {"utilisation": "sideways"}}, "outcomes.utilisation"),
        ({"scenario": "missing.toml"}, "missing.toml"),
    ],
    ids=["outcome", "override", "replications", "rule", "scenario"],
)
def test_bad_input_exits_2(folder, capsys, changes, message):
    changes = dict(changes)
    overrides = changes.pop("overrides", None)
    write_cases(folder, overrides=overrides, **changes)
    code, out, err = regress(capsys, "--cases", folder / "cases.toml")
    assert code == 2, out
    assert message in err


def test_missing_baselines_say_how_to_make_them(folder, capsys):
    (folder / "baselines.json").unlink()
    code, _, err = regress(capsys, "--cases", folder / "cases.toml")
    assert code == 2
    assert "presales-sim regress --accept" in err


def test_processes_give_the_serial_baselines(tmp_path, capsys):
    shutil.copy(ROOT / "scenarios" / "small.toml", tmp_path / "small.toml")
    cases = write_cases(
        tmp_path, replications=2, overrides={"scenario.horizon_days": 10}
    )
    args = ["regress", "--cases", str(cases), "--accept", "--quiet"]
    assert main([*args, "--executor", "processes", "--workers", "2"]) == 0
    by_processes = (tmp_path / "baselines.json").read_text()
    assert main([*args, "--executor", "serial"]) == 0
    capsys.readouterr()
    assert (tmp_path / "baselines.json").read_text() == by_processes


# --- the rules, without running anything -----------------------------------


def test_two_sided_tolerance_is_the_sum_of_half_widths():
    guard = Guard("x")
    base = Interval(10.0, 1.0, 5)
    assert compare_outcome(guard, "c", base, Interval(11.9, 1.0, 5)).verdict == "ok"
    moved = compare_outcome(guard, "c", base, Interval(7.9, 1.0, 5))
    assert moved.verdict == "REGRESSED"
    assert moved.tolerance == pytest.approx(2.0)
    assert moved.moved == pytest.approx(-2.1)


def test_one_sided_rules_let_improvements_pass():
    base = Interval(0.8, 0.01, 5)
    up, down = Interval(0.9, 0.01, 5), Interval(0.7, 0.01, 5)
    higher = Guard("on_time_share", "higher_is_better")
    lower = Guard("mean_response_hours", "lower_is_better")
    assert compare_outcome(higher, "c", base, up).verdict == "better"
    assert compare_outcome(higher, "c", base, down).verdict == "REGRESSED"
    assert compare_outcome(lower, "c", base, up).verdict == "REGRESSED"
    assert compare_outcome(lower, "c", base, down).verdict == "better"


def test_min_tolerance_covers_identical_replications():
    base = Interval(0.0, 0.0, 5)
    strict, loose = Guard("x"), Guard("x", min_tolerance=2.0)
    assert compare_outcome(strict, "c", base, Interval(1.0, 0.0, 5)).failed
    assert not compare_outcome(loose, "c", base, Interval(1.0, 0.0, 5)).failed


def test_undefined_outcomes():
    nan = Interval(math.nan, math.nan, 0)
    value = Interval(1.0, 0.1, 5)
    assert compare_outcome(Guard("x"), "c", nan, nan).verdict == "ok"
    assert compare_outcome(Guard("x"), "c", nan, value).failed
    assert compare_outcome(Guard("x"), "c", value, nan).failed
    unbounded = Interval(1.0, math.inf, 1)
    assert not compare_outcome(Guard("x"), "c", unbounded, Interval(50, 0, 5)).failed


# --- the committed cases and baselines -------------------------------------


def test_committed_baselines_cover_the_cases_in_canonical_form():
    cases = load_cases(ROOT / "regress" / "cases.toml")
    text = (ROOT / "regress" / "baselines.json").read_text()
    baselines = load_baselines(ROOT / "regress" / "baselines.json")
    assert baselines["confidence"] == cases.confidence
    for case in cases.cases:
        entry = baselines["cases"].get(case.name)
        assert entry is not None, f"no baseline for {case.name}"
        assert set(entry["pins"]) == set(case.pins)
        assert set(entry["outcomes"]) == {g.outcome for g in case.guards}
    assert baselines_text(cases, [], baselines) == text, (
        "regress/baselines.json is not in canonical form; rewrite it with "
        "`presales-sim regress --accept`"
    )


def test_stored_baselines_pass(capsys):
    code, out, err = regress(
        capsys, "--cases", ROOT / "regress" / "cases.toml", "--case", "small_no_grab"
    )
    assert code == 0, (
        f"{out}\n{err}\nthe model moved outcomes of the committed regression "
        "baselines; if that is intended, run `presales-sim regress --accept` and "
        "review the diff of regress/baselines.json"
    )
