"""Experiments: replications of config variants, sweeps and staffing searches.

The model side supplies a *runner*, a picklable top-level function::

    def runner(config: dict, seed: numpy.random.SeedSequence) -> dict[str, float]

that runs one replication of the scenario described by ``config`` (a plain
nested dict, e.g. parsed from TOML) and returns named outcomes. The harness
knows nothing else about the model.

* A :class:`Variant` is a name plus dotted-path overrides of the config (see
  :mod:`sim.overrides`).
* Replication ``k`` of every variant gets the same seed (common random
  numbers, see :mod:`sim.seeds`), so variants are compared pairwise.
* Warm-up is the runner's business: its length lives in the config (and can be
  varied by an override like any other setting); the harness passes the config
  through untouched and the runner discards the warm-up period itself.
* With a :class:`~sim.store.ResultStore`, every finished replication is saved
  at once and replications already stored are skipped, so an interrupted run
  resumes where it stopped, without duplicates.
"""

from __future__ import annotations

import copy
import itertools
import logging
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.executors import Executor, make_executor
from sim.overrides import apply_overrides, content_hash, format_value
from sim.seeds import replication_seed
from sim.stats import (
    mean_ci,
    one_sided_bound,
    outcome_columns,
    paired_by_replication,
    paired_difference,
    summarise,
)
from sim.store import ResultKey, ResultStore

__all__ = [
    "BASELINE",
    "ReplicationError",
    "StaffingResult",
    "Target",
    "Variant",
    "compare",
    "run_experiment",
    "staffing_search",
    "sweep",
    "sweep_variants",
    "variant_name",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

Runner = Callable[[dict, np.random.SeedSequence], Mapping[str, float]]
BASELINE = "baseline"
_KEY_COLUMNS = ("variant", "replication", "scenario_hash")


class ReplicationError(RuntimeError):
    """A runner failed on one replication; the message names which."""


@dataclass(frozen=True)
class Variant:
    """A named set of config overrides.

    Attributes:
        name: Unique name within an experiment.
        overrides: Dotted path to value, e.g. ``{"grab.incentive": 0.5}``.
    """

    name: str
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"variant name must be a non-empty string, "
                             f"got {self.name!r}")


@dataclass(frozen=True)
class _Task:
    runner: Runner
    config: dict
    seed: np.random.SeedSequence
    key: ResultKey


def _as_outcomes(key: ResultKey, raw: Any) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise ReplicationError(f"runner returned {type(raw).__name__} for variant "
                               f"{key.variant!r} replication {key.replication}; "
                               "expected a dict of outcome name to number")
    outcomes = {}
    for name, value in raw.items():
        if not isinstance(name, str) or name in _KEY_COLUMNS:
            raise ReplicationError(f"bad outcome name {name!r} from variant "
                                   f"{key.variant!r}")
        try:
            outcomes[name] = float(value)
        except (TypeError, ValueError) as exc:
            raise ReplicationError(f"outcome {name!r} of variant {key.variant!r} "
                                   f"replication {key.replication} is not a "
                                   f"number: {value!r}") from exc
    return outcomes


def _run_task(task: _Task) -> tuple[ResultKey, dict[str, float]]:
    """Run one replication (top-level so that process workers can import it)."""
    try:
        raw = task.runner(copy.deepcopy(task.config), task.seed)
    except Exception as exc:
        raise ReplicationError(
            f"variant {task.key.variant!r} replication {task.key.replication} "
            f"failed: {type(exc).__name__}: {exc}") from exc
    return task.key, _as_outcomes(task.key, raw)


def _runner_id(runner: Runner) -> str:
    module = getattr(runner, "__module__", None) or type(runner).__module__
    name = getattr(runner, "__qualname__", None) or type(runner).__qualname__
    return f"{module}:{name}"


def _check_variants(variants: Sequence[Variant] | None) -> list[Variant]:
    variants = list(variants) if variants else [Variant(BASELINE)]
    names = [v.name for v in variants]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate variant names: {duplicates}")
    return variants


