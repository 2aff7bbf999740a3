"""The live control board: DataCollector tables, planted surges, alert links."""

import math

import numpy as np
import pandas as pd
import pytest

from models.control import ALERT_TABLE, BOARD_TABLE, ENGINEER_TABLE
from models.runner import run_scenario, write_outputs
from models.scenario import ScenarioError, load_scenario, scenario_from_dict
from sim.board import daily_board

COUNTS = ["volume", "started", "on_time", "slight", "severe", "ratings", "bad_ratings"]


@pytest.fixture(scope="module")
def planted(repo_root):
    """The planted-surge scenario."""
    return load_scenario(repo_root / "scenarios" / "surge_planted.toml")


@pytest.fixture(scope="module")
def run(planted):
    """One run of the planted scenario with every playbook."""
    return run_scenario(planted, 3)


def test_board_is_a_datacollector_table(run, planted):
    live = run.model.datacollector.get_table_dataframe("board")
    assert list(live.columns) == list(BOARD_TABLE)
    cells = len(planted.regions) * len(planted.solutions)
    assert len(live) == planted.scenario.horizon_days * cells
    pd.testing.assert_frame_equal(live, run.tables["board"], check_dtype=False)
    assert set(live["status"]) <= {"normal", "slight", "severe"}


def test_engineer_rows_only_for_active_engineers(run):
    eng = run.model.datacollector.get_table_dataframe("engineers")
    assert list(eng.columns) == list(ENGINEER_TABLE)
    active = (eng["volume"] + eng["started"] + eng["ratings"] > 0) | (
        eng["busy_hours"] > 0
    )
    assert active.all()
    assert len(eng) < run.model.horizon_days * len(run.model.engineers)
    # Per-engineer starts and ratings add up to the cells' on every day.
    board = run.tables["board"]
    for col in ["started", "slight", "severe", "ratings", "bad_ratings"]:
        per_day = eng.groupby("day")[col].sum()
        cells = board.groupby("day")[col].sum()
        assert (per_day.reindex(cells.index, fill_value=0) == cells).all(), col
    # Volume: tickets put on the engineer's schedule that day, booked directly
    # or locked by a grab (a lock the rep rejects counts, then is undone).
    events = run.tables["events"]
    kinds = events.groupby("engineer")["kind"]
    booked = kinds.apply(lambda k: int((k == "ticket_booked").sum()))
    rejected = kinds.apply(lambda k: int((k == "grab_rejected").sum()))
    volume = eng.groupby("engineer")["volume"].sum()
    booked = booked.reindex(volume.index, fill_value=0)
    rejected = rejected.reindex(volume.index, fill_value=0)
    assert (booked <= volume).all() and (volume <= booked + rejected).all()
    assert (eng["utilisation"].dropna().between(0, 1 + 1e-9)).all()


def test_live_board_counts_match_the_board_from_the_log(run):
    live = run.tables["board"].set_index(["day", "region", "solution"])
    from_log = daily_board(run.tables["events"]).set_index(
        ["day", "region", "solution"]
    )
    joined = live[COUNTS].merge(
        from_log[COUNTS], left_index=True, right_index=True, suffixes=("", "_log")
    )
    assert len(joined) == len(live)
    for col in COUNTS:
        assert (joined[col] == joined[f"{col}_log"]).all(), col


def test_every_playbook_names_the_alert_that_triggered_it(run):
    alerts = run.tables["alerts"]
    assert list(alerts.columns) == list(ALERT_TABLE)
    events = run.tables["events"]
    applied = events[events["kind"] == "playbook_applied"]
    assert len(applied) == (alerts["playbook"] != "").sum() > 0
    by_id = alerts.set_index("alert")
    for row in applied.itertuples():
        alert = by_id.loc[int(row.value)]
        assert (alert["region"], alert["solution"]) == (row.region, row.solution)
        assert alert["playbook"] == row.detail
        # Stamped at the tested day's close: midnight, the first day in force.
        assert row.day == alert["day"] + 1 and row.time == row.day * 24.0
        assert alert["in_force_until"] == alert["day"] + 5
    logged = events[events["kind"] == "alert"]
    assert list(logged["detail"]) == list(alerts["signal"])
    assert (alerts["p_value"] <= 0.01).all()


