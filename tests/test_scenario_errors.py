"""Bad scenario files: exit status 2 and every problem listed, no traceback."""

import pytest

from models.cli import main
from models.scenario import ScenarioError, load_scenario

VALID = """\
regions = ["North"]
solutions = ["A"]

[[grades]]
name = "junior"
hourly_rate = 80.0

[[engineers.pools]]
region = "North"
grade = "junior"
count = 2
proficiency = { A = 3 }

[[reps.pools]]
region = "North"
count = 1
customer_type = "key_account"
quarterly_quota = 100000

[[demand.streams]]
region = "North"
solution = "A"
arrivals_per_month = [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]
win_rate = 0.5
deal_value_mu = 8.0
deal_value_sigma = 0.5
cycle_days_mu = 3.0
cycle_days_sigma = 0.3
"""

# Five problems at once, two of each kind a schema alone and a cross-check find.
SEVERAL = """\
regions = ["North"]
solutions = ["A"]
colour = "blue"

[[grades]]
name = "junior"
hourly_rate = 80.0

[[engineers.pools]]
region = "Atlantis"
grade = "junior"
count = 2
proficiency = { A = 3 }

[[engineers.pools]]
region = "North"
grade = "junior"
count = -1
proficiency = { A = 3 }

[[reps.pools]]
region = "North"
count = 1
quarterly_quota = 100000

[dispatch]
policy = "telepathy"

[[demand.streams]]
region = "North"
solution = "A"
arrivals_per_month = [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]
win_rate = 0.5
deal_value_mu = 8.0
deal_value_sigma = 0.5
cycle_days_mu = 3.0
cycle_days_sigma = 0.3
"""

# field named in the message -> a word the message must also contain
EXPECTED = {
    "colour": "unknown field",
    "engineers.pools[0].region": "Atlantis",
    "engineers.pools[1].count": "-1",
    "reps.pools[0].customer_type": "missing",
    "dispatch.policy": "telepathy",
}


def problem_lines(stderr: str) -> list[str]:
    return [
        line.strip() for line in stderr.splitlines() if line.strip().startswith("-")
    ]


def test_valid_file_validates(tmp_path, capsys):
    # In process (the command's own entry point): saves a process start.
    path = tmp_path / "good.toml"
    path.write_text(VALID)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "good.toml" in out


def test_toml_syntax_error(tmp_path, presales_sim):
    path = tmp_path / "broken.toml"
    # Line 6 of VALID is the rate; "==" is not TOML.
    path.write_text(VALID.replace("hourly_rate = 80.0", "hourly_rate == 80.0"))
    done = presales_sim("run", path, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "broken.toml" in done.stderr
    assert "not valid TOML" in done.stderr
    assert "line 6" in done.stderr  # where the fault is
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "out").exists()


def check_every_problem_listed(stderr: str, path) -> None:
    assert "Traceback" not in stderr
    assert str(path) in stderr
    lines = problem_lines(stderr)
    assert len(lines) == len(EXPECTED), stderr
    for field, word in EXPECTED.items():
        matching = [line for line in lines if line.startswith(f"- {field}:")]
        assert len(matching) == 1, f"{field} not reported once:\n{stderr}"
        assert word in matching[0]


def test_every_problem_is_listed_by_run(tmp_path, presales_sim):
    path = tmp_path / "bad.toml"
    path.write_text(SEVERAL)
    done = presales_sim("run", path, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "Traceback" not in done.stdout
    check_every_problem_listed(done.stderr, path)
    assert not (tmp_path / "out").exists()


def test_every_problem_is_listed_by_validate(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(SEVERAL)
    assert main(["validate", str(path)]) == 2
    check_every_problem_listed(capsys.readouterr().err, path)


def test_every_problem_is_in_the_exception(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(SEVERAL)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path)
    fields = sorted(p.split(":")[0] for p in caught.value.problems)
    assert fields == sorted(EXPECTED)


def test_cross_check_problems_alone(tmp_path):
    # Only cross-reference problems: the schema itself is satisfied.
    text = VALID.replace('region = "North"\ngrade', 'region = "Atlantis"\ngrade')
    text += '\n[dispatch]\npolicy = "telepathy"\n'
    path = tmp_path / "cross.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "engineers.pools[0].region",
        "dispatch.policy",
    ]


def test_malformed_values_still_report_the_schema_problems(tmp_path):
    # A count that is not a number cannot be cross-checked; the schema's own
    # problems are still all reported, with no crash.
    text = SEVERAL.replace("count = 2", 'count = "two"')
    path = tmp_path / "worse.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    fields = [p.split(":")[0] for p in caught.value.problems]
    assert "engineers.pools[0].count" in fields
    assert "colour" in fields and "reps.pools[0].customer_type" in fields


def test_missing_file(tmp_path, presales_sim):
    path = tmp_path / "nowhere.toml"
    done = presales_sim("run", path)
    assert done.returncode == 2
    assert "nowhere.toml" in done.stderr and "not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file_validate_and_bad_days(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nowhere.toml")]) == 2
    assert "not found" in capsys.readouterr().err
    path = tmp_path / "good.toml"
    path.write_text(VALID)
    assert main(["run", str(path), "--days", "0", "--out", str(tmp_path)]) == 2
    assert "--days" in capsys.readouterr().err
