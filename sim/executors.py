"""Executors: one interface to run independent tasks serially, on local
processes, or on a Dask cluster.

Every executor has ``map_unordered(fn, tasks)``, which calls ``fn(task)`` for
each task and yields the results as they finish (not in task order), and
``close()``; executors are context managers. ``fn`` and the tasks must be
picklable for the process and Dask executors: use top-level functions of an
importable module, not lambdas or functions defined in ``__main__`` of a
notebook. Only a bounded number of tasks is in flight at a time, so a long
task list costs little memory and an interrupt (Ctrl-C) stops quickly.

Results do not depend on the executor when tasks carry their own seeds (see
:mod:`sim.seeds`).
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = [
    "DaskExecutor",
    "EXECUTOR_NAMES",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "make_executor",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

T = TypeVar("T")
R = TypeVar("R")

EXECUTOR_NAMES = ("serial", "processes", "dask")


@runtime_checkable
class Executor(Protocol):
    """What the experiment harness needs from an executor."""

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(task)`` for every task, in order of completion."""
        ...

    def close(self) -> None:
        """Release workers; the executor cannot be used afterwards."""
        ...


class _ContextMixin:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SerialExecutor(_ContextMixin):
    """Runs tasks one after another in the calling process (easy to debug)."""

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(task)`` for each task, in task order."""
        for task in tasks:
            yield fn(task)

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return "SerialExecutor()"


def _window(workers: int, factor: int = 4) -> int:
    return max(2, factor * workers)


class ProcessExecutor(_ContextMixin):
    """Runs tasks on a pool of local worker processes.

    The pool starts on first use and is kept until :meth:`close`, so several
    experiments can share it. Workers are started with the ``spawn`` method by
    default, which behaves the same on every platform and is safe alongside
    threads; functions and tasks must therefore be importable and picklable.

    Args:
        workers: Number of processes (default ``os.cpu_count()``).
        start_method: ``"spawn"``, ``"forkserver"`` or ``"fork"``.
    """

    def __init__(self, workers: int | None = None, start_method: str = "spawn"):
        self.workers = int(workers or os.cpu_count() or 1)
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers!r}")
        self.start_method = start_method
        self._pool: cf.ProcessPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.workers})"

    def _get_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context(self.start_method)
            self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=context)
            logger.debug("started %d worker processes", self.workers)
        return self._pool

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(task)`` for each task as workers finish them.

        Raises:
            Exception: The first exception raised by a task; tasks not yet
                started are cancelled.
        """
        pool = self._get_pool()
        pending: set[cf.Future] = set()
        source = iter(tasks)
        try:
            for task in itertools.islice(source, _window(self.workers)):
                pending.add(pool.submit(fn, task))
            while pending:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    for task in itertools.islice(source, 1):
                        pending.add(pool.submit(fn, task))
                    yield result
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Shut the pool down, cancelling tasks not yet started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(_ContextMixin):
    """Runs tasks on a Dask distributed cluster.

    With no address and no client it starts a private ``LocalCluster`` of
    worker processes on the loopback interface with the dashboard off, and
    closes it in :meth:`close`. Requires ``dask[distributed]``.

    Args:
        address: Scheduler address of an existing cluster.
        client: An existing ``distributed.Client`` to use (not closed here).
        n_workers: Workers of the private local cluster.
        threads_per_worker: Threads per worker of the private local cluster.
        **cluster_kwargs: Further ``LocalCluster`` arguments.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        client: Any = None,
        n_workers: int = 2,
        threads_per_worker: int = 1,
        **cluster_kwargs: Any,
    ) -> None:
        self._cluster = None
        self._owns_client = client is None
        if client is None:
            client = self._connect(address, n_workers, threads_per_worker,
                                   cluster_kwargs)
        self.client = client

    def _connect(self, address, n_workers, threads_per_worker, cluster_kwargs):
        from distributed import Client, LocalCluster

        if address is not None:
            return Client(address)
        options = {"n_workers": n_workers, "threads_per_worker": threads_per_worker,
                   "processes": True, "host": "127.0.0.1",
                   "dashboard_address": None}
        options.update(cluster_kwargs)
        self._cluster = LocalCluster(**options)
        return Client(self._cluster)

    def __repr__(self) -> str:
        return f"DaskExecutor(scheduler={self.client.scheduler.address!r})"

    def _window(self) -> int:
        threads = sum(self.client.nthreads().values()) or 1
        return _window(threads)

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(task)`` for each task as the cluster finishes them.

        Raises:
            Exception: The first exception raised by a task; the remaining
                submitted tasks are cancelled.
        """
        from distributed import as_completed

        source = iter(tasks)
        first = [self.client.submit(fn, task, pure=False)
                 for task in itertools.islice(source, self._window())]
        queue = as_completed(first)
        live = set(first)
        try:
            for future in queue:
                live.discard(future)
                result = future.result()
                for task in itertools.islice(source, 1):
                    new = self.client.submit(fn, task, pure=False)
                    live.add(new)
                    queue.add(new)
                future.release()
                yield result
        finally:
            if live:
                self.client.cancel(list(live))

    def close(self) -> None:
        """Close the client and the private cluster, if this executor made them."""
        if self._owns_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def make_executor(name: str, **kwargs: Any) -> Executor:
    """Build an executor by name.

    Args:
        name: ``"serial"``, ``"processes"`` or ``"dask"``.
        **kwargs: Arguments of the executor's class, e.g. ``workers=4`` for
            processes or ``address="tcp://..."`` for Dask.

    Returns:
        A new executor; close it (or use it as a context manager) when done.

    Raises:
        ValueError: If the name is unknown.
    """
    classes = {"serial": SerialExecutor, "processes": ProcessExecutor,
               "dask": DaskExecutor}
    if name not in classes:
        raise ValueError(f"unknown executor {name!r}; choose one of "
                         f"{', '.join(EXECUTOR_NAMES)}")
    return classes[name](**kwargs)