def _plan(runner, config, variants, replications, base_seed) -> list[_Task]:
    tasks = []
    for variant in variants:
        effective = apply_overrides(config, variant.overrides)
        digest = content_hash({"config": effective, "base_seed": base_seed,
                               "runner": _runner_id(runner)})
        for k in range(replications):
            tasks.append(_Task(runner, effective, replication_seed(base_seed, k),
                               ResultKey(digest, variant.name, k)))
    return tasks


def _open_executor(executor: Executor | str | None, pending: int):
    """Return ``(executor, owned)``; owned executors are closed by the caller."""
    if executor is None:
        executor = "processes" if pending > 1 else "serial"
    if isinstance(executor, str):
        options = {"workers": min(pending, os.cpu_count() or 1)} if (
            executor == "processes") else {}
        return make_executor(executor, **options), True
    return executor, False


def _execute(tasks, executor, store, progress, total) -> dict[ResultKey, dict]:
    results: dict[ResultKey, dict[str, float]] = {}
    if not tasks:
        return results
    bar = tqdm(total=total, initial=total - len(tasks), disable=not progress,
               desc="replications", unit="rep", file=sys.stderr, dynamic_ncols=True)
    runner_pool, owned = _open_executor(executor, len(tasks))
    try:
        for key, outcomes in runner_pool.map_unordered(_run_task, tasks):
            if store is not None:
                store.write(key, outcomes)
            results[key] = outcomes
            bar.update(1)
    finally:
        bar.close()
        if owned:
            runner_pool.close()
    return results


def _frame(tasks, results, variants) -> pd.DataFrame:
    order = {v.name: i for i, v in enumerate(variants)}
    tasks = sorted(tasks, key=lambda t: (order[t.key.variant], t.key.replication))
    records, outcome_names = [], {}
    for task in tasks:
        outcomes = results[task.key]
        outcome_names.update(dict.fromkeys(outcomes))
        records.append({"variant": task.key.variant,
                        "replication": task.key.replication,
                        "scenario_hash": task.key.scenario_hash, **outcomes})
    columns = [*_KEY_COLUMNS, *outcome_names]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame["replication"] = frame["replication"].astype("int64")
    for name in outcome_names:
        frame[name] = frame[name].astype("float64")
    frame.attrs["outcomes"] = list(outcome_names)
    return frame


