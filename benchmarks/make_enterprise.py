"""Write ``scenarios/enterprise.toml``: an enterprise-size scenario.

Ten thousand engineers in 8 regions x 4 grades x 5 specialisms (each
specialism covers two or three of 10 solutions), 2,000 reps, 80 demand
streams sized for about 250,000 tickets in one simulated year, and all five
functions on: direct booking under the ``hybrid`` policy, quarterly budgets,
the event log, surge control with every playbook, and grabbing.

``python -m benchmarks.make_enterprise [--scale S] [--out FILE]`` writes the
file; ``scale`` multiplies engineers, reps and demand together (the benchmark
uses it for reduced sizes and for the scaling ratios).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import tomli_w

REGIONS = [
    "North",
    "South",
    "East",
    "West",
    "Central",
    "NorthEast",
    "SouthWest",
    "Overseas",
]
REGION_WEIGHT = [1.2, 1.1, 1.3, 1.0, 0.9, 0.8, 0.9, 0.8]
SOLUTIONS = [f"S{i:02d}" for i in range(1, 11)]
GRADES = [
    ("associate", 60.0, 0.30, 2),
    ("junior", 90.0, 0.30, 3),
    ("senior", 140.0, 0.25, 4),
    ("principal", 220.0, 0.15, 5),
]
# Specialisms: (main solutions, side solutions); side proficiency is one lower.
SPECIALISMS = [
    (["S01", "S02"], ["S03"]),
    (["S03", "S04"], ["S05"]),
    (["S05", "S06"], ["S07"]),
    (["S07", "S08"], ["S09"]),
    (["S09", "S10"], ["S01"]),
]
ENGINEERS = 10_000
REPS = 2_000
# Mean tickets per opportunity with the stage plan below is 2.95, so about
# 84,700 opportunities a year give about 250,000 tickets.
OPPORTUNITIES_PER_YEAR = 84_700
SEASON = [0.8, 0.9, 1.1, 0.9, 1.0, 1.1, 0.8, 0.8, 1.0, 1.1, 1.2, 1.3]


def _stages() -> list[dict[str, Any]]:
    def act(name: str, p: float, hours: float, need: int) -> dict[str, Any]:
        return {
            "name": name,
            "probability": p,
            "hours": hours,
            "min_proficiency": need,
        }

    return [
        {
            "name": "qualification",
            "share_of_cycle": 0.15,
            "activities": [act("discovery call", 0.5, 3.0, 2)],
        },
        {
            "name": "value_presentation",
            "share_of_cycle": 0.40,
            "activities": [
                act("demo", 0.8, 6.0, 3),
                act("site visit", 0.3, 12.0, 3),
                act("proof of concept", 0.25, 40.0, 4),
            ],
        },
        {
            "name": "bid_preparation",
            "share_of_cycle": 0.30,
            "activities": [act("bid preparation", 0.6, 24.0, 3)],
        },
        {
            "name": "bidding",
            "share_of_cycle": 0.15,
            "activities": [act("bid defence", 0.5, 6.0, 4)],
        },
    ]


def enterprise(scale: float = 1.0, days: int = 365) -> dict[str, Any]:
    """The enterprise scenario as a plain dict.

    Args:
        scale: Multiplier on engineers, reps and demand together.
        days: Horizon in days.

    Returns:
        A scenario dict for ``models.scenario.scenario_from_dict``.
    """
    share = sum(g[2] for g in GRADES) * len(REGIONS) * len(SPECIALISMS)
    per_unit = ENGINEERS * scale / share
    pools = []
    for region in REGIONS:
        for grade, _rate, weight, prof in GRADES:
            for main, side in SPECIALISMS:
                proficiency = dict.fromkeys(main, prof)
                proficiency.update(dict.fromkeys(side, max(1, prof - 1)))
                count = max(1, round(per_unit * weight))
                pools.append(
                    {
                        "region": region,
                        "grade": grade,
                        "count": count,
                        "proficiency": proficiency,
                    }
                )
    reps = []
    per_region = max(2, round(REPS * scale / len(REGIONS)))
    for region in REGIONS:
        reps.append(
            {
                "region": region,
                "count": per_region // 2,
                "customer_type": "key_account",
                "quarterly_quota": 6_000_000.0,
                "attainment": 1.0,
            }
        )
        reps.append(
            {
                "region": region,
                "count": per_region - per_region // 2,
                "customer_type": "commercial",
                "quarterly_quota": 8_000_000.0,
                "attainment": 0.9,
            }
        )
    weight_total = sum(REGION_WEIGHT) * len(SOLUTIONS)
    streams = []
    for region, weight in zip(REGIONS, REGION_WEIGHT, strict=True):
        for k, solution in enumerate(SOLUTIONS):
            monthly = OPPORTUNITIES_PER_YEAR * scale / 12 * weight / weight_total
            streams.append(
                {
                    "region": region,
                    "solution": solution,
                    "arrivals_per_month": [round(monthly * f, 3) for f in SEASON],
                    "win_rate": round(0.35 + 0.02 * k, 3),
                    "deal_value_mu": 10.0 + 0.05 * k,
                    "deal_value_sigma": 0.9,
                    "cycle_days_mu": 4.0,
                    "cycle_days_sigma": 0.45,
                }
            )
    return {
        "regions": REGIONS,
        "solutions": SOLUTIONS,
        "scenario": {
            "name": "enterprise",
            "description": "Enterprise size: 10,000 engineers, 2,000 reps, "
            "about 250,000 tickets a year, all five functions on.",
            "horizon_days": int(days),
            "warmup_days": 14,
            "seed": 2027,
        },
        "grades": [{"name": g, "hourly_rate": rate} for g, rate, _w, _p in GRADES],
        "engineers": {"pools": pools},
        "reps": {"pools": reps},
        "budget": {"share_of_quota": {"key_account": 0.05, "commercial": 0.03}},
        "demand": {
            "mode": "explicit",
            "streams": streams,
            "stages": _stages(),
        },
        "dispatch": {"policy": "hybrid", "ranking": "best_fit"},
        "grab": {"enabled": True, "incentive": 0.5, "max_invites": 40},
    }


HEADER = (
    "# Generated by `python -m benchmarks.make_enterprise`; regenerate rather\n"
    "# than edit. Enterprise size for the benchmarks (benchmarks/run.py).\n"
)


def main(argv: list[str] | None = None) -> None:
    """Write the scenario file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--out", type=Path, default=Path("scenarios/enterprise.toml"))
    args = parser.parse_args(argv)
    text = HEADER + tomli_w.dumps(enterprise(args.scale, args.days))
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
