"""Every figure is produced from a small hand-built log, without error, not empty."""

import matplotlib
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim import figures
from sim.board import daily_board
from sim.ledger import ticket_ledger
from sim.surge import SurgeRule, detect_surges

NORTH = dict(opportunity=10, rep="r1", region="N", solution="A", stage="value")
SOUTH = dict(opportunity=11, rep="r2", region="S", solution="B", stage="bid")


def ev(time, kind, ticket=-1, **fields):
    """One event row."""
    return dict(time=time, kind=kind, ticket=ticket, **fields)


def small_log():
    """Budgets, three served tickets (one grabbed), one unserved, one open."""
    rows = [
        ev(0, "budget_set", rep="r1", amount=100_000, value=0, detail="2027Q1"),
        ev(0, "budget_set", rep="r2", amount=50_000, value=0, detail="2027Q1"),
        ev(1, "ticket_raised", 1, hours=4, value=10, detail="demo", **NORTH),
        ev(2, "ticket_booked", 1, engineer="e1", amount=400, hours=4, value=10,
           detail="direct", **NORTH),
        ev(3, "ticket_raised", 2, hours=3, value=20, detail="poc", **NORTH),
        ev(4, "ticket_booked", 2, engineer="e2", amount=300, hours=3, value=28,
           detail="direct", **NORTH),
        ev(5, "ticket_raised", 3, hours=6, value=40, detail="bid", **SOUTH),
        ev(6, "grab_posted", 3, hours=6, value=0.5, detail="S|N", **SOUTH),
        ev(6.5, "grab_invited", 3, engineer="e1", **SOUTH),
        ev(6.5, "grab_invited", 3, engineer="e2", **SOUTH),
        ev(7, "grab_clarify", 3, engineer="e2", hours=0.5, **SOUTH),
        ev(8, "grab_grabbed", 3, engineer="e2", **SOUTH),
        ev(9, "grab_confirmed", 3, engineer="e2", **SOUTH),
        ev(9, "ticket_booked", 3, engineer="e2", amount=600, hours=6, value=40,
           detail="grab", **SOUTH),
        ev(10, "work_started", 1, engineer="e1", value=0.0, detail="on_time", **NORTH),
        ev(14, "work_finished", 1, engineer="e1", amount=400, hours=4, **NORTH),
        ev(15, "ticket_rated", 1, engineer="e1", value=5, **NORTH),
        ev(26, "ticket_raised", 4, hours=2, value=30, detail="demo", **SOUTH),
        ev(28, "ticket_unserved", 4, detail="budget", **SOUTH),
        ev(30, "work_started", 2, engineer="e2", value=2.0, detail="slight", **NORTH),
        ev(33, "work_finished", 2, engineer="e2", amount=300, hours=3, **NORTH),
        ev(40, "ticket_rated", 2, engineer="e2", value=2, **NORTH),
        ev(50, "work_started", 3, engineer="e2", value=10.0, detail="severe", **SOUTH),
        ev(56, "work_finished", 3, engineer="e2", amount=600, hours=6, **SOUTH),
        ev(57, "ticket_rated", 3, engineer="e2", value=4, **SOUTH),
        ev(58, "alert", day=2, region="S", solution="B", value=1, detail="delay"),
        ev(60, "ticket_raised", 5, hours=2, value=70, detail="demo", **NORTH),
        ev(61, "ticket_booked", 5, engineer="e1", amount=200, hours=2, value=70,
           detail="direct", **NORTH),
    ]
    return pd.DataFrame(rows).assign(seq=range(len(rows)))


def drawn(fig):
    """Count the data artists drawn on a figure's axes."""
    total = 0
    for ax in fig.axes:
        total += len(ax.patches) + len(ax.lines) + len(ax.collections)
        total += len(ax.images) + len(ax.texts)
    return total


def figure_cases():
    """Name and builder of every figure."""
    log = small_log()
    tickets = ticket_ledger(log)
    board = daily_board(log)
    return {
        "gantt": lambda: figures.engineer_gantt(tickets, "N", 0),
        "budget": lambda: figures.budget_figure(log, "r1"),
        "timeline": lambda: figures.opportunity_timeline(tickets, 11),
        "heatmap": lambda: figures.board_heatmap(board),
        "heatmap_log_alerts": lambda: figures.board_heatmap(board, log),
        "funnel": lambda: figures.grab_funnel(log),
        "daily": lambda: figures.daily_board_figure(board),
    }


@pytest.mark.parametrize("name", list(figure_cases()))
def test_every_figure_is_drawn_and_saved(tmp_path, name):
    fig = figure_cases()[name]()
    assert isinstance(fig, Figure) and fig.axes
    assert drawn(fig) > 0
    path = figures.save(fig, tmp_path / "png" / f"{name}.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gantt_has_one_row_per_engineer_and_a_bar_per_ticket():
    tickets = ticket_ledger(small_log())
    fig = figures.engineer_gantt(tickets, "N", 0)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["e1", "e2"]
    assert len(ax.patches) == 3  # tickets 1, 2 and the booked ticket 5
    colours = {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches}
    assert colours == {figures.DELAY_COLOURS[c] for c in ("on_time", "slight", "")}


def test_gantt_by_engineer_region_and_empty_week():
    tickets = ticket_ledger(small_log(), engineer_home={"e1": "S", "e2": "S"})
    south = figures.engineer_gantt(tickets, "S", 0).axes[0]
    assert len(south.patches) == 4
    empty = figures.engineer_gantt(tickets, "S", 30).axes[0]
    assert not empty.patches and empty.texts


def test_budget_figure_lines_and_empty_rep():
    fig = figures.budget_figure(small_log(), "r1")
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels[:4] == ["budget", "committed", "spent", "left"]
    assert figures.budget_figure(small_log(), "nobody").axes[0].texts


def test_heatmap_marks_alerts_from_surge_table():
    board = daily_board(small_log())
    alerts = detect_surges(board, ["region", "solution"], "volume",
                           rule=figures_rule(), signal="volume")
    assert len(alerts)
    fig = figures.board_heatmap(board, alerts)
    assert fig.axes[0].collections  # the alert markers
    assert fig.axes[0].images[0].get_array().shape == (4, 3)


def figures_rule():
    """A surge rule that fires on the tiny log (one-day window, loose alpha)."""
    return SurgeRule(window=1, alpha=0.5, min_count=1)


def test_grab_funnel_counts():
    counts = figures.grab_funnel_counts(small_log())
    assert list(counts.index) == ["posted", "invited", "clarified", "grabbed",
                                  "confirmed"]
    assert list(counts) == [1, 1, 1, 1, 1]


def test_timeline_of_unknown_opportunity_is_an_empty_note():
    tickets = ticket_ledger(small_log())
    fig = figures.opportunity_timeline(tickets, 999)
    assert fig.axes[0].texts