def run_experiment(
    runner: Runner,
    config: Mapping[str, Any],
    variants: Sequence[Variant] | None = None,
    replications: int = 10,
    base_seed: int = 0,
    *,
    executor: Executor | str | None = None,
    store: ResultStore | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run every variant for ``replications`` replications.

    Replication ``k`` of every variant uses seed
    ``SeedSequence(base_seed, spawn_key=(k,))``, so results do not depend on the
    executor, the number of replications or the order of completion.

    Warm-up is configured in ``config`` and handled by the runner; the harness
    passes each variant's config through unchanged.

    Args:
        runner: ``runner(config, seed) -> {outcome: number}``, picklable.
        config: Base config (not modified).
        variants: Variants to run; default one variant named ``"baseline"``
            with no overrides.
        replications: Replications per variant (>= 1).
        base_seed: Base seed of the experiment.
        executor: An executor, or ``"serial"``, ``"processes"``, ``"dask"``.
            Default: local processes (serial when at most one replication is
            left to run). Executors passed in are not closed here.
        store: Where to save each replication as it finishes; replications
            already there (same config, base seed and runner) are not re-run.
        progress: Show a progress bar with ETA on stderr.

    Returns:
        One row per variant and replication, in variant order then replication
        order, with columns ``variant, replication, scenario_hash`` and one
        float column per outcome (``df.attrs["outcomes"]`` lists them).

    Raises:
        ReplicationError: If the runner fails or returns something other than
            named numbers.
        OverrideError: If a variant's override path does not exist.
    """
    if isinstance(replications, bool) or int(replications) != replications or (
            replications < 1):
        raise ValueError(f"replications must be a positive integer, got "
                         f"{replications!r}")
    variants = _check_variants(variants)
    tasks = _plan(runner, config, variants, int(replications), base_seed)
    stored = {t.key for t in tasks if store is not None and store.has(t.key)}
    pending = [t for t in tasks if t.key not in stored]
    if store is not None:
        store.clean_temp()
        logger.info("%d of %d replications already stored in %s; running %d",
                    len(stored), len(tasks), store.root, len(pending))
    results = _execute(pending, executor, store, progress, len(tasks))
    results.update({key: store.read(key) for key in stored})
    return _frame(tasks, results, variants)


def compare(
    results: pd.DataFrame,
    baseline: str = BASELINE,
    outcomes: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Compare every variant with a baseline by paired differences.

    Replications are paired by index, which carries the common random numbers.

    Args:
        results: Output of :func:`run_experiment` (or :func:`sweep`).
        baseline: Name of the baseline variant.
        outcomes: Outcomes to compare (default: all).
        confidence: Two-sided confidence level.

    Returns:
        One row per other variant and outcome with columns ``variant, outcome,
        baseline_mean, variant_mean, diff, half_width, ci_low, ci_high,
        relative_diff, n, significant`` (``diff`` is variant minus baseline).

    Raises:
        ValueError: If the baseline is not in the results.
    """
    names = list(dict.fromkeys(results["variant"]))
    if baseline not in names:
        raise ValueError(f"baseline {baseline!r} not among variants {names}")
    outcomes = list(outcomes) if outcomes is not None else outcome_columns(results)
    rows = []
    for name in (n for n in names if n != baseline):
        for outcome in outcomes:
            ours, base = paired_by_replication(results, name, baseline, outcome)
            rows.append(_comparison_row(name, outcome, ours, base, confidence))
    return pd.DataFrame(rows, columns=[
        "variant", "outcome", "baseline_mean", "variant_mean", "diff",
        "half_width", "ci_low", "ci_high", "relative_diff", "n", "significant"])


def _comparison_row(name, outcome, ours, base, confidence) -> tuple:
    diff = paired_difference(ours, base, confidence)
    base_mean = float(np.nanmean(base)) if base.size else math.nan
    ours_mean = float(np.nanmean(ours)) if ours.size else math.nan
    relative = diff.mean / base_mean if base_mean else math.nan
    return (name, outcome, base_mean, ours_mean, diff.mean, diff.half_width,
            diff.low, diff.high, relative, diff.n, diff.significant)


def variant_name(overrides: Mapping[str, Any]) -> str:
    """Name a variant after its overrides, e.g. ``"a.b=0.5,c.d=hybrid"``.

    Args:
        overrides: Dotted path to value.

    Returns:
        The name; ``"baseline"`` for no overrides.
    """
    if not overrides:
        return BASELINE
    return ",".join(f"{path}={format_value(v)}" for path, v in overrides.items())


def sweep_variants(
    grid: Mapping[str, Sequence[Any]] | None = None,
    points: Iterable[Mapping[str, Any]] | None = None,
) -> list[Variant]:
    """Build variants from a full grid or from a list of points.

    Args:
        grid: Path to list of values; every combination becomes a variant,
            the last path varying fastest.
        points: Each a mapping of path to value; one variant each.

    Returns:
        Variants named by :func:`variant_name`.

    Raises:
        ValueError: If neither or both are given, or two points coincide.
    """
    if (grid is None) == (points is None):
        raise ValueError("give exactly one of grid or points")
    if grid is not None:
        paths = list(grid)
        combos = itertools.product(*(list(grid[p]) for p in paths))
        points = [dict(zip(paths, combo, strict=True)) for combo in combos]
    variants = [Variant(variant_name(p), dict(p)) for p in points]
    return _check_variants(variants) if variants else []


def sweep(
    runner: Runner,
    config: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]] | None = None,
    points: Iterable[Mapping[str, Any]] | None = None,
    replications: int = 10,
    base_seed: int = 0,
    *,
    executor: Executor | str | None = None,
    store: ResultStore | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run a sweep over config values with common random numbers.

    Args:
        runner: As for :func:`run_experiment`.
        config: Base config.
        grid: Path to values, run as a full factorial grid.
        points: Explicit list of ``{path: value}`` points.
        replications: Replications per point.
        base_seed: Base seed.
        executor: As for :func:`run_experiment`.
        store: As for :func:`run_experiment`.
        progress: Show a progress bar.

    Returns:
        The :func:`run_experiment` table with one extra column per swept path
        (named by the path, holding that point's value; missing for points that
        do not set it), placed after ``variant``. ``df.attrs["swept"]`` lists
        the paths.
    """
    variants = sweep_variants(grid, points)
    if not variants:
        raise ValueError("the sweep has no points")
    frame = run_experiment(runner, config, variants, replications, base_seed,
                           executor=executor, store=store, progress=progress)
    paths = list(dict.fromkeys(p for v in variants for p in v.overrides))
    values = {v.name: v.overrides for v in variants}
    for position, path in enumerate(paths, start=1):
        column = [values[name].get(path) for name in frame["variant"]]
        frame.insert(position, path, column)
    frame.attrs["swept"] = paths
    return frame


@dataclass(frozen=True)
class Target:
    """A service target on an outcome's mean, checked with a one-sided bound.

    ``Target("on_time_rate", ">=", 0.9)`` is met when the lower one-sided
    ``confidence`` bound of the mean is at least 0.9; with ``"<="`` the upper
    bound must be at most the threshold.

    Attributes:
        outcome: Outcome name.
        op: ``">="`` or ``"<="``.
        threshold: The value to reach.
        confidence: One-sided confidence level.
    """

    outcome: str
    op: str
    threshold: float
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if self.op not in (">=", "<="):
            raise ValueError(f"target op must be '>=' or '<=', got {self.op!r}")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence must be in (0, 1), got {self.confidence}")

    def bound(self, values: Iterable[float]) -> float:
        """Return the one-sided bound that decides the target."""
        side = "lower" if self.op == ">=" else "upper"
        return one_sided_bound(values, side, self.confidence)

    def is_met(self, values: Iterable[float]) -> bool:
        """Return whether the replications show the target is met."""
        bound = self.bound(values)
        if math.isnan(bound):
            return False
        return bound >= self.threshold if self.op == ">=" else (
            bound <= self.threshold)

    def __str__(self) -> str:
        return f"{self.outcome} {self.op} {self.threshold:g} ({self.confidence:.0%})"


@dataclass
class StaffingResult:
    """What :func:`staffing_search` found.

    Attributes:
        curve: One row per candidate and outcome: ``headcount``, the headcount
            paths, ``variant``, ``outcome``, ``mean``, ``half_width``,
            ``ci_low``, ``ci_high``, ``n``; sorted by headcount.
        checks: One row per candidate and target: ``headcount``, paths,
            ``variant``, ``target``, ``outcome``, ``op``, ``threshold``,
            ``confidence``, ``mean``, ``bound``, ``met``.
        least_headcount: Least total headcount meeting every target, or None
            when no candidate does.
        least: That candidate's headcount per path, or None.
        least_variant: That candidate's variant name, or None.
        results: The raw replication table.
        statement: One sentence stating the answer.
    """

    curve: pd.DataFrame
    checks: pd.DataFrame
    least_headcount: float | None
    least: dict[str, Any] | None
    least_variant: str | None
    results: pd.DataFrame
    statement: str


def _candidate_points(paths: list[str], candidates: Sequence[Any]) -> list[dict]:
    points = []
    for candidate in candidates:
        if isinstance(candidate, Mapping):
            if set(candidate) != set(paths):
                raise ValueError(f"candidate {dict(candidate)} must set exactly "
                                 f"{paths}")
            points.append({p: candidate[p] for p in paths})
        elif isinstance(candidate, Sequence) and not isinstance(candidate, str):
            if len(candidate) != len(paths):
                raise ValueError(f"candidate {candidate!r} needs one count per "
                                 f"path {paths}")
            points.append(dict(zip(paths, candidate, strict=True)))
        elif len(paths) == 1:
            points.append({paths[0]: candidate})
        else:
            raise ValueError(f"candidate {candidate!r} is a single number but "
                             f"there are {len(paths)} headcount paths")
    return points


def _checks(results, targets, variants, paths) -> pd.DataFrame:
    rows = []
    for variant in variants:
        group = results.loc[results["variant"] == variant.name]
        for target in targets:
            values = group[target.outcome]
            rows.append((sum(variant.overrides.values()), *variant.overrides.values(),
                         variant.name, str(target), target.outcome, target.op,
                         target.threshold, target.confidence,
                         mean_ci(values).mean, target.bound(values),
                         target.is_met(values)))
    columns = ["headcount", *paths, "variant", "target", "outcome", "op",
               "threshold", "confidence", "mean", "bound", "met"]
    return pd.DataFrame(rows, columns=columns)


def _least(checks: pd.DataFrame, variants: list[Variant], targets) -> tuple:
    met = checks.groupby("variant", sort=False)["met"].all()
    feasible = [v for v in variants if met[v.name]]
    if not feasible:
        described = "; ".join(map(str, targets))
        heads = sorted(sum(v.overrides.values()) for v in variants)
        return None, None, None, (f"No candidate headcount ({heads[0]:g} to "
                                  f"{heads[-1]:g}) meets all targets: {described}.")
    best = min(feasible, key=lambda v: sum(v.overrides.values()))
    total = sum(best.overrides.values())
    return (total, dict(best.overrides), best.name,
            f"Least headcount meeting all targets: {total:g} ({best.name}).")


def staffing_search(
    runner: Runner,
    config: Mapping[str, Any],
    headcount_paths: str | Sequence[str],
    candidates: Sequence[Any],
    targets: Sequence[Target],
    replications: int = 10,
    base_seed: int = 0,
    *,
    executor: Executor | str | None = None,
    store: ResultStore | None = None,
    progress: bool = True,
    confidence: float = 0.95,
) -> StaffingResult:
    """Find the least headcount whose replications meet every target.

    Every candidate is run (in one experiment, with common random numbers), so
    the curve shows the whole trade-off; the answer does not assume outcomes
    improve monotonically with headcount.

    Args:
        runner: As for :func:`run_experiment`.
        config: Base config.
        headcount_paths: One dotted path, or several (e.g. one per pool).
        candidates: Headcounts to try: numbers (one path), sequences with one
            count per path, or mappings of path to count. A candidate's
            headcount is the sum of its counts.
        targets: All must be met.
        replications: Replications per candidate.
        base_seed: Base seed.
        executor: As for :func:`run_experiment`.
        store: As for :func:`run_experiment`.
        progress: Show a progress bar.
        confidence: Two-sided level of the intervals in the curve.

    Returns:
        A :class:`StaffingResult`.

    Raises:
        ValueError: On no targets, malformed candidates or an unknown outcome.
    """
    paths = [headcount_paths] if isinstance(headcount_paths, str) else list(
        headcount_paths)
    if not targets:
        raise ValueError("give at least one target")
    variants = sweep_variants(points=_candidate_points(paths, candidates))
    variants.sort(key=lambda v: sum(v.overrides.values()))
    results = sweep(runner, config, points=[v.overrides for v in variants],
                    replications=replications, base_seed=base_seed,
                    executor=executor, store=store, progress=progress)
    missing = sorted({t.outcome for t in targets} - set(results.attrs["outcomes"]))
    if missing:
        raise ValueError(f"targets name unknown outcomes {missing}; the runner "
                         f"returns {results.attrs['outcomes']}")
    curve = summarise(results, [*paths, "variant"], confidence=confidence,
                      outcomes=results.attrs["outcomes"])
    curve.insert(0, "headcount", curve[paths].sum(axis=1))
    checks = _checks(results, targets, variants, paths)
    least_headcount, least, least_variant, statement = _least(checks, variants,
                                                              targets)
    logger.info(statement)
    return StaffingResult(curve, checks, least_headcount, least, least_variant,
                          results, statement)
