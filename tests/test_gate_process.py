"""The quality gate's own process (orchestration/gate_process.py): Great Expectations imported
from the run's start, the gate's result or error handed back, the process gone afterwards."""
from __future__ import annotations

import os
import time

import pytest

from orchestration.gate_process import GateProcess, GateProcessDied, preloaded


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_the_gate_runs_in_a_process_that_loaded_great_expectations_first_and_ends_after() -> None:
    process = GateProcess()
    assert process.run(preloaded)  # the import was queued first, on the same single worker
    assert not process.in_process


def test_the_gates_process_ends_with_the_gate() -> None:
    process = GateProcess()
    pid = process.run(os.getpid)
    assert pid != os.getpid()
    assert _gone(pid)
    with pytest.raises(RuntimeError, match="has ended"):  # one gate per process
        process.run(os.getpid)


def test_in_process_the_gate_runs_here() -> None:
    process = GateProcess(in_process=True)
    assert process.in_process and process.run(os.getpid) == os.getpid()


def test_the_gates_error_is_raised_in_the_run() -> None:
    with pytest.raises(ValueError, match="not-a-number"):
        GateProcess().run(int, "not-a-number")


def test_a_gate_process_that_dies_is_named_as_such() -> None:
    with pytest.raises(GateProcessDied, match="ended before its work did"):
        GateProcess().run(os.abort)


def test_a_run_that_never_reaches_the_gate_ends_its_process() -> None:
    process = GateProcess()
    process.close()  # at once, the import abandoned
    with pytest.raises(RuntimeError, match="has ended"):
        process.run(os.getpid)
