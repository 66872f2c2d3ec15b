"""Worker processes for parsing and corpus generation: how many, and an ordered, bounded map.

Parsing is pure-Python CPU work, so it scales over processes, not threads; each task
runs on its worker's main thread, where the per-file time limit (SIGALRM,
:mod:`ingestion.limits`) works.  Workers are forked from a fork server (started
once, before any thread of the caller could hold a lock), so a Dagster run or a test
can start a pool safely; like every ``multiprocessing`` program, a script that
starts one must guard its entry point with ``if __name__ == "__main__":``.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

def cpu_count() -> int:
    """The cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover (not Linux)
        return max(1, os.cpu_count() or 1)


def parse_workers(requested: int | None = None) -> int:
    """How many processes parse: ``requested`` (1 = in the caller's process), or every core
    when it is None or 0; at least 1."""
    return max(1, requested or cpu_count())


def picklable(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` can be sent to a worker process (a local function or a lambda cannot)."""
    try:
        pickle.dumps(fn)
    except Exception:
        return False
    return True


def pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers come from a fork server (spawn where there is none)."""
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(method))


def ordered_map(fn: Callable[[T], R], tasks: Iterable[T], workers: int, *, window: int | None = None,
                executor: ProcessPoolExecutor | None = None) -> Iterator[R]:
    """``map(fn, tasks)`` over ``workers`` processes: results in task order, at most ``window``
    tasks submitted and not yet consumed (memory stays bounded whatever the number of tasks).

    With ``workers <= 1`` it is plain ``map`` in this process.
    """
    if workers <= 1 and executor is None:
        yield from map(fn, tasks)
        return
    window = window or 2 * workers + 1
    own = executor is None
    ex = executor or pool(workers)
    try:
        pending: deque[Future[Any]] = deque()
        for task in tasks:
            pending.append(ex.submit(fn, task))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        if own:
            ex.shutdown(wait=True, cancel_futures=True)
