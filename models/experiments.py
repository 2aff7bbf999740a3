"""Experiments on scenario files: comparisons, sweeps and staffing searches.

These are the functions behind ``presales-sim compare``, ``sweep`` and
``staff``, for use in notebooks. Each takes a scenario (a TOML file or a config
dict as :func:`load_config` returns it), runs replications of the real model
with :func:`models.runner.replication_outcomes` through the harness in
:mod:`sim.experiment`, and returns tables as pandas DataFrames::

    from models.experiments import compare
    result = compare("scenarios/crm_calibrated.toml",
                     {"direct": {"dispatch.policy": "direct"}},
                     replications=10, executor="processes", store="results")
    result.differences          # variant minus baseline, paired by replication

Replication ``k`` of every variant uses the same random stream (common random
numbers), derived from the base seed (the scenario's ``scenario.seed`` unless
given), so results do not depend on the number of replications, the executor
or ``PYTHONHASHSEED``. Outcomes exclude the scenario's ``scenario.warmup_days``
(see :mod:`models.outcomes`). With a store, every finished replication is saved
at once and a rerun skips what is stored.

Money outcomes are in the scenario's currency, durations in working hours and
shares in [0, 1].
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from models.cell_outcomes import outcomes_by_cell
from models.erlang_reference import (
    QueueParameters,
    erlang_point,
    erlang_reference,
    queue_parameters,
    staffing_reference,
)
from models.experiment_inputs import (
    ScenarioLike,
    StoreLike,
    base_seed,
    check_variant_configs,
    executor_for,
    load_config,
    open_store,
    outcome_names,
    parse_assignments,
    parse_target,
    parse_variant,
    prepared_config,
)
from models.runner import replication_outcomes
from sim import experiment as harness
from sim.executors import Executor
from sim.overrides import get_path
from sim.stats import rank_variants, summarise

__all__ = [
    "BASELINE",
    "Comparison",
    "KEY_OUTCOMES",
    "LOWER_IS_BETTER",
    "QueueParameters",
    "Staffing",
    "SweepResult",
    "compare",
    "describe_pools",
    "erlang_point",
    "erlang_reference",
    "higher_is_better",
    "load_config",
    "outcome_names",
    "parse_assignments",
    "parse_target",
    "parse_variant",
    "pool_paths",
    "queue_parameters",
    "split_headcount",
    "staff",
    "sweep",
]

BASELINE = harness.BASELINE

KEY_OUTCOMES = (
    "on_time_share",
    "fill_rate",
    "mean_response_hours",
    "grab_fill_rate",
    "incentive_paid",
    "budget_refusals",
    "utilisation",
    "mean_rating",
    "win_rate",
    "won_revenue",
    "presales_cost",
    "cost_to_revenue",
)
"""Outcomes shown by default in tables and reports."""

LOWER_IS_BETTER = frozenset(
    {
        "tickets_unserved",
        "slight_delays",
        "severe_delays",
        "mean_delay_hours",
        "mean_response_hours",
        "mean_lead_hours",
        "mean_hours_to_grab",
        "incentive_paid",
        "budget_refusals",
        "unserved_for_budget",
        "presales_cost",
        "cost_to_revenue",
        "alerts",
        "playbooks_applied",
    }
)
"""Outcomes where a smaller mean is the better one (used for rankings)."""


def higher_is_better(outcome: str) -> bool:
    """Return whether a larger mean of ``outcome`` is better.

    Cell outcomes (``on_time_share.East.GTX``) follow their plain outcome.
    """
    return outcome.split(".", 1)[0] not in LOWER_IS_BETTER


def _runner(by_cell: bool):
    """The replication runner: key outcomes, plus cells when ``by_cell``."""
    return outcomes_by_cell if by_cell else replication_outcomes


# ---------------------------------------------------------------- compare


@dataclass
class Comparison:
    """A comparison of variants of one scenario.

    Attributes:
        results: One row per variant and replication: ``variant``,
            ``replication``, ``scenario_hash`` and every outcome.
        summary: Tidy means with Student-t intervals: ``variant, outcome,
            mean, half_width, ci_low, ci_high, n``.
        differences: Paired differences variant minus baseline per outcome,
            with intervals and a ``significant`` flag.
        ranking: Per outcome, variants ranked best first, each tested against
            the best (``tied_with_best``).
        baseline: Name of the baseline variant.
        variants: The variants run, baseline first.
        replications: Replications per variant.
        seed: Base seed.
        confidence: Two-sided confidence level of the intervals.
        scenario: Scenario file (or ``<config>``).
        config: The base config after overrides.
    """

    results: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    ranking: pd.DataFrame
    baseline: str
    variants: list[harness.Variant]
    replications: int
    seed: int
    confidence: float
    scenario: str
    config: dict


def _variants(variants, baseline: str) -> list[harness.Variant]:
    if variants is None:
        variants = []
    elif isinstance(variants, Mapping):
        variants = [harness.Variant(n, dict(o)) for n, o in variants.items()]
    else:
        variants = [
            v if isinstance(v, harness.Variant) else parse_variant(v) for v in variants
        ]
    if baseline not in {v.name for v in variants}:
        variants.insert(0, harness.Variant(baseline, {}))
    return variants


def _differences(results: pd.DataFrame, baseline: str, confidence: float):
    """Paired differences; an outcome undefined in every replication gives NaN."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        return harness.compare(results, baseline, confidence=confidence)


