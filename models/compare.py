"""Side-by-side comparison of dispatch policies on the same simulated demand.

Every policy runs the same scenario for the same replications; replication
``k`` of every policy gets the same seed (common random numbers, see
``sim.seeds``), so differences between policies are paired. The result is one
table, a row per policy, with the mean of each outcome and the half-width of
its Student-t confidence interval over replications (``sim.stats.mean_ci``).

A policy is named as in ``[dispatch] policy``; ``direct:cheapest`` (any
``policy:ranking``) also sets ``[dispatch] ranking``. Pricing, incentive and
any other setting are switched for every policy alike by dotted-path overrides,
e.g. ``{"pricing.scheme": "surge", "grab.incentive": 1.0}``.

From Python::

    from models.compare import compare_policies, format_policy_table

    table = compare_policies("scenarios/crm_calibrated.toml", replications=5)
    print(format_policy_table(table))

Replications run in local worker processes by default, which re-import the
calling script: in a script, call from under ``if __name__ == "__main__":``
(notebooks need nothing), or pass ``executor="serial"``.

From the command line: ``presales-sim policies SCENARIO --replications 5``.
"""

from __future__ import annotations

import argparse
import math
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from models.policies import policy_names
from models.runner import replication_outcomes
from models.scenario import Dispatch, Scenario, ScenarioError, scenario_from_dict
from sim.experiment import Variant, compare, run_experiment
from sim.overrides import apply_overrides, parse_assignment
from sim.stats import mean_ci

#: Outcomes of the comparison: key outcome name, label, display format.
POLICY_OUTCOMES: list[tuple[str, str, str]] = [
    ("on_time_share", "on-time", "{:.1%}"),
    ("severe_delays", "severe delays", "{:,.0f}"),
    ("tickets_unserved", "unserved", "{:,.0f}"),
    ("grab_fill_rate", "grab fill", "{:.1%}"),
    ("mean_hours_to_grab", "h to fill", "{:.2f}"),
    ("utilisation", "utilisation", "{:.1%}"),
    ("budget_refusals", "refusals", "{:,.0f}"),
    ("win_rate", "win rate", "{:.1%}"),
    ("won_revenue", "won revenue", "{:,.0f}"),
    ("presales_cost", "presales cost", "{:,.0f}"),
    ("cost_to_revenue", "cost/revenue", "{:.2%}"),
]

#: Policies compared when none are named: every built-in policy, and direct
#: booking under each of its rankings.
DEFAULT_POLICIES = [
    "coordinator",
    "direct",
    "direct:cheapest",
    "direct:earliest",
    "direct:least_loaded",
    "direct:weighted",
    "batch",
    "hybrid",
    "grab_first",
    "progressive_push",
]

_RANKINGS = Dispatch.model_fields["ranking"].annotation.__args__


def policy_variant(spec: str) -> Variant:
    """The experiment variant of a policy named ``policy`` or ``policy:ranking``.

    Raises:
        ValueError: If the policy or the ranking is unknown.
    """
    name, _, ranking = spec.partition(":")
    if name not in policy_names():
        raise ValueError(
            f"unknown dispatch policy {name!r}; use one of {', '.join(policy_names())}"
        )
    overrides: dict[str, Any] = {"dispatch.policy": name}
    if ranking:
        if ranking not in _RANKINGS:
            raise ValueError(
                f"unknown ranking {ranking!r} in {spec!r}; use one of "
                f"{', '.join(_RANKINGS)}"
            )
        overrides["dispatch.ranking"] = ranking
    return Variant(spec, overrides)


