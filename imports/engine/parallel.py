"""CPU-bound preparation of an import's rows on every core. Plain Python: no Django.

A commit spends most of its own time in pure Python (loan schedules, members' search text) while
PostgreSQL waits; the machine has more cores than that one thread uses. ``map_in_processes`` runs a
pure function over chunks in worker processes (forked: they inherit the loaded modules and never
touch the parent's database connection, and leave through ``os._exit`` as multiprocessing's
children do, so nothing of it is closed behind the parent's back). Where a process may not have
children (a daemonic worker) or the batch is small, it runs in this process instead: the result is
the same either way.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS_FOR_PROCESSES = 5_000
CHUNK = 1_000


class Pending:
    """Results of a ``map_in_processes`` call, collected once the caller has done its own work."""

    def __init__(
        self,
        results: list[Any] | None = None,
        executor: ProcessPoolExecutor | None = None,
        futures: list[Future[list[Any]]] | None = None,
    ) -> None:
        self._results = results
        self._executor = executor
        self._futures = futures or []

    def results(self) -> list[Any]:
        if self._results is None:
            try:
                self._results = [item for future in self._futures for item in future.result()]
            finally:
                if self._executor is not None:
                    self._executor.shutdown(wait=True, cancel_futures=True)
        return self._results


def _apply(function: Callable[[Any], Any], chunk: Sequence[Any]) -> list[Any]:
    return [function(item) for item in chunk]


def map_in_processes(
    function: Callable[[Item], Result], items: Sequence[Item], *, workers: int | None = None
) -> Pending:
    """``function`` (a module-level function) over ``items``, in order; started now, collected
    with ``.results()``. Exceptions travel back pickled: return failures as values instead."""
    workers = workers or os.cpu_count() or 1
    if len(items) < MIN_ITEMS_FOR_PROCESSES or workers < 2 or multiprocessing.current_process().daemon:
        return Pending(_apply(function, items))
    try:
        executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
        futures = [
            executor.submit(_apply, function, items[start : start + CHUNK])
            for start in range(0, len(items), CHUNK)
        ]
    except (OSError, ValueError, AssertionError):
        return Pending(_apply(function, items))
    return Pending(executor=executor, futures=futures)
