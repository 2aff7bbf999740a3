"""Random streams for replications, with common random numbers.

Replication ``k`` of an experiment always draws from the stream
``SeedSequence(entropy=base_seed, spawn_key=(k,))``. That is the same stream
``SeedSequence(base_seed).spawn(n)[k]`` gives for any ``n > k``, so:

* replication ``k`` is identical whatever the number of replications, the
  executor that ran it, the worker it ran on or ``PYTHONHASHSEED``;
* every variant of an experiment gets the same stream for replication ``k``
  (common random numbers), so differences between variants are paired and
  their confidence intervals are narrower than for independent runs.

A runner that needs several independent streams (arrivals, service times,
choices) should derive them with ``seed.spawn(m)`` rather than from fresh
entropy.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["replication_seed", "replication_seeds", "generator"]


def _check_base_seed(base_seed: int | Sequence[int]) -> None:
    values = [base_seed] if isinstance(base_seed, int) else list(base_seed)
    if not values or any(
        isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0
        for v in values
    ):
        raise ValueError(
            f"base_seed must be a non-negative integer or a non-empty sequence "
            f"of them, got {base_seed!r}"
        )


def replication_seed(
    base_seed: int | Sequence[int], replication: int
) -> np.random.SeedSequence:
    """Return the seed sequence of one replication.

    Args:
        base_seed: The experiment's base seed (non-negative integer, or a
            sequence of them).
        replication: The replication index, from 0.

    Returns:
        A fresh ``SeedSequence`` for replication ``replication``; equal to
        child ``replication`` of ``SeedSequence(base_seed).spawn(...)``.

    Raises:
        ValueError: If the seed or the index is negative or not an integer.
    """
    _check_base_seed(base_seed)
    if isinstance(replication, bool) or not isinstance(replication, int | np.integer):
        raise ValueError(f"replication must be an integer, got {replication!r}")
    if replication < 0:
        raise ValueError(f"replication must be >= 0, got {replication}")
    entropy = base_seed if isinstance(base_seed, int) else list(base_seed)
    return np.random.SeedSequence(entropy=entropy, spawn_key=(int(replication),))


def replication_seeds(
    base_seed: int | Sequence[int], count: int, start: int = 0
) -> Iterator[np.random.SeedSequence]:
    """Yield the seed sequences of replications ``start .. start + count - 1``.

    Args:
        base_seed: The experiment's base seed.
        count: How many replications.
        start: The first replication index.

    Yields:
        One ``SeedSequence`` per replication, in index order.
    """
    for k in range(start, start + count):
        yield replication_seed(base_seed, k)


def generator(seed: np.random.SeedSequence) -> np.random.Generator:
    """Return a PCG64 generator on ``seed`` (a convenience for runners).

    Args:
        seed: A replication's seed sequence.

    Returns:
        A ``numpy.random.Generator``.
    """
    return np.random.Generator(np.random.PCG64(seed))