def scenario_config(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    overrides: Mapping[str, Any] | None = None,
    days: int | None = None,
) -> dict[str, Any]:
    """A validated plain-dict config of ``scenario`` with ``overrides`` applied.

    Args:
        scenario: A TOML path, a parsed dict or a ``Scenario``.
        overrides: Dotted-path settings for every policy (missing tables are
            created, e.g. ``pricing.scheme`` in a file with no ``[pricing]``).
        days: Horizon in days, overriding the scenario's.

    Raises:
        ScenarioError: If the file or the result is not a valid scenario.
    """
    source = "<scenario>"
    if isinstance(scenario, Scenario):
        raw: dict[str, Any] = scenario.model_dump(mode="python")
    elif isinstance(scenario, Mapping):
        raw = dict(scenario)
    else:
        path = Path(scenario)
        source = str(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ScenarioError(source, ["file not found; check the path"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(source, [f"not valid TOML: {exc}"]) from None
    settings = dict(overrides or {})
    if days is not None:
        settings["scenario.horizon_days"] = int(days)
    config = apply_overrides(raw, settings, allow_new=True)
    parsed = scenario_from_dict(config, source=source)
    # Policy variants override these two paths, so they must exist.
    config = apply_overrides(
        config,
        {
            "dispatch.policy": parsed.dispatch.policy,
            "dispatch.ranking": parsed.dispatch.ranking,
        },
        allow_new=True,
    )
    config.setdefault("scenario", {})["seed"] = parsed.scenario.seed
    return config


def compare_policies(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    policies: Sequence[str] | None = None,
    replications: int = 5,
    *,
    overrides: Mapping[str, Any] | None = None,
    days: int | None = None,
    base_seed: int | None = None,
    executor: Any = None,
    confidence: float = 0.95,
    progress: bool = False,
) -> pd.DataFrame:
    """Run ``scenario`` under each policy and tabulate the outcomes.

    Args:
        scenario: A TOML path, a parsed dict or a ``Scenario``.
        policies: Policy names (``policy`` or ``policy:ranking``); default
            :data:`DEFAULT_POLICIES`.
        replications: Replications per policy (common random numbers).
        overrides: Dotted-path settings applied to every policy alike.
        days: Horizon in days, overriding the scenario's.
        base_seed: Base seed of the replications; default the scenario's seed.
        executor: ``"serial"``, ``"processes"``, ``"dask"`` or an executor
            (see ``sim.experiment.run_experiment``); default local processes.
        confidence: Two-sided confidence level of the intervals.
        progress: Show a progress bar on stderr.

    Returns:
        One row per policy (index ``policy``): for each outcome of
        :data:`POLICY_OUTCOMES` its mean and, in ``<outcome>_hw``, the
        half-width of its confidence interval; ``n`` replications. The
        per-replication results are in ``table.attrs["replications"]``.
    """
    variants = [policy_variant(p) for p in (policies or DEFAULT_POLICIES)]
    config = scenario_config(scenario, overrides, days)
    seed = config["scenario"]["seed"] if base_seed is None else base_seed
    results = run_experiment(
        replication_outcomes,
        config,
        variants,
        replications,
        seed,
        executor=executor,
        progress=progress,
    )
    table = policy_table(results, confidence)
    table.attrs["replications"] = results
    table.attrs["confidence"] = confidence
    table.attrs["horizon_days"] = config["scenario"].get("horizon_days")
    return table


def policy_table(results: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Means and interval half-widths per policy from per-replication results."""
    rows = []
    for name, group in results.groupby("variant", sort=False):
        row: dict[str, Any] = {"policy": name, "n": len(group)}
        for key, _, _ in POLICY_OUTCOMES:
            interval = mean_ci(group[key], confidence)
            row[key] = interval.mean
            row[f"{key}_hw"] = interval.half_width
        rows.append(row)
    return pd.DataFrame(rows).set_index("policy")


def policy_differences(
    table: pd.DataFrame, versus: str, confidence: float = 0.95
) -> pd.DataFrame:
    """Paired differences of every policy from ``versus`` (common random numbers).

    Args:
        table: A result of :func:`compare_policies`.
        versus: The policy to compare against, e.g. ``"coordinator"``.
        confidence: Two-sided confidence level.

    Returns:
        One row per other policy and outcome of :data:`POLICY_OUTCOMES`, as
        ``sim.experiment.compare`` gives it (``diff`` is policy minus
        ``versus``; ``significant`` when its interval excludes zero).
    """
    keys = [key for key, _, _ in POLICY_OUTCOMES]
    with warnings.catch_warnings():
        # An outcome undefined under a policy (no grab orders) is all NaN.
        warnings.simplefilter("ignore", RuntimeWarning)
        return compare(table.attrs["replications"], versus, keys, confidence)


def format_policy_table(table: pd.DataFrame) -> str:
    """The comparison as text: ``mean ±half-width`` per policy and outcome."""
    cells = {}
    for key, label, fmt in POLICY_OUTCOMES:
        column = []
        for mean, hw in zip(table[key], table[f"{key}_hw"], strict=True):
            if math.isnan(mean):
                column.append("n/a")
                continue
            text = fmt.format(mean)
            if not math.isnan(hw):
                text += " ±" + (fmt.format(hw) if math.isfinite(hw) else "inf")
            column.append(text)
        cells[label] = column
    frame = pd.DataFrame(cells, index=table.index)
    return frame.to_string()


# -- command line --------------------------------------------------------------


def add_policies(sub) -> None:
    """Register the ``policies`` subcommand."""
    cmd = sub.add_parser(
        "policies",
        help="compare dispatch policies on the same demand (one table)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    cmd.add_argument("scenario", type=Path, help="scenario TOML file")
    cmd.add_argument(
        "--replications", "-n", type=int, default=5, help="replications per policy"
    )
    cmd.add_argument(
        "--policy",
        action="append",
        default=None,
        help="policy to compare, as policy or policy:ranking (repeat); "
        "default: every built-in policy and direct under each ranking",
    )
    cmd.add_argument("--days", type=int, default=None, help="override the horizon")
    cmd.add_argument(
        "--pricing", default=None, help="pricing scheme: flat, tiered or surge"
    )
    cmd.add_argument(
        "--incentive", type=float, default=None, help="grab incentive uplift, 0-1"
    )
    cmd.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="any scenario setting for every policy, e.g. budget.rollover=rollover",
    )
    cmd.add_argument(
        "--seed", type=int, default=None, help="base seed (default: the scenario's)"
    )
    cmd.add_argument(
        "--executor",
        default=None,
        choices=["serial", "processes", "dask"],
        help="where replications run (default: local processes)",
    )
    cmd.add_argument(
        "--versus",
        default=None,
        metavar="POLICY",
        help="also print each policy's paired difference from POLICY",
    )
    cmd.add_argument(
        "--csv", type=Path, default=None, help="also write the table as CSV here"
    )
    cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    cmd.set_defaults(handler=_cmd_policies)


def _cmd_policies(args) -> int:
    from models.cli import UsageError

    if args.replications < 2:
        raise UsageError(
            f"--replications {args.replications}: give at least 2, so that each "
            "mean has a confidence interval"
        )
    if args.days is not None and args.days < 1:
        raise UsageError("--days must be at least 1")
    overrides: dict[str, Any] = {}
    try:
        for text in args.set:
            path, value = parse_assignment(text)
            overrides[path] = value
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.pricing is not None:
        overrides["pricing.scheme"] = args.pricing
    if args.incentive is not None:
        overrides["grab.incentive"] = args.incentive
    try:
        variants = [policy_variant(p) for p in (args.policy or DEFAULT_POLICIES)]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.versus is not None and args.versus not in [v.name for v in variants]:
        raise UsageError(f"--versus {args.versus!r} is not among the policies run")
    table = compare_policies(
        args.scenario,
        [v.name for v in variants],
        args.replications,
        overrides=overrides,
        days=args.days,
        base_seed=args.seed,
        executor=args.executor,
        progress=not args.quiet,
    )
    print(
        f"{args.scenario}: {args.replications} replication(s) per policy, "
        f"{table.attrs['horizon_days']} days, common random numbers; "
        f"mean ±{table.attrs['confidence']:.0%} CI half-width"
    )
    print(format_policy_table(table))
    if args.versus is not None:
        diffs = policy_differences(table, args.versus)
        print(f"\npaired differences from {args.versus} (* = CI excludes 0)")
        print(_format_differences(diffs))
    if args.csv is not None:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv)
        print(f"wrote {args.csv}")
    return 0


def _format_differences(diffs: pd.DataFrame) -> str:
    fmt = {key: f for key, _, f in POLICY_OUTCOMES}
    label = {key: name for key, name, _ in POLICY_OUTCOMES}
    cells: dict[str, dict[str, str]] = {}
    for row in diffs.itertuples(index=False):
        if math.isnan(row.diff):
            text = "n/a"
        else:
            f = fmt[row.outcome]
            hw = row.half_width
            text = (
                f.format(row.diff)
                + " ±"
                + (f.format(hw) if math.isfinite(hw) else "inf")
            )
            text += "*" if row.significant else ""
            if row.diff > 0 and not text.startswith("+"):
                text = "+" + text
        cells.setdefault(label[row.outcome], {})[row.variant] = text
    return pd.DataFrame(cells).to_string()
