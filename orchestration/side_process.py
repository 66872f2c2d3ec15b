"""A worker process started with the run, warmed up on the other core while the run parses and builds.

The run itself is one interpreter: its steps take turns for one core.  Work that a later step
needs ready (Great Expectations imported for the gate, vl-convert's engine started for the
inspector's charts) is done by a :class:`SideProcess` from the run's start, in a worker from
:func:`ingestion.workers.pool`, which dies with the run's process whatever ends it.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

R = TypeVar("R")


class SideProcessDied(RuntimeError):
    """The side process ended before its work did (killed, or out of memory)."""


class SideProcess:
    """One worker process that runs ``warm_up`` first; ``purpose`` names it in errors."""

    def __init__(self, warm_up: Callable[[], Any] | None = None, *, purpose: str = "side") -> None:
        from ingestion.workers import pool

        self.purpose = purpose
        self._pool: ProcessPoolExecutor | None = pool(1)
        if warm_up is not None:
            self._pool.submit(warm_up)

    def submit(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> "Future[R]":
        """``fn(*args, **kwargs)`` in the process, after the warm-up."""
        if self._pool is None:
            raise RuntimeError(f"the {self.purpose} process has ended")
        try:
            return self._pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool as exc:
            raise self._died() from exc

    def result(self, future: "Future[R]") -> R:
        """The future's result; a dead process as :class:`SideProcessDied`."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise self._died() from exc

    def close(self, *, wait: bool = False) -> None:
        """End the process (at once when ``wait`` is False: unfinished work is abandoned)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    def _died(self) -> SideProcessDied:
        return SideProcessDied(f"the {self.purpose} process ended before its work did (killed, or out of memory)")
