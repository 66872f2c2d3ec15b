"""The quality gate's own process, started when a run starts.

Importing Great Expectations takes ~2 s (scipy, pydantic models of every expectation): two
thirds of the gate's step on a one-file night.  Imported in a thread of the run's process
it only takes turns with dbt for the interpreter, so it is imported in a worker process
instead, on the other core, while the run parses and builds; the gate then runs there
(:meth:`GateProcess.run`), and the process ends with the gate, handing its memory back.

The worker comes from :func:`ingestion.workers.pool`: it dies with the run's process
whatever ends it.  ``OGI_GATE_PROCESS=0`` runs the gate in the run's own process (a test
that patches the gate's code needs that, as ``OGI_PARSE_WORKERS=1`` for the parser).
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

R = TypeVar("R")


class GateProcessDied(RuntimeError):
    """The gate's process ended before the gate did (killed, or out of memory)."""


def _import_great_expectations() -> None:
    import great_expectations  # noqa: F401  (the point: loaded before the gate needs it)


def preloaded() -> bool:
    """Whether this process has Great Expectations loaded (run in the gate's process, it tells
    that the import was done before what is run after it)."""
    return "great_expectations" in sys.modules


class GateProcess:
    """Where the gate runs: a worker process importing Great Expectations from the start, or
    (``in_process``) the caller's own process."""

    def __init__(self, *, in_process: bool = False) -> None:
        self._in_process = in_process
        self._pool: ProcessPoolExecutor | None = None
        if not in_process:
            from ingestion.workers import pool

            self._pool = pool(1)
            self._pool.submit(_import_great_expectations)

    @property
    def in_process(self) -> bool:
        return self._in_process

    def run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """``fn(*args, **kwargs)`` in the gate's process (its exception, if any, raised here); the
        process ends afterwards."""
        if self._in_process:
            return fn(*args, **kwargs)
        if self._pool is None:
            raise RuntimeError("the gate's process has ended: it runs one gate")
        try:
            return self._pool.submit(fn, *args, **kwargs).result()
        except BrokenProcessPool as exc:
            raise GateProcessDied("the quality gate's process ended before the gate did "
                                  "(killed, or out of memory)") from exc
        finally:
            self.close(wait=True)

    def close(self, *, wait: bool = False) -> None:
        """End the process (at once when ``wait`` is False: an unfinished import is abandoned)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
