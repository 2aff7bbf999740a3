"""The figures a run writes: board, budget use, schedule, timeline, grab funnel."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)

from sim import figures  # noqa: E402

if TYPE_CHECKING:
    from models.runner import RunResult


def write_figures(result: RunResult, folder: Path) -> dict[str, Path]:
    """Draw the standard figures of a run into ``folder`` as PNG files."""
    folder.mkdir(parents=True, exist_ok=True)
    t = result.tables
    events, tickets, board = t["events"], t["tickets"], t["board"]
    drawn = {
        "board_heatmap": figures.board_heatmap(board, t["alerts"]),
        "daily_board": figures.daily_board_figure(board),
        "grab_funnel": figures.grab_funnel(events),
    }
    rep = _busiest_rep(t["budgets"])
    if rep:
        drawn["budget"] = figures.budget_figure(events, rep)
    done = tickets[tickets["status"] == "done"]
    if not done.empty:
        region = done["engineer_region"].mode().iloc[0]
        first_day = int(done["actual_start"].median() // 24)
        drawn["engineer_gantt"] = figures.engineer_gantt(tickets, region, first_day)
        opp = _richest_opportunity(tickets)
        if opp is not None:
            drawn["opportunity_timeline"] = figures.opportunity_timeline(tickets, opp)
    paths = {}
    for name, fig in drawn.items():
        paths[f"figure_{name}"] = figures.save(fig, folder / f"{name}.png")
        plt.close(fig)
    return paths


def _busiest_rep(budgets) -> str:
    if budgets.empty or budgets["unlimited"].all():
        return ""
    by_rep = budgets.groupby("rep")["taken_cents"].sum()
    return str(by_rep.idxmax())


def _richest_opportunity(tickets):
    own = tickets[tickets["opportunity"] >= 0]
    if own.empty:
        return None
    return int(own.groupby("opportunity").size().idxmax())
