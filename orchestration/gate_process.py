"""The quality gate's own process, started when a run starts.

Importing Great Expectations takes ~2 s (scipy, pydantic models of every expectation): two
thirds of the gate's step on a one-file night.  Imported in a thread of the run's process
it only takes turns with dbt for the interpreter, so it is imported in a worker process
instead (:mod:`orchestration.side_process`), on the other core, while the run parses and
builds; the gate then runs there (:meth:`GateProcess.run`), and the process ends with the
gate, handing its memory back.

``OGI_GATE_PROCESS=0`` runs the gate in the run's own process (a test that patches the gate's
code needs that, as ``OGI_PARSE_WORKERS=1`` for the parser).
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

from .side_process import SideProcess, SideProcessDied

R = TypeVar("R")

#: The gate's process died before the gate ended.
GateProcessDied = SideProcessDied


def _import_great_expectations() -> None:
    import great_expectations  # noqa: F401  (the point: loaded before the gate needs it)


def preloaded() -> bool:
    """Whether this process has Great Expectations loaded (run in the gate's process, it tells
    that the import was done before what is run after it)."""
    return "great_expectations" in sys.modules


class GateProcess:
    """Where the gate runs: a side process importing Great Expectations from the start, or
    (``in_process``) the caller's own process."""

    def __init__(self, *, in_process: bool = False) -> None:
        self._side = None if in_process else SideProcess(_import_great_expectations, purpose="quality gate's")

    @property
    def in_process(self) -> bool:
        return self._side is None

    def run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """``fn(*args, **kwargs)`` in the gate's process (its exception, if any, raised here); the
        process ends afterwards: it runs one gate."""
        if self._side is None:
            return fn(*args, **kwargs)
        try:
            return self._side.result(self._side.submit(fn, *args, **kwargs))
        finally:
            self._side.close(wait=True)

    def close(self) -> None:
        """End the gate's process, if it has one (an unfinished import is abandoned)."""
        if self._side is not None:
            self._side.close()
