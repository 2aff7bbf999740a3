"""Measure real-time control on simulated runs: detection delay, false alarms,
and what each playbook changes.

* :func:`detection_delays` runs a scenario with planted surges
  (``[[demand.surges]]``, ``[[engineers.absences]]``,
  ``[[service.quality_drops]]``) on several seeds and reports, per seed, the
  days from a planted surge's first day to the first alert of the matching
  signal in its region x solution (None when none came while it lasted).
* :func:`false_alarms` runs the scenario's flat twin (the same scenario with
  nothing planted) and counts alerts per tested key-day: every region x
  solution on every day from ``max(warmup_days, window_days)`` on, so the
  pipeline's start-up and the baseline's fill-up are left out.
* :func:`paired_playbook` runs the same seeds with one playbook and with none
  and returns the outcome that playbook is meant to move, in the cells and days
  of its planted signal.

``python -m models.surge_measure [SCENARIO] --seeds N`` prints all three for
``scenarios/surge_planted.toml``; the README quotes its output.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.runner import RunResult, run_scenario
from models.scenario import Scenario, load_scenario

SIGNALS = ("volume", "delay", "rating")
PLAYBOOKS = ("delay_grab", "volume_widen", "rating_upgrade")


@dataclass(frozen=True)
class Planted:
    """One planted surge: where, when, and which signal should answer it."""

    signal: str
    cells: tuple[tuple[str, str], ...]
    start_day: int
    days: int


def planted(s: Scenario) -> list[Planted]:
    """The surges planted in ``s``, in the order the scenario lists them."""
    out = [
        Planted("volume", ((g.region, g.solution),), g.start_day, g.days)
        for g in s.demand.surges
    ]
    for a in s.engineers.absences:
        cells = tuple(
            (a.region, sol)
            for sol in s.solutions
            if any(
                p.region == a.region and sol in p.proficiency for p in s.engineers.pools
            )
        )
        out.append(Planted("delay", cells, a.start_day, a.days))
    out += [
        Planted("rating", ((q.region, q.solution),), q.start_day, q.days)
        for q in s.service.quality_drops
    ]
    return out


def flat_twin(s: Scenario) -> Scenario:
    """A copy of ``s`` with every planted surge, absence and drop removed."""
    twin = s.model_copy(deep=True)
    twin.demand.surges = []
    twin.engineers.absences = []
    twin.service.quality_drops = []
    return twin


def with_playbooks(s: Scenario, playbooks: list[str]) -> Scenario:
    """A copy of ``s`` with exactly ``playbooks`` in force."""
    copy = s.model_copy(deep=True)
    copy.control.playbooks = list(playbooks)
    return copy


def detection_delays(
    s: Scenario, seeds: list[int], signal: str = "volume"
) -> list[int | None]:
    """Days from each planted ``signal`` surge to its first alert, per seed.

    Args:
        s: A scenario with at least one planted surge of ``signal``.
        seeds: Seeds to run.
        signal: ``volume``, ``delay`` or ``rating``.

    Returns:
        One entry per seed and planted surge: the delay in days (0 when the
        alert came on the first day), or None when no alert came in any of its
        cells before the surge ended.
    """
    plants = [p for p in planted(s) if p.signal == signal]
    if not plants:
        raise ValueError(f"scenario {s.scenario.name!r} plants no {signal} surge")
    delays: list[int | None] = []
    for seed in seeds:
        alerts = run_scenario(s, seed).tables["alerts"]
        for p in plants:
            delays.append(first_alert_delay(alerts, p))
    return delays


def first_alert_delay(alerts: pd.DataFrame, p: Planted) -> int | None:
    """Delay of the first alert answering ``p``, or None while it lasted."""
    cells = set(p.cells)
    hit = alerts[
        (alerts["signal"] == p.signal)
        & (alerts["day"] >= p.start_day)
        & (alerts["day"] < p.start_day + p.days)
    ]
    days = [
        int(row.day)
        for row in hit.itertuples(index=False)
        if (row.region, row.solution) in cells
    ]
    return min(days) - p.start_day if days else None


@dataclass(frozen=True)
class FalseAlarms:
    """Alerts on a flat scenario.

    Attributes:
        alerts: Alerts per signal on tested key-days.
        key_days: Tested key-days (region x solution x day, per seed).
    """

    alerts: dict[str, int]
    key_days: int

    def rate(self, signal: str | None = None) -> float:
        """Alerts per tested key-day, for one signal or (None) all together."""
        n = sum(self.alerts.values()) if signal is None else self.alerts[signal]
        return n / self.key_days if self.key_days else math.nan


def false_alarms(s: Scenario, seeds: list[int]) -> FalseAlarms:
    """Count alerts on the flat twin of ``s`` over ``seeds``.

    Args:
        s: A scenario (its planted surges are removed first).
        seeds: Seeds to run.

    Returns:
        The alerts per signal and the key-days tested.
    """
    twin = flat_twin(s)
    first = max(twin.scenario.warmup_days, twin.control.window_days)
    days = max(0, twin.scenario.horizon_days - first)
    cells = len(twin.regions) * len(twin.solutions)
    counts = dict.fromkeys(SIGNALS, 0)
    for seed in seeds:
        alerts = run_scenario(twin, seed).tables["alerts"]
        tested = alerts[alerts["day"] >= first]
        for signal, n in tested["signal"].value_counts().items():
            counts[str(signal)] += int(n)
    return FalseAlarms(counts, days * cells * len(seeds))


def playbook_effect(result: RunResult, playbook: str) -> dict[str, float]:
    """Outcomes ``playbook`` should move, in the cells and days it answers.

    The window runs from each planted surge of the playbook's signal to
    ``control.playbook_days`` days after it ends; counts are over the tickets
    of the surge's cells raised in the window (``rating_upgrade``: started in
    it).

    * ``delay_grab``: ``grab_orders`` posted, ``severe`` and ``late`` (slight
      or severe) starts, ``unserved`` tickets.
    * ``volume_widen``: ``cross_region`` bookings (an engineer of another
      region), ``on_time`` and ``late`` starts, ``unserved`` tickets.
    * ``rating_upgrade``: ``mean_proficiency`` of the engineers who did the
      work, ``mean_rating``, ``late`` starts.

    Every result also has ``alerts`` (alerts of the signal in those cells and
    days) and ``applied`` (of them, those that applied this playbook).
    """
    s = result.model.scenario
    signal = _SIGNAL_OF[playbook]
    tickets = result.tables["tickets"]
    alerts = result.tables["alerts"]
    out = dict.fromkeys((*_EFFECTS[playbook], "alerts", "applied"), 0.0)
    ratings: list[float] = []
    proficiency: list[int] = []
    for p in planted(s):
        if p.signal != signal:
            continue
        lo = p.start_day * 24.0
        hi = (p.start_day + p.days + s.control.playbook_days) * 24.0
        mine = _in_cells(tickets, p.cells)
        time_col = "actual_start" if playbook == "rating_upgrade" else "raised_at"
        chosen = tickets[mine & tickets[time_col].between(lo, hi, "left")]
        a = alerts[_in_cells(alerts, p.cells)]
        a = a[a["day"].between(lo / 24, hi / 24, "left")]
        out["alerts"] += float((a["signal"] == signal).sum())
        out["applied"] += float((a["playbook"] == playbook).sum())
        delay = chosen["delay_class"]
        out["late"] += float(delay.isin(["slight", "severe"]).sum())
        if playbook == "delay_grab":
            grabs = result.tables["grabs"]
            out["grab_orders"] += float(grabs["ticket"].isin(chosen["ticket"]).sum())
            out["severe"] += float((delay == "severe").sum())
            out["unserved"] += float((chosen["status"] == "unserved").sum())
        elif playbook == "volume_widen":
            booked = chosen[chosen["engineer"] != ""]
            away = booked["engineer_region"] != booked["region"]
            out["cross_region"] += float(away.sum())
            out["on_time"] += float((delay == "on_time").sum())
            out["unserved"] += float((chosen["status"] == "unserved").sum())
        else:
            ratings += chosen["rating"].dropna().tolist()
            engineers = result.model.engineers
            proficiency += [
                engineers[e].proficiency[sol]
                for e, sol in zip(chosen["engineer"], chosen["solution"], strict=True)
            ]
    if playbook == "rating_upgrade":
        out["mean_rating"] = float(np.mean(ratings)) if ratings else math.nan
        out["mean_proficiency"] = (
            float(np.mean(proficiency)) if proficiency else math.nan
        )
    return out


def _in_cells(frame: pd.DataFrame, cells) -> pd.Series:
    """Rows of ``frame`` whose region x solution is one of ``cells``."""
    keys = list(zip(frame["region"], frame["solution"], strict=True))
    wanted = set(cells)
    return pd.Series([k in wanted for k in keys], index=frame.index, dtype=bool)


_SIGNAL_OF = {
    "delay_grab": "delay",
    "volume_widen": "volume",
    "rating_upgrade": "rating",
}
_EFFECTS = {
    "delay_grab": ("grab_orders", "severe", "late", "unserved"),
    "volume_widen": ("cross_region", "on_time", "late", "unserved"),
    "rating_upgrade": ("mean_proficiency", "mean_rating", "late"),
}


def paired_playbook(s: Scenario, playbook: str, seeds: list[int]) -> pd.DataFrame:
    """The same seeds with only ``playbook`` in force and with no playbook.

    Args:
        s: A scenario with a planted surge of the playbook's signal.
        playbook: ``delay_grab``, ``volume_widen`` or ``rating_upgrade``.
        seeds: Seeds; each runs twice (common random numbers up to the first
            playbook action).

    Returns:
        One row per seed and arm (``with`` / ``without``) with the
        :func:`playbook_effect` columns.
    """
    if playbook not in PLAYBOOKS:
        raise ValueError(f"unknown playbook {playbook!r}; use one of {PLAYBOOKS}")
    rows = []
    for seed in seeds:
        for arm, books in (("with", [playbook]), ("without", [])):
            result = run_scenario(with_playbooks(s, books), seed)
            rows.append({"seed": seed, "arm": arm, **playbook_effect(result, playbook)})
    return pd.DataFrame(rows)


def report(s: Scenario, seeds: list[int], playbooks: bool = True) -> str:
    """Detection delays, false alarms and (optionally) playbook effects as text."""
    lines = [f"scenario {s.scenario.name}, seeds {seeds[0]}..{seeds[-1]}"]
    for signal in SIGNALS:
        if not any(p.signal == signal for p in planted(s)):
            continue
        delays = detection_delays(with_playbooks(s, []), seeds, signal)
        found = [d for d in delays if d is not None]
        mean = f"{np.mean(found):.2f}" if found else "n/a"
        lines.append(
            f"{signal} surge: detected {len(found)}/{len(delays)}, delay days "
            f"{delays}, mean {mean}"
        )
    fa = false_alarms(with_playbooks(s, []), seeds)
    parts = ", ".join(f"{k} {fa.rate(k):.4f}" for k in SIGNALS)
    lines.append(
        f"flat twin: {sum(fa.alerts.values())} alerts in {fa.key_days} key-days; "
        f"per key-day {fa.rate():.4f} ({parts})"
    )
    for playbook in PLAYBOOKS if playbooks else ():
        table = paired_playbook(s, playbook, seeds)
        means = table.drop(columns="seed").groupby("arm").mean()
        lines.append(f"{playbook}: mean per seed\n{means.round(3).to_string()}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print :func:`report` for a scenario (default the planted one)."""
    parser = argparse.ArgumentParser(prog="python -m models.surge_measure")
    parser.add_argument(
        "scenario", nargs="?", type=Path, default=Path("scenarios/surge_planted.toml")
    )
    parser.add_argument("--seeds", type=int, default=10, help="seeds 1..N")
    parser.add_argument(
        "--no-playbooks", action="store_true", help="skip the paired comparisons"
    )
    args = parser.parse_args(argv)
    s = load_scenario(args.scenario)
    seeds = list(range(1, args.seeds + 1))
    print(report(s, seeds, playbooks=not args.no_playbooks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
