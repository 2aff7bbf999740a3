"""``presales-sim board`` on a simulated log, on a messy log and on bad files."""

import csv

import numpy as np
import pandas as pd
import pytest

from models.cli import main
from models.cli_board import opportunity_ledgers
from models.runner import run_scenario
from models.scenario import load_scenario
from sim.eventlog_io import write_event_log
from sim.ledger import opportunity_ledger, ticket_ledger

COUNTS = ["volume", "started", "on_time", "slight", "severe", "ratings", "bad_ratings"]
KEY = ["day", "region", "solution"]


@pytest.fixture(scope="module")
def simulated(repo_root, tmp_path_factory):
    """A 56-day run of the planted scenario and its event log on disk."""
    s = load_scenario(repo_root / "scenarios" / "surge_planted.toml")
    s.scenario.horizon_days = 56
    result = run_scenario(s, 4)
    path = write_event_log(
        result.tables["events"], tmp_path_factory.mktemp("sim") / "events.csv"
    )
    return result, path


@pytest.fixture(scope="module")
def board_out(simulated, tmp_path_factory):
    """Outputs of ``presales-sim board`` on the simulated log."""
    _, path = simulated
    out = tmp_path_factory.mktemp("board")
    assert main(["board", str(path), "--out", str(out)]) == 0
    return out


def test_board_of_a_simulated_log_matches_the_live_board(simulated, board_out):
    result, _ = simulated
    board = pd.read_csv(board_out / "board.csv").set_index(KEY)
    live = result.tables["board"].set_index(KEY)
    assert len(board) == len(live)
    joined = live[COUNTS].merge(
        board[COUNTS], left_index=True, right_index=True, suffixes=("", "_log")
    )
    for col in COUNTS:
        assert (joined[col] == joined[f"{col}_log"]).all(), col
    engineers = pd.read_csv(board_out / "engineers_board.csv")
    assert engineers["started"].sum() == live["started"].sum()
    report = pd.read_csv(board_out / "rows_report.csv")
    assert list(report.columns) == ["row", "column", "reason"] and report.empty


def test_alerts_of_the_log_are_the_live_alerts(simulated, board_out):
    result, _ = simulated
    from_log = pd.read_csv(board_out / "alerts.csv")
    live = result.tables["alerts"]

    def as_set(t):
        return set(zip(t["day"], t["region"], t["solution"], t["signal"], strict=True))

    assert as_set(from_log) == as_set(live) and len(live) > 0
    assert list(from_log["alert"]) == list(range(len(from_log)))
    expected = {
        "volume": "volume_widen",
        "delay": "delay_grab",
        "rating": "rating_upgrade",
    }
    assert (from_log["playbook"] == from_log["signal"].map(expected)).all()


def test_ledgers_of_the_log(simulated, board_out):
    result, _ = simulated
    tickets = pd.read_csv(board_out / "ledger_tickets.csv")
    assert list(tickets["ticket"]) == list(result.tables["tickets"]["ticket"])
    files = sorted((board_out / "opportunities").glob("opportunity_*.csv"))
    with_tickets = result.tables["tickets"].query("opportunity >= 0")["opportunity"]
    assert len(files) == with_tickets.nunique()
    opp = int(with_tickets.value_counts().index[0])
    written = pd.read_csv(board_out / "opportunities" / f"opportunity_{opp}.csv")
    expected = opportunity_ledger(result.tables["events"], opp)
    assert list(written["ticket"]) == list(expected["ticket"])
    assert np.allclose(written["hours"], expected["hours"])
    hours = pd.read_csv(board_out / "hours_by_engineer_stage.csv", index_col=0)
    done = result.tables["tickets"].query("status == 'done'")
    assert np.isclose(hours["total"].sum(), done["hours"].sum())


def test_every_log_figure_is_drawn_and_not_blank(board_out):
    import matplotlib.image as mpimg

    names = {p.stem for p in (board_out / "figures").glob("*.png")}
    assert names == {
        "board_heatmap",
        "daily_board",
        "grab_funnel",
        "budget",
        "engineer_gantt",
        "opportunity_timeline",
    }
    for path in (board_out / "figures").glob("*.png"):
        image = mpimg.imread(path)
        assert float(np.std(image[..., :3])) > 0.01, path.name


def test_grouped_opportunity_ledgers_equal_the_one_by_one_ledger(simulated):
    result, _ = simulated
    events = result.tables["events"]
    ledgers = opportunity_ledgers(ticket_ledger(events))
    for opp in list(ledgers)[:5]:
        pd.testing.assert_frame_equal(ledgers[opp], opportunity_ledger(events, opp))


