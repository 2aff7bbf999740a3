"""``presales-sim board``: the control board, ledgers and alerts of an event log.

The log may be a simulated run's ``events.csv`` or a company's own work-order
history written in the schema of ``docs/event_log.md``. The same ``sim`` code
that reads a simulated run computes:

* ``board.csv``: the daily board per region x solution (``sim.board``);
* ``engineers_board.csv``: the daily board per engineer;
* ``alerts.csv``: surges of volume, delays and bad ratings
  (``sim.surge.detect_surges``) with the playbook that would answer each;
* ``ledger_tickets.csv`` and ``hours_by_engineer_stage.csv`` (``sim.ledger``);
* ``opportunities/opportunity_<id>.csv``, one ledger per opportunity, or with
  ``--opportunity N`` only that one (also printed);
* ``rows_report.csv``: every row left out, with its row number and reason;
* ``figures/*.png``: board heatmap, daily board, grab funnel, budget use,
  engineer week, opportunity timeline.

With ``--scenario FILE`` the surge rule, each engineer's home region and the
engineers' available hours (so utilisation) come from that scenario;
otherwise the default rule of ``sim.surge.SurgeRule`` (window 14 days, alpha
0.01, at least 3 events) is used and utilisation is left empty.

:func:`add_board` also gives ``presales-sim run`` an ``--opportunity N`` option
that prints that opportunity's ledger after the run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.board import daily_board, engineer_board
from sim.eventlog_io import EventLogError, RowIssue, read_event_log
from sim.ledger import (
    OPPORTUNITY_LEDGER_COLUMNS,
    hours_by_engineer_stage,
    opportunity_ledger,
    ticket_ledger,
)
from sim.surge import SurgeRule, detect_surges

PLAYBOOK_FOR = {
    "delay": "delay_grab",
    "volume": "volume_widen",
    "rating": "rating_upgrade",
}
ALERT_COLUMNS = [
    "alert",
    "day",
    "region",
    "solution",
    "signal",
    "count",
    "baseline_rate",
    "p_value",
    "playbook",
]


def add_board(sub) -> None:
    """Register ``board`` and the ``run --opportunity`` option."""
    board = sub.add_parser(
        "board",
        help="board, ledgers and alerts of an event log (simulated or real)",
        description="Compute the control board, ledgers, alerts and figures of "
        "an event-log CSV (a simulated run's events.csv or your own work-order "
        "history in the schema of docs/event_log.md). Rows that do not fit are "
        "listed with their number and reason in rows_report.csv.",
    )
    board.add_argument("events", type=Path, help="event-log CSV file")
    board.add_argument("--out", type=Path, default=Path("out/board"), help="folder")
    board.add_argument(
        "--scenario",
        type=Path,
        default=None,
        help="take the surge rule, home regions and availability from here",
    )
    board.add_argument(
        "--opportunity",
        type=int,
        default=None,
        help="write (and print) only this opportunity's ledger",
    )
    board.add_argument("--no-figures", action="store_true", help="skip the figures")
    board.set_defaults(handler=_cmd_board)
    run = sub.choices.get("run")
    if run is not None:
        run.add_argument(
            "--opportunity",
            type=int,
            default=None,
            help="also print this opportunity's ledger",
        )
        plain = run.get_default("handler")
        run.set_defaults(handler=lambda args: _run_then_ledger(args, plain))


def _run_then_ledger(args, plain) -> int:
    """Run as usual, then print one opportunity's ledger from its event log."""
    status = plain(args)
    if status or args.opportunity is None:
        return status
    from models.scenario import load_scenario

    name = load_scenario(args.scenario).scenario.name
    events = pd.read_csv(args.out / name / "events.csv")
    _print_ledger(opportunity_ledger(events, args.opportunity), args.opportunity)
    return 0


def _print_ledger(ledger: pd.DataFrame, opportunity: int) -> None:
    """Print an opportunity ledger, or say it has no tickets."""
    if ledger.empty:
        print(f"\nopportunity {opportunity}: no tickets in the log")
        return
    print(f"\nopportunity {opportunity}: {len(ledger)} ticket(s)")
    shown = ledger.drop(columns=["raised_at", "booked_start", "finished_at"])
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.1f}"))