def _ranking(results: pd.DataFrame, outcomes, confidence: float) -> pd.DataFrame:
    frames = []
    for outcome in outcomes:
        if outcome not in results or results[outcome].isna().all():
            continue
        table = rank_variants(results, outcome, higher_is_better(outcome), confidence)
        table.insert(0, "outcome", outcome)
        table.insert(2, "better", "higher" if higher_is_better(outcome) else "lower")
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def compare(
    scenario: ScenarioLike,
    variants: Mapping[str, Mapping[str, Any]] | Sequence[Any] | None,
    replications: int = 10,
    executor: Executor | str | None = None,
    store: StoreLike = None,
    *,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    baseline: str = BASELINE,
    rank_by: Sequence[str] = KEY_OUTCOMES,
    confidence: float = 0.95,
    dask_address: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    by_cell: bool = False,
) -> Comparison:
    """Compare variants of a scenario with common random numbers.

    Args:
        scenario: Scenario file or config dict.
        variants: Name to overrides, or :class:`~sim.experiment.Variant`
            objects, or ``"NAME:path=value,..."`` strings. A baseline with no
            overrides is added first unless a variant has the baseline's name.
        replications: Replications per variant.
        executor: ``"serial"``, ``"processes"`` (default, all cores),
            ``"dask"`` or an executor object (not closed here).
        store: Result store or its folder; stored replications are reused.
        seed: Base seed (default the scenario's ``scenario.seed``).
        overrides: Path to value applied to the scenario before the variants
            (e.g. ``{"scenario.horizon_days": 60}``).
        baseline: Name of the variant the others are compared with.
        rank_by: Outcomes to rank variants on.
        confidence: Two-sided confidence level.
        dask_address: Scheduler address for the dask executor (default: a
            private local cluster).
        workers: Worker processes (processes or a local Dask cluster).
        progress: Show a progress bar with ETA on stderr.
        by_cell: Add outcomes per region x solution (see
            :mod:`models.cell_outcomes`).

    Returns:
        A :class:`Comparison`.

    Raises:
        ScenarioError: If the scenario or a variant's config is invalid.
        OverrideError: If an override path does not exist.
        ReplicationError: If a replication fails.
    """
    config, label = prepared_config(scenario, overrides)
    variants = _variants(variants, baseline)
    check_variant_configs(config, label, variants)
    seed0 = base_seed(config, seed)
    with executor_for(executor, dask_address, workers) as chosen:
        results = harness.run_experiment(
            _runner(by_cell),
            config,
            variants,
            replications,
            seed0,
            executor=chosen,
            store=open_store(store),
            progress=progress,
        )
    return Comparison(
        results=results,
        summary=summarise(results, ["variant"], confidence=confidence),
        differences=_differences(results, baseline, confidence),
        ranking=_ranking(results, rank_by, confidence),
        baseline=baseline,
        variants=variants,
        replications=int(replications),
        seed=seed0,
        confidence=confidence,
        scenario=label,
        config=config,
    )