def test_one_opportunity_is_written_and_printed(simulated, tmp_path, capsys):
    result, path = simulated
    opp = int(result.tables["tickets"]["opportunity"].max())
    code = main(
        [
            "board",
            str(path),
            "--out",
            str(tmp_path),
            "--opportunity",
            str(opp),
            "--no-figures",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert f"opportunity {opp}:" in text and "0 rejected" in text
    written = pd.read_csv(tmp_path / f"opportunity_{opp}.csv")
    assert len(written) == (result.tables["tickets"]["opportunity"] == opp).sum()
    assert not (tmp_path / "opportunities").exists()


def test_messy_log_rows_are_reported_by_number_and_reason(simulated, tmp_path, capsys):
    _, path = simulated
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}
    body = rows[1:]
    bad = {}  # file row number (header = 1) -> column at fault

    def spoil(index, column, value):
        body[index][col[column]] = value
        bad[index + 2] = column

    spoil(10, "time", "yesterday")
    spoil(20, "kind", "teleport")
    rated = next(i for i, r in enumerate(body) if r[col["kind"]] == "ticket_rated")
    spoil(rated, "value", "9")
    started = next(
        i for i, r in enumerate(body) if r[col["kind"]] == "work_started" and i > 30
    )
    spoil(started, "detail", "late-ish")
    body[40] = body[40][:5]
    bad[42] = ""
    messy = tmp_path / "messy.csv"
    with messy.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*header, "note"])
        writer.writerows(r + ["x"] if i != 40 else r for i, r in enumerate(body))
    out = tmp_path / "out"
    assert main(["board", str(messy), "--out", str(out), "--no-figures"]) == 0
    report = pd.read_csv(out / "rows_report.csv", keep_default_na=False)
    assert "note" in set(report.loc[report["row"] == 1, "column"])
    listed = report[report["row"] > 1]
    assert set(listed["row"]) == set(bad)
    for row, column in bad.items():
        assert column in set(listed.loc[listed["row"] == row, "column"])
    assert (listed["reason"].str.len() > 5).all()
    text = capsys.readouterr().out
    assert f"{len(body) - len(bad)} rows used, {len(bad)} rejected" in text
    board = pd.read_csv(out / "board.csv")
    assert board["volume"].sum() > 0


def test_unusable_files_exit_2_with_the_column_and_fix(tmp_path, presales_sim):
    no_kind = tmp_path / "no_kind.csv"
    no_kind.write_text("time,ticket,region\n1.0,0,North\n")
    done = presales_sim("board", no_kind, "--out", tmp_path / "o")
    assert done.returncode == 2
    assert "no_kind.csv" in done.stderr and "'kind'" in done.stderr
    assert "add a 'kind' column" in done.stderr
    assert "Traceback" not in done.stderr
    assert (
        main(["board", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o")])
        == 2
    )
    only_bad = tmp_path / "only_bad.csv"
    only_bad.write_text("time,kind,ticket\nsoon,ticket_raised,1\n")
    assert main(["board", str(only_bad), "--out", str(tmp_path / "o")]) == 2
    assert (tmp_path / "o" / "rows_report.csv").exists()


def test_run_prints_an_opportunity_ledger(repo_root, tmp_path, capsys):
    scenario = repo_root / "scenarios" / "small.toml"
    code = main(
        [
            "run",
            str(scenario),
            "--days",
            "20",
            "--quiet",
            "--out",
            str(tmp_path),
            "--opportunity",
            "0",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "opportunity 0:" in text and "delay_class" in text
    assert (tmp_path / "small" / "ledger_tickets.csv").exists()
    assert (tmp_path / "small" / "hours_by_engineer_stage.csv").exists()


def test_scenario_gives_the_rule_and_availability(simulated, repo_root, tmp_path):
    result, path = simulated
    scenario = repo_root / "scenarios" / "surge_planted.toml"
    code = main(
        [
            "board",
            str(path),
            "--out",
            str(tmp_path),
            "--scenario",
            str(scenario),
            "--opportunity",
            "0",
            "--no-figures",
        ]
    )
    assert code == 0
    board = pd.read_csv(tmp_path / "board.csv").set_index(KEY)
    live = result.tables["board"].set_index(KEY)
    # The same available hours as the live board, absences included.
    assert np.allclose(board["available_hours"], live["available_hours"])
    assert board["utilisation"].notna().any()
    ledger = pd.read_csv(tmp_path / "ledger_tickets.csv", keep_default_na=False)
    assert (ledger.loc[ledger["engineer"] != "", "engineer_region"] != "").all()


def test_a_scenario_that_does_not_match_the_log_is_warned_about(
    simulated, repo_root, tmp_path, capsys
):
    _, path = simulated
    other = repo_root / "scenarios" / "crm_calibrated.toml"
    args = ["board", str(path), "--out", str(tmp_path), "--scenario", str(other)]
    assert main([*args, "--no-figures"]) == 0
    err = capsys.readouterr().err
    assert "regions North, South of the log are not in --scenario" in err


def test_a_matching_scenario_gives_no_warning(simulated, repo_root, tmp_path, capsys):
    _, path = simulated
    same = repo_root / "scenarios" / "surge_planted.toml"
    args = ["board", str(path), "--out", str(tmp_path), "--scenario", str(same)]
    assert main([*args, "--no-figures"]) == 0
    assert "warning" not in capsys.readouterr().err
