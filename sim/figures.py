"""Figures for schedules, money, opportunities and the control board.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot,
so no screen and no global figure state are involved; :func:`save` writes one to
PNG with the Agg renderer. Times on the x axes are in days since the scenario
start (calendar hours / 24). Inputs are the tables of ``docs/event_log.md``: the
event log, the tickets table (``tickets.csv`` or :func:`sim.ledger.ticket_ledger`)
and the board (:func:`sim.board.daily_board`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.eventlog_io import normalise_events
from sim.ledger import budget_track

DELAY_COLOURS: dict[str, str] = {
    "on_time": "#2e7d32", "slight": "#f9a825", "severe": "#c62828", "": "#9e9e9e",
}
STATUS_COLOURS: tuple[str, ...] = ("#a5d6a7", "#ffcc80", "#ef9a9a")
STATUS_CODES: dict[str, int] = {"normal": 0, "slight": 1, "severe": 2}
ALERT_MARKERS: dict[str, str] = {"delay": "v", "volume": "^", "rating": "*"}
FUNNEL_STAGES: tuple[tuple[str, str], ...] = (
    ("posted", "grab_posted"), ("invited", "grab_invited"),
    ("clarified", "grab_clarify"), ("grabbed", "grab_grabbed"),
    ("confirmed", "grab_confirmed"),
)


def save(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Write a figure as PNG.

    Args:
        fig: The figure.
        path: Destination; parent folders are created.
        dpi: Resolution.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi, format="png")
    return path


def _figure(rows: int = 1, height: float = 4.0) -> tuple[Figure, list[Axes]]:
    """A figure with ``rows`` stacked axes sharing x."""
    fig = Figure(figsize=(10, height * rows), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def _note(ax: Axes, text: str) -> None:
    """Write a centred note on an otherwise empty axes."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def _delay_legend(ax: Axes) -> None:
    """Legend of delay-class colours."""
    labels = {"on_time": "on time", "slight": "slight delay",
              "severe": "severe delay", "": "booked / not started"}
    handles = [Patch(color=DELAY_COLOURS[k], label=v) for k, v in labels.items()]
    ax.legend(handles=handles, loc="upper right", fontsize="small")


def _work_spans(tickets: pd.DataFrame) -> pd.DataFrame:
    """Tickets with start and end in calendar hours (booked when not started)."""
    out = tickets.copy()
    out["start"] = out["actual_start"].fillna(out["booked_start"])
    planned = out["start"] + out["hours"].fillna(0.0)
    out["end"] = out["finished_at"].fillna(planned)
    out["delay_class"] = out["delay_class"].fillna("").astype(str)
    out.loc[out["actual_start"].isna(), "delay_class"] = ""
    return out


def engineer_gantt(
    tickets_df: pd.DataFrame, region: str, week_start_day: int, days: int = 7
) -> Figure:
    """Week schedule of a region's engineers, one row per engineer.

    An engineer belongs to the region by ``engineer_region`` where that is known
    and by the ticket's ``region`` otherwise. Bars run from the actual start (the
    booked start before work starts) to the finish (start plus hours before it
    finishes), coloured by delay class, grey while not started.

    Args:
        tickets_df: The tickets table.
        region: The region.
        week_start_day: First day shown.
        days: Days shown.

    Returns:
        The figure.
    """
    fig, (ax,) = _figure()
    spans = _work_spans(tickets_df[tickets_df["engineer"].fillna("") != ""])
    home = spans.get("engineer_region", pd.Series("", index=spans.index))
    home = home.fillna("").astype(str)
    spans = spans[home.where(home != "", spans["region"]) == region]
    lo, hi = week_start_day * 24.0, (week_start_day + days) * 24.0
    spans = spans[(spans["start"] < hi) & (spans["end"] > lo)]
    engineers = sorted(spans["engineer"].unique())
    for row, engineer in enumerate(engineers):
        mine = spans[spans["engineer"] == engineer]
        ax.barh(row, (mine["end"] - mine["start"]) / 24.0, left=mine["start"] / 24.0,
                color=[DELAY_COLOURS.get(c, "#9e9e9e") for c in mine["delay_class"]],
                edgecolor="black", linewidth=0.5, height=0.6)
    ax.set_yticks(range(len(engineers)), engineers)
    ax.set_xlim(week_start_day, week_start_day + days)
    ax.set_xlabel("day")
    ax.set_title(f"Engineers of {region}, days {week_start_day}-"
                 f"{week_start_day + days - 1}")
    if engineers:
        _delay_legend(ax)
    else:
        _note(ax, "no booked work in this week")
    return fig