# ---------------------------------------------------------------- sweep


@dataclass
class SweepResult:
    """A sweep over scenario fields.

    Attributes:
        results: One row per point and replication, with a column per swept
            path (``results.attrs["swept"]`` lists them).
        table: The tidy table: swept paths, ``variant, outcome, mean,
            half_width, ci_low, ci_high, n``.
        paths: The swept paths.
        replications: Replications per point.
        seed: Base seed.
        confidence: Two-sided confidence level.
        scenario: Scenario file (or ``<config>``).
        config: The base config after overrides.
    """

    results: pd.DataFrame
    table: pd.DataFrame
    paths: list[str]
    replications: int
    seed: int
    confidence: float
    scenario: str
    config: dict


def sweep(
    scenario: ScenarioLike,
    grid: Mapping[str, Sequence[Any]] | None = None,
    points: Sequence[Mapping[str, Any]] | None = None,
    replications: int = 10,
    executor: Executor | str | None = None,
    store: StoreLike = None,
    *,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    confidence: float = 0.95,
    dask_address: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    by_cell: bool = False,
) -> SweepResult:
    """Run a scenario over a full grid or a list of points of its fields.

    Args:
        scenario: Scenario file or config dict.
        grid: Dotted path to values, run as a full factorial grid, e.g.
            ``{"grab.incentive": [0.2, 0.5], "dispatch.policy": ["direct"]}``.
        points: Or an explicit list of ``{path: value}`` points.
        replications: Replications per point.
        executor: As for :func:`compare`.
        store: As for :func:`compare`.
        seed: As for :func:`compare`.
        overrides: As for :func:`compare`.
        confidence: Two-sided confidence level.
        dask_address: As for :func:`compare`.
        workers: As for :func:`compare`.
        progress: Show a progress bar.
        by_cell: Add outcomes per region x solution (see
            :mod:`models.cell_outcomes`).

    Returns:
        A :class:`SweepResult`.

    Raises:
        ValueError: If neither or both of grid and points are given.
        ScenarioError: If a point's config is invalid.
    """
    config, label = prepared_config(scenario, overrides)
    variants = harness.sweep_variants(grid, points)
    check_variant_configs(config, label, variants)
    seed0 = base_seed(config, seed)
    with executor_for(executor, dask_address, workers) as chosen:
        results = harness.sweep(
            _runner(by_cell),
            config,
            points=[v.overrides for v in variants],
            replications=replications,
            base_seed=seed0,
            executor=chosen,
            store=open_store(store),
            progress=progress,
        )
    paths = list(results.attrs["swept"])
    table = summarise(
        results,
        [*paths, "variant"],
        outcomes=results.attrs["outcomes"],
        confidence=confidence,
    )
    return SweepResult(
        results, table, paths, int(replications), seed0, confidence, label, config
    )


# ---------------------------------------------------------------- staffing


