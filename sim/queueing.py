"""Erlang B / Erlang C formulas for M/M/c queues, for sanity checks on staffing.

Rates are per unit of time (any unit, used consistently); ``offered_load`` is
``arrival_rate / service_rate`` in Erlangs. The Erlang B value is computed by
its recursion ``B(k) = a B(k-1) / (k + a B(k-1))``, which needs no factorials
or powers and stays accurate for tens of thousands of servers.

Unstable queues: when the offered load is at least the number of servers the
queue grows without bound and there is no steady-state wait. Every function
that would return a wait probability or a wait then raises
:class:`UnstableQueueError` (a ``ValueError``); none ever returns a negative,
infinite or NaN wait. :func:`least_servers` simply skips unstable counts.
"""

from __future__ import annotations

import math

__all__ = [
    "UnstableQueueError",
    "erlang_b",
    "erlang_c",
    "least_servers",
    "mmc_mean_wait",
    "mmc_wait_within",
    "offered_load",
]


class UnstableQueueError(ValueError):
    """The offered load is at least the number of servers: no steady state.

    Attributes:
        servers: Number of servers.
        load: Offered load in Erlangs.
    """

    def __init__(self, servers: int, load: float) -> None:
        super().__init__(
            f"unstable queue: offered load {load:g} Erlangs >= {servers} servers "
            f"(utilisation {load / servers if servers else math.inf:.3g}); the "
            "wait grows without bound"
        )
        self.servers = servers
        self.load = load


def _check_servers(c: int) -> int:
    if isinstance(c, bool) or int(c) != c or c < 1:
        raise ValueError(f"number of servers must be a positive integer, got {c!r}")
    return int(c)


def _check_rate(name: str, value: float, positive: bool = True) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"{name} must be finite and {kind}, got {value!r}")
    return value


def offered_load(arrival_rate: float, service_rate: float) -> float:
    """Return the offered load ``arrival_rate / service_rate`` in Erlangs.

    Args:
        arrival_rate: Arrivals per unit time (>= 0).
        service_rate: Services per unit time per server (> 0).

    Returns:
        The load.
    """
    lam = _check_rate("arrival_rate", arrival_rate, positive=False)
    return lam / _check_rate("service_rate", service_rate)


def _erlang_b_steps(load: float):
    """Yield ``(k, B(k))`` for k = 1, 2, ... by the stable recursion."""
    blocking, k = 1.0, 0
    while True:
        k += 1
        blocking = load * blocking / (k + load * blocking)
        yield k, blocking


def _c_from_b(c: int, load: float, blocking: float) -> float:
    if load >= c:
        raise UnstableQueueError(c, load)
    return c * blocking / (c - load * (1.0 - blocking))


def erlang_b(c: int, offered_load: float) -> float:
    """Return the Erlang B blocking probability (M/M/c/c loss system).

    Args:
        c: Number of servers (>= 1).
        offered_load: Offered load in Erlangs (>= 0).

    Returns:
        Probability that an arrival finds all servers busy and is lost.
    """
    c = _check_servers(c)
    load = _check_rate("offered_load", offered_load, positive=False)
    blocking = 1.0
    for k in range(1, c + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(c: int, offered_load: float) -> float:
    """Return the Erlang C probability that an arrival has to wait (M/M/c).

    Args:
        c: Number of servers (>= 1).
        offered_load: Offered load in Erlangs (>= 0).

    Returns:
        ``P(wait > 0)`` in [0, 1).

    Raises:
        UnstableQueueError: If ``offered_load >= c``.
    """
    c = _check_servers(c)
    load = _check_rate("offered_load", offered_load, positive=False)
    if load >= c:
        raise UnstableQueueError(c, load)
    return _c_from_b(c, load, erlang_b(c, load))


def mmc_mean_wait(arrival_rate: float, service_rate: float, c: int) -> float:
    """Return the mean time in queue (before service) of an M/M/c queue.

    Args:
        arrival_rate: Arrivals per unit time.
        service_rate: Services per unit time per server.
        c: Number of servers.

    Returns:
        ``C(c, a) / (c * service_rate - arrival_rate)``, in the rates' time unit.

    Raises:
        UnstableQueueError: If ``arrival_rate >= c * service_rate``.
    """
    load = offered_load(arrival_rate, service_rate)
    wait_prob = erlang_c(c, load)
    return wait_prob / (c * float(service_rate) - float(arrival_rate))


def mmc_wait_within(
    arrival_rate: float, service_rate: float, c: int, t: float
) -> float:
    """Return ``P(wait <= t)`` for an M/M/c queue (share served within t).

    Args:
        arrival_rate: Arrivals per unit time.
        service_rate: Services per unit time per server.
        c: Number of servers.
        t: Time limit (>= 0), in the rates' time unit.

    Returns:
        ``1 - C(c, a) * exp(-(c * service_rate - arrival_rate) * t)``.

    Raises:
        UnstableQueueError: If ``arrival_rate >= c * service_rate``.
    """
    t = _check_rate("t", t, positive=False)
    wait_prob = erlang_c(c, offered_load(arrival_rate, service_rate))
    decay = (c * float(service_rate) - float(arrival_rate)) * t
    return 1.0 - wait_prob * math.exp(-decay)


def least_servers(
    arrival_rate: float,
    service_rate: float,
    target: float | None = None,
    within: float = 0.0,
    *,
    max_mean_wait: float | None = None,
    max_servers: int = 1_000_000,
) -> int:
    """Return the least number of servers meeting every given criterion.

    Criteria (at least one must be given):

    * ``target``: the share served within ``within`` time units,
      ``P(wait <= within)``, is at least ``target``. With ``within == 0`` this
      is ``P(no wait) >= target``, i.e. ``erlang_c <= 1 - target``.
    * ``max_mean_wait``: the mean wait in queue is at most this.

    Only stable counts (``c > offered load``) are considered.

    Args:
        arrival_rate: Arrivals per unit time (> 0).
        service_rate: Services per unit time per server (> 0).
        target: Required share in (0, 1).
        within: Time limit for ``target``, in the rates' time unit.
        max_mean_wait: Largest acceptable mean wait (> 0).
        max_servers: Give up above this many servers.

    Returns:
        The least ``c``.

    Raises:
        ValueError: If no criterion is given, one is out of range, or no
            ``c <= max_servers`` meets them.
    """
    lam = _check_rate("arrival_rate", arrival_rate)
    mu = _check_rate("service_rate", service_rate)
    within = _check_rate("within", within, positive=False)
    _check_criteria(target, max_mean_wait)
    load = lam / mu
    for c, blocking in _erlang_b_steps(load):
        if c > max_servers:
            break
        if c <= load:
            continue
        wait_prob = _c_from_b(c, load, blocking)
        spare = c * mu - lam
        if target is not None and 1.0 - wait_prob * math.exp(-spare * within) < target:
            continue
        if max_mean_wait is not None and wait_prob / spare > max_mean_wait:
            continue
        return c
    raise ValueError(f"no server count up to {max_servers} meets the criteria")


def _check_criteria(target: float | None, max_mean_wait: float | None) -> None:
    if target is None and max_mean_wait is None:
        raise ValueError("give target (with within) or max_mean_wait")
    if target is not None and not 0.0 < target < 1.0:
        raise ValueError(f"target must be in (0, 1), got {target!r}")
    if max_mean_wait is not None and not max_mean_wait > 0:
        raise ValueError(f"max_mean_wait must be > 0, got {max_mean_wait!r}")
