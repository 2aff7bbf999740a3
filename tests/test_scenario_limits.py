"""Settings that once passed validation and then failed mid-run are refused at load."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from models.scenario import ScenarioError, scenario_from_dict

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "small.toml"


def _small() -> dict:
    return tomllib.loads(SMALL.read_text())


def _set(raw: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for key in parents:
        raw = raw.setdefault(key, {})
    raw[last] = value


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("scenario.name", "../../escape", "scenario.name"),
        ("scenario.name", "", "scenario.name"),
        ("scenario.start_date", "9999-12-20", "scenario.start_date"),
        ("scenario.warmup_days", 60, "scenario.warmup_days"),
        ("calendar.weekdays", [], "calendar.weekdays"),
        ("calendar.weekdays", [0, 0, 1], "calendar.weekdays"),
        ("calendar.working_hours", [], "calendar.working_hours"),
        ("calendar.working_hours", [[9, 14], [12, 18]], "calendar.working_hours"),
        ("calendar.timezone", "Mars/Olympus", "calendar.timezone"),
        ("control.alpha", 1.0, "control.alpha"),
        ("control.alpha", 0.0, "control.alpha"),
    ],
)
def test_bad_setting_is_refused_naming_the_field(path, value, named):
    raw = _small()
    if path == "scenario.start_date":
        import datetime as dt

        value = dt.date(9999, 12, 20)
    _set(raw, path, value)
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(raw, source="x.toml")
    assert named in str(err.value)


@pytest.mark.parametrize("field", ["deal_value_mu", "win_rate"])
def test_non_finite_numbers_are_refused(field):
    raw = _small()
    raw["demand"]["streams"][0][field] = float("inf")
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(raw, source="x.toml")
    assert f"demand.streams[0].{field}" in str(err.value)


def test_infinite_wait_is_still_allowed():
    raw = _small()
    raw["dispatch"] = {"max_wait_hours": float("inf")}
    assert scenario_from_dict(raw).dispatch.max_wait_hours == float("inf")


@pytest.mark.parametrize(
    "args",
    [["--days", "0"], ["--days", "99999"], ["--seed", "-1"]],
)
def test_run_refuses_bad_overrides_with_status_2(args, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "models.cli", "run", str(SMALL), "--out",
         str(tmp_path), "--quiet", *args],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert args[0] in done.stderr and "Traceback" not in done.stderr


def test_output_folder_that_is_a_file_is_status_2(tmp_path):
    target = tmp_path / "afile"
    target.write_text("x")
    done = subprocess.run(
        [sys.executable, "-m", "models.cli", "run", str(SMALL), "--out",
         str(target), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2 and "--out" in done.stderr