def budget_figure(events_df: pd.DataFrame, rep: str) -> Figure:
    """A rep's budget, committed, spent and left over time.

    Semantics are those of :func:`sim.ledger.budget_track`.

    Args:
        events_df: The event log.
        rep: The rep id.

    Returns:
        The figure (amounts in currency units, i.e. cents / 100).
    """
    fig, (ax,) = _figure()
    track = budget_track(events_df, rep)
    ax.set_title(f"Presales budget of {rep}")
    ax.set_xlabel("day")
    ax.set_ylabel("amount")
    if track.empty:
        _note(ax, "no budget or booking events for this rep")
        return fig
    days = track["time"] / 24.0
    for column in ("budget", "committed", "spent", "left"):
        ax.step(days, track[column] / 100.0, where="post", label=column)
    for row in track[track["kind"] == "budget_set"].itertuples():
        ax.axvline(row.time / 24.0, color="grey", linestyle=":", linewidth=0.8)
    ax.legend(loc="best", fontsize="small")
    return fig


def opportunity_timeline(tickets_df: pd.DataFrame, opportunity: int) -> Figure:
    """One opportunity's tickets by stage, with delays and ratings.

    Each ticket is a bar from its start to its finish coloured by delay class; a
    black tick marks the requested start and a dotted line joins it to a late
    start; the engineer and rating are written at the bar's end; an unserved
    ticket is a cross at the time it was raised.

    Args:
        tickets_df: The tickets table.
        opportunity: The opportunity id.

    Returns:
        The figure.
    """
    fig, (ax,) = _figure()
    ax.set_title(f"Opportunity {opportunity}: presales work by stage")
    ax.set_xlabel("day")
    mine = tickets_df[tickets_df["opportunity"] == opportunity]
    if mine.empty:
        _note(ax, "no tickets for this opportunity")
        return fig
    spans = _work_spans(mine.sort_values(["raised_at", "ticket"], kind="stable"))
    stages = list(dict.fromkeys(spans["stage"].fillna("").astype(str)))
    offsets = spans.groupby("stage").cumcount()
    for (_, ticket), offset in zip(spans.iterrows(), offsets, strict=True):
        y = stages.index(str(ticket["stage"])) + 0.15 * offset
        _timeline_ticket(ax, ticket, y)
    ax.set_yticks(range(len(stages)), stages)
    ax.invert_yaxis()
    _delay_legend(ax)
    return fig


def _timeline_ticket(ax: Axes, ticket: pd.Series, y: float) -> None:
    """Draw one ticket of an opportunity timeline."""
    if ticket.get("status") == "unserved" or pd.isna(ticket["start"]):
        ax.plot(ticket["raised_at"] / 24.0, y, marker="x", color="#c62828")
        ax.annotate(f"#{ticket['ticket']} unserved", (ticket["raised_at"] / 24.0, y),
                    fontsize="x-small", xytext=(4, 4), textcoords="offset points")
        return
    start, end = ticket["start"] / 24.0, ticket["end"] / 24.0
    colour = DELAY_COLOURS.get(ticket["delay_class"], "#9e9e9e")
    ax.barh(y, end - start, left=start, height=0.12, color=colour,
            edgecolor="black", linewidth=0.5)
    requested = ticket.get("requested_start", np.nan)
    if pd.notna(requested):
        ax.plot([requested / 24.0] * 2, [y - 0.08, y + 0.08], color="black")
        if requested / 24.0 < start:
            ax.plot([requested / 24.0, start], [y, y], linestyle=":", color="black")
    rating = ticket.get("rating", np.nan)
    label = f"{ticket.get('engineer', '')}" + (
        f" rated {rating:g}" if pd.notna(rating) else "")
    ax.annotate(label, (end, y), fontsize="x-small", xytext=(3, 0),
                textcoords="offset points", va="center")


def _alert_points(alerts_df: pd.DataFrame) -> pd.DataFrame:
    """Alerts as ``day, region, solution, signal`` from either alert source."""
    alerts = alerts_df
    if "signal" not in alerts.columns and "kind" in alerts.columns:
        alerts = alerts[alerts["kind"] == "alert"].rename(columns={"detail": "signal"})
    return alerts[["day", "region", "solution", "signal"]]