def pool_paths(
    config: Mapping[str, Any],
    region: str | None = None,
    solution: str | None = None,
    grade: str | None = None,
) -> list[str]:
    """Return the headcount paths of the engineer pools that match.

    Use them as the headcount paths of :func:`staff` or as sweep paths, so
    nobody has to count pool indices.

    Args:
        config: A scenario config.
        region: Home region of the pools (default any).
        solution: A solution the pools cover (default any).
        grade: Grade of the pools (default any).

    Returns:
        Paths like ``"engineers.pools[3].count"``, in file order.
    """
    pools = config.get("engineers", {}).get("pools", [])
    return [
        f"engineers.pools[{i}].count"
        for i, pool in enumerate(pools)
        if (region is None or pool.get("region") == region)
        and (solution is None or solution in pool.get("proficiency", {}))
        and (grade is None or pool.get("grade") == grade)
    ]


def describe_pools(config: Mapping[str, Any]) -> pd.DataFrame:
    """Return one row per engineer pool: path, region, grade, count, solutions."""
    pools = config.get("engineers", {}).get("pools", [])
    rows = [
        (
            f"engineers.pools[{i}].count",
            pool.get("region"),
            pool.get("grade"),
            pool.get("count"),
            ",".join(sorted(pool.get("proficiency", {}))),
        )
        for i, pool in enumerate(pools)
    ]
    return pd.DataFrame(rows, columns=["path", "region", "grade", "count", "solutions"])


def split_headcount(total: int, weights: Sequence[float]) -> list[int]:
    """Split a total headcount over pools in proportion to ``weights``.

    Largest remainders get the spare engineers (earlier pools win ties); with
    all weights zero the split is even.

    Args:
        total: Engineers to place (>= 0).
        weights: One non-negative weight per pool, e.g. today's counts.

    Returns:
        Counts adding up to ``total``.

    Raises:
        ValueError: If the total is negative or there are no pools.
    """
    if total < 0 or int(total) != total:
        raise ValueError(f"headcount must be a whole number >= 0, got {total!r}")
    if not weights:
        raise ValueError("no pools to split a headcount over")
    weights = [float(w) for w in weights]
    if sum(weights) <= 0:
        weights = [1.0] * len(weights)
    shares = [int(total) * w / sum(weights) for w in weights]
    counts = [math.floor(s) for s in shares]
    order = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], i))
    for i in order[: int(total) - sum(counts)]:
        counts[i] += 1
    return counts


def _candidate_counts(config: dict, paths: list[str], candidates) -> list[list[int]]:
    """Every candidate as one count per path."""
    weights = [get_path(config, p) for p in paths]
    counts = []
    for candidate in candidates:
        if isinstance(candidate, Mapping):
            counts.append([candidate[p] for p in paths])
        elif isinstance(candidate, Sequence) and not isinstance(candidate, str):
            if len(candidate) != len(paths):
                raise ValueError(
                    f"candidate {list(candidate)} needs one count per headcount "
                    f"path ({len(paths)})"
                )
            counts.append(list(candidate))
        else:
            counts.append(split_headcount(candidate, weights))
    return counts


@dataclass
class Staffing:
    """A staffing search and, for queue-mode scenarios, its Erlang C reference.

    Attributes:
        search: What :func:`sim.experiment.staffing_search` found: ``curve``,
            ``checks``, ``least_headcount``, ``least``, ``statement``,
            ``results``.
        paths: Headcount paths varied.
        targets: The targets.
        erlang: One row per candidate with the M/M/c values (see
            :func:`erlang_reference`), or None when the scenario is not a
            queue one.
        erlang_least_headcount: Least headcount by Erlang C for the targets it
            can judge, or None.
        erlang_note: Why there is no reference, or how exact it is.
        replications: Replications per candidate.
        seed: Base seed.
        scenario: Scenario file (or ``<config>``).
        config: The base config after overrides.
    """

    search: harness.StaffingResult
    paths: list[str]
    targets: list[harness.Target]
    erlang: pd.DataFrame | None
    erlang_least_headcount: int | None
    erlang_note: str
    replications: int
    seed: int
    scenario: str
    config: dict

    @property
    def curve(self) -> pd.DataFrame:
        """Outcome means with intervals against headcount."""
        return self.search.curve

    @property
    def checks(self) -> pd.DataFrame:
        """Each candidate against each target."""
        return self.search.checks

    @property
    def least_headcount(self) -> float | None:
        """Least total headcount meeting every target, or None."""
        return self.search.least_headcount

    @property
    def statement(self) -> str:
        """The answer in one sentence."""
        return self.search.statement


