"""``presales-sim run``: exit status, written tables and figures, the five functions."""

import json

import pandas as pd
import pytest

from models.runner import run_scenario
from models.scenario import load_scenario
from sim.eventlog import COLUMNS
from sim.eventlog_io import EVENT_KINDS, read_event_log

TABLES = ["events", "tickets", "opportunities", "board", "alerts", "budgets", "grabs"]

# A planted surge: one region whose demand jumps thirty-fold on 1 February
# (day 21), after three quiet weeks that fill the 14-day surge baseline.
SURGE = """\
regions = ["North"]
solutions = ["A"]

[scenario]
name = "surge"
start_date = 2027-01-11
horizon_days = 28
seed = 3

[[grades]]
name = "senior"
hourly_rate = 150.0

[[engineers.pools]]
region = "North"
grade = "senior"
count = 4
proficiency = { A = 5 }

[[reps.pools]]
region = "North"
count = 3
customer_type = "key_account"
quarterly_quota = 400000

[[demand.streams]]
region = "North"
solution = "A"
arrivals_per_month = [5, 150, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]
win_rate = 0.5
deal_value_mu = 8.0
deal_value_sigma = 0.5
cycle_days_mu = 3.0
cycle_days_sigma = 0.3
"""


@pytest.fixture(scope="module")
def small_run(repo_root, presales_sim, tmp_path_factory):
    """scenarios/small.toml run once by the installed command."""
    out = tmp_path_factory.mktemp("small")
    done = presales_sim(
        "run", repo_root / "scenarios" / "small.toml", "--out", out, "--quiet"
    )
    return done, out / "small"


def read(folder, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", keep_default_na=False, na_values=[""])


def test_run_exits_zero_and_prints_the_summary(small_run):
    done, _ = small_run
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for group in (
        "Direct dispatch",
        "User pays",
        "Visibility",
        "Real-time control",
        "Service grabbing",
    ):
        assert group in done.stdout
    assert "outputs in" in done.stdout


def test_run_writes_readable_tables_and_figures(small_run):
    _, folder = small_run
    for name in TABLES:
        assert (folder / f"{name}.csv").is_file(), name
    events = read(folder, "events")
    assert list(events.columns) == list(COLUMNS)
    assert set(events["kind"]) <= EVENT_KINDS
    assert events["time"].is_monotonic_increasing
    tickets = read(folder, "tickets")
    assert {"ticket", "engineer", "status", "delay_class", "cost_cents"} <= set(
        tickets.columns
    )
    assert len(tickets) == (events["kind"] == "ticket_raised").sum()
    assert (
        len(read(folder, "opportunities"))
        == (events["kind"] == "opportunity_created").sum()
    )
    board = read(folder, "board")
    assert {"day", "region", "solution", "utilisation", "status"} <= set(board.columns)
    assert len(board) == 60 * 2 * 2  # days x regions x solutions of small.toml
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["tickets"] == len(tickets)
    # The written log passes the strict reader with no row issues.
    _, issues = read_event_log(folder / "events.csv")
    assert issues == []
    figures = sorted((folder / "figures").glob("*.png"))
    assert len(figures) >= 3
    for png in figures:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png.name


def test_run_shows_the_five_functions(small_run):
    _, folder = small_run
    events = read(folder, "events")
    kinds = events["kind"].value_counts()
    # Direct dispatch: engineers booked on the schedule, by name.
    booked = events[events["kind"] == "ticket_booked"]
    assert len(booked) > 0 and (booked["engineer"] != "").all()
    assert set(booked["detail"]) <= {"direct", "coordinator", "batch", "grab"}
    # User pays: a budget per rep and quarter, every booking charged in cents.
    budgets = read(folder, "budgets")
    opened = events[events["kind"] == "budget_set"]
    assert len(opened) == len(budgets) > 0
    assert (opened["amount"] > 0).all()
    assert (booked["amount"] > 0).all()
    assert (
        budgets["taken_cents"] + budgets["left_cents"] == budgets["budget_cents"]
    ).all()
    # Visibility: every started ticket has its delay class and finished ones a
    # rating when they belong to an opportunity.
    tickets = read(folder, "tickets")
    done = tickets[tickets["status"] == "done"]
    assert done["delay_class"].isin(["on_time", "slight", "severe"]).all()
    assert done.loc[done["opportunity"] >= 0, "rating"].between(1, 5).all()
    # Service grabbing: one grab_posted event per grab order written.
    grabs = read(folder, "grabs")
    assert kinds.get("grab_posted", 0) == len(grabs)
    if len(grabs):
        posted = events[events["kind"] == "grab_posted"]
        assert set(posted["ticket"]) == set(grabs["ticket"])
    # Real-time control: one alert event per alert row.
    assert kinds.get("alert", 0) == len(read(folder, "alerts"))


def test_planted_surge_raises_volume_alerts_and_playbooks(tmp_path):
    # In process and without figures: the tables are the same as the command's.
    path = tmp_path / "surge.toml"
    path.write_text(SURGE)
    result = run_scenario(load_scenario(path))
    alerts = result.tables["alerts"]
    volume = alerts[alerts["signal"] == "volume"]
    assert len(volume) >= 1
    assert volume["day"].min() >= 21  # not before the jump
    assert volume["day"].min() <= 23  # and soon after it
    events = result.tables["events"]
    fired = events[(events["kind"] == "alert") & (events["detail"] == "volume")]
    assert len(fired) == len(volume)
    # A day's alert is raised when the day closes, at the next midnight: its
    # event is stamped at the start of the following day.
    assert sorted(fired["time"]) == [24.0 * (d + 1) for d in sorted(volume["day"])]
    applied = events[events["kind"] == "playbook_applied"]
    assert "volume_widen" in set(applied["detail"])
    quiet = alerts[alerts["day"] < 21]
    assert quiet.empty, "alerts before the planted surge"