def _cmd_board(args) -> int:
    from models.cli import UsageError

    try:
        events, issues = read_event_log(args.events)
    except EventLogError as exc:
        raise UsageError(str(exc)) from None
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_rows_report(issues, out / "rows_report.csv")
    rejected = len({i.row for i in issues if i.row > 1})
    if events.empty:
        raise UsageError(
            f"event log '{args.events}': no usable rows ({rejected} rejected, see "
            f"{out / 'rows_report.csv'}); fix the rows listed there"
        )
    rule, home, availability = SurgeRule(), None, None
    if args.scenario is not None:
        rule, home, availability = _from_scenario(args.scenario, events)
    counts = write_board_outputs(
        events, out, rule, home, args.opportunity, availability
    )
    if not args.no_figures:
        alerts = pd.read_csv(out / "alerts.csv")
        drawn = write_log_figures(events, out / "figures", alerts)
        counts["figures"] = len(drawn)
    print(
        f"{args.events}: {len(events)} rows used, {rejected} rejected (rows_report.csv)"
    )
    for name, value in counts.items():
        print(f"  {name:<24} {value}")
    if args.opportunity is not None:
        ledger = pd.read_csv(out / f"opportunity_{args.opportunity}.csv")
        _print_ledger(ledger, args.opportunity)
    print(f"outputs in {out}/")
    return 0


def write_rows_report(issues: list[RowIssue], path: Path) -> Path:
    """Write every row issue as ``row, column, reason``."""
    frame = pd.DataFrame(
        [(i.row, i.column, i.reason) for i in issues],
        columns=["row", "column", "reason"],
    )
    frame.to_csv(path, index=False)
    return path


def _from_scenario(
    path: Path, events: pd.DataFrame
) -> tuple[SurgeRule, dict[str, str], pd.DataFrame]:
    """Surge rule, engineers' home regions and availability from a scenario."""
    from models.presales_model import PresalesModel
    from models.scenario import load_scenario

    s = load_scenario(path)
    _warn_mismatch(path, s, events)
    c = s.control
    rule = SurgeRule(window=c.window_days, alpha=c.alpha, min_count=c.min_count)
    model = PresalesModel(s)
    home = {name: e.region for name, e in model.engineers.items()}
    days = range(int(events["day"].min()), int(events["day"].max()) + 1)
    return rule, home, availability(model, days)


def _warn_mismatch(path: Path, scenario, events: pd.DataFrame) -> None:
    """Say so when the log's regions or solutions are not the scenario's."""
    for column, known in (("region", scenario.regions),
                          ("solution", scenario.solutions)):
        seen = {v for v in events[column].dropna().unique() if v != ""}
        stray = sorted(seen - set(known))
        if stray:
            print(f"warning: {column}s {', '.join(stray)} of the log are not in "
                  f"--scenario {path}; its availability and home regions do not "
                  "cover them (is it the right scenario?)", file=sys.stderr)


def availability(model, days) -> pd.DataFrame:
    """Available working hours per day x region x solution of a model's engineers.

    An engineer counts in every solution they cover, in their home region, for
    the working hours of each day less any planted absence (as on the live
    board).

    Args:
        model: A :class:`models.presales_model.PresalesModel` (not run).
        days: Day indices.

    Returns:
        ``day, region, solution, available_hours`` rows.
    """
    cal = model.calendar
    rows = []
    for day in days:
        w0, w1 = cal.worked(day * 24.0), cal.worked((day + 1) * 24.0)
        for name, e in model.engineers.items():
            away = sum(
                max(0.0, min(w1, b) - max(w0, a))
                for a, b in model.absences.get(name, ())
            )
            for solution in e.proficiency:
                rows.append((day, e.region, solution, (w1 - w0) - away))
    columns = ["day", "region", "solution", "available_hours"]
    table = pd.DataFrame(rows, columns=columns)
    return table.groupby(columns[:3], as_index=False)["available_hours"].sum()


def log_alerts(board: pd.DataFrame, rule: SurgeRule) -> pd.DataFrame:
    """Volume, delay and bad-rating surges of a daily board.

    Args:
        board: The board of :func:`sim.board.daily_board`.
        rule: The surge rule.

    Returns:
        One row per alert with an ``alert`` id (order by day, then signal) and
        the playbook that answers its signal.
    """
    table = board.assign(delays=board["slight"] + board["severe"])
    found = [
        detect_surges(
            table, ["region", "solution"], "volume", None, rule, signal="volume"
        ),
        detect_surges(
            table, ["region", "solution"], "delays", "started", rule, signal="delay"
        ),
        detect_surges(
            table,
            ["region", "solution"],
            "bad_ratings",
            "ratings",
            rule,
            signal="rating",
        ),
    ]
    alerts = pd.concat([f for f in found if len(f)] or [found[0]], ignore_index=True)
    alerts = alerts.sort_values(["day", "signal", "region", "solution"], kind="stable")
    alerts = alerts.reset_index(drop=True)
    alerts["alert"] = range(len(alerts))
    alerts["playbook"] = alerts["signal"].map(PLAYBOOK_FOR).fillna("")
    return alerts[ALERT_COLUMNS]


