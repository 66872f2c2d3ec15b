"""Per-file limits on time: a hostile or pathological file must not hang a run."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

#: Seconds one file may take to parse, by default (``parse_file(timeout_s=...)``; 0 = no limit).
DEFAULT_TIMEOUT_S = 60.0


class FileTimeout(BaseException):
    """Parsing one file took longer than its time limit.

    A BaseException, so that the broad handlers around third-party readers
    (which turn their many error types into "broken file") do not swallow it.
    """


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`FileTimeout` inside the block after ``seconds`` of wall time.

    Uses a real-time interval timer, which interrupts pure-Python loops and most
    C extensions between bytecodes.  Signals reach only the main thread, so in a
    worker thread the block runs without a limit (Dagster's in-process executor
    and process-pool workers run on their main thread).
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expired(signum: int, frame: object) -> None:
        raise FileTimeout(f"took longer than the {seconds:g} s limit")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
