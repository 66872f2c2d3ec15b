"""One run at a time per home: a file lock that ``ogi run``, the schedule and the sensor share.

``HOME/ogi.lock`` is an advisory lock (filelock: ``flock`` on Linux), held for the whole of a
run of ``warehouse_job`` however it was started: the job's ``run_guard`` resource
(``defs/resources.py``) takes it before the first step, ``ogi run`` takes it before it even
decides whether there is anything to do.  The kernel drops it when its process dies, so a
killed run never leaves the home locked.  Beside it, ``HOME/ogi.lock.json`` says who holds it
(process, what kind of run, since when), for the message a waiting run prints and for the
sensor's reason to skip.

Within one process the lock is re-entrant (``ogi run`` holds it and its in-process job takes
it again): one :class:`filelock.FileLock` per lock file, not bound to a thread.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_FILE = "ogi.lock"
OWNER_FILE = "ogi.lock.json"
#: How often a waiting run says it is still waiting.
WAIT_MESSAGE_EVERY_S = 30.0

_locks: dict[str, FileLock] = {}
_registry_lock = threading.Lock()


class Busy(RuntimeError):
    """The home is locked by another run; the message says by whom."""


def _file_lock(home: Path) -> FileLock:
    path = str(Path(home) / LOCK_FILE)
    with _registry_lock:
        lock = _locks.get(path)
        if lock is None:
            lock = _locks[path] = FileLock(path, thread_local=False)
        return lock


def holder(home: Path) -> str:
    """Who holds (or last held) the lock of ``home``, in words."""
    try:
        info = json.loads((Path(home) / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "another process"
    since = info.get("since")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if isinstance(since, (int, float)) else "?"
    return f"{info.get('what', 'a run')} (pid {info.get('pid', '?')}, since {when})"


def held_by_us(home: Path) -> bool:
    return _file_lock(home).is_locked


@contextmanager
def home_lock(home: Path, what: str, *, wait: bool = True, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock of ``home`` for the block. ``what`` names the run (for the others' messages).

    Another process holding it: wait (``on_wait`` is told whom we wait for, at once and every
    :data:`WAIT_MESSAGE_EVERY_S`), or, with ``wait=False``, raise :class:`Busy`.
    """
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    lock = _file_lock(home)
    outer = lock.is_locked  # re-entered by this process: the owner record stays as it is
    if not outer:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if not wait:
                raise Busy(f"{home} is being worked on by {holder(home)}") from None
            if on_wait is not None:
                on_wait(holder(home))
            while True:
                try:
                    lock.acquire(timeout=WAIT_MESSAGE_EVERY_S)
                    break
                except Timeout:
                    if on_wait is not None:
                        on_wait(holder(home))
    else:
        lock.acquire()
    try:
        if not outer:
            record = {"pid": os.getpid(), "what": what, "since": time.time()}
            (home / OWNER_FILE).write_text(json.dumps(record), encoding="utf-8")
        yield
    finally:
        lock.release()
