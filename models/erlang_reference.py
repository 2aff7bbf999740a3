"""Erlang C reference for queue-mode scenarios, beside simulated staffing curves.

A queue-mode scenario (``demand.mode = "queue"``) whose streams share one set
of engineers is, when engineers work around the clock, book the earliest free
engineer first come first served, and no grab orders or playbooks interfere,
the textbook M/M/c queue: its on-time share is ``P(wait <= slight_after_hours)``
and its mean delay the mean wait in queue. Rates are per working hour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from models.scenario import scenario_from_dict
from sim.overrides import apply_overrides, get_path
from sim.queueing import (
    UnstableQueueError,
    least_servers,
    mmc_mean_wait,
    mmc_wait_within,
)
from sim.queueing import erlang_c as erlang_c_probability

__all__ = [
    "QueueParameters",
    "erlang_least_headcount",
    "erlang_point",
    "erlang_reference",
    "queue_parameters",
]

HOURS_PER_WEEK = 168.0


@dataclass(frozen=True)
class QueueParameters:
    """A queue-mode scenario read as an M/M/c queue.

    Attributes:
        arrival_rate: Tickets per working hour.
        service_rate: Tickets per working hour per engineer.
        servers: Engineers able to take the tickets.
        within: Working hours of delay still counted on time.
        exact: Whether the scenario is the textbook M/M/c set-up.
        note: How it departs from M/M/c, if it does.
    """

    arrival_rate: float
    service_rate: float
    servers: int
    within: float
    exact: bool
    note: str


def _servers(config: Mapping[str, Any], stream: Mapping[str, Any]) -> tuple:
    """Pool indices and individual names able to serve a queue stream."""
    scope_all = config.get("dispatch", {}).get("region_scope", "home") == "all"
    need = stream.get("min_proficiency", 1)

    def serves(e: Mapping[str, Any]) -> bool:
        level = e.get("proficiency", {}).get(stream["solution"], 0)
        return level >= need and (scope_all or e.get("region") == stream["region"])

    engineers = config.get("engineers", {})
    pools = tuple(i for i, p in enumerate(engineers.get("pools", [])) if serves(p))
    named = tuple(e["name"] for e in engineers.get("individuals", []) if serves(e))
    return pools, named


def _departures(config: Mapping[str, Any]) -> list[str]:
    scenario = scenario_from_dict(dict(config))
    c = scenario.calendar
    notes = []
    weekly = sum(b - a for a, b in c.working_hours) * len(c.weekdays)
    if weekly < HOURS_PER_WEEK:
        notes.append("engineers do not work around the clock")
    if scenario.grab.enabled:
        notes.append("grab orders are enabled")
    if scenario.control.playbooks:
        notes.append("playbooks are in force")
    if scenario.dispatch.policy != "direct" or scenario.dispatch.ranking != "earliest":
        notes.append("dispatch is not direct booking of the earliest engineer")
    return notes


def queue_parameters(config: Mapping[str, Any]) -> QueueParameters:
    """Read a queue-mode scenario as one M/M/c queue.

    All queue streams must be served by the same engineers and have the same
    mean work; their rates add up. Arrivals come in calendar hours and are
    turned into working hours with the weekly working time.

    Args:
        config: A scenario config with ``demand.mode = "queue"``.

    Returns:
        The queue's parameters.

    Raises:
        ValueError: If the scenario is not a queue one or is not one queue.
    """
    demand = config.get("demand", {})
    streams = demand.get("queue", [])
    if demand.get("mode") != "queue" or not streams:
        raise ValueError("not a queue-mode scenario (demand.mode = 'queue')")
    server_sets = {_servers(config, s) for s in streams}
    if len(server_sets) > 1:
        raise ValueError(
            "queue streams are served by different engineers; "
            "there is no single M/M/c queue"
        )
    means = {float(s["hours_mean"]) for s in streams}
    if len(means) > 1:
        raise ValueError(
            "queue streams differ in mean work; service is not exponential"
        )
    pools_idx, named = server_sets.pop()
    pools = config.get("engineers", {}).get("pools", [])
    servers = sum(int(pools[i]["count"]) for i in pools_idx) + len(named)
    scenario = scenario_from_dict(dict(config))
    c = scenario.calendar
    weekly = sum(b - a for a, b in c.working_hours) * len(c.weekdays)
    scale = scenario.demand.scale * HOURS_PER_WEEK / weekly
    notes = _departures(config)
    return QueueParameters(
        arrival_rate=sum(float(s["rate_per_hour"]) for s in streams) * scale,
        service_rate=1.0 / means.pop(),
        servers=servers,
        within=scenario.control.slight_after_hours,
        exact=not notes,
        note="; ".join(notes),
    )


def erlang_point(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    within: float,
    on_unstable: str = "report",
) -> dict[str, Any]:
    """Return the M/M/c values the simulation's outcomes are checked against.

    Args:
        arrival_rate: Tickets per working hour.
        service_rate: Tickets per working hour per engineer.
        servers: Engineers.
        within: Working hours of delay counted on time.
        on_unstable: ``"report"`` gives a row with ``status = "unstable"`` and
            NaN values when the load reaches capacity; ``"raise"`` raises.

    Returns:
        ``servers, offered_load, utilisation, status, p_wait, on_time_share,
        mean_delay_hours`` (hours are working hours).

    Raises:
        UnstableQueueError: If ``on_unstable == "raise"`` and the offered load
            is at least ``servers``.
    """
    if on_unstable not in ("report", "raise"):
        raise ValueError(
            f"on_unstable must be 'report' or 'raise', got {on_unstable!r}"
        )
    load = arrival_rate / service_rate
    row = {
        "servers": servers,
        "offered_load": load,
        "utilisation": load / servers if servers else math.inf,
    }
    if servers >= 1 and load < servers:
        row.update(
            status="stable",
            p_wait=erlang_c_probability(servers, load),
            on_time_share=mmc_wait_within(arrival_rate, service_rate, servers, within),
            mean_delay_hours=mmc_mean_wait(arrival_rate, service_rate, servers),
        )
        return row
    if on_unstable == "raise":
        raise UnstableQueueError(servers, load)
    row.update(
        status="unstable",
        p_wait=math.nan,
        on_time_share=math.nan,
        mean_delay_hours=math.nan,
    )
    return row


def erlang_reference(
    config: Mapping[str, Any], paths: Sequence[str], counts: Sequence[Sequence[int]]
) -> pd.DataFrame:
    """Return the Erlang C curve beside a staffing search's candidates.

    Args:
        config: A queue-mode scenario config.
        paths: Headcount paths.
        counts: Each candidate's count per path.

    Returns:
        One row per candidate: ``headcount`` then the :func:`erlang_point`
        columns; unstable candidates have ``status = "unstable"``.

    Raises:
        ValueError: If the scenario is not one M/M/c queue.
    """
    rows = []
    for candidate in counts:
        point = apply_overrides(config, dict(zip(paths, candidate, strict=True)))
        q = queue_parameters(point)
        row = {"headcount": sum(candidate)}
        row.update(erlang_point(q.arrival_rate, q.service_rate, q.servers, q.within))
        for name in _cell_names(config):
            row[name] = row[name.split(".", 1)[0]]
        rows.append(row)
    return pd.DataFrame(rows)


_PREDICTED = ("on_time_share", "mean_delay_hours", "utilisation")


def _cell_names(config: Mapping[str, Any]) -> list[str]:
    """Cell outcome names (see :mod:`models.cell_outcomes`) the queue predicts.

    When every queue stream is in one region x solution, that cell's on-time
    share and mean delay are the queue's; otherwise there are none.
    """
    cells = {(s["region"], s["solution"]) for s in config["demand"]["queue"]}
    if len(cells) != 1:
        return []
    region, solution = cells.pop()
    return [f"{name}.{region}.{solution}" for name in _PREDICTED[:2]]


def _predicted(outcome: str, config: Mapping[str, Any]) -> str | None:
    """The plain outcome Erlang C predicts for ``outcome``, or None."""
    if outcome in _PREDICTED[:2]:
        return outcome
    if outcome in _cell_names(config):
        return outcome.split(".", 1)[0]
    return None


def erlang_least_headcount(
    config: Mapping[str, Any], paths: Sequence[str], targets: Sequence[Any]
) -> int | None:
    """Return the least headcount Erlang C gives for a staffing search's targets.

    Only targets Erlang C can judge count: ``on_time_share >= x`` and
    ``mean_delay_hours <= y`` (or the same outcomes of the queue's one region x
    solution); engineers serving the queue outside ``paths`` are kept as they
    are.

    Args:
        config: A queue-mode scenario config.
        paths: Headcount paths varied by the search.
        targets: The search's targets (``outcome``, ``op``, ``threshold``).

    Returns:
        The least headcount on ``paths``, or None when a target is not one
        Erlang C can judge.

    Raises:
        ValueError: If the scenario is not one M/M/c queue.
    """
    q = queue_parameters(config)
    kinds = [(_predicted(t.outcome, config), t.op, t.threshold) for t in targets]
    on_time = [x for kind, op, x in kinds if kind == "on_time_share" and op == ">="]
    wait = [x for kind, op, x in kinds if kind == "mean_delay_hours" and op == "<="]
    if not targets or len(on_time) + len(wait) < len(targets):
        return None
    fixed = q.servers - sum(int(get_path(config, p)) for p in paths)
    servers = least_servers(
        q.arrival_rate,
        q.service_rate,
        target=max(on_time) if on_time else None,
        within=q.within,
        max_mean_wait=min(wait) if wait else None,
    )
    return max(servers - fixed, 0)


def staffing_reference(
    config: Mapping[str, Any],
    paths: Sequence[str],
    counts: Sequence[Sequence[int]],
    targets: Sequence[Any],
) -> tuple[pd.DataFrame | None, int | None, str]:
    """Return the Erlang C side of a staffing search, or why there is none.

    Args:
        config: The scenario config.
        paths: Headcount paths.
        counts: Each candidate's count per path.
        targets: The search's targets.

    Returns:
        ``(curve, least headcount, note)``: the :func:`erlang_reference`
        curve (None for a scenario that is not one queue), the
        :func:`erlang_least_headcount` answer (or None) and a note on how
        exact the reference is.
    """
    if config.get("demand", {}).get("mode") != "queue":
        return None, None, "not a queue-mode scenario: no Erlang C reference"
    try:
        curve = erlang_reference(config, paths, counts)
        least = erlang_least_headcount(config, paths, targets)
        notes = [queue_parameters(config).note]
    except ValueError as exc:
        return None, None, f"no Erlang C reference: {exc}"
    if least is None:
        notes.append("Erlang C judges only on_time_share >= and mean_delay_hours <=")
    return curve, least, "; ".join(n for n in notes if n)