def board_heatmap(
    board_df: pd.DataFrame, alerts_df: pd.DataFrame | None = None
) -> Figure:
    """Status of every region x solution (rows) on every day (columns).

    Args:
        board_df: The daily board.
        alerts_df: Optional alerts, either the table of
            :func:`sim.surge.detect_surges` with ``region`` and ``solution`` key
            columns and a ``signal`` column, or ``alert`` events of the log.

    Returns:
        The figure; alerts are drawn as markers by signal.
    """
    keys = board_df[["region", "solution"]].drop_duplicates().sort_values(
        ["region", "solution"])
    labels = [f"{r} / {s}" for r, s in keys.itertuples(index=False)]
    codes = board_df.assign(
        code=board_df["status"].map(STATUS_CODES), row=board_df["region"] + " / "
        + board_df["solution"]).pivot_table(
        index="row", columns="day", values="code", aggfunc="max").reindex(labels)
    fig, (ax,) = _figure(height=max(2.0, 0.35 * len(labels) + 1.5))
    days = codes.columns.to_numpy()
    extent = (days.min() - 0.5, days.max() + 0.5, len(labels) - 0.5, -0.5) if len(
        days) else None
    ax.imshow(codes.to_numpy(dtype=float), aspect="auto", interpolation="nearest",
              cmap=ListedColormap(STATUS_COLOURS), vmin=-0.5, vmax=2.5, extent=extent)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("day")
    ax.set_title("Dispatch status by region / solution")
    handles = [Patch(color=c, label=s) for s, c in zip(STATUS_CODES, STATUS_COLOURS,
                                                          strict=True)]
    if alerts_df is not None and len(alerts_df):
        handles += _draw_alerts(ax, _alert_points(alerts_df), labels)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              fontsize="small")
    return fig


def _draw_alerts(ax: Axes, alerts: pd.DataFrame, labels: list[str]) -> list:
    """Scatter alert markers on the heatmap; return legend handles."""
    rows = (alerts["region"].astype(str) + " / " + alerts["solution"].astype(str))
    position = {label: i for i, label in enumerate(labels)}
    handles = []
    for signal, group in alerts.assign(row=rows.map(position)).dropna(
            subset=["row"]).groupby("signal"):
        handles.append(ax.scatter(
            group["day"], group["row"], marker=ALERT_MARKERS.get(signal, "o"),
            color="black", s=40, label=f"alert: {signal}", zorder=3))
    return handles


def grab_funnel_counts(events_df: pd.DataFrame) -> pd.Series:
    """Grab orders reaching each step of the grab funnel.

    Counts distinct tickets with at least one event of the step's kind: posted,
    invited, clarified (asked to clarify; optional, so it may be smaller than
    grabbed), grabbed and confirmed.

    Args:
        events_df: The event log.

    Returns:
        Counts indexed by step name, in funnel order.
    """
    ev = normalise_events(events_df)
    counts = {name: ev.loc[ev["kind"] == kind, "ticket"].nunique()
              for name, kind in FUNNEL_STAGES}
    return pd.Series(counts, name="tickets", dtype="int64")


def grab_funnel(events_df: pd.DataFrame) -> Figure:
    """Bar funnel of grab orders: posted, invited, clarified, grabbed, confirmed.

    Args:
        events_df: The event log.

    Returns:
        The figure (counts of distinct tickets, see :func:`grab_funnel_counts`).
    """
    counts = grab_funnel_counts(events_df)
    fig, (ax,) = _figure()
    positions = np.arange(len(counts))
    ax.barh(positions, counts.to_numpy(), color="#1565c0")
    for y, value in zip(positions, counts, strict=True):
        ax.annotate(str(value), (value, y), xytext=(3, 0),
                    textcoords="offset points", va="center")
    ax.set_yticks(positions, list(counts.index))
    ax.invert_yaxis()
    ax.set_xlabel("grab orders (tickets)")
    ax.set_title("Service grabbing funnel")
    return fig


def daily_board_figure(board_df: pd.DataFrame) -> Figure:
    """Volume and on-time rate per region over the days.

    Args:
        board_df: The daily board.

    Returns:
        The figure: tickets raised per day (top) and on-time starts over starts
        (bottom, gaps on days without starts), one line per region.
    """
    fig, (top, bottom) = _figure(rows=2, height=3.0)
    per_region = board_df.groupby(["day", "region"])[
        ["volume", "on_time", "started"]].sum()
    for region, table in per_region.groupby(level="region"):
        days = table.index.get_level_values("day")
        top.plot(days, table["volume"], label=str(region))
        started = table["started"].where(table["started"] > 0)
        bottom.plot(days, table["on_time"] / started, marker=".", label=str(region))
    top.set_ylabel("tickets raised")
    top.set_title("Daily volume and on-time rate by region")
    bottom.set_ylabel("on-time rate")
    bottom.set_ylim(-0.05, 1.05)
    bottom.set_xlabel("day")
    top.legend(loc="upper left", fontsize="small")
    return fig
