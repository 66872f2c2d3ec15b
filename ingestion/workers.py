"""Worker processes for parsing and corpus generation: how many, and an ordered, bounded map.

Parsing is pure-Python CPU work, so it scales over processes, not threads; each task
runs on its worker's main thread, where the per-file time limit (SIGALRM,
:mod:`ingestion.limits`) works.  Workers are forked from a fork server (started
once, before any thread of the caller could hold a lock), so a Dagster run or a test
can start a pool safely; like every ``multiprocessing`` program, a script that
starts one must guard its entry point with ``if __name__ == "__main__":``.

No worker outlives the process that opened its pool (the *owner*): a worker killed
owner leaves workers blocked on a queue nobody writes, each holding the fork server
open, for as long as the machine runs.  So every worker watches its owner (a thread
waiting on the owner's pidfd) and exits the moment the owner is gone, and dies with
the fork server (``PR_SET_PDEATHSIG``); the fork server then exits too and removes the
owner's ``pymp-*`` folder (:mod:`ingestion._forkserver`).  A pool can also give each
worker a memory ceiling (:func:`ingestion.limits.memory_ceiling`).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import select
import signal
import sys
import threading
import time
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


#: Modules the fork server imports when it starts: the caller's main module (the default)
#: and the one that cleans up after a killed owner.
FORKSERVER_PRELOAD = ["__main__", "ingestion._forkserver"]
#: Exit status of a worker whose owner is gone.
OWNER_GONE = 70


def pool(workers: int, *, memory_mb: float | None = None) -> ProcessPoolExecutor:
    """A process pool whose workers come from a fork server (spawn where there is none).

    Its workers exit when this process (the owner) dies, whatever the cause; with
    ``memory_mb`` each worker may hold at most that much memory (a task that needs more
    gets a ``MemoryError``).
    """
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    context = mp.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(FORKSERVER_PRELOAD)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                               initargs=(os.getpid(), memory_mb))


def init_worker(owner: int, memory_mb: float | None = None) -> None:
    """Set up a worker process: it dies with its parent and exits when ``owner`` is gone;
    its memory ceiling (MB) when ``memory_mb``."""
    die_with_parent()
    watch_owner(owner)
    if memory_mb:
        from .limits import memory_ceiling

        memory_ceiling(memory_mb)


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent process exits (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover (no libc to call)
        pass


def watch_owner(owner: int) -> None:
    """Exit this process (status :data:`OWNER_GONE`) as soon as process ``owner`` has ended."""
    if owner == os.getpid():
        return
    try:
        fd = os.pidfd_open(owner)
    except ProcessLookupError:
        os._exit(OWNER_GONE)
    except (AttributeError, OSError):  # no pidfd (an old kernel): look once a second
        def poll() -> None:
            while True:
                try:
                    os.kill(owner, 0)
                except ProcessLookupError:
                    os._exit(OWNER_GONE)
                except PermissionError:
                    pass
                time.sleep(1.0)
    else:
        def poll() -> None:
            select.select([fd], [], [])  # readable once the process has ended
            os._exit(OWNER_GONE)

    threading.Thread(target=poll, name="ogi-owner-watch", daemon=True).start()


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