def staff(
    scenario: ScenarioLike,
    candidates: Sequence[Any],
    targets: Sequence[harness.Target | str],
    headcount_paths: str | Sequence[str] | None = None,
    replications: int = 10,
    executor: Executor | str | None = None,
    store: StoreLike = None,
    *,
    region: str | None = None,
    solution: str | None = None,
    grade: str | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    confidence: float = 0.95,
    dask_address: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    by_cell: bool = True,
) -> Staffing:
    """Find the least headcount that meets every target.

    The headcount paths are given, or else the engineer pools of ``region``
    x ``solution`` (x ``grade``) found by :func:`pool_paths` (all pools when
    none of the three is given). A candidate is a total headcount, split over
    the paths in proportion to their current counts (:func:`split_headcount`),
    or one count per path (a sequence or a path-to-count mapping).

    Args:
        scenario: Scenario file or config dict.
        candidates: Headcounts to try.
        targets: :class:`~sim.experiment.Target` objects or strings such as
            ``"on_time_share>=0.95"`` (see :func:`parse_target`); all must be
            met, each judged by a one-sided bound at its confidence.
        headcount_paths: Dotted paths of the counts to vary.
        replications: Replications per candidate.
        executor: As for :func:`compare`.
        store: As for :func:`compare`.
        region: Pools of this home region.
        solution: Pools covering this solution.
        grade: Pools of this grade.
        seed: As for :func:`compare`.
        overrides: As for :func:`compare`.
        confidence: Two-sided level of the curve's intervals.
        dask_address: As for :func:`compare`.
        workers: As for :func:`compare`.
        progress: Show a progress bar.
        by_cell: Add outcomes per region x solution (default on), so
            targets may name one cell, e.g. ``on_time_share.East.GTX``.

    Returns:
        A :class:`Staffing`.

    Raises:
        ValueError: If no pool matches, a target names an unknown outcome or
            a candidate is malformed.
        ScenarioError: If a candidate's config is invalid.
    """
    config, label = prepared_config(scenario, overrides)
    if headcount_paths is None:
        paths = pool_paths(config, region, solution, grade)
        if not paths:
            raise ValueError(
                f"no engineer pool matches region={region!r}, solution="
                f"{solution!r}, grade={grade!r}; see describe_pools(config)"
            )
    else:
        paths = (
            [headcount_paths]
            if isinstance(headcount_paths, str)
            else list(headcount_paths)
        )
    targets = [t if isinstance(t, harness.Target) else parse_target(t) for t in targets]
    known = outcome_names(config, _runner(by_cell))
    unknown = sorted({t.outcome for t in targets} - set(known))
    if unknown:
        raise ValueError(
            f"targets name unknown outcomes {unknown}; choose from {', '.join(known)}"
        )
    counts = _candidate_counts(config, paths, candidates)
    points = [dict(zip(paths, c, strict=True)) for c in counts]
    check_variant_configs(config, label, harness.sweep_variants(points=points))
    seed0 = base_seed(config, seed)
    with executor_for(executor, dask_address, workers) as chosen:
        found = harness.staffing_search(
            _runner(by_cell),
            config,
            paths,
            counts,
            targets,
            replications,
            seed0,
            executor=chosen,
            store=open_store(store),
            progress=progress,
            confidence=confidence,
        )
    erlang, least, note = staffing_reference(config, paths, counts, targets)
    return Staffing(
        found,
        paths,
        targets,
        erlang,
        least,
        note,
        int(replications),
        seed0,
        label,
        config,
    )
