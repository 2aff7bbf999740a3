"""Cross-reference checks a field-by-field schema cannot make.

Each check returns problems as ``"field: what is wrong; what to do"`` lines, so
that one ``ScenarioError`` can list them all.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.scenario import Scenario


def cross_check(s: Scenario) -> list[str]:
    """Every cross-reference problem of a schema-valid scenario."""
    problems: list[str] = []
    problems += _unique("regions", s.regions)
    problems += _unique("solutions", s.solutions)
    problems += _unique("grades[].name", [g.name for g in s.grades])
    problems += _check_engineers(s)
    problems += _check_reps(s)
    problems += _check_demand(s)
    problems += _check_misc(s)
    problems += _check_planted(s)
    problems += _check_pricing(s)
    return problems


def _unique(field: str, names: list[str]) -> list[str]:
    twice = sorted(n for n, k in Counter(names).items() if k > 1)
    return [f"{field}: {n!r} is listed twice; keep one" for n in twice]


def _member(field: str, value: str, allowed: list[str], kind: str) -> list[str]:
    if value in allowed:
        return []
    names = ", ".join(dict.fromkeys(allowed)) or "(none are defined)"
    return [f"{field}: {value!r} is not a {kind}; use one of {names}"]


def _check_engineers(s: Scenario) -> list[str]:
    grades = [g.name for g in s.grades]
    out: list[str] = []
    groups = [
        ("engineers.pools", s.engineers.pools),
        ("engineers.individuals", s.engineers.individuals),
    ]
    for name, items in groups:
        for i, e in enumerate(items):
            where = f"{name}[{i}]"
            out += _member(f"{where}.region", e.region, s.regions, "region")
            out += _member(f"{where}.grade", e.grade, grades, "grade")
            for sol in e.proficiency:
                out += _member(f"{where}.proficiency", sol, s.solutions, "solution")
            if not e.proficiency:
                out.append(f"{where}.proficiency: empty; give at least one solution")
    out += _unique(
        "engineers.individuals[].name", [e.name for e in s.engineers.individuals]
    )
    total = sum(p.count for p in s.engineers.pools) + len(s.engineers.individuals)
    if total == 0:
        out.append(
            "engineers: no engineers at all; add engineers.pools or "
            "engineers.individuals"
        )
    return out


def _check_reps(s: Scenario) -> list[str]:
    out: list[str] = []
    types = list(s.budget.share_of_quota)
    groups = [("reps.pools", s.reps.pools), ("reps.individuals", s.reps.individuals)]
    for name, items in groups:
        for i, r in enumerate(items):
            where = f"{name}[{i}]"
            out += _member(f"{where}.region", r.region, s.regions, "region")
            if not s.budget.unlimited:
                out += _member(
                    f"{where}.customer_type",
                    r.customer_type,
                    types,
                    "customer type of budget.share_of_quota",
                )
    out += _unique("reps.individuals[].name", [r.name for r in s.reps.individuals])
    if s.demand.mode != "queue":
        have = {r.region for r in s.reps.pools if r.count > 0}
        have |= {r.region for r in s.reps.individuals}
        for i, st in enumerate(s.demand.streams):
            if st.region in s.regions and st.region not in have:
                out.append(
                    f"demand.streams[{i}].region: no sales rep in "
                    f"{st.region!r}; add reps there or drop the stream"
                )
    return out


def _check_demand(s: Scenario) -> list[str]:
    d = s.demand
    out: list[str] = []
    for i, st in enumerate(d.streams):
        out += _member(f"demand.streams[{i}].region", st.region, s.regions, "region")
        out += _member(
            f"demand.streams[{i}].solution", st.solution, s.solutions, "solution"
        )
    for i, st in enumerate(d.streams):
        for name in ("deal_value_quantiles", "cycle_days_quantiles"):
            out += _check_quantiles(f"demand.streams[{i}].{name}", getattr(st, name))
    for i, q in enumerate(d.queue):
        out += _member(f"demand.queue[{i}].region", q.region, s.regions, "region")
        out += _member(
            f"demand.queue[{i}].solution", q.solution, s.solutions, "solution"
        )
    if d.mode == "queue" and not d.queue:
        out.append(
            "demand.queue: mode is 'queue' but no queue streams are given; "
            "add [[demand.queue]] tables"
        )
    if d.mode != "queue" and not d.streams:
        out.append(
            f"demand.streams: mode is {d.mode!r} but no streams are given; "
            "add [[demand.streams]] or run `presales-sim calibrate`"
        )
    total = sum(st.share_of_cycle for st in d.stages)
    if d.mode != "queue" and abs(total - 1.0) > 1e-6:
        out.append(
            f"demand.stages[].share_of_cycle: shares add up to {total:g}; "
            "make them add up to 1"
        )
    if d.lead_hours_max < d.lead_hours_min:
        out.append("demand.lead_hours_max: smaller than lead_hours_min; swap them")
    return out


def _check_quantiles(field: str, values: list[float]) -> list[str]:
    """An empirical distribution: empty, or QUANTILE_COUNT rising positive values."""
    from models.scenario import QUANTILE_COUNT

    if not values:
        return []
    out = []
    if len(values) != QUANTILE_COUNT:
        out.append(
            f"{field}: {len(values)} values; give exactly {QUANTILE_COUNT} (the "
            "quantiles at probabilities 0, 0.025, ..., 1) or none to use the "
            "lognormal"
        )
    bad = [v for v in values if not v > 0]
    if bad:
        out.append(f"{field}: {bad[0]!r} is not positive; every quantile must be > 0")
    falls = [k for k in range(1, len(values)) if values[k] < values[k - 1]]
    if falls:
        k = falls[0]
        out.append(
            f"{field}: value {k} ({values[k]:g}) is below value {k - 1} "
            f"({values[k - 1]:g}); quantiles must not decrease, sort them"
        )
    return out


def _check_planted(s: Scenario) -> list[str]:
    """Planted surges, absences and quality drops name known cells."""
    out: list[str] = []
    streams = {(st.region, st.solution) for st in s.demand.streams}
    for i, g in enumerate(s.demand.surges):
        where = f"demand.surges[{i}]"
        out += _member(f"{where}.region", g.region, s.regions, "region")
        out += _member(f"{where}.solution", g.solution, s.solutions, "solution")
        if s.demand.mode == "queue":
            out.append(f"{where}: surges act on opportunity streams; not in queue mode")
        elif g.region in s.regions and (g.region, g.solution) not in streams:
            out.append(
                f"{where}: no demand stream for {g.region!r} x {g.solution!r}; "
                "plant the surge on an existing stream"
            )
    grades = [g.name for g in s.grades]
    for i, a in enumerate(s.engineers.absences):
        where = f"engineers.absences[{i}]"
        out += _member(f"{where}.region", a.region, s.regions, "region")
        if a.grade:
            out += _member(f"{where}.grade", a.grade, grades, "grade")
        have = sum(
            p.count
            for p in s.engineers.pools
            if p.region == a.region and a.grade in ("", p.grade)
        ) + sum(
            1
            for e in s.engineers.individuals
            if e.region == a.region and a.grade in ("", e.grade)
        )
        if a.region in s.regions and a.count > have:
            out.append(
                f"{where}.count: {a.count} absent but only {have} such engineers "
                f"in {a.region!r}; lower the count"
            )
    for i, q in enumerate(s.service.quality_drops):
        where = f"service.quality_drops[{i}]"
        out += _member(f"{where}.region", q.region, s.regions, "region")
        out += _member(f"{where}.solution", q.solution, s.solutions, "solution")
        if q.points and not s.service.rating_fit:
            out.append(
                f"{where}: a quality drop acts through the fit term of the "
                "rating; set service.rating_fit above 0"
            )
    return out


def _check_misc(s: Scenario) -> list[str]:
    out: list[str] = []
    c = s.control
    if c.severe_after_hours < c.slight_after_hours:
        out.append(
            "control.severe_after_hours: below slight_after_hours; a severe "
            "delay must be at least a slight one"
        )
    known = {"delay_grab", "volume_widen", "rating_upgrade"}
    for i, p in enumerate(c.playbooks):
        if p not in known:
            out.append(
                f"control.playbooks[{i}]: unknown playbook {p!r}; use one of "
                f"{', '.join(sorted(known))}"
            )
    from models.policies import policy_names

    if s.dispatch.policy not in policy_names():
        out.append(
            f"dispatch.policy: unknown policy {s.dispatch.policy!r}; use one "
            f"of {', '.join(policy_names())}"
        )
    for i, (a, b) in enumerate(s.calendar.working_hours):
        if not 0 <= a < b <= 24:
            out.append(
                f"calendar.working_hours[{i}]: [{a}, {b}] must satisfy "
                "0 <= from < to <= 24"
            )
    out += _check_calendar(s)
    b = s.budget
    if b.max_factor < b.min_factor:
        out.append("budget.max_factor: below budget.min_factor; swap them")
    return out


def _check_pricing(s: Scenario) -> list[str]:
    p = s.pricing
    grades = [g.name for g in s.grades]
    out: list[str] = []
    if p.rate_card and p.rate_card not in p.rate_cards:
        known = ", ".join(sorted(p.rate_cards)) or "none defined"
        out.append(
            f"pricing.rate_card: {p.rate_card!r} is not in pricing.rate_cards "
            f"({known}); add the card or leave rate_card empty"
        )
    for card, rates in p.rate_cards.items():
        for grade in rates:
            out += _member(f"pricing.rate_cards.{card}", grade, grades, "grade")
    types = sorted({g.resource_type for g in s.grades})
    for kind in p.resource_factor:
        out += _member("pricing.resource_factor", kind, types, "resource type")
    starts = [t.from_hours for t in p.tiers]
    if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
        out.append(
            "pricing.tiers: from_hours must rise strictly from tier to tier; "
            "sort the tiers and drop duplicates"
        )
    if p.scheme == "tiered" and not p.tiers:
        out.append(
            "pricing.tiers: scheme is 'tiered' but no tiers are given; add "
            "[[pricing.tiers]] or use scheme = 'flat'"
        )
    return out


def _check_calendar(s: Scenario) -> list[str]:
    out: list[str] = []
    periods = sorted(s.calendar.working_hours)
    for (a0, b0), (a1, b1) in zip(periods, periods[1:], strict=False):
        if a1 < b0:
            out.append(
                f"calendar.working_hours: [{a0:g}, {b0:g}] and [{a1:g}, {b1:g}] "
                "overlap; make the periods disjoint"
            )
    try:
        zoneinfo.ZoneInfo(s.calendar.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        out.append(
            f"calendar.timezone: {s.calendar.timezone!r} is not a known time zone; "
            "use an IANA name such as 'Europe/Berlin' or 'UTC'"
        )
    m = s.scenario
    if m.warmup_days >= m.horizon_days:
        out.append(
            f"scenario.warmup_days: {m.warmup_days} leaves nothing of the "
            f"{m.horizon_days}-day horizon; make it smaller than horizon_days"
        )
    if len(set(s.calendar.weekdays)) != len(s.calendar.weekdays):
        out.append("calendar.weekdays: a weekday is listed twice; keep one")
    return out