def write_board_outputs(
    events: pd.DataFrame,
    out: Path,
    rule: SurgeRule | None = None,
    engineer_home: dict[str, str] | None = None,
    opportunity: int | None = None,
    availability: pd.DataFrame | None = None,
) -> dict[str, int]:
    """Write board, engineer board, alerts and ledgers of an event table.

    Args:
        events: A normalised event table.
        out: Destination folder.
        rule: The surge rule (default :class:`sim.surge.SurgeRule`).
        engineer_home: Engineer to home region, for utilisation and ledgers.
        opportunity: Write only this opportunity's ledger (as
            ``opportunity_<id>.csv``); None writes one file per opportunity
            into ``opportunities/``.
        availability: Optional ``day, region, solution, available_hours``
            table for utilisation (without it utilisation is empty).

    Returns:
        Row counts of what was written, by name.
    """
    board = daily_board(events, availability=availability, engineer_home=engineer_home)
    board.to_csv(out / "board.csv", index=False)
    engineers = engineer_board(events)
    engineers.to_csv(out / "engineers_board.csv", index=False)
    alerts = log_alerts(board, rule or SurgeRule())
    alerts.to_csv(out / "alerts.csv", index=False)
    tickets = ticket_ledger(events, engineer_home)
    tickets.to_csv(out / "ledger_tickets.csv", index=False)
    hours = hours_by_engineer_stage(events)
    hours.to_csv(out / "hours_by_engineer_stage.csv")
    counts = {
        "board rows": len(board),
        "engineer board rows": len(engineers),
        "tickets": len(tickets),
    }
    for signal in PLAYBOOK_FOR:
        counts[f"{signal} alerts"] = int((alerts["signal"] == signal).sum())
    if opportunity is not None:
        ledger = opportunity_ledger(events, opportunity)
        ledger.to_csv(out / f"opportunity_{opportunity}.csv", index=False)
        counts["opportunity ledger rows"] = len(ledger)
    else:
        counts["opportunity ledgers"] = write_opportunity_ledgers(
            tickets, out / "opportunities"
        )
    return counts


def opportunity_ledgers(tickets: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """Every opportunity's ledger from one ticket ledger.

    Gives, for each opportunity, the same table as
    :func:`sim.ledger.opportunity_ledger`, without rebuilding the ticket ledger
    once per opportunity.
    """
    own = tickets[tickets["opportunity"] >= 0].copy()
    own["hours"] = own["worked_hours"].fillna(own["hours"])
    own = own.sort_values(["opportunity", "raised_at", "ticket"], kind="stable")
    return {
        int(opp): group[list(OPPORTUNITY_LEDGER_COLUMNS)].reset_index(drop=True)
        for opp, group in own.groupby("opportunity", sort=True)
    }


def write_opportunity_ledgers(tickets: pd.DataFrame, folder: Path) -> int:
    """Write ``opportunity_<id>.csv`` per opportunity; return how many."""
    folder.mkdir(parents=True, exist_ok=True)
    ledgers = opportunity_ledgers(tickets)
    for opp, ledger in ledgers.items():
        ledger.to_csv(folder / f"opportunity_{opp}.csv", index=False)
    return len(ledgers)


def write_log_figures(
    events: pd.DataFrame, folder: Path, alerts: pd.DataFrame | None = None
) -> dict[str, Path]:
    """Draw the run figures from an event log alone.

    The heatmap marks ``alerts`` (default: none). The rep shown is the one
    with the most money booked, the engineers' week is the busiest region's
    around the median start, and the opportunity is the one with the most
    tickets.
    """
    import matplotlib

    matplotlib.use("Agg")
    from sim import figures

    board = daily_board(events)
    tickets = ticket_ledger(events)
    drawn = {
        "board_heatmap": figures.board_heatmap(board, alerts),
        "daily_board": figures.daily_board_figure(board),
        "grab_funnel": figures.grab_funnel(events),
    }
    booked = events[(events["kind"] == "ticket_booked") & (events["rep"] != "")]
    if len(booked):
        rep = booked.groupby("rep")["amount"].sum().idxmax()
        drawn["budget"] = figures.budget_figure(events, str(rep))
    started = tickets[tickets["actual_start"].notna()]
    if len(started):
        region = started["region"].mode().iloc[0]
        first_day = int(started["actual_start"].median() // 24)
        drawn["engineer_gantt"] = figures.engineer_gantt(tickets, region, first_day)
    own = tickets[tickets["opportunity"] >= 0]
    if len(own):
        opp = int(own.groupby("opportunity").size().idxmax())
        drawn["opportunity_timeline"] = figures.opportunity_timeline(tickets, opp)
    return {
        name: figures.save(fig, folder / f"{name}.png") for name, fig in drawn.items()
    }
