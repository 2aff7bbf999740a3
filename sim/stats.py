"""Confidence intervals and comparisons over independent replications.

All intervals use Student's t distribution on replication means, which is
right when each replication is one independent observation (as the harness
makes them) and the number of replications is small.

Conventions:

* NaN values are dropped before computing (a replication whose outcome is
  undefined, e.g. a mean rating with no ratings); ``n`` counts what is left.
* ``n == 0`` gives mean, half-width and bounds NaN.
* ``n == 1`` gives the value as mean and an infinite half-width: one
  replication says nothing about spread, so the interval is unbounded.
* Identical values (``n >= 2``) give a half-width of 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = [
    "Interval",
    "PairedDifference",
    "mean_ci",
    "one_sided_bound",
    "outcome_columns",
    "paired_difference",
    "paired_by_replication",
    "rank_variants",
    "summarise",
    "t_half_width",
]

META_COLUMNS = ("variant", "replication", "scenario_hash")


class Interval(NamedTuple):
    """A mean with a symmetric confidence interval.

    Attributes:
        mean: The sample mean.
        half_width: Half the interval width (``inf`` for one value).
        n: Number of non-NaN values used.
    """

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.mean + self.half_width


class PairedDifference(NamedTuple):
    """Mean of paired differences ``a - b`` with its confidence interval.

    Attributes:
        mean: Mean difference.
        half_width: Half-width of its interval.
        significant: True when the interval excludes zero.
        n: Number of complete pairs used.
    """

    mean: float
    half_width: float
    significant: bool
    n: int

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.mean + self.half_width


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def _clean(values: Iterable[float]) -> np.ndarray:
    if isinstance(values, Iterator):
        values = list(values)
    array = np.asarray(values, dtype=float).ravel()
    return array[~np.isnan(array)]


def _std(data: np.ndarray) -> float:
    """Sample standard deviation, exactly 0 for identical values."""
    if data.size < 2 or np.ptp(data) == 0:
        return 0.0
    return float(np.std(data, ddof=1))


def t_half_width(std: float, n: int, confidence: float = 0.95) -> float:
    """Return ``t_{(1+confidence)/2, n-1} * std / sqrt(n)``.

    Args:
        std: Sample standard deviation (ddof=1).
        n: Sample size.
        confidence: Two-sided confidence level.

    Returns:
        The half-width; ``inf`` when ``n == 1``, NaN when ``n == 0``.
    """
    _check_confidence(confidence)
    if n == 0:
        return float("nan")
    if n == 1:
        return float("inf")
    quantile = _st.t.ppf((1.0 + confidence) / 2.0, n - 1)
    return float(quantile * std / np.sqrt(n))


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> Interval:
    """Return the mean and Student-t confidence half-width of ``values``.

    With 6 values at 95 % the half-width is ``2.5706 * s / sqrt(6)``.

    Args:
        values: Replication outcomes; NaNs are dropped.
        confidence: Two-sided confidence level in (0, 1).

    Returns:
        ``Interval(mean, half_width, n)``; see the module notes for ``n < 2``.
    """
    _check_confidence(confidence)
    data = _clean(values)
    n = int(data.size)
    if n == 0:
        return Interval(float("nan"), float("nan"), 0)
    return Interval(float(np.mean(data)), t_half_width(_std(data), n, confidence), n)


def one_sided_bound(
    values: Iterable[float], side: str, confidence: float = 0.95
) -> float:
    """Return a one-sided Student-t confidence bound on the mean.

    The lower bound is ``mean - t_{confidence, n-1} * s / sqrt(n)``: with
    probability ``confidence`` the true mean is at least this. The upper bound
    mirrors it.

    Args:
        values: Replication outcomes; NaNs are dropped.
        side: ``"lower"`` or ``"upper"``.
        confidence: One-sided confidence level in (0, 1).

    Returns:
        The bound; ``-inf``/``inf`` for one value, NaN for none.

    Raises:
        ValueError: If ``side`` or ``confidence`` is invalid.
    """
    if side not in ("lower", "upper"):
        raise ValueError(f"side must be 'lower' or 'upper', got {side!r}")
    _check_confidence(confidence)
    data = _clean(values)
    n = int(data.size)
    if n == 0:
        return float("nan")
    if n == 1:
        return float("-inf") if side == "lower" else float("inf")
    margin = _st.t.ppf(confidence, n - 1) * _std(data) / np.sqrt(n)
    mean = float(np.mean(data))
    return float(mean - margin) if side == "lower" else float(mean + margin)


def paired_difference(
    a: Sequence[float], b: Sequence[float], confidence: float = 0.95
) -> PairedDifference:
    """Compare two paired samples (same replication streams) by ``a - b``.

    Args:
        a: Outcomes of one variant, one per replication.
        b: Outcomes of the other variant, same replication order.
        confidence: Two-sided confidence level.

    Returns:
        ``PairedDifference(mean, half_width, significant, n)``. Pairs with a
        NaN on either side are dropped. ``significant`` is true when ``n >= 2``
        and the interval excludes 0.

    Raises:
        ValueError: If ``a`` and ``b`` differ in length.
    """
    left = np.asarray(a, dtype=float).ravel()
    right = np.asarray(b, dtype=float).ravel()
    if left.shape != right.shape:
        raise ValueError(f"paired samples differ in length: {left.size} vs "
                         f"{right.size}")
    interval = mean_ci(left - right, confidence)
    significant = bool(interval.n >= 2 and abs(interval.mean) > interval.half_width)
    return PairedDifference(interval.mean, interval.half_width, significant,
                            interval.n)


def outcome_columns(df: pd.DataFrame, exclude: Iterable[str] = ()) -> list[str]:
    """Return the outcome columns of a results table.

    Uses ``df.attrs["outcomes"]`` when the harness set it, else every numeric
    column that is not a meta column or in ``exclude``.

    Args:
        df: A results table.
        exclude: Further columns that are not outcomes.

    Returns:
        Column names.
    """
    skip = set(META_COLUMNS) | set(exclude)
    declared = df.attrs.get("outcomes")
    if declared:
        return [c for c in declared if c in df.columns and c not in skip]
    return [c for c in df.columns
            if c not in skip and pd.api.types.is_numeric_dtype(df[c])
            and not pd.api.types.is_bool_dtype(df[c])]


def summarise(
    df: pd.DataFrame,
    by: Sequence[str] = ("variant",),
    outcomes: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Summarise replications as a tidy table of means with intervals.

    Args:
        df: Results, one row per replication (as from ``run_experiment``).
        by: Grouping columns, e.g. ``["variant"]`` or swept paths.
        outcomes: Outcome columns; default :func:`outcome_columns`.
        confidence: Two-sided confidence level.

    Returns:
        One row per group and outcome with columns ``*by, outcome, mean,
        half_width, ci_low, ci_high, n``, groups in order of appearance.
    """
    by = list(by)
    names = list(outcomes) if outcomes is not None else outcome_columns(df, by)
    rows = []
    for key, group in df.groupby(by, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        for name in names:
            interval = mean_ci(group[name], confidence)
            rows.append((*key, name, interval.mean, interval.half_width,
                         interval.low, interval.high, interval.n))
    columns = [*by, "outcome", "mean", "half_width", "ci_low", "ci_high", "n"]
    return pd.DataFrame(rows, columns=columns)


def paired_by_replication(
    df: pd.DataFrame, variant: str, other: str, outcome: str
) -> tuple[np.ndarray, np.ndarray]:
    """Align two variants' outcome on the replication index.

    Args:
        df: Results with ``variant`` and ``replication`` columns.
        variant: First variant name.
        other: Second variant name.
        outcome: Outcome column.

    Returns:
        Two arrays over the replications both variants have, in index order.
    """
    left = df.loc[df["variant"] == variant].set_index("replication")[outcome]
    right = df.loc[df["variant"] == other].set_index("replication")[outcome]
    common = left.index.intersection(right.index).sort_values()
    return (left.loc[common].to_numpy(dtype=float),
            right.loc[common].to_numpy(dtype=float))


def rank_variants(
    df: pd.DataFrame,
    outcome: str,
    higher_is_better: bool = True,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Rank variants on one outcome and test each against the best.

    The best variant is the one with the best mean. Every other variant is
    compared with it by paired difference over common replications (common
    random numbers), so ``tied_with_best`` means the data cannot tell them
    apart at this confidence.

    Args:
        df: Results with ``variant`` and ``replication`` columns.
        outcome: The outcome column to rank on.
        higher_is_better: Direction of the outcome.
        confidence: Two-sided confidence level.

    Returns:
        One row per variant, best first, with columns ``rank, variant, mean,
        half_width, ci_low, ci_high, n, diff_vs_best, diff_half_width,
        tied_with_best``.
    """
    table = summarise(df, ["variant"], [outcome], confidence)
    table = table.sort_values("mean", ascending=not higher_is_better,
                              kind="stable", na_position="last")
    best = table["variant"].iloc[0]
    diffs = [paired_difference(*paired_by_replication(df, v, best, outcome),
                               confidence) for v in table["variant"]]
    table = table.drop(columns="outcome").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    table["diff_vs_best"] = [d.mean for d in diffs]
    table["diff_half_width"] = [d.half_width for d in diffs]
    table["tied_with_best"] = [not d.significant for d in diffs]
    return table
