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


# --------------------------------------------------------------------------- memory

#: The memory ceiling of this process in bytes, once :func:`memory_ceiling` has set one,
#: and the data segment limit that enforces it.
_ceiling: int | None = None
_data_limit: int = 0


def memory_ceiling(megabytes: float) -> None:
    """Let this process (a parse worker) hold at most ``megabytes`` of memory.

    Sets the data segment limit (``RLIMIT_DATA``: heap and private writable mappings,
    what parsing grows) so that the process's resident size stays under the ceiling with
    its code and shared libraries counted in: an allocation past it fails, Python raises
    ``MemoryError``, and :func:`ingestion.parse.parse_bytes` turns that into a per-file
    error (:func:`memory_reason`).  A limit the process already has that is lower wins.
    """
    import resource

    global _ceiling, _data_limit
    wanted = int(megabytes * 1024 * 1024)
    data = max(wanted - _resident_outside_data(), wanted // 4)
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        data = min(data, hard)
    if soft == resource.RLIM_INFINITY or data < soft:
        resource.setrlimit(resource.RLIMIT_DATA, (data, hard))
    else:
        data = soft
    _ceiling, _data_limit = wanted, data


def _resident_outside_data() -> int:
    """Resident bytes of this process that the data limit does not count (code, shared libraries)."""
    values: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("RssFile", "RssShmem"):
                    values[key] = int(rest.split()[0]) * 1024
    except OSError:  # pragma: no cover (not Linux)
        return 0
    # libraries imported later (pdfminer, lxml, python-docx) map more code: leave room for it
    return sum(values.values()) + 64 * 1024 * 1024


def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover (not Linux)
        return None
    return None


def start_file() -> None:
    """Start measuring one file's peak memory (under a ceiling): resets the process's peak RSS."""
    if _ceiling is None:
        return
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:  # pragma: no cover (an old kernel)
        pass


#: Share of the data limit a file's peak resident size must reach for its failure to be put down to memory.
NEAR_CEILING = 0.7


def hit_ceiling() -> bool:
    """Whether the file being read (since :func:`start_file`) took this process near its ceiling.

    C libraries report an allocation the ceiling refused in their own words (libxml2:
    "unknown error", pdfminer's callers: "broken PDF"); a failure that came with a peak
    this close to the ceiling is put down to memory.
    """
    if _ceiling is None:
        return False
    peak = _status_kb("VmHWM")
    return peak is not None and peak * 1024 >= NEAR_CEILING * _data_limit


def release_memory() -> None:
    """Give back what a file that hit the ceiling left allocated: the next file gets the room."""
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)  # glibc keeps freed heap pages for itself otherwise
    except (OSError, AttributeError):  # pragma: no cover (no glibc)
        pass


def memory_reason() -> str:
    """Why a file could not be read in memory: over this process's ceiling, if it has one."""
    if _ceiling is not None:
        return (f"needs more than the {_ceiling / 1048576:.0f} MB of memory a parse worker may use "
                "(too large or too complex to read)")
    return "document too large to read in memory"