def test_absent_engineers_do_no_work_and_are_not_available(run, planted):
    absence = planted.engineers.absences[0]
    days = range(absence.start_day, absence.start_day + absence.days)
    away = sorted(run.model.absences)
    assert len(away) == absence.count
    assert all(run.model.engineers[e].region == absence.region for e in away)
    events = run.tables["events"]
    worked = events[(events["kind"] == "work_started") & events["day"].isin(days)]
    assert not set(worked["engineer"]) & set(away)
    board = run.tables["board"]
    south = board[(board["region"] == absence.region) & board["day"].isin(days)]
    working = south[south["available_hours"] > 0]
    # Two of eight engineers are left: 2 x 8 hours on a working day.
    assert set(working["available_hours"]) == {16.0}


def test_planted_volume_surge_multiplies_arrivals(run, planted):
    surge = planted.demand.surges[0]
    events = run.tables["events"]
    opened = events[
        (events["kind"] == "opportunity_created")
        & (events["region"] == surge.region)
        & (events["solution"] == surge.solution)
    ]
    inside = opened["day"].between(surge.start_day, surge.start_day + surge.days - 1)
    before = opened["day"].between(surge.start_day - 14, surge.start_day - 1)
    ratio = (inside.sum() / surge.days) / (before.sum() / 14)
    assert 2.0 < ratio < 4.5


def test_planted_quality_drop_lowers_ratings(planted):
    drop = planted.service.quality_drops[0]
    base = planted.model_copy(deep=True)
    base.control.playbooks = []
    flat = base.model_copy(deep=True)
    flat.service.quality_drops = []
    means = []
    for s in (base, flat):
        t = run_scenario(s, 5).tables["tickets"]
        cell = t[
            (t["region"] == drop.region)
            & (t["solution"] == drop.solution)
            & t["actual_start"].between(
                drop.start_day * 24, (drop.start_day + drop.days) * 24
            )
        ]
        means.append(cell["rating"].mean())
    # Demand has its own stream, so both runs see the same tickets; the drop
    # of 2 points moves the mean by about that much (ratings are clipped at 1).
    assert 1.2 < means[1] - means[0] < 2.2


def test_defaults_plant_nothing(repo_root):
    s = load_scenario(repo_root / "scenarios" / "small.toml")
    assert s.demand.surges == [] and s.engineers.absences == []
    assert s.service.quality_drops == [] and s.demand.random_stream == "own"


def test_planted_tables_are_checked(planted):
    raw = planted.model_dump(mode="json")
    raw["demand"]["surges"][0]["region"] = "Atlantis"
    raw["engineers"]["absences"][0]["count"] = 99
    raw["service"]["quality_drops"][0]["solution"] = "Z"
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(raw)
    text = str(err.value)
    assert "demand.surges[0].region: 'Atlantis' is not a region" in text
    assert "engineers.absences[0].count: 99 absent but only 8" in text
    assert "service.quality_drops[0].solution: 'Z' is not a solution" in text


def test_a_short_run_writes_ledgers_and_every_figure(planted, tmp_path):
    import matplotlib.image as mpimg

    short = planted.model_copy(deep=True)
    short.scenario.horizon_days = 21
    written = write_outputs(run_scenario(short, 1), tmp_path)
    figures = {n: p for n, p in written.items() if n.startswith("figure_")}
    assert {n.removeprefix("figure_") for n in figures} == {
        "board_heatmap",
        "daily_board",
        "grab_funnel",
        "budget",
        "engineer_gantt",
        "opportunity_timeline",
    }
    for path in figures.values():
        image = mpimg.imread(path)
        assert image.shape[0] > 100 and image.shape[1] > 100
        assert float(np.std(image[..., :3])) > 0.01, path.name
    ledger = pd.read_csv(written["ledger_tickets"])
    tickets = pd.read_csv(written["tickets"])
    assert list(ledger["ticket"]) == list(tickets["ticket"])
    assert (ledger["status"].replace("open", "") == tickets["status"].fillna("")).all()
    hours = pd.read_csv(written["hours_by_engineer_stage"], index_col=0)
    done = tickets[tickets["status"] == "done"]
    assert math.isclose(hours["total"].sum(), done["hours"].sum())
    engineers = pd.read_csv(written["engineers_board"])
    assert list(engineers.columns) == list(ENGINEER_TABLE) and len(engineers)
